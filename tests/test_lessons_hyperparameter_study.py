"""deepcolor.lessons.hyperparameter_study: the study table, its reuse of runs, the slider run.

Models are tiny (input 16, one epoch, 12 random 32x32 images) so the whole file stays fast; the
runs trained once by the module fixture are reused by the later tests, which checks reuse too.
"""

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from lab_checks import random_lab_dataset

from deepcolor import config, metrics, paper, predict
from deepcolor.lessons import hyperparameter_study as study
from deepcolor.lessons import training_time as timing
from deepcolor.paper import StudyRun
from deepcolor.runs import Run

RUNS = (StudyRun(13, "arch2", 0.01, 5, 0.01),  # the paper's figure 13 exactly
        StudyRun(15, "arch2", 0.01, 5, 0.01))  # figure 15 was the base model: no paper numbers apply;
# same settings as the first run, so it reuses that run: one training serves the whole module


def tiny_profile(**changes):
    base = dict(input_size=16, lr=0.01, batch_size=5, l2=0.01, epochs=1, study=RUNS, study_epochs=1)
    return replace(config.PROFILES["smoke"], **{**base, **changes})


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(cfg, ds, emb, split, runs_dir, table): the two-run study trained once in a private runs folder."""
    runs_dir = tmp_path_factory.mktemp("runs")
    ds, emb = random_lab_dataset()
    cfg = config.Config(tiny_profile())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEEPCOLOR_RUNS", str(runs_dir))
        split = cfg.split(ds)
        table = study.run_study(cfg, ds, emb, split)
    return cfg, ds, emb, split, runs_dir, table


@pytest.fixture
def runs_env(setup, monkeypatch):
    monkeypatch.setenv("DEEPCOLOR_RUNS", str(setup[4]))
    return setup


def refuse_training_and_loading(monkeypatch, what: str) -> None:
    """From here on, training a run or loading any run's model fails the test."""
    def fail(*args, **kwargs):
        pytest.fail(f"{what} was trained or loaded again")

    monkeypatch.setattr(config.Config, "train_or_load", fail)
    monkeypatch.setattr(Run, "load_model", fail)


def test_run_study_table_and_paper_join(setup):
    *_, table = setup
    assert tuple(table.columns) == study.STUDY_COLUMNS
    assert list(table["figure"]) == [13, 15] and list(table["status"]) == ["completed", "completed"]
    fig13 = next(r for r in paper.PAPER_RESULTS if r.figure == 13)
    assert table.loc[0, "paper_val"] == fig13.val and table.loc[0, "paper_test"] == fig13.test
    assert math.isnan(table.loc[1, "paper_val"]) and math.isnan(table.loc[1, "paper_test"])
    assert set(table["profile"]) == {"smoke"} and set(table["embedding_mode"]) == {"untrained"}
    assert list(table["epochs"]) == [1, 1]
    assert table.loc[0, "run_dir"] == table.loc[1, "run_dir"]  # the second row reused the first run
    for col in ("val_accuracy", "test_accuracy", "constant_val", "constant_test"):
        assert table[col].between(0, 1).all(), col


def test_study_accuracies_match_the_metrics_module(setup):
    import keras

    cfg, ds, emb, split, _, table = setup
    for part, idx in (("val", split.val), ("test", split.test)):
        L, ab = ds.batch(idx)
        assert table[f"constant_{part}"].iloc[0] == pytest.approx(metrics.constant_baseline_accuracy(ab))
        model = keras.models.load_model(f"{table.loc[1, 'run_dir']}/model.keras")
        pred = predict.predict_ab(model, L, emb[idx])
        assert table.loc[1, f"{part}_accuracy"] == pytest.approx(metrics.paper_accuracy(ab, pred))


def test_rerun_reuses_runs_without_training_or_loading(runs_env, monkeypatch):
    cfg, ds, emb, split, runs_dir, table = runs_env
    folders = sorted(p.name for p in runs_dir.iterdir())
    refuse_training_and_loading(monkeypatch, "a finished run")
    again = study.run_study(cfg, ds, emb, split)
    assert sorted(p.name for p in runs_dir.iterdir()) == folders
    assert again.drop(columns="run_dir").equals(table.drop(columns="run_dir"))


