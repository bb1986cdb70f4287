"""The live monitor in a real pipeline: `energy serve` (Voila) and `energy watch` over a copy of the
small demo store, the demo feed's interval files dropped into the watched folder, and the page open
in headless Chromium at phone width, never reloaded."""

from __future__ import annotations

import pytest
from live_pipeline import ROOT, STATUS, drop, hour_files, readings, serving, wait_for_new_status, watching
from phone import PHONE, assert_fits_a_phone, assert_one_language, screenshots
from playwright.sync_api import expect
from test_apps import _wcag_violations

from energy_lib.demo.city import interval_sites
from energy_lib.demo.feed import Anomaly

pytestmark = pytest.mark.xdist_group("demo")
ARTIFACTS = ROOT / "test-artifacts"
UNUSUAL_SITE = "북구청"  # AMI-004, a public body: the register lets its series be shown
PRIVATE_NAMES = interval_sites().query("not series_public")["name"].tolist()  # two industrial, three apartment complexes


@pytest.fixture(scope="module")
def pipeline(demo, tmp_path_factory):
    with serving(demo["store"].root, tmp_path_factory.mktemp("live"), ARTIFACTS) as running:
        yield running


@pytest.fixture(scope="module")
def watcher(pipeline):
    with watching(pipeline) as process:
        yield process


@pytest.fixture(scope="module")
def page(browser, pipeline):
    """The app at phone width, opened once for the module; fails if it ever loads again."""
    page = browser.new_page(viewport=PHONE)
    loads = []
    page.on("load", lambda _: loads.append(page.url))
    page.goto(pipeline.app)
    page.wait_for_selector(f"{STATUS}, [data-testid=live-empty]", timeout=60_000)
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    yield page
    assert len(loads) == 1 and page.evaluate("window.sameDocument === true"), "the page reloaded"
    page.close()


def test_before_any_data_the_page_says_so_in_words_and_then_shows_it(page, pipeline, request):
    message = page.locator("[data-testid=live-empty]")
    message.wait_for(timeout=30_000)  # the first test: the watcher has not started yet
    assert "아직 들어오지 않았습니다" in message.inner_text()
    text = page.evaluate("document.body.innerText")  # no operator's commands or server folders for citizens
    assert "make live" not in text and "energy watch" not in text and str(pipeline.live) not in text
    assert page.locator("pre, code").count() == 0
    request.getfixturevalue("watcher")  # starts `energy watch`, which writes the status of the day's first hour
    page.wait_for_selector(STATUS, timeout=30_000)
    assert readings(page) == pipeline.status()["readings"] == 6 + 4  # six hourly sites, one 15-minute
    assert "마지막 검침 01:00까지 · 검침 10건" in page.locator(STATUS).inner_text()
    assert f"{pipeline.day:%Y-%m-%d}" in page.locator("[data-testid=live-city] h2").inner_text()
    # two public bodies shown one by one; the five private sites' aggregate fails the 15-customer minimum
    assert page.locator(".live-site").count() == 2
    withheld = page.locator("[data-testid=live-withheld]").inner_text()
    assert "민간 건물 5곳의 사용량은 합계로도 공개하지 않습니다" in withheld and "15곳 이상" in withheld
    assert "공개 건물 실시간 합계" in page.locator("[data-testid=live-city] h2").inner_text()
    # data first: the status and today's total come before the page's explanation
    about = page.get_by_role("heading", name="이 화면에 대하여").bounding_box()["y"]
    assert page.locator(STATUS).bounding_box()["y"] < about
    assert page.locator("[data-testid=live-city]").bounding_box()["y"] < about


def test_a_new_reading_appears_without_reloading(page, pipeline, watcher):
    before = page.locator(STATUS).evaluate("e => e.outerHTML")
    for name, frame in hour_files(pipeline, 1).items():
        drop(pipeline, name, frame)
    page.wait_for_function(f"() => document.querySelector('{STATUS}').dataset.lastReading === "
                           f"'{pipeline.day:%Y-%m-%d}T02:00:00'", timeout=30_000)
    wait_for_new_status(page, before)
    page.wait_for_function(f"n => document.querySelector('{STATUS}').dataset.readings === n", arg="20", timeout=10_000)
    assert "마지막 검침 02:00까지 · 검침 20건" in page.locator(STATUS).inner_text()


def test_an_unusual_reading_is_flagged(page, pipeline, watcher):
    for name, frame in hour_files(pipeline, 2, (Anomaly("AMI-004", 2, 4.0),)).items():
        drop(pipeline, name, frame)
    flagged = page.locator(".live-site.unusual", has_text=UNUSUAL_SITE)
    flagged.wait_for(timeout=30_000)
    assert "⚠ 평소와 다름" in flagged.inner_text() and "02:00–03:00" in flagged.inner_text()
    assert int(flagged.get_attribute("data-unusual")) >= 1
    page.get_by_label("건물").select_option(label=f"{UNUSUAL_SITE} (공공)")
    figure = page.locator(f"img[alt^='{UNUSUAL_SITE}']")
    figure.wait_for(timeout=10_000)
    assert "구간 1개" in figure.get_attribute("alt")  # the figure's words name the unusual hour too
    assert_fits_a_phone(page)
    screenshots(page, "live-ko")


def _page_text(page) -> str:
    """Everything the page says: its text, its images' alt text and its menu's options."""
    return page.evaluate("document.body.innerText + [...document.querySelectorAll('img[alt], option')]"
                         ".map(e => e.alt || e.textContent).join(' ')")


def test_live_app_passes_axe_core_in_both_languages_and_names_no_private_site(page, watcher):
    assert page.evaluate("document.documentElement.lang") == "ko"
    menu = page.get_by_label("건물").locator("option")
    expect(menu).to_have_count(2, timeout=30_000)  # the menu fills in when the watcher's first status arrives
    violations = _wcag_violations(page)
    assert not violations, violations
    text = _page_text(page)
    assert not [name for name in PRIVATE_NAMES if name in text] and "<NA>" not in text
    assert_fits_a_phone(page)
    assert_one_language(page, "ko", allowed=("TOWT",))  # the method's name
    options = [o.replace("\xa0", " ") for o in menu.all_inner_texts()]
    assert options == ["광주광역시청 (공공)", "북구청 (공공)"]  # the menu offers the public bodies only
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("text=Live electricity monitor", timeout=10_000)
    page.wait_for_selector(f"{STATUS}[lang=en]", timeout=10_000)
    violations = _wcag_violations(page)
    assert not violations, violations
    assert "withheld, even as a total" in page.locator("[data-testid=live-withheld]").inner_text()
    text = _page_text(page)
    assert not [name for name in PRIVATE_NAMES if name in text] and "<NA>" not in text
    assert_fits_a_phone(page)
    assert_one_language(page, "en", allowed=("광주광역시청", "북구청"))  # the public buildings' names as registered
    screenshots(page, "live-en")
