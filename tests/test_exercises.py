"""deepcolor.exercises: every registered exercise accepts its right answer and rejects a wrong one,
``check`` never prints the answer, and importing the module stays free of Keras.

Profile-dependent exercises are checked under ``smoke`` (the session's private DEEPCOLOR_HOME);
an exercise that needs what smoke lacks (the ImageNet embedder) is skipped, saying so.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deepcolor import config, exercises

IDS = sorted(exercises.ALL)
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def smoke():
    return config.load("smoke")


def wrong_answer(right):
    """An answer that is surely wrong, shaped like ``right``: far from a number, a different word."""
    if isinstance(right, bool):
        return not right
    if isinstance(right, (int, float)):
        wrong = 3 * right + 7
        return wrong if abs(wrong - right) > 1 else right + 1000
    if isinstance(right, str):
        return f"not {right}"
    if isinstance(right, (tuple, list)):
        return type(right)(wrong_answer(r) for r in right)
    raise TypeError(f"no wrong answer for {right!r}: teach wrong_answer this type")


def shown_forms(right):
    """How ``right`` could appear in printed text: its numbers as written, rounded or with commas
    (integers below 10 are left out: "batch 5" in a question is not a leak); a word itself."""
    if isinstance(right, (tuple, list)):
        return [form for r in right for form in shown_forms(r)]
    if isinstance(right, str):
        return [right] if len(right) >= 3 else []
    x = float(right)
    if x.is_integer():
        return [] if abs(x) < 10 else [str(int(x)), f"{int(x):,}"]
    return [f"{x:g}", f"{x:.1f}", f"{x:.2f}", f"{x:.3f}", f"{x:.1%}", f"{x:.2%}"]


def leaks(text, right) -> list:
    return [form for form in shown_forms(right)
            if re.search(rf"(?<![\d.,]){re.escape(form)}(?![\d,]|\.\d)", text)]


def right_answer_or_skip(exercise, cfg):
    if exercise.needs == "imagenet" and cfg.embedding_mode != "imagenet":
        pytest.skip(f"{exercise.id} needs the ImageNet embedder; smoke has the {cfg.embedding_mode} one")
    try:
        return exercise.right_answer(cfg)
    except LookupError as exc:
        pytest.fail(str(exc))


@pytest.mark.parametrize("exercise_id", IDS)
def test_accepts_the_right_answer_and_rejects_a_wrong_one(exercise_id, smoke, capsys):
    exercise = exercises.ALL[exercise_id]
    right = right_answer_or_skip(exercise, smoke)
    assert exercises.check(exercise_id, right, smoke) is True
    assert "right" in capsys.readouterr().out
    wrong = wrong_answer(right)
    assert exercises.check(exercise_id, wrong, smoke) is False
    out = capsys.readouterr().out
    assert "not yet" in out and exercise.hint in out
    assert not leaks(out.replace(str(wrong), ""), right), f"{exercise_id}: check printed the answer: {out}"


@pytest.mark.parametrize("exercise_id", IDS)
def test_no_answer_is_not_right_and_shows_the_question_not_the_answer(exercise_id, smoke, capsys):
    exercise = exercises.ALL[exercise_id]
    assert re.fullmatch(r"\d\d\.\d+", exercise_id) and exercise.id == exercise_id
    assert exercises.check(exercise_id, None) is False
    out = capsys.readouterr().out
    assert "not answered yet" in out and exercise.question in out
    if not (exercise.needs == "imagenet" and smoke.embedding_mode != "imagenet"):
        assert not leaks(out, exercise.right_answer(smoke)), f"{exercise_id}: the question or hint gives the answer"


@pytest.mark.parametrize("exercise_id", IDS)
def test_each_exercise_has_its_check_cell_in_its_notebook(exercise_id):
    (path,) = NOTEBOOKS.glob(f"{exercise_id[:2]}_*.ipynb")
    cells = json.loads(path.read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert any(f'exercises.check("{exercise_id}"' in text for text in code), (
        f"{path.name}: add a cell `answer = None  # your answer` / `exercises.check(\"{exercise_id}\", answer)`")


def test_every_check_cell_names_a_registered_exercise():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for exercise_id in re.findall(r'exercises\.check\("([^"]+)"', "".join(cell["source"])):
                assert exercise_id in exercises.ALL, f"{path.name} checks {exercise_id}, which is not registered"


def test_unknown_id_raises_naming_the_exercises():
    with pytest.raises(KeyError, match="99.9") as info:
        exercises.check("99.9", 1)
    assert all(exercise_id in str(info.value) for exercise_id in IDS)


def test_malformed_answers_are_wrong_not_errors(capsys):
    exercise = exercises.Exercise("99.1", "How many?", exercises.close_to(12.0), "count them")
    exercises.ALL["99.1"] = exercise
    try:
        for answer in ("twelve", [1, 2], object(), "12"):
            assert exercises.check("99.1", answer) is (answer == "12")
    finally:
        del exercises.ALL["99.1"]
    assert "12" not in capsys.readouterr().out.replace("99.1", "")


def test_close_to_takes_functions_and_pairs_and_one_of_words():
    pair = exercises.close_to(lambda: (10, 20.0), rel=0)
    assert pair((10, 20)) and pair([10.0, 20]) and not pair((10, 21)) and not pair(10) and not pair((10,))
    assert pair.expected() == (10, 20.0)
    per_profile = exercises.close_to(lambda cfg: cfg * 2, rel=0, abs_tol=0.5)
    assert per_profile(8.4, 4) and not per_profile(9, 4) and per_profile.expected(4) == 8
    word = exercises.one_of("arch3", "architecture 3")
    assert word(" Arch3 ") and word("'architecture  3'") and not word("arch2") and not word(None)
    assert word.expected() == "arch3"
    assert exercises.close_to(100)(100.9) and not exercises.close_to(100)(102)


def test_right_answer_needs_an_example_or_a_knowing_checker():
    blind = exercises.Exercise("99.2", "?", lambda answer: answer == 3, "think")
    with pytest.raises(LookupError, match="99.2"):
        blind.right_answer()
    assert exercises.Exercise("99.2", "?", lambda a: a == 3, "think", example_answer=lambda: 3).right_answer() == 3
    profiled = exercises.Exercise("99.3", "?", lambda a, cfg: a == cfg.name, "the profile's name", profile=True,
                                  example_answer=lambda cfg: cfg.name)
    exercises.ALL["99.3"] = profiled
    try:
        cfg = config.load("smoke")
        assert profiled.right_answer(cfg) == "smoke" and exercises.check("99.3", "smoke", cfg)
    finally:
        del exercises.ALL["99.3"]


def test_an_imagenet_exercise_is_not_checked_without_imagenet(capsys):
    needy = exercises.Exercise("99.4", "?", lambda a, cfg: True, "labels", needs="imagenet", profile=True)
    exercises.ALL["99.4"] = needy
    try:
        assert exercises.check("99.4", "anything", config.load("smoke")) is False
    finally:
        del exercises.ALL["99.4"]
    assert "needs the ImageNet embedder" in capsys.readouterr().out


def test_importing_exercises_imports_no_keras():
    code = ("import sys, deepcolor.exercises as e; assert e.ALL; "
            "heavy = [m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules]; "
            "assert not heavy, heavy")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
