"""Tests of deepcolor.batches: ColorBatches feeding ((L, embedding), ab) to model.fit."""

import numpy as np
import pytest

from deepcolor.batches import ColorBatches, resize_batch
from deepcolor.color import to_network_scale
from deepcolor.data import split


def tagged_embeddings(n, seed=0):
    """(n, 1000) float32 embeddings whose column 0 holds the row number, so every batch says
    which dataset images it carries."""
    emb = np.random.default_rng(seed).random((n, 1000), dtype=np.float32)
    emb[:, 0] = np.arange(n)
    return emb


def ids_of(batch):
    (_, emb), _ = batch
    return emb[:, 0].astype(np.int64)


def epoch_ids(batches):
    return [ids_of(batches[i]) for i in range(len(batches))]


def test_batches_have_the_documented_shapes_dtypes_and_ranges(sample_ds):
    batches = ColorBatches(sample_ds, tagged_embeddings(24), batch_size=5)
    assert len(batches) == 5  # 24 images: four batches of 5 and one of 4
    sizes = []
    for i in range(len(batches)):
        (L, emb), ab = batches[i]
        sizes.append(len(L))
        assert L.shape == (len(L), 224, 224, 1) and emb.shape == (len(L), 1000) and ab.shape == (len(L), 224, 224, 2)
        assert L.dtype == emb.dtype == ab.dtype == np.float32
        assert 0 <= L.min() and L.max() <= 1 and -1 <= ab.min() and ab.max() <= 1
    assert sizes == [5, 5, 5, 5, 4]
    with pytest.raises(IndexError, match="out of range"):
        batches[5]


def test_values_are_to_model_of_the_dataset_images_and_rows_match(sample_ds):
    emb = tagged_embeddings(24)
    batches = ColorBatches(sample_ds, emb, batch_size=7, seed=3)
    for i in range(len(batches)):
        (L, e), ab = batches[i]
        idx = ids_of(batches[i])
        np.testing.assert_array_equal(e, emb[idx])  # each embedding row belongs to its image
        L_ref, ab_ref = to_network_scale(*sample_ds.batch(idx))
        np.testing.assert_allclose(L, L_ref, atol=1e-6)
        np.testing.assert_allclose(ab, ab_ref, atol=1e-6)
    # the images really differ from batch to batch (not one image repeated)
    assert len({float(batches[i][0][0].mean()) for i in range(len(batches))}) == len(batches)


def test_every_index_once_per_epoch_and_only_the_subset(sample_ds):
    train = split(24, seed=0).train
    batches = ColorBatches(sample_ds, tagged_embeddings(24), indices=train, batch_size=4)
    for _ in range(3):
        seen = np.concatenate(epoch_ids(batches))
        assert sorted(seen) == sorted(train)
        batches.on_epoch_end()


def test_shuffle_changes_every_epoch_and_is_reproducible_by_seed(sample_ds):
    emb = tagged_embeddings(24)

    def run(seed, epochs=3, **kw):
        batches = ColorBatches(sample_ds, emb, batch_size=4, seed=seed, **kw)
        orders = []
        for _ in range(epochs):
            orders.append(np.concatenate(epoch_ids(batches)))
            batches.on_epoch_end()
        return orders

    a, b, c = run(0), run(0), run(1)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], np.arange(24))
    plain = run(0, shuffle=False)
    assert all(np.array_equal(order, np.arange(24)) for order in plain)


def test_input_size_resizes_both_l_and_ab(sample_ds):
    emb = tagged_embeddings(24)
    full = ColorBatches(sample_ds, emb, batch_size=6, shuffle=False)
    (L224, _), ab224 = full[1]
    for size in (32, 64):
        small = ColorBatches(sample_ds, emb, batch_size=6, shuffle=False, input_size=size)
        (L, e), ab = small[1]
        assert L.shape == (6, size, size, 1) and ab.shape == (6, size, size, 2) and e.shape == (6, 1000)
        assert L.dtype == ab.dtype == np.float32
        assert 0 <= L.min() and L.max() <= 1 and -1 <= ab.min() and ab.max() <= 1
        # a smaller picture of the same images: same average lightness and colour per image
        np.testing.assert_allclose(L.mean(axis=(1, 2, 3)), L224.mean(axis=(1, 2, 3)), atol=0.01)
        np.testing.assert_allclose(ab.mean(axis=(1, 2)), ab224.mean(axis=(1, 2)), atol=0.01)
    # 224 -> 32 is an exact 7x7 block average
    (L32, _), ab32 = ColorBatches(sample_ds, emb, batch_size=6, shuffle=False, input_size=32)[1]
    np.testing.assert_allclose(L32, L224.reshape(6, 32, 7, 32, 7, 1).mean(axis=(2, 4)), atol=1e-6)
    np.testing.assert_allclose(ab32, ab224.reshape(6, 32, 7, 32, 7, 2).mean(axis=(2, 4)), atol=1e-6)


def test_resize_batch_keeps_constant_images_constant():
    x = np.full((2, 224, 224, 2), 0.25, np.float32)
    for size in (28, 64, 100, 224):
        y = resize_batch(x, size)
        assert y.shape == (2, size, size, 2)
        np.testing.assert_allclose(y, 0.25, atol=1e-6)


