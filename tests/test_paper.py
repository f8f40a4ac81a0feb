"""The paper's results table, checked against a transcription of the paper's figures 12-20."""

import dataclasses
import math

import pytest

from deepcolor import paper

# The results table as printed in the design reference (figure | model | lr | batch | l2 | val | test).
PAPER_MARKDOWN = """
| 12 | arch1 | 0.01 | 5 | 0.01 | 0.567035 | 0.5496931 |
| 13 | arch2 | 0.01 | 5 | 0.01 | 0.5714356 | 0.5394033 |
| 14 | base | 0.01 | 50 | 0.01 | no learning | |
| 15 | base | 0.001 | 5 | 0.01 | 0.5881328 | 0.55679 |
| 16 | base | 0.00001 | 5 | 0.01 | 0.52240014 | 0.5577577 |
| 17 | base | 0.1 | 5 | 0.01 | 0.49233896 (loss NaN) | 0.47044206 |
| 18 | base | 0.001 | 5 | 0.1 | 0.57672495 | 0.54632795 |
| 19 | base | 0.01 | 5 | 0.01 | 0.584938 | 0.55964506 |
| 20 | base | 0.0001 | 5 | 0.01 | 0.57347536 | 0.568752 (headline 56.88%) |
"""


def _number(cell):
    word = cell.split(" ")[0]
    try:
        return float(word)
    except ValueError:
        return None


def _markdown_rows():
    for line in PAPER_MARKDOWN.strip().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        yield int(cells[0]), cells[1], float(cells[2]), int(cells[3]), float(cells[4]), cells[5], cells[6]


def test_rows_match_the_paper():
    expected = list(_markdown_rows())
    assert len(paper.PAPER_RESULTS) == len(expected) == 9
    for row, (figure, model, lr, batch, l2, val, test) in zip(paper.PAPER_RESULTS, expected):
        assert (row.figure, row.model, row.batch) == (figure, model, batch)
        assert row.lr == pytest.approx(lr, rel=1e-12) and row.l2 == pytest.approx(l2, rel=1e-12)
        assert row.val == _number(val) and row.test == _number(test)


def test_figure_14_has_no_numbers_and_17_notes_the_nan_loss():
    rows = {r.figure: r for r in paper.PAPER_RESULTS}
    assert rows[14].val is None and rows[14].test is None and rows[14].note == "no learning"
    assert "loss NaN" in rows[17].note
    numbered = [r for r in paper.PAPER_RESULTS if r.figure != 14]
    assert all(r.val is not None and r.test is not None for r in numbered)


def test_headline_is_figure_20_and_the_best_test_value():
    tests = {r.figure: r.test for r in paper.PAPER_RESULTS if r.test is not None}
    assert paper.HEADLINE_TEST_ACCURACY == 0.568752 == tests[20]
    assert max(tests.values()) == paper.HEADLINE_TEST_ACCURACY
    assert round(100 * paper.HEADLINE_TEST_ACCURACY, 2) == 56.88
    assert all(0.4 < v < 0.6 for v in tests.values())  # all close to chance: the point of notebook 09


def test_rows_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        paper.PAPER_RESULTS[0].test = 0.99


def test_results_table():
    table = paper.results_table()
    assert list(table.columns) == ["figure", "model", "lr", "batch", "l2", "val", "test", "note"]
    assert list(table["figure"]) == list(range(12, 21))
    fig14 = table.set_index("figure").loc[14]
    assert math.isnan(fig14["val"]) and math.isnan(fig14["test"])
    assert table["test"].max() == paper.HEADLINE_TEST_ACCURACY
    assert table.loc[table["val"].idxmax(), "figure"] == 15
    assert set(table["model"]) == {"base", "arch1", "arch2"}
    assert table["lr"].min() == 1e-5 and table["lr"].max() == 0.1  # the paper's range, 0.1 to 1e-5
