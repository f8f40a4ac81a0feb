"""deepcolor.lessons.architecture_3: the receptive-field table and figure, and latency (notebook 07).
The receptive field itself is :func:`deepcolor.models.receptive_field` (tests/test_models.py).

Nothing here trains: the models are built with random weights, which time does not depend on.
"""

import matplotlib

matplotlib.use("Agg")

from dataclasses import replace  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepcolor import config, paper  # noqa: E402
from deepcolor.lessons import architecture_3  # noqa: E402

from figure_checks import texts_of  # noqa: E402


def test_receptive_field_table_and_figure():
    table = architecture_3.receptive_field_table()
    assert list(table.index) == list(paper.ARCHITECTURES)
    assert table.loc["base", "encoder field (px)"] == 75 and table.loc["base", "encoder map"] == "28x28x256"
    assert table.loc["arch3", "output field, largest (px)"] == 87
    fig = architecture_3.receptive_field_figure(np.full((64, 64), 50.0, np.float32), caption="where")
    assert len(fig.axes) == 4 and "75 px" in fig.axes[0].get_title() and fig._suptitle.get_text() == "where"
    assert len(fig.axes[0].patches) == 2


def test_latency_is_positive_for_every_architecture():
    table = architecture_3.latency(sizes=(16, 32), repeats=2)
    assert list(table.index) == list(paper.ARCHITECTURES)
    assert list(table.columns) == ["ms @ 16", "ms @ 32"]
    assert (table.to_numpy() > 0).all() and np.isfinite(table.to_numpy()).all()
    with pytest.raises(ValueError, match="repeats"):
        architecture_3.latency(("arch3",), repeats=0)


def test_speed_table_columns_and_figure():
    from deepcolor import models

    cfg = config.Config(replace(config.PROFILES["smoke"], input_size=16))
    table = architecture_3.speed_table(cfg, names=("arch2", "arch3"), repeats=1)
    assert list(table.columns) == ["params", "GFLOP @ 16", "ms @ 16", "GFLOP/s @ 16",
                                   "GFLOP @ 224", "ms @ 224", "GFLOP/s @ 224"]
    assert table.loc["arch3", "params"] == paper.PAPER_PARAMS["arch3"]
    assert table.loc["arch2", "GFLOP @ 224"] == pytest.approx(models.flops("arch2", 224) / 1e9)
    assert table.loc["arch3", "GFLOP/s @ 224"] == pytest.approx(table.loc["arch3", "GFLOP @ 224"]
                                                                / table.loc["arch3", "ms @ 224"] * 1000)
    assert "this machine" in table.attrs["caption"] and "'smoke'" in table.attrs["caption"]
    assert architecture_3.show_speed_table(table).caption == table.attrs["caption"]
    fig = architecture_3.latency_figure(table)
    assert fig.axes[0].get_xscale() == "log" and "this machine" in texts_of(fig)
