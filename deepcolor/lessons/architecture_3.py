"""The tables and figures of notebook ``07_architecture_3``'s questions: how fast, and how far one pixel sees.

The notebook times one model itself (``predict.predict_ab`` of one image, warm-up then the median of
timed calls); :func:`latency` does the same for every architecture and input side, and
:func:`speed_table` and :func:`latency_figure` set the times beside the FLOPs.  How far one pixel sees
is :func:`deepcolor.models.receptive_field`, tabulated by :func:`receptive_field_table` and drawn by
:func:`receptive_field_figure`.
"""

from __future__ import annotations

import time

import numpy as np
from matplotlib.patches import Rectangle

from .. import paper
from ..predict import predict_ab
from ..resize import resize_images
from . import figures
from .architectures import machine
from .figures import suptitle

__all__ = ["receptive_field_table", "receptive_field_figure", "latency", "speed_table", "show_speed_table", "latency_figure"]


def receptive_field_table(names=None, input_size=224):
    """:func:`deepcolor.models.receptive_field` of each architecture beside the input side (notebook 07): a DataFrame
    indexed by architecture with the encoder's map size at ``input_size``, its receptive field in
    pixels and as a share of the side, and the output's receptive field (smallest and largest)."""
    import pandas as pd

    from .. import models

    rows = []
    for name in tuple(names or paper.ARCHITECTURES):
        rf = models.receptive_field(name)
        encoder_out = [r for r in models.layer_table(name, input_size) if r["stage"] == "encoder"][-1]["output"]
        rows.append({"arch": name, "encoder map": encoder_out, "encoder field (px)": rf.encoder,
                     f"encoder field / {input_size}": round(rf.encoder / input_size, 2),
                     "output field, smallest (px)": rf.output_min, "output field, largest (px)": rf.output})
    return pd.DataFrame(rows).set_index("arch")


