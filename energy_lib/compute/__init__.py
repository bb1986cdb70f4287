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
  programme), with the portfolio uncertainty. Meters whose baseline fails CalTRACK data
  sufficiency, and in the annual analysis meters whose programme began in the baseline year, are
  counted but not summed (:func:`mark_totals`).
* ``warnings``: one row per data sufficiency or model warning of a baseline, by code and severity
  (:func:`warnings_table`).
* ``carbon_point``: the Carbon Point rule per bill meter and half-year.
* ``programme_*``: each programme against a matched comparison group, by difference in
  differences (:mod:`energy_lib.evaluation`): effects, event study, balance, savings, cost and
  the prosumer balance of PV programmes.

The city is computed by bucket of meters (:mod:`energy_lib.compute.partitions`): the readings are first
laid out by a hash of the meter id, then each bucket's Carbon Point, CalTRACK and TOWT runs on its
own (in this process, in worker processes or on a Dask cluster: :mod:`energy_lib.compute.engines`), so
memory is bounded by a bucket. Within a bucket everything is vectorised over meters (chunks of
:attr:`ComputeSettings.chunk_meters`) except TOWT, which fits one interval meter at a time (each fit
takes well under a second). The city's sums, the band calibration and the programme evaluations
follow on the gathered per-meter rows.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from energy_lib import evaluation, savings
from energy_lib.baselines import metrics
from energy_lib.baselines.caltrack import CalTRACKSettings, fit_caltrack
from energy_lib.baselines.carbon_point import MonthlyUsage, carbon_point
from energy_lib.baselines.data import billing_month, billing_periods, daily_periods, hourly_usage, window
from energy_lib.baselines.sufficiency import hourly_sufficiency, sufficiency
from energy_lib.baselines.towt import fit_towt
from energy_lib.compute.engines import engine_for
from energy_lib.compute.partitions import Partitions, write_partitions
from energy_lib.core import units, weather
from energy_lib.core.scratch import scratch_folder
from energy_lib.core.status import MESSAGES, SEVERITY, Sufficiency, WarningCode
from energy_lib.core.tables import TABLES
from energy_lib.core.vectors import arrow_strings, is_in, run_starts
from energy_lib.store import NothingToCompute, Store, Writer

__all__ = ["ComputeSettings", "ComputeReport", "compute", "caltrack_analysis", "towt_analysis",
           "savings_by_group", "calibrate", "mark_totals", "carbon_point_table", "default_reporting_start",
           "warnings_table",
           "DERIVED_TABLES"]

