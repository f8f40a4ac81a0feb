"""``deepcolor book OUT``: the course run and rendered as static HTML pages, for a teacher to
project or a student to read ahead (notebook ``00_start_here``).

:func:`build` runs the chosen notebooks in teaching order, each in a fresh kernel under one
profile (the profile's runs and embeddings are reused from deepcolor's cache, as in JupyterLab),
and writes into OUT:

- ``executed/NAME.ipynb``: the executed notebook, with what ran it in its metadata
  (``deepcolor_book``: the source's SHA-256, the profile, the machine, the seconds it took).  A
  later build reuses it, running nothing, while the notebook's source and the profile are the same;
- ``NAME.html`` for every notebook with such a copy in OUT (those of earlier builds too), and
  ``index.html``, the course map with each notebook's goals and time (:mod:`deepcolor.book_pages`).

A kernel runs in ``executed/`` with ``DEEPCOLOR_PROFILE`` set
(:func:`deepcolor.settings.notebook_environment`); its own output (the backend's start-up lines)
goes to ``executed/NAME.kernel.log``.  A notebook that fails stops the build with one error naming
it and its cell; what it showed up to there is kept as ``executed/NAME.failed.ipynb``, and the
notebooks before it are kept and reused next time.  There is no time limit per cell: Ctrl-C stops
a build.

OUT must be new, empty, or a book written before (it holds ``.deepcolor-book.json``); one process
at a time writes it (:func:`deepcolor.locks.writer`), every file atomically.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import __version__
from .config import PROFILES
from .course import course_files, notebook_names, sha256
from .files import make_folder, write_bytes, write_json
from .locks import HOLDER_SUFFIX, LOCK_NAME, writer
from .settings import notebook_environment

__all__ = ["MARKER", "EXECUTED", "META", "Page", "select", "build", "kernel_facts"]

MARKER = ".deepcolor-book.json"
"""The file that marks a folder as a book deepcolor wrote (what it holds, when)."""

EXECUTED = "executed"
"""The folder of OUT holding the executed notebooks (and the kernels' logs)."""

META = "deepcolor_book"
"""The key, in an executed notebook's metadata, of what ran it."""

_FACTS = "deepcolor-book-facts: "
_PROBE = ("import json as _json\nfrom deepcolor.book import kernel_facts as _facts\n"
          f"print({_FACTS!r} + _json.dumps(_facts(globals().get('cfg'))))")
"""Run in each notebook's kernel after its last cell: what ran it (the notebook's ``cfg``)."""


@dataclass
class Page:
    """One notebook of the book: its name (``"01_lab_color_space"``), the executed notebook (an
    nbformat NotebookNode whose metadata ``deepcolor_book`` says what ran it) and whether this
    build ran it (False: an earlier build's copy, reused)."""

    name: str
    nb: object
    ran: bool

    @property
    def meta(self) -> dict:
        return self.nb.metadata[META]


def select(chosen=None) -> list[str]:
    """The notebooks to run, in teaching order: all of the course when ``chosen`` is empty, else
    those named by number (``"04"``) or name (``"04_base_model"``, ``"04_base_model.ipynb"``).  An
    unknown one is a ValueError naming it."""
    names = notebook_names()
    if not chosen:
        return names
    picked = set()
    for word in chosen:
        stem = str(word).removesuffix(".ipynb")
        hits = [name for name in names if stem in (name, name.split("_")[0])]
        if not hits:
            raise ValueError(f"there is no notebook {word!r} in the course: name them by number ({names[0][:2]} to "
                             f"{names[-1][:2]}) or by name; `deepcolor notebooks --list` shows them")
        picked.update(hits)
    return [name for name in names if name in picked]


def kernel_facts(cfg=None) -> dict:
    """What a notebook ran on, from inside its kernel: the profile (``cfg``, the notebook's
    :class:`deepcolor.config.Config`: its name, note and fallbacks), the backend, Keras, the
    devices (``gpus``: those that are not the CPU), the precision, the system, the CPU and its
    cores, Python and deepcolor.  Starts Keras (:func:`deepcolor.config.environment`)."""
    from . import config

    env = config.environment()
    profile = cfg.profile if cfg is not None else None
    return {"profile": profile.name if profile else None, "note": profile.note if profile else "",
            "fallbacks": list(cfg.fallbacks) if cfg is not None else [], "backend": env["backend"],
            "keras": env["keras"], "devices": env["devices"],
            "gpus": [d for d in env["devices"] if "cpu" not in d.lower()], "precision": env["precision"],
            "system": f"{platform.system()} {platform.machine()}", "cpu": _cpu_model(), "cores": os.cpu_count(),
            "python": platform.python_version(), "deepcolor": env["deepcolor"]}


def _cpu_model() -> str:
    """The CPU's name ("Intel(R) Xeon(R) ..."), from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _check_book_folder(folder: Path) -> None:
    """Refuse a folder that holds anything but a book deepcolor wrote (it holds :data:`MARKER`)."""
    ours = {LOCK_NAME, LOCK_NAME + HOLDER_SUFFIX}
    other = sorted(p.name for p in folder.iterdir() if p.name not in ours)
    if other and not (folder / MARKER).is_file():
        shown = ", ".join(other[:3]) + (f" and {len(other) - 3} more" if len(other) > 3 else "")
        raise FileExistsError(f"{folder} is not a book written by deepcolor (no {MARKER}; it holds {shown}): "
                              "choose a new or empty folder for the book, nothing of yours is replaced")


def _reusable(path: Path, digest: str, profile: str):
    """The executed notebook at ``path`` if it was run from the source of SHA-256 ``digest``
    under ``profile``; else None (missing, damaged, another source or profile)."""
    import nbformat

    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        meta = nb.metadata[META]
        same = meta["source_sha256"] == digest and meta["profile"] == profile
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return nb if same else None


def _execute(name: str, source: bytes, profile: str, folder: Path):
    """Run the notebook ``source`` in a fresh kernel in ``folder`` under ``profile``; returns the
    executed notebook with ``deepcolor_book`` in its metadata.  A failing cell, or a kernel that
    dies, is a RuntimeError naming the notebook and the cell."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    nb = nbformat.reads(source.decode("utf-8"), as_version=4)
    probe = nbformat.v4.new_code_cell(_PROBE)
    nb.cells.append(probe)
    client = NotebookClient(nb, timeout=None, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    log = folder / f"{name}.kernel.log"
    started = time.monotonic()
    try:
        with open(log, "wb") as stream:
            client.execute(env=notebook_environment(profile), stdout=stream, stderr=stream)
    except (CellExecutionError, DeadKernelError) as exc:
        failed = folder / f"{name}.failed.ipynb"
        if nb.cells and nb.cells[-1] is probe:
            nb.cells.pop()
        write_bytes(failed, nbformat.writes(nb).encode())
        raise RuntimeError(f"{name} failed: {_where(nb, exc)}; what it showed is in {failed} and the kernel's own "
                           f"output in {log}. Run it in JupyterLab to see why; the notebooks before it are kept and "
                           "the next `deepcolor book` reuses them") from None
    seconds = time.monotonic() - started
    nb.cells.pop()
    facts = next((line[len(_FACTS):] for out in probe.outputs for line in out.get("text", "").splitlines()
                  if line.startswith(_FACTS)), "{}")
    nb.metadata[META] = {"source_sha256": sha256(source), "profile": profile, "facts": json.loads(facts),
                         "seconds": round(seconds, 1), "deepcolor": __version__,
                         "executed": datetime.now().astimezone().isoformat(timespec="seconds")}
    return nb


def _where(nb, exc) -> str:
    """Which code cell failed and with what error, for the message of :func:`_execute`."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for k, cell in enumerate(code, 1):
        errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        if errors:
            return f"its code cell {k} raised {errors[0].get('ename')}: {errors[0].get('evalue')}"
    return f"its kernel stopped ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"


def build(out, profile: str, notebooks=None, say=print) -> list[Page]:
    """Run the ``notebooks`` (numbers or names, :func:`select`; default all) under ``profile``
    (``smoke``, ``default`` or ``full``) and write the book into the folder ``out`` (see the
    module's docstring).  say: called with a line per notebook.  Returns the book's pages in
    teaching order: the notebooks run or reused now, and those of earlier builds of ``out`` under
    the same profile whose source has not changed."""
    import nbformat

    from .book_pages import write_pages  # nbconvert and pandas: only when a book is written

    if profile not in PROFILES:
        raise ValueError(f"{profile!r} is not a profile: choose one of {', '.join(PROFILES)}")
    chosen = select(notebooks)
    folder = make_folder(out)
    pages = []
    with writer(folder, "the book", inside=True):
        _check_book_folder(folder)
        write_json(folder / MARKER, {"deepcolor": __version__, "profile": profile})
        executed = make_folder(folder / EXECUTED)
        try:
            for name, source in _sources().items():
                path = executed / f"{name}.ipynb"
                nb = _reusable(path, sha256(source), profile)
                if nb is not None:
                    pages.append(Page(name, nb, ran=False))
                    if name in chosen:
                        say(f"{name}: reused (run {nb.metadata[META]['executed']} in "
                            f"{nb.metadata[META]['seconds']:.0f} s)")
                elif name in chosen:
                    say(f"{name}: running under {profile} ...")
                    nb = _execute(name, source, profile, executed)
                    write_bytes(path, nbformat.writes(nb).encode())
                    pages.append(Page(name, nb, ran=True))
                    say(f"{name}: done in {nb.metadata[META]['seconds']:.0f} s")
        except RuntimeError:  # a notebook failed: the pages of those that ran are written all the same
            write_pages(folder, pages, profile)
            raise
        write_pages(folder, pages, profile)
        write_json(folder / MARKER, {"deepcolor": __version__, "profile": profile,
                                     "pages": [page.name for page in pages],
                                     "built": datetime.now().astimezone().isoformat(timespec="seconds")})
    return pages


def _sources() -> dict:
    """The course's notebooks as they ship: name (no ``.ipynb``) -> bytes, in teaching order."""
    return {name.removesuffix(".ipynb"): data for name, data in course_files().items() if name.endswith(".ipynb")}
