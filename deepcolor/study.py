"""The hyperparameter study (notebook ``08_hyperparameter_study``), the final evaluation
(``09_results``) and colorizing your own photo (``10_colorize_your_own``).

Every table carries the profile and embedding mode that produced it (under smoke, or with the
untrained embedder, its numbers are not results).  Accuracies are the paper's (is ``a > b``
guessed right; see :mod:`deepcolor.metrics`), measured at the photos' size like ``metrics.evaluate``.
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

import numpy as np

from .files import DamagedFileError, read_json, write_bytes, write_json

__all__ = ["STUDY_COLUMNS", "EVAL_FILE", "run_study", "study_histories", "compare_with_paper", "evaluate_all",
           "show_results", "accuracy_blind_spot", "slider_run", "slider_figure", "photo_from_upload",
           "show_before_after", "colorize_command"]

STUDY_COLUMNS = ("figure", "arch", "lr", "batch", "l2", "epochs", "status", "val_accuracy", "paper_val",
                 "test_accuracy", "paper_test", "constant_val", "constant_test", "paper_note",
                 "profile", "embedding_mode", "run_dir")
"""The columns of :func:`run_study`, in order."""

EVAL_FILE = "study_eval.json"
"""Written into a run folder by :func:`run_study`: its accuracies on one split, so reruns need no model."""


def _split_key(split) -> str:
    parts = [np.asarray(split[k], np.int64).tobytes() for k in (1, 2)]
    return hashlib.sha1(b"|".join(parts)).hexdigest()[:16]


def _accuracies(model, dataset, split, embeddings, batch_size=16) -> dict:
    """{"val": [accuracy, constant], "test": [...]}: the paper accuracy of ``model`` (NaN without
    one) and the constant-predictor accuracy max(p, 1 - p) on the validation and test images.

    p is the gray prediction's paper accuracy (ab = 0 ties to a, so it scores the share of pixels
    with a >= b).  Every image has as many pixels, so batch scores are weighted by image count.
    """
    from .metrics import gray_prediction, paper_accuracy, predict_ab

    out = {}
    for part, indices in (("val", split[1]), ("test", split[2])):
        indices = np.asarray(indices, np.int64)
        if not len(indices):
            raise ValueError(f"the split's {part} part is empty: use deepcolor.data.split on at least 3 images")
        correct = gray = 0.0
        for start in range(0, len(indices), batch_size):
            idx = indices[start : start + batch_size]
            L, ab = dataset.batch(idx)
            gray += paper_accuracy(ab, gray_prediction(ab)) * len(idx)
            if model is not None:
                correct += paper_accuracy(ab, predict_ab(model, L, np.asarray(embeddings[idx], np.float32))) * len(idx)
        p = gray / len(indices)
        out[part] = [float(correct / len(indices)) if model is not None else float("nan"), float(max(p, 1 - p))]
    return out


def _recorded(config, dataset, embeddings_mode, profile, key):
    """(record, accuracies) of a finished run (completed, or stopped on a NaN loss) with exactly
    this setting whose accuracies on this split are saved; (None, None) when there is none."""
    from .train import default_runs_dir, load_run, same_setting

    for path in sorted(default_runs_dir().glob(f"*/{EVAL_FILE}"), reverse=True):
        try:
            rec, saved = load_run(path.parent), read_json(path, "the study's accuracies of this run")
        except (DamagedFileError, FileNotFoundError):
            continue  # a damaged or half-deleted run is trained again, never reused
        if (rec["status"] in ("completed", "nan") and saved.get("split") == key
                and same_setting(rec, config, dataset, embeddings_mode, profile)):
            nan = float("nan")  # a NaN accuracy is stored as null (strict JSON)
            return rec, {k: [nan if v is None else v for v in vals] if isinstance(vals, list) else vals
                         for k, vals in saved.items()}
    return None, None


def run_study(cfg, ds, emb, split, runs=None, epochs=None, verbose=0):
    """Train (or reuse) every run of the paper's grid under ``cfg``'s profile (notebook 08).

    cfg: a :class:`deepcolor.config.Config`; ds: its dataset; emb: (len(ds), 1000) float32
    embeddings; split: (train, val, test) index arrays.  runs: StudyRun list (default
    ``cfg.profile.study``, the paper's figures 12-20); epochs: per run (default
    ``cfg.profile.study_epochs``); verbose: Keras' fit verbosity.  Runs are trained with
    :func:`deepcolor.train.train_or_load`; each run's accuracies go into its folder
    (``study_eval.json``), so a rerun reuses finished runs, diverged ones included, without
    loading a model.
    Returns a DataFrame with :data:`STUDY_COLUMNS`: our validation / test accuracy (fractions in
    [0, 1], NaN for a diverged run) beside the paper's (joined on figure, arch, lr, batch and l2;
    NaN where the paper has no number) and the constant-predictor accuracy on the same images.
    """
    import pandas as pd

    from .paper import results_table
    from .train import history_of

    runs = tuple(cfg.profile.study if runs is None else runs)
    epochs = int(cfg.profile.study_epochs if epochs is None else epochs)
    key, rows = _split_key(split), []
    for run in runs:
        config = cfg.train_config(run.arch, lr=run.lr, batch_size=run.batch_size, l2=run.l2, epochs=epochs)
        record, accs = _recorded(config, ds, cfg.embedding_mode, cfg.name, key)
        if record is None:
            result = cfg.train_or_load(run.arch, ds, emb, split, verbose=verbose, lr=run.lr,
                                       batch_size=run.batch_size, l2=run.l2, epochs=epochs)
            record = {**result.record, "path": str(result.run_dir)}
            accs = _accuracies(result.model if result.status == "completed" else None, ds, split, emb)
            if result.status in ("completed", "nan"):
                write_json(result.run_dir / EVAL_FILE, {"split": key, **accs})
        rows.append({"figure": run.figure, "arch": run.arch, "lr": run.lr, "batch": run.batch_size,
                     "l2": run.l2, "epochs": len(history_of(record).get("loss", [])), "status": record["status"],
                     "val_accuracy": accs["val"][0], "test_accuracy": accs["test"][0],
                     "constant_val": accs["val"][1], "constant_test": accs["test"][1],
                     "profile": cfg.name, "embedding_mode": cfg.embedding_mode, "run_dir": record["path"]})
    paper = results_table().rename(columns={"model": "arch", "val": "paper_val", "test": "paper_test",
                                            "note": "paper_note"})
    df = pd.DataFrame(rows).merge(paper, on=["figure", "arch", "lr", "batch", "l2"], how="left")
    return df[list(STUDY_COLUMNS)]


def study_histories(df) -> dict:
    """Per-epoch histories of the runs of a :func:`run_study` table, for ``plots.loss_curves``:
    ``{"fig 15: base lr=0.001 b=5 l2=0.01": {"loss": [...], "val_loss": [...], ...}, ...}``."""
    from .train import history_of, load_run

    return {f"fig {r.figure}: {r.arch} lr={r.lr:g} b={r.batch} l2={r.l2:g}": history_of(load_run(r.run_dir))
            for r in df.itertuples()}


def show_results(df, title=None):
    """A table of this module (:func:`run_study`, :func:`evaluate_all`) as a pandas Styler whose
    caption names the profile and embedding mode and says "NOT RESULTS" under smoke or with the
    untrained embedder (notebooks 08, 09).  Accuracies are shown as percentages."""
    from .plots import metrics_table

    profile, mode = df["profile"].iloc[0], df["embedding_mode"].iloc[0]
    styler = metrics_table(df.drop(columns=["profile", "embedding_mode", "run_dir"], errors="ignore"),
                           profile, mode, title)
    shown = styler.data.columns
    percent = [c for c in shown if "accuracy" in c or c.startswith(("paper_", "constant")) and c != "paper_note"]
    small = [c for c in ("lr", "l2") if c in shown]
    return styler.format("{:.2%}", subset=percent, na_rep="-").format("{:g}", subset=small)


def compare_with_paper(df):
    """The :func:`run_study` table beside the paper's numbers, styled and captioned (notebook 08)."""
    return show_results(df, title=f"our runs ({int(df['epochs'].max())} epochs at most) beside the paper's")


