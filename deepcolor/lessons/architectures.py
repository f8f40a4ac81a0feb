"""The tables notebooks ``04_base_model`` to ``07_architecture_3`` show of the networks themselves.

- 04-07: :func:`layer_table_vs_paper` (a model's layers beside the paper's figure);
- 05-07: :func:`data_table` (what the profile's data is, and how the split divides it).

The steps every architecture notebook shares (build, train or load, predict, measure) are the
notebooks' own cells, calling the core modules: :func:`deepcolor.models.build_model`,
``cfg.train_or_load`` (:mod:`deepcolor.train`, :class:`deepcolor.runs.Run`),
:func:`deepcolor.predict.predict_ab` and :mod:`deepcolor.evaluation` (through
:func:`deepcolor.comparison.evaluate_test_sets`).  Each architecture notebook then asks its own
question, with its own tables and figures: :mod:`deepcolor.lessons.architecture_1` (what halving the
parameters costs), :mod:`~deepcolor.lessons.architecture_2` (does the fusion help?) and
:mod:`~deepcolor.lessons.architecture_3` (speed).  The colorization grids, loss curves and captions
are :mod:`deepcolor.lessons.figures`.
"""

from __future__ import annotations

import os

import numpy as np

from .. import paper
from ..config import environment
from ..embeddings import describe_mode

__all__ = ["machine", "layer_table_vs_paper", "photos_shared_with_train", "data_table"]


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


# --- the data every architecture notebook names (05-07) ---------------------------------------------

def photos_shared_with_train(ds, split):
    """How many test images of ``split`` come from a photo that also has images in its training part
    (notebooks 05-07): an int, or None when the dataset does not name its photos (``ds.groups``)."""
    groups = getattr(ds, "groups", None)
    if groups is None:
        return None
    return int(np.isin(groups[np.asarray(split[2])], groups[np.asarray(split[0])]).sum())


def data_table(cfg, ds, split):
    """What the profile's data is, as one column named after the profile (notebooks 05-07).

    cfg: a :class:`deepcolor.config.Config`; ds: its dataset (``cfg.dataset()``); split: ``cfg.split(ds)``.

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


def machine():
    """This machine in a few words, for the captions of measured times (notebook 07)."""
    env = environment()
    return (f"this machine ({os.cpu_count()} CPU cores, Keras {env['keras']} on {env['backend']}, "
            f"devices: {', '.join(env['devices'])})")
