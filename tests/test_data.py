"""Tests of the data layer: the Kaggle layout (deepcolor.lab_dataset, deepcolor.data.load_kaggle),
its validation and memory map, the split, the built-in sample and the folder import."""

import gc
import hashlib
import io
import json
import shutil
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import skimage.color
import skimage.data
import skimage.transform
from PIL import Image

from deepcolor import data, lab_dataset, sample as sample_mod
from deepcolor.data import DatasetFormatError

L_TOL = 100 / 255 / 2 + 1e-3  # half a step of the 8-bit L encoding, plus float32 noise
AB_TOL = 0.5 + 1e-3  # half a step of a8 / b8
L_FILE = Path("l") / "gray_scale.npy"
AB_DIR = Path("ab") / "ab"


def assert_lab_close(L, ab, lab, l_tol=L_TOL, ab_tol=AB_TOL):
    """L (..., H, W) and ab (..., H, W, 2) decoded from 8 bits agree with the true Lab (..., H, W, 3)."""
    assert np.abs(L - lab[..., 0]).max() <= l_tol
    assert np.abs(ab - lab[..., 1:]).max() <= ab_tol


# --------------------------------------------------------------------------- Kaggle layout


def test_load_kaggle_decodes_real_photos_within_8bit_quantization(kaggle_photos):
    ds = data.load_kaggle(kaggle_photos.root)
    assert len(ds) == 10 and ds.image_size == 224
    assert ds.root == kaggle_photos.root and ds.source == "kaggle"
    assert ds.l8.dtype == np.uint8 and ds.l8.shape == (10, 224, 224)
    assert [len(p) for p in ds.ab8_parts] == list(kaggle_photos.splits)
    for i in range(len(ds)):  # crosses the ab1 | ab2 | ab3 boundaries at 4 and 8
        L, ab = ds[i]
        assert L.shape == (224, 224) and ab.shape == (224, 224, 2)
        assert L.dtype == np.float32 and ab.dtype == np.float32
        assert_lab_close(L, ab, kaggle_photos.lab[i])
    L, ab = ds[-1]
    assert_lab_close(L, ab, kaggle_photos.lab[9])


def test_batch_reads_any_order_across_ab_files(kaggle_photos):
    ds = data.load_kaggle(kaggle_photos.root)
    idx = [9, 0, 4, 3, 8, 4, 7, -2]  # unsorted, a repeat, both file boundaries, a negative index
    L, ab = ds.batch(idx)
    assert L.shape == (8, 224, 224) and ab.shape == (8, 224, 224, 2)
    assert_lab_close(L, ab, kaggle_photos.lab[idx])

    l8, ab8 = ds.batch_raw(idx)
    ab_all = np.concatenate([np.load(f) for f in lab_dataset.ab_files(kaggle_photos.root)])
    np.testing.assert_array_equal(l8, np.load(kaggle_photos.root / L_FILE)[idx])
    np.testing.assert_array_equal(ab8, ab_all[idx])
    assert l8.dtype == np.uint8 and ab8.dtype == np.uint8

    L0, ab0 = ds.batch([])
    assert L0.shape == (0, 224, 224) and ab0.shape == (0, 224, 224, 2)


def test_indexing_errors(kaggle_photos):
    ds = data.load_kaggle(kaggle_photos.root)
    with pytest.raises(IndexError, match="10 images"):
        ds[10]
    with pytest.raises(IndexError):
        ds.batch([0, -11])
    with pytest.raises(TypeError, match="batch"):
        ds[1:3]