DERIVED_TABLES = ("baselines", "warnings", "savings", "savings_by_group", "band_calibration", "carbon_point")
BILL_RESOLUTIONS = ("billing", "monthly")
MODELLED_CARRIERS = ("electricity", "gas", "heat")
"""Carriers with a weather model; water has the Carbon Point rule only."""
CITY_CODE = "29"
AREAS = {"ward": "ward_code", "gu": "gu_code"}
"""Areas whose meters may share an error in sums (:func:`energy_lib.savings.aggregate_calibration`)."""
SHARED = {"se_common": None, "se_ward": "ward_code", "se_gu": "gu_code"}
"""The shared parts of a meter's error in sums and the areas sharing them."""
SIZE = "counterfactual"
"""A meter's size for the scale of its error in sums: its counterfactual use over the reporting
period [its unit] (:func:`energy_lib.savings.size_exponent`)."""


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
    partition_rows : int
        About how many readings a bucket of meters holds (:mod:`energy_lib.compute.partitions`): a
        bucket is the unit of work of an engine and bounds a worker's memory.
    """

    reporting_start: pd.Timestamp | None = None
    baseline_days: int = 365
    reporting_days: int = 365
    station: str = "156"
    confidence: float = 0.90
    chunk_meters: int = 5_000
    partition_rows: int = 2_000_000


@dataclass(frozen=True)
class ComputeReport:
    """What a compute run wrote: rows per derived table, wall seconds per step, and the work
    inside the buckets (seconds summed over buckets, which run in parallel on several workers)."""

    reporting_start: pd.Timestamp
    rows: dict[str, int]
    seconds: dict[str, float]
    bucket_seconds: dict[str, float] = field(default_factory=dict)
    buckets: int = 0
    readings: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    """Rows of the ``warnings`` table per code, most frequent first."""
    peak_gib: dict[str, float] = field(default_factory=dict)
    """[GiB] this process's peak resident memory so far at the end of each step (its own, not
    its workers'): the step at which the peak grew."""

    def lines(self) -> list[str]:
        out = [f"annual analysis: reporting year from {self.reporting_start:%Y-%m}"]
        out += [f"{name:>17}: {count:>10,} rows" for name, count in self.rows.items()]
        out += [f"{'total':>17}: {sum(self.seconds.values()):>10.1f} s ("
                + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()) + ")"]
        if self.buckets:
            out += [f"{'buckets':>17}: {self.buckets:>10,} of "
                    + ", ".join(f"{n:,} {kind}" for kind, n in self.readings.items()) + " readings; inside them "
                    + ", ".join(f"{k} {v:.1f} s" for k, v in self.bucket_seconds.items())]
        if self.peak_gib:  # where the memory goes: the step at which the peak grew
            out += [f"{'peak memory':>17}: " + ", ".join(f"{k} {v:.2f} GiB" for k, v in self.peak_gib.items())]
        if self.warnings:  # rows of the warnings table per code
            out += [f"{'warnings':>17}: " + ", ".join(f"{code} {n:,}" for code, n in self.warnings.items())]
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
        sufficiency=checked["status"].to_numpy(), unit=units.canonical_unit(carrier),
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
        Hourly temperature [°C] (:func:`energy_lib.core.weather.hourly_temperature`).
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
        warnings = [w for w in checked["warnings"].split(";") if w] + [f"{fit_towt.__module__}.{w.code}"
                                                                       for w in model.result.warnings]
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
                        "sufficiency": checked["status"], "unit": "kWh"})
        if progress:
            progress()
    return pd.DataFrame(baselines), pd.DataFrame(results)


def warnings_table(baselines: pd.DataFrame) -> pd.DataFrame:
    """The ``warnings`` table: one row per warning named in the baselines' ``warnings`` column.

    Parameters
    ----------
    baselines : pandas.DataFrame
        Rows of the ``baselines`` table (``analysis``, ``meter_id``, ``method``, ``warnings``: qualified
        names, ``;``-separated).

    Returns
    -------
    pandas.DataFrame
        ``analysis``, ``meter_id``, ``method``, ``code``, ``severity``, ``message``; a code named
        twice for one baseline (sufficiency and TOWT both find no data) gives one row.

    Raises
    ------
    ValueError
        If a name's code is not a :class:`~energy_lib.core.status.WarningCode` (a bug: every
        warning the library emits has one).
    """
    keys = ["analysis", "meter_id", "method"]
    names = baselines[keys].assign(name=baselines["warnings"].fillna("").str.split(";")).explode("name")
    names = names[names["name"].fillna("") != ""]
    codes = names["name"].str.rsplit(".", n=1).str[-1]
    unknown = sorted(set(codes) - set(WarningCode))
    if unknown:
        raise ValueError(f"warnings without a WarningCode: {', '.join(unknown)}")
    table = names[keys].assign(code=codes).drop_duplicates(keys + ["code"], ignore_index=True)
    by_code = {str(code): code for code in WarningCode}
    table["severity"] = table["code"].map({k: str(SEVERITY[c]) for k, c in by_code.items()})
    table["message"] = table["code"].map({k: MESSAGES[c] for k, c in by_code.items()})
    return table.sort_values(keys + ["code"], kind="stable", ignore_index=True)


