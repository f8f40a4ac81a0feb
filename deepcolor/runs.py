"""Run folders: where a training run keeps its record, checkpoints and model, and how they are read.

Introduced in notebook ``04_base_model`` (every ``train_or_load`` reuses a run folder), used by
notebooks 05-10; :mod:`deepcolor.train` writes the folders, this module owns their layout.
A run folder holds::

    run.json          the record: config, head, data, embedding mode, profile, per-epoch metrics,
                      wall time, status ("completed", "nan", "interrupted", "failed", "running"),
                      and while it runs its process (pid, host) and a heartbeat timestamp
    checkpoint.keras  model + optimizer state after the last finished epoch (for resuming)
    model.keras       the final model (written when the run ends)
    study_eval.json   accuracies on the validation and test split, when the run is part of the
                      hyperparameter study (:mod:`deepcolor.lessons.hyperparameter_study`, notebook 08)
    test_eval.json    the final model's table of metrics on the test split (test_seen_eval.json: on
                      split.test_seen) and what it was measured on (evaluation.evaluate_run, notebooks 04-11)

Run folders live under ``runs_dir``, which every function here takes (default
:func:`default_runs_dir`).  Every file is written atomically (:mod:`deepcolor.files`); run.json
is strict JSON (a NaN metric is written as null, and read back as NaN by :func:`history_of`).  A
run whose process was killed (SIGKILL, a crash of the machine) cannot write its end:
:func:`load_run` reports a "running" record whose process is gone as "interrupted", and the
heartbeat says when it was last alive.  Nothing here imports Keras.

The head (:func:`head_fields`): ``"head": "mse"`` for the paper's models, or ``"head":
"classify"`` with ``"classify": {...}``, the setting of a classifier
(:meth:`deepcolor.classify.ClassifierHead.as_record`, notebook 11_colour_as_classes).  A record
written before classifiers existed has no head and is read as "mse".  Wherever a function here
takes ``head``, it is None for the MSE head or a :class:`deepcolor.classify.ClassifierHead`.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from .files import DamagedFileError, read_json, write_json

RECORD = "run.json"
CHECKPOINT = "checkpoint.keras"
FINAL_MODEL = "model.keras"
EVAL_FILE = "study_eval.json"
EVALUATION_FILE = "test_eval.json"  # write_evaluation of part "test"; of part "test_seen": test_seen_eval.json
HEARTBEAT_S = 30.0  # how often a running run rewrites its heartbeat between epochs


def default_runs_dir() -> Path:
    """``$DEEPCOLOR_RUNS``, else ``runs/`` in the cache folder (:func:`deepcolor.settings.runs_dir`)."""
    from .settings import runs_dir

    return runs_dir()


def run_name(config, head=None) -> str:
    """A new run folder's name: the time to the microsecond, then the architecture, the head (for a
    classifier) and settings of ``config`` (a :class:`deepcolor.train.TrainConfig`), e.g.
    ``20250101-120000-000000-base-lr0.001-b5-l20`` or ``...-base-classify-rebalanced-lr0.001-b5-l20``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    kind = "" if head is None else "-classify-rebalanced" if head.rebalance else "-classify"
    return f"{stamp}-{config.arch}{kind}-lr{config.lr:g}-b{config.batch_size}-l2{config.l2:g}"


def head_fields(head=None) -> dict:
    """The fields of a run record that name its head: ``{"head": "mse"}`` for ``head`` None, else
    ``{"head": "classify", "classify": head.as_record()}`` (a :class:`deepcolor.classify.ClassifierHead`)."""
    if head is None or head == "mse":
        return {"head": "mse"}
    if not hasattr(head, "as_record"):
        raise ValueError(f"head must be None (the MSE head) or a deepcolor.classify.ClassifierHead, got {head!r}")
    return {"head": "classify", "classify": json.loads(json.dumps(head.as_record()))}


