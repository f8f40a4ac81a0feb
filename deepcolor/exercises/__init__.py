"""Exercises a learner can check: ``check("04.2", answer)`` says right or not, with a hint, never
the answer (every notebook's last section).

Each exercise with a checkable answer is registered under its id, ``"NN.k"``: exercise k of
notebook NN.  Its checker computes the right answer from the package itself (a parameter count
from :mod:`deepcolor.models`, an accuracy from :mod:`deepcolor.metrics`), so nothing is typed twice;
a checker imports :mod:`deepcolor.models` (Keras) and the lessons' modules (pandas) inside it, so
importing this package imports neither.  ``needs`` names what an exercise needs that a profile may
lack (``"imagenet"``: the ImageNet embedder, which the offline fallback does not have).  Worked answers for teachers are in
``notebooks/SOLUTIONS.md``.

The registry (:class:`Exercise`, :func:`close_to`, :func:`one_of`, :data:`ALL`, :func:`check`) is
:mod:`.registry`; this package re-exports it and imports the exercises, which registers them.

Writing one (in the module of its notebook group: :mod:`.course_start` for notebooks 00-03,
:mod:`.architectures` for 04-07, :mod:`.study_and_results` for 08-10; it imports :mod:`.registry`,
never this package):

- ``is_right`` takes the learner's answer; :func:`close_to` (numbers, or tuples of numbers) and
  :func:`one_of` (words) make one from the right answer, or from a function computing it.
- An answer that depends on the profile (its images, its split, its sizes) sets ``profile=True``:
  its ``is_right(answer, cfg)`` (and a function given to :func:`close_to`) then receives the
  notebook's :class:`deepcolor.config.Config`, which the notebook passes: ``check(id, answer, cfg)``;
  without ``cfg``, ``check`` uses ``deepcolor.config.load()`` (the profile of ``$DEEPCOLOR_PROFILE``).
- An answer that is exact (a count, a slider's value) is checked exactly (``rel=0``); a tolerance
  matches what the notebook's prose rounds to, and says so.
- ``tests/test_exercises.py`` holds every exercise's right answer under the smoke profile, written
  out by hand, and a near miss: add both there.  The test checks that the checker accepts the one,
  rejects the other, and never prints the answer.
"""

from .registry import ALL, Exercise, check, close_to, one_of, register

# The exercises, by notebook group; importing them registers them in ALL.
from . import architectures, course_start, study_and_results  # noqa: F401

__all__ = ["Exercise", "ALL", "check", "close_to", "one_of", "register"]
