"""What notebook ``02_dataset`` draws and tabulates: the arrays on disk, the manifest, one image in
L, a, b, the distribution of colours, the toy of why MSE gives dull colours, and the parts of the
split (the notebook opens the dataset and splits it in its own cells, with :mod:`deepcolor.data`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .. import color
from .figures import AB_LIMIT, figure, lab_panels

__all__ = ['data_caption', 'captioned', 'dataset_arrays', 'manifest_table', 'show_dataset_image', 'ab_counts',
           'ab_histogram', 'split_table', 'TOY_L', 'TOY_RED', 'TOY_BLUE', 'toy_colours', 'expected_squared_error',
           'mse_toy']


SOURCES = {"sample": "the built-in sample", "kaggle": "the Kaggle set"}
"""How captions name a dataset's ``source`` (a Kaggle subset's is ``"kaggle[:n]"``)."""


def data_caption(profile: str | None, ds, indices=None, which: str | None = None) -> str:
    """Which data a table or histogram shows, for its caption (notebooks 02, 03), e.g.
    ``"profile smoke: all 32 images of the built-in sample"`` or ``"profile smoke: train split: 20
    of the 32 images of the built-in sample"``.  profile: the profile's name (``cfg.name``; None:
    left out); indices: the images shown (default: all of ``ds``); which: what they are ("train
    split", "images 0-11")."""
    name, _, subset = str(ds.source).partition("[")
    source = SOURCES.get(name, f"dataset '{name}'")
    pool = f"the {'first ' if subset else ''}{len(ds):,} images of {source}"
    if indices is None:
        shown = pool if subset else f"all {len(ds):,} images of {source}"
    else:
        shown = f"{which + ': ' if which else ''}{len(indices):,} of {pool}"
    return f"profile {profile}: {shown}" if profile else shown


def captioned(df: pd.DataFrame, caption: str, precision: int = 3):
    """``df`` as a pandas Styler with ``caption`` above it and floats to ``precision`` digits
    (notebooks 02, 03: every table says which data it shows)."""
    return df.style.format(precision=precision).set_caption(caption)


def dataset_arrays(ds) -> pd.DataFrame:
    """The arrays behind a LabDataset: file (relative to ``ds.root``), shape, dtype, size in MB and
    whether it is memory-mapped (read from disk only where indexed) (notebook 02_dataset)."""
    arrays = [("l/gray_scale.npy", ds.l8)] + [(f"ab/ab/ab{k}.npy", a) for k, a in enumerate(ds.ab8_parts, 1)]
    return pd.DataFrame([(name, tuple(a.shape), str(a.dtype), a.nbytes / 1e6, isinstance(a, np.memmap))
                         for name, a in arrays],
                        columns=["file", "shape", "dtype", "MB", "memory-mapped"]).set_index("file")


def manifest_table(ds) -> pd.DataFrame:
    """Where each image comes from (the dataset's ``manifest.json``: source photo, licence and
    crop for the built-in sample, file name for your own photos), one row per image; empty for the
    Kaggle set, which has no manifest (notebook 02_dataset)."""
    items = (getattr(ds, "manifest", None) or {}).get("items", [])
    return pd.DataFrame(items).set_index("index") if items else pd.DataFrame(columns=["photo"])


def show_dataset_image(ds, i: int) -> Figure:
    """Image ``i`` of a dataset: the gray input, the colour photo, its a and b channels, titled
    with its source photo when the dataset has a manifest.  ds: a LabDataset (``ds[i] -> (L, ab)``).
    Returns a Figure with 4 image axes (+2 colour bars) (notebook 02_dataset)."""
    if not -len(ds) <= i < len(ds):
        raise IndexError(f"image {i} does not exist: the dataset has {len(ds)} images (0 to {len(ds) - 1})")
    i = int(i) % len(ds)
    L, ab = ds[i]
    panels = [("rgb", color.gray_to_rgb(L), "gray input (L)"), ("rgb", color.lab_parts_to_rgb(L, ab), "colour (L + ab)"),
              ("a", ab[..., 0], None), ("b", ab[..., 1], None)]
    fig = lab_panels(figure(figsize=(16, 4)), panels, 80)
    items = ds.manifest.get("items", []) if getattr(ds, "manifest", None) else []
    origin = f" - crop of '{items[i]['photo']}'" if i < len(items) and "photo" in items[i] else ""
    fig.suptitle(f"image {i} of {len(ds)} ({ds.source}){origin}")
    return fig


def ab_counts(ds, indices=None, bins: int = 64, batch_size: int = 16):
    """2-D histogram of the (a, b) values of every pixel of the images ``indices`` (default all),
    read ``batch_size`` images at a time.  Returns (counts (bins, bins) int64 indexed [a, b],
    edges (bins + 1,) shared by a and b over [-128, 128], mean ab (2,) float64) (notebook 02)."""
    idx = np.arange(len(ds)) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.size == 0:
        raise ValueError("no images selected: pass at least one index")
    edges = np.linspace(-AB_LIMIT, AB_LIMIT, bins + 1)
    counts, total = np.zeros((bins, bins), np.int64), np.zeros(2)
    for _, _, ab in ds.batches(idx, batch_size):
        ab = ab.reshape(-1, 2).astype(np.float64)
        counts += np.histogram2d(ab[:, 0], ab[:, 1], bins=(edges, edges))[0].astype(np.int64)
        total += ab.sum(axis=0)
    return counts, edges, total / counts.sum()


def ab_histogram(ds, indices=None, bins: int = 64, batch_size: int = 16, profile: str | None = None,
                 which: str | None = None) -> Figure:
    """Where the colours of a dataset lie: a log-scale 2-D histogram of (a, b) over all pixels of
    ``indices`` (default all) with the mean ab marked, and a caption on why MSE training predicts
    dull colours.  The title names the data: ``profile`` (e.g. ``cfg.name``), ``which`` images
    ("train split") and how many (:func:`data_caption`), and the pixels counted.
    Returns a Figure with 1 axis (+1 colour bar) (notebook 02_dataset)."""
    counts, edges, mean = ab_counts(ds, indices, bins, batch_size)
    data = data_caption(profile, ds, indices, which)
    n = int(counts.sum())
    centre = np.hypot(*np.meshgrid(edges[:-1] + np.diff(edges) / 2, edges[:-1] + np.diff(edges) / 2, indexing="ij"))
    dull = counts[centre < 20].sum() / n
    fig = figure(figsize=(6.5, 6.5))
    ax = fig.subplots()
    im = ax.imshow(np.ma.masked_equal(counts.T, 0), origin="lower", cmap="viridis", norm=LogNorm(),
                   extent=(edges[0], edges[-1], edges[0], edges[-1]))
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="pixels (log scale)")
    ax.plot(*mean, "r+", ms=18, mew=3, label=f"mean ab ({mean[0]:.1f}, {mean[1]:.1f})")
    ax.legend(loc="upper right")
    ax.set_xlabel("a (green - / magenta +)")
    ax.set_ylabel("b (blue - / yellow +)")
    ax.set_title(f"{data}\nab of {n:,} pixels; {dull:.0%} lie within 20 of gray (0, 0)", fontsize=10)
    fig.text(0.5, -0.02, "The mean is the single guess with the least squared error. A network trained "
             "with MSE that is unsure of\na pixel's colour hedges towards it; most pixels sit near (0, 0), "
             "so its colours come out dull and brownish-gray.", ha="center", va="top", fontsize=9)
    return fig


