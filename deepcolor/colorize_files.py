"""The files of ``deepcolor colorize``: which photos it takes, where their outputs go, how they are
written, and why one is skipped.

Introduced with notebook ``10_colorize_your_own`` (:func:`deepcolor.colorize.colorize` uses it).

- Each photo becomes ``OUT/<name>_colorized.png`` (:func:`output_path`), written atomically
  (:func:`write_png`) with a mark in its PNG metadata (text chunk ``deepcolor``: version and
  "colorize").
- deepcolor's own outputs are never colorized again: a file named ``*_colorized.png`` or carrying
  the mark (renamed, even to ``.jpg``) is skipped (:func:`why_not_to_colorize`), and so is anything
  that is not a regular file (a named pipe, a device: :func:`deepcolor.photos.not_a_file`).
- Under the output folder's lock, the temporary files of killed runs are removed
  (:func:`sweep_leftovers`).
- A failure to write one output (a name too long for the file system) skips that photo
  (:func:`write_failure`); a folder that cannot be written or a full disk stops the run.
"""

from __future__ import annotations

import errno
import os
import re
from collections import Counter
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from . import __version__
from .files import atomic_write, make_folder
from .photos import PHOTO_SUFFIXES, PhotoSkipped, check_regular, list_photos, open_regular

OUTPUT_SUFFIX = "_colorized.png"
MARK_KEY = "deepcolor"  # the PNG text chunk every colorized photo carries: "<version> colorize"
_LEFTOVER = re.compile(r"^\..+" + re.escape(OUTPUT_SUFFIX) + r"\..+\.tmp\.png$")  # atomic_write's temporaries
# errors of the whole output folder: they stop the run, since every photo would fail the same way
FOLDER_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)


def output_path(photo, outdir) -> Path:
    """Where :func:`deepcolor.colorize.colorize` writes ``photo``: ``outdir/<name>_colorized.png``."""
    return Path(outdir) / f"{Path(photo).stem}{OUTPUT_SUFFIX}"


def taken(path: Path) -> bool:
    """Whether anything is at ``path``: a file, a folder, or a link (even one to nothing)."""
    return os.path.lexists(path)


def mark() -> str:
    """The value of the :data:`MARK_KEY` text chunk in a colorized PNG, e.g. "0.1.0 colorize"."""
    return f"{__version__} colorize"


def write_png(path, rgb8) -> Path:
    """Write (H, W, 3) uint8 RGB in [0, 255] as a PNG marked as deepcolor's output (text chunk
    :data:`MARK_KEY`), with :func:`deepcolor.files.atomic_write` (the umask's mode): a link at
    ``path`` is replaced, never followed.  Creates the folder.  Returns ``path``."""
    path = Path(path)
    make_folder(path.parent)
    image = Image.fromarray(rgb8)
    info = PngInfo()
    info.add_text(MARK_KEY, mark())
    return atomic_write(path, lambda tmp: image.save(tmp, format="PNG", pnginfo=info))


def has_mark(path) -> bool:
    """Whether the regular file ``path`` is a PNG carrying deepcolor colorize's mark, whatever its
    name.  Reads the header only; anything unreadable is not marked."""
    try:
        with open_regular(path) as file, Image.open(file, formats=["PNG"]) as im:
            value = im.info.get(MARK_KEY)
    except Exception:  # not a PNG, unreadable: read_photo will say so
        return False
    return isinstance(value, str) and "colorize" in value.split()


def is_output_name(name: str) -> bool:
    """Whether a file name is one deepcolor colorize writes: ``*_colorized.png`` or the temporary
    file of one."""
    return name.lower().endswith(OUTPUT_SUFFIX) or bool(_LEFTOVER.match(name))


def why_not_to_colorize(photo) -> str | None:
    """Why ``photo`` is skipped before anything is read: it is not a regular file (a named pipe,
    a device, a socket, missing), or it is an output of deepcolor colorize (by name, or by its
    mark).  None when it is to be colorized."""
    try:
        check_regular(photo)
    except PhotoSkipped as exc:
        return str(exc).removeprefix(f"{photo}: ")
    if is_output_name(Path(photo).name) or has_mark(photo):
        return ("is an output of deepcolor colorize (its name, or the mark in its PNG metadata, says so): "
                "colorizing it again would colorize colours; give the original photo")
    return None


def expand_photos(paths) -> list[Path]:
    """``paths`` with each folder replaced by the photos in it and its subfolders, sorted
    (:func:`deepcolor.photos.list_photos`); a folder without photos is an error naming it."""
    photos = []
    for path in map(Path, paths):
        if not path.is_dir():
            photos.append(path)
            continue
        found = list_photos(path)
        if not found:
            raise FileNotFoundError(f"no photos in the folder {path} (looked for {' '.join(PHOTO_SUFFIXES)} files, "
                                    "subfolders included); give photo files or a folder that holds some")
        photos.extend(found)
    return photos


def check_twins(targets) -> None:
    """Refuse two photos with one output name (before anything is written)."""
    twins = sorted(str(t) for t, n in Counter(targets).items() if n > 1)
    if twins:
        raise ValueError(f"several photos would be written to {', '.join(twins)} (same file name): "
                         "colorize them into different folders")


def check_clashes(targets, force: bool) -> None:
    """Without ``force``, refuse outputs that exist already, links included."""
    clashes = [str(t) for t in targets if taken(t)]
    if clashes and not force:
        raise FileExistsError(f"would overwrite {', '.join(clashes)}; pass --force to overwrite")


def sweep_leftovers(outdir, say) -> list[Path]:
    """Remove the temporary files (``.NAME_colorized.png.*.tmp.png``) that killed colorize runs
    left in ``outdir``.  Call it only while holding the folder's lock: then nobody is writing them.
    say: called with one line per removal.  Returns what was removed."""
    removed = []
    for path in sorted(Path(outdir).iterdir()):
        if _LEFTOVER.match(path.name) and not path.is_dir():
            path.unlink(missing_ok=True)
            removed.append(path)
            say(f"removed {path}, left by an earlier colorize run that was stopped")
    return removed


def write_failure(exc: Exception, out: Path) -> str:
    """The reason for skipping a photo whose output ``out`` could not be written; re-raises the
    errors of the whole folder (:data:`FOLDER_ERRORS`: no permission, read-only, disk full)."""
    if isinstance(exc, OSError) and exc.errno in FOLDER_ERRORS:
        raise exc
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        try:
            limit = f"the {os.pathconf(out.parent, 'PC_NAME_MAX')} bytes"
        except (OSError, ValueError):
            limit = "what"
        return (f"its output name {out.name} ({len(os.fsencode(out.name))} bytes) is longer than {limit} the file "
                "system allows; rename the photo to a shorter name")
    cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return f"cannot write {out} ({cause}); nothing was written for it"
