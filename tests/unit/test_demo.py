"""The demo city: deterministic, realistic, messy, and loaded through the real importers."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from energy_lib.demo import city, climate
from energy_lib.demo.city import DemoSettings
from energy_lib.demo.generate import generate

pytestmark = pytest.mark.xdist_group("demo")


def _digests(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix != ".xlsx"}


def test_generation_is_deterministic(demo, tmp_path):
    again = generate(demo["settings"], tmp_path / "again")
    assert again.entries == demo["entries"]
    assert _digests(tmp_path / "again") == _digests(demo["raw"])


def test_weather_has_gwangju_climate():
    daily = climate.daily_temperature("2021-01-01", "2026-10-31", 2026)
    by_month = daily.groupby(daily["date"].dt.month)["temp_mean_c"].mean()
    assert abs(daily["temp_mean_c"].mean() - 14.1) < 0.5
    assert abs(by_month[1] - 1.0) < 1.5 and abs(by_month[8] - 26.5) < 1.5
    assert (daily["temp_min_c"] <= daily["temp_mean_c"]).all() and (daily["temp_mean_c"] <= daily["temp_max_c"]).all()


def test_households_follow_population_and_ward_table():
    homes = city.households(DemoSettings(households=20_000))
    shares = homes.groupby("gu_code").size() / len(homes)
    population = pd.Series({"29110": 106005, "29140": 294854, "29155": 214860, "29170": 439352, "29200": 422502})
    np.testing.assert_allclose(shares.sort_index(), (population / population.sum()).sort_index(), atol=0.002)
    assert homes["ward_code"].nunique() == 96
    assert 0.35 < (homes["persons"] == 1).mean() < 0.46


def test_every_file_is_ingested_and_every_row_accounted_for(demo):
    reports = demo["reports"]
    assert all(r.status == "stored" for r in reports)
    assert all(r.rows_in == r.rows_stored + r.rows_quarantined for r in reports)
    log = demo["store"].read("ingest_log")
    assert (log["rows_in"] == log["rows_stored"] + log["rows_quarantined"]).all()
    assert log["rows_quarantined"].sum() == demo["store"].rows("quarantine")
    formats = {e["format"] for e in demo["manifest"]["files"]}
    assert formats == {"weather", "parcels", "sites", "programmes", "bills", "building", "heat", "kdhc",
                       "interval", "interval_wide", "pv", "participation", "kepco"}


def test_real_world_mess_is_present_and_handled(demo):
    store = demo["store"]
    reasons = set(store.read("quarantine")["reason"])
    assert {"duplicate_row", "already_stored", "negative_value", "unknown_ward_code", "unreadable_number",
            "future_period", "missing_value", "conflicting_rows"} <= reasons
    readings = store.read("readings")
    assert readings["outlier"].sum() >= 1
    bills = store.sql("SELECT quality FROM readings WHERE resolution IN ('billing', 'monthly')")
    assert 0.005 < (bills["quality"] == "estimated").mean() < 0.05
    codes = store.sql("SELECT DISTINCT ward_code FROM sites WHERE ward_code = '2917053500'")
    assert len(codes) == 1  # rows with 중흥2동/중흥3동 and 12xxx codes landed in current wards
    assert set(store.read("sites")["placement"]) >= {"reported", "legal_single", "parcel"}


def test_consumption_depends_on_weather(demo):
    store = demo["store"]
    weather = store.sql("SELECT date_trunc('month', date) AS month, avg(temp_mean_c) AS temp FROM weather GROUP BY ALL")
    bills = store.sql("""
        SELECT r.carrier, date_trunc('month', r.period_end - INTERVAL 1 DAY) AS month,
               avg(r.value_canonical / date_diff('day', r.period_start, r.period_end)) AS per_day
        FROM readings r WHERE r.resolution = 'billing' GROUP BY ALL""")
    joined = bills.merge(weather, on="month")
    gas = joined[joined["carrier"] == "gas"]
    electricity = joined[joined["carrier"] == "electricity"]
    assert gas["per_day"].corr(gas["temp"]) < -0.9  # heating
    summer = electricity[electricity["month"].dt.month.isin([7, 8])]["per_day"].mean()
    spring = electricity[electricity["month"].dt.month.isin([4, 5])]["per_day"].mean()
    assert summer > 1.15 * spring  # cooling


def test_programmes_have_participants_and_a_known_effect(demo):
    store = demo["store"]
    truth = json.loads((demo["raw"] / "truth" / "programmes.json").read_text("utf-8"))
    participation = store.read("participation").groupby("programme_id").size()
    for programme in ("balcony_pv", "insulation_retrofit", "energy_village"):
        assert participation[programme] == truth["programmes"][programme]["participants"] > 0
    effects = pd.read_parquet(demo["raw"] / "truth" / "programme_effects.parquet")
    retrofit = effects[(effects["programme_id"] == "insulation_retrofit") & (effects["carrier"] == "gas")]
    assert retrofit["savings"].sum() > 0 and (effects["savings"] >= -1e-9).all()
    assert set(store.read("programmes")["programme_id"]) == set(truth["programmes"])
    assert store.rows("generation") > 0


def test_kepco_aggregates_scale_the_sample_to_the_city(demo):
    from energy_lib.publish import reconcile

    table = reconcile.by_year(reconcile.electricity_against_kepco(demo["store"]))
    residential = table[(table["category"] == "residential") & (table["year"] == 2024)]
    expected = DemoSettings(households=600).households / DemoSettings().city_households
    assert len(residential) == 5
    np.testing.assert_allclose(residential["coverage"], expected, rtol=0.25)
