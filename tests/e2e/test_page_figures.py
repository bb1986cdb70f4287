"""The numbers the report pages show, computed again from the store (readings, sites and the
factors of config/units.toml, not the open data or energy_lib.publish.aggregate): building-type totals over
every carrier in toe, residential electricity per residential household, and energy per m² of
floor area. Built on the 4,000-household recovery city, where these cells are published (the
600-household demo withholds almost all of them)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from energy_lib.core import configuration, i18n
from energy_lib.core.wards import wards
from energy_lib.publish import opendata

pytestmark = pytest.mark.xdist_group("recovery")
TYPES = list(opendata.BUILDING_TYPES)
SUPPRESSED = i18n.text("common.suppressed", "ko")


@pytest.fixture(scope="session")
def figures_site(recovery_site) -> dict:
    """The city, a gu and two building types' pages of the recovery city (tests/e2e/conftest.py)."""
    return recovery_site


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


def _table(path: Path, header: str) -> pd.DataFrame:
    """The first table of the page with a column ``header``, as text, indexed by its first column."""
    parser = _Tables()
    parser.feed(path.read_text("utf-8"))
    for rows in parser.tables:
        if rows and header in rows[0]:
            body = [cells for cells in rows[1:] if len(cells) == len(rows[0]) and cells[0]]
            return pd.DataFrame([cells[1:] for cells in body], index=[cells[0] for cells in body], columns=rows[0][1:])
    raise AssertionError(f"{path.name} has no table with the header {header!r}")


def _number(text: str) -> float | None:
    return None if text == SUPPRESSED else float(text.replace(",", ""))


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


def _compare(shown: pd.Series, expected: pd.Series, label: str) -> int:
    """Each published number of ``shown`` (by row name) against ``expected`` (by the same name),
    to the page's rounding; the count compared."""
    compared = 0
    for name, text in shown.items():
        value = _number(text)
        if value is not None:
            assert name in expected.index, f"{label}: {name} is shown but has no such use in the store"
            assert value == pytest.approx(expected[name], abs=0.51), f"{label}: {name}"
            compared += 1
    return compared


def test_building_type_totals_are_every_carrier_in_toe_as_the_store_has_them(figures_site):
    use = _last_year(figures_site["store"])
    use = use.assign(toe=_toe(use), name=use["building_type"].map(lambda b: i18n.text(f"building_type.{b}", "ko")))
    shown = _table(figures_site["site"] / "ko" / "city.html", "합계 [toe]")
    energy = use[use["carrier"] != "water"]
    compared = _compare(shown["합계 [toe]"], energy.groupby("name")["toe"].sum(), "total")
    for carrier in ("electricity", "gas", "heat"):
        column = f"{i18n.text(f'carrier.{carrier}', 'ko')} [toe]"
        if column in shown:
            rows = energy[energy["carrier"] == carrier]
            expected = rows.groupby("name")["toe"].sum().reindex(shown.index, fill_value=0.0)
            compared += _compare(shown[column], expected, carrier)
    assert compared >= 6, shown
    # a total is shown only where every carrier of the type is: never a partial sum
    for name, row in shown.iterrows():
        if _number(row["합계 [toe]"]) is not None:
            assert SUPPRESSED not in row.to_numpy(), name


def test_residential_use_per_household_is_residential_electricity_over_residential_households(figures_site):
    use = _last_year(figures_site["store"])
    use = use.assign(gu=use["ward_code"].str[:5])
    homes = use[use["building_type"].isin(["apartment", "detached"]) & (use["carrier"] == "electricity")]
    households = figures_site["store"].sql(
        "SELECT substr(ward_code, 1, 5) AS gu, sum(households) AS households FROM sites "
        "WHERE building_type IN ('apartment', 'detached') GROUP BY ALL").set_index("gu")["households"]
    expected = homes.groupby("gu")["use"].sum() / households
    shown = _table(figures_site["site"] / "ko" / "gu" / "29140.html", i18n.text("column.per_household", "ko"))
    named = expected.rename(lambda gu: i18n.area_name(gu, "ko"))
    assert _compare(shown.iloc[:, 0], named, "per household") >= 2, shown
    # all of a gu's electricity over its households, the figure the page showed before, is another number
    everything = use[use["carrier"] == "electricity"].groupby("gu")["use"].sum() / households
    assert (everything > 1.3 * expected).any()


def test_use_per_m2_is_energy_over_floor_area_of_the_type(figures_site):
    use = _last_year(figures_site["store"])
    kwh_per = {"electricity": 1.0, "heat": 1.0, "water": 0.0,
               "gas": _factor("energy_content.gas_mj_per_m3") * _factor("definitions.kwh_per_mj")}
    compared = 0
    for building_type in ("commercial", "industrial"):
        rows = use[use["building_type"] == building_type]
        energy = (rows["use"] * rows["carrier"].map(kwh_per)).groupby(rows["ward_code"].str[:5]).sum()
        area = figures_site["store"].sql(
            "SELECT substr(ward_code, 1, 5) AS gu, sum(floor_area_m2) AS area FROM sites "
            f"WHERE building_type = '{building_type}' GROUP BY ALL").set_index("gu")["area"]
        expected = (energy / area).rename(lambda gu: i18n.area_name(gu, "ko"))
        page = figures_site["site"] / "ko" / "building" / f"{building_type}.html"
        try:
            shown = _table(page, "kWh/m²")
        except AssertionError:  # every gu withheld: the page says so in words instead of a chart
            assert 'class="withheld"' in page.read_text("utf-8"), building_type
            continue
        gus = shown.index.isin([i18n.area_name(gu, "ko") for gu in wards()["gu_code"].unique()])
        compared += _compare(shown.loc[gus, "kWh/m²"], expected, building_type)  # not the dongs' distribution
    assert compared >= 1
