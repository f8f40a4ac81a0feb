"""Classroom packs: what a profile downloads, prepared once by the teacher, used on every laptop.

Introduced in the README's "Teaching this course" (``deepcolor classroom pack`` and ``use``).

:func:`pack` runs once, on a machine with internet.  It writes one folder holding exactly what the
profile needs offline, and nothing else::

    OUT/classroom-pack.json           the manifest: profile, image count, every file's size and SHA-256
    OUT/kaggle/l/gray_scale.npy       the profile's Kaggle images, in the Kaggle layout
    OUT/kaggle/ab/ab/ab1.npy ...      (uint8, see deepcolor.lab_dataset)
    OUT/keras/<weights>.h5            Inception-ResNet-v2's ImageNet weights (215 MB)
    OUT/keras/imagenet_class_index.json   the ImageNet class names (notebook 03's top labels)
    OUT/embeddings/imagenet.npy       (N, 1000) float32, the embeddings of those images

:func:`deepcolor.classroom_install.use` runs on each student's laptop.  It puts the images into :func:`deepcolor.settings.classroom_dir` (where
:func:`deepcolor.data.find_local_kaggle` looks), the Keras files into Keras' cache
(:func:`deepcolor.weights.keras_models_dir`) and the embeddings into the images' embedding cache
(:func:`deepcolor.embedding_cache.store`).  After that the profile runs with no network and no
fallback, and its embeddings are read, not computed.

What both promise:

- all or nothing: ``use`` checks every file against the manifest and that the parts fit together
  (image count, L and ab rows, the embeddings' shape) before anything is put in place, and puts an
  earlier install back if putting the new one in place fails; a failed ``pack`` leaves no pack;
- one writer at a time: ``pack`` holds the lock of OUT, ``use`` those of the images folder and of
  Keras' cache (:func:`deepcolor.locks.writer`); a second one is refused at once, naming the
  holder, and what killed runs left behind (partial folders, ``.partial`` weight files) is removed;
- nothing of the user's is overwritten: a pack replaces only an earlier pack (``force=True``), an
  install only an earlier install, judged again at the moment of the swap
  (:func:`deepcolor.files.replace_folder`); a Keras file already there is kept if it is the same
  file and otherwise refused, even one that appears while ``use`` runs;
- the free space is checked before the first byte is copied (:class:`deepcolor.files.DiskFullError`);
- every error is one line naming the file, the cause and the fix (:class:`PackError` for a pack
  that is damaged, incomplete or does not fit together).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import __version__, weights
from .config import PROFILES, load, profile_name
from .embedding_cache import dataset_embeddings
from .embeddings import EMBEDDING_DIM, INPUT_SIZE
from .files import (check_space, fsync_dir, fsync_file, make_folder, partial_folder, read_json, replace_folder,
                    reserve, sweep_partials, why_not_ours, write_json)
from .lab_dataset import AB_CHUNK, AB_DIR, L_FILE
from .locks import writer

MANIFEST = "classroom-pack.json"
FORMAT = "deepcolor classroom pack"
FORMAT_VERSION = 1
CHUNK_BYTES = 1 << 20
NPY_HEADER = 128  # bytes before a .npy file's data (numpy writes 128 for these shapes)


class PackError(ValueError):
    """A classroom pack that cannot be used: a file missing, damaged or unexpected, or parts that do
    not fit together (the message names the file and what to do)."""


class Installed(NamedTuple):
    """What :func:`use` installed: the profile, the image folder, the Keras files and the
    embedding cache (None where the pack has none)."""

    profile: str
    images: Path | None
    keras_files: list
    embeddings: Path | None


def needs(profile) -> tuple:
    """What a pack for ``profile`` (a :class:`deepcolor.config.Profile`) holds: ``"kaggle"`` (its
    Kaggle images) if it trains on Kaggle data, ``"keras"`` (weights and class names) and
    ``"embeddings"`` if it embeds with ImageNet weights.  A profile that downloads nothing (smoke)
    raises ValueError: it needs no pack."""
    parts = (("kaggle",) if profile.data == "kaggle" else ()) + \
        (("keras", "embeddings") if profile.embedding_mode == "imagenet" else ())
    if not parts:
        raise ValueError(f"the {profile.name} profile downloads nothing (built-in sample, {profile.embedding_mode} "
                         "embedder): it runs offline without a pack; pack a profile that downloads, e.g. default")
    return parts


def pack_role(rel: str) -> str | None:
    """Which part of a pack a relative path (``"kaggle/ab/ab/ab1.npy"``) belongs to, or None if a
    pack never holds such a file."""
    top, _, rest = rel.partition("/")
    if top == "kaggle" and (rest == L_FILE.as_posix() or re.fullmatch(rf"{AB_DIR.as_posix()}/ab\d+\.npy", rest)):
        return "kaggle"
    if top == "keras" and rest in (weights.WEIGHTS_FILE, weights.CLASS_INDEX_FILE):
        return "keras"
    if top == "embeddings" and rest == "imagenet.npy":
        return "embeddings"
    return None


def sha256_file(path, copy_to=None) -> str:
    """SHA-256 of a file's bytes, read a megabyte at a time; with ``copy_to``, the bytes are also
    written there (and flushed to disk), so a copy is checked by the same single read."""
    digest = hashlib.sha256()
    with open(path, "rb") as src, (open(copy_to, "wb") if copy_to is not None else contextlib.nullcontext()) as dst:
        while chunk := src.read(CHUNK_BYTES):
            digest.update(chunk)
            if dst is not None:
                dst.write(chunk)
        if dst is not None:
            dst.flush()
            os.fsync(dst.fileno())
    return digest.hexdigest()


PACK_FOLDERS = {"kaggle", "kaggle/l", "kaggle/ab", "kaggle/ab/ab", "keras", "embeddings"}


def why_not_replaceable_pack(out: Path) -> str | None:
    """Why ``force=True`` must not replace ``out``, or None if it may: only an empty folder or an
    earlier pack (its manifest and nothing but pack files) may be replaced."""
    return why_not_ours(out, "classroom pack", MANIFEST, lambda rel: rel.as_posix() in PACK_FOLDERS or
                        rel.as_posix() == MANIFEST or pack_role(rel.as_posix()) is not None)


def _why_not_pack(out: Path, force: bool) -> str | None:
    """:func:`why_not_replaceable_pack`, and without ``force`` an earlier pack is kept too."""
    reason = why_not_replaceable_pack(out)
    if reason:
        return f"{reason}; choose a new or empty folder"
    if not force and any(out.iterdir()):
        return "it already holds a classroom pack; pass force=True to replace it"
    return None


# ----------------------------------------------------------------------------- the teacher's side


def pack(out, profile: str = "default", force: bool = False, progress=None, embedder=None) -> Path:
    """Write a classroom pack for ``profile`` into the folder ``out`` (README: "Teaching this course").

    Needs what the profile downloads, here or downloadable: the Kaggle images (``$DEEPCOLOR_KAGGLE_DIR``,
    kagglehub's cache, or a download) and the ImageNet weights; a fallback raises RuntimeError.
    The embeddings are the profile's own (:meth:`deepcolor.config.Config.embeddings`, computed
    once and cached as usual; ``embedder`` reuses an already built
    :class:`deepcolor.embeddings.Embedder`).  ``out`` must be new or empty; an earlier pack is
    replaced only with ``force=True``, anything else never, judged again when the finished pack
    is swapped in (whatever appeared at ``out`` meanwhile).  The lock of ``out`` is held
    throughout: a second ``pack`` into it is refused at once (:class:`deepcolor.locks.FolderBusyError`)
    and the partial folders of killed ones are removed.  The free space is checked before writing
    (:class:`deepcolor.files.DiskFullError`).  progress: ``progress(done, total)`` while
    embedding.  Returns ``out``.
    """
    name = profile_name(profile)
    parts = needs(PROFILES[name])
    out = Path(out)
    make_folder(out.parent)
    with writer(out, "a classroom pack"):
        sweep_partials(out)
        reason = _why_not_pack(out, force) if out.exists() or out.is_symlink() else None
        if reason:
            raise FileExistsError(f"refusing to write a pack into {out}: {reason}")
        cfg = load(name, download=True)
        if cfg.fallbacks:
            raise RuntimeError(f"cannot pack the {name} profile on this machine: " + "; ".join(cfg.fallbacks))
        ds = cfg.dataset()
        keras_files = [(fname, weights.fetch(fname, url, md5, None, what))
                       for fname, url, md5, what in (_keras_files() if "keras" in parts else [])]
        n, size = len(ds), ds.image_size
        needed = (3 * n * size * size + (2 + -(-n // AB_CHUNK)) * NPY_HEADER if "kaggle" in parts else 0) + \
            sum(path.stat().st_size for _, path in keras_files) + \
            (4 * n * EMBEDDING_DIM + NPY_HEADER if "embeddings" in parts else 0)
        check_space(out.parent, needed, f"a classroom pack of {n:,} images")
        tmp = partial_folder(out)
        try:
            _write_pack(tmp, cfg, ds, parts, keras_files, embedder, progress)
            replace_folder(tmp, out, why_not=lambda old: _why_not_pack(old, force))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # gone already when it was put in place
    return out


def _write_pack(tmp: Path, cfg, ds, parts: tuple, keras_files: list, embedder, progress) -> None:
    """Write the pack's files and, last, its manifest into the partial folder ``tmp``."""
    if "kaggle" in parts:
        write_images(ds, tmp / "kaggle")
    if keras_files:
        (tmp / "keras").mkdir()
        for fname, path in keras_files:
            shutil.copyfile(path, tmp / "keras" / fname)
    emb_meta = None
    if "embeddings" in parts:
        emb = dataset_embeddings(ds, cfg.embedding_mode, embedder=embedder, progress=progress)
        (tmp / "embeddings").mkdir()
        with open(tmp / "embeddings" / "imagenet.npy", "wb") as f:
            np.save(f, np.asarray(emb, np.float32), allow_pickle=False)
        emb_meta = _embedding_provenance()
    files = {}
    for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
        files[path.relative_to(tmp).as_posix()] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        fsync_file(path)
    for folder in (p for p in tmp.rglob("*") if p.is_dir()):
        fsync_dir(folder)
    write_json(tmp / MANIFEST, {
        "format": FORMAT, "format_version": FORMAT_VERSION, "profile": cfg.name, "images": len(ds),
        "deepcolor": __version__, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "embeddings": emb_meta, "files": files,
    })


