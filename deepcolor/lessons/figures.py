"""What the lessons' pictures share (notebooks 01-10): the figure factory, captions, the colour
maps of the a and b channels, rows of L / a / b panels, colorization grids, loss curves, metric
tables and run summaries.

Every picture is a ``matplotlib.figure.Figure`` that pyplot has already let go of: end a notebook
cell with the call and Jupyter draws it once (in a script: ``fig.savefig(path)``).  Lab units
throughout: L in [0, 100], a and b in about [-128, 127].
"""

from __future__ import annotations

import math
import textwrap
import warnings

import matplotlib
import matplotlib.pyplot as plt  # also lets Jupyter's inline backend register how to show figures
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import color
from ..color import gray_to_rgb, lab_parts_to_rgb
from ..comparison import GAP_LESSON

AB_LIMIT = 128.0  # a and b axes of every ab picture run over [-128, 128]


def figure(**kwargs) -> Figure:
    """A new figure with a constrained layout (see :func:`new_figure`)."""
    return new_figure(layout="constrained", **kwargs)


def channel_cmap(channel: str, lightness: float = 65.0) -> ListedColormap:
    """Colormap of the ``"a"`` (green -> magenta) or ``"b"`` (blue -> yellow) axis from -100 to
    100 at the given lightness, drawn in real Lab colours (notebook 01_lab_color_space)."""
    if channel not in ("a", "b"):
        raise ValueError(f"channel must be 'a' or 'b', got {channel!r}")
    t = np.linspace(-100, 100, 256, dtype=np.float32)
    lab = np.zeros((256, 3), np.float32)
    lab[:, 0], lab[:, 1 if channel == "a" else 2] = lightness, t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ListedColormap(color.lab_to_rgb(lab), name=f"lab_{channel}")


AB_TITLES = {"a": "a  (green - / magenta +)", "b": "b  (blue - / yellow +)"}


def lab_panels(fig, panels, limit):
    """One row of images: panels is [(kind, array, title)], kind "rgb", "L", "a" or "b"."""
    for ax, (kind, image, title) in zip(fig.subplots(1, len(panels)), panels):
        if kind == "rgb":
            ax.imshow(image)
        else:
            cmap, lim = ("gray", (0, 100)) if kind == "L" else (channel_cmap(kind), (-limit, limit))
            fig.colorbar(ax.imshow(image, cmap=cmap, vmin=lim[0], vmax=lim[1]), ax=ax, fraction=0.046, pad=0.04)
        ax.set_title(title or AB_TITLES[kind])
        ax.axis("off")
    return fig


def new_figure(**kwargs):
    """A new Figure, closed in pyplot so Jupyter shows it once: as the cell's value, not again at
    its end.  Every figure of the package is made here (keyword arguments go to ``plt.figure``)."""
    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def suptitle(fig, caption):
    """``caption`` above the figure, wrapped to the figure's width (about 13 characters an inch)."""
    if caption:
        fig.suptitle(textwrap.fill(str(caption), width=max(40, int(fig.get_figwidth() * 13))), fontsize=10)


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
                             "resize predictions to the photo's size (predict.predict_ab does)")
    if int(max_images) < 1:
        raise ValueError(f"max_images must be at least 1, got {max_images}")
    n = min(len(L), int(max_images))
    if n == 0:
        raise ValueError("no images to show: L is empty")
    side = 2.0 if n <= 6 else 1.6  # inches per picture: nine still fit a page's width
    fig = new_figure(figsize=(side * n + 0.6, side * len(rows) + (0.5 if caption else 0.2)), layout="constrained")
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
    suptitle(fig, caption)
    return fig


def _history(h):
    history = getattr(h, "history", h)  # a runs.Run or a plain dict
    if not isinstance(history, dict):
        raise ValueError(f"a history must be a dict like {{'loss': [...], 'val_loss': [...]}}, got {type(history).__name__}")
    return history


def _floats(values):
    return np.array([math.nan if v is None else float(v) for v in values], np.float64)


LOSS_UNITS = {"mse": "MSE of ab/128 + L2 penalty",
              "classify": "cross-entropy (nats; weighted when rebalanced) + L2 penalty"}
"""What a run's loss is, by its head (:class:`deepcolor.heads.Head`): Keras reports the training loss
plus l2 times the sum of the squared kernel weights.  ab / 128 lies in [-1, 1], so the MSE has no units.
A rebalanced classifier's training loss weighs each pixel (:mod:`deepcolor.classify`); its validation
loss does not."""

ACCURACY_UNITS = "share of pixels, a > b guessed right"
"""What the paper's accuracy is (:func:`deepcolor.metrics.paper_accuracy`), as a y-axis label."""


def y_label(metric, heads=("mse",)):
    """The y-axis label of a history key (notebooks 04-11): the paper's accuracy as a share of pixels,
    a loss in :data:`LOSS_UNITS` of the runs' heads ("mse" and/or "classify"), else the key itself."""
    if "accuracy" in metric:
        return ACCURACY_UNITS
    if "loss" in metric:
        return " / ".join(LOSS_UNITS.get(kind, "loss") for kind in dict.fromkeys(heads))
    return metric


