"""How much the demo city uses: weather-driven consumption per billing period.

Each household's expected daily use is a base load plus heating and cooling slopes times degree
days at its own balance points (the model CalTRACK fits, so later issues can check that they
recover it). A billing period's use is the sum over its days, computed from cumulative degree-day
series, so no per-day, per-household array is ever built: a month of 650,000 households is a few
vector operations. Programme effects are applied to the same draw of noise as the counterfactual,
so the true savings are known exactly (``truth/``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_lib.core.weather import cooling_degree_days, heating_degree_days
from energy_lib.demo.city import DemoSettings
from energy_lib.demo.climate import rng

__all__ = ["Calendar", "household_bills", "water_bills", "pv_generation", "building_use", "complex_heat",
           "interval_load", "building_drivers", "PV_YIELD"]

PV_YIELD = (2.9, 3.5, 3.9, 4.4, 4.5, 4.0, 3.3, 3.7, 3.6, 3.6, 2.9, 2.6)
"""Typical daily PV yield per month in Gwangju [kWh/kWp/day] (approximate, for the demo)."""

_BALANCE_POINTS = np.arange(10.0, 31.0)  # [°C], integer grid shared by every household


@dataclass
class Calendar:
    """Days of the demo with cumulative degree days at every integer balance point.

    ``hdd[i, d]`` is the sum of heating degree days at balance point ``10 + i`` °C over days
    ``0 … d-1``; a period ``[a, b)`` has ``hdd[i, b] - hdd[i, a]``.
    """

    start: pd.Timestamp
    temperature: pd.DataFrame
    hdd: np.ndarray
    cdd: np.ndarray
    pv: np.ndarray  # cumulative typical PV yield [kWh/kWp]

    @classmethod
    def from_weather(cls, temperature: pd.DataFrame, settings: DemoSettings) -> Calendar:
        temp = temperature["temp_mean_c"].to_numpy()
        hdd = np.vstack([heating_degree_days(temp, bp) for bp in _BALANCE_POINTS])
        cdd = np.vstack([cooling_degree_days(temp, bp) for bp in _BALANCE_POINTS])
        zero = np.zeros((len(_BALANCE_POINTS), 1))
        months = temperature["date"].dt.month.to_numpy() - 1
        cloud = rng(settings.seed, "sunshine").lognormal(0, 0.08, (len(temperature) // 28) + 2)
        daily_pv = np.asarray(PV_YIELD)[months] * cloud[np.arange(len(temperature)) // 28]
        return cls(pd.Timestamp(temperature["date"].iloc[0]), temperature,
                   np.hstack([zero, np.cumsum(hdd, axis=1)]), np.hstack([zero, np.cumsum(cdd, axis=1)]),
                   np.concatenate([[0.0], np.cumsum(daily_pv)]))

    def day(self, dates) -> np.ndarray:
        """Day index of dates (0 = first day of the weather series)."""
        return ((pd.DatetimeIndex(np.asarray(dates, dtype="datetime64[us]")) - self.start).days).to_numpy()

    def degree_days(self, table: np.ndarray, balance_point: np.ndarray | float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        row = np.clip(np.rint(np.asarray(balance_point, dtype=float)) - _BALANCE_POINTS[0], 0, len(_BALANCE_POINTS) - 1).astype(int)
        row = np.broadcast_to(row, np.shape(a))
        return table[row, b] - table[row, a]

    def pv_yield(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.pv[b] - self.pv[a]


def _overlap_days(a: np.ndarray, b: np.ndarray, since: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end day of the part of ``[a, b)`` on or after ``since`` (empty if none)."""
    start = np.clip(since, a, b)
    return start, b


