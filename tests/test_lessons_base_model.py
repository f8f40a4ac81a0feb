"""deepcolor.lessons.base_model: the paper-says table, the cost table, the hand-written model check
and the "overfit one batch" check (notebook 04's exercises: tests/test_exercises.py).

The hand-written models are built at 32x32 (the fusion tiles the embedding to 4x4), so each check
takes a fraction of a second; notebook 04 itself runs the check at 224x224.
"""

from dataclasses import replace

import numpy as np
import pytest
from figure_checks import images_of, texts_of

from deepcolor import config, data, paper
from deepcolor.lessons import base_model

# --- what the paper says, what it would cost -------------------------------------------------------

def test_profile_epochs_text_is_read_from_the_profiles():
    text = base_model.profile_epochs_text()
    for name, profile in config.PROFILES.items():
        assert f"{name} {profile.epochs}" in text and f"{name} {profile.study_epochs}" in text
    assert f"default {config.PROFILES['default'].epochs} (offline: {config.OFFLINE_FALLBACK['epochs']})" in text
    assert "full 20 epochs;" in text  # full never falls back: config.load raises instead
    mine = {"tiny": replace(config.PROFILES["smoke"], epochs=7, study_epochs=4)}
    assert base_model.profile_epochs_text(mine) == "a run: tiny 7 epochs; a study run: tiny 4"


def test_says_and_assumes_shows_the_paper_beside_the_profiles_epochs():
    styler = base_model.says_and_assumes()
    table = styler.data
    assert list(table.columns) == ["paper", "where", "course", "why"]
    assert list(table.index) == [row.topic for row in paper.SAYS_ASSUMES]
    assert base_model.profile_epochs_text() in table.loc["epochs", "course"]
    assert "{profile_epochs}" not in "".join(table["course"])
    html = styler.to_html()
    assert "2500 epochs" in html and base_model.profile_epochs_text() in html


def test_training_cost_table_prices_2500_epochs_beside_the_profile():
    cfg = config.load("smoke")
    styler = base_model.training_cost_table(cfg)
    table = styler.data
    assert list(table.index) == list(paper.ARCHITECTURES)
    assert (table["paper epochs"] == paper.PAPER_EPOCHS).all()
    assert (table["smoke epochs"] == cfg.profile.epochs).all()
    base = paper.training_cost("base", paper.PAPER_EPOCHS)
    assert table.loc["base", "training PFLOP"] == pytest.approx(base["train_pflop"])
    assert table.loc["base", "GPU-hours"] == pytest.approx(base["gpu_hours"])
    # by hand: 3 x 15.1 GFLOP x 15,000 photos x 2,500 epochs, at 50 TFLOP/s
    assert table.loc["base", "training PFLOP"] == pytest.approx(3 * 15.1e9 * 15_000 * 2_500 / 1e15)
    assert table.loc["arch3", "GPU-hours"] < table.loc["base", "GPU-hours"]
    caption = styler.caption
    assert "50 TFLOP/s" in caption and "15,000" in caption and "assum" in caption and "smoke" in caption


# --- the model written by hand ---------------------------------------------------------------------

def hand_written_base(size=32, last="tanh", swap_fusion=False, drop_decoder_conv=False):
    """The base model in plain Keras, as notebook 04 writes it, with optional mistakes."""
    import keras

    layers = keras.layers

    def conv(filters, kernel=3, strides=1, activation="relu"):
        return layers.Conv2D(filters, kernel, strides=strides, padding="same", activation=activation)

    L = keras.Input((size, size, 1), name="L")
    embedding = keras.Input((1000,), name="embedding")
    x = conv(64, strides=2)(L)
    for filters, strides in ((128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 1), (256, 1)):
        x = conv(filters, strides=strides)(x)
    side = size // 8
    tiled = layers.Reshape((side, side, 1000))(layers.RepeatVector(side * side)(embedding))
    x = layers.Concatenate()([tiled, x] if swap_fusion else [x, tiled])
    x = conv(256, 1)(x)
    x = conv(256, 1)(x)
    x = conv(128)(x)
    x = layers.UpSampling2D(2)(x)
    x = conv(64)(x)
    x = layers.UpSampling2D(2)(x)
    x = conv(32)(x)
    if not drop_decoder_conv:
        x = conv(16)(x)
    x = conv(2, activation=last)(x)
    x = layers.UpSampling2D(2)(x)
    return keras.Model([L, embedding], x)


def test_compare_with_built_finds_the_right_model_the_same():
    table = base_model.compare_with_built(hand_written_base())
    assert table["same?"].all()
    assert list(table["built layer"][-2:]) == ["total", "same output"]
    total = table.set_index("built layer").loc["total"]
    assert total["our params"] == total["built params"] == paper.PAPER_PARAMS["base"]
    fusion = table.set_index("built layer").loc["fusion_fuse1"]
    assert fusion["ours"] == "RepeatVector + Reshape + Concatenate" and fusion["built"] == "FuseEmbedding"
    assert fusion["our shape"] == "4x4x1256"
    assert table.iloc[0]["our shape"] == "32x32x1" and table.iloc[1]["our shape"] == "1000"


def test_compare_with_built_flags_a_relu_where_tanh_belongs():
    table = base_model.compare_with_built(hand_written_base(last="relu")).set_index("built layer")
    assert not table.loc["decoder_conv5", "same?"]
    assert table.loc["decoder_conv5", "ours"] == "Conv2D 3x3 relu" and table.loc["decoder_conv5", "built"] == "Conv2D 3x3 tanh"
    assert table.loc["total", "same?"]  # same counts: only the activation tells them apart
    assert "same output" not in table.index  # outputs are compared only when every step matches


