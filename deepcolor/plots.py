"""Pictures and tables for the architecture notebooks (04-07), reused by notebooks 08-10.

Introduced in notebook ``04_base_model``.

Every plotting function returns a ``matplotlib.figure.Figure`` that pyplot has already let go of
(``plt.close``): end a notebook cell with the call and Jupyter draws it exactly once; in a script
use ``fig.savefig(path)``.  Images are given in Lab units: ``L`` (n, H, W) in [0, 100] and ``ab``
(n, H, W, 2) with a, b in about [-128, 127]; they are turned into RGB with :mod:`deepcolor.color`.
"""

from __future__ import annotations

import math

import numpy as np

from .color import gray_to_rgb, lab_parts_to_rgb

__all__ = ["PAPER_LAYERS", "show_colorizations", "loss_curves", "layer_table_vs_paper", "compare_architectures",
           "caption", "metrics_table", "results_side_by_side", "run_summary", "trained_results"]

PAPER_LAYERS = {
    "base": "enc 64s2,128,128s2,256,256s2,512,512,256; fuse 1x1-256, 1x1-256; dec 128,up,64,up,32,16,2,up",
    "arch1": "enc 64s2,128s2,256s2,512,256; fuse 1x1-256, 1x1-256; dec 128,up,64,up,32,16,2,up",
    "arch2": "enc 64s2,64s2,64s2,128,256; fuse 1x1-256, 1x1-256; dec 128,up,64,up,32,16,2,up",
    "arch3": "enc 64s2,64s2,32s2,64,64; fuse 1x1-64, 64; dec up,32,up,32,16,2,up",
}
"""The paper's layer lists, as written in the design reference: kernel 3x3 unless 1x1 is named,
``s2`` = stride 2, ``up`` = upsampling x2.  The fusion stage starts by tiling the 1000-d embedding
and concatenating it, which the paper's list leaves implicit."""

_STAGES = {"enc": "encoder", "fuse": "fusion", "dec": "decoder"}
_CONCAT = "concat embedding"


def new_figure(**kwargs):
    """A new Figure, closed in pyplot so Jupyter shows it once: as the cell's value, not again at
    its end.  Every figure of the package is made here (keyword arguments go to ``plt.figure``)."""
    import matplotlib.pyplot as plt  # also lets Jupyter's inline backend register how to show figures

    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def _suptitle(fig, caption):
    """``caption`` above the figure, wrapped to the figure's width (about 13 characters an inch)."""
    if caption:
        import textwrap

        fig.suptitle(textwrap.fill(str(caption), width=max(40, int(fig.get_figwidth() * 13))), fontsize=10)


def _paper_tokens(name):
    """{stage: [token, ...]} from ``PAPER_LAYERS[name]``; the fusion stage begins with the concat."""
    if name not in PAPER_LAYERS:
        raise ValueError(f"unknown architecture {name!r}; choose one of {', '.join(PAPER_LAYERS)}")
    stages = {}
    for part in PAPER_LAYERS[name].split(";"):
        key, _, tokens = part.strip().partition(" ")
        stages[_STAGES[key]] = ([_CONCAT] if key == "fuse" else []) + [t.strip() for t in tokens.split(",")]
    return stages


def _row_token(row):
    """A ``models.layer_table`` row written the paper's way: 64s2, 128, 1x1-256, up, concat."""
    if row["layer"].startswith("upsample"):
        return "up"
    if row["layer"].startswith("tile"):
        return _CONCAT
    token = f"{row['filters']}s2" if row["stride"] == 2 else str(row["filters"])
    return f"1x1-{token}" if row["kernel"] == 1 else token


# --- images ------------------------------------------------------------------------------------

