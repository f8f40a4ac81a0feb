"""Exercises a learner can check: ``check("04.2", answer)`` says right or not, with a hint, never
the answer (every notebook's last section).

Each exercise with a checkable answer is registered under its id, ``"NN.k"``: exercise k of
notebook NN.  Its checker computes the right answer from the package itself (a parameter count
from :mod:`deepcolor.models`, an accuracy from :mod:`deepcolor.metrics`), so nothing is typed twice;
every import a checker needs happens inside it, so importing this module imports no Keras.
``needs`` names what an exercise needs that a profile may lack (``"imagenet"``: the ImageNet
embedder, which the offline fallback does not have).  Worked answers for teachers are in
``notebooks/SOLUTIONS.md``.

Writing one (in the module of its notebook group: :mod:`.course_start` for notebooks 00-03,
:mod:`.architectures` for 04-07, :mod:`.study_and_results` for 08-10):

- ``is_right`` takes the learner's answer; :func:`close_to` (numbers, or tuples of numbers) and
  :func:`one_of` (words) make one from the right answer, or from a function computing it.
- An answer that depends on the profile (its images, its split, its sizes) sets ``profile=True``:
  its ``is_right(answer, cfg)`` (and a function given to :func:`close_to`) then receives the
  notebook's :class:`deepcolor.config.Config`, which the notebook passes: ``check(id, answer, cfg)``.
- ``tests/test_exercises.py`` checks that every exercise accepts its right answer and rejects a wrong
  one.  It gets the right answer from :meth:`Exercise.right_answer`: give ``example_answer`` unless
  ``is_right`` comes from :func:`close_to` or :func:`one_of`, which know it.  :func:`check` never
  prints it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Exercise", "ALL", "check", "close_to", "one_of", "register"]


@dataclass(frozen=True)
class Exercise:
    """One checkable exercise.

    id: "NN.k"; question: one line; is_right(answer) -> bool (``is_right(answer, cfg)`` when
    ``profile``); hint: shown when the answer is wrong or missing, never the answer itself;
    needs: what the exercise needs beyond the smoke profile ("" when nothing; "imagenet": the
    ImageNet embedder); example_answer: for the tests only, ``() -> a right answer`` (``(cfg) ->``
    when ``profile``), optional when ``is_right`` comes from :func:`close_to` or :func:`one_of`;
    profile: True when the right answer depends on the profile (a share of its pixels, its split).
    """

    id: str
    question: str
    is_right: Callable[..., bool]
    hint: str
    needs: str = ""
    example_answer: Callable[..., object] | None = None
    profile: bool = False

    def right_answer(self, cfg=None):
        """A right answer (under ``cfg`` when ``profile``), for the tests; :func:`check` never shows it.
        Raises LookupError when the exercise has neither ``example_answer`` nor a checker that knows it."""
        context = (cfg,) if self.profile else ()
        if self.example_answer is not None:
            return self.example_answer(*context)
        expected = getattr(self.is_right, "expected", None)
        if expected is None:
            raise LookupError(f"exercise {self.id} cannot give its right answer: pass example_answer, or make "
                              "is_right with close_to or one_of")
        return expected(*context)


def _as_function(expected) -> Callable[..., object]:
    """``expected`` itself when callable, else a function of any arguments returning it."""
    return expected if callable(expected) else (lambda *context: expected)


def close_to(expected, rel: float = 0.01, abs_tol: float = 0.0) -> Callable[..., bool]:
    """A checker: the answer is a number within ``rel`` (relative) or ``abs_tol`` of ``expected``.

    expected: a number, a tuple of numbers (the answer must then be a sequence of as many, each
    close), or a function computing either, called at check time with the checker's extra
    arguments (none, or ``cfg`` for an exercise with ``profile=True``).  The checker's
    ``expected`` attribute is that function (:meth:`Exercise.right_answer` reads it)."""
    expected_of = _as_function(expected)

    def close(answer, want) -> bool:
        try:
            return math.isclose(float(answer), float(want), rel_tol=rel, abs_tol=abs_tol)
        except (TypeError, ValueError):
            return False

    def is_right(answer, *context) -> bool:
        want = expected_of(*context)  # computed first: an error here is a bug, not a wrong answer
        if isinstance(want, (tuple, list)):
            try:
                answers = list(answer)
            except TypeError:
                return False
            return len(answers) == len(want) and all(close(a, w) for a, w in zip(answers, want))
        return close(answer, want)

    is_right.expected = expected_of
    return is_right


def one_of(*words, expected=None) -> Callable[..., bool]:
    """A checker: the answer, as text, is one of ``words`` (case, spaces and quotes ignored).

    The checker's ``expected`` attribute gives ``expected`` (default: the first word)."""
    def norm(text) -> str:
        return " ".join(str(text).strip().strip("'\"").lower().split())

    accepted = {norm(w) for w in words}

    def is_right(answer, *context) -> bool:
        return answer is not None and norm(answer) in accepted

    is_right.expected = _as_function(words[0] if expected is None else expected)
    return is_right


ALL: dict[str, Exercise] = {}
"""Every checkable exercise, by id."""


def register(*exercises: Exercise) -> None:
    for exercise in exercises:
        ALL[exercise.id] = exercise


def check(exercise_id: str, answer, cfg=None) -> bool:
    """Print whether ``answer`` to exercise ``exercise_id`` is right, with a hint if not (never the
    answer), and return True or False.  ``answer=None`` means "not answered yet".

    cfg: the notebook's :class:`deepcolor.config.Config`, for an exercise whose answer depends on
    the profile (default: ``config.load()``, the profile of ``$DEEPCOLOR_PROFILE``); ignored by the others.
    Raises KeyError, naming the exercises, for an unknown id."""
    if exercise_id not in ALL:
        raise KeyError(f"no exercise {exercise_id!r}; the exercises are {', '.join(sorted(ALL))}")
    exercise = ALL[exercise_id]
    needs = f" (It needs {exercise.needs}.)" if exercise.needs else ""
    if answer is None:
        print(f"{exercise_id}: not answered yet. {exercise.question}{needs} Hint: {exercise.hint}")
        return False
    context, under = (), ""
    if exercise.profile:
        if cfg is None:
            from .config import load

            cfg = load()
        context, under = (cfg,), f" (checked under profile {cfg.name})"
        if exercise.needs == "imagenet" and cfg.embedding_mode != "imagenet":
            print(f"{exercise_id}: cannot be checked under profile {cfg.name}: it needs the ImageNet "
                  f"embedder, and this profile's is {cfg.embedding_mode}.")
            return False
    try:
        right = bool(exercise.is_right(answer, *context))
    except (TypeError, ValueError):  # a malformed answer is a wrong answer, not a crash
        right = False
    print(f"{exercise_id}: right{under}." if right else f"{exercise_id}: not yet{under}. Hint: {exercise.hint}{needs}")
    return right


# The exercises, by notebook group; importing them registers them in ALL.
from . import architectures, course_start, study_and_results  # noqa: E402,F401
