"""Bad input, careless and hostile use: one case per test, grouped by what the user touches.

Each test is a case a user can hit, through the command line (``deepcolor.cli.main``) where a
user would use it, and checks what must hold:

- nothing of the user's is deleted, overwritten or written outside the folder given;
- one bad photo never stops a batch;
- an error is one line, ``deepcolor: error: ...``, that names the file and the fix (no traceback);
- records tell the truth (what data a run used, whether it is still alive, NaN as NaN).

Sections: dataset folders (``deepcolor data``); photos; training runs (``deepcolor train``);
the embedding cache; the command line itself.  Colorizing (``deepcolor colorize``) follows at the
end.
"""

import errno
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from deepcolor import cli, data
from deepcolor.lab_dataset import MARKER



def train_args(**changes) -> list:
    """``deepcolor train`` arguments for a tiny run (arch3 at 16x16, 9 sample images, no
    embedder); ``changes`` replace options, e.g. ``epochs=2``, ``n=12``, ``embeddings="untrained"``."""
    options = {"arch": "arch3", "input_size": 16, "epochs": 1, "batch_size": 4, "data": "sample", "n": 9,
               "embeddings": "none", **changes}
    words = ["train"]
    for key, value in options.items():
        words += ["-n" if key == "n" else "--" + key.replace("_", "-"), str(value)]
    return words


TRAIN = train_args()


