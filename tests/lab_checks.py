"""Shared by the data-layer tests: the tolerances of the 8-bit Lab encoding, and a writer of
16-bit colour PNGs (which Pillow cannot write)."""

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
