"""The "my savings" page against the store: every number it shows, recomputed here from the
readings and the savings table without the household index, for several demo households.

The recomputation is written out in pandas from the rules' definitions (docs/baselines.md):
use over the last twelve billing months; the Carbon Point baseline of a month is the mean use of
the same month in the previous two years (or the one that has a bill); the half-year's reduction
is (baseline - use) / baseline over its months that have both; the tier from the configured
bounds; points from the configured table; emissions from the factors in ``config/units.toml``.
"""

from __future__ import annotations

import dataclasses
import html
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from babel.numbers import parse_decimal

import energy_lib
from energy_lib.apps import household, my_savings
from energy_lib.core import formatting, i18n

CONFIG = Path(energy_lib.__file__).parent / "config"
CARRIERS = ("electricity", "gas", "water")
METHODS = ("caltrack_billing", "caltrack_daily", "towt")  # the page's order of preference: bills first


@pytest.fixture(scope="module")
def city(household_index, tmp_path_factory) -> dict:
    lookup = household.Lookup(household_index["path"],
                              throttle_path=tmp_path_factory.mktemp("savings") / "attempts.sqlite")
    return {**household_index, "lookup": lookup}


# --- the independent computation ------------------------------------------------------------------

def _config(name: str) -> dict:
    return tomllib.loads((CONFIG / f"{name}.toml").read_text("utf-8"))


def monthly_bills(store) -> pd.DataFrame:
    """Use per household meter and billing month (a bill counts in the month it is read, other
    monthly readings in the month they start), straight from the readings."""
    return store.sql("""
        SELECT r.meter_id, r.carrier,
               date_trunc('month', CASE WHEN r.resolution = 'billing' THEN r.period_end ELSE r.period_start END) AS month,
               sum(r.value_canonical) AS use
        FROM readings r
        WHERE r.resolution IN ('billing', 'monthly') AND r.carrier IN ('electricity', 'gas', 'water')
        GROUP BY ALL""")


def expected_figures(store, derived, bills: pd.DataFrame, account: str) -> dict:
    """Per carrier of the household of ``account``: what its page must show."""
    meter = household.customer_pseudonym(pd.Series([account])).iloc[0]
    meters = store.sql("""SELECT m2.carrier, min(m2.meter_id) AS meter_id FROM meters m1 JOIN meters m2 USING (site_id)
                          WHERE m1.meter_id = ? GROUP BY m2.carrier""", [meter]).set_index("carrier")["meter_id"]
    last = pd.Timestamp(bills["month"].max())
    year = pd.date_range(last - pd.DateOffset(months=11), last, freq="MS")
    half_start = pd.Timestamp(last.year, (last.month - 1) // 6 * 6 + 1, 1)
    half = pd.date_range(half_start, last, freq="MS")
    rule = _config("savings")["carbon_point"]
    emissions = _config("units")["emissions"]
    factor = {"electricity": emissions["electricity_kgco2eq_per_kwh"]["value"],
              "gas": emissions["gas_kgco2eq_per_m3"]["value"], "water": emissions["water_kgco2eq_per_m3"]["value"]}
    savings = derived.sql("SELECT * FROM savings WHERE analysis = 'annual'")
    out = {"last_month": last}
    for carrier in CARRIERS:
        if carrier not in meters.index:
            continue
        mine = bills[bills["meter_id"] == meters[carrier]].set_index("month")["use"]
        mine.index = pd.to_datetime(mine.index)
        figures = {"use_12m": mine.reindex(year).sum(), "bills_12m": int(mine.reindex(year).notna().sum())}
        use, baseline = [], []
        for month in half:
            before = [mine.get(month - pd.DateOffset(years=k)) for k in (1, 2)]
            before = [b for b in before if b is not None and not np.isnan(b)]
            if month in mine.index and before:
                use.append(mine[month])
                baseline.append(sum(before) / len(before))
        if baseline and sum(baseline) > 0:
            reduction = (sum(baseline) - sum(use)) / sum(baseline)
            tier = sum(reduction >= bound - 1e-9 for bound in rule["tier_lower_bounds"])
            figures |= {"cp_half_use": sum(use), "cp_half_baseline": sum(baseline), "cp_reduction": reduction,
                        "cp_tier": tier, "cp_points": rule["points"][carrier][tier - 1] if tier else 0}
        rows = savings[savings["meter_id"] == meters[carrier]]
        rows = rows.assign(order=rows["method"].map({m: i for i, m in enumerate(METHODS)}).fillna(9)).sort_values("order")
        if len(rows) and pd.notna(rows["savings"].iloc[0]) and rows["sufficiency"].iloc[0] != "pass":
            figures["savings_note"] = "insufficient"  # a short baseline: words, no figure
        elif len(rows) and pd.notna(rows["savings"].iloc[0]):
            row = rows.iloc[0]
            if row["programme_in_baseline"]:
                figures["savings_note"] = "programme_in_baseline"
            figures |= {"savings": row["savings"], "band": row["band"], "normal_savings": row["normal_savings"],
                        "normal_band": row["normal_band"], "savings_won": row["savings_won"],
                        "savings_kgco2eq": row["savings"] * factor[carrier]}
        figures["kgco2eq"] = figures["use_12m"] * factor[carrier] if figures["bills_12m"] == 12 else np.nan
        out[carrier] = figures
    present = [out[c]["kgco2eq"] for c in CARRIERS if c in out]
    out["kgco2eq_12m"] = sum(present)  # NaN when a carrier's year is incomplete
    out["points"] = sum(out[c].get("cp_points", 0) for c in CARRIERS if c in out and out[c]["bills_12m"])
    return out


# --- reading the page back ----------------------------------------------------------------------------

class _Shown(HTMLParser):
    """The text of every ``data-field`` element, keyed by (carrier or None, field)."""

    def __init__(self) -> None:
        super().__init__()
        self.carrier, self.open, self.fields = None, [], {}

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "hr", "wbr"):  # void elements have no end tag
            return
        attrs = dict(attrs)
        if "data-carrier" in attrs:
            self.carrier = attrs["data-carrier"]
        self.open.append(attrs.get("data-field"))
        if attrs.get("data-field"):
            self.fields[(self.carrier, attrs["data-field"])] = ""

    def handle_endtag(self, tag):
        if tag in ("br", "img", "hr", "wbr"):
            return
        self.open.pop()
        if tag == "section":
            self.carrier = None

    def handle_data(self, data):
        for field in self.open:
            if field:
                key = next(k for k in reversed(self.fields) if k[1] == field)
                self.fields[key] += data


