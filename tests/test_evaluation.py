"""Tests of deepcolor.evaluation: a model and the baselines on a dataset, the study's accuracies,
and a run's table kept in its folder (the tables of both test sets and of every architecture:
tests/test_comparison.py).

Fake models (an oracle, a constant) make the expected numbers known; the tables of trained runs
use tiny models (input 16, one epoch, 12 random 32x32 images) trained once in a private runs folder.
"""

import json
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lab_checks import random_lab_dataset

from test_bad_input import read_only  # noqa: F401 (a fixture)

from deepcolor import config, data, evaluation, metrics
from deepcolor.data import LabDataset
from deepcolor.runs import FINAL_MODEL, Run


def _random_lab(n=4, size=32, seed=0):
    rng = np.random.default_rng(seed)
    L = rng.uniform(20, 90, (n, size, size)).astype(np.float32)
    ab = rng.uniform(-60, 60, (n, size, size, 2)).astype(np.float32)
    return L, ab


# --- evaluate a model on a dataset ---------------------------------------------------------------

class _Input:
    def __init__(self, side):
        self.shape = (None, side, side, 1)


class OracleModel:
    """Predicts the true ab of image i (read from the dataset); embeddings carry i in column 0."""

    def __init__(self, dataset, side):
        self.dataset, self.inputs, self.seen = dataset, [_Input(side)], []

    def predict(self, inputs, verbose=0):
        x, emb = inputs
        self.seen.append(x.shape)
        _, ab = self.dataset.batch(emb[:, 0].astype(int))
        return ab / 128.0


class ConstantModel:
    """Outputs the same ab / 128 at every pixel, at its own input size."""

    def __init__(self, side, ab_scaled):
        self.inputs, self.ab_scaled, self.seen = [_Input(side)], np.float32(ab_scaled), []

    def predict(self, inputs, verbose=0):
        x, _ = inputs
        self.seen.append((x.shape, float(x.min()), float(x.max())))
        return np.broadcast_to(self.ab_scaled, x.shape[:3] + (2,)).copy()


def _dataset(n=7, size=32, seed=1):
    """(ds, emb): ``n`` random images; each test that counts what is measured has a seed of its own,
    so that nothing of its dataset was measured before in the session."""
    L, ab = _random_lab(n=n, size=size, seed=seed)
    ds = LabDataset.from_arrays(L, ab)
    emb = np.zeros((n, 1000), np.float32)
    emb[:, 0] = np.arange(n)
    return ds, emb


def test_evaluate_perfect_model_and_baselines():
    ds, emb = _dataset()
    test_idx, train_idx = np.array([5, 0, 3, 6, 1]), np.array([2, 4])
    table = evaluation.evaluate(OracleModel(ds, 32), ds, test_idx, emb, train_indices=train_idx, batch_size=2)
    assert list(table.index) == ["model", "gray baseline", "mean-ab baseline"]
    assert set(metrics.METRICS) <= set(table.columns) and (table["images"] == 5).all()
    model = table.loc["model"]
    assert (model["accuracy"], model["ab_mse"], model["auc"]) == (1.0, 0.0, 1.0)
    assert model["psnr"] == metrics.PSNR_CAP_DB and model["ssim"] == pytest.approx(1.0)

    L, ab = ds.batch(test_idx)
    gray = table.loc["gray baseline"]
    assert gray["colourfulness_pred"] == pytest.approx(0.0, abs=0.05)
    for key, value in metrics.evaluate_predictions(L, ab, np.zeros_like(ab)).items():
        if key != "rebalanced_auc":  # evaluate weighs colours by the training images', not the test images'
            assert gray[key] == pytest.approx(value), key        # batches of 2, 2, 1 add up exactly
    weights_of = evaluation.rebalancing(ds, train_idx)
    assert gray["rebalanced_auc"] == pytest.approx(metrics.rebalanced_auc(ab, np.zeros_like(ab), weights_of))
    assert model["rebalanced_auc"] == pytest.approx(1.0)
    mean = metrics.mean_ab(ds.batch(train_idx)[1])
    np.testing.assert_allclose(metrics.dataset_mean_ab(ds, train_idx, batch_size=1), mean, rtol=1e-5)
    expected = metrics.evaluate_predictions(L, ab, metrics.mean_prediction(mean, ab.shape))
    assert table.loc["mean-ab baseline", "ab_mse"] == pytest.approx(expected["ab_mse"])
    assert table.loc["mean-ab baseline", "note"] == ""


