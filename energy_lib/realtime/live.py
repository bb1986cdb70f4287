"""The live day: expected versus actual use of every interval meter, for real-time monitoring.

``energy watch`` keeps two files in the live directory (``data/live/`` or ``$ENERGY_LIVE_DIR``)
up to date as interval files arrive; the live app reads them and nothing else:

* ``status.parquet``: one row per monitored meter and interval of the live day (see
  :data:`STATUS_COLUMNS` and data/README.md), sorted by ``site_id`` and ``period_start``;
* ``status.json``: the day, when and from which file it was updated, how many readings, the
  temperature source and the prediction interval's confidence.

Both are replaced atomically (a temporary file, then ``os.replace``), the Parquet file first, so a
reader that reads ``status.json`` first (as :func:`read_status` does) finds a table at least as new.

How expected use is computed (docs/monitoring.md):

* The live day is the KST date of the newest interval reading in the store.
* Every interval (hourly or 15-minute) electricity meter gets a TOWT baseline (CalTRACK 2.0
  hourly, :func:`energy_lib.baselines.towt.fit_towt`) fitted on the 365 days before the live day,
  with the hourly temperature of the station's daily record (:func:`energy_lib.core.weather.hourly_temperature`).
* Meters are compared at their native resolution: a 15-minute interval expects a quarter of its
  hour's prediction.
* The prediction interval at confidence *c* is the empirical (1 − c)/2 and (1 + c)/2 quantiles of
  the baseline's residuals at the meter's resolution, per hour of the day, added to the
  expectation (the lower end floored at 0). In-sample residuals understate out-of-sample error a
  little, most on days whose temperature is the normal year's rather than observed.
* The live day's temperature is the station's observed daily weather when the store has it,
  otherwise the normal year's for that date (:func:`energy_lib.core.weather.normal_year`).

What may be shown is the site register's decision (``sites.series_public``): the status keeps
every meter's rows (the app needs them for aggregates that pass the publishing rule,
:mod:`energy_lib.apps.live_view`), but a site's name only where its own series may be shown.

:class:`LiveMonitor` keeps the fitted baselines in memory and refits only when the live day or
the baseline's data (readings or weather of the 365 days) change, so an update after a new file
reads the day's readings, predicts and writes the two files in a few tens of milliseconds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from energy_lib.core import weather

if TYPE_CHECKING:  # the app imports this module to read the status: the fitting stack loads only to fit
    from energy_lib.baselines.towt import TOWTModel
    from energy_lib.store import Store

__all__ = ["STATUS_COLUMNS", "LiveSettings", "LiveBaselines", "LiveMonitor", "default_live_dir", "empty_status",
           "read_status", "write_status", "utc_now", "live_day", "fit_baselines", "day_temperature", "day_status"]

STEP_MINUTES = {"hourly": 60, "15min": 15}
"""Interval resolutions that are monitored, with their length [minutes]."""

STATUS_PARQUET = "status.parquet"
STATUS_JSON = "status.json"

STATUS_SCHEMA = pa.schema([
    ("site_id", pa.string()), ("meter_id", pa.string()), ("site_name", pa.string()),
    ("building_type", pa.string()), ("ward_code", pa.string()), ("series_public", pa.bool_()),
    ("period_start", pa.timestamp("us")), ("period_end", pa.timestamp("us")), ("resolution", pa.string()),
    ("actual_kwh", pa.float64()), ("expected_kwh", pa.float64()), ("lower_kwh", pa.float64()),
    ("upper_kwh", pa.float64()), ("unusual", pa.bool_()),
])
STATUS_COLUMNS = tuple(STATUS_SCHEMA.names)
"""Columns of ``status.parquet``: ids of the site and, where ``series_public`` (the register lets
its own series be shown), its name; the interval (KST, naive),
``actual_kwh`` (NaN until read), ``expected_kwh`` with its prediction interval ``lower_kwh`` …
``upper_kwh`` [kWh per interval], and ``unusual`` (actual outside the interval)."""


def default_live_dir() -> Path:
    """The live directory: ``$ENERGY_LIVE_DIR`` or ``data/live`` under the current directory."""
    return Path(os.environ.get("ENERGY_LIVE_DIR", "data/live"))


def empty_status() -> pd.DataFrame:
    """A status table without rows, with the columns and types of ``status.parquet``."""
    return STATUS_SCHEMA.empty_table().to_pandas()


def _replace_file(path: Path, write) -> None:
    """Write ``path`` through ``write(temporary_path)``, then move it into place in one step."""
    temporary = path.with_name(f".{path.name}.tmp")
    write(temporary)
    os.replace(temporary, path)


def write_status(live_dir: str | os.PathLike, frame: pd.DataFrame, meta: Mapping) -> None:
    """Replace the live status: ``status.parquet`` from ``frame``, then ``status.json`` from ``meta``.

    Parameters
    ----------
    live_dir : path
        The live directory (created if missing).
    frame : pandas.DataFrame
        The columns of :data:`STATUS_COLUMNS` (others are dropped), one row per meter and interval.
    meta : mapping
        JSON-safe status: ``day``, ``updated_at``, ``last_file``, ``last_file_seen_at``,
        ``readings``, ``sites``, ``temperature_source``, ``confidence``, ``city_interval`` and
        ``public_interval`` (residual quantiles of all sites' and of the public sites' total).

    Raises
    ------
    KeyError
        If ``frame`` lacks a status column.
    """
    directory = Path(live_dir)
    directory.mkdir(parents=True, exist_ok=True)
    ordered = frame.loc[:, list(STATUS_COLUMNS)].sort_values(["site_id", "period_start", "meter_id"], kind="stable")
    table = pa.Table.from_pandas(ordered, schema=STATUS_SCHEMA, preserve_index=False)
    _replace_file(directory / STATUS_PARQUET, lambda path: pq.write_table(table, path))
    text = json.dumps(dict(meta), ensure_ascii=False, indent=1)
    _replace_file(directory / STATUS_JSON, lambda path: path.write_text(text, encoding="utf-8"))


def read_status(live_dir: str | os.PathLike | None = None) -> tuple[pd.DataFrame, dict]:
    """The live status as written by :func:`write_status`.

    Parameters
    ----------
    live_dir : path, optional
        The live directory (default :func:`default_live_dir`).

    Returns
    -------
    (pandas.DataFrame, dict)
        The status table and ``status.json``; an empty table with the status columns and ``{}``
        when the watcher has not written anything yet.
    """
    directory = Path(live_dir) if live_dir is not None else default_live_dir()
    try:
        meta = json.loads((directory / STATUS_JSON).read_text("utf-8"))
        frame = pq.read_table(directory / STATUS_PARQUET, schema=STATUS_SCHEMA).to_pandas()
    except FileNotFoundError:
        return empty_status(), {}
    return frame, meta


@dataclass(frozen=True)
class LiveSettings:
    """How the live day's expectation is computed.

    Parameters
    ----------
    confidence : float
        Level of the prediction interval (0.95: the 2.5% and 97.5% residual quantiles).
    baseline_days : int
        Days before the live day that the baselines are fitted on [days].
    station : str
        Weather station of the temperatures (Gwangju ASOS: 156).
    """

    confidence: float = 0.95
    baseline_days: int = 365
    station: str = "156"

    def __post_init__(self) -> None:
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence must be between 0 and 1, not {self.confidence}")


def _interval_readings(store: Store, start: pd.Timestamp, end: pd.Timestamp, select: str) -> pd.DataFrame:
    """``select`` over the interval electricity readings with ``start <= period_start < end``,
    reading only the part files whose time range can hold them."""
    with store.snapshot():  # the files listed stay until the query is done
        files = store.files("readings", time_from=start, time_to=end, carriers={"electricity"})
        return store.sql(f"""SELECT {select} FROM {store.relation_sql("readings", files)}
                             WHERE carrier = 'electricity' AND resolution IN ? AND period_start >= ? AND period_start < ?""",
                         [list(STEP_MINUTES), start, end])


def live_day(store: Store) -> pd.Timestamp | None:
    """The live day: the date (KST) of the newest interval electricity reading, or None if none."""
    newest = store.sql("SELECT max(period_start) AS m FROM readings WHERE carrier = 'electricity' AND resolution IN ?",
                       [list(STEP_MINUTES)])["m"].iloc[0]
    return None if pd.isna(newest) else pd.Timestamp(newest).normalize()


def _signature(store: Store, day: pd.Timestamp, settings: LiveSettings) -> tuple:
    """What the baselines of ``day`` depend on: count and latest ingestion of the baseline window's
    interval readings and weather. Any row added to either changes it (tables are append-only)."""
    start = day - pd.Timedelta(days=settings.baseline_days)
    readings = _interval_readings(store, start, day, "count(*) AS n, max(ingested_at) AS t").iloc[0]
    days = store.sql("SELECT count(*) AS n, max(ingested_at) AS t FROM weather WHERE station = ? AND date >= ? "
                     "AND date < ?", [settings.station, start - pd.Timedelta(days=1), day]).iloc[0]
    return int(readings["n"]), str(readings["t"]), int(days["n"]), str(days["t"])


@dataclass(frozen=True)
class LiveBaselines:
    """Baselines of the interval meters for one live day.

    ``meters`` has ``meter_id``, ``site_id``, ``site_name`` (null unless ``series_public``),
    ``building_type``, ``ward_code``, ``series_public``, ``resolution`` and ``step_minutes``; ``models`` one TOWT model per meter in that order (None
    without baseline data); ``lower_offset`` and ``upper_offset`` the residual quantiles [kWh per
    interval] per meter (row) and hour of the day (column); ``normal_temp_c`` the normal-year
    hourly temperature of the day [°C]; ``city_lower_offset`` and ``city_upper_offset`` the same
    quantiles of the meters' summed hourly residuals [kWh per hour] per hour of the day (the city
    total's interval: the meters' errors are correlated, as they share the weather);
    ``public_lower_offset`` and ``public_upper_offset`` those of the meters of sites whose series is
    public (the interval of their total, shown when the other sites' aggregate is withheld);
    ``signature`` what the fit depended on (see :func:`fit_baselines`).
    """

    day: pd.Timestamp
    settings: LiveSettings
    signature: tuple
    meters: pd.DataFrame
    models: tuple[TOWTModel | None, ...]
    lower_offset: np.ndarray
    upper_offset: np.ndarray
    normal_temp_c: pd.Series
    city_lower_offset: np.ndarray
    city_upper_offset: np.ndarray
    public_lower_offset: np.ndarray
    public_upper_offset: np.ndarray


def _meters(store: Store, meter_ids: np.ndarray) -> pd.DataFrame:
    """Site of meters (``meter_id``, ``site_id``, ``site_name``, ``building_type``, ``ward_code``,
    ``series_public``) in id order; the name only of a site whose series is public (a store
    written before the register had the column reads as not public)."""
    return store.sql("""SELECT m.meter_id, m.site_id,
                               CASE WHEN coalesce(s.series_public, false) THEN s.name END AS site_name,
                               s.building_type, s.ward_code, coalesce(s.series_public, false) AS series_public
                        FROM meters m JOIN sites s USING (site_id) WHERE m.meter_id IN ? ORDER BY m.meter_id""",
                     [list(meter_ids)])


def _hourly_weather(daily: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Hourly temperature [°C] of the days ``start <= date < end`` of a daily record (NaN where missing)."""
    window = daily[(daily["date"] >= start) & (daily["date"] < end)]
    if window.empty:
        return pd.Series(dtype=float, name="temp_c")
    return weather.hourly_temperature(window)


def _normal_day(daily: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Hourly temperature [°C] of ``day`` in the normal year of the daily record: the normal
    mean, minimum and maximum of its date (29 February takes 28 February's)."""
    record = daily.set_index(pd.DatetimeIndex(daily["date"]))
    same_date = pd.Timestamp(2001, day.month, min(day.day, 28) if day.month == 2 else day.day)
    normal = {column: weather.normal_year(record[column].astype(float)).loc[same_date]
              for column in ("temp_mean_c", "temp_min_c", "temp_max_c")}
    hours = weather.hourly_temperature(pd.DataFrame({"date": [day], **{k: [v] for k, v in normal.items()}}))
    return hours.rename("temp_c")


def _residual_quantiles(residuals: pd.DataFrame, n_meters: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """The (1 − c)/2 and (1 + c)/2 quantiles of ``residual`` per ``meter`` (position) and
    ``hour`` of the day, as two arrays of shape (meters, 24); NaN where a meter has none."""
    levels = [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0]
    found = residuals.groupby(["meter", "hour"])["residual"].quantile(levels).unstack()
    grid = pd.MultiIndex.from_product([range(n_meters), range(24)], names=["meter", "hour"])
    found = found.reindex(grid)
    return (found[levels[0]].to_numpy().reshape(n_meters, 24), found[levels[1]].to_numpy().reshape(n_meters, 24))


def fit_baselines(store: Store, day: pd.Timestamp, settings: LiveSettings = LiveSettings()) -> LiveBaselines:
    """Fit the TOWT baseline and prediction interval of every interval meter for live day ``day``.

    Parameters
    ----------
    store : Store
    day : pandas.Timestamp
        The live day (KST date).
    settings : LiveSettings

    Returns
    -------
    LiveBaselines
        Every meter with interval readings in the baseline window or on the day. A meter with
        too little data gets a model whose predictions are NaN (its expectation stays empty).

    Raises
    ------
    NothingToCompute
        If the store has no weather of the station: the baselines need temperatures.
    """
    from energy_lib.baselines.data import hourly_usage
    from energy_lib.baselines.towt import fit_towt
    from energy_lib.store import NothingToCompute

    day = pd.Timestamp(day).normalize()
    start = day - pd.Timedelta(days=settings.baseline_days)
    daily = weather.daily_weather(store, settings.station)
    if daily["temp_mean_c"].notna().sum() == 0:
        raise NothingToCompute(f"the store has no weather for station {settings.station}: ingest the station's "
                               "daily temperatures (a weather file in the watched folder, or energy ingest)")
    signature = _signature(store, day, settings)
    readings = _interval_readings(store, start, day + pd.Timedelta(days=1),
                                  "meter_id, resolution, period_start, period_end, value_canonical")
    readings = readings.sort_values(["meter_id", "period_start"], kind="stable", ignore_index=True)
    base = readings[readings["period_start"] < day]
    meters = _meters(store, readings["meter_id"].unique())
    # a meter's resolution is its latest reading's (a meter changes resolution rarely, if ever)
    latest = readings.drop_duplicates("meter_id", keep="last").set_index("meter_id")["resolution"]
    meters["resolution"] = latest.reindex(meters["meter_id"]).to_numpy()
    meters["step_minutes"] = meters["resolution"].map(STEP_MINUTES).astype(int)
    hourly_temp = _hourly_weather(daily, start - pd.Timedelta(days=1), day)
    by_meter = dict(tuple(base.groupby("meter_id", sort=False)))
    models, residuals = [], []
    for position, meter in enumerate(meters.itertuples(index=False)):  # a handful of interval meters
        rows = by_meter.get(meter.meter_id)
        if rows is None:
            models.append(None)
            continue
        model = fit_towt(hourly_usage(rows), hourly_temp, meter_id=meter.meter_id)
        models.append(model)
        hour = rows["period_start"].dt.floor("h")
        hours = pd.DatetimeIndex(hour.unique())
        predicted = pd.Series(model.predict(hours, hourly_temp.reindex(hours).to_numpy()), index=hours)
        expected = predicted.reindex(hour).to_numpy() * meter.step_minutes / 60.0
        residuals.append(pd.DataFrame({"meter": position, "stamp": hour.to_numpy(), "hour": hour.dt.hour.to_numpy(),
                                       "residual": rows["value_canonical"].to_numpy() - expected}).dropna())
    frame = pd.concat(residuals, ignore_index=True) if residuals else pd.DataFrame(
        {"meter": pd.Series(dtype=int), "stamp": pd.Series(dtype="datetime64[us]"), "hour": pd.Series(dtype=int),
         "residual": pd.Series(dtype=float)})
    lower, upper = _residual_quantiles(frame, len(meters), settings.confidence)
    city_lower, city_upper = _residual_quantiles(_city_residuals(frame), 1, settings.confidence)
    public = frame[frame["meter"].isin(np.flatnonzero(meters["series_public"].to_numpy(dtype=bool)))]
    public_lower, public_upper = _residual_quantiles(_city_residuals(public), 1, settings.confidence)
    return LiveBaselines(day, settings, signature, meters, tuple(models), lower, upper, _normal_day(daily, day),
                         city_lower[0], city_upper[0], public_lower[0], public_upper[0])


def _city_residuals(residuals: pd.DataFrame) -> pd.DataFrame:
    """The meters' residuals summed per hour, over the hours in which every fitted meter has one
    (``meter`` 0, ``hour`` of the day, ``residual`` [kWh per hour])."""
    per_hour = residuals.groupby(["stamp", "meter"])["residual"].sum().unstack("meter").dropna()
    return pd.DataFrame({"meter": 0, "hour": per_hour.index.hour if len(per_hour) else np.array([], dtype=int),
                         "residual": per_hour.sum(axis=1).to_numpy()})


def day_temperature(store: Store, baselines: LiveBaselines) -> tuple[pd.Series, str]:
    """Hourly temperature [°C] of the live day and its source: ``observed`` (the station's daily
    weather of the day, if stored) or ``normal`` (the normal year's for the date)."""
    observed = store.sql("SELECT date, temp_mean_c, temp_min_c, temp_max_c FROM weather WHERE station = ? "
                         "AND date = ? AND temp_mean_c IS NOT NULL ORDER BY ingested_at DESC LIMIT 1",
                         [baselines.settings.station, baselines.day])
    if observed.empty:
        return baselines.normal_temp_c, "normal"
    return weather.hourly_temperature(observed), "observed"


def day_status(baselines: LiveBaselines, temp_c: pd.Series, actual: pd.DataFrame) -> pd.DataFrame:
    """Expected versus actual use of every meter and interval of the live day.

    Parameters
    ----------
    baselines : LiveBaselines
    temp_c : pandas.Series
        Hourly temperature of the day [°C], indexed by the hour's start.
    actual : pandas.DataFrame
        The day's readings: ``meter_id``, ``period_start``, ``value_canonical`` [kWh].

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`STATUS_COLUMNS`, one row per meter and interval of the day.

    Notes
    -----
    For an interval of :math:`s` minutes in hour :math:`h`, expected use is :math:`\\hat y_h
    s/60` (the TOWT prediction of the hour, spread evenly over its intervals); the interval is
    :math:`[\\max(0, E + q_{lo,h}), E + q_{hi,h}]` with the meter's residual quantiles of hour of
    day *h*; ``unusual`` when the actual use lies outside it.
    """
    meters, day = baselines.meters, baselines.day
    hours = pd.date_range(day, periods=24, freq="h")
    hourly = np.vstack([model.predict(hours, temp_c.reindex(hours).to_numpy()) if model is not None
                        else np.full(24, np.nan) for model in baselines.models]) if len(meters) else np.empty((0, 24))
    per_day = (1440 // meters["step_minutes"]).to_numpy()
    position = np.repeat(np.arange(len(meters)), per_day)
    step = meters["step_minutes"].to_numpy()[position]
    offset = np.arange(len(position)) - np.repeat(np.cumsum(per_day) - per_day, per_day)
    start = day + pd.to_timedelta(offset * step, unit="min")
    hour = (offset * step) // 60
    expected = hourly[position, hour] * step / 60.0
    frame = meters.iloc[position].reset_index(drop=True)[["site_id", "meter_id", "site_name", "building_type",
                                                          "ward_code", "series_public", "resolution"]]
    frame["period_start"] = start.astype("datetime64[us]")
    frame["period_end"] = (start + pd.to_timedelta(step, unit="min")).astype("datetime64[us]")
    values = actual.drop_duplicates(["meter_id", "period_start"], keep="last").set_index(["meter_id", "period_start"])
    frame["actual_kwh"] = values["value_canonical"].reindex(
        pd.MultiIndex.from_arrays([frame["meter_id"], frame["period_start"]])).to_numpy(dtype=float)
    frame["expected_kwh"] = expected
    frame["lower_kwh"] = np.maximum(expected + baselines.lower_offset[position, hour], 0.0)
    frame["upper_kwh"] = expected + baselines.upper_offset[position, hour]
    actual_kwh = frame["actual_kwh"].to_numpy()
    frame["unusual"] = (actual_kwh < frame["lower_kwh"].to_numpy()) | (actual_kwh > frame["upper_kwh"].to_numpy())
    return frame.sort_values(["site_id", "period_start", "meter_id"], kind="stable", ignore_index=True)


def _json_floats(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 3) for v in values]


def utc_now() -> str:
    """Now, as ISO 8601 in UTC to the millisecond (the times of ``status.json``)."""
    return pd.Timestamp.now(tz="UTC").isoformat(timespec="milliseconds")


class LiveMonitor:
    """Keeps the live status of a store up to date, refitting baselines only when needed.

    Parameters
    ----------
    store : Store
    live_dir : path
        Where ``status.parquet`` and ``status.json`` are written.
    settings : LiveSettings
    """

    def __init__(self, store: Store, live_dir: str | os.PathLike, settings: LiveSettings = LiveSettings()):
        self.store = store
        self.live_dir = Path(live_dir)
        self.settings = settings
        self.baselines: LiveBaselines | None = None
        self.frame = empty_status()
        """The status table last written."""
        self.refits = 0

    def _current(self, day: pd.Timestamp, meter_ids: pd.Series) -> LiveBaselines:
        """The cached baselines of ``day``, refitted if the day or their data changed, or if a
        meter of ``meter_ids`` (the day's readings) is new."""
        cached = self.baselines
        if (cached is None or cached.day != day or not meter_ids.isin(cached.meters["meter_id"]).all()
                or cached.signature != _signature(self.store, day, self.settings)):
            self.baselines = fit_baselines(self.store, day, self.settings)
            self.refits += 1
        return self.baselines

    def update(self, *, last_file: str | None = None, seen_at: str | None = None) -> dict | None:
        """Recompute the live day's status from the store and write it.

        Parameters
        ----------
        last_file : str, optional
            Name of the file whose ingest triggered the update (None on start-up).
        seen_at : str, optional
            When the watcher first saw that file (ISO 8601, UTC).

        Returns
        -------
        dict or None
            The ``status.json`` written, or None (nothing written) when the store has no interval
            readings yet.

        Raises
        ------
        NothingToCompute
            If the store has interval readings but no weather.
        """
        day = live_day(self.store)
        if day is None:
            return None
        actual = _interval_readings(self.store, day, day + pd.Timedelta(days=1),
                                    "meter_id, period_start, value_canonical")
        baselines = self._current(day, actual["meter_id"])
        temp_c, source = day_temperature(self.store, baselines)
        frame = day_status(baselines, temp_c, actual)
        meta = {"day": f"{day:%Y-%m-%d}", "updated_at": utc_now(), "last_file": last_file,
                "last_file_seen_at": seen_at, "readings": int(frame["actual_kwh"].notna().sum()),
                "sites": int(frame["site_id"].nunique()), "temperature_source": source,
                "confidence": self.settings.confidence,
                "city_interval": {"lower_offset": _json_floats(baselines.city_lower_offset),
                                  "upper_offset": _json_floats(baselines.city_upper_offset)},
                "public_interval": {"lower_offset": _json_floats(baselines.public_lower_offset),
                                    "upper_offset": _json_floats(baselines.public_upper_offset)}}
        write_status(self.live_dir, frame, meta)
        self.frame = frame
        return meta
