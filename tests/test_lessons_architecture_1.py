"""deepcolor.lessons.architecture_1: what halving the parameters costs (notebook 05).

Training tests use 12 random 32x32 images at input 16 for one epoch, in a private runs folder
(the fixtures ``tiny`` and ``lesson`` in tests/conftest.py).
"""

import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepcolor import paper  # noqa: E402
from deepcolor.comparison import LEVEL, UNSEEN  # noqa: E402
from deepcolor.lessons import architecture_1  # noqa: E402



def test_epoch_time_is_positive(tiny):
    cfg, ds, emb, split, _ = tiny
    assert architecture_1.epoch_time(cfg, ds, emb, split, "arch3", max_batches=1) > 0


def test_cost_table_columns_and_params(tiny, lesson):
    from deepcolor import models
    from deepcolor.metrics import METRICS

    cfg, ds, emb, split, runs_dir = tiny
    table = architecture_1.cost_table(cfg, ds, emb, split, lessons=[lesson], verbose=0, runs_dir=runs_dir)
    rows = table.xs(UNSEEN, level=LEVEL)  # the only test set of random arrays, which have no held-out crops
    assert list(table.index.unique(LEVEL)) == [UNSEEN]
    assert list(rows.index) == ["base", "arch1", "gray baseline", "mean-ab baseline"]
    assert list(table.columns) == ["params", "GFLOP @ 224", "GFLOP @ 16", architecture_1.TIME_COLUMN, *METRICS,
                                   "images", "note", "run", "profile", "embedding_mode"]
    for name in ("base", "arch1"):
        assert rows.loc[name, "params"] == paper.PAPER_PARAMS[name]
        assert rows.loc[name, "GFLOP @ 16"] == pytest.approx(models.flops(name, 16) / 1e9)
        assert rows.loc[name, architecture_1.TIME_COLUMN] > 0
    assert rows.loc["arch1", "ab_mse"] == lesson.results.loc[(UNSEEN, "model"), "ab_mse"]
    assert rows.loc["arch1", "run"] == lesson.run.run_dir.name
    assert rows.loc["base", "run"].endswith("-base-lr0.001-b8-l20")
    assert np.isnan(rows.loc["gray baseline", "params"])
    shown = architecture_1.show_cost_table(table)
    assert f"{UNSEEN}: {len(split.test)} images" in shown.caption and "this machine" in shown.caption