def recorded_head(record: dict) -> dict:
    """The head fields of a run record, as :func:`head_fields` gives them; a record without a head
    (written before classifiers existed) is an MSE run."""
    if record.get("head", "mse") == "mse":
        return {"head": "mse"}
    return {"head": record["head"], "classify": record.get("classify")}


def describe_head(fields: dict) -> str:
    """The head fields of a record in words, for messages: "the MSE head" or "the classify head
    (rebalance=True, ...)"."""
    if fields["head"] == "mse":
        return "the MSE head"
    settings = ", ".join(f"{k}={v}" for k, v in (fields.get("classify") or {}).items())
    return f"the {fields['head']} head ({settings})"


def head_argument(fields: dict) -> str:
    """The ``head`` argument that asks for the head fields of a record, as Python: ``"None"`` for
    the MSE head, else ``"ClassifierHead(rebalance=..., ...)"`` with the recorded setting (for messages)."""
    if fields["head"] == "mse":
        return "None"
    settings = {k: v for k, v in (fields.get("classify") or {}).items() if k != "n_bins" and v is not None}
    return "ClassifierHead(" + ", ".join(f"{k}={v!r}" for k, v in settings.items()) + ")"


def write_record(run_dir, record: dict) -> None:
    """Write the run record of ``run_dir`` (strict JSON, atomically), with a fresh heartbeat
    (``heartbeat_unix``, seconds since 1970, and ``heartbeat``, ISO 8601 UTC) added to ``record``."""
    now = time.time()
    record["heartbeat_unix"] = now
    record["heartbeat"] = datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds")
    write_json(Path(run_dir) / RECORD, record)


def check_new_run_dir(run_dir) -> None:
    """Refuse, before anything is written, a new run in ``run_dir`` when that folder holds a run,
    is not a folder, or holds anything at all (so no file of the user's is ever replaced)."""
    run_dir = Path(run_dir)
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


def check_resume(run_dir, config, dataset, embedding_mode: str, head=None) -> dict:
    """The record of the run at ``run_dir`` if it can be resumed with this config (a
    :class:`deepcolor.train.TrainConfig`; only ``epochs`` may differ), head, data and embedding
    mode; else a ValueError showing what the run used and what was given.

    :func:`deepcolor.train.train` checks this itself; the command line calls it first as well,
    before it spends minutes on embeddings that could not be used.
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
    if recorded_head(record) != head_fields(head):
        started = recorded_head(record)
        raise ValueError(f"cannot resume {run_dir}: it was started with {describe_head(started)}, not "
                         f"{describe_head(head_fields(head))}; resume it with head={head_argument(started)} "
                         "(deepcolor train: leave out --head and --no-rebalance)")
    saved, now = record["data"]["fingerprint"], json.loads(json.dumps(dataset.fingerprint()))
    if saved != now:
        raise ValueError(
            f"cannot resume {run_dir}: it was trained on {_describe_data(saved)} (folder "
            f"{record['data'].get('root')}), but the data given now is {_describe_data(now)} (folder "
            f"{dataset.root}); resume with the same data (--data, -n), or start a new run"
        )
    if record["embedding_mode"] != embedding_mode:
        raise ValueError(f"cannot resume {run_dir}: it was trained with embeddings {record['embedding_mode']!r}, "
                         f"not {embedding_mode!r}; resume with --embeddings {record['embedding_mode']}")
    return record


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


def load_run(run_dir) -> dict:
    """The run record of one run folder, with its path added (``path``) and its head ("mse" when
    the record is older than the field).

    A record still saying "running" whose process no longer exists on this machine (killed with
    SIGKILL, or the machine restarted) is returned as "interrupted", with ``status_note`` saying
    when it was last alive.  A damaged record raises :class:`~deepcolor.files.DamagedFileError`
    naming its file.
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
    record.setdefault("head", "mse")  # written before classifiers existed
    record["path"] = str(run_dir)
    return record


