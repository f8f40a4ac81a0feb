"""deepcolor.lessons.architectures: each model's layers beside the paper's figure and the data table
of notebooks 05-07 (their exercises: tests/test_exercises.py); and the steps 05-07 share, which are
the same lines in the three notebooks.

The data table uses 12 random 32x32 images (the fixture ``tiny`` in tests/conftest.py).
"""

import matplotlib

matplotlib.use("Agg")


import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepcolor import data, paper  # noqa: E402
from deepcolor.lessons import architectures  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.parametrize("name", paper.ARCHITECTURES)
def test_layer_table_vs_paper_totals_equal_the_paper(name):
    from deepcolor import models

    table = architectures.layer_table_vs_paper(name)
    total = table.iloc[-1]
    assert total["stage"] == "total"
    assert total["params"] == paper.PAPER_PARAMS[name] and total["matches paper"]
    assert f"{paper.PAPER_PARAMS[name]:,} params (figure {paper.ARCHITECTURE_FIGURES[name]})" == total["paper"]
    assert table["matches paper"].all()
    assert total["flops"] == models.flops(name, 224)
    assert table.iloc[:-1]["params"].sum() == paper.PAPER_PARAMS[name]
    # the paper's list, read back from the table, is the design reference's list
    assert (table["paper"] == "concat embedding").sum() == 1


def test_layer_table_vs_paper_reads_a_built_model():
    from deepcolor import models

    model = models.build_model("arch3", 32)
    table = architectures.layer_table_vs_paper("arch3", 32, model=model)
    assert table.iloc[-1]["params"] == model.count_params() == paper.PAPER_PARAMS["arch3"]
    assert table.iloc[-2]["output"] == "32x32x2"


def test_layer_table_vs_paper_flags_a_wrong_architecture(monkeypatch):
    wrong = dict(paper.TABLES["arch3"])
    wrong["encoder"] = wrong["encoder"][:-1]  # drop the last encoder conv
    monkeypatch.setitem(paper.TABLES, "arch3", wrong)
    table = architectures.layer_table_vs_paper("arch3")
    assert not table.iloc[-1]["matches paper"]
    assert (table["name"] == "(missing)").sum() == 1
    assert not table["matches paper"].all()


def test_data_table_names_the_parts(tiny):
    cfg, ds, _, split, _ = tiny
    table = architectures.data_table(cfg, ds, split)
    assert table.loc["test", "smoke"] == len(split.test) and table.loc["train", "smoke"] == len(split.train)
    assert table.loc["test_seen", "smoke"] == 0  # random arrays have no held-out crops
    assert "test images from a photo also in train" not in table.index  # random arrays name no photos
    assert table.loc["model input", "smoke"] == "16x16"


SHARED_STEPS = ("cell-04", "cell-08", "cell-09", "cell-11", "measure", "paper-runs")
"""The code cells notebooks 05-07 share (data; train or load; curves; colorize; measure; the paper's runs),
by the end of their cell ids: they must read the same, line for line."""


def code_of(notebook, cell_id):
    cells = json.loads(next(NOTEBOOKS.glob(f"{notebook}_*.ipynb")).read_text())["cells"]
    return "".join(next(c for c in cells if c["id"] == f"{notebook}-{cell_id}")["source"])


@pytest.mark.parametrize("step", SHARED_STEPS)
def test_architecture_notebooks_share_their_steps_line_for_line(step):
    first, *others = (code_of(n, step) for n in ("05", "06", "07"))
    assert all(other == first for other in others), f"cell {step} differs between notebooks 05, 06 and 07"


@pytest.mark.parametrize("notebook, arch", [("05", "arch1"), ("06", "arch2"), ("07", "arch3")])
def test_architecture_notebooks_name_their_architecture_once(notebook, arch):
    build = code_of(notebook, "cell-06")  # every shared step after it reads `arch`
    assert build.startswith(f'arch = "{arch}"\n') and "models.build_model(arch, " in build


def test_photos_shared_with_train_counts_shared_photos():
    ds = data.LabDataset.from_arrays(np.zeros((4, 8, 8), np.float32), np.zeros((4, 8, 8, 2), np.float32))
    assert architectures.photos_shared_with_train(ds, ([0], [1], [2, 3])) is None  # no photo names

    class Named:
        groups = np.array(["cat", "cat", "dog", "cat"])

    assert architectures.photos_shared_with_train(Named(), ([0], [1], [2, 3])) == 1
