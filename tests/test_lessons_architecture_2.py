"""deepcolor.lessons.architecture_2: does the fusion help? (notebook 06).

Training tests use 12 random 32x32 images at input 16 for one epoch, in a private runs folder
(the fixtures ``tiny`` and ``lesson`` in tests/conftest.py).
"""

import matplotlib

matplotlib.use("Agg")

from dataclasses import replace  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepcolor import comparison, config  # noqa: E402
from deepcolor.comparison import LEVEL, UNSEEN  # noqa: E402
from deepcolor.lessons import architecture_2  # noqa: E402

from figure_checks import texts_of  # noqa: E402


def test_ablation_skips_and_refuses_imagenet_without_weights(monkeypatch):
    from deepcolor import weights

    cfg = config.Config(replace(config.PROFILES["smoke"], embedding_mode="imagenet"))
    monkeypatch.setattr(weights, "weights_available", lambda *a, **k: False)
    modes, note = architecture_2.ablation_modes(cfg)
    assert modes == ("untrained", "none") and "Only the untrained and none modes" in note and "weights" in note
    with pytest.raises(weights.WeightsUnavailableError, match="imagenet"):
        architecture_2.fusion_ablation(cfg, None, None, modes=("imagenet", "none"))  # refused before any work
    monkeypatch.setattr(weights, "weights_available", lambda *a, **k: True)
    assert architecture_2.ablation_modes(cfg)[0] == ("imagenet", "untrained", "none")


def test_ablation_without_imagenet_profile_never_asks_for_weights(monkeypatch):
    from deepcolor import weights

    def unreachable(*args, **kwargs):
        raise AssertionError("an untrained profile must not look for the ImageNet weights")

    monkeypatch.setattr(weights, "weights_available", unreachable)
    modes, note = architecture_2.ablation_modes(config.load("smoke"))
    assert modes == ("untrained", "none") and "'smoke'" in note


def test_fusion_ablation_records_each_mode(tiny, lesson):
    from deepcolor import runs

    cfg, ds, emb, split, runs_dir = tiny
    ablation = architecture_2.fusion_ablation(cfg, ds, split, "arch1", emb=emb, lesson=lesson, verbose=0,
                                             runs_dir=runs_dir)
    assert ablation.modes == ("untrained", "none")
    assert ablation.table.index.names == [LEVEL, "embeddings"]
    table = ablation.table.xs(UNSEEN, level=LEVEL)  # random arrays have no held-out crops: one test set
    assert list(table.index) == ["untrained", "none", "gray baseline", "mean-ab baseline"]
    assert table.loc["untrained", "run"] == lesson.run.run_dir.name  # the lesson's run, reused
    assert table.loc["untrained", "ab_mse"] == lesson.results.loc[(UNSEEN, "model"), "ab_mse"]
    none_run = runs.Run.open(runs_dir / table.loc["none", "run"]).record
    assert none_run["embedding_mode"] == "none" and none_run["config"]["arch"] == "arch1"
    assert table.loc["none", "embedding spread"] == 0
    assert table.loc["untrained", "embedding spread"] > 0
    assert table.loc["none", "images"] == len(split.test)
    assert "Only the untrained and none modes" in ablation.note
    assert comparison.sets_caption(split) in " ".join(texts_of(ablation.figure).split())
    assert "embeddings" not in ablation.shown.to_html().split("</thead>")[0].split("<th")[-1]


def test_embedding_spread():
    assert architecture_2.embedding_spread(np.full((3, 4), 0.25)) == 0
    assert architecture_2.embedding_spread(np.eye(2)) == pytest.approx(1.0)  # each one-hot row is 1 from (0.5, 0.5)
    assert architecture_2.embedding_spread(np.eye(3), [0, 1]) == pytest.approx(1.0)