def show_colorizations(L, ab_pred, ab_true=None, titles=None, max_images=6, caption=None):
    """Gray input, prediction and (optionally) truth, one column per image (notebooks 04-10).

    L: (n, H, W) float in [0, 100]; ab_pred, ab_true: (n, H, W, 2) float in Lab units.
    titles: up to n strings, one per column.  Shows the first ``max_images`` images.
    caption: text above the grid (say which profile and embedding mode made the prediction).
    Returns a Figure with 2 rows (3 with ``ab_true``) x min(n, max_images) image axes; the
    prediction row draws ``color.lab_parts_to_rgb(L[i], ab_pred[i])``.
    """
    L = np.asarray(L, np.float32)
    if L.ndim != 3:
        raise ValueError(f"L must have shape (n, H, W), got {L.shape}; for one image pass L[None]")
    rows = {"gray input": None, "prediction": np.asarray(ab_pred, np.float32)}
    if ab_true is not None:
        rows["truth"] = np.asarray(ab_true, np.float32)
    for label, ab in rows.items():
        if ab is not None and ab.shape != L.shape + (2,):
            raise ValueError(f"{label} ab has shape {ab.shape}, expected {L.shape + (2,)} to match L; "
                             "resize predictions to the photo's size (metrics.predict_ab does)")
    if int(max_images) < 1:
        raise ValueError(f"max_images must be at least 1, got {max_images}")
    n = min(len(L), int(max_images))
    if n == 0:
        raise ValueError("no images to show: L is empty")
    fig = new_figure(figsize=(2.0 * n + 0.6, 2.0 * len(rows) + (0.5 if caption else 0.2)), layout="constrained")
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (label, ab) in enumerate(rows.items()):
        rgb = gray_to_rgb(L[:n]) if ab is None else lab_parts_to_rgb(L[:n], ab[:n])
        for i in range(n):
            ax = axes[r, i]
            ax.imshow(rgb[i], interpolation="nearest" if rgb.shape[1] <= 64 else "antialiased")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(label)
            if r == 0 and titles is not None and i < len(titles):
                ax.set_title(str(titles[i]), fontsize=9)
    _suptitle(fig, caption)
    return fig


# --- training curves ---------------------------------------------------------------------------

def _history(h):
    history = getattr(h, "history", h)  # a train.RunResult or a plain dict
    if not isinstance(history, dict):
        raise ValueError(f"a history must be a dict like {{'loss': [...], 'val_loss': [...]}}, got {type(history).__name__}")
    return history


def _floats(values):
    return np.array([math.nan if v is None else float(v) for v in values], np.float64)


def loss_curves(histories, metrics=("loss", "val_loss"), caption=None, reference=None, logy=False):
    """Per-epoch curves, one panel per metric and one line per run (notebooks 04-08).

    histories: dict run name -> history dict ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``
    (a ``train.RunResult`` works too), values per epoch; a single history dict is one run named "run".
    metrics: the history keys to draw.  reference: optional {metric: (label, value)}, drawn as a
    dashed horizontal line (e.g. the constant-predictor accuracy).  logy: log scale for the y axis.
    NaN or infinite values (a diverged run) are not drawn as points: an "x" at the top of the
    panel marks each such epoch and the legend says "NaN".  Returns a Figure with len(metrics) axes
    (in rows of up to 3; 2x2 for 4 metrics).
    """
    if isinstance(metrics, str):
        metrics = (metrics,)
    if isinstance(histories, dict) and histories and all(isinstance(v, (list, tuple, np.ndarray)) for v in histories.values()):
        histories = {"run": histories}
    histories = {str(name): _history(h) for name, h in dict(histories).items()}
    if not histories or not metrics:
        raise ValueError("nothing to plot: pass at least one history and one metric")
    import matplotlib
    from matplotlib.ticker import MaxNLocator

    ncols = 2 if len(metrics) == 4 else min(len(metrics), 3)
    nrows = math.ceil(len(metrics) / ncols)
    fig = new_figure(figsize=(4.2 * ncols, 3.2 * nrows + (0.3 if caption else 0)), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(metrics):]:
        fig.delaxes(ax)
    colors = [c["color"] for c in matplotlib.rcParams["axes.prop_cycle"]]
    for ax, metric in zip(axes, metrics):
        drawn = False
        for k, (name, history) in enumerate(histories.items()):
            if metric not in history or len(history[metric]) == 0:
                continue
            y = _floats(history[metric])
            x = np.arange(1, len(y) + 1)
            ok, color = np.isfinite(y), colors[k % len(colors)]
            ax.plot(x, np.where(ok, y, np.nan), "o-", color=color, markersize=3, label=name)  # gaps at NaN
            if not ok.all():
                ax.plot(x[~ok], np.full((~ok).sum(), 0.95), "x", color=color, markersize=9, mew=2,
                        transform=ax.get_xaxis_transform(), clip_on=False, label=f"{name}: NaN")
            drawn = True
        if reference and metric in reference:
            label, value = reference[metric]
            ax.axhline(value, color="gray", linestyle="--", linewidth=1, label=label)
        if not drawn:
            ax.text(0.5, 0.5, f"no {metric!r} recorded", ha="center", va="center", transform=ax.transAxes)
        elif logy:
            ax.set_yscale("log")
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if drawn:
            ax.legend(fontsize=8)
    _suptitle(fig, caption)
    return fig


