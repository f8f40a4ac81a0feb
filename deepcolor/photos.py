"""Reading photos from disk, and cutting them to the model's square size.

Introduced in notebooks ``02_dataset`` (your own photos as a dataset) and
``10_colorize_your_own``.

Only regular files (or links to them) are ever opened as photos: a named pipe, a device or a
socket would block or never end, so it is skipped with a line saying what it is
(:func:`not_a_file`).  A photo with several frames (an animated GIF, a multi-page TIFF) is read at
its first frame, and a note says so (:func:`notes_to`).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import stat
import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from skimage.transform import resize

from .color import as_float_rgb

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
# The raster formats a photo may be in.  Pillow otherwise picks a decoder from the file's content,
# whatever its name: an EPS file named .jpg would be handed to Ghostscript.  MPO is how many
# cameras store JPEGs.
PHOTO_FORMATS = ("JPEG", "MPO", "PNG", "BMP", "GIF", "TIFF", "WEBP")
MIN_SIDE = 32  # below this a picture is an icon, not a photo
MAX_PIXELS = 64_000_000  # 64 megapixels (e.g. 9200x6900); a 48 MP camera photo fits, with room


class PhotoSkipped(ValueError):
    """A file that cannot be used as a colour training photo; the message says why."""


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
MISSING = "missing"


def not_a_file(path) -> str | None:
    """None when ``path`` is a regular file or a link to one; else what it is, for a message:
    :data:`MISSING`, "a link to nothing", "a folder", "a named pipe (FIFO)", "a link to a character
    device (/dev/null)", ...  Never opens ``path`` (opening a named pipe waits for a writer)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a link to nothing" if os.path.islink(path) else MISSING
    except OSError:
        return None  # no permission, a name too long: opening it says why
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"a link to {kind} ({os.path.realpath(path)})" if os.path.islink(path) else kind


def check_regular(path) -> None:
    """Raise :class:`PhotoSkipped` saying what ``path`` is unless it is a regular file or a link to
    one (:func:`not_a_file`); opens nothing."""
    kind = not_a_file(path)
    if kind == MISSING:
        raise PhotoSkipped(f"{path}: no such file")
    if kind is not None:
        raise PhotoSkipped(f"{path}: is {kind}, not a photo file")


def open_regular(path):
    """Open the regular file ``path`` (or the one a link leads to) for reading, in binary; anything
    else raises :class:`PhotoSkipped` saying what it is (:func:`check_regular`), before it is
    opened.  It is opened without blocking and checked again once open, so a pipe put there
    meanwhile cannot block the caller."""
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PhotoSkipped(f"{path}: is not a regular file (it changed while being opened)")
    return os.fdopen(fd, "rb")


_NOTE = contextvars.ContextVar("deepcolor_photo_note", default=None)


@contextlib.contextmanager
def notes_to(note):
    """Within the ``with`` block, :func:`read_photo`'s notes ("photo.gif has 3 frames; used the
    first") go to ``note(line)``; outside any such block they are printed on stderr as
    ``deepcolor: note: ...``.  (``deepcolor colorize`` sends them to its report.)"""
    token = _NOTE.set(note)
    try:
        yield
    finally:
        _NOTE.reset(token)


def _note(line: str) -> None:
    note = _NOTE.get()
    if note is None:
        print(f"deepcolor: note: {line}", file=sys.stderr)
    else:
        note(line)


