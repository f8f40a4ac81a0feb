"""Tests of deepcolor.predict: a colorizer applied to lightness at any size, in Lab units."""

import numpy as np
import pytest

from deepcolor.batches import ColorBatches
from deepcolor.color import to_network_scale
from deepcolor.predict import predict_ab


class _Input:
    def __init__(self, side):
        self.shape = (None, side, side, 1)


class ConstantModel:
    """Outputs the same ab / 128 at every pixel, at its own input size; records what it was given."""

    def __init__(self, side, ab_scaled, out_shape=None):
        self.inputs, self.ab_scaled, self.out_shape, self.seen = [_Input(side)], np.float32(ab_scaled), out_shape, []

    def predict(self, inputs, verbose=0):
        x, emb = inputs
        self.seen.append((x.shape, emb.dtype))
        return np.broadcast_to(self.ab_scaled, self.out_shape or x.shape[:3] + (2,)).copy()


def test_prediction_resizes_L_exactly_as_training_batches_do(sample_ds):
    """A model must see at prediction time the input it was trained on (224 -> 32 here)."""
    seen = []

    class Recorder:
        inputs = [type("T", (), {"shape": (None, 32, 32, 1)})()]

        def predict(self, inputs, verbose=0):
            seen.append(inputs[0])
            return np.zeros(inputs[0].shape[:3] + (2,), np.float32)

    idx = np.array([0, 3])
    (L_batch, _), _ = ColorBatches(sample_ds, np.zeros((len(sample_ds), 1000), np.float32), idx,
                                   batch_size=2, shuffle=False, input_size=32)[0]
    L, _ = sample_ds.batch(idx)
    predict_ab(Recorder(), L, np.zeros((2, 1000), np.float32))
    np.testing.assert_allclose(seen[0], L_batch, atol=1e-6)
    assert to_network_scale(L)[0].shape == (2, 224, 224, 1)


@pytest.mark.parametrize("side", [16, 32])
def test_prediction_comes_back_at_the_photos_size_in_lab_units(side):
    L = np.random.default_rng(0).uniform(0, 100, (3, 32, 24)).astype(np.float32)
    model = ConstantModel(side, [0.25, -0.125])
    ab = predict_ab(model, L, np.zeros((3, 1000), np.float64))
    assert ab.shape == (3, 32, 24, 2) and ab.dtype == np.float32
    np.testing.assert_allclose(ab[..., 0], 32.0, atol=1e-4)        # 0.25 * 128
    np.testing.assert_allclose(ab[..., 1], -16.0, atol=1e-4)
    assert model.seen == [((3, side, side, 1), np.float32)]       # the model's own size, float32 embeddings


def test_prediction_rejects_a_model_that_is_not_a_colorizer():
    L = np.zeros((1, 16, 16), np.float32)
    with pytest.raises(ValueError, match=r"\(n, H, W, 2\)"):
        predict_ab(ConstantModel(16, [0.0, 0.0, 0.0], out_shape=(1, 16, 16, 3)), L, np.zeros((1, 1000), np.float32))


def test_a_keras_model_is_called_directly_with_the_same_result_as_predict():
    keras = pytest.importorskip("keras")
    L_in, e_in = keras.Input((16, 16, 1)), keras.Input((1000,))
    model = keras.Model([L_in, e_in], keras.layers.Conv2D(2, 3, padding="same", activation="tanh")(L_in))
    L = np.random.default_rng(1).uniform(0, 100, (2, 16, 16)).astype(np.float32)
    emb = np.zeros((2, 1000), np.float32)
    expected = model.predict([to_network_scale(L)[0], emb], verbose=0) * 128
    np.testing.assert_allclose(predict_ab(model, L, emb), expected, rtol=1e-5, atol=1e-4)


def test_padded_prediction_gives_the_same_numbers(sample_ds):
    """rows= (what evaluation passes under JAX): 5 images padded to 8 give the 5 predictions they
    give alone, and so do batches of 2 (the last one short) padded to 2."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    L_in, e_in = keras.Input((16, 16, 1)), keras.Input((1000,))
    e = keras.layers.UpSampling2D(16)(keras.layers.Reshape((1, 1, 2))(keras.layers.Dense(2)(e_in)))
    out = keras.layers.Conv2D(2, 3, padding="same", activation="tanh")(keras.layers.Concatenate()([L_in, e]))
    model = keras.Model([L_in, e_in], out)
    L, _ = sample_ds.batch(np.arange(5))
    emb = np.random.default_rng(0).random((5, 1000), dtype=np.float32)
    alone = predict_ab(model, L, emb)
    assert alone.shape == (5, 224, 224, 2)
    np.testing.assert_allclose(predict_ab(model, L, emb, rows=8), alone, rtol=1e-5, atol=1e-4)
    batched = [predict_ab(model, L[i:i + 2], emb[i:i + 2], rows=2) for i in range(0, 5, 2)]
    np.testing.assert_allclose(np.concatenate(batched), alone, rtol=1e-5, atol=1e-4)