def test_ab_files_sort_numerically_ab10_after_ab2(tmp_path, photo_crops, lab8_opencv, make_kaggle_layout):
    rgb = photo_crops(11)
    lab, l8, ab8 = lab8_opencv(rgb)
    splits = (2, 1, 1, 1, 1, 1, 1, 1, 1, 1)  # ab1 .. ab10
    root = make_kaggle_layout(tmp_path / "ten", l8, ab8, splits)
    (root / AB_DIR / "ab_notes.npy").write_bytes(b"not part of the data")  # ignored: not abN.npy
    assert [f.name for f in lab_dataset.ab_files(root)] == [f"ab{k}.npy" for k in range(1, 11)]
    ds = data.load_kaggle(root)
    assert len(ds) == 11
    for i in range(11):
        assert_lab_close(*ds[i], lab[i])
    assert_lab_close(*ds.batch([10, 2, 1]), lab[[10, 2, 1]])


def test_kagglehub_nested_folder_is_accepted(tmp_path, kaggle_photos):
    top = tmp_path / "kagglehub"
    nested = top / "datasets" / "shravankumar9892" / "image-colorization" / "versions" / "1"
    shutil.copytree(kaggle_photos.root, nested)
    ds = data.load_kaggle(top)
    assert ds.root == nested and len(ds) == 10
    assert_lab_close(*ds[5], kaggle_photos.lab[5])
    assert data.find_kaggle_root(nested) == nested


def test_fingerprint_is_json_and_names_the_files(kaggle_photos):
    info = data.load_kaggle(kaggle_photos.root).fingerprint()
    assert json.loads(json.dumps(info)) == info
    assert info["n"] == 10 and info["source"] == "kaggle"
    assert set(info["files"]) == {"l/gray_scale.npy", "ab/ab/ab1.npy", "ab/ab/ab2.npy", "ab/ab/ab3.npy"}
    assert info["files"]["ab/ab/ab3.npy"][0] == (kaggle_photos.root / AB_DIR / "ab3.npy").stat().st_size


# --------------------------------------------------------------------------- validation


def _zeros(n, l_shape=(224, 224), l_dtype=np.uint8, ab_shape=(224, 224, 2), ab_dtype=np.uint8):
    return np.zeros((n,) + l_shape, l_dtype), np.zeros((n,) + ab_shape, ab_dtype)


def test_wrong_dtype_names_the_file_and_the_expectation(tmp_path, make_kaggle_layout):
    root = make_kaggle_layout(tmp_path / "d", *_zeros(3, l_dtype=np.float32), (3,))
    with pytest.raises(DatasetFormatError, match=r"gray_scale\.npy holds float32 .*expected uint8 \(N, 224, 224\)"):
        data.load_kaggle(root)
    root = make_kaggle_layout(tmp_path / "e", *_zeros(3, ab_dtype=np.int16), (2, 1))
    with pytest.raises(DatasetFormatError, match=r"ab1\.npy holds int16 .*expected uint8 \(n, 224, 224, 2\)"):
        data.load_kaggle(root)


def test_wrong_shape_names_the_file_and_the_expectation(tmp_path, make_kaggle_layout):
    root = make_kaggle_layout(tmp_path / "s", *_zeros(3, l_shape=(200, 200)), (3,))
    with pytest.raises(DatasetFormatError, match=r"gray_scale\.npy holds uint8 \(3, 200, 200\).*expected"):
        data.load_kaggle(root)
    root = make_kaggle_layout(tmp_path / "t", *_zeros(3, ab_shape=(224, 224, 3)), (1, 2))
    with pytest.raises(DatasetFormatError, match=r"ab1\.npy holds uint8 \(1, 224, 224, 3\).*\(n, 224, 224, 2\)"):
        data.load_kaggle(root)


def test_count_mismatch_names_the_files_and_counts(tmp_path, make_kaggle_layout):
    l8, ab8 = _zeros(5)
    root = make_kaggle_layout(tmp_path / "c", l8, ab8[:4], (3, 1))
    expected = r"gray_scale\.npy has 5 images but the ab files hold 4 \(ab1\.npy: 3, ab2\.npy: 1\)"
    with pytest.raises(DatasetFormatError, match=expected):
        data.load_kaggle(root)
    with pytest.raises(DatasetFormatError, match="5 images but the ab files hold 4"):
        lab_dataset.LabDataset(l8, [ab8[:4]])


