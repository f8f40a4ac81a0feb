"""Tests of deepcolor.embeddings: preprocessing range, the three modes, offline failure, caching."""

import json
import subprocess
import sys

import numpy as np
import pytest
import skimage.color
import skimage.data
import skimage.transform

from deepcolor import embeddings as emb
from deepcolor import network, weights
from deepcolor import embedding_cache as cache

from deepcolor.data import LabDataset


def photo_L(rgb, size=None):
    """Lab lightness (H, W) in [0, 100] of a real photo, optionally resized to size x size."""
    if size is not None:
        rgb = skimage.transform.resize(rgb, (size, size), anti_aliasing=True)
    return skimage.color.rgb2lab(rgb)[..., 0].astype(np.float32)


@pytest.fixture(scope="module")
def small_L():
    """Three real photos at 48x48: (3, 48, 48) in [0, 100]."""
    photos = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee()]
    return np.stack([photo_L(p, 48) for p in photos])


@pytest.fixture(scope="module")
def untrained():
    """One untrained Inception-ResNet-v2, built once for the whole module."""
    embedder = emb.Embedder("untrained", batch_size=16, seed=0)
    embedder.build()
    return embedder


class StandIn:
    """Minimal dataset with the interface dataset_embeddings needs; records each batch read."""

    def __init__(self, L, root=None, tag="a"):
        self.L, self.root, self.tag, self.reads = np.asarray(L, np.float32), root, tag, []

    def __len__(self):
        return len(self.L)

    def batch(self, indices):
        idx = np.asarray(indices)
        self.reads.append(len(idx))
        L = self.L[idx]
        return L, np.zeros(L.shape + (2,), np.float32)

    def fingerprint(self):
        return {"n": len(self), "tag": self.tag}


class FakeModel:
    """Stands in for the network in cache tests: softmax of logits that depend on mean brightness."""

    def __init__(self):
        self.images = 0

    def predict_on_batch(self, x):
        self.images += int(np.any(x.reshape(len(x), -1) != 0, axis=1).sum())  # not JAX's padding rows of zeros
        logits = np.outer(x.mean(axis=(1, 2, 3)), np.linspace(-3, 3, 1000))
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def fake_embedder(mode="untrained", batch_size=2):
    embedder = emb.Embedder(mode, batch_size=batch_size)
    embedder._model = FakeModel()
    return embedder


def offline(monkeypatch):
    """No network: the reachability probe says no; returns the list of download attempts."""
    import keras

    monkeypatch.delenv("DEEPCOLOR_OFFLINE", raising=False)  # the probe itself is what is tested
    monkeypatch.setattr(network, "reachable", lambda *a, **k: False)
    attempts = []

    def no_download(*args, **kwargs):
        attempts.append(args)
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", no_download)
    return attempts


# ----------------------------------------------------------------------------- modes and input


def test_import_has_no_side_effects():
    code = "import sys, deepcolor.embeddings; assert 'keras' not in sys.modules, 'keras imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_modes_and_descriptions():
    assert emb.MODES == ("imagenet", "untrained", "none")
    assert [emb.is_trained(m) for m in emb.MODES] == [True, False, False]
    assert "random weights" in emb.describe_mode("untrained")
    assert "not ImageNet features" in emb.describe_mode("untrained")
    assert "zero" in emb.describe_mode("none")
    with pytest.raises(ValueError, match="imagenet"):
        emb.Embedder("ImageNet")
    with pytest.raises(ValueError, match="batch_size"):
        emb.Embedder("none", batch_size=0)


def test_preprocess_spans_minus_one_to_one_on_a_real_photo():
    L = photo_L(skimage.data.astronaut())[None]  # (1, 512, 512) in [0, 100]
    x = emb.preprocess(L)
    assert x.shape == (1, 299, 299, 3) and x.dtype == np.float32
    assert x.min() < -0.8 and x.max() > 0.8 and x.min() >= -1 and x.max() <= 1
    # gray: three equal channels
    np.testing.assert_array_equal(x[..., 0], x[..., 1])
    np.testing.assert_array_equal(x[..., 0], x[..., 2])
    # not the [0, 1]-input bug, where every pixel lands near -1
    assert np.mean(x > -0.9) > 0.5
    assert x.std() > 0.2


