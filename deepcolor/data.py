"""Where the course's photos come from: Kaggle, your own folder, or the built-in sample.

Introduced in notebook ``02_dataset``.  Every source gives the same dataset type,
:class:`~deepcolor.lab_dataset.LabDataset`: ``len(ds)`` images, ``ds[i] -> (L, ab)`` in Lab units,
L (224, 224) float32 in [0, 100] and ab (224, 224, 2) float32 in about [-128, 127].

- :func:`load_kaggle` opens the Kaggle ``image-colorization`` arrays, memory-mapped, and
  :func:`download_kaggle` fetches them (both from :mod:`deepcolor.kaggle`);
- :func:`from_folder` turns a folder of your colour photos into the same layout;
- :func:`sample` makes the built-in offline sample from photos shipped inside installed packages;
- :func:`split` draws the paper's 60/20/20 train/validation/test split.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .color import rgb_to_lab, split_lab
from .kaggle import download_kaggle, find_kaggle_root, find_local_kaggle, load_kaggle
from .lab_dataset import DatasetFormatError, LabDataset, open_layout
from .layout_writer import write_layout
from .photos import PHOTO_SUFFIXES, PhotoSkipped, center_square, linked_folders, list_photos, notes_to, read_photo
from .sample import make_sample

__all__ = [
    "DatasetFormatError", "LabDataset", "Split", "download_kaggle", "find_kaggle_root", "find_local_kaggle",
    "from_folder", "load_kaggle", "sample", "split",
]

def sample(n: int = 48, seed: int = 0, progress=None, held_out: int = 0) -> LabDataset:
    """The built-in offline sample: ``n`` seeded 224x224 crops of real photos, then ``held_out``
    crops per photo from a strip of it no other crop touches (see :mod:`deepcolor.sample`), cached
    under :func:`deepcolor.settings.deepcolor_home`.  Same seed, same bytes."""
    return make_sample(n=n, seed=seed, progress=progress, held_out=held_out)


class FolderReport(NamedTuple):
    dataset: LabDataset
    used: list
    skipped: list  # (path, reason)


def from_folder(src, dst, overwrite: bool = False, progress=None, report=print) -> FolderReport:
    """Convert a folder of colour photos into the Kaggle layout at ``dst`` (224x224 crops).

    Each photo is cut to its largest centred square (a landscape photo loses equal strips left
    and right, a portrait one top and bottom) and resized to 224x224; photos smaller than 224 are
    scaled up, smaller than 32 pixels skipped.  RGBA and palette images are put on white; 16-bit
    colour photos are read at 8 bits per channel (as Pillow does).  Grayscale photos, files that
    are not JPEG/PNG/BMP/GIF/TIFF/WebP whatever their name, unreadable, truncated or oversized
    files (:func:`deepcolor.photos.read_photo`), and any other failure on one photo are skipped and
    reported by name with the reason; one bad photo never stops the conversion.  Links to photos
    are followed; links to folders are not (they could loop or lead out of ``src``) and are
    reported as skipped.  ``dst`` is never overwritten unless ``overwrite=True``, and even then
    only if it is a dataset deepcolor wrote (see :func:`deepcolor.layout_writer.write_layout`); it is
    written atomically, so a failure half-way leaves nothing that looks like a finished dataset.
    ``src`` is only read.  ``progress(done, total)`` is called after each photo, used or skipped;
    ``report(line)`` gets each "skipped" line.
    Returns ``FolderReport(dataset, used, skipped)``.
    """
    src, dst = Path(src), Path(dst)
    if dst.exists() and not overwrite:
        raise FileExistsError(f"{dst} already exists; pass overwrite=True (--force) to replace it")
    if dst.resolve() == src.resolve() or src.resolve() in dst.resolve().parents:
        raise ValueError(f"dst {dst} must not be inside the photo folder {src}")
    if dst.resolve() in src.resolve().parents:
        raise ValueError(f"dst {dst} must not contain the photo folder {src}: choose a new, separate folder")
    paths = list_photos(src)
    if not paths:
        raise FileNotFoundError(f"no photos ({', '.join(PHOTO_SUFFIXES)}) found in {src}")
    used, skipped, items = [], [], []

    def skip(path, reason):
        skipped.append((str(path), reason))
        if report:
            report(f"skipped {path}: {reason}")

    for link in linked_folders(src):
        skip(link, "a link to a folder; links to folders are not followed (copy or move the photos in)")

    def images():
        for done, path in enumerate(paths, start=1):
            try:
                rgb = read_photo(path)
                square = center_square(rgb)
            except PhotoSkipped as exc:
                skip(path, str(exc).removeprefix(f"{path}: "))
                continue
            except Exception as exc:  # one bad photo never stops the conversion
                skip(path, f"{type(exc).__name__}: {exc}")
                continue
            finally:
                if progress is not None:
                    progress(done, len(paths))
            used.append(str(path))
            h, w = rgb.shape[:2]
            items.append({"index": len(items), "photo": str(path.relative_to(src)), "size": [w, h]})
            yield split_lab(rgb_to_lab(square))

    manifest = {"source": f"folder:{src.resolve()}", "items": items}
    with notes_to(lambda line: report(f"note: {line}")) if report else contextlib.nullcontext():
        write_layout(dst, len(paths), images(), manifest, overwrite=overwrite)  # the photos are read in here
    return FolderReport(open_layout(dst), used, skipped)


class SplitParts(NamedTuple):
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


class Split(SplitParts):
    """``(train, val, test)`` index arrays, plus ``test_seen``: held-out crops of the training photos
    (:mod:`deepcolor.sample`), empty where the dataset has none (the Kaggle set, your photos).
    Unpacks into three parts, as the paper's split does (notebook 02)."""

    test_seen = np.zeros(0, np.int64)  # none: also what a split made by _make or _replace has

    def __new__(cls, train, val, test, test_seen=None):
        self = super().__new__(cls, train, val, test)
        if test_seen is not None:  # else the class's empty default
            self.test_seen = np.asarray(test_seen, np.int64)
        return self

    def __reduce__(self):
        return Split, (*self, self.test_seen)


