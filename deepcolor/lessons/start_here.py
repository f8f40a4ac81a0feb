"""What notebook ``00_start_here`` shows: the map of the course with each notebook's time, this
machine's setup under a profile, and the profiles side by side.

:data:`COURSE` and :data:`TIMES` are the one source of the per-notebook times: notebook 00 shows
them (:func:`course_map`) and README.md quotes them (``tests/test_lessons_start_here.py`` checks that
it does).  Each column says where it was measured (:data:`TIME_SOURCES`).
"""

from __future__ import annotations

import pandas as pd

from .. import config, embeddings, settings, weights
from ..data import find_local_kaggle
from ..paper import PAPER_SETTING, differs_from_paper

__all__ = ['COURSE', 'TIMES', 'CALIBRATION', 'SPEED_ROW', 'TIME_SOURCES', 'GPU_SPEEDUP', 'format_time', 'course_map', 'time_sources',
           'environment_check', 'profiles_table']


COURSE = {
    "00_start_here": "the course, profiles, the environment check",
    "01_lab_color_space": "RGB vs Lab, the L/a/b channels, the gamut, the 8-bit encoding",
    "02_dataset": "the Kaggle arrays, the built-in sample, your own photos, the ab distribution, the split by photo",
    "03_embeddings": "Inception-ResNet-v2, its preprocessing pitfall, cached embeddings, fusion",
    "04_base_model": "the paper's base network: the paper says / we assume, its code, memorise, train it, its colours",
    "05_architecture_1": "a smaller encoder: what halving the parameters costs",
    "06_architecture_2": "does the fusion help? imagenet vs untrained vs no embedding",
    "07_architecture_3": "the smallest network: speed and receptive field",
    "08_hyperparameter_study": "the paper's grid of learning rates, batch sizes and L2 (figures 12-20)",
    "09_results": "the paper's \"accuracy\" beside real colour metrics and baselines",
    "10_colorize_your_own": "colorize your own photos with a trained model",
    "11_colour_as_classes": "colour as classes (Zhang et al. 2016): bins, rebalancing, the annealed mean, "
                            "beside the MSE model",
}
"""The notebooks in teaching order, each with what a student does there (notebook 00, README.md)."""

TIMES = {
    "smoke": (7, 7, 10, 29, 31, 16, 24, 19, 68, 11, 25, 30),
    "default-offline": (7, 8, 11, 40, 140, 84, 111, 46, 81, 13, 29, 224),
    "default, 2-core CPU": (7, 7, 13, 306, 427, 204, 231, 75, 556, 10, 21, 648),
}
"""Measured wall time of each notebook of :data:`COURSE`, in seconds, in the order of :data:`COURSE`,
by profile; :data:`TIME_SOURCES` says where and how each was measured."""

CALIBRATION = {"smoke": 13.5, "default-offline": 12.5, "default, 2-core CPU": 13.2}
"""How fast the machine was when each column of :data:`TIMES` was measured: the images/second of one
fixed training step (the base model at 128x128, batch 16, float32), which
``benchmarks/course_time.py`` times before and after the notebooks (the lower of the two here).
A column measured at 7 img/s would take about twice as long as the same course at 14.  None: the
column was measured before the calibration existed."""

GPU_SPEEDUP = 10
"""Our rough assumption, not a measurement: a GPU runs the ``default`` course about ten times faster
than the 2-core CPU of :data:`TIMES` (the H200 times in benchmarks/RESULTS.md are of the offline
fallback, not of ``default``)."""

TIME_SOURCES = {
    "smoke": "measured by `benchmarks/course_time.py --profile smoke --offline` (every notebook in order under "
             "nbval, from an empty cache) on a 2-core CPU, 2026-12-07, the reference step at 13.6 img/s before "
             "and 13.5 after",
    "default-offline": "measured by `benchmarks/course_time.py --offline` on a 2-core CPU from an empty cache, "
                       "2026-12-07, the reference step at 13.6 img/s before and 12.5 after (benchmarks/RESULTS.md): "
                       "what `default` falls back to without internet",
    "default, 2-core CPU": "measured by `benchmarks/course_time.py` on a 2,000-image stand-in with the untrained "
                           "embedder, which cost what the Kaggle set and the ImageNet embedder cost, from an empty "
                           "cache, 2026-12-07, the reference step at 13.7 img/s before and 13.2 after "
                           "(benchmarks/RESULTS.md)",
    "default, GPU (est.)": f"estimated, not measured: the 2-core CPU time divided by {GPU_SPEEDUP} (our rough "
                           "assumption)",
}
"""Where each column of :func:`course_map` comes from (notebook 00, README.md)."""


def format_time(seconds: float, estimate: bool = False) -> str:
    """A notebook's time as the map shows it: "8 s" under a minute, else minutes to the half minute
    ("2.5 min") below ten and whole above; an ``estimate`` under a minute is "< 1 min" (notebook 00)."""
    if seconds < 60:
        return "< 1 min" if estimate else f"{seconds:.0f} s"
    minutes = seconds / 60
    minutes = round(minutes * 2) / 2 if minutes < 10 else round(minutes)
    return f"{minutes:g} min"