def test_evaluate_reports_its_progress_in_images():
    ds, emb = _dataset(seed=5)
    calls = []
    evaluation.evaluate(OracleModel(ds, 32), ds, [5, 0, 3, 6, 1], emb, train_indices=[2, 4], batch_size=2,
                        progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_study_accuracies_report_progress_over_all_parts():
    ds, emb = _dataset(seed=6)
    calls = []
    evaluation.study_accuracies(OracleModel(ds, 32), ds, (np.array([0, 1]), np.array([2, 3, 4]), np.array([5, 6])),
                                emb, batch_size=2, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 5), (3, 5), (5, 5)]


def test_training_colours_are_counted_once_per_dataset_and_split(monkeypatch):
    ds, _ = _dataset(n=5, seed=101)
    reads = []
    real_batches = ds.batches
    monkeypatch.setattr(ds, "batches", lambda *a, **k: (reads.append(1), real_batches(*a, **k))[1])
    mean, weights_of = evaluation.training_colours(ds, [0, 1, 2])
    np.testing.assert_allclose(mean, metrics.mean_ab(ds.batch([0, 1, 2])[1]), rtol=1e-5)
    assert evaluation.training_colours(ds, [0, 1, 2])[0] is mean and len(reads) == 1   # remembered
    evaluation.training_colours(ds, [0, 1])                                            # another split
    assert len(reads) == 2
    ds.ab8_parts[0][0] = 255 - ds.ab8_parts[0][0]                                      # the data changed
    changed, _ = evaluation.training_colours(ds, [0, 1, 2])
    assert len(reads) == 3 and not np.allclose(changed, mean)


def test_the_baselines_are_measured_once_per_session_for_the_same_images(monkeypatch):
    ds, emb = _dataset(n=7, seed=102)
    calls = []
    real_gray = evaluation.gray_prediction
    monkeypatch.setattr(evaluation, "gray_prediction", lambda ab: (calls.append(len(ab)), real_gray(ab))[1])
    first = evaluation.evaluate(OracleModel(ds, 32), ds, [4, 5, 6], emb, train_indices=[0, 1, 2, 3])
    assert sum(calls) == 3
    constant = ConstantModel(32, [0.2, -0.1])
    second = evaluation.evaluate(constant, ds, [4, 5, 6], emb, train_indices=[0, 1, 2, 3])
    assert sum(calls) == 3                                             # reused, not measured again
    pd.testing.assert_frame_equal(first.drop(index="model"), second.drop(index="model"))
    assert first.loc["model", "accuracy"] == 1.0 and second.loc["model", "accuracy"] < 1.0
    evaluation.evaluate(constant, ds, [4, 5, 6], emb, train_indices=[0, 1, 2])     # other training images
    evaluation.evaluate(constant, ds, [5, 6], emb, train_indices=[0, 1, 2, 3])     # other test images
    assert sum(calls) == 3 + 3 + 2


_NEXT_KERNEL = """
import sys
sys.path.insert(0, {tests!r})
from test_evaluation import ConstantModel, _dataset
from deepcolor import evaluation

def measured_again(ab):
    raise SystemExit("the baselines were measured again")

evaluation.gray_prediction = measured_again
ds, emb = _dataset(n=6, seed=103)
table = evaluation.evaluate(ConstantModel(32, [0.2, -0.1]), ds, [3, 4, 5], emb, train_indices=[0, 1, 2])
print(table.drop(index="model").drop(columns="note").to_json(double_precision=15))
"""


