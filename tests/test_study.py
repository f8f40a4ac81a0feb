"""Tests of deepcolor.study: the study table, the final evaluation, the slider run, notebook 10's helpers.

Models are tiny (input 16, one epoch, 12 random 32x32 images) so the whole file stays fast; the
runs trained once by the module fixture are reused by the later tests, which checks reuse too.
"""

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from deepcolor import config, data, metrics, paper, study
from deepcolor.config import StudyRun

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
    rng = np.random.default_rng(0)
    L = rng.uniform(0, 100, (12, 32, 32)).astype(np.float32)
    ab = rng.uniform(-60, 60, (12, 32, 32, 2)).astype(np.float32)
    ds = data.LabDataset.from_arrays(L, ab)
    emb = rng.random((12, 1000)).astype(np.float32)
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
        pred = metrics.predict_ab(model, L, emb[idx])
        assert table.loc[1, f"{part}_accuracy"] == pytest.approx(metrics.paper_accuracy(ab, pred))


def test_rerun_reuses_runs_without_training_or_loading(runs_env, monkeypatch):
    cfg, ds, emb, split, runs_dir, table = runs_env
    folders = sorted(p.name for p in runs_dir.iterdir())

    def fail(*args, **kwargs):
        raise AssertionError("a finished run was trained or loaded again")

    monkeypatch.setattr(config.Config, "train_or_load", fail)
    again = study.run_study(cfg, ds, emb, split)
    assert sorted(p.name for p in runs_dir.iterdir()) == folders
    assert again.drop(columns="run_dir").equals(table.drop(columns="run_dir"))


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
    monkeypatch.setattr(config.Config, "train_or_load", lambda *a, **k: pytest.fail("diverged run retrained"))
    assert study.run_study(cfg, ds, bad, split, runs=runs).iloc[0]["status"] == "nan"


def test_compare_with_paper_caption_and_histories(setup):
    *_, table = setup
    styled = study.compare_with_paper(table)
    html = styled.to_html()
    assert "profile: smoke" in html and "embeddings: untrained" in html and "NOT RESULTS" in html
    assert "run_dir" not in styled.data.columns
    histories = study.study_histories(table)
    assert list(histories) == ["fig 13: arch2 lr=0.01 b=5 l2=0.01", "fig 15: arch2 lr=0.01 b=5 l2=0.01"]
    assert all(len(h["loss"]) == 1 and len(h["val_loss"]) == 1 for h in histories.values())


def test_evaluate_all_one_row_per_arch_and_baselines_once(runs_env):
    cfg, ds, emb, split, runs_dir, _ = runs_env
    before = len(list(runs_dir.iterdir()))
    df = study.evaluate_all(cfg, ds, emb, split, archs=("arch2",))
    assert len(list(runs_dir.iterdir())) == before  # arch2 at the profile's settings = the study's run
    assert list(df.index) == ["arch2", "gray baseline", "mean-ab baseline"]
    for col in metrics.METRICS + ("profile", "embedding_mode"):
        assert col in df.columns, col
    _, ab = ds.batch(split.test)
    assert df.loc["gray baseline", "ab_mse"] == pytest.approx(metrics.ab_mse(ab, metrics.gray_prediction(ab)), rel=1e-6)
    assert (df["constant_baseline"] == df.loc["arch2", "constant_baseline"]).all()


def test_evaluate_all_marks_a_diverged_arch(runs_env, monkeypatch):
    cfg, ds, emb, split, *_ = runs_env
    real = config.Config.train_or_load

    def arch3_diverges(self, arch, *args, **kwargs):  # every arch gets the trained arch2 run
        result = real(self, "arch2", *args, **kwargs)
        return replace(result, record={**result.record, "status": "nan"}) if arch == "arch3" else result

    monkeypatch.setattr(config.Config, "train_or_load", arch3_diverges)
    df = study.evaluate_all(cfg, ds, emb, split, archs=("arch3", "arch2"))
    assert list(df.index) == ["arch3", "arch2", "gray baseline", "mean-ab baseline"]  # baselines from arch2
    assert df.loc["arch3", list(metrics.METRICS)].isna().all() and "nan" in df.loc["arch3", "note"]
    assert df.loc["arch2", list(metrics.METRICS)].notna().all()
    with pytest.raises(RuntimeError, match="no architecture trained to completion"):
        study.evaluate_all(cfg, ds, emb, split, archs=("arch3",))