def test_preprocess_flags_the_zero_one_bug():
    L = photo_L(skimage.data.astronaut(), 64)[None]
    with pytest.warns(UserWarning, match=r"\[0, 1\]"):
        x = emb.preprocess(L / 100)
    # what the bug does: everything within 1% of -1, so the range checks above would fail
    assert x.max() < -0.98


def test_preprocess_maps_lightness_linearly():
    L = np.stack([np.full((32, 32), v, np.float32) for v in (0.0, 50.0, 100.0)])
    x = emb.preprocess(L)
    np.testing.assert_allclose(x[:, 150, 150, 0], [-1.0, 0.0, 1.0], atol=1e-5)
    ramp = np.tile(np.linspace(0, 100, 299, dtype=np.float32), (299, 1))[None]
    np.testing.assert_allclose(emb.preprocess(ramp)[0, 0, :, 1], np.linspace(-1, 1, 299), atol=1e-5)


@pytest.mark.parametrize(
    "bad, match",
    [(np.full((1, 8, 8), 120.0), r"\[0, 100\]"), (np.zeros((8, 8)), "L\\[None\\]"),
     (np.full((1, 8, 8), np.nan), "NaN")],
)
def test_preprocess_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        emb.preprocess(bad)


# ----------------------------------------------------------------------------- embedders


def test_none_mode_is_zeros_without_a_model(small_L):
    embedder = emb.Embedder("none")
    out = embedder.embed(small_L, progress=None)
    assert out.shape == (3, 1000) and out.dtype == np.float32 and not out.any()
    assert embedder.model is None and embedder._model is None


def test_untrained_embeddings_are_softmax_rows(untrained, small_L):
    out = untrained.embed(small_L, progress=None)
    assert out.shape == (3, 1000) and out.dtype == np.float32
    assert np.isfinite(out).all() and (out >= 0).all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-4)
    assert not np.allclose(out[0], out[1], rtol=0, atol=1e-7), "different photos, same embedding"
    assert untrained.model.count_params() == 55_873_736  # Keras' InceptionResNetV2 with top


def test_untrained_weights_depend_on_the_seed_alone(untrained, small_L):
    built = untrained.embed(small_L, progress=None)  # as built with seed=0
    try:
        emb.seed_weights(untrained.model, 0)
        first = untrained.embed(small_L, progress=None)
        emb.seed_weights(untrained.model, 1)
        other = untrained.embed(small_L, progress=None)
        emb.seed_weights(untrained.model, 0)
        again = untrained.embed(small_L, progress=None)
    finally:
        emb.seed_weights(untrained.model, untrained.seed)
    # build() drew every random weight from the seed: same seed, same weights, in any run
    np.testing.assert_array_equal(built, first)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-6


# ----------------------------------------------------------------------------- offline imagenet


