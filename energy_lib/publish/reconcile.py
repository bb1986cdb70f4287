"""Reconciling site-level totals with what the utilities publish.

KEPCO publishes electricity use by gu, contract type (계약종별) and billing month, through its API
(format ``kepco``) and in its public national file (format ``kepco_public``); both land in
``utility_aggregates`` under provider ``kepco``, so everything here covers either. The store's
site-level readings cover part of KEPCO's customers (the city's metered sample, or all of them at
full scale). Comparing the two per gu, contract type and month says how much of the city the site
data covers, and exposes missing files or unit errors (a coverage far above 100%).

Site readings are assigned to KEPCO's contract types by the site's building type (docs/reconcile.md
has the table and the reasons): households (one household per site) → 주택용 (residential);
commercial, public and multi-household sites → 일반용 (general); education → 교육용; industrial →
산업용. 농사용, 가로등 and 심야 have no sites: the utility's figure stands alone. A reading counts in
the month of its last instant: a bill in the month of its read date (the billing month, as KEPCO
counts), monthly and interval data in their calendar month.

Where both give a gu's total for a year they must agree within ``[gu_totals] tolerance`` of
``config/reconcile.toml``; :func:`agreement` names the outcome.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from energy_lib.core import configuration
from energy_lib.ingest import vocab
from energy_lib.store import Store

__all__ = ["electricity_against_kepco", "by_year", "coverage", "agreement", "tolerance", "Agreement",
           "published_totals", "CONTRACT_OF_BUILDING", "CONTRACT_TYPES", "STORE_SIDE"]

CONTRACT_OF_BUILDING = {"commercial": "general", "public": "general", "education": "education",
                        "industrial": "industrial", "apartment": "general", "detached": "general",
                        "unknown": "general"}
CONTRACT_TYPES = ("residential", "general", "education", "industrial", "agricultural", "streetlight", "night")
"""KEPCO's contract types, in the order KEPCO lists them (their names: :data:`energy_lib.ingest.vocab.CONTRACT_TYPES`)."""
STORE_SIDE = {"all": "all", "residential": "residential"}
"""The published store figure (``consumption_annual`` building type or sector) set beside each
KEPCO category in the open data: the total beside KEPCO's total, the residential sector (homes and
apartments: households) beside 주택용. The other contract types have no published counterpart
(docs/reconcile.md)."""


class Agreement(StrEnum):
    """How a store total compares with the utility's published one (:func:`agreement`)."""

    AGREES = "agrees"
    """Within the tolerance."""
    PARTIAL = "partial"
    """The store holds less than the utility published, beyond the tolerance: it covers part of the
    customers. Flagged; the reports show the utility's figure beside the store's."""
    EXCEEDS = "exceeds"
    """The store holds more than the utility billed, beyond the tolerance: a duplicate file, a unit
    error or sites in the wrong gu. Flagged: check before publishing."""
    NO_STORE_DATA = "no_store_data"
    """The utility publishes a figure the store has nothing for."""
    WITHHELD = "withheld"
    """The store's figure is withheld by the disclosure rules (open data only)."""


def tolerance() -> float:
    """Relative tolerance between a store total and the utility's [fraction] (config/reconcile.toml)."""
    return float(configuration.lookup("reconcile", "gu_totals.tolerance"))


