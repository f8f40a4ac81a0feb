"""deepcolor.lab_dataset: the dataset type and the Kaggle layout on disk: reading real photos
within the 8-bit step, validation with errors that name the file, the memory map, in-memory
datasets."""

import gc
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from lab_checks import assert_lab_close

from deepcolor import data, lab_dataset
from deepcolor.data import DatasetFormatError
from deepcolor.lab_dataset import AB_DIR, L_FILE

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
