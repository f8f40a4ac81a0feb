"""Trained colorizers measured on a set of a dataset's images.

Introduced in notebook ``04_base_model`` (:func:`evaluate`); the study's accuracies serve notebook
``08_hyperparameter_study``.

:func:`evaluate_run` measures a finished run once and keeps the table in its folder, so that
notebooks 05, 07 and 09 read back what 04-07 measured instead of predicting every image again.
This module applies a model to a dataset (:func:`deepcolor.predict.predict_ab`, at the photos'
size) and tabulates; the metrics themselves, their running totals and the gray and mean-ab
baselines are :mod:`deepcolor.metrics`; the tables of a model on both of the split's test sets,
and of several models side by side, are :mod:`deepcolor.comparison`.  Datasets are read
``batch_size`` images at a time with ``dataset.batches`` (:class:`deepcolor.lab_dataset.LabDataset`),
so none is ever loaded whole.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from . import ab_bins, settings
from .files import keep_json, kept_json, make_folder
from .fingerprints import index_hash
from .metrics import METRICS, RunningTotals, gray_prediction, mean_prediction, to_rgb
from .predict import predict_ab
from .progress import bar
from .runs import FINAL_MODEL
from .shapes import fixed_rows

__all__ = ["BASELINES", "evaluate", "evaluate_run", "rebalancing", "study_accuracies", "training_colours"]

BASELINES = ("gray baseline", "mean-ab baseline")
"""The rows of the two predictors that need no network, below the models in every table here."""


def rebalancing(dataset, train_indices, batch_size: int = 16):
    """The rebalancing weight of each pixel's true colour, from the colours of the images
    ``train_indices`` (Zhang et al. 2016; :mod:`deepcolor.ab_bins`): a callable ab (..., 2) -> (...)
    for :func:`deepcolor.metrics.rebalanced_auc` and :class:`~deepcolor.metrics.RunningTotals`."""
    return training_colours(dataset, train_indices, batch_size)[1]


_TRAINING_COLOURS: dict = {}
"""What :func:`training_colours` has counted in this Python session, by dataset and images."""


def training_colours(dataset, train_indices, batch_size: int = 16):
    """``(mean, weights_of)`` of the images ``train_indices``, read in one pass (notebook 04).

    mean: their mean ab (2,) float32 in Lab units, the mean-ab baseline
    (:func:`deepcolor.metrics.dataset_mean_ab`); weights_of: :func:`rebalancing`'s callable, from
    how many of their pixels fall in each ab bin.  The pass over the training set costs more than
    evaluating a test split, so the answer is kept for the rest of the Python session, keyed by the
    dataset's fingerprint (its files' sizes and times, or its bytes) and the indices; a changed
    dataset is counted again.
    """
    indices = np.asarray(train_indices, np.int64).reshape(-1)
    key = _session_key(dataset, indices)
    if key not in _TRAINING_COLOURS:
        bins = ab_bins.ab_bins()
        total, pixels, counts = np.zeros(2, np.float64), 0, np.zeros(len(bins), np.int64)
        for _, _, ab in dataset.batches(indices, batch_size):
            total += ab.reshape(-1, 2).sum(axis=0, dtype=np.float64)
            pixels += ab.size // 2
            counts += ab_bins.bin_counts(ab, bins)
        if pixels == 0:
            raise ValueError("no images to average: pass a non-empty list of training indices")
        weights_of = ab_bins.pixel_weights(ab_bins.rebalance_weights(counts, bins=bins), bins)
        _remember(_TRAINING_COLOURS, key, ((total / pixels).astype(np.float32), weights_of))
    return _TRAINING_COLOURS[key]


_BASELINE_ROWS: dict = {}
"""The baselines' metrics that :func:`evaluate` has measured or read back in this Python session, by
dataset, evaluated images and training images: they do not depend on the model."""


def _kept_baselines(key: tuple):
    """The file in ``$DEEPCOLOR_HOME/measured`` that keeps the baselines' rows of ``key`` (a
    :func:`_session_key` and the batch size) for the next notebook's kernel, and its JSON key."""
    what = {"format": EVALUATION_FORMAT, "metrics": list(METRICS), "measured on": list(key)}
    digest = hashlib.sha1(json.dumps(what, sort_keys=True).encode()).hexdigest()[:20]
    return settings.deepcolor_home() / "measured" / f"baselines-{digest}.json", what


def _baselines_of(key: tuple):
    """The baselines' rows for ``key`` from this session or a file an earlier kernel kept, or None."""
    if key not in _BASELINE_ROWS:
        rows = kept_json(*_kept_baselines(key))
        if isinstance(rows, dict) and set(rows) == set(BASELINES):
            _remember(_BASELINE_ROWS, key, rows)
    return _BASELINE_ROWS.get(key)


def _keep_baselines(key: tuple, rows: dict) -> None:
    _remember(_BASELINE_ROWS, key, rows)
    path, what = _kept_baselines(key)
    try:
        keep_json(make_folder(path.parent) / path.name, what, rows)
    except OSError:  # a home that cannot be written: they are measured again in the next kernel
        pass


