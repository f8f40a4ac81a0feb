"""deepcolor.lessons.results: what the paper's accuracy cannot see (notebook 09)."""

import numpy as np
import pytest

from deepcolor.lessons import results


def test_accuracy_blind_spot():
    rng = np.random.default_rng(3)
    ab = rng.normal(0, 6, (3, 16, 16, 2)).astype(np.float32)  # mostly muted colours, like photos
    table, preds = results.accuracy_blind_spot(ab)
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


def test_headline_beside_ours_says_what_differs_from_figure_20():
    import pandas as pd

    from deepcolor import config, paper

    cfg = config.Config(config.PROFILES["full"])
    res = pd.DataFrame({"accuracy": [0.61], "constant_baseline": [0.58]}, index=["base"])
    styled = results.headline_beside_ours(res, cfg, 25_000, 5_000)
    table = styled.data
    assert table["test accuracy"].tolist() == [paper.HEADLINE_TEST_ACCURACY, 0.61, 0.58]
    assert table.iloc[1]["setting"] == "differs from figure 20: 20 epochs, not 2,500"  # full: lr, batch, L2 as figure 20
    assert "2,500 epochs" in table.iloc[0]["setting"] and table.iloc[1]["test images"] == "5,000"
    assert "profile: full" in styled.to_html() and "56.88%" in styled.to_html()
