"""deepcolor.lessons.results: what the paper's accuracy cannot see (notebook 09)."""

import numpy as np
import pytest

from deepcolor.lessons import results


def test_what_the_paper_accuracy_cannot_see_as_notebook_09_computes_it():
    """Notebook 09's four predictions, made as its cell makes them, score as its text says."""
    from deepcolor import metrics

    rng = np.random.default_rng(3)
    ab = rng.normal(0, 6, (3, 16, 16, 2)).astype(np.float32)  # mostly muted colours, like photos
    a_side = ab[..., :1] >= ab[..., 1:]
    near = np.abs(ab[..., :1] - ab[..., 1:]) < 5
    wild = np.where(a_side, [100.0, -100.0], [-100.0, 100.0])
    swapped = np.where(near, ab[..., ::-1], ab)
    gray = metrics.gray_prediction(ab)
    assert metrics.paper_accuracy(ab, wild) == 1 and metrics.ab_mse(ab, wild) > 100 * metrics.ab_mse(ab, gray)
    assert metrics.auc(ab, wild) < metrics.auc(ab, gray)
    assert metrics.paper_accuracy(ab, gray) == pytest.approx(np.mean(ab[..., 0] >= ab[..., 1]))
    diff = ab[..., 0] - ab[..., 1]
    assert metrics.paper_accuracy(ab, swapped) == pytest.approx(1 - np.mean((np.abs(diff) < 5) & (diff != 0)))
    assert metrics.paper_accuracy(ab, swapped) < 0.75 and metrics.ab_mse(ab, swapped) < metrics.ab_mse(ab, gray) / 2
    assert wild.shape == swapped.shape == ab.shape


def test_headline_beside_ours_says_what_differs_from_figure_20():
    import pandas as pd

    from deepcolor import config, paper

    from deepcolor.comparison import LEVEL, SEEN, UNSEEN

    cfg = config.Config(config.PROFILES["full"])
    res = pd.DataFrame({"accuracy": [0.61], "constant_baseline": [0.58], "images": [5000]},
                       index=pd.MultiIndex.from_tuples([(UNSEEN, "base")], names=[LEVEL, "predictor"]))
    styled = results.headline_beside_ours(res, cfg, 25_000)
    table = styled.data
    assert table["test accuracy"].tolist() == [paper.HEADLINE_TEST_ACCURACY, 0.61, 0.58]
    assert table.iloc[1]["setting"] == "differs from figure 20: 20 epochs, not 2,500"  # full: lr, batch, L2 as figure 20
    assert "2,500 epochs" in table.iloc[0]["setting"] and table.iloc[1]["test images"] == "5,000"
    assert UNSEEN in table.index[1] and UNSEEN in table.index[2]
    assert "profile: full" in styled.to_html() and "56.88%" in styled.to_html()
    seen = pd.DataFrame({"accuracy": [0.7], "constant_baseline": [0.55], "images": [21]},
                        index=pd.MultiIndex.from_tuples([(SEEN, "base")], names=[LEVEL, "predictor"]))
    both = results.headline_beside_ours(pd.concat([res, seen]), cfg, 25_000).data  # the sample: a row pair per test set
    assert both["test accuracy"].tolist() == [paper.HEADLINE_TEST_ACCURACY, 0.61, 0.58, 0.7, 0.55]
    assert SEEN in both.index[3] and both.iloc[3]["test images"] == "21"


def _photos(seed=0, n=3, size=12):
    rng = np.random.default_rng(seed)
    L = rng.uniform(30, 80, (n, size, size)).astype(np.float32)
    ab_true = rng.normal(0, 20, (n, size, size, 2)).astype(np.float32)
    ab_pred = (0.4 * ab_true + rng.normal(0, 5, ab_true.shape)).astype(np.float32)  # a dull, noisy prediction
    return L, ab_true, ab_pred


def test_chroma_gain_keeps_the_paper_accuracy_and_moves_colourfulness():
    from deepcolor import metrics

    L, ab_true, ab_pred = _photos()
    gains = [0.25, 0.5, 1.0, 2.0, 3.0]
    table = results.chroma_gain_table(L, ab_true, ab_pred, gains)
    base = metrics.paper_accuracy(ab_true, ab_pred)
    np.testing.assert_allclose(table["accuracy"], base)  # argmax over (a, b) ignores a positive scale
    assert np.all(np.diff(table["colourfulness"]) > 0)
    assert table["auc"].nunique() > 1 and table["ab_mse"].nunique() > 1
    gray = results.chroma_gain_table(L, ab_true, ab_pred, [0.0])
    assert gray.loc[0.0, "accuracy"] == pytest.approx(np.mean(ab_true[..., 0] >= ab_true[..., 1]))
    with pytest.raises(ValueError, match=">= 0"):
        results.chroma_gain_table(L, ab_true, ab_pred, [-1.0])


def test_chroma_gain_figure_marks_the_gain():
    L, ab_true, ab_pred = _photos(n=2)
    fig = results.chroma_gain_figure(L, ab_true, ab_pred, 1.7, gains=[0.0, 1.0, 3.0], caption="profile: x")
    texts = "\n".join(t.get_text() for sf in fig.subfigs for t in sf.texts) + fig._suptitle.get_text()
    titles = "\n".join(a.get_title() for a in fig.axes)
    assert "profile: x" in texts and "g = 1.7" in titles
    assert sum(len(a.get_images()) for a in fig.axes) == 4


def test_nan_run_deduction_matches_hand_computation():
    table = results.nan_run_deduction()
    test = table.loc["test"]
    assert test["figure 17 (NaN run)"] == pytest.approx(0.47044206)
    assert [test["p if its argmax was a"], test["p if it was b"]] == pytest.approx([0.47044206, 0.52955794])
    assert test["best constant max(p, 1 - p)"] == pytest.approx(0.52955794)
    assert test["figure 20 - best constant"] == pytest.approx(0.568752 - 0.52955794)
    val = table.loc["val"]
    assert val["best constant max(p, 1 - p)"] == pytest.approx(1 - 0.49233896)
    assert val["figure 20 - best constant"] == pytest.approx(0.57347536 - (1 - 0.49233896))


def test_fragile_share_of_a_synthetic_ab():
    ab = np.zeros((1, 2, 4, 2), np.float32)
    ab[0, 0] = [[10, 12], [20, -20], [-30, -34], [0, 4.9]]  # |a - b| = 2, 40, 4, 4.9: three fragile
    ab[0, 1] = [[50, 0], [3, 3], [-5, 5], [60, 55.5]]       # 50, 0, 10, 4.5: two fragile
    mask = results.fragile_mask(ab, 5.0)
    np.testing.assert_array_equal(mask[0], [[1, 0, 1, 1], [0, 1, 0, 1]])
    L = np.full((1, 2, 4), 50.0, np.float32)
    fig, share = results.fragile_pixels_figure(L, ab, 5.0, caption="profile: x")
    assert share == pytest.approx(5 / 8)
    assert "62%" in fig._suptitle.get_text() or "63%" in fig._suptitle.get_text()
    assert "profile: x" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="threshold"):
        results.fragile_mask(ab, 0)


def test_chroma_gain_figure_reuses_a_table():
    L, ab_true, ab_pred = _photos(n=2)
    table = results.chroma_gain_table(L, ab_true, ab_pred, [0.0, 1.0, 3.0])
    fig = results.chroma_gain_figure(L, ab_true, ab_pred, 2.0, table=table)
    assert "g = 2" in "\n".join(a.get_title() for a in fig.axes)
    assert len(fig.axes[0].lines[0].get_xdata()) == 4  # the three gains of the table and 2.0
