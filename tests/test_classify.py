"""Tests of deepcolor.classify: colour as classes (Zhang et al. 2016) on the paper's trunk."""

import keras
import numpy as np
import pytest

from deepcolor import ab_bins as bins_module
from deepcolor.classify import AnnealedColorizer, ClassBatches, ClassifierHead, build_classifier, classifier_output_size
from deepcolor.data import Split
from deepcolor.lab_dataset import LabDataset
from deepcolor.models import build_model
from deepcolor.paper import ARCHITECTURES, PAPER_PARAMS
from deepcolor.resize import resize_images
from deepcolor.predict import predict_ab
from deepcolor.train import TrainConfig, train

Q = len(bins_module.ab_bins())


def colourful_dataset(n=4, size=32, seed=0):
    """n smooth, saturated images: L a gradient, ab a rotating hue of chroma 40-70."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    L = np.stack([30 + 40 * (xx + yy) / 2 + 5 * i for i in range(n)]).astype(np.float32)
    ab = []
    for _ in range(n):
        angle = 2 * np.pi * (rng.random() + 0.5 * xx)
        chroma = 40 + 30 * yy
        ab.append(np.stack([chroma * np.cos(angle), chroma * np.sin(angle)], -1))
    return LabDataset.from_arrays(L, np.asarray(ab, np.float32))


def embeddings(n, seed=0):
    return np.random.default_rng(seed).random((n, 1000), dtype=np.float32)


def chroma(ab):
    return float(np.mean(np.hypot(ab[..., 0], ab[..., 1])))


def annealed_ab(model, L, embedding, T):
    """The oracle of a classifier's colour, in numpy: L / 100 resized to the model's input, its
    probabilities read with the annealed mean at ``T``, the ab resized to the photo's size."""
    side, (h, w) = model.inputs[0].shape[1], L.shape[1:]
    x = resize_images(L[..., None] / np.float32(100), side, side)
    probs = keras.ops.convert_to_numpy(model([x, embedding], training=False))
    return resize_images(bins_module.annealed_mean(probs, bins_module.ab_bins(), T), h, w)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A rebalanced classifier trained 8 epochs on 4 images through deepcolor.train.train."""
    ds = colourful_dataset()
    emb = embeddings(len(ds))
    config = TrainConfig(arch="arch3", lr=3e-3, batch_size=4, epochs=8, input_size=32, seed=0)
    run = train(ds, emb, np.arange(4), None, config, runs_dir=tmp_path_factory.mktemp("runs"), verbose=0,
                head=ClassifierHead(rebalance=True))
    return ds, emb, run.model, run.history


@pytest.mark.parametrize("size", [16, 32])
def test_classifier_outputs_a_distribution_at_half_the_input_size(size):
    model = build_classifier("arch3", size)
    assert model.name == "arch3_classify"
    rng = np.random.default_rng(0)
    L = rng.random((2, size, size, 1), dtype=np.float32)
    probs = keras.ops.convert_to_numpy(model([L, embeddings(2)]))
    side = classifier_output_size(size)
    assert side == size // 2
    assert probs.shape == (2, side, side, Q)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-4)


def test_classifier_keeps_the_trunk_and_changes_only_the_head():
    mse, cls = build_model("arch3", 32), build_classifier("arch3", 32)
    mse_convs = [layer.name for layer in mse.layers if isinstance(layer, keras.layers.Conv2D)]
    cls_convs = [layer.name for layer in cls.layers if isinstance(layer, keras.layers.Conv2D)]
    assert cls_convs == mse_convs[:-1] + ["decoder_classes"]
    for name in mse_convs[:-1]:
        assert mse.get_layer(name).count_params() == cls.get_layer(name).count_params()
    head = cls.get_layer("decoder_classes")
    assert head.kernel_size == (1, 1) and head.activation.__name__ == "softmax"
    trunk = PAPER_PARAMS["arch3"] - mse.get_layer(mse_convs[-1]).count_params()
    assert cls.count_params() == trunk + head.kernel.shape[2] * Q + Q


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_mse_model_is_unchanged(name):
    model = build_model(name)
    assert model.count_params() == PAPER_PARAMS[name]
    assert build_model(name, head="mse").count_params() == PAPER_PARAMS[name]
    assert model.output.shape == (None, 224, 224, 2)
    assert model.layers[-1].__class__.__name__ == "UpSampling2D"


def test_bad_head_or_bins_say_what_to_do():
    with pytest.raises(ValueError, match="head must be one of"):
        build_model("arch3", 32, head="softmax")
    with pytest.raises(ValueError, match="n_bins"):
        build_model("arch3", 32, head="classify")


def test_batches_carry_soft_targets_and_rebalancing_weights():
    ds = colourful_dataset()
    bins = bins_module.ab_bins()
    weights = np.linspace(0.5, 2.0, Q).astype(np.float32)
    batches = ClassBatches(ds, embeddings(4), np.arange(4), bins, 16, batch_size=3, weights=weights)
    assert len(batches) == 2
    (x, emb), targets, w = batches[0]
    assert x.shape == (3, 16, 16, 1) and 0 <= x.min() and x.max() <= 1
    assert emb.shape == (3, 1000)
    assert targets.shape == (3, 8, 8, Q)
    np.testing.assert_allclose(targets.sum(-1), 1.0, atol=1e-5)
    assert w.shape == (3, 8, 8)
    np.testing.assert_array_equal(w, weights[targets.argmax(-1)])
    plain = ClassBatches(ds, embeddings(4), np.arange(4), bins, 16, batch_size=4)
    assert len(plain[0]) == 2  # no weights: (inputs, targets)
    with pytest.raises(ValueError, match="embeddings must be"):
        ClassBatches(ds, embeddings(3), np.arange(4), bins, 16)


def test_padded_batches_keep_the_real_rows_and_scale_their_weights():
    """pad=True (under JAX): 4 images in batches of 3 are 3 and 1 padded to 3; the real rows are the
    unpadded batch's, their pixel weights scaled by 3 (rebalanced) or 3 / 1 alone (plain validation)."""
    ds, bins = colourful_dataset(), bins_module.ab_bins()
    weights = np.linspace(0.5, 2.0, Q).astype(np.float32)
    for pixel in (weights, None):
        plain = ClassBatches(ds, embeddings(4), np.arange(4), bins, 16, batch_size=3, weights=pixel, seed=2)
        padded = ClassBatches(ds, embeddings(4), np.arange(4), bins, 16, batch_size=3, weights=pixel, seed=2, pad=True)
        for i, n in enumerate([3, 1]):
            (x, emb), targets, w = padded[i]
            want = plain[i]
            assert x.shape == (3, 16, 16, 1) and targets.shape == (3, 8, 8, Q) and w.shape == (3, 8, 8)
            np.testing.assert_array_equal(x[:n], want[0][0])
            np.testing.assert_array_equal(targets[:n], want[1])
            assert not x[n:].any() and not targets[n:].any() and not w[n:].any()
            base = want[2] if pixel is not None else np.ones((n, 8, 8), np.float32)
            np.testing.assert_allclose(w[:n], base * 3 / n, rtol=1e-6)


