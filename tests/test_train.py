"""deepcolor.train: learning, NaN, resume, reuse, several devices, ``deepcolor train``.

What a run folder holds and how it is read back (records, run tables, Run.find, heartbeats) is
tested in tests/test_runs.py."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deepcolor import data
from deepcolor.run_table import load_runs
from deepcolor.runs import RECORD, Run
from deepcolor.train import TrainConfig, train, train_or_load


def weights_of(model):
    return [np.asarray(w) for w in model.get_weights()]


def test_learning_lowers_training_loss_clearly(small, tmp_path):
    """A wiring or scaling mistake (wrong target range, detached input) shows up here."""
    import keras

    from deepcolor.batches import ColorBatches

    ds, emb, parts = small
    config = TrainConfig(arch="arch3", lr=3e-3, batch_size=4, epochs=12, input_size=32, seed=1)
    result = train(ds, emb, parts.train, None, config, runs_dir=tmp_path, verbose=0)
    losses = result.history["loss"]
    assert isinstance(result, Run) and result.status == "completed" and len(losses) == 12
    # the untrained model's loss on the same data, for reference
    keras.utils.set_random_seed(1)
    from deepcolor.models import build_model
    from deepcolor.train import compile_model

    fresh = compile_model(build_model("arch3", 32), 1e-3)
    batches = ColorBatches(ds, emb, parts.train, 4, shuffle=False, input_size=32)
    initial = fresh.evaluate(batches, verbose=0, return_dict=True)["loss"]
    final = result.model.evaluate(batches, verbose=0, return_dict=True)["loss"]
    assert final < 0.6 * initial, (initial, final, losses)


def test_nan_loss_stops_and_is_recorded(small, tmp_path, monkeypatch):
    """A diverging run (the paper's lr 0.1) ends with status "nan" after the first NaN epoch.

    NaN is forced through the loss: with a tanh output and fused ReLUs a real divergence is
    not reproducible on every CPU, and what is under test is the handling of it.
    """
    import keras

    import deepcolor.train as train_module

    def compile_with_nan_loss(model, lr):
        def nan_mse(y_true, y_pred):
            return keras.ops.mean(keras.ops.square(y_true - y_pred)) * float("nan")

        model.compile(optimizer=keras.optimizers.Adam(lr), loss=nan_mse,
                      metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
        return model

    monkeypatch.setattr(train_module, "compile_model", compile_with_nan_loss)
    ds, emb, parts = small
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=3, input_size=16)
    result = train(ds, emb, parts.train, None, config, runs_dir=tmp_path, verbose=0)
    assert result.status == "nan"
    assert len(result.history["loss"]) == 1 and np.isnan(result.history["loss"][0])
    assert not (result.run_dir / "model.keras").exists()
    assert not (result.run_dir / "checkpoint.keras").exists()  # a NaN model is never checkpointed
    assert load_runs(tmp_path).loc[0, "status"] == "nan"


class StopAfterFirstEpoch:
    """A Keras callback that presses Ctrl-C once the first epoch's checkpoint is written."""

    def __new__(cls):
        import keras

        class _Stop(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                raise KeyboardInterrupt

        return _Stop()


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(small, tmp_path):
    ds, emb, parts = small
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=3, epochs=3, input_size=16, seed=7)
    whole = train(ds, emb, parts.train, parts.val, config, run_dir=tmp_path / "whole", verbose=0)
    cut = train(ds, emb, parts.train, parts.val, config, run_dir=tmp_path / "cut", verbose=0,
                callbacks=[StopAfterFirstEpoch()])
    assert cut.status == "interrupted" and len(cut.record["epochs"]) == 1
    resumed = train(ds, emb, parts.train, parts.val, config, run_dir=tmp_path / "cut", resume=True, verbose=0)
    assert resumed.status == "completed" and len(resumed.history["loss"]) == 3
    for a, b in zip(weights_of(whole.model), weights_of(resumed.model)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(whole.history["loss"], resumed.history["loss"], rtol=1e-5)


class SigtermCameBackWrapped:
    """A Keras callback that sends this process SIGTERM after the first batch; the Terminated it
    raises comes back as another error, as when it arrives inside TensorFlow's data pipeline."""

    def __new__(cls):
        import signal

        import keras

        from deepcolor.stopping import Terminated

        class _Wrapped(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                try:
                    os.kill(os.getpid(), signal.SIGTERM)
                except Terminated as exc:
                    raise RuntimeError("an error from inside the pipeline") from exc

        return _Wrapped()


def test_a_sigterm_that_comes_back_as_another_error_is_still_an_interruption(small, tmp_path):
    ds, emb, parts = small
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=3, epochs=2, input_size=16, seed=7)
    run = train(ds, emb, parts.train, parts.val, config, run_dir=tmp_path / "run", verbose=0,
                callbacks=[SigtermCameBackWrapped()])
    record = json.loads((tmp_path / "run" / RECORD).read_text())
    assert run.status == record["status"] == "interrupted" and record["stopped_by"] == "SIGTERM"
    assert "error" not in record  # resumable, not a failure


def test_resume_refuses_a_different_config_and_new_run_refuses_existing(small, tmp_path):
    ds, emb, parts = small
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=1, input_size=16)
    train(ds, emb, parts.train, None, config, run_dir=tmp_path / "run", verbose=0)
    with pytest.raises(FileExistsError, match="resume=True"):
        train(ds, emb, parts.train, None, config, run_dir=tmp_path / "run", verbose=0)
    other = TrainConfig(arch="arch3", lr=1e-2, batch_size=4, epochs=2, input_size=16)
    with pytest.raises(ValueError, match="cannot resume"):
        train(ds, emb, parts.train, None, other, run_dir=tmp_path / "run", resume=True, verbose=0)
    with pytest.raises(FileNotFoundError, match="no run to resume"):
        train(ds, emb, parts.train, None, config, run_dir=tmp_path / "nothing", resume=True, verbose=0)


def test_train_or_load_reuses_only_an_identical_run(small, tmp_path):
    ds, emb, parts = small
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=1, input_size=16)
    first = train_or_load(ds, emb, parts, config, embedding_mode="none", profile="t", runs_dir=tmp_path, verbose=0)
    again = train_or_load(ds, emb, parts, config, embedding_mode="none", profile="t", runs_dir=tmp_path, verbose=0)
    assert isinstance(again, Run) and again.path == first.path and len(list(tmp_path.iterdir())) == 1
    for a, b in zip(weights_of(first.model), weights_of(again.model)):  # again's is read from model.keras
        np.testing.assert_array_equal(a, b)
    assert Run.find(config, ds, "untrained", "t", runs_dir=tmp_path) is None  # other embeddings: no reuse
    assert Run.find(TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=2, input_size=16), ds, "none", "t",
                    runs_dir=tmp_path) is None
    other = data.split(len(ds), seed=1)  # another split: trained anew, never a model that saw its test images
    assert train_or_load(ds, emb, other, config, embedding_mode="none", profile="t", runs_dir=tmp_path,
                         verbose=0).path != first.path
    classifier = train_or_load(ds, emb, parts, config, embedding_mode="none", profile="t", runs_dir=tmp_path,
                               verbose=0, head="classify")  # another head: trained anew
    assert classifier.path != first.path and classifier.record["head"] == "classify"
    assert train_or_load(ds, emb, parts, config, embedding_mode="none", profile="t", runs_dir=tmp_path,
                         verbose=0, head="classify").path == classifier.path
    assert len(list(tmp_path.iterdir())) == 3


