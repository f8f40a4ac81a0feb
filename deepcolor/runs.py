"""A training run's whole life, owned by one class: :class:`Run`.

Introduced in notebook ``04_base_model`` (every ``train_or_load`` reuses a run folder), used by
notebooks 05-11; :mod:`deepcolor.train` builds and fits the model, a :class:`Run` does the rest.
A run folder holds::

    run.json          the record: config, head, data, embedding mode, profile, per-epoch metrics,
                      wall time, status ("completed", "nan", "interrupted", "failed", "running"),
                      and while it runs its process (pid, host) and a heartbeat timestamp
    checkpoint.keras  model + optimizer state after the last finished epoch (for resuming)
    model.keras       the final model (written when the run ends)
    NAME.json         measurements kept by :meth:`Run.cached`: the study's accuracies
                      (study_eval.json, notebook 08), the test tables (test_eval.json and
                      test_seen_eval.json, :func:`deepcolor.evaluation.evaluate_run`)

A :class:`Run` is made (:meth:`Run.new`: the record's fields are built here), found again
(:meth:`Run.find`: an identical finished run to reuse), resumed (:meth:`Run.resume`: only with
the same setting, data, embedding mode and head), held by one process while it trains
(:meth:`Run.hold`, :mod:`deepcolor.locks`), kept up to date (:meth:`Run.write`, with a
heartbeat), and read back (:attr:`Run.history`, :attr:`Run.model`, :meth:`Run.cached`).

Every file is written atomically (:mod:`deepcolor.files`); run.json is strict JSON (a NaN metric
is written as null, and read back as NaN by :func:`history_of`).  A run whose process was killed
(SIGKILL, a crash of the machine) cannot write its end: :meth:`Run.open` reports a "running"
record whose process is gone as "interrupted", and the heartbeat says when it was last alive.
The head of a run is a :class:`deepcolor.heads.Head`; a record older than heads is an MSE run.
Keras is imported only to load a model or to stamp a new record with its version.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import warnings
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from . import __version__, settings
from .files import DamagedFileError, keep_json, kept_json, make_folder, read_json, write_json
from .fingerprints import data_fingerprint, layer_table_hash, split_hash
from .heads import Head
from .locks import writer

RECORD = "run.json"
CHECKPOINT = "checkpoint.keras"
FINAL_MODEL = "model.keras"
HEARTBEAT_S = 30.0  # how often a running run rewrites its heartbeat between epochs


def default_runs_dir() -> Path:
    """``$DEEPCOLOR_RUNS``, else ``runs/`` in the cache folder (:func:`deepcolor.settings.runs_dir`)."""
    return settings.runs_dir()


def history_of(record: dict) -> dict:
    """Per-epoch metrics of a run record as ``{"loss": [...], "val_loss": [...], ...}``, one float
    per epoch; a metric that was NaN (written as null) is NaN again."""
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


def _describe_data(fingerprint: dict) -> str:
    digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:12]
    return f"{fingerprint.get('n')} images, source {fingerprint.get('source')!r}, fingerprint {digest}"


class Run:
    """One run folder and its record (notebook 04): ``run.path`` (also ``run.run_dir``),
    ``run.record`` (a dict, as in run.json), ``run.status``, ``run.head``, ``run.history``
    ({metric: [one float per epoch]}) and ``run.model`` (the final model, loaded when first asked
    for; the trained model itself after :func:`deepcolor.train.train`)."""

    def __init__(self, path, record: dict, model=None):
        self.path, self.record, self._model = Path(path), record, model

    def __repr__(self) -> str:
        return f"Run('{self.path}', status={self.status!r}, {self.head.describe()}, {len(self.record['epochs'])} epochs)"

    run_dir = property(lambda self: self.path, doc="The run folder (the same as ``path``).")
    status = property(lambda self: self.record["status"], doc='"completed", "nan", "interrupted", ...')
    head = property(lambda self: Head.from_record(self.record), doc="The run's :class:`~deepcolor.heads.Head`.")
    history = property(lambda self: history_of(self.record), doc="Per-epoch metrics, NaN as NaN.")

    # ------------------------------------------------------------------ making, opening, finding

    @classmethod
    def new(cls, config, head, dataset, embedding_mode: str, profile: str, train_idx, val_idx=None, *,
            replicas: int = 1, runs_dir=None, run_dir=None) -> "Run":
        """A new run of ``config`` (a :class:`deepcolor.train.TrainConfig`) and ``head`` on images
        ``train_idx`` / ``val_idx`` of ``dataset``: its record (status "running", nothing written
        yet) in ``run_dir``, or a fresh folder under ``runs_dir`` named by the time and setting.
        Refused, before anything is written, when the folder holds a run, is not a folder, or
        holds anything at all (so no file of yours is ever replaced)."""
        import keras

        head = Head.of(head)
        path = Path(run_dir) if run_dir else Path(runs_dir or default_runs_dir()) / _run_name(config, head)
        _check_new_folder(path)
        record = {
            "status": "running", "config": asdict(config), **head.to_record(),
            "data": {"source": dataset.source, "root": str(dataset.root) if dataset.root else None,
                     "size": len(dataset), "n_train": int(len(train_idx)),
                     "n_val": int(len(val_idx)) if val_idx is not None else 0,
                     "fingerprint": dataset.fingerprint(), "split": split_hash(train_idx, val_idx)},
            "layer_table": layer_table_hash(config.arch), "embedding_mode": embedding_mode, "profile": profile,
            "backend": keras.backend.backend(), "precision": keras.config.dtype_policy().name,
            "replicas": replicas, "keras_version": keras.__version__, "deepcolor_version": __version__,
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "epochs": [], "wall_time_s": 0.0,
        }
        return cls(path, record)

    @classmethod
    def open(cls, path) -> "Run":
        """The run in folder ``path``.  A record still saying "running" whose process no longer
        exists on this machine (killed with SIGKILL, or the machine restarted) is read as
        "interrupted", with ``status_note`` saying when it was last alive.  No run there is a
        FileNotFoundError, a damaged record a :class:`~deepcolor.files.DamagedFileError` naming it."""
        path = Path(path)
        if not (path / RECORD).is_file():
            raise FileNotFoundError(f"{path} is not a run folder (no {RECORD})")
        record = read_json(path / RECORD, "the run record")
        if not isinstance(record, dict) or not {"status", "config", "epochs", "data"} <= set(record):
            raise DamagedFileError(f"{path / RECORD} is damaged: it is not a run record (status, config, epochs, "
                                   "data); delete the run folder or restore the file")
        if (record["status"] == "running" and record.get("host") == socket.gethostname()
                and not _process_alive(record.get("pid"))):
            record["status"] = "interrupted"
            record["status_note"] = (f"its process {record.get('pid')} is gone; last alive at "
                                     f"{record.get('heartbeat', 'an unknown time')}")
        record.setdefault("head", "mse")  # written before classifiers existed
        record["path"] = str(path)
        return cls(path, record)

    @classmethod
    def resume(cls, path, config, dataset, embedding_mode: str, head=None) -> "Run":
        """The run at ``path``, to go on training with this config (only ``epochs`` may differ),
        head, data and embedding mode; else a ValueError showing what the run used and what was
        given.  The command line calls it before it spends minutes on embeddings."""
        if path is None or not (Path(path) / RECORD).is_file():
            raise FileNotFoundError(f"no run to resume at {path}: expected {RECORD} there")
        run, head = cls.open(path), Head.of(head)
        for key in ("path", "status_note"):
            run.record.pop(key, None)
        saved = {k: v for k, v in run.record["config"].items() if k != "epochs"}
        wanted = {k: v for k, v in asdict(config).items() if k != "epochs"}
        if saved != wanted:
            raise ValueError(f"cannot resume {path}: it was started with {saved}, not {wanted}")
        started = run.head
        if not started.same_as(head):
            raise ValueError(f"cannot resume {path}: it was started with the {started.describe()}, not the "
                             f"{head.describe()}; resume it with head={started.argument()} "
                             "(deepcolor train: leave out --head and --no-rebalance)")
        saved, now = run.record["data"]["fingerprint"], data_fingerprint(dataset)
        if saved != now:
            raise ValueError(
                f"cannot resume {path}: it was trained on {_describe_data(saved)} (folder "
                f"{run.record['data'].get('root')}), but the data given now is {_describe_data(now)} (folder "
                f"{dataset.root}); resume with the same data (--data, -n), or start a new run")
        if run.record["embedding_mode"] != embedding_mode:
            raise ValueError(f"cannot resume {path}: it was trained with embeddings {run.record['embedding_mode']!r}, "
                             f"not {embedding_mode!r}; resume with --embeddings {run.record['embedding_mode']}")
        return run

    @classmethod
    def find(cls, config, dataset, embedding_mode: str, profile: str, *, runs_dir=None, split=None, head=None,
             statuses=("completed",), cached=None) -> "Run | None":
        """The newest run under ``runs_dir`` with exactly this setting (:meth:`matches`) whose
        status is one of ``statuses`` and which can give what is asked of it: a final model for a
        "completed" run, the measurement ``cached = (name, key)`` when given (:meth:`cached`).
        None when there is none; a damaged run is never reused."""
        for rec_path in sorted(Path(runs_dir or default_runs_dir()).glob(f"*/{RECORD}"), reverse=True):
            try:
                run = cls.open(rec_path.parent)
            except DamagedFileError:
                continue
            if (run.status in statuses and (cached is not None or (run.path / FINAL_MODEL).is_file())
                    and run.matches(config, dataset, embedding_mode, profile, split, head)
                    and (cached is None or run.kept(*cached) is not None)):
                return run
        return None

    def matches(self, config, dataset, embedding_mode: str, profile: str, split=None, head=None) -> bool:
        """Whether this run was made with exactly this config, head, model definition
        (:func:`layer_table_hash`), data, embedding mode and profile, in Keras' current precision
        (``DEEPCOLOR_PRECISION``; records without one are float32), and, when ``split`` (train,
        val, ...) is given, on the same training and validation images."""
        import keras

        record = self.record
        return (record["config"] == asdict(config) and self.head.same_as(Head.of(head))
                and record.get("precision", "float32") == keras.config.dtype_policy().name
                and record["embedding_mode"] == embedding_mode and record["profile"] == profile
                and record["data"]["fingerprint"] == data_fingerprint(dataset)
                and record.get("layer_table") == layer_table_hash(config.arch)
                and (split is None or record["data"].get("split") == split_hash(split[0], split[1])))

    # ------------------------------------------------------------------ its life

    def hold(self):
        """A ``with`` block in which this process alone writes the run (:func:`hold`); makes the
        folder if it is new."""
        make_folder(self.path)
        return hold(self.path)

    def write(self) -> None:
        """Write the record (strict JSON, atomically) with a fresh heartbeat (``heartbeat_unix``,
        seconds since 1970, and ``heartbeat``, ISO 8601 UTC)."""
        now = time.time()
        self.record["heartbeat_unix"] = now
        self.record["heartbeat"] = datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds")
        write_json(self.path / RECORD, {k: v for k, v in self.record.items() if k not in ("path", "status_note")})

    def started(self) -> None:
        """Mark the run as running in this process (pid, host) and write it."""
        self.record.update(status="running", pid=os.getpid(), host=socket.gethostname())
        self.record.pop("stopped_by", None)
        self.write()

    # ------------------------------------------------------------------ what it gives back

    @property
    def model(self):
        """The run's final model (loaded from model.keras when first asked for).  A run without
        one (not completed) is a FileNotFoundError; a damaged file a DamagedFileError naming it."""
        if self._model is None:
            self._model = self.load_model(FINAL_MODEL)
        return self._model

    @model.setter
    def model(self, model) -> None:
        self._model = model

    def load_model(self, name: str = FINAL_MODEL):
        """The Keras model in the run's file ``name`` (model.keras or checkpoint.keras)."""
        import keras

        path = self.path / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: the run ended with status {self.status!r}")
        try:
            return keras.models.load_model(path)
        except Exception as exc:  # a truncated zip, an h5 of another model...
            fix = ("it is the checkpoint; delete it to restart this run from epoch 1" if name == CHECKPOINT
                   else "delete the run folder to train it again")
            raise DamagedFileError(f"{path} is damaged and cannot be loaded ({type(exc).__name__}: {exc}); {fix}") from None

    def kept(self, name: str, key):
        """The measurement :meth:`cached` kept as ``name`` for ``key``, or None (none, another key,
        a damaged file)."""
        return kept_json(self.path / f"{name}.json", key)

    def cached(self, name: str, key, compute):
        """A measurement of this run, computed once and kept in the folder as ``NAME.json``:
        ``compute()`` (JSON values; NaN is kept as null and read back as NaN) unless the file holds
        one for the same ``key`` (JSON values: what it was measured on).  Where the folder cannot
        be written, the value is returned with a warning, and measured again next time."""
        value = self.kept(name, key)
        if value is not None:
            return value
        value = compute()
        try:
            keep_json(self.path / f"{name}.json", key, value)
        except OSError as exc:
            warnings.warn(f"{name} of {self.path} could not be kept there ({exc}); it will be measured again "
                          "next time", stacklevel=2)
        return value


