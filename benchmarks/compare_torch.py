"""Keras on each backend beside a hand-written PyTorch reference, timed in one run, interleaved.

    python benchmarks/train_throughput.py --compare-torch                 # CPU: float32
    python benchmarks/train_throughput.py --compare-torch --precision bfloat16 --json rows.json
    python benchmarks/train_throughput.py --compare-torch --steps 3 --warmup 1 --rounds 1

What is timed: one training step (forward, MSE loss, backward, Adam update, the loss read back
to the host, which waits for the device) on one fixed random batch, given as NumPy arrays each
step, as a data pipeline would hand them over. The same for every implementation:

- Keras: ``deepcolor.models.build_model`` compiled with Adam (lr 0.001) and MSE, the course's
  ``jit_compile`` default ("auto"), ``train_on_batch``;
- reference: ``benchmarks/reference_torch.py``, the same layers in plain PyTorch (NCHW),
  ``torch.optim.Adam(lr=0.001, eps=1e-7)`` (Keras' epsilon), a plain loop; the arrays are
  copied to the device each step, as Keras does.

Each implementation runs in its own worker process (a Keras backend is fixed per process), kept
alive for the whole run. The parent asks them in turn, ``--rounds`` times over every setting, so
a slow spell of a shared machine hits all of them alike; a row's figure is the median step time
over all its rounds. ``--precision bfloat16`` uses Keras' "mixed_bfloat16" policy and
``torch.autocast(dtype=torch.bfloat16)`` (float16 likewise).

FLOP/s: 3 x the forward FLOPs of ``deepcolor.models.flops`` per image (backward ~ 2x forward).
The CPU's peak is estimated, not measured: logical CPUs x clock x FLOPs per cycle and CPU, where
FLOPs per cycle = 2 (a fused multiply-add) x float32 lanes (16 with AVX-512, 8 with AVX2, 4
otherwise) x 2 FMA units, at the clock /proc/cpuinfo reports. Some CPUs run AVX-512 on 256-bit
units at half that rate, and two logical CPUs may share one core (both lower the true peak); a
CPU that boosts above the reported clock raises it. So beside it the script measures a float32
matrix product in PyTorch, the practical ceiling. On a GPU pass ``--peak-tflops``.
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))  # reference_torch

RESULT = "RESULT "  # the prefix of a worker's answer line; anything else it prints is passed on


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", nargs="+", default=["base", "arch3"], choices=["base", "arch3"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[224, 128])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[16])
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--backends", nargs="+", default=None,
                        help="Keras backends (default: each of tensorflow, jax, torch installed)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per setting and round")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (compilation)")
    parser.add_argument("--rounds", type=int, default=3, help="times each setting is visited")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="the device's peak TFLOP/s (default on CPU: estimated, see above)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here, as a JSON list")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: "keras:BACKEND" or "torch-reference"
    return parser.parse_args(argv)


# --- the workers ----------------------------------------------------------------------------

def keras_stepper(arch, size, batch, precision):
    import keras
    import numpy as np

    from deepcolor.models import build_model

    keras.mixed_precision.set_global_policy("float32" if precision == "float32" else f"mixed_{precision}")
    model = build_model(arch, size)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
    (L, embedding), ab = batch_arrays(batch, size)
    nhwc = [np.ascontiguousarray(np.moveaxis(a, 1, -1)) for a in (L, ab)]  # Keras' layout
    x, y = [nhwc[0], embedding], nhwc[1]

    def step():
        return model.train_on_batch(x, y)  # a Python float: waits for the device
    return step


def torch_stepper(arch, size, batch, precision):
    import reference_torch
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = reference_torch.build(arch).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    (L, embedding), y = batch_arrays(batch, size)
    autocast = precision != "float32"
    dtype = getattr(torch, precision)

    def step():
        tensors = [torch.from_numpy(a).to(device) for a in (L, embedding, y)]
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device, dtype=dtype, enabled=autocast):
            prediction = model(tensors[0], tensors[1])
        loss = torch.nn.functional.mse_loss(prediction.float(), tensors[2])
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def batch_arrays(batch, size):
    """One fixed random batch, NCHW: ([L (B, 1, S, S) in [0, 1], embedding (B, 1000)], ab (B, 2, S, S))."""
    import numpy as np

    rng = np.random.default_rng(0)
    L = rng.random((batch, 1, size, size), dtype=np.float32)
    embedding = rng.random((batch, 1000), dtype=np.float32)
    embedding /= embedding.sum(axis=1, keepdims=True)  # like class probabilities
    ab = rng.uniform(-0.5, 0.5, (batch, 2, size, size)).astype(np.float32)
    return (L, embedding), ab


def run_worker(kind):
    """Answer one JSON request per stdin line: {arch, size, batch, precision, steps, warmup}."""
    impl, _, backend = kind.partition(":")
    if impl == "keras":
        os.environ["KERAS_BACKEND"] = backend
        make = keras_stepper
    else:
        make = torch_stepper
    steppers = {}
    print(RESULT + json.dumps({"ready": True, "versions": versions(impl, backend)}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        key = (job["arch"], job["size"], job["batch"], job["precision"])
        try:
            if key not in steppers:
                steppers[key] = make(*key)
                for _ in range(job["warmup"]):
                    steppers[key]()
            times = []
            for _ in range(job["steps"]):
                start = time.perf_counter()
                loss = steppers[key]()
                times.append(time.perf_counter() - start)
            answer = {"times": times, "loss": float(loss)}
        except Exception as error:  # noqa: BLE001 - a precision the device lacks, out of memory, ...
            answer = {"error": f"{type(error).__name__}: {str(error)[:120]}"}
        print(RESULT + json.dumps(answer), flush=True)


def versions(impl, backend):
    if impl == "keras":
        import keras
        return f"keras {keras.__version__} on {backend} {importlib.import_module(backend).__version__}"
    import torch
    return f"torch {torch.__version__}"


class Worker:
    """A worker process and the line protocol to it."""

    def __init__(self, kind):
        self.kind = kind
        env = dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false", TF_CPP_MIN_LOG_LEVEL="2")
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", kind],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        self.info = self.read()

    def read(self):
        for line in self.process.stdout:
            if line.startswith(RESULT):
                return json.loads(line[len(RESULT):])
            print(f"  [{self.kind}] {line.rstrip()}", file=sys.stderr)
        raise RuntimeError(f"worker {self.kind} ended (exit {self.process.wait()}); its errors are above")

    def ask(self, job):
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


# --- the parent ------------------------------------------------------------------------------

def cpu_peak_gflops():
    """(estimated float32 peak GFLOP/s of this CPU, how it was estimated); see the module docstring."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    flags, mhz = set(), None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "flags" and not flags:
                flags = set(value.split())
            if key.strip() == "cpu MHz" and mhz is None:
                mhz = float(value)
    except OSError:
        pass
    if mhz is None:
        return None, "clock unknown (no /proc/cpuinfo): pass --peak-tflops"
    lanes, isa = (16, "AVX-512") if "avx512f" in flags else (8, "AVX2") if "avx2" in flags else (4, "SSE")
    per_cycle = 2 * lanes * 2
    peak = cpus * mhz / 1000 * per_cycle
    return peak, (f"estimated {cpus} logical CPUs x {mhz / 1000:.2f} GHz x {per_cycle} FLOP/cycle "
                  f"(FMA x {lanes} float32 lanes of {isa} x 2 FMA units) = {peak:.0f} GFLOP/s")


