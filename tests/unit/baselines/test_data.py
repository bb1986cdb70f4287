"""From stored readings to baseline periods, and the CalTRACK sufficiency of those periods."""

import numpy as np
import pandas as pd
import pytest

from energy_lib.baselines.data import billing_periods, daily_periods, window
from energy_lib.baselines.sufficiency import sufficiency

DAYS = pd.date_range("2024-01-01", "2025-12-31", freq="D")
TEMP = pd.Series(np.linspace(-5.0, 30.0, len(DAYS)), index=DAYS)


def _bills(meter: str, starts: list[str], values: list[float]) -> pd.DataFrame:
    edges = pd.to_datetime(starts)
    return pd.DataFrame({"meter_id": meter, "period_start": edges[:-1], "period_end": edges[1:],
                         "value_canonical": values})


def test_billing_periods_match_35_days_of_temperature_and_weight_by_days_kept():
    bills = pd.concat([_bills("b", ["2024-03-01", "2024-04-01", "2024-06-01"], [300.0, 700.0]),
                       _bills("a", ["2024-02-01", "2024-03-01"], [250.0])])
    periods = billing_periods(bills, TEMP)
    assert list(periods.meter_ids) == ["b", "a"]
    assert periods.temp_c.shape == (2, 2, 35)
    # b's second bill has 61 days: 35 temperatures matched, weight 35, predicted over all 61 days
    assert periods.days[0, 1] == 61 and periods.weight[0, 1] == 35 and periods.blocks[0, 1] == 61
    first = TEMP.index.get_loc(pd.Timestamp("2024-04-01"))
    np.testing.assert_allclose(periods.temp_c[0, 1], TEMP.iloc[first:first + 35])
    # a has one bill of 29 days; its second column is padding
    assert periods.weight[1, 0] == 29 and np.isnan(periods.temp_c[1, 0, 29:]).all()
    assert np.isnan(periods.usage[1, 1]) and periods.weight[1, 1] == 0
    # prediction periods keep every day
    assert billing_periods(bills, TEMP, cap_days=None).temp_c.shape[2] == 61


def test_a_period_with_too_little_temperature_keeps_none():
    temp = TEMP.copy()
    temp["2024-04-01":"2024-04-05"] = np.nan  # 5 of 30 days missing: 83% < 90%
    periods = billing_periods(_bills("m", ["2024-03-01", "2024-04-01", "2024-05-01"], [1.0, 2.0]), temp)
    assert periods.weight[0, 0] == 31 and periods.weight[0, 1] == 0
    assert np.isnan(periods.temp_c[0, 1]).all() and periods.usage[0, 1] == 2.0


def test_daily_periods_sum_complete_days_only():
    hours = pd.date_range("2024-01-01", periods=72, freq="h")
    readings = pd.DataFrame({"meter_id": "m", "period_start": hours, "period_end": hours + pd.Timedelta(hours=1),
                             "value_canonical": 1.0}).drop(index=30)  # day 2 misses an hour
    periods = daily_periods(readings, TEMP)
    np.testing.assert_array_equal(periods.usage[0], [24.0, np.nan, 24.0])
    np.testing.assert_array_equal(periods.weight[0], [1.0, 0.0, 1.0])
    np.testing.assert_allclose(periods.temp_c[0, :, 0], TEMP.iloc[:3])


def test_daily_periods_of_meters_without_readings_are_empty_rows():
    """A reporting year after the last reading: each meter gets a row of no data, not an error."""
    hours = pd.date_range("2024-01-01", periods=48, freq="h")
    readings = pd.DataFrame({"meter_id": "m", "period_start": hours, "period_end": hours + pd.Timedelta(hours=1),
                             "value_canonical": 1.0})
    periods = daily_periods(readings.iloc[:0], TEMP, meter_ids=pd.Index(["m", "n"]))
    assert list(periods.meter_ids) == ["m", "n"] and np.isnan(periods.usage).all()
    assert (periods.weight == 0).all()


