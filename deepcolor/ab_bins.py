"""Colour as classes: the ab plane cut into bins (Zhang, Isola and Efros 2016, "Colorful Image
Colorization").

Introduced in notebook ``11_colour_as_classes``.  Instead of regressing ab (which averages the
plausible colours of an object into gray), the network predicts a distribution over Q colour
bins.  This module holds the plain-numpy pieces, no Keras:

- :func:`ab_bins`: the (Q, 2) bin centres, a grid of side 10 over the sRGB gamut;
- :func:`nearest_bins`, :func:`soft_encode`: ab -> the soft target distribution (k = 5 nearest
  bins, Gaussian weights of sigma = 5);
- :func:`bin_counts`, :func:`dataset_bin_counts`, :func:`rebalance_weights`,
  :func:`pixel_weights`: class rebalancing, so that rare saturated colours count in the loss;
- :func:`annealed_mean`: a distribution -> one ab per pixel, between the mean (T = 1, washed
  out) and the mode (T -> 0, vivid but patchy); the paper uses T = 0.38.

Shapes: ab is (..., 2) in Lab units (a, b in about [-128, 127]); bins are (Q, 2) in Lab units;
distributions are (..., Q) float32 summing to 1 over the last axis.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "AB_RANGE", "annealed_mean", "ab_bins", "bin_counts", "dataset_bin_counts", "in_gamut",
    "nearest_bins", "pixel_weights", "rebalance_weights", "soft_encode", "ZHANG_T",
]

AB_RANGE = 110
"""The bin centres lie in [-AB_RANGE, AB_RANGE] on both axes, as in Zhang et al. 2016."""

ZHANG_T = 0.38
"""Zhang et al.'s annealed-mean temperature (section 2.2), :func:`annealed_mean`'s usual T."""

CHUNK_PIXELS = 16_384
"""Pixels per chunk when measuring distances to all Q bins (chunk * Q floats at a time)."""

# D65 white point (2 degree observer) and the XYZ -> linear sRGB matrix, as in skimage.color
_WHITE = np.array([0.95047, 1.0, 1.08883])
_RGB_FROM_XYZ = np.array([[3.24048134, -1.53715152, -0.49853633],
                          [-0.96925495, 1.87599, 0.04155593],
                          [0.05564664, -0.20404134, 1.05731107]])


def in_gamut(lab, tol: float = 1e-6) -> np.ndarray:
    """Whether each Lab colour is a real sRGB colour, i.e. converts to RGB in [0, 1] without the
    clipping ``skimage.color.lab2rgb`` does (notebook 11_colour_as_classes).

    lab: (..., 3) in Lab units.  Returns (...) bool.  The test is on unclipped linear RGB
    (Lab -> XYZ -> linear sRGB, D65, the same formulas and matrix as scikit-image), within ``tol``;
    the sRGB gamma maps [0, 1] onto [0, 1], so linear and gamma-encoded RGB agree on the gamut.
    """
    lab = np.asarray(lab, np.float64)
    if lab.shape[-1:] != (3,):
        raise ValueError(f"lab must have shape (..., 3), got {lab.shape}")
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    delta = 6.0 / 29.0
    xyz = np.where(f > delta, f ** 3, 3 * delta ** 2 * (f - 4.0 / 29.0)) * _WHITE
    rgb = xyz @ _RGB_FROM_XYZ.T
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
    With grid 10 this gives Q = 225, where Zhang et al. report Q = 313.  The paper's 313 bins
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


def nearest_bins(ab, bins, k: int):
    """The ``k`` bins nearest to each ab (notebook 11_colour_as_classes), nearest first.

    ab: (..., 2) in Lab units; bins: (Q, 2); 1 <= k <= Q.  Returns indices (..., k) int64 into
    ``bins`` and Euclidean distances (..., k) float32 in Lab units.  Computed in chunks of
    ``CHUNK_PIXELS`` pixels, so memory stays small for (N, H, W, 2) batches.

    When the bins lie on a square grid (as :func:`ab_bins` does) only the bins of the
    ``(2 * GRID_REACH + 1)**2`` grid cells around each pixel are measured, which is exact whenever
    the k-th nearest of them is closer than any bin outside (checked per pixel); the other pixels,
    and bins off a grid, are measured against all Q bins.  Both give the same answer.
    """
    ab, bins = _check_ab(ab, bins)
    if int(k) != k or not 1 <= k <= len(bins):
        raise ValueError(f"k must be an integer in 1..Q = {len(bins)}, got {k}")
    flat = ab.reshape(-1, 2)
    indices = np.empty((len(flat), int(k)), np.int64)
    dist = np.empty((len(flat), int(k)), np.float32)
    grid = _grid_of(bins.tobytes(), len(bins)) if k <= (2 * GRID_REACH + 1) ** 2 else None
    reaches = () if grid is None else (0, GRID_REACH) if k == 1 else (GRID_REACH,)
    for start in range(0, len(flat), CHUNK_PIXELS):
        x = flat[start:start + CHUNK_PIXELS].astype(np.float64)
        idx, d2 = np.zeros((len(x), int(k)), np.int64), np.zeros((len(x), int(k)))
        todo = np.arange(len(x))
        for reach in reaches:  # the grid cells around each pixel first, then all bins for the rest
            if not len(todo):
                break
            i, d = _nearest_on_grid(x[todo], grid, int(k), reach)
            done = np.isfinite(d[:, -1])
            idx[todo[done]], d2[todo[done]] = i[done], d[done]
            todo = todo[~done]
        if len(todo):
            idx[todo], d2[todo] = _nearest_of_all(x[todo], bins, int(k))
        indices[start:start + len(x)], dist[start:start + len(x)] = idx, np.sqrt(d2)
    return indices.reshape(ab.shape[:-1] + (int(k),)), dist.reshape(ab.shape[:-1] + (int(k),))


GRID_REACH = 2
"""Grid cells each side of a pixel's own whose bins :func:`nearest_bins` measures first."""