def evaluate_all(cfg, ds, emb, split, archs=None, verbose=2):
    """Every architecture (trained or reused via ``cfg.train_or_load``) on the test images, with
    the gray and mean-ab baselines once at the bottom (notebook 09).

    Returns a DataFrame indexed by predictor (archs..., "gray baseline", "mean-ab baseline") with
    the ``metrics.METRICS`` columns (accuracy, constant_baseline, ab_mse, psnr, ssim, auc,
    colourfulness_pred / _true / _gap), images, note, profile and embedding_mode.  A run that did
    not complete (e.g. NaN loss) gets a row of NaN whose note gives its status.  verbose: as in ``fit``.
    """
    import pandas as pd

    from .metrics import METRICS, evaluate
    from .models import ARCHITECTURES
    from .plots import results_side_by_side

    tables = {}
    for arch in archs or ARCHITECTURES:
        run = cfg.train_or_load(arch, ds, emb, split, verbose=verbose)
        if run.status == "completed":
            tables[arch] = evaluate(run.model, ds, split[2], emb, train_indices=split[0])
        else:
            tables[arch] = pd.DataFrame([{**{m: float("nan") for m in METRICS}, "images": len(split[2]),
                                          "note": f"run {run.status}: not evaluated"}], index=["model"])
    completed = [name for name, t in tables.items() if "gray baseline" in t.index]
    if not completed:
        raise RuntimeError(f"no architecture trained to completion under profile {cfg.name}: "
                           "check the runs' status (deepcolor.train.load_runs()) and their learning rates")
    df = results_side_by_side({completed[0]: tables[completed[0]], **tables})  # baselines from a completed run
    df = df.loc[[*tables, "gray baseline", "mean-ab baseline"]]
    df["profile"], df["embedding_mode"] = cfg.name, cfg.embedding_mode
    return df