def shown_fields(page: str) -> dict:
    parser = _Shown()
    parser.feed(page)
    return {key: " ".join(text.split()) for key, text in parser.fields.items()}


def number(text: str, lang: str) -> float:
    """The number in a shown value (Babel's parser, in the page's locale)."""
    match = re.search(r"-?[\d,]+(?:\.\d+)?", text)
    assert match, text
    return float(parse_decimal(match.group(0), locale=formatting.LOCALES[lang]))


def _close(shown: float, expected: float, decimals: int) -> bool:
    """Equal to the shown precision: off by at most half the last shown digit."""
    return abs(shown - expected) <= 0.5 * 10 ** -decimals + 1e-9 * max(1.0, abs(expected))


def check_page(page: str, expected: dict, lang: str) -> int:
    """Compare every number of the page with ``expected``; returns how many were compared."""
    fields = shown_fields(page)
    compared = 0
    for carrier in CARRIERS:
        if carrier not in expected or not expected[carrier]["bills_12m"]:
            assert not any(c == carrier for c, _ in fields), carrier
            continue
        want = expected[carrier]
        for name in ("use_12m", "cp_half_use", "cp_half_baseline", "cp_points", "savings", "band", "normal_savings",
                     "normal_band", "savings_won", "savings_kgco2eq"):
            if name in want and pd.notna(want[name]):
                assert _close(number(fields[(carrier, name)], lang), want[name], 0), (carrier, name, fields, want)
                compared += 1
        note = want.get("savings_note")
        if note == "insufficient":
            assert (carrier, "savings") not in fields and (carrier, "band") not in fields
            assert fields[(carrier, "savings_note")].startswith(i18n.text("my_savings.insufficient", lang, reason="")[:12])
        else:
            assert ((carrier, "savings_note") in fields) == (note == "programme_in_baseline"), (carrier, fields)
        if "cp_reduction" in want:
            shown = fields[(carrier, "cp_reduction")]
            assert shown.endswith("%"), shown
            assert _close(number(shown, lang), want["cp_reduction"] * 100, 1), (carrier, shown, want)
            tier = (i18n.text("my_savings.tier_none", lang) if not want["cp_tier"]
                    else i18n.text(f"column.tier_{want['cp_tier']}", lang))
            assert fields[(carrier, "cp_tier")] == tier
            compared += 2
        else:
            assert fields[(carrier, "cp_reduction")] == i18n.text("my_savings.no_baseline", lang)
        if want["bills_12m"] < 12:
            assert number(fields[(carrier, "bills_12m")], lang) == want["bills_12m"]
    assert _close(number(fields[(None, "points")], lang), expected["points"], 0)
    if (None, "kgco2eq_12m") in fields:
        assert _close(number(fields[(None, "kgco2eq_12m")], lang), expected["kgco2eq_12m"], 0)
        compared += 1
    return compared + 1


# --- tests ------------------------------------------------------------------------------------------------

