"""The course's conventions, checked on the notebook files (running them is nbval's job)."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = [
    "00_start_here", "01_lab_color_space", "02_dataset", "03_embeddings", "04_base_model",
    "05_architecture_1", "06_architecture_2", "07_architecture_3", "08_hyperparameter_study",
    "09_results", "10_colorize_your_own", "11_colour_as_classes",
]
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def cells(path, kind=None):
    nb = json.loads(path.read_text())
    return [c for c in nb["cells"] if kind is None or c["cell_type"] == kind]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_the_course_map_is_complete_and_numbered():
    assert [p.stem for p in PATHS] == EXPECTED
    for i, path in enumerate(PATHS):
        assert re.fullmatch(rf"{i:02d}_[a-z0-9_]+", path.stem), path.name


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    for cell in cells(path, "code"):
        assert cell.get("outputs") == [] and cell.get("execution_count") is None, (
            f"{path.name}: clear the outputs before committing (Kernel > Restart and Clear Outputs)")


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_tagged_parameters_cell(path):
    first = cells(path, "code")[0]
    assert "parameters" in first.get("metadata", {}).get("tags", []), f"{path.name}: tag the first code cell 'parameters'"
    text = source(first)
    assert "import deepcolor" in text or "from deepcolor" in text
    assert "config.load(" in text and "config.show(" in text, f"{path.name}: the first cell loads and shows the profile"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_opens_with_goals_and_ends_with_recap_and_exercises(path):
    md = [source(c) for c in cells(path, "markdown")]
    assert cells(path)[0]["cell_type"] == "markdown" and md[0].lstrip().startswith("#")
    assert any(re.search(r"recap", m, re.I) for m in md), f"{path.name}: no recap"
    exercises = next((m for m in reversed(md) if re.search(r"exercise", m, re.I)), None)
    assert exercises is not None, f"{path.name}: no exercises"
    items = re.findall(r"^\s*(?:\d+\.|[-*])\s+\S", exercises, re.M)
    assert 2 <= len(items) <= 4, f"{path.name}: {len(items)} exercises, the course asks for 2 to 4"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_sliders_that_train_do_not_update_continuously(path):
    for cell in cells(path, "code"):
        text = source(cell)
        if re.search(r"\binteract", text) and re.search(r"train|slider_run|study", text):
            assert "continuous_update=False" in text or "interact_manual" in text, (
                f"{path.name}: a slider that trains must use continuous_update=False:\n{text}")


SHOW_THE_CODE = "show-the-code"
"""The tag of the one cell that may exceed the line limit: 04's base model written out in plain Keras,
one line per layer (still no ``def`` or ``class``)."""
SHOW_THE_CODE_NOTEBOOKS = {"04_base_model"}
SHOW_THE_CODE_MAX_LINES = 35


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_cells_are_short_calls_not_logic(path):
    for cell in cells(path, "code"):
        text = source(cell)
        limit = SHOW_THE_CODE_MAX_LINES if SHOW_THE_CODE in tags(cell) and path.stem in SHOW_THE_CODE_NOTEBOOKS else 25
        assert len(text.splitlines()) <= limit, f"{path.name}: a cell of {len(text.splitlines())} lines belongs in deepcolor"
        assert not re.search(r"^\s*(def|class) ", text, re.M), f"{path.name}: define functions in deepcolor, not in a notebook"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_show_the_code_cell_only_where_allowed_and_only_once(path):
    tagged = [cell for cell in cells(path, "code") if SHOW_THE_CODE in tags(cell)]
    if path.stem in SHOW_THE_CODE_NOTEBOOKS:
        assert len(tagged) == 1, f"{path.name}: exactly one cell is tagged {SHOW_THE_CODE!r}, found {len(tagged)}"
    else:
        assert not tagged, f"{path.name}: only {sorted(SHOW_THE_CODE_NOTEBOOKS)} may tag a cell {SHOW_THE_CODE!r}"