def accuracy_blind_spot(ab_true):
    """What the paper's accuracy does and does not see, on the true colours ``ab_true``
    (N, H, W, 2) in Lab units (notebook 09).  Returns (table, predictions): a DataFrame indexed
    by predictor with accuracy, ab_mse and auc, and those predictions, (N, H, W, 2) Lab units:

    - "truth"; "gray (ab = 0)", which scores p, the share of pixels with a >= b;
    - "right side, wrong colour": (100, -100) where a >= b, else (-100, 100): 100% accuracy;
    - "truth, a and b swapped where |a - b| < 5": nearly the right colour, yet far less accuracy.
    """
    import pandas as pd

    from .metrics import ab_mse, auc, gray_prediction, paper_accuracy

    ab_true = np.asarray(ab_true, np.float32)
    a_side = np.argmax(ab_true, -1)[..., None] == 0
    near = np.abs(ab_true[..., :1] - ab_true[..., 1:]) < 5
    preds = {"truth": ab_true, "gray (ab = 0)": gray_prediction(ab_true),
             "right side, wrong colour": np.where(a_side, [100.0, -100.0], [-100.0, 100.0]).astype(np.float32),
             "truth, a and b swapped where |a - b| < 5": np.where(near, ab_true[..., ::-1], ab_true)}
    table = pd.DataFrame([{"accuracy": paper_accuracy(ab_true, p), "ab_mse": ab_mse(ab_true, p),
                           "auc": auc(ab_true, p)} for p in preds.values()], index=pd.Index(preds, name="predictor"))
    return table, preds


def slider_run(cfg, ds, emb, split, arch, lr, batch_size, l2, epochs, verbose=2):
    """Train (or reuse) one run with these settings and draw its loss curves (notebook 08's sliders).
    ``verbose``: Keras' fit verbosity (2: one line per epoch).

    Returns (history, figure): history ``{"loss": [...], "val_loss": [...], ...}`` per epoch;
    figure: ``plots.loss_curves`` of loss and val_loss, captioned with profile and embedding mode.
    """
    from .plots import caption, loss_curves

    run = cfg.train_or_load(arch, ds, emb, split, verbose=verbose, lr=float(lr), batch_size=int(batch_size),
                            l2=float(l2), epochs=int(epochs))
    name = f"{arch} lr={lr:g} b={int(batch_size)} l2={l2:g}: {run.status}"
    fig = loss_curves({name: run.history}, caption=caption(cfg.name, cfg.embedding_mode))
    return run.history, fig