# --- tables ------------------------------------------------------------------------------------

def layer_table_vs_paper(name, input_size=224, model=None):
    """``models.layer_table(name)`` beside the paper's layer list (notebooks 04-07).

    Returns a pandas DataFrame, one row per layer (stage, name, layer, output, params, flops,
    ``paper``: the paper's entry for that layer, ``matches paper``: bool) and a last row "total"
    whose params is the sum, whose ``paper`` is the paper's parameter count and whose check
    compares the two.  With ``model`` (a built Keras model) the params column is read from the
    model's own layers instead of computed, so the check covers the built model.
    """
    import pandas as pd

    from . import models

    table = models.layer_table(name, input_size)
    paper = _paper_tokens(name)
    rows, seen = [], {}
    for row in table:
        i = seen[row["stage"]] = seen.get(row["stage"], -1) + 1
        want = paper[row["stage"]][i] if i < len(paper[row["stage"]]) else "(none)"
        params = model.get_layer(row["name"]).count_params() if model is not None else row["params"]
        rows.append({"stage": row["stage"], "name": row["name"], "layer": row["layer"], "output": row["output"],
                     "params": params, "flops": row["flops"], "paper": want, "matches paper": _row_token(row) == want})
    for stage, tokens in paper.items():  # a paper layer the model lacks must show up as a mismatch
        for token in tokens[seen.get(stage, -1) + 1:]:
            rows.append({"stage": stage, "name": "(missing)", "layer": "", "output": "", "params": 0,
                         "flops": 0, "paper": token, "matches paper": False})
    total = model.count_params() if model is not None else sum(r["params"] for r in rows)
    rows.append({"stage": "total", "name": "", "layer": "", "output": "", "params": total,
                 "flops": sum(r["flops"] for r in rows), "paper": f"{models.PAPER_PARAMS[name]:,} params",
                 "matches paper": total == models.PAPER_PARAMS[name]})
    return pd.DataFrame(rows)


def compare_architectures(input_sizes=(224,), names=None):
    """Parameters and forward GFLOPs of the paper's architectures (notebooks 04-07).

    input_sizes: image sides (multiples of 8) at which to count FLOPs, e.g. (224, cfg.profile.input_size).
    Returns a DataFrame indexed by architecture: params, paper params, matches paper,
    ``GFLOP @ S`` for each S, and ``params vs base`` (the share of the base model's parameters).
    """
    import pandas as pd

    from . import models

    names = tuple(names or models.ARCHITECTURES)
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


def caption(profile, embedding_mode, title=None):
    """Text naming where a table or figure came from (notebooks 04-09), e.g.
    ``"base - profile: smoke, embeddings: untrained. NOT RESULTS (...)"``.  The "NOT RESULTS"
    part is added under the smoke profile, the offline fallback of a profile and with the
    untrained embedder."""
    text = f"{title + ' - ' if title else ''}profile: {profile}, embeddings: {embedding_mode}"
    reasons = (["smoke profile: tiny data, few epochs"] if profile == "smoke" else []) + \
        (["offline fallback: the built-in sample, not the Kaggle data"] if profile.endswith("-offline") else []) + \
        (["untrained (random) embedder"] if embedding_mode == "untrained" else [])
    if reasons:
        text += f". NOT RESULTS ({'; '.join(reasons)}): they only show that the code runs"
    return text


