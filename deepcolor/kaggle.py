"""The Kaggle ``image-colorization`` set: find a local copy, open it, download it.

Introduced in notebooks ``00_start_here`` (the first cell's download) and ``02_dataset``;
:mod:`deepcolor.data` re-exports :func:`find_kaggle_root`, :func:`find_local_kaggle`,
:func:`load_kaggle` and :func:`download_kaggle`.

Online, :func:`deepcolor.config.load` fetches the files its profile needs by itself
(:func:`fetch_kaggle`), one ``kagglehub.dataset_download(handle, path=...)`` per file, into
kagglehub's cache (``~/.cache/kagglehub``, or ``$KAGGLEHUB_CACHE``): ``default`` the L file and
``ab/ab/ab1.npy`` (its 2,000 images are among the first 10,000), about 2.26 GB; ``full`` all
four files, about 3.76 GB.  Public datasets need no Kaggle login.  kagglehub draws a progress bar
per file, marks a file complete only once it has all of it, and resumes (or restarts) an
interrupted one.  deepcolor trusts a cached file only if kagglehub marked it complete *and* its
.npy header, dtype, shape and size are those of :data:`KAGGLE_FILES`; a damaged file is removed
and fetched once more.  ``DEEPCOLOR_OFFLINE=1`` (:func:`deepcolor.settings.offline`) stops all
of this: no network probe, no download.
"""

from __future__ import annotations

import errno
import math
import re
import shutil
from pathlib import Path

import numpy as np

from . import network, settings
from .lab_dataset import AB_DIR, L_FILE, MARKER, LabDataset, ab_files, open_layout

KAGGLE_HANDLE = "shravankumar9892/image-colorization"
KAGGLE_URL = "https://www.kaggle.com/datasets/shravankumar9892/image-colorization"
KAGGLE_HOST = "https://www.kaggle.com"

# The set's files and the shapes of their uint8 arrays (DESIGN.md, "Data").  Their sizes follow:
# NPY_HEADER_BYTES plus one byte per element (L 1,254,400,128 bytes, ab1 and ab2 1,003,520,128, ab3 501,760,128).
KAGGLE_FILES = {
    L_FILE.as_posix(): (25_000, 224, 224),
    (AB_DIR / "ab1.npy").as_posix(): (10_000, 224, 224, 2),
    (AB_DIR / "ab2.npy").as_posix(): (10_000, 224, 224, 2),
    (AB_DIR / "ab3.npy").as_posix(): (5_000, 224, 224, 2),
}
NPY_HEADER_BYTES = 128  # the .npy header numpy writes for these shapes

OFFLINE_HELP = (
    f"on a machine with internet, download {KAGGLE_URL}, copy the folder here and set "
    f"{settings.KAGGLE_ENV} to it (or open it with deepcolor.data.load_kaggle(FOLDER), or "
    "`deepcolor data kaggle --from FOLDER`); or use the built-in offline sample: deepcolor.data.sample()"
)
LOGIN_HELP = (
    "log in with kagglehub.login() in a notebook, or set KAGGLE_USERNAME and KAGGLE_KEY, or save your API "
    "token (kaggle.com > Settings > API > Create New Token) as ~/.kaggle/kaggle.json; accept the dataset's "
    f"terms at {KAGGLE_URL} if it shows any; then run again"
)


class KaggleUnavailableError(RuntimeError):
    """The Kaggle files cannot be had here now: offline, refused, a full disk or a damaged download.
    The message is one line saying which, and what to do."""


def file_bytes(rel: str) -> int:
    """Size in bytes of the set's file ``rel`` (a key of :data:`KAGGLE_FILES`)."""
    return NPY_HEADER_BYTES + math.prod(KAGGLE_FILES[rel])


def files_for(n_images: int) -> list:
    """The set's files that hold its first ``n_images`` images (0: all of them): the L file and
    as many ab files as needed, e.g. ``["l/gray_scale.npy", "ab/ab/ab1.npy"]`` for 2,000."""
    files, held = [L_FILE.as_posix()], 0
    for rel in _ab_names():
        if n_images and held >= n_images:
            break
        files.append(rel)
        held += KAGGLE_FILES[rel][0]
    return files


def _ab_names() -> list:
    return [rel for rel in KAGGLE_FILES if rel != L_FILE.as_posix()]


