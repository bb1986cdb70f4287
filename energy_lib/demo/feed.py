"""``energy feed``: the utilities' interval feed for the demo city, simulated.

Every few seconds the feed writes the next hour of one simulated day for each of the demo's seven
AMI sites (four quarter-hours for the 15-minute site), one file per site and hour, in KEPCO's long
interval format (``"고객번호","일시","사용량(kWh)"``, UTF-8, as ``data/raw/demo/ami/``), so that
``energy watch`` can be seen at work. After the day's last hour it writes the day's weather in
KMA's daily format, as the station's record would arrive the next morning.

The readings come from the demo's own load model (:func:`energy_lib.demo.usage.interval_load`)
driven by the demo's weather, run from the demo's first month to the simulated day, so the day
after the demo's last reading is exactly the series' continuation. Everything is deterministic
given the seed and the day. Each file is written under a hidden temporary name (``.name.part``)
and moved into place with ``os.replace``, so a watcher never sees half a file.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from energy_lib.demo import climate
from energy_lib.demo.city import DemoSettings, interval_sites
from energy_lib.demo.exports import write_csv
from energy_lib.demo.usage import interval_load

__all__ = ["Anomaly", "FeedSettings", "default_day", "day_load", "day_weather", "hour_files", "weather_file",
           "write_atomically", "run_feed"]


@dataclass(frozen=True)
class Anomaly:
    """An unusual reading to inject: the site's use in ``hour`` (0–23) times ``factor``."""

    site_key: str
    hour: int
    factor: float = 2.0

    @classmethod
    def parse(cls, text: str) -> Anomaly:
        """``AMI-005@14`` (use doubled from 14:00 to 15:00) or ``AMI-005@14x3`` (tripled).

        Raises
        ------
        ValueError
            If ``text`` is not of that form, names no demo AMI site or an hour outside 0–23.
        """
        match = re.fullmatch(r"(?P<site>[A-Za-z0-9-]+)@(?P<hour>\d{1,2})(?:[x*](?P<factor>\d+(?:\.\d+)?))?", text.strip())
        keys = interval_sites()["site_key"].tolist()
        if not match or match["site"].upper() not in keys or not 0 <= int(match["hour"]) <= 23:
            raise ValueError(f"{text!r} is not SITE@HOUR[xFACTOR] with SITE one of {', '.join(keys)} and HOUR 0–23, "
                             "e.g. AMI-005@14 or AMI-005@14x3")
        return cls(match["site"].upper(), int(match["hour"]), float(match["factor"] or 2.0))


