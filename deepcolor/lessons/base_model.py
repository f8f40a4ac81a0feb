"""The tables and figures notebook ``04_base_model`` shows beyond the layer table
(:mod:`deepcolor.lessons.architectures`): what the paper says beside what the course assumes, what
its 2,500 epochs would cost, a hand-written Keras model checked against
:func:`deepcolor.models.build_model`, and what the "memorise a few photos" check gave.  The check
itself (pick the photos, build, compile, fit, predict) is the notebook's own cells; here are its
settings per profile (:data:`OVERFIT_SETTINGS`), the choice of photos (:func:`spread_over_photos`), its
table (:func:`memorisation_table`) and its figure (:func:`memorisation_figure`).

Lab units throughout: L in [0, 100], a and b in about [-128, 127]; the models read ``L / 100`` and
predict ``ab / 128`` (:mod:`deepcolor.models`; the scaling is ours, the paper gives none).
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, replace

import numpy as np

from .. import metrics, paper
from ..config import OFFLINE_FALLBACK, PROFILES
from ..resize import resize_images
from .figures import show_colorizations

__all__ = ["profile_epochs_text", "says_and_assumes", "training_cost_table", "compare_with_built",
           "OverfitSettings", "OVERFIT_SETTINGS", "overfit_settings", "spread_over_photos",
           "memorisation_table", "memorisation_figure"]


# --- what the paper says, what the course assumes ---------------------------------------------------

def profile_epochs_text(profiles=None) -> str:
    """How many epochs each profile trains, as one line of text (notebook 04), e.g.
    ``"a run: smoke 2, default 5 (offline: 70), full 20 epochs; a study run: smoke 1, default 1, full 20"``.
    profiles: {name: :class:`deepcolor.config.Profile`}, default ``deepcolor.config.PROFILES``; a
    profile on the Kaggle data other than ``full`` falls back offline to the built-in sample, which
    trains ``config.OFFLINE_FALLBACK["epochs"]`` (its study runs keep the profile's)."""
    profiles = PROFILES if profiles is None else profiles

    def offline(name, p):
        falls_back = p.data == "kaggle" and name != "full"  # config.load: full raises instead
        return f" (offline: {OFFLINE_FALLBACK['epochs']})" if falls_back else ""

    runs = ", ".join(f"{name} {p.epochs}{offline(name, p)}" for name, p in profiles.items())
    study = ", ".join(f"{name} {p.study_epochs}" for name, p in profiles.items())
    return f"a run: {runs} epochs; a study run: {study}"


def says_and_assumes(profiles=None):
    """``paper.says_and_assumes`` with the profiles' epochs filled in (:func:`profile_epochs_text`),
    as a pandas Styler with the text left-aligned and wrapped (notebook 04).  The frame is ``.data``:
    indexed by topic, columns paper, where, course, why."""
    table = paper.says_and_assumes(profile_epochs=profile_epochs_text(profiles))
    return (table.style.set_properties(**{"text-align": "left", "white-space": "normal"})
            .set_table_styles([{"selector": "th", "props": [("text-align", "left")]}])
            .set_caption("What the paper says, and what the course does where the paper is silent or "
                         "contradicts itself (its full text: shared/paper/deepcolor-paper.md)"))


def _cost_defaults() -> dict:
    """The assumptions of ``paper.training_cost`` (training images, sustained TFLOP/s), read from its
    signature so that the caption states exactly what the numbers assume."""
    params = inspect.signature(paper.training_cost).parameters
    return {"n_train": params["n_train"].default, "sustained_tflops": params["sustained_tflops"].default}


def training_cost_table(cfg, archs=None):
    """What the paper's 2,500 epochs at 224x224 cost for each architecture, beside the epochs of a run
    under profile ``cfg`` (a :class:`deepcolor.config.Config`) (notebook 04).

    Returns a pandas Styler indexed by architecture, columns ``paper epochs``, ``training PFLOP``
    and ``GPU-hours`` (from :func:`deepcolor.paper.training_cost`: three forward passes per image, on
    the paper's training set, at the throughput it assumes, which the caption states), ``<profile>
    epochs`` and ``share of the paper's epochs``.  The frame is ``.data``.
    """
    import pandas as pd

    assumed = _cost_defaults()
    rows = []
    for arch in archs or paper.ARCHITECTURES:
        cost = paper.training_cost(arch, paper.PAPER_EPOCHS, **assumed)
        rows.append({"arch": arch, "paper epochs": paper.PAPER_EPOCHS, "training PFLOP": cost["train_pflop"],
                     "GPU-hours": cost["gpu_hours"], f"{cfg.name} epochs": cfg.profile.epochs,
                     "share of the paper's epochs": cfg.profile.epochs / paper.PAPER_EPOCHS})
    table = pd.DataFrame(rows).set_index("arch")
    caption = (f"{paper.PAPER_EPOCHS:,} epochs at 224x224 on {assumed['n_train']:,} training photos, training counted "
               f"as 3 forward passes, at an assumed sustained {assumed['sustained_tflops']:g} TFLOP/s on one GPU "
               f"(our assumption: the paper gives no times; at batch 5 a GPU reaches less). Beside it: the "
               f"epochs of one run under profile {cfg.name} ({cfg.profile.study_epochs} per study run), "
               f"at {cfg.profile.input_size}x{cfg.profile.input_size}.")
    return (table.style.format({"training PFLOP": "{:,.0f}", "GPU-hours": "{:,.1f}",
                                "share of the paper's epochs": "{:.2%}"}).set_caption(caption))


# --- the model, written by hand --------------------------------------------------------------------

_FUSE_CLASSES = ("Concatenate", "FuseEmbedding")


def _kind(layer) -> str:
    name = type(layer).__name__
    if name == "InputLayer":
        return "input"
    if name == "Conv2D":
        return "conv"
    if name == "UpSampling2D":
        return "up"
    if name in _FUSE_CLASSES:
        return "fuse"
    return "other"


def _describe(layer) -> str:
    """A layer in words: ``Conv2D 3x3 /2 relu``, ``UpSampling2D x2``, ``Concatenate``."""
    name = type(layer).__name__
    if name == "Conv2D":
        (k, _), (s, _) = layer.kernel_size, layer.strides
        act = getattr(layer.activation, "__name__", str(layer.activation))
        return f"Conv2D {k}x{k}{f' /{s}' if s != 1 else ''} {act}"
    if name == "UpSampling2D":
        return f"UpSampling2D x{layer.size[0]}"
    return name


def _shape(layer) -> str:
    shape = layer.output.shape if _kind(layer) != "input" else layer.batch_shape
    return "x".join(str(d) for d in tuple(shape)[1:])


def _steps(model):
    """The model's layers as (label, layer) pairs to compare: its inputs (in the order of ``model.inputs``),
    then its convolutions, upsamplings and fusion, in the model's order.  Layers without weights that are
    none of these (RepeatVector, Reshape: tiling the embedding by hand) are named in the fusion step's
    label, or are steps of their own (unmatched) in a model without one."""
    input_layers = [layer for layer in model.layers if _kind(layer) == "input"]
    steps = [(f"Input {t.name}", next((layer for layer in input_layers if layer.output is t), None))
             for t in model.inputs]
    helpers = [type(layer).__name__ for layer in model.layers if _kind(layer) == "other" and not layer.weights]
    fused = False
    for layer in model.layers:
        kind = _kind(layer)
        if kind == "input" or (kind == "other" and not layer.weights):
            continue
        label = _describe(layer)
        if kind == "fuse" and not fused:
            label, fused = " + ".join(helpers + [label]), True
        steps.append((label, layer))
    if not fused:
        steps += [(name, None) for name in helpers]
    return steps


def _same_function(model, built, seed=0) -> float:
    """Copy ``model``'s weights into ``built`` (layer by layer, in step order) and return the largest
    absolute difference of their outputs on one seeded random input.  ``model`` is left unchanged."""
    ours = [layer for _, layer in _steps(model) if layer is not None and layer.weights]
    theirs = [layer for _, layer in _steps(built) if layer is not None and layer.weights]
    if len(ours) != len(theirs):
        raise ValueError(f"{len(ours)} layers with weights in the model, {len(theirs)} in the built one")
    for a, b in zip(ours, theirs):
        b.set_weights(a.get_weights())
    rng = np.random.default_rng(seed)
    inputs = [rng.random((1, *tuple(t.shape)[1:]), dtype=np.float32) for t in model.inputs]
    from keras import ops

    out_a = ops.convert_to_numpy(model(inputs, training=False))
    out_b = ops.convert_to_numpy(built(inputs, training=False))
    return float(np.max(np.abs(out_a - out_b)))


def compare_with_built(model, name: str = "base", check_outputs: bool = True):
    """Check a hand-written Keras model against ``models.build_model(name)``, step by step (notebook 04).

    model: a functional Keras model with inputs L (S, S, 1) and embedding (1000,).  Each input,
    convolution, upsampling and fusion step of ``model`` is paired, in order, with the built model's;
    weightless layers that prepare the embedding (RepeatVector, Reshape) are named in the fusion step's
    ``ours`` (the built model's ``FuseEmbedding`` does all of it in one layer).  Steps are paired by
    position, so a missing or extra layer also shifts the rows after it.
    Returns a pandas DataFrame: one row per step (``built layer``, ``ours``, ``built`` (layers in words,
    with kernel, stride and activation), ``our shape``, ``built shape``, ``our params``, ``built params``,
    ``same?``), then a row ``total`` (every parameter of each model) and, with ``check_outputs`` and when
    every row matches, a row ``same output`` whose ``ours`` gives the largest difference of the two
    models' outputs on a random input once ``model``'s weights are copied into a fresh built model
    (``model`` is not changed).  A step one model lacks shows as ``(missing)``.
    """
    import pandas as pd

    from .. import models

    size = model.inputs[0].shape[1]
    built = models.build_model(name, size)
    ours, theirs = _steps(model), _steps(built)
    rows = []
    for i in range(max(len(ours), len(theirs))):
        (o_label, o), (b_label, b) = (ours[i] if i < len(ours) else ("(missing)", None),
                                      theirs[i] if i < len(theirs) else ("(missing)", None))
        row = {"built layer": b.name if b is not None else "(missing)", "ours": o_label,
               "built": b_label, "our shape": _shape(o) if o is not None else "",
               "built shape": _shape(b) if b is not None else "",
               "our params": o.count_params() if o is not None and o.weights else 0,
               "built params": b.count_params() if b is not None and b.weights else 0}
        same_layer = (o is not None and b is not None and _kind(o) == _kind(b)
                      and _describe(o).split(" ", 1)[-1] == _describe(b).split(" ", 1)[-1])
        if o is not None and b is not None and _kind(o) == _kind(b) == "fuse":
            same_layer = True  # Concatenate by hand, FuseEmbedding built: what matters is the shape
        row["same?"] = bool(same_layer and row["our shape"] == row["built shape"]
                            and row["our params"] == row["built params"])
        rows.append(row)
    total = {"built layer": "total", "ours": "", "built": "", "our shape": "", "built shape": "",
             "our params": model.count_params(), "built params": built.count_params()}
    total["same?"] = total["our params"] == total["built params"]
    rows.append(total)
    if check_outputs and all(r["same?"] for r in rows):
        diff = _same_function(model, built)
        rows.append({"built layer": "same output", "ours": f"max |difference| {diff:.1e}",
                     "built": "our weights copied in", "our shape": _shape(model.layers[-1]),
                     "built shape": _shape(built.layers[-1]), "our params": 0, "built params": 0,
                     "same?": diff < 1e-4})
    return pd.DataFrame(rows)


# --- can it learn? memorise a few photos ----------------------------------------------------------

@dataclass(frozen=True)
class OverfitSettings:
    """How the "memorise a few photos" check trains (notebook 04): ``n_images`` training photos, model
    ``arch`` at ``input_size`` px, Adam at ``lr``, a fixed ``epochs`` passes over them in batches of
    ``batch_size``, with the "none" embedding (zeros: the network must memorise from L alone).
    ``measured``: what it gave (see :data:`OVERFIT_SETTINGS`).  Our settings: the paper has no such check."""

    arch: str
    input_size: int
    epochs: int
    lr: float
    batch_size: int
    n_images: int = 8
    measured: str = ""


OVERFIT_SETTINGS = {
    "smoke": OverfitSettings("arch3", 32, 100, 5e-3, 4, measured=(
        "about 7 s of training; AuC 0.95 (gray 0.86), accuracy 0.75: partial, small details come back faded")),
    "default": OverfitSettings("base", 64, 150, 1e-3, 4, measured=(
        "about 50 s of training; AuC 0.96 (gray 0.86), accuracy 0.82")),
    "default-offline": OverfitSettings("base", 32, 150, 1e-3, 4, measured=(
        "about 25 s of training; AuC 0.95 (gray 0.86), accuracy 0.79")),
    "full": OverfitSettings("base", 128, 300, 1e-3, 4, measured=(
        "about 4 minutes of training (seconds on a GPU); AuC 0.97 (gray 0.84), accuracy 0.89")),
}
"""The check's settings per profile name (another ``<name>-offline`` uses ``<name>``'s).  smoke: the
smallest network (architecture 3) at 32 px, so that CI spends seconds on it; default and full: the
base model itself, at 64 and 128 px (at 128 px it needs about twice the epochs of 64 px);
default-offline: the base model at its profile's 32 px.
``measured``: on 8 training photos of the built-in sample, seed 0, on 2 CPU cores (full's on the
sample of 9 photos without held-out strips, before the sample's version 3; smoke's, default's and
default-offline's on today's)."""


def overfit_settings(profile: str, **changes) -> OverfitSettings:
    """The :data:`OVERFIT_SETTINGS` of a profile name (notebook 04); another ``"<name>-offline"`` uses
    ``<name>``'s.  ``changes`` replace fields, e.g. ``lr=0.1`` (the paper's figure 17) or ``epochs=10``."""
    key = profile if profile in OVERFIT_SETTINGS else profile.removesuffix("-offline")
    if key not in OVERFIT_SETTINGS:
        raise ValueError(f"no overfit settings for profile {profile!r}; known: {', '.join(OVERFIT_SETTINGS)}")
    return replace(OVERFIT_SETTINGS[key], **changes)


def spread_over_photos(ds, indices, n: int) -> np.ndarray:
    """``n`` of ``indices``, one crop per source photo in turn (``ds.groups``) so that different photos
    come first; the first ``n`` where the dataset names no photos.  Returns sorted int64 indices."""
    indices = np.asarray(indices, np.int64)
    groups = ds.groups
    if groups is None:
        return np.sort(indices[:n])
    by_photo = {}
    for i in indices:
        by_photo.setdefault(groups[i], []).append(int(i))
    picked, queues = [], list(by_photo.values())
    while len(picked) < min(n, len(indices)):
        for queue in queues:
            if queue and len(picked) < n:
                picked.append(queue.pop(0))
    return np.sort(np.array(picked, np.int64))


def _what(settings: OverfitSettings, n_images: int, profile: str) -> str:
    s = settings
    return (f"MEMORISATION, NOT A RESULT: {n_images} training photos seen {s.epochs} times; {s.arch} at "
            f"{s.input_size}x{s.input_size}, lr {s.lr:g}, batch {s.batch_size}, embeddings: none (zeros), "
            f"profile {profile}")


def _finite(ab_pred):
    """A diverged model (lr too high) predicts NaN: measured and drawn as 0 (gray), what it shows."""
    ab_pred = np.asarray(ab_pred, np.float32)
    return ab_pred if np.all(np.isfinite(ab_pred)) else np.nan_to_num(ab_pred)


def memorisation_table(ab_true, ab_pred, settings: OverfitSettings, history, profile: str):
    """What the "memorise a few photos" check gave (notebook 04): AuC and paper accuracy of the
    memorised colours beside leaving the photos gray, on the very photos it trained on.

    ab_true, ab_pred: (n, H, W, 2) float32 in Lab units, the photos' true colours and the memorising
    model's (``predict.predict_ab``, at the photos' size); settings: the :class:`OverfitSettings` it was
    trained with; history: the ``fit`` history dict (``{"loss": [...]}``, MSE of ab / 128 per epoch);
    profile: ``cfg.name``.  Rows: gray (ab = 0), the memorised prediction (NaN predicted counts as 0)
    and the true colours resized to the model's input size and back (the most any model at that size
    can give back); columns ``AuC`` and ``paper accuracy`` (:func:`deepcolor.metrics.auc`,
    :func:`~deepcolor.metrics.paper_accuracy`), 1 = perfect.  Returns a pandas Styler whose caption says
    it is memorisation; ``.data`` is the frame, ``.data.attrs`` holds the settings and the first and
    last loss.
    """
    import pandas as pd

    s = settings
    ab_true = np.asarray(ab_true, np.float32)
    ceiling = resize_images(resize_images(ab_true, s.input_size, s.input_size), *ab_true.shape[1:3])
    rows = {"gray (ab = 0)": metrics.gray_prediction(ab_true), f"memorised ({s.epochs} epochs)": _finite(ab_pred),
            f"true colours, resized to {s.input_size} px and back": ceiling}
    table = pd.DataFrame({name: {"AuC": metrics.auc(ab_true, ab), "paper accuracy": metrics.paper_accuracy(ab_true, ab)}
                          for name, ab in rows.items()}).T
    loss = history.get("loss", [float("nan")])
    table.attrs.update(asdict(s), first_loss=float(loss[0]), last_loss=float(loss[-1]))
    return table.style.format("{:.3f}").set_caption(
        f"{_what(s, len(ab_true), profile)}. Loss (MSE of ab/128) {loss[0]:.4f} -> {loss[-1]:.4f}. "
        f"1 = perfect on both columns; the last row is what survives the model's {s.input_size} px input size.")


def memorisation_figure(L, ab_pred, ab_true, settings: OverfitSettings, profile: str, titles=None):
    """Gray input, memorised colours and truth of the photos the check trained on (notebook 04).

    L: (n, H, W) float32 in [0, 100]; ab_pred, ab_true: (n, H, W, 2) float32 in Lab units (NaN
    predicted is drawn as 0, gray); settings, profile: as for :func:`memorisation_table`; titles: one
    per photo (e.g. ``ds.groups[few]``).  Returns the :func:`deepcolor.lessons.figures.show_colorizations`
    Figure, captioned as memorisation.
    """
    s = settings
    return show_colorizations(L, _finite(ab_pred), ab_true, titles=titles, max_images=len(L),
                              caption=f"{_what(s, len(L), profile)}. Middle row: the colours it memorised for these "
                                      f"very photos, predicted at {s.input_size}x{s.input_size} and resized to "
                                      "the photos' size.")
