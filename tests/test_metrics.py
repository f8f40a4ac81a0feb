"""Metrics against hand-computed cases, scikit-image and Keras' CategoricalAccuracy."""

import numpy as np
import pytest

from deepcolor import metrics
from deepcolor.data import LabDataset

RNG = np.random.default_rng(0)


def _random_lab(n=4, size=32, seed=0):
    rng = np.random.default_rng(seed)
    L = rng.uniform(20, 90, (n, size, size)).astype(np.float32)
    ab = rng.uniform(-60, 60, (n, size, size, 2)).astype(np.float32)
    return L, ab


# --- paper accuracy ------------------------------------------------------------------------------

def test_paper_accuracy_by_hand():
    ab_true = np.array([[[[3, 1], [0, 2]], [[1, 1], [-5, -4]]]], np.float32)  # argmax 0, 1, 0 (tie), 1
    ab_pred = np.array([[[[9, 0], [9, 0]], [[0, 0], [0, 0]]]], np.float32)    # argmax 0, 0, 0, 0
    assert metrics.paper_accuracy(ab_true, ab_pred) == 0.5


def test_paper_accuracy_equals_keras_categorical_accuracy():
    keras = pytest.importorskip("keras")
    ab_true = RNG.normal(size=(3, 8, 8, 2)).astype(np.float32)
    ab_true[0, :4] = 0.0                                      # exact ties in the truth
    cases = [RNG.normal(size=ab_true.shape).astype(np.float32),
             np.zeros_like(ab_true),                          # all ties: argmax picks a
             RNG.integers(-1, 2, size=ab_true.shape).astype(np.float32)]  # many ties
    for ab_pred in cases:
        m = keras.metrics.CategoricalAccuracy()
        m.update_state(ab_true, ab_pred)
        ours = metrics.paper_accuracy(ab_true, ab_pred)
        assert ours == pytest.approx(float(m.result()), abs=1e-6)
    assert 0.2 < metrics.paper_accuracy(ab_true, cases[0]) < 0.8


@pytest.mark.parametrize("bias", [-20.0, 0.0, 20.0])
def test_constant_baseline_is_the_best_constant_prediction(bias):
    ab_true = RNG.normal(size=(2, 16, 16, 2)).astype(np.float32) * 30
    ab_true[..., 0] += bias                                   # p well above, near, or below 0.5
    constants = [np.broadcast_to(np.array(c, np.float32), ab_true.shape) for c in ([1, 0], [0, 1])]
    scores = [metrics.paper_accuracy(ab_true, c) for c in constants]
    assert metrics.constant_baseline_accuracy(ab_true) == pytest.approx(max(scores))
    assert scores[0] + scores[1] == pytest.approx(1.0)
    # the gray baseline (ab = 0) ties, so argmax picks a: it scores p, never more than the baseline
    assert metrics.paper_accuracy(ab_true, metrics.gray_prediction(ab_true)) == pytest.approx(scores[0])


# --- colour error --------------------------------------------------------------------------------

def test_ab_mse_by_hand():
    ab_true = np.zeros((1, 2, 2, 2), np.float32)
    ab_pred = ab_true.copy()
    ab_pred[0, 0, 0] = [4, 0]                                  # one value of 8 off by 4: 16 / 8
    assert metrics.ab_mse(ab_true, ab_pred) == 2.0
    assert metrics.ab_mse(ab_true, ab_true + 3) == 9.0


def test_auc_by_hand():
    ab_true = np.zeros((1, 1, 5, 2), np.float32)
    ab_pred = np.array([[[[0, 0], [3, 4], [4.5, 0], [150, 0], [200, 0]]]], np.float32)
    # errors 0, 5, 4.5, 150, 200: pixel counted for t >= error among t = 0..150 (151 values)
    expected = (151 + 146 + 146 + 1 + 0) / 151 / 5
    assert metrics.auc(ab_true, ab_pred) == pytest.approx(expected)
    assert metrics.auc(ab_true, ab_pred, max_threshold=0) == pytest.approx(1 / 5)
    assert metrics.auc(ab_true, ab_pred, max_threshold=5) == pytest.approx((6 + 1 + 1) / 6 / 5)
    assert metrics.auc(ab_pred, ab_pred) == 1.0


# --- RGB metrics ---------------------------------------------------------------------------------

