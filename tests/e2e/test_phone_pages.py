"""The report pages on a phone and in numbers: at 390 × 844 no page scrolls sideways, no chart text
renders under 11 CSS px, nothing prints ``<NA>``, ``nan`` or ``None``, Korean pages have no Latin
table headers but units, English pages no Korean; and the building-type totals, the residential
use per household and the use per m² that pages show equal an independent computation from the
store (readings, sites and the factors of config/units.toml), not from the open data."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from http_site import http_server

from energy_lib import configuration, i18n, opendata
from energy_lib.publish import site as publish
from energy_lib.wards import wards

pytestmark = pytest.mark.xdist_group("published")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
TYPES = [t for t in opendata.BUILDING_TYPES if t != "unknown"]
ENGLISH = ("en/city.html", "en/gu/29140.html", "en/dong/2914074500.html", "en/building/commercial.html")
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
  return {scroll: document.documentElement.scrollWidth, small, charts, images: document.querySelectorAll("main img").length,
          text: document.body.innerText,
          headers: Array.from(document.querySelectorAll("main th")).map(th => th.textContent.trim())};
}"""


def _ten_dongs() -> list[str]:
    """Two dongs of every gu (the first two by code), the page's default dong among them."""
    table = wards().sort_values("ward_code")
    chosen = table.groupby("gu_code")["ward_code"].apply(lambda codes: list(codes)[:2]).sum()
    return sorted(set(chosen[:9]) | {"2914074500"})


@pytest.fixture(scope="module")
def phone_site(published, tmp_path_factory):
    """The city, every gu, ten dongs and every building type in Korean, and one of each in
    English, built from the small demo's open data into a site of their own, served over HTTP."""
    site = tmp_path_factory.mktemp("phone") / "site"
    shutil.copytree(published["data"], site / "data")
    dongs = {f"ko/dong/{code}.html" for code in _ten_dongs()}
    pages = [p for p in publish.plan(wards(), TYPES)
             if (p.lang == "ko" and (p.section in ("city", "gu", "building_type") or p.path in dongs))
             or p.path in ENGLISH]
    summary = publish.build(site, pages, published["manifest"]["data_hash"], workers=2)
    assert not summary.failed, [(r.path, r.error) for r in summary.failed]
    with http_server(site) as url:
        yield {"url": url, "site": site, "pages": pages, "store": published["store"]}


def test_the_phone_pages_cover_the_city_every_gu_ten_dongs_and_every_building_type(phone_site):
    paths = {p.path for p in phone_site["pages"]}
    assert "ko/city.html" in paths and len([p for p in paths if "/gu/" in p and p.startswith("ko")]) == 5
    assert len([p for p in paths if p.startswith("ko/dong/")]) == 10
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


# --- the numbers, computed again from the store ----------------------------------------------

class _Tables(HTMLParser):
    """Every ``<table>`` of a page as rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _table(path: Path, header: str) -> dict[str, str]:
    """The first column → the column whose header is ``header``, of the first table that has it."""
    parser = _Tables()
    parser.feed(path.read_text("utf-8"))
    for rows in parser.tables:
        heads = [cells for cells in rows if header in cells]
        if heads:
            column = heads[0].index(header)
            return {cells[0]: cells[column] for cells in rows if len(cells) > column and cells is not heads[0]
                    and cells[0]}
    raise AssertionError(f"{path.name} has no table with the header {header!r}")


def _number(text: str) -> float | None:
    return None if text == i18n.text("common.suppressed", "ko") else float(text.replace(",", ""))


def _factor(key: str) -> float:
    return float(configuration.lookup("units", key)["value"])


def _last_year(store) -> pd.DataFrame:
    """Each meter's use over the last twelve months of the store [canonical unit], by the month
    a reading counts in (a bill's read month, any other reading's start), outliers left out."""
    frame = store.sql("""
        WITH counted AS (
            SELECT r.meter_id, r.carrier, r.value_canonical AS value,
                   date_trunc('month', CASE WHEN r.resolution = 'billing' THEN r.period_end ELSE r.period_start END) AS month
            FROM readings r WHERE NOT r.outlier)
        SELECT c.carrier, s.site_id, s.ward_code, s.building_type, s.households, s.floor_area_m2, sum(c.value) AS use
        FROM counted c JOIN meters m USING (meter_id) JOIN sites s USING (site_id)
        WHERE c.month > (SELECT max(month) FROM counted) - INTERVAL 12 MONTH
        GROUP BY ALL""")
    return frame


def _toe(frame: pd.DataFrame) -> pd.Series:
    """Tonnes of oil equivalent of each row, with the Energy Act's factors as config/units.toml has them."""
    per_unit = {"electricity": _factor("energy_content.electricity_toe_per_kwh"),
                "gas": _factor("energy_content.gas_toe_per_m3"),
                "heat": _factor("energy_content.heat_toe_per_gcal") / _factor("definitions.kwh_per_gcal"),
                "water": 0.0}
    return frame["use"] * frame["carrier"].map(per_unit)


