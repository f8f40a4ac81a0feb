"""Colorize your own photos with a trained model, at the photo's full resolution.

Introduced in notebook ``10_colorize_your_own``; the same as ``deepcolor colorize IMG... -o OUT
--model PATH`` on the command line.  The model is either one of the paper's (MSE, output ab) or a
classifier (notebook ``11_colour_as_classes``, output Q colour-class probabilities at half the
input size), read with the annealed mean at a temperature (``--temperature``, default 0.38).

The model sees the photo's lightness resized to its input size (e.g. 224x224); the predicted
colour (a, b) is upsampled back to the photo's own size and put on the photo's full-resolution
lightness.  So the output has the input's size and its lightness (up to the clipping of colours
outside the RGB gamut and 8-bit rounding): only colour is added.
Colour varies slowly compared with detail, which is why this works (and why JPEG does the same).

Besides the photo's own 8-bit pixels, only its lightness and its upsampled colour exist at full
size, as float32 (12 bytes a pixel); the conversions between RGB and Lab run band by band
(:func:`in_bands`), so a 48 megapixel photo needs under 3 GB in all, the models included
(``benchmarks/colorize_memory.py`` measures it).

What :func:`colorize` promises about files (:mod:`deepcolor.colorize_files`):

- one run at a time per output folder: a second is refused at once, naming the first (process,
  host, since when); nothing of either run is mixed (:func:`deepcolor.locks.writer`);
- outputs are written atomically, with the umask's mode (0644 under umask 022), replacing a link
  instead of writing through it, and nothing is overwritten without ``force``; temporary files
  left by a killed run are removed;
- one bad photo never stops the batch, it is a "skipped" line: unreadable, too large, not a
  regular file (a named pipe, a device: never opened, so never a hang), an output of deepcolor
  colorize (by name or by the mark in its PNG metadata), or an output name the file system
  refuses (too long);
- a photo with several frames (GIF, TIFF) is colorized at its first, with a note saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from .ab_bins import ZHANG_T, ab_bins
from .color import lab_parts_to_rgb, rgb_to_lab
from .colorize_files import (check_clashes, check_twins, expand_photos, output_path, sweep_leftovers, taken,
                             why_not_to_colorize, write_failure, write_png)
from .embeddings import MODES, Embedder
from .files import make_folder
from .locks import writer
from .photos import MISSING, PhotoSkipped, not_a_file, notes_to, read_photo
from .predict import predict_ab
from .runs import record_beside, recorded_embedding_mode

BAND_PIXELS = 1 << 20  # the Lab conversions run on bands of rows of about one megapixel at a time


def _check_model(model, path) -> str:
    """The model's head, "mse" (output ab, 2 channels) or "classify" (Q > 2 class probabilities);
    a clear error if it is not one of the course's colorizers."""
    shapes = [tuple(t.shape[1:]) for t in model.inputs]
    out = tuple(model.outputs[0].shape[1:]) if model.outputs else ()
    inputs_ok = len(shapes) == 2 and len(shapes[0]) == 3 and shapes[0][-1] == 1 and shapes[1] == (1000,)
    head = None
    if len(out) == 3 and out[-1] == 2:
        head = "mse"
    elif len(out) == 3 and out[-1] is not None and out[-1] > 2:
        head = "classify"
    if not inputs_ok or head is None:
        raise ValueError(
            f"{path} is not a DeepColor colorization model: expected inputs [L (S, S, 1), embedding (1000,)] "
            f"and output ab (S, S, 2) or colour-class probabilities (S/2, S/2, Q), found inputs {shapes} "
            f"and output {out}; train one with `deepcolor train`"
        )
    return head


def load_colorizer(path):
    """Load a ``.keras`` model written by :func:`deepcolor.train.train` (MSE or classifier); clear
    errors if the file is missing, a folder, not a regular file or unreadable (naming the fix), or is not a
    colorization model.  Returns the Keras model."""
    import keras

    from . import models  # noqa: F401  (registers the fusion layer for loading)

    path = Path(path)
    _check_readable(path)
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise ValueError(f"cannot load {path} as a Keras model ({type(exc).__name__}: {exc}); expected a .keras file from `deepcolor train`") from None
    _check_model(model, path)
    return model