def test_psnr_is_averaged_per_image_and_capped():
    rgb_true = np.zeros((2, 8, 8, 3), np.float32)
    rgb_pred = rgb_true.copy()
    rgb_pred[0] = 0.1                                        # MSE 0.01   -> 20 dB
    rgb_pred[1] = 0.01                                       # MSE 0.0001 -> 40 dB
    assert metrics.psnr(rgb_true, rgb_pred) == pytest.approx(30.0, abs=1e-4)
    assert metrics.psnr(rgb_true, rgb_true) == metrics.PSNR_CAP_DB


def test_ssim_matches_scikit_image():
    from skimage.metrics import structural_similarity

    rgb = RNG.uniform(size=(2, 16, 16, 3)).astype(np.float32)
    noisy = np.clip(rgb + RNG.normal(scale=0.1, size=rgb.shape), 0, 1).astype(np.float32)
    expected = np.mean([structural_similarity(t, p, data_range=1, channel_axis=-1) for t, p in zip(rgb, noisy)])
    assert metrics.ssim(rgb, noisy) == pytest.approx(expected)
    assert metrics.ssim(rgb, noisy) < 0.95
    assert metrics.ssim(rgb, rgb) == pytest.approx(1.0)


def test_colourfulness_by_hand():
    gray = np.full((1, 4, 4, 3), 0.4, np.float32)
    assert metrics.colourfulness(gray) == 0.0
    red_green = np.zeros((1, 2, 2, 3), np.float32)
    red_green[0, 0, :, 0] = 1.0                              # rg = 255, yb = 127.5
    red_green[0, 1, :, 1] = 1.0                              # rg = -255, yb = 127.5
    assert metrics.colourfulness(red_green) == pytest.approx(255 + 0.3 * 127.5)   # 293.25
    red = np.zeros((1, 3, 3, 3), np.float32)
    red[..., 0] = 1.0
    assert metrics.colourfulness(red) == pytest.approx(0.3 * np.hypot(255, 127.5))
    assert metrics.colourfulness((red * 255).astype(np.uint8)) == pytest.approx(metrics.colourfulness(red))
    both = np.concatenate([gray[:, :2, :2], red_green])
    assert metrics.colourfulness(both) == pytest.approx(293.25 / 2)  # mean over images


# CIE Lab (D65) of sRGB colours, from the sRGB and CIE definitions (e.g. brucelindbloom.com).
KNOWN_COLOURS = {"red": ((53.2408, 80.0925, 67.2032), (1, 0, 0)),
                 "green": ((87.7347, -86.1827, 83.1793), (0, 1, 0)),
                 "blue": ((32.2970, 79.1875, -107.8602), (0, 0, 1)),
                 "white": ((100, 0, 0), (1, 1, 1)), "black": ((0, 0, 0), (0, 0, 0)),
                 "gray 0.5": ((53.3889, 0, 0), (0.5, 0.5, 0.5))}


def test_to_rgb_of_known_lab_colours():
    lab = np.array([lab for lab, _ in KNOWN_COLOURS.values()], np.float32).reshape(1, 2, 3, 3)
    rgb = metrics.to_rgb(lab[..., 0], lab[..., 1:])
    assert rgb.shape == (1, 2, 3, 3) and rgb.dtype == np.float32
    np.testing.assert_allclose(rgb.reshape(-1, 3), [rgb for _, rgb in KNOWN_COLOURS.values()], atol=1e-3)


# --- all metrics, baselines ----------------------------------------------------------------------

def test_evaluate_predictions_agrees_with_each_metric():
    L, ab = _random_lab()
    ab_pred = ab * 0.5 + 5
    out = metrics.evaluate_predictions(L, ab, ab_pred)
    assert tuple(out) == metrics.METRICS
    rgb_true, rgb_pred = metrics.to_rgb(L, ab), metrics.to_rgb(L, ab_pred)
    assert out["accuracy"] == pytest.approx(metrics.paper_accuracy(ab, ab_pred))
    assert out["constant_baseline"] == pytest.approx(metrics.constant_baseline_accuracy(ab))
    assert out["ab_mse"] == pytest.approx(metrics.ab_mse(ab, ab_pred))
    assert out["auc"] == pytest.approx(metrics.auc(ab, ab_pred))
    assert out["rebalanced_auc"] == pytest.approx(metrics.rebalanced_auc(ab, ab_pred))
    assert out["psnr"] == pytest.approx(metrics.psnr(rgb_true, rgb_pred))
    assert out["ssim"] == pytest.approx(metrics.ssim(rgb_true, rgb_pred))
    assert out["colourfulness_pred"] == pytest.approx(metrics.colourfulness(rgb_pred))
    assert out["colourfulness_gap"] == pytest.approx(out["colourfulness_pred"] - out["colourfulness_true"])
    assert out["colourfulness_gap"] < 0                       # halved colours are less colourful

    perfect = metrics.evaluate_predictions(L, ab, ab)
    assert (perfect["accuracy"], perfect["ab_mse"], perfect["auc"]) == (1.0, 0.0, 1.0)
    assert perfect["ssim"] == pytest.approx(1.0) and perfect["colourfulness_gap"] == 0.0