def test_building_type_totals_are_every_carrier_in_toe_as_the_store_has_them(phone_site):
    use = _last_year(phone_site["store"])
    expected = use.assign(toe=_toe(use)).groupby("building_type")["toe"].sum()
    shown = _table(phone_site["site"] / "ko" / "city.html", "합계 [toe]")
    compared = 0
    for building_type in TYPES:
        name = i18n.text(f"building_type.{building_type}", "ko")
        value = _number(shown.get(name, i18n.text("common.suppressed", "ko")))
        if value is not None:
            assert value == pytest.approx(expected[building_type], abs=0.6), building_type
            compared += 1
    assert compared >= 2, shown  # the small demo publishes the large types


def test_residential_use_per_household_is_residential_electricity_over_residential_households(phone_site):
    use = _last_year(phone_site["store"])
    homes = use[use["building_type"].isin(["apartment", "detached"])]
    households = phone_site["store"].sql(
        "SELECT substr(ward_code, 1, 5) AS gu, sum(households) AS households FROM sites "
        "WHERE building_type IN ('apartment', 'detached') GROUP BY ALL").set_index("gu")["households"]
    electricity = homes[homes["carrier"] == "electricity"].assign(gu=lambda f: f["ward_code"].str[:5]).groupby("gu")["use"].sum()
    expected = electricity / households
    shown = _table(phone_site["site"] / "ko" / "gu" / "29140.html", i18n.text("column.per_household", "ko"))
    compared = 0
    for gu in expected.index:
        value = _number(shown.get(i18n.area_name(gu, "ko"), i18n.text("common.suppressed", "ko")))
        if value is not None:
            assert value == pytest.approx(expected[gu], abs=0.6), gu
            compared += 1
    assert compared >= 2, shown
    # all of a gu's electricity over its households would be far more: the old, wrong figure
    everything = use[use["carrier"] == "electricity"].assign(gu=lambda f: f["ward_code"].str[:5]).groupby("gu")["use"].sum()
    assert (everything / households > 1.3 * expected).any()


def test_use_per_m2_is_energy_over_floor_area_of_the_type(phone_site):
    use = _last_year(phone_site["store"])
    kwh_per = {"electricity": 1.0, "heat": 1.0, "water": 0.0,
               "gas": _factor("energy_content.gas_mj_per_m3") * _factor("definitions.kwh_per_mj")}
    shops = use[use["building_type"] == "commercial"].assign(gu=lambda f: f["ward_code"].str[:5])
    energy = (shops["use"] * shops["carrier"].map(kwh_per)).groupby(shops["gu"]).sum()
    area = phone_site["store"].sql(
        "SELECT substr(ward_code, 1, 5) AS gu, sum(floor_area_m2) AS area FROM sites WHERE building_type = 'commercial' "
        "GROUP BY ALL").set_index("gu")["area"]
    expected = energy / area
    shown = _table(phone_site["site"] / "ko" / "building" / "commercial.html", "kWh/m²")
    compared = 0
    for gu in expected.index:
        value = _number(shown.get(i18n.area_name(gu, "ko"), i18n.text("common.suppressed", "ko")))
        if value is not None:
            assert value == pytest.approx(expected[gu], abs=0.6), gu
            compared += 1
    assert compared >= 1, shown