def test_training_lowers_the_loss(trained):
    loss = trained[3]["loss"]
    assert len(loss) == 8 and np.all(np.isfinite(loss)) and loss[-1] < loss[0]


def test_training_without_rebalancing_and_with_validation_runs(tmp_path):
    ds = colourful_dataset()
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=2, epochs=2, input_size=16)
    run = train(ds, embeddings(4), np.arange(3), np.array([3]), config, runs_dir=tmp_path, verbose=0,
                head=ClassifierHead(rebalance=False))
    assert run.record["classify"]["rebalance"] is False and "classify-rebalanced" not in run.run_dir.name
    assert set(run.history) >= {"loss", "val_loss"} and np.all(np.isfinite(run.history["val_loss"]))
    assert run.model.output.shape == (None, 8, 8, Q)


def test_small_temperature_is_more_colourful(trained):
    ds, emb, model, _ = trained
    L, _ = ds.batch(np.arange(4))
    mean = predict_ab(AnnealedColorizer(model, T=1.0), L, emb)
    vivid = predict_ab(AnnealedColorizer(model, T=0.1), L, emb)
    assert chroma(vivid) > chroma(mean)


def test_a_regression_model_is_not_read_as_a_classifier():
    with pytest.raises(ValueError, match="outputs 2 classes, but there are"):
        AnnealedColorizer(build_model("arch3", 16))
    with pytest.raises(ValueError, match="temperature must be a number > 0"):
        AnnealedColorizer(build_classifier("arch3", 16), T=0)


