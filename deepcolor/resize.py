"""Resizing batches of images: the one resize of model inputs and outputs.

Introduced in notebook ``04_base_model`` (a model trained at a smaller size sees its photos
resized) and used by training batches (:mod:`deepcolor.batches`), predictions
(:func:`deepcolor.predict.predict_ab`) and the classifier (notebook ``11_colour_as_classes``).
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def resize_float(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a batch of float images (N, H, W, C) to (N, height, width, C), bilinearly.

    Shrinking is anti-aliased (Pillow widens the bilinear filter by the scale factor).  Each
    channel goes through Pillow's 32-bit float mode, so values keep their range and precision;
    about fifty times faster than ``skimage.transform.resize`` on a 1024x768 photo.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"expected a batch (N, H, W, C), got shape {x.shape}")
    out = np.empty((x.shape[0], height, width, x.shape[3]), np.float32)
    for i in range(x.shape[0]):
        for c in range(x.shape[3]):
            channel = Image.fromarray(np.ascontiguousarray(x[i, :, :, c]), mode="F")
            out[i, :, :, c] = np.asarray(channel.resize((width, height), Image.BILINEAR))
    return out


def resize_images(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a batch (N, H, W, C) to (N, height, width, C): the one resize of model inputs and outputs.

    An exact integer downscale (224 -> 112, 56, 32, 28, ...) averages each block of pixels, which
    is fast and alias-free; other sizes use :func:`resize_float` (anti-aliased bilinear).
    Training batches (:mod:`deepcolor.batches`) and predictions (:func:`deepcolor.predict.predict_ab`)
    both go through here, so a model sees at prediction time the input it was trained on.
    """
    n, h, w, c = x.shape
    if (h, w) == (height, width):
        return np.asarray(x, np.float32)
    if h >= height and w >= width and h % height == 0 and w % width == 0:
        fh, fw = h // height, w // width
        return x.reshape(n, height, fh, width, fw, c).mean(axis=(2, 4), dtype=np.float32)
    return resize_float(x, height, width)
