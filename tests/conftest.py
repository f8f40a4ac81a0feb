"""Fixtures shared by every test file.

- ``deepcolor_home`` (session, autouse): ``DEEPCOLOR_HOME`` points at a temporary folder for the
  whole test session, so no test reads or writes the user's real cache (``~/.cache/deepcolor``).
  A test that needs a second, fresh home sets its own with ``monkeypatch.setenv``.
- ``offline_session`` (session, autouse): ``DEEPCOLOR_OFFLINE=1``, so that no ``config.load("default")``
  probes the network (3 s offline) or downloads, and ``KAGGLEHUB_CACHE`` in a temporary folder, so
  that no test sees the user's kagglehub downloads.  A test of the online path unsets the first
  with ``monkeypatch.delenv`` (see ``tests/test_kaggle_download.py``).
- ``sample_ds`` (session): the built-in sample, ``deepcolor.data.sample(n=24, seed=0)``: 24 real
  224x224 photo crops, memory-mapped from that home.  Shared by all tests: read it, never write it.
- ``small`` (module): ``(ds, embeddings, split)``, the sample's first 12 images, zero embeddings
  (no Inception-ResNet build) and ``deepcolor.data.split`` of them (the training and run tests).
- ``make_kaggle_layout`` (function): writes arrays into a folder in the exact Kaggle layout
  (``l/gray_scale.npy`` and ``ab/ab/ab1.npy, ab2.npy, ...``), split as asked.
- ``photo_crops`` and ``lab8_opencv``: the two helpers below, as fixtures (real 224x224 crops; the
  Kaggle 8-bit encoding written out independently of ``deepcolor.color``).
- ``kaggle_photos`` (session): 10 crops of real photos in the Kaggle layout (ab files of 4/4/2
  images), with the true Lab values to compare against.
- ``tiny`` (module): a tiny profile, dataset, embeddings, split and runs folder (the architecture
  lessons, notebooks 05-07).
- ``small_book`` (session): ``deepcolor book`` of notebooks 00 and 01 under smoke, with the
  build's pages (tests/test_book.py and the browser test of the book).

Keras tests run on TensorFlow unless ``KERAS_BACKEND`` says otherwise.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from pathlib import Path  # noqa: E402
from typing import NamedTuple  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def deepcolor_home(tmp_path_factory):
    """The session's private DEEPCOLOR_HOME (a pathlib.Path); the variable is restored afterwards."""
    home = tmp_path_factory.mktemp("deepcolor_home")
    patch = pytest.MonkeyPatch()
    patch.setenv("DEEPCOLOR_HOME", str(home))
    yield home
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def offline_session(tmp_path_factory):
    """DEEPCOLOR_OFFLINE=1 and a private, empty KAGGLEHUB_CACHE for the session; restored afterwards."""
    patch = pytest.MonkeyPatch()
    patch.setenv("DEEPCOLOR_OFFLINE", "1")
    patch.setenv("KAGGLEHUB_CACHE", str(tmp_path_factory.mktemp("kagglehub_cache")))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def sample_ds(deepcolor_home):
    """deepcolor.data.sample(n=24, seed=0): a LabDataset of 24 real 224x224 crops (read-only)."""
    from deepcolor import data

    return data.sample(n=24, seed=0)


@pytest.fixture(scope="module")
def small(sample_ds):
    """The sample's first 12 images, a split, and zero embeddings (no Inception-ResNet build)."""
    from deepcolor import data

    ds = sample_ds.subset(12)
    return ds, np.zeros((len(ds), 1000), np.float32), data.split(len(ds))


def write_kaggle_layout(root, l8, ab8, splits) -> Path:
    """Write uint8 arrays L8 (N, H, W) and ab8 (N, H, W, 2) into ``root`` in the Kaggle layout.

    ``splits``: how many images each ab file holds, e.g. (4, 4, 2) -> ab1.npy, ab2.npy, ab3.npy.
    The arrays are saved exactly as given (no dtype or shape checks), so tests can write bad files.
    """
    root = Path(root)
    (root / "l").mkdir(parents=True, exist_ok=True)
    (root / "ab" / "ab").mkdir(parents=True, exist_ok=True)
    np.save(root / "l" / "gray_scale.npy", l8)
    start = 0
    for k, count in enumerate(splits, start=1):
        np.save(root / "ab" / "ab" / f"ab{k}.npy", ab8[start : start + count])
        start += count
    return root