def test_the_baselines_are_kept_for_the_next_notebooks_kernel(tmp_path, monkeypatch):
    """A new Python process (the next notebook) reads the baselines' rows back from
    $DEEPCOLOR_HOME/measured instead of measuring them; a file kept for another key is not used."""
    monkeypatch.setenv("DEEPCOLOR_HOME", str(tmp_path))
    ds, emb = _dataset(n=6, seed=103)
    first = evaluation.evaluate(OracleModel(ds, 32), ds, [3, 4, 5], emb, train_indices=[0, 1, 2])
    [kept] = (tmp_path / "measured").glob("baselines-*.json")
    script = _NEXT_KERNEL.format(tests=str(Path(__file__).parent))
    env = dict(os.environ, DEEPCOLOR_HOME=str(tmp_path))

    def next_kernel():
        return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)

    done = next_kernel()
    assert done.returncode == 0, done.stderr
    read_back = pd.DataFrame(json.loads(done.stdout.strip().splitlines()[-1]))
    want = first.drop(index="model").drop(columns="note")
    np.testing.assert_allclose(read_back.loc[list(want.index), list(want.columns)].to_numpy(float),
                               want.to_numpy(float), rtol=1e-9)
    saved = json.loads(kept.read_text())
    saved["key"]["metrics"] = saved["key"]["metrics"][:-1]             # kept under another set of metrics
    kept.write_text(json.dumps(saved))
    again = next_kernel()
    assert again.returncode != 0 and "the baselines were measured again" in again.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_where_the_baselines_are_kept_is_measured_past_not_read(tmp_path, monkeypatch):
    """Reading a FIFO would wait for a writer for ever: a kernel measures the baselines instead."""
    monkeypatch.setenv("DEEPCOLOR_HOME", str(tmp_path))
    ds, emb = _dataset(n=4, seed=107)
    first = evaluation.evaluate(OracleModel(ds, 32), ds, [2, 3], emb, train_indices=[0, 1])
    [kept] = (tmp_path / "measured").glob("baselines-*.json")
    kept.unlink()
    os.mkfifo(kept)
    monkeypatch.setattr(evaluation, "_BASELINE_ROWS", {})  # as in the next notebook's kernel
    answer = []
    reader = threading.Thread(target=lambda: answer.append(
        evaluation.evaluate(OracleModel(ds, 32), ds, [2, 3], emb, train_indices=[0, 1])), daemon=True)
    reader.start()
    reader.join(timeout=60)
    assert answer, "evaluate waited on the FIFO"
    pd.testing.assert_frame_equal(answer[0], first)


def test_evaluate_without_train_indices_says_so():
    ds, emb = _dataset(n=3)
    table = evaluation.evaluate(OracleModel(ds, 32), ds, [0, 1, 2], emb)
    assert "train_indices" in table.loc["mean-ab baseline", "note"]
    assert table.loc["model", "note"] == ""


def test_evaluate_resizes_for_a_smaller_model():
    ds, emb = _dataset(n=3)
    model = ConstantModel(16, [0.25, -0.125])
    table = evaluation.evaluate(model, ds, [0, 1, 2], emb, train_indices=[0], batch_size=2)
    short = evaluation.fixed_rows(2) or 1  # under JAX the last batch is padded to 2 (deepcolor.shapes)
    assert [shape for shape, _, _ in model.seen] == [(2, 16, 16, 1), (short, 16, 16, 1)]
    assert all(0.0 <= lo and hi <= 1.0 for _, lo, hi in model.seen)   # L / 100
    L, ab = ds.batch([0, 1, 2])
    expected = metrics.evaluate_predictions(L, ab, np.broadcast_to(np.float32([32, -16]), ab.shape))
    for key, value in expected.items():
        if key != "rebalanced_auc":  # weighted by the training image's colours in evaluate
            assert table.loc["model", key] == pytest.approx(value, rel=1e-5), key


def test_evaluate_a_real_keras_model():
    keras = pytest.importorskip("keras")
    ds, emb = _dataset(n=3)
    L_in, e_in = keras.Input((16, 16, 1)), keras.Input((1000,))
    out = keras.layers.Conv2D(2, 3, padding="same", activation="tanh")(L_in)
    model = keras.Model([L_in, e_in], out)
    table = evaluation.evaluate(model, ds, [0, 1, 2], emb, train_indices=[0, 1])
    assert np.isfinite(table[list(metrics.METRICS)].to_numpy()).all()
    assert 0.0 <= table.loc["model", "accuracy"] <= 1.0


