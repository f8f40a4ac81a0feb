"""What notebooks ``04_base_model`` to ``07_architecture_3`` show of the networks themselves.

- 04-07: :func:`layer_table_vs_paper` (a model's layers beside the paper's figure) and
  :func:`compare_architectures`;
- 05-07: :func:`architecture_lesson`, the steps every architecture notebook shares, in one call (the
  layer table beside the paper's figure, the run trained or reused under the profile, its loss
  curves, colorized crops of photos it has never seen and has seen, its metrics on both test sets
  (:mod:`deepcolor.comparison`) and the paper's runs of that model), and
  :func:`data_table`.

Each architecture notebook then asks its own question, in its own module:
:mod:`deepcolor.lessons.architecture_1` (what halving the parameters costs),
:mod:`~deepcolor.lessons.architecture_2` (does the fusion help?) and
:mod:`~deepcolor.lessons.architecture_3` (speed).  The colorization grids, loss curves and captions
are :mod:`deepcolor.lessons.figures`.  Every table and figure names the profile, the split and how
many images it was measured on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import comparison, metrics, paper, predict
from ..config import environment
from ..embeddings import describe_mode
from . import figures

__all__ = ["machine", "layer_table_vs_paper", "compare_architectures", "ArchitectureLesson", "photos_shared_with_train", "data_table", "architecture_lesson"]


def _row_token(row):
    """A ``models.layer_table`` row written the paper's way: 64s2, 128, 1x1-256, up, concat."""
    if row["layer"].startswith("upsample"):
        return "up"
    if row["layer"].startswith("tile"):
        return paper.CONCAT
    token = f"{row['filters']}s2" if row["stride"] == 2 else str(row["filters"])
    return f"1x1-{token}" if row["kernel"] == 1 else token


def layer_table_vs_paper(name, input_size=224, model=None):
    """``models.layer_table(name)`` beside the paper's layer list, ``paper.PAPER_LAYERS`` (notebooks 04-07).

    Returns a pandas DataFrame, one row per layer (stage, name, layer, output, params, flops,
    ``paper``: the paper's entry for that layer, ``matches paper``: bool) and a last row "total"
    whose params is the sum, whose ``paper`` is the paper's parameter count (and the figure that
    gives it) and whose check compares the two.  With ``model`` (a built Keras model) the params
    column is read from the model's own layers instead of computed, so the check covers the built model.
    """
    import pandas as pd

    from .. import models

    table = models.layer_table(name, input_size)
    tokens = paper.layer_tokens(name)
    rows, seen = [], {}
    for row in table:
        i = seen[row["stage"]] = seen.get(row["stage"], -1) + 1
        want = tokens[row["stage"]][i] if i < len(tokens[row["stage"]]) else "(none)"
        params = model.get_layer(row["name"]).count_params() if model is not None else row["params"]
        rows.append({"stage": row["stage"], "name": row["name"], "layer": row["layer"], "output": row["output"],
                     "params": params, "flops": row["flops"], "paper": want, "matches paper": _row_token(row) == want})
    for stage, stage_tokens in tokens.items():  # a paper layer the model lacks must show up as a mismatch
        for token in stage_tokens[seen.get(stage, -1) + 1:]:
            rows.append({"stage": stage, "name": "(missing)", "layer": "", "output": "", "params": 0,
                         "flops": 0, "paper": token, "matches paper": False})
    total = model.count_params() if model is not None else sum(r["params"] for r in rows)
    expected = paper.PAPER_PARAMS[name]
    rows.append({"stage": "total", "name": "", "layer": "", "output": "", "params": total,
                 "flops": sum(r["flops"] for r in rows),
                 "paper": f"{expected:,} params (figure {paper.ARCHITECTURE_FIGURES[name]})",
                 "matches paper": total == expected})
    return pd.DataFrame(rows)


def compare_architectures(input_sizes=(224,), names=None):
    """Parameters and forward GFLOPs of the paper's architectures (notebooks 04-07).

    input_sizes: image sides (multiples of 8) at which to count FLOPs, e.g. (224, cfg.profile.input_size).
    Returns a DataFrame indexed by architecture: params, paper params, matches paper,
    ``GFLOP @ S`` for each S, and ``params vs base`` (the share of the base model's parameters).
    """
    import pandas as pd

    from .. import models

    names = tuple(names or paper.ARCHITECTURES)
    base = models.describe("base")["params"]
    rows = []
    for name in names:
        d = models.describe(name)
        row = {"arch": name, "params": d["params"], "paper params": d["paper_params"],
               "matches paper": d["matches_paper"]}
        for size in dict.fromkeys(input_sizes):
            row[f"GFLOP @ {size}"] = round(models.flops(name, size) / 1e9, 3)
        row["params vs base"] = round(d["params"] / base, 3)
        rows.append(row)
    return pd.DataFrame(rows).set_index("arch")


# --- the steps every architecture notebook shares (05-07) -----------------------------------------

