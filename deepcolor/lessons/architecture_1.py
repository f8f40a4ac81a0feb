"""The table notebook ``05_architecture_1`` shows for its question: what halving the parameters costs.

:func:`cost_table` sets the base model beside arch1: parameters and forward FLOPs (from the layer
tables, :mod:`deepcolor.models`) in front of every metric on both test sets, measured by the
notebook itself (:func:`deepcolor.comparison.evaluate_test_sets` of each run); :func:`show_cost_table`
styles and captions it.  How long each model takes on this machine is notebook 07's question
(:mod:`deepcolor.lessons.architecture_3`).
"""

from __future__ import annotations

from .. import comparison
from ..comparison import LEVEL
from . import figures

__all__ = ["cost_columns", "cost_table", "show_cost_table"]


def cost_columns(archs, input_size):
    """Parameters and forward GFLOP per image of each architecture, from its layer table (notebook 05).

    archs: architecture names; input_size: the profile's input side S (a multiple of 8).  Returns a
    DataFrame indexed by architecture with columns ``params``, ``GFLOP @ 224`` and ``GFLOP @ S``
    (when S is not 224): :func:`deepcolor.models.describe` and :func:`deepcolor.models.flops`.
    """
    import pandas as pd

    from .. import models

    sizes = dict.fromkeys((224, int(input_size)))
    return pd.DataFrame.from_dict(
        {a: {"params": models.describe(a)["params"], **{f"GFLOP @ {s}": models.flops(a, s) / 1e9 for s in sizes}}
         for a in archs}, orient="index")


def cost_table(results, cfg):
    """What each architecture costs and scores, side by side, with the gray and mean-ab baselines (notebook 05).

    results: {architecture: its :func:`deepcolor.comparison.evaluate_test_sets` table}, all measured on
    the same split (the notebook measures each run itself); cfg: the :class:`deepcolor.config.Config`
    they were trained under.  Returns a DataFrame indexed by (test set, predictor), under each test
    set one row per architecture then the two baselines, with the :func:`cost_columns` in front (the
    same under each test set; NaN for the baselines), then every metric, ``images`` and ``note``;
    ``attrs`` holds the profile and embedding mode for :func:`show_cost_table`.
    """
    table = comparison.results_side_by_side(results)
    cost = cost_columns(list(results), cfg.profile.input_size)
    table = table.join(cost, on="predictor")[[*cost.columns, *[c for c in table.columns if c not in cost.columns]]]
    table.attrs.update(profile=cfg.name, embedding_mode=cfg.embedding_mode)
    return table


def show_cost_table(table, title=None):
    """A :func:`cost_table` styled: parameters with thousands separators, GFLOP to 3 digits, metrics to
    4, and a caption naming the profile, the embeddings and each test set's images (notebook 05)."""
    images = table["images"].dropna().groupby(level=LEVEL, sort=False).first()
    title = title or "; ".join(f"{label}: {int(n)} images" for label, n in images.items())
    styler = figures.metrics_table(table, table.attrs["profile"], table.attrs["embedding_mode"], title)
    gflop = [c for c in table.columns if c.startswith("GFLOP")]
    return styler.format("{:,.0f}", subset=["params"], na_rep="-").format("{:.3g}", subset=gflop, na_rep="-")
