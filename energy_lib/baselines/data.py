"""From stored readings to the periods a baseline is fitted on.

* **Bills** keep their own periods. Degree days use the daily mean temperatures of the period's
  first 35 days (OpenEEmeter 2.10 matches at most 35 days of temperature to a billing period when
  fitting, and weights each period by the days kept); a period with less than 90% of those days
  covered keeps none. Predictions use every day of the period.
* **Interval data** are summed to local days; a day counts only when every interval of it is
  present.

Windows select whole periods: a baseline of 365 days ending at a cut-off day keeps the periods
that start on or after the window's first day and end on or before the cut-off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy_lib.baselines.caltrack import Periods

__all__ = ["billing_periods", "daily_periods", "window", "BILLING_TEMPERATURE_DAYS"]

BILLING_TEMPERATURE_DAYS = 35


def window(readings: pd.DataFrame, ends: pd.Series, *, days: int = 365, before: bool = True) -> pd.DataFrame:
    """Readings whose periods lie wholly in each meter's window.

    Parameters
    ----------
    readings : pandas.DataFrame
        ``meter_id``, ``period_start``, ``period_end`` (half-open), and the values.
    ends : pandas.Series
        Per meter id, the window's boundary day: the baseline ends there (``before``), or the
        reporting period starts there.
    days : int
        Window length [days].
    """
    edge = readings["meter_id"].map(ends)
    span = pd.Timedelta(days=days)
    if before:
        inside = (readings["period_start"] >= edge - span) & (readings["period_end"] <= edge)
    else:
        inside = (readings["period_start"] >= edge) & (readings["period_end"] <= edge + span)
    return readings[inside.fillna(False).to_numpy()]


def _grid(readings: pd.DataFrame, meter_ids: pd.Index) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, int]:
    """Readings in time order, with the row and column of each in a meters × periods grid."""
    ordered = readings.sort_values(["meter_id", "period_start"], kind="stable")
    row = meter_ids.get_indexer(ordered["meter_id"])
    column = ordered.groupby("meter_id", sort=False).cumcount().to_numpy()
    width = int(column.max()) + 1 if len(column) else 0
    return ordered, row, column, width


def billing_periods(readings: pd.DataFrame, temp_c: pd.Series, *, meter_ids: pd.Index | None = None,
                    cap_days: int | None = BILLING_TEMPERATURE_DAYS, min_temperature_coverage: float = 0.9) -> Periods:
    """Billing periods of many meters with the daily temperatures of their days.

    Parameters
    ----------
    readings : pandas.DataFrame
        ``meter_id``, ``period_start``, ``period_end``, ``value_canonical`` [kWh or m³].
    temp_c : pandas.Series
        Daily mean temperature [°C] indexed by day.
    meter_ids : pandas.Index, optional
        Meters (rows) of the result, in order; default: those in ``readings``.
    cap_days : int or None
        Days of temperature matched to a period for fitting (35); None for prediction (all days).
    min_temperature_coverage : float
        A period whose matched days are less covered keeps no temperature.
    """
    meter_ids = pd.Index(readings["meter_id"].unique()) if meter_ids is None else meter_ids
    ordered, row, column, width = _grid(readings, meter_ids)
    start = ordered["period_start"].dt.normalize().to_numpy("datetime64[D]")
    length = ((ordered["period_end"] - ordered["period_start"]) / pd.Timedelta(days=1)).to_numpy()
    whole_days = np.ceil(length).astype(np.int64)
    depth = int(min(whole_days.max() if len(whole_days) else 1, cap_days or np.inf))
    depth = max(depth, 1)
    first_day = np.datetime64(temp_c.index.min().date(), "D") if len(temp_c) else np.datetime64("1970-01-01")
    series = temp_c.to_numpy(dtype=float)
    offset = (start - first_day).astype(np.int64)[:, None] + np.arange(depth)[None, :]
    in_period = np.arange(depth)[None, :] < whole_days[:, None]
    in_range = (offset >= 0) & (offset < len(series))
    day_temp = np.where(in_period & in_range, series[np.clip(offset, 0, max(len(series) - 1, 0))], np.nan)
    kept = (~np.isnan(day_temp)).sum(axis=1)
    matched = np.minimum(whole_days, depth)
    covered = kept >= min_temperature_coverage * matched
    day_temp[~covered] = np.nan
    kept = np.where(covered, kept, 0)

    n = len(meter_ids)
    shape = (n, width)
    usage = np.full(shape, np.nan)
    days = np.full(shape, np.nan)
    weight = np.zeros(shape)
    blocks = np.full(shape, np.nan)
    starts = np.full(shape, np.datetime64("NaT"), dtype="datetime64[us]")
    temp = np.full((n, width, depth), np.nan)
    usage[row, column] = ordered["value_canonical"].to_numpy(dtype=float)
    days[row, column] = length
    weight[row, column] = kept
    blocks[row, column] = length
    starts[row, column] = ordered["period_start"].to_numpy("datetime64[us]")
    temp[row, column] = day_temp
    return Periods(meter_ids, starts, usage, days, temp, blocks, weight)


def daily_periods(readings: pd.DataFrame, temp_c: pd.Series, *, meter_ids: pd.Index | None = None,
                  intervals_per_day: pd.Series | None = None) -> Periods:
    """Interval readings summed to days, one period per day, with each day's temperature.

    Parameters
    ----------
    readings : pandas.DataFrame
        ``meter_id``, ``period_start``, ``period_end``, ``value_canonical`` [kWh].
    temp_c : pandas.Series
        Daily mean temperature [°C] indexed by day.
    intervals_per_day : pandas.Series, optional
        Per meter, how many intervals make a complete day (24 hourly, 96 quarter-hourly); by
        default inferred from the readings' lengths. Incomplete days are NaN.
    """
    frame = readings.assign(day=readings["period_start"].dt.normalize())
    step = (readings["period_end"] - readings["period_start"]) / pd.Timedelta(minutes=1)
    expected = (1440 / step.groupby(readings["meter_id"]).median()) if intervals_per_day is None else intervals_per_day
    daily = frame.groupby(["meter_id", "day"], sort=True).agg(value_canonical=("value_canonical", "sum"),
                                                               count=("value_canonical", "count")).reset_index()
    complete = daily["count"].to_numpy() >= daily["meter_id"].map(expected).to_numpy()
    daily.loc[~complete, "value_canonical"] = np.nan
    daily = daily.rename(columns={"day": "period_start"})
    daily["period_end"] = daily["period_start"] + pd.Timedelta(days=1)
    return _as_daily(billing_periods(daily, temp_c, meter_ids=meter_ids, cap_days=1, min_temperature_coverage=1.0))


def _as_daily(periods: Periods) -> Periods:
    """Daily periods are weighted 1 (OLS), as CalTRACK's daily method."""
    weight = np.where(~np.isnan(periods.usage), 1.0, 0.0)
    return Periods(periods.meter_ids, periods.start, periods.usage, periods.days, periods.temp_c, periods.blocks, weight)
