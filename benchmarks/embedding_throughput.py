"""The embedding pass: images per second of Inception-ResNet-v2 at 299x299 (notebook 03).

Times ``deepcolor.embeddings.Embedder.embed``, the call ``dataset_embeddings`` makes for every
image of a dataset, at several batch sizes, on gray 224x224 images made from the built-in
sample (resized to 299x299 inside, as in the course). The ``untrained`` embedder runs the same
network as ``imagenet`` (only the weights differ), so the speed is the same and no download is
needed. Each batch size: one untimed pass over a batch (compilation), then ``--images`` images,
timed, ``--repeats`` times; the median is printed.

    python benchmarks/embedding_throughput.py                         # batch 1, 8, 16, 32, 64
    python benchmarks/embedding_throughput.py --batch-sizes 16 32 --images 64
    python benchmarks/embedding_throughput.py --backend jax --precision bfloat16 --images 512

Forward FLOPs of Inception-ResNet-v2 at 299x299: about 13.2 G per image (2 x 6.6 G multiply-adds;
Keras Applications' table), printed as achieved GFLOP/s beside the images per second.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

FORWARD_GFLOPS = 13.2  # Inception-ResNet-v2 at 299x299, per image (2 FLOPs per multiply-add)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8, 16, 32, 64])
    parser.add_argument("--images", type=int, default=64, help="images timed per repeat")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"], default=None)
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16", "float16"])
    return parser.parse_args(argv)


def gray_images(count):
    """(count, 224, 224) float32 lightness in [0, 100]: the sample's source photos, resized, repeated."""
    import numpy as np
    from skimage.color import rgb2lab
    from skimage.transform import resize

    from deepcolor.sample import source_photos

    photos = [rgb2lab(resize(photo.load(), (224, 224), anti_aliasing=True))[..., 0] for photo in source_photos()]
    return np.stack([photos[i % len(photos)] for i in range(count)]).astype(np.float32)


def main(argv=None):
    args = parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend  # before the first keras import
    import keras

    from deepcolor.embeddings import Embedder

    if args.precision != "float32":
        keras.mixed_precision.set_global_policy(f"mixed_{args.precision}")
    L = gray_images(args.images)
    embedder = Embedder("untrained")
    print(f"keras {keras.__version__} on {keras.backend.backend()}, {args.precision}, "
          f"{args.images} images of 224x224 (embedded at 299x299), median of {args.repeats}")
    print(f"{'batch':>5} {'img/s':>8} {'GFLOP/s':>9} {'first batch s':>13}")
    for batch in args.batch_sizes:
        embedder.batch_size = batch  # the same network; only the batching differs
        images = L[:batch * max(1, len(L) // batch)]  # whole batches: one compiled shape
        start = time.perf_counter()
        embedder.embed(L[:batch])  # builds (first time) and compiles for this batch shape
        first = time.perf_counter() - start
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            embedder.embed(images)
            times.append(time.perf_counter() - start)
        rate = len(images) / statistics.median(times)
        print(f"{batch:5d} {rate:8.2f} {rate * FORWARD_GFLOPS:9.1f} {first:13.1f}", flush=True)


if __name__ == "__main__":
    main()
