"""deepcolor.exercises: every registered exercise accepts its right answer, written out here, and
rejects near misses; ``check`` never prints the answer; importing the package stays free of Keras and
of import loops.

Profile-dependent exercises are checked under ``smoke`` (the session's private DEEPCOLOR_HOME);
an exercise that needs what smoke lacks (the ImageNet embedder) is skipped, saying so.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deepcolor import config, exercises

IDS = sorted(exercises.ALL)
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXERCISES = Path(exercises.__file__).resolve().parent

# Each exercise's right answer under the smoke profile, written out by hand (how, in the comment;
# the worked answers are in notebooks/SOLUTIONS.md), and near misses its checker must reject.
# smoke: 32x32 images, 2 epochs in batches of 8, 1 study epoch, 18 training photos; full: 224x224,
# 20 study epochs; the paper: 2,500 epochs of 15,000 training photos in batches of 5 (figure 20).
PINNED = {
    "00.2": (49, [48, 50, 49.4, 7]),  # (224 / 32) ** 2, exact; 7 is the ratio of the sides
    "00.3": (125, [124, 126, 123, 2500]),  # 2,500 / 20, exact
    "01.1": (-33, [-34, -32, -35, -31]),  # exact: -34 is already out of sRGB, the off-by-one the exercise tests
    "01.2": (55, [50, 60, 54, 56, 52.5, 57.5]),  # exact: the slider takes 0, 5, ..., 100 only; 50 and 60 share less
    "02.2": (11.58, [11.5, 11.7, 9.5]),  # measured on the sample's 18 training crops; 9.5: all 68 crops'
    "03.1": (-0.98, [-0.97, -0.99, 1.0]),  # image 0's white pixel: 100 / 100 * 2.55 / 127.5 - 1
    "03.2": ((984_704, 784_000), [(984_703, 784_000), (984_704, 784_001), (784_000, 984_704), 984_704]),
    # 28 x 28 positions (224 halved three times) x (256 encoder + 1000 embedding channels), and x 1000
    "04.1": (321_792, [321_536, 321_791]),  # 1 x 1 x 1256 x 256 + 256 biases; 321,536 forgets the biases
    "04.2": ((7_500_000, 6), [(7_500_000, 4), (37_500_000, 6), (7_500_000, 7), 7_500_000]),
    # 2,500 x 15,000 / 5 and 2 x ceil(18 / 8); 4 drops the last, smaller batch; 37,500,000 counts photos
    "05.1": (0.5312, [0.52, 0.4688]),  # 3,509,522 / 6,606,994 parameters (figures 6 and 4)
    "05.2": (0.448, [0.44, 0.5312]),  # 6.756 / 15.079 GFLOP at 224 (the paper's 6.8 / 15.1 is within 1 %)
    "06.1": (1256, [1255, 256, 1000]),  # arch2's encoder ends with 256 channels, the embedding adds 1000
    "06.2": (256_000, [256_256, 321_792]),  # 1000 x 256 filters, no biases; 321,792 is all of fusion_conv1
    "07.1": (47, [46, 75]),  # 1 + 2 x (1 + 2 + 4 + 8 + 8); 75 is the base model's
    "07.2": (15.1, [14.8, 6.6]),  # 15.079 / 0.995 GFLOP (DESIGN's 15.1 / 1.0), checked to 2 %
    "08.2": (4, [3, 10]),  # ceil(18 / 5) = 4 updates an epoch at batch 5, ceil(18 / 50) = 1 at batch 50
    "08.3": (4, [3, 8]),  # 1 study epoch x ceil(18 / 5); 8 would be the 2 epochs of a run
    "09.2": (0.3069, [0.3079, 0.6931]),  # measured on the 18 test crops; 0.6931 is 1 - p
    "10.2": (26.5, [25, 28, 25.9, 27.1, 1 / 26.5]),  # 6,606,994 / 249,170 parameters (figures 4 and 10)
}

# Other answers a checker must accept, where the notebooks' prose rounds: notebook 07 says "26 times
# fewer" parameters for arch3, and 27 is the nearest whole number to 26.52.
ALSO_RIGHT = {"10.2": [26, 27, 26.52, "26"]}

# The exercises whose answer depends on the profile: ``check`` without ``cfg`` must load it itself.
PROFILE_IDS = sorted(i for i, exercise in exercises.ALL.items() if exercise.profile)


@pytest.fixture(scope="module")
def smoke():
    return config.load("smoke")


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


def skip_without_imagenet(exercise, cfg):
    if exercise.needs == "imagenet" and cfg.embedding_mode != "imagenet":
        pytest.skip(f"{exercise.id} needs the ImageNet embedder; smoke has the {cfg.embedding_mode} one")


def test_every_exercise_has_its_right_answer_written_out():
    assert sorted(PINNED) == IDS, "add the exercise's right answer under smoke, and near misses, to PINNED"


@pytest.mark.parametrize("exercise_id", IDS)
def test_accepts_the_right_answer_and_rejects_near_misses(exercise_id, smoke, capsys):
    exercise = exercises.ALL[exercise_id]
    skip_without_imagenet(exercise, smoke)
    right, misses = PINNED[exercise_id]
    assert exercises.check(exercise_id, right, smoke) is True
    assert "right" in capsys.readouterr().out
    for miss in misses:
        assert exercises.check(exercise_id, miss, smoke) is False, f"{exercise_id} accepts {miss!r}"
        out = capsys.readouterr().out
        assert "not yet" in out and exercise.hint in out
        assert not leaks(out.replace(str(miss), ""), right), f"{exercise_id}: check printed the answer: {out}"


@pytest.mark.parametrize("exercise_id", sorted(ALSO_RIGHT))
def test_accepts_what_the_prose_rounds_to(exercise_id, smoke, capsys):
    for answer in ALSO_RIGHT[exercise_id]:
        assert exercises.check(exercise_id, answer, smoke) is True, f"{exercise_id} rejects {answer!r}"


def test_the_profile_exercises_are_the_documented_ones():
    assert PROFILE_IDS == ["02.2", "03.1", "04.2", "08.2", "08.3", "09.2"]


@pytest.mark.parametrize("exercise_id", PROFILE_IDS)
def test_cfg_is_optional_and_defaults_to_config_load(exercise_id, capsys, monkeypatch):
    """``check(id, answer)`` without ``cfg`` checks under ``config.load()``, as its docstring says."""
    monkeypatch.setenv("DEEPCOLOR_PROFILE", "smoke")
    right, misses = PINNED[exercise_id]
    assert exercises.check(exercise_id, right) is True
    assert exercises.check(exercise_id, misses[0]) is False
    out = capsys.readouterr().out
    assert "right (checked under profile smoke)" in out and "not yet (checked under profile smoke)" in out


@pytest.mark.parametrize("exercise_id", IDS)
def test_no_answer_is_not_right_and_shows_the_question_not_the_answer(exercise_id, capsys):
    exercise = exercises.ALL[exercise_id]
    assert re.fullmatch(r"\d\d\.\d+", exercise_id) and exercise.id == exercise_id
    assert exercises.check(exercise_id, None) is False
    assert exercises.check(exercise_id, "no idea") is False
    out = capsys.readouterr().out
    assert "not answered yet" in out and exercise.question in out
    assert not leaks(out, PINNED[exercise_id][0]), f"{exercise_id}: the question or hint gives the answer"


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
    per_profile = exercises.close_to(lambda cfg: cfg * 2, rel=0, abs_tol=0.5)
    assert per_profile(8.4, 4) and not per_profile(9, 4)
    word = exercises.one_of("arch3", "architecture 3")
    assert word(" Arch3 ") and word("'architecture  3'") and not word("arch2") and not word(None)
    assert exercises.close_to(100)(100.9) and not exercises.close_to(100)(102)


def test_a_profile_exercise_is_checked_under_the_config_given(capsys):
    profiled = exercises.Exercise("99.3", "?", lambda a, cfg: a == cfg.name, "the profile's name", profile=True)
    exercises.ALL["99.3"] = profiled
    try:
        assert exercises.check("99.3", "smoke", config.load("smoke")) is True
        assert exercises.check("99.3", "smoke", config.Config(config.PROFILES["full"])) is False
    finally:
        del exercises.ALL["99.3"]
    out = capsys.readouterr().out
    assert "right (checked under profile smoke)" in out and "not yet (checked under profile full)" in out


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


def test_the_exercise_modules_import_the_registry_not_their_package():
    """The package imports its exercise modules; were they to import it back, the two would form an
    import loop (a module half-initialised while the other reads it)."""
    for path in sorted(EXERCISES.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                package = node.level == 1 and node.module is None
                absolute = node.level == 0 and node.module == "deepcolor.exercises"
                assert not (package or absolute), f"{path.name}:{node.lineno} imports its package; import .registry"
