"""Colour spaces: sRGB <-> CIE Lab, the 8-bit Lab encoding, and the model's scaling.

Introduced in notebook ``01_lab_color_space``.

Three representations of the same photo appear in the course:

1. **Lab units** (what the functions here return): ``L`` in [0, 100], ``a`` and ``b`` in about
   [-128, 127], float32.  All conversions go through :mod:`skimage.color` (D65 white point).
2. **8-bit Lab** (the Kaggle dataset's encoding, OpenCV's convention):
   ``L8 = L * 255 / 100``, ``a8 = a + 128``, ``b8 = b + 128``, each rounded to uint8.
3. **Model scaling**: ``L / 100`` in [0, 1] as the network's input and ``ab / 128`` in
   about [-1, 1] as its tanh output.
"""

from __future__ import annotations

import warnings

import numpy as np
from skimage import color as _skcolor

AB_SCALE = 128.0
L_SCALE = 100.0


def as_float_rgb(rgb: np.ndarray) -> np.ndarray:
    """An RGB image as float32 in [0, 1] (notebook 01): (..., 3) uint8 / 255, uint16 / 65535, or
    float as it is.  Anything else (no 3-channel last axis, another dtype) is a clear ValueError."""
    rgb = np.asarray(rgb)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(
            f"expected an RGB image with 3 channels in the last axis, got shape {rgb.shape}; "
            "convert grayscale or RGBA photos to RGB first (e.g. PIL's Image.convert('RGB'))"
        )
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float32) / 255.0
    if rgb.dtype == np.uint16:
        return rgb.astype(np.float32) / 65535.0
    if not np.issubdtype(rgb.dtype, np.floating):
        raise ValueError(f"RGB values must be uint8, uint16 or float in [0, 1], got {rgb.dtype}")
    return rgb.astype(np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB -> CIE Lab.

    rgb: (..., 3) uint8 in [0, 255], uint16, or float in [0, 1].
    Returns (..., 3) float32: L in [0, 100], a and b in about [-128, 127].
    """
    return _skcolor.rgb2lab(as_float_rgb(rgb)).astype(np.float32)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIE Lab -> sRGB.

    lab: (..., 3) float, Lab units.  Returns (..., 3) float32 in [0, 1] (out-of-gamut colours
    are clipped, as scikit-image does).
    """
    lab = np.asarray(lab, dtype=np.float64)
    if lab.shape[-1] != 3:
        raise ValueError(f"expected Lab with 3 channels in the last axis, got shape {lab.shape}")
    with warnings.catch_warnings():  # out-of-gamut colours are expected (predictions): clipping is documented
        warnings.filterwarnings("ignore", message="Conversion from CIE-LAB.*clipped to zero", category=UserWarning)
        rgb = _skcolor.lab2rgb(lab)
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


def join_lab(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Stack lightness and colour into one Lab image.

    L: (..., H, W) in [0, 100]; ab: (..., H, W, 2).  Returns (..., H, W, 3) float32.
    """
    L = np.asarray(L, dtype=np.float32)
    ab = np.asarray(ab, dtype=np.float32)
    if L.shape != ab.shape[:-1] or ab.shape[-1] != 2:
        raise ValueError(f"L {L.shape} and ab {ab.shape} do not match: ab must be L.shape + (2,)")
    return np.concatenate([L[..., None], ab], axis=-1)


def split_lab(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split a Lab image (..., 3) into ``L`` (...) and ``ab`` (..., 2), float32."""
    lab = np.asarray(lab, dtype=np.float32)
    return lab[..., 0], lab[..., 1:]


def encode_lab8(L: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lab units -> the Kaggle/OpenCV 8-bit encoding.

    L: (...) in [0, 100] -> L8 uint8 = round(L * 255 / 100).
    ab: (..., 2) -> ab8 uint8 = round(ab + 128), clipped to [0, 255].
    """
    L8 = np.clip(np.rint(np.asarray(L, dtype=np.float32) * (255.0 / 100.0)), 0, 255)
    ab8 = np.clip(np.rint(np.asarray(ab, dtype=np.float32) + 128.0), 0, 255)
    return L8.astype(np.uint8), ab8.astype(np.uint8)


def decode_lab8(L8: np.ndarray, ab8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Kaggle/OpenCV 8-bit encoding -> Lab units (inverse of :func:`encode_lab8`).

    L8: (...) uint8 -> L float32 in [0, 100]; ab8: (..., 2) uint8 -> ab float32 in [-128, 127].
    The round trip is exact up to the 8-bit step (0.39 in L, 1 in a and b).
    """
    L8, ab8 = np.asarray(L8), np.asarray(ab8)
    if L8.dtype != np.uint8 or ab8.dtype != np.uint8:
        raise ValueError(f"8-bit Lab must be uint8, got L8 {L8.dtype} and ab8 {ab8.dtype}")
    L = L8.astype(np.float32) * np.float32(100.0 / 255.0)
    ab = ab8.astype(np.float32) - np.float32(128.0)
    return L, ab


def to_network_scale(L: np.ndarray, ab: np.ndarray | None = None):
    """Lab units -> the network's scaling.

    L: (N, H, W) in [0, 100] -> (N, H, W, 1) float32 in [0, 1].
    ab: (N, H, W, 2) in Lab units -> (N, H, W, 2) float32 in about [-1, 1] (or None).
    Returns ``(L_scaled, ab_scaled)``.
    """
    L_scaled = (np.asarray(L, dtype=np.float32) / np.float32(L_SCALE))[..., None]
    if ab is None:
        return L_scaled, None
    return L_scaled, np.asarray(ab, dtype=np.float32) / np.float32(AB_SCALE)


def from_network_scale(L_scaled: np.ndarray, ab_scaled: np.ndarray):
    """The network's scaling -> Lab units (inverse of :func:`to_network_scale`).

    L_scaled: (N, H, W, 1) or (N, H, W) in [0, 1]; ab_scaled: (N, H, W, 2) in [-1, 1].
    Returns ``(L, ab)``: (N, H, W) in [0, 100] and (N, H, W, 2) in Lab units, float32.
    """
    L = np.asarray(L_scaled, dtype=np.float32)
    if L.ndim >= 1 and L.shape[-1] == 1:
        L = L[..., 0]
    return L * np.float32(L_SCALE), np.asarray(ab_scaled, dtype=np.float32) * np.float32(AB_SCALE)


def lab_parts_to_rgb(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """(L, ab) in Lab units -> RGB float32 in [0, 1]; shapes (..., H, W) and (..., H, W, 2)."""
    return lab_to_rgb(join_lab(L, ab))


def gray_to_rgb(L: np.ndarray) -> np.ndarray:
    """Lightness only (ab = 0) -> the gray RGB image a student sees, float32 in [0, 1]."""
    L = np.asarray(L, dtype=np.float32)
    return lab_parts_to_rgb(L, np.zeros(L.shape + (2,), np.float32))