def loss_curves(histories, metrics=("loss", "val_loss"), caption=None, reference=None, logy=False, units=None):
    """Per-epoch curves, one panel per metric and one line per run (notebooks 04-11).

    histories: dict run name -> history dict ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``
    (a :class:`deepcolor.runs.Run` works too), values per epoch; a single history dict is one run named "run".
    metrics: the history keys to draw.  reference: optional {metric: (label, value)}, drawn as a
    dashed horizontal line (e.g. the constant-predictor accuracy).  logy: log scale for the y axis.
    units: optional {metric: y-axis label}; by default :func:`y_label`, the loss in the units of the
    runs' heads (a history dict is the paper's MSE head; pass Runs, or units, for a classifier).
    NaN or infinite values (a diverged run) are not drawn as points: an "x" at the top of the
    panel marks each such epoch and the legend says "NaN".  Returns a Figure with len(metrics) axes
    (in rows of up to 3; 2x2 for 4 metrics).
    """
    if isinstance(metrics, str):
        metrics = (metrics,)
    if isinstance(histories, dict) and histories and all(isinstance(v, (list, tuple, np.ndarray)) for v in histories.values()):
        histories = {"run": histories}
    heads = [getattr(getattr(h, "head", None), "kind", "mse") for h in dict(histories).values()]
    histories = {str(name): _history(h) for name, h in dict(histories).items()}
    if not histories or not metrics:
        raise ValueError("nothing to plot: pass at least one history and one metric")
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
        ax.set_ylabel((units or {}).get(metric) or y_label(metric, heads), fontsize=8)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        epochs = max((len(h[metric]) for h in histories.values() if metric in h), default=0)
        if epochs:
            ax.set_xlim(0.5, epochs + 0.5)  # one epoch: a tick at 1, not 0.945 ... 1.05
    place_legend(fig, list(axes[:len(metrics)]))
    suptitle(fig, caption)
    return fig


def place_legend(fig, axes, fontsize=8, inside_entries=2, inside_chars=24):
    """One legend for ``axes`` that hides no data (notebooks 04-08).

    Each label is listed once, however many of ``axes`` draw it (every panel of
    :func:`loss_curves` draws the same runs).  A single axis with at most ``inside_entries`` labels
    of at most ``inside_chars`` characters keeps its legend inside, where it covers the least data;
    anything longer goes below the axes, outside them, in as many columns as the figure's width
    allows, and the figure grows by its height.  The figure needs a constrained layout
    (:func:`figure`).  Returns the Legend, or None when nothing is labelled.
    """
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if not labels:
        return None
    longest = max(len(label) for label in labels)
    if len(axes) == 1 and len(labels) <= inside_entries and longest <= inside_chars:
        return axes[0].legend(fontsize=fontsize, loc="best")
    width, height = fig.get_size_inches()
    width = max(width, 6.4)  # a lone narrow panel would stack a long legend one label a row
    ncol = max(1, min(len(labels), int(width // (0.065 * longest + 0.6))))
    fig.set_size_inches(width, height + 0.2 * math.ceil(len(labels) / ncol) + 0.15)
    return fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize=fontsize)


def caption(profile, embedding_mode, title=None, sets: bool = True):
    """Text naming where a table or figure came from (notebooks 04-11), e.g.
    ``"base - profile: smoke, embeddings: untrained. NOT RESULTS (...)"``.

    Under the smoke profile (tiny data, few epochs) it says "NOT RESULTS": the numbers only show
    that the code runs.  Under a profile's offline fallback (``default-offline``: the built-in sample)
    it says what the sample's two test sets teach (:data:`deepcolor.comparison.GAP_LESSON`).  The
    untrained embedder is named as random weights, not the paper's ImageNet embedder.  sets=False
    for a figure without rows of the two test sets (a loss curve, one photo): the offline caption
    then names the sample and leaves out what its test sets teach."""
    text = f"{title + ' - ' if title else ''}profile: {profile}, embeddings: {embedding_mode}"
    if profile == "smoke":
        reasons = ["smoke profile: tiny data, few epochs"]
        reasons += ["untrained (random) embedder"] if embedding_mode == "untrained" else []
        return text + f". NOT RESULTS ({'; '.join(reasons)}): they only show that the code runs"
    if embedding_mode == "untrained":
        text += " (random weights, not the paper's ImageNet embedder)"
    if profile.endswith("-offline"):
        text += f". The built-in sample, not the Kaggle data" + (f": {GAP_LESSON}" if sets else "")
    return text


def metrics_table(df, profile, embedding_mode, title=None):
    """A table of results (or any table of numbers) captioned with where it came from (notebooks 04-11).

    df: a pandas DataFrame, e.g. from ``comparison.evaluate_test_sets`` (rows "photos it has never
    seen (test)" and, for the built-in sample, "photos it has seen, new crops (test_seen)").  profile:
    the profile's name (``cfg.name``); embedding_mode: "imagenet", "untrained" or "none"
    (``cfg.embedding_mode``).  Returns a pandas Styler: floats to 4 digits, captioned by :func:`caption`
    (the profile and embedding mode; "NOT RESULTS" under smoke; what the two test sets teach under the
    offline fallback).  The frame itself is ``styler.data``, with columns ``profile`` and ``embeddings``
    added (in place of the ``profile`` and ``embedding_mode`` columns a table carries already, as
    ``comparison.architecture_results`` tables do).
    """
    out = df.drop(columns=["profile", "embedding_mode"], errors="ignore")
    out["profile"], out["embeddings"] = profile, embedding_mode
    floats = [c for c in out.columns if out[c].dtype.kind == "f" and c != "images"]
    styler = out.style.format("{:.4f}", subset=floats, na_rep="-")
    if "images" in out.columns:
        styler = styler.format("{:.0f}", subset=["images"], na_rep="-")
    return styler.set_caption(caption(profile, embedding_mode, title))


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
