"""What notebook ``11_colour_as_classes`` compares: the paper's MSE regression beside colour as
classes (Zhang et al. 2016), without and with class rebalancing, on the same trunk.

:func:`train_three` trains (or reuses, from their run folders) the three models under a profile,
:func:`comparison_table` measures them on both test sets with :func:`deepcolor.comparison.evaluate_test_sets`,
:func:`show_side_by_side` and :func:`temperature_figure` draw them.
:class:`deepcolor.classify.AnnealedColorizer` lets a classifier stand where a regression model is
expected (``evaluation.evaluate``, ``predict.predict_ab``).
"""

from __future__ import annotations

import numpy as np

from ..classify import ZHANG_T, AnnealedColorizer, ClassifierHead
from ..color import lab_parts_to_rgb
from ..comparison import evaluate_test_sets, results_side_by_side, sets_caption
from ..heads import Head
from ..predict import predict_ab
from .figures import caption, metrics_table, new_figure, suptitle

__all__ = ["AnnealedColorizer", "HEADS", "MODELS", "as_regressor", "comparison_table", "mean_chroma", "predict_all",
           "show_side_by_side", "temperature_figure", "train_three"]

MODELS = ("MSE (paper)", "classes", "classes + rebalancing")
"""The three models of the notebook, in the order of its tables and figures."""


HEADS = {MODELS[0]: None, MODELS[1]: ClassifierHead(rebalance=False), MODELS[2]: ClassifierHead(rebalance=True)}
"""The head of each model: None is the paper's MSE head; the classifiers have Zhang et al.'s setting."""


def train_three(cfg, ds, emb, split, arch: str = "base", verbose=0, runs_dir=None):
    """The three models under profile ``cfg`` (notebook 11_colour_as_classes), each trained with
    ``cfg.train_or_load`` at the profile's size, epochs, batch size, lr and L2 into a run folder
    under ``runs_dir`` (default :func:`deepcolor.runs.default_runs_dir`), or reused from the
    finished run of the same setting (the MSE model is notebook 04's when ``arch`` is "base").
    Returns (models, histories): dicts keyed by :data:`MODELS`; the classifiers are Keras models
    with (n, s/2, s/2, Q) softmax outputs, the MSE model outputs ab / 128; a history is
    ``{"loss": [...], "val_loss": [...], ...}``, one value per epoch."""
    models, histories = {}, {}
    for name, head in HEADS.items():
        run = cfg.train_or_load(arch, ds, emb, split, verbose=verbose, runs_dir=runs_dir, head=head)
        models[name], histories[name] = run.model, run.history
    return models, histories


def as_regressor(model, T):
    """``model`` itself if it outputs ab (2 channels), else a
    :class:`deepcolor.classify.AnnealedColorizer` at ``T`` (notebook 11_colour_as_classes)."""
    return model if Head.of_model(model) == "mse" else AnnealedColorizer(model, T)


def predict_all(models, L, embedding, T: float = ZHANG_T) -> dict:
    """Each model's ab (n, H, W, 2) in Lab units for L (n, H, W) in [0, 100] (notebook
    11_colour_as_classes); classifiers at temperature ``T``.  Returns a dict keyed like ``models``."""
    embedding = np.asarray(embedding, np.float32)
    return {name: predict_ab(as_regressor(m, T), L, embedding) for name, m in models.items()}


def comparison_table(cfg, models, ds, emb, split, T: float = ZHANG_T):
    """The models side by side on both test sets (notebook 11_colour_as_classes): under each test set
    (photos it has never seen; new crops of photos it has seen, where the split has them) one row per
    model then the gray and mean-ab baselines, the columns of ``metrics.METRICS`` (the paper's
    accuracy, ab_mse, psnr, auc, rebalanced_auc, colourfulness ...).  Returns a captioned Styler
    (``figures.metrics_table``)."""
    tables = {name: evaluate_test_sets(as_regressor(m, T), ds, split, emb) for name, m in models.items()}
    return metrics_table(results_side_by_side(tables), cfg.name, cfg.embedding_mode,
                         f"MSE vs colour classes (T = {T:g}) on {sets_caption(split)}")


def mean_chroma(ab) -> float:
    """Mean chroma sqrt(a**2 + b**2) of ab (..., 2) in Lab units: 0 is gray; larger is more colourful."""
    ab = np.asarray(ab, np.float32)
    return float(np.mean(np.hypot(ab[..., 0], ab[..., 1])))


def show_side_by_side(cfg, L, ab_true, preds: dict, max_images: int = 6, title=None, titles=None):
    """Gray input, each prediction and the truth, one row each, one column per photo (notebook
    11_colour_as_classes).  L: (n, H, W) in [0, 100]; ab_true (None: no truth row) and each of
    ``preds``: (n, H, W, 2) in Lab units; titles: up to n column titles (e.g. ``comparison.picture_indices``'s).
    Each row is labelled with its mean chroma; the caption names the profile."""
    L = np.asarray(L, np.float32)
    rows = {"gray input": np.zeros(L.shape + (2,), np.float32), **preds}
    if ab_true is not None:
        rows["truth"] = ab_true
    n = min(len(L), int(max_images))
    fig = new_figure(figsize=(1.8 * n + 1.6, 1.8 * len(rows) + 0.6), layout="constrained")
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (label, ab) in enumerate(rows.items()):
        rgb = lab_parts_to_rgb(L[:n], np.asarray(ab, np.float32)[:n])
        for i in range(n):
            axes[r, i].imshow(rgb[i], interpolation="nearest" if rgb.shape[1] <= 64 else "antialiased")
            axes[r, i].set_xticks([])
            axes[r, i].set_yticks([])
            if r == 0 and titles is not None and i < len(titles):
                axes[r, i].set_title(str(titles[i]), fontsize=8)
        axes[r, 0].set_ylabel(f"{label}\nchroma {mean_chroma(ab[:n]):.1f}", fontsize=8)
    suptitle(fig, caption(cfg.name, cfg.embedding_mode, title))
    return fig


def temperature_figure(cfg, model, L, embedding, T: float = ZHANG_T, max_images: int = 6, titles=None):
    """Test photos recoloured by a classifier at temperature ``T``, no retraining (notebook
    11_colour_as_classes): T = 1 is the mean of the distribution, small T approaches its mode.
    L: (n, H, W) in [0, 100]; embedding: (n, 1000); titles: column titles, as for :func:`show_side_by_side`.
    Returns a Figure (gray row, prediction row)."""
    ab = predict_all({f"T = {T:.2f}": model}, L, embedding, T)
    return show_side_by_side(cfg, L, None, ab, max_images, f"annealed mean at T = {T:.2f}", titles)