def test_imagenet_fails_fast_offline(tmp_path, monkeypatch, small_L):
    attempts = offline(monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    embedder = emb.Embedder("imagenet")  # lazy: constructing is fine offline
    with pytest.raises(weights.WeightsUnavailableError) as info:
        embedder.embed(small_L, progress=None)
    message = str(info.value)
    assert weights.WEIGHTS_FILE in message
    assert str(tmp_path / "models") in message
    assert 'mode="untrained"' in message and 'mode="none"' in message
    assert "cannot be reached" in message
    assert isinstance(info.value, RuntimeError)
    assert attempts == [], "tried to download although the host is unreachable"


def test_imagenet_wraps_a_failed_download(tmp_path, monkeypatch):
    import keras

    monkeypatch.delenv("DEEPCOLOR_OFFLINE", raising=False)
    monkeypatch.setattr(network, "reachable", lambda *a, **k: True)

    def failing_get_file(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com: 403 -- Forbidden")

    monkeypatch.setattr(keras.utils, "get_file", failing_get_file)
    with pytest.raises(weights.WeightsUnavailableError, match="download failed.*403"):
        emb.Embedder("imagenet", keras_home=tmp_path).build()


def test_weights_location_and_availability(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "env"))
    assert weights.imagenet_weights_path() == tmp_path / "env" / "models" / weights.WEIGHTS_FILE
    explicit = weights.imagenet_weights_path(tmp_path / "mine")
    assert explicit == tmp_path / "mine" / "models" / weights.WEIGHTS_FILE
    monkeypatch.delenv("DEEPCOLOR_OFFLINE", raising=False)
    monkeypatch.setattr(network, "reachable", lambda *a, **k: False)
    assert not weights.weights_available(tmp_path / "mine")
    explicit.parent.mkdir(parents=True)
    explicit.write_bytes(b"placeholder")
    assert weights.weights_available(tmp_path / "mine")
    with pytest.raises(weights.WeightsUnavailableError, match="does not exist"):
        emb.Embedder("imagenet", weights_path=tmp_path / "missing.h5").build()


def test_host_probe_reports_a_closed_port_as_unreachable():
    assert not network.reachable("http://127.0.0.1:9/", timeout=1.0)


# ----------------------------------------------------------------------------- dataset cache


def test_dataset_embeddings_match_embed_and_are_cached(untrained, small_L, tmp_path):
    ds = LabDataset.from_arrays(small_L, np.zeros(small_L.shape + (2,), np.float32))
    assert ds.root is None
    assert cache.dataset_embeddings(ds, "untrained", embedder=untrained, progress=None,
                                  cache_dir=None).shape == (3, 1000)
    out = cache.dataset_embeddings(ds, "untrained", embedder=untrained, cache_dir=tmp_path, progress=None)
    np.testing.assert_allclose(out, untrained.embed(ds.batch([0, 1, 2])[0], progress=None), atol=1e-6)
    path = cache.cache_path(ds, "untrained", tmp_path)
    assert path.parent == tmp_path and path.is_file()
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["mode"] == "untrained" and meta["untrained"] is True and meta["shape"] == [3, 1000]
    assert meta["fingerprint"] == json.loads(json.dumps(ds.fingerprint())) and "keras_version" in meta
    assert isinstance(out, np.memmap)


def test_cache_next_to_dataset_is_reused_and_rebuilt_on_mismatch(small_L, tmp_path):
    ds = StandIn(small_L, root=tmp_path)
    embedder = fake_embedder(batch_size=2)
    first = cache.dataset_embeddings(ds, "untrained", embedder=embedder, progress=None)
    assert ds.reads == [2, 1], "read in batches of batch_size, never whole"
    path = cache.cache_path(ds, "untrained")
    assert path.parent == tmp_path / "embeddings" and path.name.startswith("untrained-")
    assert path.is_file() and path.with_suffix(".json").is_file()
    np.testing.assert_allclose(first.sum(axis=1), 1.0, atol=1e-5)

    again = cache.dataset_embeddings(ds, "untrained", embedder=embedder, progress=None)
    assert embedder._model.images == 3, "a valid cache was recomputed"
    np.testing.assert_array_equal(again, first)

    ds.tag = "other data"  # same root, different fingerprint: never reuse
    cache.dataset_embeddings(ds, "untrained", embedder=embedder, progress=None)
    assert embedder._model.images == 6

    reseeded = fake_embedder(batch_size=2)
    reseeded.seed = 7  # untrained weights differ: the cache of seed 0 does not apply
    cache.dataset_embeddings(ds, "untrained", embedder=reseeded, progress=None)
    assert reseeded._model.images == 3

    sidecar = cache.cache_path(ds, "untrained").with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps(dict(meta, shape=[4, 1000])))
    cache.dataset_embeddings(ds, "untrained", embedder=reseeded, progress=None)
    assert reseeded._model.images == 6, "a sidecar with the wrong shape was trusted"


def test_interrupted_run_leaves_no_valid_looking_cache(small_L, tmp_path):
    ds = StandIn(small_L, root=tmp_path)
    embedder = fake_embedder(batch_size=2)
    cache.dataset_embeddings(ds, "untrained", embedder=embedder, progress=None)

    def broken_batch(indices):
        if len(indices) == 1:  # the second batch
            raise KeyboardInterrupt
        return StandIn.batch(ds, indices)

    ds.batch = broken_batch
    with pytest.raises(KeyboardInterrupt):
        cache.dataset_embeddings(ds, "untrained", embedder=embedder, progress=None, rebuild=True)
    folder = tmp_path / "embeddings"
    assert not cache.cache_path(ds, "untrained").with_suffix(".json").exists(), (
        "old sidecar still vouches for a half-written run")
    assert not list(folder.glob("*.tmp")), "temp files left behind"
    del ds.batch
    cache.dataset_embeddings(ds, "untrained", embedder=embedder, progress=None)
    assert embedder._model.images == 3 + 2 + 3


