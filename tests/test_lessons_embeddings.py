"""deepcolor.lessons.embeddings: notebook 03_embeddings: the embedding pictures and tables, drawn headless."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from figure_checks import images_of, texts_of  # noqa: E402
from deepcolor import embeddings  # noqa: E402
from deepcolor.lessons import embeddings as embeddings_lesson  # noqa: E402


def test_show_preprocessing_contrasts_the_right_range_with_the_bug():
    L = np.tile(np.linspace(0, 100, 32, dtype=np.float32), (32, 1))
    fig = embeddings_lesson.show_preprocessing(L)
    assert len(fig.axes) == 3
    good, bad = (np.asarray(im.get_array()) for im in images_of(fig))
    assert good.shape == (299, 299)
    assert good.min() < -0.95 and good.max() > 0.95
    assert bad.max() < -0.95  # the [0, 1] bug: everything near -1
    heights = [p.get_height() for p in fig.axes[2].patches]
    assert sum(heights) == 2 * 299 * 299 * 3
    with pytest.raises(ValueError, match="one image"):
        embeddings_lesson.show_preprocessing(L[None])


def test_top_labels_table_asks_for_each_gray_image(sample_ds, monkeypatch):
    seen = []

    def fake_top_labels(image, k=5, embedder=None):
        seen.append(image)
        return [(f"class{r}", 1.0 / (r + 1)) for r in range(k)]

    monkeypatch.setattr(embeddings, "top_labels", fake_top_labels)
    df = embeddings_lesson.top_labels_table(sample_ds, [1, 4], k=3)
    assert len(df) == 6 and df.loc[(4, 1), "class"] == "class0"
    assert df.loc[(1, 2), "photo"] == sample_ds.manifest["items"][1]["photo"]
    np.testing.assert_array_equal(seen[1], sample_ds[4][0])  # the gray L of image 4


def test_show_embedding_tiling_draws_the_profiles_grid_and_names_the_embedder():
    e = np.random.default_rng(1).random(1000).astype(np.float32)
    fig = embeddings_lesson.show_embedding_tiling(e, spatial=4, channels=64, mode="untrained")
    assert len(fig.axes) == 2
    np.testing.assert_array_equal(images_of(fig)[0].get_array()[0], e)
    text = texts_of(fig)
    assert "4x4x64" in text and "4x4x1000" in text and "4x4x1064" in text and "28x28" not in text
    assert "concatenate" in text and "+" not in text.replace("4x4", "")  # concatenation, not a sum
    assert "UNTRAINED" in text and "random weights" in text
    front = [line for line in fig.axes[1].lines if line.get_color() == "w"]
    assert len(front) == 4 * 2 * 3  # 3 inner lines each way on the 4 front faces: a 4x4 grid
    assert "ImageNet embedder" in texts_of(embeddings_lesson.show_embedding_tiling(e, spatial=28, mode="imagenet"))
    with pytest.raises(ValueError, match="spatial"):
        embeddings_lesson.show_embedding_tiling(e, spatial=0)


def test_show_embeddings_heat_map_and_similarity():
    emb = np.zeros((10, 1000), np.float32)
    emb[np.arange(10), np.arange(10)] = 1.0  # ten different one-hot "photos"
    fig = embeddings_lesson.show_embeddings(emb, n=4, mode="imagenet")
    heat, sim = images_of(fig)
    assert len(fig.axes) == 4  # two plots, two colour bars
    np.testing.assert_array_equal(heat.get_array(), emb[:4])
    np.testing.assert_allclose(sim.get_array(), np.eye(4), atol=1e-6)
    alike = embeddings_lesson.show_embeddings(np.full((3, 1000), 1e-3, np.float32))
    np.testing.assert_allclose(images_of(alike)[1].get_array(), np.ones((3, 3)), atol=1e-5)
    assert "UNTRAINED" in texts_of(embeddings_lesson.show_embeddings(emb, n=2, mode="untrained"))
    with pytest.raises(ValueError, match="N, 1000"):
        embeddings_lesson.show_embeddings(np.zeros(1000))
