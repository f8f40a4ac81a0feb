"""Benchmark of the data pipeline: ColorBatches reading a memory-mapped Kaggle-layout dataset.

Builds a dataset of N images (default 3000) in the Kaggle layout in a temporary folder, written
chunk by chunk with ``np.lib.format.open_memmap`` (never whole in RAM), and a random (N, 1000)
float32 embedding memmap.  The images are tiled crops of real photos shipped with scikit-image,
so the bytes look like photos, not noise.  Then, in a fresh process restricted to one core
(``threadpool_limits(1)`` and, on Linux, CPU affinity), it reads two full shuffled epochs through
``ColorBatches`` (batch 32) and reports:

- batches/s and images/s for epoch 1 (page cache dropped first with posix_fadvise, so the data
  comes from disk where the OS allows) and epoch 2 (page cache warm);
- the same for ``dataset.batch_raw`` alone (the uint8 reads, no float conversion);
- memory: RSS, anonymous RSS (RSS minus file-backed pages) before and at peak, and the process's
  peak RSS (``ru_maxrss``).  Pages of a memory-mapped file count in RSS while mapped, but the kernel
  can drop them at any time; anonymous memory is what the process really holds.

It repeats everything for a dataset twice as large, to show that memory does not grow with the
dataset.  Prints numbers only.

    python benchmarks/data_pipeline.py             # 3000 and 6000 images, batch 32
    python benchmarks/data_pipeline.py -n 1000 --input-size 112
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()


# --------------------------------------------------------------------------- building the data


def photo_tiles(count: int = 96, seed: int = 0):
    """``count`` 224x224 crops (random position, scale and flip) of real photos, as 8-bit Lab."""
    import skimage.data
    from skimage.transform import resize

    from deepcolor.color import encode_lab8, rgb_to_lab, split_lab

    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket()]
    rng = np.random.default_rng(seed)
    l8 = np.empty((count, 224, 224), np.uint8)
    ab8 = np.empty((count, 224, 224, 2), np.uint8)
    for i in range(count):
        rgb = photos[i % len(photos)]
        h, w = rgb.shape[:2]
        side = int(rng.integers(min(h, w) // 2, min(h, w) + 1))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = resize(rgb[top : top + side, left : left + side] / 255.0, (224, 224), anti_aliasing=True)
        if rng.integers(2):
            crop = crop[:, ::-1]
        l8[i], ab8[i] = encode_lab8(*split_lab(rgb_to_lab(np.clip(crop, 0, 1))))
    return l8, ab8


def build(root: Path, n: int, tiles, chunk: int = 256) -> Path:
    """Write n images in the Kaggle layout (ab files split 40/40/20 like the real set) and an
    (n, 1000) float32 embedding file, chunk by chunk through open_memmap."""
    open_memmap = np.lib.format.open_memmap
    l_tiles, ab_tiles = tiles
    (root / "l").mkdir(parents=True)
    (root / "ab" / "ab").mkdir(parents=True)
    rng = np.random.default_rng(1)
    l8 = open_memmap(root / "l" / "gray_scale.npy", "w+", np.uint8, (n, 224, 224))
    for s in range(0, n, chunk):
        l8[s : s + chunk] = l_tiles[np.arange(s, min(s + chunk, n)) % len(l_tiles)]
    l8.flush()
    del l8
    sizes = [int(n * 0.4), int(n * 0.4)]
    sizes.append(n - sum(sizes))
    start = 0
    for k, size in enumerate(sizes, start=1):
        ab8 = open_memmap(root / "ab" / "ab" / f"ab{k}.npy", "w+", np.uint8, (size, 224, 224, 2))
        for s in range(0, size, chunk):
            ab8[s : s + chunk] = ab_tiles[np.arange(start + s, start + min(s + chunk, size)) % len(ab_tiles)]
        ab8.flush()
        del ab8
        start += size
    emb = open_memmap(root / "embeddings.npy", "w+", np.float32, (n, 1000))
    for s in range(0, n, chunk):
        e = rng.random((min(chunk, n - s), 1000), dtype=np.float32)
        emb[s : s + len(e)] = e / e.sum(axis=1, keepdims=True)  # softmax-like rows
    emb.flush()
    del emb
    return root


def drop_page_cache(root: Path) -> None:
    """Ask the kernel to drop the cached pages of every file under root (no root rights needed)."""
    if not hasattr(os, "posix_fadvise"):
        return
    for path in root.rglob("*.npy"):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------- measuring (child)


def memory_mb() -> dict:
    import psutil

    m = psutil.Process().memory_info()
    return {"rss": m.rss / 2**20, "anon": (m.rss - getattr(m, "shared", 0)) / 2**20}


def measure(root: Path, batch_size: int, input_size: int | None, pin: bool) -> dict:
    """Two shuffled epochs through ColorBatches and one pass of batch_raw; runs in its own process."""
    from threadpoolctl import threadpool_limits, threadpool_info

    from deepcolor.batches import ColorBatches  # imports Keras: before the memory baseline
    from deepcolor.data import load_kaggle

    cpus = None
    if pin and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        cpus = sorted(os.sched_getaffinity(0))
    result = {"cpus": cpus}
    with threadpool_limits(1):
        result["threadpools"] = sorted({f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info()})
        before = memory_mb()
        ds = load_kaggle(root)
        emb = np.load(root / "embeddings.npy", mmap_mode="r")
        batches = ColorBatches(ds, emb, batch_size=batch_size, shuffle=True, seed=0, input_size=input_size)
        peak_anon = memory_mb()["anon"]
        drop_page_cache(root)
        for epoch in (1, 2):
            start = time.perf_counter()
            images = 0
            for i in range(len(batches)):
                (L, e), ab = batches[i]
                images += len(L)
                peak_anon = max(peak_anon, memory_mb()["anon"])
            seconds = time.perf_counter() - start
            batches.on_epoch_end()
            result[f"epoch{epoch}"] = {"seconds": seconds, "batches_per_s": len(batches) / seconds,
                                       "images_per_s": images / seconds}
            del L, e, ab
        order = np.random.default_rng(0).permutation(len(ds))
        start = time.perf_counter()
        for s in range(0, len(ds), batch_size):
            ds.batch_raw(np.sort(order[s : s + batch_size]))
        seconds = time.perf_counter() - start
        result["batch_raw_warm"] = {"images_per_s": len(ds) / seconds}
        after = memory_mb()
    result.update(
        n=len(ds), batches=len(batches), rss_before_mb=before["rss"], rss_after_mb=after["rss"],
        anon_before_mb=before["anon"], anon_peak_mb=peak_anon, anon_growth_mb=peak_anon - before["anon"],
        ru_maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    return result


# --------------------------------------------------------------------------- main


def report(r: dict, data_mb: float) -> None:
    e1, e2 = r["epoch1"], r["epoch2"]
    print(f"  dataset: {r['n']} images, {data_mb:.0f} MB on disk; {r['batches']} batches per epoch")
    print(f"  epoch 1 (page cache dropped): {e1['batches_per_s']:8.1f} batches/s {e1['images_per_s']:8.0f} images/s"
          f"  ({e1['seconds']:.2f} s)")
    print(f"  epoch 2 (page cache warm):    {e2['batches_per_s']:8.1f} batches/s {e2['images_per_s']:8.0f} images/s"
          f"  ({e2['seconds']:.2f} s)")
    print(f"  batch_raw alone (warm):                        {r['batch_raw_warm']['images_per_s']:8.0f} images/s")
    print(f"  RSS: {r['rss_before_mb']:.0f} MB before opening -> {r['rss_after_mb']:.0f} MB after two epochs "
          f"(peak ru_maxrss {r['ru_maxrss_mb']:.0f} MB; includes mapped file pages)")
    print(f"  anonymous RSS: {r['anon_before_mb']:.0f} MB before -> peak {r['anon_peak_mb']:.0f} MB "
          f"(growth {r['anon_growth_mb']:+.0f} MB)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="images in the first dataset (the second has 2n)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--input-size", type=int, default=None, help="ColorBatches input_size (default 224)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the measuring process to one CPU")
    parser.add_argument("--dir", type=Path, default=None, help="where to build the datasets (default: a temp folder)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: child process
    args = parser.parse_args(argv)

    if args.measure:
        print(json.dumps(measure(args.measure, args.batch_size, args.input_size, not args.no_pin)))
        return 0

    work = Path(tempfile.mkdtemp(prefix="deepcolor-bench-", dir=args.dir))
    try:
        t = time.perf_counter()
        tiles = photo_tiles()
        print(f"data pipeline benchmark: ColorBatches, batch {args.batch_size}, shuffle on, "
              f"input size {args.input_size or 224}, embeddings (N, 1000) float32 memmap")
        print(f"photo tiles: {len(tiles[0])} crops of scikit-image photos ({time.perf_counter() - t:.1f} s)")
        results = []
        for n in (args.n, 2 * args.n):
            root = work / f"n{n}"
            t = time.perf_counter()
            build(root, n, tiles)
            data_mb = sum(f.stat().st_size for f in root.rglob("*.npy")) / 2**20
            print(f"\n{n} images: built in {time.perf_counter() - t:.1f} s")
            cmd = [sys.executable, str(HERE), "--measure", str(root), "--batch-size", str(args.batch_size)]
            cmd += ["--input-size", str(args.input_size)] if args.input_size else []
            cmd += ["--no-pin"] if args.no_pin else []
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            if len(results) == 0:
                print(f"  measuring process: threadpool_limits(1) -> {', '.join(r['threadpools']) or 'no pools'}; "
                      f"CPU affinity {r['cpus'] if r['cpus'] is not None else 'not set'}")
            report(r, data_mb)
            results.append(r)
            shutil.rmtree(root)
        a, b = results
        print(f"\nmemory vs dataset size ({a['n']} -> {b['n']} images): anonymous growth "
              f"{a['anon_growth_mb']:+.0f} MB -> {b['anon_growth_mb']:+.0f} MB; "
              f"warm images/s {a['epoch2']['images_per_s']:.0f} -> {b['epoch2']['images_per_s']:.0f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
