"""The course's notebooks as they travel with the package, and ``deepcolor notebooks DEST``: a
working copy of them for a student, ready for ``jupyter lab DEST`` (notebook ``00_start_here``).

The notebooks have one source, the repository's ``notebooks/`` folder.  A wheel carries a copy of
it made when the package is built (``setup.py``): the package data ``deepcolor/notebooks/``, the
twelve notebooks and ``SOLUTIONS.md``, read here through :mod:`importlib.resources`.  A checkout
or an editable install has no such copy and reads ``notebooks/`` beside the package.

:func:`copy_course` never loses a student's work.  For each file of the course, in DEST:

- missing: it is written;
- holding what this version ships: it is left as it is;
- holding what an earlier copy wrote (its SHA-256 is in DEST's manifest, ``.deepcolor-notebooks.json``):
  it is replaced by this version's;
- anything else (the student changed it, or it is not the course's): it is refused by name, and
  nothing at all is written; with ``force`` it is first kept beside, as ``NAME.backup-N.ipynb``.

Every file is written atomically (:func:`deepcolor.files.write_bytes`), the manifest last, and
one process at a time writes DEST (:func:`deepcolor.locks.writer`).
"""

from __future__ import annotations

import hashlib
import os
import shlex
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from . import __version__
from .files import DamagedFileError, fsync_file, make_folder, read_json, write_bytes, write_json
from .locks import writer

__all__ = ["PACKAGE_FOLDER", "MANIFEST", "SOLUTIONS", "course_source", "course_files", "notebook_names",
           "sha256", "Copied", "copy_course", "describe"]

PACKAGE_FOLDER = "notebooks"
"""The folder of the package (``deepcolor/notebooks/``) that holds the course in a built wheel."""

MANIFEST = ".deepcolor-notebooks.json"
"""The manifest in a student's folder: the SHA-256 of every file :func:`copy_course` wrote there."""

SOLUTIONS = "SOLUTIONS.md"


def course_source():
    """Where the course's files are read: the package data ``deepcolor/notebooks/`` of an installed
    wheel (an importlib.resources Traversable), else ``notebooks/`` of the checkout the package
    lives in.  Neither there: a RuntimeError saying how to reinstall."""
    packaged = resources.files("deepcolor") / PACKAGE_FOLDER
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "notebooks"
    if (checkout / SOLUTIONS).is_file():
        return checkout
    raise RuntimeError(f"the course's notebooks are not installed with deepcolor (no {PACKAGE_FOLDER}/ in the "
                       f"package at {Path(__file__).parent}, no notebooks/ beside it): reinstall it, "
                       "`pip install --force-reinstall deepcolor-course`")


def course_files() -> dict:
    """The course's files as they ship, in teaching order: file name -> bytes, the notebooks
    (``00_start_here.ipynb`` ... ``11_colour_as_classes.ipynb``) and then ``SOLUTIONS.md``."""
    source = course_source()
    names = sorted(entry.name for entry in source.iterdir() if entry.name.endswith(".ipynb"))
    return {name: (source / name).read_bytes() for name in [*names, SOLUTIONS]}


def notebook_names() -> list[str]:
    """The notebooks of the course, in teaching order, without ``.ipynb``: ``["00_start_here", ...]``."""
    return [name.removesuffix(".ipynb") for name in course_files() if name.endswith(".ipynb")]


