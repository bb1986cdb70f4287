"""The demo city at real magnitudes: KEPCO's 2024 use per gu × contract type (issue 13, point 0).

The default demo (10,000 households) is generated once for the module (about 20–30 s, no ingest):
its KEPCO aggregate must match KEPCO's published figures, and its sites' own files the same
figures × 10,000 / 650,000. benchmarks/test_demo_calibration.py checks the full city.
"""

import numpy as np
import pandas as pd
import pytest

from energy_lib.demo import calibration, city, climate, usage
from energy_lib.demo.city import DemoSettings
from energy_lib.demo.generate import generate

pytestmark = pytest.mark.xdist_group("calibration")

CONTRACTS = {"주택용", "일반용", "교육용", "산업용", "농사용", "가로등", "심야"}
SITE_CONTRACTS = {"주택용", "일반용", "교육용", "산업용"}  # the others appear only in KEPCO's aggregate
TOLERANCE = 0.10


@pytest.fixture(scope="session")  # built once per worker: its tests may not run one after another
def default_city(tmp_path_factory) -> dict:
    settings = DemoSettings()
    raw = tmp_path_factory.mktemp("calibrated") / "raw"
    generate(settings, raw)
    return {"settings": settings, "raw": raw, "table": calibration.measure(raw, settings)}


@pytest.fixture(scope="module")
def calendar() -> usage.Calendar:
    settings = DemoSettings()
    weather = climate.daily_temperature(str(settings.weather_start.date()), str(settings.weather_end.date()), settings.seed)
    return usage.Calendar.from_weather(weather, settings)


def _outside(table: pd.DataFrame, column: str) -> pd.DataFrame:
    return table.loc[(table[column] - 1).abs() > TOLERANCE, ["gu_code", "contract", column]]


def test_kepco_aggregate_matches_kepco_2024_in_every_series(default_city):
    table = default_city["table"]
    assert len(table) == 35 and set(table["contract"]) == CONTRACTS
    assert table["kepco_kwh"].notna().all(), "a gu × contract series is missing from the aggregate"
    assert _outside(table, "kepco_ratio").empty, _outside(table, "kepco_ratio").to_string()
    total = table["kepco_kwh"].sum() / table["reference_kwh"].sum()
    assert abs(total - 1) < 0.02


def test_sites_add_up_to_kepco_2024_times_the_scale(default_city):
    table = default_city["table"]
    sites = table[table["contract"].isin(SITE_CONTRACTS)]
    assert len(sites) == 20 and sites["site_kwh"].notna().all()
    assert _outside(sites, "site_ratio").empty, _outside(sites, "site_ratio").to_string()
    assert table.loc[~table["contract"].isin(SITE_CONTRACTS), "site_kwh"].isna().all()


def test_kepco_aggregate_is_the_sites_scaled_to_the_city(default_city):
    sites = default_city["table"].dropna(subset=["site_kwh"])
    scale = calibration.scale(default_city["settings"])
    # the aggregate is built from the true use; the files lose 0.5% of bills (gaps) and KEPCO adds 1% noise
    np.testing.assert_allclose(sites["site_kwh"] / scale, sites["kepco_kwh"], rtol=0.03)
    customers = sites.set_index(["gu_code", "contract"])
    ratio = customers["kepco_customers"] / (customers["sites"] / scale)
    assert ratio.between(0.9, 1.1).all(), ratio.to_string()


def test_customers_are_many_small_and_a_few_large(calendar):
    settings = DemoSettings()
    customers = calibration.building_customers(settings, calendar, pd.DataFrame(columns=["gu_code", "contract", "kwh"]))
    general = customers[customers["contract"] == "일반용"].groupby("gu_code")["annual_kwh"]
    assert (general.size() >= 100).all()
    assert (general.median() < 30_000).all()  # a small shop: under 2,500 kWh a month
    assert (general.max() / general.sum() < 0.15).all()  # no shop dominates its gu
    industrial = customers[customers["contract"] == "산업용"]
    largest = industrial.nlargest(5, "annual_kwh")
    assert set(largest["gu_code"]) <= {"29200", "29170"}  # the plants of 광산구 and 북구
    elsewhere = industrial[~industrial["gu_code"].isin(["29200", "29170"])]
    assert elsewhere["annual_kwh"].median() < industrial.loc[industrial["gu_code"] == "29200", "annual_kwh"].median()
    assert len(customers[customers["contract"] == "일반용"]) > 8 * len(industrial)


