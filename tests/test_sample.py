"""deepcolor.sample: the built-in offline sample of real photos: same seed same bytes, cached,
every image traced back to a shipped photo and its licence."""

from pathlib import Path

import numpy as np
import pytest
import skimage.color
import skimage.data
import skimage.transform
from lab_checks import AB_TOL, L_TOL, assert_lab_close

from deepcolor import data
from deepcolor import sample as sample_mod
from deepcolor.lab_dataset import L_FILE

# --------------------------------------------------------------------------- the built-in sample


def _tree_bytes(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sample_same_seed_same_bytes_other_seed_other_images(tmp_path, monkeypatch):
    trees = {}
    for name, seed in [("a", 3), ("b", 3), ("c", 4)]:
        monkeypatch.setenv("DEEPCOLOR_HOME", str(tmp_path / name))
        ds = data.sample(n=9, seed=seed)
        assert ds.root.parent == tmp_path / name and len(ds) == 9
        trees[name] = _tree_bytes(ds.root)
    assert set(trees["a"]) == {".deepcolor-dataset", "manifest.json", "l/gray_scale.npy", "ab/ab/ab1.npy"}
    assert trees["a"] == trees["b"]  # byte for byte, in two different cache folders
    assert trees["a"]["l/gray_scale.npy"] != trees["c"]["l/gray_scale.npy"]
    assert trees["a"]["ab/ab/ab1.npy"] != trees["c"]["ab/ab/ab1.npy"]


def test_sample_is_cached_and_reused(sample_ds, deepcolor_home):
    assert sample_ds.root.parent == deepcolor_home
    stamp = (sample_ds.root / L_FILE).stat().st_mtime_ns
    again = data.sample(n=24, seed=0)
    assert again.root == sample_ds.root and (again.root / L_FILE).stat().st_mtime_ns == stamp


def test_sample_manifest_names_a_shipped_photo_and_its_licence_per_image(sample_ds):
    photos = {p.name: p for p in sample_mod.source_photos()}
    items = sample_ds.manifest["items"]
    assert sample_ds.source == "sample" and len(sample_ds) == 24
    assert [item["index"] for item in items] == list(range(24))
    for item in items:
        photo = photos[item["photo"]]
        assert item["licence"] == photo.licence and item["origin"] == photo.origin
    assert {item["photo"] for item in items} == set(photos)  # round-robin: every photo is used
    assert sample_ds.manifest["seed"] == 0


def test_every_sample_image_traces_back_to_its_source_photo(sample_ds):
    from skimage.transform import resize

    photos = {p.name: p.load() for p in sample_mod.source_photos()}
    flipped_errors = []
    for item in sample_ds.manifest["items"]:
        rgb = photos[item["photo"]]
        top, left, side = item["top"], item["left"], item["side"]
        assert 0 <= top and top + side <= rgb.shape[0] and 0 <= left and left + side <= rgb.shape[1]
        crop = rgb[top : top + side, left : left + side].astype(np.float64) / 255
        crop = resize(crop, (224, 224), order=1, anti_aliasing=side > 224, preserve_range=True)
        crop = crop[:, ::-1] if item["flip"] else crop
        lab = skimage.color.rgb2lab(np.clip(crop, 0, 1))
        L, ab = sample_ds[item["index"]]
        assert_lab_close(L, ab, lab, l_tol=L_TOL + 0.01, ab_tol=AB_TOL + 0.01)
        flipped_errors.append(np.abs(L - lab[:, ::-1, 0]).mean())
    # the comparison can tell crops apart: the mirror image is far off for almost every crop
    assert np.median(flipped_errors) > 2


def test_sample_rejects_n_below_one():
    with pytest.raises(ValueError, match="at least 1"):
        data.sample(n=0)


# --------------------------------------------------------------------------- held-out crops


def _box_overlaps(a, b) -> bool:
    """Do two (top, left, height, width) boxes share a pixel?"""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_held_out_crops_come_from_a_strip_no_ordinary_crop_touches():
    ds = data.sample(n=24, seed=0, held_out=2)
    photos = {p.name: p.load() for p in sample_mod.source_photos()}
    items = ds.manifest["items"]
    assert len(ds) == 24 + 2 * len(photos) and len(items) == len(ds)
    held = [item for item in items if item.get("held_out")]
    assert ds.held_out.tolist() == [bool(item.get("held_out")) for item in items]
    assert sorted(item["photo"] for item in held) == sorted(list(photos) * 2)
    boxes = {name: sample_mod.regions(rgb) for name, rgb in photos.items()}
    for item in items:
        ordinary, strip = boxes[item["photo"]]
        box = (item["top"], item["left"], item["side"], item["side"])
        inside = strip if item.get("held_out") else ordinary
        assert inside[0] <= box[0] and box[0] + box[2] <= inside[0] + inside[2]
        assert inside[1] <= box[1] and box[1] + box[3] <= inside[1] + inside[3]
        assert item.get("held_out") or not _box_overlaps(box, strip)
    for name, rgb in photos.items():  # the strip is 30 % of the photo along one side, the rest is the photo's
        h, w = rgb.shape[:2]
        ordinary, strip = boxes[name]
        assert (ordinary, strip) in sample_mod.strips(rgb.shape).values()
        assert strip[2] * strip[3] + ordinary[2] * ordinary[3] == h * w
        assert strip[3] == round(0.3 * w) if strip[2] == h else strip[2] == round(0.3 * h)
    # the astronaut's right edge (the gray shuttle) is not the strip chosen: its colours are unlike the photo's
    assert boxes["astronaut"][1][1] + boxes["astronaut"][1][3] < 512 or boxes["astronaut"][1][2] < 512


def test_held_out_zero_keeps_the_sample_as_asked_and_marks_nothing():
    ds = data.sample(n=9, seed=0)
    assert len(ds) == 9 and ds.held_out is None


def test_sample_carries_every_shipped_colour_photograph():
    names = {p.name for p in sample_mod.source_photos()}
    assert {"astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right", "grace_hopper",
            "hubble_deep_field", "retina", "immunohistochemistry", "china", "flower"} == names
    for photo in sample_mod.source_photos():
        rgb = photo.load()
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3 and photo.licence and photo.origin
