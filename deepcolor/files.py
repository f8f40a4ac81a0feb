"""Writing and reading the package's own files so that nothing is lost or half-written.

Every file deepcolor writes (run records, models, embedding caches, colorized photos, dataset
manifests) goes through :func:`atomic_write`: the bytes go to a temporary file in the target's own
folder, are flushed to disk (``fsync``), and the temporary file is renamed over the target with
``os.replace``, after which the folder itself is flushed.  So:

- a crash or power loss leaves either the old file or the new one, never a truncated or
  zero-length one;
- a symbolic link at the target is replaced by the new file, never followed: a link cannot make
  deepcolor write outside the folder it was given;
- the file gets the mode the umask gives (0644 under the usual 022), like any tool's;
- a full disk is one :class:`DiskFullError` naming the folder, the bytes needed and the bytes free.

Folders are written the same way: into :func:`partial_folder` beside the target, put in place by
:func:`replace_folder`, which re-checks the target at the moment it swaps; :func:`sweep_partials`
removes what killed writers left.  :func:`check_space` and :func:`reserve` come before big writes.

:func:`write_json` writes strict JSON (NaN and infinity become ``null``, which every JSON reader
accepts); :func:`read_json` reads it back and names the file when it is damaged.
:func:`kept_json` reads back a measurement kept with its key (what it was measured on), the way
run folders and the evaluation keep theirs.
Introduced with the run folders of notebook ``04_base_model``.
"""

from __future__ import annotations

import errno
import glob
import json
import math
import os
import secrets
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
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp's 0600 would make the file private
        fsync_file(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        written = tmp.stat().st_size if tmp.exists() else 0
        tmp.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full(path.parent, written, path.name, at_least=True) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def replace_folder(tmp, dst, why_not: Callable[[Path], str | None] | None = None) -> Path:
    """Put the finished folder ``tmp`` (a sibling of ``dst``, every file in it already flushed) at
    ``dst``, with no gap between the check and the act.

    An existing ``dst`` is first renamed aside (atomic), and only then judged by
    ``why_not(folder)`` (the reason it must not be replaced, or None; without ``why_not`` nothing is
    replaced): whatever appeared at ``dst`` since the caller looked, it is judged as it is now,
    and nobody can add to it under its new name.  A folder that may not be replaced is put back,
    and so is one whenever the swap fails.  A folder that appears at ``dst`` in the instant after
    that is never replaced either: renaming onto it fails (a folder can only be renamed onto an
    empty one).  On a refusal the new folder is kept beside ``dst`` (``dst.new-N``) and
    FileExistsError names both.  Returns ``dst``.
    """
    tmp, dst = Path(tmp), Path(dst)
    fsync_dir(tmp)
    old = None
    if dst.exists() or dst.is_symlink():
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}-{secrets.token_hex(4)}")  # a name nobody has
        os.rename(dst, old)  # a folder, a file or a link alike
        reason = why_not(old) if why_not is not None else "it already exists"
        if reason:
            os.replace(old, dst)  # put it back
            _refuse(tmp, dst, reason)
    try:
        os.rename(tmp, dst)  # fails if a non-empty folder, or a file, appeared at dst meanwhile
    except OSError as exc:
        if old is not None:
            os.replace(old, dst)
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            _refuse(tmp, dst, "something else was put there while deepcolor wrote")
        raise
    if old is not None:  # the swap is done; an old folder that cannot be deleted is swept by the next run
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    fsync_dir(dst.parent)
    return dst


def _refuse(tmp: Path, dst: Path, reason: str):
    """Keep the finished folder ``tmp`` as ``dst.new-N`` and raise FileExistsError naming both."""
    for k in range(1, 1000):
        kept = dst.with_name(f"{dst.name}.new-{k}")
        if not (kept.exists() or kept.is_symlink()):
            break
    os.rename(tmp, kept)
    raise FileExistsError(f"refusing to replace {dst}: {reason}; nothing of it was changed, and what deepcolor "
                          f"wrote is kept in {kept} (rename it, or delete it)")


def why_not_ours(folder: Path, kind: str, marker: str, own) -> str | None:
    """Why deepcolor must not replace ``folder``, or None if it may: only an empty folder, or one
    holding the file ``marker`` and nothing but files and folders whose path relative to it
    passes ``own(rel)``.  A link, a file, a folder without the marker or with anything else in it
    is refused.  kind: what such a folder is, for the message ("dataset", "classroom pack")."""
    if folder.is_symlink():
        return "it is a link; deepcolor replaces only a real folder it wrote (remove the link yourself)"
    if not folder.is_dir():
        return f"it is a file, not a {kind} folder"
    if not any(folder.iterdir()):
        return None
    if not (folder / marker).is_file():
        return f"it is not a {kind} written by deepcolor (no {marker})"
    foreign = [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*"))
               if p.is_symlink() or not own(p.relative_to(folder))]
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        return f"it holds files that are not part of a {kind} ({shown})"
    return None


