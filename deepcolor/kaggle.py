"""The Kaggle ``image-colorization`` set: find a local copy, open it, download it.

Introduced in notebook ``02_dataset``; :mod:`deepcolor.data` re-exports these names.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import network, settings
from .lab_dataset import L_FILE, LabDataset, open_layout

KAGGLE_HANDLE = "shravankumar9892/image-colorization"
KAGGLE_URL = "https://www.kaggle.com/datasets/shravankumar9892/image-colorization"


def find_kaggle_root(root) -> Path:
    """The folder holding ``l/gray_scale.npy``: ``root`` itself or one below it (kagglehub unpacks
    into ``.../versions/N/``)."""
    root = Path(root).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist; pass the folder that holds l/gray_scale.npy and ab/ab/")
    if (root / L_FILE).is_file():
        return root
    natural = lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(p))]  # noqa: E731
    found = sorted(root.glob(f"**/{L_FILE.as_posix()}"), key=natural)  # versions/10 after versions/2
    if not found:
        raise FileNotFoundError(
            f"no {L_FILE.as_posix()} under {root}; expected the Kaggle image-colorization layout "
            f"(l/gray_scale.npy and ab/ab/ab1.npy ...), as downloaded from {KAGGLE_URL}"
        )
    return found[-1].parent.parent


def find_local_kaggle() -> Path | None:
    """A local copy of the Kaggle set: ``$DEEPCOLOR_KAGGLE_DIR``, else an installed classroom pack
    (:func:`deepcolor.settings.classroom_dir`, see :mod:`deepcolor.classroom`), else kagglehub's
    cache; or None (notebook 00)."""
    candidates = [settings.kaggle_dir(), settings.classroom_dir(),
                  settings.kagglehub_cache() / "datasets" / KAGGLE_HANDLE]
    for candidate in candidates:
        if candidate is not None:
            try:
                return find_kaggle_root(candidate)
            except FileNotFoundError:
                continue
    return None


def load_kaggle(root) -> LabDataset:
    """Open the Kaggle set at ``root`` (or any folder in its layout), memory-mapped.

    Checks shapes, dtypes and that the L and ab counts match; errors name the file and what was
    expected.  Opening does not read the images: resident memory grows only by what you index.
    """
    return open_layout(find_kaggle_root(root))  # source: the manifest's, if deepcolor wrote it, else "kaggle"


def download_kaggle(force: bool = False) -> LabDataset:
    """Download the Kaggle set with ``kagglehub`` (cached by kagglehub) and open it.

    Needs internet and, for Kaggle, usually a login (``kagglehub.login()`` or ``~/.kaggle``).
    Offline, fails within seconds with what to do instead.
    """
    offline_help = (
        f"Download {KAGGLE_URL} on a machine with internet, copy the unpacked folder here and use "
        "deepcolor.data.load_kaggle(FOLDER) (or `deepcolor data kaggle --from FOLDER`); "
        "or use the built-in offline sample: deepcolor.data.sample()."
    )
    try:
        import kagglehub
    except ImportError:
        raise ImportError(f"kagglehub is not installed: pip install 'deepcolor[kaggle]'. {offline_help}") from None
    if not network.reachable("https://www.kaggle.com"):
        raise ConnectionError(f"cannot reach www.kaggle.com (offline?). {offline_help}")
    try:
        path = kagglehub.dataset_download(KAGGLE_HANDLE, force_download=force)
    except Exception as exc:
        raise ConnectionError(f"kagglehub could not download {KAGGLE_HANDLE}: {exc}. {offline_help}") from None
    return load_kaggle(path)