def test_baselines():
    _, ab = _random_lab(n=2, size=4)
    assert not metrics.gray_prediction(ab).any() and metrics.gray_prediction(ab).shape == ab.shape
    mean = metrics.mean_ab(ab)
    np.testing.assert_allclose(mean, [ab[..., 0].mean(), ab[..., 1].mean()], rtol=1e-5)
    pred = metrics.mean_prediction(mean, ab.shape)
    assert pred.shape == ab.shape and np.all(pred[..., 1] == mean[1])
    with pytest.raises(ValueError, match="shape"):
        metrics.mean_prediction([1, 2, 3], ab.shape)


def test_bad_inputs_say_what_is_wrong():
    _, ab = _random_lab(n=1, size=4)
    with pytest.raises(ValueError, match=r"\(N, H, W, 2\)"):
        metrics.paper_accuracy(ab[0], ab[0])
    with pytest.raises(ValueError, match="same shape"):
        metrics.ab_mse(ab, ab[:, :2])
    with pytest.raises(ValueError, match="diverged"):
        metrics.auc(ab, np.full_like(ab, np.nan))


# --- batch by batch -----------------------------------------------------------------------------

def test_running_totals_add_up_to_all_at_once():
    L, ab = _random_lab(n=5, size=16, seed=2)
    ab_pred = ab * 0.7 - 3
    weights_of = metrics.own_colour_weights(ab)  # the weights of all the batches' colours
    totals = metrics.RunningTotals(weights_of=weights_of)
    for part in (slice(0, 2), slice(2, 4), slice(4, 5)):              # batches of 2, 2, 1
        totals.add(ab[part], ab_pred[part], L[part])
    result = totals.result()
    assert tuple(result) == metrics.METRICS
    for key, value in metrics.evaluate_predictions(L, ab, ab_pred).items():
        assert result[key] == pytest.approx(value), key
    unweighted = metrics.RunningTotals()
    unweighted.add(ab, ab_pred, L)
    assert tuple(unweighted.result()) == tuple(k for k in metrics.METRICS if k != "rebalanced_auc")
    shared = metrics.RunningTotals(weights_of=weights_of)
    shared.add(ab, ab_pred, L, rgb_true=metrics.to_rgb(L, ab))       # a precomputed truth gives the same
    assert shared.result() == pytest.approx(result)


def test_running_totals_of_ab_alone():
    L, ab = _random_lab(n=3, size=8, seed=3)
    totals = metrics.RunningTotals(rgb=False)
    totals.add(ab[:2], metrics.gray_prediction(ab[:2]))
    totals.add(ab[2:], metrics.gray_prediction(ab[2:]))
    result = totals.result()
    assert tuple(result) == metrics.AB_METRICS
    assert result["accuracy"] == pytest.approx(metrics.paper_accuracy(ab, metrics.gray_prediction(ab)))
    assert result["constant_baseline"] == pytest.approx(metrics.constant_baseline_accuracy(ab))
    assert result["auc"] == pytest.approx(metrics.auc(ab, metrics.gray_prediction(ab)))
    with pytest.raises(ValueError, match="need L"):
        metrics.RunningTotals().add(ab, ab)
    with pytest.raises(ValueError, match="no images"):
        metrics.RunningTotals().result()


def test_dataset_mean_ab_reads_batch_by_batch():
    L, ab = _random_lab(n=5, size=8, seed=4)
    ds = LabDataset.from_arrays(L, ab)
    _, ab8 = ds.batch([1, 3, 4])                                      # the 8-bit values the dataset holds
    np.testing.assert_allclose(metrics.dataset_mean_ab(ds, [1, 3, 4], batch_size=2), metrics.mean_ab(ab8), rtol=1e-5)
    with pytest.raises(ValueError, match="non-empty"):
        metrics.dataset_mean_ab(ds, [])