def test_evaluate_with_padded_batches_gives_the_same_table(monkeypatch):
    """Under JAX evaluate pads the last batch (5 images in batches of 2: 2, 2, 1 -> 2); the table is
    the one the short batch gives, on either backend."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    ds, emb = _dataset(n=5)
    L_in, e_in = keras.Input((16, 16, 1)), keras.Input((1000,))
    model = keras.Model([L_in, e_in], keras.layers.Conv2D(2, 3, padding="same", activation="tanh")(L_in))
    tables = []
    for rows in (lambda b: None, lambda b: b):
        monkeypatch.setattr(evaluation, "fixed_rows", rows)
        tables.append(evaluation.evaluate(model, ds, np.arange(5), emb, train_indices=[0, 1], batch_size=2))
    columns = list(metrics.METRICS)
    np.testing.assert_allclose(tables[1][columns].to_numpy(float), tables[0][columns].to_numpy(float), rtol=1e-5)


def test_evaluate_rejects_bad_arguments():
    ds, emb = _dataset(n=3)
    with pytest.raises(ValueError, match="embeddings"):
        evaluation.evaluate(OracleModel(ds, 32), ds, [0], emb[:2])
    with pytest.raises(ValueError, match="empty"):
        evaluation.evaluate(OracleModel(ds, 32), ds, [], emb)


# --- the study's accuracies ----------------------------------------------------------------------

def test_study_accuracies_of_a_perfect_model_and_of_none():
    ds, emb = _dataset()
    split = (np.array([0, 1]), np.array([2, 3, 4]), np.array([5, 6]))
    accs = evaluation.study_accuracies(OracleModel(ds, 32), ds, split, emb, batch_size=2)
    assert set(accs) == {"val", "test"}
    for part, idx in (("val", split[1]), ("test", split[2])):
        _, ab = ds.batch(idx)
        assert accs[part][0] == 1.0
        assert accs[part][1] == pytest.approx(metrics.constant_baseline_accuracy(ab))
    none = evaluation.study_accuracies(None, ds, split, emb)
    assert np.isnan(none["val"][0]) and none["test"][1] == pytest.approx(accs["test"][1])
    with pytest.raises(ValueError, match="empty"):
        evaluation.study_accuracies(None, ds, (split[0], split[1], np.array([], np.int64)), emb)


def test_study_accuracies_measure_test_seen_where_the_split_has_it():
    ds, emb = _dataset(n=8)
    plain = (np.array([0, 1]), np.array([2, 3]), np.array([4, 5]))
    split = data.Split(*plain, test_seen=np.array([6, 7]))
    accs = evaluation.study_accuracies(OracleModel(ds, 32), ds, split, emb, batch_size=2)
    assert set(accs) == {"val", "test", "test_seen"} and accs["test_seen"][0] == 1.0
    _, ab = ds.batch([6, 7])
    assert accs["test_seen"][1] == pytest.approx(metrics.constant_baseline_accuracy(ab))
    assert set(evaluation.study_accuracies(OracleModel(ds, 32), ds, data.Split(*plain), emb)) == {"val", "test"}


# --- a run's table, measured once and kept in its folder -----------------------------------------

def tiny_profile(**changes):
    base = dict(input_size=16, lr=0.01, batch_size=5, l2=0.01, epochs=1)
    return replace(config.PROFILES["smoke"], **{**base, **changes})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(cfg, ds, emb, split, runs_dir): arch2 trained once at the tiny profile's settings."""
    runs_dir = tmp_path_factory.mktemp("runs")
    ds, emb = random_lab_dataset()
    cfg = config.Config(tiny_profile())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEEPCOLOR_RUNS", str(runs_dir))
        split = cfg.split(ds)
        assert cfg.train_or_load("arch2", ds, emb, split, verbose=0).status == "completed"
    return cfg, ds, emb, split, runs_dir


class _Unusable:
    """A model that must not be asked to predict: the table has to come from the run's folder."""

    inputs = [_Input(16)]

    def predict(self, inputs, verbose=0):
        raise AssertionError("the model was asked to colorize again")


def unusable(run) -> Run:
    """The same run folder, whose model must not be asked to predict."""
    same = Run.open(run.path)
    same.model = _Unusable()
    return same


