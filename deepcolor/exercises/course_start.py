"""The checkable exercises of notebooks 00_start_here to 03_embeddings (see :mod:`deepcolor.exercises`)."""

from __future__ import annotations

import warnings

import numpy as np

from ..config import PROFILES
from ..embeddings import preprocess
from ..paper import EMBEDDING_SIZE, PAPER_EPOCHS, TABLES
from .registry import Exercise, close_to, register

# --- notebook 00 ---
def _pixels_full_over_smoke():
    return (PROFILES["full"].input_size / PROFILES["smoke"].input_size) ** 2


def _paper_epochs_over_full():
    return PAPER_EPOCHS / PROFILES["full"].study_epochs


register(
    Exercise("00.2", "How many times more pixels does one full image have than one smoke image?",
             close_to(_pixels_full_over_smoke, rel=0),
             "an image of input size s has s x s pixels; read s for both profiles in the profiles table."),
    Exercise("00.3", "How many times more epochs did a run of the paper's study train than a study run of full?",
             close_to(_paper_epochs_over_full, rel=0),
             "the paper's epochs are deepcolor.paper.PAPER_EPOCHS (its section 4.2); full's are in the "
             "'study epochs' column of the profiles table."),
)

# --- notebook 01 ---
def _most_negative_b(L: float = 30.0, a: float = 0.0) -> int:
    """Going down from b = 0 at (L, a) one unit at a time (as the slider does): the last b in gamut."""
    from ..lessons.lab_color_space import survives_rgb_roundtrip

    b = 0
    while b > -128 and survives_rgb_roundtrip(np.array([L, a, b - 1], np.float32)):
        b -= 1
    return b


def _lightness_of_largest_gamut() -> int:
    """The slider's lightness (0, 5, ..., 100) whose a-b plane has the largest share in sRGB."""
    from ..lessons.lab_color_space import gamut_share

    shares = {L: gamut_share(L) for L in range(0, 101, 5)}
    return max(shares, key=shares.get)


register(
    Exercise("01.1", "With the swatch at L = 30 and a = 0, what is the most negative b still in the sRGB gamut?",
             close_to(_most_negative_b, rel=0),  # exact: one step off is the slip the exercise is about
             "lower b from 0 one step at a time (or call lab_color_space.lab_swatch(30, 0, b)) until the title says "
             "OUT OF GAMUT; the answer is the value just before."),
    Exercise("01.2", "At which lightness of the a-b plane slider (0, 5, ..., 100) is the in-gamut part largest?",
             close_to(_lightness_of_largest_gamut, rel=0),  # exact: the slider only takes 0, 5, ..., 100
             "the plane's title gives the share that is in sRGB: note it at each step of 5 and take the "
             "largest (lab_color_space.gamut_share(L) gives the same number)."),
)

# --- notebook 02 ---
def _train_mean_b(cfg) -> float:
    from ..lessons.dataset import ab_counts

    ds = cfg.dataset()
    return float(ab_counts(ds, cfg.split(ds).train)[2][1])


register(
    Exercise("02.2", "What is the mean b of this profile's training images?",
             close_to(_train_mean_b, rel=0, abs_tol=0.06),
             "draw dataset.ab_histogram(ds, split.train) and read the second number of 'mean ab' in its "
             "legend (one decimal is enough).", profile=True),
)

# --- notebook 03 ---
def _bug_input_max(cfg) -> float:
    L, _ = cfg.dataset()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warning is the first half of the exercise
        return float(preprocess(L[None] / 100).max())


def _fusion_values() -> tuple:
    """(values, from the embedding) of the base model's concatenation at the paper's 224x224 input."""
    encoder = TABLES["base"]["encoder"]
    side = 224 // 2 ** sum(1 for row in encoder if row[0] == "conv" and row[3] == 2)
    return (side * side * (encoder[-1][1] + EMBEDDING_SIZE), side * side * EMBEDDING_SIZE)


register(
    Exercise("03.1", "For this notebook's image L, what is the largest value of embeddings.preprocess(L[None] / 100)?",
             close_to(_bug_input_max, rel=0, abs_tol=0.006),
             "call it and take .max() of the result (two decimals are enough); compare it with the 1.0 "
             "that preprocess(L[None]) reaches on a white pixel.", profile=True),
    Exercise("03.2", "At 224x224 input, how many values per image does the fusion layer's concatenation "
             "hold, and how many of them come from the embedding? Answer (total, from_embedding).",
             close_to(_fusion_values, rel=0),
             "each stride-2 convolution of the encoder halves the side; at every position of that grid the "
             "concatenation stacks the encoder's last channels and the embedding's 1000 (answer a pair)."),
)
