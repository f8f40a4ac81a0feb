"""All the runs of a folder as one table (notebook ``08_hyperparameter_study``).

Each row is a :class:`deepcolor.runs.Run`'s record in a few columns: what it trained, how it
ended, and its last and best accuracies.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .files import DamagedFileError
from .runs import RECORD, Run, default_runs_dir


def load_runs(runs_dir=None):
    """All runs under ``runs_dir`` as one pandas DataFrame, a row per run (notebook 08).

    Columns: run, arch, head ("mse" or "classify"), lr, batch_size, l2, epochs, status, loss,
    val_loss, accuracy, val_accuracy (last epoch), best_val_accuracy, embedding_mode, profile, data_source,
    n_train, wall_time_s, last_alive, path.  A run whose process was killed shows as
    "interrupted" (see :meth:`deepcolor.runs.Run.open`); a folder with a damaged run record is left out with a
    warning naming its file.
    """
    import pandas as pd

    rows = []
    for rec_path in sorted(Path(runs_dir or default_runs_dir()).glob(f"*/{RECORD}")):
        try:
            rec = Run.open(rec_path.parent).record
        except DamagedFileError as exc:
            warnings.warn(f"left out of the table: {exc}", stacklevel=2)
            continue
        last = rec["epochs"][-1] if rec["epochs"] else {}
        vals = [row["val_accuracy"] for row in rec["epochs"] if row.get("val_accuracy") is not None]
        cfg = rec["config"]
        rows.append({
            "run": rec_path.parent.name, "arch": cfg["arch"], "head": rec["head"], "lr": cfg["lr"],
            "batch_size": cfg["batch_size"], "l2": cfg["l2"], "epochs": len(rec["epochs"]), "status": rec["status"],
            "loss": last.get("loss"), "val_loss": last.get("val_loss"), "accuracy": last.get("accuracy"),
            "val_accuracy": last.get("val_accuracy"), "best_val_accuracy": max(vals) if vals else None,
            "embedding_mode": rec["embedding_mode"], "profile": rec["profile"],
            "data_source": rec["data"]["source"], "n_train": rec["data"]["n_train"],
            "wall_time_s": rec["wall_time_s"], "last_alive": rec.get("heartbeat"), "path": rec["path"],
        })
    return pd.DataFrame(rows)
