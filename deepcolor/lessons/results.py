"""The tables and pictures of notebook ``09_results`` beyond the results table: the paper's headline
beside ours, where the fragile pixels lie, what a chroma gain does, and what the paper's NaN run tells
about its data.  The measuring is the notebook's own cells (:mod:`deepcolor.metrics`,
:mod:`deepcolor.comparison`); these only tabulate and draw.
"""

from __future__ import annotations

import numpy as np

from .. import metrics
from ..color import gray_to_rgb, lab_parts_to_rgb
from ..comparison import LEVEL, UNSEEN
from ..paper import HEADLINE_TEST_ACCURACY, PAPER_EPOCHS, PAPER_RESULTS, PAPER_SETTING, differs_from_paper
from . import figures
from .figures import figure, suptitle

__all__ = ["GAINS", "chroma_gain_figure", "chroma_gain_table", "fragile_mask", "fragile_pixels_figure",
           "headline_beside_ours", "nan_run_deduction"]

GAINS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
"""The chroma gains :func:`chroma_gain_figure` draws its curves over (0 to 3 in steps of 0.5)."""


def headline_beside_ours(results, cfg, n_images):
    """The paper's headline (figure 20's test accuracy) beside our base model and the constant
    predictor on each of our test sets, with what each row's setting is (notebook 09).

    results: a :func:`deepcolor.comparison.architecture_results` table with "base" rows;
    cfg: the :class:`deepcolor.config.Config` that made it; n_images: images in its dataset.
    Returns a pandas Styler: the paper's row, then per test set (photos it has never seen; for the
    built-in sample also new crops of photos it has seen) ours and the constant predictor; columns
    "test accuracy", "test images", "setting" (ours: what differs from figure 20, from
    :func:`deepcolor.paper.differs_from_paper`), captioned with the profile.
    """
    import pandas as pd

    fig20, p = next(r for r in PAPER_RESULTS if r.figure == 20), cfg.profile
    paper = (f"{fig20.model}, lr {fig20.lr:g}, batch {fig20.batch}, L2 {fig20.l2:g}, {PAPER_EPOCHS:,} epochs, "
             f"{PAPER_SETTING['input_size']} px, {PAPER_SETTING['images']:,} Kaggle images, ImageNet embedder")
    ours = differs_from_paper(cfg, n_images, 20, p.epochs, "base", p.lr, p.batch_size, p.l2)
    rows = {"paper, figure 20 (base)": (HEADLINE_TEST_ACCURACY, f"about {PAPER_SETTING['images'] // 5:,}", paper)}
    for label in results.index.unique(LEVEL):
        base = results.loc[(label, "base")]
        n = f"{int(base['images']):,}"
        rows[f"ours, base ({cfg.name}), {label}"] = (base["accuracy"], n, f"differs from figure 20: {ours}"
                                                      if label == UNSEEN else "the same run")
        rows[f"constant predictor, {label}"] = (base["constant_baseline"], n, "ignores the photo: max(p, 1 - p)")
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["test accuracy", "test images", "setting"])
    return (table.style.format("{:.2%}", subset=["test accuracy"], na_rep="-")
            .set_caption(figures.caption(cfg.name, cfg.embedding_mode, "figure 20 beside our test sets")))


