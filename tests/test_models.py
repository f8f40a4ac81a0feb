"""Tests of deepcolor.models: the four architectures, fusion, cost figures, receptive fields."""

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from deepcolor import models
from deepcolor.models import FuseEmbedding, build_model
from deepcolor.paper import ARCHITECTURES, FORWARD_GFLOPS, PAPER_PARAMS, TABLES

REPO = Path(__file__).resolve().parents[1]


def _inputs(n, size, seed=0):
    rng = np.random.default_rng(seed)
    L = rng.random((n, size, size, 1), dtype=np.float32)
    embedding = rng.standard_normal((n, 1000)).astype("float32")
    return L, embedding


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_parameter_counts_equal_the_paper_and_the_layer_table(name):
    model = build_model(name)
    assert model.name == name
    assert model.count_params() == PAPER_PARAMS[name]
    table = models.layer_table(name)
    assert sum(row["params"] for row in table) == PAPER_PARAMS[name]
    # every row of the table is the layer that was built, with its weights and shape
    for row in table:
        layer = model.get_layer(row["name"])
        assert layer.count_params() == row["params"], row["name"]
        h, w, c = (int(v) for v in row["output"].split("x"))
        assert tuple(layer.output.shape) == (None, h, w, c), row["name"]
    assert table[-1]["output"] == "224x224x2"


def test_inputs_activations_and_padding():
    model = build_model("arch1", 32)
    assert [t.name for t in model.inputs] == ["L", "embedding"]
    assert [tuple(t.shape) for t in model.inputs] == [(None, 32, 32, 1), (None, 1000)]
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 12
    assert all(c.padding == "same" for c in convs)
    assert [c.activation.__name__ for c in convs] == ["relu"] * 11 + ["tanh"]
    assert [layer.name for layer in model.layers if isinstance(layer, FuseEmbedding)] == ["fusion_fuse1"]


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize("size", [32, 64])
def test_output_shape_and_tanh_range(name, size):
    L, embedding = _inputs(2, size)
    out = keras.ops.convert_to_numpy(build_model(name, size)([L * 50, embedding * 50]))
    assert out.shape == (2, size, size, 2)
    assert np.all(np.abs(out) <= 1.0)
    assert np.abs(out).max() > 0.5  # large inputs saturate toward +-1: the tanh is there
    assert out.std() > 0


def test_model_without_fixed_size_runs_at_any_multiple_of_8():
    model = build_model("arch3", None)
    for size in (32, 48):
        out = model(list(_inputs(1, size)))
        assert tuple(out.shape) == (1, size, size, 2)


def test_fusion_uses_the_embedding():
    model = build_model("arch3", 32)
    L, e1 = _inputs(1, 32, seed=1)
    _, e2 = _inputs(1, 32, seed=2)
    out1 = keras.ops.convert_to_numpy(model([L, e1]))
    out1_again = keras.ops.convert_to_numpy(model([L, e1]))
    out2 = keras.ops.convert_to_numpy(model([L, e2]))
    np.testing.assert_array_equal(out1, out1_again)
    assert np.abs(out1 - out2).max() > 1e-3


def test_fuse_embedding_tiles_the_embedding_at_every_pixel():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((2, 3, 5, 4)).astype("float32")  # non-square on purpose
    embedding = rng.standard_normal((2, 7)).astype("float32")
    out = keras.ops.convert_to_numpy(FuseEmbedding()([features, embedding]))
    assert out.shape == (2, 3, 5, 11)
    np.testing.assert_array_equal(out[..., :4], features)
    for n in range(2):
        for i in range(3):
            for j in range(5):
                np.testing.assert_array_equal(out[n, i, j, 4:], embedding[n])
    assert FuseEmbedding().compute_output_shape(((None, 3, 5, 4), (None, 7))) == (None, 3, 5, 11)