def test_bad_configs_and_overlapping_split(small, tmp_path):
    ds, emb, parts = small
    for bad in [dict(lr=0), dict(lr=float("nan")), dict(batch_size=0), dict(epochs=0), dict(l2=-1), dict(input_size=30)]:
        with pytest.raises(ValueError):
            TrainConfig(**bad)
    with pytest.raises(ValueError, match="overlap"):
        train(ds, emb, parts.train, parts.train[:2], TrainConfig(arch="arch3", input_size=16), runs_dir=tmp_path)


MULTI_DEVICE = textwrap.dedent("""
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from deepcolor import data
    from deepcolor.train import TrainConfig, train
    ds = data.sample(n=8)
    emb = np.zeros((len(ds), 1000), np.float32)
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=1, input_size=16)
    result = train(ds, emb, np.arange(8), None, config, runs_dir="{runs}", devices=["/cpu:0", "/cpu:1"], verbose=0)
    print("replicas", result.record["replicas"], result.status, np.isfinite(result.history["loss"][0]))
""")


def test_two_virtual_cpu_devices_train_data_parallel(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="tensorflow", DEEPCOLOR_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, "-c", MULTI_DEVICE.format(runs=tmp_path / "runs")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "replicas 2 completed True" in proc.stdout


def test_cli_train_writes_a_run_and_resumes(tmp_path, capsys):
    from deepcolor.cli import main

    args = ["train", "--arch", "arch3", "--input-size", "16", "--epochs", "1", "--batch-size", "4",
            "-n", "9", "--embeddings", "none", "--runs-dir", str(tmp_path)]
    assert main(args) == 0
    (run_dir,) = [p.parent for p in tmp_path.glob(f"*/{RECORD}")]
    assert "run completed" in capsys.readouterr().out
    record = json.loads((run_dir / RECORD).read_text())
    assert record["config"]["arch"] == "arch3" and record["embedding_mode"] == "none" and record["data"]["size"] == 9
    args[args.index("--epochs") + 1] = "2"
    assert main(args + ["--resume", str(run_dir)]) == 0
    assert len(json.loads((run_dir / RECORD).read_text())["epochs"]) == 2
    assert main(["train", "--input-size", "30", "--runs-dir", str(tmp_path)]) == 2
    assert "multiple of 8" in capsys.readouterr().err


def test_cli_train_head_classify_records_a_classifier_and_a_second_command_makes_a_second_run(tmp_path, capsys):
    """As for the MSE head, every ``deepcolor train`` is a new run: the second identical command
    leaves the first run's files as they were."""
    from deepcolor.cli import main

    args = ["train", "--arch", "arch3", "--head", "classify", "--input-size", "16", "--epochs", "1",
            "--batch-size", "4", "-n", "9", "--embeddings", "none", "--runs-dir", str(tmp_path)]
    assert main(args) == 0
    (first,) = [p.parent for p in tmp_path.glob(f"*/{RECORD}")]
    assert f"run completed: {first} (classify head, rebalanced)" in capsys.readouterr().out
    record = json.loads((first / RECORD).read_text())
    assert record["head"] == "classify" and record["profile"] == "cli" and record["embedding_mode"] == "none"
    assert record["classify"]["rebalance"] is True and record["classify"]["lam"] == 0.5
    assert "-arch3-classify-rebalanced-" in first.name
    before = {p.name: p.read_bytes() for p in first.iterdir()}

    assert main(args) == 0
    runs = sorted(p.parent for p in tmp_path.glob(f"*/{RECORD}"))
    assert len(runs) == 2 and first in runs
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before
    (second,) = set(runs) - {first}
    assert json.loads((second / RECORD).read_text())["head"] == "classify"
    assert list(load_runs(tmp_path)["head"]) == ["classify", "classify"]

    assert main(args + ["--no-rebalance"]) == 0
    (third,) = {p.parent for p in tmp_path.glob(f"*/{RECORD}")} - set(runs)
    assert "(classify head, not rebalanced)" in capsys.readouterr().out
    third_record = json.loads((third / RECORD).read_text())
    assert third_record["head"] == "classify" and third_record["classify"]["rebalance"] is False
    assert third_record["classify"]["lam"] is None


def test_resume_after_a_nan_epoch_restarts_from_the_last_checkpoint(small, tmp_path):
    """A NaN epoch is recorded but never checkpointed: resuming retrains it from the checkpoint."""
    ds, emb, parts = small
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=2, input_size=16)
    run = train(ds, emb, parts.train, None, config, run_dir=tmp_path / "run", verbose=0)
    record = json.loads((run.run_dir / RECORD).read_text())
    assert record["checkpoint_epoch"] == 2
    record["epochs"].append({"epoch": 3, "loss": float("nan")})  # as a diverged third epoch leaves it
    record["status"] = "nan"
    (run.run_dir / RECORD).write_text(json.dumps(record))
    longer = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=3, input_size=16)
    resumed = train(ds, emb, parts.train, None, longer, run_dir=run.run_dir, resume=True, verbose=0)
    assert resumed.status == "completed" and [r["epoch"] for r in resumed.record["epochs"]] == [1, 2, 3]
    assert np.isfinite(resumed.history["loss"]).all()


def test_a_crash_is_recorded_as_failed(small, tmp_path):
    import keras

    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("disk full")

    ds, emb, parts = small
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=2, input_size=16)
    with pytest.raises(RuntimeError, match="disk full"):
        train(ds, emb, parts.train, None, config, run_dir=tmp_path / "run", verbose=0, callbacks=[Boom()])
    record = json.loads((tmp_path / "run" / RECORD).read_text())
    assert record["status"] == "failed" and "disk full" in record["error"]
    with pytest.raises(ValueError, match="unknown architecture"):
        TrainConfig(arch="resnet")


@pytest.mark.parametrize("argv, valid", [
    (["train", "--arch", "nosuch"], ["base", "arch1", "arch2", "arch3"]),
    (["train", "--embeddings", "imagenett"], ["imagenet", "untrained", "none"]),
    (["colorize", "a.png", "-o", "out", "--model", "m.keras", "--embeddings", "random"], ["imagenet", "untrained", "none"]),
])
def test_cli_refuses_an_unknown_choice_and_names_the_valid_ones(argv, valid, capsys):
    from deepcolor.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2  # a usage error, before any data is read or any model built
    err = capsys.readouterr().err
    assert "invalid choice" in err and all(name in err for name in valid)
