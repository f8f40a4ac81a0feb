"""One batch shape per compiled step: under JAX, a short last batch is padded to the full size.

Introduced in notebook ``03_embeddings`` (the embedding pass); serves the predictions and
evaluations of notebooks 04-11 and the training batches of :mod:`deepcolor.train`.

JAX compiles a network's predict, train and test steps (and each operation run eagerly) once per
input shape.  A pass over ``n`` images in batches of ``b`` ends in a batch of ``n % b`` images when
``b`` does not divide ``n``: a second shape, and a second compile of the whole network, which on a
CPU takes as long as the course's small passes themselves.  Padding that batch with rows of zeros
to ``b`` and dropping what the network says of them gives every real image the same numbers: the
course's networks have no layer that mixes the images of a batch (no batch normalisation).

Only under JAX (:func:`fixed_rows`).  TensorFlow traces a step per shape too, but cheaply; there the
batches stay as they were, so its results do not change by a rounding.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fixed_rows", "pad_rows", "padded_weights"]


def fixed_rows(batch_size: int) -> int | None:
    """``batch_size`` under the JAX backend, where short batches are padded to it; None under any
    other backend (batches keep their own size).  Reads ``keras.backend.backend()``."""
    import keras

    return int(batch_size) if keras.backend.backend() == "jax" else None


def pad_rows(array, rows: int | None) -> np.ndarray:
    """``array`` (n, ...) with rows of zeros appended up to (rows, ...); unchanged when ``rows`` is
    None or n >= rows.  The caller keeps the first n rows of what the network returns."""
    array = np.asarray(array)
    if rows is None or len(array) >= rows:
        return array
    return np.concatenate([array, np.zeros((rows - len(array), *array.shape[1:]), array.dtype)])


def padded_weights(n: int, rows: int, shape=()) -> np.ndarray:
    """Keras ``sample_weight`` (rows, *shape) float32 for a batch of ``n`` images padded to ``rows``:
    ``rows / n`` for each image, 0 for each padding row, the same over ``shape`` (the loss's
    per-pixel shape, e.g. (S, S): Keras does not broadcast a (rows,) weight over it).  A loss averaged
    over the batch ("sum over batch size", as the course's MSE and cross-entropy are) is then the mean
    over the n images, as without padding, and so is its gradient; Keras' running mean of an epoch's
    loss and metrics still counts such a batch as ``rows`` images, not n."""
    weights = np.zeros((rows, *shape), np.float32)
    weights[:n] = np.float32(rows / n)
    return weights
