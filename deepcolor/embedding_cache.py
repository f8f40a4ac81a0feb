"""Embeddings of a whole dataset, computed once and cached on disk next to it (notebook 03).

:func:`dataset_embeddings` runs an :class:`~deepcolor.embeddings.Embedder` over a dataset batch by
batch and keeps the (N, 1000) result in ``<dataset>/embeddings/<mode>-<fingerprint hash>.npy``
with a JSON sidecar.  The cache is used only while the sidecar still describes the same data,
mode, shape and (for untrained weights) seed, and the array still has the SHA-256 checksum the
sidecar records; otherwise it is computed again.  A cache that cannot be read at all (a damaged
header, bytes overwritten in place) is rebuilt with a warning, never used and never a crash.
Files are written under temporary names, flushed and renamed (:mod:`deepcolor.files`), so an
interrupted run never leaves a cache that looks valid.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .embeddings import EMBEDDING_DIM, INPUT_SIZE, Embedder, check_mode
from .files import atomic_write, write_json

CACHE_FORMAT = 2  # bump when preprocessing or the sidecar changes, so that old caches are rebuilt


def cache_path(dataset, mode: str, cache_dir=None):
    """Where :func:`dataset_embeddings` caches ``mode`` for ``dataset``, or None (notebook 03).

    ``cache_dir / "<mode>-<fingerprint hash>.npy"`` when ``cache_dir`` is given, else
    ``dataset.root / "embeddings" / "<mode>-<fingerprint hash>.npy"``: the hash keeps a subset
    (e.g. the first 2,000 Kaggle images) from overwriting the whole set's file.  None for an in-memory
    dataset (root None) without ``cache_dir``, and for mode ``"none"``.
    """
    if check_mode(mode) == "none":
        return None
    blob = json.dumps(dataset.fingerprint(), sort_keys=True).encode()
    name = f"{mode}-{hashlib.sha256(blob).hexdigest()[:12]}.npy"  # a subset gets its own file
    if cache_dir is not None:
        return Path(cache_dir) / name
    root = getattr(dataset, "root", None)
    return Path(root) / "embeddings" / name if root is not None else None


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _matches(meta: dict, expected: dict) -> bool:
    return all(meta.get(key) == value for key, value in expected.items())


def checksum(arr: np.ndarray, chunk_rows: int = 4096) -> str:
    """SHA-256 of an array's bytes, read ``chunk_rows`` rows at a time (a memory map stays small)."""
    digest = hashlib.sha256()
    for start in range(0, len(arr), chunk_rows):
        digest.update(np.ascontiguousarray(arr[start:start + chunk_rows]).tobytes())
    return digest.hexdigest()


def _load_cache(path: Path, expected: dict):
    """The cached array if its sidecar matches ``expected`` and the array is intact, else None.

    A sidecar for other data or settings means "stale" (silently rebuilt); a cache for this data
    that cannot be read or fails its checksum means "damaged": rebuilt with a warning.
    """
    sidecar = _sidecar(path)
    if not (path.is_file() and sidecar.is_file()):
        return None
    try:
        meta = json.loads(sidecar.read_text())
        if not (isinstance(meta, dict) and _matches(meta, expected)):
            return None
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
        if arr.dtype != np.float32 or list(arr.shape) != expected["shape"]:
            raise ValueError(f"it holds {arr.dtype} {arr.shape}, not float32 {tuple(expected['shape'])}")
        if checksum(arr) != meta.get("sha256"):
            raise ValueError("its bytes no longer match the checksum recorded when it was written")
    except Exception as exc:  # any damage at all means: compute again
        warnings.warn(f"the embedding cache {path} is damaged ({type(exc).__name__}: {exc}); computing it again",
                      stacklevel=3)
        return None
    return arr


def _expected(dataset, mode: str, seed: int) -> dict:
    """What a cache's sidecar must record for it to be used for ``dataset`` in ``mode``."""
    expected = {
        "fingerprint": json.loads(json.dumps(dataset.fingerprint())),
        "mode": mode,
        "shape": [len(dataset), EMBEDDING_DIM],
        "format": CACHE_FORMAT,
    }
    if mode == "untrained":
        expected["seed"] = seed
    return expected


