"""Tests of deepcolor.explore: the pictures and tables of notebooks 00-03, drawn headless."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from deepcolor import color, config, data, embeddings, explore, network  # noqa: E402


def images_of(fig):
    """The AxesImage artists of a figure, axis by axis (colour bars hold none)."""
    return [im for ax in fig.axes for im in ax.get_images() if isinstance(im, AxesImage)]


def texts_of(fig):
    out = [t.get_text() for t in fig.texts] + [fig._suptitle.get_text() if fig._suptitle else ""]
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel()] + [t.get_text() for t in ax.texts]
    return "\n".join(out)


@pytest.fixture
def tiny_ds():
    """6 images of 8x8: image k has constant a = 10k - 20 and b = -5k; L is a ramp."""
    n, size = 6, 8
    L = np.broadcast_to(np.linspace(0, 100, size, dtype=np.float32), (n, size, size)).copy()
    ab = np.zeros((n, size, size, 2), np.float32)
    for k in range(n):
        ab[k, ..., 0], ab[k, ..., 1] = 10 * k - 20, -5 * k
    return data.LabDataset.from_arrays(L, ab)


# --- notebook 00 -------------------------------------------------------------------------------

def test_environment_check_reports_weights_and_kaggle_copy(tmp_path, monkeypatch, kaggle_photos):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv(config.KAGGLE_ENV, str(kaggle_photos.root))
    monkeypatch.setattr(network, "reachable", lambda url, timeout=3.0: False)
    cfg = config.load("smoke")
    df = explore.environment_check(cfg)
    assert {"profile", "backend", "ImageNet weights", "Kaggle copy", "fallbacks"} <= set(df.index)
    assert df.loc["profile", "value"].startswith("smoke")
    assert "cannot be downloaded" in df.loc["ImageNet weights", "value"]
    assert df.loc["Kaggle copy", "value"] == str(kaggle_photos.root)
    assert "untrained" in df.loc["embedding mode", "value"]

    weights = embeddings.imagenet_weights_path()
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"x")
    assert explore.environment_check(cfg).loc["ImageNet weights", "value"] == f"cached: {weights}"


def test_profiles_table_lists_every_profile():
    df = explore.profiles_table()
    assert list(df.index) == list(config.PROFILES)
    for name, p in config.PROFILES.items():
        assert df.loc[name, "input size"] == p.input_size and df.loc[name, "embeddings"] == p.embedding_mode
    assert df.loc["full", "images"] == "all"


# --- notebook 01 -------------------------------------------------------------------------------

def test_channel_colormaps_run_green_to_magenta_and_blue_to_yellow():
    a, b = explore.channel_cmap("a"), explore.channel_cmap("b")
    lo, hi = a(0.0), a(1.0)
    assert lo[1] > lo[0] and hi[0] > hi[1]  # a < 0 green, a > 0 magenta
    lo, hi = b(0.0), b(1.0)
    assert lo[2] > lo[0] and hi[0] > hi[2] and hi[1] > hi[2]  # b < 0 blue, b > 0 yellow
    with pytest.raises(ValueError, match="'a' or 'b'"):
        explore.channel_cmap("L")


def test_in_gamut_accepts_real_colours_and_rejects_impossible_ones():
    rgb = np.random.default_rng(0).random((200, 3)).astype(np.float32)
    assert explore.in_gamut(color.rgb_to_lab(rgb)).all()
    assert explore.in_gamut(np.array([[50, 0, 0], [100, 0, 0]])).all()
    assert not explore.in_gamut(np.array([[90, -100, -100], [10, 100, 100]])).any()


def test_show_lab_split_draws_the_photo_and_its_channels(photo_crops):
    import matplotlib.pyplot as plt

    rgb = photo_crops(1)[0][:32, :48]
    open_before = plt.get_fignums()
    fig = explore.show_lab_split(rgb)
    assert plt.get_fignums() == open_before  # let go by pyplot: Jupyter shows it once, nothing leaks
    ims = images_of(fig)
    assert len(ims) == 4 and len(fig.axes) == 7  # 4 images + 3 colour bars
    lab = color.rgb_to_lab(rgb)
    np.testing.assert_array_equal(ims[0].get_array(), rgb)
    for k in range(3):
        np.testing.assert_allclose(ims[k + 1].get_array(), lab[..., k], atol=1e-5)
    assert ims[2].get_clim() == ims[3].get_clim()  # a and b on one scale
    assert ims[2].get_clim()[1] >= np.abs(lab[..., 1:]).max()
    with pytest.raises(ValueError, match="RGB photo"):
        explore.show_lab_split(rgb[..., 0])


@pytest.mark.parametrize("lab, inside", [((60, 40, 30), True), ((90, -100, -100), False)])
def test_lab_swatch_shows_the_colour_and_flags_the_gamut(lab, inside):
    fig = explore.lab_swatch(*lab)
    assert len(fig.axes) == 2
    patches = [p for ax in fig.axes for p in ax.patches if isinstance(p, Rectangle)]
    expected = color.lab_to_rgb(np.array(lab, np.float32))
    np.testing.assert_allclose(patches[0].get_facecolor()[:3], expected, atol=1e-6)
    gray = patches[1].get_facecolor()[:3]
    assert np.ptp(gray) < 1e-3  # same L, no colour
    title = fig._suptitle.get_text()
    assert ("OUT OF GAMUT" in title) != inside
    assert f"RGB ({', '.join(str(v) for v in np.rint(expected * 255).astype(int))})" in title


def test_ab_plane_marks_out_of_gamut_and_centres_on_gray():
    fig = explore.ab_plane(50, size=33)
    (im,) = images_of(fig)
    rgb = np.asarray(im.get_array())
    assert rgb.shape == (33, 33, 3) and im.get_extent() == [-128, 128, -128, 128]
    np.testing.assert_allclose(rgb[16, 16], color.lab_to_rgb(np.array([50, 0, 0], np.float32)), atol=1e-6)
    # row = b, column = a: a = 64, b = 0 is a real red-magenta; a = b = -128 is not a colour (checker gray)
    np.testing.assert_allclose(rgb[16, 24], color.lab_to_rgb(np.array([50, 64, 0], np.float32)), atol=1e-6)
    assert rgb[16, 24, 0] > rgb[16, 24, 1]
    assert np.ptp(rgb[0, 0]) == 0 and not explore.in_gamut(np.array([50, -128, -128]))
    with pytest.raises(ValueError, match="L in"):
        explore.ab_plane(150)


def test_roundtrip_error_is_small_and_the_8bit_step_shows(photo_crops):
    df = explore.roundtrip_error(photo_crops(1)[0][:64, :64])
    err = df["max error"]
    assert err["rgb -> Lab -> rgb (float)"] < 0.01
    assert 0 < err["L -> 8-bit L8 -> L"] <= 100 / 255 / 2 + 1e-4
    assert 0 < err["ab -> 8-bit ab8 -> ab"] <= 0.5 + 1e-4
    assert 0.5 < err["rgb -> 8-bit Lab -> rgb"] < 5
    assert (df["mean error"] <= df["max error"]).all()


def test_lab8_table_follows_the_kaggle_encoding(photo_crops):
    df = explore.lab8_table(photo_crops(1)[0], pixels=8)
    assert len(df) == 8 and df[["row", "col"]].drop_duplicates().shape[0] == 8
    np.testing.assert_allclose(df["L8"], np.rint(df["L"] * 2.55), atol=1)
    np.testing.assert_allclose(df["a8"], np.rint(df["a"] + 128), atol=1)
    np.testing.assert_allclose(df["L decoded"], df["L"], atol=0.2 + 0.01)
    np.testing.assert_allclose(df[["a decoded", "b decoded"]], df[["a", "b"]], atol=0.5 + 0.01)


# --- notebook 02 -------------------------------------------------------------------------------

def test_dataset_arrays_are_memory_mapped(sample_ds, tiny_ds):
    df = explore.dataset_arrays(sample_ds)
    assert df.loc["l/gray_scale.npy", "shape"] == (24, 224, 224)
    assert df.loc["ab/ab/ab1.npy", "shape"] == (24, 224, 224, 2)
    assert (df["dtype"] == "uint8").all() and df["memory-mapped"].all()
    assert not explore.dataset_arrays(tiny_ds)["memory-mapped"].any()


def test_manifest_table_names_photo_and_licence(sample_ds, tiny_ds):
    df = explore.manifest_table(sample_ds)
    assert len(df) == 24 and {"photo", "licence", "origin"} <= set(df.columns)
    assert df.loc[0, "photo"] == sample_ds.manifest["items"][0]["photo"]
    assert explore.manifest_table(tiny_ds).empty


def test_show_dataset_image_draws_gray_colour_a_b(tiny_ds):
    fig = explore.show_dataset_image(tiny_ds, 3)
    ims = images_of(fig)
    assert len(ims) == 4
    L, ab = tiny_ds[3]
    np.testing.assert_allclose(ims[0].get_array(), color.gray_to_rgb(L), atol=1e-6)
    np.testing.assert_allclose(ims[1].get_array(), color.lab_parts_to_rgb(L, ab), atol=1e-6)
    assert np.all(np.asarray(ims[2].get_array()) == 10) and np.all(np.asarray(ims[3].get_array()) == -15)
    with pytest.raises(IndexError, match="6 images"):
        explore.show_dataset_image(tiny_ds, 6)


def test_show_dataset_image_names_the_source_photo(sample_ds):
    fig = explore.show_dataset_image(sample_ds, 2)
    assert sample_ds.manifest["items"][2]["photo"] in fig._suptitle.get_text()


def test_ab_counts_bins_every_pixel_batch_by_batch(tiny_ds):
    counts, edges, mean = explore.ab_counts(tiny_ds, bins=32, batch_size=2)
    assert counts.sum() == 6 * 8 * 8
    same, _, _ = explore.ab_counts(tiny_ds, bins=32, batch_size=100)
    np.testing.assert_array_equal(counts, same)
    np.testing.assert_allclose(mean, [5.0, -12.5])  # mean of a = 10k - 20 and b = -5k over k = 0..5
    ia, ib = np.searchsorted(edges, [30.5, -25.5]) - 1  # image 5: a = 30, b = -25
    assert counts[ia, ib] == 64
    picked, _, _ = explore.ab_counts(tiny_ds, [0, 5], bins=32)
    assert picked.sum() == 128
    with pytest.raises(ValueError, match="no images"):
        explore.ab_counts(tiny_ds, [])


def test_ab_histogram_draws_the_counts_and_the_mean(tiny_ds):
    fig = explore.ab_histogram(tiny_ds, bins=16)
    (im,) = images_of(fig)
    assert im.get_array().sum() == 6 * 8 * 8
    marker = fig.axes[0].lines[0]
    np.testing.assert_allclose([marker.get_xdata()[0], marker.get_ydata()[0]], [5.0, -12.5])
    text = texts_of(fig)
    assert "MSE" in text and "mean" in text and "384 pixels" in text


def test_split_table_counts_and_fractions():
    df = explore.split_table(data.split(50))
    assert list(df.index) == ["train", "val", "test", "total"]
    assert df.loc[["train", "val", "test"], "images"].tolist() == [30, 10, 10]
    assert df.loc["total", "images"] == 50
    np.testing.assert_allclose(df.loc[["train", "val", "test"], "fraction"], [0.6, 0.2, 0.2])


# --- notebook 03 -------------------------------------------------------------------------------

def test_show_preprocessing_contrasts_the_right_range_with_the_bug():
    L = np.tile(np.linspace(0, 100, 32, dtype=np.float32), (32, 1))
    fig = explore.show_preprocessing(L)
    assert len(fig.axes) == 3
    good, bad = (np.asarray(im.get_array()) for im in images_of(fig))
    assert good.shape == (299, 299)
    assert good.min() < -0.95 and good.max() > 0.95
    assert bad.max() < -0.95  # the [0, 1] bug: everything near -1
    heights = [p.get_height() for p in fig.axes[2].patches]
    assert sum(heights) == 2 * 299 * 299 * 3
    with pytest.raises(ValueError, match="one image"):
        explore.show_preprocessing(L[None])


def test_top_labels_table_asks_for_each_gray_image(sample_ds, monkeypatch):
    seen = []

    def fake_top_labels(image, k=5, embedder=None):
        seen.append(image)
        return [(f"class{r}", 1.0 / (r + 1)) for r in range(k)]

    monkeypatch.setattr(embeddings, "top_labels", fake_top_labels)
    df = explore.top_labels_table(sample_ds, [1, 4], k=3)
    assert len(df) == 6 and df.loc[(4, 1), "class"] == "class0"
    assert df.loc[(1, 2), "photo"] == sample_ds.manifest["items"][1]["photo"]
    np.testing.assert_array_equal(seen[1], sample_ds[4][0])  # the gray L of image 4


def test_show_embedding_tiling_draws_the_vector_and_the_shapes():
    e = np.random.default_rng(1).random(1000).astype(np.float32)
    fig = explore.show_embedding_tiling(e, spatial=4, channels=64)
    assert len(fig.axes) == 2
    np.testing.assert_array_equal(images_of(fig)[0].get_array()[0], e)
    text = texts_of(fig)
    assert "4x4x64" in text and "4x4x1000" in text and "4x4x1064" in text


def test_show_embeddings_heat_map_and_similarity():
    emb = np.zeros((10, 1000), np.float32)
    emb[np.arange(10), np.arange(10)] = 1.0  # ten different one-hot "photos"
    fig = explore.show_embeddings(emb, n=4, mode="imagenet")
    heat, sim = images_of(fig)
    assert len(fig.axes) == 4  # two plots, two colour bars
    np.testing.assert_array_equal(heat.get_array(), emb[:4])
    np.testing.assert_allclose(sim.get_array(), np.eye(4), atol=1e-6)
    alike = explore.show_embeddings(np.full((3, 1000), 1e-3, np.float32))
    np.testing.assert_allclose(images_of(alike)[1].get_array(), np.ones((3, 3)), atol=1e-5)
    with pytest.raises(ValueError, match="N, 1000"):
        explore.show_embeddings(np.zeros(1000))
