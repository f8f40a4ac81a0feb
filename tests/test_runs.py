"""deepcolor.runs: what a run folder holds and how it is read back: records, run tables,
find_run, heartbeats and dead processes, resume checks, the study's accuracies file.

One tiny run is trained once for the module (``finished``); the other folders are copies of it
with one thing changed, so every record here is one :func:`deepcolor.train.train` really wrote.
"""

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime

import numpy as np
import pytest

from deepcolor import data, runs
from deepcolor.files import DamagedFileError
from deepcolor.runs import CHECKPOINT, FINAL_MODEL, RECORD, find_run, history_of, load_run, load_runs
from deepcolor.train import TrainConfig, train

CONFIG = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=2, input_size=16)


@pytest.fixture(scope="module")
def small(sample_ds):
    """The sample's first 12 images, a split, and zero embeddings (no Inception-ResNet build)."""
    ds = sample_ds.subset(12)
    return ds, np.zeros((len(ds), 1000), np.float32), data.split(len(ds))


@pytest.fixture(scope="module")
def finished(small, tmp_path_factory):
    """(result, runs_dir): one completed run of CONFIG (embeddings "none", profile "test")."""
    ds, emb, parts = small
    runs_dir = tmp_path_factory.mktemp("runs")
    result = train(ds, emb, parts.train, parts.val, CONFIG, embedding_mode="none", profile="test",
                   runs_dir=runs_dir, verbose=0)
    return result, runs_dir


def copy_run(run_dir, dest, **changes):
    """A copy of the run folder ``run_dir`` at ``dest`` whose record has ``changes`` applied."""
    shutil.copytree(run_dir, dest)
    record = json.loads((dest / RECORD).read_text())
    record.update(changes)
    runs.write_record(dest, record)
    return dest


def test_record_and_files(small, finished):
    ds, emb, parts = small
    result, runs_dir = finished
    record = json.loads((result.run_dir / RECORD).read_text())
    assert result.run_dir.parent == runs_dir
    assert record["status"] == "completed"
    assert record["config"]["arch"] == "arch3" and record["config"]["epochs"] == 2
    assert record["embedding_mode"] == "none" and record["profile"] == "test"
    assert record["data"]["n_train"] == len(parts.train) and record["data"]["size"] == len(ds)
    assert [row["epoch"] for row in record["epochs"]] == [1, 2]
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(record["epochs"][0])
    assert record["wall_time_s"] > 0
    assert (result.run_dir / FINAL_MODEL).is_file() and (result.run_dir / CHECKPOINT).is_file()
    assert FINAL_MODEL == "model.keras" and CHECKPOINT == "checkpoint.keras"
    table = load_runs(runs_dir)
    assert len(table) == 1 and table.loc[0, "status"] == "completed"
    assert table.loc[0, "val_accuracy"] == pytest.approx(record["epochs"][-1]["val_accuracy"])


def test_load_runs_table_and_a_damaged_record_left_out(finished, tmp_path):
    result, _ = finished
    copy_run(result.run_dir, tmp_path / "a")
    copy_run(result.run_dir, tmp_path / "b", status="nan")
    (copy_run(result.run_dir, tmp_path / "c") / RECORD).write_text('{"status": "comp')
    (tmp_path / "not-a-run").mkdir()
    with pytest.warns(UserWarning, match=f"c/{RECORD} is damaged"):
        table = load_runs(tmp_path)
    assert list(table["run"]) == ["a", "b"] and list(table["status"]) == ["completed", "nan"]
    assert list(table.columns) == [
        "run", "arch", "head", "lr", "batch_size", "l2", "epochs", "status", "loss", "val_loss", "accuracy",
        "val_accuracy", "best_val_accuracy", "embedding_mode", "profile", "data_source", "n_train",
        "wall_time_s", "last_alive", "path"]
    assert table.loc[0, "path"] == str(tmp_path / "a") and table.loc[0, "embedding_mode"] == "none"
    assert list(table["head"]) == ["mse", "mse"]
    with pytest.raises(DamagedFileError, match="damaged"):
        load_run(tmp_path / "c")
    (tmp_path / "c" / RECORD).write_text("[1, 2]")  # valid JSON, but not a record
    with pytest.raises(DamagedFileError, match="not a run record"):
        load_run(tmp_path / "c")
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        load_run(tmp_path / "not-a-run")
    assert load_runs(tmp_path / "nothing here").empty