def test_l2_adds_one_regularisation_loss_per_conv():
    L, embedding = _inputs(1, 32)
    plain = build_model("arch3", 32)
    assert plain.losses == []
    model = build_model("arch3", 32, l2=0.01)
    model([L, embedding])
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(model.losses) == len(convs) == 11
    expected = sum(0.01 * np.sum(keras.ops.convert_to_numpy(c.kernel) ** 2) for c in convs)
    total = sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses)
    assert total == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("l2", [-0.1, "0.01", float("nan")])
def test_bad_l2_is_refused(l2):
    with pytest.raises(ValueError, match="l2 must be a number >= 0"):
        build_model("arch3", 32, l2=l2)


def test_unknown_name_lists_the_valid_ones():
    for call in (lambda: build_model("resnet"), lambda: models.flops("Base"),
                 lambda: models.layer_table("arch4"), lambda: models.describe("")):
        with pytest.raises(ValueError, match="base, arch1, arch2, arch3"):
            call()


@pytest.mark.parametrize("size", [30, 225, 0, -8, 224.0, "224", True])
def test_input_size_must_be_a_multiple_of_8(size):
    with pytest.raises(ValueError, match="multiple of 8") as info:
        build_model("arch3", size)
    assert "resize or crop" in str(info.value)
    with pytest.raises(ValueError, match="multiple of 8"):
        models.flops("arch3", size)
    with pytest.raises(ValueError, match="multiple of 8"):
        models.layer_table("arch3", None)


def test_save_and_load_round_trip(tmp_path):
    model = build_model("arch3", 32, l2=0.001)
    path = tmp_path / "arch3.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode stays on
    assert isinstance(loaded.get_layer("fusion_fuse1"), FuseEmbedding)
    assert loaded.name == "arch3" and loaded.count_params() == model.count_params()
    L, embedding = _inputs(3, 32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded([L, embedding])),
                                  keras.ops.convert_to_numpy(model([L, embedding])))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_flops_match_the_design_figures_and_scale_with_area(name):
    gflops = models.flops(name) / 1e9
    assert gflops == pytest.approx(FORWARD_GFLOPS[name], rel=0.03)
    assert models.flops(name, 448) == 4 * models.flops(name)
    assert models.flops(name, 112) * 4 == models.flops(name)
    assert models.flops(name) == sum(row["flops"] for row in models.layer_table(name))


def test_flops_of_single_layers_by_hand():
    table = {row["name"]: row for row in models.layer_table("base")}
    assert table["encoder_conv1"]["flops"] == 2 * 112 * 112 * 3 * 3 * 1 * 64
    assert table["fusion_conv1"]["flops"] == 2 * 28 * 28 * 1 * 1 * (256 + 1000) * 256
    assert table["fusion_fuse1"]["output"] == "28x28x1256"
    assert table["decoder_up1"]["flops"] == table["decoder_up1"]["params"] == 0


def test_describe_and_layer_table_for_pandas():
    pd = pytest.importorskip("pandas")
    info = models.describe("arch2")
    assert info["params"] == info["paper_params"] == PAPER_PARAMS["arch2"] and info["matches_paper"]
    assert info["flops"] == models.flops("arch2") and info["gflops"] == pytest.approx(FORWARD_GFLOPS["arch2"], rel=0.01)
    frame = pd.DataFrame(models.layer_table("arch2", 64))
    assert list(frame.columns) == ["stage", "name", "layer", "filters", "kernel", "stride",
                                   "output", "params", "flops"]
    assert list(frame.stage.unique()) == ["encoder", "fusion", "decoder"]
    assert frame.params.sum() == PAPER_PARAMS["arch2"]  # parameters do not depend on the image size
    assert frame.output.iloc[-1] == "64x64x2"


