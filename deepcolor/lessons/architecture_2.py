"""The tables and figure of notebook ``06_architecture_2``'s question: does the fusion help?

The notebook trains the same model once per embedding mode (``imagenet``, ``untrained``, ``none``)
in its own loop (``deepcolor.train.train_or_load``) and measures each run
(:func:`deepcolor.comparison.evaluate_test_sets`).  Here: which modes can run on this machine
(:func:`ablation_modes`), how much an embedding differs from photo to photo (:func:`embedding_spread`),
and the runs' tables side by side (:func:`ablation_table`, :func:`show_ablation`) and as bars
(:func:`ablation_figure`).
"""

from __future__ import annotations

import numpy as np

from .. import comparison, weights
from ..comparison import LEVEL
from ..metrics import METRICS
from . import figures
from .figures import suptitle

__all__ = ["ablation_modes", "embedding_spread", "ablation_table", "show_ablation", "ablation_figure"]


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


def ablation_table(results, runs, embeddings, split):
    """The fusion ablation's runs side by side on both test sets (notebook 06).

    results: {mode: :func:`deepcolor.comparison.evaluate_test_sets` table} of the runs that completed;
    runs: {mode: :class:`deepcolor.runs.Run`}, every mode run, in the order to show; embeddings:
    {mode: (len(dataset), 1000) float32}, each run's embeddings; split: the :class:`deepcolor.data.Split`
    they were trained and measured on.  Returns a DataFrame indexed by (test set, embeddings): under each
    test set one row per mode (empty where the run did not complete) then the gray and mean-ab
    baselines; columns: the metrics, ``images``, ``note``, ``embedding spread`` (:func:`embedding_spread`
    over the training images), ``run`` (the folder's name) and ``status`` (both empty for the baselines).
    """
    import pandas as pd

    modes = list(runs)
    train = np.asarray(split[0])
    empty = pd.DataFrame(columns=[*METRICS, "images", "note"],
                         index=pd.MultiIndex.from_tuples([], names=[LEVEL, "predictor"]))
    table = comparison.results_side_by_side(results) if results else empty
    sets = [comparison.TEST_SETS[part] for part in comparison.image_sets(split)]
    extra = pd.DataFrame.from_dict({mode: {"embedding spread": embedding_spread(embeddings[mode], train),
                                           "run": run.run_dir.name, "status": run.status}
                                    for mode, run in runs.items()}, orient="index")
    table = comparison.order_rows(table, modes, sets).join(extra, on="predictor")
    table[["run", "status"]] = table[["run", "status"]].fillna("")  # the baselines have neither
    table.index = table.index.set_names([LEVEL, "embeddings"])
    return table


def _title(arch, split):
    return f"{arch}, same settings, once per embedding mode, on {comparison.sets_caption(split)}"


def _modes(table):
    return ", ".join(m for m in table.index.unique("embeddings") if "baseline" not in m)


def show_ablation(table, cfg, arch, split):
    """An :func:`ablation_table` styled and captioned with the profile, the modes and the test images
    (notebook 06); the ``embeddings`` column (the profile's own mode) is hidden: the rows name each mode."""
    title = _title(arch, split)
    return figures.metrics_table(table, cfg.name, _modes(table), title).hide(["embeddings"], axis="columns")


def ablation_figure(table, cfg, arch, split):
    """Bars per embedding mode of an :func:`ablation_table`, one per test set: ab MSE and accuracy (each
    set's two baselines as lines of its colour, behind the bars' values), and the embedding spread
    (notebook 06).  Returns a Figure with 3 axes, captioned like :func:`show_ablation`."""
    modes = [m for m in table.index.unique("embeddings") if "baseline" not in m]
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
                    ax.axhline(part.loc[name, column], color=colour, linestyle=style, linewidth=1, zorder=2,
                               label=f"{name}, {label}")
            for xi, v in zip(x, values):  # on a white box above the lines, so that no line crosses a value
                ax.annotate(f"{v:.3g}", (xi, v), xytext=(0, 2), textcoords="offset points", ha="center",
                            va="bottom", fontsize=8, zorder=5,
                            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"})
        ax.set_xticks(range(len(modes)), modes)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("embedding mode")
        ax.margins(y=0.12)  # room above the tallest bar for its value
    figures.place_legend(fig, list(axes))
    suptitle(fig, figures.caption(cfg.name, _modes(table), _title(arch, split)))
    return fig