def test_a_reduction_is_shown_as_its_percentage_once():
    carrier = household.CarrierView("electricity", "kWh", 3000.0, 12, 1500.0, 1900.0, 5, 1205.0, 1600.0, 0.247, 2, 10000.0,
                                    20000.0, 120.0, 40.0, 110.0, 45.0, 120.0, 50.0, 18000.0, None, None, 3000.0,
                                    2800.0, None)
    view = household.HouseholdView("2026H2", pd.Timestamp("2026-10-01"), "2914074500", "apartment", "60-85", (carrier,),
                                   1252.0, 1300.0, 1100.0, "dong", 40, "good", "electricity")
    for lang in ("ko", "en"):
        fields = shown_fields(my_savings.view_html(view, lang))
        assert fields[("electricity", "cp_reduction")] == "24.7%"
        assert fields[("electricity", "use_12m")] == "3,000 kWh"
    assert shown_fields(my_savings.view_html(view, "ko"))[("electricity", "savings_won")] == "18,000원"
    assert shown_fields(my_savings.view_html(view, "en"))[("electricity", "savings_won")] == "18,000 won"
    english = my_savings.view_html(view, "en")
    assert "the second half of 2026" in english and "Oct 2026" in english
    assert "2026년 하반기" in my_savings.view_html(view, "ko")


def test_every_number_on_the_page_agrees_with_the_store(city):
    """Several households of the demo, in both languages: what the page shows is what the
    readings and the savings table give when computed here without the index."""
    bills = monthly_bills(city["store"])
    index = city["index"].set_index("meter_id")
    kinds, compared, pages = set(), 0, 0
    for i in range(0, len(city["accounts"]), 23):
        account, code = city["accounts"][i], city["codes"][i]
        view = city["lookup"].find(account, code, client=f"t{i}")
        if isinstance(view, household.Refused):
            continue
        expected = expected_figures(city["store"], city["derived"], bills, account)
        assert view.last_month == expected["last_month"]
        for lang in ("ko", "en"):
            compared += check_page(my_savings.view_html(view, lang), expected, lang)
        pages += 1
        meter = household.customer_pseudonym(pd.Series([account])).iloc[0]
        kinds |= {c for c in CARRIERS if c in expected}
        kinds |= {f"tier{expected[c].get('cp_tier')}" for c in CARRIERS if c in expected}
        kinds |= {"compared"} if pd.notna(index.loc[meter, "judgement"]) else {"not compared"}
        kinds |= {"savings"} if any("savings" in expected[c] for c in CARRIERS if c in expected) else set()
        kinds |= {expected[c].get("savings_note") for c in CARRIERS if c in expected} - {None}
    assert pages >= 10 and compared >= 200, (pages, compared)
    # the households checked cover every carrier, tiers reached and not, and the comparison shown and not
    assert {"electricity", "gas", "water", "tier0", "compared", "savings"} <= kinds, kinds
    assert kinds & {"tier1", "tier2", "tier3"}, kinds


def test_pages_are_in_one_language_and_never_print_missing_values(city):
    hangul, latin = re.compile("[가-힣]"), re.compile(r"[A-Za-z][A-Za-z₂0-9]*")
    units = {"kWh", "m", "kgCO₂eq", "kgCO2eq", "LED"}  # units, and LED as Korean writes it (tips: "LED 전구")
    checked = 0
    for i in range(0, len(city["accounts"]), 11):
        view = city["lookup"].find(city["accounts"][i], city["codes"][i], client=f"l{i}")
        if isinstance(view, household.Refused):
            continue
        for lang in ("ko", "en"):
            text = html.unescape(re.sub(r"<[^>]+>", " ", my_savings.view_html(view, lang)))
            assert not re.search(r"\bnan\b|\bNone\b|<NA>|NaN", text, flags=re.I), text
            if lang == "en":
                assert not hangul.search(text), hangul.findall(text)
            else:
                assert set(latin.findall(text)) <= units, set(latin.findall(text)) - units
        checked += 1
    assert checked >= 20


def test_a_household_without_a_baseline_or_savings_gets_words_not_blanks(city):
    view = city["lookup"].find(city["accounts"][0], city["codes"][0], client="w")
    carrier = dataclasses.replace(view.carriers[0], cp_reduction=float("nan"), savings=float("nan"), bills_12m=7)
    page = my_savings.view_html(dataclasses.replace(view, carriers=(carrier,)), "en")
    fields = shown_fields(page)
    assert fields[(carrier.carrier, "cp_reduction")] == i18n.text("my_savings.no_baseline", "en")
    assert fields[(carrier.carrier, "savings")] == i18n.text("my_savings.no_savings", "en")
    assert "Only 7 of the last twelve months' bills are in." in html.unescape(re.sub(r"<[^>]+>", "", page))
