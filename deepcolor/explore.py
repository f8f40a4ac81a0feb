"""Pictures and tables for the first notebooks: environment, Lab colour space, data, embeddings.

Introduced in notebook ``00_start_here`` and used by ``01_lab_color_space``, ``02_dataset`` and
``03_embeddings``.  Every picture is a ``matplotlib.figure.Figure`` that pyplot has already let
go of: end a notebook cell with the call and Jupyter draws it once (in a script:
``fig.savefig(path)``).
Every table is a ``pandas.DataFrame``.  Lab units throughout: L in [0, 100], a and b in about
[-128, 127]; RGB is (H, W, 3) uint8 or float in [0, 1].
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from . import color
from .plots import new_figure

__all__ = ["environment_check", "profiles_table", "channel_cmap", "in_gamut", "show_lab_split", "lab_swatch", "ab_plane",
           "roundtrip_error", "lab8_table", "dataset_arrays", "manifest_table", "show_dataset_image", "ab_counts", "ab_histogram", "split_table",
           "show_preprocessing", "top_labels_table", "show_embedding_tiling", "show_embeddings"]

AB_LIMIT = 128.0  # a and b axes of every ab picture run over [-128, 128]


def _figure(**kwargs) -> Figure:
    return new_figure(layout="constrained", **kwargs)


# --- notebook 00: the environment --------------------------------------------------------------

def environment_check(cfg) -> pd.DataFrame:
    """What this machine will use under profile ``cfg`` (a :class:`deepcolor.config.Config`)
    as a two-column table (item, value): profile, backend, devices, versions, data source,
    whether a Kaggle copy and the ImageNet weights are here, the sample cache and any fallback
    (notebook 00_start_here).  Probing the weights' host takes at most a few seconds offline."""
    from . import config, embeddings
    from .data import find_local_kaggle
    from .settings import deepcolor_home

    env = config.environment()
    kaggle = cfg.kaggle_dir or find_local_kaggle()
    weights = embeddings.imagenet_weights_path()
    if weights.is_file():
        weights_state = f"cached: {weights}"
    elif embeddings.weights_available():
        weights_state = f"not cached; downloadable on first use into {weights.parent}"
    else:
        weights_state = f"not cached and cannot be downloaded here (no internet?); expected at {weights}"
    p = cfg.profile
    rows = [
        ("profile", f"{p.name}: {p.note}"),
        ("backend", env["backend"]),
        ("devices", ", ".join(env["devices"])),
        ("versions", f"deepcolor {env['deepcolor']}, Keras {env['keras']}"),
        ("data used", f"{p.data}, {p.n_images or 'all'} images, trained at {p.input_size}x{p.input_size}"),
        ("Kaggle copy", str(kaggle) if kaggle else f"not found (set {config.KAGGLE_ENV} or run `deepcolor data kaggle`)"),
        ("built-in sample cache", str(deepcolor_home())),
        ("ImageNet weights", weights_state),
        ("embedding mode", embeddings.describe_mode(p.embedding_mode)),
        ("fallbacks", "; ".join(cfg.fallbacks) or "none"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def profiles_table() -> pd.DataFrame:
    """The three profiles of :data:`deepcolor.config.PROFILES`, one row each (notebook 00)."""
    from . import config

    rows = {name: {"data": p.data, "images": p.n_images or "all", "input size": p.input_size,
                   "epochs": p.epochs, "batch": p.batch_size, "lr": p.lr, "l2": p.l2,
                   "embeddings": p.embedding_mode, "study epochs": p.study_epochs, "what for": p.note}
            for name, p in config.PROFILES.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


# --- notebook 01: the Lab colour space ---------------------------------------------------------

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


def in_gamut(lab, tol: float = 0.5) -> np.ndarray:
    """True where a Lab colour (..., 3) is a real sRGB colour: converting it to RGB and back gives
    the same colour within ``tol`` Lab units (out-of-gamut colours get clipped on the way).
    Returns a bool array of shape (...) (notebook 01_lab_color_space)."""
    lab = np.asarray(lab, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skimage warns about negative Z: out of gamut anyway
        back = color.rgb_to_lab(color.lab_to_rgb(lab))
    return np.linalg.norm(back - lab, axis=-1) <= tol


_AB_TITLES = {"a": "a  (green - / magenta +)", "b": "b  (blue - / yellow +)"}


def _panels(fig, panels, limit):
    """One row of images: panels is [(kind, array, title)], kind "rgb", "L", "a" or "b"."""
    for ax, (kind, image, title) in zip(fig.subplots(1, len(panels)), panels):
        if kind == "rgb":
            ax.imshow(image)
        else:
            cmap, lim = ("gray", (0, 100)) if kind == "L" else (channel_cmap(kind), (-limit, limit))
            fig.colorbar(ax.imshow(image, cmap=cmap, vmin=lim[0], vmax=lim[1]), ax=ax, fraction=0.046, pad=0.04)
        ax.set_title(title or _AB_TITLES[kind])
        ax.axis("off")
    return fig


def show_lab_split(rgb) -> Figure:
    """A photo and its three Lab channels: L (gray, 0-100), a and b (colour bars in Lab units).

    rgb: (H, W, 3) uint8 or float in [0, 1].  a and b share one symmetric colour scale, so their
    strengths compare.  Returns a Figure with 4 image axes (+3 colour bars) (notebook 01)."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"expected one RGB photo (H, W, 3), got shape {rgb.shape}")
    L, ab = color.split_lab(color.rgb_to_lab(rgb))
    limit = max(20.0, float(np.ceil(np.abs(ab).max())))
    panels = [("rgb", rgb, "photo (RGB)"), ("L", L, "L: lightness (the model's input)"),
              ("a", ab[..., 0], None), ("b", ab[..., 1], None)]
    return _panels(_figure(figsize=(16, 4)), panels, limit)


def lab_swatch(L: float, a: float, b: float) -> Figure:
    """The colour of one Lab triple beside its gray (same L, a = b = 0), titled with its 8-bit
    RGB and whether it exists in sRGB (out-of-gamut colours are shown clipped and flagged).
    L in [0, 100], a and b in [-128, 127].  Returns a Figure with 2 axes (notebook 01)."""
    lab = np.array([L, a, b], np.float32)
    ok = bool(in_gamut(lab))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rgb, gray = color.lab_to_rgb(lab), color.lab_to_rgb(np.array([L, 0, 0], np.float32))
    fig = _figure(figsize=(6, 3))
    for ax, fill, title in zip(fig.subplots(1, 2), (rgb, gray), (f"Lab ({L:.0f}, {a:.0f}, {b:.0f})", "same L, no colour")):
        ax.add_patch(Rectangle((0, 0), 1, 1, facecolor=fill))
        ax.set_title(title)
        ax.axis("off")
    r, g, b8 = np.rint(rgb * 255).astype(int)
    flag = "in the sRGB gamut" if ok else "OUT OF GAMUT: no screen shows it (clipped)"
    fig.suptitle(f"RGB ({r}, {g}, {b8}) - {flag}", color="black" if ok else "red")
    return fig


def ab_plane(L: float = 50.0, size: int = 256) -> Figure:
    """Every colour of lightness ``L`` (in [0, 100]) on the a-b plane, a and b in [-128, 128];
    colours outside sRGB are drawn as a gray checkerboard.  The image is (size, size, 3) RGB in
    [0, 1], b growing upwards.  Returns a Figure with 1 axis (notebook 01_lab_color_space)."""
    if not 0 <= L <= 100 or size < 2:
        raise ValueError(f"need L in [0, 100] and size >= 2, got L={L}, size={size}")
    t = np.linspace(-AB_LIMIT, AB_LIMIT, size, dtype=np.float32)
    bb, aa = np.meshgrid(t, t, indexing="ij")
    lab = np.stack([np.full_like(aa, L), aa, bb], axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rgb = color.lab_to_rgb(lab)
    ok = in_gamut(lab)
    checker = 0.45 + 0.1 * (((np.arange(size)[:, None] // 8) + (np.arange(size)[None] // 8)) % 2)
    rgb[~ok] = checker[~ok, None]
    fig = _figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.imshow(rgb, origin="lower", extent=(-AB_LIMIT, AB_LIMIT, -AB_LIMIT, AB_LIMIT))
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("a (green - / magenta +)")
    ax.set_ylabel("b (blue - / yellow +)")
    ax.set_title(f"a-b plane at L = {L:.0f}: {ok.mean():.0%} is in sRGB\n(checkerboard: no RGB colour)")
    return fig


def roundtrip_error(rgb) -> pd.DataFrame:
    """How exact the conversions are, on one photo: max and mean absolute error of
    rgb -> Lab -> rgb (in 8-bit RGB levels), of Lab -> 8-bit Lab -> Lab (in Lab units, the Kaggle
    encoding) and of rgb -> 8-bit Lab -> rgb.  rgb: (H, W, 3) uint8 or float in [0, 1]
    (notebook 01_lab_color_space)."""
    rgb = np.asarray(rgb)
    ref = rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)
    lab = color.rgb_to_lab(ref)
    L, ab = color.split_lab(lab)
    L2, ab2 = color.decode_lab8(*color.encode_lab8(L, ab))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        steps = [
            ("rgb -> Lab -> rgb (float)", "RGB levels 0-255", 255 * np.abs(color.lab_to_rgb(lab) - ref)),
            ("L -> 8-bit L8 -> L", "L units (0-100)", np.abs(L2 - L)),
            ("ab -> 8-bit ab8 -> ab", "a, b units", np.abs(ab2 - ab)),
            ("rgb -> 8-bit Lab -> rgb", "RGB levels 0-255",
             255 * np.abs(color.lab_parts_to_rgb(L2, ab2) - ref)),
        ]
    return pd.DataFrame([(s, u, float(e.max()), float(e.mean())) for s, u, e in steps],
                        columns=["conversion", "unit", "max error", "mean error"]).set_index("conversion")


def lab8_table(rgb, pixels: int = 6, seed: int = 0) -> pd.DataFrame:
    """A few pixels of a photo in Lab units, in the Kaggle 8-bit encoding (``color.encode_lab8``:
    L8 = L * 255 / 100, a8 = a + 128, b8 = b + 128) and decoded back (``color.decode_lab8``).
    rgb: (H, W, 3) uint8 or float in [0, 1]; pixels are drawn with ``seed`` (notebook 01)."""
    L, ab = color.split_lab(color.rgb_to_lab(rgb))
    flat = np.random.default_rng(seed).choice(L.size, size=min(pixels, L.size), replace=False)
    rows, cols = np.unravel_index(flat, L.shape)
    L, ab = L[rows, cols], ab[rows, cols]
    L8, ab8 = color.encode_lab8(L, ab)
    L2, ab2 = color.decode_lab8(L8, ab8)
    return pd.DataFrame({"row": rows, "col": cols, "L": L, "a": ab[:, 0], "b": ab[:, 1],
                         "L8": L8, "a8": ab8[:, 0], "b8": ab8[:, 1],
                         "L decoded": L2, "a decoded": ab2[:, 0], "b decoded": ab2[:, 1]}).round(2)


# --- notebook 02: the dataset ------------------------------------------------------------------

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
    fig = _panels(_figure(figsize=(16, 4)), panels, 80)
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
    for start in range(0, len(idx), batch_size):
        ab = ds.batch(idx[start:start + batch_size])[1].reshape(-1, 2).astype(np.float64)
        counts += np.histogram2d(ab[:, 0], ab[:, 1], bins=(edges, edges))[0].astype(np.int64)
        total += ab.sum(axis=0)
    return counts, edges, total / counts.sum()


def ab_histogram(ds, indices=None, bins: int = 64, batch_size: int = 16) -> Figure:
    """Where the colours of a dataset lie: a log-scale 2-D histogram of (a, b) over all pixels of
    ``indices`` with the mean ab marked, and a caption on why MSE training predicts dull colours.
    Returns a Figure with 1 axis (+1 colour bar) (notebook 02_dataset)."""
    counts, edges, mean = ab_counts(ds, indices, bins, batch_size)
    n = int(counts.sum())
    centre = np.hypot(*np.meshgrid(edges[:-1] + np.diff(edges) / 2, edges[:-1] + np.diff(edges) / 2, indexing="ij"))
    dull = counts[centre < 20].sum() / n
    fig = _figure(figsize=(6.5, 6.5))
    ax = fig.subplots()
    im = ax.imshow(np.ma.masked_equal(counts.T, 0), origin="lower", cmap="viridis", norm=LogNorm(),
                   extent=(edges[0], edges[-1], edges[0], edges[-1]))
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="pixels (log scale)")
    ax.plot(*mean, "r+", ms=18, mew=3, label=f"mean ab ({mean[0]:.1f}, {mean[1]:.1f})")
    ax.legend(loc="upper right")
    ax.set_xlabel("a (green - / magenta +)")
    ax.set_ylabel("b (blue - / yellow +)")
    ax.set_title(f"ab of {n:,} pixels; {dull:.0%} lie within 20 of gray (0, 0)")
    fig.text(0.5, -0.02, "The mean is the single guess with the least squared error. A network trained "
             "with MSE that is unsure of\na pixel's colour hedges towards it; most pixels sit near (0, 0), "
             "so its colours come out dull and brownish-gray.", ha="center", va="top", fontsize=9)
    return fig


def split_table(split) -> pd.DataFrame:
    """Images per part of a train/val/test split (``deepcolor.data.Split``) and their share
    (notebook 02_dataset)."""
    sizes = {name: len(part) for name, part in zip(("train", "val", "test"), split)}
    total = sum(sizes.values())
    df = pd.DataFrame({"images": sizes, "fraction": {k: v / total for k, v in sizes.items()}})
    df.loc["total"] = [total, 1.0]
    return df.astype({"images": int})


# --- notebook 03: embeddings -------------------------------------------------------------------

def show_preprocessing(L) -> Figure:
    """Inception-ResNet-v2's input, made right and made wrong, side by side.

    L: (H, W) lightness in [0, 100].  Left: ``embeddings.preprocess(L)``, the 299x299 gray RGB
    input, values in [-1, 1].  Middle: the [0, 1] bug (``preprocess(L / 100)``, as when RGB in
    [0, 1] reaches ``preprocess_input``): every pixel near -1.  Right: histograms of both.
    Returns a Figure with 3 axes (notebook 03_embeddings)."""
    from .embeddings import preprocess

    L = np.asarray(L, np.float32)
    if L.ndim != 2:
        raise ValueError(f"expected one image L (H, W) in [0, 100], got shape {L.shape}")
    good = preprocess(L[None])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # preprocess warns about exactly this bug
        bad = preprocess(L[None] / 100)[0]
    fig = _figure(figsize=(15, 4.2))
    axes = fig.subplots(1, 3)
    for ax, x, title in ((axes[0], good, "right: L in [0, 100]"), (axes[1], bad, "bug: L / 100 in [0, 1]")):
        ax.imshow(x[..., 0], cmap="gray", vmin=-1, vmax=1)
        ax.set_title(f"{title}\n{x.shape[0]}x{x.shape[1]}x3 input, values [{x.min():.2f}, {x.max():.2f}]")
        ax.axis("off")
    axes[2].hist(good.ravel(), bins=100, range=(-1, 1), alpha=0.7, label="right")
    axes[2].hist(bad.ravel(), bins=100, range=(-1, 1), alpha=0.7, label="[0, 1] bug")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("value after preprocess_input")
    axes[2].legend()
    axes[2].set_title("the network expects values spread over [-1, 1]")
    return fig


def top_labels_table(ds, indices, k: int = 5, embedder=None) -> pd.DataFrame:
    """The top-``k`` ImageNet classes Inception-ResNet-v2 sees in the gray images ``indices`` of
    ``ds``, one row per (image, rank).  Needs the ImageNet weights (``embeddings.top_labels``):
    check ``cfg.embedding_mode == "imagenet"`` first (notebook 03_embeddings)."""
    from . import embeddings

    items = manifest_table(ds)
    rows = []
    for i in indices:
        photo = items["photo"].get(int(i), "") if len(items) else ""
        for rank, (name, p) in enumerate(embeddings.top_labels(ds[int(i)][0], k=k, embedder=embedder), 1):
            rows.append((int(i), photo, rank, name, p))
    return pd.DataFrame(rows, columns=["image", "photo", "rank", "class", "probability"]).set_index(["image", "rank"])


def _cuboid(ax, x, depth, face, label, stripes=(), first=0.0, base=("0.85", "0.7")):
    """A 3x3 box in oblique projection at (x, 0), its depth (channel axis) going up-right.
    The top and side faces are painted with ``stripes`` (colours along the depth, starting at
    the fraction ``first`` of it); the front face (the H x W grid) gets ``face``."""
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
    for t in np.linspace(0, w, 8)[1:-1]:  # a hint of the spatial grid
        ax.plot([x + t, x + t], [0, h], color="w", lw=0.4)
        ax.plot([x, x + w], [t, t], color="w", lw=0.4)
    ax.text(x + w / 2, -0.4, label, ha="center", va="top", fontsize=9)


def show_embedding_tiling(embedding, spatial: int = 28, channels: int = 256) -> Figure:
    """How the fusion layer uses the embedding, drawn: the (1000,) vector as a heat strip (top),
    and (bottom) the encoder's ``spatial x spatial x channels`` features, the same vector copied to
    every one of the ``spatial x spatial`` positions (stripes along the channel axis, constant
    over the grid), their concatenation and the 1x1 convolution that mixes them.
    embedding: (1000,) float.  Returns a Figure with 2 axes (notebook 03_embeddings)."""
    e = np.asarray(embedding, np.float32).reshape(-1)
    fig = _figure(figsize=(13, 6))
    top, ax = fig.subplots(2, 1, height_ratios=(1, 4))
    top.imshow(e[None], aspect="auto", cmap="magma", interpolation="nearest")
    top.set_yticks([])
    top.set_xlabel("embedding index (one value per ImageNet class)")
    top.set_title(f"the image's embedding: ({e.size},) vector")
    peaks = np.array([part.max() for part in np.array_split(e, min(40, e.size))])
    stripes = colormaps["magma"]((peaks - e.min()) / (np.ptp(e) or 1.0))
    d = e.size + channels
    _cuboid(ax, 0, 2.0, "tab:blue", f"encoder features\n{spatial}x{spatial}x{channels}",
            base=("lightsteelblue", "steelblue"))
    ax.text(5.2, 1.6, "+", fontsize=28, ha="center", va="center")
    _cuboid(ax, 6.3, 4.0, stripes[0], f"embedding tiled\n{spatial}x{spatial}x{e.size}", stripes)
    ax.annotate("", xy=(13.3, 1.5), xytext=(11.8, 1.5), arrowprops={"arrowstyle": "->", "lw": 2})
    _cuboid(ax, 13.8, 4.8, "tab:blue", f"concatenated\n{spatial}x{spatial}x{d}", stripes,
            first=channels / d, base=("lightsteelblue", "steelblue"))
    ax.annotate("", xy=(20.5, 1.5), xytext=(19.0, 1.5), arrowprops={"arrowstyle": "->", "lw": 2})
    _cuboid(ax, 21.0, 2.0, "tab:orange", f"1x1 conv\n{spatial}x{spatial}x{channels}")
    ax.set(xlim=(-0.5, 26), ylim=(-1.6, 5.2), aspect="equal")
    ax.axis("off")
    ax.set_title(f"fusion: every one of the {spatial}x{spatial} positions gets the same {e.size} values "
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
    fig = _figure(figsize=(15, 4))
    ax1, ax2 = fig.subplots(1, 2, width_ratios=(3, 1))
    fig.colorbar(ax1.imshow(emb, aspect="auto", cmap="magma", interpolation="nearest"), ax=ax1, label="value")
    ax1.set_xlabel("embedding index")
    ax1.set_ylabel("image")
    ax1.set_title(f"{len(emb)} embeddings ({mode or 'mode not given'}); spread across images: "
                  f"{emb.std(axis=0).mean():.2g}")
    fig.colorbar(ax2.imshow(sim, vmin=0, vmax=1, cmap="viridis"), ax=ax2)
    ax2.set_title("cosine similarity")
    ax2.set_xlabel("image")
    return fig
