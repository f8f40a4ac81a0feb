"""Writing and reading the package's own files so that nothing is lost or half-written.

Every file deepcolor writes (run records, models, embedding caches, colorized photos, dataset
manifests) goes through :func:`atomic_write`: the bytes go to a temporary file in the target's own
folder, are flushed to disk (``fsync``), and the temporary file is renamed over the target with
``os.replace``, after which the folder itself is flushed.  So:

- a crash or power loss leaves either the old file or the new one, never a truncated or
  zero-length one;
- a symbolic link at the target is replaced by the new file, never followed: a link cannot make
  deepcolor write outside the folder it was given.

:func:`write_json` writes strict JSON (NaN and infinity become ``null``, which every JSON reader
accepts); :func:`read_json` reads it back and names the file when it is damaged.
Introduced with the run folders of notebook ``04_base_model``.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


class DamagedFileError(ValueError):
    """A file deepcolor wrote (or expects) exists but cannot be read; the message names it."""


def make_folder(folder) -> Path:
    """``mkdir -p folder``; a file in the way (``report.pdf/out``) raises NotADirectoryError naming
    that file, instead of the puzzling "File exists"."""
    folder = Path(folder)
    for part in (folder, *folder.parents):
        if part.exists() or part.is_symlink():
            if not part.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(part))
            break
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fsync_dir(folder) -> None:
    """Flush a folder's entries (a rename into it) to disk; a no-op where folders can't be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path) -> None:
    """Flush one file's bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, write: Callable[[Path], None]) -> Path:
    """Create or replace ``path`` atomically: ``write(tmp)`` writes a temporary file in the same
    folder (its name ends with ``path``'s suffix, so Keras and Pillow pick the right format), which
    is flushed and then renamed over ``path``.  A link at ``path`` is replaced, not followed.
    The folder must exist.  Returns ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(tmp)
    try:
        write(tmp)
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def replace_folder(tmp, dst) -> Path:
    """Put the finished folder ``tmp`` (a sibling of ``dst``, every file in it already flushed) at
    ``dst``.  An existing ``dst``, which the caller has judged replaceable, is first renamed aside
    and deleted only once ``tmp`` is in place; if that rename fails it is put back.  Returns ``dst``.
    """
    tmp, dst = Path(tmp), Path(dst)
    fsync_dir(tmp)
    if dst.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dst.name}.old-", dir=dst.parent))
        os.replace(dst, old)  # a folder may be renamed onto an empty one
        try:
            os.replace(tmp, dst)
        except BaseException:
            os.replace(old, dst)  # put the old folder back
            raise
        shutil.rmtree(old)
    else:
        os.replace(tmp, dst)
    fsync_dir(dst.parent)
    return dst


def write_bytes(path, data: bytes) -> Path:
    """:func:`atomic_write` of ``data``."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def strict(value):
    """``value`` with every non-finite float (NaN, inf) replaced by None, recursively, so that it
    serialises as standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


def write_json(path, data) -> Path:
    """Write ``data`` as strict, indented JSON, atomically (non-finite floats become null)."""
    text = json.dumps(strict(data), indent=1, default=str, allow_nan=False)
    return write_bytes(path, text.encode())


def read_json(path, what: str):
    """Read a JSON file; a file that is not valid JSON raises :class:`DamagedFileError` naming it.

    what: what the file is, for the message ("the run record", ...).  A missing file raises
    FileNotFoundError as usual.
    """
    path = Path(path)
    try:
        return json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DamagedFileError(
            f"{path} is damaged: {what} is not valid JSON ({exc}); restore it, or delete the folder "
            "that holds it and create it again"
        ) from None