def _check_readable(path: Path) -> None:
    """A clear error unless ``path`` is a model file deepcolor can read: missing, a folder, a named
    pipe or a device, or a file without read permission each say so, and what to do."""
    kind = not_a_file(path)
    trained = "`deepcolor train` writes model.keras in the run folder"
    if kind == MISSING:
        raise FileNotFoundError(f"no model file at {path}; train one with `deepcolor train` (it writes model.keras in "
                                "the run folder)")
    if kind == "a folder":
        inside = path / "model.keras"
        raise IsADirectoryError(f"{path} is a folder, not a model file; give the model file itself"
                                + (f", e.g. {inside}" if inside.is_file() else f" ({trained})"))
    if kind is not None:
        raise ValueError(f"{path} is {kind}, not a model file; give the model file itself ({trained})")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise PermissionError(f"cannot read the model file {path}: permission denied; make it readable "
                              f"(chmod u+r {path}), or ask its owner for a copy") from None
    except OSError as exc:
        raise OSError(f"cannot read the model file {path}: {exc.strerror or exc}; copy it again from its "
                      "run folder") from None


def embedding_mode_of(model_path) -> str | None:
    """The embedding mode recorded in the run folder next to ``model_path`` (its run record), if any."""
    mode = recorded_embedding_mode(model_path)
    return mode if mode in MODES else None  # e.g. "unknown" when train() was not told


def recorded_bins(model_path):
    """The (Q, 2) ab bins a classifier was trained on, from the run record next to
    ``model_path`` (its ``classify`` setting's grid); the default ``ab_bins()`` when there is no
    ``model_path``, no record or it names no grid (notebook 11_colour_as_classes, ``deepcolor colorize``)."""
    record = (record_beside(model_path) if model_path is not None else None) or {}
    grid = (record.get("classify") or {}).get("grid") if record.get("head") == "classify" else None
    return ab_bins() if grid is None else ab_bins(grid)


