"""``deepcolor notebooks``: the course's notebooks copied into a student's folder, never losing the
student's changes, and ``--list``, the course map (deepcolor.course, deepcolor.cli_course)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deepcolor import cli, course, locks
from test_bad_input import one_error_line

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SHIPPED = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) + ["SOLUTIONS.md"]


def copy(dest, *options):
    return cli.main(["notebooks", str(dest), *options])


def test_in_a_checkout_the_course_is_read_from_its_notebooks_folder():
    assert Path(course.course_source()) == NOTEBOOKS
    files = course.course_files()
    assert list(files) == SHIPPED  # the notebooks in teaching order, then the solutions
    assert all(files[name] == (NOTEBOOKS / name).read_bytes() for name in SHIPPED)
    assert course.notebook_names()[0] == "00_start_here" and len(course.notebook_names()) == 12


def test_a_new_folder_gets_every_notebook_and_the_solutions_byte_for_byte(tmp_path, capsys):
    dest = tmp_path / "my course"
    assert copy(dest) == 0
    line = capsys.readouterr().out.strip()
    assert line == f"13 files copied in {dest}; open the course with: jupyter lab '{dest}'"
    for name in SHIPPED:
        assert (dest / name).read_bytes() == (NOTEBOOKS / name).read_bytes(), name
    manifest = json.loads((dest / course.MANIFEST).read_text())
    assert manifest["files"] == {name: course.sha256((NOTEBOOKS / name).read_bytes()) for name in SHIPPED}
    assert sorted(p.name for p in dest.iterdir()) == sorted([*SHIPPED, course.MANIFEST])  # no lock left


def test_a_second_copy_leaves_everything_as_it_is(tmp_path):
    course.copy_course(tmp_path)
    before = {name: (tmp_path / name).stat().st_mtime_ns for name in SHIPPED}
    done = course.copy_course(tmp_path)
    assert done.same == SHIPPED and not done.new and not done.updated and not done.backups
    assert {name: (tmp_path / name).stat().st_mtime_ns for name in SHIPPED} == before


def test_a_notebook_the_student_changed_is_refused_by_name_and_nothing_is_written(tmp_path, capsys):
    course.copy_course(tmp_path)
    mine = tmp_path / "04_base_model.ipynb"
    mine.write_bytes(mine.read_bytes().replace(b"In this notebook", b"In my notebook"))
    work = mine.read_bytes()
    (tmp_path / "07_architecture_3.ipynb").unlink()  # would be copied, were anything copied
    assert copy(tmp_path) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "refusing to overwrite 04_base_model.ipynb in" in line and "--force" in line
    assert "05_architecture_1" not in line
    assert mine.read_bytes() == work
    assert not (tmp_path / "07_architecture_3.ipynb").exists()
    assert not list(tmp_path.glob("*.backup-*"))


def test_force_keeps_the_students_notebook_beside_it_and_never_overwrites_a_backup(tmp_path, capsys):
    course.copy_course(tmp_path)
    mine = tmp_path / "SOLUTIONS.md"
    mine.write_text("my answers")
    assert copy(tmp_path, "--force") == 0
    assert "kept your SOLUTIONS.md as SOLUTIONS.backup-1.md" in capsys.readouterr().out
    assert (tmp_path / "SOLUTIONS.backup-1.md").read_text() == "my answers"
    assert mine.read_bytes() == (NOTEBOOKS / "SOLUTIONS.md").read_bytes()
    mine.write_text("my second answers")
    course.copy_course(tmp_path, force=True)
    assert (tmp_path / "SOLUTIONS.backup-1.md").read_text() == "my answers"
    assert (tmp_path / "SOLUTIONS.backup-2.md").read_text() == "my second answers"


def test_what_an_earlier_version_wrote_is_updated_without_a_backup(tmp_path):
    course.copy_course(tmp_path)
    earlier = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    (tmp_path / "01_lab_color_space.ipynb").write_bytes(earlier)
    manifest = json.loads((tmp_path / course.MANIFEST).read_text())
    manifest["files"]["01_lab_color_space.ipynb"] = course.sha256(earlier)  # as that version's copy recorded
    (tmp_path / course.MANIFEST).write_text(json.dumps(manifest))
    done = course.copy_course(tmp_path)
    assert done.updated == ["01_lab_color_space.ipynb"] and not done.backups
    assert (tmp_path / "01_lab_color_space.ipynb").read_bytes() == (NOTEBOOKS / "01_lab_color_space.ipynb").read_bytes()


def test_a_damaged_manifest_counts_as_none(tmp_path):
    course.copy_course(tmp_path)
    (tmp_path / course.MANIFEST).write_text("{not json")
    (tmp_path / "02_dataset.ipynb").write_text("mine")
    notes = []
    with pytest.raises(FileExistsError, match="02_dataset.ipynb"):
        course.copy_course(tmp_path, say=notes.append)
    assert any("is damaged" in note for note in notes)
    assert course.copy_course(tmp_path, force=True).backups == {"02_dataset.ipynb": tmp_path / "02_dataset.backup-1.ipynb"}
    assert json.loads((tmp_path / course.MANIFEST).read_text())["files"]["02_dataset.ipynb"] == \
        course.sha256((NOTEBOOKS / "02_dataset.ipynb").read_bytes())


def test_a_folder_where_a_notebook_goes_is_one_error_line(tmp_path, capsys):
    (tmp_path / "00_start_here.ipynb").mkdir()
    assert copy(tmp_path, "--force") == 2
    assert "00_start_here.ipynb is a folder" in one_error_line(capsys.readouterr().err)


def test_a_second_writer_of_the_folder_is_refused(tmp_path, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from deepcolor.locks import writer\n"
         f"with writer({str(tmp_path)!r}, 'x', inside=True):\n    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert copy(tmp_path) == 2
        line = one_error_line(capsys.readouterr().err)
        assert f"{tmp_path} is in use" in line and f"process {holder.pid}" in line
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "00_start_here.ipynb").exists()
    assert locks.lock_path(tmp_path, inside=True).exists()  # the killed holder's; the next copy takes it over


def test_list_shows_the_course_map(capsys):
    from deepcolor.lessons.start_here import COURSE, TIMES, format_time

    assert cli.main(["notebooks", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "smoke" in lines[0] and "what you do there" in lines[0]
    for k, (name, what) in enumerate(COURSE.items()):
        row = next(line for line in lines if line.startswith(name + " "))
        assert what in row and f" {format_time(TIMES['smoke'][k])} " in row, row
    assert lines[-2].startswith("all") and lines[-1].startswith("reference step")  # and how fast the machine was


@pytest.mark.parametrize("words, said", [(["notebooks"], "give the folder"),
                                         (["notebooks", "--list", "x"], "--list shows the course map")])
def test_notebooks_without_a_folder_or_with_both_is_one_error_line(words, said, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(words) == 2
    assert said in one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []
