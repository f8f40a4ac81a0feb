"""deepcolor.data: where datasets come from: the Kaggle folder as downloaded (kagglehub's nested
versions), the paper's 60/20/20 split, and your own photos (from_folder)."""

import hashlib
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import skimage.color
import skimage.data
import skimage.transform
from lab_checks import AB_TOL, L_TOL, assert_lab_close, write_png16
from PIL import Image

from deepcolor import data, lab_dataset, layout_writer


def test_kagglehub_nested_folder_is_accepted(tmp_path, kaggle_photos):
    top = tmp_path / "kagglehub"
    nested = top / "datasets" / "shravankumar9892" / "image-colorization" / "versions" / "1"
    shutil.copytree(kaggle_photos.root, nested)
    ds = data.load_kaggle(top)
    assert ds.root == nested and len(ds) == 10
    assert_lab_close(*ds[5], kaggle_photos.lab[5])
    assert data.find_kaggle_root(nested) == nested


def test_kagglehub_cache_with_several_versions_picks_the_newest(tmp_path, kaggle_photos):
    """kagglehub keeps versions/1, versions/2, ..., versions/10: the newest is the highest number."""
    import shutil

    from deepcolor.data import find_kaggle_root

    top = tmp_path / "image-colorization"
    for v in (2, 10, 9):
        shutil.copytree(kaggle_photos.root, top / "versions" / str(v))
    assert find_kaggle_root(top) == top / "versions" / "10"


# --------------------------------------------------------------------------- split


def test_split_is_disjoint_covers_everything_and_is_60_20_20():
    s = data.split(100, seed=0)
    assert [len(p) for p in s] == [60, 20, 20]
    assert all(p.dtype == np.int64 and np.all(np.diff(p) > 0) for p in s)
    together = np.concatenate(s)
    assert len(np.unique(together)) == 100 and set(together) == set(range(100))
    s24 = data.split(24, seed=5)
    assert sorted(np.concatenate(s24)) == list(range(24)) and len(s24.train) in (14, 15)
    assert [len(p) for p in data.split(50, (0.8, 0.1, 0.1))] == [40, 5, 5]


def test_split_is_reproducible_and_the_seed_changes_it():
    a, b = data.split(200, seed=7), data.split(200, seed=7)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    c = data.split(200, seed=8)
    assert not np.array_equal(a.train, c.train)
    assert not np.array_equal(a.train, np.arange(120))  # random, not the first 60%


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.7, 0.2, 0.2), (1.2, -0.1, -0.1), (0.6, 0.2, 0.1)])
def test_split_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions must be three non-negative numbers adding up to 1"):
        data.split(100, fractions)


def test_split_needs_three_images():
    with pytest.raises(ValueError, match="at least 3"):
        data.split(2)


@pytest.mark.parametrize("fractions", [(0.6, 0.2, 0.2), (0.5, 0.5, 0.0), (0.9, 0.05, 0.05), (1 / 3, 1 / 3, 1 / 3)])
def test_split_never_leaves_a_requested_part_empty(fractions):
    for n in range(3, 15):
        parts = data.split(n, fractions)
        assert sum(len(p) for p in parts) == n and len(np.unique(np.concatenate(parts))) == n
        for part, fraction in zip(parts, fractions):
            assert len(part) >= (1 if fraction > 0 else 0), (n, fractions, [len(p) for p in parts])


# --------------------------------------------------------------------------- from_folder


def _jpeg_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=95)
    return buf.getvalue()


