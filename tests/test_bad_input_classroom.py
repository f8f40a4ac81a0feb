"""Bad input, careless and hostile use of classroom packs (``deepcolor classroom pack|use``).

As in ``tests/test_bad_input.py``, each test is a case a user can hit, through the command line,
and checks that nothing of the user's is lost and that the error is one line naming the file and
the fix: a run killed half-way, two runs at once, a full disk, a strange manifest.  The pack and
the two machines are those of ``tests/test_classroom.py`` (its fixtures, imported here).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from test_classroom import built, snapshot, teacher  # noqa: F401 - fixtures

from deepcolor import cli, config, files, weights

# ----------------------------------------------------------------------------- a run killed half-way

HANGS_WHILE_COPYING_THE_WEIGHTS = """
import sys, time
from pathlib import Path
from deepcolor import classroom_install, cli

real = classroom_install.sha256_file

def copy(path, copy_to=None):
    if copy_to is not None and Path(path).suffix == ".h5":
        Path(copy_to).write_bytes(b"the first megabytes")
        Path(sys.argv[2]).write_text("copying")
        time.sleep(120)
    return real(path, copy_to)

classroom_install.sha256_file = copy
sys.exit(cli.main(["classroom", "use", sys.argv[1]]))
"""


def test_use_after_a_killed_use_removes_its_leftovers_and_installs_whole(built, tmp_path, capsys):
    out, expected = built
    home, models = tmp_path / "student" / "home", tmp_path / "student" / "keras" / "models"
    signal_file = tmp_path / "copying"
    proc = subprocess.Popen([sys.executable, "-c", HANGS_WHILE_COPYING_THE_WEIGHTS, str(out), str(signal_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not signal_file.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the install never reached the weights"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    left = [p for p in home.iterdir() if p.name.startswith(".classroom.partial-")] + \
        [p for p in models.iterdir() if p.name.endswith(".partial")]
    assert len(left) == 3, [p.name for p in left]  # the images folder, the class names, the weights begun

    assert cli.main(["classroom", "use", str(out)]) == 0
    captured = capsys.readouterr()
    for path in left:
        assert not path.exists() and f"removed {path}" in captured.out
    assert f"took over the lock of {home / 'classroom'} from process {proc.pid} on " in captured.err
    assert sorted(p.name for p in home.iterdir()) == ["classroom"]
    assert sorted(p.name for p in models.iterdir()) == sorted([weights.WEIGHTS_FILE, weights.CLASS_INDEX_FILE])
    cfg = config.load("default")
    assert cfg.fallbacks == [] and len(cfg.dataset()) == len(expected)
    np.testing.assert_array_equal(cfg.embeddings(cfg.dataset()), expected)


# ----------------------------------------------------------------------------- two runs at once

HOLDS_THE_LOCK = """
import sys, time
from deepcolor import locks
with locks.writer(sys.argv[1], "a test", inside=sys.argv[2] == "inside"):
    print("held", flush=True)
    time.sleep(120)
"""


def holding(folder, inside: bool) -> subprocess.Popen:
    """Another process holding ``folder``'s lock (until it is killed)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDS_THE_LOCK, str(folder), "inside" if inside else "beside"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "held\n", proc.communicate()
    return proc


@pytest.mark.parametrize("what", ["images folder", "Keras cache"])
def test_a_second_use_at_once_is_refused_naming_the_holder(built, tmp_path, capsys, what):
    out, _ = built
    student = tmp_path / "student"
    folder = student / "home" / "classroom" if what == "images folder" else student / "keras" / "models"
    (folder.parent if what == "images folder" else folder).mkdir(parents=True)
    proc = holding(folder, inside=what == "Keras cache")
    try:
        assert cli.main(["classroom", "use", str(out)]) == 2
    finally:
        proc.kill()
        proc.communicate()
    err = capsys.readouterr().err
    assert err.startswith(f"deepcolor: error: {folder} is in use: ") and f"by process {proc.pid} on " in err
    assert len(err.strip().splitlines()) == 1
    assert not (student / "home" / "classroom").exists()
    assert not [p for p in student.rglob("*") if p.name.endswith((".h5", ".json", ".npy", ".partial"))]


def test_a_second_pack_into_the_same_folder_is_refused_at_once_naming_the_holder(teacher, tmp_path, capsys):
    out = tmp_path / "pack"
    proc = holding(out, inside=False)
    try:
        started = time.monotonic()
        assert cli.main(["classroom", "pack", str(out)]) == 2
        assert time.monotonic() - started < 10, "the second pack worked before it was refused"
    finally:
        proc.kill()
        proc.communicate()
    err = capsys.readouterr().err
    assert err.startswith(f"deepcolor: error: {out} is in use: ") and f"by process {proc.pid} on " in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".pack.partial")]


# ----------------------------------------------------------------------------- a full disk


@pytest.fixture
def little_space(monkeypatch):
    """Every disk reports 1 MB free."""
    usage = shutil.disk_usage(".")
    monkeypatch.setattr(files.shutil, "disk_usage", lambda path: usage._replace(free=1_000_000))


def test_use_on_a_full_disk_fails_before_copying(built, tmp_path, capsys, little_space):
    out, _ = built
    assert cli.main(["classroom", "use", str(out)]) == 2
    err = capsys.readouterr().err
    pack_bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and p.name != "classroom-pack.json")
    assert err.startswith(f"deepcolor: error: not enough space in {tmp_path / 'student'}")
    assert f"it needs {pack_bytes:,} bytes, 1,000,000 are free" in err and len(err.strip().splitlines()) == 1
    assert snapshot(tmp_path / "student") == {} and os.listdir(tmp_path / "student" / "home") == []


def test_pack_on_a_full_disk_fails_before_writing(teacher, tmp_path, capsys, little_space):
    out = tmp_path / "pack"
    assert cli.main(["classroom", "pack", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"deepcolor: error: not enough space in {tmp_path} for a classroom pack of 6 images: ")
    assert "1,000,000 are free" in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".pack")]


# ----------------------------------------------------------------------------- a strange manifest


def deeply_nested(manifest: dict) -> str:
    return "[" * 100_000


@pytest.mark.parametrize("change, says", [
    (lambda m: json.dumps(dict(m, profile=["default"])), "names ['default'] as its profile"),
    (lambda m: json.dumps(dict(m, profile="smoke")), "names 'smoke' as its profile"),
    (lambda m: json.dumps(dict(m, images="6")), "its image count '6'"),
    (lambda m: json.dumps(dict(m, embeddings=["imagenet"])), "(or its embeddings' record)"),
    (deeply_nested, "is damaged: the classroom pack's manifest is not valid JSON"),
], ids=["profile a list", "profile smoke", "image count a string", "embeddings a list", "nested"])
def test_a_strange_manifest_is_one_line_naming_it(built, tmp_path, capsys, change, says):
    out, _ = built
    manifest = out / "classroom-pack.json"
    manifest.write_text(change(json.loads(manifest.read_text())))
    assert cli.main(["classroom", "use", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"deepcolor: error: {manifest} ") and says in err and len(err.strip().splitlines()) == 1
    assert snapshot(tmp_path / "student") == {} and not (tmp_path / "student" / "home").exists()
