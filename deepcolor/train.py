"""Training runs: fit a model, checkpoint every epoch, record everything in a run folder.

Introduced in notebook ``04_base_model`` and used by notebooks 05-10.

A run's life (its record, lock, heartbeat, status, reuse, model and kept measurements) is a
:class:`deepcolor.runs.Run`; this module builds the model, fits it and checkpoints every epoch.
:func:`train` and :func:`train_or_load` return the Run.

The loss is MSE on ab/128; "accuracy" is Keras' CategoricalAccuracy over the (a, b) channel
axis: exactly the paper's metric (see :mod:`deepcolor.metrics`).  With ``head`` a
:class:`deepcolor.classify.ClassifierHead` (notebook ``11_colour_as_classes``) the same trunk
predicts colour classes instead, trained with (rebalanced) cross-entropy, in the same kind of run
folder: record (which names the head and its setting), checkpoints, resume and reuse.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import keras

from .batches import ColorBatches
from .classify import build_classifier, classifier_batches, compile_classifier
from .files import atomic_write
from .limits import check_training_memory
from .models import build_model
from .paper import check_architecture
from .heads import Head
from .runs import CHECKPOINT, FINAL_MODEL, HEARTBEAT_S, Run, hold
from .shapes import fixed_rows
from .stopping import Terminated, sigterm_interrupts


@dataclass
class TrainConfig:
    """Hyperparameters of one run.  The paper used Adam, MSE, lr 0.1 to 1e-5, batch 5 or 50,
    l2 0.1 to 0.001, at input size 224."""

    arch: str = "base"
    lr: float = 1e-3
    batch_size: int = 5
    epochs: int = 1
    l2: float = 0.0
    seed: int = 0
    input_size: int = 224

    def __post_init__(self):
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"learning rate must be a positive number, got {self.lr}")
        if self.batch_size < 1 or self.epochs < 1:
            raise ValueError(f"batch_size and epochs must be at least 1, got {self.batch_size} and {self.epochs}")
        if not (self.l2 >= 0 and math.isfinite(self.l2)):
            raise ValueError(f"l2 must be a number >= 0, got {self.l2}")
        if not isinstance(self.input_size, int) or self.input_size < 8 or self.input_size % 8:
            raise ValueError(f"input_size must be a positive multiple of 8 (three stride-2 layers), got {self.input_size}")
        check_architecture(self.arch)


def compile_model(model: keras.Model, lr: float) -> keras.Model:
    """Adam + MSE + the paper's accuracy (categorical accuracy over the ab channels)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr),
        loss="mse",
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model


def new_model(config: TrainConfig, head=None) -> keras.Model:
    """A fresh, compiled model of ``config.arch`` at ``config.input_size`` with ``config.l2``:
    the paper's MSE model (:func:`compile_model`) for the MSE head (``head`` None), else a
    classifier with ``head.n_bins`` classes (:func:`deepcolor.classify.compile_classifier`)."""
    head = Head.of(head)
    if head.kind == "mse":
        return compile_model(build_model(config.arch, config.input_size, config.l2), config.lr)
    return compile_classifier(build_classifier(config.arch, config.input_size, config.l2, head.n_bins), config.lr)


def training_batches(dataset, embeddings, train_idx, val_idx, config: TrainConfig, head=None):
    """(train, val) batches for ``fit``: :class:`~deepcolor.batches.ColorBatches` for the MSE head
    (``head`` None), :func:`deepcolor.classify.classifier_batches` for a classifier.  The training
    batches are shuffled from ``config.seed``; val is None without validation images.  Under JAX short
    last batches are padded and weighted (``pad=True``, :mod:`deepcolor.shapes`): the same loss and
    gradient per step, but an epoch's mean loss then counts the last batch as a full one."""
    head = Head.of(head)
    pad = fixed_rows(config.batch_size) is not None  # JAX: one compiled step per model, not two (shapes.py)
    if head.kind == "classify":
        return classifier_batches(dataset, embeddings, train_idx, val_idx, head, config.input_size,
                                  config.batch_size, config.seed, pad)
    train = ColorBatches(dataset, embeddings, train_idx, config.batch_size, shuffle=True, seed=config.seed,
                         input_size=config.input_size, pad=pad)
    val = None
    if val_idx is not None and len(val_idx):
        val = ColorBatches(dataset, embeddings, val_idx, max(config.batch_size, 16), shuffle=False,
                           input_size=config.input_size, pad=pad)
    return train, val


