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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .color import decode_lab8, encode_lab8
from .files import fsync_dir, fsync_file, make_folder, read_json, replace_folder

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


def write_layout(dst, n: int, images, manifest: dict, overwrite: bool = False, progress=None) -> Path:
    """Write ``n`` images into ``dst`` in the Kaggle layout, atomically.

    images: an iterator of (L, ab) pairs in Lab units (224, 224) and (224, 224, 2); it may yield
    fewer than ``n`` (skipped inputs), and the arrays are trimmed to what arrived.
    Everything is written into a temporary sibling folder that is renamed to ``dst`` only when
    complete (every file flushed to disk), so a failure half-way never leaves a dataset that looks
    whole.  An existing ``dst`` is replaced only with ``overwrite=True``, and only if it is an
    empty folder or a dataset deepcolor wrote that holds nothing else (see :func:`why_not_replaceable`):
    a folder with any file of yours in it is never deleted.  Returns ``dst``.
    """
    dst = Path(dst)
    if dst.exists() or dst.is_symlink():
        if not overwrite:
            raise FileExistsError(f"{dst} already exists; pass overwrite=True (--force on the command line) to replace it")
        reason = why_not_replaceable(dst)
        if reason:
            raise FileExistsError(f"refusing to replace {dst}, even with overwrite=True (--force): {reason}; "
                                  "choose a new folder")
    make_folder(dst.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.partial-", dir=dst.parent))
    os.chmod(tmp, 0o755)
    try:
        count = _write_arrays(tmp, n, images, progress)
        manifest = dict(manifest, n=count, layout="kaggle image-colorization (uint8 8-bit Lab)")
        mark_layout(tmp, manifest)
        for f in tmp.rglob("*"):
            fsync_file(f) if f.is_file() else fsync_dir(f)
        replace_folder(tmp, dst)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dst


def mark_layout(folder, manifest: dict) -> None:
    """Write ``manifest.json`` and, last, the :data:`MARKER` into a dataset folder being written
    (a temporary one, renamed into place afterwards): the marker says deepcolor wrote it."""
    folder = Path(folder)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    (folder / MARKER).write_text(json.dumps({"layout_version": LAYOUT_VERSION}) + "\n")


def _own_file(rel: Path) -> bool:
    """Whether a path inside a dataset folder is one the layout (or the embedding cache) writes."""
    parts = rel.parts
    return (rel in (Path(MARKER), Path(MANIFEST), L_FILE, L_FILE.parent, AB_DIR.parent, AB_DIR, Path("embeddings"))
            or (rel.parent == AB_DIR and re.fullmatch(r"ab\d+\.npy", rel.name) is not None)
            or (len(parts) == 2 and parts[0] == "embeddings" and rel.suffix in (".npy", ".json")))


def why_not_replaceable(dst: Path) -> str | None:
    """Why ``overwrite=True`` must not replace ``dst``, or None if it may.

    Only an empty folder, or a folder that holds the :data:`MARKER` of a dataset deepcolor wrote
    and nothing but that layout's own files (and its embedding cache), may be replaced.  A link,
    a file, a folder without the marker or with any other file in it is refused.
    """
    if dst.is_symlink():
        return "it is a link; deepcolor replaces only a real folder it wrote (remove the link yourself)"
    if not dst.is_dir():
        return "it is a file, not a dataset folder"
    if not any(dst.iterdir()):
        return None
    if not (dst / MARKER).is_file():
        return f"it is not a dataset written by deepcolor (no {MARKER} marker file)"
    foreign = [str(p.relative_to(dst)) for p in sorted(dst.rglob("*")) if p.is_symlink() or not _own_file(p.relative_to(dst))]
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        return f"it holds files that are not part of a deepcolor dataset ({shown})"
    return None


def _write_arrays(tmp: Path, n: int, images, progress) -> int:
    """Stream images into memory-mapped scratch arrays, then cut them into the final files."""
    (tmp / L_FILE).parent.mkdir(parents=True)
    (tmp / AB_DIR).mkdir(parents=True)
    shape = (IMAGE_SIZE, IMAGE_SIZE)
    open_memmap = np.lib.format.open_memmap
    l8 = open_memmap(tmp / "l8.scratch.npy", "w+", np.uint8, (n,) + shape)
    ab8 = open_memmap(tmp / "ab8.scratch.npy", "w+", np.uint8, (n,) + shape + (2,))
    count = 0
    for L, ab in images:
        if count == n:
            break
        l8[count], ab8[count] = encode_lab8(L, ab)
        count += 1
        if progress is not None:
            progress(count, n)
    if count == 0:
        raise ValueError("no usable images: nothing to write (see the reasons reported above)")
    _copy_rows(l8, 0, count, tmp / L_FILE)
    for k, start in enumerate(range(0, count, AB_CHUNK), start=1):
        _copy_rows(ab8, start, min(start + AB_CHUNK, count), tmp / AB_DIR / f"ab{k}.npy")
    del l8, ab8
    (tmp / "l8.scratch.npy").unlink()
    (tmp / "ab8.scratch.npy").unlink()
    return count


def _copy_rows(src: np.ndarray, start: int, stop: int, path: Path, chunk: int = 1024) -> None:
    out = np.lib.format.open_memmap(path, "w+", src.dtype, (stop - start,) + src.shape[1:])
    for i in range(start, stop, chunk):
        out[i - start : min(i + chunk, stop) - start] = src[i : min(i + chunk, stop)]
    out.flush()
    del out
