"""The published site, built once from the small demo, served over HTTP, and a headless Chromium."""

from __future__ import annotations

import pytest
from browser import INSTALL_HINT, executable
from http_site import http_server

from energy_lib.core.wards import wards
from energy_lib.publish import site as publish
from tests.conftest import NOTEBOOKS

BROKEN = publish.Page("area.ipynb", {"lang": "ko", "level": "ward", "code": "0000000000"}, "ko/dong/0000000000.html",
                      "없는 동", "dong")


@pytest.fixture(scope="session")
def site(published) -> dict:
    """City, one gu, two dongs and one building type in both languages, plus a page that fails."""
    table = wards()
    pages = [p for p in publish.plan(table, ["apartment"])
             if p.section in ("city", "building_type") or p.path.endswith(("/29140.html", "/2914074500.html"))
             or p.path in ("ko/dong/2911052500.html", "ko/gu/29110.html")]  # a dong page links to its gu
    summary = publish.build(published["site"], [*pages, BROKEN], published["manifest"]["data_hash"], notebooks=NOTEBOOKS / "reports", workers=2)
    return {**published, "pages": pages, "summary": summary}


@pytest.fixture(scope="session")
def server(site):
    """The published test site over HTTP."""
    with http_server(site["site"]) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium: Debian's, else Playwright's own (tests/e2e/browser.py; `make test` gets one)."""
    chromium = executable()
    if chromium is None:
        pytest.fail(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()
