"""Shared by the tests: the tolerances of the 8-bit Lab encoding, a writer of 16-bit colour PNGs
(which Pillow cannot write), and tiny random datasets for training tests (one of them with held-out
crops, as the built-in sample has)."""

import struct
import zlib
from pathlib import Path

import numpy as np

L_TOL = 100 / 255 / 2 + 1e-3  # half a step of the 8-bit L encoding, plus float32 noise
AB_TOL = 0.5 + 1e-3  # half a step of a8 / b8

def assert_lab_close(L, ab, lab, l_tol=L_TOL, ab_tol=AB_TOL):
    """L (..., H, W) and ab (..., H, W, 2) decoded from 8 bits agree with the true Lab (..., H, W, 3)."""
    assert np.abs(L - lab[..., 0]).max() <= l_tol
    assert np.abs(ab - lab[..., 1:]).max() <= ab_tol


def write_png16(path: Path, rgb16: np.ndarray) -> None:
    """Write a 16-bit-per-channel RGB PNG (Pillow cannot write one)."""
    h, w, _ = rgb16.shape
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in rgb16)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)


def random_lab_dataset(n: int = 12, size: int = 32, seed: int = 0):
    """(ds, emb): ``n`` random size x size images as a LabDataset (L uniform in [0, 100], ab in
    [-60, 60]) and (n, 1000) random embeddings, for tests that only need something to train on."""
    from deepcolor.lab_dataset import LabDataset

    rng = np.random.default_rng(seed)
    L = rng.uniform(0, 100, (n, size, size)).astype(np.float32)
    ab = rng.uniform(-60, 60, (n, size, size, 2)).astype(np.float32)
    return LabDataset.from_arrays(L, ab), rng.random((n, 1000)).astype(np.float32)


def held_out_dataset(photos: int = 10, ordinary: int = 2, held: int = 1, size: int = 32, seed: int = 0):
    """(ds, emb): :func:`random_lab_dataset` whose manifest names a photo per image, as the built-in
    sample's does: ``ordinary`` crops of each of ``photos`` photos, then ``held`` held-out crops of
    each (``ds.groups``, ``ds.held_out``), so that ``data.split`` gives it a ``test_seen`` part."""
    ds, emb = random_lab_dataset(photos * (ordinary + held), size, seed)
    items = [{"photo": f"photo{p}"} for _ in range(ordinary) for p in range(photos)]
    items += [{"photo": f"photo{p}", "held_out": True} for p in range(photos) for _ in range(held)]
    ds.manifest = {"source": "sample", "items": items}
    return ds, emb