def hold(path):
    """A ``with`` block in which this process alone writes the run folder ``path`` (which exists):
    a second process is refused at once, naming this one (:func:`deepcolor.locks.writer`)."""
    return writer(path, "the run", inside=True)


def _run_name(config, head: Head) -> str:
    """A new run folder's name: the time to the microsecond, the architecture, the head (for a
    classifier) and settings, e.g. ``20250101-120000-000000-base-classify-rebalanced-lr0.001-b5-l20``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    kind = "" if head.kind == "mse" else "-classify-rebalanced" if head.rebalance else "-classify"
    return f"{stamp}-{config.arch}{kind}-lr{config.lr:g}-b{config.batch_size}-l2{config.l2:g}"


def _check_new_folder(path: Path) -> None:
    if (path / RECORD).exists():
        raise FileExistsError(f"{path} already holds a run; pass resume=True (--resume) to continue it, or another run_dir")
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise FileExistsError(f"{path} exists and is not a folder; choose a new run folder")
    if path.is_dir() and any(path.iterdir()):
        raise FileExistsError(f"{path} is not empty and holds no run: a new run is written only into a new "
                              "or empty folder, so that none of your files is replaced; choose another run_dir")


def record_beside(model_path) -> dict | None:
    """The run record beside ``model_path`` (a run folder's model file), as written; None when
    there is none or it is not a JSON object (``deepcolor colorize``, notebook 12).  A damaged
    record raises :class:`~deepcolor.files.DamagedFileError`."""
    path = Path(model_path).with_name(RECORD)
    if not path.is_file():
        return None
    record = read_json(path, "the run record")
    return record if isinstance(record, dict) else None


def recorded_embedding_mode(model_path) -> str | None:
    """The embedding mode in the run record beside ``model_path``, as written (any string); None
    when there is no record there or it names none (notebook 10, ``deepcolor colorize``)."""
    record = record_beside(model_path)
    return None if record is None else record.get("embedding_mode")
