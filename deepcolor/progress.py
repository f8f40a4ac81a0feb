"""Progress reports: one convention everywhere (notebook 02).

Every long function of deepcolor takes ``progress``: None (quiet) or a callable
``progress(done, total)`` called after each image.  :func:`bar` makes one that draws a tqdm bar,
in a notebook or a terminal.
"""

from __future__ import annotations


def bar(desc: str, unit: str = "img"):
    """A ``progress(done, total)`` callable that draws a tqdm bar named ``desc``; it closes itself
    when ``done`` reaches ``total``."""
    from tqdm.auto import tqdm  # here, not on import: `deepcolor --help` imports this module

    shown = None

    def update(done: int, total: int) -> None:
        nonlocal shown
        if shown is None:
            shown = tqdm(total=total, desc=desc, unit=unit)
        shown.n = done
        shown.refresh()
        if done >= total:
            shown.close()

    return update
