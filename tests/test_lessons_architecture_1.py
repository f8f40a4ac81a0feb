"""deepcolor.lessons.architecture_1: what halving the parameters costs (notebook 05).

The cost table is built from runs trained on 12 random 32x32 images at input 16 for one epoch, in a
private runs folder (the fixture ``tiny`` in tests/conftest.py).
"""

import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepcolor import comparison, paper  # noqa: E402
from deepcolor.comparison import LEVEL, UNSEEN  # noqa: E402
from deepcolor.lessons import architecture_1  # noqa: E402


def test_cost_columns_are_read_from_the_layer_tables():
    from deepcolor import models

    cost = architecture_1.cost_columns(["base", "arch1"], 32)
    assert list(cost.columns) == ["params", "GFLOP @ 224", "GFLOP @ 32"]
    assert cost.loc["arch1", "params"] == paper.PAPER_PARAMS["arch1"]
    assert cost.loc["base", "GFLOP @ 32"] == pytest.approx(models.flops("base", 32) / 1e9)
    assert list(architecture_1.cost_columns(["arch3"], 224).columns) == ["params", "GFLOP @ 224"]


def test_cost_table_sets_the_runs_side_by_side(tiny):
    from deepcolor.metrics import METRICS

    cfg, ds, emb, split, runs_dir = tiny
    results = {arch: comparison.evaluate_test_sets(cfg.train_or_load(arch, ds, emb, split, verbose=0, runs_dir=runs_dir),
                                                   ds, split, emb) for arch in ("base", "arch1")}
    table = architecture_1.cost_table(results, cfg)
    rows = table.xs(UNSEEN, level=LEVEL)  # the only test set of random arrays, which have no held-out crops
    assert list(table.index.unique(LEVEL)) == [UNSEEN]
    assert list(rows.index) == ["base", "arch1", "gray baseline", "mean-ab baseline"]
    assert list(table.columns) == ["params", "GFLOP @ 224", "GFLOP @ 16", *METRICS, "images", "note"]
    for name in ("base", "arch1"):
        assert rows.loc[name, "params"] == paper.PAPER_PARAMS[name]
        assert rows.loc[name, "ab_mse"] == results[name].loc[(UNSEEN, "model"), "ab_mse"]
    assert np.isnan(rows.loc["gray baseline", "params"])
    shown = architecture_1.show_cost_table(table)
    assert f"{UNSEEN}: {len(split.test)} images" in shown.caption and "profile: smoke" in shown.caption
    assert "6,606,994" in shown.to_html()