@pytest.fixture
def own_run(trained, tmp_path):
    """(run, ds, emb, split): a private copy of the fixture's arch2 run, found as train_or_load finds it."""
    import shutil

    cfg, ds, emb, split, runs_dir = trained
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEEPCOLOR_RUNS", str(runs_dir))
        folder = cfg.train_or_load("arch2", ds, emb, split, verbose=0).path
    shutil.copytree(folder, tmp_path / folder.name, ignore=shutil.ignore_patterns("test_eval.json"))
    return Run.open(tmp_path / folder.name), ds, emb, split


def test_evaluate_run_measures_once_then_reads_the_table_back(own_run):
    run, ds, emb, split = own_run
    first = evaluation.evaluate_run(run, ds, split.test, emb, train_indices=split.train)
    assert first.attrs["reused"] is False and (run.path / "test_eval.json").is_file()
    pd.testing.assert_frame_equal(first, evaluation.evaluate(run.model, ds, split.test, emb, train_indices=split.train))
    saved = json.loads((run.path / "test_eval.json").read_text())
    assert set(saved) == {"key", "value"} and saved["key"]["format"] == evaluation.EVALUATION_FORMAT
    assert set(saved["value"]) == {"model", *evaluation.BASELINES}
    again = evaluation.evaluate_run(unusable(run), ds, split.test, emb, train_indices=split.train)
    assert again.attrs["reused"] is True
    pd.testing.assert_frame_equal(again, first)
    seen = evaluation.evaluate_run(run, ds, split.test, emb, train_indices=split.train, part="test_seen")
    assert seen.attrs["reused"] is False and (run.path / "test_seen_eval.json").is_file()  # a table of its own
    assert evaluation.evaluate_run(unusable(run), ds, split.test, emb, train_indices=split.train).attrs["reused"]


def test_evaluate_run_measures_again_when_anything_it_depends_on_changes(own_run):
    import os

    run, ds, emb, split = own_run
    evaluation.evaluate_run(run, ds, split.test, emb, train_indices=split.train)
    same_run = unusable(run)
    other_emb = emb.copy()
    other_emb[split.test[0], 0] += 1.0
    model_file = run.path / FINAL_MODEL
    changes = {
        "other test images": lambda: (split.test[:-1], emb, split.train),
        "other training images": lambda: (split.test, emb, split.train[:-1]),
        "no training images": lambda: (split.test, emb, None),
        "other embeddings of the test images": lambda: (split.test, other_emb, split.train),
        "a new final model file": lambda: (os.utime(model_file, ns=(1, 1)), (split.test, emb, split.train))[1],
    }
    for what, change in changes.items():
        test, e, train = change()
        with pytest.raises(AssertionError, match="colorize again"):
            evaluation.evaluate_run(same_run, ds, test, e, train_indices=train)
        measured = evaluation.evaluate_run(run, ds, test, e, train_indices=train)
        assert measured.attrs["reused"] is False, what


def test_evaluate_run_survives_a_damaged_file_and_an_unwritable_folder(own_run, read_only):
    run, ds, emb, split = own_run
    saved = run.path / "test_eval.json"
    saved.write_text('{"key": {"format"')  # cut off mid-write by hand
    table = evaluation.evaluate_run(run, ds, split.test, emb, train_indices=split.train)
    assert table.attrs["reused"] is False
    assert json.loads(saved.read_text())["key"]["format"] == evaluation.EVALUATION_FORMAT  # measured and kept
    saved.unlink()

    read_only(run.path)
    with pytest.warns(UserWarning, match="could not be kept"):
        again = evaluation.evaluate_run(run, ds, split.test, emb, train_indices=split.train)
    pd.testing.assert_frame_equal(again, table)
    assert again.attrs["reused"] is False and not saved.exists()


def test_evaluate_run_refuses_an_unfinished_run(own_run):
    run, ds, emb, split = own_run
    with pytest.raises(ValueError, match="status 'interrupted'.*evaluate\\(run.model"):
        evaluation.evaluate_run(Run(run.path, {**run.record, "status": "interrupted"}), ds, split.test, emb)
