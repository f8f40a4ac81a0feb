"""Writing a dataset in the Kaggle layout (:mod:`deepcolor.lab_dataset`), as its one writer,
without ever losing what is already there.

Introduced in notebook ``02_dataset`` (the sample and ``deepcolor data folder`` write through it).
:func:`write_layout` holds the folder's lock, checks the free space, writes into a partial folder
and swaps it into place; only a folder deepcolor wrote may be replaced (:func:`why_not_replaceable`).
"""

from __future__ import annotations

import errno
import json
import re
import shutil
from pathlib import Path

import numpy as np

from .color import encode_lab8
from .files import (check_space, disk_full, fsync_dir, fsync_file, make_folder, partial_folder, replace_folder, reserve,
                    sweep_partials, why_not_ours)
from .lab_dataset import AB_CHUNK, AB_DIR, IMAGE_SIZE, L_FILE, LAYOUT_VERSION, MANIFEST, MARKER
from .locks import writer


def write_layout(dst, n: int, images, manifest: dict, overwrite: bool = False, progress=None, wait: float = 0) -> Path:
    """Write ``n`` images into ``dst`` in the Kaggle layout, atomically, as its one writer.

    images: an iterator of (L, ab) pairs in Lab units (224, 224) and (224, 224, 2); it may yield
    fewer than ``n`` (skipped inputs), and the arrays are trimmed to what arrived.
    The lock of ``dst`` (:func:`deepcolor.locks.writer`) is held throughout: a second writer is
    refused at once (or waits ``wait`` seconds, as the sample's cache does).  Everything is written
    into a partial folder beside ``dst``, after checking the free space, and renamed to ``dst``
    only when complete (every file flushed to disk), so a failure half-way, a full disk or a
    SIGTERM never leaves a dataset that looks whole; the partial folders of killed writers are
    removed.  An existing ``dst`` is replaced only with ``overwrite=True``, and only if it is an
    empty folder or a dataset deepcolor wrote that holds nothing else (see :func:`why_not_replaceable`),
    judged again at the moment of the swap (:func:`deepcolor.files.replace_folder`): a folder
    with any file of yours in it is never deleted.  Returns ``dst``.
    """
    dst = Path(dst)
    if dst.exists() or dst.is_symlink():
        _refuse_early(dst, overwrite)
    make_folder(dst.parent)
    with writer(dst, "a dataset", wait=wait):
        if (dst.exists() or dst.is_symlink()) and wait:
            _refuse_early(dst, overwrite)  # a waiting writer finds what the one before it wrote
        sweep_partials(dst)
        needed, what = 2 * n * IMAGE_SIZE * IMAGE_SIZE * 3, f"{n:,} images of 224x224 (with scratch space)"
        check_space(dst.parent, needed, what)
        tmp = partial_folder(dst)
        try:
            count = _write_arrays(tmp, n, images, progress)
            manifest = dict(manifest, n=count, layout="kaggle image-colorization (uint8 8-bit Lab)")
            mark_layout(tmp, manifest)
            for f in tmp.rglob("*"):
                fsync_file(f) if f.is_file() else fsync_dir(f)
            replace_folder(tmp, dst, why_not=lambda old: _why_not(old, overwrite))
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # a write of the system's names no file
                raise disk_full(dst.parent, needed, what) from None
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # gone already when it was put in place
    return dst


def _why_not(dst: Path, overwrite: bool) -> str | None:
    if not overwrite:
        return "it already exists; pass overwrite=True (--force on the command line) to replace it"
    return why_not_replaceable(dst)


def _refuse_early(dst: Path, overwrite: bool) -> None:
    """Refuse, before any work, to write over ``dst`` (which exists) when it may not be replaced."""
    if not overwrite:
        raise FileExistsError(f"{dst} already exists; pass overwrite=True (--force on the command line) to replace it")
    reason = why_not_replaceable(dst)
    if reason:
        raise FileExistsError(f"refusing to replace {dst}, even with overwrite=True (--force): {reason}; "
                              "choose a new folder")


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
    return why_not_ours(dst, "dataset", MARKER, _own_file)


def _write_arrays(tmp: Path, n: int, images, progress) -> int:
    """Stream images into memory-mapped scratch arrays, then cut them into the final files."""
    (tmp / L_FILE).parent.mkdir(parents=True)
    (tmp / AB_DIR).mkdir(parents=True)
    shape = (IMAGE_SIZE, IMAGE_SIZE)
    l8 = _reserved_memmap(tmp / "l8.scratch.npy", (n,) + shape)
    ab8 = _reserved_memmap(tmp / "ab8.scratch.npy", (n,) + shape + (2,))
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
    out = _reserved_memmap(path, (stop - start,) + src.shape[1:])
    for i in range(start, stop, chunk):
        out[i - start : min(i + chunk, stop) - start] = src[i : min(i + chunk, stop)]
    out.flush()
    del out


def _reserved_memmap(path: Path, shape: tuple) -> np.ndarray:
    """A new uint8 .npy file of ``shape``, memory-mapped for writing, with its disk blocks
    allocated first (:func:`deepcolor.files.reserve`): a full disk raises DiskFullError here
    instead of killing the process with SIGBUS at some later write."""
    out = np.lib.format.open_memmap(path, "w+", np.uint8, shape)
    reserve(path, path.stat().st_size, path.name)
    return out
