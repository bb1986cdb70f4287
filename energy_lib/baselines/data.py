"""From stored readings to the periods a baseline is fitted on.

* **Bills** keep their own periods. Degree days use the daily mean temperatures of the period's
  first 35 days (OpenEEmeter 2.10 matches at most 35 days of temperature to a billing period when
  fitting, and weights each period by the days kept); a period with less than 90% of those days
  covered keeps none. Predictions use every day of the period.
* **Interval data** are summed to local days; a day counts only when every interval of it is
  present.

* **Hourly data** for TOWT: intervals summed to hours, complete hours only.

Windows around an intervention select whole periods (a baseline of 365 days ending at enrolment
keeps the periods that start on or after the window's first day and end on or before it); a
comparison of whole billing years selects bills by the month they are read in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy_lib.baselines.caltrack import Periods

__all__ = ["billing_periods", "daily_periods", "hourly_usage", "window", "billing_month", "BILLING_TEMPERATURE_DAYS"]

BILLING_TEMPERATURE_DAYS = 35


def billing_month(readings: pd.DataFrame) -> pd.Series:
    """The month each reading belongs to [first day of the month].

    A bill (``resolution`` ``billing``) belongs to the month it is read in: its period end, the
    read day (the utilities' 청구년월 and the Carbon Point rule count bills this way). Every other
    reading (calendar months, days, intervals) belongs to the month it starts in.
    """
    read = readings["period_end"].where(readings["resolution"].eq("billing").to_numpy(), readings["period_start"])
    return read.dt.to_period("M").dt.to_timestamp()


def window(readings: pd.DataFrame, edges: pd.Series, *, days: int = 365, before: bool = True,
           by: str = "period") -> pd.DataFrame:
    """Readings in each meter's baseline (``before``) or reporting window.

    Parameters
    ----------
    readings : pandas.DataFrame
        ``meter_id``, ``period_start``, ``period_end`` (half-open), and the values; ``resolution``
        too when ``by="month"``.
    edges : pandas.Series
        Per meter id, the day that separates baseline and reporting: the intervention (the
        baseline ends, the reporting period starts). Meters without an edge get no readings.
    days : int
        Window length [days]; with ``by="month"`` the window is ``round(days / 30.4)`` months.
    before : bool
        The baseline window before the edge, or the reporting window after it.
    by : str
        ``period``: readings whose whole period lies in the window (CalTRACK; a bill straddling
        the intervention is in neither window, its blackout). ``month``: readings whose month
        (:func:`billing_month`) lies in the window, for comparing whole billing years with no
        intervention in between; the edge must be a first of month.
    """
    edge = readings["meter_id"].map(edges)
    if by == "month":
        months = round(days / 30.4)
        month = billing_month(readings)
        start = edge - pd.DateOffset(months=months) if before else edge
        end = edge if before else edge + pd.DateOffset(months=months)
        inside = (month >= start) & (month < end)
    elif by == "period":
        span = pd.Timedelta(days=days)
        if before:
            inside = (readings["period_start"] >= edge - span) & (readings["period_end"] <= edge)
        else:
            inside = (readings["period_start"] >= edge) & (readings["period_end"] <= edge + span)
    else:
        raise ValueError(f"by must be 'period' or 'month', not {by!r}")
    return readings[inside.fillna(False).to_numpy()]


def _grid(readings: pd.DataFrame, meter_ids: pd.Index) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, int]:
    """Readings in time order, with the row and column of each in a meters × periods grid."""
    ordered = readings.sort_values(["meter_id", "period_start"], kind="stable")
    row = meter_ids.get_indexer(ordered["meter_id"])
    column = ordered.groupby("meter_id", sort=False).cumcount().to_numpy()
    width = int(column.max()) + 1 if len(column) else 1  # at least one (empty) period: no zero-size arrays
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
    readings = readings[meter_ids.get_indexer(readings["meter_id"]) >= 0]
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


def hourly_usage(readings: pd.DataFrame) -> pd.Series:
    """Interval readings of one meter summed to hours [kWh per hour], indexed by the hour's start;
    an hour counts only when all of its intervals are present (others are left out)."""
    step = ((readings["period_end"] - readings["period_start"]) / pd.Timedelta(minutes=1)).median()
    expected = max(1, round(60 / step)) if len(readings) else 1
    hour = readings["period_start"].dt.floor("h")
    grouped = readings["value_canonical"].groupby(hour.to_numpy())
    total, count = grouped.sum(), grouped.count()
    return total[count >= expected].rename("usage").rename_axis("hour")
