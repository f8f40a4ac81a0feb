"""Latency of colorizing one 1024x768 photo end to end on the CPU (target: <= 1 s warm).

    python benchmarks/colorize_latency.py [--arch base] [--mode untrained] [--repeats 5]

Builds an (untrained) model of the chosen architecture at 224 and saves it as .keras, then times
``deepcolor colorize``'s work for one photo: read the file, Lab conversion, the Inception-ResNet-v2
embedding, the colorizer, upsampling ab to full size, Lab -> RGB, and writing the PNG.  Reports the
one-off start-up (loading the model, building the embedder) separately from the per-photo time.
Weights do not change the amount of computation, so untrained weights time the real thing.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="base")
    parser.add_argument("--mode", default="untrained", choices=["untrained", "imagenet", "none"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", default="1024x768", help="photo size WxH")
    args = parser.parse_args()

    import numpy as np
    import skimage.data
    from PIL import Image

    import keras
    from deepcolor import colorize as colorize_module
    from deepcolor.color import rgb_to_lab, split_lab, lab_parts_to_rgb
    from deepcolor.predict import predict_ab
    from deepcolor.models import build_model
    from deepcolor.photos import read_photo

    w, h = map(int, args.size.split("x"))
    tmp = Path(tempfile.mkdtemp())
    photo = tmp / "photo.jpg"
    Image.fromarray(skimage.data.coffee()).resize((w, h)).convert("L").save(photo, quality=92)
    model_path = tmp / "model.keras"
    build_model(args.arch, 224).save(model_path)

    t0 = time.perf_counter()
    colorizer = colorize_module.Colorizer(model_path, args.mode)
    colorizer.embedder.build()
    startup = time.perf_counter() - t0

    stages = {k: [] for k in ("read", "to Lab", "embedding", "colorizer", "to RGB", "write", "total")}
    for i in range(args.repeats + 1):  # the first pass warms up (graph tracing) and is not counted
        marks = [time.perf_counter()]
        rgb = read_photo(photo, allow_gray=True); marks.append(time.perf_counter())
        L = split_lab(rgb_to_lab(rgb))[0][None]; marks.append(time.perf_counter())
        emb = colorizer.embedder.embed(L, progress=False); marks.append(time.perf_counter())
        ab = predict_ab(colorizer.model, L, emb); marks.append(time.perf_counter())
        out = lab_parts_to_rgb(L[0], ab[0]); marks.append(time.perf_counter())
        Image.fromarray(np.round(out * 255).astype(np.uint8)).save(tmp / f"out{i}.png"); marks.append(time.perf_counter())
        if i == 0:
            continue
        for name, a, b in zip(list(stages)[:-1], marks, marks[1:]):
            stages[name].append(b - a)
        stages["total"].append(marks[-1] - marks[0])

    print(f"colorize {w}x{h}, {args.arch} at 224, embeddings {args.mode}, backend {keras.backend.backend()}, "
          f"{os.cpu_count()} CPU cores")
    print(f"start-up (load model + build embedder, once): {startup:.2f} s")
    print(f"{'stage':<12}{'median s':>10}{'min s':>10}")
    for name, times in stages.items():
        print(f"{name:<12}{statistics.median(times):>10.3f}{min(times):>10.3f}")
    total = statistics.median(stages["total"])
    print(f"per photo: {total:.2f} s median over {args.repeats} ({'meets' if total <= 1 else 'misses'} the 1 s target)")


if __name__ == "__main__":
    main()
