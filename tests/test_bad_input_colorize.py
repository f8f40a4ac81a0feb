"""Bad input for ``deepcolor colorize`` (and the folders ``deepcolor data folder`` reads): two runs
at once, a file system that refuses a name, strange files, deepcolor's own outputs.

Each case goes through the command line, as in ``test_bad_input.py`` (whose helpers it uses); where
two processes must race, or where a regression would hang (a named pipe), the command runs in a
subprocess with a timeout.
"""

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
import test_bad_input
from test_bad_input import colorize_args, gray_photo, one_error_line, photos_folder

from deepcolor import __version__, cli

ROOT = Path(__file__).resolve().parents[1]
model_path = test_bad_input.model_path  # its fixture: a tiny model with a run.json, built once for this module

# Runs `deepcolor colorize` (argv[2:]) with every photo read only once the file argv[1] exists: the
# run holds its output folder's lock until the test lets it go on.
HELD_RUN = """
import sys, time
from pathlib import Path

import deepcolor.colorize as colorize_module
from deepcolor import cli

go, real_read = Path(sys.argv[1]), colorize_module.read_photo

def read_photo(path, allow_gray=False):
    deadline = time.monotonic() + 300
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return real_read(path, allow_gray=allow_gray)

colorize_module.read_photo = read_photo
sys.exit(cli.main(sys.argv[2:]))
"""