def test_runs_dir_is_honoured_by_lookup_and_training(runs_env, tmp_path, monkeypatch):
    """With runs_dir given, the study neither reuses nor writes runs in $DEEPCOLOR_RUNS."""
    cfg, ds, emb, split, env_runs, _ = runs_env
    folders = sorted(p.name for p in env_runs.iterdir())
    runs_one = (StudyRun(13, "arch2", 0.01, 5, 0.01),)
    table = study.run_study(cfg, ds, emb, split, runs=runs_one, runs_dir=tmp_path)
    (mine,) = tmp_path.iterdir()  # trained here, not reused from $DEEPCOLOR_RUNS
    assert table.loc[0, "run_dir"] == str(mine) and (mine / f"{study.STUDY_EVAL}.json").is_file()
    assert sorted(p.name for p in env_runs.iterdir()) == folders
    history, _ = study.slider_run(cfg, ds, emb, split, "arch2", 0.01, 5, 0.01, 1, runs_dir=tmp_path)
    assert list(tmp_path.iterdir()) == [mine] and len(history["loss"]) == 1  # reused from runs_dir
    refuse_training_and_loading(monkeypatch, "the run in runs_dir")
    assert study.run_study(cfg, ds, emb, split, runs=runs_one, runs_dir=tmp_path).loc[0, "run_dir"] == str(mine)


def test_diverged_run_is_recorded_as_nan_and_not_rerun(setup, tmp_path, monkeypatch):
    _, ds, emb, split, *_ = setup
    monkeypatch.setenv("DEEPCOLOR_RUNS", str(tmp_path))
    cfg = config.Config(tiny_profile())
    bad = emb.copy()
    bad[split.train] = np.nan  # forces a NaN loss on the first batch, whatever the seed
    runs = (StudyRun(17, "arch3", 0.1, 5, 0.01),)
    table = study.run_study(cfg, ds, bad, split, runs=runs)
    row = table.iloc[0]
    assert row["status"] == "nan" and math.isnan(row["val_accuracy"]) and math.isnan(row["test_accuracy"])
    assert 0.5 <= row["constant_test"] <= 1
    assert math.isnan(row["paper_test"])  # figure 17 trained the base model, not arch3
    saved = json.loads((Path(row["run_dir"]) / f"{study.STUDY_EVAL}.json").read_text())
    assert saved["key"] == study.study_key(split) and saved["value"]["val"][0] is None  # NaN as null
    refuse_training_and_loading(monkeypatch, "the diverged run")
    again = study.run_study(cfg, ds, bad, split, runs=runs).iloc[0]
    assert again["status"] == "nan" and again["run_dir"] == row["run_dir"] and math.isnan(again["val_accuracy"])
    assert again["constant_test"] == row["constant_test"]


def test_compare_with_paper_caption_and_histories(setup):
    *_, table = setup
    styled = study.compare_with_paper(table)
    html = styled.to_html()
    assert "profile: smoke" in html and "embeddings: untrained" in html and "NOT RESULTS" in html
    assert "run_dir" not in styled.data.columns
    histories = study.study_histories(table)
    assert list(histories) == ["fig 13: arch2 lr=0.01 b=5 l2=0.01", "fig 15: arch2 lr=0.01 b=5 l2=0.01"]
    assert all(len(h["loss"]) == 1 and len(h["val_loss"]) == 1 for h in histories.values())


def test_slider_run_reuses_and_plots(runs_env):
    cfg, ds, emb, split, runs_dir, _ = runs_env
    before = len(list(runs_dir.iterdir()))
    history, fig = study.slider_run(cfg, ds, emb, split, "arch2", 0.01, 5, 0.01, 1)
    assert len(list(runs_dir.iterdir())) == before  # the study's arch2 run, reused
    assert len(history["loss"]) == 1 and len(fig.axes) == 2
    line = fig.axes[0].get_lines()[0]
    assert np.allclose(line.get_ydata(), history["loss"])
    assert len(study.slider_figure(cfg, ds, emb, split, "arch2", 0.01, 5, 0.01, 1).axes) == 2




