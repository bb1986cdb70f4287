"""Every piece of HTML the package writes comes from a Jinja2 template with autoescaping
(energy_lib/core/templating.py): nothing a citizen or a data file wrote becomes markup, wherever
it lands on a page (text, attribute, a chart's alt text, a table cell, an SVG tooltip)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from energy_lib.apps import board, explorer, household, live_view, my_savings, serving
from energy_lib.baselines.result import BaselineResult, ModelWarning
from energy_lib.core import i18n, templating
from energy_lib.core.status import WarningCode
from energy_lib.publish import charts, opendata, plots, site

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "energy_lib"

PAYLOADS = ("<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>")
"""A script element, and a breakout from a quoted attribute into an element with a handler."""


def _assert_escaped(page: str, payload: str) -> None:
    """``payload`` is on the page as text (it unescapes back to itself), never as markup."""
    assert payload not in page
    assert "<script" not in page.lower() and "<img src=x" not in page and "onerror=alert(1)>" not in page
    assert payload in html.unescape(page)


# --- no HTML from f-strings, no hand-made escaping --------------------------------------------------------

def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_html_is_built_from_f_strings():
    """The check of issue 16: ``grep -rn 'f"<\\|f'"'"'<' energy_lib`` finds nothing."""
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for path in _sources()
             for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
             if 'f"<' in line or "f'<" in line]
    assert not found, "HTML built from an f-string; write a template under energy_lib/core/templates/:\n" + "\n".join(found)


def test_no_module_escapes_html_by_hand():
    """Autoescaping escapes; a module that calls html.escape builds HTML outside a template."""
    found = [str(path.relative_to(ROOT)) for path in _sources() if "html.escape(" in path.read_text("utf-8")]
    assert not found, found


def test_the_environment_escapes_and_refuses_missing_values():
    environment = templating.environment()
    assert environment.autoescape("any.html.j2") is True
    assert templating.render("live_view/empty.html.j2", lang="ko", text=PAYLOADS[0]).count("&lt;script&gt;") == 1
    with pytest.raises(Exception, match="undefined"):
        templating.render("live_view/empty.html.j2", lang="ko")


def test_every_template_of_the_package_compiles():
    """The module templates (not nbconvert's and Voila's own folders, which extend theirs)."""
    names = [name for name in templating.environment().list_templates(extensions=["j2"])
             if not name.startswith(("workbook/", "jupyter/"))]
    assert len(names) >= 20, names
    for name in names:
        templating.environment().get_template(name)


# --- every user- or data-controlled field comes out escaped -----------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS)
def test_board_post_title_body_nickname_and_dong_name(payload, monkeypatch):
    monkeypatch.setattr(i18n, "area_name", lambda area, lang: payload)
    post = board.Post(7, datetime(2026, 1, 5, 9, tzinfo=UTC), "tips", payload, f"{payload}\n{payload}", payload,
                      "2914074500", False, None, None, None, 0)
    for lang in i18n.LANGUAGES:
        page = board.post_html(post, lang)
        _assert_escaped(page, payload)
        assert html.unescape(page).count(payload) == 5  # title, dong, nickname, two lines of the body
        assert page.count("<br>") == 1


@pytest.mark.parametrize("payload", PAYLOADS)
def test_ward_names_in_withheld_notes_and_the_explorer(payload, monkeypatch, tmp_path):
    monkeypatch.setattr(i18n, "area_name", lambda area, lang: payload)
    for lang in i18n.LANGUAGES:
        for page in (charts.withheld("2914074500", lang).html, charts.nothing_published(lang, href=payload, name=payload).html,
                     explorer.report_fragment("2914074500", lang, site=tmp_path)):
            _assert_escaped(page, payload)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("format", ["svg", "png"])
def test_dong_names_in_a_chart_title_alt_text_table_and_tooltips(payload, format):
    fig, ax = plt.subplots()
    bars = ax.bar([0, 1], [3.0, 4.0])
    plots.tip(bars, [f"{payload}: 3 kWh", f"{payload}: 4 kWh"])
    table = pd.DataFrame({"dong": [payload, "서구"], "kWh": [3.0, 4.0]}).set_index("dong")
    page = plots.figure_html(fig, f"{payload} 월별 사용량", table=table, table_summary=payload, format=format)
    _assert_escaped(page, payload)
    if format == "svg":
        assert page.count("<title>") == 2 and html.unescape(page).count(payload) == 5  # alt, 2 tips, row, summary


def _view(tips: tuple[dict, ...]) -> household.HouseholdView:
    carrier = household.CarrierView("electricity", "kWh", 3000.0, 7, 1500.0, 1900.0, 5, 1205.0, 1600.0, 0.247, 2, 10000.0,
                                    20000.0, 120.0, 40.0, 110.0, 45.0, 120.0, 50.0, 18000.0, None, None, 3000.0,
                                    2800.0, None)
    return household.HouseholdView("2026H2", pd.Timestamp("2026-10-01"), "2914074500", "apartment", "60-85", (carrier,),
                                   1252.0, 1300.0, 1100.0, "dong", 40, "good", "electricity", tips)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_my_savings_tips_and_refusals(payload):
    for lang in i18n.LANGUAGES:
        page = my_savings.view_html(_view(({"ko": payload, "en": payload},)), lang)
        _assert_escaped(page, payload)
        assert 'data-field="bills_12m"' in page and "class='band'" in page  # the sentences keep their fields
        _assert_escaped(my_savings.refused_html(household.Refused("not_found", payload, payload), lang), payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_live_site_names_and_ids(payload):
    day = pd.Timestamp("2026-10-15")
    starts = pd.date_range(day, periods=24, freq="h")
    frame = pd.DataFrame(dict(site_id=payload, meter_id="m", site_name=payload, building_type="public", series_public=True,
                              ward_code="2914074500", period_start=starts, period_end=starts + pd.Timedelta(hours=1),
                              resolution="hourly", actual_kwh=np.where(starts.hour < 6, 110.0, np.nan), expected_kwh=100.0,
                              lower_kwh=90.0, upper_kwh=110.0, unusual=False))
    meta = {"day": payload, "updated_at": "2026-10-15T06:00:02+00:00", "confidence": 0.9}
    for lang in i18n.LANGUAGES:
        for page in (live_view.sites_html(frame, lang), live_view.city_html(frame, meta, lang)):
            _assert_escaped(page, payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_site_index_page_titles_errors_and_provenance(payload, monkeypatch, tmp_path):
    pages = [site.Page("city.ipynb", {"lang": "ko", "code": "city"}, "ko/city.html", payload, "city"),
             site.Page("gu.ipynb", {"lang": "ko", "code": "29140"}, "ko/gu/29140.html", payload, "gu"),
             site.Page("dong.ipynb", {"lang": "ko", "code": "2914074500"}, "ko/dong/2914074500.html", payload, "dong")]
    summary = site.BuildSummary([site.PageResult("ko/dong/2914074500.html", "failed", error=payload)])
    site.write_index(tmp_path, pages, summary)
    page = (tmp_path / "ko" / "index.html").read_text("utf-8")
    _assert_escaped(page, payload)
    assert html.unescape(page).count(payload) == 5  # city, gu (heading and link), failed dong (title and error)
    monkeypatch.setattr(opendata, "manifest", lambda data_dir: {
        "period": {"start": payload, "end": payload}, "privacy": {"min_customers": 15, "max_share": 0.15},
        "code_version": payload, "data_hash": "0" * 64})
    _assert_escaped(site.provenance_html(tmp_path, "en", input_hash=payload), payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_open_data_index_period_and_code_version(payload, tmp_path):
    opendata._write_index(tmp_path, {"ward_monthly": pd.DataFrame({"a": [1, 2]})},
                          {"period": {"start": payload, "end": payload}, "code_version": payload})
    page = (tmp_path / "index.html").read_text("utf-8")
    _assert_escaped(page, payload)
    assert '<th scope="row">ward_monthly</th><td>2</td>' in page and '<html lang="ko">' in page


@pytest.mark.parametrize("payload", PAYLOADS)
def test_baseline_summary_meter_ids_and_warnings(payload):
    result = BaselineResult("caltrack", "qualified", meter_id=payload, model_type=payload, params={payload: payload},
                            warnings=(ModelWarning(WarningCode.NO_DATA, payload, payload),))
    _assert_escaped(result._repr_html_(), payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_busy_page_retry_address(payload):
    _assert_escaped(serving.busy_page(base_url="/", retry_url=payload, retry_after_s=30), payload)


def test_a_korean_page_keeps_its_words_and_structure():
    """Equivalence with the pages before templates: the classes, roles and lang attributes the
    end-to-end tests look for are still there."""
    page = live_view.empty_html("ko")
    assert re.fullmatch(r'<div class="live-empty" data-testid="live-empty" lang="ko" role="status"><p>[^<]+</p></div>', page)
    assert i18n.text("live.empty", "ko") in page
