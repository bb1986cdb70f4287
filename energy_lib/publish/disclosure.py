"""The open data's release: every area table, protected together and audited.

:func:`protected_release` builds from the store and the derived tables every table the site
publishes by area (consumption by month and by 12-month period, savings, Carbon Point, PV
generation, the building stock), puts them in one release with every relation a reader can write
down (:mod:`energy_lib.publish.release`), applies the primary rule, chooses complements by the
cost model (:mod:`energy_lib.publish.protection`) and proves the result with the audit
(:mod:`energy_lib.publish.audit`). :func:`published` masks a table for publication.

Table design (what is a cell at all) comes before suppression: dongs are published by sector
(residential, non-residential, unclassified), while building types are published by gu and for
the city. A dong rarely holds 15 non-residential buildings of one type, and the few it holds are
dominated by one; its split of residential use into apartments and detached houses cost more
complements than it published; and its total of all types holds nothing beyond its sectors, but
where its non-residential part is withheld (nearly always) a published total would give that part
away, so the open data derives a dong's total from its sectors where they are all published
(docs/privacy.md).

Relations in the release:

* ``area``: dongs add up to their gu, gus to the city;
* ``building_type``: building types add up to their sector, sectors to all types;
* ``period``: months add up to each complete calendar year and to the last twelve months;
* savings, normal-year savings and squared bands add up along both hierarchies like use; the
  observed use and the counterfactual behind them are not published (the observed use covers the same months as the 12-month consumption,
  and the difference would give away the use of meters without a baseline).

The building stock's households and floor area come from public registers (resident registration,
building register): they are published as they are; the count of metered sites is protected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_lib.core.status import Status
from energy_lib.publish import privacy
from energy_lib.publish.audit import AuditResult
from energy_lib.publish.cells import CostModel, Dimension, magnitude_table
from energy_lib.publish.protection import REASONS, Protection, protect
from energy_lib.publish.release import Release, ReleaseBuilder

__all__ = ["ALL_TYPES", "BUILDING_TYPES", "SECTORS", "DONG_TYPES", "ProtectedRelease", "protected_release",
           "dimensions", "period_edges", "published", "audit_summary", "availability", "build_release", "site_pattern", "SITE_TABLES"]

ALL_TYPES = "all"
"""``building_type`` of the cells that sum every building type."""
BUILDING_TYPES = ("apartment", "detached", "commercial", "public", "education", "industrial", "unknown")
SECTORS = {"apartment": "residential", "detached": "residential", "commercial": "non_residential",
           "public": "non_residential", "education": "non_residential", "industrial": "non_residential",
           "unknown": "unclassified"}
"""The sector of each building type: sectors are cells between the types and all types."""
DONG_TYPES = ("residential", "non_residential", "unclassified")
"""The building types and sectors published by dong (table design; see the module's docstring)."""


@dataclass(frozen=True)
class ProtectedRelease:
    """A release, its protection and each table's cells (keys, values, statistics), row-aligned
    with the release."""

    release: Release
    protection: Protection
    cells: dict[str, pd.DataFrame]

    def hidden(self, table: str) -> np.ndarray:
        return self.protection.hidden[self.release.rows_of(table)]

    def reason(self, table: str) -> np.ndarray:
        return self.protection.reason[self.release.rows_of(table)]


def dimensions(wards: pd.DataFrame) -> tuple[Dimension, Dimension]:
    """Dong → gu → city, and building type → sector → all types."""
    area = privacy.Hierarchy.from_levels(wards, ["ward_code", "gu_code"], column="area", top="city")
    types = pd.DataFrame({"building_type": list(BUILDING_TYPES), "all": ALL_TYPES})
    types["sector"] = types["building_type"].map(SECTORS)
    building = privacy.Hierarchy.from_levels(types, ["building_type", "sector", "all"], column="building_type")
    return (Dimension.from_hierarchy(area, ["ward", "gu", "city"]),
            Dimension.from_hierarchy(building, ["building_type", "sector", "all"]))


def period_edges(months: pd.Series) -> tuple[pd.DataFrame, dict[str, str]]:
    """Months (``YYYY-MM``) → each complete calendar year (``YYYY``) and the last twelve months
    (``YYYY-MM/YYYY-MM``, ISO 8601 interval); with each code's level (``month``, ``twelve_months``)."""
    distinct = pd.Series(sorted(set(months.astype(str))))
    year = distinct.str[:4]
    complete = year.value_counts()
    edges = [pd.DataFrame({"child": distinct[year.isin(complete[complete == 12].index)],
                           "parent": year[year.isin(complete[complete == 12].index)]})]
    if len(distinct) >= 12:
        last = pd.Period(distinct.iloc[-1], freq="M")
        window = [str(last - i) for i in range(11, -1, -1)]
        if set(window) <= set(distinct):
            edges.append(pd.DataFrame({"child": window, "parent": f"{window[0]}/{window[-1]}"}))
    edges = pd.concat(edges, ignore_index=True)
    level = {**dict.fromkeys(distinct, "month"), **dict.fromkeys(edges["parent"], "twelve_months")}
    return edges, level


def _designed(rows: pd.DataFrame) -> np.ndarray:
    """Rows of the table design: a dong's cells only for :data:`DONG_TYPES`."""
    area = rows["area"].astype(str)
    return ~((area.str.len() == 10) & ~rows["building_type"].isin(DONG_TYPES)).to_numpy()


def protected_release(*, level: float, **inputs) -> ProtectedRelease:
    """Build, protect and audit the release (see the module's docstring); ``inputs`` as for
    :func:`build_release`, ``level`` the protection level [fraction]."""
    release, cells = build_release(**inputs)
    return ProtectedRelease(release=release, protection=protect(release, level=level), cells=cells)


def build_release(*, use: pd.DataFrame, savings: pd.DataFrame, carbon_point: pd.DataFrame,
                  generation: pd.DataFrame, sites: pd.DataFrame, meter_sites: pd.DataFrame,
                  wards: pd.DataFrame, rule: privacy.SuppressionRule,
                  cost: CostModel | None = None) -> tuple[Release, dict[str, pd.DataFrame]]:
    """The release of every area table with its relations and primary verdicts, and each table's
    cells (see the module's docstring).

    Parameters
    ----------
    use : pandas.DataFrame
        :func:`energy_lib.publish.aggregate.use_partials` with the periods of :func:`period_edges`: per
        dong × building type × carrier × month or 12-month period, ``customers``, ``total``
        [kWh or m³] and ``largest``.
    savings : pandas.DataFrame
        The derived ``savings`` table.
    carbon_point : pandas.DataFrame
        The derived ``carbon_point`` table.
    generation : pandas.DataFrame
        The store's ``generation`` table.
    sites : pandas.DataFrame
        ``site_id``, ``ward_code``, ``building_type``, ``households``, ``floor_area_m2``.
    meter_sites : pandas.DataFrame
        ``meter_id``, ``site_id`` of every meter.
    wards : pandas.DataFrame
        The ward table.
    rule : privacy.SuppressionRule
        The primary rule.
    cost : CostModel, optional
        Default: ``config/privacy.toml``.
    """
    cost = cost or CostModel.configured()
    area, building = dimensions(wards)
    builder = ReleaseBuilder()
    stands_for = sites.set_index("site_id")["households"]
    meter_households = meter_sites.assign(households=meter_sites["site_id"].map(stands_for))[["meter_id", "households"]]
    common = dict(rule=rule, cost=cost, keep=_designed)

    use = use.rename(columns={"ward_code": "area"})
    edges, levels = period_edges(use.loc[use["period"].str.len() == 7, "period"])
    missing = set(edges["parent"]) - set(use["period"])
    if missing:
        raise ValueError(f"use has no cells of the periods {sorted(missing)}: compute it with their months' edges")
    period = Dimension("period", edges, levels)
    cells = {"consumption": magnitude_table(
        builder, "consumption", use, ["area", "building_type", "carrier", "period"], value="total",
        customer=None, dimensions=[area, building, period], period="period", **common)}

    # the meters summed in savings_by_group (in_totals: sufficient baselines, no programme in the baseline year)
    rows = savings[savings["in_totals"]].dropna(subset=["savings", "band"]).rename(columns={"ward_code": "area"})
    normal = rows["normal_band"].notna()  # the published normal savings and band count these meters only
    rows = rows.assign(building_type=rows["building_type"].astype(str), meters=1.0,
                       normal_savings=rows["normal_savings"].where(normal), band_variance=rows["band"] ** 2,
                       normal_variance=(rows["normal_band"] ** 2).where(normal)).merge(
        meter_households, on="meter_id", how="left")
    # the rule is applied to the observed use of a cell's meters; what is published is the saving,
    # signed, protected like a use (the attacker's interval must reach 15% of |saving| on both
    # sides), and so are the normal-year saving and the bands: a band is the root of a sum of the
    # meters' squared bands, so squared bands add up along the hierarchies like savings do, and a
    # meter's band grows with its use. The observed use and counterfactual are not published:
    # beside the 12-month use of consumption_annual (the same months), the observed use would give
    # away the use of the cell's meters without a baseline.
    published_savings = ["savings", "normal_savings", "band_variance", "normal_variance"]
    cells["savings"] = magnitude_table(
        builder, "savings", rows, ["analysis", "area", "building_type", "carrier"], value="observed",
        customer="meter_id", dimensions=[area, building], represents="households",
        extra={column: column for column in [*published_savings, "meters"]}, variables=published_savings,
        protected=tuple(published_savings), **common)

    points = carbon_point[carbon_point["status"] == Status.QUALIFIED].merge(
        meter_sites.merge(sites[["site_id", "ward_code", "building_type"]], on="site_id"), on="meter_id")
    points = points.rename(columns={"ward_code": "area"}).merge(meter_households, on="meter_id", how="left")
    cells["carbon_point"] = magnitude_table(
        builder, "carbon_point", points, ["area", "building_type", "carrier", "half_year"], value="points",
        customer="meter_id", dimensions=[area, building], represents="households", period="half_year", **common)

    pv = generation.merge(sites[["site_id", "ward_code"]], on="site_id").rename(columns={"ward_code": "area"})
    pv = pv.assign(month=pd.to_datetime(pv["period_start"]).dt.strftime("%Y-%m"), building_type=ALL_TYPES)
    # generation has no building types: every dong's total is a cell
    cells["generation"] = magnitude_table(
        builder, "generation", pv, ["area", "building_type", "month"], value="value_kwh", customer="site_id",
        dimensions=[area], period="month", **{**common, "keep": None})

    stock = sites.rename(columns={"ward_code": "area"}).assign(sites=1.0)
    cells["stock"] = magnitude_table(builder, "stock", stock, ["area", "building_type"], value="sites",
                                     customer="site_id", dimensions=[area, building], **common)
    return builder.build(), cells


def published(protected: ProtectedRelease, table: str, frame: pd.DataFrame, by: list[str],
              values: list[str]) -> pd.DataFrame:
    """``frame`` (one row per cell of ``table``, any order) with ``values`` blanked where the cell is
    withheld and a ``suppressed`` flag; rows outside the release's table are an error (every
    published number must have been through the protection)."""
    pattern = protected.cells[table][by].assign(suppressed=protected.hidden(table))
    out = privacy.mask_suppressed(frame, by, values=values, pattern=pattern)
    return out


def audit_summary(release: Release, reason: np.ndarray, audit: AuditResult) -> pd.DataFrame:
    """Per table: cells, withheld by the primary rule, withheld as complements, numbers an attacker
    recovers within the protection level (must be 0) and the smallest protection ratio
    [fraction of the value; ``inf`` where nothing primary is withheld].

    Parameters
    ----------
    reason : numpy.ndarray of str
        Per release row, why it is withheld (:attr:`Protection.reason`).
    """
    ratio = audit.protection_ratio()
    rows = []
    for name in release.tables:
        reason_of = reason[release.rows_of(name)]
        mine = audit.intervals["table"] == name
        rows.append({"table": name, "cells": len(reason_of),
                     "hidden_primary": int(np.isin(reason_of, REASONS[:2]).sum()),
                     "hidden_complementary": int((reason_of == REASONS[2]).sum()),
                     "recoverable": int((~audit.intervals.loc[mine, "ok"]).sum()),
                     "smallest_protection": float(ratio[mine].min()) if mine.any() else float("inf")})
    return pd.DataFrame(rows)


def availability(protected: ProtectedRelease) -> pd.DataFrame:
    """What is published, per table × area level × building type (all types, each sector, or the
    building types together) × carrier × period kind:
    cells, cells passing the primary rule, published, and withheld only as complements; with the
    shares ``published_share`` (of all cells) and ``complement_share`` (of the cells that pass)."""
    frames = []
    for name, cells in protected.cells.items():
        area = cells["area"].astype(str)
        frame = pd.DataFrame({
            "table": name,
            "area_level": np.select([area == "city", area.str.len() == 5], ["city", "gu"], "dong"),
            "building_type": np.where(cells["building_type"].isin([ALL_TYPES, *SECTORS.values()]),
                                      cells["building_type"], "type"),
            "carrier": cells["carrier"] if "carrier" in cells else "",
            "period": _period_kind(cells),
            "passes": cells["primary"].to_numpy() == "",
            "published": ~protected.hidden(name),
            "complement": protected.reason(name) == REASONS[2]})
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True)
    out = rows.groupby(["table", "area_level", "building_type", "carrier", "period"], sort=True).agg(
        cells=("passes", "size"), passes=("passes", "sum"), published=("published", "sum"),
        complement=("complement", "sum")).reset_index()
    out["published_share"] = out["published"] / out["cells"]
    out["complement_share"] = np.where(out["passes"] > 0, out["complement"] / out["passes"].clip(lower=1), 0.0)
    return out