def store(dataset, mode: str, embeddings, provenance: dict, seed: int = 0) -> Path:
    """Make ``embeddings`` computed elsewhere the cache of ``dataset`` in ``mode``, so that
    :func:`dataset_embeddings` returns them instead of computing them (a classroom pack's,
    :mod:`deepcolor.classroom`; the README's "Teaching this course").

    dataset: a dataset on disk (``root`` set).  embeddings: (len(dataset), 1000) float32, computed
    from the same images in the same mode (for ``"untrained"``, with weights of ``seed``).
    provenance: what to record about where they came from (Keras version, backend, ...).
    Written like a computed cache (array first, sidecar last, both atomic).  Returns the array's path.
    """
    mode = check_mode(mode)
    arr = np.ascontiguousarray(embeddings)
    if arr.dtype != np.float32 or arr.shape != (len(dataset), EMBEDDING_DIM):
        raise ValueError(f"expected float32 embeddings of shape ({len(dataset)}, {EMBEDDING_DIM}) for this dataset, "
                         f"got {arr.dtype} {arr.shape}")
    path = cache_path(dataset, mode)
    if path is None:
        raise ValueError("only a dataset on disk (with a root folder) has an embedding cache; mode 'none' has none")
    path.parent.mkdir(parents=True, exist_ok=True)
    _sidecar(path).unlink(missing_ok=True)
    meta = dict(_expected(dataset, mode, seed), untrained=mode == "untrained", **provenance)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, arr, allow_pickle=False)

    atomic_write(path, write)
    meta["sha256"] = checksum(np.load(path, mmap_mode="r"))
    write_json(_sidecar(path), meta)
    return path


def _compute_to_file(path: Path, dataset, embedder: Embedder, meta: dict, progress) -> None:
    """Write the embeddings with :func:`deepcolor.files.atomic_write`, then the sidecar (last:
    until it is there the cache is not valid)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _sidecar(path).unlink(missing_ok=True)  # from here on the old cache is invalid

    def write(tmp: Path) -> None:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(dataset), EMBEDDING_DIM))
        _fill(out, dataset, embedder, progress)
        out.flush()
        meta["sha256"] = checksum(out)

    atomic_write(path, write)
    write_json(_sidecar(path), meta)


def _fill(out, dataset, embedder: Embedder, progress) -> None:
    def read(start, stop):
        return dataset.batch(np.arange(start, stop))[0]

    embedder.embed_into(out, read, progress)


def dataset_embeddings(dataset, mode: str = "imagenet", batch_size: int = 16, cache_dir=None,
                       progress=None, embedder: Embedder | None = None,
                       rebuild: bool = False) -> np.ndarray:
    """Embeddings of every image of a dataset, computed once and cached on disk (notebook 03).

    dataset: has ``len``, ``batch(indices) -> (L (n, H, W) in [0, 100], ab)``, ``root`` and
    ``fingerprint()``; it is read ``batch_size`` images at a time, never whole.
    mode: see :data:`MODES`.  cache_dir: where to cache (default: next to the dataset, see
    :func:`cache_path`; in-memory datasets without ``cache_dir`` are not cached).
    embedder: reuse an already built :class:`Embedder` of the same mode (else one is made).
    rebuild: recompute even if a valid cache exists.

    Returns (N, 1000) float32: the cache opened read-only as a memory map (zeros for ``"none"``).
    A cache is used only if its JSON sidecar records the same dataset fingerprint, mode, shape,
    format (and seed, for ``"untrained"``); otherwise it is recomputed.  Files are written to a
    temporary name and renamed, so an interrupted run never leaves a cache that looks valid.
    """
    mode = check_mode(mode)
    n = len(dataset)
    if mode == "none":
        return np.zeros((n, EMBEDDING_DIM), np.float32)
    if embedder is None:
        embedder = Embedder(mode, batch_size=batch_size)
    elif embedder.mode != mode:
        raise ValueError(f"embedder is in mode {embedder.mode!r} but mode={mode!r} was asked for")

    expected = _expected(dataset, mode, embedder.seed)
    path = cache_path(dataset, mode, cache_dir)
    if path is not None and not rebuild:
        cached = _load_cache(path, expected)
        if cached is not None:
            return cached

    embedder.build()  # fail before touching any file if the weights are missing
    if path is not None:
        import keras

        meta = dict(expected, untrained=not embedder.trained, keras_version=keras.__version__,
                    backend=keras.backend.backend(), input_size=INPUT_SIZE,
                    created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        try:
            _compute_to_file(path, dataset, embedder, meta, progress)
            return np.load(path, mmap_mode="r")
        except OSError as err:
            warnings.warn(
                f"cannot write the embedding cache {path} ({err}); the embeddings are computed without being "
                f"kept, so the next run computes them again. To keep them, make {path.parent} writable, or copy "
                "the dataset into a folder you can write to.",
                stacklevel=2,
            )
    out = np.zeros((n, EMBEDDING_DIM), np.float32)
    _fill(out, dataset, embedder, progress)
    return out