def split(n: int, fractions=(0.6, 0.2, 0.2), seed: int = 0, groups=None, held_out=None) -> Split:
    """The paper's random train/validation/test split of ``n`` images (60/20/20 by default).

    Returns a :class:`Split`: disjoint, sorted int64 index arrays ``train``, ``val``, ``test`` and
    ``test_seen`` that together cover range(n); the same arguments always give the same split.

    groups: optional, one label per image (e.g. the source photo of each crop,
    :attr:`deepcolor.lab_dataset.LabDataset.groups`).  Then whole groups are split, never their
    images: no photo has crops in two parts, so the test images are photos the model never saw.
    The parts then hold about, not exactly, the fractions of the images.  Our choice; the paper
    split its images at random, which is right for the Kaggle set (one image per photo).

    held_out: optional (n,) bool, the held-out crops (:attr:`~deepcolor.lab_dataset.LabDataset.held_out`;
    needs ``groups``).  Then the photos themselves are split 60/20/20 by count (the sample has a
    dozen, so a split by images could leave one photo to test on); a held-out crop of a training
    photo goes to ``test_seen`` (a view of a photo the model trained on, from a region no training
    crop touches), one of a validation or test photo to that photo's part.  Our choice.
    """
    if held_out is not None:
        return _split_held_out(n, fractions, seed, groups, np.asarray(held_out, bool))
    fractions = np.asarray(fractions, dtype=float)
    if fractions.shape != (3,) or np.any(fractions < 0) or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"fractions must be three non-negative numbers adding up to 1, got {tuple(fractions)}")
    if n < 3:
        raise ValueError(f"need at least 3 images to split into train/val/test, got {n}")
    if groups is not None:
        return _split_groups(np.asarray(groups), n, fractions, seed)
    order = np.random.default_rng(seed).permutation(n)
    sizes = [int(round(n * fractions[0])), int(round(n * fractions[1]))]
    sizes.append(n - sum(sizes))
    for k in range(3):  # rounding may leave a part empty (or the last one short): borrow from the largest
        least = 1 if fractions[k] > 0 else 0
        if sizes[k] < least:
            sizes[int(np.argmax(sizes))] -= least - sizes[k]
            sizes[k] = least
    n_train, n_val = sizes[0], sizes[1]
    return Split(*(np.sort(part) for part in np.split(order, [n_train, n_train + n_val])))


def _split_held_out(n: int, fractions, seed: int, groups, held: np.ndarray) -> Split:
    if groups is None or held.shape != (n,):
        raise ValueError(f"held_out needs groups and one flag per image ({n}), got shape {held.shape}")
    groups = np.asarray(groups)
    photos = np.unique(groups[~held])
    labels = [photos[part] for part in split(len(photos), fractions, seed)]
    train, val, test = (np.flatnonzero(np.isin(groups, part_labels) & (~held | (k > 0)))
                        for k, part_labels in enumerate(labels))
    test_seen = np.flatnonzero(np.isin(groups, labels[0]) & held)
    return Split(train, val, test, test_seen)


def _split_groups(groups: np.ndarray, n: int, fractions: np.ndarray, seed: int) -> Split:
    """Whole groups to each part, in a seeded random order, each part filled up to its share of the
    images; every part asked for gets at least one group."""
    if groups.shape != (n,):
        raise ValueError(f"groups must give one label per image: {n} labels expected, got shape {groups.shape}")
    labels = np.unique(groups)
    wanted = int(np.count_nonzero(fractions))
    if len(labels) < wanted:
        raise ValueError(f"{len(labels)} source photos cannot fill {wanted} parts: a photo is never split "
                         "between parts; use more photos")
    order = labels[np.random.default_rng(seed).permutation(len(labels))]
    sizes = [int(np.sum(groups == label)) for label in order]
    parts, part, filled = [[], [], []], 0, 0
    ends = np.cumsum(fractions) * n
    for k, (label, size) in enumerate(zip(order, sizes)):
        left = len(order) - k  # groups still to place, this one included
        needing = sum(1 for j in range(part + 1, 3) if fractions[j] > 0)
        while part < 2 and (fractions[part] == 0 or (parts[part] and (filled >= ends[part] or left <= needing))):
            part += 1
            needing = sum(1 for j in range(part + 1, 3) if fractions[j] > 0)
        parts[part].append(label)
        filled += size
    return Split(*(np.flatnonzero(np.isin(groups, p)).astype(np.int64) for p in parts))