def _period_kind(cells: pd.DataFrame) -> np.ndarray:
    for column in ("period", "month", "half_year"):
        if column in cells:
            code = cells[column].astype(str)
            return np.select([code.str.len() == 7, code.str.contains("H"), code.str.len() == 4],
                             ["month", "half_year", "year"], "twelve_months")
    return np.full(len(cells), "")


SITE_TABLES = {"consumption": (("consumption_monthly", {"month": "period"}), ("consumption_annual", {})),
               "savings": (("savings", {}),), "carbon_point": (("carbon_point", {}),),
               "generation": (("generation", {}),), "stock": (("stock", {}),)}
"""Where each release table is published: the open-data tables, with their period column renamed."""
_PUBLISHED_VALUE = {"consumption": ("total", "total"), "savings": ("savings", "savings"),
                    "carbon_point": ("points", "total"), "generation": ("total", "total"), "stock": ("sites", "total")}
"""Per release table, the published column checked against the store, and the cells' column it is."""


def site_pattern(release: Release, cells: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame]) -> np.ndarray:
    """The withheld rows of ``release`` as a built site publishes them (``tables``: the open-data
    tables by name), after checking that every cell is published, once, with its true value.

    Raises
    ------
    ValueError
        When the site does not publish the release (a cell missing, or a published value that
        differs from the store's): the site was built from other data or altered.
    """
    hidden = np.zeros(release.n_rows, bool)
    for name, sources in SITE_TABLES.items():
        by = release.tables[name].by
        frames = [tables[source].rename(columns=rename) for source, rename in sources]
        published = pd.concat(frames, ignore_index=True)
        published["area"] = published["area"].astype(str)
        mine = cells[name][by].astype({"area": str}).assign(_row=np.arange(len(cells[name])))
        joined = mine.merge(published, on=by, how="left", indicator=True, validate="one_to_one")
        missing = joined["_merge"] != "both"
        if missing.any():
            raise ValueError(f"the site does not publish {int(missing.sum())} cell(s) of {name}, e.g. "
                             f"{joined.loc[missing, by].head(3).to_dict('records')}: build it again from this store")
        joined = joined.sort_values("_row")
        withheld = joined["suppressed"].astype(bool).to_numpy()
        column, cell_column = _PUBLISHED_VALUE[name]
        shown = joined[column].to_numpy(float)
        truth = cells[name][cell_column].to_numpy(float)
        wrong = ~withheld & ~np.isclose(shown, truth, rtol=1e-9, atol=1e-6)
        if wrong.any():
            raise ValueError(f"{int(wrong.sum())} published {name} value(s) differ from the store's, e.g. "
                             f"{joined.loc[wrong, by].head(3).to_dict('records')}: build the site again from this store")
        hidden[release.rows_of(name)] = withheld
    return hidden
