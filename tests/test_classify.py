"""Tests of deepcolor.classify: colour as classes (Zhang et al. 2016) on the paper's trunk."""

import keras
import numpy as np
import pytest

from deepcolor import ab_bins as bins_module
from deepcolor.classify import (ClassBatches, build_classifier, classifier_output_size,
                                predict_ab_classes, train_classifier)
from deepcolor.data import Split
from deepcolor.lab_dataset import LabDataset
from deepcolor.models import build_model
from deepcolor.paper import ARCHITECTURES, PAPER_PARAMS

Q = len(bins_module.ab_bins())


def colourful_dataset(n=4, size=32, seed=0):
    """n smooth, saturated images: L a gradient, ab a rotating hue of chroma 40-70."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    L = np.stack([30 + 40 * (xx + yy) / 2 + 5 * i for i in range(n)]).astype(np.float32)
    ab = []
    for _ in range(n):
        angle = 2 * np.pi * (rng.random() + 0.5 * xx)
        chroma = 40 + 30 * yy
        ab.append(np.stack([chroma * np.cos(angle), chroma * np.sin(angle)], -1))
    return LabDataset.from_arrays(L, np.asarray(ab, np.float32))


def embeddings(n, seed=0):
    return np.random.default_rng(seed).random((n, 1000), dtype=np.float32)


def chroma(ab):
    return float(np.mean(np.hypot(ab[..., 0], ab[..., 1])))


@pytest.fixture(scope="module")
def trained():
    ds = colourful_dataset()
    emb = embeddings(len(ds))
    split = Split(np.arange(4), np.array([], np.int64), np.array([], np.int64))
    model, history = train_classifier(ds, emb, split, "arch3", 32, epochs=8, batch_size=4,
                                      lr=3e-3, rebalance=True, seed=0)
    return ds, emb, model, history


@pytest.mark.parametrize("size", [16, 32])
def test_classifier_outputs_a_distribution_at_half_the_input_size(size):
    model = build_classifier("arch3", size)
    assert model.name == "arch3_classify"
    rng = np.random.default_rng(0)
    L = rng.random((2, size, size, 1), dtype=np.float32)
    probs = keras.ops.convert_to_numpy(model([L, embeddings(2)]))
    side = classifier_output_size(size)
    assert side == size // 2
    assert probs.shape == (2, side, side, Q)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-4)


def test_classifier_keeps_the_trunk_and_changes_only_the_head():
    mse, cls = build_model("arch3", 32), build_classifier("arch3", 32)
    mse_convs = [layer.name for layer in mse.layers if isinstance(layer, keras.layers.Conv2D)]
    cls_convs = [layer.name for layer in cls.layers if isinstance(layer, keras.layers.Conv2D)]
    assert cls_convs == mse_convs[:-1] + ["decoder_classes"]
    for name in mse_convs[:-1]:
        assert mse.get_layer(name).count_params() == cls.get_layer(name).count_params()
    head = cls.get_layer("decoder_classes")
    assert head.kernel_size == (1, 1) and head.activation.__name__ == "softmax"
    trunk = PAPER_PARAMS["arch3"] - mse.get_layer(mse_convs[-1]).count_params()
    assert cls.count_params() == trunk + head.kernel.shape[2] * Q + Q


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_mse_model_is_unchanged(name):
    model = build_model(name)
    assert model.count_params() == PAPER_PARAMS[name]
    assert build_model(name, head="mse").count_params() == PAPER_PARAMS[name]
    assert model.output.shape == (None, 224, 224, 2)
    assert model.layers[-1].__class__.__name__ == "UpSampling2D"


def test_bad_head_or_bins_say_what_to_do():
    with pytest.raises(ValueError, match="head must be one of"):
        build_model("arch3", 32, head="softmax")
    with pytest.raises(ValueError, match="n_bins"):
        build_model("arch3", 32, head="classify")


def test_batches_carry_soft_targets_and_rebalancing_weights():
    ds = colourful_dataset()
    bins = bins_module.ab_bins()
    weights = np.linspace(0.5, 2.0, Q).astype(np.float32)
    batches = ClassBatches(ds, embeddings(4), np.arange(4), bins, 16, batch_size=3, weights=weights)
    assert len(batches) == 2
    (x, emb), targets, w = batches[0]
    assert x.shape == (3, 16, 16, 1) and 0 <= x.min() and x.max() <= 1
    assert emb.shape == (3, 1000)
    assert targets.shape == (3, 8, 8, Q)
    np.testing.assert_allclose(targets.sum(-1), 1.0, atol=1e-5)
    assert w.shape == (3, 8, 8)
    np.testing.assert_array_equal(w, weights[targets.argmax(-1)])
    plain = ClassBatches(ds, embeddings(4), np.arange(4), bins, 16, batch_size=4)
    assert len(plain[0]) == 2  # no weights: (inputs, targets)
    with pytest.raises(ValueError, match="embeddings must be"):
        ClassBatches(ds, embeddings(3), np.arange(4), bins, 16)


def test_training_lowers_the_loss(trained):
    _, _, _, history = trained
    loss = history.history["loss"]
    assert len(loss) == 8
    assert np.all(np.isfinite(loss))
    assert loss[-1] < loss[0]


def test_training_without_rebalancing_and_with_validation_runs():
    ds = colourful_dataset()
    split = Split(np.arange(3), np.array([3]), np.array([], np.int64))
    model, history = train_classifier(ds, embeddings(4), split, "arch3", 16, epochs=2, batch_size=2,
                                      lr=1e-3, rebalance=False)
    assert set(history.history) >= {"loss", "val_loss"}
    assert model.output.shape == (None, 8, 8, Q)


def test_predictions_have_the_photos_size(trained):
    ds, emb, model, _ = trained
    L, _ = ds.batch([0, 1, 2])
    ab = predict_ab_classes(model, L, emb[:3])
    assert ab.shape == (3, 32, 32, 2) and ab.dtype == np.float32
    assert np.all(np.abs(ab) <= 111)  # a mix of bin centres, all within [-110, 110]
    big = predict_ab_classes(model, np.repeat(np.repeat(L, 2, 1), 3, 2), emb[:3])
    assert big.shape == (3, 64, 96, 2)


def test_small_temperature_is_more_colourful(trained):
    ds, emb, model, _ = trained
    L, _ = ds.batch(np.arange(4))
    mean = predict_ab_classes(model, L, emb, T=1.0)
    vivid = predict_ab_classes(model, L, emb, T=0.1)
    assert chroma(vivid) > chroma(mean)


def test_predict_rejects_a_regression_model():
    with pytest.raises(ValueError, match="bin probabilities"):
        predict_ab_classes(build_model("arch3", 16), np.zeros((1, 16, 16), np.float32), embeddings(1))


def test_lesson_reads_a_classifier_as_a_regression_model(trained):
    from deepcolor.lessons import colour_as_classes as cac
    from deepcolor.predict import predict_ab

    ds, emb, model, _ = trained
    L, _ = ds.batch([0, 1])
    np.testing.assert_allclose(predict_ab(cac.AnnealedColorizer(model, 0.38), L, emb[:2]),
                               predict_ab_classes(model, L, emb[:2], T=0.38), atol=1e-3)
    assert cac.as_regressor(build_model("arch3", 32), 0.38).count_params() == PAPER_PARAMS["arch3"]
