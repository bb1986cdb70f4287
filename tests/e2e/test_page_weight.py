"""Light pages (issue 14, item 4), measured in the browser: the first load of a report page at
390 × 844 with an empty cache is under 1 MB and of a citizen app under 2 MB, and nothing is
fetched from another host (no CDN). The report pages are also photographed at 390 px and 1280 px
(test-artifacts/pages/) for a person to look at.

Bytes are what the browser received (tests/e2e/page_weight.py): HTTP responses as sent, and for
the apps the kernel's WebSocket messages too. Each test appends its figures to
test-artifacts/page-weight.jsonl.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from page_weight import PHONE, external, first_load, until_quiet
from test_apps import codes, voila  # noqa: F401  (fixtures: the Voila server over the test site)
from test_programme_pages import programme_site  # noqa: F401  (fixture: the programme pages)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
REPORT_LIMIT = 1_000_000
"""First load of a report page [B] (issue 14: < 1 MB)."""
APP_LIMIT = 2_000_000
"""First load of a citizen app [B] (issue 14: < 2 MB)."""
DESKTOP = {"width": 1280, "height": 900}
"""The desktop viewport of the screenshots [CSS px]."""


def _record(name: str, url: str, load) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "page-weight.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps({"name": name, "url": url, "http_bytes": load.http_bytes,
                              "websocket_bytes": load.websocket_bytes, "requests": len(load.urls)}) + "\n")


def _screenshots(page, name: str) -> list[Path]:
    """Full-page PNGs of ``page`` at the phone's width and at a desktop's."""
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for width, viewport in ((390, PHONE), (1280, DESKTOP)):
        page.set_viewport_size(viewport)
        page.wait_for_function("width => window.innerWidth === width", arg=viewport["width"], timeout=10_000)
        until_quiet(page, 200)  # the new width's layout: no late image or widget
        paths.append(folder / f"{name}-{width}.png")
        page.screenshot(path=str(paths[-1]), full_page=True)
    return paths


_REMOTE = re.compile(r"""<(?:script|img|iframe|source|audio|video|embed|input)\b[^>]*?\bsrc\s*=\s*["']?(?P<a>(?:https?:)?//[^"'\s>]+)"""
                     r"""|<link\b[^>]*?\bhref\s*=\s*["']?(?P<b>(?:https?:)?//[^"'\s>]+)"""
                     r"""|url\(\s*["']?(?P<c>(?:https?:)?//[^"')\s]+)|import\(\s*["'](?P<d>(?:https?:)?//[^"']+)""",
                     flags=re.I)
"""What a page would fetch from another host (a script, stylesheet, image, font or module), even
on a condition: nbconvert's Mermaid loader imports from cdnjs when a diagram is shown. Links
(``<a href>``) are not fetched and do not count."""


def _remote_references(page) -> list[str]:
    """Addresses of other hosts that the page's HTML would fetch from."""
    found = [next(group for group in match.groups() if group) for match in _REMOTE.finditer(page.content())]
    return [address for address in found if not re.match(r"(?:https?:)?//(?:127\.0\.0\.1|localhost)[:/]", address)]


def _check_report(browser, url: str, name: str) -> None:
    load, page = first_load(browser, url, keep_open=True)
    try:
        _record(name, url, load)
        assert not external(load.urls), f"{name} fetches from another host: {external(load.urls)}"
        assert not _remote_references(page), _remote_references(page)
        assert load.total < REPORT_LIMIT, f"{name}: {load.total:,} B on first load; largest: {load.largest()}"
        # the subset font is the one drawing the page's Korean
        assert page.evaluate("Array.from(document.fonts).every(f => f.status !== 'error')")
        heading = page.locator("h1").first.inner_text()
        assert page.evaluate("t => document.fonts.check('16px NanumGothic', t)", heading), heading
        for path in _screenshots(page, name):
            assert path.stat().st_size > 10_000, path
    finally:
        page.context.close()


REPORTS = {"city-ko": "ko/city.html", "city-en": "en/city.html", "gu-ko": "ko/gu/29140.html",
           "dong-ko": "ko/dong/2914074500.html", "building-ko": "ko/building/apartment.html"}
