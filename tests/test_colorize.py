"""deepcolor.colorize and `deepcolor colorize`: full-resolution output, safety, clear errors."""

import numpy as np
import pytest
from PIL import Image

from deepcolor.cli import main
from deepcolor.colorize import Colorizer, colorize, load_colorizer


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny arch3 colorizer at input 16, saved as .keras with a run.json naming mode 'none'."""
    import json

    import keras

    from deepcolor.models import build_model

    keras.utils.set_random_seed(0)
    model = build_model("arch3", 16)
    path = tmp_path_factory.mktemp("run") / "model.keras"
    model.save(path)
    (path.parent / "run.json").write_text(json.dumps({"embedding_mode": "none"}))
    return path


@pytest.fixture
def gray_photo(tmp_path):
    import skimage.data

    path = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()).convert("L").crop((0, 0, 333, 250)).save(path)
    return path


def lightness(path):
    from skimage.color import rgb2lab

    return rgb2lab(np.asarray(Image.open(path).convert("RGB")))[..., 0]


def test_output_has_the_photos_size_and_lightness(model_path, gray_photo, tmp_path):
    written, skipped = colorize([gray_photo], tmp_path / "out", model_path, report=lambda _: None)
    assert written == [tmp_path / "out" / "coffee_colorized.png"] and skipped == []
    out = Image.open(written[0])
    assert out.size == (333, 250) and out.mode == "RGB"
    diff = np.abs(lightness(written[0]) - lightness(gray_photo))
    assert diff.mean() < 0.6 and np.percentile(diff, 99) < 2.0  # only colour was added


def test_colour_comes_from_the_model(model_path):
    """Predicted ab, upsampled, lands on the photo: a model forced to one colour tints everything."""
    import keras

    from deepcolor.models import build_model

    model = build_model("arch3", 16)
    last = model.layers[-2]  # the tanh conv before the final upsampling
    kernel, bias = last.get_weights()
    last.set_weights([np.zeros_like(kernel), np.array([0.3, -0.3], np.float32)])  # a = +38, b = -38
    rgb = Colorizer(model, "none").colorize_array(np.full((40, 56), 128, np.uint8))
    from deepcolor.color import rgb_to_lab

    lab = rgb_to_lab(rgb)
    assert rgb.shape == (40, 56, 3)
    np.testing.assert_allclose(lab[..., 1].mean(), 128 * np.tanh(0.3), atol=1.5)
    np.testing.assert_allclose(lab[..., 2].mean(), -128 * np.tanh(0.3), atol=1.5)
    assert keras.ops.shape(model.outputs[0])[-1] == 2


def test_never_overwrites_without_force(model_path, gray_photo, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "coffee_colorized.png"
    existing.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="--force"):
        colorize([gray_photo], out, model_path, report=lambda _: None)
    assert existing.read_bytes() == b"precious"
    colorize([gray_photo], out, model_path, force=True, report=lambda _: None)
    assert Image.open(existing).size == (333, 250)


def test_clear_errors_for_missing_and_incompatible_models(tmp_path):
    import keras

    with pytest.raises(FileNotFoundError, match="deepcolor train"):
        load_colorizer(tmp_path / "nope.keras")
    not_a_model = tmp_path / "junk.keras"
    not_a_model.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot load"):
        load_colorizer(not_a_model)
    x = keras.Input((8,))
    other = keras.Model(x, keras.layers.Dense(3)(x))
    other_path = tmp_path / "other.keras"
    other.save(other_path)
    with pytest.raises(ValueError, match="not a DeepColor colorization model"):
        load_colorizer(other_path)


def test_cli_colorize(model_path, gray_photo, tmp_path, capsys):
    assert main(["colorize", str(gray_photo), "-o", str(tmp_path / "o"), "--model", str(model_path)]) == 0
    assert (tmp_path / "o" / "coffee_colorized.png").is_file()
    assert main(["colorize", str(gray_photo), "-o", str(tmp_path / "o"), "--model", str(model_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["colorize", str(gray_photo), "-o", str(tmp_path / "o2"), "--model", str(tmp_path / "missing.keras")]) == 2
    assert "no model file" in capsys.readouterr().err


def test_unreadable_photo_is_reported_and_skipped(model_path, gray_photo, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    lines = []
    written, skipped = colorize([broken, gray_photo], tmp_path / "out", model_path, report=lines.append)
    assert [p.name for p in written] == ["coffee_colorized.png"]
    assert [path for path, _ in skipped] == [str(broken)]
    assert any("broken.jpg" in line and "skipped" in line for line in lines)


def test_two_photos_with_one_name_are_refused_before_writing(model_path, gray_photo, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    twin = other / "coffee.jpg"
    Image.open(gray_photo).save(twin)
    with pytest.raises(ValueError, match="same file name"):
        colorize([gray_photo, twin], tmp_path / "out", model_path, report=lambda _: None)
    assert not (tmp_path / "out").exists()


def test_unknown_recorded_mode_falls_back_to_the_default(tmp_path, model_path):
    import json
    import shutil

    from deepcolor.colorize import embedding_mode_of

    copy = tmp_path / "model.keras"
    shutil.copy(model_path, copy)
    (tmp_path / "run.json").write_text(json.dumps({"embedding_mode": "unknown"}))
    assert embedding_mode_of(copy) is None
    assert embedding_mode_of(model_path) == "none"


def test_conversion_in_bands_equals_the_whole_photo_at_once():
    """colorize converts big photos band by band to save memory: bands that do not divide the
    height must give exactly what one conversion of the whole photo gives."""
    import skimage.data

    from deepcolor.color import lab_parts_to_rgb, rgb_to_lab, split_lab
    from deepcolor.colorize import in_bands, lightness

    rgb = skimage.data.coffee()[:101, :77]
    L, ab = split_lab(rgb_to_lab(rgb))
    whole = lab_parts_to_rgb(L, ab)
    banded = in_bands(lab_parts_to_rgb, np.empty_like(whole), L, ab, band_pixels=77 * 7)  # 15 bands, last short
    np.testing.assert_array_equal(banded, whole)
    np.testing.assert_array_equal(lightness(rgb), L)


# ---------------------------------------------------------------- a classifier (notebook 11)


def tinted_classifier(bias):
    """A tiny arch3 classifier at input 16 whose class scores are ``bias`` (Q,) at every pixel."""
    from deepcolor.classify import build_classifier

    model = build_classifier("arch3", 16)
    head = model.get_layer("decoder_classes")
    kernel, _ = head.get_weights()
    head.set_weights([np.zeros_like(kernel), np.asarray(bias, np.float32)])
    return model


def bin_index(a, b):
    from deepcolor.ab_bins import ab_bins

    return int(np.flatnonzero((ab_bins() == (a, b)).all(axis=1))[0])


@pytest.fixture(scope="module")
def classifier_path(tmp_path_factory):
    """A classifier saved in a run folder whose record names its head: bin (20, -30) scores 4,
    bin (-20, 30) scores 2, every other bin 0; embeddings "none"."""
    import json

    from deepcolor.ab_bins import ab_bins
    from deepcolor.classify import ClassifierHead

    bias = np.zeros(len(ab_bins()), np.float32)
    bias[bin_index(20, -30)], bias[bin_index(-20, 30)] = 4.0, 2.0
    path = tmp_path_factory.mktemp("classify_run") / "model.keras"
    tinted_classifier(bias).save(path)
    record = {"embedding_mode": "none", "head": "classify", "classify": ClassifierHead().as_record()}
    (path.parent / "run.json").write_text(json.dumps(record))
    return path


def mean_ab(path):
    from skimage.color import rgb2lab

    lab = rgb2lab(np.asarray(Image.open(path).convert("RGB")))
    return lab[..., 1].mean(), lab[..., 2].mean()


def test_cli_colorizes_with_a_classifier_at_the_photos_size(classifier_path, gray_photo, tmp_path):
    assert main(["colorize", str(gray_photo), "-o", str(tmp_path / "o"), "--model", str(classifier_path)]) == 0
    out = tmp_path / "o" / "coffee_colorized.png"
    assert Image.open(out).size == (333, 250)  # the half-size prediction, upsampled to the photo
    diff = np.abs(lightness(out) - lightness(gray_photo))
    assert diff.mean() < 0.6 and np.percentile(diff, 99) < 2.0  # only colour was added
    a, b = mean_ab(out)
    assert a > 5 and b < -5  # the tint of the bin that scores highest


def test_cli_temperature_reads_the_distribution_from_mean_to_mode(classifier_path, gray_photo, tmp_path):
    """T = 1 is the mean over all 225 bins (near gray); a small T nears the mode, bin (20, -30)."""
    from deepcolor.ab_bins import ab_bins, annealed_mean

    chroma = {}
    for T in ("1", "0.05"):
        out = tmp_path / T
        assert main(["colorize", str(gray_photo), "-o", str(out), "--model", str(classifier_path),
                     "--temperature", T]) == 0
        chroma[T] = np.hypot(*mean_ab(out / "coffee_colorized.png"))
    assert chroma["0.05"] > chroma["1"] + 10
    probs = np.zeros(len(ab_bins()))
    probs[[bin_index(20, -30), bin_index(-20, 30)]] = [4.0, 2.0]
    probs = np.exp(probs) / np.exp(probs).sum()
    expected = annealed_mean(probs, ab_bins(), 0.05)
    np.testing.assert_allclose(chroma["0.05"], np.hypot(*expected), atol=2.5)


def test_a_classifier_in_python_gives_the_annealed_mean_upsampled(classifier_path):
    import keras

    from deepcolor.ab_bins import ab_bins, annealed_mean
    from deepcolor.resize import resize_images

    colorizer = Colorizer(classifier_path, temperature=0.2)
    assert colorizer.head == "classify" and colorizer.temperature == 0.2
    L = np.full((40, 56), 50, np.float32)
    ab = colorizer.predict_ab(L)
    assert ab.shape == (40, 56, 2)
    side = colorizer.model.inputs[0].shape[1]  # the classifier's probabilities by hand: annealed mean, upsampled
    x = resize_images(L[None, ..., None] / np.float32(100), side, side)
    probs = keras.ops.convert_to_numpy(colorizer.model([x, np.zeros((1, 1000), np.float32)], training=False))
    expected = resize_images(annealed_mean(probs, ab_bins(), 0.2), 40, 56)[0]
    np.testing.assert_allclose(ab, expected, atol=1e-3)
    assert Colorizer(classifier_path).temperature == 0.38  # Zhang et al.'s, by default