def distribution_scope(devices=None):
    """A context in which to build the model so ``fit`` uses several devices, and their count.

    TensorFlow: ``tf.distribute.MirroredStrategy`` over ``devices`` (default: all GPUs, if two
    or more).  JAX: ``keras.distribution.DataParallel``.  PyTorch: Keras has no data-parallel
    machinery for it, so one device is used.  With one device: a no-op context.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        devices = devices or [d.name for d in tf.config.list_logical_devices("GPU")]
        if len(devices) >= 2:
            strategy = tf.distribute.MirroredStrategy(devices)
            return strategy.scope(), strategy.num_replicas_in_sync
    elif backend == "jax":
        import jax

        devices = devices or [d for d in jax.devices() if d.platform != "cpu"]
        if len(devices) >= 2:
            return keras.distribution.DataParallel(devices=devices).scope(), len(devices)
    return contextlib.nullcontext(), 1


class _Checkpoint(keras.callbacks.Callback):
    """After each epoch: save model + optimizer, append the epoch's metrics to the run's record."""

    def __init__(self, run: Run, batches):
        super().__init__()
        self.run, self.batches = run, batches

    def on_epoch_begin(self, epoch, logs=None):
        # Keras calls PyDataset.on_epoch_end at other moments too (after peeking at the data),
        # so the shuffle order is pinned to the epoch number here: resuming then replays it.
        self.batches.set_epoch(epoch)

    def on_train_batch_end(self, batch, logs=None):
        if time.time() - self.run.record.get("heartbeat_unix", 0.0) > HEARTBEAT_S:
            self.run.write()  # refreshes the heartbeat

    def on_epoch_end(self, epoch, logs=None):
        row = unmeasured({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
        self.run.record["epochs"].append(row)
        if _finite(row):
            _atomic_save(self.model, self.run.path / CHECKPOINT)
            self.run.record["checkpoint_epoch"] = epoch + 1  # what a resume starts from
        self.run.write()


def unmeasured(row: dict) -> dict:
    """An epoch row with the accuracies of a NaN loss set to NaN: the argmax of NaN predictions
    is not a measurement ("val_accuracy" goes with "val_loss", "accuracy" with "loss")."""
    for prefix in ("", "val_"):
        loss = row.get(prefix + "loss")
        if loss is not None and not math.isfinite(loss):
            row.update({k: math.nan for k in row if k.startswith(prefix) and "accuracy" in k
                        and (prefix or not k.startswith("val_"))})
    return row


def _finite(row: dict) -> bool:
    """Whether every metric of an epoch row (loss, val_loss, accuracies) is a finite number."""
    return all(v is not None and math.isfinite(v) for k, v in row.items() if k != "epoch")


def _atomic_save(model: keras.Model, path: Path) -> None:
    atomic_write(path, model.save)


def train(dataset, embeddings, train_idx, val_idx=None, config: TrainConfig | None = None, *,
          embedding_mode: str = "unknown", profile: str = "custom", runs_dir=None, run_dir=None,
          resume: bool = False, callbacks=(), devices=None, verbose="auto", head=None) -> Run:
    """Train one of the paper's models and record the run.

    dataset: a :class:`~deepcolor.lab_dataset.LabDataset`; embeddings: (len(dataset), 1000) float32
    (from :func:`deepcolor.embedding_cache.dataset_embeddings`); train_idx / val_idx: index arrays
    (e.g. from :func:`deepcolor.data.split`).  ``embedding_mode`` and ``profile`` are recorded
    so every table can say where its numbers came from.  ``head``: None or "mse", the paper's
    model; "classify" or a :class:`deepcolor.classify.ClassifierHead`, a classifier on the same
    trunk (notebook 11_colour_as_classes), recorded with its setting.

    A new run goes to ``run_dir`` or a fresh folder under ``runs_dir`` (:mod:`deepcolor.runs`).
    ``resume=True`` with an existing ``run_dir`` continues an interrupted run from its last checkpoint; the same seed and
    data then give the same weights as an uninterrupted run.  A NaN loss stops the run, which is
    recorded with status ``"nan"`` (the paper's lr 0.1 run), and so is a run whose validation
    loss or accuracy is NaN.  Ctrl-C (KeyboardInterrupt) and SIGTERM stop it with status
    ``"interrupted"``, resumable.  With several GPUs the backend's data-parallel machinery is used
    (:func:`distribution_scope`).

    Refused, before anything is written: a new run in a folder that exists and is not empty (the
    folder is never written into, so no file of yours is replaced), and a resume with other data,
    another embedding mode or another head than the run was started with (both are shown).
    """
    config = config or TrainConfig()
    head = Head.of(head)
    if val_idx is not None and len(np.intersect1d(train_idx, val_idx)):
        raise ValueError("train and validation indices overlap; use deepcolor.data.split(...)")
    scope, replicas = distribution_scope(devices)
    with contextlib.ExitStack() as held:  # the run's lock (deepcolor.locks), from its first check to its last write
        if resume:  # checked before the batches, whose rebalancing weights take a pass over the data
            if run_dir is not None and Path(run_dir).is_dir():  # else Run.resume names what is missing
                held.enter_context(hold(run_dir))
            run = Run.resume(run_dir, config, dataset, embedding_mode, head)
        else:
            run = Run.new(config, head, dataset, embedding_mode, profile, train_idx, val_idx, replicas=replicas,
                          runs_dir=runs_dir, run_dir=run_dir)
        batches, val = training_batches(dataset, embeddings, train_idx, val_idx, config, head)
        if resume:
            model = _load_for_resume(run, config, scope, head)
        else:
            keras.utils.set_random_seed(config.seed)
            with scope:
                model = new_model(config, head)
            check_training_memory(model, config.batch_size, config.input_size)  # before the folder is made
            held.enter_context(run.hold())
        _fit(model, batches, val, config, run, callbacks, verbose)
    run.model = model
    return run


def _fit(model, batches, val, config: TrainConfig, run: Run, callbacks, verbose) -> None:
    """Fit from the record's last epoch to ``config.epochs``, keeping the record and checkpoint."""
    initial_epoch = len(run.record["epochs"])
    run.started()
    record = run.record
    start = time.perf_counter()
    cbs = [_Checkpoint(run, batches), keras.callbacks.TerminateOnNaN(), *callbacks]
    with sigterm_interrupts() as sigterm:
        try:
            model.fit(batches, validation_data=val, epochs=config.epochs, initial_epoch=initial_epoch,
                      callbacks=cbs, verbose=verbose, shuffle=False)  # the batches shuffle, seeded
            record["status"] = "completed" if all(map(_finite, record["epochs"])) else "nan"
        except BaseException as exc:  # a SIGTERM inside TF's data pipeline comes back as a TF error
            stopped = sigterm.arrived or isinstance(exc, Terminated)
            if not (stopped or isinstance(exc, KeyboardInterrupt)):
                _record_failure(run, exc, start)
                raise
            record["status"] = "interrupted"
            record["stopped_by"] = "SIGTERM" if stopped else "Ctrl-C"
    _add_wall_time(record, start)
    if record["status"] == "completed":
        _atomic_save(model, run.path / FINAL_MODEL)
    run.write()


def _add_wall_time(record: dict, start: float) -> None:
    record["wall_time_s"] = record.get("wall_time_s", 0.0) + time.perf_counter() - start


def _record_failure(run: Run, exc: BaseException, start: float) -> None:
    run.record["status"] = "failed"
    run.record["error"] = f"{type(exc).__name__}: {exc}"
    _add_wall_time(run.record, start)
    run.write()


def _load_for_resume(run: Run, config: TrainConfig, scope, head) -> keras.Model:
    """The model to go on training; the run's record is brought back to its checkpoint's epoch."""
    record = run.record
    if not (run.path / CHECKPOINT).is_file():
        record["epochs"] = []  # interrupted before the first epoch ended: start again
        keras.utils.set_random_seed(config.seed)
        with scope:
            return new_model(config, head)
    record["config"]["epochs"] = config.epochs
    with scope:
        model = run.load_model(CHECKPOINT)
    # epochs after the checkpoint (a NaN epoch is never checkpointed) are trained again
    record["epochs"] = record["epochs"][: record.get("checkpoint_epoch", len(record["epochs"]))]
    return model


def train_or_load(dataset, embeddings, split, config: TrainConfig, *, embedding_mode: str, profile: str,
                  runs_dir=None, verbose="auto", head=None) -> Run:
    """Reuse a finished identical run under ``runs_dir`` (:meth:`deepcolor.runs.Run.find`) or train one.

    Lets later notebooks (09, 10, 11) use the models trained in notebooks 04-07, and train on the
    spot when they were not run.  ``split``: (train, val, test) index arrays.  ``head``: as for
    :func:`train`; a classifier is reused only for the very same setting (rebalancing, bins,
    soft encoding), never an MSE run, and the other way round.  Returns the :class:`~deepcolor.runs.Run`.
    """
    found = Run.find(config, dataset, embedding_mode, profile, runs_dir=runs_dir, split=split, head=head)
    if found is not None:
        return found
    return train(dataset, embeddings, split[0], split[1], config, embedding_mode=embedding_mode,
                 profile=profile, runs_dir=runs_dir, verbose=verbose, head=head)