def _keras_files():
    """(file name, URL, MD5, what) of the Keras downloads a pack carries, read when called (so the
    values in :mod:`deepcolor.weights` are the ones used)."""
    return [(weights.WEIGHTS_FILE, weights.WEIGHTS_URL, weights.WEIGHTS_MD5,
             "The ImageNet weights of Inception-ResNet-v2 are"),
            (weights.CLASS_INDEX_FILE, weights.CLASS_INDEX_URL, weights.CLASS_INDEX_MD5, "The ImageNet class names are")]


def _embedding_provenance() -> dict:
    import keras

    return {"mode": "imagenet", "keras_version": keras.__version__, "backend": keras.backend.backend(),
            "input_size": INPUT_SIZE}


def write_images(ds, root, batch: int = 256) -> Path:
    """Write a dataset's uint8 arrays, as stored, into a new folder ``root`` in the Kaggle layout:
    ``l/gray_scale.npy`` (N, 224, 224) and ``ab/ab/ab1.npy, ab2.npy, ...`` (10,000 images each,
    as the Kaggle set).  Reads ``batch`` images at a time, never the whole set.  Each file's disk
    blocks are allocated before it is written (a full disk raises DiskFullError, not SIGBUS)."""
    root = Path(root)
    (root / AB_DIR).mkdir(parents=True)
    (root / L_FILE).parent.mkdir(parents=True, exist_ok=True)
    n, size = len(ds), ds.image_size

    def new_array(path: Path, shape: tuple):
        out = np.lib.format.open_memmap(path, "w+", np.uint8, shape)
        reserve(path, path.stat().st_size, f"{path.name} of the classroom pack")
        return out

    l_out = new_array(root / L_FILE, (n, size, size))
    for k, first in enumerate(range(0, n, AB_CHUNK), start=1):
        last = min(first + AB_CHUNK, n)
        ab_out = new_array(root / AB_DIR / f"ab{k}.npy", (last - first, size, size, 2))
        for start in range(first, last, batch):
            stop = min(start + batch, last)
            l8, ab8 = ds.batch_raw(np.arange(start, stop))
            l_out[start:stop], ab_out[start - first:stop - first] = l8, ab8
        ab_out.flush()
        del ab_out
    l_out.flush()
    del l_out
    return root