def read_photo(path, allow_gray: bool = False) -> np.ndarray:
    """Read an image file as RGB.

    Returns (H, W, 3) uint8 for 8-bit files, uint16 for 16-bit grayscale files.  The EXIF
    orientation is applied; RGBA and palette images are composited on white.  Pillow reads 16-bit
    colour PNGs as 8 bits per channel, which is all the 8-bit dataset keeps anyway.  Grayscale
    images (one channel, or three equal channels) raise :class:`PhotoSkipped` unless
    ``allow_gray`` (colorizing a gray photo is the normal case; training on one is not: it has no
    colour to learn from).

    Only the raster formats in :data:`PHOTO_FORMATS` are decoded, whatever the file is named.
    Files that are not one of them, unreadable or truncated files, and images of more than
    :data:`MAX_PIXELS` pixels (checked from the header, before decoding: a small PNG can unpack
    to gigabytes) raise :class:`PhotoSkipped` naming the file and the reason; so do folders, named
    pipes, devices and sockets, which are never opened (:func:`open_regular`).  Of an image with
    several frames (animated GIF, multi-page TIFF) the first is read, with a note (:func:`notes_to`).
    """
    path = Path(path)
    try:
        with warnings.catch_warnings(), open_regular(path) as file:
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file, formats=_registered(PHOTO_FORMATS)) as im:
                _check_size(path, *im.size)
                _note_frames(path, im)
                im.load()
                im = ImageOps.exif_transpose(im)
                rgb = _to_rgb_array(im)
    except PhotoSkipped:
        raise
    except UnidentifiedImageError:
        raise PhotoSkipped(f"{path}: not a readable image in one of the photo formats {', '.join(PHOTO_FORMATS)}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoSkipped(f"{path}: far too many pixels ({exc}); shrink the photo first") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise PhotoSkipped(f"{path}: not a readable image ({exc})") from None
    if rgb.ndim == 2:
        if not allow_gray:
            raise PhotoSkipped(f"{path}: grayscale image, no colour to learn from")
        rgb = np.repeat(rgb[..., None], 3, axis=-1)
    elif not allow_gray and is_gray(rgb):
        raise PhotoSkipped(f"{path}: stored as RGB but all three channels are equal (a gray photo)")
    return rgb


def _registered(formats) -> list[str]:
    """The formats this Pillow knows as such (newer ones read MPO through their JPEG decoder)."""
    Image.init()
    return [f for f in formats if f in Image.OPEN]


def _note_frames(path, im) -> None:
    """A note when ``im`` has several frames (an MPO's extra images are views of the same shot: no
    note)."""
    frames = getattr(im, "n_frames", 1)
    if frames > 1 and im.format != "MPO":
        _note(f"{path} has {frames} frames; used the first")


def _check_size(path, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise PhotoSkipped(
            f"{path}: {width}x{height} is {width * height / 1e6:.1f} megapixels, more than the "
            f"{MAX_PIXELS / 1e6:.0f} megapixel limit (deepcolor.photos.MAX_PIXELS); shrink the photo first"
        )


def _to_rgb_array(im) -> np.ndarray:
    """PIL image -> (H, W, 3) uint8/uint16 RGB, or (H, W) for single-channel images."""
    if im.mode.startswith("I;16") or im.mode == "I":  # 16-bit grayscale: keep the 16-bit scale, even when dark
        return np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
    if im.mode in ("L", "1"):
        return np.asarray(im.convert("L"))
    if im.mode == "LA" or (im.mode == "P" and _palette_is_gray(im)):
        return np.asarray(_on_white(im.convert("LA")).convert("L"))
    if im.mode in ("RGBA", "P", "PA") or "transparency" in im.info:
        return np.asarray(_on_white(im.convert("RGBA")).convert("RGB"))
    return np.asarray(im.convert("RGB"))


def _on_white(im):
    background = Image.new(im.mode, im.size, (255,) * len(im.mode))
    background.alpha_composite(im) if im.mode == "RGBA" else background.paste(im, mask=im.getchannel("A"))
    return background


def _palette_is_gray(im) -> bool:
    palette = np.asarray(im.getpalette() or [], dtype=np.int32).reshape(-1, 3)
    return palette.size > 0 and bool(np.all(palette[:, 0] == palette[:, 1]) and np.all(palette[:, 1] == palette[:, 2]))


def is_gray(rgb: np.ndarray) -> bool:
    """Whether an RGB image (..., 3) has three equal channels: a gray photo stored as colour."""
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def center_square(rgb: np.ndarray, size: int = 224) -> np.ndarray:
    """Crop the largest centred square and resize it to ``size`` x ``size``.

    A non-square photo loses equal strips from both ends of its long side (a 640x427 photo keeps
    its middle 427x427).  Photos smaller than ``size`` are scaled up; smaller than 32 pixels on a
    side raise :class:`PhotoSkipped`.  rgb: (H, W, 3) uint8/uint16/float; returns (size, size, 3)
    float32 in [0, 1].
    """
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise PhotoSkipped(f"{w}x{h} pixels is too small to be a photo (need at least {MIN_SIDE} on a side)")
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = np.clip(as_float_rgb(rgb[top : top + side, left : left + side]), 0.0, 1.0)
    if side == size:
        return square
    return resize(square, (size, size), order=1, anti_aliasing=side > size, preserve_range=True).astype(np.float32)


def list_photos(folder) -> list[Path]:
    """Image files directly in ``folder`` and its subfolders, sorted, by suffix (case-insensitive).

    Links to files are listed (a linked photo is only read); links to folders are not entered,
    since they could loop or lead out of ``folder``: :func:`linked_folders` lists them.  Whatever
    else has a photo's name (a named pipe, a link to a device or to nothing) is listed too, so
    that reading it reports what it is (:func:`read_photo` never opens it) instead of it silently
    missing.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of photos")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES and not p.is_dir())


def linked_folders(folder) -> list[Path]:
    """Links to folders inside ``folder`` (and its real subfolders), which :func:`list_photos` does
    not enter; sorted."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_symlink() and p.is_dir())
