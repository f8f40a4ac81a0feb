"""Training throughput of the paper's four architectures (notebooks 04-08).

For each architecture, batch size and precision, times ``train_on_batch`` on
random data (after warm-up steps) and prints images/second and the implied
compute rate: training FLOP/s = 3 * forward FLOPs per image * images/second.

    python benchmarks/train_throughput.py                      # all models, 224x224
    python benchmarks/train_throughput.py --input-size 64 --steps 3
    python benchmarks/train_throughput.py --backend jax --peak-tflops 989
    python benchmarks/train_throughput.py --reference   # the calibration step only

``--reference`` times one fixed step, the base model at 128x128, batch 16, float32, 8 steps after 2
of warm-up, and prints its images/second: how fast this machine is today.  ``course_time.py`` runs
it before and after the notebooks, so course times from a slow day and a fast day compare.
benchmarks/RESULTS.md gives it beside every course time (it is the row that measured 12.6 img/s
on 2026-12-03 and 27.7 on 2026-11-28 on the same kind of machine).

``--peak-tflops`` is the device's peak for the precision you compare against
(e.g. the dense bf16 figure of a GPU); the last column is then the share of it.

``--compare-torch`` instead times Keras on every installed backend beside the hand-written
PyTorch reference (``benchmarks/reference_torch.py``), interleaved, and prints each one's ratio
to the reference (see ``compare_torch.py``):

    python benchmarks/train_throughput.py --compare-torch --json rows.json
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"],
                        help="Keras backend (default: KERAS_BACKEND, else tensorflow)")
    parser.add_argument("--archs", nargs="+", default=None,
                        help="architectures to time (default: all four)")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[8, 32])
    parser.add_argument("--precisions", nargs="+", default=None,
                        help="Keras dtype policies (default: float32 plus the mixed "
                             "policies the device supports)")
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=10, help="timed train steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (compilation)")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="device peak TFLOP/s, to report utilisation")
    parser.add_argument("--reference", action="store_true",
                        help="time only the calibration step (base, 128x128, batch 16, float32) and print its img/s")
    return parser.parse_args(argv)


REFERENCE = dict(arch="base", batch=16, precision="float32", input_size=128, steps=8, warmup=2)
"""The calibration step of ``--reference`` and ``course_time.py``: fixed, so that its rate compares across days."""


def reference_rate(backend=None) -> float:
    """Images/second of the :data:`REFERENCE` training step on this machine, today."""
    ref = argparse.Namespace(**REFERENCE, backend=backend)
    return ref.batch / time_training(ref.arch, ref.batch, ref.precision, ref)


def device_kind():
    """'gpu', 'tpu' or 'cpu': the accelerator Keras will use."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    if backend == "jax":
        import jax
        return jax.default_backend()
    import torch
    return "gpu" if torch.cuda.is_available() else "cpu"


def default_precisions(kind):
    if kind == "gpu":
        return ["float32", "mixed_float16", "mixed_bfloat16"]
    if kind == "tpu":
        return ["float32", "mixed_bfloat16"]
    return ["float32", "mixed_bfloat16"]  # CPUs without native bf16 emulate it (slow)


def time_training(name, batch, precision, args):
    """Seconds per train step (median of args.steps) for one configuration."""
    import keras
    import numpy as np

    from deepcolor.models import build_model

    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy(precision)
    try:
        model = build_model(name, args.input_size)
        model.compile(optimizer="adam", loss="mse")
        rng = np.random.default_rng(0)
        s = args.input_size
        x = [rng.random((batch, s, s, 1), dtype=np.float32),
             rng.random((batch, 1000), dtype=np.float32)]
        y = rng.uniform(-1, 1, (batch, s, s, 2)).astype("float32")
        for _ in range(args.warmup):
            model.train_on_batch(x, y)
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            loss = model.train_on_batch(x, y)  # returns a Python float: waits for the device
            times.append(time.perf_counter() - start)
        if not np.isfinite(loss):
            raise FloatingPointError(f"loss is {loss}")
        return float(np.median(times))
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--compare-torch" in argv:  # benchmarks/ is on sys.path when run as a script
        from compare_torch import main as compare_main
        return compare_main([a for a in argv if a != "--compare-torch"])
    args = parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend  # must precede the first keras import
    import keras

    from deepcolor.models import flops
    from deepcolor.paper import ARCHITECTURES

    if args.reference:
        ref = REFERENCE
        print(f"reference step ({ref['arch']}, {ref['input_size']}x{ref['input_size']}, batch {ref['batch']}, "
              f"{ref['precision']}, {keras.backend.backend()}): {reference_rate():.1f} img/s", flush=True)
        return
    archs = args.archs or list(ARCHITECTURES)
    forward = {name: flops(name, args.input_size) for name in archs}  # checks names and size
    kind = device_kind()
    precisions = args.precisions or default_precisions(kind)
    print(f"backend {keras.backend.backend()}, device {kind}, keras {keras.__version__}, "
          f"input {args.input_size}x{args.input_size}, {args.warmup} warm-up + "
          f"{args.steps} timed steps (median)")
    header = f"{'arch':6} {'batch':>5} {'precision':15} {'ms/step':>9} {'img/s':>8} " \
             f"{'fwd GFLOP/img':>13} {'train TFLOP/s':>13} {'% peak':>7}"
    print(header)
    print("-" * len(header))
    for name in archs:
        for batch in args.batch_sizes:
            for precision in precisions:
                row = f"{name:6} {batch:5d} {precision:15}"
                try:
                    step = time_training(name, batch, precision, args)
                except Exception as error:  # a precision the device lacks, out of memory, ...
                    print(f"{row} failed: {type(error).__name__}: {str(error)[:80]}")
                    continue
                rate = batch / step
                tflops = 3 * forward[name] * rate / 1e12
                peak = f"{100 * tflops / args.peak_tflops:6.1f}%" if args.peak_tflops else "      -"
                print(f"{row} {1000 * step:9.1f} {rate:8.1f} {forward[name] / 1e9:13.2f} "
                      f"{tflops:13.3f} {peak:>7}", flush=True)


if __name__ == "__main__":
    main()
