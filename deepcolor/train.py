"""Training runs: fit a model, checkpoint every epoch, record everything in a run folder.

Introduced in notebook ``04_base_model`` and used by notebooks 05-08.

A run folder holds::

    run.json          the record: config, data, embedding mode, profile, per-epoch metrics,
                      wall time, status ("completed", "nan", "interrupted", "failed", "running"),
                      and while it runs its process (pid, host) and a heartbeat timestamp
    checkpoint.keras  model + optimizer state after the last finished epoch (for resuming)
    model.keras       the final model (written when the run ends)
    study_eval.json   accuracies on the validation and test split, when the run is part of the
                      hyperparameter study (:mod:`deepcolor.study`)

The loss is MSE on ab/128; "accuracy" is Keras' CategoricalAccuracy over the (a, b) channel
axis: exactly the paper's metric (see :mod:`deepcolor.metrics`).

Every file is written atomically (:mod:`deepcolor.files`); run.json is strict JSON (a NaN
metric is written as null).  A run whose process was killed (SIGKILL, a crash of the machine)
cannot write its end: :func:`load_run` reports a "running" record whose process is gone as
"interrupted", and the heartbeat says when it was last alive.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import signal
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import keras

from . import __version__
from .batches import ColorBatches
from .files import DamagedFileError, atomic_write, make_folder, read_json, write_json
from .models import ARCHITECTURES, build_model

RECORD = "run.json"
CHECKPOINT = "checkpoint.keras"
FINAL_MODEL = "model.keras"
HEARTBEAT_S = 30.0  # how often a running run rewrites its heartbeat between epochs


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
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.arch!r}; choose one of {', '.join(ARCHITECTURES)}")


@dataclass
class RunResult:
    """What :func:`train` returns: the trained model, per-epoch history, the run folder and record."""

    model: keras.Model
    history: dict
    run_dir: Path
    record: dict = field(repr=False)

    @property
    def status(self) -> str:
        return self.record["status"]


def default_runs_dir() -> Path:
    """``$DEEPCOLOR_RUNS``, else ``runs/`` in the cache folder (:func:`deepcolor.settings.runs_dir`)."""
    from .settings import runs_dir

    return runs_dir()


def run_name(config: TrainConfig) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return f"{stamp}-{config.arch}-lr{config.lr:g}-b{config.batch_size}-l2{config.l2:g}"


def compile_model(model: keras.Model, lr: float) -> keras.Model:
    """Adam + MSE + the paper's accuracy (categorical accuracy over the ab channels)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr),
        loss="mse",
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model


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
    """After each epoch: save model + optimizer, append the epoch's metrics to the record."""

    def __init__(self, run_dir: Path, record: dict, batches: ColorBatches):
        super().__init__()
        self.run_dir, self.record, self.batches = run_dir, record, batches

    def on_epoch_begin(self, epoch, logs=None):
        # Keras calls PyDataset.on_epoch_end at other moments too (after peeking at the data),
        # so the shuffle order is pinned to the epoch number here: resuming then replays it.
        self.batches.set_epoch(epoch)

    def on_train_batch_end(self, batch, logs=None):
        if time.time() - self.record.get("heartbeat_unix", 0.0) > HEARTBEAT_S:
            _write_record(self.run_dir, self.record)  # refreshes the heartbeat

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        self.record["epochs"].append(row)
        if _finite(row):
            _atomic_save(self.model, self.run_dir / CHECKPOINT)
            self.record["checkpoint_epoch"] = epoch + 1  # what a resume starts from
        _write_record(self.run_dir, self.record)


def _finite(row: dict) -> bool:
    """Whether every metric of an epoch row (loss, val_loss, accuracies) is a finite number."""
    return all(v is not None and math.isfinite(v) for k, v in row.items() if k != "epoch")


def _atomic_save(model: keras.Model, path: Path) -> None:
    atomic_write(path, model.save)


def _write_record(run_dir: Path, record: dict) -> None:
    """Write run.json (strict JSON, atomically), with a fresh heartbeat while the run is running."""
    now = time.time()
    record["heartbeat_unix"] = now
    record["heartbeat"] = datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds")
    write_json(run_dir / RECORD, record)


def _new_record(config, dataset, embeddings_mode, profile, train_idx, val_idx, replicas) -> dict:
    return {
        "status": "running",
        "config": asdict(config),
        "data": {
            "source": dataset.source,
            "root": str(dataset.root) if dataset.root else None,
            "size": len(dataset),
            "n_train": int(len(train_idx)),
            "n_val": int(len(val_idx)) if val_idx is not None else 0,
            "fingerprint": dataset.fingerprint(),
        },
        "embedding_mode": embeddings_mode,
        "profile": profile,
        "backend": keras.backend.backend(),
        "replicas": replicas,
        "keras_version": keras.__version__,
        "deepcolor_version": __version__,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "epochs": [],
        "wall_time_s": 0.0,
    }