def test_eval_file_written_per_run(setup):
    *_, split, _, table = setup
    key = study.study_key(split)
    for run_dir in table["run_dir"]:
        saved = json.loads((Path(run_dir) / f"{study.STUDY_EVAL}.json").read_text())
        assert saved["key"] == key and set(saved["value"]) == {"val", "test"}
        assert Run.open(run_dir).kept(study.STUDY_EVAL, key)["val"] == pytest.approx(saved["value"]["val"])
    assert study.STUDY_EVAL == "study_eval"  # the file name run folders have always had


def test_the_study_measures_a_run_again_on_other_images(setup, tmp_path, monkeypatch):
    """The accuracies are kept for the images they were measured on (study_key): on other test
    images the same run is measured again (its model loaded), not trained again."""
    import shutil

    from deepcolor import data

    cfg, ds, emb, split, _, table = setup
    mine = Path(shutil.copytree(table.loc[0, "run_dir"], tmp_path / "run"))
    other = data.Split(split.train, split.val, split.test[:-1])
    with_seen = data.Split(split.train, split.val, split.test[:-1], test_seen=split.test[-1:])
    assert len({study.study_key(split), study.study_key(other), study.study_key(with_seen)}) == 3
    loads = []
    real_load = Run.load_model
    monkeypatch.setattr(Run, "load_model", lambda self, *a: (loads.append(self.path), real_load(self, *a))[1])
    again = study.run_study(cfg, ds, emb, other, runs=RUNS[:1], runs_dir=tmp_path)
    assert list(tmp_path.iterdir()) == [mine] and loads == [mine]  # measured again, not trained again
    assert again.loc[0, "run_dir"] == str(mine) and again.loc[0, "val_accuracy"] == table.loc[0, "val_accuracy"]
    assert Run.open(mine).kept(study.STUDY_EVAL, study.study_key(other))["val"][0] == table.loc[0, "val_accuracy"]
    refuse_training_and_loading(monkeypatch, "the run measured on these images")
    assert study.run_study(cfg, ds, emb, other, runs=RUNS[:1], runs_dir=tmp_path).equals(again)


def test_the_study_table_says_what_differs_and_the_paper_table_its_data(setup):
    cfg, ds, emb, split, _, table = setup
    assert table.loc[0, "differs from the paper"] == paper.differs_from_paper(cfg, len(ds), 13, 1, "arch2", 0.01, 5, 0.01)
    assert table.loc[0, "differs from the paper"].startswith("1 epoch, not 2,500; 16 px")
    assert table.loc[1, "differs from the paper"].startswith("arch2, not base; lr 0.01, not 0.001")  # figure 15's
    html = study.compare_with_paper(table, split).to_html()
    assert "2,500 epochs each" in html and f"{len(split.val)} validation and {len(split.test)} test images" in html
    assert "25,000 Kaggle images" in study.paper_table().to_html()


COST = {"start": 5.0, "retrace": 2.0, "step": 0.1, "per_image": 0.01, "val_per_image": 0.005, "save": 0.5}

def test_training_time_says_reused_or_estimates(runs_env, monkeypatch):
    cfg, ds, emb, split, *_ = runs_env
    assert "already trained" in timing.training_time(cfg, ds, split, "arch2", 0.01, 5, 0.01, 1)
    monkeypatch.setattr(timing, "step_cost", lambda arch, size: COST)
    n = len(split.train)
    text = timing.training_time(cfg, ds, split, "arch2", 0.01, 5, 0.01, 3)
    seconds = timing.estimate_seconds(COST, n, len(split.val), 5, 3)
    assert text == f"{timing.about(seconds)} on this machine ({math.ceil(n / 5) * 3} updates of batch 5, 3 epochs of {n} images at 16 px)"


