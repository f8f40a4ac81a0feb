"""Tests of deepcolor.comparison: a model on the split's two test sets (photos it has never seen, new
crops of photos it has seen), several models side by side, and the pictures that show both.

The datasets are random 32x32 images whose manifest names a photo per image (``held_out_dataset``:
ten photos, two ordinary and one held-out crop each, so 2 test photos and 6 training photos whose
held-out crops are ``test_seen``) or names none (``random_lab_dataset``: no ``test_seen``, like the
Kaggle set).  Trained runs are tiny (input 16, one epoch) and live in a private runs folder.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from lab_checks import held_out_dataset, random_lab_dataset

from deepcolor import comparison, config, data, evaluation, metrics, models
from deepcolor.comparison import LEVEL, SEEN, UNSEEN
from deepcolor.runs import FINAL_MODEL, Run


@pytest.fixture(scope="module")
def two_sets():
    """(ds, emb, split) with a test_seen part: 10 photos, 3 crops each (one held out)."""
    ds, emb = held_out_dataset()
    return ds, emb, data.split(len(ds), groups=ds.groups, held_out=ds.held_out)


@pytest.fixture(scope="module")
def model():
    return models.build_model("arch3", 16)


def test_image_sets_leave_out_an_empty_or_missing_test_seen(two_sets):
    _, _, split = two_sets
    sets = comparison.image_sets(split)
    assert list(sets) == ["test", "test_seen"] and len(sets["test_seen"]) == 6
    np.testing.assert_array_equal(sets["test"], split.test)
    assert list(comparison.image_sets(data.Split(np.arange(3), np.array([3]), np.array([4])))) == ["test"]
    assert list(comparison.image_sets((np.arange(3), np.array([3]), np.array([4])))) == ["test"]  # a plain tuple
    assert comparison.sets_caption(split) == (f"{len(split.test)} images of photos it has never seen (test) and "
                                              "6 new crops of photos it has seen (test_seen)")


def test_evaluate_test_sets_has_both_groups_for_the_sample(two_sets, model):
    ds, emb, split = two_sets
    table = comparison.evaluate_test_sets(model, ds, split, emb)
    assert table.index.names == [LEVEL, "predictor"]
    assert list(table.index) == [(s, p) for s in (UNSEEN, SEEN) for p in ("model", *evaluation.BASELINES)]
    assert table.loc[(UNSEEN, "model"), "images"] == len(split.test)
    assert table.loc[(SEEN, "model"), "images"] == len(split.test_seen)
    for label, indices in ((UNSEEN, split.test), (SEEN, split.test_seen)):
        expected = evaluation.evaluate(model, ds, indices, emb, train_indices=split.train)
        pd.testing.assert_frame_equal(table.xs(label, level=LEVEL), expected)


def test_evaluate_test_sets_has_one_group_without_held_out_crops(model):
    ds, emb = random_lab_dataset()  # no photo names, like the Kaggle set
    split = data.split(len(ds))
    assert len(split.test_seen) == 0
    table = comparison.evaluate_test_sets(model, ds, split, emb)
    assert list(table.index.unique(LEVEL)) == [UNSEEN]
    assert list(table.index.get_level_values("predictor")) == ["model", *evaluation.BASELINES]


def test_evaluate_test_sets_keeps_a_run_s_tables_per_test_set(two_sets, model, tmp_path):
    ds, emb, split = two_sets
    (tmp_path / FINAL_MODEL).write_bytes(b"stands for the model file")  # what the saved tables are keyed by
    run = Run(tmp_path, {"status": "completed", "epochs": []}, model=model)
    first = comparison.evaluate_test_sets(run, ds, split, emb)
    assert first.attrs["reused"] is False
    assert (tmp_path / "test_eval.json").is_file() and (tmp_path / "test_seen_eval.json").is_file()
    again = comparison.evaluate_test_sets(run, ds, split, emb)  # both tables read back, neither replaced
    assert again.attrs["reused"] is True
    pd.testing.assert_frame_equal(again, first)
    with pytest.raises(ValueError, match="status 'nan'"):
        comparison.evaluate_test_sets(Run(tmp_path, {"status": "nan", "epochs": []}, model=model), ds, split, emb)


def _evaluation(accuracy, sets=(UNSEEN, SEEN)):
    rows = pd.DataFrame({"accuracy": [accuracy, 0.5, 0.52], "ab_mse": [100.0, 200.0, 150.0],
                         "images": [6, 6, 6], "note": ["", "", ""]},
                        index=pd.Index(["model", "gray baseline", "mean-ab baseline"], name="predictor"))
    return pd.concat({label: rows.assign(accuracy=rows["accuracy"] - 0.1 * k) for k, label in enumerate(sets)},
                     names=[LEVEL])


def test_results_side_by_side_per_test_set():
    df = comparison.results_side_by_side({"base": _evaluation(0.6), "arch1": _evaluation(0.55)})
    names = ["base", "arch1", "gray baseline", "mean-ab baseline"]
    assert list(df.index) == [(s, n) for s in (UNSEEN, SEEN) for n in names]
    assert df.loc[(UNSEEN, "arch1"), "accuracy"] == 0.55 and df.loc[(SEEN, "arch1"), "accuracy"] == pytest.approx(0.45)
    one = comparison.results_side_by_side({"base": _evaluation(0.6).xs(UNSEEN, level=LEVEL)})  # evaluate()'s tables
    assert list(one.index) == ["base", "gray baseline", "mean-ab baseline"]
    with pytest.raises(ValueError):
        comparison.results_side_by_side({})


def test_picture_indices_show_two_unseen_photos_and_seen_crops(two_sets):
    ds, _, split = two_sets
    shown = comparison.picture_indices(ds, split)
    groups = ds.groups
    unseen = [i for i, t in zip(shown.indices, shown.titles) if t.startswith("never seen")]
    seen = [i for i, t in zip(shown.indices, shown.titles) if t.startswith("seen")]
    assert len(unseen) + len(seen) == len(shown.indices) == 9
    assert set(unseen) <= set(split.test) and len(set(groups[unseen])) == 2
    assert set(seen) <= set(split.test_seen) and len(set(groups[seen])) == 3  # each of another training photo
    assert not set(groups[seen]) & set(groups[split.test])
    kinds = [t.split(":")[0] for t in shown.titles[:3]]
    assert kinds.count("never seen") == 2 and kinds.count("seen") == 1  # any three first pictures show both kinds
    assert all(t.endswith(str(groups[i])) for i, t in zip(shown.indices, shown.titles))
    assert "2 photos it has never seen" in shown.caption and "3 new crops of photos it has seen" in shown.caption


def test_picture_indices_without_photo_names_take_test_images():
    ds, _ = random_lab_dataset(n=30)
    split = data.split(len(ds))
    shown = comparison.picture_indices(ds, split, photos=2, per_photo=2)
    np.testing.assert_array_equal(shown.indices, split.test[:4])
    assert all(t.startswith("never seen") for t in shown.titles) and "photos it has never seen" in shown.caption


# --- the table of every architecture -------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(two_sets, tmp_path_factory):
    """(cfg, ds, emb, split, runs_dir): arch2 trained once (input 16, one epoch) on ``two_sets``."""
    ds, emb, split = two_sets
    runs_dir = tmp_path_factory.mktemp("runs")
    cfg = config.Config(replace(config.PROFILES["smoke"], input_size=16, lr=0.01, batch_size=5, l2=0.01, epochs=1))
    assert cfg.train_or_load("arch2", ds, emb, split, verbose=0, runs_dir=runs_dir).status == "completed"
    return cfg, ds, emb, split, runs_dir


def test_architecture_results_one_row_per_arch_and_baselines_per_test_set(trained):
    cfg, ds, emb, split, runs_dir = trained
    before = len(list(runs_dir.iterdir()))
    df = comparison.architecture_results(cfg, ds, emb, split, archs=("arch2",), train_missing=True, runs_dir=runs_dir)
    assert len(list(runs_dir.iterdir())) == before  # arch2 at the profile's settings = the fixture's run
    assert list(df.index) == [(s, n) for s in (UNSEEN, SEEN) for n in ("arch2", *evaluation.BASELINES)]
    for col in metrics.METRICS + ("run", "profile", "embedding_mode"):
        assert col in df.columns, col
    for label, indices in ((UNSEEN, split.test), (SEEN, split.test_seen)):
        _, ab = ds.batch(indices)
        gray = metrics.ab_mse(ab, metrics.gray_prediction(ab))
        assert df.loc[(label, "gray baseline"), "ab_mse"] == pytest.approx(gray, rel=1e-6)
        assert df.loc[(label, "arch2"), "images"] == len(indices)
    found = comparison.architecture_results(cfg, ds, emb, split, archs=("arch2",), runs_dir=runs_dir)  # found
    pd.testing.assert_frame_equal(found, df)


def test_architecture_results_marks_a_diverged_arch(trained, monkeypatch):
    cfg, ds, emb, split, runs_dir = trained
    real = config.Config.train_or_load

    def arch3_diverges(self, arch, *args, **kwargs):  # every arch gets the trained arch2 run
        run = real(self, "arch2", *args, **kwargs)
        return Run(run.path, {**run.record, "status": "nan"}) if arch == "arch3" else run

    monkeypatch.setattr(config.Config, "train_or_load", arch3_diverges)
    df = comparison.architecture_results(cfg, ds, emb, split, archs=("arch3", "arch2"), train_missing=True,
                                         runs_dir=runs_dir)
    names = ["arch3", "arch2", *evaluation.BASELINES]  # the baselines from arch2's tables
    assert list(df.index) == [(s, n) for s in (UNSEEN, SEEN) for n in names]
    for label in (UNSEEN, SEEN):
        assert df.loc[(label, "arch3"), list(metrics.METRICS)].isna().all() and "nan" in df.loc[(label, "arch3"), "note"]
        assert df.loc[(label, "arch2"), list(metrics.METRICS)].notna().all()
    with pytest.raises(RuntimeError, match="no architecture trained to completion"):
        comparison.architecture_results(cfg, ds, emb, split, archs=("arch3",), train_missing=True, runs_dir=runs_dir)


def test_architecture_results_without_training_uses_finished_runs_only(monkeypatch, tmp_path, model):
    ds, emb = random_lab_dataset(n=6)
    split = data.Split(np.arange(3), np.array([3]), np.array([4, 5]))
    looked_for, loaded = [], []

    class FakeConfig:
        name, embedding_mode = "smoke", "untrained"

        def train_config(self, arch):
            return arch

        def train_or_load(self, arch, *args, **kwargs):
            raise AssertionError(f"architecture_results must never train without train_missing ({arch})")

    class FinishedRun(Run):
        def load_model(self, name=FINAL_MODEL):  # its model.keras, loaded
            loaded.append((self.path.name, name))
            return model

    def find(config, dataset, embedding_mode, profile, *, runs_dir=None, split=None, **others):
        looked_for.append((config, embedding_mode, profile, runs_dir, split))
        if config != "arch3":
            return None
        return FinishedRun(tmp_path / f"run-{config}", {"status": "completed", "epochs": []})

    monkeypatch.setattr(Run, "find", find)
    own = comparison.evaluate_test_sets(model, ds, split, emb)
    table = comparison.architecture_results(FakeConfig(), ds, emb, split, ["base", "arch3"], known={"arch2": own})
    assert [arch for arch, *_ in looked_for] == ["base", "arch3"]
    assert all(mode == "untrained" and profile == "smoke" and where is None and on is split
               for _, mode, profile, where, on in looked_for)  # the profile's runs, on this split only
    assert loaded == [("run-arch3", FINAL_MODEL)]  # base has no finished run: nothing is loaded or trained for it
    names = ["base", "arch3", "arch2", *evaluation.BASELINES]
    assert list(table.index) == [(UNSEEN, n) for n in names]  # no held-out crops: one group of rows
    assert "04_base_model" in table.loc[(UNSEEN, "base"), "note"] and np.isnan(table.loc[(UNSEEN, "base"), "accuracy"])
    assert table.loc[(UNSEEN, "arch3"), "run"] == "run-arch3"
    assert table.loc[(UNSEEN, "arch3"), "ab_mse"] == pytest.approx(own.loc[(UNSEEN, "model"), "ab_mse"])
    assert table.loc[(UNSEEN, "gray baseline"), "ab_mse"] == pytest.approx(own.loc[(UNSEEN, "gray baseline"), "ab_mse"])
    assert set(table["profile"]) == {"smoke"} and set(table["embedding_mode"]) == {"untrained"}
