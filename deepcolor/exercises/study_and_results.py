"""The checkable exercises of notebooks 08_hyperparameter_study to 10_colorize_your_own (see :mod:`deepcolor.exercises`)."""

from __future__ import annotations

import math

import numpy as np

from ..paper import PAPER_PARAMS
from .registry import Exercise, close_to, register, training_images

# --- notebook 08 ---
def _batch50_epochs(cfg) -> int:
    """Whole epochs of batch 50 that make at least the updates of one epoch of batch 5."""
    n = training_images(cfg)
    return math.ceil(math.ceil(n / 5) / math.ceil(n / 50))


def _study_run_updates(cfg) -> int:
    """Weight updates of one study run at batch 5 under the profile: its study epochs x batches per epoch."""
    return cfg.profile.study_epochs * math.ceil(training_images(cfg) / 5)


register(
    Exercise("08.2", "Under your profile, how many epochs of batch 50 make at least as many weight updates "
             "as one epoch of batch 5?",
             close_to(_batch50_epochs, rel=0),
             "an epoch makes ceil(training images / batch size) updates (a last, smaller batch counts "
             "too); the training images are in section 2's table. Answer a whole number of epochs.",
             profile=True),
    Exercise("08.3", "How many weight updates does one study run at batch 5 make under your profile "
             "(its study epochs, its training images)?",
             close_to(_study_run_updates, rel=0),
             "one update per batch, a last smaller batch included: study epochs x ceil(training images / 5); "
             "section 2's table has both numbers (with EPOCHS = None).", profile=True),
)

# --- notebook 09 ---
def _test_share_a_ge_b(cfg) -> float:
    ds = cfg.dataset()
    hits = total = 0
    for _, _, ab in ds.batches(cfg.split(ds).test, 16):
        hits += int(np.count_nonzero(np.argmax(ab, -1) == 0))  # ties (a == b) count as a >= b, as in Keras
        total += ab[..., 0].size
    return hits / total


register(
    Exercise("09.2", "What share p of the test split's pixels have a >= b? (a fraction in [0, 1])",
             close_to(_test_share_a_ge_b, rel=0, abs_tol=0.0005),
             "read every test image with ds.batch(split.test) (ab_test holds only the crops shown) and "
             "count the pixels where a >= b; give a fraction between 0 and 1, then compare it with the "
             "gray baseline's accuracy on photos it has never seen in section 2.", profile=True),
)

# --- notebook 10 ---
def _params_base_over_arch3() -> float:
    return PAPER_PARAMS["base"] / PAPER_PARAMS["arch3"]


RATIO_TOLERANCE = 0.55
"""How far from the exact ratio (26.52) an answer to 10.2 may be: the whole numbers on either side,
26 (notebook 07's "26 times fewer") and 27 (the nearest), are right; 25 and 28 are not.  Ours."""

register(
    Exercise("10.2", "How many times more parameters does the base model have than arch3?",
             close_to(_params_base_over_arch3, rel=0, abs_tol=RATIO_TOLERANCE),
             "run.model.count_params() with ARCH = \"base\" and with ARCH = \"arch3\", then divide "
             "(a whole number is enough)."),
)