def household_bills(homes: pd.DataFrame, calendar: Calendar, settings: DemoSettings, month: pd.Timestamp,
                    carrier: str) -> pd.DataFrame:
    """Electricity [kWh] or gas [m³] bills of billing month ``month`` for every household present.

    The read day is the household's own; the period runs from the previous month's read day to
    this month's (end exclusive).

    Returns
    -------
    pandas.DataFrame
        ``household``, ``period_start``, ``period_end``, ``counterfactual``, ``actual`` (use
        without and with programme effects; same noise), ``generation`` (PV output in the period,
        electricity only).
    """
    index = settings.months.get_loc(month)
    present = (homes["moved_in"].to_numpy() <= index) & (index < homes["moved_out"].to_numpy())
    if carrier == "gas":
        present &= homes["has_gas"].to_numpy()
    h = homes[present]
    read_day = h[f"{carrier}_read_day"].to_numpy()
    end = month.to_datetime64().astype("datetime64[D]") + (read_day - 1).astype("timedelta64[D]")
    start = (month - pd.DateOffset(months=1)).to_datetime64().astype("datetime64[D]") + (read_day - 1).astype("timedelta64[D]")
    a, b = calendar.day(start), calendar.day(end)
    days = (b - a).astype(float)
    noise = rng(settings.seed, f"{carrier}-{month:%Y%m}").lognormal(0.0, 0.05, len(h))
    programme = h["programme_id"].to_numpy(dtype=object)
    enrolled = calendar.day(h["enrolled_on"].fillna(pd.Timestamp("2200-01-01")).to_numpy())
    after_start, after_end = _overlap_days(a, b, enrolled)
    share_after = (after_end - after_start) / np.maximum(days, 1)
    village = programme == "energy_village"
    generation = np.zeros(len(h))

    if carrier == "electricity":
        base = h["elec_base_kwh"].to_numpy() * days
        cooling = h["elec_cool_slope"].to_numpy() * calendar.degree_days(calendar.cdd, h["elec_cool_bp"].to_numpy(), a, b)
        heating = h["elec_heat_slope"].to_numpy() * calendar.degree_days(calendar.hdd, 14.0, a, b)
        gross = base + cooling + heating
        counterfactual = noise * gross
        actual = noise * (gross - base * share_after * 0.06 * village)
        pv_from = calendar.day(h["pv_since"].fillna(pd.Timestamp("2200-01-01")).to_numpy())
        p_start, p_end = _overlap_days(a, b, pv_from)
        generation = h["pv_kw"].to_numpy() * calendar.pv_yield(p_start, p_end)
        balcony = programme == "balcony_pv"
        rooftop = (h["pv_kw"].to_numpy() > 0) & ~balcony
        actual = actual - np.where(balcony, generation, 0.0)
        # Rooftop systems predate the data: a share of their output is used at home in both worlds.
        counterfactual = counterfactual - np.where(rooftop, 0.4 * generation, 0.0)
        actual = actual - np.where(rooftop, 0.4 * generation, 0.0)
        floor = 0.05 * noise * gross
        counterfactual, actual = np.maximum(counterfactual, floor), np.maximum(actual, floor)
    else:
        base = h["gas_base_m3"].to_numpy() * days
        slope = h["gas_heat_slope"].to_numpy()
        bp = h["gas_heat_bp"].to_numpy()
        heating = slope * calendar.degree_days(calendar.hdd, bp, a, b)
        heating_after = slope * calendar.degree_days(calendar.hdd, bp, after_start, after_end)
        retrofit = programme == "insulation_retrofit"
        counterfactual = noise * (base + heating)
        actual = noise * (base + heating - 0.25 * heating_after * retrofit - base * share_after * 0.04 * village)
    return pd.DataFrame({
        "household": h["household"].to_numpy(), "period_start": start, "period_end": end,
        "counterfactual": counterfactual, "actual": actual, "generation": generation,
    })


def water_bills(homes: pd.DataFrame, settings: DemoSettings, month: pd.Timestamp) -> pd.DataFrame:
    """Water [m³] per calendar month for every household present (``household``, ``actual``)."""
    index = settings.months.get_loc(month)
    present = (homes["moved_in"].to_numpy() <= index) & (index < homes["moved_out"].to_numpy())
    h = homes[present]
    summer = 1.0 + 0.08 * np.cos(2 * np.pi * (month.month - 7.5) / 12)
    noise = rng(settings.seed, f"water-{month:%Y%m}").lognormal(0.0, 0.1, len(h))
    return pd.DataFrame({"household": h["household"].to_numpy(),
                         "actual": h["water_base_m3"].to_numpy() * month.days_in_month * summer * noise})


