"""What a student does and sees in JupyterLab, for the browser tests: open a notebook, use the Run
menu, wait for the cells to finish, find a cell's sliders, and spot the errors a student would see."""

from __future__ import annotations

import re
import time

EXECUTED = re.compile(r"\[\d+\]:")
# an error output (a traceback, or IPython's short form for a SyntaxError), among the stderr outputs
ERROR_TEXT = re.compile(r"Traceback \(most recent call last\)|^\s*\w*(Error|Exception): ", re.M)


def open_notebook(page, lab, name: str, timeout: float = 60) -> None:
    """Open ``name``.ipynb in a fresh JupyterLab workspace and wait until its kernel is idle
    (Lab asks which kernel to use when cells run before it has started one)."""
    page.goto(lab.url(f"lab/tree/{name}.ipynb?reset"))
    page.locator(".jp-NotebookPanel .jp-CodeCell").first.wait_for(timeout=timeout * 1000)
    start = time.monotonic()
    while lab.kernel_state(f"{name}.ipynb") != "idle":
        assert time.monotonic() - start < timeout, f"{name}: no idle kernel after {timeout:.0f} s"
        page.wait_for_timeout(300)
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=timeout * 1000)


def run_menu(page, item: str) -> None:
    """Click ``item`` in the Run menu, e.g. "Run All Cells"."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).click()


def prompts(page) -> list[str]:
    return [t.strip() for t in page.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()]


def wait_until_ran(page, cells: slice = slice(None), timeout: float = 120) -> None:
    """Wait until the code cells ``cells`` (all by default) show an execution count, "[3]:".
    Fails at once when nothing is running any more and some of them never ran (an error stops a run)."""
    start = time.monotonic()
    while True:
        shown = prompts(page)
        wanted = shown[cells]
        running = "[*]:" in shown
        if wanted and not running and all(EXECUTED.fullmatch(p) for p in wanted):
            return
        waited = time.monotonic() - start
        assert running or waited < 3, f"the run stopped before these cells ran: {shown}\n{errors_shown(page)}"
        assert waited < timeout, f"cells still running after {timeout:.0f} s: {shown}"
        page.wait_for_timeout(300)


def wait_for(page, condition, message: str, timeout: float = 30) -> None:
    """Wait until ``condition()`` is true; fail at once if the student sees an error meanwhile."""
    start = time.monotonic()
    while not condition():
        assert not errors_shown(page), "the student sees errors:\n" + "\n---\n".join(errors_shown(page))
        assert time.monotonic() - start < timeout, f"{message} within {timeout:.0f} s"
        page.wait_for_timeout(200)


def settle(page, lab, notebook: str, image, quiet: float = 1.0, timeout: float = 30) -> None:
    """Wait until ``notebook``'s kernel is idle and ``image`` has stayed the same for ``quiet`` seconds:
    a slider moved step by step redraws once a step, and only the last drawing counts."""
    start, last = time.monotonic(), None
    while (now := image.get_attribute("src")) != last or lab.kernel_state(notebook) != "idle":
        assert time.monotonic() - start < timeout, f"{notebook}: still redrawing after {timeout:.0f} s"
        last = now
        page.wait_for_timeout(quiet * 1000)


def code_cell(page, text: str):
    """The one code cell whose code contains ``text``."""
    cell = page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea", has_text=text))
    cell.scroll_into_view_if_needed()
    return cell


def rendered(cell, selector: str, timeout: float = 15):
    """The widget ``selector`` displayed in ``cell``'s output; fails saying what the cell shows instead."""
    widget = cell.locator(selector)
    start = time.monotonic()
    while widget.count() == 0 and time.monotonic() - start < timeout:
        time.sleep(0.2)
    shown = cell.locator(".jp-OutputArea").first.text_content()
    assert widget.count(), (f"no widget ({selector}) displayed; the cell shows {shown[:300]!r}. Is JupyterLab's "
                            "widget manager, the jupyterlab_widgets package, installed in this environment?")
    return widget


def slider(cell, label: str):
    """The handle of the slider labelled ``label`` in ``cell`` (it takes the keyboard when focused)."""
    box = cell.locator(".widget-slider").filter(has=cell.page.locator(".widget-label", has_text=re.compile(f"^{label}$")))
    return box.get_by_role("slider"), box.locator(".widget-readout")


def errors_shown(page) -> list[str]:
    """What a student would read as an error: 'Error displaying widget', or an error output in a
    cell or in a widget's output area (interact shows a callback's traceback there)."""
    found = [f"'Error displaying widget' {n} time(s)"
             for n in [page.get_by_text("Error displaying widget").count()] if n]
    stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    found += [t[-800:] for t in stderr.all_text_contents() if ERROR_TEXT.search(t)]
    return found


def assert_no_errors(page) -> None:
    assert not errors_shown(page), "the student sees errors:\n" + "\n---\n".join(errors_shown(page))
    assert not page.widget_errors, "the widget manager logged errors in the browser console:\n" + "\n".join(page.widget_errors)