def chroma_gain_table(L, ab_true, ab_pred, gains=GAINS):
    """The metrics of ``ab_pred * g`` for each chroma gain g in ``gains`` (notebook 09).

    Scaling ab by g > 0 keeps every pixel's hue and argmax over (a, b), so the paper's accuracy does
    not move, while colourfulness, ab MSE and AuC do (g = 0 is the gray prediction, which scores p).
    L: (N, H, W) in [0, 100]; ab_true, ab_pred: (N, H, W, 2) in Lab units; gains: floats >= 0.
    Returns a DataFrame indexed by gain with accuracy, auc, ab_mse, colourfulness (of the RGB image
    of the scaled prediction) and colourfulness_true; also rebalanced_auc where
    ``deepcolor.metrics.rebalanced_auc`` exists.
    """
    import pandas as pd

    gains = [float(g) for g in np.atleast_1d(gains)]
    if not gains or min(gains) < 0:
        raise ValueError(f"gains must be one or more numbers >= 0, got {gains}")
    ab_true, ab_pred = np.asarray(ab_true, np.float32), np.asarray(ab_pred, np.float32)
    rebalanced = getattr(metrics, "rebalanced_auc", None)
    true_col = metrics.colourfulness(metrics.to_rgb(L, ab_true))
    rows = []
    for g in gains:
        pred = ab_pred * np.float32(g)
        row = {"accuracy": metrics.paper_accuracy(ab_true, pred), "auc": metrics.auc(ab_true, pred),
               "ab_mse": metrics.ab_mse(ab_true, pred),
               "colourfulness": metrics.colourfulness(metrics.to_rgb(L, pred)), "colourfulness_true": true_col}
        if rebalanced is not None:
            row["rebalanced_auc"] = rebalanced(ab_true, pred)
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(gains, name="gain"))


def chroma_gain_figure(L, ab_true, ab_pred, gain=1.0, gains=GAINS, max_images=3, caption=None, table=None):
    """What a chroma gain does (notebook 09's slider): left, the metrics of :func:`chroma_gain_table`
    over ``gains`` with a line at ``gain``; right, the first ``max_images`` photos predicted with
    ab x ``gain`` above their truth.  L: (N, H, W) in [0, 100]; ab_true, ab_pred: (N, H, W, 2) in Lab
    units; gain: float >= 0; table: a :func:`chroma_gain_table` of these photos computed once (a slider
    passes it, so a move recomputes only the row of ``gain``; ``gains`` is then ignored).
    Returns a Figure (2 subfigures: 2 curve axes, 2 x n image axes)."""
    import pandas as pd

    gain = float(gain)
    if table is None:
        table = chroma_gain_table(L, ab_true, ab_pred, sorted(set(gains) | {gain}))
    elif gain not in table.index:
        table = pd.concat([table, chroma_gain_table(L, ab_true, ab_pred, [gain])]).sort_index()
    n = min(len(L), int(max_images))
    fig = figure(figsize=(5.5 + 2.0 * n, 4.6))
    left, right = fig.subfigures(1, 2, width_ratios=[5.5, 2.0 * n])
    ax, ax_col = left.subplots(2, 1, sharex=True)
    for name in [c for c in ("accuracy", "auc", "rebalanced_auc") if c in table]:
        ax.plot(table.index, table[name], marker=".", label=name)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share")
    ax.legend(fontsize=8)
    ax_col.plot(table.index, table["colourfulness"], "m.-", label="prediction x gain")
    ax_col.axhline(table["colourfulness_true"].iloc[0], color="k", ls="--", label="truth")
    ax_col.set_ylabel("colourfulness")
    ax_col.set_xlabel("chroma gain g (ab x g)")
    ax_col.legend(fontsize=8)
    for a in (ax, ax_col):
        a.axvline(gain, color="gray", lw=1)
    row = table.loc[gain]
    ax.set_title(f"g = {gain:g}: accuracy {row['accuracy']:.2%}, AuC {row['auc']:.3f}, "
                 f"colourfulness {row['colourfulness']:.1f}", fontsize=9)
    images = right.subplots(2, n, squeeze=False)
    pred_rgb = lab_parts_to_rgb(np.asarray(L[:n], np.float32), np.asarray(ab_pred[:n], np.float32) * np.float32(gain))
    true_rgb = lab_parts_to_rgb(np.asarray(L[:n], np.float32), np.asarray(ab_true[:n], np.float32))
    for i in range(n):
        for r, (rgb, label) in enumerate([(pred_rgb, f"prediction x {gain:g}"), (true_rgb, "truth")]):
            images[r, i].imshow(rgb[i], interpolation="nearest" if rgb.shape[1] <= 64 else "antialiased")
            images[r, i].set_xticks([])
            images[r, i].set_yticks([])
            if i == 0:
                images[r, i].set_ylabel(label)
    suptitle(fig, caption)
    return fig