def load_runs(runs_dir=None):
    """All runs under ``runs_dir`` as one pandas DataFrame, a row per run (notebook 08).

    Columns: run, arch, head ("mse" or "classify"), lr, batch_size, l2, epochs, status, loss,
    val_loss, accuracy, val_accuracy (last epoch), best_val_accuracy, embedding_mode, profile, data_source,
    n_train, wall_time_s, last_alive, path.  A run whose process was killed shows as
    "interrupted" (see :func:`load_run`); a folder with a damaged run record is left out with a
    warning naming its file.
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
            "run": rec_path.parent.name, "arch": cfg["arch"], "head": recorded_head(rec)["head"], "lr": cfg["lr"],
            "batch_size": cfg["batch_size"], "l2": cfg["l2"], "epochs": len(rec["epochs"]), "status": rec["status"],
            "loss": last.get("loss"), "val_loss": last.get("val_loss"), "accuracy": last.get("accuracy"),
            "val_accuracy": last.get("val_accuracy"), "best_val_accuracy": max(vals) if vals else None,
            "embedding_mode": rec["embedding_mode"], "profile": rec["profile"],
            "data_source": rec["data"]["source"], "n_train": rec["data"]["n_train"],
            "wall_time_s": rec["wall_time_s"], "last_alive": rec.get("heartbeat"), "path": rec["path"],
        })
    return pd.DataFrame(rows)


def layer_table_hash(arch: str) -> str:
    """A short hash of the layer table ``arch`` is built from (:data:`deepcolor.paper.TABLES`): a run
    is reused only by a model defined the same way, so editing an architecture means new runs."""
    from .paper import TABLES, check_architecture

    check_architecture(arch)
    return hashlib.sha256(repr(TABLES[arch]).encode()).hexdigest()[:12]


def split_hash(train_idx, val_idx) -> str:
    """A short hash of the training and validation images of a split: a run is reused only for the
    split it was trained on, so that no reused model has seen the test images."""
    import numpy as np

    parts = [np.asarray(part, np.int64).tobytes() for part in (train_idx, () if val_idx is None else val_idx)]
    return hashlib.sha256(b"|".join(parts)).hexdigest()[:12]


def same_setting(record: dict, config, dataset, embedding_mode: str, profile: str, split=None,
                 head=None) -> bool:
    """Whether a run record was made with exactly this config (a :class:`deepcolor.train.TrainConfig`),
    the same head (None: MSE; a classifier's whole setting, :func:`head_fields`), the same model
    definition (:func:`layer_table_hash`), data, embedding mode and profile, in Keras' current
    precision (``DEEPCOLOR_PRECISION``; records without one are float32), and, when ``split``
    (train, val, ...) is given, on the same training and validation images."""
    import keras

    fingerprint = json.loads(json.dumps(dataset.fingerprint()))
    return (record["config"] == asdict(config) and recorded_head(record) == head_fields(head)
            and record.get("precision", "float32") == keras.config.dtype_policy().name
            and record["embedding_mode"] == embedding_mode
            and record["profile"] == profile and record["data"]["fingerprint"] == fingerprint
            and record.get("layer_table") == layer_table_hash(config.arch)
            and (split is None or record["data"].get("split") == split_hash(split[0], split[1])))


def find_run(config, dataset, embedding_mode: str, profile: str, runs_dir=None, split=None,
             head=None) -> Path | None:
    """The newest completed run folder under ``runs_dir`` with a final model and exactly this
    setting (:func:`same_setting`, ``split`` and ``head`` included; head None is the MSE head);
    None when there is none (damaged runs never count)."""
    for rec_path in sorted(Path(runs_dir or default_runs_dir()).glob(f"*/{RECORD}"), reverse=True):
        try:
            rec = load_run(rec_path.parent)
        except DamagedFileError:
            continue  # a damaged record is never reused
        if (rec["status"] == "completed" and (rec_path.parent / FINAL_MODEL).is_file()
                and same_setting(rec, config, dataset, embedding_mode, profile, split, head)):
            return rec_path.parent
    return None


def record_beside(model_path) -> dict | None:
    """The run record beside ``model_path`` (a run folder's model file), as written; None when
    there is none or it is not a JSON object.  A damaged record raises
    :class:`~deepcolor.files.DamagedFileError`."""
    path = Path(model_path).with_name(RECORD)
    if not path.is_file():
        return None
    record = read_json(path, "the run record")
    return record if isinstance(record, dict) else None


def recorded_embedding_mode(model_path) -> str | None:
    """The embedding mode in the run record beside ``model_path`` (a run folder's model file),
    as written (any string); None when there is no record there or it names none (notebook 10,
    ``deepcolor colorize``).  A damaged record raises :class:`~deepcolor.files.DamagedFileError`."""
    record = record_beside(model_path)
    return None if record is None else record.get("embedding_mode")


def write_study_eval(run_dir, split_key: str, accuracies: dict) -> Path:
    """Save the study's accuracies of one run into its folder (:func:`deepcolor.lessons.hyperparameter_study.run_study`,
    notebook 08): ``{"split": split_key, "val": [accuracy, constant], "test": [...]}``, fractions in
    [0, 1] (a NaN accuracy is written as null).  Returns the file's path."""
    return write_json(Path(run_dir) / EVAL_FILE, {"split": split_key, **accuracies})


def read_study_eval(run_dir) -> dict:
    """The study's accuracies saved by :func:`write_study_eval`, with null read back as NaN.
    A missing file raises FileNotFoundError, a damaged one :class:`~deepcolor.files.DamagedFileError`."""
    saved = read_json(Path(run_dir) / EVAL_FILE, "the study's accuracies of this run")
    if not isinstance(saved, dict):
        raise DamagedFileError(f"{Path(run_dir) / EVAL_FILE} is damaged: it is not a study evaluation; delete it")
    nan = float("nan")
    return {k: [nan if v is None else v for v in vals] if isinstance(vals, list) else vals
            for k, vals in saved.items()}


def write_evaluation(run_dir, key: dict, rows: dict, part: str = "test") -> Path:
    """Save a table of metrics of the run's final model on the split's ``part``, "test" or "test_seen", as
    ``{part}_eval.json`` (:func:`deepcolor.evaluation.evaluate_run`, notebooks 04-11): ``{"key": key, "rows":
    {predictor: {column: value}}}``, key (JSON values) saying what it was measured on; NaN as null.  Returns the path."""
    return write_json(Path(run_dir) / f"{part}_eval.json", {"key": key, "rows": rows})


def read_evaluation(run_dir, part: str = "test") -> tuple[dict, dict]:
    """``(key, rows)`` saved by :func:`write_evaluation` for ``part``, with null read back as NaN.  A missing
    file raises FileNotFoundError, a damaged one :class:`~deepcolor.files.DamagedFileError`."""
    path = Path(run_dir) / f"{part}_eval.json"
    saved = read_json(path, "the saved test results of this run")
    if not (isinstance(saved, dict) and isinstance(saved.get("key"), dict) and isinstance(saved.get("rows"), dict)
            and all(isinstance(row, dict) for row in saved["rows"].values())):
        raise DamagedFileError(f"{path} is damaged: it is not a saved evaluation; delete it")
    nan = float("nan")
    rows = {name: {col: nan if v is None else v for col, v in row.items()} for name, row in saved["rows"].items()}
    return saved["key"], rows


def study_evaluated(runs_dir=None) -> list[Path]:
    """The run folders under ``runs_dir`` that hold study accuracies, newest first."""
    return [p.parent for p in sorted(Path(runs_dir or default_runs_dir()).glob(f"*/{EVAL_FILE}"), reverse=True)]