"""Pages of the test site (tests/e2e/conftest.py) measured and photographed."""


@pytest.mark.xdist_group("published")
@pytest.mark.parametrize("name", REPORTS)
def test_a_report_page_loads_under_1_mb_from_this_server_only(server, browser, name):
    _check_report(browser, f"{server}/{REPORTS[name]}", name)


@pytest.mark.xdist_group("published")
def test_every_page_of_the_site_with_its_fonts_is_under_1_mb(site):
    """Beyond the pages measured in the browser: every page's HTML (figures are inside it) plus
    every font file the site has, which is all a page can load."""
    folder = site["site"]
    fonts = sum(path.stat().st_size for path in (folder / "assets").glob("*.woff2"))
    assert 0 < fonts < 400_000, fonts
    heaviest = max(path.stat().st_size for path in folder.rglob("*.html"))
    assert heaviest + fonts < REPORT_LIMIT, (heaviest, fonts)
    assert not list((folder / "assets").glob("*.woff")), "the whole fonts are no longer published"


@pytest.mark.xdist_group("recovery")
def test_a_programme_page_loads_under_1_mb_from_this_server_only(programme_site, browser):
    _check_report(browser, f"{programme_site['url']}/ko/programme/balcony_pv.html", "programme-ko")


def _app_ready(page) -> None:
    """The app ran its cells (Voila shows them) and its widgets are drawn."""
    page.wait_for_selector("#rendered_cells", state="visible", timeout=90_000)
    page.wait_for_function("document.querySelectorAll('.jp-OutputArea-output').length > 0", timeout=60_000)
    until_quiet(page, 1_000, timeout_ms=60_000)  # the widgets are drawn and ask for nothing more


APPS = ("index.ipynb", "ward_explorer.ipynb", "my_savings.ipynb", "board.ipynb", "live.ipynb")


@pytest.mark.xdist_group("published")
@pytest.mark.parametrize("notebook", APPS)
def test_an_app_loads_under_2_mb_from_this_server_only(voila, browser, notebook):  # noqa: F811 (fixture)
    url = f"{voila}/voila/render/{notebook}"
    load, page = first_load(browser, url, _app_ready, keep_open=True)
    remote = _remote_references(page)
    page.context.close()
    _record(f"app-{notebook.removesuffix('.ipynb')}", url, load)
    assert not external(load.urls), f"{notebook} fetches from another host: {external(load.urls)}"
    assert not remote, remote
    assert load.total < APP_LIMIT, (f"{notebook}: {load.http_bytes:,} B over HTTP and {load.websocket_bytes:,} B over "
                                    f"the WebSocket on first load; largest: {load.largest()}")


def test_every_app_is_measured():
    from energy_lib.apps.explorer import APPS as LISTED

    assert {notebook for notebook, _, _ in LISTED} | {"index.ipynb"} <= set(APPS)


@pytest.mark.xdist_group("published")
def test_korean_typed_on_the_board_fetches_the_rest_of_the_font_only_then(voila, browser):  # noqa: F811 (fixture)
    """The apps' first font part holds what they show; a syllable outside it (typed by a resident)
    makes the browser fetch the second part (its unicode-range), and it renders in NanumGothic."""
    from energy_lib.publish import fonts
    from tests.conftest import NOTEBOOKS

    shown = fonts.app_characters(NOTEBOOKS)
    typed = "".join(c for c in fonts.ks_x_1001_hangul() if c not in shown)[:3]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    fetched = []
    page.on("response", lambda response: fetched.append(response.url.rsplit("/", 1)[-1]) if ".woff2" in response.url else None)
    try:
        page.goto(f"{voila}/voila/render/board.ipynb")
        _app_ready(page)
        page.evaluate("document.fonts.ready.then(() => true)")
        assert f"NanumGothic{fonts.APP_SUPPLEMENT}.woff2" not in fetched, fetched
        page.get_by_label("본문").fill(typed * 2)
        page.wait_for_function("t => document.fonts.check('16px NanumGothic', t)", arg=typed, timeout=30_000)
        assert f"NanumGothic{fonts.APP_SUPPLEMENT}.woff2" in fetched, fetched
    finally:
        context.close()
