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

:func:`use` runs on each student's laptop.  It checks every file against the manifest while
copying it (a missing or damaged file raises :class:`PackError` naming it, and nothing is
installed), then puts the images into :func:`deepcolor.settings.classroom_dir` (where
:func:`deepcolor.data.find_local_kaggle` looks), the Keras files into Keras' cache
(:func:`deepcolor.weights.keras_models_dir`) and the embeddings into the images' embedding cache
(:func:`deepcolor.embedding_cache.store`).  After that the profile runs with no network and no
fallback, and its embeddings are read, not computed.

Nothing of the user's is overwritten: a pack replaces only an earlier pack (``force=True``), an
install only an earlier install, and a Keras file already there is kept if it is the same file
and otherwise refused.  Every folder is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import __version__, settings, weights
from .config import PROFILES, Config, load, profile_name
from .files import fsync_dir, fsync_file, make_folder, read_json, replace_folder, write_json
from .lab_dataset import AB_CHUNK, AB_DIR, L_FILE
from .layout_writer import mark_layout, why_not_replaceable

MANIFEST = "classroom-pack.json"
FORMAT = "deepcolor classroom pack"
FORMAT_VERSION = 1
CHUNK_BYTES = 1 << 20


class PackError(ValueError):
    """A classroom pack that cannot be used: a file missing, damaged or unexpected (the message names it)."""


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


# ----------------------------------------------------------------------------- the teacher's side


def why_not_replaceable_pack(out: Path) -> str | None:
    """Why ``force=True`` must not replace ``out``, or None if it may: only an empty folder or an
    earlier pack (its manifest and nothing but pack files) may be replaced."""
    if out.is_symlink():
        return "it is a link; deepcolor replaces only a real folder it wrote (remove the link yourself)"
    if not out.is_dir():
        return "it is a file, not a pack folder"
    if not any(out.iterdir()):
        return None
    if not (out / MANIFEST).is_file():
        return f"it is not a classroom pack (no {MANIFEST})"
    foreign = [p.relative_to(out).as_posix() for p in sorted(out.rglob("*"))
               if p.is_symlink() or (p.is_file() and p.name != MANIFEST and pack_role(p.relative_to(out).as_posix()) is None)]
    if foreign:
        return f"it holds files that are not part of a classroom pack ({', '.join(foreign[:3])})"
    return None


