"""DEEPCOLOR_PRECISION: Keras' dtype policy, set when deepcolor starts Keras (deepcolor.backend),
recorded by every run and part of what makes a run reusable (deepcolor.runs.Run.matches).

The mixed policies are for GPUs; here they run on the CPU, which is slow but must give the same
kind of answer: finite losses, float32 predictions in the right range.
"""

import keras
import numpy as np
import pytest

from deepcolor import backend, settings
from deepcolor.data import LabDataset, Split


@pytest.fixture
def restore_policy():
    before = keras.config.dtype_policy().name
    yield
    keras.config.set_dtype_policy(before)


def test_unset_means_float32(monkeypatch, restore_policy):
    monkeypatch.delenv(settings.PRECISION_ENV, raising=False)
    assert backend.apply_precision(keras) == "float32" == keras.config.dtype_policy().name


def test_an_unknown_precision_names_the_variable_and_the_choices(monkeypatch, restore_policy):
    monkeypatch.setenv(settings.PRECISION_ENV, "float16")
    with pytest.raises(ValueError, match="DEEPCOLOR_PRECISION='float16'.*float32, mixed_float16, mixed_bfloat16"):
        backend.apply_precision(keras)
    assert keras.config.dtype_policy().name == "float32"


def test_a_mixed_precision_run_records_it_and_is_reused_only_under_it(monkeypatch, restore_policy, tmp_path):
    from deepcolor.predict import predict_ab
    from deepcolor.runs import Run
    from deepcolor.train import TrainConfig, train

    rng = np.random.default_rng(0)
    L = rng.uniform(20, 90, (8, 32, 32)).astype(np.float32)
    ab = rng.uniform(-60, 60, (8, 32, 32, 2)).astype(np.float32)
    ds, emb = LabDataset.from_arrays(L, ab), rng.random((8, 1000)).astype(np.float32)
    split = Split(np.arange(6), np.array([6, 7]), np.array([], np.int64))
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=3, epochs=1, input_size=16, seed=0)

    monkeypatch.setenv(settings.PRECISION_ENV, "mixed_bfloat16")
    assert backend.apply_precision(keras) == "mixed_bfloat16"
    run = train(ds, emb, split.train, split.val, config, embedding_mode="none", profile="t", runs_dir=tmp_path,
                verbose=0)
    assert run.record["precision"] == "mixed_bfloat16" and np.isfinite(run.history["loss"]).all()
    assert run.model.layers[-1].compute_dtype == "bfloat16"
    pred = predict_ab(run.model, L[:2], emb[:2])
    assert pred.dtype == np.float32 and pred.shape == (2, 32, 32, 2) and np.abs(pred).max() <= 128
    found = Run.find(config, ds, "none", "t", runs_dir=tmp_path, split=split)
    assert found.path == run.path and found.record["precision"] == "mixed_bfloat16"

    keras.config.set_dtype_policy("float32")  # a float32 session must train its own
    assert Run.find(config, ds, "none", "t", runs_dir=tmp_path, split=split) is None
    assert not Run.open(run.path).matches(config, ds, "none", "t", split)
