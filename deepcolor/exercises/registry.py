"""The exercise registry: :class:`Exercise`, the checkers :func:`close_to` and :func:`one_of`,
:data:`ALL` and :func:`check` (every notebook's last section, through :mod:`deepcolor.exercises`).

The modules of the exercises (:mod:`.course_start`, :mod:`.architectures`, :mod:`.study_and_results`)
import this module, never the package, so that the package can import them without a loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..config import load

__all__ = ["Exercise", "ALL", "check", "close_to", "one_of", "register", "training_images"]


@dataclass(frozen=True)
class Exercise:
    """One checkable exercise.

    id: "NN.k"; question: one line; is_right(answer) -> bool (``is_right(answer, cfg)`` when
    ``profile``); hint: shown when the answer is wrong or missing, never the answer itself;
    needs: what the exercise needs beyond the smoke profile ("" when nothing; "imagenet": the
    ImageNet embedder); profile: True when the right answer depends on the profile (a share of its
    pixels, its split).
    """

    id: str
    question: str
    is_right: Callable[..., bool]
    hint: str
    needs: str = ""
    profile: bool = False


def close_to(expected, rel: float = 0.01, abs_tol: float = 0.0) -> Callable[..., bool]:
    """A checker: the answer is a number within ``rel`` (relative) or ``abs_tol`` of ``expected``.

    expected: a number, a tuple of numbers (the answer must then be a sequence of as many, each
    close), or a function computing either, called at check time with the checker's extra
    arguments (none, or ``cfg`` for an exercise with ``profile=True``)."""
    expected_of = expected if callable(expected) else (lambda *context: expected)

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

    return is_right


def one_of(*words) -> Callable[..., bool]:
    """A checker: the answer, as text, is one of ``words`` (case, spaces and quotes ignored)."""
    def norm(text) -> str:
        return " ".join(str(text).strip().strip("'\"").lower().split())

    accepted = {norm(w) for w in words}

    def is_right(answer, *context) -> bool:
        return answer is not None and norm(answer) in accepted

    return is_right


def training_images(cfg) -> int:
    """How many training images the profile of ``cfg`` (a :class:`deepcolor.config.Config`) has:
    its dataset's split's train part, which every count of weight updates starts from."""
    return len(cfg.split(cfg.dataset()).train)


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