@pytest.mark.parametrize("T", [0.38, 1.0])
def test_a_classifier_read_as_a_regression_model_gives_the_annealed_mean_at_the_photos_size(trained, T):
    """What notebook 11, deepcolor colorize and the evaluation read: predict_ab through an
    AnnealedColorizer, for photos at the model's input size and larger."""
    ds, emb, model, _ = trained
    L, _ = ds.batch([0, 1, 2])
    for photo in (L, np.repeat(np.repeat(L, 2, 1), 3, 2)):
        ab = predict_ab(AnnealedColorizer(model, T), photo, emb[:3])
        assert ab.shape == photo.shape + (2,) and ab.dtype == np.float32
        assert np.all(np.abs(ab) <= 111)  # a mix of bin centres, all within [-110, 110]
        np.testing.assert_allclose(ab, annealed_ab(model, photo, emb[:3], T), atol=1e-3)


# ---------------------------------------------------------------- the loss Keras minimises


def test_keras_minimises_zhangs_weighted_cross_entropy_divided_by_the_pixels():
    """The rebalancing weights reach Keras as sample_weight (b, S/2, S/2).  The loss ``fit``
    minimises must be Zhang et al.'s eq. 2, sum over pixels of w * CE, up to a constant factor:
    Keras' "sum_over_batch_size" divides it by the number of pixels b * S/2 * S/2 (not by the
    sum of the weights).  The oracle is numpy on the model's own probabilities."""
    from deepcolor.classify import compile_classifier

    ds, emb = colourful_dataset(), embeddings(4)
    weights = np.linspace(0.2, 5.0, Q).astype(np.float32)  # far from uniform: a lost weight would show
    batches = ClassBatches(ds, emb, np.arange(4), bins_module.ab_bins(), 16, batch_size=4, weights=weights,
                           shuffle=False)
    (x, e), targets, w = batches[0]
    keras.utils.set_random_seed(0)
    model = compile_classifier(build_classifier("arch3", 16), lr=1e-3)
    probs = keras.ops.convert_to_numpy(model([x, e], training=False)).astype(np.float64)
    ce = -np.sum(targets * np.log(np.clip(probs, 1e-7, 1 - 1e-7)), axis=-1)  # (b, 8, 8), one per pixel
    zhang = np.sum(w * ce)  # eq. 2, summed over the batch's pixels
    # one batch, one step: the epoch's loss is that step's, computed before the update
    loss = model.fit(batches, epochs=1, verbose=0, shuffle=False).history["loss"][0]
    np.testing.assert_allclose(loss, zhang / ce.size, rtol=1e-4)
    assert not np.isclose(loss, np.mean(ce), rtol=1e-2)  # the weights were applied ...
    assert not np.isclose(loss, zhang / np.sum(w), rtol=1e-2)  # ... and not divided out again


def test_the_rebalancing_weights_come_with_the_batches_only_when_asked():
    from deepcolor.classify import classifier_batches

    ds = colourful_dataset()
    train, val = classifier_batches(ds, embeddings(4), np.arange(3), np.array([3]), ClassifierHead(), 16, 3)
    (_, _), targets, w = train[0]
    assert w.shape == targets.shape[:-1] and np.all(w > 0) and np.ptp(w) > 0
    assert len(val[0]) == 2  # validation is unweighted
    plain, none = classifier_batches(ds, embeddings(4), np.arange(4), None, ClassifierHead(rebalance=False), 16, 3)
    assert len(plain[0]) == 2 and none is None


def test_classifier_head_setting_is_checked_and_recorded():
    from deepcolor.heads import Head

    head = ClassifierHead()
    assert head.as_record() == {"rebalance": True, "lam": 0.5, "rebalance_sigma": 5.0, "grid": 10, "n_bins": Q,
                                "k": 5, "sigma": 5.0}
    # without rebalancing, lam changes nothing: two such settings are the same setting
    assert ClassifierHead(rebalance=False, lam=0.2).as_record() == ClassifierHead(rebalance=False).as_record()
    assert Head.of(None) == Head() and Head.of("mse") == Head() and Head.of("classify") == head
    for bad, match in [(dict(lam=2), "lam"), (dict(k=0), "k must"), (dict(sigma=0), "sigma"),
                       (dict(rebalance="yes"), "rebalance"), (dict(grid=0), "grid")]:
        with pytest.raises(ValueError, match=match):
            ClassifierHead(**bad)
    with pytest.raises(ValueError, match="head must be"):
        Head.of("softmax")