def test_dataset_embeddings_none_mode_and_mode_mismatch(small_L, tmp_path):
    ds = StandIn(small_L, root=tmp_path)
    out = cache.dataset_embeddings(ds, "none", progress=None)
    assert out.shape == (3, 1000) and not out.any()
    assert ds.reads == [] and not (tmp_path / "embeddings").exists()
    with pytest.raises(ValueError, match="mode"):
        cache.dataset_embeddings(ds, "imagenet", embedder=fake_embedder("untrained"))


def test_dataset_embeddings_offline_imagenet_writes_nothing(small_L, tmp_path, monkeypatch):
    attempts = offline(monkeypatch)
    ds = StandIn(small_L, root=tmp_path / "data")
    with pytest.raises(weights.WeightsUnavailableError):
        cache.dataset_embeddings(ds, "imagenet", embedder=emb.Embedder("imagenet", keras_home=tmp_path / "k"))
    assert ds.reads == [] and not (tmp_path / "data").exists() and attempts == []


# ----------------------------------------------------------------------------- labels


def test_top_labels_refuses_untrained_and_bad_k():
    with pytest.raises(ValueError, match="ImageNet weights"):
        emb.top_labels(np.zeros((8, 8)), embedder=fake_embedder("untrained"))
    with pytest.raises(ValueError, match="k must be"):
        emb.top_labels(np.zeros((8, 8)), k=0, embedder=fake_embedder("imagenet"))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        emb.top_labels(np.full((8, 8, 3), 200.0), embedder=fake_embedder("imagenet"))


def test_top_labels_ranks_classes(monkeypatch):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    monkeypatch.setattr(emb, "_class_index", lambda keras_home=None: index)
    embedder = fake_embedder("imagenet")
    bright = emb.top_labels(np.full((16, 16, 3), 255, np.uint8), k=3, embedder=embedder)
    dark = emb.top_labels(np.zeros((16, 16)), k=3, embedder=embedder)
    # FakeModel: bright images favour the last classes, dark ones the first
    assert [name for name, _ in bright] == ["class_999", "class_998", "class_997"]
    assert [name for name, _ in dark] == ["class_0", "class_1", "class_2"]
    probs = [p for _, p in bright]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1


def test_class_names_offline_error(tmp_path, monkeypatch):
    attempts = offline(monkeypatch)
    with pytest.raises(weights.WeightsUnavailableError, match=weights.CLASS_INDEX_FILE) as info:
        emb._class_index(tmp_path / "nothing-here")
    assert "cannot be reached" in str(info.value) and attempts == []


def test_a_subset_and_the_whole_set_keep_separate_caches(small_L, tmp_path):
    """Switching profile (a Kaggle subset vs all of it) must not throw the other's cache away."""
    whole = StandIn(small_L, root=tmp_path, tag="kaggle")
    part = StandIn(small_L[:2], root=tmp_path, tag="kaggle[:2]")
    embedder = fake_embedder(batch_size=2)
    cache.dataset_embeddings(whole, "untrained", embedder=embedder, progress=None)
    cache.dataset_embeddings(part, "untrained", embedder=embedder, progress=None)
    assert embedder._model.images == 3 + 2
    cache.dataset_embeddings(whole, "untrained", embedder=embedder, progress=None)
    cache.dataset_embeddings(part, "untrained", embedder=embedder, progress=None)
    assert embedder._model.images == 3 + 2, "one cache replaced the other"
    assert cache.cache_path(whole, "untrained") != cache.cache_path(part, "untrained")


def test_a_padded_last_batch_gives_the_same_embeddings(untrained, small_L, monkeypatch):
    """Under JAX the last batch of a pass of several is padded to the others' size (3 images in
    batches of 2: 2 and 1 -> 2); the embeddings are those of one pass of 3."""
    alone = untrained.embed(small_L)
    pairs = emb.Embedder("untrained", batch_size=2, seed=0)
    pairs._model = untrained.model  # the same network, batches of 2
    monkeypatch.setattr(emb, "fixed_rows", lambda batch_size: batch_size)
    np.testing.assert_allclose(pairs.embed(small_L), alone, rtol=1e-5, atol=1e-7)
