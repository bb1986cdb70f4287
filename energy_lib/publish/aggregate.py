"""Roll-ups of consumption for the published reports: by month, carrier, ward, gu and building type.

Every published number starts here: :func:`use_partials` sums each meter's use into cells
(dong × building type × carrier × month or 12-month period) in the store, which the release rolls
up and protects (:mod:`energy_lib.publish.disclosure`). The other functions are the views the reports show,
computed from those published (already privacy-checked) tables: series by month, the last twelve
months against the twelve before, rankings of dongs, the energy mix, intensity per household or
per m², and progress toward the city's targets. A view built from a suppressed cell is empty, never
a guess.

Months: a bill belongs to the month it is read in (the utilities' 청구년월, as the Carbon Point rule
counts it); every other reading to the month it starts in (:func:`energy_lib.baselines.data.billing_month`).
Readings flagged as outliers at ingest are left out of the totals and counted.

References
----------
.. [1] 에너지법 시행규칙 [별표] 에너지열량 환산기준 (toe); 탄소중립포인트 CO2 환산계수 (config/units.toml).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

from energy_lib.core import configuration, units
from energy_lib.store import Store

__all__ = ["months", "use_partials", "with_common_units", "year_on_year", "intensity", "energy_mix", "monthly_series",
           "last_twelve_months", "carrier_totals", "ranking", "energy_ranking", "re100_progress", "emissions_path"]

_MONTH = "date_trunc('month', CASE WHEN r.resolution = 'billing' THEN r.period_end ELSE r.period_start END)"
"""The month a reading counts in: a bill's read month, any other reading's start."""


def months(store: Store) -> pd.Series:
    """The months that hold readings, ``YYYY-MM``, sorted."""
    frame = store.sql(f"SELECT DISTINCT strftime({_MONTH}, '%Y-%m') AS month FROM readings r ORDER BY month")
    return frame["month"].astype(str)


def use_partials(store: Store, periods: pd.DataFrame) -> pd.DataFrame:
    """What the primary rule needs of each cell of dong × building type × carrier × period, from
    every meter's use, computed in the store (the full city's 117 million meter-months never reach
    memory).

    Sums are exact (decimal, to 10⁻⁹ of the unit): a parallel floating-point sum depends on the
    order the threads finish in, and a rerun must publish the same numbers.

    A meter's use in a period is the sum of its months' use, outliers left out; a meter none of
    whose readings of the period count (all outliers) is no customer of the cell. A meter stands
    for its site's households (a complex's district-heat meter; at least 1), each with an equal
    share of its use (:func:`energy_lib.publish.privacy.cell_statistics`, ``represents``).

    Parameters
    ----------
    store : Store
        The canonical store.
    periods : pandas.DataFrame
        ``child`` month (``YYYY-MM``) → ``parent`` period (e.g. ``2024`` or
        ``2024-01/2024-12``): the periods beside the months, each the sum of its months.

    Returns
    -------
    pandas.DataFrame
        ``ward_code``, ``building_type``, ``carrier``, ``period`` (``YYYY-MM`` or a parent),
        ``customers`` [end customers], ``total`` [kWh or m³] and ``largest`` (the largest end
        customer's use [kWh or m³]), sorted by the keys. Every meter counts in one dong and one
        building type, so these roll up the area and building-type hierarchies by sum, sum and
        max (:func:`energy_lib.publish.privacy.combine_statistics`).
    """
    edges = periods[["child", "parent"]].astype(str)
    query = f"""
    WITH monthly AS (
        SELECT r.meter_id, r.carrier, s.ward_code, s.building_type,
               greatest(coalesce(s.households, 1), 1) AS stands_for,
               strftime({_MONTH}, '%Y-%m') AS period,
               sum(CAST(r.value_canonical AS DECIMAL(38, 9))) FILTER (WHERE NOT r.outlier) AS value
        FROM readings r JOIN meters m USING (meter_id) JOIN sites s USING (site_id)
        GROUP BY ALL),
    lifted AS (
        SELECT * FROM monthly WHERE value IS NOT NULL
        UNION ALL
        SELECT meter_id, carrier, ward_code, building_type, stands_for, e.parent AS period, sum(value) AS value
        FROM monthly JOIN edges e ON monthly.period = e.child
        WHERE value IS NOT NULL
        GROUP BY ALL)
    SELECT ward_code, building_type, carrier, period, sum(stands_for) AS customers, CAST(sum(value) AS DOUBLE) AS total,
           max(CAST(value AS DOUBLE) / stands_for) AS largest
    FROM lifted GROUP BY ALL ORDER BY ward_code, building_type, carrier, period
    """
    with contextlib.closing(store.connect(["readings", "meters", "sites"])) as con:
        con.register("edges", edges)
        frame = con.execute(query).df()
    return frame.astype({"ward_code": str, "building_type": str, "carrier": str, "period": str})


def with_common_units(frame: pd.DataFrame, *, value: str = "total") -> pd.DataFrame:
    """Add ``kwh`` [kWh], ``toe`` [toe] and ``kgco2eq`` [kgCO2eq] of ``value`` per row's carrier.

    Water has no energy content: its ``kwh`` and ``toe`` are NaN; its emissions are those of
    supply and treatment (config/units.toml).
    """
    carrier = frame["carrier"].astype(str)
    quantity = frame[value].to_numpy(dtype=float)
    return frame.assign(kwh=units.energy_kwh(quantity, carrier), toe=units.toe(quantity, carrier),
                        kgco2eq=units.kgco2eq(quantity, carrier))


def year_on_year(frame: pd.DataFrame, keys: list[str], *, value: str = "total") -> pd.Series:
    """Change of ``value`` against the same month a year earlier [fraction; 0.05 = +5%].

    NaN where the earlier month is missing or zero. ``keys`` identify a series (e.g.
    ``["ward_code", "carrier"]``); ``frame`` has a ``month`` column.
    """
    earlier = frame[keys + ["month", value]].assign(month=frame["month"] + pd.DateOffset(years=1))
    joined = frame[keys + ["month"]].merge(earlier, on=keys + ["month"], how="left")[value].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.where(joined > 0, frame[value].to_numpy(dtype=float) / joined - 1.0, np.nan)
    return pd.Series(change, index=frame.index, name="year_on_year")


def intensity(totals: pd.DataFrame, denominators: pd.DataFrame, keys: list[str], *,
              value: str = "kwh", per: str = "households") -> pd.Series:
    """``value`` per unit of a denominator of the same group (e.g. kWh per household, per m²).

    Parameters
    ----------
    totals : pandas.DataFrame
        Cells with ``keys`` and ``value``.
    denominators : pandas.DataFrame
        ``keys`` and the ``per`` column (e.g. households or floor_area_m2 of the group's sites).
    """
    joined = totals[keys].merge(denominators[keys + [per]], on=keys, how="left")[per].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.Series(np.where(joined > 0, totals[value].to_numpy(dtype=float) / joined, np.nan),
                         index=totals.index, name=f"{value}_per_{per}")


def energy_mix(frame: pd.DataFrame, keys: list[str], *, value: str = "kwh") -> pd.DataFrame:
    """Each carrier's share of a group's energy [fraction], one column per carrier.

    Water (no energy content) is left out. Groups with no energy, or with a suppressed carrier,
    get NaN shares.
    """
    energy = frame[frame["carrier"] != "water"]
    # a carrier the group does not use has no row (0); a suppressed carrier is NaN, and then no
    # share of the group can be published
    table = energy.groupby([*keys, "carrier"], sort=True)[value].sum(min_count=1).unstack("carrier", fill_value=0.0)
    table[table.isna().any(axis=1)] = np.nan
    total = table.sum(axis=1, min_count=1)
    return table.div(total.where(total > 0), axis=0)


def monthly_series(consumption: pd.DataFrame, area: str, *, building_type: str = "all",
                   value: str = "total") -> pd.DataFrame:
    """One area's monthly ``value`` per carrier: months as rows, carriers as columns (NaN where
    suppressed).

    Parameters
    ----------
    consumption : pandas.DataFrame
        The open-data ``consumption_monthly`` table.
    area : str
        ``"city"``, a gu code or a dong code.
    """
    rows = consumption[(consumption["area"] == area) & (consumption["building_type"] == building_type)]
    table = rows.pivot_table(index="month", columns="carrier", values=value, aggfunc="first", dropna=False)
    return table.sort_index()


def last_twelve_months(consumption: pd.DataFrame, *, value: str = "total", end: str | None = None,
                       annual: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per area, building type and carrier: ``value`` summed over the last twelve months and the
    twelve before, and the change [fraction]. A sum with a suppressed month is NaN, unless the
    open data publishes the twelve months' total itself.

    Parameters
    ----------
    consumption : pandas.DataFrame
        The open-data ``consumption_monthly`` table (``month`` as ``YYYY-MM``).
    end : str, optional
        The last month (``YYYY-MM``) of the recent year; default the last month in the table.
    annual : pandas.DataFrame, optional
        The open-data ``consumption_annual`` table: where a month is withheld but the total of
        the twelve months (period ``YYYY-MM/YYYY-MM``, or ``YYYY`` for a calendar year) is
        published, that total is used (the protection keeps both consistent).
    """
    month = consumption["month"].astype(str)
    last = pd.Period(end or month.max(), freq="M")
    # YYYY-MM strings sort like the months they name: compare strings, not 80,000 periods
    recent = month.isin([str(last - i) for i in range(12)]).to_numpy()
    earlier = month.isin([str(last - 12 - i) for i in range(12)]).to_numpy()
    keys = ["level", "area", "building_type", "carrier"]

    def total(mask) -> pd.Series:
        rows = consumption[mask]
        # min_count: a year is a sum of twelve published months or nothing
        return rows.groupby(keys, sort=True, observed=True)[value].sum(min_count=12)

    out = pd.DataFrame({"recent": total(recent), "earlier": total(earlier)})
    if annual is not None:
        for column, first, final in (("recent", last - 11, last), ("earlier", last - 23, last - 12)):
            codes = {f"{first}/{final}"} | ({str(final.year)} if final.month == 12 else set())
            published = annual[annual["period"].isin(codes)].groupby(keys, sort=True, observed=True)[value].first()
            out[column] = out[column].fillna(published.reindex(out.index))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["change"] = np.where(out["earlier"] > 0, out["recent"] / out["earlier"] - 1.0, np.nan)
    out.attrs["period"] = (str(last - 11), str(last))
    return out.reset_index()


def carrier_totals(annual: pd.DataFrame, keys: list[str], *, value: str = "recent",
                   carriers: tuple[str, ...] = units.ENERGY_CARRIERS) -> pd.DataFrame:
    """Each group's use per energy carrier in one unit, and their total only where it is complete.

    Parameters
    ----------
    annual : pandas.DataFrame
        :func:`last_twelve_months` of a common unit (``value="kwh"`` [kWh] or ``"toe"`` [toe]),
        or any frame with ``keys``, ``carrier`` and ``value``, one row per group and carrier.
    keys : list of str
        What a group is, e.g. ``["area", "building_type"]``.
    carriers : tuple of str
        The carriers that make up the total (energy: water has no energy content).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``keys``: one column per carrier (0 where the group has no such meter, NaN
        where its use is withheld) and ``total``, the sum over every carrier, NaN wherever one
        of them is withheld: a sum of the published carriers alone would be a silent partial sum.
        ``withheld`` lists each group's withheld carriers (comma-separated, empty if none).
    """
    rows = annual[annual["carrier"].isin(carriers)].set_index([*keys, "carrier"])[value].astype(float)
    wide = rows.unstack("carrier")
    present = pd.Series(1.0, index=rows.index).unstack("carrier").notna()
    # a carrier with no row: the group has no such meter (0); a row without value: withheld (NaN)
    wide = wide.where(present, 0.0).reindex(columns=list(carriers), fill_value=0.0)
    complete = wide.notna().all(axis=1)
    out = wide.copy()
    out["total"] = wide.sum(axis=1).where(complete)
    out["withheld"] = wide.isna().astype(int).dot(pd.Index(list(carriers)) + ",").str.rstrip(",").astype(str)
    return out


def ranking(annual: pd.DataFrame, stock: pd.DataFrame, *, carrier: str, level: str = "ward",
            building_type: str = "all", per: str = "households") -> pd.DataFrame:
    """Areas of one level ranked by their last twelve months' use per household (or per m²).

    Parameters
    ----------
    annual : pandas.DataFrame
        :func:`last_twelve_months`.
    stock : pandas.DataFrame
        The open-data ``stock`` table.

    Returns
    -------
    pandas.DataFrame
        ``area``, ``recent`` [canonical unit], ``per`` denominator, ``intensity`` [unit per
        household or per m²] and ``rank`` (1 = highest; NaN where the use is suppressed), sorted
        by rank, unranked last.
    """
    rows = annual[(annual["level"] == level) & (annual["carrier"] == carrier) & (annual["building_type"] == building_type)]
    rows = rows.merge(stock[["area", "building_type", per]], on=["area", "building_type"], how="left")
    out = rows[["area", "recent", per]].copy()
    out["intensity"] = intensity(rows, rows, ["area", "building_type"], value="recent", per=per).to_numpy()
    out["rank"] = out["intensity"].rank(ascending=False, method="min")
    return out.sort_values(["rank", "area"], na_position="last", kind="stable", ignore_index=True)


def energy_ranking(annual: pd.DataFrame, stock: pd.DataFrame, *, level: str = "ward", building_type: str = "all",
                   per: str = "floor_area_m2") -> pd.DataFrame:
    """Areas of one level ranked by their last twelve months' energy over every carrier [kWh] per
    unit of ``per`` (per m² of floor area by default); an area with a withheld carrier is not
    ranked (its total would be partial).

    Parameters
    ----------
    annual : pandas.DataFrame
        :func:`last_twelve_months` with ``value="kwh"``.
    stock : pandas.DataFrame
        The open-data ``stock`` table (``households``, ``floor_area_m2`` from the registers).

    Returns
    -------
    pandas.DataFrame
        As :func:`ranking`: ``area``, ``recent`` [kWh], ``per``, ``intensity`` [kWh per unit of
        ``per``] and ``rank``.
    """
    rows = annual[(annual["level"] == level) & (annual["building_type"] == building_type)]
    totals = carrier_totals(rows, ["area"])["total"].rename("recent").reset_index()
    totals = totals.merge(stock[["area", "building_type", per]][stock["building_type"] == building_type], on="area",
                          how="left")
    out = totals[["area", "recent", per]].copy()
    out["intensity"] = intensity(totals, totals, ["area"], value="recent", per=per).to_numpy()
    out["rank"] = out["intensity"].rank(ascending=False, method="min")
    return out.sort_values(["rank", "area"], na_position="last", kind="stable", ignore_index=True)


def re100_progress(generation: pd.DataFrame, consumption: pd.DataFrame, *, area: str = "city") -> pd.DataFrame:
    """Renewable (PV) generation against electricity use per year, and the share [fraction],
    next to the straight path to the city's RE100 target (``config/targets.toml``).

    Years with a suppressed month of either are NaN. Returns ``year``, ``generation_kwh``,
    ``electricity_kwh``, ``share`` and ``target_share`` (the path: linear from the first year's
    share to 100% in the target year).
    """
    targets = configuration.load("targets")["re100"]
    gen = generation[generation["area"] == area].assign(year=lambda f: f["month"].str[:4])
    use = consumption[(consumption["area"] == area) & (consumption["building_type"] == "all")
                      & (consumption["carrier"] == "electricity")].assign(year=lambda f: f["month"].str[:4])
    full = use.groupby("year")["month"].nunique() == 12
    out = pd.DataFrame({"generation_kwh": gen.groupby("year")["total"].sum(min_count=12),
                        "electricity_kwh": use.groupby("year")["total"].sum(min_count=12)})
    out = out[full.reindex(out.index, fill_value=False)]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share"] = out["generation_kwh"] / out["electricity_kwh"]
    out = out.reset_index()
    if len(out):
        first_year, first_share = int(out["year"].iloc[0]), float(out["share"].iloc[0])
        span = int(targets["year"]) - first_year
        progress = (out["year"].astype(int) - first_year) / span if span > 0 else 1.0
        out["target_share"] = first_share + (float(targets["share"]) - first_share) * progress
    else:
        out["target_share"] = pd.Series(dtype=float)
    return out


def emissions_path(consumption: pd.DataFrame, *, area: str = "city") -> pd.DataFrame:
    """Emissions of metered use per full year [tCO2eq] next to the straight path from the first
    year to net zero in the city's target year (``config/targets.toml``).

    Carriers with a suppressed month in any year are left out of every year (so years compare),
    and listed in ``attrs["left_out"]``.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``tco2eq`` and ``target_tco2eq``.
    """
    target_year = int(configuration.load("targets")["carbon_neutrality"]["year"])
    rows = consumption[(consumption["area"] == area) & (consumption["building_type"] == "all")]
    rows = rows.assign(year=rows["month"].str[:4])
    months = rows.groupby("year")["month"].nunique()
    rows = rows[rows["year"].isin(months[months == 12].index)]
    complete = rows.groupby("carrier")["kgco2eq"].apply(lambda s: s.notna().all())
    kept = rows[rows["carrier"].isin(complete[complete].index)]
    out = (kept.groupby("year")["kgco2eq"].sum() / 1000).rename("tco2eq").reset_index()
    if len(out):
        first_year, first = int(out["year"].iloc[0]), float(out["tco2eq"].iloc[0])
        span = target_year - first_year
        out["target_tco2eq"] = first * (1 - (out["year"].astype(int) - first_year) / span) if span > 0 else 0.0
    else:
        out["target_tco2eq"] = pd.Series(dtype=float)
    out.attrs["left_out"] = sorted(complete[~complete].index)
    return out