def _session_key(dataset, *index_arrays) -> tuple:
    """What identifies images of a dataset within a session: its fingerprint, then the
    :func:`deepcolor.fingerprints.index_hash` of each index array."""
    return (json.dumps(dataset.fingerprint(), sort_keys=True, default=str), *map(index_hash, index_arrays))


def _remember(cache: dict, key, value, keep: int = 4) -> None:
    """Store ``value`` under ``key``, keeping the ``keep`` newest entries (a few datasets and splits)."""
    while len(cache) >= keep:
        cache.pop(next(iter(cache)))
    cache[key] = value


def evaluate(model, dataset, indices, embeddings, train_indices=None, batch_size: int = 16, progress=None):
    """The model and both baselines on ``dataset`` images ``indices`` (notebooks 04-09).

    model: a Keras model taking ``[L / 100 (n, s, s, 1), embedding (n, 1000)]`` and returning
    ab / 128 (n, s, s, 2); when s differs from the photos' size the L input is resized to s and
    the predicted ab is bilinearly resized back, so every metric is measured at the photos' size.
    dataset: a :class:`deepcolor.lab_dataset.LabDataset` (``len()`` and ``batches(indices,
    batch_size)`` yielding ``(idx, L (n, H, W), ab (n, H, W, 2))`` in Lab units).
    embeddings: (len(dataset), D) float, row i for image i.  train_indices: the images whose colours
    weight the rebalanced AuC (:func:`rebalancing`) and whose mean
    ab makes the mean-ab baseline; without them the evaluated images are used and the ``note``
    column says so (that baseline then peeks at the answers).
    Reads ``batch_size`` images at a time and keeps only running sums (:class:`metrics.RunningTotals`);
    under JAX a short last batch is padded to ``batch_size`` (:mod:`deepcolor.shapes`), same numbers.
    The baselines do not depend on the model: they are measured once for these images and training
    images (keyed like :func:`training_colours`, with the batch size and the metrics), kept for the
    session and in ``$DEEPCOLOR_HOME/measured``, and later calls, in any notebook, reuse their rows.
    progress: None, a ``progress(done, total)`` callable, or words naming what is measured, which
    draw a bar of the images done (:func:`deepcolor.progress.bar`).
    Returns a pandas DataFrame indexed by predictor ("model", "gray baseline", "mean-ab
    baseline"), with the ``METRICS`` columns, ``images`` (how many) and ``note``.
    """
    import pandas as pd

    if isinstance(progress, str):
        progress = bar(progress)
    indices = np.asarray(indices, np.int64).reshape(-1)
    if indices.size == 0:
        raise ValueError("indices is empty: pass the dataset indices to evaluate (e.g. split.test)")
    if len(embeddings) != len(dataset):
        raise ValueError(f"embeddings has {len(embeddings)} rows but the dataset {len(dataset)} images: "
                         "compute the embeddings of this dataset (one row per image)")
    note = ""
    if train_indices is None:
        train_indices = indices
        note = "mean ab of the evaluated images, not of a training set (pass train_indices)"
    mean, weights_of = training_colours(dataset, train_indices, batch_size)
    key = _session_key(dataset, indices, train_indices) + (batch_size,)
    measured = ("model",) if _baselines_of(key) is not None else ("model", *BASELINES)  # baselines: once
    totals, done = {name: RunningTotals(weights_of=weights_of) for name in measured}, 0
    rows = fixed_rows(batch_size)  # under JAX every batch is padded to batch_size: one compile per shape
    for idx, L, ab in dataset.batches(indices, batch_size):
        preds = {"model": lambda: predict_ab(model, L, np.asarray(embeddings[idx], np.float32), rows),
                 "gray baseline": lambda: gray_prediction(ab),
                 "mean-ab baseline": lambda: mean_prediction(mean, ab.shape)}
        rgb_true = to_rgb(L, ab)  # the truth's RGB, shared by the predictors
        for name in measured:
            totals[name].add(ab, preds[name](), L, rgb_true)
        done += len(idx)
        if progress is not None:
            progress(done, len(indices))
    results = {name: totals[name].result() for name in measured}
    if len(measured) > 1:
        _keep_baselines(key, {name: results[name] for name in BASELINES})
    results.update(_BASELINE_ROWS[key])
    names = ("model", *BASELINES)
    rows = [{**results[n], "images": len(indices), "note": note if n == "mean-ab baseline" else ""} for n in names]
    return pd.DataFrame(rows, index=pd.Index(names, name="predictor"))


EVALUATION_FORMAT = 1
"""Part of every saved evaluation's key (:func:`evaluate_run`): raised whenever a metric's definition
changes, so that tables measured before are measured again."""


