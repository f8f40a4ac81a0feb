"""Trained colorizers on the split's two test sets: photos never used in training, and new crops of
the photos they trained on; and several models side by side.

Introduced in notebook ``04_base_model`` (:func:`evaluate_test_sets`, :func:`picture_indices`); every
notebook that measures or shows a model uses them: 05-07 (in their own cells), 06's fusion ablation, 07 and
``09_results`` (:func:`architecture_results`) and ``11_colour_as_classes``.

A split (:func:`deepcolor.data.split`) has two test sets.  ``split.test`` holds photos the model has
never seen: how it colours a new photo.  ``split.test_seen`` holds new crops of its training photos,
from regions no training crop touched (the built-in sample's held-out strips, :mod:`deepcolor.sample`):
the colours of photos it has seen.  With a dozen photos the gap between the two is wide, and it is
the lesson: a colorizer needs thousands of photos.  The Kaggle set (one image per photo) has no
``test_seen``, and its tables have the test rows only.

Every table here is indexed by (:data:`LEVEL`, predictor): the test set (:data:`UNSEEN`, then
:data:`SEEN` where the split has one), and under each the models, then the gray and mean-ab
baselines.  The measuring itself is :mod:`deepcolor.evaluation`.  Our design, not the paper's.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .evaluation import evaluate, evaluate_run
from .metrics import METRICS
from .paper import ARCHITECTURE_NOTEBOOKS, ARCHITECTURES
from .runs import Run

__all__ = ["GAP_LESSON", "LEVEL", "SEEN", "TEST_SETS", "UNSEEN", "Pictures", "architecture_results",
           "evaluate_test_sets", "image_sets", "order_rows", "picture_indices", "results_side_by_side", "sets_caption"]

LEVEL = "measured on"
"""The name of the first index level of every table here: which test set a row was measured on."""

UNSEEN = "photos it has never seen (test)"
SEEN = "photos it has seen, new crops (test_seen)"
TEST_SETS = {"test": UNSEEN, "test_seen": SEEN}
"""The split's parts that are measured, and the row label of each."""

GAP_LESSON = ("a dozen photos can teach a network some of the colours of the photos it has seen, not how to "
              "colour photos it has never seen (compare the rows of the two test sets); the gap teaches that a "
              "colorizer needs thousands of photos: connect to the internet, or install a classroom pack "
              "(`deepcolor classroom use`)")
"""What the two test sets teach, for the captions of the built-in sample's tables and figures
(:func:`deepcolor.lessons.figures.caption`)."""


def image_sets(split) -> dict:
    """The split's test sets that hold images, ``{"test": indices, "test_seen": indices}`` (notebook 04):
    int64 index arrays, ``test_seen`` left out where it is empty (the Kaggle set) or the split has none
    (a plain ``(train, val, test)`` tuple)."""
    parts = {"test": np.asarray(split[2], np.int64),
             "test_seen": np.asarray(getattr(split, "test_seen", ()), np.int64).reshape(-1)}
    return {part: indices for part, indices in parts.items() if part == "test" or indices.size}


def sets_caption(split) -> str:
    """The split's test sets in words, for captions (notebooks 04-11), e.g. "18 images of photos it has
    never seen (test) and 21 new crops of photos it has seen (test_seen)"."""
    words = {"test": "images of photos it has never seen (test)", "test_seen": "new crops of photos it has seen (test_seen)"}
    return " and ".join(f"{len(indices)} {words[part]}" for part, indices in image_sets(split).items())


def evaluate_test_sets(model, dataset, split, embeddings, batch_size: int = 16, progress: str | None = None):
    """A model and both baselines on each test set of ``split`` (notebooks 04-11).

    model: a finished run (a :class:`deepcolor.runs.Run` whose status is "completed"), measured
    with :func:`deepcolor.evaluation.evaluate_run`, so that its tables are kept in its folder and read
    back; or any model :func:`deepcolor.evaluation.evaluate` takes, measured every time.
    dataset: a :class:`deepcolor.lab_dataset.LabDataset`; split: a :class:`deepcolor.data.Split`
    (``cfg.split(ds)``; the mean-ab baseline and the rebalanced AuC come from ``split.train``);
    embeddings: (len(dataset), D) float.  Returns a pandas DataFrame indexed by (:data:`LEVEL`,
    predictor): :data:`UNSEEN` (``split.test``) then :data:`SEEN` (``split.test_seen``, where it holds
    images), each with the rows "model", "gray baseline", "mean-ab baseline" and the columns of
    :func:`~deepcolor.evaluation.evaluate` (``METRICS``, ``images``, ``note``).  For a run,
    ``attrs["reused"]`` is True when every table was read back.  progress: words naming what is
    measured ("base"): a bar per test set while it is measured, e.g. "base on photos never seen".
    """
    import pandas as pd

    train = np.asarray(split[0], np.int64)
    is_run = hasattr(model, "run_dir") and hasattr(model, "status")
    tables = {}
    for part, indices in image_sets(split).items():
        shown = None if progress is None else f"{progress} on {TEST_SETS[part]}"
        if is_run:
            tables[TEST_SETS[part]] = evaluate_run(model, dataset, indices, embeddings, train, batch_size, part=part,
                                                   progress=shown)
        else:
            tables[TEST_SETS[part]] = evaluate(model, dataset, indices, embeddings, train, batch_size, shown)
    table = pd.concat(tables, names=[LEVEL])
    if is_run:
        table.attrs["reused"] = all(t.attrs.get("reused", False) for t in tables.values())
    return table


