"""The paper's four colorization networks, built from their layer tables.

The layer tables are data, in ``deepcolor.paper.TABLES`` (no Keras there): three stages
(encoder, fusion, decoder), each a tuple of rows

- ``("conv", filters, kernel, stride)``: ``Conv2D``, ``padding="same"``, ReLU
  (tanh for the last conv of the network);
- ``("up",)``: ``UpSampling2D(2)``, doubles height and width;
- ``("fuse", 1000)``: tile the 1000-d image embedding over the feature map and
  concatenate it on the channel axis (``FuseEmbedding``).

``build_model`` turns a table into a Keras model; ``layer_table``, ``flops``,
``describe`` and ``receptive_field`` read the same table, so the numbers shown in
the notebooks are the numbers of the model that is trained.  Notebook 04 introduces the base model, the
next ones the three smaller architectures (``paper.ARCHITECTURE_NOTEBOOKS``).

Model inputs: ``[L_scaled (N, H, W, 1) float32 in [0, 1], embedding (N, 1000)
float32]``; output: ``ab_scaled (N, H, W, 2)`` in [-1, 1] (tanh, ab / 128).
"""

import numbers
from typing import NamedTuple

import keras
from keras import ops

from . import paper


@keras.saving.register_keras_serializable(package="deepcolor")
class FuseEmbedding(keras.layers.Layer):
    """Tile a per-image embedding over a feature map and concatenate (notebook 04).

    Call on ``[features, embedding]``: features ``(N, h, w, C)``, embedding
    ``(N, E)`` -> ``(N, h, w, C + E)``, where ``out[n, i, j, C:] == embedding[n]``
    at every pixel.  ``h`` and ``w`` are read at run time, so one model serves
    any input size.  The layer has no weights.
    """

    def call(self, inputs):
        features, embedding = inputs
        embedding = ops.cast(embedding, features.dtype)
        per_pixel = ops.expand_dims(ops.expand_dims(embedding, 1), 1)  # (N, 1, 1, E)
        shape = ops.shape(features)
        tiled = ops.broadcast_to(per_pixel, (shape[0], shape[1], shape[2], ops.shape(embedding)[-1]))
        return ops.concatenate([features, tiled], axis=-1)

    def compute_output_shape(self, input_shape):
        features, embedding = input_shape
        channels = None if None in (features[-1], embedding[-1]) else features[-1] + embedding[-1]
        return (*features[:-1], channels)


def _check_size(input_size, allow_none=False):
    if input_size is None and allow_none:
        return None
    ok = isinstance(input_size, numbers.Integral) and not isinstance(input_size, bool)
    if not ok or input_size < 8 or input_size % 8:
        nearest = max(8, 8 * round(int(input_size) / 8)) if ok else 224
        raise ValueError(
            f"input_size must be a positive multiple of 8 (the encoder halves the image three "
            f"times), got {input_size!r}; resize or crop the images to e.g. {nearest}")
    return int(input_size)


def _layers(name):
    """Yield ``(stage, layer_name, row)`` for every layer of ``name``, in order."""
    paper.check_architecture(name)
    for stage, rows in paper.TABLES[name].items():
        counts = {}
        for row in rows:
            counts[row[0]] = counts.get(row[0], 0) + 1
            yield stage, f"{stage}_{row[0]}{counts[row[0]]}", row


HEADS = ("mse", "classify")
"""The heads :func:`build_model` puts on the trunk: "mse" (the paper's tanh conv to ab / 128)
or "classify" (Zhang et al. 2016: softmax over colour bins, ``deepcolor.classify``)."""


