"""What notebook ``08_hyperparameter_study`` runs and shows: the paper's grid of runs (figures
12-20) beside the paper's numbers, their loss curves, and the sliders (also used in notebooks 04
and 07).  The final evaluation is :mod:`deepcolor.evaluation`.

Every table carries the profile and embedding mode that produced it (under smoke its numbers are
not results; :func:`deepcolor.lessons.figures.caption`).  Accuracies are the paper's (is ``a > b``
guessed right; see :mod:`deepcolor.metrics`), measured at the photos' size like ``evaluation.evaluate``.
"""

from __future__ import annotations

import math

import numpy as np

from ..evaluation import study_accuracies
from ..fingerprints import index_hash
from ..paper import PAPER_EPOCHS, PAPER_SETTING, differs_from_paper, results_table
from ..runs import Run
from . import figures
from .training_time import training_time

__all__ = ["STUDY_COLUMNS", "paper_table", "run_study", "study_histories",
           "compare_with_paper", "show_results", "slider_run", "slider_figure",
           "training_slider", "study_figure"]

STUDY_COLUMNS = ("figure", "arch", "lr", "batch", "l2", "epochs", "status", "val_accuracy", "paper_val",
                 "test_accuracy", "paper_test", "constant_val", "constant_test", "test_seen_accuracy",
                 "constant_test_seen", "paper_note",
                 "differs from the paper", "profile", "embedding_mode", "run_dir")
"""The columns of :func:`run_study`, in order (the ``test_seen`` ones NaN where the split has none)."""

def paper_table():
    """The paper's results (:func:`deepcolor.paper.results_table`) as a pandas Styler whose caption
    names the data they come from (notebook 08)."""
    n, side = PAPER_SETTING["images"], PAPER_SETTING["input_size"]
    caption = (f"the paper's figures 12-20: {n:,} Kaggle images at {side}x{side}, split 60/20/20 (about "
               f"{n // 5:,} validation and {n // 5:,} test images), {PAPER_EPOCHS:,} epochs a run (§4.1-4.2)")
    return (results_table().style.format("{:.2%}", subset=["val", "test"], na_rep="-")
            .format("{:g}", subset=["lr", "l2"]).set_caption(caption))


STUDY_EVAL = "study_eval"
"""The name the study's accuracies of a run are kept under in its folder (:meth:`deepcolor.runs.Run.cached`)."""


def study_key(split) -> str:
    """What the study's accuracies of a run are measured on: the validation and test images, and
    the held-out crops of the training photos where the split has them (:func:`deepcolor.fingerprints.index_hash`)."""
    seen = [split.test_seen] if len(getattr(split, "test_seen", ())) else []
    return index_hash(split[1], split[2], *seen)


