"""The report pages on a phone: at 390 × 844 no page scrolls sideways, no chart text renders under
11 CSS px, nothing prints ``<NA>``, ``nan`` or ``None``, every chart is SVG with alt text and its
table, Korean pages have no Latin table headers but units, English pages no Korean. (The numbers
they show are checked against the store in test_page_figures.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from energy_lib.publish import opendata

pytestmark = pytest.mark.xdist_group("published")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
TYPES = [t for t in opendata.BUILDING_TYPES if t != "unknown"]
UNITS = re.compile(r"kWh|MWh|GWh|TWh|kgCO2eq|tCO2eq|CO2eq|CO2|toe|m³|m²|%|1,000")
"""Unit symbols, which are the same in every language (SI and the Energy Act's toe)."""

MEASURE = """() => {
  const small = [], charts = [];
  for (const svg of document.querySelectorAll("svg.chart")) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    let texts = 0;
    for (const t of svg.querySelectorAll("text")) {
      if (!t.textContent.trim()) continue;
      texts += 1;
      const size = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (size < 11) small.push(t.textContent.trim().slice(0, 30) + " " + size.toFixed(1) + "px");
    }
    const figure = svg.closest("figure");
    const next = figure && figure.nextElementSibling;
    charts.push({label: svg.getAttribute("aria-label") || "", role: svg.getAttribute("role"), texts,
                 table: !!(next && next.tagName === "DETAILS" && next.querySelector("table"))});
  }
  const stacking = Array.from(document.querySelectorAll("main table.stacked"));
  const stacked = {count: stacking.length, scrolling: stacking.filter(t => t.scrollWidth > t.clientWidth).length};
  return {scroll: document.documentElement.scrollWidth, small, charts, stacked, images: document.querySelectorAll("main img").length,
          text: document.body.innerText,
          headers: Array.from(document.querySelectorAll("main th")).map(th => th.textContent.trim())};
}"""


@pytest.fixture(scope="session")
def phone_site(site, server) -> dict:
    """Every page of the test site (tests/e2e/conftest.py) but the one that fails, served over HTTP."""
    return {"url": server, "site": site["site"], "pages": site["pages"], "store": site["store"]}


def test_the_phone_pages_cover_the_city_every_gu_a_dong_of_each_and_every_building_type(phone_site):
    paths = {p.path for p in phone_site["pages"]}
    assert "ko/city.html" in paths and len([p for p in paths if "/gu/" in p and p.startswith("ko")]) == 5
    assert {p[8:13] for p in paths if p.startswith("ko/dong/")} == {p[6:11] for p in paths if p.startswith("ko/gu/")}
    assert {f"ko/building/{t}.html" for t in TYPES} <= paths


def test_at_390_px_nothing_scrolls_sideways_and_no_chart_text_is_under_11_px(phone_site, browser):
    problems = []
    page = browser.new_page(viewport=PHONE)
    for item in phone_site["pages"]:
        page.goto(f"{phone_site['url']}/{item.path}")
        page.evaluate("document.fonts.ready")
        seen = page.evaluate(MEASURE)
        if seen["scroll"] > PHONE["width"]:
            problems.append(f"{item.path}: scrolls sideways ({seen['scroll']} px)")
        if seen["stacked"]["scrolling"]:
            problems.append(f"{item.path}: {seen['stacked']['scrolling']} table(s) meant to stack on a phone scroll sideways")
        if item.section in ("city", "gu") and not seen["stacked"]["count"]:
            problems.append(f"{item.path}: KEPCO's figures are not in a table that stacks on a phone")
        if seen["small"]:
            problems.append(f"{item.path}: chart text under 11 px: {seen['small'][:3]}")
        if re.search(r"<NA>|\bnan\b|\bNaN\b|\bNone\b", seen["text"]):
            problems.append(f"{item.path}: prints a missing value as {re.search(r'<NA>|nan|NaN|None', seen['text']).group()}")
        if seen["images"]:
            problems.append(f"{item.path}: {seen['images']} raster images (charts are SVG)")
        for chart in seen["charts"]:
            if chart["role"] != "img" or len(chart["label"]) < 10 or not chart["table"] or not chart["texts"]:
                problems.append(f"{item.path}: a chart without role, alt text, text or table: {chart['label'][:60]}")
    page.close()
    assert not problems, "\n".join(problems)


def test_korean_pages_have_korean_table_headers_and_english_pages_no_korean(phone_site, browser):
    page = browser.new_page(viewport=PHONE)
    problems = []
    for item in phone_site["pages"]:
        page.goto(f"{phone_site['url']}/{item.path}")
        seen = page.evaluate(MEASURE)
        if item.lang == "ko":
            latin = [h for h in seen["headers"] if re.search("[A-Za-z]", UNITS.sub("", h))]
            if latin:
                problems.append(f"{item.path}: Latin table headers {latin[:5]}")
        else:
            main = page.evaluate("document.querySelector('main').innerText")
            hangul = re.findall(r"\S*[가-힣]+\S*", main)
            if hangul:
                problems.append(f"{item.path}: Korean words on an English page {hangul[:5]}")
    page.close()
    assert not problems, "\n".join(problems)


def test_screenshots_at_phone_and_desktop_width(phone_site, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    for path in ("ko/city.html", "ko/gu/29140.html", "ko/dong/2914074500.html", "ko/building/commercial.html",
                 "en/city.html"):
        for width in (390, 1280):
            page = browser.new_page(viewport={"width": width, "height": 844})
            page.goto(f"{phone_site['url']}/{path}")
            page.evaluate("document.fonts.ready")
            assert page.locator("svg.chart").count() > 0, path
            page.screenshot(path=str(ARTIFACTS / f"phone-{width}-{path.replace('/', '-')}.png"), full_page=True)
            page.close()
