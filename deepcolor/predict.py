"""A trained colorizer applied to lightness at any size.

Introduced in notebook ``04_base_model``; used to look at test photos (notebooks 04-09), to
evaluate models (:mod:`deepcolor.evaluation`) and to colorize your own photos
(:mod:`deepcolor.colorize`, notebook ``10_colorize_your_own``).

A model reads ``L / 100`` at its own input size (s, s) and returns ``ab / 128`` at that size.
:func:`predict_ab` resizes the lightness down to s exactly as the training batches do
(:func:`deepcolor.resize.resize_images`) and the predicted colour back up to the photo's size,
so the caller only ever sees Lab units at the photo's own size.
"""

from __future__ import annotations

import numpy as np

from .color import AB_SCALE, to_network_scale
from .resize import resize_images
from .shapes import pad_rows

__all__ = ["predict_ab"]


def _call(model, x, embedding) -> np.ndarray:
    """One forward pass.  A direct call skips the per-model compile of ``model.predict`` (about a
    quarter of a second each), which dominates for the small batches read here; objects that are
    not Keras models only need ``predict``."""
    import keras

    if isinstance(model, keras.Model):
        return np.asarray(keras.ops.convert_to_numpy(model([x, embedding], training=False)), np.float32)
    return np.asarray(model.predict([x, embedding], verbose=0), np.float32)


def predict_ab(model, L, embedding, rows: int | None = None):
    """Predict colour for lightness at any size (notebooks 04 and 10_colorize_your_own).

    L: (n, H, W) float32 in [0, 100]; embedding: (n, 1000) float32.  L is resized to the model's
    input size exactly as training batches are (:func:`deepcolor.resize.resize_images`), and the
    predicted ab is bilinearly resized back to (H, W).
    rows: None, or pad a batch of fewer images with zeros to this many before the forward pass
    (:func:`deepcolor.shapes.pad_rows`), so that every batch of a pass has one shape and JAX compiles
    once; the padding's predictions are dropped, the others are the same.
    Returns ab (n, H, W, 2) float32 in Lab units.
    """
    L_scaled, _ = to_network_scale(L)
    size = L.shape[1:]
    side = model.inputs[0].shape[1] or size[0]
    x = L_scaled
    if (side, side) != size:  # anti-aliased bilinear resize down to the model's input size
        x = resize_images(L_scaled, side, side)
    del L_scaled  # at full size a photo's copy of L is large: free it before ab is upsampled
    n = len(x)
    ab = _call(model, pad_rows(x, rows), pad_rows(np.asarray(embedding, np.float32), rows))[:n]
    if ab.ndim != 4 or ab.shape[-1] != 2:
        raise ValueError(f"the model must output (n, H, W, 2) ab/128, got {ab.shape}")
    if ab.shape[1:3] == size:
        return ab * np.float32(AB_SCALE)  # ab / 128 -> Lab units
    ab = resize_images(ab, *size)  # bilinear upsampling of the colour back to the photo's size: a new array,
    ab *= np.float32(AB_SCALE)  # so it is scaled to Lab units in place (no second full-size copy)
    return ab
