"""SIGTERM stops deepcolor as Ctrl-C does, so that what it was writing is cleaned up or recorded.

Introduced with the command line's promises in the README ("What the command line promises").
``kill PID`` or a job scheduler's stop sends SIGTERM, whose default action ends a process at once:
a half-written partial folder would stay behind, and a training run would still say "running".
Inside :func:`sigterm_interrupts`, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt), so
every ``finally`` and ``except BaseException`` runs: a partial folder is removed, a run is
recorded as interrupted and resumable (notebook ``04_base_model``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import types


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (``kill PID``, a job scheduler's stop): stop like Ctrl-C."""


@contextlib.contextmanager
def sigterm_interrupts():
    """While in the block, SIGTERM raises :class:`Terminated`; the earlier handler comes back after.

    Yields a note whose ``arrived`` turns True when SIGTERM came.  Check it when another exception
    arrives: a Terminated raised inside a library's own machinery (a TensorFlow data pipeline runs
    Python code for each batch) can come back wrapped in that library's error.  Signal handlers
    can only be set from the main thread; elsewhere this does nothing (``arrived`` stays False)."""
    note = types.SimpleNamespace(arrived=False)
    if threading.current_thread() is not threading.main_thread():
        yield note
        return

    def stop(signum, frame):
        note.arrived = True
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield note
    finally:
        signal.signal(signal.SIGTERM, previous)