# ---------------------------------------------------------------- classifier runs: record, resume, reuse


@pytest.fixture(scope="module")
def run_inputs():
    """8 colourful images, a split (6 train, 2 validation) and a tiny config."""
    ds = colourful_dataset(8)
    split = Split(np.arange(6), np.array([6, 7]), np.array([], np.int64))
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=3, epochs=2, input_size=16, seed=3)
    return ds, embeddings(8), split, config


@pytest.fixture(scope="module")
def classifier_run(run_inputs, tmp_path_factory):
    """(result, runs_dir): one finished rebalanced classifier run, embeddings "none", profile "t"."""
    from deepcolor.train import train_or_load

    ds, emb, split, config = run_inputs
    runs_dir = tmp_path_factory.mktemp("runs")
    result = train_or_load(ds, emb, split, config, embedding_mode="none", profile="t", runs_dir=runs_dir,
                           verbose=0, head=ClassifierHead())
    return result, runs_dir


def test_a_classifier_run_records_its_head_and_keeps_its_models(classifier_run):
    import json

    from deepcolor.run_table import load_runs
    from deepcolor.runs import CHECKPOINT, FINAL_MODEL, RECORD

    result, runs_dir = classifier_run
    record = json.loads((result.run_dir / RECORD).read_text())
    assert record["status"] == "completed" and record["head"] == "classify"
    assert record["classify"] == {"rebalance": True, "lam": 0.5, "rebalance_sigma": 5.0, "grid": 10,
                                  "n_bins": Q, "k": 5, "sigma": 5.0}
    assert "classify-rebalanced" in result.run_dir.name
    assert (result.run_dir / CHECKPOINT).is_file() and (result.run_dir / FINAL_MODEL).is_file()
    assert [row["epoch"] for row in record["epochs"]] == [1, 2]
    assert set(result.history) >= {"loss", "val_loss"} and np.all(np.isfinite(result.history["loss"]))
    assert result.model.output.shape == (None, 8, 8, Q)
    assert list(load_runs(runs_dir)["head"]) == ["classify"]


