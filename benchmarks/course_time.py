"""How long the course takes under the ``default`` profile: each notebook's wall time, and the total.

The ``default`` profile (a student with internet) uses 2,000 Kaggle images and the ImageNet
embedder. Neither can be downloaded everywhere, and speed depends on neither, so this runs the
notebooks on stand-ins that cost the same:

- a dataset in the Kaggle layout with 2,000 images of 224x224, made by ``deepcolor data folder``
  (``deepcolor.data.from_folder``) from random 224x224 crops of the built-in sample's source photos
  (real photos, never noise), and found through ``DEEPCOLOR_KAGGLE_DIR``;
- an empty ``KERAS_HOME``, so the profile uses the ``untrained`` embedder: the same
  Inception-ResNet-v2, other weights.

``--offline`` times the course a student without internet gets instead: ``DEEPCOLOR_OFFLINE=1``
and no stand-in, so ``default`` falls back to ``default-offline`` (the built-in sample).

Every run also times one fixed reference training step (``train_throughput.py --reference``: the
base model at 128x128, batch 16, float32), once before the notebooks and once after, and prints its
images/second: the calibration that makes a slow day's times and a fast day's compare.

Everything goes in a fresh ``DEEPCOLOR_HOME`` (nothing cached from an earlier run), and the
notebooks run in order under nbval, as a student runs them: each reuses the runs and embeddings
of the ones before it. Prints one line per notebook as it ends, then the total.

    python benchmarks/course_time.py                       # notebooks 00-11
    python benchmarks/course_time.py --notebooks 00 01 02 03 04
    python benchmarks/course_time.py --keep /tmp/course    # keep the stand-in and runs for a rerun
    python benchmarks/course_time.py --keep /tmp/course --notebooks 05 06   # go on from there
    python benchmarks/course_time.py --cells 5             # and each notebook's 5 slowest cells
    python benchmarks/course_time.py --offline             # the offline fallback, default-offline
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", nargs="+", default=None,
                        help="notebook numbers to run, in order (default: all)")
    parser.add_argument("--images", type=int, default=2000, help="images in the stand-in (default 2000)")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this folder and keep it (default: a temporary one, removed)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per notebook")
    parser.add_argument("--offline", action="store_true",
                        help="no stand-in and DEEPCOLOR_OFFLINE=1: the profile's offline fallback")
    parser.add_argument("--cells", type=int, default=0,
                        help="also print each notebook's N slowest cells (pytest's --durations)")
    return parser.parse_args(argv)


def make_standin(folder: Path, n: int, keep_embeddings: bool = False) -> Path:
    """``n`` random 224x224 crops of the sample's source photos, as JPEG files, turned into the
    Kaggle layout by ``from_folder``; returns the dataset folder.  One left by an earlier run in
    ``folder`` is reused, without its embedding cache unless ``keep_embeddings`` (when notebook 03,
    which times the embedding pass, is not among those run)."""
    import numpy as np
    from PIL import Image

    from deepcolor.data import from_folder
    from deepcolor.sample import random_crop, source_photos

    dataset = folder / "kaggle-standin"
    if (dataset / "l" / "gray_scale.npy").exists():  # made by an earlier --keep run: reuse it
        if not keep_embeddings:
            shutil.rmtree(dataset / "embeddings", ignore_errors=True)
        return dataset
    photos = folder / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sources = [photo.load() for photo in source_photos()]
    for i in range(n):
        rgb, _ = random_crop(sources[i % len(sources)], rng, size=224)
        Image.fromarray((rgb * 255).round().astype(np.uint8)).save(photos / f"{i:05d}.jpg", quality=92)
    from_folder(photos, dataset, report=None)
    shutil.rmtree(photos)
    return dataset


def calibration(env) -> str:
    """The reference step's line (``... : 13.2 img/s``), timed in its own process under ``env``'s backend."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "train_throughput.py"), "--reference"],
                            env=env, capture_output=True, text=True, check=False)
    found = re.findall(r"^reference step .*img/s$", result.stdout, re.M)
    return found[-1] if found else f"reference step failed: {result.stderr.strip()[-300:]}"


def notebooks(numbers):
    found = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if numbers:
        found = [nb for nb in found if nb.name[:2] in numbers]
    return found


def slowest_cells(pytest_output: str) -> list:
    """The lines of pytest's ``--durations`` report, e.g. ``"353.20s call notebooks/04_base_model.ipynb::Cell 12"``."""
    lines = pytest_output.splitlines()
    start = next((i for i, line in enumerate(lines) if "slowest" in line and "durations" in line), None)
    if start is None:
        return []
    return [line.strip() for line in lines[start + 1:] if "::" in line]


def main(argv=None):
    args = parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="deepcolor-course-time-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        chosen = notebooks(args.notebooks)
        # DEEPCOLOR_OFFLINE: the untrained embedder on every machine, and no download of the Kaggle set
        env = dict(os.environ, DEEPCOLOR_PROFILE=args.profile, DEEPCOLOR_OFFLINE="1",
                   DEEPCOLOR_HOME=str(work / "home"), KERAS_HOME=str(work / "keras-home"),
                   MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2")
        env.pop("DEEPCOLOR_KAGGLE_DIR", None)
        if not args.offline:
            dataset = make_standin(work, args.images, keep_embeddings=not any(nb.name.startswith("03") for nb in chosen))
            print(f"stand-in: {args.images} images of 224x224 in {dataset} "
                  f"({time.perf_counter() - start:.0f} s to make; not counted below)", flush=True)
            env["DEEPCOLOR_KAGGLE_DIR"] = str(dataset)
        env.setdefault("KERAS_BACKEND", "tensorflow")
        print(f"profile {args.profile}, backend {env['KERAS_BACKEND']}, {os.cpu_count()} CPUs", flush=True)
        print(f"calibration before: {calibration(env)}", flush=True)
        print(f"{'notebook':30} {'seconds':>8}  result", flush=True)
        command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q", "-p", "no:cacheprovider"]
        if args.cells:
            command += [f"--durations={args.cells}", "--durations-min=1"]
        total = 0.0
        for notebook in chosen:
            start = time.perf_counter()
            try:
                result = subprocess.run(
                    [*command, str(notebook)],
                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.timeout, check=False)
                status = "passed" if result.returncode == 0 else "FAILED"
            except subprocess.TimeoutExpired:
                result, status = None, f"stopped after {args.timeout} s"
            seconds = time.perf_counter() - start
            total += seconds
            print(f"{notebook.stem:30} {seconds:8.0f}  {status}", flush=True)
            if status == "FAILED":
                print(result.stdout[-3000:], flush=True)
            if args.cells and result is not None:
                for line in slowest_cells(result.stdout):
                    print(f"    {line}", flush=True)
        print(f"{'all':30} {total:8.0f}  ({total / 60:.1f} min)")
        print(f"calibration after: {calibration(env)}", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
