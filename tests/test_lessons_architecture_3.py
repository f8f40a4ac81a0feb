"""deepcolor.lessons.architecture_3: receptive fields and latency (notebook 07).

Training tests use 12 random 32x32 images at input 16 for one epoch, in a private runs folder
(the fixtures ``tiny`` and ``lesson`` in tests/conftest.py).
"""

import matplotlib

matplotlib.use("Agg")

from dataclasses import replace  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepcolor import config, paper  # noqa: E402
from deepcolor.lessons import architecture_3  # noqa: E402

from figure_checks import texts_of  # noqa: E402


def test_receptive_field_of_a_tiny_network_by_hand(monkeypatch):
    # encoder: 3x3 stride 2 (3 pixels, step 2), then 3x3 (3 + 2 * 2 = 7 pixels);
    # decoder: upsampling x2, then 3x3: it reads 3 upsampled pixels = 2 encoder pixels, two steps
    # of 2 apart: 7 + 2 = 9 input pixels, whatever the position
    tiny = {"encoder": (("conv", 8, 3, 2), ("conv", 8, 3, 1)), "fusion": (("fuse", 1000),),
            "decoder": (("up",), ("conv", 2, 3, 1))}
    monkeypatch.setitem(paper.TABLES, "arch3", tiny)
    assert architecture_3.receptive_field("arch3") == (7, 9, 9)
    monkeypatch.setitem(paper.TABLES, "arch3", {**tiny, "encoder": (("conv", 8, 1, 1),), "decoder": ()})
    assert architecture_3.receptive_field("arch3") == (1, 1, 1)  # a 1x1 convolution sees its own pixel


# by hand: 1 + 2 * (sum over the encoder's 3x3 convs of the product of the strides before each);
# the output's range is what a gradient through the built model shows (next test)


KNOWN_FIELDS = {"base": (75, 115, 107), "arch1": (47, 87, 79), "arch2": (47, 87, 79), "arch3": (47, 87, 79)}


@pytest.mark.parametrize("name", paper.ARCHITECTURES)
def test_receptive_field_of_the_known_architectures(name):
    assert architecture_3.receptive_field(name) == KNOWN_FIELDS[name]
    encoder_convs = [row for row in paper.TABLES[name]["encoder"] if row[0] == "conv"]
    steps = [int(np.prod([r[3] for r in encoder_convs[:i]])) for i in range(len(encoder_convs))]
    assert architecture_3.receptive_field(name).encoder == 1 + 2 * sum(steps)


@pytest.mark.parametrize("name", ["base", "arch3"])
def test_receptive_field_matches_the_gradient_of_the_built_model(name):
    """Oracle: with every kernel positive and biases 0, ReLU passes everything, so the gradient of
    one output pixel is positive exactly on the input pixels that can change it."""
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the gradient oracle uses tf.GradientTape")
    import tensorflow as tf

    from deepcolor import models

    size, positions = 144, list(range(64, 72))  # one period of the 8-pixel upsampling pattern, far from the borders
    model = models.build_model(name, size)
    for layer in model.layers:
        if layer.weights:
            kernel, bias = layer.weights
            kernel.assign(np.full(kernel.shape, 1.0 / np.prod(kernel.shape[:-1]), np.float32))
            bias.assign(np.zeros(bias.shape, np.float32))
    encoder_out = [r["name"] for r in models.layer_table(name) if r["stage"] == "encoder"][-1]
    encoder = keras.Model(model.inputs[0], model.get_layer(encoder_out).output)
    x = tf.Variable(np.full((len(positions), size, size, 1), 0.5, np.float32))
    with tf.GradientTape(persistent=True) as tape:
        out = model([x, tf.zeros((len(positions), 1000))])
        enc = encoder(x)
        picked = tf.add_n([out[i, p, p, 0] for i, p in enumerate(positions)])
        picked_enc = tf.add_n([enc[i, p // 8, p // 8, 0] for i, p in enumerate(positions)])

    def widths(grad):
        return [int(np.ptp(np.flatnonzero(grad[i, p] > 0))) + 1 for i, p in enumerate(positions)]

    rf = architecture_3.receptive_field(name)
    output_widths = widths(tape.gradient(picked, x).numpy())
    assert (min(output_widths), max(output_widths)) == (rf.output_min, rf.output)
    assert set(widths(tape.gradient(picked_enc, x).numpy())) == {rf.encoder}


def test_receptive_field_table_and_figure():
    table = architecture_3.receptive_field_table()
    assert list(table.index) == list(paper.ARCHITECTURES)
    assert table.loc["base", "encoder field (px)"] == 75 and table.loc["base", "encoder map"] == "28x28x256"
    assert table.loc["arch3", "output field, largest (px)"] == 87
    fig = architecture_3.receptive_field_figure(np.full((64, 64), 50.0, np.float32), caption="where")
    assert len(fig.axes) == 4 and "75 px" in fig.axes[0].get_title() and fig._suptitle.get_text() == "where"
    assert len(fig.axes[0].patches) == 2


def test_latency_is_positive_for_every_architecture():
    table = architecture_3.latency(sizes=(16, 32), repeats=2)
    assert list(table.index) == list(paper.ARCHITECTURES)
    assert list(table.columns) == ["ms @ 16", "ms @ 32"]
    assert (table.to_numpy() > 0).all() and np.isfinite(table.to_numpy()).all()
    with pytest.raises(ValueError, match="repeats"):
        architecture_3.latency(("arch3",), repeats=0)


def test_speed_table_columns_and_figure():
    from deepcolor import models

    cfg = config.Config(replace(config.PROFILES["smoke"], input_size=16))
    table = architecture_3.speed_table(cfg, names=("arch2", "arch3"), repeats=1)
    assert list(table.columns) == ["params", "GFLOP @ 16", "ms @ 16", "GFLOP/s @ 16",
                                   "GFLOP @ 224", "ms @ 224", "GFLOP/s @ 224"]
    assert table.loc["arch3", "params"] == paper.PAPER_PARAMS["arch3"]
    assert table.loc["arch2", "GFLOP @ 224"] == pytest.approx(models.flops("arch2", 224) / 1e9)
    assert table.loc["arch3", "GFLOP/s @ 224"] == pytest.approx(table.loc["arch3", "GFLOP @ 224"]
                                                                / table.loc["arch3", "ms @ 224"] * 1000)
    assert "this machine" in table.attrs["caption"] and "'smoke'" in table.attrs["caption"]
    assert architecture_3.show_speed_table(table).caption == table.attrs["caption"]
    fig = architecture_3.latency_figure(table)
    assert fig.axes[0].get_xscale() == "log" and "this machine" in texts_of(fig)