SPEED_ROW = "reference step"


def course_map() -> pd.DataFrame:
    """The map of the course: one row per notebook of :data:`COURSE` (what you do there, and its time
    under each column of :data:`TIMES`, plus the GPU estimate), a row "all" with the totals and a row
    :data:`SPEED_ROW` with the machine's speed behind each column (:data:`CALIBRATION`)
    (notebook 00_start_here; README.md's table quotes it)."""
    rows = {}
    for k, (notebook, what) in enumerate(COURSE.items()):
        rows[notebook] = {"what you do there": what, **{column: format_time(times[k]) for column, times in TIMES.items()}}
        rows[notebook]["default, GPU (est.)"] = format_time(TIMES["default, 2-core CPU"][k] / GPU_SPEEDUP, estimate=True)
    rows["all"] = {"what you do there": "", **{column: format_time(sum(times)) for column, times in TIMES.items()},
                   "default, GPU (est.)": format_time(sum(TIMES["default, 2-core CPU"]) / GPU_SPEEDUP, estimate=True)}
    rows[SPEED_ROW] = {"what you do there": "how fast the machine was: one fixed training step, images/s",
                       **{column: f"{rate:g} img/s" if rate else "not measured" for column, rate in CALIBRATION.items()},
                       "default, GPU (est.)": "-"}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("notebook")


def time_sources() -> pd.DataFrame:
    """Where each time column of :func:`course_map` was measured, or how it was estimated
    (:data:`TIME_SOURCES`), one row per column (notebook 00_start_here)."""
    return pd.DataFrame({"where the times come from": TIME_SOURCES}).rename_axis("column")


def environment_check(cfg) -> pd.DataFrame:
    """What this machine will use under profile ``cfg`` (a :class:`deepcolor.config.Config`)
    as a two-column table (item, value): profile, backend, devices, versions, data source,
    whether a Kaggle copy and the ImageNet weights are here, the sample cache and any fallback
    (notebook 00_start_here).  Probing the weights' host takes at most a few seconds offline."""
    env = config.environment()
    kaggle = cfg.kaggle_dir or find_local_kaggle()
    weights_file = weights.imagenet_weights_path()
    if weights_file.is_file():
        weights_state = f"cached: {weights_file}"
    elif weights.weights_available():
        weights_state = f"not cached; downloadable on first use into {weights_file.parent}"
    else:
        why = f"{settings.OFFLINE_ENV} is set" if settings.offline() else "no internet?"
        weights_state = f"not cached and cannot be downloaded here ({why}); expected at {weights_file}"
    p = cfg.profile
    images = f"{p.n_images or 'all'} images"
    if p.data == "sample":  # the sample adds its held-out crops: split.test_seen (notebook 02)
        images = f"{p.n_images} crops + {config.HELD_OUT_CROPS} held-out crops per photo"
    rows = [
        ("profile", f"{p.name}: {p.note}"),
        ("backend", env["backend"]),
        ("devices", ", ".join(env["devices"])),
        ("versions", f"deepcolor {env['deepcolor']}, Keras {env['keras']}"),
        ("data used", f"{p.data}, {images}, trained at {p.input_size}x{p.input_size}"),
        ("Kaggle copy", str(kaggle) if kaggle else f"not found (with internet, `config.load()` downloads it; or set {config.KAGGLE_ENV})"),
        ("built-in sample cache", str(settings.deepcolor_home())),
        ("ImageNet weights", weights_state),
        ("embedding mode", embeddings.describe_mode(p.embedding_mode)),
        ("fallbacks", "; ".join(cfg.fallbacks) or "none"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def profiles_table() -> pd.DataFrame:
    """The three profiles of :data:`deepcolor.config.PROFILES`, one row each (notebook 00), with
    the input size of the notebooks that train many models (08, 11) and
    what a study run of each differs in from the paper's runs (2,500 epochs, 224 px, 25,000 Kaggle
    images, ImageNet: :func:`deepcolor.paper.differs_from_paper`)."""
    def differs(p):
        images = p.n_images or PAPER_SETTING["images"]  # 0: the whole Kaggle set
        return differs_from_paper(config.Config(p).for_study(), images, None, p.study_epochs)

    rows = {name: {"data": p.data, "images": p.n_images or "all", "input size": p.input_size,
                   "epochs": p.epochs, "batch": p.batch_size, "lr": p.lr, "l2": p.l2,
                   "embeddings": p.embedding_mode, "study epochs": p.study_epochs,
                   "study input size": config.Config(p).for_study().profile.input_size,
                   "a study run differs from the paper's in": differs(p), "what for": p.note}
            for name, p in config.PROFILES.items()}
    return pd.DataFrame.from_dict(rows, orient="index")