@pytest.fixture
def make_kaggle_layout():
    """The function ``write_kaggle_layout(root, l8, ab8, splits) -> root`` (see its docstring)."""
    return write_kaggle_layout


class KagglePhotos(NamedTuple):
    root: Path  # folder in the Kaggle layout
    rgb: np.ndarray  # (N, 224, 224, 3) uint8, the photo crops
    lab: np.ndarray  # (N, 224, 224, 3) float64, skimage.color.rgb2lab of rgb (the truth)
    splits: tuple  # images per ab file


def real_crops(n: int) -> np.ndarray:
    """``n`` different 224x224 uint8 RGB crops of scikit-image's astronaut, coffee and chelsea."""
    import skimage.data

    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea()]
    crops = []
    for i in range(n):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        k = i // len(photos)
        top, left = (37 * k) % (h - 224), (53 * k) % (w - 224)
        crops.append(photo[top : top + 224, left : left + 224])
    return np.stack(crops)


def opencv_lab8(rgb: np.ndarray):
    """The Kaggle set's encoding, written out independently of deepcolor.color:
    L8 = round(L * 255 / 100), a8 = round(a + 128), b8 = round(b + 128), as uint8."""
    from skimage.color import rgb2lab

    lab = rgb2lab(rgb)
    l8 = np.clip(np.rint(lab[..., 0] * 255 / 100), 0, 255).astype(np.uint8)
    ab8 = np.clip(np.rint(lab[..., 1:] + 128), 0, 255).astype(np.uint8)
    return lab, l8, ab8


@pytest.fixture
def photo_crops():
    """The function ``real_crops(n) -> (n, 224, 224, 3) uint8`` (see its docstring)."""
    return real_crops


@pytest.fixture
def lab8_opencv():
    """The function ``opencv_lab8(rgb) -> (lab, L8, ab8)`` (see its docstring)."""
    return opencv_lab8


@pytest.fixture(scope="session")
def kaggle_photos(tmp_path_factory) -> KagglePhotos:
    """10 real photo crops in the Kaggle layout, ab split 4/4/2 (read-only; about 1.5 MB)."""
    rgb = real_crops(10)
    lab, l8, ab8 = opencv_lab8(rgb)
    splits = (4, 4, 2)
    root = write_kaggle_layout(tmp_path_factory.mktemp("kaggle") / "image-colorization", l8, ab8, splits)
    return KagglePhotos(root, rgb, lab, splits)


# --- the architecture lessons (notebooks 05-07) --------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(cfg, ds, emb, split, runs_dir): 12 random 32x32 images, input 16, one epoch, private runs."""
    from dataclasses import replace

    from deepcolor import config

    from lab_checks import random_lab_dataset

    ds, emb = random_lab_dataset()  # emb stands in for the profile's (untrained) embeddings
    cfg = config.Config(replace(config.PROFILES["smoke"], input_size=16, epochs=1, batch_size=8))
    return cfg, ds, emb, cfg.split(ds), tmp_path_factory.mktemp("runs")


# --- the course book (deepcolor book) ------------------------------------------------------------

@pytest.fixture(scope="session")
def small_book(tmp_path_factory, deepcolor_home, offline_session):
    """(folder, pages): notebooks 00 and 01 run under smoke into a book (``deepcolor.book.build``,
    about 20 s on 2 cores), and the :class:`deepcolor.book.Page` list it returned.  Read it; a
    test that builds again builds into a copy."""
    from deepcolor import book

    folder = tmp_path_factory.mktemp("book") / "book"
    return folder, book.build(folder, "smoke", ["00", "01"], say=lambda line: None)
