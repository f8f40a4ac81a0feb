"""Fixtures of the browser tests: JupyterLab with the course's notebooks, driven by headless Chromium.

- ``lab`` (module): a :class:`lab_server.LabServer` (smoke profile, its own DEEPCOLOR_HOME), stopped
  with its kernels after the last browser test, whatever happened.
- ``page`` (function): a fresh Chromium page; ``page.widget_errors`` collects the browser console's
  errors that come from the widget manager.
- ``shot`` (function): ``shot(page, name, show=cell)`` saves a screenshot to $DEEPCOLOR_SCREENSHOTS (default: a
  temporary folder, printed at the end of the run); a failed test leaves ``<test>_failed.png`` there.

The browser is ``chromium`` on PATH, or $DEEPCOLOR_CHROMIUM. Without it or Playwright the tests skip,
saying how to install them; under CI=true they fail.
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from lab_server import LabServer

_RUN = {"screenshots": None, "started": None, "took": None}


def unavailable(reason: str):
    message = f"the browser tests need {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: the browser tests must run, not skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("DEEPCOLOR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        unavailable("Chromium, and there is no `chromium` on PATH: install it (Debian or Ubuntu, as root: "
                    "`apt-get install -y chromium`), or set DEEPCOLOR_CHROMIUM to a Chromium binary")
    return path


@pytest.fixture(scope="module")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright: install the test extra, `.venv/bin/pip install -e \".[test]\"`")
    _RUN["started"] = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"))
    try:
        yield server.start()
    finally:
        server.stop()
        _RUN["took"] = time.monotonic() - _RUN["started"]


def from_widget_manager(message) -> bool:
    where = message.location.get("url", "") if message.location else ""
    return "jupyter-widgets" in where or "widget" in message.text.lower()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture
def page(browser, screenshots, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.widget_errors = []
    page.on("console", lambda m: m.type == "error" and from_widget_manager(m) and page.widget_errors.append(m.text))
    page.on("pageerror", lambda e: "widget" in str(e).lower() and page.widget_errors.append(str(e)))
    yield page
    if getattr(request.node, "call_failed", False):
        page.screenshot(path=screenshots / f"{request.node.name}_failed.png")
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = os.environ.get("DEEPCOLOR_SCREENSHOTS") or tempfile.mkdtemp(prefix="deepcolor-screenshots-")
    _RUN["screenshots"] = Path(folder)
    _RUN["screenshots"].mkdir(parents=True, exist_ok=True)
    return _RUN["screenshots"]


@pytest.fixture
def shot(screenshots):
    def save(page, name: str, show=None) -> Path:
        """Screenshot the page, scrolled so that the element ``show`` (a locator) starts at the top."""
        for _ in range(2 if show is not None else 0):  # twice: cells above may change height as they render
            show.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(300)
        path = screenshots / f"{name}.png"
        page.screenshot(path=path)
        return path
    return save


def pytest_terminal_summary(terminalreporter):
    folder = _RUN["screenshots"]
    if _RUN["took"] is not None:
        terminalreporter.write_line(f"browser tests: {_RUN['took']:.0f} s, JupyterLab and Chromium included")
    if folder is not None:
        names = sorted(p.name for p in folder.glob("*.png"))
        terminalreporter.write_line(f"browser screenshots in {folder}: {', '.join(names) or 'none'}")