# ----------------------------------------------------------------------------- the student's side


def read_manifest(pack_dir) -> dict:
    """The manifest of the pack at ``pack_dir``, checked for form: PackError names what is wrong."""
    pack_dir = Path(pack_dir)
    path = pack_dir / MANIFEST
    if not pack_dir.is_dir():
        raise PackError(f"{pack_dir} is not a folder: give the folder that `deepcolor classroom pack` wrote")
    if not path.is_file():
        raise PackError(f"{pack_dir} is not a classroom pack: it has no {MANIFEST} (the pack is incomplete, or "
                        "this is another folder); copy the whole pack folder again")
    manifest = read_json(path, "the classroom pack's manifest")  # a damaged one, even nested past any limit: named
    if not (isinstance(manifest, dict) and manifest.get("format") == FORMAT and isinstance(manifest.get("files"), dict)):
        raise PackError(f"{path} is not a classroom pack manifest; copy the whole pack folder again")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise PackError(f"{path} is a pack of format {_short(manifest.get('format_version'))}, this deepcolor reads "
                        f"format {FORMAT_VERSION}: make the pack with the same deepcolor version as the students use")
    profile = manifest.get("profile")
    if not (isinstance(profile, str) and profile in PROFILES and profile != "smoke"):
        raise PackError(f"{path} names {_short(profile)} as its profile, not one of "
                        f"{', '.join(p for p in PROFILES if p != 'smoke')}: the manifest is damaged; copy the pack "
                        "again, or make it again with `deepcolor classroom pack --profile NAME`")
    images = manifest.get("images")
    if type(images) is not int or images < 1 or not isinstance(manifest.get("embeddings") or {}, dict):
        raise PackError(f"{path} is damaged: its image count {_short(images)} (or its embeddings' record) is not "
                        "what `deepcolor classroom pack` writes; copy the pack again")
    roles = set()
    for rel, entry in manifest["files"].items():
        role = pack_role(rel)
        if role is None:
            raise PackError(f"{path} lists {_short(rel)}, which no classroom pack holds; copy the pack again")
        if not (isinstance(entry, dict) and type(entry.get("bytes")) is int and isinstance(entry.get("sha256"), str)):
            raise PackError(f"{path} is damaged: its entry for {rel!r} has no size and SHA-256; copy the pack again")
        roles.add(role)
    missing = sorted(set(needs(PROFILES[profile])) - roles)
    if "kaggle" in roles and f"kaggle/{L_FILE.as_posix()}" not in manifest["files"]:
        missing.append(f"kaggle/{L_FILE.as_posix()}")
    if missing:
        raise PackError(f"{path} lists no {', '.join(missing)} files: the pack is incomplete; make it again "
                        "with `deepcolor classroom pack`")
    return manifest


def _short(value) -> str:
    """``repr(value)``, cut to 60 characters: what a message quotes of a damaged manifest."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