def why_not_whole(path, shape) -> str | None:
    """Why the file at ``path`` is not a whole uint8 .npy array of ``shape``, or None if it is.

    Reads only the header: the magic, dtype and shape, then compares the file's size with the
    header plus the array's bytes, which catches a file cut short by an interrupted download."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            got, fortran, dtype = read(f)
            offset = f.tell()
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        return f"not a .npy array ({exc})"
    if dtype != np.uint8 or fortran or tuple(got) != tuple(shape):
        return f"holds {dtype} {tuple(got)}, expected uint8 {tuple(shape)}"
    size, expected = path.stat().st_size, offset + math.prod(shape)
    if size != expected:
        return f"{size:,} bytes, expected {expected:,} (cut short by an interrupted download?)"
    return None


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


def cache_folder() -> Path:
    """Where kagglehub caches the set: ``<kagglehub cache>/datasets/shravankumar9892/image-colorization``
    (its files in ``versions/N/``).  Delete it to remove the download."""
    return settings.kagglehub_cache() / "datasets" / KAGGLE_HANDLE


def _marker(root: Path, rel: str) -> Path:
    """kagglehub's mark that ``rel`` of the version folder ``root`` was downloaded to the end."""
    return root.parent.parent / ".complete" / root.name / f"{rel}.complete"


def _trusted(root: Path, rel: str) -> bool:
    marked = _marker(root, rel).is_file() or (root.parent.parent / f"{root.name}.complete").is_file()  # or the whole set
    return marked and why_not_whole(root / rel, KAGGLE_FILES[rel]) is None


def _versions() -> list:
    """kagglehub's version folders of the set, newest first."""
    found = [p for p in (cache_folder() / "versions").glob("*") if p.name.isdigit()]
    return sorted(found, key=lambda p: int(p.name), reverse=True)


def cached_kaggle(files) -> Path | None:
    """The newest version folder in kagglehub's cache where every one of ``files`` is whole and
    marked complete by kagglehub, or None.  A partial download is never taken for a whole one."""
    return next((root for root in _versions() if all(_trusted(root, rel) for rel in files)), None)


def find_local_kaggle(n_images: int | None = None) -> Path | None:
    """A local copy of the Kaggle set: ``$DEEPCOLOR_KAGGLE_DIR``, else an installed classroom pack
    (:func:`deepcolor.settings.classroom_dir`, see :mod:`deepcolor.classroom`), else kagglehub's
    cache if it holds the files of the first ``n_images`` whole (0: all; None: any usable
    download); or None (notebook 00)."""
    for candidate in (settings.kaggle_dir(), settings.classroom_dir()):
        if candidate is not None:
            try:
                return find_kaggle_root(candidate)
            except FileNotFoundError:
                continue
    return cached_kaggle(files_for(1 if n_images is None else n_images))


def downloaded_prefix(root) -> int | None:
    """How many images a partial download of the set in ``root`` holds: the Kaggle L file with
    only the first ab files (ab1, or ab1 and ab2), each exactly as in :data:`KAGGLE_FILES`.  None
    for anything else (the whole set, a dataset deepcolor wrote, any other mismatch)."""
    root = Path(root)
    names = [f.relative_to(root).as_posix() for f in ab_files(root)]
    known = _ab_names()
    if (root / MARKER).exists() or not names or len(names) >= len(known) or names != known[: len(names)]:
        return None
    if any(why_not_whole(root / rel, KAGGLE_FILES[rel]) for rel in [L_FILE.as_posix()] + names):
        return None
    return sum(KAGGLE_FILES[rel][0] for rel in names)


def load_kaggle(root) -> LabDataset:
    """Open the Kaggle set at ``root`` (or any folder in its layout), memory-mapped (notebook 02).

    Checks shapes, dtypes and that the L and ab counts match; errors name the file and what was
    expected.  A partial download (the L file of 25,000 images with only ab1, or ab1 and ab2: what
    ``default`` fetches) opens as its first 10,000 (or 20,000) images, with source
    ``"kaggle[:10000]"``.  Opening does not read the images: resident memory grows only by what
    you index.
    """
    root = find_kaggle_root(root)
    first = downloaded_prefix(root)
    if first is None:
        return open_layout(root)  # source: the manifest's, if deepcolor wrote it, else "kaggle"
    l8 = np.load(root / L_FILE, mmap_mode="r", allow_pickle=False)[:first]
    parts = [np.load(f, mmap_mode="r", allow_pickle=False) for f in ab_files(root)]
    return LabDataset(l8, parts, root=root, source=f"kaggle[:{first}]")


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def _say(line: str) -> None:
    print(line, flush=True)


def _free_bytes(folder: Path) -> int:
    existing = next(p for p in [folder, *folder.parents] if p.exists())
    return shutil.disk_usage(existing).free


def _still_needed(files, force: bool) -> dict:
    """{file: bytes still to download} for the ``files`` kagglehub does not have whole: all of it,
    or the rest of a partial file (kagglehub resumes it, or rewrites it in place)."""
    needed = {}
    for rel in files:
        roots = _versions()
        if not force and any(_trusted(root, rel) for root in roots):
            continue
        partial = max([(root / rel).stat().st_size for root in roots if (root / rel).is_file()], default=0)
        needed[rel] = max(file_bytes(rel) - (0 if force else partial), 0)
    return needed


