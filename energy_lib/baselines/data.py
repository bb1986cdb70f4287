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
from energy_lib.core.vectors import encode

__all__ = ["billing_periods", "daily_periods", "hourly_usage", "window", "billing_month", "BILLING_TEMPERATURE_DAYS"]

BILLING_TEMPERATURE_DAYS = 35


def _months(readings: pd.DataFrame) -> np.ndarray:
    """:func:`billing_month` as ``datetime64[M]``."""
    billing = readings["resolution"].eq("billing").to_numpy()
    read = np.where(billing, readings["period_end"].to_numpy("datetime64[us]"),
                    readings["period_start"].to_numpy("datetime64[us]"))
    return read.astype("datetime64[M]")


def billing_month(readings: pd.DataFrame) -> pd.Series:
    """The month each reading belongs to [first day of the month].

    A bill (``resolution`` ``billing``) belongs to the month it is read in: its period end, the
    read day (the utilities' 청구년월 and the Carbon Point rule count bills this way). Every other
    reading (calendar months, days, intervals) belongs to the month it starts in.
    """
    return pd.Series(_months(readings).astype("datetime64[us]"), index=readings.index, name="month")


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
    codes, meters = encode(readings["meter_id"])
    edge = edges.reindex(meters).to_numpy(dtype="datetime64[us]")[codes]  # NaT: no window
    if by == "month":
        months = np.timedelta64(round(days / 30.4), "M")
        month, edge_month = _months(readings), edge.astype("datetime64[M]")
        inside = (month >= edge_month - months) & (month < edge_month) if before else \
            (month >= edge_month) & (month < edge_month + months)
    elif by == "period":
        span = np.timedelta64(days, "D")
        start = readings["period_start"].to_numpy("datetime64[us]")
        end = readings["period_end"].to_numpy("datetime64[us]")
        inside = (start >= edge - span) & (end <= edge) if before else (start >= edge) & (end <= edge + span)
    else:
        raise ValueError(f"by must be 'period' or 'month', not {by!r}")
    return readings[inside]


