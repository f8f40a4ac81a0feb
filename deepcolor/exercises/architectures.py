"""The checkable exercises of notebooks 04_base_model to 07_architecture_3 (see :mod:`deepcolor.exercises`)."""

from __future__ import annotations

import math

from . import Exercise, close_to, register

# --- notebook 04 ---
def _fusion_conv1_params() -> int:
    """Parameters of the base model's first 1x1 fusion convolution, from its layer table."""
    from ..models import layer_table

    return next(row["params"] for row in layer_table("base") if row["name"] == "fusion_conv1")


def _optimizer_steps(cfg) -> tuple:
    """(the paper's weight updates, this profile's base-model run's): epochs x batches per epoch.
    The paper: 2,500 epochs of its 15,000 training photos (60 % of 25,000) in batches of 5 (figure 20)."""
    from ..paper import PAPER_SETTING
    from ..paper import PAPER_EPOCHS, PAPER_RESULTS

    batch = next(r.batch for r in PAPER_RESULTS if r.figure == 20)
    paper_steps = PAPER_EPOCHS * math.ceil(PAPER_SETTING["images"] * 6 // 10 / batch)  # §4.1: 60 % to train
    n_train = len(cfg.split(cfg.dataset()).train)
    return (paper_steps, cfg.profile.epochs * math.ceil(n_train / cfg.profile.batch_size))


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
def _nb05_params_share() -> float:
    """arch1's parameters as a share of the base model's."""
    from ..models import describe

    return describe("arch1")["params"] / describe("base")["params"]


def _nb05_flops_share() -> float:
    """arch1's forward FLOPs per 224x224 image as a share of the base model's."""
    from ..models import flops

    return flops("arch1", 224) / flops("base", 224)


register(
    Exercise("05.1", "What share of the base model's parameters does arch1 keep (a fraction between 0 and 1)?",
             close_to(_nb05_params_share),
             "divide arch1's params by the base model's, both in the cost table (or models.describe(name))."),
    Exercise("05.2", "What share of the base model's forward FLOPs per 224x224 image does arch1 need (a fraction)?",
             close_to(_nb05_flops_share),
             "divide the two numbers of the 'GFLOP @ 224' column of the cost table (or models.flops(name, 224))."),
)

# --- notebook 06 ---
def _nb06_fusion_conv(arch: str = "arch2"):
    """(input channels, filters) of the first convolution after the fusion's concatenation."""
    from ..models import layer_table

    rows = layer_table(arch)
    fuse = next(i for i, row in enumerate(rows) if row["layer"].startswith("tile"))
    conv = rows[fuse + 1]
    return int(rows[fuse]["output"].split("x")[-1]), int(conv["filters"])


def _nb06_channels_read() -> int:
    return _nb06_fusion_conv()[0]


def _nb06_embedding_weights() -> int:
    from ..paper import EMBEDDING_SIZE

    return EMBEDDING_SIZE * _nb06_fusion_conv()[1]


register(
    Exercise("06.1", "How many channels does arch2's first fusion convolution read at each position of its 28x28 map?",
             close_to(_nb06_channels_read, rel=0),
             "the encoder's last convolution gives some channels, and the tiled embedding adds one channel "
             "per entry of its vector."),
    Exercise("06.2", "How many of arch2's weights multiply the embedding (and see only zeros in mode 'none')?",
             close_to(_nb06_embedding_weights, rel=0),
             "a 1x1 convolution has one weight per (input channel, filter) pair; count only the embedding's "
             "input channels of the first fusion convolution (no biases)."),
)

# --- notebook 07 ---
def _nb07_encoder_field() -> int:
    from ..models import receptive_field

    return receptive_field("arch3").encoder


def _nb07_flops_ratio() -> float:
    from ..models import flops

    return flops("base", 224) / flops("arch3", 224)


register(
    Exercise("07.1", "How wide (in input pixels) is the receptive field of one pixel of arch3's encoder output?",
             close_to(_nb07_encoder_field, rel=0),
             "start at 1 pixel; each 3x3 convolution adds 2 x (the product of the strides before it); "
             "or read the receptive-field table."),
    Exercise("07.2", "How many times more forward FLOPs per 224x224 photo does the base model need than arch3?",
             close_to(_nb07_flops_ratio, rel=0.02),
             "divide the base model's 'GFLOP @ 224' by arch3's, in the speed table."),
)