def split_table(split, groups=None) -> pd.DataFrame:
    """Images per part of a train/val/test split (``deepcolor.data.Split``) and their share, with a
    ``test_seen`` row (held-out crops of the training photos) where the split has one.  groups: the
    source photo of each image (``ds.groups``; None for the Kaggle set, one image per photo) adds how
    many photos each part holds and which (notebook 02_dataset)."""
    parts = {name: part for name, part in zip(("train", "val", "test"), split)}
    if len(getattr(split, "test_seen", ())):
        parts["test_seen"] = split.test_seen
    total = sum(len(part) for part in parts.values())
    df = pd.DataFrame({"images": {k: len(v) for k, v in parts.items()},
                       "fraction": {k: len(v) / total for k, v in parts.items()}})
    df.loc["total"] = [total, 1.0]
    df = df.astype({"images": int})
    if groups is not None:
        groups = np.asarray(groups)
        photos = {k: sorted(set(groups[v].tolist())) for k, v in parts.items()}
        photos["total"] = sorted(set(groups[np.concatenate(list(parts.values()))].tolist()))
        df["photos"] = [len(photos[k]) for k in df.index]
        df["which photos"] = [", ".join(photos[k]) if k != "total" else "" for k in df.index]
    return df


# --- why MSE gives dull colours: one pixel, two possible colours ---------------------------------

