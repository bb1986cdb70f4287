"""Reconciling site-level totals with what the utilities publish.

KEPCO publishes electricity use by gu, contract type (계약종별) and billing month. The store's
site-level readings cover part of KEPCO's customers (the city's metered sample, or all of them at
full scale). Comparing the two per gu, contract type and month says how much of the city the
site data covers, and exposes missing files or unit errors (a coverage far above 100%).

Site readings are assigned to KEPCO's contract types by the site's building type: households
(one household per site) → 주택용 (residential); commercial, public and multi-household sites →
일반용 (general); education → 교육용; industrial → 산업용. A reading counts in the month of its
last instant: a bill in the month of its read date (the billing month, as KEPCO counts), monthly
and interval data in their calendar month.
"""

from __future__ import annotations

import pandas as pd

from energy_lib.store import Store

__all__ = ["electricity_against_kepco", "by_year", "CONTRACT_OF_BUILDING"]

CONTRACT_OF_BUILDING = {"commercial": "general", "public": "general", "education": "education",
                        "industrial": "industrial", "apartment": "general", "detached": "general",
                        "unknown": "general"}


def electricity_against_kepco(store: Store) -> pd.DataFrame:
    """Site-level electricity against KEPCO's published totals, per gu × contract type × month.

    Returns
    -------
    pandas.DataFrame
        ``gu_code``, ``gu_name_ko``, ``category``, ``month``, ``site_kwh`` [kWh], ``meters``,
        ``kepco_kwh`` [kWh], ``kepco_customers``, ``coverage`` (site_kwh / kepco_kwh) and
        ``meter_coverage`` (meters / kepco_customers). Months present on one side only appear
        with NaN on the other.
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
            FROM utility_aggregates WHERE provider = 'kepco' AND region_level = 'gu' GROUP BY ALL)
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