def build_model(name, input_size=224, l2=0.0, head="mse", n_bins=None):
    """Build architecture ``name`` as a Keras functional model (notebooks 04-07).

    name: one of ``paper.ARCHITECTURES``.  input_size: side of the square input, a
    multiple of 8 (224 in the paper), or None for a model that accepts any
    multiple of 8 at run time.  l2: L2 weight on every conv kernel (0 = none).

    Inputs ``[L (N, S, S, 1) float32 in [0, 1], embedding (N, 1000) float32]``,
    named "L" and "embedding"; output ``(N, S, S, 2)`` ab / 128 in [-1, 1].
    The model is named ``name``; its layers as in ``layer_table(name)``.

    head="classify" (notebook 11_colour_as_classes, via ``deepcolor.classify.build_classifier``)
    keeps the same trunk but replaces the last conv (2 filters, tanh) by a 1x1 conv
    "decoder_classes" with ``n_bins`` filters and softmax, and drops the final upsampling:
    output ``(N, S/2, S/2, n_bins)``, each pixel's probabilities summing to 1; the model is
    named ``name + "_classify"``.  The default "mse" head is the paper's network, unchanged.
    """
    paper.check_architecture(name)
    size = _check_size(input_size, allow_none=True)
    if not isinstance(l2, (int, float)) or not l2 >= 0:
        raise ValueError(f"l2 must be a number >= 0 (0 turns it off), got {l2!r}")
    if head not in HEADS:
        raise ValueError(f"head must be one of {', '.join(HEADS)}, got {head!r}")
    classify = head == "classify"
    if classify and not (isinstance(n_bins, numbers.Integral) and n_bins >= 2):
        raise ValueError(f"head='classify' needs n_bins, an integer >= 2 (Q colour bins), got {n_bins!r}; "
                         "use deepcolor.classify.build_classifier, which reads it from ab_bins()")
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    rows = list(_layers(name))
    if classify and rows[-1][2][0] == "up":
        rows = rows[:-1]  # predict at the decoder's resolution before the last upsampling
    last_conv = max(i for i, (_, _, row) in enumerate(rows) if row[0] == "conv")

    L = keras.Input((size, size, 1), name="L")
    embedding = keras.Input((paper.EMBEDDING_SIZE,), name="embedding")
    x = L
    for i, (_, layer_name, row) in enumerate(rows):
        if row[0] == "conv" and classify and i == last_conv:
            x = keras.layers.Conv2D(n_bins, 1, padding="same", activation="softmax",
                                    kernel_regularizer=regularizer, name="decoder_classes")(x)
        elif row[0] == "conv":
            _, filters, kernel, stride = row
            x = keras.layers.Conv2D(
                filters, kernel, strides=stride, padding="same",
                activation="tanh" if i == last_conv else "relu",
                kernel_regularizer=regularizer, name=layer_name)(x)
        elif row[0] == "up":
            x = keras.layers.UpSampling2D(2, name=layer_name)(x)
        else:
            x = FuseEmbedding(name=layer_name)([x, embedding])
    return keras.Model([L, embedding], x, name=f"{name}_classify" if classify else name)


def layer_table(name, input_size=224):
    """The layers of ``name`` as rows for ``pandas.DataFrame`` (notebooks 04-07).

    One dict per layer: stage, name (the Keras layer name), layer (in words),
    filters, kernel, stride (ints; "" where not a conv, so pandas shows ints),
    output ("HxWxC" at ``input_size``), params, flops (forward, per image:
    2 * H * W * k * k * Cin * Cout for a conv; upsampling and fusion count 0).
    The params column sums to the model's parameter count.
    """
    h = _check_size(input_size)
    channels, table = 1, []
    for stage, layer_name, row in _layers(name):
        filters = kernel = stride = ""
        params = flops_ = 0
        if row[0] == "conv":
            _, filters, kernel, stride = row
            h //= stride
            params = kernel * kernel * channels * filters + filters
            flops_ = 2 * h * h * kernel * kernel * channels * filters
            channels = filters
            words = f"conv {kernel}x{kernel}, {filters}" + (", stride 2" if stride == 2 else "")
        elif row[0] == "up":
            h *= 2
            words = "upsample x2"
        else:
            channels += row[1]
            words = f"tile + concat {row[1]}-d embedding"
        table.append({"stage": stage, "name": layer_name, "layer": words, "filters": filters,
                      "kernel": kernel, "stride": stride, "output": f"{h}x{h}x{channels}",
                      "params": params, "flops": flops_})
    return table