def test_compare_with_built_flags_a_missing_layer():
    table = base_model.compare_with_built(hand_written_base(drop_decoder_conv=True))
    assert not table["same?"].all()
    assert (table["ours"] == "(missing)").sum() == 1
    assert not table.set_index("built layer").loc["total", "same?"]


def test_compare_with_built_sees_swapped_fusion_inputs_only_in_the_outputs():
    model = hand_written_base(swap_fusion=True)
    before = [w.copy() for w in model.get_weights()]
    table = base_model.compare_with_built(model)
    steps = table[table["built layer"] != "same output"]
    assert steps["same?"].all()  # shapes, counts, kernels and activations cannot see the order
    assert not table.iloc[-1]["same?"] and table.iloc[-1]["built layer"] == "same output"
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # the model is untouched


# --- can it learn? overfit one batch -----------------------------------------------------------------

def test_overfit_settings_per_profile():
    offline = base_model.overfit_settings("default-offline")  # the offline profile's own: its input size
    assert offline.arch == "base" and offline.input_size == config.OFFLINE_FALLBACK["input_size"]
    assert base_model.overfit_settings("full-offline") == base_model.OVERFIT_SETTINGS["full"]
    assert set(base_model.OVERFIT_SETTINGS) == set(config.PROFILES) | {"default-offline"}
    smoke = base_model.overfit_settings("smoke")
    assert smoke.input_size <= 32 and smoke.arch != "base"  # seconds in CI
    assert base_model.overfit_settings("default").arch == "base"
    assert base_model.overfit_settings("smoke", lr=0.1) == replace(smoke, lr=0.1)  # exercise 4
    with pytest.raises(ValueError, match="smoke"):
        base_model.overfit_settings("nonsense")


def test_spread_over_photos_takes_one_crop_per_photo_first(sample_ds):
    split = data.split(len(sample_ds), groups=sample_ds.groups)
    n_photos = len(set(sample_ds.groups[split.train]))
    picked = base_model.spread_over_photos(sample_ds, split.train, n_photos)
    assert len(set(sample_ds.groups[picked])) == n_photos and set(picked) <= set(split.train)
    assert list(base_model.spread_over_photos(data.LabDataset.from_arrays(
        np.zeros((5, 8, 8)), np.zeros((5, 8, 8, 2))), [4, 1, 3], 2)) == [1, 4]


def memorise(ds, split, settings):
    """Notebook 04's section 8, as its cells write it: (L, true ab, memorised ab, fit history) of the photos."""
    import keras

    from deepcolor import batches, models, predict, train

    few = base_model.spread_over_photos(ds, split.train, settings.n_images)
    no_embedding = np.zeros((len(ds), paper.EMBEDDING_SIZE), "float32")
    (L_in, e_in), ab_target = batches.ColorBatches(ds, no_embedding, few, batch_size=len(few),
                                                   input_size=settings.input_size)[0]
    keras.utils.set_random_seed(0)
    memoriser = train.compile_model(models.build_model(settings.arch, settings.input_size), settings.lr)
    fitted = memoriser.fit([L_in, e_in], ab_target, epochs=settings.epochs, batch_size=settings.batch_size, verbose=0)
    L_few, ab_few = ds.batch(few)
    return few, L_few, ab_few, predict.predict_ab(memoriser, L_few, no_embedding[few]), fitted.history


def test_memorising_brings_colour_back_on_the_memorised_photos(sample_ds):
    split = data.split(len(sample_ds), groups=sample_ds.groups)
    tiny = base_model.OverfitSettings("arch3", 16, epochs=80, lr=5e-3, batch_size=4, n_images=4)
    few, L, ab_true, ab_pred, history = memorise(sample_ds, split, tiny)
    styler = base_model.memorisation_table(ab_true, ab_pred, tiny, history, "smoke")
    table = styler.data
    gray, memorised, ceiling = table.index
    assert gray.startswith("gray") and memorised == "memorised (80 epochs)" and "16 px" in ceiling
    assert table.loc[memorised, "AuC"] > table.loc[gray, "AuC"] + 0.02
    assert table.loc[ceiling, "AuC"] > table.loc[gray, "AuC"]
    assert table.attrs["last_loss"] < table.attrs["first_loss"] and table.attrs["epochs"] == 80
    assert set(few.tolist()) <= set(split.train.tolist()) and len(few) == 4
    assert "MEMORISATION, NOT A RESULT" in styler.caption and "none (zeros)" in styler.caption
    fig = base_model.memorisation_figure(L, ab_pred, ab_true, tiny, "smoke", titles=sample_ds.groups[few])
    assert len(images_of(fig)) == 3 * 4
    assert "MEMORISATION, NOT A RESULT" in texts_of(fig) and str(sample_ds.groups[few][0]) in texts_of(fig)


def test_a_diverged_memoriser_is_measured_and_drawn_as_gray():
    tiny = base_model.OverfitSettings("arch3", 8, epochs=1, lr=0.1, batch_size=1, n_images=1)
    ab_true = np.full((1, 8, 8, 2), 20.0, np.float32)
    table = base_model.memorisation_table(ab_true, np.full_like(ab_true, np.nan), tiny, {"loss": [np.nan]}, "smoke").data
    assert table.iloc[1].tolist() == table.iloc[0].tolist()  # NaN predicted counts as gray (ab = 0)
    fig = base_model.memorisation_figure(np.full((1, 8, 8), 50.0, np.float32), np.full_like(ab_true, np.nan),
                                         ab_true, tiny, "smoke")
    assert len(images_of(fig)) == 3