def _evaluation_key(run, dataset, indices, embeddings, train_indices, batch_size: int) -> dict:
    """What a table of :func:`evaluate_run` depends on, as JSON values: the final model file, the
    images and their embeddings, the training images, how it was measured and with which Keras."""
    import keras

    stat = (run.path / FINAL_MODEL).stat()
    rows = np.ascontiguousarray(np.asarray(embeddings[indices], np.float32))
    data, images = _session_key(dataset, indices)
    return {"format": EVALUATION_FORMAT, "model_file": {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns},
            "dataset": data, "images": images, "embeddings": hashlib.sha1(rows.tobytes()).hexdigest(),
            "train": None if train_indices is None else index_hash(train_indices),
            "batch_size": int(batch_size), "metrics": list(METRICS), "backend": keras.backend.backend(),
            "dtype_policy": keras.config.dtype_policy().name}


def evaluate_run(run, dataset, indices, embeddings, train_indices=None, batch_size: int = 16, part: str = "test",
                 progress=None):
    """:func:`evaluate` of a finished run's final model, measured once and kept in the run's folder
    (notebook 04; notebooks 05-11 read back what 04-07 measured).

    run: a :class:`deepcolor.runs.Run` (from ``train_or_load``) whose status is "completed"; part:
    which of the split's parts ``indices`` are, "test" or "test_seen" (each keeps its own table;
    :func:`deepcolor.comparison.evaluate_test_sets` measures both); the other arguments and the
    returned DataFrame as for :func:`evaluate`.  The table is kept as ``{part}_eval`` by
    :meth:`deepcolor.runs.Run.cached`, keyed by what it was measured on: the final model file
    (size and time), the dataset's fingerprint, the evaluated and the training images, the
    embeddings of the evaluated images, ``batch_size``, the metrics, the Keras backend and dtype
    policy.  A later call where all of these are the same reads the table back
    (``attrs["reused"]`` is then True) instead of colorizing every image again; any difference
    measures again.  When the run folder cannot be written (read-only), the table is measured
    and returned with a warning.  progress: as for :func:`evaluate`, shown only when it measures.
    """
    import pandas as pd

    if run.status != "completed":
        raise ValueError(f"the run in {run.path} ended with status {run.status!r}, so it has no final model "
                         "to evaluate: train it to completion, or measure its model with evaluate(run.model, ...)")
    indices = np.asarray(indices, np.int64).reshape(-1)
    if indices.size == 0 or len(embeddings) != len(dataset):
        return evaluate(run.model, dataset, indices, embeddings, train_indices, batch_size, progress)  # its own errors
    if train_indices is not None:
        train_indices = np.asarray(train_indices, np.int64).reshape(-1)
    try:
        key = _evaluation_key(run, dataset, indices, embeddings, train_indices, batch_size)
    except FileNotFoundError:  # no final model file to tell this model from another: measure, keep nothing
        return evaluate(run.model, dataset, indices, embeddings, train_indices, batch_size, progress)
    measured = []

    def measure() -> dict:
        table = evaluate(run.model, dataset, indices, embeddings, train_indices, batch_size, progress)
        measured.append(table)
        return {name: {col: (v.item() if isinstance(v, np.generic) else v) for col, v in row.items()}
                for name, row in table.to_dict(orient="index").items()}

    rows = run.cached(f"{part}_eval", key, measure)
    if measured:
        table = measured[0]
    else:
        table = pd.DataFrame.from_dict(rows, orient="index").reindex(index=["model", *BASELINES],
                                                                     columns=[*METRICS, "images", "note"])
        table["images"] = table["images"].astype(np.int64)
        table.index.name = "predictor"
    table.attrs["reused"] = not measured
    return table


def study_accuracies(model, dataset, split, embeddings, batch_size: int = 16, progress=None) -> dict:
    """``{"val": [accuracy, constant], "test": [...]}`` of one run of the study (notebook 08), and
    ``"test_seen"`` where the split has held-out crops of its training photos (:class:`deepcolor.data.Split`).

    accuracy: the paper accuracy of ``model`` in [0, 1] (NaN when ``model`` is None: a run that
    did not complete); constant: the constant-predictor accuracy max(p, 1 - p) in [0.5, 1], p the
    share of pixels with a >= b.  split: (train, val, test) index arrays; embeddings:
    (len(dataset), 1000).  Measured at the photos' size like :func:`evaluate`, with running totals.
    progress: as for :func:`evaluate`, over the images of all the parts.
    """
    out = {}
    parts = [("val", split[1]), ("test", split[2])]
    if len(getattr(split, "test_seen", ())):
        parts.append(("test_seen", split.test_seen))
    if isinstance(progress, str):
        progress = bar(progress)
    total, done = sum(len(indices) for _, indices in parts), 0
    for part, indices in parts:
        if not len(indices):
            raise ValueError(f"the split's {part} part is empty: use deepcolor.data.split on at least 3 images")
        totals = RunningTotals(rgb=False)
        for idx, L, ab in dataset.batches(indices, batch_size):
            # without a model the gray prediction stands in: constant_baseline depends on the truth only
            pred = gray_prediction(ab) if model is None else predict_ab(model, L, np.asarray(embeddings[idx], np.float32),
                                                                        fixed_rows(batch_size))
            totals.add(ab, pred)
            done += len(idx)
            if progress is not None:
                progress(done, total)
        result = totals.result()
        out[part] = [result["accuracy"] if model is not None else float("nan"), result["constant_baseline"]]
    return out
