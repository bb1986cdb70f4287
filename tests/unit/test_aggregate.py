"""Report views from published tables: a suppressed month or carrier empties the view, never a guess."""

import numpy as np
import pandas as pd
import pytest

from energy_lib.publish import aggregate


def _consumption(months=24, hidden=()):
    month = pd.period_range("2024-01", periods=months, freq="M").astype(str)
    rows = []
    for area in ("city", "29110"):
        for carrier, base in (("electricity", 100.0), ("gas", 50.0)):
            for i, m in enumerate(month):
                total = base * (2 if area == "city" else 1) * (1.1 if i >= 12 else 1.0)
                rows.append({"level": "city" if area == "city" else "gu", "area": area, "building_type": "all",
                             "carrier": carrier, "month": m, "total": np.nan if (area, carrier, m) in hidden else total,
                             "kwh": total * (1 if carrier == "electricity" else 10)})
    return pd.DataFrame(rows)


def test_last_twelve_months_compares_the_same_months_and_needs_all_twelve():
    frame = _consumption(hidden={("29110", "gas", "2025-06")})
    annual = aggregate.last_twelve_months(frame).set_index(["area", "carrier"])
    assert annual.attrs["period"] == ("2025-01", "2025-12")
    assert annual.loc[("city", "electricity"), "recent"] == pytest.approx(12 * 220)
    assert annual.loc[("city", "electricity"), "change"] == pytest.approx(0.1)
    assert np.isnan(annual.loc[("29110", "gas"), "recent"]) and np.isnan(annual.loc[("29110", "gas"), "change"])


def test_a_published_twelve_month_total_stands_in_for_a_withheld_month():
    frame = _consumption(hidden={("29110", "gas", "2025-06"), ("29110", "gas", "2024-03")})
    yearly = pd.DataFrame({"area": ["29110", "29110"], "building_type": "all", "carrier": "gas",
                           "level": "gu", "period": ["2025", "2024"], "total": [12 * 55.0, 12 * 50.0]})
    annual = aggregate.last_twelve_months(frame, annual=yearly).set_index(["area", "carrier"])
    assert annual.loc[("29110", "gas"), "recent"] == pytest.approx(12 * 55)
    assert annual.loc[("29110", "gas"), "earlier"] == pytest.approx(12 * 50)  # the calendar year before
    assert annual.loc[("29110", "gas"), "change"] == pytest.approx(0.1)
    assert annual.loc[("city", "gas"), "recent"] == pytest.approx(12 * 110)  # published months need nothing
    withheld = aggregate.last_twelve_months(frame, annual=yearly.assign(total=np.nan)).set_index(["area", "carrier"])
    assert np.isnan(withheld.loc[("29110", "gas"), "recent"])


def test_energy_mix_is_empty_when_a_carrier_is_suppressed():
    frame = pd.DataFrame({"area": ["a", "a", "b", "b", "c"], "carrier": ["electricity", "gas"] * 2 + ["electricity"],
                          "kwh": [30.0, 70.0, 50.0, np.nan, 10.0]})
    mix = aggregate.energy_mix(frame, ["area"])
    assert mix.loc["a", "electricity"] == pytest.approx(0.3) and mix.loc["a", "gas"] == pytest.approx(0.7)
    assert mix.loc["b"].isna().all()
    assert mix.loc["c", "electricity"] == 1.0 and mix.loc["c", "gas"] == 0.0  # no gas at all is a share of 0


def test_year_on_year_and_intensity():
    frame = pd.DataFrame({"area": ["a"] * 13, "month": pd.date_range("2024-01-01", periods=13, freq="MS"),
                          "total": [100.0] * 12 + [120.0]})
    change = aggregate.year_on_year(frame, ["area"])
    assert change.iloc[-1] == pytest.approx(0.2) and change.iloc[:12].isna().all()
    totals = pd.DataFrame({"area": ["a", "b"], "kwh": [1000.0, 500.0]})
    households = pd.DataFrame({"area": ["a", "b"], "households": [10, 0]})
    per = aggregate.intensity(totals, households, ["area"], per="households")
    assert per.iloc[0] == 100.0 and np.isnan(per.iloc[1])


def test_ranking_puts_suppressed_areas_last_unranked():
    annual = pd.DataFrame({"level": "ward", "area": ["w1", "w2", "w3"], "building_type": "all",
                           "carrier": "electricity", "recent": [3000.0, np.nan, 5000.0]})
    stock = pd.DataFrame({"area": ["w1", "w2", "w3"], "building_type": "all", "households": [1, 2, 1]})
    ranked = aggregate.ranking(annual, stock, carrier="electricity")
    assert ranked["area"].tolist() == ["w3", "w1", "w2"] and ranked["rank"].tolist()[:2] == [1, 2]
    assert np.isnan(ranked["rank"].iloc[2])