def calibrate(frame: pd.DataFrame, programme_sites: pd.Series) -> pd.DataFrame:
    """Calibrate the savings bands on placebo meters, in place (``band``, ``normal_band``, ``se``,
    ``se_common``, ``se_ward``, ``se_gu``).

    Placebo meters are the annual analysis's meters at sites in no programme: their true savings
    are zero as far as the city knows. Factors are per carrier and method and apply to every
    analysis: a meter's ``band`` is its floored Guideline 14 band
    (:func:`energy_lib.savings.floored_band`) widened so that 90% of placebo meters fall inside
    (:func:`energy_lib.savings.band_calibration`); its ``se`` and the parts of it shared by every
    meter, by its ward and by its gu (``se_common``, ``se_ward``, ``se_gu``), what its error adds
    to sums, come from sums of the placebo meters whose baseline passes data sufficiency
    (:func:`energy_lib.savings.aggregate_calibration`).

    Returns
    -------
    pandas.DataFrame
        The ``band_calibration`` table.
    """
    frame["floored_band"] = savings.floored_band(frame["fsu_band"], frame["floor_band"])
    by = ["carrier", "method"]
    # only the columns the calibrations read: a city's rows are copied once, not with every column
    columns = ["meter_id", *by, "savings", "floored_band", "normal_savings", "normal_band", "sufficiency", SIZE,
               *AREAS.values()]
    placebo = frame.loc[(frame["analysis"] == "annual") & ~frame["site_id"].isin(programme_sites), columns]
    tables = []
    for quantity, band in (("savings", "floored_band"), ("normal_savings", "normal_band")):
        table = savings.band_calibration(placebo, by, value=quantity, band=band)
        frame["band" if quantity == "savings" else band] = savings.calibrate_bands(frame, table, by, band=band)
        tables.append(table.assign(quantity=quantity))
    sums = savings.aggregate_calibration(placebo[placebo["sufficiency"] == Sufficiency.PASS], by, band="floored_band",
                                         areas=AREAS, size=SIZE)
    errors = savings.aggregate_errors(frame, sums, by, band="floored_band", areas=tuple(AREAS), size=SIZE)
    for column in errors.columns:
        frame[column] = errors[column].to_numpy()
    names = {"meters": "sum_meters", "sums": "sums", "scale": "sum_scale", "correlation": "sum_correlation",
             "correlation_ward": "sum_correlation_ward", "correlation_gu": "sum_correlation_gu",
             "coverage_factor": "sum_coverage_factor", "size_exponent": "sum_size_exponent",
             "size_reference": "sum_size_reference"}
    tables[0] = tables[0].merge(sums[by + list(names)].rename(columns=names), on=by, how="left")
    del frame["floored_band"]
    return pd.concat(tables, ignore_index=True)


def mark_totals(frame: pd.DataFrame, enrolled: pd.DataFrame, reporting_start: pd.Timestamp, *,
                baseline_days: int = 365) -> pd.DataFrame:
    """``frame`` (savings rows) with ``programme_in_baseline`` and ``in_totals``.

    * ``programme_in_baseline``: a meter of the annual analysis enrolled in a programme of its
      carrier (:func:`_enrolled_meters`) during the baseline year (the ``round(baseline_days /
      30.4)`` billing months before ``reporting_start``): its baseline mixes use before and after
      the programme, so its annual savings are neither the programme's nor the year's.
    * ``in_totals``: the row is summed in ``savings_by_group`` (primary method, savings and a
      band (``fsu_band``), a baseline passing CalTRACK data sufficiency, not
      ``programme_in_baseline``). A baseline failing sufficiency (92 days of data, three bills)
      is not a baseline to add up: its meter is counted, not summed (CalTRACK 2.0, 2.2).
    """
    first = reporting_start - pd.DateOffset(months=round(baseline_days / 30.4))
    during = enrolled[(enrolled["enrolled_on"] >= first) & (enrolled["enrolled_on"] < reporting_start)]
    annual = frame["analysis"] == "annual"
    out = frame.assign(programme_in_baseline=annual & frame["meter_id"].isin(during["meter_id"]))
    out["in_totals"] = out["primary"] & out[["savings", "fsu_band"]].notna().all(axis=1) \
        & (out["sufficiency"] == Sufficiency.PASS) & ~out["programme_in_baseline"]
    return out


