"""deepcolor.lessons.dataset: notebook 02_dataset: the dataset pictures and tables, drawn headless."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from figure_checks import images_of, texts_of  # noqa: E402
from deepcolor import color, data  # noqa: E402
from deepcolor.lessons import dataset  # noqa: E402


@pytest.fixture
def tiny_ds():
    """6 images of 8x8: image k has constant a = 10k - 20 and b = -5k; L is a ramp."""
    n, size = 6, 8
    L = np.broadcast_to(np.linspace(0, 100, size, dtype=np.float32), (n, size, size)).copy()
    ab = np.zeros((n, size, size, 2), np.float32)
    for k in range(n):
        ab[k, ..., 0], ab[k, ..., 1] = 10 * k - 20, -5 * k
    return data.LabDataset.from_arrays(L, ab)


def test_dataset_arrays_are_memory_mapped(sample_ds, tiny_ds):
    df = dataset.dataset_arrays(sample_ds)
    assert df.loc["l/gray_scale.npy", "shape"] == (24, 224, 224)
    assert df.loc["ab/ab/ab1.npy", "shape"] == (24, 224, 224, 2)
    assert (df["dtype"] == "uint8").all() and df["memory-mapped"].all()
    assert not dataset.dataset_arrays(tiny_ds)["memory-mapped"].any()


def test_manifest_table_names_photo_and_licence(sample_ds, tiny_ds):
    df = dataset.manifest_table(sample_ds)
    assert len(df) == 24 and {"photo", "licence", "origin"} <= set(df.columns)
    assert df.loc[0, "photo"] == sample_ds.manifest["items"][0]["photo"]
    assert dataset.manifest_table(tiny_ds).empty


def test_show_dataset_image_draws_gray_colour_a_b(tiny_ds):
    fig = dataset.show_dataset_image(tiny_ds, 3)
    ims = images_of(fig)
    assert len(ims) == 4
    L, ab = tiny_ds[3]
    np.testing.assert_allclose(ims[0].get_array(), color.gray_to_rgb(L), atol=1e-6)
    np.testing.assert_allclose(ims[1].get_array(), color.lab_parts_to_rgb(L, ab), atol=1e-6)
    assert np.all(np.asarray(ims[2].get_array()) == 10) and np.all(np.asarray(ims[3].get_array()) == -15)
    with pytest.raises(IndexError, match="6 images"):
        dataset.show_dataset_image(tiny_ds, 6)


def test_show_dataset_image_names_the_source_photo(sample_ds):
    fig = dataset.show_dataset_image(sample_ds, 2)
    assert sample_ds.manifest["items"][2]["photo"] in fig._suptitle.get_text()


def test_ab_counts_bins_every_pixel_batch_by_batch(tiny_ds):
    counts, edges, mean = dataset.ab_counts(tiny_ds, bins=32, batch_size=2)
    assert counts.sum() == 6 * 8 * 8
    same, _, _ = dataset.ab_counts(tiny_ds, bins=32, batch_size=100)
    np.testing.assert_array_equal(counts, same)
    np.testing.assert_allclose(mean, [5.0, -12.5])  # mean of a = 10k - 20 and b = -5k over k = 0..5
    ia, ib = np.searchsorted(edges, [30.5, -25.5]) - 1  # image 5: a = 30, b = -25
    assert counts[ia, ib] == 64
    picked, _, _ = dataset.ab_counts(tiny_ds, [0, 5], bins=32)
    assert picked.sum() == 128
    with pytest.raises(ValueError, match="no images"):
        dataset.ab_counts(tiny_ds, [])


def test_ab_histogram_draws_the_counts_and_the_mean(tiny_ds):
    fig = dataset.ab_histogram(tiny_ds, bins=16)
    (im,) = images_of(fig)
    assert im.get_array().sum() == 6 * 8 * 8
    marker = fig.axes[0].lines[0]
    np.testing.assert_allclose([marker.get_xdata()[0], marker.get_ydata()[0]], [5.0, -12.5])
    text = texts_of(fig)
    assert "MSE" in text and "mean" in text and "384 pixels" in text


def test_split_table_counts_and_fractions():
    df = dataset.split_table(data.split(50))
    assert list(df.index) == ["train", "val", "test", "total"]
    assert df.loc[["train", "val", "test"], "images"].tolist() == [30, 10, 10]
    assert df.loc["total", "images"] == 50
    np.testing.assert_allclose(df.loc[["train", "val", "test"], "fraction"], [0.6, 0.2, 0.2])


def test_captions_name_the_profile_the_images_and_the_source(sample_ds, tiny_ds):
    assert dataset.data_caption("smoke", sample_ds) == "profile smoke: all 24 images of the built-in sample"
    assert dataset.data_caption("smoke", sample_ds, [1, 2, 3], "train split") == (
        "profile smoke: train split: 3 of the 24 images of the built-in sample")
    assert dataset.data_caption(None, tiny_ds) == "all 6 images of dataset 'arrays'"
    kaggle = data.LabDataset.from_arrays(np.zeros((4, 8, 8)), np.zeros((4, 8, 8, 2)), source="kaggle").subset(3)
    assert dataset.data_caption("default", kaggle) == "profile default: the first 3 images of the Kaggle set"
    styled = dataset.captioned(dataset.split_table(data.split(50)), "profile x: 50 images")
    assert "profile x: 50 images" in styled.to_html() and "0.600" in styled.to_html()


def test_ab_histogram_title_names_its_data(tiny_ds):
    text = texts_of(dataset.ab_histogram(tiny_ds, [0, 5], bins=16, profile="smoke", which="train split"))
    assert "profile smoke: train split: 2 of the 6 images" in text and "128 pixels" in text


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8, 0.99])
def test_mse_toy_optimum_is_the_mean_not_the_mode(p):
    colours = dataset.toy_colours(p)
    red, blue = np.array(dataset.TOY_RED), np.array(dataset.TOY_BLUE)
    mean, mode = colours["MSE optimum (mean)"], colours["most likely (mode)"]
    np.testing.assert_allclose(mean, p * red + (1 - p) * blue)
    assert not np.allclose(mean, mode)
    np.testing.assert_array_equal(mode, red if p >= 0.5 else blue)
    grid = np.stack(np.meshgrid(np.arange(-80, 81.0), np.arange(-80, 81.0), indexing="ij"), -1).reshape(-1, 2)
    errors = [dataset.expected_squared_error(p, g) for g in grid]
    np.testing.assert_allclose(grid[int(np.argmin(errors))], mean, atol=0.5)  # the grid's best guess is the mean
    assert dataset.expected_squared_error(p, mean) < dataset.expected_squared_error(p, mode)
    assert np.hypot(*mean) < np.hypot(*mode)  # duller than the most likely colour


def test_mse_toy_draws_four_swatches_and_checks_p():
    fig = dataset.mse_toy(0.3)
    ims = images_of(fig)
    assert len(ims) == 4
    assert "p = 0.30" in texts_of(fig) and "MSE optimum" in texts_of(fig)
    np.testing.assert_allclose(dataset.toy_colours(1.0)["MSE optimum (mean)"], dataset.TOY_RED)
    with pytest.raises(ValueError, match="probability"):
        dataset.mse_toy(1.5)


def test_split_table_adds_test_seen_only_where_the_split_has_it():
    groups = np.array(list("aabbccddeeffgghhiijj") + list("abcdefghij"))
    held = np.array([False] * 20 + [True] * 10)
    df = dataset.split_table(data.split(len(groups), groups=groups, held_out=held))
    assert list(df.index) == ["train", "val", "test", "test_seen", "total"]
    assert df.loc["total", "images"] == 30 and df.loc["test_seen", "images"] == 6  # the 6 training photos' crops
    assert "test_seen" not in dataset.split_table(data.split(50)).index


def test_split_table_names_the_photos_of_each_part_and_no_photo_is_in_two():
    groups = np.array(list("aabbccddeeffgghhiijj") + list("abcdefghij"))
    held = np.array([False] * 20 + [True] * 10)
    split = data.split(len(groups), groups=groups, held_out=held)
    df = dataset.split_table(split, groups)
    assert list(df["photos"]) == [6, 2, 2, 6, 10]  # the 6 training photos again in test_seen
    train, val, test = (set(df.loc[k, "which photos"].split(", ")) for k in ("train", "val", "test"))
    assert not (train & val or train & test or val & test) and len(train | val | test) == 10
    assert set(df.loc["test_seen", "which photos"].split(", ")) == train
    assert "photos" not in dataset.split_table(split).columns  # the Kaggle set: one image per photo
