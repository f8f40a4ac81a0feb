"""deepcolor.lessons.architectures: each model's layers beside the paper's figure, the four side by side."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from deepcolor import paper  # noqa: E402
from deepcolor.lessons import architectures  # noqa: E402


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


def test_compare_architectures():
    from deepcolor import models

    df = architectures.compare_architectures((224, 32))
    assert list(df.index) == list(paper.ARCHITECTURES)
    assert df["matches paper"].all()
    assert df.loc["base", "GFLOP @ 224"] == pytest.approx(15.08, abs=0.01)
    assert df.loc["arch3", "GFLOP @ 32"] == pytest.approx(models.flops("arch3", 32) / 1e9, abs=1e-3)
    assert df.loc["base", "params vs base"] == 1.0