def test_re100_progress_follows_a_straight_path_to_the_target():
    consumption = _consumption(months=36)
    consumption["total"] = consumption["total"] * 10
    generation = consumption[(consumption["area"] == "city") & (consumption["carrier"] == "electricity")][["area", "month"]]
    generation = generation.assign(total=50.0)
    progress = aggregate.re100_progress(generation, consumption)
    assert progress["year"].tolist() == ["2024", "2025", "2026"]
    assert progress["share"].iloc[0] == pytest.approx(50 / 2000)
    assert progress["target_share"].iloc[0] == pytest.approx(progress["share"].iloc[0])
    step = (1.0 - progress["share"].iloc[0]) / (2045 - 2024)
    assert progress["target_share"].iloc[2] == pytest.approx(progress["share"].iloc[0] + 2 * step)


def test_emissions_path_leaves_out_carriers_with_a_suppressed_month_in_every_year():
    consumption = _consumption(months=24, hidden={("city", "gas", "2024-03")})
    consumption["kgco2eq"] = consumption["total"] * 1000.0
    path = aggregate.emissions_path(consumption)
    assert path.attrs["left_out"] == ["gas"]
    assert path["tco2eq"].tolist() == pytest.approx([12 * 200.0, 12 * 220.0])  # electricity only, both years
    assert path["target_tco2eq"].iloc[0] == pytest.approx(2400.0)
    assert path["target_tco2eq"].iloc[1] == pytest.approx(2400.0 * (1 - 1 / (2045 - 2024)))


def test_use_partials_are_each_cells_customers_total_and_largest_from_the_readings(demo):
    """The store's cell statistics against pandas on the raw readings: months by read month (bills)
    or start, outliers left out, each meter standing for its site's households, and a period that
    sums its months."""
    store = demo["store"]
    months = aggregate.months(store)
    edges = pd.DataFrame({"child": months.iloc[-12:].to_numpy(), "parent": "last-12"})
    partials = aggregate.use_partials(store, edges)

    readings = store.read("readings")
    readings = readings[~readings["outlier"]]
    meters = store.read("meters")[["meter_id", "site_id"]].merge(
        store.read("sites")[["site_id", "ward_code", "building_type", "households"]], on="site_id")
    when = readings["period_end"].where(readings["resolution"] == "billing", readings["period_start"])
    readings = readings.assign(period=pd.to_datetime(when).dt.strftime("%Y-%m")).merge(meters, on="meter_id")
    readings = pd.concat([readings, readings.merge(edges, left_on="period", right_on="child").assign(
        period=lambda f: f["parent"])], ignore_index=True)
    by = ["ward_code", "building_type", "carrier", "period"]
    per_meter = readings.groupby([*by, "meter_id"], observed=True).agg(
        value=("value_canonical", "sum"), households=("households", "first")).reset_index()
    per_meter["stands_for"] = per_meter["households"].fillna(1).clip(lower=1)
    per_meter["share"] = per_meter["value"] / per_meter["stands_for"]
    expected = per_meter.groupby(by, observed=True).agg(
        customers=("stands_for", "sum"), total=("value", "sum"), largest=("share", "max")).reset_index()
    expected[by] = expected[by].astype(str)

    assert set(months) == set(expected.loc[expected["period"] != "last-12", "period"])
    assert (partials["period"] == "last-12").any()
    pd.testing.assert_frame_equal(partials.reset_index(drop=True), expected.sort_values(by, ignore_index=True),
                                  check_dtype=False, rtol=1e-9)


def test_carrier_totals_are_complete_or_absent_never_partial():
    annual = pd.DataFrame({"building_type": ["apartment", "apartment", "apartment", "public", "public", "shop"],
                           "carrier": ["electricity", "gas", "water", "electricity", "gas", "electricity"],
                           "recent": [10.0, 5.0, 99.0, 7.0, np.nan, 3.0]})
    totals = aggregate.carrier_totals(annual, ["building_type"])
    assert totals.loc["apartment", "total"] == pytest.approx(15.0)  # water is no energy
    assert np.isnan(totals.loc["public", "total"]) and totals.loc["public", "withheld"] == "gas"
    assert totals.loc["public", "electricity"] == pytest.approx(7.0)  # the published carrier, on its own
    assert totals.loc["shop", "gas"] == 0.0 and totals.loc["shop", "total"] == pytest.approx(3.0)  # no gas meter


def test_energy_ranking_divides_every_carrier_by_floor_area_and_skips_partial_areas():
    annual = pd.DataFrame({"level": "gu", "area": ["a", "a", "b", "b"], "building_type": "commercial",
                           "carrier": ["electricity", "gas", "electricity", "gas"], "recent": [1000.0, 500.0, 800.0, np.nan]})
    stock = pd.DataFrame({"area": ["a", "b"], "building_type": "commercial", "floor_area_m2": [10.0, 8.0],
                          "households": [0, 0]})
    ranked = aggregate.energy_ranking(annual, stock, level="gu", building_type="commercial").set_index("area")
    assert ranked.loc["a", "intensity"] == pytest.approx(150.0)
    assert np.isnan(ranked.loc["b", "intensity"]) and np.isnan(ranked.loc["b", "rank"])