def pv_generation(homes: pd.DataFrame, calendar: Calendar, settings: DemoSettings, month: pd.Timestamp) -> pd.DataFrame:
    """PV generation [kWh] per calendar month of every household with a system (``household``,
    ``generation``)."""
    h = homes[homes["pv_kw"].to_numpy() > 0]
    a = calendar.day(np.full(len(h), month.to_datetime64()))
    b = calendar.day(np.full(len(h), (month + pd.offsets.MonthBegin(1)).to_datetime64()))
    since = calendar.day(h["pv_since"].to_numpy())
    start, end = _overlap_days(a, b, since)
    noise = rng(settings.seed, f"pv-{month:%Y%m}").lognormal(0.0, 0.03, len(h))
    generation = h["pv_kw"].to_numpy() * calendar.pv_yield(start, end) * noise
    keep = generation > 0
    return pd.DataFrame({"household": h["household"].to_numpy()[keep], "generation": generation[keep]})


def building_drivers(building_types: np.ndarray, calendar: Calendar, month: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """What drives a building's electricity in calendar month ``month``.

    Returns
    -------
    base_days : numpy.ndarray
        Days of the month, × 0.7 for education buildings in the vacation months (January,
        February, August) [day]; times the base load [kWh/day] gives the base use.
    cooling_degree_days : numpy.ndarray
        Cooling degree days above 24 °C [K·day]; times the cooling slope gives the cooling use.
    """
    n = len(building_types)
    a = calendar.day(np.full(n, month.to_datetime64()))
    b = calendar.day(np.full(n, (month + pd.offsets.MonthBegin(1)).to_datetime64()))
    vacation = np.where((np.asarray(building_types) == "education") & (month.month in (1, 2, 8)), 0.7, 1.0)
    return float(month.days_in_month) * vacation, calendar.degree_days(calendar.cdd, 24.0, a, b)


def building_use(sites: pd.DataFrame, calendar: Calendar, settings: DemoSettings, month: pd.Timestamp,
                 carrier: str) -> np.ndarray:
    """Electricity [kWh] or gas [m³] of each building in calendar month ``month``."""
    n = len(sites)
    a = calendar.day(np.full(n, month.to_datetime64()))
    b = calendar.day(np.full(n, (month + pd.offsets.MonthBegin(1)).to_datetime64()))
    days = float(month.days_in_month)
    noise = rng(settings.seed, f"building-{carrier}-{month:%Y%m}").lognormal(0.0, 0.05, n)
    vacation = np.where(sites["building_type"].eq("education").to_numpy() & (month.month in (1, 2, 8)), 0.7, 1.0)
    if carrier == "electricity":
        base_days, cooling = building_drivers(sites["building_type"].to_numpy(), calendar, month)
        use = sites["elec_base_kwh"].to_numpy() * base_days + sites["elec_cool_slope"].to_numpy() * cooling
    else:
        use = (sites["gas_base_m3"].to_numpy() * days * vacation
               + sites["gas_heat_slope"].to_numpy() * calendar.degree_days(calendar.hdd, 16.0, a, b))
        use = np.where(sites["has_gas"].to_numpy(), use, 0.0)
    return use * noise


def complex_heat(complexes: pd.DataFrame, calendar: Calendar, settings: DemoSettings, month: pd.Timestamp) -> np.ndarray:
    """District heat [kWh] of each apartment complex in calendar month ``month``."""
    n = len(complexes)
    a = calendar.day(np.full(n, month.to_datetime64()))
    b = calendar.day(np.full(n, (month + pd.offsets.MonthBegin(1)).to_datetime64()))
    noise = rng(settings.seed, f"heat-{month:%Y%m}").lognormal(0.0, 0.04, n)
    per_household = (complexes["base_kwh_per_household"].to_numpy() * month.days_in_month
                     + complexes["heat_slope_kwh_per_household"].to_numpy() * calendar.degree_days(calendar.hdd, 16.0, a, b))
    return complexes["households"].to_numpy() * per_household * noise


# Korean public holidays (fixed and lunar), 2021–2026: offices and factories close.
_HOLIDAYS = pd.to_datetime([
    *(f"{y}-{md}" for y in range(2021, 2027) for md in ("01-01", "03-01", "05-05", "06-06", "08-15", "10-03", "10-09", "12-25")),
    "2021-02-11", "2021-02-12", "2021-02-13", "2021-09-20", "2021-09-21", "2021-09-22",
    "2022-01-31", "2022-02-01", "2022-02-02", "2022-09-09", "2022-09-10", "2022-09-11", "2022-09-12",
    "2023-01-21", "2023-01-22", "2023-01-23", "2023-01-24", "2023-09-28", "2023-09-29", "2023-09-30",
    "2024-02-09", "2024-02-10", "2024-02-11", "2024-02-12", "2024-09-16", "2024-09-17", "2024-09-18",
    "2025-01-28", "2025-01-29", "2025-01-30", "2025-10-05", "2025-10-06", "2025-10-07", "2025-10-08",
    "2026-02-16", "2026-02-17", "2026-02-18", "2026-09-24", "2026-09-25", "2026-09-26",
])


def occupancy(stamps: pd.DatetimeIndex, schedule: str) -> np.ndarray:
    """Share of peak load in use [0–1] at each timestamp for a schedule (``industrial``, ``office``,
    ``residential``): working hours, weekends and Korean public holidays."""
    hour = stamps.hour.to_numpy() + stamps.minute.to_numpy() / 60.0
    off_day = (stamps.day_of_week.to_numpy() >= 5) | stamps.normalize().isin(_HOLIDAYS)
    if schedule == "industrial":
        on = np.where((hour >= 8) & (hour < 20), 1.0, 0.35)
        return np.where(off_day, 0.25, on)
    if schedule == "office":
        on = np.interp(hour, [0, 6.5, 8.5, 12, 13, 18, 19.5, 24], [0.08, 0.08, 1.0, 1.0, 0.85, 1.0, 0.2, 0.08])
        return np.where(off_day, 0.06, on)
    weekday = np.interp(hour, [0, 5, 7, 8.5, 12, 17, 19, 22, 24], [0.25, 0.2, 0.55, 0.35, 0.3, 0.45, 1.0, 0.8, 0.3])
    weekend = np.interp(hour, [0, 6, 9, 12, 17, 19, 22, 24], [0.3, 0.2, 0.5, 0.55, 0.6, 1.0, 0.8, 0.3])
    return np.where(off_day, weekend, weekday)


def interval_load(site: pd.Series, hourly_temperature: pd.DataFrame, settings: DemoSettings) -> pd.DataFrame:
    """Energy [kWh] per interval (15 or 60 minutes, interval start) of an interval-metered site."""
    step = int(site["step_minutes"])
    stamps = pd.date_range(hourly_temperature["timestamp"].iloc[0],
                           hourly_temperature["timestamp"].iloc[-1] + pd.Timedelta(minutes=60 - step),
                           freq=f"{step}min")
    temp = np.interp(stamps.asi8, hourly_temperature["timestamp"].to_numpy().astype("datetime64[ns]").astype(np.int64),
                     hourly_temperature["temp_c"].to_numpy())
    generator = rng(settings.seed, f"ami-{site['site_key']}")
    occupied = occupancy(stamps, site["schedule"])
    shocks = generator.normal(0.0, 0.04, len(stamps))
    wobble = np.convolve(shocks, np.ones(8) / np.sqrt(8), mode="same")  # persistent, not white
    load_kw = (site["base_kw"] + (site["peak_kw"] - site["base_kw"]) * occupied
               + site["cool_kw_per_c"] * np.maximum(temp - 24.0, 0) * np.maximum(occupied, 0.3)
               + site["heat_kw_per_c"] * np.maximum(16.0 - temp, 0) * np.maximum(occupied, 0.3))
    load_kw = load_kw * (1.0 + wobble)
    return pd.DataFrame({"timestamp": stamps, "kwh": np.maximum(load_kw, 0.0) * step / 60.0})
