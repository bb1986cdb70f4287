"""The published site, built once from the small demo, served over HTTP, and a headless Chromium."""

from __future__ import annotations

import pytest
from browser import INSTALL_HINT, executable
from http_site import http_server

from energy_lib.core.wards import wards
from energy_lib.publish import opendata
from energy_lib.publish import site as publish
from tests.conftest import NOTEBOOKS

BROKEN = publish.Page("area.ipynb", {"lang": "ko", "level": "ward", "code": "0000000000"}, "ko/dong/0000000000.html",
                      "없는 동", "dong")


TYPES = [t for t in opendata.BUILDING_TYPES if t != "unknown"]
"""Every building type a page is published for."""
ENGLISH = ("en/city.html", "en/gu/29140.html", "en/dong/2914074500.html", "en/building/commercial.html",
           "en/building/apartment.html")
"""The English pages of the test site: one of each section."""


def dongs() -> list[str]:
    """One dong of every gu (the first by code; the area notebook's default dong for its gu)."""
    table = wards().sort_values("ward_code")
    first = table.groupby("gu_code")["ward_code"].first()
    return sorted(first.where(first.index != "29140", "2914074500"))


@pytest.fixture(scope="session")
def site(published) -> dict:
    """The small demo's site, built once for the tests of the ``published`` group (link checks,
    phone widths, the apps): the city, every gu, a dong of every gu and every building type in
    Korean, one page of each section in English, plus a page that fails (``failing``, not in
    ``pages``)."""
    korean_dongs = {f"ko/dong/{code}.html" for code in dongs()}
    pages = [p for p in publish.plan(wards(), TYPES)
             if (p.lang == "ko" and (p.section in ("city", "gu", "building_type") or p.path in korean_dongs))
             or p.path in ENGLISH]
    summary = publish.build(published["site"], [*pages, BROKEN], published["manifest"]["data_hash"], notebooks=NOTEBOOKS / "reports", workers=2)
    return {**published, "pages": pages, "failing": BROKEN, "summary": summary}


FIGURE_PAGES = ("ko/city.html", "ko/gu/29140.html", "ko/building/commercial.html", "ko/building/industrial.html")
"""The recovery city's pages whose figures test_page_figures.py checks against the store."""


@pytest.fixture(scope="session")
def recovery_site(recovery_open_data) -> dict:
    """The recovery city's site (tests of the ``recovery`` group): every programme page in both
    languages (``programme_pages``) and :data:`FIGURE_PAGES`, built once and served over HTTP."""
    site = recovery_open_data["data"].parent
    plan = publish.plan(wards(), ["commercial", "industrial"], programmes=opendata.read(recovery_open_data["data"], "programmes"))
    programmes = [p for p in plan if p.section == "programme"]
    pages = [*programmes, *(p for p in plan if p.path in FIGURE_PAGES)]
    summary = publish.build(site, pages, recovery_open_data["manifest"]["data_hash"], notebooks=NOTEBOOKS / "reports", workers=2)
    assert not summary.failed, [(r.path, r.error) for r in summary.failed]
    with http_server(site) as url:
        yield {"url": url, "site": site, "pages": pages, "programme_pages": programmes, "store": recovery_open_data["store"]}


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
