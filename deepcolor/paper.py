"""The paper's facts, as data: its four networks, its results and its study grid.

Everything the course takes from *DeepColor: Automatic Colorization of Gray scale Images* (the
full text is in ``shared/paper/deepcolor-paper.md``; the design reference ``DESIGN.md`` transcribes
it) is written here once, with the section or figure it comes from, and read by the rest of the
package: ``deepcolor.models`` builds the networks from :data:`TABLES`, ``deepcolor.lessons.architectures`` sets
:data:`PAPER_LAYERS` and :data:`PAPER_PARAMS` beside our models, ``deepcolor.config`` runs
:data:`PAPER_GRID`, the command line offers :data:`ARCHITECTURES`, and :func:`differs_from_paper` says
what of a run differs from the paper's.  Where the paper is silent or contradicts itself, the table
of what it says and what the course assumes (:data:`SAYS_ASSUMES`) lives in ``deepcolor.paper_notes``
and is re-exported here.  This module imports no Keras.

Introduced in notebook 04_base_model (the architectures) and 08_hyperparameter_study (the
results), and set beside our own numbers in 09_results.

The "accuracy" the paper reports is Keras' categorical accuracy on the (H, W, 2) ab output of
an MSE model: the share of pixels where ``argmax`` over (a, b) of the prediction equals that of
the truth, i.e. whether ``a > b`` is guessed right.  Chance is about 50%.  See
``deepcolor.metrics.paper_accuracy`` and ``deepcolor.metrics.constant_baseline_accuracy``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Optional

from .paper_notes import SAYS_ASSUMES, SaysAssumes, says_and_assumes

__all__ = ["ARCHITECTURES", "EMBEDDING_SIZE", "PAPER_LAYERS", "PAPER_PARAMS", "ARCHITECTURE_FIGURES",
           "FORWARD_GFLOPS", "ARCHITECTURE_NOTEBOOKS", "STAGES", "CONCAT", "check_architecture", "layer_tokens",
           "layer_row", "TABLES", "PaperResult", "PAPER_RESULTS", "HEADLINE_TEST_ACCURACY", "StudyRun",
           "PAPER_GRID", "results_table", "PAPER_EPOCHS", "PAPER_SETTING", "differs_from_paper", "SaysAssumes",
           "SAYS_ASSUMES", "says_and_assumes", "training_cost"]


# --- the four networks (section 3.1, figures 4-11) ----------------------------------------------

ARCHITECTURES = ("base", "arch1", "arch2", "arch3")
"""The paper's networks: the base model (figures 4-5) and its modifications 1, 2 and 3 (figures 6-11)."""

EMBEDDING_SIZE = 1000
"""Length of the image embedding fused into every network: Inception-ResNet-v2's 1000 ImageNet
class probabilities (section 3; the ``28x28x1000`` input of figures 4, 6, 8 and 10)."""

PAPER_LAYERS = {
    "base": "enc 64s2,128,128s2,256,256s2,512,512,256; fuse 1x1-256, 1x1-256; dec 128,up,64,up,32,16,2,up",
    "arch1": "enc 64s2,128s2,256s2,512,256; fuse 1x1-256, 1x1-256; dec 128,up,64,up,32,16,2,up",
    "arch2": "enc 64s2,64s2,64s2,128,256; fuse 1x1-256, 1x1-256; dec 128,up,64,up,32,16,2,up",
    "arch3": "enc 64s2,64s2,32s2,64,64; fuse 1x1-64, 64; dec up,32,up,32,16,2,up",
}
"""The layers of each network, read off the Keras summaries of figures 4, 6, 8 and 10 and written
as in DESIGN.md: a number is a conv with that many filters, kernel 3x3 unless ``1x1-`` is named,
``s2`` = stride 2, ``up`` = upsampling x2; all ``padding="same"``, ReLU but tanh for the last conv.
The fusion stage starts by tiling the embedding and concatenating it (``concatenate`` in the
figures), which the list leaves implicit.  arch3's "1x1-64, 64": the second is 3x3 (figure 10
gives it 36,928 parameters = 3*3*64*64 + 64)."""

PAPER_PARAMS = {"base": 6_606_994, "arch1": 3_509_522, "arch2": 1_223_314, "arch3": 249_170}
"""Parameter counts, which the built Keras models equal exactly: "Total params" of figures 6
(arch1) and 8 (arch2); the sum of the "Param #" column of figures 4 (base) and 10 (arch3)."""

ARCHITECTURE_FIGURES = {"base": 4, "arch1": 6, "arch2": 8, "arch3": 10}
"""The figure with each network's Keras summary; the next figure is its code snippet (section 3.1)."""

FORWARD_GFLOPS = {"base": 15.1, "arch1": 6.8, "arch2": 3.0, "arch3": 1.0}
"""Forward cost per 224x224 image in GFLOP (DESIGN.md; the paper gives none): convolutions only,
a multiply-add counted as 2.  Training costs about 3x.  ``deepcolor.models.flops`` recounts it."""