@dataclass(frozen=True)
class FeedSettings:
    """What the simulated feed writes.

    Parameters
    ----------
    day : pandas.Timestamp
        The simulated day.
    seed : int
        Seed of the demo city (its weather and loads).
    start_hour : int
        First hour written (0–23).
    steps : int, optional
        Hours written (default: to the end of the day).
    every : float
        Time between steps [s].
    anomalies : tuple of Anomaly
        Unusual readings to inject.
    """

    day: pd.Timestamp
    seed: int = DemoSettings.seed
    start_hour: int = 0
    steps: int | None = None
    every: float = 3.0
    anomalies: tuple[Anomaly, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.start_hour <= 23:
            raise ValueError(f"start_hour must be 0–23, not {self.start_hour}")
        if self.steps is not None and not 1 <= self.steps <= 24 - self.start_hour:
            raise ValueError(f"steps must be 1–{24 - self.start_hour} from hour {self.start_hour}, not {self.steps}")

    @property
    def hours(self) -> range:
        """The hours of the day the feed writes, one per step."""
        return range(self.start_hour, 24 if self.steps is None else self.start_hour + self.steps)


def default_day(store) -> pd.Timestamp:
    """The day after the newest interval reading in ``store`` (the demo's history continued).

    Raises
    ------
    ValueError
        If the store has no interval readings.
    """
    from energy_lib.realtime.live import live_day

    newest = live_day(store)
    if newest is None:
        raise ValueError(f"{store.root} has no interval readings: build the demo (energy demo) or give --day")
    return newest + pd.Timedelta(days=1)


def _weather(day: pd.Timestamp, seed: int) -> pd.DataFrame:
    """The demo's daily weather from its first day to ``day``."""
    return climate.daily_temperature(str(DemoSettings(seed=seed).weather_start.date()), str(day.date()), seed)


def day_weather(day: pd.Timestamp, seed: int) -> pd.DataFrame:
    """The demo's daily mean, minimum and maximum temperature [°C] of ``day`` (one row)."""
    return _weather(day, seed).iloc[[-1]].reset_index(drop=True)


def day_load(day: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Energy [kWh] of every demo AMI site and interval of ``day``.

    Returns
    -------
    pandas.DataFrame
        ``site_key``, ``customer_no``, ``building_type``, ``timestamp`` (interval start, KST) and
        ``kwh``, ordered by site and time.
    """
    settings = DemoSettings(seed=seed)
    daily = _weather(day, seed)
    hourly = climate.hourly_temperature(daily[daily["date"] >= pd.Timestamp(settings.first_month)])
    parts = []
    for site in interval_sites().itertuples(index=False):  # seven sites, each vectorised over its intervals
        load = interval_load(pd.Series(site._asdict()), hourly, settings)
        load = load[load["timestamp"] >= day]
        parts.append(load.assign(site_key=site.site_key, customer_no=site.customer_no,
                                 building_type=site.building_type))
    columns = ["site_key", "customer_no", "building_type", "timestamp", "kwh"]
    return pd.concat(parts, ignore_index=True)[columns]


def hour_files(load: pd.DataFrame, day: pd.Timestamp, hour: int,
               anomalies: tuple[Anomaly, ...] = ()) -> dict[str, pd.DataFrame]:
    """The files of one step: for every site, its intervals of ``hour`` in KEPCO's long format,
    keyed by file name (``ami-005_20261101_14.csv``)."""
    start = day + pd.Timedelta(hours=hour)
    rows = load[(load["timestamp"] >= start) & (load["timestamp"] < start + pd.Timedelta(hours=1))]
    factor = np.ones(len(rows))
    for anomaly in anomalies:  # a few injected readings
        if anomaly.hour == hour:
            factor = np.where(rows["site_key"].to_numpy() == anomaly.site_key, factor * anomaly.factor, factor)
    iso = rows["building_type"].eq("apartment").to_numpy()  # as the demo's exports: apartments in ISO 8601
    stamps = np.where(iso, rows["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S+09:00"),
                      rows["timestamp"].dt.strftime("%Y-%m-%d %H:%M"))
    frame = pd.DataFrame({"고객번호": rows["customer_no"].to_numpy(), "일시": stamps,
                          "사용량(kWh)": np.char.mod("%.2f", rows["kwh"].to_numpy() * factor)})
    keys = rows["site_key"].to_numpy()
    return {f"{key.lower()}_{day:%Y%m%d}_{hour:02d}.csv": frame[keys == key].reset_index(drop=True)
            for key in pd.unique(keys)}


def weather_file(day: pd.Timestamp, seed: int) -> tuple[str, pd.DataFrame]:
    """The day's weather at Gwangju (ASOS 156) in KMA's daily format, with its file name."""
    row = day_weather(day, seed)
    frame = pd.DataFrame({"지점": "156", "지점명": "광주", "일시": [f"{day:%Y-%m-%d}"],
                          **{f"{name}(°C)": row[column].map("{:.1f}".format)
                             for name, column in (("평균기온", "temp_mean_c"), ("최저기온", "temp_min_c"),
                                                  ("최고기온", "temp_max_c"))},
                          "일강수량(mm)": ""})
    return f"asos_156_daily_{day:%Y%m%d}.csv", frame


def write_atomically(frame: pd.DataFrame, directory: Path, name: str, encoding: str = "utf-8") -> Path:
    """Write ``frame`` as CSV to ``directory/name`` through the hidden ``.name.part``, then
    ``os.replace``: a reader sees the whole file or none of it."""
    directory.mkdir(parents=True, exist_ok=True)
    partial = write_csv(frame, directory / f".{name}.part", encoding)
    target = directory / name
    os.replace(partial, target)
    return target


def run_feed(directory: str | os.PathLike, settings: FeedSettings, *,
             echo: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep) -> list[Path]:
    """Write the feed's files into ``directory``, one step every ``settings.every`` seconds.

    Each step writes one file per site with the next hour; after hour 23, the day's weather
    (in CP949, as KMA's downloads). Steps keep to a fixed schedule from the start, so the time
    a step takes does not accumulate.

    Returns
    -------
    list of Path
        The files written, in order.
    """
    out = Path(directory)
    day = pd.Timestamp(settings.day).normalize()
    load = day_load(day, settings.seed)
    written: list[Path] = []
    started = time.monotonic()
    for step, hour in enumerate(settings.hours):
        wait = started + step * settings.every - time.monotonic()
        if wait > 0:
            sleep(wait)
        files = hour_files(load, day, hour, settings.anomalies)
        written += [write_atomically(frame, out, name) for name, frame in files.items()]
        if hour == 23:
            name, frame = weather_file(day, settings.seed)
            written.append(write_atomically(frame, out, name, "cp949"))
        echo(f"{day:%Y-%m-%d} {hour:02d}:00  {len(files)} site files"
             + (" and the day's weather" if hour == 23 else "") + f" → {out}")
    return written
