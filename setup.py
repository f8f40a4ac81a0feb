"""Builds the distribution ``deepcolor-course``: setuptools as pyproject.toml configures it, and the
course's notebooks as package data.

The notebooks have one source, ``notebooks/`` beside this file.  When a wheel is built (from the
checkout or from the sdist, which carries ``notebooks/`` through MANIFEST.in), ``build_py`` copies
``notebooks/*.ipynb`` and ``notebooks/SOLUTIONS.md`` into the built package as
``deepcolor/notebooks/``, where :mod:`deepcolor.course` reads them with importlib.resources.  An
editable install copies nothing: there :mod:`deepcolor.course` reads ``notebooks/`` itself.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE = Path(__file__).resolve().parent / "notebooks"
PACKAGE_DATA = ("deepcolor", "notebooks")  # the folder in the built package (deepcolor.course.PACKAGE_FOLDER)


def course_files() -> list:
    """The files of the course that travel with the package: every notebook and SOLUTIONS.md."""
    files = sorted(SOURCE.glob("*.ipynb")) + [SOURCE / "SOLUTIONS.md"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing or len(files) < 2:
        raise SystemExit(f"cannot build deepcolor-course: the course's notebooks are missing from {SOURCE} "
                         f"({', '.join(missing) or 'no notebook'})")
    return files


class BuildWithNotebooks(build_py):
    """build_py, plus a copy of the course's notebooks into the built package (not in editable mode)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib, *PACKAGE_DATA)
        if target.is_dir():  # an earlier build's copy: a notebook renamed since must not linger in it
            shutil.rmtree(target)
        self.mkpath(str(target))
        for source in course_files():
            self.copy_file(str(source), str(target / source.name), preserve_mode=False)


setup(cmdclass={"build_py": BuildWithNotebooks})