def sha256(data: bytes) -> str:
    """The SHA-256 of ``data``, as 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class Copied:
    """What :func:`copy_course` did in ``folder``: the files written for the first time, those
    replaced (an earlier copy's, or the student's with ``force``), those already up to date, and
    the backups kept (the student's file -> where it is kept)."""

    folder: Path
    new: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    same: list = field(default_factory=list)
    backups: dict = field(default_factory=dict)


def _read_manifest(folder: Path, say) -> dict:
    """The files' SHA-256 an earlier copy recorded in ``folder`` (name -> hex); {} if none.  A
    damaged manifest counts as none (then only files equal to this version's are left alone)."""
    try:
        files = read_json(folder / MANIFEST, "the notebooks' manifest").get("files", {})
    except FileNotFoundError:
        return {}
    except (DamagedFileError, AttributeError):
        say(f"note: {folder / MANIFEST} is damaged; files that differ from this version's are treated as yours")
        return {}
    return files if isinstance(files, dict) else {}


def _judge(path: Path, shipped: bytes, recorded: str | None) -> str:
    """What to do with ``path``: "new", "same", "update" (an earlier copy's) or "yours"."""
    if not (path.exists() or path.is_symlink()):
        return "new"
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, where the course's file {path.name} goes: rename it, or "
                                "copy the course into another folder")
    current = path.read_bytes() if path.exists() else b""  # a dangling link: nothing to keep but the link
    if current == shipped:
        return "same"
    return "update" if recorded is not None and sha256(current) == recorded else "yours"


def _backup(path: Path) -> Path:
    """Keep a copy of the student's ``path`` beside it as ``NAME.backup-N.SUFFIX`` (the first free
    N; an existing file is never replaced), flushed to disk.  Returns the backup's path."""
    data = path.read_bytes() if path.exists() else b""
    for k in range(1, 10_000):
        kept = path.with_name(f"{path.stem}.backup-{k}{path.suffix}")
        try:
            with open(kept, "xb") as stream:
                stream.write(data)
        except FileExistsError:
            continue
        fsync_file(kept)
        return kept
    raise FileExistsError(f"too many backups of {path} beside it: delete some of {path.stem}.backup-*")


def copy_course(dest, force: bool = False, say=print) -> Copied:
    """Copy the course's notebooks and ``SOLUTIONS.md`` into the folder ``dest`` (made if
    missing), never losing a student's change (see the module's docstring).

    force: replace the files the student changed too, each kept first as ``NAME.backup-N.ipynb``.
    Without it, such files raise FileExistsError naming each, before anything is written.  say:
    called with a line for each backup and note.  Returns what was done (:class:`Copied`)."""
    folder = make_folder(dest)
    shipped = course_files()
    with writer(folder, "the course's notebooks", inside=True):
        manifest = _read_manifest(folder, say)
        verdicts = {name: _judge(folder / name, data, manifest.get(name)) for name, data in shipped.items()}
        yours = [name for name, verdict in verdicts.items() if verdict == "yours"]
        if yours and not force:
            they = "it differs" if len(yours) == 1 else "they differ"
            raise FileExistsError(
                f"refusing to overwrite {', '.join(yours)} in {folder}: {they} from what deepcolor {__version__} "
                "ships and from what an earlier copy wrote there, so it holds your changes; nothing was copied. Add "
                "--force to keep yours beside as NAME.backup-N and get this version's, or copy the course into "
                "another folder")
        done = Copied(folder)
        for name, data in shipped.items():
            path = folder / name
            verdict = verdicts[name]
            if verdict == "same":
                done.same.append(name)
                continue
            if verdict == "yours":
                done.backups[name] = _backup(path)
                say(f"kept your {name} as {done.backups[name].name}")
            write_bytes(path, data)
            (done.new if verdict == "new" else done.updated).append(name)
        files = {**manifest, **{name: sha256(data) for name, data in shipped.items()}}
        write_json(folder / MANIFEST, {"deepcolor": __version__, "files": files})
    return done


def describe(done: Copied) -> str:
    """One line saying what :func:`copy_course` did ("13 files copied", "1 file updated, 12 already
    up to date"), and how to open the course."""
    counts = [(len(files), what) for files, what in ((done.new, "copied"), (done.updated, "updated"),
                                                     (done.same, "already up to date")) if files]
    parts = [f"{n} {what}" for n, what in counts]
    parts[0] = f"{counts[0][0]} file{'s' if counts[0][0] != 1 else ''} {counts[0][1]}"
    where = os.fspath(done.folder)
    return f"{', '.join(parts)} in {where}; open the course with: jupyter lab {shlex.quote(where)}"
