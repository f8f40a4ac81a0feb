"""Tests of deepcolor.lessons.colour_as_classes: notebook 11's pictures and its temperature slider."""

from dataclasses import replace

import numpy as np
import pytest

from deepcolor import config
from deepcolor.classify import AnnealedColorizer, build_classifier
from deepcolor.lessons import colour_as_classes
from deepcolor.predict import predict_ab

CFG = config.Config(replace(config.PROFILES["smoke"], input_size=16))


@pytest.fixture(scope="module")
def photos():
    """(classifier, L (4, 24, 24) in [0, 100], embeddings (4, 1000)): an untrained arch3 classifier."""
    rng = np.random.default_rng(0)
    L = rng.uniform(0, 100, (4, 24, 24)).astype(np.float32)
    emb = rng.random((4, 1000)).astype(np.float32)
    return build_classifier("arch3", 16), L, emb


def test_mean_chroma():
    assert colour_as_classes.mean_chroma(np.zeros((2, 3, 3, 2))) == 0
    assert colour_as_classes.mean_chroma(np.full((1, 2, 2, 2), [3.0, 4.0])) == pytest.approx(5.0)


def test_side_by_side_has_a_row_per_model_labelled_with_its_chroma(photos):
    _, L, _ = photos
    preds = {"MSE (paper)": np.zeros(L.shape + (2,), np.float32),
             "classes": np.full(L.shape + (2,), [3.0, 4.0], np.float32)}
    fig = colour_as_classes.show_side_by_side(CFG, L, None, preds, max_images=3, titles=["a", "b", "c"])
    assert len(fig.axes) == 3 * 3  # gray input, two predictions; three columns
    labels = [ax.get_ylabel() for ax in fig.axes[::3]]
    assert labels == ["gray input\nchroma 0.0", "MSE (paper)\nchroma 0.0", "classes\nchroma 5.0"]
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]
    assert "NOT RESULTS" in fig._suptitle.get_text()
    with_truth = colour_as_classes.show_side_by_side(CFG, L, preds["classes"], preds, max_images=2)
    assert with_truth.axes[-2].get_ylabel().startswith("truth")


def test_temperature_figure_is_the_annealed_mean_at_that_temperature(photos):
    model, L, emb = photos
    fig = colour_as_classes.temperature_figure(CFG, model, L, emb, T=0.1, max_images=2)
    ab = predict_ab(AnnealedColorizer(model, 0.1), L, emb)
    assert fig.axes[2].get_ylabel() == f"T = 0.10\nchroma {colour_as_classes.mean_chroma(ab[:2]):.1f}"


def test_notebook_11s_temperature_slider_redraws_a_png_image(photos):
    """The slider cell of notebook 11: temperature_figure under sliders.figure_slider, an Image widget
    (not the Output widget of interact, which hangs nbconvert --execute), redrawn when T moves."""
    import ipywidgets as widgets

    from deepcolor.lessons import sliders

    model, L, emb = photos
    T = widgets.FloatLogSlider(0.38, base=10, min=-1.3, max=0, step=0.01, continuous_update=False)
    box = sliders.figure_slider(colour_as_classes.temperature_figure, T=T, cfg=CFG, model=model, L=L,
                                embedding=emb, titles=["x", "y"], max_images=2)
    image, message = box.children[-2:]
    assert isinstance(image, widgets.Image) and bytes(image.value).startswith(b"\x89PNG") and message.value == ""
    assert not any(isinstance(w, widgets.Output) for w in box.children)
    first = bytes(image.value)
    T.value = 1.0
    assert bytes(image.value).startswith(b"\x89PNG") and bytes(image.value) != first and message.value == ""
