"""Installing a classroom pack on a student's laptop, all or nothing (README: "Teaching this course").

:func:`use` is ``deepcolor classroom use`` (this module imports :mod:`deepcolor.classroom`, the
pack's format, never the other way round).  It works in three steps:

1. Read and hold.  The manifest is read and every file's presence and size checked.  The locks of
   the images folder (:func:`deepcolor.settings.classroom_dir`) and of Keras' cache are taken
   (:func:`deepcolor.locks.writer`; a second ``use`` is refused at once, naming the holder), and
   what killed runs left there is removed (``.classroom.partial-*`` folders,
   ``.<weights file>.*.partial`` files).  Anything at a target that is not ours to replace is
   refused, and the free space for the whole pack is checked.
2. Stage.  Every file is copied beside its target and checked against its SHA-256 on the way.
   The staged images are opened as the profile opens them, and their count is compared with the
   manifest and with the embeddings' shape (N, 1000) float32; the embeddings are stored into the
   staged folder's embedding cache.  Any failure here removes what was staged: nothing was
   installed.
3. Put in place.  The Keras files are linked into Keras' cache (never over a file that appeared
   meanwhile, unless it is the same file), then the images folder is swapped in with
   :func:`deepcolor.files.replace_folder`, which judges what is at the destination at that
   moment (only an earlier install is replaced).  If that fails, the Keras files just put there
   are removed again and the earlier install stays exactly as it was.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from . import settings, weights
from .classroom import MANIFEST, Installed, PackError, pack_role, read_manifest, sha256_file
from .config import PROFILES, Config
from .embedding_cache import store
from .embeddings import EMBEDDING_DIM
from .files import (check_space, fsync_dir, glob_escape, make_folder, partial_folder, replace_folder, sweep_partials,
                    umask)
from .lab_dataset import DatasetFormatError, open_layout
from .layout_writer import mark_layout, why_not_replaceable
from .locks import writer

NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK)
MAKE_AGAIN = "make the pack again with `deepcolor classroom pack`"


def use(pack_dir, report=None) -> Installed:
    """Check the classroom pack at ``pack_dir`` and install it on this machine, all or nothing.

    A missing, shorter or changed file, or parts that do not fit together (an image count other
    than the manifest's, L and ab rows that differ, embeddings of another shape), raise
    :class:`deepcolor.classroom.PackError` naming the file, before anything is put in place.
    Images go to :func:`deepcolor.settings.classroom_dir` (replacing only an earlier install),
    Keras files into Keras' cache (an identical file already there is kept; a different one is
    refused, never overwritten), embeddings into the images' embedding cache.  A second install
    at the same time raises :class:`deepcolor.locks.FolderBusyError`; too little free space,
    :class:`deepcolor.files.DiskFullError`.  report: called with one line per step (e.g.
    ``print``).  Returns :class:`deepcolor.classroom.Installed`.
    """
    pack_dir = Path(pack_dir)
    say = report or (lambda line: None)
    manifest = read_manifest(pack_dir)
    files = manifest["files"]
    for rel, entry in files.items():  # an incomplete pack fails before anything is read or written
        path = pack_dir / rel
        if not path.is_file():
            raise PackError(f"the classroom pack is incomplete: {path} is missing; copy the whole pack folder again")
        if path.stat().st_size != entry["bytes"]:
            raise PackError(f"the classroom pack is damaged: {path} has {path.stat().st_size} bytes, the manifest "
                            f"says {entry['bytes']}; copy the pack again")
    by_role = {role: sorted(rel for rel in files if pack_role(rel) == role)
               for role in ("kaggle", "keras", "embeddings")}
    images, keras_dir = settings.classroom_dir(), weights.keras_models_dir()
    with contextlib.ExitStack() as held:
        if by_role["kaggle"]:
            make_folder(images.parent)
            held.enter_context(writer(images, "a classroom install"))
            sweep_partials(images, say)
            if images.exists() or images.is_symlink():
                reason = why_not_replaceable(images)
                if reason:
                    raise FileExistsError(f"refusing to install the classroom pack into {images}: {reason}; "
                                          "move that folder away")
        if by_role["keras"]:
            make_folder(keras_dir)
            held.enter_context(writer(keras_dir, "a classroom install", inside=True))
            _sweep_keras(keras_dir, say)
        keras_todo = _keras_todo(by_role["keras"], files, keras_dir, say)
        _check_space([(images.parent, sum(files[rel]["bytes"] for rel in by_role["kaggle"] + by_role["embeddings"])),
                      (keras_dir, sum(files[rel]["bytes"] for rel, _ in keras_todo))], pack_dir)
        staged = []  # (partial file, target)
        tmp = partial_folder(images) if by_role["kaggle"] else None
        try:
            emb_path = _stage_images(pack_dir, manifest, by_role, tmp) if tmp is not None else None
            for rel, target in keras_todo:
                fd, part = tempfile.mkstemp(dir=keras_dir, prefix=f".{target.name}.{os.getpid()}-", suffix=".partial")
                os.close(fd)
                staged.append((Path(part), target))
                _check(pack_dir, files, rel, sha256_file(pack_dir / rel, copy_to=part))
                os.chmod(part, 0o666 & ~umask())
            say(f"checked {len(files)} files against {pack_dir / MANIFEST}")
            placed = _put_in_place(staged, files, keras_todo, tmp, images)
        finally:
            for part, _ in staged:
                part.unlink(missing_ok=True)
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)  # gone already when it was put in place
    if tmp is not None:
        say(f"images: {images}")
    for target in placed:
        say(f"Keras cache: {target}")
    if emb_path is not None:
        emb_path = images / emb_path.relative_to(tmp)
        say(f"embeddings: {emb_path}")
    return Installed(manifest["profile"], images if tmp is not None else None, placed, emb_path)


def _check(pack_dir: Path, files: dict, rel: str, got: str) -> None:
    if got != files[rel]["sha256"]:
        raise PackError(f"the classroom pack is damaged: {pack_dir / rel} does not match its SHA-256 in "
                        f"{MANIFEST}; copy the pack again")


def _sweep_keras(keras_dir: Path, say) -> None:
    """Remove the ``.<weights file>.*.partial`` files killed installs left in Keras' cache (its
    lock is held: nobody is writing them)."""
    for name in (weights.WEIGHTS_FILE, weights.CLASS_INDEX_FILE):
        for path in sorted(keras_dir.glob(f".{glob_escape(name)}.*.partial")):
            if path.is_file() or path.is_symlink():
                path.unlink(missing_ok=True)
                say(f"removed {path}, left by an earlier run that was stopped")


def _keras_todo(rels: list, files: dict, keras_dir: Path, say) -> list:
    """(pack file, target) of the Keras files to install: one already there is kept if it is the
    same file, and refused otherwise."""
    todo = []
    for rel in rels:
        target = keras_dir / Path(rel).name
        if target.exists() or target.is_symlink():
            if target.is_symlink() or not target.is_file() or sha256_file(target) != files[rel]["sha256"]:
                raise FileExistsError(f"{target} already exists and is not the pack's {target.name}; move it away "
                                      "(it may be an interrupted download) and run again")
            say(f"kept {target}: the same file is there already")
        else:
            todo.append((rel, target))
    return todo


def _check_space(wants: list, pack_dir: Path) -> None:
    """Check the free space for (folder, bytes) pairs, adding up those on the same disk."""
    by_disk = {}
    for folder, nbytes in wants:
        if nbytes:
            first, total = by_disk.get(os.stat(folder).st_dev, (folder, 0))
            by_disk[os.stat(folder).st_dev] = (first, total + nbytes)
    for folder, nbytes in by_disk.values():
        check_space(folder, nbytes, f"the classroom pack {pack_dir} ({settings.HOME_ENV} and KERAS_HOME choose "
                    "where it goes)")


def _stage_images(pack_dir: Path, manifest: dict, by_role: dict, tmp: Path) -> Path | None:
    """Copy and check the pack's images into ``tmp``, check that they fit the manifest and the
    embeddings, and store the embeddings in ``tmp``'s embedding cache.  Returns the cache's path
    (in ``tmp``), or None when the pack has no embeddings."""
    files = manifest["files"]
    for rel in by_role["kaggle"]:
        dst = tmp / rel.removeprefix("kaggle/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        _check(pack_dir, files, rel, sha256_file(pack_dir / rel, copy_to=dst))
    mark_layout(tmp, {"source": "kaggle", "n": manifest["images"],
                      "classroom_pack": {k: manifest.get(k) for k in ("profile", "created", "deepcolor")}})
    try:
        count = len(open_layout(tmp))
        ds = Config(PROFILES[manifest["profile"]], kaggle_dir=tmp).dataset()  # opened as the profile opens it
    except (DatasetFormatError, FileNotFoundError) as exc:
        raise PackError(f"the classroom pack's parts do not fit together: "
                        f"{str(exc).replace(str(tmp), str(pack_dir / 'kaggle'))}; {MAKE_AGAIN}") from None
    if count != manifest["images"]:
        raise PackError(f"the classroom pack's parts do not fit together: {pack_dir / MANIFEST} says "
                        f"{manifest['images']:,} images, {pack_dir / 'kaggle'} holds {count:,}; {MAKE_AGAIN}")
    emb_path = None
    if by_role["embeddings"]:
        emb = _read_embeddings(pack_dir, files, by_role["embeddings"][0], len(ds))
        provenance = dict(manifest.get("embeddings") or {}, source=f"classroom pack {pack_dir}")
        emb_path = store(ds, "imagenet", emb, provenance)
    for folder in (p for p in tmp.rglob("*") if p.is_dir()):
        fsync_dir(folder)
    return emb_path


def _read_embeddings(pack_dir: Path, files: dict, rel: str, n: int) -> np.ndarray:
    """The pack's embeddings, checked against the SHA-256 and against the (n, 1000) float32 that
    ``n`` images need."""
    path = pack_dir / rel
    data = path.read_bytes()
    _check(pack_dir, files, rel, hashlib.sha256(data).hexdigest())
    try:
        emb = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable array is a damaged pack
        raise PackError(f"the classroom pack is damaged: {path} is not a .npy array ({exc}); {MAKE_AGAIN}") from None
    if emb.dtype != np.float32 or emb.shape != (n, EMBEDDING_DIM):
        raise PackError(f"the classroom pack's parts do not fit together: {path} holds {emb.dtype} {emb.shape}, the "
                        f"pack's {n:,} images need float32 ({n}, {EMBEDDING_DIM}); {MAKE_AGAIN}")
    return emb


def _put_in_place(staged: list, files: dict, keras_todo: list, tmp: Path | None, images: Path) -> list:
    """Link the staged Keras files to their targets, then swap the images folder in; if anything
    fails, remove the Keras files put there.  Returns the Keras files put there."""
    sha = {target: files[rel]["sha256"] for rel, target in keras_todo}
    placed = []
    try:
        for part, target in staged:
            if _link_new(part, target, sha[target]):
                placed.append(target)
        if placed:
            fsync_dir(placed[0].parent)
        if tmp is not None:
            replace_folder(tmp, images, why_not=why_not_replaceable)
    except BaseException:
        for target in placed:
            target.unlink(missing_ok=True)
        raise
    return placed


def _link_new(part: Path, target: Path, sha256: str) -> bool:
    """Give the staged file ``part`` the name ``target`` if nothing is there (a hard link: it fails
    if a file appeared meanwhile).  Returns False when the same file appeared there (kept);
    FileExistsError when another did."""
    try:
        os.link(part, target)
        return True
    except FileExistsError:
        pass
    except OSError as exc:  # a file system without hard links: check, then rename
        if exc.errno not in NO_HARD_LINKS:
            raise
        if not (target.exists() or target.is_symlink()):
            os.replace(part, target)
            return True
    if target.is_file() and not target.is_symlink() and sha256_file(target) == sha256:
        return False
    raise FileExistsError(f"{target} appeared while the classroom pack was being installed and is not the pack's "
                          f"{target.name}; nothing was installed: move it away and run again")