def test_find_run_finds_only_a_completed_run_of_the_same_setting(small, finished, tmp_path):
    ds, *_ = small
    result, _ = finished
    older = copy_run(result.run_dir, tmp_path / "1-older")
    newer = copy_run(result.run_dir, tmp_path / "2-newer")
    assert find_run(CONFIG, ds, "none", "test", tmp_path) == newer  # the newest first
    assert find_run(CONFIG, ds, "untrained", "test", tmp_path) is None  # other embeddings
    assert find_run(CONFIG, ds, "none", "other", tmp_path) is None  # another profile
    assert find_run(TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=3, input_size=16),
                    ds, "none", "test", tmp_path) is None  # another config
    assert find_run(CONFIG, ds.subset(9), "none", "test", tmp_path) is None  # other data
    # newer folders that must never be reused: not completed, no final model, a damaged record
    copy_run(result.run_dir, tmp_path / "3-interrupted", status="interrupted")
    (copy_run(result.run_dir, tmp_path / "4-no-model") / FINAL_MODEL).unlink()
    (copy_run(result.run_dir, tmp_path / "5-damaged") / RECORD).write_text("{")
    assert find_run(CONFIG, ds, "none", "test", tmp_path) == newer
    shutil.rmtree(newer)
    assert find_run(CONFIG, ds, "none", "test", tmp_path) == older
    assert runs.same_setting(load_run(older), CONFIG, ds, "none", "test")
    assert not runs.same_setting(load_run(older), CONFIG, ds, "none", "smoke")


def test_find_run_and_load_runs_default_to_deepcolor_runs(finished, tmp_path, monkeypatch, small):
    ds, *_ = small
    result, _ = finished
    monkeypatch.setenv("DEEPCOLOR_RUNS", str(tmp_path))
    assert runs.default_runs_dir() == tmp_path
    assert find_run(CONFIG, ds, "none", "test") is None and load_runs().empty
    copy_run(result.run_dir, tmp_path / "run")
    assert find_run(CONFIG, ds, "none", "test") == tmp_path / "run" and len(load_runs()) == 1


def dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_running_record_whose_process_is_gone_is_interrupted(finished, tmp_path):
    result, _ = finished
    here = socket.gethostname()
    before = time.time()
    gone = copy_run(result.run_dir, tmp_path / "gone", status="running", pid=dead_pid(), host=here)
    record = json.loads((gone / RECORD).read_text())
    assert record["status"] == "running"  # on disk, as the process left it
    assert before - 1 <= record["heartbeat_unix"] <= time.time() + 1  # write_record stamps the heartbeat
    assert datetime.fromisoformat(record["heartbeat"]).timestamp() == pytest.approx(record["heartbeat_unix"], abs=1)
    loaded = load_run(gone)
    assert loaded["status"] == "interrupted" and loaded["path"] == str(gone)
    assert f"process {record['pid']} is gone" in loaded["status_note"]
    assert f"last alive at {record['heartbeat']}" in loaded["status_note"]
    alive = copy_run(result.run_dir, tmp_path / "alive", status="running", pid=os.getpid(), host=here)
    assert load_run(alive)["status"] == "running"
    elsewhere = copy_run(result.run_dir, tmp_path / "elsewhere", status="running", pid=dead_pid(),
                         host=here + "-another-machine")
    assert load_run(elsewhere)["status"] == "running"  # another machine's process: cannot tell
    table = load_runs(tmp_path).set_index("run")
    assert table.loc["gone", "status"] == "interrupted" and table.loc["gone", "last_alive"] == record["heartbeat"]


def test_a_running_run_refreshes_its_heartbeat_between_epochs(small, tmp_path, monkeypatch):
    import deepcolor.train as train_module

    ds, emb, parts = small
    written = []

    def spy(run_dir, record):
        runs.write_record(run_dir, record)
        written.append(record["status"])

    monkeypatch.setattr(train_module, "HEARTBEAT_S", -1.0)  # every batch is late for a heartbeat
    monkeypatch.setattr(train_module, "write_record", spy)
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=2, epochs=1, input_size=16)
    train(ds, emb, parts.train, None, config, runs_dir=tmp_path, verbose=0)
    batches = math.ceil(len(parts.train) / 2)
    # the start, a heartbeat after every batch, the epoch's end (running), then the end of the run
    assert written.count("running") >= 1 + batches + 1 and written[-1] == "completed"


