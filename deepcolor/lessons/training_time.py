"""How long a training run will take on this machine, said before it starts (notebooks 04 and 08:
the training sliders of :func:`deepcolor.lessons.hyperparameter_study.training_slider`).

A few training steps of the architecture are timed once per Python session (:func:`step_cost`) and
scaled to the run's images, batch size and epochs (:func:`estimate_seconds`).  An estimate, ours:
on a busy machine it can be off by half.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from ..runs import Run

__all__ = ["ESTIMATE_BATCHES", "about", "estimate_seconds", "step_cost", "training_time"]
ESTIMATE_BATCHES = (2, 8)
"""The two batch sizes :func:`step_cost` times a training step at (ours): a step costs about a fixed
part plus a part per image, and two sizes give both."""


class DeliberateRetracing(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning (a Python ``logging`` record of
    the "tensorflow" logger) while :func:`step_cost` retraces on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


@functools.lru_cache(maxsize=16)
def step_cost(arch: str, input_size: int) -> dict:
    """What training ``arch`` at ``input_size`` px costs on this machine, measured once per Python
    session on random images (notebooks 04 and 08; a few seconds, the first time for each pair).

    Returns seconds: "start" (building the model and tracing its training and validation steps,
    which every run pays once), "retrace" (a batch of another size, as a last partial batch),
    "step" and "per_image" (a training step costs ``step + per_image * batch``), "val_per_image"
    (a validation image) and "save" (the checkpoint written after every epoch).  The global
    random state of Python and NumPy is left as it was, and TensorFlow's warning about the
    retracing that timing two batch sizes causes on purpose is not shown.
    """
    import keras

    from ..train import TrainConfig, new_model

    states = random.getstate(), np.random.get_state()
    rng, b1, b2 = np.random.default_rng(0), *ESTIMATE_BATCHES

    def data(n):
        return ([rng.random((n, input_size, input_size, 1), np.float32), rng.random((n, 1000), np.float32)],
                rng.uniform(-1, 1, (n, input_size, input_size, 2)).astype(np.float32))

    def timed(call, *args, repeat=1):
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            call(*args)
            times.append(time.perf_counter() - t)
        return min(times)

    quiet = DeliberateRetracing()
    logging.getLogger("tensorflow").addFilter(quiet)
    try:
        t = time.perf_counter()
        model = new_model(TrainConfig(arch=arch, input_size=int(input_size), l2=0.01))
        build = time.perf_counter() - t
        (x1, y1), (x2, y2) = data(b1), data(b2)
        first = timed(lambda: model.fit(*data(b1), batch_size=b1, validation_data=data(b2), verbose=0))  # traces
        small = timed(model.train_on_batch, x1, y1, repeat=2)
        retrace = timed(model.train_on_batch, x2, y2) - small
        large = timed(model.train_on_batch, x2, y2, repeat=2)
        val = timed(model.test_on_batch, x2, y2, repeat=2)
        with tempfile.TemporaryDirectory() as folder:
            save = timed(model.save, str(Path(folder) / "model.keras"))
    finally:
        logging.getLogger("tensorflow").removeFilter(quiet)
        random.setstate(states[0])
        np.random.set_state(states[1])
    per_image = max(large - small, 0.0) / (b2 - b1)
    return {"start": build + first - small - val, "retrace": max(retrace, 0.0),
            "step": max(small - b1 * per_image, 0.0), "per_image": per_image, "val_per_image": val / b2,
            "save": save, "backend": keras.backend.backend()}


def estimate_seconds(cost: dict, n_train: int, n_val: int, batch_size: int, epochs: int) -> float:
    """Seconds a run takes by :func:`step_cost`'s measurements ``cost``: its start, then per epoch
    ceil(n_train / batch_size) steps, n_val validation images and a checkpoint; a last partial
    batch traces the step once more (notebooks 04 and 08)."""
    batch_size, epochs = int(batch_size), int(epochs)
    steps = math.ceil(n_train / batch_size)
    start = cost["start"] + (cost["retrace"] if n_train > batch_size and n_train % batch_size else 0.0)
    epoch = steps * (cost["step"] + cost["per_image"] * batch_size) + n_val * cost["val_per_image"] + cost["save"]
    return start + epochs * epoch


def about(seconds: float) -> str:
    """A duration in words, rounded as an estimate deserves: "about 40 s", "about 3 min", "about 1.5 h"."""
    if seconds < 10:
        return f"about {max(seconds, 1):.0f} s"
    if seconds < 100:
        return f"about {5 * round(seconds / 5):.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def training_time(cfg, ds, split, arch, lr, batch_size, l2, epochs, runs_dir=None) -> str:
    """What pressing **Run Interact** with these settings will cost on this machine, in words
    (notebooks 04 and 08): "already trained: it comes back at once" when an identical finished
    run exists (:meth:`deepcolor.runs.Run.find`), else :func:`estimate_seconds` with the number
    of updates it makes, e.g. "about 40 s on this machine (240 updates of batch 5, 1 epoch)"."""
    config = cfg.train_config(arch, lr=float(lr), batch_size=int(batch_size), l2=float(l2), epochs=int(epochs))
    if Run.find(config, ds, cfg.embedding_mode, cfg.name, runs_dir=runs_dir, split=split) is not None:
        return "already trained under this profile: it comes back at once"
    n_train, n_val = len(split[0]), len(split[1])
    seconds = estimate_seconds(step_cost(arch, cfg.profile.input_size), n_train, n_val, batch_size, epochs)
    updates = math.ceil(n_train / int(batch_size)) * int(epochs)
    return (f"{about(seconds)} on this machine ({updates:,} updates of batch {int(batch_size)}, {int(epochs)} "
            f"epoch{'' if int(epochs) == 1 else 's'} of {n_train:,} images at {cfg.profile.input_size} px)")

