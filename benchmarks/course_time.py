"""How long the course takes under the ``default`` profile: each notebook's wall time, and the total.

The ``default`` profile (a student with internet) uses 2,000 Kaggle images and the ImageNet
embedder. Neither can be downloaded everywhere, and speed depends on neither, so this runs the
notebooks on stand-ins that cost the same:

- a dataset in the Kaggle layout with 2,000 images of 224x224, made by ``deepcolor data folder``
  (``deepcolor.data.from_folder``) from random 224x224 crops of the built-in sample's source photos
  (real photos, never noise), and found through ``DEEPCOLOR_KAGGLE_DIR``;
- an empty ``KERAS_HOME``, so the profile uses the ``untrained`` embedder: the same
  Inception-ResNet-v2, other weights.

Everything goes in a fresh ``DEEPCOLOR_HOME`` (nothing cached from an earlier run), and the
notebooks run in order under nbval, as a student runs them: each reuses the runs and embeddings
of the ones before it. Prints one line per notebook as it ends, then the total.

    python benchmarks/course_time.py                       # notebooks 00-11
    python benchmarks/course_time.py --notebooks 00 01 02 03 04
    python benchmarks/course_time.py --keep /tmp/course    # keep the stand-in and runs for a rerun
"""

import argparse
import os
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
    return parser.parse_args(argv)


def make_standin(folder: Path, n: int) -> Path:
    """``n`` random 224x224 crops of the sample's source photos, as JPEG files, turned into the
    Kaggle layout by ``from_folder``; returns the dataset folder.  One left by an earlier run in
    ``folder`` is reused without its embedding cache."""
    import numpy as np
    from PIL import Image

    from deepcolor.data import from_folder
    from deepcolor.sample import random_crop, source_photos

    dataset = folder / "kaggle-standin"
    if (dataset / "l" / "gray_scale.npy").exists():  # made by an earlier --keep run: reuse it, but
        shutil.rmtree(dataset / "embeddings", ignore_errors=True)  # not its embeddings, which 03 times
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


def notebooks(numbers):
    found = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if numbers:
        found = [nb for nb in found if nb.name[:2] in numbers]
    return found


def main(argv=None):
    args = parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="deepcolor-course-time-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        dataset = make_standin(work, args.images)
        print(f"stand-in: {args.images} images of 224x224 in {dataset} "
              f"({time.perf_counter() - start:.0f} s to make; not counted below)", flush=True)
        env = dict(os.environ, DEEPCOLOR_PROFILE=args.profile, DEEPCOLOR_KAGGLE_DIR=str(dataset),
                   DEEPCOLOR_HOME=str(work / "home"), KERAS_HOME=str(work / "keras-home"),
                   MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2")
        env.setdefault("KERAS_BACKEND", "tensorflow")
        print(f"profile {args.profile}, backend {env['KERAS_BACKEND']}, {os.cpu_count()} CPUs\n"
              f"{'notebook':30} {'seconds':>8}  result", flush=True)
        total = 0.0
        for notebook in notebooks(args.notebooks):
            start = time.perf_counter()
            try:
                result = subprocess.run(
                    [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q",
                     "-p", "no:cacheprovider", str(notebook)],
                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.timeout, check=False)
                status = "passed" if result.returncode == 0 else "FAILED"
            except subprocess.TimeoutExpired:
                result, status = None, f"stopped after {args.timeout} s"
            seconds = time.perf_counter() - start
            total += seconds
            print(f"{notebook.stem:30} {seconds:8.0f}  {status}", flush=True)
            if status == "FAILED":
                print(result.stdout[-3000:], flush=True)
        print(f"{'all':30} {total:8.0f}  ({total / 60:.1f} min)")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
