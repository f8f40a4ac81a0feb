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


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (``kill PID``, a job scheduler's stop): stop like Ctrl-C."""


@contextlib.contextmanager
def sigterm_interrupts():
    """While in the block, SIGTERM raises :class:`Terminated`; the earlier handler comes back after.
    Signal handlers can only be set from the main thread; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
