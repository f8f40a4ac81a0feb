"""The paper's "accuracy", set beside real colour metrics and two baselines.

Introduced in notebook ``09_results``.  The metrics are plain numpy and scikit-image, so they can
be checked by hand; no model runs here (:mod:`deepcolor.evaluation` applies a model to a dataset
and sums these metrics with :class:`RunningTotals`).  Shapes: ``L`` is (N, H, W) in [0, 100], ``ab`` is
(N, H, W, 2) in Lab units (a, b in about [-128, 127]), RGB is (N, H, W, 3) float in [0, 1].

Why more than one number: the paper's "accuracy" only asks, per pixel, whether a > b.  A
constant prediction already scores max(p, 1 - p), so every table here carries that number, the
gray (ab = 0) baseline and the training-set mean-ab baseline beside the model.
Caveat: plain AuC, PSNR and SSIM reward gray too, which is why :func:`rebalanced_auc` exists (Zhang et al. 2016).
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from . import ab_bins
from .color import lab_parts_to_rgb

__all__ = [
    "AB_METRICS", "METRICS", "PSNR_CAP_DB", "RunningTotals", "ab_mse", "auc", "colourfulness",
    "constant_baseline_accuracy", "dataset_mean_ab", "evaluate_predictions", "gray_prediction", "mean_ab",
    "mean_prediction", "own_colour_weights", "paper_accuracy", "psnr", "rebalanced_auc", "ssim", "to_rgb",
]

METRICS = ("accuracy", "constant_baseline", "ab_mse", "psnr", "ssim", "auc", "rebalanced_auc",
           "colourfulness_pred", "colourfulness_true", "colourfulness_gap")
"""The metrics tables show, in order (``rebalanced_auc`` only where rebalancing weights are given)."""

AB_METRICS = ("accuracy", "constant_baseline", "ab_mse", "auc")
"""The metrics measured on ab alone (no RGB image): what :class:`RunningTotals` sums with ``rgb=False``."""

PSNR_CAP_DB = 100.0
"""PSNR of an exact reproduction (instead of infinity, which one gray photo would spread to the mean)."""


def _check(name, x, channels):
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] != channels:
        raise ValueError(f"{name} must have shape (N, H, W, {channels}), got {x.shape}; "
                         "for a single image add a batch axis: x[None]")
    if x.size == 0:
        raise ValueError(f"{name} holds no pixels (shape {x.shape}): pass at least one image")
    return x


def _check_pair(name, true, pred, channels):
    true, pred = _check(name + "_true", true, channels), _check(name + "_pred", pred, channels)
    if true.shape != pred.shape:
        raise ValueError(f"{name}_true {true.shape} and {name}_pred {pred.shape} must have the same shape")
    if not np.all(np.isfinite(pred)):
        raise ValueError(f"{name}_pred contains NaN or inf: the model diverged (e.g. a learning rate "
                         "too high, as in the paper's figure 17); retrain it before measuring it")
    return true, pred


# --- the paper's number -------------------------------------------------------------------------

def paper_accuracy(ab_true, ab_pred) -> float:
    """The paper's "accuracy" (notebook 09_results): share of pixels whose argmax over (a, b)
    is the same in prediction and truth, i.e. whether ``a > b`` was guessed right.

    This is what Keras' ``metrics=["accuracy"]`` becomes for an MSE model with an (H, W, 2)
    output (``CategoricalAccuracy``).  Ties go to the first index (a), as numpy and Keras do.
    ab_true, ab_pred: (N, H, W, 2), any units (the argmax does not care).  Returns a float in [0, 1].
    """
    ab_true, ab_pred = _check_pair("ab", ab_true, ab_pred, 2)
    return float(np.mean(np.argmax(ab_true, -1) == np.argmax(ab_pred, -1)))


def constant_baseline_accuracy(ab_true) -> float:
    """Best paper accuracy any constant prediction reaches (notebook 09_results): max(p, 1 - p),
    p = share of pixels whose argmax is a (a >= b).  Note the gray baseline (ab = 0) scores p.

    ab_true: (N, H, W, 2), any units.  Returns a float in [0.5, 1].
    """
    p = float(np.mean(np.argmax(_check("ab_true", ab_true, 2), -1) == 0))
    return max(p, 1.0 - p)


# --- colour error ----------------------------------------------------------------------------------

def ab_mse(ab_true, ab_pred) -> float:
    """Mean squared ab error in Lab units squared, over all N*H*W*2 values (notebook 09_results).

    ab_true, ab_pred: (N, H, W, 2) in Lab units.  Returns a float >= 0 (0 = perfect).
    Divide by 128**2 to get the training loss (MSE on ab/128).
    """
    ab_true, ab_pred = _check_pair("ab", ab_true, ab_pred, 2)
    return float(np.mean((ab_true.astype(np.float64) - ab_pred) ** 2))


def _within_counts(ab_true, ab_pred, max_threshold, weights=None):
    """counts[t] = number of pixels (or their summed ``weights``, shaped like ab's pixels) with L2 ab
    error <= t, for integer t = 0..max_threshold."""
    err = np.sqrt(np.sum((ab_true.astype(np.float64) - ab_pred) ** 2, axis=-1))
    bins = np.minimum(np.ceil(err), max_threshold + 1).astype(np.int64).ravel()  # err <= t <=> ceil(err) <= t
    w = None if weights is None else np.asarray(weights, np.float64).ravel()
    return np.cumsum(np.bincount(bins, weights=w, minlength=max_threshold + 2)[: max_threshold + 1])


def auc(ab_true, ab_pred, max_threshold: int = 150) -> float:
    """Area under the cumulative ab-error curve, as in Zhang et al. 2016 (notebook 09_results).

    For each integer threshold t = 0..max_threshold, the share of pixels whose ab error
    ``sqrt(da**2 + db**2)`` (Lab units) is <= t; the result is the mean of those shares.
    ab_true, ab_pred: (N, H, W, 2) in Lab units.  Returns a float in [0, 1] (1 = perfect).
    """
    ab_true, ab_pred = _check_pair("ab", ab_true, ab_pred, 2)
    if int(max_threshold) != max_threshold or max_threshold < 0:
        raise ValueError(f"max_threshold must be a non-negative integer, got {max_threshold}")
    counts = _within_counts(ab_true, ab_pred, int(max_threshold))
    return float(counts.mean() / (ab_true.size // 2))


def rebalanced_auc(ab_true, ab_pred, weights_of=None, max_threshold: int = 150) -> float:
    """:func:`auc` with each pixel weighted by the rebalancing weight of its TRUE colour's bin, as
    in Zhang et al. 2016 (notebook 11_colour_as_classes), so that gray guesses of rare, saturated
    colours cost what they deserve.

    weights_of: a callable ab (..., 2) -> (...) weights >= 0, e.g.
    ``ab_bins.pixel_weights(weights, bins)``; None: weights from ``ab_true``'s own bin counts
    (``ab_bins.rebalance_weights`` with lam 0.5, sigma 5, the bins of ``ab_bins.ab_bins()``).
    ab_true, ab_pred: (N, H, W, 2) in Lab units.  Returns a float in [0, 1] (1 = perfect).
    """
    ab_true, ab_pred = _check_pair("ab", ab_true, ab_pred, 2)
    if int(max_threshold) != max_threshold or max_threshold < 0:
        raise ValueError(f"max_threshold must be a non-negative integer, got {max_threshold}")
    if weights_of is None:
        weights_of = own_colour_weights(ab_true)
    w = np.asarray(weights_of(ab_true), np.float64)
    if w.shape != ab_true.shape[:-1] or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"weights_of(ab_true) must give weights >= 0 of shape {ab_true.shape[:-1]} "
                         f"with a positive sum, got shape {w.shape}")
    return float(_within_counts(ab_true, ab_pred, int(max_threshold), w).mean() / w.sum())


# --- on the RGB image ------------------------------------------------------------------------------

def to_rgb(L, ab) -> np.ndarray:
    """(L, ab) in Lab units -> RGB (N, H, W, 3) float32 in [0, 1], through ``deepcolor.color``.

    L: (N, H, W) in [0, 100]; ab: (N, H, W, 2) in Lab units (notebook 09_results).
    """
    L = np.asarray(L)
    if L.ndim != 3:
        raise ValueError(f"L must have shape (N, H, W), got {L.shape}; drop a channel axis with L[..., 0]")
    return lab_parts_to_rgb(L, _check("ab", ab, 2))


def _psnr_each(rgb_true, rgb_pred):
    out = []
    for t, p in zip(rgb_true, rgb_pred):
        exact = np.array_equal(t, p)
        out.append(PSNR_CAP_DB if exact else min(PSNR_CAP_DB, peak_signal_noise_ratio(t, p, data_range=1)))
    return np.array(out, np.float64)


def _ssim_each(rgb_true, rgb_pred):
    return np.array([structural_similarity(t, p, data_range=1, channel_axis=-1)
                     for t, p in zip(rgb_true, rgb_pred)], np.float64)


def psnr(rgb_true, rgb_pred) -> float:
    """Peak signal-to-noise ratio in dB of each RGB image, averaged over the N images
    (scikit-image, data_range=1; notebook 09_results).

    rgb_true, rgb_pred: (N, H, W, 3) float in [0, 1].  Returns a float in dB, higher is better;
    an exactly reproduced image counts as ``PSNR_CAP_DB`` (100 dB) instead of infinity.
    """
    rgb_true, rgb_pred = _check_pair("rgb", rgb_true, rgb_pred, 3)
    return float(_psnr_each(rgb_true, rgb_pred).mean())


def ssim(rgb_true, rgb_pred) -> float:
    """Structural similarity of each RGB image, averaged over the N images (scikit-image,
    data_range=1, channel_axis=-1, 7x7 window; notebook 09_results).

    rgb_true, rgb_pred: (N, H, W, 3) float in [0, 1], H and W >= 7.  Returns a float <= 1 (1 = same).
    """
    rgb_true, rgb_pred = _check_pair("rgb", rgb_true, rgb_pred, 3)
    return float(_ssim_each(rgb_true, rgb_pred).mean())


def _colourfulness_each(rgb):
    rgb = np.asarray(rgb)
    rgb = rgb.astype(np.float64) * (1.0 if rgb.dtype == np.uint8 else 255.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    std = np.sqrt(rg.std(axis=(1, 2)) ** 2 + yb.std(axis=(1, 2)) ** 2)
    mean = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
    return std + 0.3 * mean


def colourfulness(rgb) -> float:
    """Colourfulness M of Hasler and Suesstrunk (2003), per image, averaged over the N images.

    On the 0..255 scale: rg = R - G, yb = (R + G) / 2 - B, and
    M = sqrt(std(rg)**2 + std(yb)**2) + 0.3 * sqrt(mean(rg)**2 + mean(yb)**2),
    with population std and mean over the pixels of one image.  A gray image scores 0;
    a vivid photo about 100.  rgb: (N, H, W, 3) float in [0, 1] or uint8 (notebook 09_results).
    Washed-out colorizations show up as a prediction less colourful than the truth.
    """
    return float(_colourfulness_each(_check("rgb", rgb, 3)).mean())


# --- all at once, batch by batch -----------------------------------------------------------------

class RunningTotals:
    """The metrics of one predictor, summed batch by batch (notebooks 08 and 09_results).

    ``add`` each batch, then ``result()`` gives the numbers :func:`evaluate_predictions` gives on
    all the batches at once, while only running sums are kept: each metric is weighted by what it
    averages over (pixels for accuracy, ab_mse and auc; images for psnr, ssim and colourfulness).
    rgb: also the metrics of the RGB image (psnr, ssim, colourfulness), which need L; with
    ``rgb=False`` only :data:`AB_METRICS` are summed (the study's accuracies).  max_threshold:
    as in :func:`auc`.  weights_of: as in :func:`rebalanced_auc` (weights from the training set's
    colours); given, the result also has ``rebalanced_auc``.
    """

    def __init__(self, rgb: bool = True, max_threshold: int = 150, weights_of=None):
        self.rgb, self.max_threshold, self.weights_of = rgb, max_threshold, weights_of
        self.images = self.pixels = self.correct = self.first = 0
        self.sq_err = self.psnr = self.ssim = self.col_pred = self.col_true = self.weight = 0.0
        self.within = np.zeros(max_threshold + 1, np.int64)
        self.weighted_within = np.zeros(max_threshold + 1, np.float64)

    def add(self, ab_true, ab_pred, L=None, rgb_true=None) -> None:
        """Add one batch.  ab_true, ab_pred: (n, H, W, 2) in Lab units; L: (n, H, W) in [0, 100],
        needed with ``rgb=True``; rgb_true: ``to_rgb(L, ab_true)`` (n, H, W, 3) in [0, 1] if
        already computed (several predictors of one batch share it)."""
        ab_true, ab_pred = _check_pair("ab", ab_true, ab_pred, 2)
        arg_true = np.argmax(ab_true, -1)
        self.images += len(ab_true)
        self.pixels += arg_true.size
        self.correct += int(np.sum(arg_true == np.argmax(ab_pred, -1)))
        self.first += int(np.sum(arg_true == 0))
        self.sq_err += float(np.sum((ab_true.astype(np.float64) - ab_pred) ** 2))
        self.within += _within_counts(ab_true, ab_pred, self.max_threshold)
        if self.weights_of is not None:
            w = np.asarray(self.weights_of(ab_true), np.float64)
            self.weight += float(w.sum())
            self.weighted_within += _within_counts(ab_true, ab_pred, self.max_threshold, w)
        if not self.rgb:
            return
        if L is None:
            raise ValueError("the RGB metrics need L: call add(ab_true, ab_pred, L), or use RunningTotals(rgb=False)")
        rgb_true = to_rgb(L, ab_true) if rgb_true is None else rgb_true
        rgb_pred = to_rgb(L, ab_pred)
        self.psnr += float(_psnr_each(rgb_true, rgb_pred).sum())
        self.ssim += float(_ssim_each(rgb_true, rgb_pred).sum())
        self.col_pred += float(_colourfulness_each(rgb_pred).sum())
        self.col_true += float(_colourfulness_each(rgb_true).sum())

    def result(self) -> dict:
        """{metric: float} with the keys of ``METRICS`` (``AB_METRICS`` with ``rgb=False``), in order."""
        if self.pixels == 0:
            raise ValueError("no images added: call add() with at least one batch before result()")
        p = self.first / self.pixels
        out = dict(accuracy=self.correct / self.pixels, constant_baseline=max(p, 1 - p),
                   ab_mse=self.sq_err / (2 * self.pixels), auc=float(self.within.mean() / self.pixels))
        if self.weights_of is not None:
            out["rebalanced_auc"] = float(self.weighted_within.mean() / self.weight)
        if self.rgb:
            out.update(psnr=self.psnr / self.images, ssim=self.ssim / self.images,
                       colourfulness_pred=self.col_pred / self.images,
                       colourfulness_true=self.col_true / self.images)
            out["colourfulness_gap"] = out["colourfulness_pred"] - out["colourfulness_true"]
        return {k: float(out[k]) for k in (METRICS if self.rgb else AB_METRICS) if k in out}


def evaluate_predictions(L, ab_true, ab_pred) -> dict:
    """Every metric of this module for one set of predictions (notebook 09_results).

    L: (N, H, W) in [0, 100]; ab_true, ab_pred: (N, H, W, 2) in Lab units.  Returns a dict with
    the keys of ``METRICS``: accuracy, constant_baseline, ab_mse, psnr, ssim, auc, rebalanced_auc
    (weighted by ``ab_true``'s own colours, as :func:`rebalanced_auc` by default),
    colourfulness_pred, colourfulness_true and colourfulness_gap (pred - true).
    """
    totals = RunningTotals(weights_of=own_colour_weights(ab_true))
    totals.add(ab_true, ab_pred, L)
    return totals.result()


def own_colour_weights(ab_true):
    """The rebalancing weights of ``ab_true``'s own colours (Zhang et al. 2016): a callable ab (..., 2)
    -> (...) weights, the default of :func:`rebalanced_auc`."""
    bins = ab_bins.ab_bins()
    weights = ab_bins.rebalance_weights(ab_bins.bin_counts(ab_true, bins), bins=bins)
    return ab_bins.pixel_weights(weights, bins)


# --- baselines -----------------------------------------------------------------------------------

def gray_prediction(ab_true) -> np.ndarray:
    """The gray baseline: ab = 0 everywhere, float32 zeros shaped like ab_true (N, H, W, 2)."""
    return np.zeros(_check("ab_true", ab_true, 2).shape, np.float32)


def mean_ab(ab_train) -> np.ndarray:
    """Mean (a, b) over all pixels of the training images: (..., 2) Lab units -> (2,) float32."""
    ab_train = np.asarray(ab_train)
    if ab_train.ndim < 1 or ab_train.shape[-1] != 2 or ab_train.size == 0:
        raise ValueError(f"ab_train must have shape (N, H, W, 2) and hold pixels, got {ab_train.shape}")
    return ab_train.reshape(-1, 2).mean(axis=0, dtype=np.float64).astype(np.float32)


def dataset_mean_ab(dataset, indices, batch_size: int = 16) -> np.ndarray:
    """:func:`mean_ab` of ``dataset`` images ``indices`` (a :class:`deepcolor.lab_dataset.LabDataset`),
    read ``batch_size`` at a time with ``dataset.batches``: (2,) float32 in Lab units."""
    total, count = np.zeros(2, np.float64), 0
    for _, _, ab in dataset.batches(indices, batch_size):
        total += ab.reshape(-1, 2).sum(axis=0, dtype=np.float64)
        count += ab.size // 2
    if count == 0:
        raise ValueError("no images to average: pass a non-empty list of training indices")
    return (total / count).astype(np.float32)


def mean_prediction(mean, shape) -> np.ndarray:
    """The mean-ab baseline: ``mean`` (2,) repeated to ``shape`` (N, H, W, 2), float32."""
    mean = np.asarray(mean, np.float32)
    if mean.shape != (2,) or len(shape) != 4 or shape[-1] != 2:
        raise ValueError(f"need mean of shape (2,) and shape (N, H, W, 2), got {mean.shape} and {shape}")
    return np.broadcast_to(mean, tuple(shape)).copy()

