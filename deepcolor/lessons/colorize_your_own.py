"""The bookkeeping of notebook ``10_colorize_your_own`` around the colorizer: which photo to
colorize when you upload none, saving the photo you upload, the before-and-after figure, and the
command line that colorizes a folder.

The colorizing itself is in the notebook's own cells (``colorize.lightness``, ``embeddings.Embedder``,
``predict.predict_ab``, ``color.lab_parts_to_rgb``) and in :mod:`deepcolor.colorize` (``Colorizer``,
``colorize``: ``deepcolor colorize``).  Images are RGB: (H, W, 3) uint8, or float in [0, 1].
"""

from __future__ import annotations

import shlex
import textwrap
from pathlib import Path
from typing import NamedTuple

import numpy as np
import skimage.data
from PIL import Image

from ..color import gray_to_rgb, lab_parts_to_rgb, rgb_to_lab
from ..files import write_bytes
from ..photos import is_gray
from ..sample import source_photos
from ..settings import deepcolor_home
from .figures import new_figure

__all__ = ["UnseenPhoto", "colorize_command", "photo_from_upload", "show_before_after", "unseen_photo"]


class UnseenPhoto(NamedTuple):
    """A photo no training image of a split comes from (:func:`unseen_photo`).  name: a file stem
    ("chelsea"); rgb: (H, W, 3) uint8; why: one sentence saying why the model has never seen it."""

    name: str
    rgb: np.ndarray
    why: str


def unseen_photo(ds, split) -> UnseenPhoto:
    """The photo of the first test image of ``split``: one the model has never seen (notebook 10).

    For the built-in sample (whose manifest names each crop's photo) it is that whole source photo at
    full resolution (:func:`deepcolor.sample.source_photos`; under seed 0, chelsea): no crop of it
    was used in training.  For any other dataset (the Kaggle set, your folder) it is the test image
    itself, (224, 224, 3), never used in training.
    """
    index = int(np.asarray(split[2])[0])
    items = ds.manifest.get("items") or []
    photo = items[index].get("photo") if ds.manifest.get("source") == "sample" and index < len(items) else None
    found = [p for p in source_photos() if p.name == photo]
    if found:
        return UnseenPhoto(photo, found[0].load(), f"no: {photo} is a test photo of the built-in sample, "
                                                   "and no crop of it was used in training")
    L, ab = ds.batch([index])
    rgb = np.round(lab_parts_to_rgb(L[0], ab[0]) * 255).astype(np.uint8)
    return UnseenPhoto(f"test_image_{index}", rgb, f"no: image {index} of the dataset is in the test split, "
                                                   "never used in training")


def photo_from_upload(value, folder=None, unseen=None) -> Path:
    """Save an ``ipywidgets.FileUpload`` value (a tuple of {"name", "content"} dicts) to ``folder``
    (default ``<deepcolor home>/uploads``) and return the first photo's path (notebook 10).

    With nothing uploaded (an empty value, as under nbval) it saves and returns ``unseen`` (an
    :class:`UnseenPhoto`, a photo the model has never seen) as ``<name>.png`` instead, so the notebook
    always has a photo to colorize; without ``unseen``, scikit-image's ``coffee`` photo (600x400, CC0:
    one of the built-in sample's photos, which a model may have trained on).
    """
    folder = Path(folder or deepcolor_home() / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    files = list(value or ())
    if files:
        item = files[0]
        if not isinstance(item, dict) or "content" not in item:
            raise ValueError("expected FileUpload.value: a tuple of dicts with 'name' and 'content' (ipywidgets 8)")
        name = Path(str(item.get("name") or "")).name  # never a path: "../x" is saved as "x"
        path = folder / (name if name not in ("", ".", "..") else "upload")
        write_bytes(path, bytes(item["content"]))  # atomic; a link there is replaced, not followed
        return path
    if unseen is not None:
        path = folder / f"{unseen.name}.png"
        Image.fromarray(np.asarray(unseen.rgb, np.uint8)).save(path)
        return path
    path = folder / "coffee.png"
    if not path.is_file():
        Image.fromarray(skimage.data.coffee()).save(path)
    return path


def show_before_after(rgb_in, rgb_out, max_side=1200, caption=None):
    """The gray input (what the model sees), the colorization and, if the input had colour, the
    original, side by side and drawn pixel for pixel (notebook 10).

    rgb_in: (H, W, 3) or (H, W) uint8 or float in [0, 1]; rgb_out: (H, W, 3) float in [0, 1].
    Photos whose longer side exceeds ``max_side`` are drawn scaled down (the arrays keep their size).
    caption: text above the panels, e.g. :func:`deepcolor.lessons.figures.caption` of the model's
    profile, so a colorization by a smoke-profile model says so.
    Returns a Figure with 2 or 3 image axes.
    """
    rgb_in, rgb_out = np.asarray(rgb_in), np.asarray(rgb_out)
    if rgb_in.ndim == 2:
        rgb_in = np.repeat(rgb_in[..., None], 3, axis=-1)
    if rgb_in.ndim != 3 or rgb_in.shape[-1] != 3 or rgb_out.shape != rgb_in.shape:
        raise ValueError(f"need rgb_in (H, W, 3) or (H, W) and rgb_out of the same (H, W, 3) shape, "
                         f"got {rgb_in.shape} and {rgb_out.shape}")
    gray = gray_to_rgb(rgb_to_lab(rgb_in)[..., 0])
    panels = {"gray input (its lightness: all the model gets)": gray, "colorized": rgb_out}
    if not is_gray(rgb_in):
        panels["original"] = rgb_in
    h, w = rgb_in.shape[:2]
    scale, dpi, title_px = min(1.0, max_side / max(h, w)), 100, 30
    width_in = len(panels) * w * scale / dpi
    lines = textwrap.wrap(str(caption), width=max(40, int(width_in * 13))) if caption else []
    caption_px = 18 * len(lines) + 8 if lines else 0
    height_px = h * scale + title_px + caption_px
    fig = new_figure(figsize=(width_in, height_px / dpi), dpi=dpi)
    for i, (title, image) in enumerate(panels.items()):
        ax = fig.add_axes((i / len(panels), 0, 1 / len(panels), h * scale / height_px))
        ax.imshow(image, interpolation="nearest" if scale == 1 else "antialiased")
        ax.set_axis_off()
        ax.set_title(title, fontsize=10)
    if lines:
        fig.text(0.5, 1 - 4 / height_px, "\n".join(lines), ha="center", va="top", fontsize=10)
    return fig


def colorize_command(model_path, photo="PHOTO", outdir="OUTDIR", force: bool = False) -> str:
    """The shell command that colorizes ``photo`` into ``outdir`` as notebook 10's call of
    :func:`deepcolor.colorize.colorize` does: ``deepcolor colorize PHOTO -o OUTDIR --model
    RUN_DIR/model.keras``, and ``--force`` (replace an earlier output) with ``force``.  Paths are
    written as given: pass absolute ones for a command that works from any folder."""
    words = ["deepcolor", "colorize", str(photo), "-o", str(outdir), "--model", str(model_path)]
    return shlex.join(words + (["--force"] if force else []))
