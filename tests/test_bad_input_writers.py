"""Two things at once, a full disk, a stopped process: what ``deepcolor data`` and ``deepcolor
train`` promise (README, "What the command line promises").

The races really race: a second process, or a folder that appears while a command runs.  The
subprocesses run ``python -m deepcolor.cli`` with this environment (offline, the test's homes).
"""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from deepcolor import cli, files, layout_writer, locks
from test_bad_input import TRAIN, one_error_line, photos_folder, read_only  # noqa: F401 (a fixture)


def many_photos(folder: Path, n: int) -> Path:
    """``folder`` with ``n`` copies of one 600x400 colour photo: a conversion that takes seconds."""
    folder.mkdir(parents=True)
    Image.fromarray(skimage.data.astronaut()[:400, :600]).save(folder / "p0.png")
    for i in range(1, n):
        os.link(folder / "p0.png", folder / f"p{i}.png")
    return folder


def start_cli(*words) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "deepcolor.cli", *map(str, words)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, proc, what: str, timeout: float = 60):
    """Poll until ``condition()`` is true; fail if ``proc`` ended first or time runs out."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        if proc.poll() is not None:
            pytest.fail(f"the first process ended before {what}: {proc.communicate()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"timed out waiting for {what}")


def partials(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


# ================================================================ two writers of one dataset folder


def test_a_second_data_folder_into_the_same_dst_is_refused_naming_the_first(tmp_path, capsys):
    src = many_photos(tmp_path / "src", 150)
    other = photos_folder(tmp_path / "other", 2)
    dst = tmp_path / "dst"
    first = start_cli("data", "folder", src, dst)
    wait_for(lambda: locks.lock_path(dst).exists() and locks.read_holder(locks.lock_path(dst)), first,
             "the first took the lock")
    assert cli.main(["data", "folder", str(other), str(dst)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{dst} is in use" in line and f"process {first.pid}" in line
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert "converted 150 photos" in out
    manifest = json.loads((dst / "manifest.json").read_text())
    assert manifest["n"] == 150 and {item["photo"] for item in manifest["items"]} >= {"p0.png", "p149.png"}
    assert not locks.lock_path(dst).exists() and partials(tmp_path) == []


def test_a_folder_that_appears_at_dst_while_converting_is_kept_whole(tmp_path, capsys, monkeypatch):
    """The check at the start said DST was free; a folder of the user's appears before the swap."""
    src = photos_folder(tmp_path / "src", 3)
    dst = tmp_path / "dst"
    real = layout_writer.mark_layout  # the last step before the converted folder is put in place

    def user_makes_dst_meanwhile(*args, **kwargs):
        real(*args, **kwargs)
        dst.mkdir()
        (dst / "thesis.txt").write_text("precious")

    monkeypatch.setattr(layout_writer, "mark_layout", user_makes_dst_meanwhile)
    assert cli.main(["data", "folder", str(src), str(dst)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"refusing to replace {dst}" in line and "dst.new-1" in line
    assert (dst / "thesis.txt").read_text() == "precious" and sorted(p.name for p in dst.iterdir()) == ["thesis.txt"]
    assert (tmp_path / "dst.new-1" / "manifest.json").is_file()  # what was converted is kept too
    assert partials(tmp_path) == []


@pytest.mark.parametrize("kind", ["file", "link"])
def test_a_file_or_link_that_appears_at_dst_while_converting_is_kept(tmp_path, capsys, monkeypatch, kind):
    src = photos_folder(tmp_path / "src", 3)
    dst = tmp_path / "dst"
    real = layout_writer.mark_layout

    def user_puts_a_file_there_meanwhile(*args, **kwargs):
        real(*args, **kwargs)
        if kind == "file":
            dst.write_text("precious")
        else:
            dst.symlink_to(src)

    monkeypatch.setattr(layout_writer, "mark_layout", user_puts_a_file_there_meanwhile)
    assert cli.main(["data", "folder", str(src), str(dst)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"refusing to replace {dst}" in line and "dst.new-1" in line
    assert dst.read_text() == "precious" if kind == "file" else dst.resolve() == src.resolve()
    assert (tmp_path / "dst.new-1" / "manifest.json").is_file() and partials(tmp_path) == []


def test_force_never_deletes_a_file_added_to_the_old_dataset_while_converting(tmp_path, capsys, monkeypatch):
    """--force may replace a dataset deepcolor wrote; a file the user put into it meanwhile makes it theirs."""
    src = photos_folder(tmp_path / "src", 3)
    dst = tmp_path / "dst"
    assert cli.main(["data", "folder", str(src), str(dst)]) == 0
    real = layout_writer.mark_layout  # the last step before the converted folder is put in place

    def user_adds_a_file_meanwhile(*args, **kwargs):
        real(*args, **kwargs)
        (dst / "notes.txt").write_text("mine")

    monkeypatch.setattr(layout_writer, "mark_layout", user_adds_a_file_meanwhile)
    assert cli.main(["data", "folder", str(src), str(dst), "--force"]) == 2
    assert "notes.txt" in one_error_line(capsys.readouterr().err)
    assert (dst / "notes.txt").read_text() == "mine" and (dst / "manifest.json").is_file()
    assert partials(tmp_path) == []


def test_a_dead_writers_lock_is_taken_over_with_a_note(tmp_path, capsys):
    src = photos_folder(tmp_path / "src", 2)
    dst = tmp_path / "dst"
    dead = subprocess.run([sys.executable, "-c", "import os\nfrom deepcolor.locks import writer\n"
                           f"with writer({str(dst)!r}, 'a dataset'): os._exit(9)"])
    assert dead.returncode == 9 and locks.lock_path(dst).exists()  # killed holding it
    assert cli.main(["data", "folder", str(src), str(dst)]) == 0
    err = capsys.readouterr().err
    assert "took over the lock" in err and "no longer running" in err
    assert (dst / "manifest.json").is_file()


# ================================================================ a full disk, SIGTERM, SIGKILL


def test_a_full_disk_is_one_line_before_anything_is_written(tmp_path, capsys, monkeypatch):
    src = photos_folder(tmp_path / "src", 3)
    usage = files.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(files.shutil, "disk_usage", lambda p: usage._replace(free=1_000_000))
    assert cli.main(["data", "folder", str(src), str(tmp_path / "dst")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"not enough space in {tmp_path}" in line and "1,000,000 are free" in line and "bytes" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_a_memory_map_is_never_written_past_the_free_space(tmp_path, capsys, monkeypatch):
    """The disk fills after the check (another program writes): the blocks are allocated before
    the memory map writes into them, so the failure is an error, not a SIGBUS."""
    src = photos_folder(tmp_path / "src", 3)

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "posix_fallocate", full)
    assert cli.main(["data", "folder", str(src), str(tmp_path / "dst")]) == 2
    assert "not enough space in" in one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MB file system (tmpfs), where the system allows mounting one (root on Linux)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


@pytest.mark.parametrize("command", [["data", "folder", "{src}", "{disk}/dst"], ["data", "sample", "-n", "40"]])
def test_a_really_full_disk_is_one_line_and_leaves_no_partial_folder(tmp_path, tiny_disk, command):
    src = photos_folder(tmp_path / "src", 40)
    env = dict(os.environ, DEEPCOLOR_HOME=str(tiny_disk))
    words = [w.format(src=src, disk=tiny_disk) for w in command]
    done = subprocess.run([sys.executable, "-m", "deepcolor.cli", *words], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 2, done  # not 135, a bus error
    assert f"not enough space in {tiny_disk}" in one_error_line(done.stderr)
    assert [p for p in tiny_disk.rglob("*") if ".partial-" in p.name] == []


def test_sigterm_while_converting_removes_the_partial_folder(tmp_path):
    src = many_photos(tmp_path / "src", 300)
    dst = tmp_path / "dst"
    proc = start_cli("data", "folder", src, dst)
    wait_for(lambda: partials(tmp_path), proc, "the partial folder appeared")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "stopped by SIGTERM" in err
    assert partials(tmp_path) == [] and not dst.exists() and not locks.lock_path(dst).exists()


def test_the_next_run_removes_what_a_killed_run_left(tmp_path, capsys):
    src = many_photos(tmp_path / "src", 300)
    dst = tmp_path / "dst"
    proc = start_cli("data", "folder", src, dst)
    wait_for(lambda: partials(tmp_path), proc, "the partial folder appeared")
    proc.kill()  # SIGKILL: nothing can clean up
    proc.wait()
    assert partials(tmp_path)
    assert cli.main(["data", "folder", str(photos_folder(tmp_path / "few", 2)), str(dst)]) == 0
    assert partials(tmp_path) == [] and (dst / "manifest.json").is_file()


# ================================================================ modes


def test_written_files_get_the_umasks_mode(tmp_path):
    old = os.umask(0o022)
    try:
        assert cli.main(["data", "folder", str(photos_folder(tmp_path / "src", 2)), str(tmp_path / "dst")]) == 0
        assert cli.main(TRAIN + ["--runs-dir", str(tmp_path / "runs")]) == 0
    finally:
        os.umask(old)
    (run_dir,) = (tmp_path / "runs").iterdir()
    written = [tmp_path / "dst", tmp_path / "dst" / "manifest.json", tmp_path / "dst" / "l" / "gray_scale.npy",
               run_dir / "run.json", run_dir / "model.keras", run_dir / "checkpoint.keras"]
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in written}
    assert modes == {"dst": "0o755", "manifest.json": "0o644", "gray_scale.npy": "0o644", "run.json": "0o644",
                     "model.keras": "0o644", "checkpoint.keras": "0o644"}


# ================================================================ training runs


def test_a_second_resume_of_one_run_is_refused_naming_the_first(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert cli.main(TRAIN + ["--runs-dir", str(runs)]) == 0
    (run_dir,) = runs.iterdir()
    longer = TRAIN[:TRAIN.index("--epochs") + 1] + ["5000"] + TRAIN[TRAIN.index("--epochs") + 2:]
    first = start_cli(*longer, "--resume", run_dir)
    wait_for(lambda: (run_dir / locks.LOCK_NAME).exists() and locks.read_holder(run_dir / locks.LOCK_NAME), first,
             "the first resume took the run")
    capsys.readouterr()
    assert cli.main(longer + ["--resume", str(run_dir)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{run_dir} is in use" in line and f"process {first.pid}" in line
    wait_for(lambda: json.loads((run_dir / "run.json").read_text()).get("pid") == first.pid, first,
             "the first resume started training")
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=120)
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "interrupted" and record["pid"] == first.pid, record  # only the first one trained


def test_a_nan_run_without_a_good_epoch_says_there_is_no_checkpoint(tmp_path, capsys):
    assert cli.main(TRAIN + ["--lr", "1e30", "--epochs", "2", "--runs-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    (run_dir,) = tmp_path.iterdir()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "nan" and not (run_dir / "checkpoint.keras").exists()
    assert "no checkpoint.keras" in out and "the last good epoch is in" not in out
    row = record["epochs"][-1]
    assert row["loss"] is None and row["accuracy"] is None and row["val_accuracy"] is None  # not measured


def test_a_full_disk_while_saving_a_model_names_the_run_folder(tmp_path, capsys, monkeypatch):
    import keras

    def full(self, path, *args, **kwargs):
        Path(path).write_bytes(b"x" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device")  # as a write fails: no file named

    monkeypatch.setattr(keras.Model, "save", full)
    assert cli.main(TRAIN + ["--runs-dir", str(tmp_path)]) == 2
    line = one_error_line(capsys.readouterr().err)
    (run_dir,) = tmp_path.iterdir()
    assert f"not enough space in {run_dir}" in line and "more than 1,000 bytes" in line


@pytest.mark.parametrize("option, value, words", [("--input-size", "8192", "--input-size"),
                                                   ("-n", "100000", "10,000")])
def test_sizes_that_cannot_fit_are_refused_before_a_run_folder_is_made(tmp_path, capsys, option, value, words):
    args = TRAIN + ["--runs-dir", str(tmp_path / "runs")]
    args[args.index(option) + 1] = value
    assert cli.main(args) == 2
    assert words in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "runs").exists()


def test_data_sample_beyond_its_limit_is_refused_before_writing(capsys):
    from deepcolor.settings import deepcolor_home

    before = sorted(p.name for p in deepcolor_home().rglob("*"))
    assert cli.main(["data", "sample", "-n", "100000"]) == 2
    assert "10,000 crops" in one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in deepcolor_home().rglob("*")) == before


def test_a_wrong_keras_backend_names_the_variable_and_the_choices(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="tensorflw")
    done = subprocess.run([sys.executable, "-m", "deepcolor.cli", *TRAIN, "--runs-dir", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert "KERAS_BACKEND" in line and "'tensorflw'" in line and "tensorflow, jax, torch" in line


def test_a_read_only_datasets_cache_warning_speaks_the_command_lines_words(tmp_path, read_only):
    from deepcolor.embedding_cache import dataset_embeddings
    from deepcolor.lab_dataset import open_layout

    assert cli.main(["data", "folder", str(photos_folder(tmp_path / "src", 2)), str(tmp_path / "dst")]) == 0
    ds = open_layout(read_only(tmp_path / "dst"))
    with pytest.warns(UserWarning) as caught:
        emb = dataset_embeddings(ds, "untrained")
    text = str(caught[0].message)
    assert "cache_dir=" not in text and f"make {tmp_path / 'dst' / 'embeddings'} writable" in text
    assert emb.shape == (len(ds), 1000) and np.isfinite(emb).all()
