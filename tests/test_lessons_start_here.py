"""deepcolor.lessons.start_here: notebook 00_start_here: the machine check and the profiles table."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")


from deepcolor import config, network  # noqa: E402
from deepcolor import weights as deepcolor_weights  # noqa: E402
from deepcolor.lessons import start_here as lesson  # noqa: E402


def test_environment_check_reports_weights_and_kaggle_copy(tmp_path, monkeypatch, kaggle_photos):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv(config.KAGGLE_ENV, str(kaggle_photos.root))
    monkeypatch.setattr(network, "reachable", lambda url, timeout=3.0: False)
    cfg = config.load("smoke")
    df = lesson.environment_check(cfg)
    assert {"profile", "backend", "ImageNet weights", "Kaggle copy", "fallbacks"} <= set(df.index)
    assert df.loc["profile", "value"].startswith("smoke")
    assert "cannot be downloaded" in df.loc["ImageNet weights", "value"]
    assert df.loc["Kaggle copy", "value"] == str(kaggle_photos.root)
    assert "untrained" in df.loc["embedding mode", "value"]

    weights = deepcolor_weights.imagenet_weights_path()
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"x")
    assert lesson.environment_check(cfg).loc["ImageNet weights", "value"] == f"cached: {weights}"


# What README.md and the notebooks tell a student: images, image side, epochs (study epochs for
# full: "20 epochs each", notebook 08), embedder.
PROFILES_AS_STATED = {"smoke": (32, 32, 2, "untrained"), "default": (2000, 128, 5, "imagenet"),
                      "full": ("all", 224, 20, "imagenet")}


def test_profiles_table_shows_each_profile_as_the_course_states_it():
    df = lesson.profiles_table()
    assert list(df.index) == ["smoke", "default", "full"]
    for name, (images, side, epochs, embedder) in PROFILES_AS_STATED.items():
        row = df.loc[name]
        assert (row["images"], row["input size"], row["embeddings"]) == (images, side, embedder), name
        assert epochs == (row["study epochs"] if name == "full" else row["epochs"]), name
        assert f"{side}x{side}" in row["what for"], name  # the row's own note agrees with its numbers
    assert df.loc["full", "input size"] == 224  # the paper's image size


def test_profiles_table_says_how_far_each_study_run_is_from_the_papers():
    column = lesson.profiles_table()["a study run differs from the paper's in"]
    assert column["full"] == "20 epochs, not 2,500"  # the paper's grid, data and size: only the epochs differ
    assert "1 epoch, not 2,500" in column["smoke"] and "untrained embedder" in column["smoke"]
    assert "128 px, not 224" in column["default"] and "2,000 Kaggle images, not 25,000" in column["default"]
