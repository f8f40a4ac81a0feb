"""One writer at a time for every folder deepcolor writes.

Introduced with the command line's promises in the README ("What the command line promises").

A dataset folder, a run folder, a colorize output folder and a classroom pack each have a lock,
held while deepcolor writes there (:func:`writer`).  The lock is an operating-system file lock
(the ``filelock`` library, ``flock`` on Linux and macOS), so it is released when its process ends,
however it ends.  Beside it, a small holder file names who holds it: process id, host and since
when.  So:

- a second writer is refused at once with :class:`FolderBusyError`, naming the holder
  ("... is being written by process 4242 on laptop since 10:31:02; wait for it to finish");
- a lock left by a process that died (killed, power cut) is taken over, with a note naming it;
- under the lock, the leftovers of killed writers (``.NAME.partial-*`` folders) may safely be
  removed: nobody else is writing them (:func:`deepcolor.files.sweep_partials`).

Where the lock lives: beside a folder that is replaced as a whole (a dataset, a pack:
``.NAME.deepcolor-lock`` in its parent), inside a folder that is written file by file (a run, a
colorize output folder: ``FOLDER/.deepcolor-lock``).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from datetime import datetime
from pathlib import Path

LOCK_NAME = ".deepcolor-lock"
HOLDER_SUFFIX = ".holder"


_HELD: dict = {}  # lock path -> how many writer() blocks of this process hold it


class FolderBusyError(RuntimeError):
    """Another deepcolor process is writing the folder; the message names it and what to do."""


def lock_path(folder, inside: bool = False) -> Path:
    """The lock file of ``folder``: ``FOLDER/.deepcolor-lock`` (``inside``) or
    ``PARENT/.NAME.deepcolor-lock``."""
    folder = Path(folder)
    return folder / LOCK_NAME if inside else folder.parent / f".{folder.name}{LOCK_NAME}"


def _holder_text() -> str:
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                       "since": datetime.now().astimezone().isoformat(timespec="seconds")})


def read_holder(lock) -> dict | None:
    """The holder a lock file's holder file names (pid, host, since), or None if there is none
    or it cannot be read."""
    try:
        holder = json.loads(Path(f"{lock}{HOLDER_SUFFIX}").read_text())
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def describe_holder(holder: dict | None) -> str:
    """ "process 4242 on laptop since 2026-12-07T10:31:02+01:00", or "another process"."""
    if not holder:
        return "another process"
    return f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"


def _note(line: str) -> None:
    print(f"deepcolor: note: {line}", file=sys.stderr)


@contextlib.contextmanager
def writer(folder, what: str, inside: bool = False, wait: float = 0, say=None):
    """Hold the lock of ``folder`` while the ``with`` block writes there.

    what: what is written, for messages ("the dataset", "the run").  inside: the lock lives in
    the folder (which must exist) rather than beside it (whose parent must exist).  wait: seconds
    to wait for another writer (0: refuse at once with :class:`FolderBusyError`).  say: called
    with the note when a dead process's lock is taken over (default: a line on stderr).  A block
    inside another that holds the same lock in this process just goes on (the command line holds
    a run's lock from its first check to the end of ``train``).
    """
    lock = lock_path(folder, inside)
    key = str(lock.absolute())
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield lock
        finally:
            _HELD[key] -= 1
        return
    with _acquired(folder, lock, what, wait, say):
        _HELD[key] = 1
        try:
            yield lock
        finally:
            _HELD.pop(key, None)


@contextlib.contextmanager
def _acquired(folder, lock: Path, what: str, wait: float, say):
    from filelock import FileLock, Timeout  # here, not on import: `deepcolor --help` imports this module

    holder_file = Path(f"{lock}{HOLDER_SUFFIX}")
    file_lock = FileLock(str(lock), timeout=wait)
    try:
        file_lock.acquire()
    except Timeout:
        raise FolderBusyError(
            f"{folder} is in use: {what} there is being written by {describe_holder(read_holder(lock))}; "
            "wait for it to finish, or choose another folder"
        ) from None
    try:
        earlier = read_holder(lock)
        if earlier and earlier.get("pid") != os.getpid():
            (say or _note)(f"took over the lock of {folder} from {describe_holder(earlier)}, which is no longer "
                           "running")
        tmp = holder_file.with_name(f"{holder_file.name}.{os.getpid()}")
        tmp.write_text(_holder_text())
        os.replace(tmp, holder_file)
        yield lock
    finally:
        holder_file.unlink(missing_ok=True)
        lock.unlink(missing_ok=True)  # while still held: a writer that opened it before sees it unlinked, retries
        file_lock.release()