def receptive_field_figure(L, names=None, caption=None, pixel=112):
    """One gray image per architecture with two receptive fields drawn as squares (notebook 07): that
    of output pixel (``pixel``, ``pixel``), the + mark (dashed), and that of the encoder pixel above it
    (solid), each the exact input pixels :func:`deepcolor.models.receptive_field` counts.

    L: (H, W) lightness in [0, 100], drawn at 224x224 (resized if needed), the paper's input size.
    Returns a Figure with one axis per architecture.
    """
    from .. import models

    L = np.asarray(L, np.float32)
    if L.ndim != 2:
        raise ValueError(f"L must be one image (H, W) in [0, 100], got shape {L.shape}")
    if L.shape != (224, 224):
        L = resize_images(L[None, ..., None], 224, 224)[0, ..., 0]
    names = tuple(names or paper.ARCHITECTURES)
    fig = figures.new_figure(figsize=(2.9 * len(names), 3.8), layout="constrained")
    for ax, name in zip(np.atleast_1d(fig.subplots(1, len(names))), names):
        encoder = list(paper.TABLES[name]["encoder"])
        step = int(np.prod([row[3] for row in encoder if row[0] == "conv"]))  # input pixels per encoder pixel
        every = [row for rows in paper.TABLES[name].values() for row in rows]
        ax.imshow(L, cmap="gray", vmin=0, vmax=100)
        sides = []
        for rows, o, style, color in ((encoder, pixel // step, "-", "C3"), (every, pixel, "--", "C0")):
            first, last = models.receptive_interval(rows, o)
            sides.append(last - first + 1)
            ax.add_patch(Rectangle((first - 0.5, first - 0.5), sides[-1], sides[-1], fill=False, lw=2,
                                   linestyle=style, edgecolor=color))
        ax.plot([pixel], [pixel], "+", color="C1", markersize=8)
        ax.set_title(f"{name}\nencoder pixel ({pixel // step}, {pixel // step}): {sides[0]} px (solid)\n"
                     f"output pixel ({pixel}, {pixel}): {sides[1]} px (dashed)", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    suptitle(fig, caption)
    return fig


def latency(names=None, sizes=(224,), repeats=5, warmup=1):
    """Milliseconds to colorize one image on this machine, per architecture and input side (notebook 07).

    For each architecture a model that takes any side is built once (random weights: time does not
    depend on them) and ``predict.predict_ab`` colorizes one gray image of each side in ``sizes``:
    ``warmup`` untimed calls, then the median of ``repeats`` timed ones.  Embedding not included.
    Returns a DataFrame indexed by architecture with a column ``ms @ S`` per side S.
    """
    import pandas as pd

    from .. import models

    if int(repeats) < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    embedding = np.full((1, paper.EMBEDDING_SIZE), 1 / paper.EMBEDDING_SIZE, np.float32)
    rows = {}
    for name in tuple(names or paper.ARCHITECTURES):
        model = models.build_model(name, None)
        rows[name] = {}
        for size in sizes:
            L = np.full((1, size, size), 50.0, np.float32)
            for _ in range(int(warmup)):
                predict_ab(model, L, embedding)
            times = []
            for _ in range(int(repeats)):
                start = time.perf_counter()
                predict_ab(model, L, embedding)
                times.append(time.perf_counter() - start)
            rows[name][f"ms @ {size}"] = 1000 * float(np.median(times))
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("arch")


def speed_table(cfg, names=None, repeats=5, warmup=1):
    """How fast each architecture colorizes one photo on this machine (notebook 07).

    At the profile's input side S and at the paper's 224: forward GFLOP (``models.flops``), the
    measured :func:`latency` (``ms @ S``) and the GFLOP per second that makes.  Returns a DataFrame
    indexed by architecture, params first; ``attrs["caption"]`` says what was measured where.
    """
    from .. import models

    names = tuple(names or paper.ARCHITECTURES)
    sizes = tuple(dict.fromkeys((cfg.profile.input_size, 224)))
    times = latency(names, sizes, repeats, warmup)
    table = times.copy()
    table.insert(0, "params", [models.describe(n)["params"] for n in names])
    for s in sizes:
        table[f"GFLOP @ {s}"] = [models.flops(n, s) / 1e9 for n in names]
        table[f"GFLOP/s @ {s}"] = table[f"GFLOP @ {s}"] / (table[f"ms @ {s}"] / 1000)
    table = table[["params"] + [f"{c} @ {s}" for s in sizes for c in ("GFLOP", "ms", "GFLOP/s")]]
    table.attrs["caption"] = (f"median of {repeats} timed colorizations of one image after {warmup} warm-up, on "
                              f"{machine()}; {sizes[0]} is the input side of profile {cfg.name!r}. These are this "
                              "machine's numbers: the paper reports no times.")
    return table


def show_speed_table(table):
    """A :func:`speed_table` styled, with its caption (notebook 07)."""
    floats = [c for c in table.columns if c != "params"]
    return (table.style.format("{:,.0f}", subset=["params"]).format("{:.3g}", subset=floats)
            .set_caption(table.attrs.get("caption", "")))


def latency_figure(table):
    """Measured milliseconds against forward GFLOP, one point per architecture and input side, log
    scales, from a :func:`speed_table` (notebook 07).  A dotted line through the base model's point
    shows where the others would lie if time were proportional to FLOPs."""
    fig = figures.new_figure(figsize=(6.5, 4.6), layout="constrained")
    ax = fig.subplots()
    sizes = [c.split("@ ")[1] for c in table.columns if c.startswith("ms @")]
    for k, s in enumerate(sizes):
        x, y = table[f"GFLOP @ {s}"].to_numpy(float), table[f"ms @ {s}"].to_numpy(float)
        ax.plot(x, y, "o", color=f"C{k}", label=f"input {s}x{s}")
        for name, xi, yi in zip(table.index, x, y):
            ax.annotate(name, (xi, yi), textcoords="offset points", xytext=(5, 3), fontsize=8)
        top = int(np.argmax(x))
        ref = np.geomspace(x.min() * 0.8, x.max() * 1.2, 10)
        ax.plot(ref, y[top] * ref / x[top], ":", color=f"C{k}", lw=1,
                label=f"time proportional to FLOPs ({s}x{s}, through {table.index[top]})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("forward GFLOP per image")
    ax.set_ylabel("ms per image (median)")
    figures.place_legend(fig, [ax])  # long labels: below the axes, where no point can hide behind them
    suptitle(fig, table.attrs.get("caption"))
    return fig
