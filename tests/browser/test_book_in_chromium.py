"""The course book (``deepcolor book``) as a reader opens it: its index in headless Chromium, every
link followed, every figure loaded, nothing fetched from the network.

The book is the session's ``small_book`` (notebooks 00 and 01 under smoke), or the folder
``$DEEPCOLOR_BOOK`` names: CI builds one there with the installed wheel and checks it here.
"""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def book_folder(request) -> Path:
    given = os.environ.get("DEEPCOLOR_BOOK")
    return Path(given).resolve() if given else request.getfixturevalue("small_book")[0]


def images_loaded(page) -> list:
    """[(naturalWidth, complete)] of every image on the page, once the page has loaded."""
    page.wait_for_load_state("load")
    return page.evaluate("[...document.images].map(i => [i.naturalWidth, i.complete])")


def test_the_index_links_resolve_and_every_figure_loads_without_a_network(book_folder, browser, shot):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    fetched = []
    page.on("request", lambda r: fetched.append(r.url))
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto((book_folder / "index.html").as_uri())
    shot(page, "book_index")
    links = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
    pages = sorted({link.split("#")[0] for link in links if link.startswith("file:")})
    assert pages, "the index links to no page"
    figures = 0
    for url in pages:
        assert Path(url.removeprefix("file://")).is_file(), f"the index links to {url}, which is not there"
        page.goto(url)
        shown = images_loaded(page)
        assert all(width > 0 and complete for width, complete in shown), f"{url}: an image did not load: {shown}"
        figures += len(shown)
        if not url.endswith("index.html"):
            for link in page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)"):
                if link.startswith("file:"):
                    assert Path(link.split("#")[0].removeprefix("file://")).is_file(), f"{url} links to {link}"
    assert figures, "no figure in the book"
    page.goto(pages[1] if len(pages) > 1 else pages[0])
    shot(page, "book_page")
    page.goto((book_folder / "index.html").as_uri())
    page.locator("table a").first.click()  # a reader's click, not only a URL that exists
    page.wait_for_load_state("load")
    assert page.url.endswith(".html") and page.url != (book_folder / "index.html").as_uri()
    assert "Profile" in page.locator("blockquote").first.inner_text()
    outside = [url for url in fetched if not url.startswith(("file:", "data:"))]
    assert outside == [] and failed == [], f"fetched from outside the book: {outside}, failed: {failed}"
    page.close()
