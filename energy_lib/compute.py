"""The compute stage: baselines and savings of every meter, from the store to derived tables.

``energy compute`` reads the canonical store (readings, meters, sites, weather, participation)
and writes, atomically, the derived tables of ``data/derived/`` (see data/README.md):

* ``baselines`` and ``savings`` for two kinds of analysis:

  - ``annual``: every meter's reporting year (by default the last twelve billing months in the
    store) against the twelve months before it, weather-normalised. Bills are CalTRACK billing
    models, daily and interval data CalTRACK daily models, and interval meters also TOWT (hourly).
  - ``programme:<id>``: every participant's meters of the programme's carrier, the year after
    enrolment against the year before (CalTRACK, whole periods, the enrolment bill left out).

* ``savings_by_group``: the meters' savings summed by city, gu, ward and building type (and per
  programme), with the portfolio uncertainty.
* ``carbon_point``: the Carbon Point rule per bill meter and half-year.
* ``programme_*``: each programme against a matched comparison group, by difference in
  differences (:mod:`energy_lib.evaluation`): effects, event study, balance, savings, cost and
  the prosumer balance of PV programmes.

Everything is vectorised over meters (chunks of :attr:`ComputeSettings.chunk_meters`) except TOWT,
which fits one interval meter at a time (there are few; each fit takes well under a second).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from energy_lib import evaluation, metrics, savings, units, weather
from energy_lib.engines import engine_for
from energy_lib.baselines.caltrack import CalTRACKSettings, fit_caltrack
from energy_lib.baselines.carbon_point import MonthlyUsage, carbon_point
from energy_lib.baselines.data import billing_month, billing_periods, daily_periods, hourly_usage, window
from energy_lib.baselines.sufficiency import hourly_sufficiency, sufficiency
from energy_lib.baselines.towt import fit_towt
from energy_lib.store import Store
from energy_lib.tables import TABLES

__all__ = ["NothingToCompute", "ComputeSettings", "ComputeReport", "compute", "caltrack_analysis", "towt_analysis",
           "savings_by_group", "calibrate", "carbon_point_table", "default_reporting_start", "DERIVED_TABLES"]

DERIVED_TABLES = ("baselines", "savings", "savings_by_group", "band_calibration", "carbon_point")
BILL_RESOLUTIONS = ("billing", "monthly")
INTERVAL_RESOLUTIONS = ("hourly", "15min")
MODELLED_CARRIERS = ("electricity", "gas", "heat")
"""Carriers with a weather model; water has the Carbon Point rule only."""
CITY_CODE = "29"


class NothingToCompute(ValueError):
    """The store lacks what the compute stage needs (bills, weather); the message says what to do."""


@dataclass(frozen=True)
class ComputeSettings:
    """What ``energy compute`` computes.

    Parameters
    ----------
    reporting_start : pandas.Timestamp, optional
        First month of the annual analysis's reporting year; default
        :func:`default_reporting_start`.
    baseline_days, reporting_days : int
        Window lengths [days] (a year: CalTRACK's 365).
    station : str
        Weather station of the temperatures (ASOS 156, Gwangju).
    confidence : float
        Confidence of the savings bands.
    chunk_meters : int
        Meters computed at once. 5,000 is the fastest on the benchmark machine: bigger chunks make
        arrays of hundreds of MB whose first touch costs more than the batching saves.
    """

    reporting_start: pd.Timestamp | None = None
    baseline_days: int = 365
    reporting_days: int = 365
    station: str = "156"
    confidence: float = 0.90
    chunk_meters: int = 5_000


@dataclass(frozen=True)
class ComputeReport:
    """What a compute run wrote: rows per derived table and seconds per step."""

    reporting_start: pd.Timestamp
    rows: dict[str, int]
    seconds: dict[str, float]

    def lines(self) -> list[str]:
        out = [f"annual analysis: reporting year from {self.reporting_start:%Y-%m}"]
        out += [f"{name:>17}: {count:>10,} rows" for name, count in self.rows.items()]
        out += [f"{'total':>17}: {sum(self.seconds.values()):>10.1f} s ("
                + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()) + ")"]
        return out


def default_reporting_start(store: Store) -> pd.Timestamp:
    """The first of the twelve last whole billing months in the store: a year before the month
    after the last billing month of any bill."""
    last = store.sql("SELECT max(CASE WHEN resolution = 'billing' THEN period_end ELSE period_start END) AS m "
                     "FROM readings WHERE resolution IN ('billing', 'monthly')")["m"].iloc[0]
    if pd.isna(last):
        raise NothingToCompute("the store has no bills: ingest some (energy ingest) or build the demo (energy demo)")
    return pd.Timestamp(last).to_period("M").to_timestamp() - pd.DateOffset(months=11)


def _meter_sites(store: Store) -> pd.DataFrame:
    """meter_id → site_id, carrier, ward_code, gu_code, building_type."""
    return store.sql("""
        SELECT m.meter_id, m.site_id, m.carrier, s.ward_code, w.gu_code, s.building_type
        FROM meters m JOIN sites s USING (site_id) LEFT JOIN wards w ON w.ward_code = s.ward_code
        ORDER BY m.meter_id""").set_index("meter_id")


def _readings(store: Store, resolutions: tuple[str, ...], carriers: tuple[str, ...],
              since: pd.Timestamp | None = None) -> pd.DataFrame:
    """Readings of some resolutions and carriers, ordered by meter and time."""
    where = "resolution IN ? AND carrier IN ?" + (" AND period_end > ?" if since is not None else "")
    params = [list(resolutions), list(carriers)] + ([since] if since is not None else [])
    return store.sql(f"""SELECT meter_id, carrier, resolution, period_start, period_end, value_canonical
                         FROM readings WHERE {where} ORDER BY meter_id, period_start""", params)


def caltrack_analysis(readings: pd.DataFrame, temp_c: pd.Series, edges: pd.Series, *, interval: str, carrier: str,
                      normal_temp_c: np.ndarray, by: str = "period", baseline_days: int = 365,
                      reporting_days: int = 365, confidence: float = 0.90) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Baselines and savings of meters of one carrier and interval around each meter's edge.

    Parameters
    ----------
    readings : pandas.DataFrame
        The meters' readings (``meter_id``, ``resolution``, ``period_start``, ``period_end``,
        ``value_canonical``).
    temp_c : pandas.Series
        Daily mean temperature [°C].
    edges : pandas.Series
        Per meter id (the meters to evaluate, also those without readings), the day separating
        baseline and reporting.
    interval : str
        ``billing`` or ``daily``.
    carrier : str
        Fits cooling terms for electricity only (gas and heat: intercept and HDD models).
    normal_temp_c : numpy.ndarray
        The typical year's 365 daily temperatures [°C] for normalised savings.
    by : str
        Window selection (:func:`energy_lib.baselines.data.window`).

    Returns
    -------
    baselines, savings : pandas.DataFrame
        Rows of the derived tables (without the site columns and analysis name).
    """
    meter_ids = pd.Index(edges.index, name="meter_id")
    before = window(readings, edges, days=baseline_days, before=True, by=by)
    after = window(readings, edges, days=reporting_days, before=False, by=by)
    if interval == "billing":
        settings = CalTRACKSettings.billing(fit_cdd=carrier == "electricity")
        baseline_periods = billing_periods(before, temp_c, meter_ids=meter_ids)
        reporting_fit_periods = billing_periods(after, temp_c, meter_ids=meter_ids)
        reporting_periods = billing_periods(after, temp_c, meter_ids=meter_ids, cap_days=None)
        frequency = "monthly"
    else:
        settings = CalTRACKSettings(fit_cdd=carrier == "electricity")
        baseline_periods = daily_periods(before, temp_c, meter_ids=meter_ids)
        reporting_fit_periods = reporting_periods = daily_periods(after, temp_c, meter_ids=meter_ids)
        frequency = "daily"
    fit = fit_caltrack(baseline_periods, settings)
    checked = sufficiency(baseline_periods)
    reporting_fit = fit_caltrack(reporting_fit_periods, settings)
    metered = savings.metered_savings(fit, reporting_periods, confidence=confidence)
    normal = savings.normalised_savings(fit, reporting_fit, normal_temp_c)

    edge = edges.to_numpy(dtype="datetime64[us]")
    if by == "month":
        months = round(baseline_days / 30.4)
        start, end = edges - pd.DateOffset(months=months), edges + pd.DateOffset(months=round(reporting_days / 30.4))
    else:
        start, end = edges - pd.Timedelta(days=baseline_days), edges + pd.Timedelta(days=reporting_days)
    table = fit.table()
    baselines = table.assign(
        carrier=carrier, method=f"caltrack_{interval}", baseline_start=start.to_numpy(dtype="datetime64[us]"),
        baseline_end=edge, meets_guideline_14=metrics.meets_guideline_14(table["cvrmse_adj"], table["nmbe"], frequency),
        sufficiency=checked["status"].to_numpy(), valid_days=checked["valid_days"].to_numpy(),
        warnings=checked["warnings"].to_numpy(), unit=units.canonical_unit(carrier),
    )
    baselines["n_periods"] = baselines["n_periods"].astype(np.int64)
    result = metered.assign(
        method=f"caltrack_{interval}", carrier=carrier, reporting_start=edge,
        reporting_end=end.to_numpy(dtype="datetime64[us]"),
        normal_baseline=normal["baseline_normal"].to_numpy(), normal_reporting=normal["reporting_normal"].to_numpy(),
        normal_savings=normal["savings"].to_numpy(), normal_band=normal["band"].to_numpy(),
        unit=units.canonical_unit(carrier),
    )
    return baselines, result


def towt_analysis(readings: pd.DataFrame, hourly_temp_c: pd.Series, edges: pd.Series, *, baseline_days: int = 365,
                  reporting_days: int = 365, confidence: float = 0.90,
                  progress: Callable[[], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """TOWT baselines and savings of interval (electricity) meters: the baseline year of hours
    before each meter's edge, the reporting year after it.

    Parameters
    ----------
    readings : pandas.DataFrame
        Hourly or 15-minute readings of the meters.
    hourly_temp_c : pandas.Series
        Hourly temperature [°C] (:func:`energy_lib.weather.hourly_temperature`).
    edges : pandas.Series
        Per meter id, the first hour of the reporting year.
    """
    baselines, results = [], []
    by_meter = dict(tuple(readings.groupby("meter_id", sort=True)))
    for meter_id, edge in edges.items():  # interval meters are few; TOWT fits one meter-year each
        start, end = edge - pd.Timedelta(days=baseline_days), edge + pd.Timedelta(days=reporting_days)
        hours = hourly_usage(by_meter[meter_id]) if meter_id in by_meter else pd.Series(dtype=float)
        base = hours[(hours.index >= start) & (hours.index < edge)]
        report = hours[(hours.index >= edge) & (hours.index < end)]
        model = fit_towt(base, hourly_temp_c, meter_id=str(meter_id))
        checked = hourly_sufficiency(base, hourly_temp_c, start, edge, meter_id=meter_id)
        m = model.result.metrics
        warnings = [w for w in checked["warnings"].split(";") if w] + [w.qualified_name for w in model.result.warnings]
        baselines.append({
            "meter_id": meter_id, "carrier": "electricity", "method": "towt", "baseline_start": start,
            "baseline_end": edge, "status": model.result.status, "model_type": model.result.model_type,
            "n_periods": int(m.get("n", 0) or 0), "r_squared_adj": m.get("r_squared_adj"),
            "cvrmse_adj": m.get("cvrmse_adj"), "nmbe": m.get("nmbe"), "fsu_base_term": m.get("fsu_base_term"),
            "meets_guideline_14": bool(metrics.meets_guideline_14(m.get("cvrmse_adj", np.nan), m.get("nmbe", np.nan), "hourly")),
            "sufficiency": checked["status"], "valid_days": checked["valid_days"], "warnings": ";".join(warnings),
            "unit": "kWh",
        })
        results.append({"meter_id": meter_id, "method": "towt", "carrier": "electricity", "reporting_start": edge,
                        "reporting_end": end, **savings.towt_savings(model, report, hourly_temp_c, confidence=confidence),
                        "unit": "kWh"})
        if progress:
            progress()
    return pd.DataFrame(baselines), pd.DataFrame(results)


def calibrate(frame: pd.DataFrame, programme_sites: pd.Series) -> pd.DataFrame:
    """Calibrate the savings bands on placebo meters, in place (``band``, ``normal_band``).

    Placebo meters are the annual analysis's meters at sites in no programme: their true savings
    are zero as far as the city knows. Factors are per carrier and method
    (:func:`energy_lib.savings.band_calibration`) and apply to every analysis.

    Returns
    -------
    pandas.DataFrame
        The ``band_calibration`` table.
    """
    placebo = frame[(frame["analysis"] == "annual") & ~frame["site_id"].isin(programme_sites)]
    by = ["carrier", "method"]
    tables = []
    for quantity, band in (("savings", "fsu_band"), ("normal_savings", "normal_band")):
        table = savings.band_calibration(placebo, by, value=quantity, band=band)
        frame["band" if quantity == "savings" else band] = savings.calibrate_bands(frame, table, by, band=band)
        tables.append(table.assign(quantity=quantity))
    return pd.concat(tables, ignore_index=True)


def savings_by_group(frame: pd.DataFrame) -> pd.DataFrame:
    """The primary savings of meters summed per analysis and carrier for the city, each gu, ward
    and building type, with bands in quadrature (:func:`energy_lib.savings.aggregate`)."""
    primary = frame[frame["primary"]].assign(city=CITY_CODE)
    parts = []
    for level, column in (("city", "city"), ("gu", "gu_code"), ("ward", "ward_code"), ("building_type", "building_type")):
        keys = ["analysis", "carrier", column]
        total = savings.aggregate(primary, keys, band="band")
        extra = primary.dropna(subset=["savings", "band"]).groupby(keys, observed=True).agg(
            counterfactual=("counterfactual", "sum"), observed=("observed", "sum"),
            normal_savings=("normal_savings", "sum"),
            normal_variance=("normal_band", lambda b: float(np.nansum(np.square(b)))),
            unit=("unit", "first")).reset_index()
        merged = total.merge(extra, on=keys, how="left")
        parts.append(merged.rename(columns={column: "group"}).assign(level=level))
    out = pd.concat(parts, ignore_index=True)
    out["normal_band"] = np.sqrt(out.pop("normal_variance"))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["savings_fraction"] = out["savings"] / out["counterfactual"]
    converted = savings.in_units(out["savings"], out["carrier"])
    for name in ("kwh", "toe", "kgco2eq", "won"):
        out[f"savings_{name}"] = converted[name].to_numpy()
    out["band_kgco2eq"] = units.kgco2eq(out["band"].to_numpy(), out["carrier"])
    return out.sort_values(["analysis", "carrier", "level", "group"], kind="stable").reset_index(drop=True)


def carbon_point_table(bills: pd.DataFrame) -> pd.DataFrame:
    """The Carbon Point rule for every bill meter (``meter_id``, ``carrier``, ``resolution``,
    ``period_start``, ``period_end``, ``value_canonical``), by billing month."""
    usage = MonthlyUsage.from_long(bills["meter_id"], bills["carrier"], billing_month(bills), bills["value_canonical"])
    half_years = carbon_point(usage).half_years
    out = half_years.assign(
        carrier=half_years["carrier"].astype(str), half_year=half_years["half_year"].astype(str),
        status=half_years["status"].astype(str), reason=half_years["reason"].astype(str),
        tier=half_years["tier"].astype(np.int64))
    out["unit"] = out["carrier"].map({c: units.canonical_unit(c) for c in out["carrier"].unique()})
    return out


def _with_sites(frame: pd.DataFrame, sites: pd.DataFrame, analysis: str) -> pd.DataFrame:
    joined = frame.join(sites[["site_id", "ward_code", "gu_code", "building_type"]], on="meter_id")
    converted = savings.in_units(joined["savings"], joined["carrier"])
    for name in ("kwh", "toe", "kgco2eq", "won"):
        joined[f"savings_{name}"] = converted[name].to_numpy()
    return joined.assign(analysis=analysis)


def _chunks(meter_ids: pd.Index, size: int):
    for start in range(0, len(meter_ids), size):
        yield meter_ids[start:start + size]


def _rows_of(readings: pd.DataFrame, meters: pd.Index) -> pd.DataFrame:
    """The readings of ``meters`` (both sorted by meter id): a slice, not a scan of every row."""
    ids = readings["meter_id"].to_numpy()
    first, last = np.searchsorted(ids, [meters[0], meters[-1]], side="left")[0], \
        np.searchsorted(ids, meters[-1], side="right")
    rows = readings.iloc[first:last]
    return rows[rows["meter_id"].isin(meters).to_numpy()]


@dataclass(frozen=True)
class _CalTRACKChunk:
    """Meters of one CalTRACK analysis computed together, with their readings and window edges."""

    analysis: str
    interval: str
    carrier: str
    by: str
    readings: pd.DataFrame
    edges: pd.Series


def _caltrack_chunk(chunk: _CalTRACKChunk, *, temp_c: pd.Series, normal: np.ndarray, sites: pd.DataFrame,
                    settings: ComputeSettings) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """:func:`caltrack_analysis` of one chunk (run by an engine, here or on a cluster worker): its
    baselines and savings rows, labelled with the analysis, and its number of meters."""
    b, r = caltrack_analysis(chunk.readings, temp_c, chunk.edges, interval=chunk.interval, carrier=chunk.carrier,
                             normal_temp_c=normal, by=chunk.by, baseline_days=settings.baseline_days,
                             reporting_days=settings.reporting_days, confidence=settings.confidence)
    primary = not (chunk.interval == "daily" and chunk.by == "month")
    return (b.assign(analysis=chunk.analysis), _with_sites(r.assign(primary=primary), sites, chunk.analysis),
            len(chunk.edges))


def compute(store: Store, derived: Store, settings: ComputeSettings = ComputeSettings(), *,
            progress: bool = True, engine: str = "local", scheduler: str | None = None,
            workers: int = 2) -> ComputeReport:
    """Compute every derived table from ``store`` and replace them in ``derived`` in one commit.

    Parameters
    ----------
    engine : str
        Where the CalTRACK chunks run: ``local`` (this process) or ``dask``
        (:mod:`energy_lib.engines`); the tables are the same either way.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://HOST:PORT``); without one, ``dask`` starts a local
        cluster of ``workers`` processes.

    Returns
    -------
    ComputeReport
        Rows written per table and the time each step took.
    """
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = seconds.get(name, 0.0) + now - clock
        clock = now

    reporting_start = pd.Timestamp(settings.reporting_start or default_reporting_start(store))
    daily = weather.daily_weather(store, settings.station)
    if daily.empty:
        raise NothingToCompute(f"the store has no weather for station {settings.station}: ingest the station's "
                         "daily temperatures (energy ingest) before computing baselines")
    temp_c = pd.Series(daily["temp_mean_c"].to_numpy(), index=pd.DatetimeIndex(daily["date"]))
    temp_c = temp_c.asfreq("D")
    normal = weather.normal_year(temp_c).to_numpy()
    sites = _meter_sites(store)
    since = reporting_start - pd.Timedelta(days=settings.baseline_days + 1)
    lap("read")

    bills = _readings(store, BILL_RESOLUTIONS, ("electricity", "gas", "water", "heat"))
    carbon = carbon_point_table(bills)
    lap("carbon_point")

    baselines, results = [], []
    participation = store.sql("""SELECT p.programme_id, p.site_id, p.enrolled_on, g.carrier
                                 FROM participation p JOIN programmes g USING (programme_id)""")
    interval_readings = _readings(store, INTERVAL_RESOLUTIONS, ("electricity",), since)
    interval_meters = pd.Index(interval_readings["meter_id"].unique())
    jobs = _caltrack_jobs(bills[bills["carrier"].isin(MODELLED_CARRIERS)], interval_readings, participation, sites,
                          reporting_start)
    bar = tqdm(total=sum(len(job[3]) for job in jobs) + len(interval_meters), desc="baselines", unit="meter",
               disable=not progress)
    # a generator: the local engine slices one chunk's readings at a time
    chunks = (_CalTRACKChunk(analysis, interval, carrier, by, _rows_of(readings, chunk), edges[chunk])
              for analysis, interval, carrier, edges, readings, by in jobs  # a few jobs: analysis × carrier × interval
              for chunk in _chunks(edges.index, settings.chunk_meters))
    with engine_for(engine, scheduler=scheduler, workers=workers) as runner:
        for b, r, meters in runner.map(_caltrack_chunk, chunks, temp_c=temp_c, normal=normal, sites=sites,
                                       settings=settings):
            baselines.append(b)
            results.append(r)
            bar.update(meters)
    lap("caltrack")
    if len(interval_meters):
        hourly_temp = weather.hourly_temperature(daily)
        edges = pd.Series(reporting_start, index=interval_meters)
        b, r = towt_analysis(interval_readings, hourly_temp, edges, baseline_days=settings.baseline_days,
                             reporting_days=settings.reporting_days, confidence=settings.confidence,
                             progress=lambda: bar.update(1))
        baselines.append(b.assign(analysis="annual"))
        results.append(_with_sites(r.assign(primary=True), sites, "annual"))
    bar.close()
    lap("towt")

    baseline_table = pd.concat(baselines, ignore_index=True).sort_values(["analysis", "meter_id", "method"], kind="stable")
    savings_table = pd.concat(results, ignore_index=True).sort_values(["analysis", "meter_id", "method"], kind="stable")
    calibration = calibrate(savings_table, participation["site_id"])
    groups = savings_by_group(savings_table)
    lap("aggregate")
    evaluations = evaluation.evaluate_all(store)
    lap("evaluation")
    with derived.writer() as writer:
        writer.replace("baselines", baseline_table)
        writer.replace("savings", savings_table)
        writer.replace("savings_by_group", groups)
        writer.replace("band_calibration", calibration)
        writer.replace("carbon_point", carbon)
        for name, frame in evaluations.items():
            writer.replace(name, frame if len(frame) else TABLES[name].empty())
    lap("write")
    rows = {"baselines": len(baseline_table), "savings": len(savings_table), "savings_by_group": len(groups),
            "band_calibration": len(calibration), "carbon_point": len(carbon),
            **{name: len(frame) for name, frame in evaluations.items()}}
    return ComputeReport(reporting_start, rows, seconds)


def _caltrack_jobs(bills: pd.DataFrame, interval: pd.DataFrame, participation: pd.DataFrame, sites: pd.DataFrame,
                   reporting_start: pd.Timestamp) -> list[tuple]:
    """(analysis, interval, carrier, edges, readings, window rule) for every CalTRACK run: the
    annual analysis of bill meters (billing model) and interval meters (daily model), and each
    programme's participants."""
    jobs = []
    for carrier, rows in bills.groupby("carrier", sort=True):
        meters = pd.Index(rows["meter_id"].unique())
        jobs.append(("annual", "billing", carrier, pd.Series(reporting_start, index=meters), rows, "month"))
    for carrier, rows in interval.groupby("carrier", sort=True):
        meters = pd.Index(rows["meter_id"].unique())
        jobs.append(("annual", "daily", carrier, pd.Series(reporting_start, index=meters), rows, "month"))
    if participation.empty:
        return jobs
    meters_of_site = sites.reset_index()[["meter_id", "site_id", "carrier"]]
    enrolled = participation.merge(meters_of_site, on="site_id", suffixes=("_programme", ""))
    targeted = enrolled["carrier_programme"].isna() | (enrolled["carrier_programme"] == enrolled["carrier"])
    enrolled = enrolled[targeted & enrolled["carrier"].isin(MODELLED_CARRIERS)]
    for (programme, carrier), rows in enrolled.groupby(["programme_id", "carrier"], sort=True):
        edges = rows.drop_duplicates("meter_id").set_index("meter_id")["enrolled_on"].sort_index()
        readings = bills[bills["meter_id"].isin(edges.index)]
        if len(readings):
            jobs.append((f"programme:{programme}", "billing", carrier, edges, readings, "period"))
    return jobs
