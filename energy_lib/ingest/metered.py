"""Storing metered records: consumption (table ``readings``) and PV generation (``generation``).

Every format that carries meter data (bills, building energy, district heat, interval data, PV)
converts its file to records with these fields, and this module does the rest, the same way for
all of them:

========================  ===================================================================
``source_row``            row of the file (``source_column`` too, for wide files)
``provider``              utility (``kepco``, ``haeyang``, …); with ``carrier`` and ``account``
``carrier``               it makes the pseudonymous meter id
``account``               customer number, or another key of the meter in the provider's data
``site_key``              key of the site for a meter not in any register (e.g. ``kepco:<no>``)
``resolution``            ``billing``, ``monthly``, ``daily``, ``hourly``, ``15min``
``period_start/_end``     half-open period, KST
``value``, ``unit``       as the provider reports them
``quality``               ``actual`` or ``estimated``
``ward_code`` …           where an unregistered site is: ``ward_code``, ``placement``,
                          ``placement_note``, ``building_type``, ``households``,
                          ``floor_area_m2``, ``site_name`` (optional)
========================  ===================================================================

Steps: convert units (:mod:`energy_lib.units`), validate with pandera (negative, impossible,
future, empty or over-long periods), derive ids, quarantine duplicates and overlaps within the
file; then, under the store's lock, quarantine what repeats or contradicts stored rows, create
meters and sites not seen before, flag outliers, and stage the rows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from energy_lib import configuration, units
from energy_lib.identity import pseudonyms
from energy_lib.ingest import checks
from energy_lib.ingest.problems import Issues
from energy_lib.store import Writer

__all__ = ["prepare", "stage", "MeteredTarget", "READINGS", "GENERATION"]

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
    max_per_day = limit_key.map({k: v["max_per_day"] for k, v in _limits().items()})

    def fmt(values: pd.Series) -> pd.Series:
        return values.map(lambda v: f"{v:,.6g}")

    return [
        checks.Rule("negative_value", "value", lambda f: ~(f["value_canonical"] < 0),
                    lambda f: "value " + fmt(f["value"]) + " " + f["unit"]
                    + " is negative. A meter cannot run backwards: check the reading with the utility."),
        checks.Rule("impossible_value", "value",
                    lambda f: ~(f["per_day"] > max_per_day[f.index]),
                    lambda f: "value " + fmt(f["value"]) + " " + f["unit"] + " is " + fmt(f["per_day"])
                    + " " + f["canonical_unit"] + " a day, more than the limit of "
                    + fmt(max_per_day[f.index]) + " for " + f["carrier"]
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
    """Convert units, validate, derive ids and quarantine repeats within the file.

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
        ``per_day``, ``meter_id`` and ``site_id``.
    """
    out = records.copy()
    out["unit"] = units.normalise_unit_names(out["unit"])
    convert_as = "electricity" if target is GENERATION else None
    carrier_for_units = out["carrier"] if convert_as is None else pd.Series(convert_as, index=out.index)
    out["value_canonical"], mismatch = units.to_canonical(out["value"], out["unit"], carrier_for_units)
    mismatch &= ~issues.rejected[out.index.to_numpy()]
    if mismatch.any():
        accepted = {c: ", ".join(configuration.load("units")["carriers"][c]["units"]) for c in units.CARRIERS}
        bad = out[mismatch]
        issues.add(bad.index.to_numpy(), headers.get("unit", "unit"), "unit_mismatch",
                   ("unit '" + bad["unit"].astype(str) + "' is not a unit of " + carrier_for_units[bad.index]
                    + " (expected " + carrier_for_units[bad.index].map(accepted)
                    + "). Check the unit column, or give the unit with --unit.").to_numpy(dtype=object))
    out["canonical_unit"] = carrier_for_units.map({c: units.canonical_unit(c) for c in units.CARRIERS})
    out["energy_kwh"] = units.energy_kwh(out["value_canonical"], carrier_for_units)
    out["days"] = (out["period_end"] - out["period_start"]) / _DAY
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_day"] = out["value_canonical"] / out["days"].where(out["days"] > 0)
    limit_key = out["carrier"] if target is READINGS else pd.Series("generation", index=out.index)
    checks.validate(out, _rules(now, limit_key), issues, headers)

    out["meter_id"] = pseudonyms("meter", out["provider"], out["carrier"], out["account"])
    out["site_id"] = pseudonyms("site", out["site_key"])
    checks.duplicates_within(out, [target.entity, "period_start"], "value_canonical", issues, headers)
    entity = target.entity if target is READINGS else "meter_id"
    checks.overlaps_within(out, issues, headers, entity=entity)
    return out


def stage(records: pd.DataFrame, issues: Issues, headers: dict[str, str], target: MeteredTarget,
          writer: Writer, ingested_at: pd.Timestamp, source_file: str) -> int:
    """Under the store's lock: check against stored rows, resolve sites, flag outliers, stage.

    Returns
    -------
    int
        Records staged for storage.
    """
    store = writer.store
    live = records[~issues.rejected[records.index.to_numpy()]]
    if live.empty:
        return 0
    meters = store.read("meters", columns=["meter_id", "site_id"])
    known = live["meter_id"].map(pd.Series(meters["site_id"].to_numpy(), index=meters["meter_id"].to_numpy()))
    live = live.assign(site_id=known.fillna(live["site_id"]))
    unplaced = known.isna() & live.get("ward_code", pd.Series(pd.NA, index=live.index)).isna()
    if unplaced.any():
        what = "meter" if target is READINGS else "electricity account"
        issues.add(live.index[unplaced].to_numpy(), headers.get("account", "account"), "unknown_site",
                   f"this {what} is in no site register and the row names no ward, so it cannot be placed. "
                   "Ingest the site register (or the bills) that list it first, then this file again.")
        live = live[~unplaced]

    pairs = _overlapping_stored(store, live, target)
    checks.against_stored(pairs, issues, headers, value=target.value)
    live = live[~issues.rejected[live.index.to_numpy()]]
    if live.empty:
        return 0

    sites = store.read("sites")
    new_sites = _implicit_sites(live, sites, source_file)
    if len(new_sites):
        writer.replace("sites", pd.concat([sites, new_sites], ignore_index=True) if len(sites) else new_sites)
    if target.creates_meters:
        fresh = live[~live["meter_id"].isin(meters["meter_id"])].drop_duplicates("meter_id", keep="last")
        if len(fresh):
            new_meters = pd.DataFrame({
                "meter_id": fresh["meter_id"], "site_id": fresh["site_id"], "carrier": fresh["carrier"],
                "provider": fresh["provider"], "native_unit": fresh["unit"], "resolution": fresh["resolution"],
                "source_file": source_file,
            })
            writer.replace("meters", pd.concat([store.read("meters"), new_meters], ignore_index=True))

    households = pd.concat([sites, new_sites])[["site_id", "households"]].drop_duplicates("site_id", keep="last")
    is_household = live["site_id"].map(pd.Series(households["households"].to_numpy(),
                                                 index=households["site_id"].to_numpy())).eq(1).fillna(False)
    limit_key = live["carrier"] if target is READINGS else pd.Series("generation", index=live.index)
    limits = _limits()
    household_limit = limit_key.map({k: v["household_outlier_per_day"] for k, v in limits.items()})
    other_limit = limit_key.map({k: v["outlier_per_day"] for k, v in limits.items()})
    outlier = live["per_day"] > np.where(is_household, household_limit, other_limit)

    common = {
        "period_start": live["period_start"], "period_end": live["period_end"],
        "quality": live["quality"], "outlier": outlier, "source_file": source_file,
        "source_row": live["source_row"], "ingested_at": ingested_at,
    }
    if target is READINGS:
        rows = pd.DataFrame({"meter_id": live["meter_id"], "carrier": live["carrier"], **common,
                             "value": live["value"], "unit": live["unit"],
                             "value_canonical": live["value_canonical"],
                             "canonical_unit": live["canonical_unit"], "energy_kwh": live["energy_kwh"]})
    else:
        rows = pd.DataFrame({"site_id": live["site_id"], **common, "value_kwh": live["value_canonical"]})
    writer.append(target.table, rows.sort_values([target.entity, "period_start"], kind="stable"))
    return len(rows)


def _overlapping_stored(store, live: pd.DataFrame, target: MeteredTarget) -> pd.DataFrame:
    """Pairs of (new record, stored row) of the same entity whose periods overlap."""
    files = store.files(target.table, time_from=live["period_start"].min() - _LOOKBACK,
                        time_to=live["period_end"].max(),
                        carriers=set(live["carrier"].unique()) if target is READINGS else None)
    if not files:
        return pd.DataFrame()
    new = pa.table({
        "position": pa.array(live.index.to_numpy(dtype=np.int64)),
        "entity": pa.array(live[target.entity].to_numpy(dtype=object), pa.string()),
        "period_start": pa.array(live["period_start"].to_numpy()),
        "period_end": pa.array(live["period_end"].to_numpy()),
        "value": pa.array(live["value_canonical"].to_numpy()),
    })
    with contextlib.closing(duckdb.connect()) as con:
        con.register("new", new)
        pairs = con.execute(f"""
            SELECT n.position, n.period_start, n.period_end, n.value AS {target.value},
                   s.period_start AS period_start_stored, s.period_end AS period_end_stored,
                   s.{target.value} AS {target.value}_stored, s.source_file AS source_file_stored,
                   s.source_row AS source_row_stored
            FROM new n JOIN {store.relation_sql(target.table, files)} s
              ON s.{target.entity} = n.entity
             AND s.period_start < n.period_end AND n.period_start < s.period_end
            ORDER BY n.position, s.period_start
        """).df()
    return pairs


def _implicit_sites(live: pd.DataFrame, sites: pd.DataFrame, source_file: str) -> pd.DataFrame:
    """Sites for meters that no register placed, from the first record of each."""
    unseen = live[~live["site_id"].isin(sites["site_id"])].drop_duplicates("site_id")
    if unseen.empty:
        return sites.iloc[0:0]

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
        "source_file": source_file,
    })