_OTHER_BACKEND_SCRIPT = textwrap.dedent("""
    import numpy as np, keras
    from deepcolor.models import build_model
    from deepcolor.paper import PAPER_PARAMS
    assert keras.backend.backend() == "{backend}"
    model = build_model("arch3", 32, l2=0.001)
    assert model.count_params() == PAPER_PARAMS["arch3"]
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    L = rng.random((2, 32, 32, 1), dtype=np.float32)
    emb = rng.random((2, 1000), dtype=np.float32)
    ab = rng.uniform(-1, 1, (2, 32, 32, 2)).astype("float32")
    before = keras.ops.convert_to_numpy(model([L, emb]))
    loss = model.train_on_batch([L, emb], ab)
    after = keras.ops.convert_to_numpy(model([L, emb]))
    assert after.shape == (2, 32, 32, 2) and np.isfinite(loss) and not np.allclose(before, after)
    print("OK", keras.backend.backend(), float(loss))
""")


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_builds_and_trains_on_other_backends(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed; `pip install {backend}` to test this backend")
    env = dict(os.environ, KERAS_BACKEND=backend,
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-c", _OTHER_BACKEND_SCRIPT.format(backend=backend)],
                            env=env, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"OK {backend}" in result.stdout


# --- receptive fields (notebook 07) ---------------------------------------------------------------

def test_receptive_field_of_a_tiny_network_by_hand(monkeypatch):
    # encoder: 3x3 stride 2 (3 pixels, step 2), then 3x3 (3 + 2 * 2 = 7 pixels);
    # decoder: upsampling x2, then 3x3: it reads 3 upsampled pixels = 2 encoder pixels, two steps
    # of 2 apart: 7 + 2 = 9 input pixels, whatever the position
    tiny = {"encoder": (("conv", 8, 3, 2), ("conv", 8, 3, 1)), "fusion": (("fuse", 1000),),
            "decoder": (("up",), ("conv", 2, 3, 1))}
    monkeypatch.setitem(TABLES, "arch3", tiny)
    assert models.receptive_field("arch3") == (7, 9, 9)
    monkeypatch.setitem(TABLES, "arch3", {**tiny, "encoder": (("conv", 8, 1, 1),), "decoder": ()})
    assert models.receptive_field("arch3") == (1, 1, 1)  # a 1x1 convolution sees its own pixel
    # the exact input pixels: a 3x3 conv reads its neighbours; with stride 2 it starts at 2 x the position
    assert models.receptive_interval((("conv", 8, 3, 1),), 5) == (4, 6)
    assert models.receptive_interval((("conv", 8, 3, 2),), 5) == (10, 12)
    assert models.receptive_interval((("up",), ("conv", 8, 3, 1)), 5) == (2, 3)


# by hand: 1 + 2 * (sum over the encoder's 3x3 convs of the product of the strides before each);
# the output's range is what a gradient through the built model shows (next test)


KNOWN_FIELDS = {"base": (75, 115, 107), "arch1": (47, 87, 79), "arch2": (47, 87, 79), "arch3": (47, 87, 79)}


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_receptive_field_of_the_known_architectures(name):
    assert models.receptive_field(name) == KNOWN_FIELDS[name]
    encoder_convs = [row for row in TABLES[name]["encoder"] if row[0] == "conv"]
    steps = [int(np.prod([r[3] for r in encoder_convs[:i]])) for i in range(len(encoder_convs))]
    assert models.receptive_field(name).encoder == 1 + 2 * sum(steps)


@pytest.mark.parametrize("name", ["base", "arch3"])
def test_receptive_field_matches_the_gradient_of_the_built_model(name):
    """Oracle: with every kernel positive and biases 0, ReLU passes everything, so the gradient of
    one output pixel is positive exactly on the input pixels that can change it."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the gradient oracle uses tf.GradientTape")
    import tensorflow as tf

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

    rf = models.receptive_field(name)
    output_widths = widths(tape.gradient(picked, x).numpy())
    assert (min(output_widths), max(output_widths)) == (rf.output_min, rf.output)
    assert set(widths(tape.gradient(picked_enc, x).numpy())) == {rf.encoder}