def matmul_gflops(seconds=2.0):
    """float32 GFLOP/s of a 2048x2048 matrix product in PyTorch on the CPU: what this CPU gives
    dense arithmetic in practice, to set beside the estimated peak (an estimate above it is off)."""
    import torch

    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return count * 2 * 2048 ** 3 / (time.perf_counter() - start) / 1e9


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return run_worker(args.worker)
    backends = args.backends or [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b)]
    if os.environ.get("KERAS_BACKEND") not in backends:  # this process needs Keras for the FLOP counts only
        os.environ["KERAS_BACKEND"] = backends[0]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from deepcolor.models import flops

    if importlib.util.find_spec("torch") is None:
        sys.exit("the PyTorch reference needs torch: pip install -e '.[bench]'")
    kinds = ["torch-reference"] + [f"keras:{b}" for b in backends]
    workers = {kind: Worker(kind) for kind in kinds}
    for kind, worker in workers.items():
        print(f"{kind:17} {worker.info['versions']}")
    import torch
    on_gpu = torch.cuda.is_available()
    if args.peak_tflops:
        peak, how = args.peak_tflops * 1e3, f"given: {args.peak_tflops} TFLOP/s"
    elif on_gpu:
        peak, how = None, "a GPU: pass --peak-tflops for its share"
    else:
        peak, how = cpu_peak_gflops()
        how += f"; a float32 matrix product measured at {matmul_gflops():.0f} GFLOP/s"
    print(f"device: {torch.cuda.get_device_name() if on_gpu else 'CPU'}; peak: {how}")
    print(f"{args.precision}, {args.warmup} warm-up + {args.steps} timed steps per setting, "
          f"{args.rounds} interleaved rounds; median step\n")

    settings = [(a, s, b) for a in args.archs for s in args.sizes for b in args.batch_sizes]
    times = {(k, st): [] for k in kinds for st in settings}
    errors = {}
    for round_ in range(args.rounds):
        for setting in settings:
            for kind in kinds:
                arch, size, batch = setting
                answer = workers[kind].ask({"arch": arch, "size": size, "batch": batch,
                                            "precision": args.precision, "steps": args.steps,
                                            "warmup": args.warmup})
                if "error" in answer:
                    errors[(kind, setting)] = answer["error"]
                else:
                    times[(kind, setting)] += answer["times"]
        print(f"round {round_ + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    for worker in workers.values():
        worker.close()

    rows = []
    header = (f"{'implementation':22} {'arch':5} {'size':>4} {'batch':>5} {'img/s':>8} "
              f"{'x reference':>11} {'GFLOP/s':>9} {'% peak':>7}")
    print(header + "\n" + "-" * len(header))
    for setting in settings:
        arch, size, batch = setting
        reference = times[("torch-reference", setting)]
        reference_rate = batch / statistics.median(reference) if reference else None
        for kind in kinds:
            impl, _, backend = kind.partition(":")
            name = f"keras on {backend}" if impl == "keras" else "PyTorch reference"
            if (kind, setting) in errors:
                print(f"{name:22} {arch:5} {size:4d} {batch:5d} failed: {errors[(kind, setting)]}")
                continue
            rate = batch / statistics.median(times[(kind, setting)])
            ratio = rate / reference_rate if reference_rate else None
            gflops = 3 * flops(arch, size) * rate / 1e9
            share = f"{100 * gflops / peak:6.1f}%" if peak else "      -"
            print(f"{name:22} {arch:5} {size:4d} {batch:5d} {rate:8.2f} "
                  f"{ratio if ratio is not None else float('nan'):10.2f}x {gflops:9.1f} {share:>7}")
            rows.append({"impl": "keras" if impl == "keras" else "torch-reference",
                         "backend": backend if impl == "keras" else "torch", "arch": arch, "size": size,
                         "batch": batch, "precision": args.precision, "images_per_s": round(rate, 3),
                         "ratio_to_reference": None if ratio is None else round(ratio, 3),
                         "gflops_per_s": round(gflops, 2),
                         "share_of_peak": None if not peak else round(gflops / peak, 4)})
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
        print(f"\nrows written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
