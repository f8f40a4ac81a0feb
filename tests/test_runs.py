"""deepcolor.runs: what a run folder holds and how it is read back: :class:`~deepcolor.runs.Run`
(made, opened, found, resumed, written), the run table, heartbeats and dead processes, and the
measurements a run keeps (:meth:`~deepcolor.runs.Run.cached`).

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
from test_bad_input import read_only  # noqa: F401 (a fixture)

from deepcolor import data, runs
from deepcolor.files import DamagedFileError
from deepcolor.fingerprints import data_fingerprint, layer_table_hash, split_hash
from deepcolor.heads import ClassifierHead, Head
from deepcolor.run_table import load_runs
from deepcolor.runs import CHECKPOINT, FINAL_MODEL, RECORD, Run, history_of
from deepcolor.train import TrainConfig, train

CONFIG = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=2, input_size=16)


@pytest.fixture(scope="module")
def finished(small, tmp_path_factory):
    """(run, runs_dir): one completed run of CONFIG (embeddings "none", profile "test")."""
    ds, emb, parts = small
    runs_dir = tmp_path_factory.mktemp("runs")
    run = train(ds, emb, parts.train, parts.val, CONFIG, embedding_mode="none", profile="test",
                runs_dir=runs_dir, verbose=0)
    return run, runs_dir


def copy_run(run_dir, dest, **changes):
    """A copy of the run folder ``run_dir`` at ``dest`` whose record has ``changes`` applied."""
    shutil.copytree(run_dir, dest)
    run = Run.open(dest)
    run.record.update(changes)
    run.write()
    return dest


def test_record_and_files(small, finished):
    import keras

    ds, emb, parts = small
    run, runs_dir = finished
    assert isinstance(run, Run) and run.path == run.run_dir and run.path.parent == runs_dir
    record = json.loads((run.path / RECORD).read_text())
    assert record["status"] == "completed" == run.status
    assert record["config"]["arch"] == "arch3" and record["config"]["epochs"] == 2
    assert record["head"] == "mse" and "classify" not in record and run.head == Head()
    assert record["embedding_mode"] == "none" and record["profile"] == "test"
    assert record["data"]["n_train"] == len(parts.train) and record["data"]["size"] == len(ds)
    assert record["data"]["n_val"] == len(parts.val) and record["data"]["split"] == split_hash(parts.train, parts.val)
    assert record["data"]["fingerprint"] == data_fingerprint(ds)
    assert record["layer_table"] == layer_table_hash("arch3") and record["precision"] == "float32"
    assert record["backend"] == keras.backend.backend() and record["replicas"] == 1
    assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
    assert [row["epoch"] for row in record["epochs"]] == [1, 2] and record["checkpoint_epoch"] == 2
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(record["epochs"][0])
    assert record["wall_time_s"] > 0
    assert (run.path / FINAL_MODEL).is_file() and (run.path / CHECKPOINT).is_file()
    assert FINAL_MODEL == "model.keras" and CHECKPOINT == "checkpoint.keras" and RECORD == "run.json"
    assert run.history == history_of(record) and len(run.history["loss"]) == 2
    table = load_runs(runs_dir)
    assert len(table) == 1 and table.loc[0, "status"] == "completed"
    assert table.loc[0, "val_accuracy"] == pytest.approx(record["epochs"][-1]["val_accuracy"])


def test_an_opened_run_gives_its_model_when_asked(finished):
    run, _ = finished
    opened = Run.open(run.path)
    assert opened.record["path"] == str(run.path) and opened.status == "completed"
    assert "completed" in repr(opened) and "MSE head" in repr(opened)
    for a, b in zip(opened.model.get_weights(), run.model.get_weights()):  # loaded from model.keras
        np.testing.assert_array_equal(a, b)
    assert opened.model is opened.model  # loaded once
    assert opened.load_model(CHECKPOINT).count_params() == run.model.count_params()


def test_a_missing_or_damaged_model_is_named(finished, tmp_path):
    run, _ = finished
    no_model = Run.open(copy_run(run.path, tmp_path / "no-model", status="interrupted"))
    (no_model.path / FINAL_MODEL).unlink()
    with pytest.raises(FileNotFoundError, match="status 'interrupted'"):
        no_model.model
    damaged = Run.open(copy_run(run.path, tmp_path / "damaged"))
    (damaged.path / FINAL_MODEL).write_bytes(b"PK\x03\x04 not a zip any more")
    with pytest.raises(DamagedFileError, match=f"{damaged.path / FINAL_MODEL} is damaged"):
        damaged.model


def test_load_runs_table_and_a_damaged_record_left_out(finished, tmp_path):
    run, _ = finished
    copy_run(run.path, tmp_path / "a")
    copy_run(run.path, tmp_path / "b", status="nan")
    (copy_run(run.path, tmp_path / "c") / RECORD).write_text('{"status": "comp')
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
        Run.open(tmp_path / "c")
    (tmp_path / "c" / RECORD).write_text("[1, 2]")  # valid JSON, but not a record
    with pytest.raises(DamagedFileError, match="not a run record"):
        Run.open(tmp_path / "c")
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        Run.open(tmp_path / "not-a-run")
    assert load_runs(tmp_path / "nothing here").empty


def test_find_finds_only_a_completed_run_of_the_same_setting(small, finished, tmp_path):
    ds, *_ = small
    run, _ = finished
    older = copy_run(run.path, tmp_path / "1-older")
    newer = copy_run(run.path, tmp_path / "2-newer")
    found = Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path)
    assert isinstance(found, Run) and found.path == newer  # the newest first
    assert Run.find(CONFIG, ds, "untrained", "test", runs_dir=tmp_path) is None  # other embeddings
    assert Run.find(CONFIG, ds, "none", "other", runs_dir=tmp_path) is None  # another profile
    assert Run.find(TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=3, input_size=16),
                    ds, "none", "test", runs_dir=tmp_path) is None  # another config
    assert Run.find(CONFIG, ds.subset(9), "none", "test", runs_dir=tmp_path) is None  # other data
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path, head="classify") is None  # another head
    # newer folders that must never be reused: not completed, no final model, a damaged record
    copy_run(run.path, tmp_path / "3-interrupted", status="interrupted")
    (copy_run(run.path, tmp_path / "4-no-model") / FINAL_MODEL).unlink()
    (copy_run(run.path, tmp_path / "5-damaged") / RECORD).write_text("{")
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path).path == newer
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path,
                    statuses=("interrupted",)).path == tmp_path / "3-interrupted"
    shutil.rmtree(newer)
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path).path == older
    assert Run.open(older).matches(CONFIG, ds, "none", "test")
    assert Run.open(older).matches(CONFIG, ds, "none", "test", head="mse")
    assert not Run.open(older).matches(CONFIG, ds, "none", "smoke")
    assert not Run.open(older).matches(CONFIG, ds, "none", "test", head=ClassifierHead(rebalance=False))


def test_find_and_load_runs_default_to_deepcolor_runs(finished, tmp_path, monkeypatch, small):
    ds, *_ = small
    run, _ = finished
    monkeypatch.setenv("DEEPCOLOR_RUNS", str(tmp_path))
    assert runs.default_runs_dir() == tmp_path
    assert Run.find(CONFIG, ds, "none", "test") is None and load_runs().empty
    copy_run(run.path, tmp_path / "run")
    assert Run.find(CONFIG, ds, "none", "test").path == tmp_path / "run" and len(load_runs()) == 1


def dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_running_record_whose_process_is_gone_is_interrupted(finished, tmp_path):
    run, _ = finished
    here = socket.gethostname()
    before = time.time()
    gone = copy_run(run.path, tmp_path / "gone", status="running", pid=dead_pid(), host=here)
    record = json.loads((gone / RECORD).read_text())
    assert record["status"] == "running"  # on disk, as the process left it
    assert before - 1 <= record["heartbeat_unix"] <= time.time() + 1  # Run.write stamps the heartbeat
    assert datetime.fromisoformat(record["heartbeat"]).timestamp() == pytest.approx(record["heartbeat_unix"], abs=1)
    assert "path" not in record and "status_note" not in record  # what Run.open adds is never written
    loaded = Run.open(gone)
    assert loaded.status == "interrupted" and loaded.record["path"] == str(gone)
    assert f"process {record['pid']} is gone" in loaded.record["status_note"]
    assert f"last alive at {record['heartbeat']}" in loaded.record["status_note"]
    alive = copy_run(run.path, tmp_path / "alive", status="running", pid=os.getpid(), host=here)
    assert Run.open(alive).status == "running"
    elsewhere = copy_run(run.path, tmp_path / "elsewhere", status="running", pid=dead_pid(),
                         host=here + "-another-machine")
    assert Run.open(elsewhere).status == "running"  # another machine's process: cannot tell
    table = load_runs(tmp_path).set_index("run")
    assert table.loc["gone", "status"] == "interrupted" and table.loc["gone", "last_alive"] == record["heartbeat"]


def test_a_running_run_refreshes_its_heartbeat_between_epochs(small, tmp_path, monkeypatch):
    import deepcolor.train as train_module

    ds, emb, parts = small
    written = []
    real_write = Run.write

    def spy(self):
        real_write(self)
        written.append(self.record["status"])

    monkeypatch.setattr(train_module, "HEARTBEAT_S", -1.0)  # every batch is late for a heartbeat
    monkeypatch.setattr(Run, "write", spy)
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


def new_run(small, **where):
    ds, _, parts = small
    return Run.new(CONFIG, None, ds, "none", "test", parts.train, parts.val, **where)


def test_a_new_run_is_refused_where_it_could_replace_something(small, finished, tmp_path):
    run, _ = finished
    with pytest.raises(FileExistsError, match="already holds a run.*resume=True"):
        new_run(small, run_dir=run.path)
    (tmp_path / "file").write_text("mine")
    with pytest.raises(FileExistsError, match="not a folder"):
        new_run(small, run_dir=tmp_path / "file")
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError, match="not a folder"):
        new_run(small, run_dir=tmp_path / "link")
    with pytest.raises(FileExistsError, match="not empty and holds no run"):
        new_run(small, run_dir=tmp_path)
    (tmp_path / "empty").mkdir()
    assert new_run(small, run_dir=tmp_path / "empty").path == tmp_path / "empty"
    made = new_run(small, run_dir=tmp_path / "new")
    assert made.status == "running" and made.record["epochs"] == [] and made.head == Head()
    assert not (tmp_path / "new").exists()  # nothing is written before it is held
    with made.hold():
        made.started()
    assert Run.open(tmp_path / "new").record["pid"] == os.getpid()


def test_resume_names_what_differs(small, finished, tmp_path):
    ds, *_ = small
    run, _ = finished
    longer = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=5, input_size=16)
    resumed = Run.resume(run.path, longer, ds, "none")  # more epochs: resumable
    assert isinstance(resumed, Run) and resumed.status == "completed" and "path" not in resumed.record
    with pytest.raises(ValueError, match="cannot resume .* started with"):
        Run.resume(run.path, TrainConfig(arch="arch3", lr=1e-2, input_size=16, batch_size=4), ds, "none")
    with pytest.raises(ValueError, match="trained on 12 images.*given now is 9 images"):
        Run.resume(run.path, CONFIG, ds.subset(9), "none")
    with pytest.raises(ValueError, match="--embeddings none"):
        Run.resume(run.path, CONFIG, ds, "untrained")
    with pytest.raises(ValueError, match='MSE head, not the classify head, not rebalanced.*head="mse"'):
        Run.resume(run.path, CONFIG, ds, "none", ClassifierHead(rebalance=False))
    with pytest.raises(FileNotFoundError, match=f"no run to resume .*expected {RECORD}"):
        Run.resume(tmp_path, CONFIG, ds, "none")
    with pytest.raises(FileNotFoundError, match="no run to resume"):
        Run.resume(None, CONFIG, ds, "none")


def test_a_new_run_folder_sorts_by_time_and_names_the_setting(small, tmp_path):
    ds, _, parts = small
    names = [Run.new(CONFIG, head, ds, "none", "test", parts.train, parts.val, runs_dir=tmp_path).path.name
             for head in (None, None, "classify", ClassifierHead(rebalance=False))]
    assert names == sorted(names) and names[0] != names[1]
    assert names[0].endswith("-arch3-lr0.001-b4-l20") and names[1].endswith("-arch3-lr0.001-b4-l20")
    assert names[2].endswith("-arch3-classify-rebalanced-lr0.001-b4-l20")
    assert names[3].endswith("-arch3-classify-lr0.001-b4-l20")
    assert not any(tmp_path.iterdir())


def test_recorded_embedding_mode(finished, tmp_path):
    run, _ = finished
    assert runs.recorded_embedding_mode(run.path / FINAL_MODEL) == "none"
    assert runs.record_beside(run.path / FINAL_MODEL)["config"]["arch"] == "arch3"
    assert runs.recorded_embedding_mode(tmp_path / FINAL_MODEL) is None  # no record there
    (tmp_path / RECORD).write_text(json.dumps({"embedding_mode": "unknown"}))
    assert runs.recorded_embedding_mode(tmp_path / FINAL_MODEL) == "unknown"  # as written
    (tmp_path / RECORD).write_text(json.dumps({"status": "running"}))
    assert runs.recorded_embedding_mode(tmp_path / FINAL_MODEL) is None
    (tmp_path / RECORD).write_text("[]")
    assert runs.record_beside(tmp_path / FINAL_MODEL) is None
    (tmp_path / RECORD).write_text("{")
    with pytest.raises(DamagedFileError, match="damaged"):
        runs.recorded_embedding_mode(tmp_path / FINAL_MODEL)


def test_a_measurement_is_kept_once_per_key(finished, tmp_path, read_only):
    """Run.cached: computed once and kept as NAME.json (strict JSON, NaN read back as NaN), computed
    again for another key or a damaged file; a folder that cannot be written gives the value with
    a warning."""
    run, _ = finished
    mine = Run.open(copy_run(run.path, tmp_path / "run"))
    calls = []

    def compute(value=None):
        calls.append(1)
        return value or {"val": [0.75, 0.5], "test": [float("nan"), 0.5]}

    first = mine.cached("study_eval", "key", compute)
    assert len(calls) == 1 and first["val"] == [0.75, 0.5] and math.isnan(first["test"][0])
    text = (mine.path / "study_eval.json").read_text()
    assert "NaN" not in text and json.loads(text) == {"key": "key", "value": {"val": [0.75, 0.5], "test": [None, 0.5]}}
    again = Run.open(mine.path).cached("study_eval", "key", lambda: pytest.fail("measured again"))
    assert again["val"] == [0.75, 0.5] and math.isnan(again["test"][0]) and again["test"][1] == 0.5
    kept = mine.kept("study_eval", "key")
    assert kept["val"] == [0.75, 0.5] and math.isnan(kept["test"][0])
    assert mine.kept("study_eval", "another key") is None and mine.kept("test_eval", "key") is None

    other = mine.cached("study_eval", "another key", lambda: compute({"val": [0.5, 0.5], "test": [0.5, 0.5]}))
    assert len(calls) == 2 and other["val"] == [0.5, 0.5]
    assert mine.kept("study_eval", "key") is None  # one value a name: the newest
    key = {"format": 1, "images": "abc", "train": None}  # a key of JSON values, as evaluate_run's
    mine.cached("test_eval", key, lambda: {"model": {"accuracy": 0.6}})
    assert mine.kept("test_eval", dict(key)) == {"model": {"accuracy": 0.6}}
    assert mine.kept("test_eval", {**key, "train": "def"}) is None

    for damaged in ('{"key": "another key", "val', "[]", '{"key": "another key"}', '{"value": 1}'):
        (mine.path / "study_eval.json").write_text(damaged)
        assert mine.kept("study_eval", "another key") is None
        assert mine.cached("study_eval", "another key", lambda: compute({"val": [1.0, 0.5]})) == {"val": [1.0, 0.5]}
        assert json.loads((mine.path / "study_eval.json").read_text())["value"] == {"val": [1.0, 0.5]}
    assert len(calls) == 2 + 4

    before = sorted(p.name for p in mine.path.iterdir())
    read_only(mine.path)
    with pytest.warns(UserWarning, match="could not be kept there.*measured again next time"):
        value = mine.cached("test_seen_eval", "key", lambda: compute({"model": {"ssim": float("nan")}}))
    assert math.isnan(value["model"]["ssim"]) and len(calls) == 7
    assert sorted(p.name for p in mine.path.iterdir()) == before  # nothing written, no temporary file left
    assert mine.kept("test_seen_eval", "key") is None


def test_find_a_run_by_what_it_has_kept(small, finished, tmp_path):
    """With ``cached``, a run is found by its kept measurement, a diverged one too, without a model."""
    ds, *_ = small
    run, _ = finished
    measured = Run.open(copy_run(run.path, tmp_path / "1-diverged", status="nan"))
    (measured.path / FINAL_MODEL).unlink()
    measured.cached("study_eval", "key", lambda: {"val": [float("nan"), 0.5]})
    copy_run(run.path, tmp_path / "2-not-measured")
    found = Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path, statuses=("completed", "nan"),
                     cached=("study_eval", "key"))
    assert found.path == measured.path and found.status == "nan"
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path, statuses=("completed", "nan"),
                    cached=("study_eval", "other key")) is None
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path, cached=("study_eval", "key")) is None  # not "nan"
    assert Run.find(CONFIG, ds, "none", "other", runs_dir=tmp_path, statuses=("completed", "nan"),
                    cached=("study_eval", "key")) is None  # another setting


def test_the_run_folder_layout_needs_no_keras(finished, tmp_path):
    run, _ = finished
    copy_run(run.path, tmp_path / "run")
    code = ("import sys; from deepcolor import run_table, runs; run_table.load_runs(sys.argv[1]);"
            "run = runs.Run.open(sys.argv[1] + '/run'); run.history, run.head.describe(), run.kept('study_eval', 'k');"
            "print([m for m in ('keras', 'tensorflow') if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def edited_arch3(paper) -> dict:
    """paper.TABLES["arch3"] with 32 filters, not 64, in its first layer."""
    first, *rest = paper.TABLES["arch3"]["encoder"]
    assert first == ("conv", 64, 3, 2)
    return {**paper.TABLES["arch3"], "encoder": (("conv", 32, 3, 2), *rest)}


def test_a_changed_layer_table_or_split_is_never_reused(small, finished, tmp_path, monkeypatch):
    """An instructor who edits an architecture gets a new run, and a run is reused only on the
    split it was trained on (so a reused model has never seen the test images)."""
    from deepcolor import paper

    ds, _, parts = small
    run, _ = finished
    copy = copy_run(run.path, tmp_path / "run")
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path, split=parts).path == copy
    other = data.split(len(ds), seed=1)
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path, split=other) is None

    monkeypatch.setitem(paper.TABLES, "arch3", edited_arch3(paper))
    assert layer_table_hash("arch3") != Run.open(copy).record["layer_table"]
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path) is None
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path, split=parts) is None


def test_a_replaced_layer_table_is_never_reused(small, finished, tmp_path, monkeypatch):
    from deepcolor import paper

    ds, _, parts = small
    run, _ = finished
    copy_run(run.path, tmp_path / "run")
    monkeypatch.setattr(paper, "TABLES", {**paper.TABLES, "arch3": edited_arch3(paper)})
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path, split=parts) is None


def test_a_record_older_than_the_head_field_is_an_mse_run(small, finished, tmp_path):
    """Records written before classifiers existed have no "head": they load, and are reused, as MSE runs,
    and never as a classifier."""
    ds, *_ = small
    run, _ = finished
    old = copy_run(run.path, tmp_path / "old")
    record = json.loads((old / RECORD).read_text())
    del record["head"]
    (old / RECORD).write_text(json.dumps(record))
    assert Run.open(old).record["head"] == "mse" and Run.open(old).head == Head()
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path).path == old
    assert Run.find(CONFIG, ds, "none", "test", runs_dir=tmp_path, head=ClassifierHead()) is None
    assert Run.resume(old, CONFIG, ds, "none").record["head"] == "mse"
    with pytest.raises(ValueError, match="MSE head, not the classify head"):
        Run.resume(old, CONFIG, ds, "none", ClassifierHead())
    assert list(load_runs(tmp_path)["head"]) == ["mse"]