def test_train_or_load_reuses_a_classifier_only_for_the_same_setting(run_inputs, classifier_run, monkeypatch):
    import deepcolor.train as train_module
    from deepcolor.runs import Run

    ds, emb, split, config = run_inputs
    result, runs_dir = classifier_run
    monkeypatch.setattr(train_module, "train", lambda *a, **k: pytest.fail("trained again"))
    again = train_module.train_or_load(ds, emb, split, config, embedding_mode="none", profile="t",
                                       runs_dir=runs_dir, verbose=0, head="classify")
    assert again.run_dir == result.run_dir
    for a, b in zip(result.model.get_weights(), again.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert _found(Run.find(config, ds, "none", "t", runs_dir=runs_dir, split=split, head=ClassifierHead())) == result.run_dir
    assert _found(Run.find(config, ds, "none", "t", runs_dir=runs_dir, split=split)) is None  # an MSE model is not a classifier
    assert _found(Run.find(config, ds, "none", "t", runs_dir=runs_dir, split=split, head=ClassifierHead(rebalance=False))) is None
    assert _found(Run.find(config, ds, "none", "t", runs_dir=runs_dir, split=split, head=ClassifierHead(lam=0.7))) is None
    assert _found(Run.find(config, ds, "none", "t", runs_dir=runs_dir, split=split, head=ClassifierHead(k=3))) is None
    assert _found(Run.find(config, ds, "none", "t", runs_dir=runs_dir, split=split, head=ClassifierHead(sigma=2.0))) is None
    assert _found(Run.find(config, ds, "none", "t", runs_dir=runs_dir, split=split, head=ClassifierHead(grid=20))) is None


def test_an_mse_run_is_never_taken_for_a_classifier(run_inputs, tmp_path):
    from deepcolor.runs import Run

    ds, emb, split, config = run_inputs
    mse = train(ds, emb, split.train, split.val, config, embedding_mode="none", profile="t", runs_dir=tmp_path,
                verbose=0)
    assert mse.record["head"] == "mse" and "classify" not in mse.record
    assert _found(Run.find(config, ds, "none", "t", runs_dir=tmp_path, split=split)) == mse.run_dir
    assert _found(Run.find(config, ds, "none", "t", runs_dir=tmp_path, split=split, head=ClassifierHead())) is None
    with pytest.raises(ValueError, match="cannot resume .* the MSE head, not the classify head.*with head=\"mse\""):
        train(ds, emb, split.train, split.val, config, embedding_mode="none", run_dir=mse.run_dir, resume=True,
              head=ClassifierHead())


class StopAfterFirstEpoch(keras.callbacks.Callback):
    """Presses Ctrl-C once the first epoch's checkpoint is written."""

    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt


def test_an_interrupted_classifier_run_resumes_to_the_same_weights(run_inputs, tmp_path):
    from dataclasses import replace

    ds, emb, split, config = run_inputs
    config, head = replace(config, epochs=3), ClassifierHead()
    whole = train(ds, emb, split.train, split.val, config, run_dir=tmp_path / "whole", verbose=0, head=head)
    cut = train(ds, emb, split.train, split.val, config, run_dir=tmp_path / "cut", verbose=0, head=head,
                callbacks=[StopAfterFirstEpoch()])
    assert cut.status == "interrupted" and len(cut.record["epochs"]) == 1
    with pytest.raises(ValueError, match=r"cannot resume .* with head=ClassifierHead\(rebalance=True, lam=0.5"):
        train(ds, emb, split.train, split.val, config, run_dir=tmp_path / "cut", resume=True, verbose=0,
              head=ClassifierHead(rebalance=False))
    resumed = train(ds, emb, split.train, split.val, config, run_dir=tmp_path / "cut", resume=True, verbose=0,
                    head=head)
    assert resumed.status == "completed" and resumed.record["head"] == "classify"
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(whole.history["loss"], resumed.history["loss"], rtol=1e-5)


def test_notebook_11_reuses_its_three_runs_the_second_time(tiny, monkeypatch):
    """Notebook 11's three train_or_load calls (MSE, classes, classes + rebalancing): three run
    folders, one per head, and the second time the same models read back, nothing trained."""
    import deepcolor.train as train_module

    cfg, ds, emb, split, runs_dir = tiny
    heads = {"MSE (paper)": None, "classes": ClassifierHead(rebalance=False),
             "classes + rebalancing": ClassifierHead(rebalance=True)}
    runs = {name: cfg.train_or_load("arch3", ds, emb, split, verbose=0, runs_dir=runs_dir, head=head)
            for name, head in heads.items()}
    assert all(len(run.history["loss"]) == cfg.profile.epochs for run in runs.values())
    assert [run.head.kind for run in runs.values()] == ["mse", "classify", "classify"]
    assert [getattr(run.head, "rebalance", None) for run in runs.values()] == [None, False, True]
    folders = sorted(p.name for p in runs_dir.iterdir())
    assert len(folders) == 3
    monkeypatch.setattr(train_module, "train", lambda *a, **k: pytest.fail("trained again"))
    again = {name: cfg.train_or_load("arch3", ds, emb, split, verbose=0, runs_dir=runs_dir, head=head)
             for name, head in heads.items()}
    assert sorted(p.name for p in runs_dir.iterdir()) == folders
    for name in heads:
        assert again[name].path == runs[name].path
        for a, b in zip(runs[name].model.get_weights(), again[name].model.get_weights()):
            np.testing.assert_array_equal(a, b)
    T = 0.38  # what the notebook reads the classifiers at: each as a regression model of the same trunk
    L, _ = ds.batch(split.test)
    for name in ("classes", "classes + rebalancing"):
        ab = predict_ab(AnnealedColorizer(again[name].model, T), L, emb[split.test])
        assert ab.shape == L.shape + (2,)


def _found(run):
    """The folder of a found run, or None: what the tests compare."""
    return None if run is None else run.path