@functools.lru_cache(maxsize=8)
def _grid_of(bins_bytes: bytes, q: int):
    """(origin (2,), step, lookup (G, G) int64 of bin index or -1, bins (Q, 2) float64) when the bins
    are points of a square grid of at most 1000 x 1000 cells, else None."""
    bins = np.frombuffer(bins_bytes, np.float32).reshape(q, 2).astype(np.float64)
    steps = np.diff(np.unique(bins))
    step = steps[steps > 1e-6].min() if (steps > 1e-6).any() else 1.0
    origin = bins.min(axis=0)
    cells = (bins - origin) / step
    if not np.allclose(cells, np.round(cells), atol=1e-4) or cells.max() >= 1000:
        return None
    cells = np.round(cells).astype(np.int64)
    lookup = np.full(tuple(cells.max(axis=0) + 1), -1, np.int64)
    lookup[cells[:, 0], cells[:, 1]] = np.arange(q)
    return origin, step, lookup, bins


def _nearest_on_grid(x, grid, k, reach):
    """The k nearest bins to each pixel of x (n, 2) among those within ``reach`` grid cells of its own
    cell: indices (n, k) and squared distances (n, k), nearest first.  Rows where they may not be the
    nearest of all bins have d2 = inf."""
    origin, step, lookup, bins = grid
    shape = np.array(lookup.shape)
    own = np.clip(np.round((x - origin) / step).astype(np.int64), 0, shape - 1)
    offsets = np.arange(-reach, reach + 1)
    ia = own[:, :1, None] + offsets[None, :, None]                      # (n, 2r+1, 1)
    ib = own[:, None, 1:] + offsets[None, None, :]                      # (n, 1, 2r+1)
    inside = (ia >= 0) & (ia < shape[0]) & (ib >= 0) & (ib < shape[1])
    near = np.where(inside, lookup[ia.clip(0, shape[0] - 1), ib.clip(0, shape[1] - 1)], -1)
    near = near.reshape(len(x), -1)                                     # (n, (2r+1)**2), -1: no bin
    d2 = np.sum((x[:, None, :] - bins[near.clip(0)]) ** 2, axis=-1)
    d2[near < 0] = np.inf
    if reach == 0:  # the grid point nearest to x (clipped: nearest inside the grid) is the nearest bin, if a bin
        return near, d2
    if k < d2.shape[1]:
        pick = np.argpartition(d2, k - 1, axis=1)[:, :k]
    else:
        pick = np.broadcast_to(np.arange(d2.shape[1]), d2.shape)
    d2k = np.take_along_axis(d2, pick, 1)
    order = np.argsort(d2k, axis=1, kind="stable")
    idx, d2k = np.take_along_axis(np.take_along_axis(near, pick, 1), order, 1), np.take_along_axis(d2k, order, 1)
    # a bin outside the window is at least reach + 1 cells from the pixel's own cell along a or b, so
    # at least (reach + 1 - |offset from that cell|) steps from the pixel; nearer candidates are exact
    closest_outside = (reach + 1 - np.abs((x - origin) / step - own).max(axis=1)) * step
    d2k[(closest_outside <= 0) | (d2k[:, -1] > closest_outside ** 2)] = np.inf
    return idx, d2k


def _nearest_of_all(x, bins, k):
    """The k nearest of all bins to each pixel of x (n, 2) float64: indices (n, k), squared distances (n, k)."""
    bins64 = bins.astype(np.float64)
    d2 = (np.sum(x ** 2, 1)[:, None] - 2 * x @ bins64.T + np.sum(bins64 ** 2, 1)[None]).clip(0)
    if k < len(bins):
        idx = np.argpartition(d2, k - 1, axis=1)[:, :k]
    else:
        idx = np.broadcast_to(np.arange(len(bins)), d2.shape)
    near = np.take_along_axis(d2, idx, 1)
    order = np.argsort(near, axis=1, kind="stable")
    return np.take_along_axis(idx, order, 1), np.take_along_axis(near, order, 1)


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

    T = 1 gives the plain mean, T -> 0 the mode; the paper uses T = 0.38.  Computed in log space
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
