"""A synthetic daily temperature series with Gwangju's climate.

Daily means follow Gwangju's 1991–2020 monthly normals (annual 14.1 °C, January 1.0 °C, August
26.5 °C) through a smooth annual cycle, plus persistent day-to-day anomalies (an AR(1) process,
larger in winter), so that heating and cooling demand vary from year to year as in real data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy_lib.core import weather

__all__ = ["MONTHLY_NORMALS_C", "daily_temperature", "hourly_temperature", "rng"]

MONTHLY_NORMALS_C = (1.0, 2.8, 7.4, 13.1, 18.5, 22.6, 26.0, 26.5, 22.3, 16.2, 9.6, 3.4)
"""Monthly mean temperature [°C], Gwangju (ASOS 156). January, August and the annual mean (14.1)
are the KMA 1991–2020 normals; the other months approximate them (within about 0.5 °C)."""


def rng(seed: int, stream: str) -> np.random.Generator:
    """An independent random stream per component, so that changing one part of the demo (e.g.
    the number of households) does not change another (the weather)."""
    # every byte of the name counts: "electricity-202201" and "electricity-202202" are different streams
    return np.random.default_rng([seed, *stream.encode("utf-8")])


def _climatology(day_of_year: np.ndarray) -> np.ndarray:
    """Smooth annual cycle [°C] through the monthly normals (3-harmonic least-squares fit)."""
    mid = (np.arange(12) + 0.5) / 12.0
    basis = lambda t: np.column_stack([np.ones_like(t)] + [f(2 * np.pi * k * t) for k in (1, 2, 3) for f in (np.cos, np.sin)])
    coefficients, *_ = np.linalg.lstsq(basis(mid), np.array(MONTHLY_NORMALS_C), rcond=None)
    return basis(day_of_year / 365.25) @ coefficients


def daily_temperature(start: str, end: str, seed: int) -> pd.DataFrame:
    """Daily mean, minimum and maximum temperature [°C] from ``start`` to ``end`` (inclusive).

    Returns
    -------
    pandas.DataFrame
        Columns ``date``, ``temp_mean_c``, ``temp_min_c``, ``temp_max_c``.
    """
    generator = rng(seed, "weather")
    dates = pd.date_range(start, end, freq="D")
    t = (dates.day_of_year.to_numpy() - 0.5).astype(float)
    normal = _climatology(t)
    winter = np.cos(2 * np.pi * (t - 15) / 365.25)  # +1 in mid-January, -1 in mid-July
    sigma = 1.5 + 0.5 * winter  # day-to-day shocks larger in winter
    shocks = generator.normal(0.0, 1.0, len(dates)) * sigma
    anomaly = np.empty(len(dates))
    level = 0.0
    for i, shock in enumerate(shocks):  # AR(1) over days: a recursion, not a loop over a city
        level = 0.75 * level + shock
        anomaly[i] = level
    mean = normal + anomaly
    spread = 8.5 + 1.5 * np.sin(2 * np.pi * (t - 60) / 365.25) + generator.normal(0, 1.2, len(dates))
    spread = np.clip(spread, 3.0, 15.0)
    return pd.DataFrame({
        "date": dates,
        "temp_mean_c": np.round(mean, 1),
        "temp_min_c": np.round(mean - 0.5 * spread, 1),
        "temp_max_c": np.round(mean + 0.5 * spread, 1),
    })


def hourly_temperature(daily: pd.DataFrame) -> pd.DataFrame:
    """Hourly air temperature [°C] of the demo city (``timestamp``, ``temp_c``): the same diurnal
    model the baselines use (:func:`energy_lib.core.weather.hourly_temperature`)."""
    series = weather.hourly_temperature(daily)
    return pd.DataFrame({"timestamp": series.index, "temp_c": series.to_numpy()})