def partial_folder(dst) -> Path:
    """A new empty folder beside ``dst`` to write into, ``.NAME.partial-PID-XXXX`` (mode from the
    umask), renamed to ``dst`` with :func:`replace_folder` when complete.  Its name says whose it
    is: :func:`sweep_partials` removes those of writers that are gone."""
    dst = Path(dst)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.partial-{os.getpid()}-", dir=dst.parent))
    os.chmod(tmp, 0o777 & ~umask())
    return tmp


def sweep_partials(dst, say=None) -> list[Path]:
    """Remove what killed writers of ``dst`` left beside it: ``.NAME.partial-*`` folders and files,
    and ``.NAME.old-*`` folders (an earlier ``dst`` renamed aside; put back if ``dst`` is
    missing).  Call it only while holding ``dst``'s lock (:func:`deepcolor.locks.writer`): then
    nobody else is writing them.  say: called with one line per removal.  Returns what was removed."""
    dst = Path(dst)
    removed = []
    for path in sorted(dst.parent.glob(f".{glob_escape(dst.name)}.partial-*")) + \
            sorted(dst.parent.glob(f".{glob_escape(dst.name)}.old-*")):
        if path.name.startswith(f".{dst.name}.old-") and not (dst.exists() or dst.is_symlink()):
            os.replace(path, dst)  # killed between moving the old folder aside and putting the new one in
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
        if say is not None:
            say(f"removed {path}, left by an earlier run that was stopped")
    return removed


def glob_escape(name: str) -> str:
    """``name`` with the characters glob treats specially ([, *, ?) made literal."""
    return glob.escape(name)


def umask() -> int:
    """The process's umask (e.g. 0o022), read without changing it where the system allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class DiskFullError(OSError):
    """Not enough free space for what deepcolor is about to write; the message names the folder,
    the bytes needed and the bytes free."""


def free_bytes(folder) -> int:
    """Free bytes on the disk holding ``folder`` (or its nearest existing parent)."""
    folder = Path(folder).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def disk_full(folder, needed: int, what: str, at_least: bool = False) -> DiskFullError:
    """The error for ``what`` not fitting in ``folder``: one line with folder, bytes needed (more
    than ``needed`` when ``at_least``: the write failed after that many) and bytes free."""
    free = free_bytes(folder)
    need = f"more than {needed:,} bytes" if at_least else f"{needed:,} bytes"
    return DiskFullError(errno.ENOSPC, f"not enough space in {folder} for {what}: it needs {need}, {free:,} are "
                         "free; free some space, or choose a folder on another disk")


def check_space(folder, needed: int, what: str) -> None:
    """Raise :class:`DiskFullError` if ``needed`` bytes (plus a 1 % or 16 MB margin) do not fit in
    ``folder``; called before writing, so nothing is half-written."""
    if needed + max(needed // 100, 16 << 20) > free_bytes(folder):
        raise disk_full(folder, needed, what)


def reserve(path, nbytes: int, what: str) -> None:
    """Allocate the disk blocks of the file ``path`` up to ``nbytes`` before a memory map writes
    into it: a memory-mapped write past the free space would kill the process (SIGBUS) instead
    of raising.  Raises :class:`DiskFullError`."""
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, nbytes)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise disk_full(Path(path).parent, nbytes, what) from None
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # a file system without fallocate
            raise
    finally:
        os.close(fd)


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
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nested past Python's limit: damaged too
        raise DamagedFileError(
            f"{path} is damaged: {what} is not valid JSON ({exc}); restore it, or delete the folder "
            "that holds it and create it again"
        ) from None


def _nan_for_null(value):
    if value is None:
        return float("nan")
    if isinstance(value, dict):
        return {k: _nan_for_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_for_null(v) for v in value]
    return value


def keep_json(path, key, value) -> None:
    """Keep ``value`` (JSON values; NaN becomes null) measured on ``key`` (JSON values) in ``path``,
    for :func:`kept_json`.  Raises OSError where it cannot be written."""
    write_json(path, {"key": key, "value": value})


def kept_json(path, key):
    """What :func:`keep_json` kept in ``path`` for this ``key``, its nulls read back as NaN; None
    when there is none, it was kept for another key, the file is damaged or is not a regular file
    (a FIFO there would hang the read): measure again."""
    if not Path(path).is_file():
        return None
    try:
        saved = read_json(path, "a kept measurement")
    except (FileNotFoundError, NotADirectoryError, DamagedFileError):
        return None
    if not (isinstance(saved, dict) and "value" in saved and saved.get("key") == key):
        return None
    return _nan_for_null(saved["value"])