def _columns(readings: pd.DataFrame) -> tuple[np.ndarray, pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    """Meter codes, distinct meters, period starts and ends [datetime64[us]] and values of readings."""
    codes, meters = encode(readings["meter_id"])
    return (codes, meters, readings["period_start"].to_numpy("datetime64[us]"),
            readings["period_end"].to_numpy("datetime64[us]"), readings["value_canonical"].to_numpy(dtype=float))


def _daily_grid(temp_c: pd.Series) -> tuple[np.datetime64, np.ndarray]:
    """Daily temperatures [°C] on a gapless grid of days from the first: the first day and the
    values, position ``i`` holding day ``first + i``. Values are placed by their date, so a day
    without a row is NaN instead of shifting every later day (a series with gaps, unsorted or
    with times of day is read by date; of two rows of one day the later row wins)."""
    if not len(temp_c):
        return np.datetime64("1970-01-01", "D"), np.zeros(0)
    day = pd.DatetimeIndex(temp_c.index).to_numpy().astype("datetime64[D]")
    first = day.min()
    offset = (day - first).astype(np.int64)
    series = np.full(int(offset.max()) + 1, np.nan)
    series[offset] = temp_c.to_numpy(dtype=float)
    return first, series


def _cells(codes: np.ndarray, meters: pd.Index, meter_ids: pd.Index, stamp: np.ndarray,
           *columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, list[np.ndarray]]:
    """Where each reading goes in a meter × period array: readings of meters outside ``meter_ids``
    dropped, the rest ordered by meter then ``stamp`` (their start [ns]; the store returns them
    in order, so a sort is rarely needed).

    Returns
    -------
    row, column : numpy.ndarray
        The reading's meter (its place in ``meter_ids``) and its place among its meter's readings.
    width : int
        Periods of the meter with the most (at least one: no zero-size arrays).
    stamp, columns
        ``stamp`` and ``columns`` kept and ordered alike.
    """
    rows_of = meter_ids.get_indexer(meters)
    keep = rows_of[codes] >= 0 if len(codes) else np.zeros(0, dtype=bool)
    if not keep.all():
        codes, stamp, columns = codes[keep], stamp[keep], [c[keep] for c in columns]
    step = np.diff(codes)
    if not ((step >= 0).all() and (np.diff(stamp)[step == 0] > 0).all()):
        order = np.lexsort((stamp, codes))
        codes, stamp, columns = codes[order], stamp[order], [c[order] for c in columns]
    first = np.flatnonzero(np.concatenate([[True], np.diff(codes) != 0])) if len(codes) else np.zeros(0, dtype=np.int64)
    column = np.arange(len(codes)) - np.repeat(first, np.diff(np.append(first, len(codes))))
    width = int(column.max()) + 1 if len(column) else 1
    return rows_of[codes], column, width, stamp, list(columns)


def _periods(codes: np.ndarray, meters: pd.Index, start: np.ndarray, end: np.ndarray, value: np.ndarray,
             temp_c: pd.Series, meter_ids: pd.Index | None, cap_days: int | None,
             min_temperature_coverage: float) -> Periods:
    """:class:`Periods` from reading columns (see :func:`billing_periods`)."""
    meter_ids = meters if meter_ids is None else meter_ids
    row, column, width, _, (start, end, value) = _cells(codes, meters, meter_ids, start.astype(np.int64),
                                                        start, end, value)

    length = (end - start) / np.timedelta64(1, "D")
    whole_days = np.ceil(length).astype(np.int64)
    depth = max(int(min(whole_days.max() if len(whole_days) else 1, cap_days or np.inf)), 1)
    first_day, series = _daily_grid(temp_c)
    offset = (start.astype("datetime64[D]") - first_day).astype(np.int64)[:, None] + np.arange(depth)[None, :]
    usable = (np.arange(depth)[None, :] < whole_days[:, None]) & (offset >= 0) & (offset < len(series))
    day_temp = np.where(usable, series[np.clip(offset, 0, max(len(series) - 1, 0))], np.nan)
    kept = (~np.isnan(day_temp)).sum(axis=1)
    covered = kept >= min_temperature_coverage * np.minimum(whole_days, depth)
    day_temp[~covered] = np.nan
    kept = np.where(covered, kept, 0)

    shape = (len(meter_ids), width)
    usage, days = np.full(shape, np.nan), np.full(shape, np.nan)
    weight = np.zeros(shape)
    starts = np.full(shape, np.datetime64("NaT"), dtype="datetime64[us]")
    temp = np.full(shape + (depth,), np.nan)
    usage[row, column] = value
    days[row, column] = length
    weight[row, column] = kept
    starts[row, column] = start
    temp[row, column] = day_temp
    return Periods(meter_ids, starts, usage, days, temp, days.copy(), weight)


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
    return _periods(*_columns(readings), temp_c, meter_ids, cap_days, min_temperature_coverage)


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
    codes, meters, start, end, values = _columns(readings)
    step = (end - start) / np.timedelta64(1, "m")
    day = start.astype("datetime64[D]")
    if len(step) and not ((step == 1440).all() and (day == start).all()):  # not daily readings already
        per_day = (1440 / pd.Series(step).groupby(codes).median()).reindex(range(len(meters))).to_numpy() \
            if intervals_per_day is None else intervals_per_day.reindex(meters).to_numpy(dtype=float)
        offset = (day - day.min()).astype(np.int64) if len(day) else np.zeros(0, dtype=np.int64)
        key = codes * (int(offset.max()) + 1 if len(offset) else 1) + offset
        unique_keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        present = ~np.isnan(values)
        total = np.bincount(inverse, weights=np.where(present, values, 0.0), minlength=len(unique_keys))
        count = np.bincount(inverse, weights=present, minlength=len(unique_keys))
        codes, day = codes[first], day[first]
        total[count < per_day[codes]] = np.nan  # an incomplete day is not a day of data
        values = total
    return _daily_layout(codes, meters, day, values, temp_c, meter_ids)


def _daily_layout(codes: np.ndarray, meters: pd.Index, day: np.ndarray, value: np.ndarray, temp_c: pd.Series,
                  meter_ids: pd.Index | None) -> Periods:
    """:class:`Periods` of one-day periods: :func:`_periods` with one day of temperature per
    period and full coverage required, written for days (each period's temperature is its day's;
    no per-day search), and weighted 1 where there is use (OLS, as CalTRACK's daily method)."""
    meter_ids = meters if meter_ids is None else meter_ids
    row, column, width, stamp, (day, value) = _cells(codes, meters, meter_ids, day.astype(np.int64), day, value)
    first_day, series = _daily_grid(temp_c)
    offset = stamp - first_day.astype(np.int64)
    inside = (offset >= 0) & (offset < len(series))
    day_temp = np.where(inside, series[np.clip(offset, 0, len(series) - 1)], np.nan) if len(series) \
        else np.full(len(offset), np.nan)

    shape = (len(meter_ids), width)
    if len(row) == shape[0] * width and (row == np.repeat(np.arange(shape[0]), width)).all():
        # every meter has `width` days, in the order of meter_ids: the layout is a reshape
        usage, days = value.reshape(shape).copy(), np.ones(shape)
        starts, temp = day.astype("datetime64[us]").reshape(shape), day_temp.reshape(shape + (1,))
    else:
        usage, days, temp = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape + (1,), np.nan)
        starts = np.full(shape, np.datetime64("NaT"), dtype="datetime64[us]")
        usage[row, column] = value
        days[row, column] = 1.0
        starts[row, column] = day
        temp[row, column, 0] = day_temp
    weight = np.where(np.isnan(usage), 0.0, 1.0)
    return Periods(meter_ids, starts, usage, days, temp, days.copy(), weight)


def hourly_usage(readings: pd.DataFrame) -> pd.Series:
    """Interval readings of one meter summed to hours [kWh per hour], indexed by the hour's start;
    an hour counts only when all of its intervals are present (others are left out)."""
    step = ((readings["period_end"] - readings["period_start"]) / pd.Timedelta(minutes=1)).median()
    expected = max(1, round(60 / step)) if len(readings) else 1
    hour = readings["period_start"].dt.floor("h")
    grouped = readings["value_canonical"].groupby(hour.to_numpy())
    total, count = grouped.sum(), grouped.count()
    return total[count >= expected].rename("usage").rename_axis("hour")