def run_study(cfg, ds, emb, split, runs=None, epochs=None, verbose=0, runs_dir=None):
    """Train (or reuse) every run of the paper's grid under ``cfg``'s profile (notebook 08).

    cfg: a :class:`deepcolor.config.Config`; ds: its dataset; emb: (len(ds), 1000) float32
    embeddings; split: (train, val, test) index arrays.  runs: StudyRun list (default
    ``cfg.profile.study``, the paper's figures 12-20); epochs: per run (default
    ``cfg.profile.study_epochs``); verbose: Keras' fit verbosity; runs_dir: where the run folders
    are (default :func:`deepcolor.runs.default_runs_dir`).  Runs are trained with
    :func:`deepcolor.train.train_or_load`; each run's accuracies are kept in its folder
    (:meth:`deepcolor.runs.Run.cached`), so a rerun reuses finished runs, diverged ones
    included, without loading a model.
    Returns a DataFrame with :data:`STUDY_COLUMNS`: our validation / test accuracy (fractions in
    [0, 1], NaN for a diverged run) beside the paper's (joined on figure, arch, lr, batch and l2;
    NaN where the paper has no number), the constant-predictor accuracy on the same images, and
    what of the run's setting differs from its figure's (:func:`deepcolor.paper.differs_from_paper`).
    """
    import pandas as pd

    runs = tuple(cfg.profile.study if runs is None else runs)
    epochs = int(cfg.profile.study_epochs if epochs is None else epochs)
    key, rows = study_key(split), []
    for run in runs:
        config = cfg.train_config(run.arch, lr=run.lr, batch_size=run.batch_size, l2=run.l2, epochs=epochs)
        done = Run.find(config, ds, cfg.embedding_mode, cfg.name, runs_dir=runs_dir, statuses=("completed", "nan"),
                        cached=(STUDY_EVAL, key))  # measured before, a diverged run too: no model to load
        done = done or cfg.train_or_load(run.arch, ds, emb, split, verbose=verbose, runs_dir=runs_dir, lr=run.lr,
                                         batch_size=run.batch_size, l2=run.l2, epochs=epochs)

        def measure(done=done):
            return study_accuracies(done.model if done.status == "completed" else None, ds, split, emb)

        accs = done.cached(STUDY_EVAL, key, measure) if done.status in ("completed", "nan") else measure()
        trained = len(done.history.get("loss", []))
        rows.append({"figure": run.figure, "arch": run.arch, "lr": run.lr, "batch": run.batch_size,
                     "l2": run.l2, "epochs": trained, "status": done.status,
                     "differs from the paper": differs_from_paper(cfg, len(ds), run.figure, trained, run.arch,
                                                                  run.lr, run.batch_size, run.l2),
                     "val_accuracy": accs["val"][0], "test_accuracy": accs["test"][0],
                     "constant_val": accs["val"][1], "constant_test": accs["test"][1],
                     "test_seen_accuracy": accs.get("test_seen", [np.nan])[0],
                     "constant_test_seen": accs.get("test_seen", [np.nan, np.nan])[1],
                     "profile": cfg.name, "embedding_mode": cfg.embedding_mode, "run_dir": str(done.path)})
    paper = results_table().rename(columns={"model": "arch", "val": "paper_val", "test": "paper_test",
                                            "note": "paper_note"})
    df = pd.DataFrame(rows).merge(paper, on=["figure", "arch", "lr", "batch", "l2"], how="left")
    return df[list(STUDY_COLUMNS)]


def study_histories(df) -> dict:
    """Per-epoch histories of the runs of a :func:`run_study` table, for :func:`deepcolor.lessons.figures.loss_curves`:
    ``{"fig 15: base lr=0.001 b=5 l2=0.01": {"loss": [...], "val_loss": [...], ...}, ...}``."""
    return {f"fig {r.figure}: {r.arch} lr={r.lr:g} b={r.batch} l2={r.l2:g}": Run.open(r.run_dir).history
            for r in df.itertuples()}


def show_results(df, title=None):
    """A table of :func:`run_study` or :func:`deepcolor.comparison.architecture_results` as a pandas
    Styler captioned by :func:`deepcolor.lessons.figures.caption` (the profile and embedding mode;
    "NOT RESULTS" under smoke) (notebooks 08, 09).  Accuracies are shown as percentages."""
    profile, mode = df["profile"].iloc[0], df["embedding_mode"].iloc[0]
    unseen = [c for c in ("test_seen_accuracy", "constant_test_seen") if c in df and df[c].isna().all()]
    styler = figures.metrics_table(df.drop(columns=["profile", "embedding_mode", "run_dir", *unseen], errors="ignore"),
                                   profile, mode, title)
    shown = styler.data.columns
    percent = [c for c in shown if "accuracy" in c or c.startswith(("paper_", "constant")) and c != "paper_note"]
    small = [c for c in ("lr", "l2") if c in shown]
    return styler.format("{:.2%}", subset=percent, na_rep="-").format("{:g}", subset=small)