def deepcolor_cli(*args, timeout=300) -> subprocess.CompletedProcess:
    """``python -m deepcolor.cli ARGS`` in a subprocess; a hang fails the test instead of blocking it."""
    return subprocess.run([sys.executable, "-m", "deepcolor.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def names(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir())


def test_a_second_colorize_into_the_same_folder_is_refused_naming_the_first(model_path, tmp_path, capsys):
    mine = [gray_photo(tmp_path / "mine" / f"p{i}.png", size=(120, 90)) for i in range(3)]
    theirs = [gray_photo(tmp_path / "theirs" / f"p{i}.png", size=(90, 120)) for i in range(3)]
    out, go = tmp_path / "out", tmp_path / "go"
    first = subprocess.Popen([sys.executable, "-c", HELD_RUN, str(go), *colorize_args(model_path, *mine, out=out)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not (out / ".deepcolor-lock.holder").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.poll() is None, first.communicate()
        assert cli.main(colorize_args(model_path, *theirs, out=out, force=True)) == 2
        line = one_error_line(capsys.readouterr().err)
        assert f"{out} is in use" in line and f"process {first.pid} on " in line and "wait for it" in line
        go.touch()
        _, err = first.communicate(timeout=240)
    finally:
        go.touch()
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert first.returncode == 0, err
    assert names(out) == ["p0_colorized.png", "p1_colorized.png", "p2_colorized.png"]  # the lock is gone too
    assert all(Image.open(p).size == (120, 90) for p in out.iterdir())  # all the first run's own


def test_colorize_removes_the_temporary_files_of_a_killed_run(model_path, tmp_path, capsys):
    photo = gray_photo(tmp_path / "coffee.png")
    out = tmp_path / "out"
    out.mkdir()
    leftover = out / ".coffee_colorized.png.k3x9_a1z.tmp.png"
    leftover.write_bytes(b"half a PNG")
    (out / ".my.tmp.png").write_bytes(b"the user's own")
    assert cli.main(colorize_args(model_path, photo, out=out)) == 0
    assert f"removed {leftover}" in capsys.readouterr().out
    assert names(out) == [".my.tmp.png", "coffee_colorized.png"]


def test_named_pipes_and_devices_given_or_found_are_skipped_not_waited_on(model_path, tmp_path):
    album = tmp_path / "album"
    gray_photo(album / "good.png")
    os.mkfifo(album / "pipe.jpg")
    (album / "null.png").symlink_to(os.devnull)
    given = tmp_path / "given.png"
    os.mkfifo(given)
    run = deepcolor_cli(*colorize_args(model_path, given, album, out=tmp_path / "out"))
    assert run.returncode == 1, run.stderr
    assert f"skipped {given}: is a named pipe (FIFO), not a photo file" in run.stdout
    assert f"skipped {album / 'pipe.jpg'}: is a named pipe (FIFO)" in run.stdout
    assert f"skipped {album / 'null.png'}: is a link to a character device ({os.devnull})" in run.stdout
    assert "colorized 1 photos, skipped 3" in run.stderr
    assert names(tmp_path / "out") == ["good_colorized.png"]


def test_data_folder_reports_a_named_pipe_among_the_photos(tmp_path):
    src = photos_folder(tmp_path / "photos", n=3)
    os.mkfifo(src / "pipe.png")
    run = deepcolor_cli("data", "folder", src, tmp_path / "ds")
    assert run.returncode == 0, run.stderr
    assert f"skipped {src / 'pipe.png'}: is a named pipe (FIFO)" in run.stderr
    assert "converted 3 photos, skipped 1" in run.stdout


def test_an_output_name_too_long_for_the_file_system_skips_only_that_photo(model_path, tmp_path, capsys):
    long = gray_photo(tmp_path / ("x" * 250 + ".png"))  # its output, x..._colorized.png, is 264 bytes
    good = gray_photo(tmp_path / "good.png")
    assert cli.main(colorize_args(model_path, long, good, out=tmp_path / "out")) == 1
    captured = capsys.readouterr()
    assert f"skipped {long}: its output name {'x' * 250}_colorized.png (264 bytes) is longer than" in captured.out
    assert "rename the photo to a shorter name" in captured.out
    assert "colorized 1 photos, skipped 1" in captured.err and "Traceback" not in captured.err
    assert names(tmp_path / "out") == ["good_colorized.png"]


def test_colorize_never_colorizes_its_own_outputs_found_by_name_or_by_mark(model_path, tmp_path, capsys):
    album = tmp_path / "album"
    gray_photo(album / "beach.png")
    assert cli.main(colorize_args(model_path, album, out=album)) == 0
    output = album / "beach_colorized.png"
    assert Image.open(output).info["deepcolor"] == f"{__version__} colorize"
    capsys.readouterr()

    assert cli.main(colorize_args(model_path, album, out=album, force=True)) == 1
    assert f"skipped {output}: is an output of deepcolor colorize" in capsys.readouterr().out
    assert names(album) == ["beach.png", "beach_colorized.png"]

    renamed = tmp_path / "holiday.jpg"  # only the mark in its metadata says what it is
    shutil.copy(output, renamed)
    assert cli.main(colorize_args(model_path, renamed, out=tmp_path / "out")) == 1
    assert f"skipped {renamed}: is an output of deepcolor colorize" in capsys.readouterr().out
    assert names(tmp_path / "out") == []


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_colorized_photos_get_the_mode_the_umask_gives(model_path, tmp_path, umask, mode):
    photo = gray_photo(tmp_path / "coffee.png")
    before = os.umask(umask)
    try:
        assert cli.main(colorize_args(model_path, photo, out=tmp_path / "out")) == 0
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "out" / "coffee_colorized.png").stat().st_mode) == mode


def test_a_gif_of_several_frames_is_colorized_at_its_first_with_a_note(model_path, tmp_path, capsys):
    frames = [Image.fromarray(np.full((90, 120), value, np.uint8)) for value in (30, 130, 230)]
    gif = tmp_path / "wave.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100)
    assert cli.main(colorize_args(model_path, gif, out=tmp_path / "out")) == 0
    assert f"note: {gif} has 3 frames; used the first" in capsys.readouterr().out
    colorized = np.asarray(Image.open(tmp_path / "out" / "wave_colorized.png").convert("L"), np.float64)
    assert abs(colorized.mean() - 30) < 10  # the first frame's lightness


def test_data_folder_notes_a_gif_of_several_frames(tmp_path, capsys):
    src = photos_folder(tmp_path / "photos", n=2)
    frames = [Image.fromarray(np.roll(np.asarray(Image.open(src / "photo0.png")), k, axis=1)) for k in (0, 40, 80)]
    frames[0].save(src / "moving.gif", save_all=True, append_images=frames[1:], duration=100)
    assert cli.main(["data", "folder", str(src), str(tmp_path / "ds")]) == 0
    captured = capsys.readouterr()
    assert f"note: {src / 'moving.gif'} has 3 frames; used the first" in captured.err
    assert "converted 3 photos, skipped 0" in captured.out


@pytest.mark.parametrize("kind", ["folder", "pipe"])
def test_a_model_that_is_not_a_file_says_what_it_is_and_what_to_give(model_path, tmp_path, capsys, kind):
    photo = gray_photo(tmp_path / "coffee.png")
    given = model_path.parent if kind == "folder" else tmp_path / "model.keras"
    if kind == "pipe":
        os.mkfifo(given)
    assert cli.main(colorize_args(given, photo, out=tmp_path / "out")) == 2
    line = one_error_line(capsys.readouterr().err)
    if kind == "folder":
        assert f"{given} is a folder, not a model file" in line and f"e.g. {model_path}" in line
    else:
        assert f"{given} is a named pipe (FIFO), not a model file" in line
    assert "no model file" not in line and "not found" not in line.lower()
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its permissions")
def test_an_unreadable_model_says_it_cannot_be_read_and_how_to_fix_it(model_path, tmp_path, capsys):
    model = tmp_path / "model.keras"
    shutil.copy(model_path, model)
    model.chmod(0)
    try:
        assert cli.main(colorize_args(model, gray_photo(tmp_path / "coffee.png"), out=tmp_path / "out")) == 2
    finally:
        model.chmod(0o644)
    line = one_error_line(capsys.readouterr().err)
    assert f"cannot read the model file {model}: permission denied" in line and f"chmod u+r {model}" in line