def test_history_of_reads_null_back_as_nan():
    record = {"epochs": [{"epoch": 1, "loss": 0.5, "val_loss": None}, {"epoch": 2, "loss": 0.25}]}
    history = history_of(record)
    assert set(history) == {"loss", "val_loss"} and history["loss"] == [0.5, 0.25]
    assert all(math.isnan(v) for v in history["val_loss"])  # null, and missing, are NaN
    assert history_of({"epochs": []}) == {}


def test_a_new_run_is_refused_where_it_could_replace_something(finished, tmp_path):
    result, _ = finished
    with pytest.raises(FileExistsError, match="already holds a run"):
        runs.check_new_run_dir(result.run_dir)
    (tmp_path / "file").write_text("mine")
    with pytest.raises(FileExistsError, match="not a folder"):
        runs.check_new_run_dir(tmp_path / "file")
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError, match="not a folder"):
        runs.check_new_run_dir(tmp_path / "link")
    with pytest.raises(FileExistsError, match="not empty and holds no run"):
        runs.check_new_run_dir(tmp_path)
    (tmp_path / "empty").mkdir()
    runs.check_new_run_dir(tmp_path / "empty")
    runs.check_new_run_dir(tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_check_resume_names_what_differs(small, finished, tmp_path):
    ds, *_ = small
    result, _ = finished
    longer = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=5, input_size=16)
    record = runs.check_resume(result.run_dir, longer, ds, "none")  # more epochs: resumable
    assert record["status"] == "completed" and "path" not in record
    with pytest.raises(ValueError, match="cannot resume .* started with"):
        runs.check_resume(result.run_dir, TrainConfig(arch="arch3", lr=1e-2, input_size=16, batch_size=4), ds, "none")
    with pytest.raises(ValueError, match="trained on 12 images.*given now is 9 images"):
        runs.check_resume(result.run_dir, CONFIG, ds.subset(9), "none")
    with pytest.raises(ValueError, match="--embeddings none"):
        runs.check_resume(result.run_dir, CONFIG, ds, "untrained")
    with pytest.raises(FileNotFoundError, match=f"no run to resume .*expected {RECORD}"):
        runs.check_resume(tmp_path, CONFIG, ds, "none")
    with pytest.raises(FileNotFoundError, match="no run to resume"):
        runs.check_resume(None, CONFIG, ds, "none")


def test_run_name_sorts_by_time_and_names_the_setting():
    first, second = runs.run_name(CONFIG), runs.run_name(CONFIG)
    assert first < second and first.endswith("-arch3-lr0.001-b4-l20")


def test_recorded_embedding_mode(finished, tmp_path):
    result, _ = finished
    assert runs.recorded_embedding_mode(result.run_dir / FINAL_MODEL) == "none"
    assert runs.recorded_embedding_mode(tmp_path / FINAL_MODEL) is None  # no record there
    (tmp_path / RECORD).write_text(json.dumps({"embedding_mode": "unknown"}))
    assert runs.recorded_embedding_mode(tmp_path / FINAL_MODEL) == "unknown"  # as written
    (tmp_path / RECORD).write_text(json.dumps({"status": "running"}))
    assert runs.recorded_embedding_mode(tmp_path / FINAL_MODEL) is None
    (tmp_path / RECORD).write_text("{")
    with pytest.raises(DamagedFileError, match="damaged"):
        runs.recorded_embedding_mode(tmp_path / FINAL_MODEL)