def test_training_slider_shows_the_estimate_before_the_button_and_follows_the_sliders(runs_env, monkeypatch):
    import ipywidgets as widgets

    cfg, ds, emb, split, *_ = runs_env
    monkeypatch.setattr(timing, "step_cost", lambda arch, size: COST)
    epochs = widgets.IntSlider(1, min=1, max=30, continuous_update=False)
    ui = study.training_slider(cfg, ds, emb, split, "arch2", lr=0.01, batch_size=5, l2=0.01, epochs=epochs)
    kinds = [type(w).__name__ for w in ui.children]
    assert kinds == ["IntSlider", "HTML", "Button", "Output"] and ui.children[2].description == "Run Interact"
    estimate = ui.children[1]
    assert "already trained" in estimate.value  # the study's arch2 run
    epochs.value = 4
    assert f"{math.ceil(len(split.train) / 5) * 4} updates of batch 5, 4 epochs" in estimate.value
    assert ui.kwargs_widgets[-1].value == 4 and not ui.out.outputs  # nothing trained before the button


def test_like_a_constant_is_p_or_one_minus_p_exactly():
    assert study.like_a_constant(0.7, 0.7) and study.like_a_constant(0.3, 0.7)
    assert not study.like_a_constant(0.69, 0.7) and not study.like_a_constant(math.nan, 0.7)


def test_run_study_names_each_run_before_its_lines(runs_env, capsys, tmp_path):
    import shutil

    cfg, ds, emb, split, _, table = runs_env
    again = study.run_study(cfg, ds, emb, split, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["run 1/2, figure 13: arch2, lr 0.01, batch 5, L2 0.01, 1 epoch: trained and measured before, reused",
                     "run 2/2, figure 15: arch2, lr 0.01, batch 5, L2 0.01, 1 epoch: trained and measured before, reused"]
    assert again["like a constant"].tolist() == [
        all(study.like_a_constant(r[f"{p}_accuracy"], r[f"constant_{p}"]) for p in ("val", "test")) for _, r in table.iterrows()]
    study.run_study(cfg, ds, emb, split)
    assert capsys.readouterr().out == ""  # verbose=0: silent
    shutil.copytree(table.loc[0, "run_dir"], tmp_path / "run")  # a copy: its kept accuracies change below
    other = type(split)(split.train, split.val, split.test[:-1])  # not measured on these images yet
    study.run_study(cfg, ds, emb, other, runs=RUNS[:1], verbose=2, runs_dir=tmp_path)
    shown = capsys.readouterr()
    assert shown.out.splitlines() == ["run 1/1, figure 13: arch2, lr 0.01, batch 5, L2 0.01, 1 epoch: trained before, reused"]
    total = len(other.val) + len(other.test) + len(other.test_seen)
    assert "measuring figure 13's run" in shown.err and f"{total}/{total}" in shown.err  # its bar, to the end


def test_study_figure_reads_at_one_epoch_and_says_which_run_is_which(setup):
    *_, table = setup
    table = table.copy()
    table.loc[0, "test_accuracy"] = 1 - table.loc[0, "constant_test"]  # one side everywhere
    table.loc[1, "test_accuracy"] = math.nan  # as a diverged run
    fig = study.study_figure(table, caption="profile: smoke")
    ax_loss, ax_acc = fig.axes
    assert [t.get_text() for t in ax_loss.get_yticklabels()] == [
        "fig 13: arch2, lr 0.01, batch 5, L2 0.01", "fig 15: arch2, lr 0.01, batch 5, L2 0.01"]
    assert "ab/128" in ax_loss.get_xlabel() and ax_loss.get_xscale() == "log"
    points = [line for line in ax_loss.get_lines() if len(line.get_xdata())]
    assert sum(len(line.get_xdata()) for line in points) == 4  # loss and val_loss of two runs, at one epoch each
    texts = [t.get_text() for t in ax_acc.texts]
    assert texts[0].endswith("= a constant") and texts[1] == "no model: loss NaN"
    assert [round(p.get_width(), 6) for p in ax_acc.patches] == [round(table.loc[0, "test_accuracy"], 6), 0]
    assert fig.legends and "profile: smoke" in fig._suptitle.get_text()


def test_a_selection_of_no_runs_still_says_its_profile(setup):
    *_, table = setup
    html = study.show_results(table[table["figure"] == 99], "no such run").to_html()
    assert "profile: smoke" in html and "embeddings: untrained" in html and "NOT RESULTS" in html
