"""Tests of deepcolor.plots: figures drawn headless (Agg), and the tables beside the paper."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from deepcolor import color, plots  # noqa: E402


def _images(n=4, size=16, seed=0):
    rng = np.random.default_rng(seed)
    L = rng.uniform(30, 80, (n, size, size)).astype(np.float32)
    ab = rng.uniform(-25, 25, (n, size, size, 2)).astype(np.float32)
    return L, ab


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_show_colorizations_draws_gray_prediction_and_truth():
    L, ab_true = _images(4)
    ab_pred = ab_true[::-1].copy()  # a different colouring, so the rows cannot be confused
    fig = plots.show_colorizations(L, ab_pred, ab_true, titles=["a", "b", "c", "d"], caption="smoke")
    axes = np.array(fig.axes).reshape(3, 4)
    assert len(_image_axes(fig)) == 12
    for i in range(4):
        gray, pred, true = (np.asarray(axes[r, i].images[0].get_array()) for r in range(3))
        np.testing.assert_allclose(gray, color.gray_to_rgb(L[i]), atol=1e-6)
        np.testing.assert_allclose(pred, color.lab_parts_to_rgb(L[i], ab_pred[i]), atol=1e-6)
        np.testing.assert_allclose(true, color.lab_parts_to_rgb(L[i], ab_true[i]), atol=1e-6)
        assert gray.shape == (16, 16, 3) and np.allclose(gray[..., 0], gray[..., 2], atol=1e-3)
    assert [axes[0, i].get_title() for i in range(4)] == ["a", "b", "c", "d"]
    assert [axes[r, 0].get_ylabel() for r in range(3)] == ["gray input", "prediction", "truth"]
    assert fig._suptitle.get_text() == "smoke"


def test_figures_are_returned_once_not_left_open_in_pyplot():
    import matplotlib.pyplot as plt

    plt.close("all")
    L, ab = _images(2)
    figs = [plots.show_colorizations(L, ab), plots.loss_curves({"a": {"loss": [1.0, 0.5]}})]
    assert plt.get_fignums() == []  # Jupyter would otherwise draw each figure a second time
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)


def test_show_colorizations_without_truth_and_max_images():
    L, ab = _images(9)
    fig = plots.show_colorizations(L, ab, max_images=5)
    assert len(_image_axes(fig)) == 10  # 2 rows x 5 columns: no truth row
    assert fig.axes[1 * 5 + 4].get_ylabel() == ""  # labels only in the first column
    np.testing.assert_allclose(fig.axes[5 + 4].images[0].get_array(), color.lab_parts_to_rgb(L[4], ab[4]), atol=1e-6)
    fig.savefig(__import__("io").BytesIO(), format="png")  # renders headless


def test_show_colorizations_rejects_mismatched_shapes():
    L, ab = _images(3)
    with pytest.raises(ValueError, match="expected"):
        plots.show_colorizations(L, ab[:, :8])
    with pytest.raises(ValueError, match=r"\(n, H, W\)"):
        plots.show_colorizations(L[0], ab[0])
    with pytest.raises(ValueError, match="max_images"):
        plots.show_colorizations(L, ab, max_images=0)


def test_loss_curves_one_panel_per_metric_one_line_per_run():
    histories = {"base": {"loss": [0.3, 0.2, 0.1], "val_loss": [0.4, 0.3, 0.25]},
                 "arch1": {"loss": [0.5, 0.4], "val_loss": [0.6, 0.5]}}
    fig = plots.loss_curves(histories, caption="profile smoke")
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["loss", "val_loss"]
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["base", "arch1"]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.3, 0.2, 0.1])
    np.testing.assert_allclose(lines[0].get_xdata(), [1, 2, 3])  # epochs count from 1
    np.testing.assert_allclose(fig.axes[1].get_lines()[1].get_ydata(), [0.6, 0.5])


def test_loss_curves_grid_for_many_metrics():
    history = {k: [0.5, 0.4] for k in ("loss", "val_loss", "accuracy", "val_accuracy", "lr")}
    assert len(plots.loss_curves(history, metrics=tuple(history)[:4]).axes) == 4  # 2 x 2
    fig = plots.loss_curves(history, metrics=tuple(history))
    assert [ax.get_title() for ax in fig.axes] == list(history)  # 2 rows of 3, the spare panel removed


def test_loss_curves_marks_nan_epochs():
    nan = float("nan")
    fig = plots.loss_curves({"lr 0.1": {"loss": [0.5, nan, None, math.inf]}}, metrics=("loss",))
    line, marks = fig.axes[0].get_lines()
    y = np.asarray(line.get_ydata(), float)
    assert y[0] == 0.5 and np.isnan(y[1:]).all()  # the diverged epochs leave a gap, no fake value
    np.testing.assert_allclose(marks.get_xdata(), [2, 3, 4])
    assert marks.get_label() == "lr 0.1: NaN"
    fig.savefig(__import__("io").BytesIO(), format="png")
    all_nan = plots.loss_curves({"x": {"loss": [nan, nan]}}, metrics="loss")
    all_nan.savefig(__import__("io").BytesIO(), format="png")


def test_loss_curves_missing_metric_reference_and_single_history():
    fig = plots.loss_curves({"loss": [1.0, 0.5]}, metrics=("loss", "accuracy"),
                            reference={"loss": ("constant", 0.75)})
    assert fig.axes[0].get_lines()[0].get_label() == "run"
    assert fig.axes[0].get_lines()[-1].get_ydata()[0] == 0.75
    assert not fig.axes[1].get_lines()
    assert "accuracy" in fig.axes[1].texts[0].get_text()
    with pytest.raises(ValueError, match="history"):
        plots.loss_curves({"a": 3})


@pytest.mark.parametrize("name", ["base", "arch1", "arch2", "arch3"])
def test_layer_table_vs_paper_totals_equal_the_paper(name):
    from deepcolor import models

    table = plots.layer_table_vs_paper(name)
    total = table.iloc[-1]
    assert total["stage"] == "total"
    assert total["params"] == models.PAPER_PARAMS[name] and total["matches paper"]
    assert table["matches paper"].all()
    assert total["flops"] == models.flops(name, 224)
    assert table.iloc[:-1]["params"].sum() == models.PAPER_PARAMS[name]
    # the paper's list, read back from the table, is the design reference's list
    assert (table["paper"] == "concat embedding").sum() == 1


def test_layer_table_vs_paper_reads_a_built_model():
    from deepcolor import models

    model = models.build_model("arch3", 32)
    table = plots.layer_table_vs_paper("arch3", 32, model=model)
    assert table.iloc[-1]["params"] == model.count_params() == models.PAPER_PARAMS["arch3"]
    assert table.iloc[-2]["output"] == "32x32x2"


def test_layer_table_vs_paper_flags_a_wrong_architecture(monkeypatch):
    from deepcolor import models

    tables = dict(models.TABLES)
    wrong = dict(tables["arch3"])
    wrong["encoder"] = wrong["encoder"][:-1]  # drop the last encoder conv
    monkeypatch.setitem(models.TABLES, "arch3", wrong)
    table = plots.layer_table_vs_paper("arch3")
    assert not table.iloc[-1]["matches paper"]
    assert (table["name"] == "(missing)").sum() == 1
    assert not table["matches paper"].all()


def test_compare_architectures():
    from deepcolor import models

    df = plots.compare_architectures((224, 32))
    assert list(df.index) == list(models.ARCHITECTURES)
    assert df["matches paper"].all()
    assert df.loc["base", "GFLOP @ 224"] == pytest.approx(15.08, abs=0.01)
    assert df.loc["arch3", "GFLOP @ 32"] == pytest.approx(models.flops("arch3", 32) / 1e9, abs=1e-3)
    assert df.loc["base", "params vs base"] == 1.0


def _evaluation(accuracy):
    return pd.DataFrame({"accuracy": [accuracy, 0.5, 0.52], "ab_mse": [100.0, 200.0, 150.0],
                         "images": [6, 6, 6], "note": ["", "", ""]},
                        index=pd.Index(["model", "gray baseline", "mean-ab baseline"], name="predictor"))


def test_metrics_table_names_profile_and_embeddings():
    styler = plots.metrics_table(_evaluation(0.6), "smoke", "untrained", "base, test split")
    caption = styler.caption
    assert "profile: smoke" in caption and "embeddings: untrained" in caption and "NOT RESULTS" in caption
    assert set(styler.data["profile"]) == {"smoke"} and set(styler.data["embeddings"]) == {"untrained"}
    html = styler.to_html()
    assert "0.6000" in html and "base, test split" in html
    full = plots.metrics_table(_evaluation(0.6), "full", "imagenet")
    assert "NOT RESULTS" not in full.caption and "profile: full" in full.caption


def test_results_side_by_side():
    df = plots.results_side_by_side({"base": _evaluation(0.6), "arch1": _evaluation(0.55)})
    assert list(df.index) == ["base", "arch1", "gray baseline", "mean-ab baseline"]
    assert df.loc["arch1", "accuracy"] == 0.55
    with pytest.raises(ValueError):
        plots.results_side_by_side({})


def test_run_summary_reads_the_record(tmp_path):
    from types import SimpleNamespace

    record = {"config": {"arch": "arch2"}, "profile": "smoke", "embedding_mode": "untrained", "status": "nan",
              "epochs": [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}], "wall_time_s": 12.345, "started": "today"}
    row = plots.run_summary(SimpleNamespace(record=record, run_dir=tmp_path)).iloc[0]
    assert (row["arch"], row["status"], row["epochs"], row["wall time (s)"]) == ("arch2", "nan", 3, 12.3)
    assert row["run folder"] == str(tmp_path) and row["profile"] == "smoke"


def test_trained_results_uses_finished_runs_only(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from deepcolor import data, metrics, models, train

    rng = np.random.default_rng(1)
    ds = data.LabDataset.from_arrays(rng.uniform(10, 90, (6, 32, 32)).astype(np.float32),
                           rng.uniform(-30, 30, (6, 32, 32, 2)).astype(np.float32))
    emb = rng.random((6, 1000)).astype(np.float32)
    split = data.Split(np.arange(3), np.array([3]), np.array([4, 5]))
    model = models.build_model("arch3", 32)
    loaded = []

    class FakeConfig:
        name, embedding_mode = "smoke", "untrained"

        def train_config(self, arch):
            return arch

        def train_or_load(self, arch, *args, **kwargs):
            raise AssertionError(f"trained_results must never train ({arch})")

    def load_finished(run_dir):
        loaded.append(run_dir.name)
        return SimpleNamespace(model=model, run_dir=run_dir)

    monkeypatch.setattr(train, "find_run", lambda arch, *a: tmp_path / f"run-{arch}" if arch == "arch3" else None)
    monkeypatch.setattr(train, "load_finished", load_finished)
    own = metrics.evaluate(model, ds, split.test, emb, train_indices=split.train)
    table = plots.trained_results(FakeConfig(), ds, emb, split, ["base", "arch3"], known={"arch2": own})
    assert loaded == ["run-arch3"]  # base has no finished run: nothing is loaded or trained for it
    assert list(table.index) == ["base", "arch3", "arch2", "gray baseline", "mean-ab baseline"]
    assert "04_base_model" in table.loc["base", "note"] and np.isnan(table.loc["base", "accuracy"])
    assert table.loc["arch3", "run"] == "run-arch3"
    assert table.loc["arch3", "ab_mse"] == pytest.approx(own.loc["model", "ab_mse"])
    assert table.loc["gray baseline", "ab_mse"] == pytest.approx(own.loc["gray baseline", "ab_mse"])


def test_caption_flags_offline_fallback_numbers():
    from deepcolor.plots import caption

    assert "NOT RESULTS" in caption("default-offline", "imagenet")
    assert "NOT RESULTS" not in caption("default", "imagenet")