USED = ["landscape.png", "palette.png", "portrait.png", "rgb16.png", "rgba.png", "small.jpg", "sub/astronaut.jpg"]
SKIPPED = {
    "gray.png": "grayscale",
    "gray_rgb.png": "channels are equal",
    "notanimage.jpg": "not a readable image",
    "tiny.png": "too small",
    "truncated.jpg": "truncated",
}


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """A folder of real photos in many formats, plus files that must be skipped.
    Returns (src, truth) where truth maps a used file's name to the RGB the crop must show."""
    src = tmp_path_factory.mktemp("photos") / "my photos"
    (src / "sub").mkdir(parents=True)
    astronaut, coffee, chelsea = skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea()
    truth = {}

    (src / "sub" / "astronaut.jpg").write_bytes(_jpeg_bytes(astronaut))  # 512x512, scaled down
    land = chelsea[:224]  # 451 wide x 224 high: the centred square is columns 113..336
    Image.fromarray(land).save(src / "landscape.png")
    truth["landscape.png"] = land[:, 113:337]
    portrait = astronaut[:, 150:374]  # 224 wide x 512 high: rows 144..367
    Image.fromarray(portrait).save(src / "portrait.png")
    truth["portrait.png"] = portrait[144:368]

    crop = coffee[100:324, 200:424]
    rgba = np.dstack([crop, np.full(crop.shape[:2], 255, np.uint8)])
    rgba[:, 112:, 3] = 0  # right half fully transparent: composited on white
    Image.fromarray(rgba, "RGBA").save(src / "rgba.png")
    truth["rgba.png"] = np.where(rgba[..., 3:] == 255, crop, 255).astype(np.uint8)

    pal = Image.fromarray(chelsea[50:274, 100:324]).quantize(64)
    pal.save(src / "palette.png")
    truth["palette.png"] = np.asarray(pal.convert("RGB"))

    write_png16(src / "rgb16.png", crop.astype(np.uint16) * 257)  # same colours as crop, 16 bits
    truth["rgb16.png"] = crop
    (src / "small.jpg").write_bytes(_jpeg_bytes(coffee[150:250, 300:450]))  # 150x100: scaled up

    Image.fromarray(skimage.data.camera()[:256, :256]).save(src / "gray.png")
    Image.fromarray(np.repeat(skimage.data.camera()[:256, :256, None], 3, -1)).save(src / "gray_rgb.png")
    Image.fromarray(astronaut[:10, :10]).save(src / "tiny.png")
    whole = _jpeg_bytes(coffee)
    (src / "truncated.jpg").write_bytes(whole[: len(whole) * 6 // 10])
    (src / "notanimage.jpg").write_text("this is a text file with a photo's name")
    (src / "notes.txt").write_text("not a photo suffix: ignored")
    return src, truth


def _hashes(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_from_folder_uses_real_photos_and_reports_each_skipped_file(photo_folder, tmp_path):
    src, truth = photo_folder
    before = _hashes(src)
    lines, calls = [], []
    result = data.from_folder(src, tmp_path / "out" / "mine", report=lines.append,
                              progress=lambda done, total: calls.append((done, total)))
    ds = result.dataset

    assert [str(Path(p).relative_to(src)) for p in result.used] == USED
    skipped = {str(Path(p).relative_to(src)): reason for p, reason in result.skipped}
    assert set(skipped) == set(SKIPPED)
    for name, why in SKIPPED.items():
        assert why in skipped[name], (name, skipped[name])
        assert any(str(src / name) in line for line in lines), f"{name} not reported"
    assert calls[-1] == (12, 12)  # every photo counts, used or skipped: the bar ends at 100 %

    assert len(ds) == 7 and ds.root == tmp_path / "out" / "mine"
    assert ds.source == f"folder:{src.resolve()}"
    items = ds.manifest["items"]
    assert [item["photo"] for item in items] == USED and [item["index"] for item in items] == list(range(7))
    assert items[USED.index("small.jpg")]["size"] == [150, 100]
    assert _hashes(src) == before  # the photos were only read

    by_name = {item["photo"]: item["index"] for item in items}
    for name, rgb in truth.items():  # 224-pixel squares: stored exactly, up to the 8-bit step
        assert_lab_close(*ds[by_name[name]], skimage.color.rgb2lab(rgb), l_tol=L_TOL + 0.01, ab_tol=AB_TOL + 0.01)

    # the centred square, not any other: the left-most square of the landscape photo is far off
    land = skimage.data.chelsea()[:224]
    assert np.abs(ds[by_name["landscape.png"]][0] - skimage.color.rgb2lab(land[:, :224])[..., 0]).mean() > 3
    # the transparent half is white: L = 100, no colour
    L, ab = ds[by_name["rgba.png"]]
    assert L[:, 112:].min() > 99.5 and np.abs(ab[:, 112:]).max() <= AB_TOL

    # a photo smaller than 224 is scaled up, not padded: same mean lightness as its centred square
    small_square = skimage.data.coffee()[150:250, 325:425]
    L_small = ds[by_name["small.jpg"]][0]
    assert abs(L_small.mean() - skimage.color.rgb2lab(small_square)[..., 0].mean()) < 1.0
    assert L_small[:10].std() > 0.5 and L_small[:, :10].std() > 0.5  # no flat borders

    # JPEG (scaled down from 512): close to the photo, within JPEG noise
    ref = skimage.color.rgb2lab(skimage.transform.resize(skimage.data.astronaut(), (224, 224), anti_aliasing=True))
    assert np.abs(ds[by_name["sub/astronaut.jpg"]][0] - ref[..., 0]).mean() < 1.5


def test_from_folder_never_overwrites_without_permission(photo_folder, tmp_path):
    src, _ = photo_folder
    dst = tmp_path / "mine"
    dst.mkdir()
    (dst / "my notes.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        data.from_folder(src, dst, report=None)
    assert (dst / "my notes.txt").read_text() == "precious" and len(list(dst.iterdir())) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no stray temp folders

    with pytest.raises(FileExistsError, match="not a dataset written by deepcolor"):
        data.from_folder(src, dst, overwrite=True, report=None)  # not even with permission
    assert (dst / "my notes.txt").read_text() == "precious"

    ours = tmp_path / "ours"
    data.from_folder(src, ours, report=None)
    result = data.from_folder(src, ours, overwrite=True, report=None)
    assert len(result.dataset) == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "ours"]  # no stray temp folders


@pytest.mark.parametrize("error", [OSError, KeyboardInterrupt])
def test_failure_half_way_leaves_no_dataset_behind(photo_folder, tmp_path, monkeypatch, error):
    """A failure while writing (a full disk, Ctrl-C) stops the import; a bad photo would only be skipped."""
    src, _ = photo_folder
    real = layout_writer.encode_lab8
    calls = []

    def breaks_on_the_fourth(rgb, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise error("disk full")
        return real(rgb, *args, **kwargs)

    monkeypatch.setattr(layout_writer, "encode_lab8", breaks_on_the_fourth)
    out = tmp_path / "out"
    with pytest.raises(error):
        data.from_folder(src, out / "mine", report=None)
    assert len(calls) == 4
    assert list(out.iterdir()) == []  # neither dst nor a partial folder

    # replacing an existing dataset: a failure keeps the old one whole
    monkeypatch.setattr(layout_writer, "encode_lab8", real)
    first = data.from_folder(src, out / "mine", report=None)
    old = _tree_bytes(first.dataset.root)
    calls.clear()
    monkeypatch.setattr(layout_writer, "encode_lab8", breaks_on_the_fourth)
    with pytest.raises(error):
        data.from_folder(src, out / "mine", overwrite=True, report=None)
    assert _tree_bytes(out / "mine") == old
    assert [p.name for p in out.iterdir()] == ["mine"]


def test_from_folder_input_errors(photo_folder, tmp_path):
    src, _ = photo_folder
    with pytest.raises(FileNotFoundError, match="not a folder"):
        data.from_folder(tmp_path / "missing", tmp_path / "dst")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no photos"):
        data.from_folder(tmp_path / "empty", tmp_path / "dst")
    with pytest.raises(ValueError, match="must not be inside"):
        data.from_folder(src, src / "dataset")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_text("no")
    Image.fromarray(skimage.data.camera()).save(bad / "b.png")
    with pytest.raises(ValueError, match="no usable images"):
        data.from_folder(bad, tmp_path / "out" / "dst", report=None)
    assert list((tmp_path / "out").iterdir()) == []
    assert not (tmp_path / "dst").exists()


def test_overwrite_never_deletes_a_folder_deepcolor_did_not_write(tmp_path, photo_crops):
    """--force replaces an earlier dataset, but not a folder of the user's files, nor src's parent."""
    from PIL import Image

    photos = tmp_path / "holiday" / "photos"
    photos.mkdir(parents=True)
    Image.fromarray(photo_crops(1)[0]).save(photos / "a.png")
    notes = tmp_path / "holiday" / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(ValueError, match="must not contain the photo folder"):
        data.from_folder(photos, tmp_path / "holiday", overwrite=True, report=None)
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match="not a dataset written by deepcolor"):
        data.from_folder(photos, documents, overwrite=True, report=None)
    assert (documents / "thesis.tex").read_text() == "precious" and notes.read_text() == "mine"
    first = data.from_folder(photos, tmp_path / "ds", report=None)
    again = data.from_folder(photos, tmp_path / "ds", overwrite=True, report=None)
    assert len(first.dataset) == len(again.dataset) == 1


def _tree_bytes(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_split_keeps_each_source_photo_in_one_part(sample_ds):
    """The sample is crops of a few photos: a photo's crops (and both halves of the stereo pair)
    all fall in one part, so test images come from photos the model never saw."""
    groups = sample_ds.groups
    assert groups is not None and len(groups) == len(sample_ds)
    names = [item["photo"] for item in sample_ds.manifest["items"]]
    assert {g for g, name in zip(groups, names) if name.startswith("motorcycle")} == {"motorcycle"}
    for seed in range(10):
        parts = data.split(len(sample_ds), seed=seed, groups=groups)
        assert sorted(np.concatenate(parts)) == list(range(len(sample_ds)))
        assert all(len(part) for part in parts)
        seen = [set(groups[part]) for part in parts]
        assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2]), (seed, seen)
    with pytest.raises(ValueError, match="2 source photos cannot fill 3 parts"):
        data.split(6, groups=["a", "a", "a", "b", "b", "b"])
    with pytest.raises(ValueError, match="one label per image"):
        data.split(6, groups=["a", "b"])


def test_a_folder_dataset_names_the_photo_of_each_image_and_kaggle_does_not(photo_folder, tmp_path, kaggle_photos):
    src, _ = photo_folder
    ds = data.from_folder(src, tmp_path / "mine", report=None).dataset
    assert list(ds.groups) == [item["photo"] for item in ds.manifest["items"]]
    assert data.load_kaggle(kaggle_photos.root).groups is None  # one image per photo: the paper's random split
    assert ds.subset(3).groups.tolist() == list(ds.groups[:3])


def test_held_out_crops_of_training_photos_become_test_seen():
    groups = np.array(list("aabbccddeeffgghhiijj") + list("abcdefghij"))
    held = np.array([False] * 20 + [True] * 10)
    parts = data.split(len(groups), seed=1, groups=groups, held_out=held)
    train, val, test = parts  # still unpacks into the paper's three parts
    everything = np.concatenate([train, val, test, parts.test_seen])
    assert sorted(everything.tolist()) == list(range(len(groups)))  # disjoint, and covering every image
    train_photos = set(groups[train])
    assert set(groups[parts.test_seen]) == train_photos and held[parts.test_seen].all() and not held[train].any()
    for part in (val, test):  # a held-out crop of an unseen photo stays with its photo
        assert not set(groups[part]) & train_photos
        assert set(groups[part][held[part]]) <= set(groups[part][~held[part]])
    assert len(set(groups[test])) == 2 and len(set(groups[val])) == 2  # 10 photos: 60/20/20 by photo


def test_a_split_without_held_out_crops_has_an_empty_test_seen():
    parts = data.split(20, seed=0)
    assert parts.test_seen.dtype == np.int64 and len(parts.test_seen) == 0
    with pytest.raises(ValueError, match="held_out needs groups"):
        data.split(4, held_out=np.zeros(4, bool))