def slider_figure(cfg, ds, emb, split, arch, lr, batch_size, l2, epochs):
    """Only the figure of :func:`slider_run`: what ``ipywidgets.interact`` shows (notebook 08)."""
    return slider_run(cfg, ds, emb, split, arch, lr, batch_size, l2, epochs)[1]


def photo_from_upload(value, folder=None) -> Path:
    """Save an ``ipywidgets.FileUpload`` value (a tuple of {"name", "content"} dicts) to ``folder``
    (default ``<deepcolor home>/uploads``) and return the first photo's path (notebook 10).

    With nothing uploaded (an empty value, as under nbval) it saves and returns scikit-image's
    ``coffee`` photo (600x400, CC0) instead, so the notebook always has a photo to colorize.
    """
    from .settings import deepcolor_home

    folder = Path(folder or deepcolor_home() / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    files = list(value or ())
    if files:
        item = files[0]
        if not isinstance(item, dict) or "content" not in item:
            raise ValueError("expected FileUpload.value: a tuple of dicts with 'name' and 'content' (ipywidgets 8)")
        name = Path(str(item.get("name") or "")).name  # never a path: "../x" is saved as "x"
        path = folder / (name if name not in ("", ".", "..") else "upload")
        write_bytes(path, bytes(item["content"]))  # atomic; a link there is replaced, not followed
        return path
    path = folder / "coffee.png"
    if not path.is_file():
        import skimage.data
        from PIL import Image

        Image.fromarray(skimage.data.coffee()).save(path)
    return path


def show_before_after(rgb_in, rgb_out, max_side=1200):
    """The gray input (what the model sees), the colorization and, if the input had colour, the
    original, side by side and drawn pixel for pixel (notebook 10).

    rgb_in: (H, W, 3) or (H, W) uint8 or float in [0, 1]; rgb_out: (H, W, 3) float in [0, 1].
    Photos whose longer side exceeds ``max_side`` are drawn scaled down (the arrays keep their size).
    Returns a Figure with 2 or 3 image axes.
    """
    from .color import gray_to_rgb, rgb_to_lab
    from .photos import is_gray
    from .plots import new_figure

    rgb_in, rgb_out = np.asarray(rgb_in), np.asarray(rgb_out)
    if rgb_in.ndim == 2:
        rgb_in = np.repeat(rgb_in[..., None], 3, axis=-1)
    if rgb_in.ndim != 3 or rgb_in.shape[-1] != 3 or rgb_out.shape != rgb_in.shape:
        raise ValueError(f"need rgb_in (H, W, 3) or (H, W) and rgb_out of the same (H, W, 3) shape, "
                         f"got {rgb_in.shape} and {rgb_out.shape}")
    panels = {"gray input (what the model sees)": gray_to_rgb(rgb_to_lab(rgb_in)[..., 0]), "colorized": rgb_out}
    if not is_gray(rgb_in):
        panels["original"] = rgb_in
    h, w = rgb_in.shape[:2]
    scale, dpi, title_px = min(1.0, max_side / max(h, w)), 100, 30
    fig = new_figure(figsize=(len(panels) * w * scale / dpi, (h * scale + title_px) / dpi), dpi=dpi)
    for i, (title, image) in enumerate(panels.items()):
        ax = fig.add_axes((i / len(panels), 0, 1 / len(panels), h * scale / (h * scale + title_px)))
        ax.imshow(image, interpolation="nearest" if scale == 1 else "antialiased")
        ax.set_axis_off()
        ax.set_title(title, fontsize=10)
    return fig


def colorize_command(model_path, photo="PHOTO", outdir="OUTDIR") -> str:
    """The shell command that colorizes ``photo`` into ``outdir`` like notebook 10 does:
    ``deepcolor colorize PHOTO -o OUTDIR --model RUN_DIR/model.keras``."""
    return shlex.join(["deepcolor", "colorize", str(photo), "-o", str(outdir), "--model", str(model_path)])
