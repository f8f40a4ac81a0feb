"""What notebook ``06_architecture_2`` asks of its network: does the fusion help?

:func:`fusion_ablation` trains the same model with embeddings ``imagenet``, ``untrained`` and
``none``; :func:`ablation_modes` says which of them can run here.

The steps every architecture notebook shares are :func:`deepcolor.lessons.architectures.architecture_lesson`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import comparison, weights
from ..comparison import LEVEL
from ..embedding_cache import dataset_embeddings
from ..embeddings import check_mode
from ..metrics import METRICS
from ..progress import bar
from ..weights import WeightsUnavailableError
from . import figures
from .figures import suptitle

__all__ = ["ablation_modes", "embedding_spread", "Ablation", "fusion_ablation"]


def ablation_modes(cfg):
    """The embedding modes the fusion ablation can run on this machine, and a sentence saying so (notebook 06).

    ``("imagenet", "untrained", "none")`` when the profile embeds with ImageNet weights and
    ``deepcolor.weights.weights_available()``; else ``("untrained", "none")``, and the sentence says
    why and what the two can and cannot show.  Returns (modes, note).
    """
    if cfg.embedding_mode != "imagenet":
        why = f"the profile {cfg.name!r} embeds with the {cfg.embedding_mode!r} mode, not ImageNet weights"
    elif not weights.weights_available():
        why = "the ImageNet weights of Inception-ResNet-v2 are not on this machine and cannot be downloaded"
    else:
        return ("imagenet", "untrained", "none"), ("All three embedding modes run here: imagenet (the paper's), "
                                                   "untrained (random weights) and none (zeros).")
    return ("untrained", "none"), (
        f"Only the untrained and none modes can run here: {why}. Random-weight embeddings are nearly the same "
        "for every photo, so this comparison cannot tell whether the paper's (ImageNet) fusion helps; it only "
        "runs the experiment. Run it under the default profile with the ImageNet weights for the answer.")


def embedding_spread(emb, indices=None):
    """How much the embeddings differ from photo to photo (notebook 06): the mean, over images, of the
    L1 distance between an image's embedding and the mean embedding of ``indices`` (default all).

    emb: (N, 1000); for softmax rows (which sum to 1) the value lies in [0, 2].  0 means every photo
    gets the same vector (always so for mode "none"), so fusing it tells the decoder nothing about the photo.
    """
    e = np.asarray(emb if indices is None else emb[np.asarray(indices)], np.float64)
    return float(np.abs(e - e.mean(axis=0)).sum(axis=1).mean()) if len(e) else float("nan")


class Ablation(NamedTuple):
    """What :func:`fusion_ablation` returns.  table: a DataFrame indexed by (test set, embeddings): under
    each test set one row per embedding mode, then the gray and mean-ab baselines; shown: it styled and
    captioned; figure: its bar charts; note: which modes ran and why (:func:`ablation_modes`); modes: the modes run."""

    table: Any
    shown: Any
    figure: Any
    note: str
    modes: tuple


def fusion_ablation(cfg, ds, split, arch="arch2", emb=None, modes=None, lesson=None, verbose="auto", runs_dir=None):
    """Does the fusion help?  ``arch`` trained with the same settings under ``cfg``'s profile, once per
    embedding mode, and measured on both test sets (:func:`deepcolor.comparison.evaluate_test_sets`, notebook 06).

    modes: default :func:`ablation_modes` (imagenet only where it can run); asking for "imagenet"
    where it cannot raises :class:`deepcolor.weights.WeightsUnavailableError`.  emb: the profile's
    embeddings (``cfg.embeddings(ds)``), reused for the profile's mode; the other modes come from
    ``embedding_cache.dataset_embeddings`` (cached on disk; "none" is zeros).  Each run goes through
    ``train.train_or_load`` with its real ``embedding_mode``, so finished runs are reused and every
    record names its mode.  lesson: the :class:`ArchitectureLesson` of ``arch`` under this profile,
    whose results stand for the profile's own mode (its run is the same).  The table is indexed by
    (test set, embeddings), each test set with one row per mode then the baselines; columns: the
    metrics, images, ``embedding spread`` (:func:`embedding_spread` on the training images), run,
    status.  Returns an :class:`Ablation`.
    """
    import pandas as pd

    from ..train import train_or_load

    possible, note = ablation_modes(cfg)
    modes = tuple(check_mode(m) for m in (possible if modes is None else modes))
    if "imagenet" in modes and "imagenet" not in possible:
        raise WeightsUnavailableError(f"the fusion ablation cannot run the 'imagenet' mode here. {note}")
    if modes != possible:
        note = f"Modes run: {', '.join(modes)} (asked for). {note}"
    train = np.asarray(split[0])
    tables, extra = {}, {}
    known = {cfg.embedding_mode: lesson.results} if lesson is not None and lesson.arch == arch else {}
    for mode in modes:
        e = emb if (mode == cfg.embedding_mode and emb is not None) else dataset_embeddings(
            ds, mode, progress=bar(f"embeddings ({mode})"))
        run = train_or_load(ds, e, split, cfg.train_config(arch), embedding_mode=mode, profile=cfg.name,
                            runs_dir=runs_dir, verbose=verbose)
        extra[mode] = {"embedding spread": embedding_spread(e, train), "run": run.run_dir.name, "status": run.status}
        if known.get(mode) is not None:
            tables[mode] = known[mode]
        elif run.status == "completed":
            tables[mode] = comparison.evaluate_test_sets(run, ds, split, e)
    empty = pd.DataFrame(columns=[*METRICS, "images", "note"],
                         index=pd.MultiIndex.from_tuples([], names=[comparison.LEVEL, "predictor"]))
    table = comparison.results_side_by_side(tables) if tables else empty
    sets = [comparison.TEST_SETS[part] for part in comparison.image_sets(split)]
    table = comparison.order_rows(table, modes, sets).join(pd.DataFrame.from_dict(extra, orient="index"), on="predictor")
    table[["run", "status"]] = table[["run", "status"]].fillna("")  # the baselines have neither
    table.index = table.index.set_names([comparison.LEVEL, "embeddings"])
    title = f"{arch}, same settings, on {comparison.sets_caption(split)}"
    shown = figures.metrics_table(table, cfg.name, ", ".join(modes), title).hide(["embeddings"], axis="columns")
    caption = figures.caption(cfg.name, ", ".join(modes), title)
    return Ablation(table, shown, _ablation_figure(table, modes, caption), note, modes)


def _ablation_figure(table, modes, caption):
    """Bars per embedding mode, one per test set: ab MSE and accuracy (each set's two baselines as lines
    of its colour), and the embedding spread."""
    fig = figures.new_figure(figsize=(11, 4.0), layout="constrained")
    panels = (("ab_mse", "ab MSE (lower is better)"), ("accuracy", "paper accuracy (is a > b right)"),
              ("embedding spread", "embedding spread across photos"))
    lines = {"gray baseline": ":", "mean-ab baseline": "--"}
    sets = list(table.index.unique(LEVEL))
    axes = fig.subplots(1, 3)
    for ax, (column, title) in zip(axes, panels):
        shown = sets if column != "embedding spread" else sets[:1]  # the spread does not depend on the test set
        width = 0.8 / len(shown)
        for k, label in enumerate(shown):
            part = table.xs(label, level=LEVEL)
            values = [part.loc[m, column] for m in modes]
            x = np.arange(len(modes)) + (k - (len(shown) - 1) / 2) * width
            colour = f"C{k}" if column != "embedding spread" else "gray"
            ax.bar(x, values, width=width, color=colour, label=label if column != "embedding spread" else None)
            for name, style in lines.items():
                if column != "embedding spread" and name in part.index:
                    ax.axhline(part.loc[name, column], color=colour, linestyle=style, linewidth=1, label=f"{name}, {label}")
            for xi, v in zip(x, values):
                ax.annotate(f"{v:.3g}", (xi, v), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(modes)), list(modes))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("embedding mode")
    figures.place_legend(fig, list(axes))
    suptitle(fig, caption)
    return fig
