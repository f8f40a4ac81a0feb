"""deepcolor.lessons.training_time: the estimate a training slider shows before Run Interact."""

import numpy as np
import pytest

from deepcolor.lessons import training_time as timing

COST = {"start": 5.0, "retrace": 2.0, "step": 0.1, "per_image": 0.01, "val_per_image": 0.005, "save": 0.5}


def test_estimate_seconds_counts_steps_validation_checkpoints_and_the_partial_batch():
    # 18 images at batch 5: 4 steps of 0.15 s, the last partial (one more trace); 11 val images; 2 epochs
    assert timing.estimate_seconds(COST, 18, 11, 5, 2) == pytest.approx(5 + 2 + 2 * (4 * 0.15 + 11 * 0.005 + 0.5))
    assert timing.estimate_seconds(COST, 20, 0, 5, 1) == pytest.approx(5 + 4 * 0.15 + 0.5)  # no partial batch
    assert timing.estimate_seconds(COST, 18, 0, 50, 1) == pytest.approx(5 + 0.6 + 0.5)  # one batch: traced once


@pytest.mark.parametrize("seconds, words", [(0.2, "about 1 s"), (7.4, "about 7 s"), (38, "about 40 s"),
                                            (170, "about 3 min"), (2 * 3600, "about 2.0 h")])
def test_about_rounds_as_an_estimate(seconds, words):
    assert timing.about(seconds) == words


def test_step_cost_measures_once_and_leaves_the_random_state_alone():
    import logging
    import random

    import deepcolor.train  # noqa: F401  (importing Keras may draw random numbers: not step_cost's doing)

    timing.step_cost.cache_clear()
    np.random.seed(3)
    random.seed(3)
    before = np.random.random(), random.random()
    np.random.seed(3)
    random.seed(3)
    cost = timing.step_cost("arch3", 16)
    assert (np.random.random(), random.random()) == before
    assert all(cost[k] >= 0 for k in ("start", "retrace", "step", "per_image", "val_per_image", "save"))
    assert cost["start"] > 0 and cost["step"] + cost["per_image"] > 0
    assert timing.step_cost("arch3", 16) is cost  # once per session
    assert not any(isinstance(f, timing.DeliberateRetracing) for f in logging.getLogger("tensorflow").filters)



def test_the_deliberate_retracing_warning_is_dropped_and_nothing_else():
    import logging

    quiet = timing.DeliberateRetracing()
    record = lambda text: logging.LogRecord("tensorflow", logging.WARNING, __file__, 1, text, None, None)  # noqa: E731
    assert not quiet.filter(record("5 out of the last 9 calls to <function f> triggered tf.function retracing. ..."))
    assert quiet.filter(record("something else"))