def pack(out, profile: str = "default", force: bool = False, progress=None, embedder=None) -> Path:
    """Write a classroom pack for ``profile`` into the folder ``out`` (README: "Teaching this course").

    Needs what the profile downloads, here or downloadable: the Kaggle images (``$DEEPCOLOR_KAGGLE_DIR``,
    kagglehub's cache, or a download) and the ImageNet weights; a fallback raises RuntimeError.
    The embeddings are the profile's own (:meth:`deepcolor.config.Config.embeddings`, computed
    once and cached as usual; ``embedder`` reuses an already built
    :class:`deepcolor.embeddings.Embedder`).  ``out`` must be new or empty; an earlier pack is
    replaced only with ``force=True``, anything else never.  Written under a temporary name and
    renamed when complete.  progress: ``progress(done, total)`` while embedding.  Returns ``out``.
    """
    name = profile_name(profile)
    parts = needs(PROFILES[name])
    out = Path(out)
    if out.exists() or out.is_symlink():
        reason = why_not_replaceable_pack(out)
        if reason:
            raise FileExistsError(f"refusing to write a pack into {out}: {reason}; choose a new or empty folder")
        if any(out.iterdir()) and not force:
            raise FileExistsError(f"{out} already holds a classroom pack; pass force=True to replace it")
    cfg = load(name, download=True)
    if cfg.fallbacks:
        raise RuntimeError(f"cannot pack the {name} profile on this machine: " + "; ".join(cfg.fallbacks))
    ds = cfg.dataset()
    make_folder(out.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    os.chmod(tmp, 0o755)
    try:
        if "kaggle" in parts:
            write_images(ds, tmp / "kaggle")
        if "keras" in parts:
            (tmp / "keras").mkdir()
            for fname, url, md5, what in _keras_files():
                shutil.copyfile(weights.fetch(fname, url, md5, None, what), tmp / "keras" / fname)
        emb_meta = None
        if "embeddings" in parts:
            from .embedding_cache import dataset_embeddings

            emb = dataset_embeddings(ds, cfg.embedding_mode, embedder=embedder, progress=progress)
            (tmp / "embeddings").mkdir()
            with open(tmp / "embeddings" / "imagenet.npy", "wb") as f:
                np.save(f, np.asarray(emb, np.float32), allow_pickle=False)
            emb_meta = _embedding_provenance()
        files = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            rel = path.relative_to(tmp).as_posix()
            files[rel] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
            fsync_file(path)
        for folder in (p for p in tmp.rglob("*") if p.is_dir()):
            fsync_dir(folder)
        write_json(tmp / MANIFEST, {
            "format": FORMAT, "format_version": FORMAT_VERSION, "profile": name, "images": len(ds),
            "deepcolor": __version__, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "embeddings": emb_meta, "files": files,
        })
        replace_folder(tmp, out, why_not=why_not_replaceable_pack)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _keras_files():
    """(file name, URL, MD5, what) of the Keras downloads a pack carries, read when called (so the
    values in :mod:`deepcolor.weights` are the ones used)."""
    return [(weights.WEIGHTS_FILE, weights.WEIGHTS_URL, weights.WEIGHTS_MD5,
             "The ImageNet weights of Inception-ResNet-v2 are"),
            (weights.CLASS_INDEX_FILE, weights.CLASS_INDEX_URL, weights.CLASS_INDEX_MD5, "The ImageNet class names are")]


def _embedding_provenance() -> dict:
    import keras

    from .embeddings import INPUT_SIZE

    return {"mode": "imagenet", "keras_version": keras.__version__, "backend": keras.backend.backend(),
            "input_size": INPUT_SIZE}


def write_images(ds, root, batch: int = 256) -> Path:
    """Write a dataset's uint8 arrays, as stored, into a new folder ``root`` in the Kaggle layout:
    ``l/gray_scale.npy`` (N, 224, 224) and ``ab/ab/ab1.npy, ab2.npy, ...`` (10,000 images each,
    as the Kaggle set).  Reads ``batch`` images at a time, never the whole set."""
    root = Path(root)
    (root / AB_DIR).mkdir(parents=True)
    (root / L_FILE).parent.mkdir(parents=True, exist_ok=True)
    n, size = len(ds), ds.image_size
    open_memmap = np.lib.format.open_memmap
    l_out = open_memmap(root / L_FILE, "w+", np.uint8, (n, size, size))
    for k, first in enumerate(range(0, n, AB_CHUNK), start=1):
        last = min(first + AB_CHUNK, n)
        ab_out = open_memmap(root / AB_DIR / f"ab{k}.npy", "w+", np.uint8, (last - first, size, size, 2))
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


class Installed(NamedTuple):
    """What :func:`use` installed: the profile, the image folder, the Keras files and the
    embedding cache (None where the pack has none)."""

    profile: str
    images: Path | None
    keras_files: list
    embeddings: Path | None


def read_manifest(pack_dir) -> dict:
    """The manifest of the pack at ``pack_dir``, checked for form: PackError names what is wrong."""
    pack_dir = Path(pack_dir)
    path = pack_dir / MANIFEST
    if not pack_dir.is_dir():
        raise PackError(f"{pack_dir} is not a folder: give the folder that `deepcolor classroom pack` wrote")
    if not path.is_file():
        raise PackError(f"{pack_dir} is not a classroom pack: it has no {MANIFEST} (the pack is incomplete, or "
                        "this is another folder); copy the whole pack folder again")
    manifest = read_json(path, "the classroom pack's manifest")
    if not (isinstance(manifest, dict) and manifest.get("format") == FORMAT and isinstance(manifest.get("files"), dict)):
        raise PackError(f"{path} is not a classroom pack manifest; copy the whole pack folder again")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise PackError(f"{path} is a pack of format {manifest.get('format_version')}, this deepcolor reads format "
                        f"{FORMAT_VERSION}: make the pack with the same deepcolor version as the students use")
    if manifest.get("profile") not in PROFILES:
        raise PackError(f"{path} names an unknown profile {manifest.get('profile')!r}")
    roles = set()
    for rel, entry in manifest["files"].items():
        role = pack_role(rel)
        if role is None:
            raise PackError(f"{path} lists {rel!r}, which no classroom pack holds; copy the pack again")
        if not (isinstance(entry, dict) and isinstance(entry.get("bytes"), int) and isinstance(entry.get("sha256"), str)):
            raise PackError(f"{path} is damaged: its entry for {rel!r} has no size and SHA-256; copy the pack again")
        roles.add(role)
    missing = sorted(set(needs(PROFILES[manifest["profile"]])) - roles)
    if "kaggle" in roles and f"kaggle/{L_FILE.as_posix()}" not in manifest["files"]:
        missing.append(f"kaggle/{L_FILE.as_posix()}")
    if missing:
        raise PackError(f"{path} lists no {', '.join(missing)} files: the pack is incomplete; make it again "
                        "with `deepcolor classroom pack`")
    return manifest


def use(pack_dir, report=None) -> Installed:
    """Check the classroom pack at ``pack_dir`` and install it on this machine (README: "Teaching this course").

    Every file is compared with its size and SHA-256 in the manifest while it is copied; a missing,
    shorter or changed file raises :class:`PackError` naming it, and then nothing is installed.
    Images go to :func:`deepcolor.settings.classroom_dir` (replacing only an earlier install),
    Keras files into Keras' cache (an identical file already there is kept; a different one is
    refused, never overwritten), embeddings into the images' embedding cache.  report: called with
    one line per step (e.g. ``print``).  Returns :class:`Installed`.
    """
    pack_dir = Path(pack_dir)
    say = report or (lambda line: None)
    manifest = read_manifest(pack_dir)
    files = manifest["files"]
    for rel, entry in files.items():  # an incomplete pack fails before anything is read or written
        path = pack_dir / rel
        if not path.is_file():
            raise PackError(f"the classroom pack is incomplete: {path} is missing; copy the whole pack folder again")
        if path.stat().st_size != entry.get("bytes"):
            raise PackError(f"the classroom pack is damaged: {path} has {path.stat().st_size} bytes, the manifest "
                            f"says {entry.get('bytes')}; copy the pack again")
    by_role = {role: sorted(rel for rel in files if pack_role(rel) == role) for role in ("kaggle", "keras", "embeddings")}

    def check(rel, got):
        if got != files[rel].get("sha256"):
            raise PackError(f"the classroom pack is damaged: {pack_dir / rel} does not match its SHA-256 in "
                            f"{MANIFEST}; copy the pack again")

    # 1. where each part goes; refuse anything that is not ours to replace, before copying a byte
    images = settings.classroom_dir()
    if images.exists() or images.is_symlink():
        reason = why_not_replaceable(images)
        if reason:
            raise FileExistsError(f"refusing to install the classroom pack into {images}: {reason}; move that folder away")
    keras_dir = weights.keras_models_dir()
    keras_todo = []
    for rel in by_role["keras"]:
        target = keras_dir / Path(rel).name
        if target.exists() or target.is_symlink():
            if not target.is_file() or sha256_file(target) != files[rel]["sha256"]:
                raise FileExistsError(f"{target} already exists and is not the pack's {Path(rel).name}; move it away "
                                      "(it may be an interrupted download) and run again")
            say(f"kept {target}: the same file is there already")
        else:
            keras_todo.append((rel, target))

    # 2. copy every file to a temporary place beside its target, checking it on the way
    staged, tmp = [], None
    try:
        if by_role["kaggle"]:
            make_folder(images.parent)
            tmp = Path(tempfile.mkdtemp(prefix=f".{images.name}.partial-", dir=images.parent))
            os.chmod(tmp, 0o755)
            for rel in by_role["kaggle"]:
                dst = tmp / rel.removeprefix("kaggle/")
                dst.parent.mkdir(parents=True, exist_ok=True)
                check(rel, sha256_file(pack_dir / rel, copy_to=dst))
            mark_layout(tmp, {"source": "kaggle", "n": manifest.get("images"),
                              "classroom_pack": {k: manifest.get(k) for k in ("profile", "created", "deepcolor")}})
            for folder in (p for p in tmp.rglob("*") if p.is_dir()):
                fsync_dir(folder)
        for rel, target in keras_todo:
            make_folder(keras_dir)
            fd, part = tempfile.mkstemp(dir=keras_dir, prefix=f".{target.name}.", suffix=".partial")
            os.close(fd)
            staged.append((Path(part), target))
            check(rel, sha256_file(pack_dir / rel, copy_to=part))
        emb = None
        for rel in by_role["embeddings"]:
            data = (pack_dir / rel).read_bytes()
            check(rel, hashlib.sha256(data).hexdigest())
            emb = np.load(io.BytesIO(data), allow_pickle=False)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for part, _ in staged:
            part.unlink(missing_ok=True)
        raise
    say(f"checked {len(files)} files against {pack_dir / MANIFEST}")

    # 3. everything checked: rename it into place
    if tmp is not None:
        replace_folder(tmp, images, why_not=why_not_replaceable)
        say(f"images: {images}")
    for part, target in staged:
        os.replace(part, target)
        say(f"Keras cache: {target}")
    if staged:
        fsync_dir(keras_dir)
    emb_path = None
    if emb is not None:
        from .embedding_cache import store

        ds = Config(PROFILES[manifest["profile"]], kaggle_dir=images).dataset()  # opened as the profile opens it
        emb_path = store(ds, "imagenet", emb, dict(manifest.get("embeddings") or {}, source=f"classroom pack {pack_dir}"))
        say(f"embeddings: {emb_path}")
    return Installed(manifest["profile"], images if tmp is not None else None,
                     [target for _, target in keras_todo], emb_path)
