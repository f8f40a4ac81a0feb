"""``deepcolor book``: the course run into static HTML pages (deepcolor.book, deepcolor.book_pages).

The pages come from the session's ``small_book`` (notebooks 00 and 01 under smoke); the widget
stills, links and goals are also checked on notebooks made here, which run nothing.
"""

import base64
import io
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from deepcolor import book, book_pages, cli, settings
from deepcolor.lessons import start_here
from test_bad_input import one_error_line

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_the_build_runs_both_notebooks_and_keeps_their_executed_copies(small_book):
    folder, pages = small_book
    assert [(p.name, p.ran) for p in pages] == [("00_start_here", True), ("01_lab_color_space", True)]
    for page in pages:
        executed = nbformat.read(folder / book.EXECUTED / f"{page.name}.ipynb", as_version=4)
        meta = executed.metadata[book.META]
        source = (NOTEBOOKS / f"{page.name}.ipynb").read_bytes()
        assert meta["profile"] == "smoke" and meta["source_sha256"] == book.sha256(source)
        assert meta["facts"]["profile"] == "smoke" and meta["facts"]["backend"] == "tensorflow"
        assert all(c.execution_count for c in executed.cells if c.cell_type == "code")
    assert sorted(p.name for p in folder.glob("*.html")) == ["00_start_here.html", "01_lab_color_space.html", "index.html"]
    assert json.loads((folder / book.MARKER).read_text())["pages"] == ["00_start_here", "01_lab_color_space"]


def test_the_index_has_the_course_map_each_notebooks_goals_and_time(small_book):
    folder, pages = small_book
    index = soup(folder / "index.html")
    rows = {row.find("td").get_text(" ", strip=True): row for row in index.select("table tr") if row.find("td")}
    assert len(rows) == 12
    assert rows["00_start_here"].find("a")["href"] == "00_start_here.html"
    assert rows["02_dataset (not in this book)"].find("a") is None
    cells = [td.get_text(strip=True) for td in rows["01_lab_color_space"].find_all("td")]
    assert cells[1].startswith("RGB vs Lab")
    assert cells[2] == start_here.format_time(start_here.TIMES["smoke"][1])  # the course map's smoke time, not this run's
    assert cells[3] == book_pages.format_time(pages[1].meta["seconds"])  # this run's
    text = index.get_text(" ", strip=True)
    for goal in ("get the map of the twelve notebooks", "move sliders over"):
        assert goal in text
    assert "smoke" in index.find("p").get_text()


def test_a_page_names_the_profile_and_the_machine_at_the_top(small_book):
    folder, _ = small_book
    page = soup(folder / "01_lab_color_space.html")
    top = page.find("blockquote").get_text(" ", strip=True)
    assert "Profile smoke" in top and "they are not results" in top
    assert "Machine :" in top and "CPU cores" in top and "no GPU" in top and "tensorflow backend" in top
    first_heading = page.find("h1")
    assert page.find("blockquote").sourceline < first_heading.sourceline  # above the notebook's title


def test_every_link_between_pages_resolves(small_book):
    folder, _ = small_book
    seen = set()
    for html in folder.glob("*.html"):
        for link in soup(html).find_all("a", href=True):
            target = link["href"].split("#")[0]
            if target and not target.startswith(("http:", "https:", "mailto:")):
                assert (folder / target).is_file(), f"{html.name} links to {link['href']}"
                seen.add((html.name, target))
    assert ("00_start_here.html", "01_lab_color_space.html") in seen  # next
    assert ("01_lab_color_space.html", "00_start_here.html") in seen  # previous
    assert ("01_lab_color_space.html", "index.html") in seen