def metrics_table(df, profile, embedding_mode, title=None):
    """An ``evaluate()`` table (or any table of numbers) captioned with where it came from (notebooks 04-09).

    df: a pandas DataFrame, e.g. from ``metrics.evaluate``.  profile: the profile's name (``cfg.name``);
    embedding_mode: "imagenet", "untrained" or "none" (``cfg.embedding_mode``).
    Returns a pandas Styler: floats to 4 digits, caption naming the profile and embedding mode,
    which says "NOT RESULTS" under the smoke profile or with the untrained embedder.
    The frame itself is ``styler.data``, with columns ``profile`` and ``embeddings`` added.
    """
    out = df.copy()
    out["profile"], out["embeddings"] = profile, embedding_mode
    floats = [c for c in out.columns if out[c].dtype.kind == "f" and c != "images"]
    styler = out.style.format("{:.4f}", subset=floats, na_rep="-")
    if "images" in out.columns:
        styler = styler.format("{:.0f}", subset=["images"], na_rep="-")
    return styler.set_caption(caption(profile, embedding_mode, title))


def results_side_by_side(evaluations):
    """One table from several ``evaluate()`` tables (notebooks 05-07, 09).

    evaluations: dict architecture name -> DataFrame from ``metrics.evaluate`` (rows "model",
    "gray baseline", "mean-ab baseline").  Returns a DataFrame with one row per architecture (its
    "model" row) followed by the baselines of the first table (all tables must share test images).
    """
    import pandas as pd

    if not evaluations:
        raise ValueError("pass at least one evaluate() table")
    tables = list(evaluations.items())
    rows = [t.loc[["model"]].rename(index={"model": name}) for name, t in tables]
    baselines = tables[0][1].drop(index="model")
    return pd.concat(rows + [baselines])


def run_summary(run):
    """One row about a training run (notebooks 04-08): ``run`` is a ``train.RunResult``.

    Columns: arch, profile, embeddings, status ("completed", "nan", ...), epochs, wall time (s) of
    the training itself (a reused run shows the time it took when it was trained), started, run folder.
    """
    import pandas as pd

    rec = run.record
    return pd.DataFrame([{"arch": rec["config"]["arch"], "profile": rec["profile"], "embeddings": rec["embedding_mode"],
                          "status": rec["status"], "epochs": len(rec["epochs"]),
                          "wall time (s)": round(rec["wall_time_s"], 1), "started": rec.get("started", ""),
                          "run folder": str(run.run_dir)}])


def trained_results(cfg, dataset, embeddings, split, archs, known=None):
    """Test-set results of the architectures already trained under this profile (notebooks 05-07).

    cfg: a ``config.Config``; dataset, embeddings, split: as for ``cfg.train_or_load``.
    For each of ``archs`` a finished run with the profile's settings is looked up (nothing is
    trained): found, its model is loaded and evaluated on ``split.test`` with
    ``metrics.evaluate``; not found, its row is empty and ``note`` says which notebook trains it.
    known: optional {arch: evaluate() table} already computed (e.g. the notebook's own model),
    used as they are.  Returns :func:`results_side_by_side` of those tables (``archs`` first, then
    ``known``), with a ``run`` column (the run folder; empty for ``known``).
    """
    import pandas as pd

    from . import metrics
    from .train import find_run, load_finished

    notebooks = {"base": "04_base_model", "arch1": "05_architecture_1",
                 "arch2": "06_architecture_2", "arch3": "07_architecture_3"}
    evaluations, missing, folders = {}, [], {}
    for arch in archs:
        found = find_run(cfg.train_config(arch), dataset, cfg.embedding_mode, cfg.name)
        if found is None:
            missing.append(arch)
            continue
        run = load_finished(found)
        folders[arch] = run.run_dir.name
        evaluations[arch] = metrics.evaluate(run.model, dataset, split.test, embeddings, train_indices=split.train)
    evaluations.update(known or {})
    table = results_side_by_side(evaluations) if evaluations else pd.DataFrame(columns=["note"])
    table["run"] = [folders.get(name, "") for name in table.index]
    for arch in missing:
        table.loc[arch, ["note", "run"]] = [f"not trained under profile {cfg.name!r} yet: "
                                            f"run {notebooks.get(arch, 'its notebook')}", ""]
    order = list(archs) + list(known or {})
    return table.reindex(order + [i for i in table.index if i not in order])