@pytest.mark.parametrize("emb", [None, np.zeros((23, 1000)), np.zeros((24, 999)), np.zeros(24)])
def test_bad_embeddings_shape_is_a_clear_error(sample_ds, emb):
    with pytest.raises(ValueError, match=r"embeddings must be \(24, 1000\)"):
        ColorBatches(sample_ds, emb)


def test_bad_arguments(sample_ds):
    with pytest.raises(ValueError, match="empty"):
        ColorBatches(sample_ds, tagged_embeddings(24), indices=[])
    with pytest.raises(ValueError, match="batch_size"):
        ColorBatches(sample_ds, tagged_embeddings(24), batch_size=0)


def test_model_fit_trains_on_color_batches_and_each_epoch_sees_every_image_once(sample_ds):
    import keras

    keras.utils.set_random_seed(0)
    L_in = keras.Input((32, 32, 1), name="L")
    emb_in = keras.Input((1000,), name="embedding")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(L_in)
    e = keras.layers.Dense(4)(emb_in)
    e = keras.layers.UpSampling2D(32)(keras.layers.Reshape((1, 1, 4))(e))
    x = keras.layers.Concatenate()([x, e])
    out = keras.layers.Conv2D(2, 1, activation="tanh")(x)
    model = keras.Model([L_in, emb_in], out)
    model.compile(optimizer="adam", loss="mse")

    calls = []  # (shuffle epoch of ColorBatches when Keras asked, image ids of the batch)

    class Recorded(ColorBatches):
        def __getitem__(self, i):
            batch = super().__getitem__(i)
            calls.append((self.epoch, tuple(ids_of(batch))))
            return batch

    batches = Recorded(sample_ds, tagged_embeddings(24), batch_size=8, input_size=32, seed=0)
    calls.clear()
    history = model.fit(batches, epochs=2, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 2 and all(np.isfinite(losses))

    # Keras may peek at a batch or two before training (to learn the shapes); every shuffle order
    # that trained the model was read whole, each image exactly once, with no batch of another order
    by_epoch = {}
    for epoch, ids in calls:
        by_epoch.setdefault(epoch, []).extend(ids)
    trained = [ids for ids in by_epoch.values() if len(ids) >= 24]
    assert len(trained) == 2, {e: len(v) for e, v in by_epoch.items()}
    for ids in trained:
        assert sorted(ids) == list(range(24))
    assert trained[0] != trained[1]  # Keras called on_epoch_end: the second epoch had a new order

    pred = model.predict(batches[0][0], verbose=0)
    assert pred.shape == (8, 32, 32, 2)



def test_padded_batches_have_one_shape_and_weigh_the_padding_zero(sample_ds):
    """pad=True (what training uses under JAX): 24 images in batches of 10 are 10, 10 and 4 padded
    to 10; the real rows are the unpadded batch's, weighted 10/4 so the batch's mean loss is theirs."""
    plain = ColorBatches(sample_ds, tagged_embeddings(24), batch_size=10, input_size=32, seed=1)
    padded = ColorBatches(sample_ds, tagged_embeddings(24), batch_size=10, input_size=32, seed=1, pad=True)
    assert len(padded) == len(plain) == 3
    for i, n in enumerate([10, 10, 4]):
        (L, emb), ab, weights = padded[i]
        (L0, emb0), ab0 = plain[i]
        assert L.shape == (10, 32, 32, 1) and emb.shape == (10, 1000) and ab.shape == (10, 32, 32, 2)
        for got, want in ((L, L0), (emb, emb0), (ab, ab0)):
            np.testing.assert_array_equal(got[:n], want)
            assert not got[n:].any()
        assert weights.shape == (10, 32, 32)
        np.testing.assert_array_equal(weights[:, 0, 0], [10 / n] * n + [0] * (10 - n))
        assert weights.dtype == np.float32


def test_a_padded_weighted_batch_trains_as_the_short_batch_does(sample_ds):
    """One SGD step on the last batch, padded and weighted, moves the weights as the short batch does."""
    import keras

    def one_step(batch):
        keras.utils.set_random_seed(0)
        L_in, emb_in = keras.Input((32, 32, 1)), keras.Input((1000,))
        e = keras.layers.UpSampling2D(32)(keras.layers.Reshape((1, 1, 2))(keras.layers.Dense(2)(emb_in)))
        out = keras.layers.Conv2D(2, 3, padding="same", activation="tanh")(keras.layers.Concatenate()([L_in, e]))
        model = keras.Model([L_in, emb_in], out)
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        model.train_on_batch(*batch[:2], sample_weight=batch[2] if len(batch) == 3 else None)
        return [keras.ops.convert_to_numpy(w) for w in model.weights]

    kwargs = dict(batch_size=10, input_size=32, seed=1)
    short = ColorBatches(sample_ds, tagged_embeddings(24), **kwargs)[2]
    padded = ColorBatches(sample_ds, tagged_embeddings(24), pad=True, **kwargs)[2]
    for got, want in zip(one_step(padded), one_step(short)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
