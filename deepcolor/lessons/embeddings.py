"""What notebook ``03_embeddings`` draws and tabulates: the network's input made right and wrong,
what the ImageNet classifier sees in a gray photo, the embedding tiled for fusion, and the embeddings
of a dataset side by side (the notebook embeds in its own cells, with :mod:`deepcolor.embeddings`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from .. import embeddings
from ..embeddings import preprocess
from .dataset import manifest_table
from .figures import figure, place_legend

__all__ = ['show_preprocessing', 'top_labels_table', 'embedding_note', 'show_embedding_tiling', 'show_embeddings']


def show_preprocessing(L) -> Figure:
    """Inception-ResNet-v2's input, made right and made wrong, side by side.

    L: (H, W) lightness in [0, 100].  Left: ``embeddings.preprocess(L)``, the 299x299 gray RGB
    input, values in [-1, 1].  Middle: the [0, 1] bug (``preprocess(L / 100)``, as when RGB in
    [0, 1] reaches ``preprocess_input``): every pixel near -1.  Right: histograms of both.
    Returns a Figure with 3 axes (notebook 03_embeddings)."""
    L = np.asarray(L, np.float32)
    if L.ndim != 2:
        raise ValueError(f"expected one image L (H, W) in [0, 100], got shape {L.shape}")
    good = preprocess(L[None])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # preprocess warns about exactly this bug
        bad = preprocess(L[None] / 100)[0]
    fig = figure(figsize=(15, 4.2))
    axes = fig.subplots(1, 3)
    for ax, x, title in ((axes[0], good, "right: L in [0, 100]"), (axes[1], bad, "bug: L / 100 in [0, 1]")):
        ax.imshow(x[..., 0], cmap="gray", vmin=-1, vmax=1)
        ax.set_title(f"{title}\n{x.shape[0]}x{x.shape[1]}x3 input, values [{x.min():.2f}, {x.max():.2f}]")
        ax.axis("off")
    axes[2].hist(good.ravel(), bins=100, range=(-1, 1), alpha=0.7, label="right")
    axes[2].hist(bad.ravel(), bins=100, range=(-1, 1), alpha=0.7, label="[0, 1] bug")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("value after preprocess_input")
    place_legend(fig, [axes[2]])  # two short labels: inside, where the bars leave room
    axes[2].set_title("the network expects values spread over [-1, 1]")
    return fig


def top_labels_table(ds, indices, k: int = 5, embedder=None) -> pd.DataFrame:
    """The top-``k`` ImageNet classes Inception-ResNet-v2 sees in the gray images ``indices`` of
    ``ds``, one row per (image, rank).  Needs the ImageNet weights (``embeddings.top_labels``):
    check ``cfg.embedding_mode == "imagenet"`` first (notebook 03_embeddings)."""
    items = manifest_table(ds)
    rows = []
    for i in indices:
        photo = items["photo"].get(int(i), "") if len(items) else ""
        for rank, (name, p) in enumerate(embeddings.top_labels(ds[int(i)][0], k=k, embedder=embedder), 1):
            rows.append((int(i), photo, rank, name, p))
    return pd.DataFrame(rows, columns=["image", "photo", "rank", "class", "probability"]).set_index(["image", "rank"])


def _cuboid(ax, x, depth, face, label, stripes=(), first=0.0, base=("0.85", "0.7"), grid=7):
    """A 3x3 box in oblique projection at (x, 0), its depth (channel axis) going up-right.
    The top and side faces are painted with ``stripes`` (colours along the depth, starting at
    the fraction ``first`` of it); the front face (the H x W grid, ``grid`` cells a side) gets ``face``."""
    w = h = 3.0
    dx, dy = 0.5 * depth, 0.35 * depth
    top = [(x, h), (x + dx, h + dy), (x + w + dx, h + dy), (x + w, h)]
    side = [(x + w, 0), (x + w + dx, dy), (x + w + dx, h + dy), (x + w, h)]
    ax.add_patch(Polygon(top, fc=base[0]))
    ax.add_patch(Polygon(side, fc=base[1]))
    edges = first + (1 - first) * np.linspace(0, 1, len(stripes) + 1)
    for c, f0, f1 in zip(stripes, edges[:-1], edges[1:]):  # constant along H and W, varying along C
        ax.add_patch(Polygon([(x + dx * f0, h + dy * f0), (x + w + dx * f0, h + dy * f0),
                              (x + w + dx * f1, h + dy * f1), (x + dx * f1, h + dy * f1)], fc=c, lw=0))
        ax.add_patch(Polygon([(x + w + dx * f0, dy * f0), (x + w + dx * f1, dy * f1),
                              (x + w + dx * f1, h + dy * f1), (x + w + dx * f0, h + dy * f0)], fc=c, lw=0))
    for face_outline in (top, side):
        ax.add_patch(Polygon(face_outline, fc="none", ec="k"))
    ax.add_patch(Rectangle((x, 0), w, h, fc=face, ec="k"))
    for t in np.linspace(0, w, grid + 1)[1:-1]:  # the spatial grid, one cell per position
        ax.plot([x + t, x + t], [0, h], color="w", lw=0.4)
        ax.plot([x, x + w], [t, t], color="w", lw=0.4)
    ax.text(x + w / 2, -0.4, label, ha="center", va="top", fontsize=9)


def embedding_note(mode: str | None) -> str:
    """How a figure names the embedder of ``mode``: "untrained embedder: random weights, no meaning"
    for ``"untrained"`` (notebook 03_embeddings: say so wherever untrained embeddings are shown)."""
    return {"imagenet": "ImageNet embedder", "untrained": "UNTRAINED embedder: random weights, no meaning",
            "none": "no embedding: zeros"}.get(mode, "embedder not given")


def show_embedding_tiling(embedding, spatial: int, channels: int = 256, mode: str | None = None) -> Figure:
    """How the fusion layer uses the embedding, drawn: the (E,) vector as a heat strip (top), and
    (bottom) the encoder's ``spatial x spatial x channels`` features beside the same vector copied to
    every one of the ``spatial x spatial`` positions (stripes along the channel axis, constant over
    the grid), the two concatenated on the channel axis, and the 1x1 convolution that mixes them.
    The front faces show the grid itself, ``spatial`` cells a side (up to 28: the paper's, at 224 px).
    embedding: (E,) float, E = 1000; spatial: the encoder's output size at the profile's input size
    (``input_size // 8``); mode: the embedder's mode, named in the titles
    (:func:`embedding_note`).  Returns a Figure with 2 axes (notebook 03_embeddings)."""
    e = np.asarray(embedding, np.float32).reshape(-1)
    if int(spatial) < 1:
        raise ValueError(f"spatial is the encoder's output size, at least 1, got {spatial}")
    fig = figure(figsize=(13, 6))
    top, ax = fig.subplots(2, 1, height_ratios=(1, 4))
    top.imshow(e[None], aspect="auto", cmap="magma", interpolation="nearest")
    top.set_yticks([])
    top.set_xlabel("embedding index (one value per ImageNet class)")
    top.set_title(f"the image's embedding: ({e.size},) vector, values in [{e.min():.3g}, {e.max():.3g}] "
                  f"({embedding_note(mode)})")
    peaks = np.array([part.max() for part in np.array_split(e, min(40, e.size))])
    stripes = colormaps["magma"]((peaks - e.min()) / (np.ptp(e) or 1.0))
    d, grid = e.size + channels, min(int(spatial), 28)
    _cuboid(ax, 0, 2.0, "tab:blue", f"encoder features\n{spatial}x{spatial}x{channels}", grid=grid,
            base=("lightsteelblue", "steelblue"))
    ax.text(5.15, 1.5, "and", fontsize=11, ha="center", va="center")
    _cuboid(ax, 6.3, 4.0, stripes[0], f"embedding tiled\n{spatial}x{spatial}x{e.size}", stripes, grid=grid)
    ax.annotate("", xy=(13.3, 1.5), xytext=(11.8, 1.5), arrowprops={"arrowstyle": "->", "lw": 2})
    ax.text(12.55, 1.75, "concatenate\n(channel axis)", fontsize=8, ha="center", va="bottom")
    _cuboid(ax, 13.8, 4.8, "tab:blue", f"concatenated\n{spatial}x{spatial}x{d}", stripes, grid=grid,
            first=channels / d, base=("lightsteelblue", "steelblue"))
    ax.annotate("", xy=(20.5, 1.5), xytext=(19.0, 1.5), arrowprops={"arrowstyle": "->", "lw": 2})
    _cuboid(ax, 21.0, 2.0, "tab:orange", f"1x1 conv\n{spatial}x{spatial}x{channels}", grid=grid)
    ax.set(xlim=(-0.5, 26), ylim=(-1.6, 5.2), aspect="equal")
    ax.axis("off")
    ax.set_title(f"fusion at this profile's {spatial}x{spatial} grid: every position gets the same {e.size} values "
                 "(stripes run along the channel axis)")
    return fig


def show_embeddings(emb, n: int = 8, mode: str | None = None) -> Figure:
    """The first ``n`` embeddings (rows of ``emb`` (N, 1000)) as a heat map, and their pairwise
    cosine similarity: untrained embeddings are nearly identical (similarity ~1), ImageNet ones
    differ from photo to photo.  Returns a Figure with 2 axes (+2 colour bars) (notebook 03)."""
    emb = np.asarray(emb[:n], np.float32)
    if emb.ndim != 2 or len(emb) == 0:
        raise ValueError(f"expected embeddings (N, 1000) with N >= 1, got shape {emb.shape}")
    unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    sim = unit @ unit.T
    fig = figure(figsize=(15, 4))
    ax1, ax2 = fig.subplots(1, 2, width_ratios=(3, 1))
    fig.colorbar(ax1.imshow(emb, aspect="auto", cmap="magma", interpolation="nearest"), ax=ax1, label="value")
    ax1.set_xlabel("embedding index")
    ax1.set_ylabel("image")
    ax1.set_title(f"{len(emb)} embeddings ({embedding_note(mode)}); spread across images: "
                  f"{emb.std(axis=0).mean():.2g}")
    fig.colorbar(ax2.imshow(sim, vmin=0, vmax=1, cmap="viridis"), ax=ax2)
    ax2.set_title("cosine similarity")
    ax2.set_xlabel("image")
    return fig
