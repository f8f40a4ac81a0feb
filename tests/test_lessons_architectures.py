"""deepcolor.lessons.architectures: each model's layers beside the paper's figure, the four side by
side, and the lesson every architecture notebook shares (05-07; their exercises: tests/test_exercises.py).

Training tests use 12 random 32x32 images at input 16 for one epoch, in a private runs folder
(the fixtures ``tiny`` and ``lesson`` in tests/conftest.py).
"""

import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepcolor import comparison, data, paper  # noqa: E402
from deepcolor.lessons import architectures  # noqa: E402

from figure_checks import texts_of  # noqa: E402


@pytest.mark.parametrize("name", paper.ARCHITECTURES)
def test_layer_table_vs_paper_totals_equal_the_paper(name):
    from deepcolor import models

    table = architectures.layer_table_vs_paper(name)
    total = table.iloc[-1]
    assert total["stage"] == "total"
    assert total["params"] == paper.PAPER_PARAMS[name] and total["matches paper"]
    assert f"{paper.PAPER_PARAMS[name]:,} params (figure {paper.ARCHITECTURE_FIGURES[name]})" == total["paper"]
    assert table["matches paper"].all()
    assert total["flops"] == models.flops(name, 224)
    assert table.iloc[:-1]["params"].sum() == paper.PAPER_PARAMS[name]
    # the paper's list, read back from the table, is the design reference's list
    assert (table["paper"] == "concat embedding").sum() == 1


def test_layer_table_vs_paper_reads_a_built_model():
    from deepcolor import models

    model = models.build_model("arch3", 32)
    table = architectures.layer_table_vs_paper("arch3", 32, model=model)
    assert table.iloc[-1]["params"] == model.count_params() == paper.PAPER_PARAMS["arch3"]
    assert table.iloc[-2]["output"] == "32x32x2"


def test_layer_table_vs_paper_flags_a_wrong_architecture(monkeypatch):
    wrong = dict(paper.TABLES["arch3"])
    wrong["encoder"] = wrong["encoder"][:-1]  # drop the last encoder conv
    monkeypatch.setitem(paper.TABLES, "arch3", wrong)
    table = architectures.layer_table_vs_paper("arch3")
    assert not table.iloc[-1]["matches paper"]
    assert (table["name"] == "(missing)").sum() == 1
    assert not table["matches paper"].all()


def test_compare_architectures():
    from deepcolor import models

    df = architectures.compare_architectures((224, 32))
    assert list(df.index) == list(paper.ARCHITECTURES)
    assert df["matches paper"].all()
    assert df.loc["base", "GFLOP @ 224"] == pytest.approx(15.08, abs=0.01)
    assert df.loc["arch3", "GFLOP @ 32"] == pytest.approx(models.flops("arch3", 32) / 1e9, abs=1e-3)
    assert df.loc["base", "params vs base"] == 1.0


def test_architecture_lesson_names_its_data(tiny, lesson):
    cfg, ds, _, split, _ = tiny
    assert lesson.run.status == "completed" and lesson.run.record["embedding_mode"] == "untrained"
    assert lesson.layers.iloc[-1]["params"] == paper.PAPER_PARAMS["arch1"] and lesson.layers["matches paper"].all()
    table = architectures.data_table(cfg, ds, split)
    assert table.loc["test", "smoke"] == len(split.test) and table.loc["train", "smoke"] == len(split.train)
    assert table.loc["test_seen", "smoke"] == 0  # random arrays have no held-out crops
    assert "test images from a photo also in train" not in table.index  # random arrays name no photos
    curves, pictures = (" ".join(texts_of(fig).split()) for fig in (lesson.curves, lesson.pictures))
    assert f"trained on {len(split.train)} images" in curves and "NOT RESULTS" in curves
    shown = comparison.picture_indices(ds, split)
    assert shown.caption in pictures and "profile: smoke" in pictures
    assert lesson.results.loc[(comparison.UNSEEN, "model"), "images"] == len(split.test)
    assert list(lesson.results.index.unique(comparison.LEVEL)) == [comparison.UNSEEN]  # no test_seen here
    assert comparison.sets_caption(split) in lesson.metrics.caption
    assert set(lesson.paper["model"]) == {"arch1", "base"}


def test_photos_shared_with_train_counts_shared_photos():
    ds = data.LabDataset.from_arrays(np.zeros((4, 8, 8), np.float32), np.zeros((4, 8, 8, 2), np.float32))
    assert architectures.photos_shared_with_train(ds, ([0], [1], [2, 3])) is None  # no photo names

    class Named:
        groups = np.array(["cat", "cat", "dog", "cat"])

    assert architectures.photos_shared_with_train(Named(), ([0], [1], [2, 3])) == 1