def flops(name, input_size=224):
    """Forward FLOPs for one ``input_size`` x ``input_size`` image (notebooks 04-07).

    Convolutions only, a multiply-add counted as 2 FLOPs (bias adds, activations,
    upsampling and concatenation are under 0.1% and left out).  Reproduces the
    design figures at 224, ``paper.FORWARD_GFLOPS``.  Training costs about 3x the forward pass.  Scales with ``input_size ** 2``.
    """
    return sum(row["flops"] for row in layer_table(name, input_size))


def describe(name, input_size=224):
    """Size and cost of ``name`` beside the paper's parameter count, ``paper.PAPER_PARAMS`` (notebooks 04-07).

    Returns a dict: name, input_size, params (from the layer table, equal to the
    built model's), paper_params, matches_paper (bool), flops (forward, per image),
    gflops (flops / 1e9).
    """
    table = layer_table(name, input_size)
    params = sum(row["params"] for row in table)
    total = sum(row["flops"] for row in table)
    return {"name": name, "input_size": input_size, "params": params,
            "paper_params": paper.PAPER_PARAMS[name], "matches_paper": params == paper.PAPER_PARAMS[name],
            "flops": total, "gflops": total / 1e9}


class ReceptiveField(NamedTuple):
    """Receptive fields of one architecture (notebook 07_architecture_3): the side, in input pixels, of
    the square of input pixels whose values can change one pixel, through the convolutions alone.

    encoder: one pixel of the encoder's last feature map (28x28 at a 224 input).
    output: one pixel of the final output, the largest over positions; output_min: the smallest (nearest-
    neighbour upsampling copies each pixel twice, so neighbouring output pixels can see a few pixels less).
    """

    encoder: int
    output: int
    output_min: int


def receptive_interval(rows, position):
    """(first, last): the input pixels (1-D: kernels and strides are square) that can change position
    ``position`` of the last layer of ``rows``, rows of ``paper.TABLES`` (notebook 07_architecture_3).

    Going back through the layers, a conv of kernel k, stride s, padding "same" reads inputs
    ``o*s - pad`` to ``o*s - pad + k - 1`` with pad = max(k - s, 0) // 2 (Keras' "same" on a side
    that s divides); ``UpSampling2D(2)`` reads input ``o // 2``; the fusion adds no spatial
    neighbours.  Positions are not clipped to an image: far from its borders."""
    first = last = position
    for row in reversed(rows):
        if row[0] == "conv":
            _, _, k, s = row
            pad = max(k - s, 0) // 2
            first, last = first * s - pad, last * s - pad + k - 1
        elif row[0] == "up":
            first, last = first // 2, last // 2
    return first, last


def _field_widths(rows):
    """Widths of :func:`receptive_interval` over a few periods of the upsampling pattern (every width
    one position of the last layer can have)."""
    period = 2 ** (sum(row[0] == "up" for row in rows) + 2)
    return [last - first + 1 for first, last in (receptive_interval(rows, o) for o in range(period, 2 * period))]


def receptive_field(name):
    """The receptive field of architecture ``name`` (notebook 07_architecture_3): a :class:`ReceptiveField`,
    in input pixels, computed from its layer table (``paper.TABLES``): 3x3 convolutions widen it by 2
    steps of the current stride product, stride 2 doubles that step, upsampling halves it.  The
    fusion's embedding is left out: through it every pixel also depends on the whole image."""
    paper.check_architecture(name)
    stages = paper.TABLES[name]
    every = [row for rows in stages.values() for row in rows]
    output = _field_widths(every)
    return ReceptiveField(max(_field_widths(list(stages["encoder"]))), max(output), min(output))
