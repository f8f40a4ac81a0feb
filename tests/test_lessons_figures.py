"""deepcolor.lessons.figures: what the lessons' pictures share, drawn headless (Agg)."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from deepcolor import color  # noqa: E402
from deepcolor.lessons import figures  # noqa: E402


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
    fig = figures.show_colorizations(L, ab_pred, ab_true, titles=["a", "b", "c", "d"], caption="smoke")
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
    figs = [figures.show_colorizations(L, ab), figures.loss_curves({"a": {"loss": [1.0, 0.5]}})]
    assert plt.get_fignums() == []  # Jupyter would otherwise draw each figure a second time
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)


def test_show_colorizations_without_truth_and_max_images():
    L, ab = _images(9)
    fig = figures.show_colorizations(L, ab, max_images=5)
    assert len(_image_axes(fig)) == 10  # 2 rows x 5 columns: no truth row
    assert fig.axes[1 * 5 + 4].get_ylabel() == ""  # labels only in the first column
    np.testing.assert_allclose(fig.axes[5 + 4].images[0].get_array(), color.lab_parts_to_rgb(L[4], ab[4]), atol=1e-6)
    fig.savefig(__import__("io").BytesIO(), format="png")  # renders headless


def test_show_colorizations_rejects_mismatched_shapes():
    L, ab = _images(3)
    with pytest.raises(ValueError, match="expected"):
        figures.show_colorizations(L, ab[:, :8])
    with pytest.raises(ValueError, match=r"\(n, H, W\)"):
        figures.show_colorizations(L[0], ab[0])
    with pytest.raises(ValueError, match="max_images"):
        figures.show_colorizations(L, ab, max_images=0)


def test_loss_curves_one_panel_per_metric_one_line_per_run():
    histories = {"base": {"loss": [0.3, 0.2, 0.1], "val_loss": [0.4, 0.3, 0.25]},
                 "arch1": {"loss": [0.5, 0.4], "val_loss": [0.6, 0.5]}}
    fig = figures.loss_curves(histories, caption="profile smoke")
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["loss", "val_loss"]
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["base", "arch1"]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.3, 0.2, 0.1])
    np.testing.assert_allclose(lines[0].get_xdata(), [1, 2, 3])  # epochs count from 1
    np.testing.assert_allclose(fig.axes[1].get_lines()[1].get_ydata(), [0.6, 0.5])


def test_loss_curves_grid_for_many_metrics():
    history = {k: [0.5, 0.4] for k in ("loss", "val_loss", "accuracy", "val_accuracy", "lr")}
    assert len(figures.loss_curves(history, metrics=tuple(history)[:4]).axes) == 4  # 2 x 2
    fig = figures.loss_curves(history, metrics=tuple(history))
    assert [ax.get_title() for ax in fig.axes] == list(history)  # 2 rows of 3, the spare panel removed


def test_loss_curves_marks_nan_epochs():
    nan = float("nan")
    fig = figures.loss_curves({"lr 0.1": {"loss": [0.5, nan, None, math.inf]}}, metrics=("loss",))
    line, marks = fig.axes[0].get_lines()
    y = np.asarray(line.get_ydata(), float)
    assert y[0] == 0.5 and np.isnan(y[1:]).all()  # the diverged epochs leave a gap, no fake value
    np.testing.assert_allclose(marks.get_xdata(), [2, 3, 4])
    assert marks.get_label() == "lr 0.1: NaN"
    fig.savefig(__import__("io").BytesIO(), format="png")
    all_nan = figures.loss_curves({"x": {"loss": [nan, nan]}}, metrics="loss")
    all_nan.savefig(__import__("io").BytesIO(), format="png")


def test_loss_curves_missing_metric_reference_and_single_history():
    fig = figures.loss_curves({"loss": [1.0, 0.5]}, metrics=("loss", "accuracy"),
                            reference={"loss": ("constant", 0.75)})
    assert fig.axes[0].get_lines()[0].get_label() == "run"
    assert fig.axes[0].get_lines()[-1].get_ydata()[0] == 0.75
    assert not fig.axes[1].get_lines()
    assert "accuracy" in fig.axes[1].texts[0].get_text()
    with pytest.raises(ValueError, match="history"):
        figures.loss_curves({"a": 3})










def _evaluation(accuracy):
    return pd.DataFrame({"accuracy": [accuracy, 0.5, 0.52], "ab_mse": [100.0, 200.0, 150.0],
                         "images": [6, 6, 6], "note": ["", "", ""]},
                        index=pd.Index(["model", "gray baseline", "mean-ab baseline"], name="predictor"))



def test_loss_curves_label_the_y_axis_with_units():
    history = {"loss": [0.5, 0.4], "val_loss": [0.6, 0.5], "val_accuracy": [0.5, 0.6], "lr": [1e-3, 1e-3]}
    fig = figures.loss_curves({"base": history}, metrics=tuple(history))
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels == [figures.LOSS_UNITS["mse"]] * 2 + [figures.ACCURACY_UNITS, "lr"]
    assert "ab/128" in labels[0] and "L2" in labels[0]

    class ClassifierRun:  # what loss_curves reads of a runs.Run: its history and its head's kind
        history = {"loss": [2.0, 1.5]}
        head = type("Head", (), {"kind": "classify"})()

    assert figures.loss_curves({"classes": ClassifierRun()}, "loss").axes[0].get_ylabel().startswith("cross-entropy")
    both = figures.loss_curves({"mse": history, "classes": ClassifierRun()}, "loss").axes[0].get_ylabel()
    assert both == f"{figures.LOSS_UNITS['mse']} / {figures.LOSS_UNITS['classify']}"
    assert figures.loss_curves(history, "loss", units={"loss": "my units"}).axes[0].get_ylabel() == "my units"

def test_metrics_table_names_profile_and_embeddings():
    styler = figures.metrics_table(_evaluation(0.6), "smoke", "untrained", "base, test split")
    caption = styler.caption
    assert "profile: smoke" in caption and "embeddings: untrained" in caption and "NOT RESULTS" in caption
    assert set(styler.data["profile"]) == {"smoke"} and set(styler.data["embeddings"]) == {"untrained"}
    html = styler.to_html()
    assert "0.6000" in html and "base, test split" in html
    full = figures.metrics_table(_evaluation(0.6), "full", "imagenet")
    assert "NOT RESULTS" not in full.caption and "profile: full" in full.caption


def test_metrics_table_replaces_the_provenance_a_table_carries():
    own = _evaluation(0.6).assign(profile="smoke", embedding_mode="untrained")  # as architecture_results gives
    shown = figures.metrics_table(own, "smoke", "untrained").data
    assert list(shown.columns) == ["accuracy", "ab_mse", "images", "note", "profile", "embeddings"]


def test_run_summary_reads_the_record(tmp_path):
    from types import SimpleNamespace

    record = {"config": {"arch": "arch2"}, "profile": "smoke", "embedding_mode": "untrained", "status": "nan",
              "epochs": [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}], "wall_time_s": 12.345, "started": "today"}
    row = figures.run_summary(SimpleNamespace(record=record, run_dir=tmp_path)).iloc[0]
    assert (row["arch"], row["status"], row["epochs"], row["wall time (s)"]) == ("arch2", "nan", 3, 12.3)
    assert row["run folder"] == str(tmp_path) and row["profile"] == "smoke"


def test_caption_says_what_the_offline_sample_teaches_and_flags_smoke_only():
    from deepcolor.comparison import GAP_LESSON
    from deepcolor.lessons.figures import caption

    offline = caption("default-offline", "untrained", "base")
    assert "NOT RESULTS" not in offline and GAP_LESSON in offline and "deepcolor classroom use" in offline
    assert "photos it has seen" in offline and "photos it has never seen" in offline
    assert "random weights" in offline  # the untrained embedder is named as such
    assert "NOT RESULTS" in caption("smoke", "untrained")  # 32x32, two epochs: the code runs, no more
    online = caption("default", "imagenet")
    assert "NOT RESULTS" not in online and GAP_LESSON not in online


def test_channel_colormaps_run_green_to_magenta_and_blue_to_yellow():
    a, b = figures.channel_cmap("a"), figures.channel_cmap("b")
    lo, hi = a(0.0), a(1.0)
    assert lo[1] > lo[0] and hi[0] > hi[1]  # a < 0 green, a > 0 magenta
    lo, hi = b(0.0), b(1.0)
    assert lo[2] > lo[0] and hi[0] > hi[2] and hi[1] > hi[2]  # b < 0 blue, b > 0 yellow
    with pytest.raises(ValueError, match="'a' or 'b'"):
        figures.channel_cmap("L")


def test_a_long_legend_goes_below_the_axes_and_hides_no_data():
    names = [f"fig {12 + i}: base lr=0.001 b=5 l2=0.01" for i in range(9)]
    histories = {name: {"loss": [1.0 + i, 0.5 + i], "val_loss": [2.0 + i, 1.0 + i]} for i, name in enumerate(names)}
    fig = figures.loss_curves(histories, caption="profile smoke")
    assert [ax.get_legend() for ax in fig.axes] == [None, None] and len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == names  # each run once, not once per panel
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)  # the constrained layout places the legend
    box = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent(renderer)), "the legend covers a panel"
        assert box.y1 <= ax.xaxis.label.get_window_extent(renderer).y0, "the legend covers the epoch label"


def test_a_short_legend_of_one_panel_stays_inside():
    fig = figures.loss_curves({"base": {"loss": [0.3, 0.2]}}, metrics=("loss",))
    assert fig.legends == [] and [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["base"]