def test_buildings_stay_in_their_gu_and_industry_clusters(calendar):
    settings = DemoSettings()
    customers = calibration.building_customers(settings, calendar, pd.DataFrame(columns=["gu_code", "contract", "kwh"]))
    buildings = city.buildings(settings, customers)
    assert len(buildings) == len(customers)
    assert (buildings["legal_code"].str[:5] == buildings["true_ward"].str[:5]).all()
    assert not buildings.duplicated(["legal_code", "plat", "bun", "ji"]).any()  # one building per parcel (site)
    np.testing.assert_allclose(buildings.groupby("contract")["annual_kwh"].sum(),
                               customers.groupby("contract")["annual_kwh"].sum())
    # share of a gu's customers in its three busiest legal dongs: factories crowd into estates
    in_gwangsan = buildings[buildings["legal_code"].str[:5] == "29200"]
    per_dong = in_gwangsan.groupby(["contract", "legal_code"]).size()
    top3 = per_dong.groupby(level="contract").apply(lambda s: s.nlargest(3).sum() / s.sum())
    assert top3["산업용"] > 2 * top3["일반용"]


def test_customer_counts_scale_with_the_city():
    full = calibration.customer_counts(DemoSettings(households=650_000)).set_index(["gu_code", "contract"])["customers"]
    small = calibration.customer_counts(DemoSettings()).set_index(["gu_code", "contract"])["customers"]
    large = full > 2_000
    np.testing.assert_allclose(full[large] / small[large], 65, rtol=0.05)
    assert (small >= 1).all()


def test_streetlights_follow_the_night():
    dark = calibration.darkness_hours(pd.DatetimeIndex(["2024-06-21", "2024-12-21", "2024-03-20"]))
    np.testing.assert_allclose(dark, [9.6, 14.3, 12.0], atol=0.25)


def test_the_demo_must_cover_the_reference_year():
    with pytest.raises(ValueError, match="2024"):
        calibration.calibration_months(DemoSettings(first_month="2025-01"))


def test_building_floor_areas_follow_the_register_by_type(calendar):
    """Floor areas have each type's configured lognormal distribution (median within 15%, spread
    within 20%), larger users are larger buildings, and use per m² varies within a type."""
    from energy_lib.core import configuration

    settings = DemoSettings()
    customers = calibration.building_customers(settings, calendar, pd.DataFrame(columns=["gu_code", "contract", "kwh"]))
    buildings = city.buildings(settings, customers)
    spec = configuration.load("demo")["floor_area"]
    assert (buildings["floor_area_m2"] >= spec["minimum_m2"]).all()
    for kind, rows in buildings.groupby("building_type"):
        logs = np.log(rows["floor_area_m2"].to_numpy())
        if len(rows) < 30:
            continue
        assert abs(np.exp(np.median(logs)) / spec[kind]["median_m2"] - 1) < 0.15, kind
        assert abs(logs.std() / spec[kind]["sigma"] - 1) < 0.2, kind
        rho = pd.Series(rows["floor_area_m2"].to_numpy()).corr(pd.Series(rows["annual_kwh"].to_numpy()), method="spearman")
        assert 0.5 < rho < 0.85, kind
        per_m2 = rows["annual_kwh"] / rows["floor_area_m2"]
        assert per_m2.quantile(0.9) / per_m2.quantile(0.1) > 3, kind  # not use / a constant
    medians = buildings.groupby("building_type")["floor_area_m2"].median()
    assert medians["commercial"] < medians["public"] < medians["education"]
