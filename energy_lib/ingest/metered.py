"""Storing metered records: consumption (table ``readings``) and PV generation (``generation``).

Every format that carries meter data (bills, building energy, district heat, interval data, PV)
converts its file to records with these fields, and this module does the rest, the same way for
all of them:

========================  ===================================================================
``source_row``            row of the file (``source_column`` too, for wide files)
``provider``              utility (``kepco``, ``haeyang``, …); with ``carrier`` and ``account``
``carrier``               it makes the pseudonymous meter id
``account``               customer number, or another key of the meter in the provider's data
``site_key``              optional: key of the site of a meter in no register; by default the
                          meter's own (``provider:carrier:account``); a building's meters share it
``resolution``            ``billing``, ``monthly``, ``daily``, ``hourly``, ``15min``
``period_start/_end``     half-open period, KST
``value``, ``unit``       as the provider reports them
``quality``               ``actual`` or ``estimated``
``ward_code`` …           where an unregistered site is: ``ward_code``, ``placement``,
                          ``placement_note``, ``building_type``, ``households``,
                          ``floor_area_m2``, ``site_name`` (optional)
========================  ===================================================================

Steps: convert units (:mod:`energy_lib.core.units`), validate with pandera (negative, impossible,
future, empty or over-long periods), derive ids, quarantine duplicates and overlaps within the
file; then, under the store's lock, quarantine what repeats or contradicts stored rows, create
meters and sites not seen before, flag outliers, and stage the rows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from energy_lib.core import configuration, units
from energy_lib.core.identity import pseudonyms
from energy_lib.core.tables import table
from energy_lib.core.vectors import arrow_strings, duckdb_cursor, group_ids, map_values
from energy_lib.ingest import checks
from energy_lib.ingest.problems import Issues
from energy_lib.store import Writer

__all__ = ["prepare", "stage", "MeteredTarget", "READINGS", "GENERATION"]


def table_schema(name: str) -> pa.Schema:
    return table(name).arrow_schema()

_DAY = np.timedelta64(1, "D")
# Stored periods that may overlap a new one start at most this long before it (the longest bill).
_LOOKBACK = pd.Timedelta(days=120)


@dataclass(frozen=True)
class MeteredTarget:
    """Where metered records go and how they are keyed."""

    table: str
    entity: str            # meter_id or site_id: with period_start, the key
    value: str             # the stored value column compared for duplicates
    creates_meters: bool   # consumption creates meters; generation only sites


READINGS = MeteredTarget("readings", "meter_id", "value_canonical", creates_meters=True)
GENERATION = MeteredTarget("generation", "site_id", "value_kwh", creates_meters=False)


def _limits() -> dict:
    return configuration.load("ingest")["limits"]


def _rules(options_now: pd.Timestamp, limit_key: pd.Series) -> list[checks.Rule]:
    ingest = configuration.load("ingest")
    earliest = pd.Timestamp(ingest["periods"]["earliest"])
    longest = float(ingest["periods"]["max_billing_days"])
    latest = options_now.normalize() + pd.Timedelta(days=1)
    max_per_day = map_values(limit_key, {k: v["max_per_day"] for k, v in _limits().items()}).to_numpy(dtype=float)

    def fmt(values: pd.Series) -> pd.Series:
        return values.map(lambda v: f"{v:,.6g}")

    return [
        checks.Rule("negative_value", "value", lambda f: ~(f["value_canonical"] < 0),
                    lambda f: "value " + fmt(f["value"]) + " " + f["unit"]
                    + " is negative. A meter cannot run backwards: check the reading with the utility."),
        checks.Rule("impossible_value", "value",
                    lambda f: ~(f["per_day"].to_numpy() > max_per_day[f.index.to_numpy()]),
                    lambda f: "value " + fmt(f["value"]) + " " + f["unit"] + " is " + fmt(f["per_day"])
                    + " " + f["canonical_unit"] + " a day, more than the limit of "
                    + fmt(pd.Series(max_per_day[f.index.to_numpy()], index=f.index)) + " for " + f["carrier"]
                    + ". Check the unit (e.g. Wh given as kWh) and the number."),
        checks.Rule("empty_period", "period_end", lambda f: ~(f["period_end"] <= f["period_start"]),
                    lambda f: "the period ends (" + f["period_end"].dt.strftime("%Y-%m-%d %H:%M")
                    + ") before or when it starts (" + f["period_start"].dt.strftime("%Y-%m-%d %H:%M")
                    + "). Check the dates."),
        checks.Rule("long_period", "period_end",
                    lambda f: ~(f["resolution"].isin(["billing", "monthly"]) & (f["days"] > longest)),
                    lambda f: "the billing period is " + f["days"].round(1).astype(str)
                    + f" days long; bills cover at most {longest:g} days. Check the dates."),
        checks.Rule("too_early", "period_start", lambda f: ~(f["period_start"] < earliest),
                    lambda f: "the period starts on " + f["period_start"].dt.strftime("%Y-%m-%d")
                    + f", before {earliest:%Y-%m-%d}: a typing error? Correct the date."),
        checks.Rule("future_period", "period_end", lambda f: ~(f["period_end"] > latest),
                    lambda f: "the period ends on " + f["period_end"].dt.strftime("%Y-%m-%d %H:%M")
                    + f", after today ({options_now:%Y-%m-%d}). Readings cannot be in the future: "
                      "check the year and month."),
        checks.Rule("unknown_quality", "quality", lambda f: f["quality"].isin(["actual", "estimated"]),
                    lambda f: "read type '" + f["quality"].astype(str)
                    + "' is neither actual (실측) nor estimated (추정). Use one of those."),
    ]


def prepare(records: pd.DataFrame, issues: Issues, headers: dict[str, str], target: MeteredTarget,
            now: pd.Timestamp) -> pd.DataFrame:
    """Convert units, validate, derive meter ids and quarantine repeats within the file.

    Parameters
    ----------
    records : pandas.DataFrame
        Metered records (see the module docstring), indexed by record position.
    issues : Issues
        Problems found so far; this adds to them.
    headers : dict
        Field name → the file's header, for messages.
    target : MeteredTarget
        :data:`READINGS` or :data:`GENERATION`.
    now : pandas.Timestamp
        Periods ending after this day are in the future.

    Returns
    -------
    pandas.DataFrame
        ``records`` with ``value_canonical``, ``canonical_unit``, ``energy_kwh``, ``days``,
        ``per_day`` and ``meter_id``.
    """
    out = records.copy()
    headers.setdefault("value_canonical", headers.get("value", "value"))
    out["unit"] = units.normalise_unit_names(out["unit"])
    carrier = out["carrier"] if target is READINGS else pd.Series("electricity", index=out.index)
    out["value_canonical"], mismatch = units.to_canonical(out["value"], out["unit"], carrier)
    mismatch &= ~issues.rejected[out.index.to_numpy()]
    if mismatch.any():
        accepted = {c: ", ".join(configuration.load("units")["carriers"][c]["units"]) for c in units.CARRIERS}
        bad = out[mismatch]
        issues.add(bad.index.to_numpy(), headers.get("unit", "unit"), "unit_mismatch",
                   ("unit '" + bad["unit"].astype(str) + "' is not a unit of " + carrier[bad.index]
                    + " (expected " + carrier[bad.index].map(accepted)
                    + "). Check the unit column, or give the unit with --unit.").to_numpy(dtype=object))
    out["canonical_unit"] = map_values(carrier, {c: units.canonical_unit(c) for c in units.CARRIERS})
    out["energy_kwh"] = units.energy_kwh(out["value_canonical"], carrier)
    out["days"] = (out["period_end"] - out["period_start"]) / _DAY
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_day"] = out["value_canonical"] / out["days"].where(out["days"] > 0)
    limit_key = out["carrier"] if target is READINGS else pd.Series("generation", index=out.index)
    checks.validate(out, _rules(now, limit_key), issues, headers)

    out["meter_id"] = pseudonyms("meter", out["provider"], out["carrier"], out["account"])
    out["meter_code"] = group_ids(out["meter_id"])  # integers: fast to sort and compare
    checks.duplicates_within(out, ["meter_code", "period_start"], "value_canonical", issues, headers)
    checks.overlaps_within(out, issues, headers, entity="meter_code")
    return out


def stage(records: pd.DataFrame, issues: Issues, headers: dict[str, str], target: MeteredTarget,
          writer: Writer, ingested_at: pd.Timestamp, source_file: str) -> int:
    """Under the store's lock: resolve sites, check against stored rows, create meters and sites
    not seen before, flag outliers and stage the rows.

    Returns
    -------
    int
        Records staged for storage.
    """
    store = writer.store
    live = _keep(records, ~issues.rejected[records.index.to_numpy()])
    if live.empty:
        return 0
    meter_ids = arrow_strings(live["meter_id"])
    # a meter id names its carrier, so only the parts of the records' carriers can hold it; the
    # parts are kept in memory between files (Store.read_parts): this runs under the store's lock
    carriers = set(live["carrier"].unique()) if target is READINGS else None
    stored = store.read_parts("meters", store.files("meters", carriers=carriers), ["meter_id", "site_id"])
    with contextlib.closing(duckdb_cursor()) as con:
        con.register("live", pa.table({"row": np.arange(len(live)), "meter_id": meter_ids}))
        con.register("stored", stored)
        found = con.sql("SELECT l.row, m.site_id FROM live l JOIN stored m USING (meter_id)").to_arrow_table()
    rows = found["row"].to_numpy()
    known = np.zeros(len(live), dtype=bool)
    known[rows] = True
    where = np.full(len(live), -1, dtype=np.int64)  # row of `found` for each record, -1 if none
    where[rows] = np.arange(len(rows))
    stored_site = pc.take(found["site_id"], pa.array(where, mask=where < 0))
    ward = live["ward_code"] if "ward_code" in live else pd.Series(pd.NA, index=live.index, dtype="str")
    unplaced = ~known & ward.isna().to_numpy()
    if unplaced.any():
        what = "meter" if target is READINGS else "electricity account"
        issues.add(live.index[unplaced].to_numpy(), headers.get("account", "account"), "unknown_site",
                   f"this {what} is in no site register and the row names no ward, so it cannot be placed. "
                   "Ingest the site register (or the bills) that list it first, then this file again.")
    site_id = stored_site.combine_chunks() if isinstance(stored_site, pa.ChunkedArray) else stored_site
    if (~known).any():
        fresh = live[~known]
        key = fresh["site_key"] if "site_key" in fresh else \
            fresh["provider"].astype("str") + ":" + fresh["carrier"].astype("str") + ":" + fresh["account"].astype("str")
        new_ids = np.empty(len(live), dtype=object)
        new_ids[~known] = pseudonyms("site", key).to_numpy(dtype=object)
        site_id = pc.if_else(pa.array(known), site_id, pa.array(new_ids, pa.string()))
    live = _keep(live.assign(site_id=site_id.to_pandas().array), ~unplaced)
    known = known[~unplaced]

    checks.against_stored(_overlapping_stored(store, live, target), issues, headers, value=target.value)
    keep = ~issues.rejected[live.index.to_numpy()]
    live, known = _keep(live, keep), known[keep]
    if live.empty:
        return 0

    new_sites = _implicit_sites(store, live[~known], source_file)
    writer.append("sites", new_sites)
    if target.creates_meters:
        _stage_meters(writer, live[~known], source_file)

    outlier = _outliers(store, live, new_sites, target)
    provenance = {
        "quality": arrow_strings(live["quality"]), "outlier": pa.array(outlier),
        "source_file": _constant(source_file, len(live)),
        "source_row": pa.array(live["source_row"].to_numpy(dtype=np.int64)),
        "ingested_at": pa.array(np.full(len(live), ingested_at.to_datetime64(), dtype="datetime64[us]")),
    }
    period = {"period_start": pa.array(live["period_start"].to_numpy(), pa.timestamp("us")),
              "period_end": pa.array(live["period_end"].to_numpy(), pa.timestamp("us"))}
    if target is READINGS:
        rows = pa.table({
            "meter_id": arrow_strings(live["meter_id"]), "carrier": arrow_strings(live["carrier"]), **period,
            "value": pa.array(live["value"].to_numpy(dtype=float)), "unit": arrow_strings(live["unit"]),
            "value_canonical": pa.array(live["value_canonical"].to_numpy(dtype=float)),
            "canonical_unit": arrow_strings(live["canonical_unit"]),
            "energy_kwh": pa.array(live["energy_kwh"].to_numpy(dtype=float), from_pandas=True),
            "resolution": arrow_strings(live["resolution"]), **provenance,
        })
    else:
        rows = pa.table({
            "site_id": arrow_strings(live["site_id"]), **period,
            "value_kwh": pa.array(live["value_canonical"].to_numpy(dtype=float)), **provenance,
        })
    writer.append(target.table, rows.cast(table_schema(target.table)))
    return len(live)


def _keep(frame: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """Rows of ``frame`` where ``mask``; the frame itself (no copy) when all are kept."""
    return frame if mask.all() else frame[mask]


def _constant(text: str, n: int) -> pa.Array:
    """A column repeating one text n times, built from raw buffers (not n Python strings)."""
    data = text.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int32) * len(data)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))


def _outliers(store, live: pd.DataFrame, new_sites: pd.DataFrame, target: MeteredTarget) -> np.ndarray:
    """Whether each record is above its outlier limit [canonical unit/day]: the household limit
    for a site with one household, the general limit otherwise. The site is looked up only for
    records between the two limits."""
    limit_key = live["carrier"] if target is READINGS else pd.Series("generation", index=live.index)
    limits = _limits()
    household = map_values(limit_key, {k: v["household_outlier_per_day"] for k, v in limits.items()}).to_numpy()
    other = map_values(limit_key, {k: v["outlier_per_day"] for k, v in limits.items()}).to_numpy()
    per_day = live["per_day"].to_numpy()
    outlier = per_day > np.maximum(household, other)
    between = np.flatnonzero((per_day > np.minimum(household, other)) & ~outlier)
    if not len(between):
        return outlier
    with contextlib.closing(duckdb_cursor()) as con:
        con.register("ask", pa.table({"position": between, "site_id": arrow_strings(live["site_id"].iloc[between])}))
        con.register("new_sites", pa.table({"site_id": arrow_strings(new_sites["site_id"]),
                                            "households": pa.array(new_sites["households"].astype("float").to_numpy(), from_pandas=True)}))
        households = con.execute(f"""
            WITH known AS (SELECT site_id, CAST(households AS DOUBLE) AS households FROM {store.relation_sql("sites")}
                           UNION ALL SELECT site_id, households FROM new_sites)
            SELECT a.position, any_value(k.households) AS households
            FROM ask a LEFT JOIN known k USING (site_id) GROUP BY a.position ORDER BY a.position
        """).fetchnumpy()
    is_household = np.asarray(households["households"], dtype=float) == 1
    limit = np.where(is_household, household[between], other[between])
    outlier[between] = per_day[between] > limit
    return outlier


def _stage_meters(writer: Writer, fresh: pd.DataFrame, source_file: str) -> None:
    """Append the meters seen for the first time (a meter's rows are never rewritten by data)."""
    first = fresh.drop_duplicates("meter_id", keep="first")
    writer.append("meters", pd.DataFrame({
        "meter_id": first["meter_id"], "site_id": first["site_id"], "carrier": first["carrier"],
        "provider": first["provider"], "source_file": source_file,
    }))


def _overlapping_stored(store, live: pd.DataFrame, target: MeteredTarget) -> pd.DataFrame:
    """Pairs of (new record, stored row) of the same entity whose periods overlap."""
    files = store.files(target.table, time_from=live["period_start"].min() - _LOOKBACK,
                        time_to=live["period_end"].max(),
                        carriers=set(live["carrier"].unique()) if target is READINGS else None)
    if not files:
        return pd.DataFrame()
    new = pa.table({
        "position": pa.array(live.index.to_numpy(dtype=np.int64)),
        "entity": arrow_strings(live[target.entity]),
        "period_start": pa.array(live["period_start"].to_numpy(), pa.timestamp("us")),
        "period_end": pa.array(live["period_end"].to_numpy(), pa.timestamp("us")),
        "value": pa.array(live["value_canonical"].to_numpy(dtype=float)),
    })
    with contextlib.closing(duckdb_cursor()) as con:
        con.register("new", new)
        return con.execute(f"""
            SELECT n.position, n.period_start, n.period_end, n.value AS {target.value},
                   s.period_start AS period_start_stored, s.period_end AS period_end_stored,
                   s.{target.value} AS {target.value}_stored, s.source_file AS source_file_stored,
                   s.source_row AS source_row_stored
            FROM new n JOIN {store.relation_sql(target.table, files)} s
              ON s.{target.entity} = n.entity
             AND s.period_start < n.period_end AND n.period_start < s.period_end
            ORDER BY n.position, s.period_start
        """).df()


def _implicit_sites(store, unregistered: pd.DataFrame, source_file: str) -> pd.DataFrame:
    """Sites for meters that no register placed and the store does not know yet, from the first
    record of each."""
    columns = table("sites").column_names
    unseen = unregistered.drop_duplicates("site_id")
    if unseen.empty:
        return table("sites").empty()
    with contextlib.closing(duckdb_cursor()) as con:
        con.register("unseen", pa.table({"position": np.arange(len(unseen)), "site_id": arrow_strings(unseen["site_id"])}))
        new = con.execute(f"""SELECT position FROM unseen
                              ANTI JOIN {store.relation_sql("sites")} s USING (site_id) ORDER BY position""").fetchnumpy()["position"]
    unseen = unseen.iloc[np.asarray(new, dtype=np.int64)]
    if unseen.empty:
        return table("sites").empty()

    def column(name: str, default=pd.NA) -> pd.Series:
        return unseen[name] if name in unseen else pd.Series(default, index=unseen.index)

    return pd.DataFrame({
        "site_id": unseen["site_id"],
        "ward_code": unseen["ward_code"],
        "building_type": column("building_type", "unknown").fillna("unknown"),
        "households": column("households").astype("Int64"),
        "floor_area_m2": column("floor_area_m2").astype("Float64"),
        "name": column("site_name"),
        "placement": column("placement", "reported").fillna("reported"),
        "placement_note": column("placement_note"),
        "origin": "implicit",
        "series_public": False,  # no register has said that its series may be shown
        "series_public_source": pd.Series(pd.NA, index=unseen.index, dtype="str"),
        "source_file": source_file,
    })[columns]