def test_slider_run_reuses_and_plots(runs_env):
    cfg, ds, emb, split, runs_dir, _ = runs_env
    before = len(list(runs_dir.iterdir()))
    history, fig = study.slider_run(cfg, ds, emb, split, "arch2", 0.01, 5, 0.01, 1)
    assert len(list(runs_dir.iterdir())) == before  # the study's arch2 run, reused
    assert len(history["loss"]) == 1 and len(fig.axes) == 2
    line = fig.axes[0].get_lines()[0]
    assert np.allclose(line.get_ydata(), history["loss"])
    assert len(study.slider_figure(cfg, ds, emb, split, "arch2", 0.01, 5, 0.01, 1).axes) == 2


def test_accuracy_blind_spot():
    rng = np.random.default_rng(3)
    ab = rng.normal(0, 6, (3, 16, 16, 2)).astype(np.float32)  # mostly muted colours, like photos
    table, preds = study.accuracy_blind_spot(ab)
    gray = table.loc["gray (ab = 0)"]
    assert table.loc["truth", "accuracy"] == 1 and table.loc["truth", "ab_mse"] == 0
    wild = table.loc["right side, wrong colour"]
    assert wild["accuracy"] == 1 and wild["ab_mse"] > 100 * gray["ab_mse"] and wild["auc"] < gray["auc"]
    assert gray["accuracy"] == pytest.approx(np.mean(ab[..., 0] >= ab[..., 1]))
    swapped = table.loc["truth, a and b swapped where |a - b| < 5"]
    diff = ab[..., 0] - ab[..., 1]
    assert swapped["accuracy"] == pytest.approx(1 - np.mean((np.abs(diff) < 5) & (diff != 0)))
    assert swapped["accuracy"] < 0.75 and swapped["ab_mse"] < gray["ab_mse"] / 2  # close colour, poor score
    assert all(v.shape == ab.shape for v in preds.values())


def test_photo_from_upload(tmp_path):
    import io

    import skimage.data
    from PIL import Image

    from deepcolor.photos import read_photo

    fallback = study.photo_from_upload((), tmp_path)
    assert fallback.name == "coffee.png" and np.array_equal(read_photo(fallback), skimage.data.coffee())
    rgb = np.random.default_rng(1).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    upload = ({"name": "../../evil/mine.png", "type": "image/png", "content": memoryview(buf.getvalue())},)
    path = study.photo_from_upload(upload, tmp_path / "up")
    assert path == tmp_path / "up" / "mine.png" and np.array_equal(read_photo(path), rgb)
    with pytest.raises(ValueError, match="FileUpload"):
        study.photo_from_upload(("not a dict",), tmp_path)


def test_show_before_after_draws_pixel_for_pixel():
    rng = np.random.default_rng(2)
    rgb_in = rng.random((40, 60, 3)).astype(np.float32)
    rgb_out = rng.random((40, 60, 3)).astype(np.float32)
    fig = study.show_before_after(rgb_in, rgb_out)
    assert len(fig.axes) == 3  # gray input, colorized, original
    assert fig.get_size_inches() * fig.dpi == pytest.approx((3 * 60, 40 + 30))
    assert np.allclose(fig.axes[1].get_images()[0].get_array(), rgb_out)
    gray_in = np.repeat(rgb_in[..., :1], 3, axis=-1)
    assert len(study.show_before_after(gray_in, rgb_out).axes) == 2  # no colour to show as "original"
    big = study.show_before_after(np.zeros((300, 2400), np.uint8), np.zeros((300, 2400, 3)), max_side=1200)
    assert big.get_size_inches()[0] * big.dpi == pytest.approx(2 * 1200)
    with pytest.raises(ValueError, match="same"):
        study.show_before_after(rgb_in, rgb_out[:10])


def test_colorize_command_parses_like_the_cli():
    import shlex

    from deepcolor.cli import build_parser

    cmd = study.colorize_command("/runs/my run/model.keras", "/photos/cat 1.jpg", "out dir")
    argv = shlex.split(cmd)
    assert argv[0] == "deepcolor"
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.images, args.outdir, args.model) == (
        "colorize", ["/photos/cat 1.jpg"], "out dir", "/runs/my run/model.keras")


def test_eval_file_written_per_run(setup):
    *_, table = setup
    for run_dir in table["run_dir"]:
        saved = json.loads((Path(run_dir) / study.EVAL_FILE).read_text())
        assert set(saved) == {"split", "val", "test"}
