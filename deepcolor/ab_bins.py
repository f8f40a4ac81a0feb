"""Colour as classes: the ab plane cut into bins (Zhang, Isola and Efros 2016, "Colorful Image
Colorization").

Introduced in notebook ``11_colour_as_classes``.  Instead of regressing ab (which averages the
plausible colours of an object into gray), the network predicts a distribution over Q colour
bins.  This module holds the plain-numpy pieces, no Keras:

- :func:`ab_bins`: the (Q, 2) bin centres, a grid of step 10 (Lab units) over the sRGB gamut;
- :func:`nearest_bins`, :func:`soft_encode`: ab -> the soft target distribution (k = 5 nearest
  bins, Gaussian weights of sigma = 5);
- :func:`bin_counts`, :func:`dataset_bin_counts`, :func:`rebalance_weights`,
  :func:`pixel_weights`: class rebalancing, so that rare saturated colours count in the loss;
- :func:`annealed_mean`: a distribution -> one ab per pixel, between the mean (T = 1, washed
  out) and the mode (T -> 0, vivid but patchy); Zhang et al. use T = 0.38 (:data:`ZHANG_T`).  The
  DeepColor paper regresses ab with an MSE loss: it has no bins and no temperature.

Shapes: ab is (..., 2) in Lab units (a, b in about [-128, 127]); bins are (Q, 2) in Lab units;
distributions are (..., Q) float32 summing to 1 over the last axis.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
from scipy.spatial import cKDTree
from skimage import color as skcolor
from skimage.color.colorconv import rgb_from_xyz  # the XYZ -> linear sRGB matrix of xyz2rgb

__all__ = [
    "AB_RANGE", "annealed_mean", "ab_bins", "bin_counts", "dataset_bin_counts", "in_gamut",
    "nearest_bins", "pixel_weights", "rebalance_weights", "soft_encode", "ZHANG_T",
]

AB_RANGE = 110
"""The bin centres lie in [-AB_RANGE, AB_RANGE] on both axes, as in Zhang et al. 2016."""

ZHANG_T = 0.38
"""Zhang et al.'s annealed-mean temperature (section 2.2), :func:`annealed_mean`'s usual T."""

CHUNK_PIXELS = 65_536
"""Pixels per chunk when looking up their nearest bins, so memory stays small for (N, H, W, 2) batches."""

TIE_MARGIN = 2
"""Bins looked up beyond the k asked for, to see whether a tie at the k-th place goes further."""


def in_gamut(lab, tol: float = 1e-6) -> np.ndarray:
    """Whether each Lab colour is a real sRGB colour, i.e. converts to RGB in [0, 1] without the
    clipping ``skimage.color.lab2rgb`` does (notebook 11_colour_as_classes).

    lab: (..., 3) in Lab units.  Returns (...) bool.  The test is on unclipped linear RGB within
    ``tol``: ``skimage.color.lab2xyz`` (D65, 2 degree observer), then scikit-image's XYZ -> linear
    sRGB matrix, which ``xyz2rgb`` applies before its gamma and its clip to [0, 1]; the gamma maps
    [0, 1] onto [0, 1], so linear and gamma-encoded RGB agree on the gamut.  ``lab2xyz`` clips
    f(Z) < 0 to 0, which still gives Z < 0: never an sRGB colour (Z = 0.019 R + 0.119 G + 0.950 B).
    """
    lab = np.asarray(lab, np.float64)
    if lab.shape[-1:] != (3,):
        raise ValueError(f"lab must have shape (..., 3), got {lab.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lab2xyz warns when it clips Z < 0: out of gamut anyway
        xyz = skcolor.lab2xyz(lab)
    rgb = xyz @ rgb_from_xyz.T
    return np.all((rgb >= -tol) & (rgb <= 1 + tol), axis=-1)


@functools.lru_cache(maxsize=8)
def _cached_bins(grid: int) -> np.ndarray:
    centres = np.arange(-(AB_RANGE // grid) * grid, AB_RANGE + 1, grid, dtype=np.float64)
    a, b = np.meshgrid(centres, centres, indexing="ij")
    ab = np.stack([a.ravel(), b.ravel()], axis=-1)                   # (G*G, 2), a major
    L = np.arange(0.0, 101.0, 1.0)                                   # every lightness 0..100
    lab = np.concatenate([np.broadcast_to(L[:, None, None], (len(L), len(ab), 1)),
                          np.broadcast_to(ab[None], (len(L), len(ab), 2))], axis=-1)
    keep = in_gamut(lab).any(axis=0)
    out = ab[keep].astype(np.float32)
    out.setflags(write=False)                                        # cached: nobody may change it
    return out


def ab_bins(grid: int = 10) -> np.ndarray:
    """The ab bin centres (notebook 11_colour_as_classes): (Q, 2) float32 in Lab units, read-only.

    Centres at the multiples of ``grid`` in [-110, 110] on both axes (a major, then b), keeping
    those that are a real sRGB colour at some lightness L = 0, 1, ..., 100 (:func:`in_gamut`).
    With grid 10 this gives Q = 225, where Zhang et al. report Q = 313.  Their 313 bins
    (``pts_in_hull.npy`` of their code) are not "centre in gamut": they also keep bins whose
    10 x 10 cell only touches the gamut or that hold ImageNet pixels (their a reaches -90..100,
    b -110..100).  Counting every bin whose cell holds an in-gamut colour gives 257 here; a
    finer L grid (0.1) adds 4 bins to the 225.  Cached: the same array is returned each time.
    """
    if int(grid) != grid or grid < 1 or grid > AB_RANGE:
        raise ValueError(f"grid must be an integer in 1..{AB_RANGE} (Lab units), got {grid}")
    return _cached_bins(int(grid))


def _check_ab(ab, bins):
    ab, bins = np.asarray(ab), np.asarray(bins, np.float32)
    if ab.ndim < 1 or ab.shape[-1] != 2:
        raise ValueError(f"ab must have shape (..., 2), got {ab.shape}")
    if bins.ndim != 2 or bins.shape[1] != 2 or len(bins) == 0:
        raise ValueError(f"bins must have shape (Q, 2) with Q >= 1, got {bins.shape}; use ab_bins()")
    return ab, bins


@functools.lru_cache(maxsize=8)
def _tree_of(bins_bytes: bytes, q: int) -> cKDTree:
    return cKDTree(np.frombuffer(bins_bytes, np.float32).reshape(q, 2).astype(np.float64))


@functools.lru_cache(maxsize=8)
def _integer_table(bins_bytes: bytes, q: int, k: int):
    """:func:`_search` of every integer ab in [-128, 127]^2, row (a + 128) * 256 + (b + 128), read-only."""
    grid = np.stack(np.meshgrid(np.arange(-128.0, 128.0), np.arange(-128.0, 128.0), indexing="ij"), -1)
    indices, dist = _search(grid.reshape(-1, 2), np.frombuffer(bins_bytes, np.float32).reshape(q, 2), k)
    indices.setflags(write=False)
    dist.setflags(write=False)
    return indices, dist


def nearest_bins(ab, bins, k: int):
    """The ``k`` bins nearest to each ab (notebook 11_colour_as_classes), nearest first.

    ab: (..., 2) finite, in Lab units; bins: (Q, 2); 1 <= k <= Q.  Returns indices (..., k) int64
    into ``bins`` and Euclidean distances (..., k) float32 in Lab units.  Found with a k-d tree
    (``scipy.spatial.cKDTree``), ``CHUNK_PIXELS`` pixels at a time.  Among equally distant bins
    (common for the integer ab of 8-bit images: a = 5 lies halfway between the bins 0 and 10) the
    lower index comes first, also when the tie reaches past the k-th place.  The integer ab of
    8-bit images (every dataset's true colours) are looked up in a table of all 65,536 of them,
    searched once per ``bins`` and k: the same answers, for k = 1 on 16 images of 224 x 224 in about
    14 ms instead of 380 ms (2 cores), which is what evaluating and counting the training colours need.
    """
    ab, bins = _check_ab(ab, bins)
    if int(k) != k or not 1 <= k <= len(bins):
        raise ValueError(f"k must be an integer in 1..Q = {len(bins)}, got {k}")
    flat = ab.reshape(-1, 2).astype(np.float64)
    if not np.isfinite(flat).all():
        raise ValueError("ab must be finite: it holds NaN or inf")
    if len(flat) > 65_536 and np.array_equal(flat, np.rint(flat)) and -128 <= flat.min() and flat.max() <= 127:
        table, dist = _integer_table(bins.tobytes(), len(bins), int(k))
        rows = ((flat[:, 0] + 128) * 256 + flat[:, 1] + 128).astype(np.int64)
        return table[rows].reshape(ab.shape[:-1] + (k,)), dist[rows].reshape(ab.shape[:-1] + (k,))
    indices, dist = _search(flat, bins, int(k))
    return indices.reshape(ab.shape[:-1] + (k,)), dist.reshape(ab.shape[:-1] + (k,))


def _search(flat, bins, k: int):
    """:func:`nearest_bins` of ``flat`` (P, 2) float64 by the k-d tree: indices (P, k), distances (P, k)."""
    tree, q = _tree_of(bins.tobytes(), len(bins)), len(bins)
    indices, dist = np.empty((len(flat), k), np.int64), np.empty((len(flat), k), np.float32)
    for start in range(0, len(flat), CHUNK_PIXELS):
        rows, m = np.arange(start, min(start + CHUNK_PIXELS, len(flat))), min(q, k + TIE_MARGIN)
        while len(rows):  # the rows whose tie at the k-th place may go past the m bins found look further
            d, i = (a.reshape(len(rows), m) for a in tree.query(flat[rows], k=m))
            run = np.zeros(d.shape, np.int64)                  # runs of equal distances, numbered
            np.cumsum(d[:, 1:] != d[:, :-1], axis=1, out=run[:, 1:])
            order = np.sort(run * q + i, axis=1)               # within a run, the lower index first
            done = (d[:, -1] > d[:, k - 1]) | (m == q)
            indices[rows[done]], dist[rows[done]] = order[done, :k] % q, d[done, :k]
            rows, m = rows[~done], min(q, 2 * m)
    return indices, dist


def soft_encode(ab, bins, k: int = 5, sigma: float = 5.0) -> np.ndarray:
    """Soft one-hot target of each pixel (Zhang et al. 2016; notebook 11_colour_as_classes).

    The ``k`` nearest bins get weights exp(-d**2 / (2 sigma**2)) (d in Lab units), normalised to
    sum 1; all other bins 0.  ab: (..., 2) in Lab units, e.g. (N, H, W, 2); bins: (Q, 2).
    Returns (..., Q) float32 in [0, 1], each row summing to 1, the nearest bin weighing most.
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0 (Lab units), got {sigma}")
    indices, dist = nearest_bins(ab, bins, k)
    d = dist.reshape(-1, indices.shape[-1]).astype(np.float64)
    w = np.exp(-(d ** 2 - d[:, :1] ** 2) / (2.0 * sigma ** 2))      # relative to the nearest: no underflow
    w /= w.sum(axis=1, keepdims=True)
    q = len(np.asarray(bins))
    out = np.zeros(len(d) * q, np.float32)
    out[(np.arange(len(d))[:, None] * q + indices.reshape(len(d), -1)).ravel()] = w.astype(np.float32).ravel()
    return out.reshape(indices.shape[:-1] + (q,))


def bin_counts(ab, bins) -> np.ndarray:
    """How many pixels fall nearest to each bin (notebook 11_colour_as_classes).

    ab: (..., 2) in Lab units; bins: (Q, 2).  Returns (Q,) int64 summing to the number of pixels.
    """
    indices, _ = nearest_bins(ab, bins, 1)
    return np.bincount(indices.ravel(), minlength=len(np.asarray(bins))).astype(np.int64)


def dataset_bin_counts(dataset, indices, bins, batch_size: int = 16) -> np.ndarray:
    """:func:`bin_counts` over images ``indices`` of ``dataset`` (a
    :class:`deepcolor.lab_dataset.LabDataset`), read ``batch_size`` at a time with
    ``dataset.batches`` (notebook 11_colour_as_classes).  Returns (Q,) int64."""
    total = np.zeros(len(np.asarray(bins)), np.int64)
    for _, _, ab in dataset.batches(indices, batch_size):
        total += bin_counts(ab, bins)
    return total


def rebalance_weights(bin_counts, lam: float = 0.5, sigma: float = 5.0, bins=None) -> np.ndarray:
    """Zhang et al.'s class rebalancing weights (eq. 3-4; notebook 11_colour_as_classes).

    p = counts / sum(counts); with ``bins`` (Q, 2) given, p is smoothed by a Gaussian of
    ``sigma`` Lab units over the bin centres (p~ = G p, renormalised); without, p~ = p.  Then
    w = 1 / ((1 - lam) p~ + lam / Q), scaled so that sum_q p~_q w_q = 1 (E_p~[w] = 1).
    bin_counts: (Q,) counts >= 0, not all 0; lam in [0, 1] (1 = no rebalancing, 0 = full).
    Returns (Q,) float32 > 0; rarer bins weigh more.
    """
    counts = np.asarray(bin_counts, np.float64)
    if counts.ndim != 1 or np.any(counts < 0) or not counts.sum() > 0:
        raise ValueError("bin_counts must be a (Q,) array of counts >= 0 with a positive sum; "
                         "compute it with bin_counts(ab, bins) on the training images")
    if not 0 <= lam <= 1:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    p = counts / counts.sum()
    if bins is not None:
        bins = np.asarray(bins, np.float64)
        if bins.shape != (len(p), 2):
            raise ValueError(f"bins must have shape ({len(p)}, 2) to match bin_counts, got {bins.shape}")
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0 (Lab units), got {sigma}")
        d2 = np.sum((bins[:, None] - bins[None]) ** 2, axis=-1)
        p = np.exp(-d2 / (2.0 * sigma ** 2)) @ p
        p /= p.sum()
    w = 1.0 / ((1.0 - lam) * p + lam / len(p))
    return (w / np.sum(p * w)).astype(np.float32)


def pixel_weights(weights, bins):
    """A callable ab (..., 2) -> (...) float32: the weight of each pixel's nearest bin, e.g. for
    :func:`deepcolor.metrics.rebalanced_auc` (notebook 11_colour_as_classes).

    weights: (Q,) from :func:`rebalance_weights`; bins: (Q, 2) in Lab units.
    """
    weights, bins = np.asarray(weights, np.float32), np.asarray(bins, np.float32)
    if weights.shape != (len(bins),):
        raise ValueError(f"weights must have shape ({len(bins)},) to match bins, got {weights.shape}")

    def weights_of(ab):
        indices, _ = nearest_bins(ab, bins, 1)
        return weights[indices[..., 0]]

    return weights_of


def annealed_mean(probs, bins, T: float) -> np.ndarray:
    """The annealed mean of a distribution over bins (Zhang et al. 2016; notebook
    11_colour_as_classes): f_T(z) = exp(log z / T) / sum_q exp(log z_q / T), then sum_q f_T(z)_q bins_q.

    T = 1 gives the plain mean, T -> 0 the mode; Zhang et al. use T = 0.38.  Computed in log space
    with the maximum subtracted, so small T does not overflow.  probs: (..., Q) >= 0, not all 0
    in a row (need not sum to 1); bins: (Q, 2); T > 0.  Returns (..., 2) float32 in Lab units.
    """
    if not T > 0:
        raise ValueError(f"T must be > 0 (T -> 0 approaches the mode), got {T}")
    probs, bins = np.asarray(probs, np.float64), np.asarray(bins, np.float64)
    if probs.ndim < 1 or probs.shape[-1] != len(bins):
        raise ValueError(f"probs must have shape (..., Q) with Q = {len(bins)} bins, got {probs.shape}")
    if np.any(probs < 0) or np.any(~np.isfinite(probs)):
        raise ValueError("probs must be finite and >= 0 (a softmax output)")
    with np.errstate(divide="ignore"):
        logits = np.log(probs) / T
    top = logits.max(axis=-1, keepdims=True)
    if np.any(~np.isfinite(top)):
        raise ValueError("a row of probs is all 0: every pixel needs some probability mass")
    f = np.exp(logits - top)
    f /= f.sum(axis=-1, keepdims=True)
    return (f @ bins).astype(np.float32)