@dataclass
class ArchitectureLesson:
    """What :func:`architecture_lesson` returns: one architecture trained under a profile, and what
    notebooks 05-07 show of it.  Every table and figure names its profile, split and image count.

    arch: the architecture; run: its :class:`deepcolor.train.RunResult` (trained or reused);
    layers: :func:`layer_table_vs_paper` read from the trained model; summary: ``figures.run_summary(run)``;
    curves: loss and accuracy per epoch (a Figure); pictures: gray input, prediction and truth of crops
    of photos it has never seen and of photos it has seen (a Figure, :func:`deepcolor.comparison.picture_indices`);
    results: the :func:`deepcolor.comparison.evaluate_test_sets` table of both test sets (None when the
    run did not complete); metrics: ``results`` styled and captioned (or a sentence saying why there are none);
    paper: the paper's runs of this model and of the base model (rows of ``paper.results_table()``).
    """

    arch: str
    run: Any
    layers: Any
    summary: Any
    curves: Any
    pictures: Any
    results: Any
    metrics: Any
    paper: Any


def photos_shared_with_train(ds, split):
    """How many test images of ``split`` come from a photo that also has images in its training part
    (notebooks 05-07): an int, or None when the dataset does not name its photos (``ds.groups``)."""
    groups = getattr(ds, "groups", None)
    if groups is None:
        return None
    return int(np.isin(groups[np.asarray(split[2])], groups[np.asarray(split[0])]).sum())


def data_table(cfg, ds, split):
    """What the profile's data is, as one column named after the profile (notebooks 05-07).

    Rows: images, source, train, val, test, test_seen (image counts of ``split``, from ``cfg.split(ds)``;
    test_seen: new crops of the training photos, 0 for the Kaggle set), ``test images from a photo also
    in train`` (only when the dataset knows each image's photo, ``ds.groups``: crops of one photo in
    both parts make "never seen" less true), model input, embeddings.
    """
    import pandas as pd

    train, val, test = (np.asarray(part) for part in split)
    rows = {"images": len(ds), "source": ds.source, "train": len(train), "val": len(val), "test": len(test),
            "test_seen": len(getattr(split, "test_seen", ()))}
    shared = photos_shared_with_train(ds, split)
    if shared is not None:
        rows["test images from a photo also in train"] = shared
    size = cfg.profile.input_size
    rows.update({"model input": f"{size}x{size}", "embeddings": describe_mode(cfg.embedding_mode)})
    return pd.Series(rows).to_frame(cfg.name)


def architecture_lesson(cfg, ds, emb, split, arch, verbose="auto", runs_dir=None):
    """Train ``arch`` under ``cfg``'s profile (or reuse an identical finished run) and build what every
    architecture notebook shows of it (notebooks 05-07): the steps they share, in one call.

    cfg: a :class:`deepcolor.config.Config`; ds: its dataset (``cfg.dataset()``); emb: (len(ds), 1000)
    float32 embeddings in the profile's mode (``cfg.embeddings(ds)``); split: a :class:`deepcolor.data.Split`
    (``cfg.split(ds)``); verbose: Keras' fit verbosity; runs_dir: where the run folders are (default
    :func:`deepcolor.runs.default_runs_dir`).  The pictures are :func:`deepcolor.comparison.picture_indices`
    (crops of photos it has never seen beside new crops of photos it has seen); the metrics are measured
    on both test sets, whole (:func:`deepcolor.comparison.evaluate_test_sets`, mean-ab baseline from the
    training images).  Returns an :class:`ArchitectureLesson`.
    """
    import pandas as pd

    paper.check_architecture(arch)
    train, val = np.asarray(split[0]), np.asarray(split[1])
    run = cfg.train_or_load(arch, ds, emb, split, verbose=verbose, runs_dir=runs_dir)

    def tag(title):
        return figures.caption(cfg.name, cfg.embedding_mode, title)

    seen = val[:64]
    constant = metrics.constant_baseline_accuracy(ds.batch(seen)[1])
    curves = figures.loss_curves(
        {arch: run.history}, metrics=("loss", "val_loss", "accuracy", "val_accuracy"),
        reference={"val_accuracy": (f"constant predictor ({len(seen)} val images)", constant)},
        caption=tag(f"{arch}: trained on {len(train)} images, validated on {len(val)} (the val_ curves)"))
    shown = comparison.picture_indices(ds, split)
    L, ab = ds.batch(shown.indices)
    pictures = figures.show_colorizations(
        L, predict.predict_ab(run.model, L, np.asarray(emb[shown.indices], np.float32)), ab,
        titles=shown.titles, max_images=len(shown.indices), caption=tag(f"{arch} on {shown.caption}"))
    results, shown_metrics = None, f"{arch}: the run ended with status {run.status!r}, so it is not measured"
    if run.status == "completed":
        results = comparison.evaluate_test_sets(run, ds, split, emb)
        shown_metrics = figures.metrics_table(results, cfg.name, cfg.embedding_mode,
                                              f"{arch} on {comparison.sets_caption(split)}")
    runs = paper.results_table()
    return ArchitectureLesson(
        arch=arch, run=run, layers=layer_table_vs_paper(arch, 224, model=run.model), summary=figures.run_summary(run),
        curves=curves, pictures=pictures, results=results, metrics=shown_metrics,
        paper=pd.DataFrame(runs[runs["model"].isin([arch, "base"])]))


def machine():
    """This machine in a few words, for the captions of measured times (notebooks 05 and 07)."""
    env = environment()
    return (f"this machine ({os.cpu_count()} CPU cores, Keras {env['keras']} on {env['backend']}, "
            f"devices: {', '.join(env['devices'])})")