def agreement(store_kwh, utility_kwh, *, within: float | None = None) -> np.ndarray:
    """:class:`Agreement` of each pair of totals [kWh]: ``|store − utility| ≤ within × utility``
    agrees; less is partial, more exceeds; no store figure (NaN) is ``no_store_data``."""
    within = tolerance() if within is None else within
    store_kwh, utility_kwh = np.asarray(store_kwh, dtype=float), np.asarray(utility_kwh, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = store_kwh / utility_kwh
    return np.select([np.isnan(store_kwh), np.abs(ratio - 1) <= within, ratio < 1],
                     [Agreement.NO_STORE_DATA.value, Agreement.AGREES.value, Agreement.PARTIAL.value],
                     Agreement.EXCEEDS.value).astype(object)


def electricity_against_kepco(store: Store) -> pd.DataFrame:
    """Site-level electricity against KEPCO's published totals, per gu × contract type × month.

    Returns
    -------
    pandas.DataFrame
        ``gu_code``, ``gu_name_ko``, ``category``, ``month``, ``site_kwh`` [kWh], ``meters``,
        ``kepco_kwh`` [kWh], ``kepco_customers``, ``coverage`` (site_kwh / kepco_kwh) and
        ``meter_coverage`` (meters / kepco_customers). Months present on one side only appear
        with NaN on the other. KEPCO's ``합계`` rows (category ``all``) are left out: the contract
        types sum to them.
    """
    mapping = ", ".join(f"('{k}', '{v}')" for k, v in CONTRACT_OF_BUILDING.items())
    return store.sql(f"""
        WITH contract(building_type, category) AS (VALUES {mapping}),
        site_rows AS (
            SELECT w.gu_code,
                   CASE WHEN s.households = 1 THEN 'residential' ELSE c.category END AS category,
                   date_trunc('month', r.period_end - INTERVAL 1 MICROSECOND) AS month,
                   r.value_canonical AS kwh, r.meter_id
            FROM readings r JOIN meters m USING (meter_id) JOIN sites s USING (site_id)
                 JOIN wards w ON w.ward_code = s.ward_code JOIN contract c ON c.building_type = s.building_type
            WHERE r.carrier = 'electricity'),
        site_totals AS (
            SELECT gu_code, category, month, sum(kwh) AS site_kwh, count(DISTINCT meter_id) AS meters
            FROM site_rows GROUP BY ALL),
        kepco AS (
            SELECT region_code AS gu_code, category, period_start AS month, sum(value_canonical) AS kepco_kwh,
                   sum(customers) AS kepco_customers
            FROM utility_aggregates WHERE provider = 'kepco' AND region_level = 'gu' AND category <> 'all'
            GROUP BY ALL)
        SELECT gu_code, g.gu_name_ko, category, month, site_kwh, meters, kepco_kwh, kepco_customers,
               site_kwh / kepco_kwh AS coverage, meters / kepco_customers AS meter_coverage
        FROM site_totals FULL OUTER JOIN kepco USING (gu_code, category, month)
             LEFT JOIN (SELECT DISTINCT gu_code, gu_name_ko FROM wards) g USING (gu_code)
        ORDER BY gu_code, category, month""")


def by_year(table: pd.DataFrame) -> pd.DataFrame:
    """The reconciliation summed over calendar years (months with both sides only)."""
    both = table.dropna(subset=["site_kwh", "kepco_kwh"]).assign(year=lambda t: t["month"].dt.year)
    out = both.groupby(["gu_code", "gu_name_ko", "category", "year"], as_index=False).agg(
        site_kwh=("site_kwh", "sum"), kepco_kwh=("kepco_kwh", "sum"), meters=("meters", "max"),
        kepco_customers=("kepco_customers", "max"))
    out["coverage"] = (out["site_kwh"] / out["kepco_kwh"]).round(4)
    out["site_kwh"] = out["site_kwh"].round()
    out["kepco_kwh"] = out["kepco_kwh"].round()
    return out


def coverage(store: Store) -> pd.DataFrame:
    """The coverage table of ``energy summary``: the store's site-level totals against the
    utility's published totals per gu, carrier, category and year, and each gu's total.

    A year sums the months the utility publishes; the store's side sums the same months (a month
    the store lacks counts as none, so a gap in the site data shows as lower coverage).

    Returns
    -------
    pandas.DataFrame
        ``gu_code``, ``gu``, ``carrier``, ``category`` (a contract type, or ``all`` for the gu's
        total), ``year``, ``months`` (published by the utility), ``store_kwh`` [kWh],
        ``utility_kwh`` [kWh], ``coverage`` (store / utility) and ``status`` (:class:`Agreement`,
        judged for the gu totals only; empty for a contract type).
    """
    table = electricity_against_kepco(store)
    published = table.dropna(subset=["kepco_kwh"]).assign(year=lambda t: t["month"].dt.year)
    if published.empty:
        return pd.DataFrame(columns=["gu_code", "gu", "carrier", "category", "year", "months", "store_kwh",
                                     "utility_kwh", "coverage", "status"])
    keys = ["gu_code", "gu_name_ko", "year"]
    per_type = published.groupby(keys + ["category"], as_index=False).agg(
        months=("month", "nunique"), store_kwh=("site_kwh", "sum"), utility_kwh=("kepco_kwh", "sum"))
    total = published.groupby(keys, as_index=False).agg(
        months=("month", "nunique"), store_kwh=("site_kwh", "sum"), utility_kwh=("kepco_kwh", "sum")
    ).assign(category="all")
    out = pd.concat([per_type, total], ignore_index=True)
    order = {c: i for i, c in enumerate([*CONTRACT_TYPES, "all"])}
    out = out.sort_values(["gu_code", "year", "category"], key=lambda s: s.map(order) if s.name == "category" else s,
                          ignore_index=True)
    out["store_kwh"] = out["store_kwh"].where(out["store_kwh"] > 0)  # nothing stored: no figure, not 0
    out["coverage"] = (out["store_kwh"] / out["utility_kwh"]).round(4)
    out["status"] = np.where(out["category"] == "all", agreement(out["store_kwh"], out["utility_kwh"]), "")
    out.insert(2, "carrier", "electricity")
    return out.rename(columns={"gu_name_ko": "gu"})[
        ["gu_code", "gu", "carrier", "category", "year", "months", "store_kwh", "utility_kwh", "coverage", "status"]]


def published_totals(store: Store, consumption_annual: pd.DataFrame) -> pd.DataFrame:
    """The open-data table ``utility_electricity``: KEPCO's published use per gu (and the city),
    contract type and calendar year, with the store's published total beside each area's total.

    The utility's figures are public at gu × contract type (KEPCO publishes them), so they are
    shown as they are. The store's side is taken only from ``consumption_annual`` (area × year,
    electricity; building type ``all`` beside the total, the residential sector beside 주택용:
    :data:`STORE_SIDE`) — the table the disclosure control has already protected — so nothing about
    a household or a small group of sites is published here that is not there: a withheld cell
    stays withheld (status ``withheld``).

    Returns
    -------
    pandas.DataFrame
        The columns of ``opendata.TABLES["utility_electricity"]``.
    """
    kepco = store.sql("""
        SELECT region_code AS gu_code, category, year(period_start) AS year, count(DISTINCT period_start) AS months,
               sum(value_canonical) AS utility_kwh, sum(bill_won) AS utility_bill_won,
               max_by(customers, period_start) AS utility_customers
        FROM utility_aggregates
        WHERE provider = 'kepco' AND carrier = 'electricity' AND region_level = 'gu' AND category <> 'all'
        GROUP BY ALL""")
    columns = ["level", "area", "gu_code", "year", "category", "category_ko", "months", "utility_kwh",
               "utility_customers", "utility_bill_won", "store_kwh", "coverage", "status"]
    if kepco.empty:
        return pd.DataFrame(columns=columns)
    kepco["level"], kepco["area"] = "gu", kepco["gu_code"]
    per_gu = kepco.groupby(["gu_code", "year"], as_index=False).agg(
        months=("months", "max"), utility_kwh=("utility_kwh", "sum"),
        utility_bill_won=("utility_bill_won", lambda b: b.sum(min_count=len(b))),
        utility_customers=("utility_customers", lambda c: c.sum(min_count=len(c))))
    per_gu = per_gu.assign(level="gu", area=per_gu["gu_code"], category="all")
    # the city: the years every gu publishes in full, per contract type and in all
    whole = per_gu.loc[per_gu["months"] == 12, ["gu_code", "year"]]
    gus = whole.groupby("year")["gu_code"].nunique()
    every_gu = int(store.sql("SELECT count(DISTINCT gu_code) AS n FROM wards")["n"].iloc[0])
    years = gus[gus == every_gu].index
    both = pd.concat([kepco, per_gu], ignore_index=True).merge(whole, on=["gu_code", "year"])
    city = both[both["year"].isin(years)].groupby(["year", "category"], as_index=False).agg(
        utility_kwh=("utility_kwh", "sum"),
        utility_bill_won=("utility_bill_won", lambda b: b.sum(min_count=len(b))),
        utility_customers=("utility_customers", lambda c: c.sum(min_count=len(c))))
    city = city.assign(level="city", area="city", gu_code="", months=12)
    out = pd.concat([kepco, per_gu, city], ignore_index=True)
    out["category_ko"] = out["category"].map({k: names[0] for k, names in vocab.CONTRACT_TYPES.items()})  # 주택용 … 합계
    # the store's published figure of the same area and year (complete calendar years only): the
    # total beside KEPCO's total, the residential sector (homes and apartments) beside 주택용
    own = consumption_annual[(consumption_annual["carrier"] == "electricity")
                             & consumption_annual["building_type"].isin(list(STORE_SIDE.values()))
                             & consumption_annual["period"].astype(str).str.fullmatch(r"\d{4}")]
    own = own.assign(year=own["period"].astype(int),
                     category=own["building_type"].map({v: k for k, v in STORE_SIDE.items()}))
    out = out.merge(own[["area", "year", "category", "total", "suppressed"]], on=["area", "year", "category"], how="left")
    compared = out["category"].isin(list(STORE_SIDE)).to_numpy()
    withheld = compared & out["suppressed"].fillna(False).astype(bool).to_numpy()
    out["store_kwh"] = np.where(compared & ~withheld, out["total"], np.nan)
    out["coverage"] = (out["store_kwh"] / out["utility_kwh"]).round(4)
    status = np.where(withheld, Agreement.WITHHELD.value, agreement(out["store_kwh"], out["utility_kwh"]))
    out["status"] = np.where(compared, status, "")
    out["utility_customers"] = out["utility_customers"].astype("Int64")
    order = {c: i for i, c in enumerate([*CONTRACT_TYPES, "all"])}
    out = out.assign(_l=out["level"].map({"city": 0, "gu": 1}), _c=out["category"].map(order))
    out = out.sort_values(["_l", "area", "year", "_c"], ignore_index=True)
    return out[columns]