def test_window_keeps_whole_periods_before_or_after_each_meters_boundary():
    bills = pd.concat([_bills("a", ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"], [1, 2, 3]),
                       _bills("b", ["2024-01-01", "2024-02-01"], [9])])
    ends = pd.Series({"a": pd.Timestamp("2024-03-15")})
    before = window(bills, ends, days=60)
    assert before["period_start"].tolist() == [pd.Timestamp("2024-02-01")]  # January starts too early
    after = window(bills, ends, days=60, before=False)
    assert after.empty  # the March bill straddles the boundary: neither baseline nor reporting
    assert "b" not in set(before["meter_id"]) | set(after["meter_id"])  # no boundary: no window


def _year_of_days(meter: str, usage: np.ndarray) -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=len(usage), freq="D")
    return pd.DataFrame({"meter_id": meter, "period_start": days, "period_end": days + pd.Timedelta(days=1),
                         "value_canonical": usage})


@pytest.fixture(scope="module")
def checked() -> pd.DataFrame:
    base = np.full(365, 10.0)
    gappy = base.copy()
    gappy[:60] = np.nan
    negative = base.copy()
    negative[5] = -1.0
    spiky = base + np.arange(365) % 7
    spiky[100] = 1000.0
    readings = pd.concat([_year_of_days("good", base), _year_of_days("gappy", gappy),
                          _year_of_days("negative", negative), _year_of_days("spiky", spiky),
                          _year_of_days("short", base[:200])])
    table = sufficiency(daily_periods(readings, TEMP))
    return table.set_index("meter_id")


def test_sufficiency_passes_a_full_year(checked):
    good = checked.loc["good"]
    assert good["status"] == "pass" and good["valid_days"] == 365 and good["warnings"] == ""


@pytest.mark.parametrize(("meter", "warning"), [
    ("gappy", "too_many_days_with_missing_meter_data"),
    ("short", "too_many_days_with_missing_data"),
    ("negative", "negative_meter_values"),
])
def test_sufficiency_fails_with_the_reason(checked, meter, warning):
    assert checked.loc[meter, "status"] == "fail"
    assert f"energy_lib.baselines.sufficiency.{warning}" in checked.loc[meter, "warnings"].split(";")


def test_extreme_values_warn_but_do_not_fail(checked):
    spiky = checked.loc["spiky"]
    assert spiky["status"] == "pass" and spiky["extreme_periods"] == 1
    assert spiky["warnings"] == "energy_lib.baselines.sufficiency.extreme_values_detected"


def test_missing_temperature_is_its_own_reason():
    temp = TEMP.copy()
    temp["2024-02-01":"2024-04-30"] = np.nan
    table = sufficiency(daily_periods(_year_of_days("m", np.full(365, 3.0)), temp))
    assert table.loc[0, "status"] == "fail"
    assert "too_many_days_with_missing_temperature_data" in table.loc[0, "warnings"]
    assert "too_many_days_with_missing_meter_data" not in table.loc[0, "warnings"]


def test_temperatures_are_matched_by_date_when_the_weather_misses_a_day():
    """A weather series missing a row (not a NaN) must not shift the later days' temperatures:
    each period gets the temperature of its own dates, and the missing day is missing."""
    temp = TEMP.drop(pd.Timestamp("2024-03-10"))
    bills = _bills("m", ["2024-03-01", "2024-04-01", "2024-05-01"], [1.0, 2.0])
    periods = billing_periods(bills, temp)
    march = TEMP["2024-03-01":"2024-03-31"].to_numpy().copy()
    march[9] = np.nan  # 10 March: no row, so no temperature
    np.testing.assert_allclose(periods.temp_c[0, 0, :31], march)
    np.testing.assert_allclose(periods.temp_c[0, 1, :30], TEMP["2024-04-01":"2024-04-30"])
    assert periods.weight[0, 0] == 30 and periods.weight[0, 1] == 30
    hours = pd.date_range("2024-03-11", periods=48, freq="h")
    daily = daily_periods(pd.DataFrame({"meter_id": "m", "period_start": hours,
                                        "period_end": hours + pd.Timedelta(hours=1), "value_canonical": 1.0}), temp)
    np.testing.assert_allclose(daily.temp_c[0, :, 0], TEMP["2024-03-11":"2024-03-12"])