def test_pages_need_no_network_and_no_widget_renderer(small_book):
    folder, _ = small_book
    for html in folder.glob("*.html"):
        page = soup(html)
        assert [s["src"] for s in page.find_all("script", src=True)] == [], html.name
        assert not [link["href"] for link in page.find_all("link", href=True) if "//" in link["href"]], html.name
        assert "widget-view+json" not in html.read_text() and "widget-state+json" not in html.read_text()
        for img in page.find_all("img"):
            assert img["src"].startswith("data:image/png;base64,"), html.name


def test_a_slider_is_shown_as_its_starting_figure_with_a_line_saying_it_moves(small_book):
    folder, _ = small_book
    page = soup(folder / "01_lab_color_space.html")
    lines = [p for p in page.find_all("em") if p.get_text().startswith("A still")]
    assert [p.get_text() for p in lines][0] == (
        "A still: the figure at L = 60, a = 40, b = 30. In JupyterLab the sliders move and the figure follows: "
        "run the notebook there to try them.")
    assert len(lines) == 2  # notebook 01's two figure_sliders
    still = lines[0].find_previous("img")
    png = Image.open(io.BytesIO(base64.b64decode(still["src"].split(",", 1)[1])))
    assert png.format == "PNG" and png.width > 100 and png.height > 100


def test_a_second_build_reuses_what_ran_and_runs_again_what_changed(small_book, tmp_path, monkeypatch):
    folder = tmp_path / "book"
    shutil.copytree(small_book[0], folder)
    executed = folder / book.EXECUTED / "01_lab_color_space.ipynb"
    before = executed.stat().st_mtime_ns
    pages = book.build(folder, "smoke", ["01"], say=lambda line: None)
    assert [(p.name, p.ran) for p in pages] == [("00_start_here", False), ("01_lab_color_space", False)]
    assert executed.stat().st_mtime_ns == before
    source = (NOTEBOOKS / "01_lab_color_space.ipynb").read_bytes()
    assert book._reusable(executed, book.sha256(source), "smoke") is not None
    assert book._reusable(executed, book.sha256(source + b" "), "smoke") is None  # its source changed
    assert book._reusable(executed, book.sha256(source), "default") is None  # another profile
    (folder / book.EXECUTED / "00_start_here.ipynb").write_text("{damaged")
    assert [p.name for p in book.build(folder, "smoke", ["01"], say=lambda line: None)] == ["01_lab_color_space"]
    assert not (folder / "00_start_here.html").exists()  # no longer in the book: its old page is gone
    assert "00_start_here (not in this book)" in (folder / "index.html").read_text()


def test_a_failing_notebook_stops_the_build_naming_it_and_its_cell(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 00 - Broken"),
                                         nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("raise ValueError('no such photo')")])
    monkeypatch.setattr(book, "_sources", lambda: {"00_start_here": nbformat.writes(nb).encode()})
    with pytest.raises(RuntimeError, match=r"00_start_here failed: its code cell 2 raised ValueError: no such photo"):
        book.build(tmp_path / "b", "smoke", ["00"], say=lambda line: None)
    failed = nbformat.read(tmp_path / "b" / book.EXECUTED / "00_start_here.failed.ipynb", as_version=4)
    assert failed.cells[2].outputs[0]["ename"] == "ValueError"
    assert not (tmp_path / "b" / book.EXECUTED / "00_start_here.ipynb").exists()
    assert "No notebook has run yet" in (tmp_path / "b" / "index.html").read_text()  # the index all the same


def test_a_folder_of_yours_is_refused_before_anything_runs(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["book", str(tmp_path), "--profile", "smoke"]) == 2
    assert "is not a book written by deepcolor" in one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_the_profile_is_the_option_else_the_variable_else_default(monkeypatch, capsys, tmp_path):
    from deepcolor.cli_course import book_profile

    monkeypatch.setenv(settings.PROFILE_ENV, "smoke")
    assert book_profile("full") == "full" and book_profile(None) == "smoke"
    monkeypatch.delenv(settings.PROFILE_ENV)
    assert book_profile(None) == "default"
    monkeypatch.setenv(settings.PROFILE_ENV, "tiny")
    assert cli.main(["book", str(tmp_path / "b")]) == 2
    assert "DEEPCOLOR_PROFILE='tiny' is not a profile" in one_error_line(capsys.readouterr().err)