def results_side_by_side(evaluations):
    """One table from several :func:`evaluate_test_sets` tables (notebooks 05-07, 09, 11).

    evaluations: dict name -> a table of :func:`evaluate_test_sets` (or of
    :func:`~deepcolor.evaluation.evaluate`, without the :data:`LEVEL` level).  Returns a DataFrame with,
    for each test set of the first table, one row per name (its "model" row) followed by the baselines
    of the first table: the tables must share their test images.
    """
    import pandas as pd

    if not evaluations:
        raise ValueError("pass at least one evaluate_test_sets() table")
    tables = list(evaluations.items())
    first = tables[0][1]
    if first.index.nlevels == 1:
        rows = [t.loc[["model"]].rename(index={"model": name}) for name, t in tables]
        return pd.concat(rows + [first.drop(index="model")])
    return pd.concat({label: results_side_by_side({name: t.xs(label, level=LEVEL) for name, t in tables
                                                   if label in t.index.get_level_values(LEVEL)})
                      for label in first.index.unique(LEVEL)}, names=[LEVEL])


def order_rows(table, first, sets):
    """``table`` (indexed by (:data:`LEVEL`, name)) with, under each test set of ``sets`` (row labels, in
    order), the rows ``first`` (an empty row where it has none), then its other rows (the baselines)
    (notebooks 06, 07, 09)."""
    import pandas as pd

    first, rows = list(dict.fromkeys(first)), []
    for label in sets:
        present = table.xs(label, level=LEVEL).index if label in table.index.get_level_values(LEVEL) else []
        rows += [(label, name) for name in first + [n for n in present if n not in first]]
    return table.reindex(pd.MultiIndex.from_tuples(rows, names=table.index.names))


def _run_of(cfg, arch, dataset, embeddings, split, train_missing, verbose, runs_dir):
    """The run of ``arch`` under ``cfg``'s profile: trained or reused (``train_missing``), else the
    finished one if there is one, else None."""
    if train_missing:
        return cfg.train_or_load(arch, dataset, embeddings, split, verbose=verbose, runs_dir=runs_dir)
    return Run.find(cfg.train_config(arch), dataset, cfg.embedding_mode, cfg.name, runs_dir=runs_dir, split=split)


def architecture_results(cfg, dataset, embeddings, split, archs=None, known=None, train_missing=False,
                         verbose=2, runs_dir=None):
    """Each architecture on both test sets, then the gray and mean-ab baselines (notebooks 05-07 with
    ``train_missing=False``, 09 with ``train_missing=True``).

    cfg: a ``config.Config``; dataset, embeddings, split: as for ``cfg.train_or_load``.
    archs: architecture names (default: all of ``paper.ARCHITECTURES``).  For each, the run
    with the profile's settings is reused if one finished; otherwise it is trained with
    ``train_missing`` (``verbose`` as in ``fit``), and without it the rows stay empty and their
    ``note`` names the notebook that trains it.  runs_dir: where the run folders are (default
    :func:`deepcolor.runs.default_runs_dir`).  Completed runs are measured with
    :func:`evaluate_test_sets` (tables measured before are read back from their folders); a run that
    did not complete (e.g. NaN loss) gets empty rows whose note gives its status.  known: optional
    {name: :func:`evaluate_test_sets` table} already computed (e.g. the notebook's own model).
    Returns a DataFrame indexed by (:data:`LEVEL`, predictor): under each test set ``archs``, then
    ``known``, then the baselines of the first table measured; columns ``METRICS`` (NaN in an empty
    row), ``images``, ``note``, ``run`` (the run folder's name; empty for ``known`` and missing
    runs), ``profile`` and ``embedding_mode`` (``cfg``'s, for the caption).
    Raises RuntimeError with ``train_missing`` when no run completed and nothing is ``known``.
    """
    import pandas as pd

    archs = tuple(ARCHITECTURES if archs is None else archs)
    if not archs and not known:
        raise ValueError("nothing to tabulate: pass at least one architecture or known table")
    tables, notes, folders = {}, {}, {}
    for arch in archs:
        run = _run_of(cfg, arch, dataset, embeddings, split, train_missing, verbose, runs_dir)
        if run is None:
            notes[arch] = f"not trained under profile {cfg.name!r} yet: run {ARCHITECTURE_NOTEBOOKS.get(arch, 'its notebook')}"
            continue
        folders[arch] = run.run_dir.name
        if run.status == "completed":
            tables[arch] = evaluate_test_sets(run, dataset, split, embeddings)
        else:
            notes[arch] = f"run {run.status}: not evaluated"
    tables.update(known or {})
    if train_missing and not tables:
        raise RuntimeError(f"no architecture trained to completion under profile {cfg.name}: "
                           "check the runs' status (deepcolor.run_table.load_runs()) and their learning rates")
    sets = [TEST_SETS[part] for part in image_sets(split)]
    unmeasured = pd.DataFrame([{**dict.fromkeys(METRICS, np.nan), "images": np.nan, "note": note}
                               for _ in sets for note in notes.values()],
                              index=pd.MultiIndex.from_product([sets, list(notes)], names=[LEVEL, "predictor"]),
                              columns=[*METRICS, "images", "note"])
    table = pd.concat(([results_side_by_side(tables)] if tables else []) + ([unmeasured] if notes else []))
    table = order_rows(table, [*archs, *(known or {})], [s for s in sets if s in table.index.get_level_values(LEVEL)])
    table["run"] = [folders.get(name, "") for name in table.index.get_level_values("predictor")]
    table["profile"], table["embedding_mode"] = cfg.name, cfg.embedding_mode
    return table


class Pictures(NamedTuple):
    """What :func:`picture_indices` returns.  indices: (n,) int64 dataset indices; titles: n strings,
    one per picture ("never seen: chelsea", "seen: coffee"); caption: what the pictures are, in words."""

    indices: np.ndarray
    titles: list
    caption: str


def picture_indices(dataset, split, photos: int = 2, per_photo: int = 3, seen: int = 3) -> Pictures:
    """Which images to colorize in a figure (notebooks 04-07, 09, 11): ``per_photo`` crops of each of
    up to ``photos`` photos of ``split.test`` (photos it has never seen), and ``seen`` crops of
    ``split.test_seen``, each of another training photo (new crops of photos it has seen).

    dataset: a :class:`deepcolor.lab_dataset.LabDataset`, whose ``groups`` name each image's photo
    (for a dataset that names none, as the Kaggle set, every image is a photo: then ``photos *
    per_photo`` test images).  The order goes round the photos (a crop of each unseen photo, then a
    seen crop, then again), so that the first few pictures of any figure show every kind.  Photos are
    taken in the order of their first image.  Returns :class:`Pictures`.
    """
    groups = named = getattr(dataset, "groups", None)
    parts = image_sets(split)
    test, test_seen = parts["test"], parts.get("test_seen", np.zeros(0, np.int64))
    if named is None:
        groups = np.array([f"image {i}" for i in range(len(dataset))])
        photos, per_photo = photos * per_photo, 1
    columns = []  # one list of (index, title) per unseen photo, then one for the seen crops
    for photo in list(dict.fromkeys(groups[test]))[:photos]:
        columns.append([(i, f"never seen: {photo}") for i in test[groups[test] == photo][:per_photo]])
    seen_photos = list(dict.fromkeys(groups[test_seen]))[:seen]
    columns.append([(test_seen[groups[test_seen] == photo][0], f"seen: {photo}") for photo in seen_photos])
    chosen = [column[k] for k in range(max(map(len, columns))) for column in columns if k < len(column)]
    if not chosen:
        raise ValueError("the split's test part is empty: nothing to show")
    unseen_names = [column[0][1].split(": ", 1)[1] for column in columns[:-1]]
    n_unseen = len(chosen) - len(seen_photos)
    caption = (f"{n_unseen} crops of {len(unseen_names)} photos it has never seen ({', '.join(unseen_names)})"
               if named is not None else f"{n_unseen} test images, photos it has never seen")
    if seen_photos:
        caption += f" and {len(seen_photos)} new crops of photos it has seen ({', '.join(seen_photos)})"
    return Pictures(np.array([i for i, _ in chosen], np.int64), [t for _, t in chosen], caption)
