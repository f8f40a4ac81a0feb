"""The built-in offline sample: real photographs that ship inside installed packages.

Introduced in notebook ``02_dataset``.

No download is needed: scikit-image, matplotlib and scikit-learn carry a dozen colour
photographs.  :func:`make_sample` cuts seeded random 224x224 crops from them (random scale,
position and horizontal flip) and writes them once, in the Kaggle layout, to a cache folder with a
manifest naming each crop's source photo, licence and box in the photo.  The same seed gives the
same bytes.

Each photo keeps a strip along one side (:data:`HELD_OUT_SHARE` of its width or height, the side
whose colours are most like the rest of the photo's: :func:`regions`) that no ordinary crop
touches.  With ``held_out=k``, ``k`` more crops per photo are cut from that strip
and marked ``"held_out": true`` in the manifest: new views of a photo, which
:func:`deepcolor.data.split` makes the ``test_seen`` images of the photos it trains on.  With a
dozen photos the sample cannot teach colorizing photos a network has never seen; the gap between
``test_seen`` and ``test`` shows what it can learn, and why a colorizer needs thousands of photos.
Our design, not the paper's.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import skimage.data
from PIL import Image
from skimage.transform import resize

from .color import rgb_to_lab, split_lab
from .settings import deepcolor_home
from .lab_dataset import IMAGE_SIZE, open_layout
from .layout_writer import write_layout
from .limits import check_sample_size

SAMPLE_VERSION = 4  # 2: each item names its scene; 3: a held-out strip per photo, three more photos; 4: its side
SAMPLE_WAIT_S = 600  # how long a second process making the same sample waits for the first
HELD_OUT_SHARE = 0.3
"""The share of a photo's width or height (the strip's side: :func:`regions`) kept out of the ordinary crops."""


@dataclass(frozen=True)
class SourcePhoto:
    name: str
    load: Callable[[], np.ndarray]  # -> (H, W, 3) uint8
    origin: str
    licence: str
    scene: str = ""  # photos of one scene (a stereo pair) share it; the split keeps a scene in one part


def _skimage(name):
    def load():
        return getattr(skimage.data, name)()

    return load


def _motorcycle(side):
    def load():
        left, right, _ = skimage.data.stereo_motorcycle()
        return left if side == 0 else right

    return load


def _grace_hopper():
    import matplotlib.cbook  # not on import: matplotlib makes its config folder; importing data writes nothing

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f, Image.open(f) as im:
        return np.asarray(im.convert("RGB"))


def _sklearn(index):
    def load():
        from sklearn.datasets import load_sample_images

        return load_sample_images().images[index]

    return load


def source_photos() -> list[SourcePhoto]:
    """The photos the sample is cut from: every colour photograph that scikit-image, matplotlib and
    scikit-learn ship (scikit-learn's two only where it is installed; it is a dependency of the course)."""
    photos = [
        SourcePhoto("astronaut", _skimage("astronaut"), "skimage.data.astronaut()", "public domain (NASA)"),
        SourcePhoto("chelsea", _skimage("chelsea"), "skimage.data.chelsea()", "CC0"),
        SourcePhoto("coffee", _skimage("coffee"), "skimage.data.coffee()", "CC0"),
        SourcePhoto("rocket", _skimage("rocket"), "skimage.data.rocket()", "public domain (SpaceX)"),
        SourcePhoto("motorcycle_left", _motorcycle(0), "skimage.data.stereo_motorcycle()[0]", "Middlebury stereo set",
                    scene="motorcycle"),
        SourcePhoto("motorcycle_right", _motorcycle(1), "skimage.data.stereo_motorcycle()[1]", "Middlebury stereo set",
                    scene="motorcycle"),
        SourcePhoto("grace_hopper", _grace_hopper, "matplotlib.cbook.get_sample_data('grace_hopper.jpg')", "public domain (US Navy)"),
        SourcePhoto("hubble_deep_field", _skimage("hubble_deep_field"), "skimage.data.hubble_deep_field()",
                    "public domain (NASA)"),
        SourcePhoto("retina", _skimage("retina"), "skimage.data.retina()", "CC0 (Mikael Häggström)"),
        SourcePhoto("immunohistochemistry", _skimage("immunohistochemistry"), "skimage.data.immunohistochemistry()",
                    "no known copyright restrictions (CMMI)"),
    ]
    if importlib.util.find_spec("sklearn") is not None:
        photos += [
            SourcePhoto("china", _sklearn(0), "sklearn.datasets.load_sample_images() china.jpg", "CC-BY 2.0"),
            SourcePhoto("flower", _sklearn(1), "sklearn.datasets.load_sample_images() flower.jpg", "CC-BY 2.0"),
        ]
    return photos


def random_crop(rgb: np.ndarray, rng: np.random.Generator, size: int = IMAGE_SIZE):
    """A random square crop, resized to ``size`` and maybe flipped horizontally.

    The side is drawn between max(half the short side, ``size``) and the whole short side (for a
    photo shorter than ``size``, the whole short side), so crops are never upscaled much.

    rgb: (H, W, 3) uint8.  Returns ((size, size, 3) float32 in [0, 1], crop description dict).
    """
    h, w = rgb.shape[:2]
    short = min(h, w)
    side = int(rng.integers(max(short // 2, min(size, short)), short + 1))
    top = int(rng.integers(0, h - side + 1))
    left = int(rng.integers(0, w - side + 1))
    flip = bool(rng.integers(0, 2))
    crop = rgb[top : top + side, left : left + side].astype(np.float32) / 255.0
    crop = resize(crop, (size, size), order=1, anti_aliasing=side > size, preserve_range=True)
    if flip:
        crop = crop[:, ::-1]
    return np.clip(crop, 0, 1).astype(np.float32), {"top": top, "left": left, "side": side, "flip": flip}


def strips(shape) -> dict:
    """The four candidate held-out strips of a photo of ``shape`` (H, W, ...), by side, each as a
    pair of (top, left, height, width) boxes: (the rest of the photo, the strip), the strip being
    :data:`HELD_OUT_SHARE` of the photo's width (left, right) or height (top, bottom)."""
    h, w = shape[:2]
    dw, dh = int(round(w * HELD_OUT_SHARE)), int(round(h * HELD_OUT_SHARE))
    return {"left": ((0, dw, h, w - dw), (0, 0, h, dw)), "right": ((0, 0, h, w - dw), (0, w - dw, h, dw)),
            "top": ((dh, 0, h - dh, w), (0, 0, dh, w)), "bottom": ((0, 0, h - dh, w), (h - dh, 0, dh, w))}


def regions(rgb: np.ndarray) -> tuple[tuple, tuple]:
    """The ordinary and the held-out region of a photo, as (top, left, height, width) boxes.

    rgb: (H, W, 3) uint8.  The held-out strip is the one of :func:`strips` whose colours are most
    like the rest of the photo's (closest mean a, b and mean chroma, in Lab units), so that its
    crops show the photo's colours rather than an odd edge (the astronaut's right edge is the
    gray shuttle).  Our choice.
    """
    lab = rgb_to_lab(rgb[::4, ::4])  # every 4th pixel: the colours, quickly
    ab, chroma = lab[..., 1:], np.linalg.norm(lab[..., 1:], axis=-1)

    def stats(box):
        top, left, height, width = (v // 4 for v in box)
        cut = (slice(top, top + max(height, 1)), slice(left, left + max(width, 1)))
        return np.array([*ab[cut].reshape(-1, 2).mean(axis=0), chroma[cut].mean()])

    def unlike(pair):
        return float(np.abs(stats(pair[0]) - stats(pair[1])).sum())

    return min(strips(rgb.shape).values(), key=unlike)


def crop_in(rgb: np.ndarray, box, rng: np.random.Generator):
    """:func:`random_crop` inside ``box`` (top, left, height, width) of ``rgb``; the crop's
    description gives its box in the whole photo."""
    top, left, height, width = box
    crop, where = random_crop(rgb[top : top + height, left : left + width], rng)
    return crop, {**where, "top": where["top"] + top, "left": where["left"] + left}


def sample_dir(n: int, seed: int, photos: list[SourcePhoto], held_out: int = 0) -> Path:
    names = ",".join(p.name for p in photos)
    key = hashlib.sha1(f"v{SAMPLE_VERSION}:{names}".encode()).hexdigest()[:8]
    extra = f"-held{held_out}" if held_out else ""
    return deepcolor_home() / f"sample-n{n}{extra}-seed{seed}-{key}"


def make_sample(n: int = 48, seed: int = 0, progress=None, held_out: int = 0):
    """The built-in sample as a :class:`~deepcolor.lab_dataset.LabDataset` of 224x224 crops:
    ``n`` ordinary crops, then ``held_out`` crops per photo from its held-out strip (:func:`regions`).

    Written once to ``deepcolor_home()/sample-n{n}[-held{k}]-seed{seed}-<photo set>`` and reused.
    Ordinary crops go round-robin over the source photos, so every photo is represented.
    ``progress(done, total)`` is called after each image when given.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    check_sample_size(n)
    if held_out < 0:
        raise ValueError(f"held_out must be 0 or more crops per photo, got {held_out}")
    photos = source_photos()
    dst = sample_dir(n, seed, photos, held_out)
    total = n + held_out * len(photos)
    if not dst.exists():
        rng = np.random.default_rng(seed)
        items = []
        plan = [(photos[i % len(photos)], 0) for i in range(n)] + [(p, 1) for p in photos for _ in range(held_out)]

        def images():
            loaded, boxes = {}, {}
            for i, (photo, region) in enumerate(plan):
                if photo.name not in loaded:
                    loaded[photo.name] = photo.load()
                    boxes[photo.name] = regions(loaded[photo.name])
                rgb = loaded[photo.name]
                crop, where = crop_in(rgb, boxes[photo.name][region], rng)
                items.append({"index": i, "photo": photo.name, "scene": photo.scene or photo.name,
                              "origin": photo.origin, "licence": photo.licence, **where,
                              **({"held_out": True} if region else {})})
                yield split_lab(rgb_to_lab(crop))

        manifest = {"source": "sample", "seed": seed, "version": SAMPLE_VERSION, "held_out_share": HELD_OUT_SHARE,
                    "items": items}
        try:  # another process writing the same sample is waited for (ten minutes at most)
            write_layout(dst, total, images(), manifest, progress=progress, wait=SAMPLE_WAIT_S)
        except FileExistsError:
            pass  # another process wrote it meanwhile: same seed, same bytes
    return open_layout(dst, source="sample")
