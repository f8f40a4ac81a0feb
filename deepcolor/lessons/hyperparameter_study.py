"""What notebook ``08_hyperparameter_study`` loops over, tabulates and draws: the paper's grid of runs
(figures 12-20) beside the paper's numbers (:func:`run_study`, the same calls the notebook makes by
hand for one run: ``cfg.train_or_load`` and :func:`deepcolor.evaluation.study_accuracies`), the study
at a glance (:func:`study_figure`), and the training sliders of notebooks 04 and 08
(:func:`training_slider`, with the time estimate of :mod:`deepcolor.lessons.training_time`).

Every table carries the profile and embedding mode that produced it (under smoke its numbers are
not results; :func:`deepcolor.lessons.figures.caption`).  Accuracies are the paper's (is ``a > b``
guessed right; see :mod:`deepcolor.metrics`), measured at the photos' size like ``evaluation.evaluate``.
"""

from __future__ import annotations

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
                 "constant_test_seen", "like a constant", "paper_note",
                 "differs from the paper", "profile", "embedding_mode", "run_dir")
"""The columns of :func:`run_study`, in order (the ``test_seen`` ones NaN where the split has none)."""


def like_a_constant(accuracy, constant) -> bool:
    """Whether a run's accuracy is exactly what predicting one side of a = b at every pixel scores
    (p or 1 - p, ``constant`` being max(p, 1 - p)): a run whose outputs no longer depend on the
    photo, as a saturated or diverged network's (notebook 08).  NaN (no model) is False."""
    return bool(np.isfinite(accuracy) and min(abs(accuracy - constant), abs(accuracy - (1 - constant))) < 1e-10)


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
    NaN where the paper has no number), the constant-predictor accuracy on the same images, whether
    the run scores exactly like a constant on all of them (:func:`like_a_constant`), and what of the
    run's setting differs from its figure's (:func:`deepcolor.paper.differs_from_paper`).  With
    ``verbose`` a line before each run names it (figure and setting), above Keras' own lines.
    """
    import pandas as pd

    runs = tuple(cfg.profile.study if runs is None else runs)
    epochs = int(cfg.profile.study_epochs if epochs is None else epochs)
    key, rows = study_key(split), []
    for k, run in enumerate(runs, 1):
        config = cfg.train_config(run.arch, lr=run.lr, batch_size=run.batch_size, l2=run.l2, epochs=epochs)
        done = Run.find(config, ds, cfg.embedding_mode, cfg.name, runs_dir=runs_dir, statuses=("completed", "nan"),
                        cached=(STUDY_EVAL, key))  # measured before, a diverged run too: no model to load
        trained = None if done else Run.find(config, ds, cfg.embedding_mode, cfg.name, runs_dir=runs_dir, split=split)
        if verbose:  # which run the lines of Keras below belong to
            print(f"run {k}/{len(runs)}, figure {run.figure}: {run.arch}, lr {run.lr:g}, batch {run.batch_size}, "
                  f"L2 {run.l2:g}, {epochs} epoch{'' if epochs == 1 else 's'}"
                  + (": trained and measured before, reused" if done else ": trained before, reused" if trained
                     else ": training"), flush=True)
        done = done or trained or cfg.train_or_load(run.arch, ds, emb, split, verbose=verbose, runs_dir=runs_dir,
                                                    lr=run.lr, batch_size=run.batch_size, l2=run.l2, epochs=epochs)

        def measure(done=done, figure=run.figure):
            shown = f"measuring figure {figure}'s run" if verbose and done.status == "completed" else None
            return study_accuracies(done.model if done.status == "completed" else None, ds, split, emb,
                                    progress=shown)

        accs = done.cached(STUDY_EVAL, key, measure) if done.status in ("completed", "nan") else measure()
        n_epochs = len(done.history.get("loss", []))
        parts = [p for p in ("val", "test", "test_seen") if p in accs]
        rows.append({"figure": run.figure, "arch": run.arch, "lr": run.lr, "batch": run.batch_size,
                     "l2": run.l2, "epochs": n_epochs, "status": done.status,
                     "differs from the paper": differs_from_paper(cfg, len(ds), run.figure, n_epochs, run.arch,
                                                                  run.lr, run.batch_size, run.l2),
                     "val_accuracy": accs["val"][0], "test_accuracy": accs["test"][0],
                     "constant_val": accs["val"][1], "constant_test": accs["test"][1],
                     "test_seen_accuracy": accs.get("test_seen", [np.nan])[0],
                     "constant_test_seen": accs.get("test_seen", [np.nan, np.nan])[1],
                     "like a constant": all(like_a_constant(*accs[p]) for p in parts),
                     "profile": cfg.name, "embedding_mode": cfg.embedding_mode, "run_dir": str(done.path)})
    paper = results_table().rename(columns={"model": "arch", "val": "paper_val", "test": "paper_test",
                                            "note": "paper_note"})
    df = pd.DataFrame(rows).merge(paper, on=["figure", "arch", "lr", "batch", "l2"], how="left")[list(STUDY_COLUMNS)]
    df.attrs.update(profile=cfg.name, embedding_mode=cfg.embedding_mode)  # for the caption of a selection of no rows
    return df


def study_histories(df) -> dict:
    """Per-epoch histories of the runs of a :func:`run_study` table, for :func:`deepcolor.lessons.figures.loss_curves`:
    ``{"fig 15: base lr=0.001 b=5 l2=0.01": {"loss": [...], "val_loss": [...], ...}, ...}``."""
    return {f"fig {r.figure}: {r.arch} lr={r.lr:g} b={r.batch} l2={r.l2:g}": Run.open(r.run_dir).history
            for r in df.itertuples()}



def study_figure(table, caption=None):
    """The study at a glance, one row per run, readable at any number of epochs, one included (notebook 08).

    Left: the loss of each run's last epoch, training (circle) and validation (square), on a log
    scale in :data:`deepcolor.lessons.figures.LOSS_UNITS`; "NaN" where it diverged.  Right: our test accuracy (a bar, its value
    written beside it, with "= a constant" where :func:`like_a_constant`), the paper's (a black
    diamond; none for figure 14) and the constant predictor's score on our test photos (dashed).
    table: a :func:`run_study` table.  Returns a Figure with 2 axes.
    """
    histories = list(study_histories(table).values())
    labels = [f"fig {r.figure}: {r.arch}, lr {r.lr:g}, batch {r.batch}, L2 {r.l2:g}" for r in table.itertuples()]
    y = np.arange(len(labels))
    fig = figures.figure(figsize=(12, 0.42 * len(labels) + 2.0))
    ax_loss, ax_acc = fig.subplots(1, 2, sharey=True, width_ratios=[1, 1.3])
    for shift, key, marker, name in ((-0.12, "loss", "o", "training loss"), (0.12, "val_loss", "s", "validation loss")):
        last = np.array([float(h[key][-1]) if h.get(key) and h[key][-1] is not None else np.nan for h in histories])
        ok = np.isfinite(last) & (last > 0)
        ax_loss.plot(last[ok], y[ok] + shift, marker, ls="none", label=name)
        for i in np.flatnonzero(~ok):
            ax_loss.text(0.02, i + shift, f"{key}: NaN", transform=ax_loss.get_yaxis_transform(), va="center", fontsize=8)
    ax_loss.set_xscale("log")
    ax_loss.set_xlabel(f"loss at the last epoch ({figures.LOSS_UNITS['mse']}; log scale)")
    ax_loss.set_yticks(y, labels)
    ax_loss.invert_yaxis()
    ax_acc.barh(y, table["test_accuracy"].fillna(0), height=0.6, color="C2", label="ours, test")
    ax_acc.plot(table["paper_test"], y, "kD", ls="none", label="the paper's test (2,500 epochs)")
    constant = table["constant_test"].iloc[0]
    ax_acc.axvline(constant, color="gray", ls="--", lw=1, label=f"constant predictor on our test photos ({constant:.1%})")
    for i, r in enumerate(table.itertuples()):
        acc = r.test_accuracy
        words = "no model: loss NaN" if not np.isfinite(acc) else f"{acc:.1%}" + (" = a constant" if like_a_constant(
            acc, r.constant_test) else "")
        ax_acc.text(0.01 if not np.isfinite(acc) else acc + 0.01, i, words, va="center", fontsize=8)
    ax_acc.set_xlim(0, 1.18)
    ax_acc.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}" if v <= 1 else "")
    ax_acc.set_xlabel(f"test accuracy ({figures.ACCURACY_UNITS})")
    figures.place_legend(fig, [ax_loss, ax_acc])
    figures.suptitle(fig, caption)
    return fig


def show_results(df, title=None):
    """A table of :func:`run_study` (or a selection of its rows) as a pandas Styler captioned by
    :func:`deepcolor.lessons.figures.caption` (the profile and embedding mode; "NOT RESULTS" under
    smoke), read from its columns, or from ``df.attrs`` for a selection of no rows (notebook 08).
    Accuracies are shown as percentages."""
    profile, mode = ((df["profile"].iloc[0], df["embedding_mode"].iloc[0]) if len(df)
                     else (df.attrs.get("profile", "unknown"), df.attrs.get("embedding_mode", "unknown")))
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

