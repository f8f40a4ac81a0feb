"""The dataset type every source shares, and the on-disk layout it reads and writes.

Introduced in notebook ``02_dataset``.

On disk every dataset has the layout of the Kaggle ``image-colorization`` set::

    root/l/gray_scale.npy     (N, 224, 224)     uint8   L8 = L * 255 / 100
    root/ab/ab/ab1.npy        (n1, 224, 224, 2) uint8   a8 = a + 128, b8 = b + 128
    root/ab/ab/ab2.npy ...    image i pairs L[i] with the concatenation ab1 + ab2 + ...

The arrays are opened memory-mapped (``np.load(mmap_mode="r")``): only the images a batch asks
for are read from disk, so the 3.8 GB Kaggle set never has to fit in memory.  Datasets written by
``deepcolor`` (the sample, your own photos) add ``manifest.json`` naming each image's source, and
the marker file ``.deepcolor-dataset`` with the layout's version: only a folder holding that
marker and nothing but the layout's own files may ever be replaced (``--force``).
:mod:`deepcolor.layout_writer` writes the layout.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from .color import decode_lab8, encode_lab8
from .files import read_json

IMAGE_SIZE = 224
L_FILE = Path("l") / "gray_scale.npy"
AB_DIR = Path("ab") / "ab"
MANIFEST = "manifest.json"
MARKER = ".deepcolor-dataset"  # written last into every dataset deepcolor writes
LAYOUT_VERSION = 1
AB_CHUNK = 10_000  # images per ab file, as in the Kaggle set


class DatasetFormatError(ValueError):
    """A file on disk does not have the layout described in :mod:`deepcolor.lab_dataset`."""


class LabDataset:
    """Images as (L, ab) pairs in Lab units, read lazily from 8-bit arrays.

    ``len(ds)`` is the number of images; ``ds[i]`` returns ``(L, ab)``: L (224, 224) float32 in
    [0, 100], ab (224, 224, 2) float32 in [-128, 127].  ``ds.batch(indices)`` returns the same for
    many images at once, ``ds.batch_raw(indices)`` the uint8 arrays as stored.

    l8: (N, H, W) uint8 array or memmap; ab8_parts: list of (n_k, H, W, 2) uint8 arrays whose
    lengths add up to N; root: the folder it was read from (None in memory); source: a short
    description ("kaggle", "sample", "folder:...").
    """

    def __init__(self, l8, ab8_parts, root=None, source="arrays", manifest=None):
        self.l8 = l8
        self.ab8_parts = list(ab8_parts)
        self.root = Path(root) if root is not None else None
        self.source = source
        self.manifest = manifest or {}
        self._starts = np.cumsum([0] + [len(p) for p in self.ab8_parts])
        if self._starts[-1] != len(l8):
            raise DatasetFormatError(
                f"L has {len(l8)} images but the ab files hold {self._starts[-1]}: "
                "every L image needs its ab pair (re-download or re-create the dataset)"
            )

    def __len__(self) -> int:
        return len(self.l8)

    @property
    def image_size(self) -> int:
        return int(self.l8.shape[1])

    def __repr__(self) -> str:
        where = f", root='{self.root}'" if self.root else ""
        return f"LabDataset({len(self)} images of {self.image_size}x{self.image_size}, source={self.source!r}{where})"

    def _check(self, indices) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise IndexError(f"index out of range for a dataset of {len(self)} images")
        return idx % max(len(self), 1)

    def batch_raw(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """uint8 arrays as stored: L8 (n, H, W) and ab8 (n, H, W, 2), in the order given.

        Reads are grouped by ab file and done in sorted order, which is what keeps a memory map fast.
        """
        idx = self._check(indices)
        order = np.argsort(idx, kind="stable")
        sorted_idx = idx[order]
        l8 = np.asarray(self.l8[sorted_idx])
        ab8 = np.empty((len(idx),) + tuple(self.l8.shape[1:]) + (2,), np.uint8)
        part = np.searchsorted(self._starts, sorted_idx, side="right") - 1
        for k in np.unique(part):
            sel = part == k
            ab8[sel] = self.ab8_parts[k][sorted_idx[sel] - self._starts[k]]
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return l8[inverse], ab8[inverse]

    def batch(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """(L, ab) in Lab units: (n, H, W) float32 in [0, 100] and (n, H, W, 2) float32."""
        return decode_lab8(*self.batch_raw(indices))

    def __getitem__(self, i):
        if not isinstance(i, (int, np.integer)):
            raise TypeError("use ds[i] with an integer; for many images use ds.batch(indices)")
        L, ab = self.batch([i])
        return L[0], ab[0]

    @property
    def groups(self):
        """The source photo of each image, as an (N,) array of labels, when the manifest names them
        (the sample: its scene, both halves of the stereo pair being one; a folder dataset: its photo);
        None otherwise (the Kaggle set: one image per photo).  :func:`deepcolor.data.split` keeps
        each group in one part (notebook 02)."""
        items = self.manifest.get("items") or []
        if len(items) < len(self):
            return None
        return np.array([str(item.get("scene") or item.get("photo")) for item in items[: len(self)]])

    @property
    def held_out(self):
        """Which images are held-out crops (:mod:`deepcolor.sample`): an (N,) bool array when the
        manifest marks any, else None (the Kaggle set, a folder of photos).  :func:`deepcolor.data.split`
        makes those of the training photos the ``test_seen`` images (notebook 02)."""
        items = self.manifest.get("items") or []
        if len(items) < len(self) or not any(item.get("held_out") for item in items):
            return None
        return np.array([bool(item.get("held_out")) for item in items[: len(self)]])

    @classmethod
    def from_arrays(cls, L, ab, source="arrays") -> "LabDataset":
        """An in-memory dataset from arrays in Lab units (quantized to the 8-bit encoding).

        L: (N, H, W) in [0, 100]; ab: (N, H, W, 2) in Lab units.  Handy for tests and quick looks.
        """
        L, ab = np.asarray(L), np.asarray(ab)
        if L.ndim != 3 or ab.shape != L.shape + (2,):
            raise ValueError(f"expected L (N, H, W) and ab (N, H, W, 2), got {L.shape} and {ab.shape}")
        l8, ab8 = encode_lab8(L, ab)
        return cls(l8, [ab8], source=source)

    def subset(self, n: int) -> "LabDataset":
        """The first ``n`` images (all of them for n = 0 or n >= len), still memory-mapped."""
        if n <= 0 or n >= len(self):
            return self
        parts, left = [], n
        for part in self.ab8_parts:
            parts.append(part[: min(left, len(part))])
            left -= len(parts[-1])
            if left == 0:
                break
        return LabDataset(self.l8[:n], parts, root=self.root, source=f"{self.source}[:{n}]", manifest=self.manifest)

    def batches(self, indices=None, batch_size: int = 16):
        """Read images ``indices`` (default: all) ``batch_size`` at a time, in the order given.

        Yields ``(idx, L, ab)``: idx (n,) int64, L (n, H, W) float32 in [0, 100] and ab (n, H, W, 2)
        float32 in Lab units.  The one loop over a dataset that never loads it whole.
        """
        indices = np.arange(len(self)) if indices is None else np.asarray(indices, np.int64).reshape(-1)
        for start in range(0, len(indices), batch_size):
            idx = indices[start:start + batch_size]
            yield (idx, *self.batch(idx))

    def fingerprint(self) -> dict:
        """JSON-serialisable identity of the data: count, source, and every file's size and mtime
        (for in-memory datasets, a SHA-1 of all the L and ab bytes)."""
        info = {"n": len(self), "source": self.source, "image_size": self.image_size}
        if self.root is not None:
            files = [self.root / L_FILE] + ab_files(self.root)
            info["files"] = {
                str(f.relative_to(self.root)): [f.stat().st_size, f.stat().st_mtime_ns] for f in files
            }
        else:
            digest = hashlib.sha1(np.ascontiguousarray(self.l8).tobytes())
            for part in self.ab8_parts:
                digest.update(np.ascontiguousarray(part).tobytes())
            info["sha1"] = digest.hexdigest()
        return info


def ab_files(root: Path) -> list[Path]:
    """The ab files of a dataset folder, in numeric order (ab1, ab2, ab3, ..., ab10)."""
    files = list((Path(root) / AB_DIR).glob("ab*.npy"))
    numbered = [f for f in files if re.fullmatch(r"ab\d+\.npy", f.name)]
    return sorted(numbered, key=lambda f: int(f.stem[2:]))


def _open_npy(path: Path, ndim_tail: tuple, what: str) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"missing {path}: expected {what}")
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # truncated, not a .npy file, pickled objects...
        raise DatasetFormatError(
            f"cannot read {path} as a .npy array ({exc}); expected {what}. The file may be "
            "truncated by an interrupted download: delete it and download again"
        ) from None
    if arr.dtype != np.uint8 or arr.ndim != 1 + len(ndim_tail) or tuple(arr.shape[1:]) != ndim_tail:
        raise DatasetFormatError(f"{path} holds {arr.dtype} {arr.shape}; expected {what}")
    return arr


def open_layout(root, source=None) -> LabDataset:
    """Open a folder in the Kaggle layout, memory-mapped, validating shapes and dtypes."""
    root = Path(root)
    l8 = _open_npy(root / L_FILE, (IMAGE_SIZE, IMAGE_SIZE), "uint8 (N, 224, 224) 8-bit L")
    parts_files = ab_files(root)
    if not parts_files:
        raise FileNotFoundError(
            f"no ab files in {root / AB_DIR}: expected ab1.npy, ab2.npy, ... with uint8 (n, 224, 224, 2)"
        )
    parts = [_open_npy(f, (IMAGE_SIZE, IMAGE_SIZE, 2), "uint8 (n, 224, 224, 2) 8-bit ab") for f in parts_files]
    total = sum(len(p) for p in parts)
    if total != len(l8):
        names = ", ".join(f"{f.name}: {len(p)}" for f, p in zip(parts_files, parts))
        raise DatasetFormatError(
            f"{root / L_FILE} has {len(l8)} images but the ab files hold {total} ({names}); "
            "the L and ab counts must match: a download may be incomplete"
        )
    manifest = {}
    if (root / MANIFEST).is_file():
        manifest = read_json(root / MANIFEST, "the dataset's manifest")
        if not isinstance(manifest, dict):
            raise DatasetFormatError(f"{root / MANIFEST} is damaged: expected a JSON object; "
                                     "delete the dataset folder and create it again")
    return LabDataset(l8, parts, root=root, source=source or manifest.get("source", "kaggle"), manifest=manifest)