def test_notebooks_are_chosen_by_number_or_name_in_course_order():
    assert book.select(["01", "00_start_here.ipynb"]) == ["00_start_here", "01_lab_color_space"]
    assert len(book.select(None)) == 12
    with pytest.raises(ValueError, match="no notebook '13'"):
        book.select(["13"])


def test_the_kernel_runs_with_inline_figures_under_the_profile(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    env = settings.notebook_environment("full")
    assert env[settings.PROFILE_ENV] == "full" and "MPLBACKEND" not in env and "TF_CPP_MIN_LOG_LEVEL" not in env
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # the user's own: kept
    assert settings.notebook_environment("smoke")["TF_CPP_MIN_LOG_LEVEL"] == "0"


# ---------------------------------------------------------------- what a page is made of, without running


def widget(model: str, **state) -> dict:
    return {"model_name": model, "state": {"_model_name": model, **state}}


def test_widget_stills_keep_the_figure_the_output_and_the_text_and_say_what_moves():
    png = base64.b64encode(b"\x89PNG fake").decode()
    states = {
        "box": widget("VBoxModel", children=["IPY_MODEL_s", "IPY_MODEL_d", "IPY_MODEL_img", "IPY_MODEL_out"]),
        "s": widget("FloatLogSliderModel", description="lr", value=0.001),
        "d": widget("DropdownModel", description="arch", index=1, _options_labels=["base", "arch3"]),
        "img": {**widget("ImageModel", format="png"), "buffers": [{"path": ["value"], "data": png, "encoding": "base64"}]},
        "out": widget("OutputModel", outputs=[{"output_type": "stream", "name": "stdout", "text": "trained\n"}]),
        "bar": widget("HBoxModel", children=["IPY_MODEL_h", "IPY_MODEL_p"]),
        "h": widget("HTMLModel", value="embeddings: 100%&nbsp;<b>12/12</b>"),
        "p": widget("FloatProgressModel", value=12),
        "up": widget("FileUploadModel", description="Upload"),
    }
    view = "application/vnd.jupyter.widget-view+json"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")], metadata={"widgets": {
        "application/vnd.jupyter.widget-state+json": {"state": states, "version_major": 2, "version_minor": 0}}})
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={view: {"model_id": m}, "text/plain": "Box"})
                           for m in ("box", "bar", "up")]
    assert book_pages.widget_stills(nb) == 3
    outs = nb.cells[0].outputs
    assert outs[0].data["image/png"] == png and outs[1].text == "trained\n"
    assert outs[2].data["text/markdown"].startswith("*A still: the figure at lr = 0.001, arch = arch3. In JupyterLab "
                                                    "the controls move")
    assert outs[3].text == "embeddings: 100% 12/12\n"
    assert "Upload" in outs[4].data["text/markdown"] and "static page cannot run" in outs[4].data["text/markdown"]
    assert len(outs) == 5 and "widgets" not in nb.metadata


def test_links_to_notebooks_lead_to_their_pages_or_become_text():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "See [the base model](04_base_model.ipynb#train), [results](09_results.ipynb) and [docs](https://x.org).")])
    book_pages.rewrite_links(nb, {"04_base_model"})
    assert nb.cells[0].source == "See [the base model](04_base_model.html#train), results and [docs](https://x.org)."


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_notebook_has_a_title_and_goals_for_the_index(path):
    nb = nbformat.read(path, as_version=4)
    assert book_pages.title(nb, path.stem).startswith(path.stem[:2])
    goals = book_pages.goals(nb)
    assert 2 <= len(goals) <= 8, goals
    assert all(goal and "\n" not in goal and not goal.startswith("-") for goal in goals)