def test_truncated_or_foreign_npy_names_the_file(tmp_path, make_kaggle_layout):
    root = make_kaggle_layout(tmp_path / "tr", *_zeros(4), (2, 2))
    ab2 = root / AB_DIR / "ab2.npy"
    ab2.write_bytes(ab2.read_bytes()[: ab2.stat().st_size // 2])  # an interrupted download
    with pytest.raises(DatasetFormatError, match=r"ab2\.npy.*truncated"):
        data.load_kaggle(root)
    (root / L_FILE).write_text("<html>Please log in</html>")
    with pytest.raises(DatasetFormatError, match=r"cannot read .*gray_scale\.npy as a \.npy array"):
        data.load_kaggle(root)


def test_missing_pieces_raise_file_not_found_naming_them(tmp_path, make_kaggle_layout):
    root = make_kaggle_layout(tmp_path / "m", *_zeros(2), (2,))
    shutil.rmtree(root / "ab")
    with pytest.raises(FileNotFoundError, match=r"no ab files in .*ab/ab.*ab1\.npy"):
        data.load_kaggle(root)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load_kaggle(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no l/gray_scale\.npy under .*empty"):
        data.load_kaggle(tmp_path / "empty")
    assert issubclass(DatasetFormatError, ValueError)  # callers catching ValueError see it


# --------------------------------------------------------------------------- memory map


def _write_big_layout(root: Path, n: int, splits, chunk: int = 100) -> Path:
    """A Kaggle-layout folder of n images written chunk by chunk through open_memmap (never in RAM).
    Image i has L8 = i % 251 and ab8 = (i * 7) % 256 everywhere, so every read can be checked."""
    open_memmap = np.lib.format.open_memmap
    (root / "l").mkdir(parents=True)
    (root / AB_DIR).mkdir(parents=True)
    l8 = open_memmap(root / L_FILE, "w+", np.uint8, (n, 224, 224))
    for s in range(0, n, chunk):
        l8[s : s + chunk] = (np.arange(s, min(s + chunk, n)) % 251).astype(np.uint8)[:, None, None]
    l8.flush()
    del l8
    start = 0
    for k, count in enumerate(splits, start=1):
        ab8 = open_memmap(root / AB_DIR / f"ab{k}.npy", "w+", np.uint8, (count, 224, 224, 2))
        for s in range(0, count, chunk):
            ids = np.arange(start + s, start + min(s + chunk, count))
            ab8[s : s + len(ids)] = ((ids * 7) % 256).astype(np.uint8)[:, None, None, None]
        ab8.flush()
        del ab8
        start += count
    return root


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads anonymous memory from Linux's statm")
def test_kaggle_layout_is_read_through_a_memory_map(tmp_path):
    """Iterating a 300 MB dataset keeps the process's *anonymous* memory flat.

    Plain RSS is the wrong measure here: pages of a memory-mapped file that were read stay
    counted in RSS (as file-backed, "shared" pages) while the map is open, so RSS grows by the
    whole file even though the kernel can drop those pages at any time and nothing was copied
    into the process.  Anonymous memory (RSS minus file-backed/shared pages, psutil's
    ``rss - shared`` on Linux) is what an ``np.load`` into RAM, or any copy of the data, would
    grow; the end of the test checks that this measure does see such a load.
    """
    psutil = pytest.importorskip("psutil")
    from deepcolor.batches import ColorBatches  # import Keras before the baseline

    n, splits = 2000, (800, 800, 400)  # 100 MB of L + 200 MB of ab
    root = _write_big_layout(tmp_path / "big", n, splits)
    emb_file = tmp_path / "emb.npy"
    emb = np.lib.format.open_memmap(emb_file, "w+", np.float32, (n, 1000))
    emb[:, 0] = np.arange(n)
    emb.flush()
    del emb
    proc = psutil.Process()

    def mb():
        m = proc.memory_info()
        return (m.rss - m.shared) / 2**20, m.shared / 2**20

    try:
        gc.collect()
        anon0, file0 = mb()
        ds = data.load_kaggle(root)
        emb = np.load(emb_file, mmap_mode="r")
        peak = mb()[0]
        assert peak - anon0 < 5, "opening the dataset must not read the images"

        for s in range(0, n, 32):
            ids = np.arange(s, min(s + 32, n))
            l8, ab8 = ds.batch_raw(ids)
            assert np.array_equal(l8[:, 111, 7], ids % 251) and np.array_equal(ab8[:, 3, 200, 1], (ids * 7) % 256)
            peak = max(peak, mb()[0])
        seen = []
        # batch 16: one float32 batch of 224x224 L and ab plus its temporaries is ~25 MB; at batch
        # 32 that working set alone (~55 MB, the same for any dataset size) would crowd the bound
        batches = ColorBatches(ds, emb, batch_size=16, seed=0)
        for i in range(len(batches)):
            (L, e), ab = batches[i]
            ids = e[:, 0].astype(np.int64)
            assert np.allclose(L[:, 5, 5, 0] * 255, ids % 251, atol=1e-3)
            seen.append(ids)
            peak = max(peak, mb()[0])
        assert sorted(np.concatenate(seen)) == list(range(n))
        file_growth = mb()[1] - file0
        growth = peak - anon0
        assert growth < 60, (
            f"anonymous memory grew by {growth:.0f} MB while reading a 300 MB dataset "
            f"(file-backed pages: +{file_growth:.0f} MB); the arrays are not memory-mapped"
        )

        # the measure is able to fail: a plain np.load of the 100 MB L file shows up in full
        before = mb()[0]
        in_ram = np.load(root / L_FILE)
        assert mb()[0] - before > 0.8 * in_ram.nbytes / 2**20
        del in_ram
    finally:
        del ds, emb
        gc.collect()
        shutil.rmtree(root, ignore_errors=True)
        emb_file.unlink(missing_ok=True)


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


# --------------------------------------------------------------------------- LabDataset.from_arrays


def test_array_dataset_quantizes_to_8_bits_and_has_no_root():
    rng = np.random.default_rng(0)
    L = rng.random((3, 16, 16)).astype(np.float32) * 100
    ab = rng.uniform(-100, 100, (3, 16, 16, 2)).astype(np.float32)
    ds = data.LabDataset.from_arrays(L, ab)
    assert ds.root is None and len(ds) == 3 and ds.image_size == 16
    L2, ab2 = ds.batch([2, 0])
    assert_lab_close(L2, ab2, np.concatenate([L[[2, 0], ..., None], ab[[2, 0]]], -1))
    assert json.loads(json.dumps(ds.fingerprint()))["n"] == 3
    with pytest.raises(ValueError, match=r"\(N, H, W, 2\)"):
        data.LabDataset.from_arrays(L, ab[..., :1])


# --------------------------------------------------------------------------- from_folder


def _png16(path: Path, rgb16: np.ndarray) -> None:
    """Write a 16-bit-per-channel RGB PNG (Pillow cannot write one)."""
    h, w, _ = rgb16.shape
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in rgb16)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)


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

    _png16(src / "rgb16.png", crop.astype(np.uint16) * 257)  # same colours as crop, 16 bits
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


def test_read_photo_16_bit_files(tmp_path):
    """Pillow opens a 16-bit RGB PNG as 8-bit RGB (its high byte), which the 8-bit dataset loses
    nothing by; a 16-bit grayscale PNG keeps its 16-bit scale (a dark one must stay dark)."""
    from deepcolor.photos import PhotoSkipped, read_photo

    rng = np.random.default_rng(0)
    rgb16 = rng.integers(0, 65536, (40, 50, 3), dtype=np.uint16)
    _png16(tmp_path / "colour.png", rgb16)
    got = read_photo(tmp_path / "colour.png")
    assert got.shape == (40, 50, 3)
    if got.dtype == np.uint16:  # a Pillow that keeps all 16 bits
        np.testing.assert_array_equal(got, rgb16)
    else:
        assert got.dtype == np.uint8
        assert np.abs(got - rgb16 / 257.0).max() <= 1.0

    dark = rng.integers(0, 200, (40, 50)).astype(np.uint16)  # at most 200 out of 65535: nearly black
    Image.fromarray(dark).save(tmp_path / "gray16.png")
    gray = read_photo(tmp_path / "gray16.png", allow_gray=True)
    assert gray.dtype == np.uint16 and gray.shape == (40, 50, 3)
    np.testing.assert_array_equal(gray[..., 1], dark)
    with pytest.raises(PhotoSkipped, match="grayscale"):
        read_photo(tmp_path / "gray16.png")


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
    real = lab_dataset.encode_lab8
    calls = []

    def breaks_on_the_fourth(rgb, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise error("disk full")
        return real(rgb, *args, **kwargs)

    monkeypatch.setattr(lab_dataset, "encode_lab8", breaks_on_the_fourth)
    out = tmp_path / "out"
    with pytest.raises(error):
        data.from_folder(src, out / "mine", report=None)
    assert len(calls) == 4
    assert list(out.iterdir()) == []  # neither dst nor a partial folder

    # replacing an existing dataset: a failure keeps the old one whole
    monkeypatch.setattr(lab_dataset, "encode_lab8", real)
    first = data.from_folder(src, out / "mine", report=None)
    old = _tree_bytes(first.dataset.root)
    calls.clear()
    monkeypatch.setattr(lab_dataset, "encode_lab8", breaks_on_the_fourth)
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


def test_kagglehub_cache_with_several_versions_picks_the_newest(tmp_path, kaggle_photos):
    """kagglehub keeps versions/1, versions/2, ..., versions/10: the newest is the highest number."""
    import shutil

    from deepcolor.data import find_kaggle_root

    top = tmp_path / "image-colorization"
    for v in (2, 10, 9):
        shutil.copytree(kaggle_photos.root, top / "versions" / str(v))
    assert find_kaggle_root(top) == top / "versions" / "10"


def test_resize_float_matches_a_careful_reference_and_keeps_range():
    """Pillow's float bilinear resize against scikit-image's (the reference) on a real photo."""
    import skimage.data
    from skimage.transform import resize

    from deepcolor.photos import resize_float

    x = skimage.data.coffee().astype(np.float32)[None] / 255.0  # (1, 400, 600, 3)
    up = resize_float(x[:, :100, :150], 300, 450)
    ref_up = resize(x[0, :100, :150], (300, 450), order=1, anti_aliasing=False)
    assert up.shape == (1, 300, 450, 3) and up.dtype == np.float32
    assert np.abs(up[0] - ref_up).mean() < 0.01
    down = resize_float(x, 100, 150)
    ref_down = resize(x[0], (100, 150), order=1, anti_aliasing=True)
    assert np.abs(down[0] - ref_down).mean() < 0.02
    assert down.min() >= 0 and down.max() <= 1
    with pytest.raises(ValueError, match="batch"):
        resize_float(x[0], 10, 10)


@pytest.mark.parametrize("fractions", [(0.6, 0.2, 0.2), (0.5, 0.5, 0.0), (0.9, 0.05, 0.05), (1 / 3, 1 / 3, 1 / 3)])
def test_split_never_leaves_a_requested_part_empty(fractions):
    for n in range(3, 15):
        parts = data.split(n, fractions)
        assert sum(len(p) for p in parts) == n and len(np.unique(np.concatenate(parts))) == n
        for part, fraction in zip(parts, fractions):
            assert len(part) >= (1 if fraction > 0 else 0), (n, fractions, [len(p) for p in parts])


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
