"""What notebook ``01_lab_color_space`` draws: a photo beside its L, a and b channels (the notebook
converts with :mod:`deepcolor.color`), a swatch and the a-b plane for the sliders, and a few pixels
in the Kaggle 8-bit encoding.  Lab units throughout: L in [0, 100], a and b in about [-128, 127];
RGB is (H, W, 3) uint8 or float in [0, 1].
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import color
from .figures import AB_LIMIT, figure, lab_panels

__all__ = ['survives_rgb_roundtrip', 'ab_grid', 'gamut_share', 'show_lab_channels', 'lab_swatch', 'ab_plane', 'lab8_table']


def survives_rgb_roundtrip(lab, tol: float = 0.5) -> np.ndarray:
    """True where a Lab colour (..., 3) comes back from RGB: converting it to RGB (which clips
    colours outside sRGB) and back to Lab moves it by at most ``tol`` Lab units, so a screen
    shows it as itself.  What the swatch and the a-b plane call "in the sRGB gamut"; looser than
    the exact test on unclipped RGB, :func:`deepcolor.ab_bins.in_gamut`, by ``tol``.
    Returns a bool array of shape (...) (notebook 01_lab_color_space)."""
    lab = np.asarray(lab, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skimage warns about negative Z: out of gamut anyway
        back = color.rgb_to_lab(color.lab_to_rgb(lab))
    return np.linalg.norm(back - lab, axis=-1) <= tol


def ab_grid(L: float = 50.0, size: int = 256) -> np.ndarray:
    """Every colour of lightness ``L`` on a ``size`` x ``size`` grid of the a-b plane, a and b in
    [-128, 128]: (size, size, 3) float32 Lab, row = b (growing), column = a (notebook 01)."""
    if not 0 <= L <= 100 or size < 2:
        raise ValueError(f"need L in [0, 100] and size >= 2, got L={L}, size={size}")
    t = np.linspace(-AB_LIMIT, AB_LIMIT, size, dtype=np.float32)
    bb, aa = np.meshgrid(t, t, indexing="ij")
    return np.stack([np.full_like(aa, L), aa, bb], axis=-1)


def gamut_share(L: float = 50.0, size: int = 256) -> float:
    """The share of the a-b plane at lightness ``L`` that is a real sRGB colour, on the grid
    :func:`ab_plane` draws (a float in [0, 1]; notebook 01, its exercise 2)."""
    return float(survives_rgb_roundtrip(ab_grid(L, size)).mean())


def show_lab_channels(rgb, L, ab) -> Figure:
    """A photo beside its three Lab channels: L (gray, 0-100), a and b (colour bars in Lab units).

    rgb: (H, W, 3) uint8 or float in [0, 1]; L: (H, W) in [0, 100] and ab: (H, W, 2) in Lab units,
    as ``color.split_lab(color.rgb_to_lab(rgb))`` gives them (the notebook converts; this only
    draws).  a and b share one symmetric colour scale, so their strengths compare.
    Returns a Figure with 4 image axes (+3 colour bars) (notebook 01_lab_color_space)."""
    rgb, L, ab = np.asarray(rgb), np.asarray(L), np.asarray(ab)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"expected one RGB photo (H, W, 3), got shape {rgb.shape}")
    if L.shape != rgb.shape[:2] or ab.shape != rgb.shape[:2] + (2,):
        raise ValueError(f"L {L.shape} and ab {ab.shape} must be the photo's channels: (H, W) and (H, W, 2) "
                         f"for a photo of {rgb.shape}; use L, ab = color.split_lab(color.rgb_to_lab(rgb))")
    limit = max(20.0, float(np.ceil(np.abs(ab).max())))
    panels = [("rgb", rgb, "photo (RGB)"), ("L", L, "L: lightness (the model's input)"),
              ("a", ab[..., 0], None), ("b", ab[..., 1], None)]
    return lab_panels(figure(figsize=(16, 4)), panels, limit)


def lab_swatch(L: float, a: float, b: float) -> Figure:
    """The colour of one Lab triple beside its gray (same L, a = b = 0), titled with its 8-bit
    RGB and whether it exists in sRGB (out-of-gamut colours are shown clipped and flagged).
    L in [0, 100], a and b in [-128, 127].  Returns a Figure with 2 axes (notebook 01)."""
    lab = np.array([L, a, b], np.float32)
    ok = bool(survives_rgb_roundtrip(lab))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rgb, gray = color.lab_to_rgb(lab), color.lab_to_rgb(np.array([L, 0, 0], np.float32))
    fig = figure(figsize=(6, 3))
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
    lab = ab_grid(L, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rgb = color.lab_to_rgb(lab)
    ok = survives_rgb_roundtrip(lab)
    checker = 0.45 + 0.1 * (((np.arange(size)[:, None] // 8) + (np.arange(size)[None] // 8)) % 2)
    rgb[~ok] = checker[~ok, None]
    fig = figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.imshow(rgb, origin="lower", extent=(-AB_LIMIT, AB_LIMIT, -AB_LIMIT, AB_LIMIT))
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("a (green - / magenta +)")
    ax.set_ylabel("b (blue - / yellow +)")
    ax.set_title(f"a-b plane at L = {L:.0f}: {ok.mean():.1%} is in sRGB\n(checkerboard: no RGB colour)")
    return fig


def lab8_table(L, ab, pixels: int = 6, seed: int = 0) -> pd.DataFrame:
    """A few pixels in Lab units, in the Kaggle 8-bit encoding (``color.encode_lab8``:
    L8 = L * 255 / 100, a8 = a + 128, b8 = b + 128) and decoded back (``color.decode_lab8``), one
    row per pixel.  L: (H, W) in [0, 100]; ab: (H, W, 2) in Lab units; pixels are drawn with
    ``seed`` (notebook 01_lab_color_space)."""
    L, ab = np.asarray(L, np.float32), np.asarray(ab, np.float32)
    flat = np.random.default_rng(seed).choice(L.size, size=min(pixels, L.size), replace=False)
    rows, cols = np.unravel_index(flat, L.shape)
    L, ab = L[rows, cols], ab[rows, cols]
    L8, ab8 = color.encode_lab8(L, ab)
    L2, ab2 = color.decode_lab8(L8, ab8)
    return pd.DataFrame({"row": rows, "col": cols, "L": L, "a": ab[:, 0], "b": ab[:, 1],
                         "L8": L8, "a8": ab8[:, 0], "b8": ab8[:, 1],
                         "L decoded": L2, "a decoded": ab2[:, 0], "b decoded": ab2[:, 1]}).round(2)
