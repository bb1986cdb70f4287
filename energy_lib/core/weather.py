"""Temperatures and degree days.

References
----------
.. [1] CalTRACK Methods 2.0, section 3.1 (degree days from daily mean temperature).
.. [2] ASHRAE Guideline 14-2014, Annex D (degree-day models).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["heating_degree_days", "cooling_degree_days", "normal_year", "daily_temperature", "daily_weather",
           "hourly_temperature"]


def _keep_type(like, values: np.ndarray):
    return pd.Series(values, index=like.index, name=getattr(like, "name", None)) if isinstance(like, pd.Series) else values


def heating_degree_days(temp_air: np.ndarray | pd.Series, balance_point: float) -> np.ndarray | pd.Series:
    """Heating degree days of daily mean temperatures.

    Parameters
    ----------
    temp_air : array-like
        Daily mean air temperature [°C].
    balance_point : float
        Heating balance point [°C].

    Returns
    -------
    Same type as ``temp_air``
        Heating degree days [°C·day]; NaN where the temperature is NaN.

    Notes
    -----
    .. math:: HDD = \\max(T_{bp} - T, 0)
    """
    temp = np.asarray(temp_air, dtype=float)
    return _keep_type(temp_air, np.where(np.isnan(temp), np.nan, np.maximum(balance_point - temp, 0.0)))


def cooling_degree_days(temp_air: np.ndarray | pd.Series, balance_point: float) -> np.ndarray | pd.Series:
    """Cooling degree days of daily mean temperatures.

    Parameters
    ----------
    temp_air : array-like
        Daily mean air temperature [°C].
    balance_point : float
        Cooling balance point [°C].

    Returns
    -------
    Same type as ``temp_air``
        Cooling degree days [°C·day]; NaN where the temperature is NaN.

    Notes
    -----
    .. math:: CDD = \\max(T - T_{bp}, 0)
    """
    temp = np.asarray(temp_air, dtype=float)
    return _keep_type(temp_air, np.where(np.isnan(temp), np.nan, np.maximum(temp - balance_point, 0.0)))


def daily_temperature(store, station: str = "156") -> pd.Series:
    """Daily mean temperature [°C] of a station from the store, indexed by day."""
    frame = store.sql("SELECT date, temp_mean_c FROM weather WHERE station = ? ORDER BY date", [station])
    return pd.Series(frame["temp_mean_c"].to_numpy(), index=pd.DatetimeIndex(frame["date"]), name="temp_mean_c")


def daily_weather(store, station: str = "156") -> pd.DataFrame:
    """Daily mean, minimum and maximum temperature [°C] of a station from the store (``date``,
    ``temp_mean_c``, ``temp_min_c``, ``temp_max_c``), in date order."""
    return store.sql("SELECT date, temp_mean_c, temp_min_c, temp_max_c FROM weather WHERE station = ? ORDER BY date",
                     [station])


def hourly_temperature(daily: pd.DataFrame) -> pd.Series:
    """Hourly air temperature [°C] from the daily mean, minimum and maximum.

    Parameters
    ----------
    daily : pandas.DataFrame
        ``date`` (in order; missing days give NaN hours), ``temp_mean_c``, ``temp_min_c``, ``temp_max_c``.

    Returns
    -------
    pandas.Series
        Temperature of each hour (hour-starting timestamps), named ``temp_c``. Days without a
        minimum or maximum get their mean all day; days without a mean are NaN.

    Notes
    -----
    A two-part sine (the shape of Parton and Logan's and Reicosky's diurnal models): the low at
    06:00, the high at 15:00, rising over 9 hours and falling over 15, around the daily mean with
    half the daily range as amplitude. Interval baselines (TOWT) need hourly temperature and the
    store keeps the station's daily record; where hourly observations exist, use them instead.

    References
    ----------
    .. [1] Parton, W. J. and Logan, J. A. (1981). A model for diurnal variation in soil and air
       temperature. Agricultural Meteorology 23, 205–216.
    .. [2] Reicosky, D. C. et al. (1989). Accuracy of hourly air temperatures calculated from daily
       minima and maxima. Agricultural and Forest Meteorology 46, 193–209.
    """
    daily = daily.set_index(pd.DatetimeIndex(daily["date"])).asfreq("D")  # a missing day becomes NaN hours
    start = daily.index[0]
    stamps = pd.date_range(start, daily.index[-1] + pd.Timedelta(hours=23), freq="h")
    day = ((stamps - start) // pd.Timedelta(days=1)).to_numpy()
    hour = stamps.hour.to_numpy()
    rising = -np.cos(2 * np.pi * (hour - 6) / 18.0)
    falling = -np.cos(2 * np.pi * (np.where(hour < 6, hour + 24, hour) - 15) / 30.0 + np.pi)
    shape = np.where((hour >= 6) & (hour <= 15), rising, falling)
    mean = daily["temp_mean_c"].to_numpy(dtype=float)[day]
    half_range = np.nan_to_num(0.5 * (daily["temp_max_c"].to_numpy(dtype=float)
                                      - daily["temp_min_c"].to_numpy(dtype=float)))[day]
    return pd.Series(mean + half_range * shape, index=stamps, name="temp_c")


def normal_year(temp_air: pd.Series, year: int = 2001, window_days: int = 15) -> pd.Series:
    """A typical weather year: for each day of the year, the mean temperature of that day over all
    years of the record, smoothed over ``window_days`` (circular), on the 365 days of ``year``.

    Parameters
    ----------
    temp_air : pandas.Series
        Daily mean temperature [°C] indexed by day (several years).
    year : int
        A non-leap year to label the result with.
    window_days : int
        Width of the centred moving average [days].

    Returns
    -------
    pandas.Series
        365 daily temperatures [°C].

    Notes
    -----
    Normalised savings compare the baseline and reporting-period models on this year, so that
    a mild or a harsh winter does not show up as savings (CalTRACK 2.0, normalised savings; ASHRAE
    Guideline 14, 4.1.1). A station's own record is used rather than a TMY file so the workbook
    needs no external data; with a 30-year record it approaches the climate normal.
    """
    clean = temp_air.dropna()
    day = clean.index.day_of_year.to_numpy()
    leap = clean.index.is_leap_year & (clean.index.month > 2)
    day = np.where(leap, day - 1, day)  # 29 February joins 28 February; days keep their date
    keep = ~((clean.index.month == 2) & (clean.index.day == 29))
    means = pd.Series(clean.to_numpy()[keep]).groupby(day[keep]).mean().reindex(range(1, 366))
    means = means.interpolate(limit_direction="both")
    padded = np.concatenate([means.to_numpy()[-window_days:], means.to_numpy(), means.to_numpy()[:window_days]])
    smooth = np.convolve(padded, np.ones(window_days) / window_days, mode="same")[window_days:-window_days]
    return pd.Series(smooth, index=pd.date_range(f"{year}-01-01", periods=365, freq="D"), name="temp_mean_c")
