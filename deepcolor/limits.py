"""Refusing sizes the machine cannot take, before anything is written.

Introduced with the command line's promises in the README ("What the command line promises").
A mistyped ``-n`` or ``--input-size`` used to end in "Unable to allocate 186 GiB" minutes later,
after a run folder was made.  These checks come first and say what fits:

- :func:`check_sample_size`: the built-in sample cuts at most :data:`SAMPLE_MAX` crops from its
  dozen photos (more would only repeat them, at 150 kB each on disk, twice while written);
- :func:`check_training_memory`: one training step's activations (forward values, their
  gradients and the optimizer's work, :data:`STEP_COPIES` times the forward values) must fit in
  the memory that is available now.
"""

from __future__ import annotations

import os

SAMPLE_MAX = 10_000
STEP_COPIES = 3  # forward activations, their gradients, and as much again for the backend's temporaries


def check_sample_size(n: int) -> None:
    """ValueError if ``n`` (the sample's number of crops) is over :data:`SAMPLE_MAX`."""
    if n > SAMPLE_MAX:
        raise ValueError(f"the built-in sample makes 1 to {SAMPLE_MAX:,} crops, not {n:,} (-n): its dozen photos "
                         f"give no more to learn from; use -n {SAMPLE_MAX:,} or fewer, or convert more photos of your "
                         "own with `deepcolor data folder`")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (Linux: MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def step_bytes(model, batch_size: int) -> int:
    """Bytes one training step of ``model`` needs for its activations: every layer's output
    (float32) for ``batch_size`` images, :data:`STEP_COPIES` times."""
    values = 0
    for layer in model.layers:
        for out in (layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]):
            count = 1
            for dim in out.shape[1:]:
                count *= int(dim or 1)
            values += count
    return STEP_COPIES * 4 * batch_size * values


def check_training_memory(model, batch_size: int, input_size: int) -> None:
    """MemoryError, naming the options and what fits, if a training step at ``input_size`` with
    ``batch_size`` images needs more memory than is available (:func:`step_bytes`)."""
    needed, free = step_bytes(model, batch_size), available_memory()
    if free is None or needed <= free:
        return
    fits = input_size
    while fits > 8 and needed * (fits / input_size) ** 2 > free:
        fits -= 8
    raise MemoryError(f"a training step at --input-size {input_size} with --batch-size {batch_size} needs about "
                      f"{needed / 2**30:,.1f} GiB of memory, and {free / 2**30:,.1f} GiB are available: use "
                      f"--input-size {fits} or less, or a smaller --batch-size (the paper trains at 224)")
