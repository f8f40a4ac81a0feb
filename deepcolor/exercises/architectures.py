"""The checkable exercises of notebooks 04_base_model to 07_architecture_3 (see :mod:`deepcolor.exercises`)."""

from __future__ import annotations

import math
from functools import partial

from ..paper import EMBEDDING_SIZE, PAPER_EPOCHS, PAPER_RESULTS, PAPER_SETTING
from .registry import Exercise, close_to, register, training_images


def _cost_ratio(quantity: str, arch: str, other: str) -> float:
    """``quantity`` ("params", or "flops": forward, per 224x224 image) of ``arch`` over ``other``'s,
    from the layer tables (:func:`deepcolor.models.describe`)."""
    from ..models import describe

    return describe(arch)[quantity] / describe(other)[quantity]


# --- notebook 04 ---
def _fusion_conv1_params() -> int:
    """Parameters of the base model's first 1x1 fusion convolution, from its layer table."""
    from ..models import layer_table

    return next(row["params"] for row in layer_table("base") if row["name"] == "fusion_conv1")


def _optimizer_steps(cfg) -> tuple:
    """(the paper's weight updates, this profile's base-model run's): epochs x batches per epoch.
    The paper: 2,500 epochs of its 15,000 training photos (60 % of 25,000) in batches of 5 (figure 20)."""
    batch = next(r.batch for r in PAPER_RESULTS if r.figure == 20)
    paper_steps = PAPER_EPOCHS * math.ceil(PAPER_SETTING["images"] * 6 // 10 / batch)  # §4.1: 60 % to train
    return (paper_steps, cfg.profile.epochs * math.ceil(training_images(cfg) / cfg.profile.batch_size))


register(
    Exercise("04.1", "How many parameters does fusion_conv1 have (a 1x1 convolution from 1256 to 256 channels, "
             "with biases)?",
             close_to(_fusion_conv1_params, rel=0),
             "a 1x1 kernel has one weight per input channel for each output channel, and each output channel "
             "has one bias."),
    Exercise("04.2", "How many weight updates (optimizer steps) did the paper's training make, and how many does "
             "this notebook's training run make? Answer (paper, this run).",
             close_to(_optimizer_steps, rel=0), profile=True,
             hint="one step per batch: epochs x batches per epoch, and a last, smaller batch still counts as a "
                  "step. The paper: 2,500 epochs of 15,000 training photos in batches of 5; this run: "
                  "cfg.profile.epochs, len(split.train) and cfg.profile.batch_size."),
)

# --- notebook 05 ---
register(
    Exercise("05.1", "What share of the base model's parameters does arch1 keep (a fraction between 0 and 1)?",
             close_to(partial(_cost_ratio, "params", "arch1", "base")),
             "divide arch1's params by the base model's, both in the cost table (or models.describe(name))."),
    Exercise("05.2", "What share of the base model's forward FLOPs per 224x224 image does arch1 need (a fraction)?",
             close_to(partial(_cost_ratio, "flops", "arch1", "base")),
             "divide the two numbers of the 'GFLOP @ 224' column of the cost table (or models.flops(name, 224))."),
)

# --- notebook 06 ---
def _fusion_conv(part: str, arch: str = "arch2") -> int:
    """Of the first convolution after the fusion's concatenation: ``part`` "inputs" (the channels it
    reads) or "embedding weights" (its weights that multiply the embedding: embedding x filters)."""
    from ..models import layer_table

    rows = layer_table(arch)
    fuse = next(i for i, row in enumerate(rows) if row["layer"].startswith("tile"))
    if part == "inputs":
        return int(rows[fuse]["output"].split("x")[-1])
    return EMBEDDING_SIZE * int(rows[fuse + 1]["filters"])


register(
    Exercise("06.1", "How many channels does arch2's first fusion convolution read at each position of its 28x28 map?",
             close_to(partial(_fusion_conv, "inputs"), rel=0),
             "the encoder's last convolution gives some channels, and the tiled embedding adds one channel "
             "per entry of its vector."),
    Exercise("06.2", "How many of arch2's weights multiply the embedding (and see only zeros in mode 'none')?",
             close_to(partial(_fusion_conv, "embedding weights"), rel=0),
             "a 1x1 convolution has one weight per (input channel, filter) pair; count only the embedding's "
             "input channels of the first fusion convolution (no biases)."),
)

# --- notebook 07 ---
def _encoder_field(arch: str = "arch3") -> int:
    from ..models import receptive_field

    return receptive_field(arch).encoder


register(
    Exercise("07.1", "How wide (in input pixels) is the receptive field of one pixel of arch3's encoder output?",
             close_to(_encoder_field, rel=0),
             "start at 1 pixel; each 3x3 convolution adds 2 x (the product of the strides before it); "
             "or read the receptive-field table."),
    Exercise("07.2", "How many times more forward FLOPs per 224x224 photo does the base model need than arch3?",
             close_to(partial(_cost_ratio, "flops", "base", "arch3"), rel=0.02),
             "divide the base model's 'GFLOP @ 224' by arch3's, in the speed table."),
)
