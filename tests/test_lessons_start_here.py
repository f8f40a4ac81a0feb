"""deepcolor.lessons.start_here: notebook 00_start_here: the machine check and the profiles table."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")


from deepcolor import config, network  # noqa: E402
from deepcolor import weights as deepcolor_weights  # noqa: E402
from deepcolor.lessons import start_here  # noqa: E402


def test_environment_check_reports_weights_and_kaggle_copy(tmp_path, monkeypatch, kaggle_photos):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv(config.KAGGLE_ENV, str(kaggle_photos.root))
    monkeypatch.setattr(network, "reachable", lambda url, timeout=3.0: False)
    cfg = config.load("smoke")
    df = start_here.environment_check(cfg)
    assert {"profile", "backend", "ImageNet weights", "Kaggle copy", "fallbacks"} <= set(df.index)
    assert df.loc["profile", "value"].startswith("smoke")
    assert "cannot be downloaded" in df.loc["ImageNet weights", "value"]
    assert df.loc["Kaggle copy", "value"] == str(kaggle_photos.root)
    assert "untrained" in df.loc["embedding mode", "value"]

    weights = deepcolor_weights.imagenet_weights_path()
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"x")
    assert start_here.environment_check(cfg).loc["ImageNet weights", "value"] == f"cached: {weights}"


# What README.md and the notebooks tell a student: images, image side, epochs (study epochs for
# full: "20 epochs each", notebook 08), embedder.
PROFILES_AS_STATED = {"smoke": (32, 32, 2, "untrained"), "default": (2000, 96, 5, "imagenet"),
                      "full": ("all", 224, 20, "imagenet")}


def test_profiles_table_shows_each_profile_as_the_course_states_it():
    df = start_here.profiles_table()
    assert list(df.index) == ["smoke", "default", "full"]
    for name, (images, side, epochs, embedder) in PROFILES_AS_STATED.items():
        row = df.loc[name]
        assert (row["images"], row["input size"], row["embeddings"]) == (images, side, embedder), name
        assert epochs == (row["study epochs"] if name == "full" else row["epochs"]), name
        assert f"{side}x{side}" in row["what for"], name  # the row's own note agrees with its numbers
    assert df.loc["full", "input size"] == 224  # the paper's image size
    assert list(df["study input size"]) == [32, 64, 224]  # notebooks 08 and 11


def test_profiles_table_says_how_far_each_study_run_is_from_the_papers():
    column = start_here.profiles_table()["a study run differs from the paper's in"]
    assert column["full"] == "20 epochs, not 2,500"  # the paper's grid, data and size: only the epochs differ
    assert "1 epoch, not 2,500" in column["smoke"] and "untrained embedder" in column["smoke"]
    assert "64 px, not 224" in column["default"] and "2,000 Kaggle images, not 25,000" in column["default"]


# --- the map of the course: one source of the per-notebook times, shown by 00 and quoted by README.md ---

import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_course_map_lists_every_notebook_in_order_with_a_time_in_each_column():
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    df = start_here.course_map()
    assert list(df.index) == [*notebooks, "all", "reference step"] == [*start_here.COURSE, "all", start_here.SPEED_ROW]
    assert all(len(times) == len(notebooks) for times in start_here.TIMES.values())
    assert list(df.columns) == ["what you do there", *start_here.TIMES, "default, GPU (est.)"]
    assert set(start_here.TIME_SOURCES) == set(df.columns) - {"what you do there"}  # every column says where it comes from
    assert df.loc["all", "default, 2-core CPU"] == start_here.format_time(sum(start_here.TIMES["default, 2-core CPU"]))
    assert df.loc["11_colour_as_classes", "default, GPU (est.)"] == "1 min"  # 648 s / 10: an estimate, and says so
    assert "est." in df.columns[-1] and "estimated" in start_here.TIME_SOURCES["default, GPU (est.)"]
    assert set(start_here.CALIBRATION) == set(start_here.TIMES)  # every measured column says how fast its machine was
    speeds = df.loc["reference step"]
    assert speeds["default, 2-core CPU"] == "13.2 img/s"
    for column, rate in start_here.CALIBRATION.items():
        assert speeds[column] == (f"{rate:g} img/s" if rate else "not measured"), column


@pytest.mark.parametrize("seconds, estimate, shown", [(8, False, "8 s"), (59.4, False, "59 s"), (154, False, "2.5 min"),
                                                      (341, False, "5.5 min"), (712, False, "12 min"),
                                                      (5237, False, "87 min"), (34, True, "< 1 min"), (71, True, "1 min")])
def test_format_time(seconds, estimate, shown):
    assert start_here.format_time(seconds, estimate) == shown


def readme_course_table():
    """{notebook: [cells after the notebook's name]} of README.md's table of the notebooks."""
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"\|\s*(?:`(\d\d_[a-z0-9_]+)`|\*\*(all|reference step)\*\*)\s*\|(.*)\|\s*$", line)
        if match:
            rows[match.group(1) or match.group(2)] = [cell.strip() for cell in match.group(3).split("|")]
    return rows


def test_readme_quotes_the_course_map_that_notebook_00_shows():
    df = start_here.course_map()
    readme = readme_course_table()
    assert list(readme) == list(df.index), "README.md's table of the notebooks lists other notebooks than the map"
    for notebook, row in df.iterrows():
        assert readme[notebook] == [str(v) for v in row], (
            f"README.md's row of {notebook} differs from deepcolor.lessons.start_here.course_map(): "
            "change TIMES or COURSE there, and copy the row into the README")
