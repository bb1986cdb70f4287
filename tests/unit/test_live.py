"""The live day's expected-versus-actual use (energy_lib.realtime.live)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from energy_lib.baselines.data import hourly_usage
from energy_lib.baselines.towt import fit_towt
from energy_lib.core import weather
from energy_lib.demo.feed import day_load, hour_files, write_atomically
from energy_lib.ingest.pipeline import ingest_file
from energy_lib.realtime import live
from energy_lib.store import NothingToCompute, Store

DAY = pd.Timestamp("2026-10-31")  # the demo's last day of interval readings


@pytest.fixture
def store_copy(demo, tmp_path) -> Store:
    """A private copy of the small demo store (the session's store is shared)."""
    return Store(shutil.copytree(demo["store"].root, tmp_path / "store"))


def test_nothing_written_reads_as_empty_with_the_status_columns(tmp_path):
    frame, meta = live.read_status(tmp_path / "live")
    assert meta == {}
    assert frame.empty and tuple(frame.columns) == live.STATUS_COLUMNS
    assert str(frame["period_start"].dtype) == "datetime64[us]" and frame["unusual"].dtype == bool


def test_status_round_trips_sorted_with_its_types(tmp_path):
    stamps = pd.to_datetime(["2026-11-01 01:00", "2026-11-01 00:00", "2026-11-01 00:00"])
    frame = pd.DataFrame({
        "site_id": ["s-b", "s-b", "s-a"], "meter_id": ["m-2", "m-2", "m-1"], "site_name": ["B", "B", None],
        "building_type": "public", "ward_code": "2914074500", "series_public": [True, True, False], "period_start": stamps,
        "period_end": stamps + pd.Timedelta(hours=1), "resolution": "hourly", "actual_kwh": [2.0, np.nan, 1.0],
        "expected_kwh": 1.5, "lower_kwh": 1.0, "upper_kwh": 1.8, "unusual": [True, False, False], "extra": 0,
    })
    meta = {"day": "2026-11-01", "readings": 2}
    live.write_status(tmp_path, frame, meta)
    back, meta_back = live.read_status(tmp_path)
    assert meta_back == meta == json.loads((tmp_path / "status.json").read_text("utf-8"))
    assert tuple(back.columns) == live.STATUS_COLUMNS
    assert back["site_id"].tolist() == ["s-a", "s-b", "s-b"]
    assert back["period_start"].tolist() == list(pd.to_datetime(["2026-11-01 00:00", "2026-11-01 00:00", "2026-11-01 01:00"]))
    assert str(back["period_end"].dtype) == "datetime64[us]" and np.isnan(back["actual_kwh"].iloc[1])
    assert back["series_public"].tolist() == [False, True, True]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json", "status.parquet"]  # no temporary left


def test_expected_is_the_towt_prediction_and_actual_the_store(store_copy, tmp_path):
    monitor = live.LiveMonitor(store_copy, tmp_path / "live")
    meta = monitor.update()
    frame, written = live.read_status(tmp_path / "live")
    assert written == meta and meta["day"] == "2026-10-31" and meta["temperature_source"] == "observed"
    assert meta["sites"] == 7 and meta["readings"] == 6 * 24 + 96 == len(frame) and meta["last_file"] is None
    assert frame["resolution"].value_counts().to_dict() == {"hourly": 144, "15min": 96}

    readings = store_copy.sql("""SELECT meter_id, resolution, period_start, period_end, value_canonical FROM readings
                                 WHERE resolution IN ('hourly', '15min') AND period_start >= ? AND period_start < ?
                                 ORDER BY meter_id, period_start""", [DAY - pd.Timedelta(days=365), DAY + pd.Timedelta(days=1)])
    daily = weather.daily_weather(store_copy)
    temp = weather.hourly_temperature(daily[(daily["date"] >= DAY - pd.Timedelta(days=366)) & (daily["date"] <= DAY)])
    hours = pd.date_range(DAY, periods=24, freq="h")
    for meter_id, rows in readings.groupby("meter_id"):  # seven meters
        model = fit_towt(hourly_usage(rows[rows["period_start"] < DAY]), temp, meter_id=meter_id)
        predicted = model.predict(hours, temp.reindex(hours).to_numpy())
        mine = frame[frame["meter_id"] == meter_id]
        per_hour = mine.groupby(mine["period_start"].dt.hour)["expected_kwh"].sum().to_numpy()
        np.testing.assert_allclose(per_hour, predicted, rtol=1e-9)
        if rows["resolution"].iloc[-1] == "15min":  # a quarter of the hour's prediction each
            np.testing.assert_allclose(mine["expected_kwh"].to_numpy(), np.repeat(predicted / 4, 4), rtol=1e-9)
        today = rows[rows["period_start"] >= DAY]
        np.testing.assert_allclose(mine["actual_kwh"].to_numpy(), today["value_canonical"].to_numpy())
        assert (mine["period_end"] - mine["period_start"]).eq(today["period_end"].iloc[0] - today["period_start"].iloc[0]).all()
    assert (frame["lower_kwh"] >= 0).all() and (frame["lower_kwh"] < frame["expected_kwh"]).all()
    assert (frame["expected_kwh"] < frame["upper_kwh"]).all()
    # a 95% interval on an ordinary day of the demo: few intervals are flagged
    assert frame["unusual"].mean() < 0.1
    assert set(frame["building_type"]) == {"industrial", "public", "apartment"}
    # only the public bodies' series may be shown, and only they carry a name into the status
    public = frame.drop_duplicates("site_id").set_index("site_name", drop=False)
    assert set(frame.loc[frame["series_public"], "site_name"]) == {"광주광역시청", "북구청"}
    assert frame.loc[~frame["series_public"], "site_name"].isna().all() and (~public["series_public"]).sum() == 5
    assert set(frame.loc[frame["series_public"], "building_type"]) == {"public"}


def test_unusual_only_where_actual_is_outside_the_interval(store_copy):
    baselines = live.fit_baselines(store_copy, DAY)
    temp, source = live.day_temperature(store_copy, baselines)
    hourly = baselines.meters[baselines.meters["resolution"] == "hourly"]["meter_id"].iloc[0]
    actual = pd.DataFrame({"meter_id": hourly, "period_start": DAY + pd.to_timedelta([9, 10, 11], unit="h")})
    first = live.day_status(baselines, temp, actual.assign(value_canonical=np.nan))
    expected = first.set_index(["meter_id", "period_start"])["expected_kwh"]
    normal = expected.loc[list(zip(actual["meter_id"], actual["period_start"]))].to_numpy()
    status = live.day_status(baselines, temp, actual.assign(value_canonical=normal * [1.0, 3.0, 0.2]))
    flagged = status[status["unusual"]]
    assert list(zip(flagged["meter_id"], flagged["period_start"])) == [(hourly, DAY + pd.Timedelta(hours=10)),
                                                                      (hourly, DAY + pd.Timedelta(hours=11))]
    assert status["actual_kwh"].notna().sum() == 3  # intervals without a reading are never unusual


def test_baselines_are_refitted_only_when_the_day_or_their_data_change(store_copy, tmp_path):
    monitor = live.LiveMonitor(store_copy, tmp_path / "live")
    assert monitor.update()["day"] == "2026-10-31"
    monitor.update()
    assert monitor.refits == 1
    next_day = DAY + pd.Timedelta(days=1)
    load = day_load(next_day, 2026)
    first, second = (write_atomically(hour_files(load, next_day, hour)[name], tmp_path / "inbox", name)
                     for hour, name in ((0, "ami-003_20261101_00.csv"), (1, "ami-003_20261101_01.csv")))
    assert ingest_file(store_copy, first).rows_stored == 4
    meta = monitor.update(last_file=first.name, seen_at="2026-11-22T00:00:00.000+00:00")
    assert meta["day"] == "2026-11-01" and meta["temperature_source"] == "normal" and meta["readings"] == 4
    assert meta["last_file"] == first.name and meta["last_file_seen_at"] == "2026-11-22T00:00:00.000+00:00"
    assert monitor.refits == 2  # a new day
    normal = monitor.baselines.normal_temp_c
    assert normal.index[0] == pd.Timestamp("2026-11-01") and len(normal) == 24 and 5 < normal.mean() < 20
    assert ingest_file(store_copy, second).rows_stored == 4
    assert monitor.update()["readings"] == 8
    assert monitor.refits == 2  # readings of the live day change the status, not the baselines
    backfill = tmp_path / "late.csv"  # a late reading inside the baseline window, of a new meter
    backfill.write_text('"고객번호","일시","사용량(kWh)","행정동코드"\n"0900199999","2026-03-02 10:00","5.0","2914074500"\n'
                        '"0900199999","2026-03-02 11:00","5.5","2914074500"\n', encoding="utf-8")
    assert ingest_file(store_copy, backfill).rows_stored == 2
    monitor.update()
    assert monitor.refits == 3
    without = monitor.frame.groupby("meter_id")["expected_kwh"].apply(lambda v: v.isna().all())
    assert len(without) == 8 and without.sum() == 1  # the new meter is listed, without an expectation


def test_no_interval_readings_write_nothing_and_no_weather_is_an_error(store, tmp_path):
    assert live.LiveMonitor(store, tmp_path / "live").update() is None
    assert not (tmp_path / "live").exists()
    path = tmp_path / "ami.csv"
    path.write_text('"고객번호","일시","사용량(kWh)","행정동코드"\n"0900100099","2026-10-31 10:00","5.0","2914074500"\n'
                    '"0900100099","2026-10-31 11:00","5.5","2914074500"\n', encoding="utf-8")
    assert ingest_file(store, path).rows_stored == 2
    with pytest.raises(NothingToCompute, match="no weather for station 156"):
        live.LiveMonitor(store, tmp_path / "live").update()


def test_settings_reject_a_confidence_outside_0_and_1():
    with pytest.raises(ValueError, match="confidence"):
        live.LiveSettings(confidence=95)


def test_the_city_total_has_the_interval_of_the_summed_residuals(store_copy, tmp_path):
    """The sites share the weather: the total's interval comes from their summed residuals, and is
    wider than the quadrature sum of the sites' own intervals, which treats them as independent."""
    baselines = live.fit_baselines(store_copy, DAY)
    assert baselines.city_lower_offset.shape == baselines.city_upper_offset.shape == (24,)
    assert (baselines.city_lower_offset < 0).all() and (baselines.city_upper_offset > 0).all()
    quadrature = np.sqrt(np.nansum(baselines.upper_offset ** 2 * np.where(
        live.STEP_MINUTES["15min"] == baselines.meters["step_minutes"].to_numpy()[:, None], 4, 1), axis=0))
    assert (baselines.city_upper_offset > quadrature).mean() > 0.5
    meta = live.LiveMonitor(store_copy, tmp_path / "live").update()
    assert meta["city_interval"]["upper_offset"] == pytest.approx(list(baselines.city_upper_offset), abs=1e-3)
    # the public sites' total has its own interval (shown while the private sites' aggregate is withheld)
    assert meta["public_interval"]["upper_offset"] == pytest.approx(list(baselines.public_upper_offset), abs=1e-3)
    assert (baselines.public_upper_offset < baselines.city_upper_offset).mean() > 0.5
