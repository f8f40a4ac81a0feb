"""Colorize your own photos with a trained model, at the photo's full resolution.

Introduced in notebook ``10_colorize_your_own``; the same as ``deepcolor colorize IMG... -o OUT
--model PATH`` on the command line.

The model sees the photo's lightness resized to its input size (e.g. 224x224); the predicted
colour (a, b) is upsampled back to the photo's own size and put on the photo's full-resolution
lightness.  So the output has the input's size and its lightness (up to the clipping of colours
outside the RGB gamut and 8-bit rounding): only colour is added.
Colour varies slowly compared with detail, which is why this works (and why JPEG does the same).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .color import lab_parts_to_rgb, rgb_to_lab, split_lab
from .photos import read_photo


def _check_model(model, path) -> int:
    """The model's input size; a clear error if it is not one of the course's colorizers."""
    shapes = [tuple(t.shape[1:]) for t in model.inputs]
    out = tuple(model.outputs[0].shape[1:]) if model.outputs else ()
    ok = len(shapes) == 2 and len(shapes[0]) == 3 and shapes[0][-1] == 1 and shapes[1] == (1000,) and out[-1:] == (2,)
    if not ok:
        raise ValueError(
            f"{path} is not a DeepColor colorization model: expected inputs [L (S, S, 1), embedding (1000,)] "
            f"and output ab (S, S, 2), found inputs {shapes} and output {out}; train one with `deepcolor train`"
        )
    return shapes[0][0]


def load_colorizer(path):
    """Load a ``.keras`` model written by :func:`deepcolor.train.train`; clear errors if the file
    is missing or is not a colorization model.  Returns the Keras model."""
    import keras

    from . import models  # noqa: F401  (registers the fusion layer for loading)

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}; train one with `deepcolor train` (it writes model.keras in the run folder)")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise ValueError(f"cannot load {path} as a Keras model ({type(exc).__name__}: {exc}); expected a .keras file from `deepcolor train`") from None
    _check_model(model, path)
    return model


def embedding_mode_of(model_path) -> str | None:
    """The embedding mode recorded in the run folder next to ``model_path`` (run.json), if any."""
    from .embeddings import MODES

    record = Path(model_path).with_name("run.json")
    if record.is_file():
        mode = json.loads(record.read_text()).get("embedding_mode")
        return mode if mode in MODES else None  # e.g. "unknown" when train() was not told
    return None


class Colorizer:
    """A trained model plus the embedder it was trained with.

    model: a Keras model or a path to ``.keras``; embedding_mode: "imagenet", "untrained" or
    "none" (default: what the run folder's run.json records, else "untrained").
    """

    def __init__(self, model, embedding_mode: str | None = None):
        from .embeddings import Embedder

        if isinstance(model, (str, Path)):
            embedding_mode = embedding_mode or embedding_mode_of(model)
            model = load_colorizer(model)
        self.model = model
        _check_model(model, "the model")
        self.embedding_mode = embedding_mode or "untrained"
        self.embedder = Embedder(self.embedding_mode)

    def colorize_array(self, rgb: np.ndarray) -> np.ndarray:
        """Colorize one photo.  rgb: (H, W, 3) uint8/uint16/float in [0, 1] (its colour, if any,
        is ignored) or (H, W) gray.  Returns (H, W, 3) float32 RGB in [0, 1] with the input's
        lightness and size."""
        from .metrics import predict_ab

        rgb = np.asarray(rgb)
        if rgb.ndim == 2:
            rgb = np.repeat(rgb[..., None], 3, axis=-1)
        L = split_lab(rgb_to_lab(rgb))[0][None]
        embedding = self.embedder.embed(L, progress=False)
        ab = predict_ab(self.model, L, embedding)
        return lab_parts_to_rgb(L[0], ab[0])

    def colorize_file(self, src, outdir, force: bool = False) -> Path:
        """Colorize the photo at ``src`` into ``outdir/<name>_colorized.png``; never overwrites
        an existing file unless ``force``.  Returns the output path."""
        from PIL import Image

        src = Path(src)
        out = Path(outdir) / f"{src.stem}_colorized.png"
        if out.exists() and not force:
            raise FileExistsError(f"{out} already exists; pass force=True (--force) to overwrite it")
        rgb = self.colorize_array(read_photo(src, allow_gray=True))
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.round(rgb * 255).astype(np.uint8)).save(out)
        return out


def colorize(paths, outdir, model_path, force: bool = False, embedding_mode: str | None = None, report=print):
    """Colorize each photo in ``paths`` into ``outdir`` with the model at ``model_path``.

    Photos that cannot be read are reported and skipped.  Returns the list of written paths.
    """
    from .photos import PhotoSkipped

    outdir = Path(outdir)
    targets = [outdir / f"{Path(p).stem}_colorized.png" for p in paths]
    twins = sorted({str(t) for t in targets if targets.count(t) > 1})
    if twins:
        raise ValueError(f"several photos would be written to {', '.join(twins)} (same file name): "
                         "colorize them into different folders")
    clashes = [str(t) for t in targets if t.exists()]
    if clashes and not force:
        raise FileExistsError(f"would overwrite {', '.join(clashes)}; pass --force to overwrite")
    colorizer = Colorizer(model_path, embedding_mode)
    written = []
    for path in paths:
        try:
            out = colorizer.colorize_file(path, outdir, force=force)
        except PhotoSkipped as exc:
            report(f"skipped {exc}")
            continue
        report(f"{path} -> {out}")
        written.append(out)
    return written
