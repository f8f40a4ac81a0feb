"""Tests of the `deepcolor data ...` command line (deepcolor.cli)."""


import numpy as np
import pytest
import skimage.data
from PIL import Image

from deepcolor import cli, data, network


def test_data_sample_builds_the_sample_in_deepcolor_home(capsys, deepcolor_home):
    assert cli.main(["data", "sample", "-n", "8", "--seed", "11"]) == 0
    out = capsys.readouterr().out
    assert "LabDataset(8 images of 224x224, source='sample'" in out
    built = [p for p in deepcolor_home.iterdir() if p.name.startswith("sample-n8-seed11-")]
    assert len(built) == 1 and len(data.load_kaggle(built[0])) == 8


def test_data_folder_missing_folder_returns_2_with_a_message(tmp_path, capsys):
    missing = tmp_path / "no such photos"
    assert cli.main(["data", "folder", str(missing), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepcolor: error:") and str(missing) in err and "not a folder" in err
    assert not (tmp_path / "out").exists()


def test_data_folder_converts_reports_and_needs_force_to_replace(tmp_path, capsys):
    src = tmp_path / "photos"
    src.mkdir()
    Image.fromarray(skimage.data.coffee()).save(src / "coffee.png")
    Image.fromarray(skimage.data.chelsea()).save(src / "cat.jpg")
    (src / "broken.jpg").write_text("not an image")
    dst = tmp_path / "mine"

    assert cli.main(["data", "folder", str(src), str(dst)]) == 0
    captured = capsys.readouterr()
    assert "converted 2 photos, skipped 1" in captured.out
    assert "broken.jpg" in captured.err and "LabDataset(2 images" in captured.out
    assert len(data.load_kaggle(dst)) == 2

    assert cli.main(["data", "folder", str(src), str(dst)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["data", "folder", str(src), str(dst), "--force"]) == 0


def test_data_kaggle_from_a_downloaded_folder(kaggle_photos, capsys):
    assert cli.main(["data", "kaggle", "--from", str(kaggle_photos.root)]) == 0
    out = capsys.readouterr().out
    assert "LabDataset(10 images of 224x224, source='kaggle'" in out and str(kaggle_photos.root) in out


def test_data_kaggle_from_a_bad_folder_returns_2(tmp_path, make_kaggle_layout, capsys):
    root = make_kaggle_layout(tmp_path / "bad", np.zeros((3, 224, 224), np.uint8),
                              np.zeros((2, 224, 224, 2), np.uint8), (2,))
    assert cli.main(["data", "kaggle", "--from", str(root)]) == 2
    assert "3 images but the ab files hold 2" in capsys.readouterr().err


def test_data_kaggle_offline_fails_fast_and_says_what_to_do(monkeypatch, capsys):
    pytest.importorskip("kagglehub")
    import kagglehub

    monkeypatch.delenv("DEEPCOLOR_OFFLINE", raising=False)  # offline because the host does not answer
    monkeypatch.setattr(network, "reachable", lambda *args, **kwargs: False)
    downloads = []
    monkeypatch.setattr(kagglehub, "dataset_download", lambda *a, **k: downloads.append(a))
    assert cli.main(["data", "kaggle"]) == 2
    assert downloads == [], "offline, kagglehub must not even be tried (it retries for minutes)"
    err = capsys.readouterr().err
    assert "cannot reach www.kaggle.com" in err
    assert "load_kaggle" in err and "deepcolor.data.sample()" in err


def test_data_without_a_source_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["data"])
    assert exit_info.value.code == 2
    assert "sample" in capsys.readouterr().err