def compare_with_paper(df, split=None):
    """The :func:`run_study` table beside the paper's numbers, styled and captioned (notebook 08);
    with ``split`` (the one the runs were measured on) the caption counts its images."""
    most = int(df["epochs"].max())
    title = f"our runs ({most} epoch{'' if most == 1 else 's'} at most) beside the paper's ({PAPER_EPOCHS:,} epochs each)"
    if split is not None:
        train, val, test = split
        title += f"; our accuracies on {len(val)} validation and {len(test)} test images (trained on {len(train)})"
        if len(getattr(split, "test_seen", ())):
            title += (f", and on {len(split.test_seen)} new crops of the training photos (test_seen: the colours of "
                      "photos it has seen)")
    return show_results(df, title=title)


def slider_run(cfg, ds, emb, split, arch, lr, batch_size, l2, epochs, verbose=2, runs_dir=None):
    """Train (or reuse) one run with these settings and draw its loss curves (notebook 08's sliders).
    ``verbose``: Keras' fit verbosity (2: one line per epoch); ``runs_dir``: as in :func:`run_study`.

    Returns (history, figure): history ``{"loss": [...], "val_loss": [...], ...}`` per epoch;
    figure: ``figures.loss_curves`` of loss and val_loss, captioned with profile and embedding mode.
    """
    run = cfg.train_or_load(arch, ds, emb, split, verbose=verbose, runs_dir=runs_dir, lr=float(lr),
                            batch_size=int(batch_size), l2=float(l2), epochs=int(epochs))
    name = f"{arch} lr={lr:g} b={int(batch_size)} l2={l2:g}: {run.status}"
    fig = figures.loss_curves({name: run.history}, caption=figures.caption(cfg.name, cfg.embedding_mode))
    return run.history, fig


def slider_figure(cfg, ds, emb, split, arch, lr, batch_size, l2, epochs):
    """Only the figure of :func:`slider_run`: what ``ipywidgets.interact`` shows (notebook 08).
    Every argument is a slider or fixed by the notebook, so run folders go to the default place."""
    return slider_run(cfg, ds, emb, split, arch, lr, batch_size, l2, epochs)[1]


def training_slider(cfg, ds, emb, split, arch="base", lr=None, batch_size=None, l2=None, epochs=None):
    """Sliders that train one run when **Run Interact** is pressed, and say before that what it
    will cost on this machine (:func:`deepcolor.lessons.training_time.training_time`, updated as they move) (notebooks 04 and 08).

    arch, lr, batch_size, l2, epochs: each a value (kept fixed) or an ipywidgets control (a
    slider; give sliders ``continuous_update=False``); None is the profile's value.  The button
    calls :func:`slider_figure`.  Returns the ``ipywidgets.interactive`` box (the controls, the
    estimate, the button, the figure's output): end a cell with it to show it.
    """
    import ipywidgets as widgets

    p = cfg.profile
    settings = {"arch": arch, "lr": p.lr if lr is None else lr, "batch_size": p.batch_size if batch_size is None
                else batch_size, "l2": p.l2 if l2 is None else l2, "epochs": p.epochs if epochs is None else epochs}
    controls = {k: v if isinstance(v, widgets.ValueWidget) else widgets.fixed(v) for k, v in settings.items()}
    ui = widgets.interactive(slider_figure, {"manual": True, "manual_name": "Run Interact", "auto_display": True},
                             cfg=widgets.fixed(cfg), ds=widgets.fixed(ds), emb=widgets.fixed(emb),
                             split=widgets.fixed(split), **controls)
    estimate = widgets.HTML()

    def update(change=None):
        now = {k: v.value for k, v in controls.items()}
        estimate.value = f"<i>Estimating (the first time for {now['arch']}: timing a few training steps)...</i>"
        estimate.value = f"<b>Estimated time:</b> {training_time(cfg, ds, split, **now)}"

    for control in controls.values():
        if isinstance(control, widgets.ValueWidget):
            control.observe(update, names="value")
    update()
    ui.children = (*ui.children[:-2], estimate, *ui.children[-2:])
    return ui