def nan_run_deduction():
    """What the paper's NaN run (figure 17, lr 0.1) tells about its own data, computed from
    :data:`deepcolor.paper.PAPER_RESULTS` (notebook 09).

    Our inference, not the paper's: if the NaN run's output gave one argmax for every pixel, it was a
    constant predictor, and a constant predictor scores p or 1 - p, p the share of pixels with a >= b.
    So its score s gives p (s or 1 - s: which one depends on the argmax), the best constant's score
    max(s, 1 - s), and the headline run's (figure 20) margin over it.  Returns a DataFrame indexed by
    split ("val", "test") with columns "figure 17 (NaN run)", "p if its argmax was a" (= s), "p if it
    was b" (= 1 - s), "best constant
    max(p, 1 - p)", "figure 20", "figure 20 - best constant", fractions in [0, 1].
    """
    import pandas as pd

    nan_run, headline = (next(r for r in PAPER_RESULTS if r.figure == f) for f in (17, 20))
    rows = {}
    for split in ("val", "test"):
        s, top = getattr(nan_run, split), getattr(headline, split)
        best = max(s, 1 - s)
        rows[split] = {"figure 17 (NaN run)": s, "p if its argmax was a": s, "p if it was b": 1 - s,
                       "best constant max(p, 1 - p)": best,
                       "figure 20": top, "figure 20 - best constant": top - best}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("split")


def fragile_mask(ab, threshold=5.0):
    """The fragile pixels, where |a - b| < ``threshold`` (Lab units): a small error flips which of a
    and b is larger, so the paper's accuracy on them is decided by noise (notebook 09).
    ab: (..., 2) in Lab units.  Returns a bool array of shape ab.shape[:-1]."""
    ab = np.asarray(ab)
    if ab.ndim < 1 or ab.shape[-1] != 2:
        raise ValueError(f"ab must have a last axis of 2 (a, b), got shape {ab.shape}")
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0 Lab units, got {threshold}")
    return np.abs(ab[..., 0].astype(np.float64) - ab[..., 1]) < threshold


def fragile_pixels_figure(L, ab, threshold=5.0, max_images=4, caption=None):
    """Where the fragile pixels (:func:`fragile_mask`) of a few photos lie (notebook 09): per photo,
    the colour photo above its gray version with the fragile pixels painted cyan, titled with their
    share and the share of them that are coloured (chroma sqrt(a^2 + b^2) >= 10, not near-gray).
    L: (N, H, W) in [0, 100]; ab: (N, H, W, 2) in Lab units.  Returns (figure with 2 x n image axes,
    share of fragile pixels over all N photos)."""
    L, ab = np.asarray(L, np.float32), np.asarray(ab, np.float32)
    if L.ndim != 3 or ab.shape != L.shape + (2,):
        raise ValueError(f"need L (N, H, W) and ab (N, H, W, 2) of the same photos, got {L.shape} and {ab.shape}")
    mask = fragile_mask(ab, threshold)
    coloured = np.hypot(ab[..., 0], ab[..., 1]) >= 10
    n = min(len(L), int(max_images))
    fig = figure(figsize=(2.4 * n + 0.4, 5.6))
    axes = fig.subplots(2, n, squeeze=False)
    gray, rgb = gray_to_rgb(L[:n]), lab_parts_to_rgb(L[:n], ab[:n])
    for i in range(n):
        marked = np.where(mask[i][..., None], 0.35 * gray[i] + 0.65 * np.array([0.0, 1.0, 1.0]), gray[i])
        m = mask[i]
        axes[0, i].imshow(rgb[i])
        axes[1, i].imshow(marked)
        axes[1, i].set_title(f"{m.mean():.0%} fragile,\n{(m & coloured[i]).sum() / max(m.sum(), 1):.0%} of them coloured",
                             fontsize=9)
        for a in axes[:, i]:
            a.set_xticks([])
            a.set_yticks([])
    axes[0, 0].set_ylabel("colour photo")
    axes[1, 0].set_ylabel(f"|a - b| < {threshold:g} (cyan)")
    share = float(mask.mean())
    suptitle(fig, f"{caption + ' - ' if caption else ''}{share:.0%} of the pixels of these {len(L)} photos are fragile")
    return fig, share
