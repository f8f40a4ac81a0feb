"""What notebooks ``04_base_model`` to ``07_architecture_3`` show of the networks themselves: each
model's layers beside the paper's figure, and the four architectures side by side (parameters,
cost).  The colorization grids and loss curves they also draw are in :mod:`deepcolor.lessons.figures`.
"""

from __future__ import annotations

from .. import paper

__all__ = ["layer_table_vs_paper", "compare_architectures"]


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