def _remove(path: Path, rel: str) -> None:
    """Remove a damaged or half-written file of the set and kagglehub's mark for it (best effort:
    a read-only copy, as in a Kaggle notebook, stays)."""
    root = Path(path).parents[len(Path(rel).parts) - 1]
    for p in (path, _marker(root, rel)):
        try:
            p.unlink(missing_ok=True)
        except OSError:
            pass


def _download(kagglehub, rel: str, force: bool) -> Path:
    """One file through kagglehub; every failure becomes a one-line KaggleUnavailableError."""
    try:
        return Path(kagglehub.dataset_download(KAGGLE_HANDLE, path=rel, force_download=force))
    except Exception as exc:  # noqa: BLE001 - kagglehub raises requests', its own and OS errors
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403) or type(exc).__name__ == "UnauthenticatedError":
            code = f"HTTP {status}: " if status else ""
            raise KaggleUnavailableError(f"Kaggle refused the download of {rel} ({code}a login or the dataset's "
                                         f"consent is needed): {LOGIN_HELP}") from None
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            for root in _versions():
                if not _trusted(root, rel):
                    _remove(root / rel, rel)
            raise KaggleUnavailableError(
                f"the disk is full: {rel} needs {file_bytes(rel):,} bytes in {cache_folder()}, "
                f"{_free_bytes(cache_folder()):,} are free (the half-written file was removed); free some space "
                "or set KAGGLEHUB_CACHE to a folder on a bigger disk, then run again") from None
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise KaggleUnavailableError(f"kagglehub could not download {rel} of {KAGGLE_HANDLE} ({first_line}); "
                                     "run again to resume, or " + OFFLINE_HELP) from None


def _fetch_one(kagglehub, rel: str, force: bool, say) -> Path:
    """Download ``rel`` and check it; a damaged file is removed and fetched once more."""
    for again in (False, True):
        path = _download(kagglehub, rel, force or again)
        why = why_not_whole(path, KAGGLE_FILES[rel])
        if why is None:
            return path
        _remove(path, rel)
        if not again:
            say(f"{rel} arrived damaged ({why}): removed, downloading it again")
    raise KaggleUnavailableError(f"{rel} arrived damaged twice ({why}) and was removed; run again later, or "
                                 + OFFLINE_HELP)


def fetch_kaggle(files=None, force: bool = False, say=_say) -> Path:
    """Download ``files`` of the set (default: all of :data:`KAGGLE_FILES`) with kagglehub, one
    ``path=`` at a time, check each, and return the folder holding them (notebook 00_start_here).

    First it says how many GB it will fetch and where they go, and refuses in one line when the
    disk lacks the space.  Files kagglehub already has whole are not fetched again (unless
    ``force``).  Raises :class:`KaggleUnavailableError` (offline, ``DEEPCOLOR_OFFLINE=1``, a
    refusal, a full disk, a damaged download) with what to do.  say: where the lines go.
    """
    files = list(KAGGLE_FILES) if files is None else list(files)
    if settings.offline():
        raise KaggleUnavailableError(f"{settings.OFFLINE_ENV}=1 is set, so nothing is downloaded "
                                     "(unset it to let the course fetch the Kaggle files)")
    try:
        import kagglehub
    except ImportError:
        raise KaggleUnavailableError(f"kagglehub is not installed: pip install kagglehub; or {OFFLINE_HELP}") from None
    if not network.reachable(KAGGLE_HOST):
        raise KaggleUnavailableError(f"cannot reach www.kaggle.com (offline?): {OFFLINE_HELP}")
    todo, dest = _still_needed(files, force), cache_folder()
    needed, free = sum(todo.values()), _free_bytes(dest)
    if needed > free:
        raise KaggleUnavailableError(
            f"not enough disk space for the Kaggle files: {dest} needs {needed:,} bytes ({_gb(needed)}), "
            f"{free:,} are free; free some space or set KAGGLEHUB_CACHE to a folder on a bigger disk")
    if todo:
        say(f"Downloading {_gb(needed)} of the Kaggle set ({', '.join(todo)}) into {dest}, kagglehub's cache "
            "(no login needed; set KAGGLEHUB_CACHE to put it elsewhere, delete that folder to remove it)")
    paths = {rel: _fetch_one(kagglehub, rel, force, say) for rel in files}
    return paths[files[0]].parents[len(Path(files[0]).parts) - 1]  # the version folder


def download_kaggle(force: bool = False, n_images: int = 0, say=_say) -> LabDataset:
    """The set's files for its first ``n_images`` (0: all, about 3.76 GB), from kagglehub's cache
    or downloaded (:func:`fetch_kaggle`), opened with :func:`load_kaggle` (``deepcolor data kaggle``).

    Offline, fails within seconds with what to do instead (:class:`KaggleUnavailableError`).
    """
    files = files_for(n_images)
    root = None if force else cached_kaggle(files)
    return load_kaggle(root or fetch_kaggle(files, force=force, say=say))
