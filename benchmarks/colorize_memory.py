"""Peak memory of colorizing one large photo end to end on the CPU (target: < 3 GB at 48 megapixels).

    python benchmarks/colorize_memory.py [--sizes 4000x3000,8000x6000] [--gray] [--arch base] [--mode untrained]

Makes colour JPEG photos (gray ones with ``--gray``; colour is the heavier case, three bytes a pixel
to read) from a real picture (scikit-image's coffee, resized up with Pillow), builds an
(untrained) model of the chosen architecture at 224 and saves it as ``model.keras`` next to a
``run.json`` naming the embedding mode, then colorizes each photo in a fresh Python process so that
the peaks of different sizes do not mix.  Each process loads the colorizer and its embedder (the
"models" column: resident memory before any photo), then runs ``Colorizer.colorize_file`` once:
read the JPEG, Lab conversion, the Inception-ResNet-v2 embedding, the colorizer, upsampling ab to full
size, Lab -> RGB and writing the PNG.  "peak GB" is the process's peak resident memory
(``resource.getrusage(...).ru_maxrss``), the models included; "seconds" times ``colorize_file``.
The "untrained" embedder costs the same memory and time as "imagenet" without needing its weights.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TARGET_GB = 3.0


def peak_rss_gb() -> float:
    """This process's peak resident memory so far, in GB (ru_maxrss is in KiB on Linux, bytes on macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e9 if sys.platform == "darwin" else peak * 1024 / 1e9


def make_photo(path: Path, width: int, height: int, gray: bool = False) -> None:
    """A JPEG of scikit-image's coffee picture (colour, or gray), resized to width x height."""
    import skimage.data
    from PIL import Image

    image = Image.fromarray(skimage.data.coffee())
    (image.convert("L") if gray else image).resize((width, height), Image.BICUBIC).save(path, quality=92)


def build(folder: Path, arch: str, mode: str) -> Path:
    """Save an untrained ``arch`` model at input 224 with its run.json; returns the model's path."""
    from deepcolor.models import build_model

    model_path = folder / "model.keras"
    build_model(arch, 224).save(model_path)
    (folder / "run.json").write_text(json.dumps({"embedding_mode": mode}))
    return model_path


def measure(photo: Path, model_path: Path, outdir: Path) -> dict:
    """Colorize ``photo`` once in this process; its peak memory and time."""
    from deepcolor.colorize import Colorizer

    colorizer = Colorizer(model_path)
    colorizer.embedder.build()
    models_gb = peak_rss_gb()
    start = time.perf_counter()
    colorizer.colorize_file(photo, outdir, force=True)
    return {"models_gb": models_gb, "peak_gb": peak_rss_gb(), "seconds": time.perf_counter() - start}


def run_child(*args: str) -> str:
    """Run this script with ``args`` in a fresh Python process; its last line of output."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def run_all(folder: Path, args) -> None:
    """Build the model once, then measure each size in its own process and print the table."""
    model_path = Path(run_child("--build", str(folder), "--arch", args.arch, "--mode", args.mode))
    print(f"colorize one {'gray' if args.gray else 'colour'} photo, {args.arch} at 224, embeddings {args.mode}, "
          f"{os.cpu_count()} CPU cores, each size in a fresh process")
    print(f"{'photo':>11}{'MP':>6}{'models GB':>11}{'peak GB':>9}{'seconds':>9}")
    for size in args.sizes.split(","):
        width, height = map(int, size.lower().split("x"))
        photo = folder / f"photo_{width}x{height}.jpg"
        make_photo(photo, width, height, gray=args.gray)
        row = json.loads(run_child("--measure", str(photo), str(model_path), str(folder / "out")))
        verdict = "" if row["peak_gb"] < TARGET_GB else f"  (over the {TARGET_GB:g} GB target)"
        print(f"{f'{width}x{height}':>11}{width * height / 1e6:>6.0f}{row['models_gb']:>11.2f}{row['peak_gb']:>9.2f}"
              f"{row['seconds']:>9.1f}{verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4000x3000,8000x6000", help="photo sizes WxH, comma-separated")
    parser.add_argument("--gray", action="store_true", help="gray photos instead of colour ones")
    parser.add_argument("--arch", default="base")
    parser.add_argument("--mode", default="untrained", choices=["untrained", "imagenet", "none"])
    parser.add_argument("--build", metavar="FOLDER", help=argparse.SUPPRESS)  # child: save the model
    parser.add_argument("--measure", nargs=3, metavar=("PHOTO", "MODEL", "OUTDIR"), help=argparse.SUPPRESS)  # child
    args = parser.parse_args()

    if args.build:
        print(build(Path(args.build), args.arch, args.mode))
        return
    if args.measure:
        print(json.dumps(measure(*map(Path, args.measure))))
        return

    with tempfile.TemporaryDirectory(prefix="colorize_memory_") as tmp:
        run_all(Path(tmp), args)


if __name__ == "__main__":
    main()
