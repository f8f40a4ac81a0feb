"""What notebook ``05_architecture_1`` asks of its network: what halving the parameters costs.

:func:`cost_table` sets base beside arch1: parameters, FLOPs, the time of a training epoch measured
by :func:`epoch_time`, and every metric.

The steps every architecture notebook shares are :func:`deepcolor.lessons.architectures.architecture_lesson`.
"""

from __future__ import annotations

import time

from .. import comparison
from ..comparison import LEVEL
from . import figures
from .architectures import machine

__all__ = ["TIME_COLUMN", "epoch_time", "cost_table", "show_cost_table"]

TIME_COLUMN = "s / epoch here"
"""The column of :func:`cost_table` with the time of one training epoch, measured on this machine."""


def epoch_time(cfg, ds, emb, split, arch, max_batches=8):
    """Seconds one training epoch of ``arch`` takes on this machine under ``cfg``'s profile (notebook 05).

    A fresh model is compiled as :mod:`deepcolor.train` compiles it (Adam, MSE, the profile's lr,
    batch size, l2 and input size) and trained on the training images of ``split`` after one
    untimed warm-up step (the first step of a batch shape builds the compute graph).  Up to
    ``max_batches`` full batches are timed, reading the images included; the mean time per image,
    times the training images, is returned (a shorter last batch is not timed, so that it needs no
    graph of its own).  Validation is not included.  ds, emb, split: as for ``cfg.train_or_load``.
    """
    from ..batches import ColorBatches
    from ..models import build_model
    from ..train import compile_model

    p = cfg.profile
    batches = ColorBatches(ds, emb, split[0], p.batch_size, shuffle=True, seed=p.seed, input_size=p.input_size)
    n_train = len(split[0])
    full = [i for i in range(len(batches)) if (i + 1) * p.batch_size <= n_train] or [len(batches) - 1]
    timed = full[: max(1, int(max_batches))]
    model = compile_model(build_model(arch, p.input_size, p.l2), p.lr)
    (L, e), ab = batches[timed[0]]
    model.train_on_batch([L, e], ab)
    images, start = 0, time.perf_counter()
    for i in timed:
        (L, e), ab = batches[i]
        model.train_on_batch([L, e], ab)
        images += len(L)
    return (time.perf_counter() - start) / images * n_train


def cost_table(cfg, ds, emb, split, archs=("base", "arch1"), lessons=(), max_batches=8, verbose="auto",
               runs_dir=None):
    """What each architecture costs and scores on both test sets, then the gray and mean-ab baselines (notebook 05).

    Returns the table of :func:`deepcolor.comparison.architecture_results`, indexed by (test set,
    predictor), with the cost columns in front: params, ``GFLOP @ 224`` and ``GFLOP @ S`` (forward, one
    image; S the profile's input side, when not 224) and :data:`TIME_COLUMN` (:func:`epoch_time`: one
    training epoch under the profile, measured once on this machine), the same under each test set;
    then every metric, images, note, run, profile, embedding_mode.  Each architecture is trained under
    the profile, or its finished run reused; lessons: :class:`ArchitectureLesson` objects of some of
    ``archs`` under the same profile, whose run and results are used as they are.  The baselines' cost
    columns are NaN.
    """
    import pandas as pd

    from .. import models

    known = {lesson.arch: lesson for lesson in lessons if lesson.arch in archs and lesson.results is not None}
    table = comparison.architecture_results(
        cfg, ds, emb, split, [a for a in archs if a not in known], known={a: known[a].results for a in known},
        train_missing=True, verbose=verbose, runs_dir=runs_dir)
    names = table.index.get_level_values("predictor")
    for arch, lesson in known.items():
        table.loc[names == arch, "run"] = lesson.run.run_dir.name
    sizes = dict.fromkeys((224, cfg.profile.input_size))
    cost = pd.DataFrame.from_dict({a: {"params": models.describe(a)["params"],
                                       **{f"GFLOP @ {s}": models.flops(a, s) / 1e9 for s in sizes},
                                       TIME_COLUMN: epoch_time(cfg, ds, emb, split, a, max_batches)} for a in archs},
                                  orient="index")
    return table.join(cost, on="predictor")[[*cost.columns, *table.columns]]


def show_cost_table(table, title=None):
    """A :func:`cost_table` styled: parameters with thousands separators, times in seconds, and a
    caption naming the profile, the embeddings, each test set's images and this machine (notebook 05)."""
    images = table["images"].dropna().groupby(level=LEVEL, sort=False).first()
    sets = "; ".join(f"{label}: {int(n)} images" for label, n in images.items())
    title = title or f"{sets}; {TIME_COLUMN} measured on {machine()}"
    styler = figures.metrics_table(table, table["profile"].iloc[0], table["embedding_mode"].iloc[0], title)
    return styler.format("{:,.0f}", subset=["params"], na_rep="-").format("{:.2f}", subset=[TIME_COLUMN], na_rep="-")
