"""The pictures of notebook ``11_colour_as_classes``: the paper's MSE model beside colour as classes
(Zhang et al. 2016), without and with class rebalancing, on the same trunk.

The notebook trains (``cfg.train_or_load(..., head=ClassifierHead(...))``), predicts
(``predict.predict_ab`` of a :class:`deepcolor.classify.AnnealedColorizer`) and measures
(``comparison.evaluate_test_sets``) in its own cells.  This module only draws:
:func:`show_side_by_side` (one row per model, labelled with its :func:`mean_chroma`) and
:func:`temperature_figure` (one classifier read at one temperature; the notebook puts it under a
slider with :func:`deepcolor.lessons.sliders.figure_slider`).
"""

from __future__ import annotations

import numpy as np

from ..ab_bins import ZHANG_T
from ..color import lab_parts_to_rgb
from ..predict import predict_ab
from .figures import caption, new_figure, suptitle

__all__ = ["mean_chroma", "show_side_by_side", "temperature_figure"]


def mean_chroma(ab) -> float:
    """Mean chroma sqrt(a**2 + b**2) of ab (..., 2) in Lab units (notebook 11_colour_as_classes):
    0 is gray; larger is more colourful."""
    ab = np.asarray(ab, np.float32)
    return float(np.mean(np.hypot(ab[..., 0], ab[..., 1])))


def show_side_by_side(cfg, L, ab_true, preds: dict, max_images: int = 6, title=None, titles=None):
    """Gray input, each prediction and the truth, one row each, one column per photo (notebook
    11_colour_as_classes).  L: (n, H, W) in [0, 100]; ab_true (None: no truth row) and each of
    ``preds``: (n, H, W, 2) in Lab units; titles: up to n column titles (e.g. ``comparison.picture_indices``'s).
    Each row is labelled with its mean chroma over the pictures shown; the caption names the profile."""
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
        axes[r, 0].set_ylabel(f"{label}\nchroma {mean_chroma(np.asarray(ab)[:n]):.1f}", fontsize=8)
    suptitle(fig, caption(cfg.name, cfg.embedding_mode, title, sets=False))
    return fig


def temperature_figure(cfg, model, L, embedding, T: float = ZHANG_T, max_images: int = 6, titles=None):
    """Photos recoloured by a classifier read at temperature ``T``, no retraining (notebook
    11_colour_as_classes): ``predict_ab(AnnealedColorizer(model, T), L, embedding)``; T = 1 is the
    mean of each pixel's distribution, small T approaches its mode.
    model: a classifier (output (n, s/2, s/2, Q)); L: (n, H, W) in [0, 100]; embedding: (n, 1000);
    titles: column titles, as for :func:`show_side_by_side`.  Returns a Figure (gray row, prediction row)."""
    from ..classify import AnnealedColorizer  # Keras: imported when a figure is drawn, as the lessons do

    ab = predict_ab(AnnealedColorizer(model, T), L, np.asarray(embedding, np.float32))
    return show_side_by_side(cfg, L, None, {f"T = {T:.2f}": ab}, max_images, f"annealed mean at T = {T:.2f}", titles)
