"""Metrics against hand-computed cases, scikit-image and Keras' CategoricalAccuracy."""

import numpy as np
import pytest

from deepcolor import metrics
from deepcolor.color import join_lab, lab_to_rgb
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


def test_to_rgb_goes_through_deepcolor_color():
    L, ab = _random_lab(n=2, size=8)
    np.testing.assert_allclose(metrics.to_rgb(L, ab), lab_to_rgb(join_lab(L, ab)))
    gray = metrics.to_rgb(L, np.zeros_like(ab))
    np.testing.assert_allclose(gray[..., 0], gray[..., 2], atol=1e-3)


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


# --- evaluate a model on a dataset ---------------------------------------------------------------

class _Input:
    def __init__(self, side):
        self.shape = (None, side, side, 1)


class OracleModel:
    """Predicts the true ab of image i (read from the dataset); embeddings carry i in column 0."""

    def __init__(self, dataset, side):
        self.dataset, self.inputs, self.seen = dataset, [_Input(side)], []

    def predict(self, inputs, verbose=0):
        x, emb = inputs
        self.seen.append(x.shape)
        _, ab = self.dataset.batch(emb[:, 0].astype(int))
        return ab / 128.0


class ConstantModel:
    """Outputs the same ab / 128 at every pixel, at its own input size."""

    def __init__(self, side, ab_scaled):
        self.inputs, self.ab_scaled, self.seen = [_Input(side)], np.float32(ab_scaled), []

    def predict(self, inputs, verbose=0):
        x, _ = inputs
        self.seen.append((x.shape, float(x.min()), float(x.max())))
        return np.broadcast_to(self.ab_scaled, x.shape[:3] + (2,)).copy()


def _dataset(n=7, size=32):
    L, ab = _random_lab(n=n, size=size, seed=1)
    ds = LabDataset.from_arrays(L, ab)
    emb = np.zeros((n, 1000), np.float32)
    emb[:, 0] = np.arange(n)
    return ds, emb


def test_evaluate_perfect_model_and_baselines():
    ds, emb = _dataset()
    test_idx, train_idx = np.array([5, 0, 3, 6, 1]), np.array([2, 4])
    table = metrics.evaluate(OracleModel(ds, 32), ds, test_idx, emb, train_indices=train_idx, batch_size=2)
    assert list(table.index) == ["model", "gray baseline", "mean-ab baseline"]
    assert set(metrics.METRICS) <= set(table.columns) and (table["images"] == 5).all()
    model = table.loc["model"]
    assert (model["accuracy"], model["ab_mse"], model["auc"]) == (1.0, 0.0, 1.0)
    assert model["psnr"] == metrics.PSNR_CAP_DB and model["ssim"] == pytest.approx(1.0)

    L, ab = ds.batch(test_idx)
    gray = table.loc["gray baseline"]
    assert gray["colourfulness_pred"] == pytest.approx(0.0, abs=0.05)
    for key, value in metrics.evaluate_predictions(L, ab, np.zeros_like(ab)).items():
        assert gray[key] == pytest.approx(value), key        # batches of 2, 2, 1 add up exactly
    mean = metrics.mean_ab(ds.batch(train_idx)[1])
    np.testing.assert_allclose(metrics.dataset_mean_ab(ds, train_idx, batch_size=1), mean, rtol=1e-5)
    expected = metrics.evaluate_predictions(L, ab, metrics.mean_prediction(mean, ab.shape))
    assert table.loc["mean-ab baseline", "ab_mse"] == pytest.approx(expected["ab_mse"])
    assert table.loc["mean-ab baseline", "note"] == ""


def test_evaluate_without_train_indices_says_so():
    ds, emb = _dataset(n=3)
    table = metrics.evaluate(OracleModel(ds, 32), ds, [0, 1, 2], emb)
    assert "train_indices" in table.loc["mean-ab baseline", "note"]
    assert table.loc["model", "note"] == ""


def test_evaluate_resizes_for_a_smaller_model():
    ds, emb = _dataset(n=3)
    model = ConstantModel(16, [0.25, -0.125])
    table = metrics.evaluate(model, ds, [0, 1, 2], emb, train_indices=[0], batch_size=2)
    assert [shape for shape, _, _ in model.seen] == [(2, 16, 16, 1), (1, 16, 16, 1)]
    assert all(0.0 <= lo and hi <= 1.0 for _, lo, hi in model.seen)   # L / 100
    L, ab = ds.batch([0, 1, 2])
    expected = metrics.evaluate_predictions(L, ab, np.broadcast_to(np.float32([32, -16]), ab.shape))
    for key, value in expected.items():
        assert table.loc["model", key] == pytest.approx(value, rel=1e-5), key


def test_evaluate_a_real_keras_model():
    keras = pytest.importorskip("keras")
    ds, emb = _dataset(n=3)
    L_in, e_in = keras.Input((16, 16, 1)), keras.Input((1000,))
    out = keras.layers.Conv2D(2, 3, padding="same", activation="tanh")(L_in)
    model = keras.Model([L_in, e_in], out)
    table = metrics.evaluate(model, ds, [0, 1, 2], emb, train_indices=[0, 1])
    assert np.isfinite(table[list(metrics.METRICS)].to_numpy()).all()
    assert 0.0 <= table.loc["model", "accuracy"] <= 1.0


def test_evaluate_rejects_bad_arguments():
    ds, emb = _dataset(n=3)
    with pytest.raises(ValueError, match="embeddings"):
        metrics.evaluate(OracleModel(ds, 32), ds, [0], emb[:2])
    with pytest.raises(ValueError, match="empty"):
        metrics.evaluate(OracleModel(ds, 32), ds, [], emb)