def in_bands(fn: Callable, out: np.ndarray, *arrays: np.ndarray, band_pixels: int = BAND_PIXELS) -> np.ndarray:
    """``out[rows] = fn(*(a[rows] for a in arrays))`` for bands of rows of about ``band_pixels``
    (notebook ``10_colorize_your_own``).

    out and arrays: images (H, W, ...) with the same H and W.  A per-pixel ``fn`` (a colour
    conversion) gives the same result as on the whole image, with its temporaries (float64 inside
    scikit-image) the size of one band instead of the whole photo.  Returns ``out``.
    """
    height, width = out.shape[:2]
    rows = max(1, band_pixels // max(width, 1))
    for top in range(0, height, rows):
        band = slice(top, top + rows)
        out[band] = fn(*(a[band] for a in arrays))
    return out


def lightness(rgb: np.ndarray) -> np.ndarray:
    """A photo's Lab lightness, computed band by band (notebook ``10_colorize_your_own``).

    rgb: (H, W, 3) uint8, uint16 or float in [0, 1], or (H, W) gray.  Returns L (H, W) float32 in
    [0, 100], the same as ``split_lab(rgb_to_lab(rgb))[0]``.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim not in (2, 3):
        raise ValueError(f"expected a photo (H, W, 3) or gray (H, W), got shape {rgb.shape}")
    return in_bands(_band_lightness, np.empty(rgb.shape[:2], np.float32), rgb)


def _band_lightness(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=-1)
    return rgb_to_lab(rgb)[..., 0]


def _band_to_rgb8(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    return np.round(lab_parts_to_rgb(L, ab) * 255).astype(np.uint8)


class Colorizer:
    """A trained model plus the embedder it was trained with.

    model: a Keras model or a path to ``.keras``, MSE or classifier (``head`` says which);
    embedding_mode: "imagenet", "untrained" or "none" (default: what the run folder's run record
    says, else "untrained").  temperature: how a classifier's distribution is read, the annealed
    mean's T > 0 (default :data:`deepcolor.ab_bins.ZHANG_T`, 0.38; 1 = the mean, washed out;
    small = near the mode, vivid); an MSE model has no distribution, and refuses one.
    """

    def __init__(self, model, embedding_mode: str | None = None, temperature: float | None = None):
        path = None
        if isinstance(model, (str, Path)):
            path = model
            embedding_mode = embedding_mode or embedding_mode_of(path)
            model = load_colorizer(path)
        where = path or "the model"
        self.model = model
        self.head = _check_model(model, where)
        self.temperature, self.predictor = None, model
        if self.head == "mse" and temperature is not None:
            raise ValueError(f"{where} is an MSE model (it predicts ab directly, a 2-channel tanh output): a "
                             "temperature only applies to a classifier (a Q-way softmax output); leave out "
                             "the temperature argument")
        if self.head == "classify":
            from .classify import AnnealedColorizer

            bins = recorded_bins(path)
            classes = model.outputs[0].shape[-1]
            if classes != len(bins):
                raise ValueError(f"{where} outputs {classes} colour classes, but the ab bins it would be read with "
                                 f"number {len(bins)}: keep the model in its run folder, whose run.json names its bins")
            self.temperature = ZHANG_T if temperature is None else temperature
            self.predictor = AnnealedColorizer(model, self.temperature, bins)
        self.embedding_mode = embedding_mode or "untrained"
        self.embedder = Embedder(self.embedding_mode)

    def predict_ab(self, L: np.ndarray) -> np.ndarray:
        """Colour for one photo's lightness (notebook ``10_colorize_your_own``).  L: (H, W) float32
        in [0, 100].  Returns ab (H, W, 2) float32 in Lab units, about [-128, 127]: predicted at
        the model's input size (a classifier: at half of it, read with the annealed mean) and
        bilinearly upsampled to (H, W)."""
        embedding = self.embedder.embed(L[None])
        return predict_ab(self.predictor, L[None], embedding)[0]

    def colorize_array(self, rgb: np.ndarray) -> np.ndarray:
        """Colorize one photo.  rgb: (H, W, 3) uint8/uint16/float in [0, 1] (its colour, if any,
        is ignored) or (H, W) gray.  Returns (H, W, 3) float32 RGB in [0, 1] with the input's
        lightness and size."""
        L = lightness(rgb)
        ab = self.predict_ab(L)
        return in_bands(lab_parts_to_rgb, np.empty(L.shape + (3,), np.float32), L, ab)

    def colorize_photo(self, src) -> np.ndarray:
        """Read the photo at ``src`` and colorize it (notebook ``10_colorize_your_own``).
        Returns (H, W, 3) uint8 RGB with the photo's size, ready to save.  Besides the 8-bit input
        and output, only the lightness and the colour (float32, 12 bytes a pixel) are kept at full
        size.  Unreadable photos raise :class:`deepcolor.photos.PhotoSkipped`."""
        L = lightness(read_photo(src, allow_gray=True))
        ab = self.predict_ab(L)
        return in_bands(_band_to_rgb8, np.empty(L.shape + (3,), np.uint8), L, ab)

    def colorize_file(self, src, outdir, force: bool = False) -> Path:
        """Colorize the photo at ``src`` into ``outdir/<name>_colorized.png``; never overwrites
        an existing file (or link) unless ``force``, and then replaces it without following a
        link.  Returns the output path."""
        out = output_path(src, outdir)
        if taken(out) and not force:
            raise FileExistsError(f"{out} already exists; pass force=True (--force) to overwrite it")
        return write_png(out, self.colorize_photo(src))


class ColorizeReport(NamedTuple):
    """What :func:`colorize` did: the outputs ``written``, and the photos ``skipped`` as
    (path, reason) pairs, in the order given."""

    written: list[Path]
    skipped: list[tuple[str, str]]


def _why(exc: Exception, photo: Path) -> str:
    """A one-line reason for skipping ``photo``, without repeating its path."""
    text = str(exc).removeprefix(f"{photo}: ")
    if isinstance(exc, PhotoSkipped):
        return text
    if isinstance(exc, MemoryError):
        return "not enough memory to colorize it at full resolution (MemoryError); shrink the photo or free memory"
    return f"{text} ({type(exc).__name__})" if text else type(exc).__name__


def _colorize_one(colorizer: Colorizer, photo: Path, out: Path, report) -> str | None:
    """Colorize ``photo`` into ``out``: None when written, else why it was skipped.  Errors of the
    whole output folder (no permission, disk full) are raised (:func:`deepcolor.colorize_files.write_failure`)."""
    try:
        with notes_to(lambda line: report(f"note: {line}")):
            rgb8 = colorizer.colorize_photo(photo)
    except Exception as exc:  # one bad photo (unreadable, too large, a decoder error) never stops the batch
        return _why(exc, photo)
    try:
        write_png(out, rgb8)
    except Exception as exc:  # e.g. an output name too long for the file system
        return write_failure(exc, out)
    return None


def colorize(paths, outdir, model_path, force: bool = False, embedding_mode: str | None = None,
             report=print, temperature: float | None = None) -> ColorizeReport:
    """Colorize each photo in ``paths`` into ``outdir/<name>_colorized.png`` with the model at
    ``model_path`` (notebook ``10_colorize_your_own``; ``deepcolor colorize`` on the command line).

    paths: photo files and folders (a folder stands for the photos in it and its subfolders).
    Nothing is written when two photos share an output name, or (without ``force``) when an
    output exists already, links included; outputs are written atomically, marked as deepcolor's
    in their PNG metadata, and replace a link instead of writing through it.  The run holds the
    lock of ``outdir`` throughout: a second run into it is refused at once
    (:class:`deepcolor.locks.FolderBusyError` naming the first), and temporary files of killed
    runs there are removed.  A photo that cannot be read, colorized or written (an output name
    too long), that is not a regular file (a named pipe, a device: never opened) or that is an
    output of deepcolor colorize is reported (``skipped <path>: <reason>``) and the others go on;
    an output folder that cannot be written, or a full disk, stops the run (OSError).
    embedding_mode: default, the one recorded in the run folder; a different one is reported as
    a warning.  temperature: for a classifier model, the annealed mean's T (default 0.38);
    refused for an MSE model (:class:`Colorizer`).  ``report`` receives one line per photo, and
    notes ("note: a.gif has 3 frames; used the first").  Returns a :class:`ColorizeReport`
    (written, skipped).
    """
    photos = expand_photos(paths)
    unusable = {photo: why for photo in photos if (why := why_not_to_colorize(photo))}
    check_twins([output_path(p, outdir) for p in photos if p not in unusable])
    recorded = embedding_mode_of(model_path)
    if embedding_mode and recorded and embedding_mode != recorded:
        report(f"warning: the model was trained with {recorded} embeddings; colorizing with {embedding_mode} "
               f"gives colours it never learned (leave out --embeddings to use {recorded})")
    colorizer = Colorizer(model_path, embedding_mode, temperature)
    outdir = make_folder(outdir)
    written, skipped = [], []
    with writer(outdir, "colorized photos", inside=True):
        sweep_leftovers(outdir, report)
        check_clashes([output_path(p, outdir) for p in photos if p not in unusable], force)
        for photo in photos:
            out = output_path(photo, outdir)
            reason = unusable.get(photo) or _colorize_one(colorizer, photo, out, report)
            if reason:
                skipped.append((str(photo), reason))
                report(f"skipped {photo}: {reason}")
                continue
            written.append(out)
            report(f"{photo} -> {out}")
    return ColorizeReport(written, skipped)