def savings_by_group(frame: pd.DataFrame) -> pd.DataFrame:
    """The primary savings of meters summed per analysis and carrier for the city, each gu, ward
    and building type, with bands from the meters' calibrated errors for sums
    (:func:`energy_lib.savings.aggregate`, ``se`` and its shared parts). Meters failing data
    sufficiency and meters whose programme began in the baseline year are counted
    (``meters_insufficient``, ``meters_programme_in_baseline``), not summed."""
    columns = ["analysis", "carrier", "gu_code", "ward_code", "building_type", "savings", "band", "se", *SHARED,
               "in_totals", "sufficiency", "programme_in_baseline", "counterfactual", "observed", "normal_savings",
               "normal_band", "unit"]  # only the columns summed or grouped by: copies of fewer strings
    primary = frame.loc[frame["primary"], columns].assign(city=CITY_CODE,
                                                           insufficient=lambda f: f["sufficiency"] != Sufficiency.PASS)
    summed = primary[primary["in_totals"]]
    parts = []
    for level, column in (("city", "city"), ("gu", "gu_code"), ("ward", "ward_code"), ("building_type", "building_type")):
        keys = ["analysis", "carrier", column]
        total = savings.aggregate(primary, keys, band="band", se="se", shared=SHARED,
                                  left_out=("insufficient", "programme_in_baseline"))
        extra = summed.groupby(keys, observed=True).agg(
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
    out = half_years.assign(**{name: arrow_strings(half_years[name]).to_pandas().array
                                for name in ("carrier", "half_year", "status", "reason")},
                             tier=half_years["tier"].astype(np.int64))
    out["unit"] = out["carrier"].map({c: units.canonical_unit(c) for c in out["carrier"].unique()})
    return out


_CODED = ("carrier", "status", "reason", "unit")
"""Carbon Point columns of a few words each (enumerations), kept as codes from the buckets until
written: as text they are 0.8 GiB of the full city's 2.3 GiB table, held while the city's sums run."""


def _coded(table: pa.Table) -> pa.Table:
    """``table`` with the :data:`_CODED` columns dictionary-encoded (int8 codes; the same values)."""
    for name in _CODED:
        coded = pc.dictionary_encode(table[name]).cast(pa.dictionary(pa.int8(), pa.string()))
        table = table.set_column(table.schema.get_field_index(name), name, coded)
    return table


def _with_sites(frame: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Savings rows with their meter's site, ward, gu and building type, and in other units."""
    # a look-up by the meter index (reindex), not a join: a third of the time on the full city
    joined = pd.concat([frame, sites[["site_id", "ward_code", "gu_code", "building_type"]].reindex(
        frame["meter_id"].to_numpy()).set_axis(frame.index)], axis=1)
    converted = savings.in_units(joined["savings"], joined["carrier"])
    for name in ("kwh", "toe", "kgco2eq", "won"):
        joined[f"savings_{name}"] = converted[name].to_numpy()
    return joined


def _chunks(meter_ids: pd.Index, size: int):
    for start in range(0, len(meter_ids), size):
        yield meter_ids[start:start + size]


def _meter_rows(readings: pd.DataFrame) -> pd.DataFrame:
    """Per meter of ``readings`` (grouped by meter), in their order: its first row and the row
    after its last (``start``, ``stop``)."""
    ids = arrow_strings(readings["meter_id"])
    start = run_starts(ids)
    return pd.DataFrame({"start": start, "stop": np.append(start[1:], len(ids))},
                        index=pd.Index(ids.take(start).to_pandas(), dtype="str"))


def _rows_of(readings: pd.DataFrame, rows: pd.DataFrame, meters: pd.Index) -> pd.DataFrame:
    """The readings of ``meters``, consecutive meters of ``readings`` (:func:`_meter_rows`): a
    slice, not a scan of every row."""
    return readings.iloc[rows.at[meters[0], "start"]:rows.at[meters[-1], "stop"]]


def _peak_rss_gib() -> float:
    """[GiB] this process's peak resident memory so far, from getrusage(2) (KiB on Linux, bytes on
    macOS). Not the workers': a spawned worker's own peak counts its parent's pages copied by the
    fork before its exec."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**30 if sys.platform == "darwin" else peak / 2**20


class _Laps:
    """Wall seconds per named step: ``lap(name)`` adds the time since the previous lap to ``name``
    and notes the process's peak memory so far."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_gib: dict[str, float] = {}
        self._clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._clock
        self.peak_gib[name] = _peak_rss_gib()
        self._clock = now


@dataclass(frozen=True)
class _PartitionResult:
    """What one bucket of meters gives: its derived rows (the rows of the ``warnings`` table of its
    baselines too), its meters' monthly use for the programme evaluations, and seconds per step."""

    baselines: pd.DataFrame
    savings: pd.DataFrame
    warnings: pd.DataFrame
    carbon_point: pa.Table
    monthly_use: evaluation.MonthlyUse
    seconds: dict[str, float]


def _compute_partition(bucket: int, *, partitions: Partitions, temp_c: pd.Series, normal: np.ndarray,
                       hourly_temp_c: pd.Series | None, reporting_start: pd.Timestamp, enrolled: pd.DataFrame,
                       settings: ComputeSettings) -> _PartitionResult:
    """Carbon Point, CalTRACK and TOWT for the meters of one bucket, from the bucket's own readings
    (run by an engine, here or on a cluster worker). Savings rows are without their site columns."""
    lap = _Laps()
    readings = partitions.read(bucket, "bills")
    interval = partitions.read(bucket, "interval")
    is_bill = readings["resolution"].isin(BILL_RESOLUTIONS).to_numpy()
    bills = readings if is_bill.all() else readings[is_bill]  # daily readings count only in monthly use
    lap("read")
    carbon = _coded(TABLES["carbon_point"].conform(carbon_point_table(bills) if len(bills) else TABLES["carbon_point"].empty()))
    carbon = carbon.take(pc.sort_indices(carbon, _CARBON_ORDER))  # the city's table merges the buckets' runs
    lap("carbon_point")
    use = evaluation.MonthlyUse.of_readings(readings, evaluation.ENERGY_CARRIERS)
    lap("monthly_use")
    baselines, results = [], []
    for analysis, kind, carrier, edges, readings, rows, by in _caltrack_jobs(bills, interval, enrolled, reporting_start):
        for chunk in _chunks(edges.index, settings.chunk_meters):  # consecutive meters of the readings
            b, r = caltrack_analysis(_rows_of(readings, rows, chunk), temp_c, edges[chunk], interval=kind, carrier=carrier,
                                     normal_temp_c=normal, by=by, baseline_days=settings.baseline_days,
                                     reporting_days=settings.reporting_days, confidence=settings.confidence)
            primary = not (kind == "daily" and by == "month")  # interval meters: TOWT is the primary model
            baselines.append(b.assign(analysis=analysis))
            results.append(r.assign(primary=primary, analysis=analysis))
    lap("caltrack")
    interval_meters = pd.Index(interval["meter_id"].unique())
    if len(interval_meters):
        b, r = towt_analysis(interval, hourly_temp_c, pd.Series(reporting_start, index=interval_meters),
                             baseline_days=settings.baseline_days, reporting_days=settings.reporting_days,
                             confidence=settings.confidence)
        baselines.append(b.assign(analysis="annual"))
        results.append(r.assign(primary=True, analysis="annual"))
    lap("towt")
    baselines = pd.concat(baselines, ignore_index=True) if baselines else pd.DataFrame()
    # a baseline's warnings are its own: each bucket lists them in parallel, the city's table is
    # the buckets' lists sorted (warnings_table of every baseline at once gives the same rows)
    warned = warnings_table(baselines) if len(baselines) else None
    lap("warnings")
    return _PartitionResult(baselines, pd.concat(results, ignore_index=True) if results else pd.DataFrame(),
                            warned, carbon, use, lap.seconds)


def compute(store: Store, derived: Store, settings: ComputeSettings = ComputeSettings(), *,
            progress: bool = True, engine: str = "local", scheduler: str | None = None,
            workers: int = 1) -> ComputeReport:
    """Compute every derived table from ``store`` and replace them in ``derived`` in one commit.

    The readings are first laid out by bucket of meter (:mod:`energy_lib.compute.partitions`, in a
    hidden folder of ``derived`` removed afterwards); each bucket is then computed on its own, so
    memory is bounded by a bucket whatever the size of the city.

    Parameters
    ----------
    engine : str
        Where the buckets are computed: ``local`` (this machine) or ``dask``
        (:mod:`energy_lib.compute.engines`); the tables are the same either way.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://HOST:PORT``); without one, ``dask`` starts a local
        cluster of ``workers`` processes. The cluster's workers must see the store's and
        ``derived``'s paths.
    workers : int
        Processes computing buckets at once: on this machine (``local``; 1 computes in this
        process) or in the local Dask cluster.

    Returns
    -------
    ComputeReport
        Rows written per table, the time each step took and the work inside the buckets.
    """
    lap = _Laps()
    reporting_start = pd.Timestamp(settings.reporting_start or default_reporting_start(store))
    daily = weather.daily_weather(store, settings.station)
    if daily.empty:
        raise NothingToCompute(f"the store has no weather for station {settings.station}: ingest the station's "
                         "daily temperatures (energy ingest) before computing baselines")
    temp_c = pd.Series(daily["temp_mean_c"].to_numpy(), index=pd.DatetimeIndex(daily["date"]))
    temp_c = temp_c.asfreq("D")
    normal = weather.normal_year(temp_c).to_numpy()
    sites = _meter_sites(store)
    participation = store.sql("""SELECT p.programme_id, p.site_id, p.enrolled_on, g.carrier
                                 FROM participation p JOIN programmes g USING (programme_id)""")
    enrolled = _enrolled_meters(participation, sites)
    lap("read")

    with scratch_folder(derived.root, "partitions") as scratch:  # a killed run's is removed by the next
        parts = write_partitions(store, scratch, since=reporting_start - pd.Timedelta(days=settings.baseline_days + 1),
                                 partition_rows=settings.partition_rows, min_buckets=workers)
        lap("partition")
        baselines, results, warned, carbons, uses, inside = [], [], [], [], [], {}
        bar = tqdm(total=parts.buckets, desc="baselines", unit="bucket", disable=not progress)
        with engine_for(engine, scheduler=scheduler, workers=workers) as runner:
            hourly_temp_c = weather.hourly_temperature(daily) if parts.rows["interval"] else None
            for result in runner.map(_compute_partition, range(parts.buckets), partitions=parts, temp_c=temp_c,
                                     normal=normal, hourly_temp_c=hourly_temp_c, reporting_start=reporting_start, enrolled=enrolled,
                                     settings=settings):
                baselines.append(result.baselines)
                results.append(result.savings)
                warned.append(result.warnings)
                carbons.append(result.carbon_point)
                uses.append(result.monthly_use)
                for name, value in result.seconds.items():
                    inside[name] = inside.get(name, 0.0) + value
                bar.update(1)
                bar.set_postfix(meters=f"{sum(len(b) for b in baselines):,}")
        bar.close()
    lap("buckets")

    def evaluate() -> dict[str, pd.DataFrame]:
        use = evaluation.MonthlyUse.combine(uses, evaluation.meters_of(store, evaluation.ENERGY_CARRIERS))
        return evaluation.evaluate_all(store, use=use, threads=workers)

    def sort_carbon(writer: Writer) -> int:
        """Write the buckets' Carbon Point rows by meter and half-year; the number of rows.

        Each bucket's rows come sorted: the city's order merges them (:func:`_merged_runs`), then
        Arrow takes a column at a time (each bucket's column let go once taken, so the table is
        not held twice; Arrow takes without the GIL), and the slices written have their
        :data:`_CODED` columns back to text one slice at a time."""
        table = pa.concat_tables(carbons)
        carbons.clear()
        order = _merged_runs(table["meter_id"])
        schema, columns = table.schema, table.columns
        del table
        for i in range(len(columns)):
            columns[i] = columns[i].take(order)
        table = pa.Table.from_arrays(columns, schema=schema)
        del columns
        text = TABLES["carbon_point"].arrow_schema()
        writer.rewrite("carbon_point", (table.slice(start, _CARBON_SLICE).cast(text)
                                        for start in range(0, table.num_rows, _CARBON_SLICE)))
        return table.num_rows

    # every derived table is written as soon as it is final and let go (the commit at the end
    # makes them visible together); the programme evaluations (one thread per worker) and the
    # Carbon Point table overlap the city's sums in this thread
    rows: dict[str, int] = dict.fromkeys(_ORDER, 0)  # the report lists the tables in this order
    with derived.writer() as writer, ThreadPoolExecutor(2) as background:
        evaluating = background.submit(evaluate)
        sorting = background.submit(sort_carbon, writer)
        # each list is let go before the sort copies its concatenation: two copies held, not three
        baseline_table = pd.concat(baselines, ignore_index=True)
        baselines.clear()
        baseline_table = baseline_table.sort_values(["analysis", "meter_id", "method"], kind="stable", ignore_index=True)
        warned = [w for w in warned if w is not None]
        warning_table = (pd.concat(warned, ignore_index=True).sort_values(
            ["analysis", "meter_id", "method", "code"], kind="stable", ignore_index=True) if warned
            else warnings_table(baseline_table))
        del warned
        _write(writer, rows, "baselines", baseline_table)
        _write(writer, rows, "warnings", warning_table)
        del baseline_table
        savings_table = pd.concat(results, ignore_index=True)
        results.clear()
        savings_table = _with_sites(savings_table, sites).sort_values(["analysis", "meter_id", "method"], kind="stable",
                                                                      ignore_index=True)
        savings_table = mark_totals(savings_table, enrolled, reporting_start, baseline_days=settings.baseline_days)
        _write(writer, rows, "band_calibration", calibrate(savings_table, participation["site_id"]))
        _write(writer, rows, "savings_by_group", savings_by_group(savings_table))
        _write(writer, rows, "savings", savings_table)
        del savings_table
        rows["carbon_point"] = sorting.result()
        lap("aggregate")
        for name, frame in evaluating.result().items():
            _write(writer, rows, name, frame if len(frame) else TABLES[name].empty())
        lap("evaluation")
    lap("write")
    counts = warning_table["code"].value_counts(sort=True)
    return ComputeReport(reporting_start, rows, lap.seconds, inside, parts.buckets, dict(parts.rows),
                         {str(code): int(n) for code, n in counts.items()}, lap.peak_gib)


_CARBON_SLICE = 2_000_000
"""Carbon Point rows turned back to text and written at a time (about 0.1 GiB of text)."""

_CARBON_ORDER = [("meter_id", "ascending"), ("half_year", "ascending")]
"""The Carbon Point table's order: each bucket sorts its rows so, the city merges the runs."""

_ORDER = ("baselines", "warnings", "savings", "savings_by_group", "band_calibration", "carbon_point")


def _merged_runs(ids: pa.ChunkedArray) -> pa.Array:
    """Indices that sort rows by ``ids`` when each chunk is sorted and an id's rows are in one
    chunk (the buckets' Carbon Point rows: a meter is in one bucket). Only the distinct ids are
    sorted, a tenth of the rows, not every row; an id's rows keep their order in the chunk."""
    starts, distinct, offset = [], [], 0
    for chunk in ids.chunks:
        first = run_starts(chunk)
        starts.append(first + offset)
        distinct.append(chunk.take(pa.array(first)))
        offset += len(chunk)
    start = np.concatenate([np.zeros(0, np.int64), *starts])
    length = np.diff(np.append(start, offset))
    rank = pc.sort_indices(pa.chunked_array(distinct, ids.type)).to_numpy()
    start, length = start[rank], length[rank]
    # each run's rows in turn: its start, then one more per row
    return pa.array(np.repeat(start - np.cumsum(length) + length, length) + np.arange(offset))


def _write(writer: Writer, rows: dict[str, int], name: str, frame: pd.DataFrame) -> None:
    """Write derived table ``name`` now (committed with the others) and count its rows."""
    writer.replace(name, frame)
    rows[name] = len(frame)


def _enrolled_meters(participation: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Each programme's participating meters of its carrier (all modelled carriers for a programme
    without one): ``programme_id``, ``meter_id``, ``carrier``, ``enrolled_on``."""
    meters_of_site = sites.reset_index()[["meter_id", "site_id", "carrier"]]
    enrolled = participation.merge(meters_of_site, on="site_id", suffixes=("_programme", ""))
    targeted = enrolled["carrier_programme"].isna() | (enrolled["carrier_programme"] == enrolled["carrier"])
    enrolled = enrolled[targeted & enrolled["carrier"].isin(MODELLED_CARRIERS)]
    return enrolled[["programme_id", "meter_id", "carrier", "enrolled_on"]].sort_values(
        ["programme_id", "meter_id"], ignore_index=True)


def _caltrack_jobs(bills: pd.DataFrame, interval: pd.DataFrame, enrolled: pd.DataFrame,
                   reporting_start: pd.Timestamp) -> list[tuple]:
    """(analysis, interval, carrier, edges, readings, meter rows, window rule) for every CalTRACK
    run over some meters' readings (grouped by meter; the meter rows are :func:`_meter_rows`'s):
    the annual analysis of bill meters of the modelled carriers (billing model) and interval
    meters (daily model), and each programme's participants among the meters
    (:func:`_enrolled_meters`). The edges follow the readings' order of meters.

    A carrier's bills are a slice of the bucket's (:func:`_rows_where`), with only the columns a
    baseline reads: copies of a bucket's text columns are much of its cost."""
    jobs = []
    codes, carriers = pd.factorize(bills["carrier"], sort=True)
    columns = ["meter_id", "resolution", "period_start", "period_end", "value_canonical"]
    by_carrier = {carrier: _rows_where(bills[columns], codes == code)
                  for code, carrier in enumerate(carriers) if carrier in MODELLED_CARRIERS}
    rows_of = {carrier: _meter_rows(readings) for carrier, readings in by_carrier.items()}
    for carrier, readings in by_carrier.items():
        rows = rows_of[carrier]
        jobs.append(("annual", "billing", carrier, pd.Series(reporting_start, index=rows.index), readings, rows, "month"))
    for carrier, readings in interval.groupby("carrier", sort=True, observed=True):
        rows = _meter_rows(readings)
        jobs.append(("annual", "daily", carrier, pd.Series(reporting_start, index=rows.index), readings, rows, "month"))
    # a participant's meter is of its programme's carrier (_enrolled_meters): its bills are that carrier's
    present = enrolled[enrolled["carrier"].isin(list(by_carrier))]
    for (programme, carrier), members in present.groupby(["programme_id", "carrier"], sort=True):
        members = members[is_in(members["meter_id"], rows_of[carrier].index)]
        if members.empty:
            continue
        edges = members.drop_duplicates("meter_id").set_index("meter_id")["enrolled_on"]
        carrier_bills = by_carrier[carrier]
        readings = carrier_bills[is_in(carrier_bills["meter_id"], edges.index)]
        rows = _meter_rows(readings)
        edges = edges.reindex(rows.index)  # in the readings' order of meters
        jobs.append((f"programme:{programme}", "billing", carrier, edges, readings, rows, "period"))
    return jobs


def _rows_where(frame: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """The rows of ``frame`` where ``mask``: a slice, not a copy, when they are consecutive (a
    bucket's readings are in carrier order, :meth:`Partitions.read`)."""
    rows = np.flatnonzero(mask)
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return frame.iloc[rows[0]:rows[-1] + 1]
    return frame.take(rows)
