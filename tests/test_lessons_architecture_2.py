"""deepcolor.lessons.architecture_2: does the fusion help? (notebook 06).

The ablation's table and figure are built from the loop notebook 06 runs, on 12 random 32x32 images at
input 16 for one epoch, in a private runs folder (the fixture ``tiny`` in tests/conftest.py).
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


def test_ablation_skips_imagenet_without_weights(monkeypatch):
    from deepcolor import weights

    cfg = config.Config(replace(config.PROFILES["smoke"], embedding_mode="imagenet"))
    monkeypatch.setattr(weights, "weights_available", lambda *a, **k: False)
    modes, note = architecture_2.ablation_modes(cfg)
    assert modes == ("untrained", "none") and "Only the untrained and none modes" in note and "weights" in note
    monkeypatch.setattr(weights, "weights_available", lambda *a, **k: True)
    assert architecture_2.ablation_modes(cfg)[0] == ("imagenet", "untrained", "none")


def test_ablation_without_imagenet_profile_never_asks_for_weights(monkeypatch):
    from deepcolor import weights

    def unreachable(*args, **kwargs):
        raise AssertionError("an untrained profile must not look for the ImageNet weights")

    monkeypatch.setattr(weights, "weights_available", unreachable)
    modes, note = architecture_2.ablation_modes(config.load("smoke"))
    assert modes == ("untrained", "none") and "'smoke'" in note


def test_ablation_table_and_figure_of_notebook_06s_loop(tiny):
    from deepcolor import embedding_cache, runs, train

    cfg, ds, emb, split, runs_dir = tiny
    modes, _ = architecture_2.ablation_modes(cfg)
    assert modes == ("untrained", "none")
    trained, embs = {}, {}
    for mode in modes:  # notebook 06's loop, at the tiny profile
        embs[mode] = emb if mode == cfg.embedding_mode else embedding_cache.dataset_embeddings(ds, mode)
        trained[mode] = train.train_or_load(ds, embs[mode], split, cfg.train_config("arch1"), embedding_mode=mode,
                                            profile=cfg.name, verbose=0, runs_dir=runs_dir)
    measured = {mode: comparison.evaluate_test_sets(r, ds, split, embs[mode]) for mode, r in trained.items()}
    ablation = architecture_2.ablation_table(measured, trained, embs, split)
    assert ablation.index.names == [LEVEL, "embeddings"]
    table = ablation.xs(UNSEEN, level=LEVEL)  # random arrays have no held-out crops: one test set
    assert list(table.index) == ["untrained", "none", "gray baseline", "mean-ab baseline"]
    assert table.loc["untrained", "run"] == trained["untrained"].run_dir.name
    assert table.loc["untrained", "ab_mse"] == measured["untrained"].loc[(UNSEEN, "model"), "ab_mse"]
    none_run = runs.Run.open(runs_dir / table.loc["none", "run"]).record
    assert none_run["embedding_mode"] == "none" and none_run["config"]["arch"] == "arch1"
    assert table.loc["none", "embedding spread"] == 0
    assert table.loc["untrained", "embedding spread"] > 0
    assert table.loc["none", "images"] == len(split.test) and table.loc["none", "status"] == "completed"
    assert table.loc["gray baseline", "run"] == ""
    shown = architecture_2.show_ablation(ablation, cfg, "arch1", split)
    assert "embeddings" not in shown.to_html().split("</thead>")[0].split("<th")[-1]
    assert "untrained, none" in shown.caption and comparison.sets_caption(split) in shown.caption
    fig = architecture_2.ablation_figure(ablation, cfg, "arch1", split)
    assert comparison.sets_caption(split) in " ".join(texts_of(fig).split())
    values = [t for t in fig.axes[0].texts if t.get_bbox_patch() is not None]
    assert len(values) == 2 and all(t.get_zorder() > line.get_zorder() for t in values for line in fig.axes[0].lines)


def test_ablation_table_keeps_a_mode_whose_run_did_not_complete(tiny):
    from deepcolor import train

    cfg, ds, emb, split, runs_dir = tiny
    done = train.train_or_load(ds, emb, split, cfg.train_config("arch3"), embedding_mode="untrained",
                               profile=cfg.name, verbose=0, runs_dir=runs_dir)

    class Diverged:  # a run that stopped on a NaN loss: listed, not measured
        run_dir, status = runs_dir / "diverged", "nan"

    embs = {"untrained": emb, "none": np.zeros_like(emb)}
    table = architecture_2.ablation_table({"untrained": comparison.evaluate_test_sets(done, ds, split, emb)},
                                          {"untrained": done, "none": Diverged()}, embs, split).xs(UNSEEN, level=LEVEL)
    assert list(table.index) == ["untrained", "none", "gray baseline", "mean-ab baseline"]
    assert np.isnan(table.loc["none", "ab_mse"]) and table.loc["none", "status"] == "nan"


def test_embedding_spread():
    assert architecture_2.embedding_spread(np.full((3, 4), 0.25)) == 0
    assert architecture_2.embedding_spread(np.eye(2)) == pytest.approx(1.0)  # each one-hot row is 1 from (0.5, 0.5)
    assert architecture_2.embedding_spread(np.eye(3), [0, 1]) == pytest.approx(1.0)