ARCHITECTURE_NOTEBOOKS = {"base": "04_base_model", "arch1": "05_architecture_1",
                          "arch2": "06_architecture_2", "arch3": "07_architecture_3"}
"""The notebook of the course that introduces (and trains) each network."""

STAGES = {"enc": "encoder", "fuse": "fusion", "dec": "decoder"}
"""The stages of :data:`PAPER_LAYERS` (section 3.1: encoder, fusion layer, decoder), in order."""

CONCAT = "concat embedding"
"""The token of the fusion step that :data:`PAPER_LAYERS` leaves implicit."""


def check_architecture(name):
    """Raise ValueError naming the valid architectures unless ``name`` is one of :data:`ARCHITECTURES`."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}")


def layer_tokens(name):
    """``PAPER_LAYERS[name]`` split by stage: {"encoder": ["64s2", ...], "fusion": [CONCAT,
    "1x1-256", ...], "decoder": [...]}, the fusion stage starting with the :data:`CONCAT` step."""
    check_architecture(name)
    stages = {}
    for part in PAPER_LAYERS[name].split(";"):
        key, _, tokens = part.strip().partition(" ")
        stages[STAGES[key]] = ([CONCAT] if key == "fuse" else []) + [t.strip() for t in tokens.split(",")]
    return stages


def layer_row(token):
    """One token of :data:`PAPER_LAYERS` as a row of :data:`TABLES`: ``"64s2"`` -> ``("conv", 64,
    3, 2)`` (filters, kernel, stride), ``"1x1-256"`` -> ``("conv", 256, 1, 1)``, ``"up"`` ->
    ``("up",)``, :data:`CONCAT` -> ``("fuse", EMBEDDING_SIZE)``."""
    if token == "up":
        return ("up",)
    if token == CONCAT:
        return ("fuse", EMBEDDING_SIZE)
    kernel = 1 if token.startswith("1x1-") else 3
    filters = token.removeprefix("1x1-")
    stride = 2 if filters.endswith("s2") else 1
    return ("conv", int(filters.removesuffix("s2")), kernel, stride)


TABLES = {name: {stage: tuple(layer_row(t) for t in tokens) for stage, tokens in layer_tokens(name).items()}
          for name in ARCHITECTURES}
""":data:`PAPER_LAYERS` as the layer tables ``deepcolor.models`` builds, one tuple of rows per stage:
``("conv", filters, kernel, stride)``, ``("up",)`` or ``("fuse", EMBEDDING_SIZE)``."""


# --- the results (section 5, figures 12-20) -----------------------------------------------------

@dataclass(frozen=True)
class PaperResult:
    """One run of the paper's study.

    figure: the figure number in the paper (12-20).
    model: one of :data:`ARCHITECTURES`.
    lr, batch, l2: Adam learning rate, batch size, L2 regularisation factor.
    val, test: the paper's "accuracy" (a fraction in [0, 1]) on validation / test;
        None where the paper gives no number.
    note: what the paper says besides the numbers ("" when nothing).
    """

    figure: int
    model: str
    lr: float
    batch: int
    l2: float
    val: Optional[float]
    test: Optional[float]
    note: str = ""


PAPER_RESULTS: tuple[PaperResult, ...] = (
    PaperResult(12, "arch1", 0.01, 5, 0.01, 0.567035, 0.5496931),
    PaperResult(13, "arch2", 0.01, 5, 0.01, 0.5714356, 0.5394033),
    PaperResult(14, "base", 0.01, 50, 0.01, None, None, "no learning"),
    PaperResult(15, "base", 0.001, 5, 0.01, 0.5881328, 0.55679),
    PaperResult(16, "base", 0.00001, 5, 0.01, 0.52240014, 0.5577577),
    PaperResult(17, "base", 0.1, 5, 0.01, 0.49233896, 0.47044206, "loss NaN"),
    PaperResult(18, "base", 0.001, 5, 0.1, 0.57672495, 0.54632795),
    PaperResult(19, "base", 0.01, 5, 0.01, 0.584938, 0.55964506),
    PaperResult(20, "base", 0.0001, 5, 0.01, 0.57347536, 0.568752, 'headline: "56.8752%" (abstract)'),
)
"""Figures 12-20: the settings from each caption, the numbers from the text of section 5 (where
they disagree, as figure 12's caption (lr 0.01) and its text (0.001), the caption is kept)."""

HEADLINE_TEST_ACCURACY = next(r.test for r in PAPER_RESULTS if r.figure == 20)
"""The paper's headline: the abstract's "generalization accuracy of 56.8752%", the test "accuracy"
of the base model in figure 20 (0.568752 in the text of section 5; §6: "approximately 56.8752
percent").  The first sentence of section 5 cuts it to "56.87 %" (truncated, not rounded);
"56.88" is nowhere in the paper: it is DESIGN.md's rounding, which the course uses after quoting
56.8752 % once."""


# --- the hyperparameter study (section 4.2) ------------------------------------------------------

@dataclass(frozen=True)
class StudyRun:
    """One run of the hyperparameter study: the settings of one of the paper's figures 12 to 20."""

    figure: int
    arch: str
    lr: float
    batch_size: int
    l2: float


PAPER_GRID = tuple(StudyRun(r.figure, r.model, r.lr, r.batch, r.l2) for r in PAPER_RESULTS)
"""The paper's study, figures 12-20, read from :data:`PAPER_RESULTS` so the two never disagree;
the grid the profiles run (``deepcolor.config.Profile.study``), each with its own epochs."""


def results_table():
    """The paper's results as a pandas DataFrame (notebook 08_hyperparameter_study).

    Returns: one row per figure (9 rows), columns figure, model, lr, batch, l2, val, test, note;
    val and test are fractions in [0, 1], NaN where the paper gives no number.
    """
    import pandas as pd

    columns = [f.name for f in fields(PaperResult)]
    return pd.DataFrame([asdict(row) for row in PAPER_RESULTS], columns=columns)


# --- what the paper says, and what the course assumes --------------------------------------------

PAPER_EPOCHS = 2500
"""Section 4.2: "The model has been trained on 2500 epochs" (for every run, as far as the text says)."""

PAPER_SETTING = {"images": 25_000, "data": "kaggle", "input_size": 224, "embedding_mode": "imagenet"}
"""What every run of the paper's study shared besides its figure's settings (§3, §4.1): the 25,000
Kaggle images (60 % to train), 224x224 inputs, Inception-ResNet-v2's ImageNet embeddings.  Its
epochs are ``paper.PAPER_EPOCHS`` (2,500, §4.2); each figure's lr, batch and L2 are ``paper.PAPER_RESULTS``."""


def differs_from_paper(cfg, n_images, figure, epochs, arch=None, lr=None, batch=None, l2=None) -> str:
    """What of a run's setting differs from the paper's figure ``figure`` (12-20), in words: the
    profiles table of notebook 00_start_here, the study table of 08 and the headline of 09.

    cfg: the run's :class:`deepcolor.config.Config` (its input size, data and embedder);
    n_images: images in its dataset; figure: 12-20, or None to compare only what every run of the
    paper shared (:data:`PAPER_SETTING`, :data:`PAPER_EPOCHS`); epochs: the epochs it trained; arch,
    lr, batch, l2: compared with the figure's when given.  Returns one phrase per difference,
    "; "-joined, e.g. ``"1 epoch, not 2,500; 32 px, not 224; 32 sample images, not 25,000 Kaggle;
    untrained embedder, not ImageNet"``, or ``"none"``.
    """
    row = next((r for r in PAPER_RESULTS if r.figure == figure), None)
    out = []
    if row is not None:
        if arch is not None and arch != row.model:
            out.append(f"{arch}, not {row.model}")
        for name, ours, theirs in (("lr", lr, row.lr), ("batch", batch, row.batch), ("L2", l2, row.l2)):
            if ours is not None and not math.isclose(float(ours), float(theirs)):
                out.append(f"{name} {float(ours):g}, not {float(theirs):g}")
    if int(epochs) != PAPER_EPOCHS:
        out.append(f"{int(epochs):,} epoch{'' if int(epochs) == 1 else 's'}, not {PAPER_EPOCHS:,}")
    p, want = cfg.profile, PAPER_SETTING
    if p.input_size != want["input_size"]:
        out.append(f"{p.input_size} px, not {want['input_size']}")
    if p.data != want["data"] or int(n_images) != want["images"]:
        out.append(f"{int(n_images):,} {'Kaggle' if p.data == 'kaggle' else p.data} images, not {want['images']:,} Kaggle")
    if cfg.embedding_mode != want["embedding_mode"]:
        out.append(f"{cfg.embedding_mode} embedder, not ImageNet")
    return "; ".join(out) or "none"


def training_cost(arch: str = "base", epochs: int = PAPER_EPOCHS, n_train: int = 15_000,
                  sustained_tflops: float = 50.0) -> dict:
    """What training ``arch`` at 224x224 for ``epochs`` epochs on ``n_train`` images costs (notebook 04).

    Training is counted as three forward passes (forward, and the backward pass's two products), from
    :data:`FORWARD_GFLOPS`; n_train defaults to the paper's 60 % of 25,000 images.
    sustained_tflops: the throughput assumed (our assumption: 50 TFLOP/s, about a sixth of an A100's
    dense bf16 peak of 312 TFLOP/s and a twentieth of an H100 SXM's 989; batch 5 as in the paper
    would reach far less).
    Returns {"train_pflop": total PFLOP, "gpu_hours": hours at that throughput}, floats.
    """
    check_architecture(arch)
    flop = 3 * FORWARD_GFLOPS[arch] * 1e9 * n_train * epochs
    return {"train_pflop": flop / 1e15, "gpu_hours": flop / (sustained_tflops * 1e12) / 3600}