def train(dataset, embeddings, train_idx, val_idx=None, config: TrainConfig | None = None, *,
          embeddings_mode: str = "unknown", profile: str = "custom", runs_dir=None, run_dir=None,
          resume: bool = False, callbacks=(), devices=None, verbose="auto") -> RunResult:
    """Train one of the paper's models and record the run.

    dataset: a :class:`~deepcolor.lab_dataset.LabDataset`; embeddings: (len(dataset), 1000) float32
    (from :func:`deepcolor.embedding_cache.dataset_embeddings`); train_idx / val_idx: index arrays
    (e.g. from :func:`deepcolor.data.split`).  ``embeddings_mode`` and ``profile`` are recorded
    so every table can say where its numbers came from.

    A new run goes to ``run_dir`` or a fresh folder under ``runs_dir``.  ``resume=True`` with an
    existing ``run_dir`` continues an interrupted run from its last checkpoint; the same seed and
    data then give the same weights as an uninterrupted run.  A NaN loss stops the run, which is
    recorded with status ``"nan"`` (the paper's lr 0.1 run), and so is a run whose validation
    loss or accuracy is NaN.  Ctrl-C (KeyboardInterrupt) and SIGTERM stop it with status
    ``"interrupted"``, resumable.  With several GPUs the backend's data-parallel machinery is used
    (:func:`distribution_scope`).

    Refused, before anything is written: a new run in a folder that exists and is not empty (the
    folder is never written into, so no file of yours is replaced), and a resume with other data
    or another embedding mode than the run was started with (both are shown).
    """
    config = config or TrainConfig()
    if val_idx is not None and len(np.intersect1d(train_idx, val_idx)):
        raise ValueError("train and validation indices overlap; use deepcolor.data.split(...)")
    scope, replicas = distribution_scope(devices)
    batches = ColorBatches(dataset, embeddings, train_idx, config.batch_size, shuffle=True,
                           seed=config.seed, input_size=config.input_size)
    val = None
    if val_idx is not None and len(val_idx):
        val = ColorBatches(dataset, embeddings, val_idx, max(config.batch_size, 16), shuffle=False,
                           input_size=config.input_size)

    if resume:
        run_dir, record, model = _load_for_resume(run_dir, config, scope, dataset, embeddings_mode)
    else:
        run_dir = Path(run_dir) if run_dir else Path(runs_dir or default_runs_dir()) / run_name(config)
        _check_new_run_dir(run_dir)
        record = _new_record(config, dataset, embeddings_mode, profile, train_idx, val_idx, replicas)
        keras.utils.set_random_seed(config.seed)
        with scope:
            model = compile_model(build_model(config.arch, config.input_size, config.l2), config.lr)
        make_folder(run_dir)
    initial_epoch = len(record["epochs"])
    record.update(status="running", pid=os.getpid(), host=socket.gethostname())
    record.pop("stopped_by", None)
    _write_record(run_dir, record)

    start = time.perf_counter()
    cbs = [_Checkpoint(run_dir, record, batches), keras.callbacks.TerminateOnNaN(), *callbacks]
    try:
        with _sigterm_interrupts():
            model.fit(batches, validation_data=val, epochs=config.epochs, initial_epoch=initial_epoch,
                      callbacks=cbs, verbose=verbose, shuffle=False)  # ColorBatches shuffles, seeded
        record["status"] = "completed" if all(map(_finite, record["epochs"])) else "nan"
    except KeyboardInterrupt as exc:
        record["status"] = "interrupted"
        record["stopped_by"] = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"
    except BaseException as exc:
        record["status"] = "failed"
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["wall_time_s"] = record.get("wall_time_s", 0.0) + time.perf_counter() - start
        _write_record(run_dir, record)
        raise
    record["wall_time_s"] = record.get("wall_time_s", 0.0) + time.perf_counter() - start
    if record["status"] == "completed":
        _atomic_save(model, run_dir / FINAL_MODEL)
    _write_record(run_dir, record)
    return RunResult(model, history_of(record), run_dir, record)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived while training (``kill PID``, a job scheduler's stop): stop like Ctrl-C."""


@contextlib.contextmanager
def _sigterm_interrupts():
    """While training, SIGTERM raises :class:`Terminated`, so the run is recorded as interrupted.
    Signal handlers can only be set from the main thread; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_new_run_dir(run_dir: Path) -> None:
    if (run_dir / RECORD).exists():
        raise FileExistsError(f"{run_dir} already holds a run; pass resume=True (--resume) to continue it, or another run_dir")
    if run_dir.is_symlink() or (run_dir.exists() and not run_dir.is_dir()):
        raise FileExistsError(f"{run_dir} exists and is not a folder; choose a new run folder")
    if run_dir.is_dir() and any(run_dir.iterdir()):
        raise FileExistsError(f"{run_dir} is not empty and holds no run: a new run is written only into a new "
                              "or empty folder, so that none of your files is replaced; choose another run_dir")


def _describe_data(fingerprint: dict) -> str:
    """A short, human description of a dataset fingerprint, for error messages."""
    digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:12]
    return f"{fingerprint.get('n')} images, source {fingerprint.get('source')!r}, fingerprint {digest}"


def check_resume(run_dir, config: TrainConfig, dataset, embeddings_mode: str) -> dict:
    """The record of the run at ``run_dir`` if it can be resumed with this config, data and
    embedding mode; else a ValueError showing what the run used and what was given.

    :func:`train` checks this itself; the command line calls it first as well, before it spends
    minutes on embeddings that could not be used.
    """
    if run_dir is None or not (Path(run_dir) / RECORD).is_file():
        raise FileNotFoundError(f"no run to resume at {run_dir}: expected {RECORD} there")
    run_dir = Path(run_dir)
    record = load_run(run_dir)
    for key in ("path", "status_note"):
        record.pop(key, None)
    saved = {k: v for k, v in record["config"].items() if k != "epochs"}
    wanted = {k: v for k, v in asdict(config).items() if k != "epochs"}
    if saved != wanted:
        raise ValueError(f"cannot resume {run_dir}: it was started with {saved}, not {wanted}")
    saved, now = record["data"]["fingerprint"], json.loads(json.dumps(dataset.fingerprint()))
    if saved != now:
        raise ValueError(
            f"cannot resume {run_dir}: it was trained on {_describe_data(saved)} (folder "
            f"{record['data'].get('root')}), but the data given now is {_describe_data(now)} (folder "
            f"{dataset.root}); resume with the same data (--data, -n), or start a new run"
        )
    if record["embedding_mode"] != embeddings_mode:
        raise ValueError(f"cannot resume {run_dir}: it was trained with embeddings {record['embedding_mode']!r}, "
                         f"not {embeddings_mode!r}; resume with --embeddings {record['embedding_mode']}")
    return record


def _load_for_resume(run_dir, config: TrainConfig, scope, dataset, embeddings_mode: str):
    record = check_resume(run_dir, config, dataset, embeddings_mode)
    run_dir = Path(run_dir)
    if not (run_dir / CHECKPOINT).is_file():
        record["epochs"] = []  # interrupted before the first epoch ended: start again
        keras.utils.set_random_seed(config.seed)
        with scope:
            model = compile_model(build_model(config.arch, config.input_size, config.l2), config.lr)
        return run_dir, record, model
    record["config"]["epochs"] = config.epochs
    with scope:
        model = _load_model(run_dir / CHECKPOINT, "the checkpoint; delete it to restart this run from epoch 1")
    # epochs after the checkpoint (a NaN epoch is never checkpointed) are trained again
    record["epochs"] = record["epochs"][: record.get("checkpoint_epoch", len(record["epochs"]))]
    return run_dir, record, model


def _load_model(path: Path, what: str) -> keras.Model:
    """keras.models.load_model, with an error that names a damaged file and what to do."""
    try:
        return keras.models.load_model(path)
    except Exception as exc:
        raise DamagedFileError(f"{path} is damaged and cannot be loaded ({type(exc).__name__}: {exc}); "
                               f"it is {what}") from None


def history_of(record: dict) -> dict:
    """Per-epoch metrics of a run record as ``{"loss": [...], "val_loss": [...], ...}``; a metric
    that was NaN (written as null) is NaN again."""
    keys = sorted({k for row in record["epochs"] for k in row if k != "epoch"})
    nan = float("nan")
    return {k: [nan if row.get(k) is None else row[k] for row in record["epochs"]] for k in keys}


def _process_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError, TypeError):
        return True  # exists but is someone else's, or we cannot tell
    return True


def load_run(run_dir) -> dict:
    """The record (``run.json``) of one run folder, with its path added.

    A record still saying "running" whose process no longer exists on this machine (killed with
    SIGKILL, or the machine restarted) is returned as "interrupted", with ``status_note`` saying
    when it was last alive.  A damaged run.json raises :class:`~deepcolor.files.DamagedFileError`
    naming it.
    """
    run_dir = Path(run_dir)
    if not (run_dir / RECORD).is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder (no {RECORD})")
    record = read_json(run_dir / RECORD, "the run record")
    if not isinstance(record, dict) or not {"status", "config", "epochs", "data"} <= set(record):
        raise DamagedFileError(f"{run_dir / RECORD} is damaged: it is not a run record (status, config, epochs, "
                               "data); delete the run folder or restore the file")
    if (record["status"] == "running" and record.get("host") == socket.gethostname()
            and not _process_alive(record.get("pid"))):
        record["status"] = "interrupted"
        record["status_note"] = (f"its process {record.get('pid')} is gone; last alive at "
                                 f"{record.get('heartbeat', 'an unknown time')}")
    record["path"] = str(run_dir)
    return record


def load_runs(runs_dir=None):
    """All runs under ``runs_dir`` as one pandas DataFrame, a row per run (notebook 08).

    Columns: run, arch, lr, batch_size, l2, epochs, status, loss, val_loss, accuracy,
    val_accuracy (last epoch), best_val_accuracy, embedding_mode, profile, data_source,
    n_train, wall_time_s, last_alive, path.  A run whose process was killed shows as
    "interrupted" (see :func:`load_run`); a folder with a damaged run.json is left out with a
    warning naming it.
    """
    import warnings

    import pandas as pd

    rows = []
    for rec_path in sorted(Path(runs_dir or default_runs_dir()).glob(f"*/{RECORD}")):
        try:
            rec = load_run(rec_path.parent)
        except DamagedFileError as exc:
            warnings.warn(f"left out of the table: {exc}", stacklevel=2)
            continue
        last = rec["epochs"][-1] if rec["epochs"] else {}
        vals = [row["val_accuracy"] for row in rec["epochs"] if row.get("val_accuracy") is not None]
        cfg = rec["config"]
        rows.append({
            "run": rec_path.parent.name, "arch": cfg["arch"], "lr": cfg["lr"], "batch_size": cfg["batch_size"],
            "l2": cfg["l2"], "epochs": len(rec["epochs"]), "status": rec["status"],
            "loss": last.get("loss"), "val_loss": last.get("val_loss"), "accuracy": last.get("accuracy"),
            "val_accuracy": last.get("val_accuracy"), "best_val_accuracy": max(vals) if vals else None,
            "embedding_mode": rec["embedding_mode"], "profile": rec["profile"],
            "data_source": rec["data"]["source"], "n_train": rec["data"]["n_train"],
            "wall_time_s": rec["wall_time_s"], "last_alive": rec.get("heartbeat"), "path": rec["path"],
        })
    return pd.DataFrame(rows)


def same_setting(record: dict, config: TrainConfig, dataset, embeddings_mode: str, profile: str) -> bool:
    """Whether a run record was made with exactly this config, data, embedding mode and profile."""
    fingerprint = json.loads(json.dumps(dataset.fingerprint()))
    return (record["config"] == asdict(config) and record["embedding_mode"] == embeddings_mode
            and record["profile"] == profile and record["data"]["fingerprint"] == fingerprint)


def find_run(config: TrainConfig, dataset, embeddings_mode: str, profile: str, runs_dir=None) -> Path | None:
    """The newest completed run with exactly this config, data, embedding mode and profile."""
    for rec_path in sorted(Path(runs_dir or default_runs_dir()).glob(f"*/{RECORD}"), reverse=True):
        try:
            rec = load_run(rec_path.parent)
        except DamagedFileError:
            continue  # a damaged record is never reused
        if (rec["status"] == "completed" and (rec_path.parent / FINAL_MODEL).is_file()
                and same_setting(rec, config, dataset, embeddings_mode, profile)):
            return rec_path.parent
    return None


def load_finished(run_dir) -> RunResult:
    """A finished run (one :func:`find_run` returned) with its final model loaded."""
    record = load_run(run_dir)
    model = _load_model(Path(run_dir) / FINAL_MODEL, "the final model of this run; delete the run folder to train it again")
    return RunResult(model, history_of(record), Path(run_dir), record)


def train_or_load(dataset, embeddings, split, config: TrainConfig, *, embeddings_mode: str, profile: str,
                  runs_dir=None, verbose="auto") -> RunResult:
    """Reuse a finished identical run (see :func:`find_run`) or train a new one.

    Lets later notebooks (09, 10) use the models trained in notebooks 04-07, and train on the
    spot when they were not run.  ``split``: (train, val, test) index arrays.
    """
    found = find_run(config, dataset, embeddings_mode, profile, runs_dir)
    if found is not None:
        return load_finished(found)
    return train(dataset, embeddings, split[0], split[1], config, embeddings_mode=embeddings_mode,
                 profile=profile, runs_dir=runs_dir, verbose=verbose)