TOY_L = 50.0
"""Lightness of the toy pixel of :func:`mse_toy` (notebook 02)."""
TOY_RED = (60.0, 45.0)
"""(a, b) in Lab units of the toy's red (sRGB about (0.86, 0.24, 0.18) at L 50)."""
TOY_BLUE = (0.0, -55.0)
"""(a, b) in Lab units of the toy's blue (sRGB about (0.07, 0.48, 0.82) at L 50)."""


def _check_p(p):
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p is a probability: it must lie in [0, 1], got {p}")
    return p


def toy_colours(p: float) -> dict:
    """The toy of notebook 02: one pixel is :data:`TOY_RED` with probability ``p``, else
    :data:`TOY_BLUE`.  Returns {name: (2,) float64 ab in Lab units} for "red", "blue", "MSE optimum
    (mean)" (p * red + (1 - p) * blue, the minimiser of the expected squared error) and "most likely
    (mode)" (red if p >= 0.5, else blue).  p: float in [0, 1]."""
    p = _check_p(p)
    red, blue = np.array(TOY_RED), np.array(TOY_BLUE)
    return {"red": red, "blue": blue, "MSE optimum (mean)": p * red + (1 - p) * blue,
            "most likely (mode)": red if p >= 0.5 else blue}


def expected_squared_error(p: float, guess) -> float:
    """E[|y - guess|^2] of the toy pixel y (red with probability ``p``, else blue): guess (2,) ab in
    Lab units -> Lab units squared (notebook 02)."""
    p, guess = _check_p(p), np.asarray(guess, np.float64)
    return float(p * np.sum((np.array(TOY_RED) - guess) ** 2) + (1 - p) * np.sum((np.array(TOY_BLUE) - guess) ** 2))


def mse_toy(p: float = 0.5) -> Figure:
    """Four colour swatches at L = :data:`TOY_L`: the two colours the pixel may be (red with
    probability ``p``, blue otherwise), the guess that minimises the expected squared error (their
    mean) and the most likely colour (the mode), each titled with its ab, its chroma sqrt(a^2 + b^2)
    and its expected squared error.  p: float in [0, 1].  Returns a Figure with 4 image axes
    (notebook 02_dataset)."""
    colours = toy_colours(p)
    fig = figure(figsize=(11, 3.2))
    for ax, (name, ab) in zip(fig.subplots(1, 4), colours.items()):
        swatch = color.lab_parts_to_rgb(np.full((8, 8), TOY_L, np.float32), np.broadcast_to(ab, (8, 8, 2)))
        ax.imshow(swatch)
        ax.set_title(f"{name}\nab ({ab[0]:.1f}, {ab[1]:.1f}), chroma {np.hypot(*ab):.0f}\n"
                     f"expected squared error {expected_squared_error(p, ab):,.0f}", fontsize=9)
        ax.axis("off")
    tie = " (a tie at p = 0.5: red is shown as the mode)" if p == 0.5 else ""
    fig.suptitle(f"one pixel: red with probability p = {p:.2f}, blue otherwise (L = {TOY_L:g}){tie}", fontsize=10)
    return fig