def test_study_accuracies_round_trip_with_nan(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    runs.write_study_eval(tmp_path / "a", "key", {"val": [0.75, 0.5], "test": [float("nan"), 0.5]})
    runs.write_study_eval(tmp_path / "b", "key", {"val": [0.5, 0.5], "test": [0.5, 0.5]})
    assert "NaN" not in (tmp_path / "a" / runs.EVAL_FILE).read_text()  # strict JSON
    saved = runs.read_study_eval(tmp_path / "a")
    assert saved["split"] == "key" and saved["val"] == [0.75, 0.5]
    assert math.isnan(saved["test"][0]) and saved["test"][1] == 0.5
    assert runs.study_evaluated(tmp_path) == [tmp_path / "b", tmp_path / "a"]  # newest name first
    with pytest.raises(FileNotFoundError):
        runs.read_study_eval(tmp_path / "c")
    (tmp_path / "c" / runs.EVAL_FILE).write_text("[]")
    with pytest.raises(DamagedFileError, match="not a study evaluation"):
        runs.read_study_eval(tmp_path / "c")


def test_a_saved_evaluation_round_trips_with_nan_and_a_damaged_one_is_named(tmp_path):
    key = {"format": 1, "images": "abc", "train": None}
    rows = {"model": {"accuracy": 0.6, "ssim": float("nan"), "images": 2, "note": ""}}
    runs.write_evaluation(tmp_path, key, rows)
    assert "NaN" not in (tmp_path / runs.EVALUATION_FILE).read_text()  # strict JSON
    saved_key, saved_rows = runs.read_evaluation(tmp_path)
    assert saved_key == key and saved_rows["model"]["accuracy"] == 0.6 and saved_rows["model"]["images"] == 2
    assert math.isnan(saved_rows["model"]["ssim"])
    for damaged in ('{"key": {}, "rows": []}', '{"rows": {}}', '[]', '{"key": {}, "rows": {"model": 1}}'):
        (tmp_path / runs.EVALUATION_FILE).write_text(damaged)
        with pytest.raises(DamagedFileError, match="not a saved evaluation"):
            runs.read_evaluation(tmp_path)
    with pytest.raises(FileNotFoundError):
        runs.read_evaluation(tmp_path / "nowhere")
    runs.write_evaluation(tmp_path, key, rows, part="test_seen")  # the other test set: a file of its own
    assert (tmp_path / "test_seen_eval.json").is_file()
    assert runs.read_evaluation(tmp_path, "test_seen")[1]["model"]["accuracy"] == 0.6


def test_the_run_folder_layout_needs_no_keras(tmp_path):
    code = ("import sys; from deepcolor import runs; runs.load_runs(sys.argv[1]); runs.study_evaluated(sys.argv[1]);"
            "print([m for m in ('keras', 'tensorflow') if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_a_changed_layer_table_or_split_is_never_reused(small, finished, tmp_path, monkeypatch):
    """An instructor who edits an architecture gets a new run, and a run is reused only on the
    split it was trained on (so a reused model has never seen the test images)."""
    from deepcolor import paper

    ds, _, parts = small
    result, _ = finished
    copy = copy_run(result.run_dir, tmp_path / "run")
    assert find_run(CONFIG, ds, "none", "test", tmp_path, split=parts) == copy
    other = data.split(len(ds), seed=1)
    assert find_run(CONFIG, ds, "none", "test", tmp_path, split=other) is None

    edited = dict(paper.TABLES)
    first, *rest = paper.TABLES["arch3"]["encoder"]
    edited["arch3"] = {**paper.TABLES["arch3"], "encoder": (("conv", 32, 3, 2), *rest)}  # 32 filters, not 64
    assert first == ("conv", 64, 3, 2)
    monkeypatch.setattr(paper, "TABLES", edited)
    assert runs.layer_table_hash("arch3") != load_run(copy)["layer_table"]
    assert find_run(CONFIG, ds, "none", "test", tmp_path) is None
    assert find_run(CONFIG, ds, "none", "test", tmp_path, split=parts) is None


def test_a_record_older_than_the_head_field_is_an_mse_run(small, finished, tmp_path):
    """Records written before classifiers existed have no "head": they load, and are reused, as MSE runs,
    and never as a classifier."""
    from deepcolor.classify import ClassifierHead

    ds, *_ = small
    result, _ = finished
    old = copy_run(result.run_dir, tmp_path / "old")
    record = json.loads((old / RECORD).read_text())
    del record["head"]
    (old / RECORD).write_text(json.dumps(record))
    assert load_run(old)["head"] == "mse"
    assert find_run(CONFIG, ds, "none", "test", tmp_path) == old
    assert find_run(CONFIG, ds, "none", "test", tmp_path, head=ClassifierHead()) is None
    assert runs.check_resume(old, CONFIG, ds, "none")["head"] == "mse"
    with pytest.raises(ValueError, match="MSE head, not the classify head"):
        runs.check_resume(old, CONFIG, ds, "none", ClassifierHead())