@pytest.fixture
def read_only(monkeypatch):
    """``make(folder)``: no new file or folder can be created directly in ``folder``.

    chmod where permissions bind; as root (CI runs as root, and root ignores them) creating an
    entry there fails the way the kernel fails it for a user: PermissionError EACCES with the path.
    """
    made = []

    def make(folder: Path) -> Path:
        folder.chmod(0o555)
        made.append(folder)
        if os.geteuid() != 0:
            return folder
        real_open, real_mkdir = os.open, os.mkdir

        def denied(path):
            return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

        def inside(path) -> bool:
            return Path(os.fsdecode(path)).absolute().parent == folder.absolute()

        def guarded_open(path, flags, *args, **kwargs):
            if flags & os.O_CREAT and inside(path) and not Path(path).exists():
                raise denied(path)
            return real_open(path, flags, *args, **kwargs)

        def guarded_mkdir(path, *args, **kwargs):
            if inside(path):
                raise denied(path)
            return real_mkdir(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", guarded_open)
        monkeypatch.setattr(os, "mkdir", guarded_mkdir)
        return folder

    yield make
    for folder in made:
        folder.chmod(0o755)


def one_error_line(err: str) -> str:
    """The single error line the CLI printed; fails if a traceback (or anything else) was printed."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    errors = [line for line in lines if line.startswith("deepcolor: error:")]
    assert len(errors) == 1, err
    return errors[0]


def photos_folder(folder: Path, n: int = 2) -> Path:
    """``folder`` with ``n`` real colour photos in it (coffee, chelsea, astronaut crops)."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = [skimage.data.coffee(), skimage.data.chelsea(), skimage.data.astronaut()]
    for i in range(n):
        Image.fromarray(photos[i % 3][: 200 + 10 * i, : 260]).save(folder / f"photo{i}.png")
    return folder


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny file that claims to be a ``width`` x ``height`` RGB PNG: what a decompression bomb
    looks like before it is decoded (the pixels are never there)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


# ================================================================= dataset folders (deepcolor data)


def test_force_never_replaces_a_folder_that_only_has_a_file_named_manifest_json(tmp_path, capsys):
    src = photos_folder(tmp_path / "photos")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "manifest.json").write_text('{"my": "shipping list"}')
    (mine / "thesis.tex").write_text("precious")
    assert cli.main(["data", "folder", str(src), str(mine), "--force"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "refusing to replace" in line and MARKER in line
    assert (mine / "thesis.tex").read_text() == "precious"
    assert (mine / "manifest.json").read_text() == '{"my": "shipping list"}'


def test_force_never_replaces_a_dataset_folder_holding_a_file_of_the_users(tmp_path, capsys):
    src = photos_folder(tmp_path / "photos")
    ds_dir = tmp_path / "ds"
    assert cli.main(["data", "folder", str(src), str(ds_dir)]) == 0
    assert (ds_dir / MARKER).is_file()
    (ds_dir / "l" / "notes.txt").write_text("mine")
    assert cli.main(["data", "folder", str(src), str(ds_dir), "--force"]) == 2
    assert "l/notes.txt" in one_error_line(capsys.readouterr().err)
    assert (ds_dir / "l" / "notes.txt").read_text() == "mine"

    (ds_dir / "l" / "notes.txt").unlink()  # only the layout's own files (and its embedding cache): replaced
    (ds_dir / "embeddings").mkdir()
    (ds_dir / "embeddings" / "untrained-0123456789ab.npy").write_bytes(b"cache")
    assert cli.main(["data", "folder", str(src), str(ds_dir), "--force"]) == 0
    assert not (ds_dir / "embeddings").exists()


def test_force_on_a_link_to_a_dataset_is_refused_cleanly(tmp_path, capsys):
    src = photos_folder(tmp_path / "photos")
    real = tmp_path / "real"
    assert cli.main(["data", "folder", str(src), str(real)]) == 0
    before = sorted(p.name for p in real.rglob("*"))
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    capsys.readouterr()
    assert cli.main(["data", "folder", str(src), str(link), "--force"]) == 2
    assert "is a link" in one_error_line(capsys.readouterr().err)
    assert link.is_symlink() and sorted(p.name for p in real.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "photos", "real"]  # no .old-PID left


def test_dataset_output_inside_a_file_is_one_line(tmp_path, capsys):
    src = photos_folder(tmp_path / "photos")
    (tmp_path / "report.pdf").write_text("a file")
    assert cli.main(["data", "folder", str(src), str(tmp_path / "report.pdf" / "ds")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "report.pdf" in line and "not a folder" in line


def test_dataset_output_in_a_read_only_folder_is_one_line(tmp_path, read_only, capsys):
    src = photos_folder(tmp_path / "photos")
    (tmp_path / "locked").mkdir()
    locked = read_only(tmp_path / "locked")
    assert cli.main(["data", "folder", str(src), str(locked / "ds")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "Permission denied" in line and str(locked) in line and "choose a folder you can write to" in line


def test_a_damaged_manifest_is_named(tmp_path, capsys):
    src = photos_folder(tmp_path / "photos")
    ds_dir = tmp_path / "ds"
    assert cli.main(["data", "folder", str(src), str(ds_dir)]) == 0
    (ds_dir / "manifest.json").write_text('{"source": "folder:/x", "items": [')  # cut short
    capsys.readouterr()
    assert cli.main(["data", "kaggle", "--from", str(ds_dir)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(ds_dir / "manifest.json") in line and "damaged" in line


def test_import_progress_reaches_100_percent_when_photos_are_skipped(tmp_path, capsys):
    src = photos_folder(tmp_path / "photos", n=2)
    (src / "zz_broken.jpg").write_text("not a photo")
    assert cli.main(["data", "folder", str(src), str(tmp_path / "ds")]) == 0
    err = capsys.readouterr().err
    assert "3/3" in err  # the bar counts skipped photos too, so it ends at 100 %
    assert any(line.startswith("skipped ") and "zz_broken.jpg" in line for line in err.splitlines())


def test_links_to_folders_in_src_are_not_followed_and_are_reported(tmp_path, capsys):
    src = photos_folder(tmp_path / "photos", n=1)
    elsewhere = photos_folder(tmp_path / "elsewhere", n=2)
    (src / "linked").symlink_to(elsewhere, target_is_directory=True)
    (src / "linked_photo.png").symlink_to(elsewhere / "photo1.png")  # a link to a photo is used
    result = data.from_folder(src, tmp_path / "ds", report=None)
    assert sorted(Path(p).name for p in result.used) == ["linked_photo.png", "photo0.png"]
    assert [(Path(p).name, "not followed" in why) for p, why in result.skipped] == [("linked", True)]


# ================================================================= photos


def test_an_eps_file_named_jpg_never_reaches_ghostscript(tmp_path, monkeypatch, capsys):
    from PIL import EpsImagePlugin

    opened = []
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", lambda self: opened.append(self))
    src = photos_folder(tmp_path / "photos", n=1)
    (src / "holiday.jpg").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n"
                                      b"newpath 0 0 moveto 64 64 lineto stroke showpage\n%%EOF\n")
    assert cli.main(["data", "folder", str(src), str(tmp_path / "ds")]) == 0
    assert opened == [], "the EPS decoder (and so Ghostscript) was used"
    err = capsys.readouterr().err
    assert "skipped" in err and "holiday.jpg" in err and "photo formats" in err


def test_a_decompression_bomb_is_skipped_and_the_batch_goes_on(tmp_path, capsys):
    src = photos_folder(tmp_path / "photos", n=2)
    png_header_only(src / "bomb.png", 20000, 20000)  # 400 megapixels
    png_header_only(src / "huge.png", 10000, 8000)  # 80 megapixels: over deepcolor's limit
    assert cli.main(["data", "folder", str(src), str(tmp_path / "ds")]) == 0
    captured = capsys.readouterr()
    assert "converted 2 photos, skipped 2" in captured.out
    skipped = [line for line in captured.err.splitlines() if line.startswith("skipped")]
    assert any("bomb.png" in line and "pixels" in line for line in skipped)
    assert any("huge.png" in line and "megapixel limit" in line for line in skipped)


def test_any_failure_on_one_photo_is_a_skip(tmp_path, monkeypatch):
    src = photos_folder(tmp_path / "photos", n=3)
    real = data.center_square

    def fails_on_the_second(rgb, *args, **kwargs):
        if rgb.shape[0] == 210:  # photo1
            raise MemoryError("cannot allocate")
        return real(rgb, *args, **kwargs)

    monkeypatch.setattr(data, "center_square", fails_on_the_second)
    result = data.from_folder(src, tmp_path / "ds", report=None)
    assert [Path(p).name for p in result.used] == ["photo0.png", "photo2.png"]
    assert result.skipped == [(str(src / "photo1.png"), "MemoryError: cannot allocate")]


def test_an_upload_named_like_a_path_stays_in_the_uploads_folder(tmp_path):
    from deepcolor.lessons import colorize_your_own

    for name in ("..", "../../outside.png", ""):
        path = colorize_your_own.photo_from_upload(({"name": name, "content": b"photo bytes"},), tmp_path / "up")
        assert path.parent == tmp_path / "up" and path.read_bytes() == b"photo bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["up"]


# ================================================================= training runs (deepcolor train)


def test_resume_with_other_data_is_refused_with_both_shown(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert cli.main(TRAIN + ["--runs-dir", str(runs)]) == 0
    (run_dir,) = runs.iterdir()
    before = (run_dir / "run.json").read_bytes()
    capsys.readouterr()
    assert cli.main(train_args(n=12, epochs=2) + ["--resume", str(run_dir)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "trained on 9 images" in line and "given now is 12 images" in line
    assert (run_dir / "run.json").read_bytes() == before


def test_resume_with_another_embedding_mode_is_refused(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert cli.main(TRAIN + ["--runs-dir", str(runs)]) == 0
    (run_dir,) = runs.iterdir()
    capsys.readouterr()
    assert cli.main(train_args(embeddings="untrained") + ["--resume", str(run_dir)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "'none'" in line and "'untrained'" in line and "--embeddings none" in line
    sample_root = data.sample(n=9).root  # refused before minutes of embeddings were spent
    assert not list(sample_root.glob("embeddings/untrained-*"))


def test_a_run_on_a_folder_dataset_records_its_real_source(tmp_path, capsys):
    src = photos_folder(tmp_path / "photos", n=3)
    assert cli.main(["data", "folder", str(src), str(tmp_path / "ds")]) == 0
    assert cli.main(train_args(data=tmp_path / "ds", n=0) + ["--runs-dir", str(tmp_path / "runs")]) == 0
    (record,) = (tmp_path / "runs").glob("*/run.json")
    assert json.loads(record.read_text())["data"]["source"] == f"folder:{src.resolve()}"


def test_train_never_writes_into_a_folder_of_the_users(tmp_path, small):
    from deepcolor.train import TrainConfig, train

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "model.keras").write_bytes(b"my own model")
    ds, emb, parts = small
    with pytest.raises(FileExistsError, match="not empty and holds no run"):
        train(ds, emb, parts.train, parts.val, TrainConfig(arch="arch3", input_size=16), run_dir=mine, verbose=0)
    assert [p.name for p in mine.iterdir()] == ["model.keras"]
    assert (mine / "model.keras").read_bytes() == b"my own model"


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_l2_that_is_not_a_number_is_refused_before_any_folder_is_made(tmp_path, capsys, value):
    assert cli.main(TRAIN + ["--l2", value, "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "l2 must be a number >= 0" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "runs").exists()


def test_nan_validation_loss_is_status_nan_and_strict_json(tmp_path, small, monkeypatch):
    """The validation data reads as NaN (a damaged file): the training loss is fine, the validation
    loss is NaN.  Such a run is not "completed", and its record stays standard JSON."""
    from deepcolor.batches import ColorBatches
    from deepcolor.run_table import load_runs
    from deepcolor.runs import history_of
    from deepcolor.train import TrainConfig, train

    real = ColorBatches.__getitem__

    def nan_when_validating(self, i):
        inputs, ab = real(self, i)
        return inputs, (ab if self.shuffle else ab * np.nan)  # validation batches are not shuffled

    monkeypatch.setattr(ColorBatches, "__getitem__", nan_when_validating)
    ds, emb, parts = small
    result = train(ds, emb, parts.train, parts.val, TrainConfig(arch="arch3", input_size=16, epochs=2),
                   runs_dir=tmp_path, verbose=0)
    assert result.status == "nan"
    text = (result.run_dir / "run.json").read_text()

    def refuse(constant):
        raise ValueError(f"not standard JSON: {constant}")

    record = json.loads(text, parse_constant=refuse)
    assert record["epochs"][0]["val_loss"] is None and np.isfinite(record["epochs"][0]["loss"])
    assert np.isnan(history_of(record)["val_loss"][0])
    assert not (result.run_dir / "model.keras").exists()
    assert load_runs(tmp_path).loc[0, "status"] == "nan"


def ctrl_c_while_training(monkeypatch, when: str) -> None:
    """Every ``deepcolor train`` in this test is stopped by Ctrl-C (KeyboardInterrupt) in each
    epoch, at its start (``when="begin"``: nothing trained) or at its end (``"end"``: after the
    epoch's checkpoint), through the callbacks :func:`deepcolor.train.train` takes."""
    import keras

    import deepcolor.train as train_module

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if when == "begin":
                raise KeyboardInterrupt

        def on_epoch_end(self, epoch, logs=None):
            if when == "end":
                raise KeyboardInterrupt

    real_train = train_module.train

    def train_until_ctrl_c(*args, **kwargs):
        return real_train(*args, callbacks=[CtrlC()], **kwargs)

    monkeypatch.setattr(train_module, "train", train_until_ctrl_c)


def test_interrupted_run_prints_the_resume_command(tmp_path, capsys, monkeypatch):
    ctrl_c_while_training(monkeypatch, "begin")
    assert cli.main(TRAIN + ["--runs-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    (run_dir,) = tmp_path.iterdir()
    assert "run interrupted" in out
    resume = next(line for line in out.splitlines() if line.startswith("resume it with: "))
    words = resume.removeprefix("resume it with: ").split()
    assert words[:2] == ["deepcolor", "train"] and words[-2:] == ["--resume", str(run_dir)]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "interrupted" and record["stopped_by"] == "Ctrl-C" and record["epochs"] == []
    monkeypatch.undo()
    assert cli.main(words[1:]) == 0  # the printed command works as printed
    assert json.loads((run_dir / "run.json").read_text())["status"] == "completed"


@pytest.mark.parametrize("head", [["--head", "mse"], []])
def test_no_rebalance_without_a_classifier_is_refused_naming_the_options(tmp_path, capsys, head):
    assert cli.main(TRAIN + head + ["--no-rebalance", "--runs-dir", str(tmp_path / "runs")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--no-rebalance is for a classifier" in line and "--head mse" in line and "add --head classify" in line
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("started, given, advice", [
    ([], ["--head", "classify"], "resume it with --head mse"),
    ([], ["--no-rebalance"], "resume it with --head mse"),
    (["--head", "classify"], ["--head", "mse"], "resume it with --head classify,"),
    (["--head", "classify"], ["--no-rebalance"], "resume it with --head classify,"),
    (["--head", "classify", "--no-rebalance"], ["--head", "classify"], "resume it with --head classify --no-rebalance"),
])
def test_resume_with_another_head_is_refused_naming_the_options(tmp_path, capsys, started, given, advice):
    runs = tmp_path / "runs"
    assert cli.main(TRAIN + started + ["--runs-dir", str(runs)]) == 0
    (run_dir,) = runs.iterdir()
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    capsys.readouterr()
    assert cli.main(train_args(epochs=2) + given + ["--resume", str(run_dir)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"cannot resume {run_dir}" in line and f"not {' '.join(given)};" in line and advice in line
    assert "leave out --head and --no-rebalance" in line
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


def test_an_interrupted_classifier_run_resumes_from_the_command_line_with_its_head(tmp_path, capsys, monkeypatch):
    """The printed resume command names the head; left out, the head is read from the run."""
    ctrl_c_while_training(monkeypatch, "end")
    classifier = train_args(epochs=3) + ["--head", "classify", "--no-rebalance"]
    assert cli.main(classifier + ["--runs-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    (run_dir,) = tmp_path.iterdir()
    assert f"run interrupted: {run_dir} (classify head, not rebalanced)" in out
    resume = next(line for line in out.splitlines() if line.startswith("resume it with: "))
    words = resume.removeprefix("resume it with: ").split()
    assert " --head classify --no-rebalance " in f" {' '.join(words)} " and words[-2:] == ["--resume", str(run_dir)]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "interrupted" and record["checkpoint_epoch"] == 1

    assert cli.main(train_args(epochs=3) + ["--resume", str(run_dir)]) == 1  # no head given: the run's
    assert "(classify head, not rebalanced)" in capsys.readouterr().out
    assert json.loads((run_dir / "run.json").read_text())["checkpoint_epoch"] == 2
    monkeypatch.undo()
    assert cli.main(words[1:]) == 0  # the printed command works as printed
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "completed" and [row["epoch"] for row in record["epochs"]] == [1, 2, 3]
    assert record["head"] == "classify" and record["classify"]["rebalance"] is False
    assert (run_dir / "model.keras").is_file()


def test_a_classifier_run_of_another_setting_resumes_from_the_command_line_with_that_setting(tmp_path, capsys):
    """A classifier started in Python with a setting the command line has no option for (k=3) is
    resumed with that setting, read from its run record."""
    import keras

    from deepcolor.heads import ClassifierHead
    from deepcolor.train import TrainConfig, train

    class StopAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    ds = data.sample(n=9)  # what train_args() trains on, split as the command line splits it
    parts = data.split(len(ds), seed=0, groups=ds.groups)
    config = TrainConfig(arch="arch3", lr=1e-3, batch_size=4, epochs=2, input_size=16)
    cut = train(ds, np.zeros((9, 1000), np.float32), parts.train, parts.val, config, embedding_mode="none",
                run_dir=tmp_path / "run", verbose=0, head=ClassifierHead(k=3), callbacks=[StopAfterFirstEpoch()])
    assert cut.status == "interrupted"
    assert cli.main(train_args(epochs=2) + ["--resume", str(cut.run_dir)]) == 0
    record = json.loads((cut.run_dir / "run.json").read_text())
    assert record["status"] == "completed" and len(record["epochs"]) == 2
    assert record["classify"]["k"] == 3 and record["classify"]["rebalance"] is True


def test_runs_folder_read_only_is_one_line(tmp_path, read_only, capsys):
    runs = tmp_path / "runs"
    runs.mkdir()
    read_only(runs)
    assert cli.main(TRAIN + ["--runs-dir", str(runs)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "Permission denied" in line and str(runs) in line


def test_a_damaged_run_record_or_checkpoint_is_named(tmp_path, capsys):
    from deepcolor.run_table import load_runs

    runs = tmp_path / "runs"
    assert cli.main(TRAIN + ["--runs-dir", str(runs)]) == 0
    (run_dir,) = runs.iterdir()
    checkpoint = run_dir / "checkpoint.keras"
    checkpoint.write_bytes(b"PK\x03\x04 this is not a zip any more")
    capsys.readouterr()
    assert cli.main(train_args(epochs=2) + ["--resume", str(run_dir)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(checkpoint) in line and "damaged" in line
    assert "delete it to restart" in line  # the run's record and folder are kept: only the checkpoint goes

    (run_dir / "run.json").write_text('{"status": "comp')
    assert cli.main(TRAIN + ["--resume", str(run_dir)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(run_dir / "run.json") in line and "damaged" in line
    with pytest.warns(UserWarning, match="run.json is damaged"):
        assert len(load_runs(runs)) == 0  # the table leaves it out, and says so


def _start_training(runs: Path, epochs: int) -> subprocess.Popen:
    args = train_args(epochs=epochs)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "-m", "deepcolor.cli", *args, "--runs-dir", str(runs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_an_epoch(runs: Path, proc: subprocess.Popen, timeout: float = 120.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for record in runs.glob("*/run.json"):
            try:
                if json.loads(record.read_text()).get("checkpoint_epoch"):
                    return record.parent
            except ValueError:
                pass
        time.sleep(0.2)
    proc.kill()
    pytest.fail("training did not finish an epoch in time")


def test_killed_runs_are_recognisably_dead(tmp_path):
    """SIGTERM is recorded as "interrupted" by the run itself; after kill -9 (nothing can be
    recorded) Run.open and load_runs report the run as interrupted, with when it was last alive."""
    from deepcolor.run_table import load_runs
    from deepcolor.runs import Run

    terminated, killed = _start_training(tmp_path / "a", 500), _start_training(tmp_path / "b", 500)
    try:
        run_a, run_b = _wait_for_an_epoch(tmp_path / "a", terminated), _wait_for_an_epoch(tmp_path / "b", killed)
        terminated.send_signal(signal.SIGTERM)
        killed.kill()
        out, _ = terminated.communicate(timeout=60)
        killed.wait(timeout=60)
    finally:
        for proc in (terminated, killed):
            proc.kill()
    record_a = json.loads((run_a / "run.json").read_text())
    assert record_a["status"] == "interrupted" and record_a["stopped_by"] == "SIGTERM"
    assert terminated.returncode == 1 and "resume it with:" in out

    assert json.loads((run_b / "run.json").read_text())["status"] == "running"  # as the process left it
    opened = Run.open(run_b)
    assert opened.status == "interrupted" and "last alive at" in opened.record["status_note"]
    table = load_runs(tmp_path / "b")
    assert table.loc[0, "status"] == "interrupted" and table.loc[0, "last_alive"]


# ================================================================= the embedding cache


class _Images:
    """A dataset stand-in for the cache: L of a few real photos, a root folder, a fingerprint."""

    def __init__(self, root: Path, n: int = 4):
        from deepcolor.color import rgb_to_lab

        self.root = root
        self.L = rgb_to_lab(skimage.data.coffee()[:64, : 64 * n].reshape(64, n, 64, 3).swapaxes(0, 1))[..., 0]

    def __len__(self):
        return len(self.L)

    def batch(self, idx):
        L = self.L[np.asarray(idx)]
        return L, np.zeros(L.shape + (2,), np.float32)

    def fingerprint(self):
        return {"n": len(self), "source": "test"}


class _CountingEmbedder:
    """Stands in for Inception-ResNet-v2 in mode "untrained": softmax rows from mean brightness."""

    mode, seed, trained = "untrained", 0, False

    def __init__(self):
        self.images = 0

    def build(self):
        return self

    def embed_into(self, out, read, progress):
        for start in range(len(out)):
            L = read(start, start + 1)
            self.images += 1
            logits = np.linspace(-1, 1, 1000) * L.mean() / 50
            out[start] = np.exp(logits) / np.exp(logits).sum()


def _cached(tmp_path):
    from deepcolor import embedding_cache

    ds, embedder = _Images(tmp_path), _CountingEmbedder()
    first = np.array(embedding_cache.dataset_embeddings(ds, "untrained", embedder=embedder, progress=None))
    return ds, embedder, first, embedding_cache.cache_path(ds, "untrained")


def test_an_embedding_cache_with_a_garbage_header_is_rebuilt(tmp_path):
    from deepcolor import embedding_cache

    ds, embedder, first, path = _cached(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[10:60] = b"{'descr': '<f4', 'fortran_order': Fal\x00\x01 (((((("  # the .npy header, mangled
    path.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="is damaged"):
        again = embedding_cache.dataset_embeddings(ds, "untrained", embedder=embedder, progress=None)
    np.testing.assert_array_equal(again, first)
    assert embedder.images == 2 * len(ds)  # computed again, not used


def test_an_embedding_cache_overwritten_in_place_is_never_used(tmp_path):
    from deepcolor import embedding_cache

    ds, embedder, first, path = _cached(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-4000:] = np.full(1000, np.nan, np.float32).tobytes()  # the last row turned to NaN, same size
    path.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="checksum"):
        again = embedding_cache.dataset_embeddings(ds, "untrained", embedder=embedder, progress=None)
    assert np.isfinite(again).all()
    np.testing.assert_array_equal(again, first)


# ================================================================= the command line itself


def test_debug_shows_the_traceback(tmp_path, capsys):
    missing = str(tmp_path / "nowhere")
    assert cli.main(["data", "folder", missing, str(tmp_path / "ds")]) == 2
    assert missing in one_error_line(capsys.readouterr().err)
    with pytest.raises(FileNotFoundError, match="not a folder of photos"):
        cli.main(["data", "folder", missing, str(tmp_path / "ds"), "--debug"])


def test_errors_of_the_system_name_the_file_and_the_fix():
    line = cli.describe_error(PermissionError(errno.EACCES, "Permission denied", "/srv/runs/x"))
    assert line == ("Permission denied: /srv/runs/x (deepcolor may not write there: choose a folder you can "
                    "write to, or change its permissions)")
    assert "disk is full" in cli.describe_error(OSError(errno.ENOSPC, "No space left on device", "/d"))


# ================================================================= colorizing (deepcolor colorize)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny arch3 colorizer at input 16, saved as .keras beside a run.json naming mode 'none'."""
    import keras

    from deepcolor.models import build_model

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("run") / "model.keras"
    build_model("arch3", 16).save(path)
    (path.parent / "run.json").write_text(json.dumps({"embedding_mode": "none"}))
    return path


def gray_photo(path: Path, size=(120, 90)) -> Path:
    """A small gray photo (part of scikit-image's coffee) at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(skimage.data.coffee()).convert("L").resize(size).save(path)
    return path


def colorize_args(model, *photos, out, force=False) -> list:
    return ["colorize", *map(str, photos), "-o", str(out), "--model", str(model)] + (["--force"] if force else [])


def test_colorize_does_not_follow_a_dangling_link_in_the_output_folder(model_path, tmp_path, capsys):
    photo = gray_photo(tmp_path / "coffee.png")
    out = tmp_path / "out"
    out.mkdir()
    planted = tmp_path / "elsewhere" / "planted.png"
    planted.parent.mkdir()
    link = out / "coffee_colorized.png"
    link.symlink_to(planted)

    assert cli.main(colorize_args(model_path, photo, out=out)) == 2
    assert "--force" in one_error_line(capsys.readouterr().err)
    assert link.is_symlink() and not planted.exists()
    assert cli.main(colorize_args(model_path, photo, out=out, force=True)) == 0
    assert not planted.exists()  # nothing written outside the output folder
    assert not link.is_symlink() and Image.open(link).size == (120, 90)


def test_colorize_force_replaces_a_link_not_the_users_file_it_points_to(model_path, tmp_path):
    photo = gray_photo(tmp_path / "coffee.png")
    out = tmp_path / "out"
    out.mkdir()
    precious = tmp_path / "thesis.txt"
    precious.write_bytes(b"three years of work")
    (out / "coffee_colorized.png").symlink_to(precious)

    assert cli.main(colorize_args(model_path, photo, out=out, force=True)) == 0
    assert precious.read_bytes() == b"three years of work"
    output = out / "coffee_colorized.png"
    assert not output.is_symlink() and Image.open(output).format == "PNG"
    assert [p.name for p in out.iterdir()] == ["coffee_colorized.png"]  # no temporary file left behind


def test_colorize_a_folder_colorizes_the_photos_inside_it(model_path, tmp_path, capsys):
    album = tmp_path / "album"
    gray_photo(album / "b.png")
    gray_photo(album / "trip" / "a.jpg")
    (album / "notes.txt").write_text("not a photo")
    assert cli.main(colorize_args(model_path, album, out=tmp_path / "out")) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_colorized.png", "b_colorized.png"]
    assert "Is a directory" not in capsys.readouterr().err


def test_colorize_a_folder_without_photos_names_the_folder(model_path, tmp_path, capsys):
    empty = tmp_path / "holiday"
    empty.mkdir()
    (empty / "readme.txt").write_text("photos to follow")
    assert cli.main(colorize_args(model_path, empty, out=tmp_path / "out")) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(empty) in line and "no photos" in line
    assert not (tmp_path / "out").exists()


def test_colorize_two_photos_of_one_name_writes_nothing(model_path, tmp_path, capsys):
    album = tmp_path / "album"
    gray_photo(album / "beach.png")
    gray_photo(album / "2019" / "beach.jpg")
    assert cli.main(colorize_args(model_path, album, out=tmp_path / "out")) == 2
    assert "same file name" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_colorize_a_decompression_bomb_is_skipped_and_the_batch_goes_on(model_path, tmp_path, capsys):
    bomb = png_header_only(tmp_path / "bomb.png", 20000, 20000)
    eps = tmp_path / "scan.jpg"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nshowpage\n%%EOF\n")
    good = gray_photo(tmp_path / "good.png")
    assert cli.main(colorize_args(model_path, bomb, eps, good, out=tmp_path / "out")) == 1  # 1: not all done
    captured = capsys.readouterr()
    assert f"skipped {bomb}" in captured.out and f"skipped {eps}" in captured.out
    assert "colorized 1 photos, skipped 2" in captured.err and "Traceback" not in captured.err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good_colorized.png"]


def test_colorize_any_failure_on_one_photo_is_a_skip(model_path, tmp_path, monkeypatch):
    import deepcolor.colorize as colorize_module
    from deepcolor.colorize import colorize

    crashes, huge, good = (gray_photo(tmp_path / f"{name}.png") for name in ("crashes", "huge", "good"))
    failures = {crashes: RuntimeError("broken Huffman table"), huge: MemoryError()}
    real_read = colorize_module.read_photo

    def read_photo(path, allow_gray=False):
        if path in failures:
            raise failures[path]
        return real_read(path, allow_gray=allow_gray)

    monkeypatch.setattr(colorize_module, "read_photo", read_photo)
    lines = []
    written, skipped = colorize([crashes, huge, good], tmp_path / "out", model_path, report=lines.append)
    assert written == [tmp_path / "out" / "good_colorized.png"] and written[0].is_file()
    reasons = dict(skipped)
    assert list(reasons) == [str(crashes), str(huge)]
    assert "broken Huffman table" in reasons[str(crashes)] and "RuntimeError" in reasons[str(crashes)]
    assert "memory" in reasons[str(huge)]
    assert lines[0] == f"skipped {crashes}: {reasons[str(crashes)]}"


def test_colorize_into_a_read_only_folder_is_one_line(model_path, tmp_path, read_only, capsys):
    """A failing write is not the photo's fault: it stops the run, as one line."""
    photo = gray_photo(tmp_path / "coffee.png")
    (tmp_path / "out").mkdir()
    out = read_only(tmp_path / "out")
    assert cli.main(colorize_args(model_path, photo, out=out)) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "Permission denied" in line and str(out) in line


def test_colorize_into_a_path_inside_a_file_is_one_line(model_path, tmp_path, capsys):
    photo = gray_photo(tmp_path / "coffee.png")
    (tmp_path / "notes.txt").write_text("a file")
    assert cli.main(colorize_args(model_path, photo, out=tmp_path / "notes.txt" / "out")) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "Not a directory" in line and str(tmp_path / "notes.txt") in line


def test_colorize_with_other_embeddings_than_the_model_was_trained_with_warns(model_path, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(model_path, run / "model.keras")
    (run / "run.json").write_text(json.dumps({"embedding_mode": "imagenet"}))
    photo = gray_photo(tmp_path / "coffee.png")
    args = colorize_args(run / "model.keras", photo, out=tmp_path / "out")
    assert cli.main(args + ["--embeddings", "none"]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if "never learned" in line]
    assert len(warnings) == 1 and "trained with imagenet" in warnings[0] and "with none" in warnings[0]
    assert (tmp_path / "out" / "coffee_colorized.png").is_file()  # a warning, not a refusal


def test_errors_speak_the_command_lines_words_and_every_subcommand_describes_itself(capsys):
    from deepcolor.weights import WeightsUnavailableError

    line = cli.describe_error(WeightsUnavailableError('offline. To go on: use mode="untrained" or mode="none".'))
    assert "--embeddings untrained" in line and "--embeddings none" in line and "mode=" not in line
    assert "--force" in cli.describe_error(FileExistsError("x exists; pass overwrite=True to replace it"))
    for words in (["data", "sample"], ["data", "folder"], ["train"], ["colorize"]):
        with pytest.raises(SystemExit):
            cli.main([*words, "--help"])
        help_text = capsys.readouterr().out
        description = help_text.split("\n\n")[1].strip()  # the paragraph under the usage lines
        assert description[0].isupper() and description.endswith("."), (words, description)


@pytest.mark.parametrize("value", ["0", "-0.5", "hot", "nan", "inf", ""])
def test_colorize_refuses_a_temperature_that_is_not_a_positive_number(model_path, tmp_path, capsys, value):
    photo = gray_photo(tmp_path / "coffee.png")
    assert cli.main(colorize_args(model_path, photo, out=tmp_path / "out") + ["--temperature", value]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--temperature must be a number > 0" in line and repr(value) in line
    assert not (tmp_path / "out").exists()


def test_colorize_refuses_a_temperature_for_an_mse_model(model_path, tmp_path, capsys):
    """An MSE model predicts ab directly: there is no distribution for a temperature to read."""
    photo = gray_photo(tmp_path / "coffee.png")
    assert cli.main(colorize_args(model_path, photo, out=tmp_path / "out") + ["--temperature", "0.38"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "MSE model" in line and "leave out --temperature" in line and str(model_path) in line
    assert not (tmp_path / "out").exists()
