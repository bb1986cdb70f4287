"""Open data: every published table, aggregated and privacy-checked, in open formats.

``reports/site/data/`` holds, for researchers and for the report notebooks (which read nothing
else, so a report cannot show what the open data does not):

* each table as Parquet and as CSV in UTF-8 with a byte-order mark (Excel then reads Korean);
* a static "open API": ``api/<level>/<code>/<table>.json``, one JSON file per area and table,
  and ``api/index.json`` listing them;
* ``dictionary.csv`` (every column, its unit and meaning), ``LICENSE.txt`` and ``manifest.json``
  (data period, sources, code version, the hash of every file and of the inputs);
* ``index.html``, a page listing the downloads.

No table holds a household's value: every cell is a sum over customers (utility meters) that
passes the 15/15 rule with complementary suppression (:mod:`energy_lib.publish.privacy`); a hidden cell
is published with empty values and ``suppressed`` true. Why it is hidden is not published: that
would tell which cells hold few customers or one dominant customer.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import energy_lib
from energy_lib.core import configuration, i18n, templating
from energy_lib.core.status import Status, Sufficiency
from energy_lib.core.wards import wards as ward_table
from energy_lib.evaluation import EffectStatus
from energy_lib.publish import aggregate, disclosure, privacy, reconcile
from energy_lib.publish.audit import attack
from energy_lib.publish.cells import lift
from energy_lib.publish.protection import REASONS
from energy_lib.store import Store

__all__ = ["TABLES", "AREA_LEVELS", "ALL_TYPES", "BUILDING_TYPES", "SECTORS", "build", "read", "manifest", "inputs_hash", "code_version",
           "consumption_tables", "savings_table", "carbon_point_table", "generation_table", "stock_table", "protect",
           "audit_site", "release_inputs",
           "programme_tables"]

AREA_LEVELS = ("city", "gu", "ward")
ALL_TYPES, BUILDING_TYPES, SECTORS = disclosure.ALL_TYPES, disclosure.BUILDING_TYPES, disclosure.SECTORS


@dataclass(frozen=True)
class Column:
    name: str
    unit: str
    description: str


_AREA = [
    Column("level", "", "`city`, `gu` or `ward` (administrative dong)."),
    Column("area", "", "`city`, the 5-digit gu code or the 10-digit dong code."),
    Column("gu_code", "", "5-digit gu code (empty for the city)."),
    Column("ward_code", "", "10-digit dong code (empty above dong level)."),
    Column("building_type", "", "`apartment`, `detached`, `commercial`, `public`, `education`, `industrial`, `unknown`; "
                                "the sectors `residential`, `non_residential`, `unclassified`; or `all`."),
]
_PRIVACY = [
    Column("suppressed", "", "True where the values are withheld to protect individual customers: by the 15/15 rule "
                             "or because they would let a reader work out a withheld value (docs/privacy.md); the "
                             "value columns are then empty."),
]

_USE = [
    Column("total", "kWh or m³", "Use in the carrier's canonical unit (electricity and heat kWh, gas and water m³)."),
    Column("unit", "", "Unit of `total`."),
    Column("kwh", "kWh", "Energy content (empty for water)."),
    Column("toe", "toe", "Tonnes of oil equivalent (empty for water)."),
    Column("kgco2eq", "kgCO2eq", "Emissions (Carbon Point factors)."),
    Column("customers", "", "End customers summed: a meter of one customer counts 1, a complex's meter its "
                            "households (docs/privacy.md)."),
]

_PROGRAMME = [Column("programme_id", "", "Programme (see programmes).")]
_PROGRAMME_CARRIER = _PROGRAMME + [Column("carrier", "", "Carrier evaluated.")]
_PRIVACY_PROGRAMME = [
    Column("suppressed", "", "True where fewer than 15 participants or 15 comparison meters were evaluated; the "
                             "value columns are then empty."),
]

TABLES: dict[str, list[Column]] = {
    "consumption_monthly": _AREA + [
        Column("carrier", "", "`electricity`, `gas`, `water` or `heat`."),
        Column("month", "YYYY-MM", "Billing month (bills: month read; other data: month started)."),
    ] + _USE + _PRIVACY,
    "consumption_annual": _AREA + [
        Column("carrier", "", "`electricity`, `gas`, `water` or `heat`."),
        Column("period", "YYYY or YYYY-MM/YYYY-MM", "A complete calendar year, or the last twelve months (ISO 8601 "
                                                    "interval of months); the sum of its months."),
    ] + _USE + _PRIVACY,
    "savings": _AREA + [
        Column("analysis", "", "`annual` (last 12 billing months against the 12 before) or `programme:<id>`."),
        Column("carrier", "", "Carrier."),
        Column("meters", "", "Meters summed: a sufficient baseline and, in the annual analysis, no programme begun in "
                             "its baseline year."),
        Column("meters_insufficient", "", "Meters with a savings figure left out of the sum: their baseline fails "
                                          "CalTRACK data sufficiency."),
        Column("meters_programme_in_baseline", "", "Annual analysis: meters left out of the sum because their "
                                                   "programme began during their baseline year."),
        Column("savings", "kWh or m³", "Avoided energy use (counterfactual − observed; positive is a saving)."),
        Column("band", "kWh or m³", "Half-width of the 90% interval of `savings` (calibrated)."),
        Column("normal_savings", "kWh or m³", "Savings in a typical weather year."),
        Column("normal_band", "kWh or m³", "Half-width of the 90% interval of `normal_savings`."),
        Column("savings_kgco2eq", "kgCO2eq", "Savings as emissions."),
        Column("unit", "", "Unit of the quantities."),
    ] + _PRIVACY,
    "carbon_point": _AREA + [
        Column("carrier", "", "Carrier (electricity, gas, water)."),
        Column("half_year", "YYYYH1/H2", "Carbon Point settlement half-year."),
        Column("meters", "", "Meters evaluated (with a baseline)."),
        Column("tier_1", "", "Meters reducing 5–10%."),
        Column("tier_2", "", "Meters reducing 10–15%."),
        Column("tier_3", "", "Meters reducing 15% or more."),
        Column("maintenance", "", "Meters earning the maintenance bonus."),
        Column("points", "point", "Points earned."),
        Column("won", "won", "Incentive value."),
    ] + _PRIVACY,
    "generation": _AREA + [
        Column("month", "YYYY-MM", "Month."),
        Column("total", "kWh", "PV generation."),
        Column("customers", "", "Generating sites summed."),
    ] + _PRIVACY,
    "stock": _AREA + [
        Column("sites", "", "Metered sites (withheld where fewer than the rule's minimum, with complements)."),
        Column("households", "", "Households of the sites (residential); from the resident and apartment registers, "
                                 "public, so published for every cell."),
        Column("floor_area_m2", "m²", "Floor area of the sites where registered; from the building register "
                                      "(건축물대장), public, so published for every cell."),
        Column("suppressed", "", "True where `sites` is withheld."),
    ],
    "programmes": [
        Column("programme_id", "", "Programme."),
        Column("name_ko", "", "Name, Korean."),
        Column("name_en", "", "Name, English."),
        Column("carrier", "", "Carrier it targets (empty: every energy carrier is evaluated)."),
        Column("starts_on", "YYYY-MM-DD", "Day the programme opened."),
        Column("cost_won_per_participant", "won", "Public cost per participating site, where known."),
        Column("participants", "", "Participating sites."),
    ],
    "programme_effects": _PROGRAMME_CARRIER + [
        Column("participants", "", "Participants evaluated (matched, with enough months of use)."),
        Column("controls", "", "Comparison meters (non-participants matched on ward, building type and use)."),
        Column("effect", "kWh or m³ per day", "Average change of a participant's use per day after enrolment, "
                                              "difference in differences (negative: use fell)."),
        Column("ci_low", "kWh or m³ per day", "Lower end of the confidence interval of `effect`."),
        Column("ci_high", "kWh or m³ per day", "Upper end."),
        Column("confidence", "", "Level of the intervals (0.95)."),
        Column("p_value", "", "Two-sided p-value of `effect` (errors clustered by site)."),
        Column("pretrend_p_value", "", "p-value of the test that participants and controls moved alike before enrolment."),
        Column("matched_in_gu", "fraction", "Share of participants matched within the gu (too few close candidates in their dong)."),
        Column("unit", "", "Unit of the effect (kWh or m³)."),
    ] + _PRIVACY_PROGRAMME,
    "programme_event_study": _PROGRAMME_CARRIER + [
        Column("event", "months", "Billing month relative to the enrolment month (−1 is the reference)."),
        Column("effect", "kWh or m³ per day", "Participants' use against their controls, relative to month −1."),
        Column("ci_low", "kWh or m³ per day", "Lower end of its confidence interval."),
        Column("ci_high", "kWh or m³ per day", "Upper end."),
        Column("unit", "", "Unit (kWh or m³)."),
    ] + _PRIVACY_PROGRAMME,
    "programme_balance": _PROGRAMME_CARRIER + [
        Column("covariate", "", "`use_per_day` (twelve months before enrolment), `level` (its log), `heating_ratio`, "
                                "`cooling_ratio` (November–March, June–September use over the mean) or `floor_area_m2`."),
        Column("participants", "", "Participants' mean."),
        Column("candidates", "", "Mean of every candidate comparison meter (same carrier, building type, gu)."),
        Column("matched", "", "Matched controls' mean."),
        Column("smd_before", "", "Standardised mean difference, participants − candidates."),
        Column("smd_after", "", "Standardised mean difference, participants − matched controls."),
        Column("balanced", "", "|smd_after| < 0.1."),
    ] + _PRIVACY_PROGRAMME,
    "programme_savings": _PROGRAMME_CARRIER + [
        Column("scope", "", "`per_participant` or `all_participants`."),
        Column("unit", "", "`native` (kWh or m³), `kwh`, `toe`, `kgco2eq` or `won`."),
        Column("estimate", "unit per year", "Savings in a year (positive: use fell)."),
        Column("low", "unit per year", "Lower end of the confidence interval."),
        Column("high", "unit per year", "Upper end."),
        Column("participants", "", "Participants the row counts."),
    ] + _PRIVACY_PROGRAMME,
    "programme_cost": _PROGRAMME + [
        Column("public_cost_won", "won", "Public cost (per participant × participants)."),
        Column("savings_won", "won per year", "Yearly bill savings of all participants (every carrier)."),
        Column("savings_won_low", "won per year", "Lower end."),
        Column("savings_won_high", "won per year", "Upper end."),
        Column("savings_toe", "toe per year", "Yearly energy savings."),
        Column("savings_kgco2eq", "kgCO2eq per year", "Yearly emissions avoided."),
        Column("payback_years", "years", "Simple payback: public cost / yearly bill savings."),
        Column("payback_years_low", "years", "From the upper end of the savings."),
        Column("payback_years_high", "years", "From the lower end (infinite: the interval reaches zero)."),
        Column("won_per_toe", "won per toe/year", "Public cost per toe saved a year."),
        Column("won_per_tco2eq", "won per tCO2eq/year", "Public cost per tonne CO2eq avoided a year."),
        Column("won_per_tco2eq_low", "won per tCO2eq/year", "From the upper end of the savings."),
        Column("won_per_tco2eq_high", "won per tCO2eq/year", "From the lower end of the savings."),
    ] + _PRIVACY_PROGRAMME,
    "programme_prosumers": _PROGRAMME + [
        Column("participants_with_generation", "", "Evaluated participants with PV generation data."),
        Column("generation", "kWh per year", "Mean generation per participant."),
        Column("grid_use", "kWh per year", "Mean metered (grid) electricity per participant."),
        Column("self_consumed", "kWh per year", "Generation used at home: the fall in metered use."),
        Column("self_consumed_low", "kWh per year", "Lower end."),
        Column("self_consumed_high", "kWh per year", "Upper end."),
        Column("exported", "kWh per year", "generation − self_consumed."),
        Column("gross_use", "kWh per year", "grid_use + self_consumed: what the home used."),
        Column("self_consumed_share", "fraction", "self_consumed / generation."),
        Column("self_consumed_share_low", "fraction", "Lower end."),
        Column("self_consumed_share_high", "fraction", "Upper end."),
    ] + _PRIVACY_PROGRAMME,
    "utility_electricity": [
        Column("level", "", "`city` or `gu` (KEPCO publishes by 시군구, not by dong)."),
        Column("area", "", "`city` or the 5-digit gu code."),
        Column("gu_code", "", "5-digit gu code (empty for the city)."),
        Column("year", "YYYY", "Calendar year."),
        Column("category", "", "KEPCO contract type (`residential` 주택용, `general` 일반용, `education` 교육용, "
                               "`industrial` 산업용, `agricultural` 농사용, `streetlight` 가로등, `night` 심야) or `all`."),
        Column("category_ko", "", "KEPCO's name of the contract type (계약종별; 합계 for `all`)."),
        Column("months", "", "Months of the year KEPCO's figures cover (12: the whole year)."),
        Column("utility_kwh", "kWh", "Electricity KEPCO published for the cell (한국전력공사 계약종별 전력사용량, "
                                     "public data): KEPCO's own figure, not the workbook's."),
        Column("utility_customers", "", "KEPCO's customers in the cell in the last month given (empty where not published)."),
        Column("utility_bill_won", "won", "KEPCO's bills in the cell over the months (empty where not published)."),
        Column("store_kwh", "kWh", "The workbook's own total of the area and year (`consumption_annual`, building type "
                                   "`all`, electricity; only for `all`; empty where withheld or not a complete year)."),
        Column("coverage", "fraction", "store_kwh / utility_kwh: the share of KEPCO's figure the workbook's site data covers."),
        Column("status", "", "For `all`: `agrees` (within the tolerance of config/reconcile.toml), `partial` (the site "
                             "data cover part of the customers), `exceeds` (more than KEPCO billed: flagged), "
                             "`no_store_data` or `withheld`; empty for a contract type."),
    ],
    "wards": [
        Column("ward_code", "", "10-digit administrative dong code."),
        Column("gu_code", "", "5-digit gu code."),
        Column("gu_name_ko", "", "Gu name, Korean."),
        Column("gu_name_en", "", "Gu name, English."),
        Column("dong_name_ko", "", "Dong name, Korean."),
        Column("dong_name_en", "", "Dong name, English."),
        Column("lat", "°", "Latitude of the dong's centre point."),
        Column("lon", "°", "Longitude of the dong's centre point."),
    ],
}
"""The open-data tables and their columns (the dictionary published with them)."""

LICENSE_TEXT = """Gwangju energy information workbook — open data

Data: Korea Open Government License Type 1 (공공누리 제1유형: attribution), equivalent to CC BY 4.0.
Cite as: "Gwangju energy information workbook, <date of manifest.json>".
Ward points: vuski/admdongkor (CC BY 4.0), based on SGIS (Statistics Korea).
The numbers of this build come from the synthetic demo city unless manifest.json says otherwise.
"""


def code_version() -> str:
    """The library version and, in a git checkout, the commit (``0.1.0+abc1234``)."""
    root = Path(energy_lib.__file__).resolve().parent  # git finds the checkout from inside it; a wheel has none
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return energy_lib.__version__
    return f"{energy_lib.__version__}+{commit}" if commit else energy_lib.__version__


def inputs_hash(store: Store, derived: Store) -> str:
    """SHA-256 of the store's and the derived tables' contents and of the library's code."""
    from energy_lib.publish.site import code_fingerprint

    return hashlib.sha256(f"{store.fingerprint()} {derived.fingerprint()} {code_fingerprint()}".encode()).hexdigest()


def _with_area_columns(frame: pd.DataFrame) -> pd.DataFrame:
    area = frame["area"].astype(str)
    level = np.select([area == "city", area.str.len() == 5], ["city", "gu"], "ward")
    out = frame.copy()
    out.insert(0, "level", level)
    out.insert(2, "gu_code", np.where(level == "city", "", area.str[:5]))
    out.insert(3, "ward_code", np.where(level == "ward", area, ""))
    return out


def _unit(carrier: pd.Series) -> pd.Series:
    return carrier.map({"electricity": "kWh", "heat": "kWh", "gas": "m³", "water": "m³"})


def consumption_tables(protected: disclosure.ProtectedRelease) -> dict[str, pd.DataFrame]:
    """Use per area level × building type × carrier, by month (``consumption_monthly``) and per
    complete calendar year and the last twelve months (``consumption_annual``), as protected."""
    cells = aggregate.with_common_units(protected.cells["consumption"])
    cells["unit"] = _unit(cells["carrier"])
    by = ["area", "building_type", "carrier", "period"]
    table = disclosure.published(protected, "consumption", cells, by,
                                 values=["total", "kwh", "toe", "kgco2eq", "customers"])
    table = _with_dong_totals(table, by, ["total", "kwh", "toe", "kgco2eq", "customers"])
    table["unit"] = _unit(table["carrier"])
    monthly = table["period"].str.len() == 7
    out = {"consumption_monthly": table[monthly].rename(columns={"period": "month"}),
           "consumption_annual": table[~monthly]}
    return {name: _with_area_columns(frame.reset_index(drop=True)) for name, frame in out.items()}


def _with_dong_totals(table: pd.DataFrame, by: list[str], sums: list[str], quadrature: tuple[str, ...] = ()) -> pd.DataFrame:
    """``table`` with each dong's total of all types, the sum of its published sectors.

    A dong's total is no cell of the release (:data:`energy_lib.publish.disclosure.DONG_TYPES`):
    it holds nothing beyond its sectors, and where a sector is withheld it would give that sector
    away. So it is published exactly where every sector the dong has is, as their sum (``sums``
    added, ``quadrature`` columns as the root of the sum of squares: bands), and withheld otherwise."""
    sectors = table[(table["area"].astype(str).str.len() == 10)
                    & table["building_type"].isin(set(disclosure.SECTORS.values()))]
    keys = [c for c in by if c != "building_type"]
    grouped = sectors.assign(**{c: sectors[c] ** 2 for c in quadrature}).groupby(keys, sort=True, dropna=False)
    totals = grouped[[*sums, *quadrature]].sum(min_count=1)
    totals[list(quadrature)] = np.sqrt(totals[list(quadrature)])
    withheld = grouped["suppressed"].any()
    totals[[*sums, *quadrature]] = totals[[*sums, *quadrature]].mask(withheld, np.nan)
    totals = totals.assign(suppressed=withheld, building_type=disclosure.ALL_TYPES).reset_index()
    for column in sums:
        if pd.api.types.is_integer_dtype(table[column].dtype) or str(table[column].dtype) == "Int64":
            totals[column] = totals[column].round().astype("Int64")
    out = pd.concat([table, totals], ignore_index=True)
    return out.sort_values(by, kind="stable", ignore_index=True)


def _design(frame: pd.DataFrame, protected: disclosure.ProtectedRelease, table: str, by: list[str]) -> pd.DataFrame:
    """The rows of ``frame`` that are cells of the release's ``table`` (its table design)."""
    return frame.merge(protected.cells[table][by], on=by, how="inner")


LEFT_OUT = ("meters_insufficient", "meters_programme_in_baseline")
"""The counts of :func:`left_out_counts`, published beside each sum of savings."""


def left_out_counts(savings: pd.DataFrame, dimensions: list, by: list[str]) -> pd.DataFrame:
    """Per cell ``by`` (areas and building types lifted along ``dimensions``, as the sums are): the
    primary meters with a savings figure and a band left out of the sum, as
    :func:`energy_lib.compute.savings_by_group` counts them — ``meters_insufficient`` (baseline
    failing data sufficiency) and ``meters_programme_in_baseline`` (a meter may be in both).
    Counts of meters, no use: they say how much of a cell its sum covers."""
    rows = savings[savings["primary"] & ~savings["in_totals"]].dropna(subset=["savings", "band"])
    rows = rows.assign(ward=rows["ward_code"], building_type=rows["building_type"].astype(str),
                       meters_insufficient=(rows["sufficiency"] != Sufficiency.PASS).astype(np.int64),
                       meters_programme_in_baseline=rows["programme_in_baseline"].astype(bool).astype(np.int64))
    lifted = lift(rows.rename(columns={"ward_code": "area"}), dimensions)
    return lifted.groupby(by, sort=True)[list(LEFT_OUT)].sum().reset_index()


def savings_table(protected: disclosure.ProtectedRelease, savings: pd.DataFrame) -> pd.DataFrame:
    """Savings per analysis × area level × building type × carrier, as protected (the rule applies to
    the meters' observed use, the protection to the signed savings; bands add the meters' errors
    calibrated for sums, :func:`energy_lib.savings.aggregate`, and are withheld with their row).
    The observed use and the counterfactual are not published (docs/privacy.md).

    Parameters
    ----------
    savings : pandas.DataFrame
        The derived ``savings`` table; the rows ``in_totals`` are summed (primary method, a
        sufficient baseline, no programme begun in the baseline year).
    """
    from energy_lib.savings import aggregate as portfolio

    area, building = disclosure.dimensions(ward_table())
    by = ["analysis", "area", "building_type", "carrier"]
    rows = savings[savings["in_totals"]].assign(ward=lambda f: f["ward_code"]).rename(columns={"ward_code": "area"})
    rows = rows.dropna(subset=["savings", "band"]).assign(building_type=lambda f: f["building_type"].astype(str))
    lifted = lift(rows, [area, building])
    # summed as savings_by_group sums them: the meters in_totals, their errors' shared parts by area
    shared = {"se_common": None, "se_ward": "ward", "se_gu": "gu_code"}
    totals = portfolio(lifted, by, band="band", se="se", shared=shared)[by + ["band"]]
    normal = portfolio(lifted.dropna(subset=["normal_savings", "normal_band"]), by, value="normal_savings",
                       band="normal_band")[by + ["savings", "band"]].rename(
        columns={"savings": "normal_savings", "band": "normal_band"})
    kgco2eq = lifted.groupby(by, sort=True)["savings_kgco2eq"].sum().reset_index()
    cells = protected.cells["savings"]
    table = cells[by + ["meters", "savings"]].merge(totals, on=by, how="left").merge(
        normal, on=by, how="left").merge(kgco2eq, on=by, how="left").merge(
        left_out_counts(savings, [area, building], by), on=by, how="left")
    counts = ["meters", *LEFT_OUT]
    table[counts] = table[counts].fillna(0).round().astype(np.int64)
    table = disclosure.published(protected, "savings", table, by,
                                 values=[*counts, "savings", "band", "normal_savings", "normal_band", "savings_kgco2eq"])
    table = _with_dong_totals(table, by, [*counts, "savings", "normal_savings", "savings_kgco2eq"],
                              quadrature=("band", "normal_band"))
    table["unit"] = _unit(table["carrier"])
    return _with_area_columns(table)


def carbon_point_table(protected: disclosure.ProtectedRelease, carbon_point: pd.DataFrame,
                       meter_sites: pd.DataFrame) -> pd.DataFrame:
    """Carbon Point results per area level × building type × carrier × half-year: how many
    meters reached each tier, points and won, as protected (points are the release's variable).

    Parameters
    ----------
    carbon_point : pandas.DataFrame
        The derived ``carbon_point`` table (one row per meter and half-year).
    meter_sites : pandas.DataFrame
        ``meter_id``, ``ward_code``, ``building_type`` of every meter.
    """
    by = ["area", "building_type", "carrier", "half_year"]
    rows = carbon_point[carbon_point["status"] == Status.QUALIFIED].merge(meter_sites, on="meter_id", how="inner")
    rows = rows.rename(columns={"ward_code": "area"})
    lifted = lift(rows.assign(**{f"tier_{t}": rows["tier"].eq(t) for t in (1, 2, 3)}),
                   list(disclosure.dimensions(ward_table())))
    table = lifted.groupby(by, sort=True).agg(
        meters=("meter_id", "size"), tier_1=("tier_1", "sum"), tier_2=("tier_2", "sum"), tier_3=("tier_3", "sum"),
        maintenance=("maintenance", "sum"), points=("points", "sum"), won=("won", "sum")).reset_index()
    table = disclosure.published(protected, "carbon_point", _design(table, protected, "carbon_point", by), by,
                                 values=["meters", "tier_1", "tier_2", "tier_3", "maintenance", "points", "won"])
    table = _with_dong_totals(table, by, ["meters", "tier_1", "tier_2", "tier_3", "maintenance", "points", "won"])
    return _with_area_columns(table)


def generation_table(protected: disclosure.ProtectedRelease) -> pd.DataFrame:
    """PV generation per area level × month [kWh], as protected over generating sites."""
    table = disclosure.published(protected, "generation", protected.cells["generation"],
                                 ["area", "building_type", "month"], values=["total", "customers"])
    return _with_area_columns(table)


def stock_table(protected: disclosure.ProtectedRelease, site_areas: pd.DataFrame) -> pd.DataFrame:
    """Metered sites per area level × building type (protected: a count of customers), with their
    households and floor area (public registers: published as they are)."""
    by = ["area", "building_type"]
    registers = lift(site_areas.rename(columns={"ward_code": "area"}), list(disclosure.dimensions(ward_table())))
    registers = registers.groupby(by, sort=True).agg(households=("households", "sum"),
                                                     floor_area_m2=("floor_area_m2", "sum")).reset_index()
    cells = protected.cells["stock"].rename(columns={"total": "sites"})
    cells["sites"] = cells["sites"].round().astype(np.int64)
    table = disclosure.published(protected, "stock", cells[by + ["sites"]], by, values=["sites"])
    table = _with_dong_totals(table, by, ["sites"])
    return _with_area_columns(table.merge(registers, on=by, how="left"))


def programme_tables(store: Store, derived: Store, rule: privacy.SuppressionRule) -> dict[str, pd.DataFrame]:
    """The programme list and each programme's evaluation (:mod:`energy_lib.evaluation`).

    The evaluation tables hold estimates over groups, not sums of customers; a programme and
    carrier is published only when at least ``rule.min_customers`` participants and as many
    comparison meters were evaluated (else its values are empty and ``suppressed`` true). The
    cost table is withheld when any of the programme's carriers is; the prosumer table when the
    electricity evaluation is or fewer participants have generation data.
    """
    programmes = store.sql("""
        SELECT p.programme_id, p.name_ko, p.name_en, p.carrier, strftime(p.starts_on, '%Y-%m-%d') AS starts_on,
               p.cost_won_per_participant, count(DISTINCT q.site_id) AS participants
        FROM programmes p LEFT JOIN participation q USING (programme_id) GROUP BY ALL ORDER BY p.programme_id""")
    effects = derived.read("programme_effects")
    hidden = ((effects["status"] != EffectStatus.ESTIMATED) | (effects["participants"] < rule.min_customers)
              | (effects["controls"].fillna(0) < rule.min_customers))
    flags = effects[["programme_id", "carrier"]].assign(suppressed=hidden.to_numpy())
    by_programme = flags.groupby("programme_id")["suppressed"].any().rename("suppressed").reset_index()

    def masked(frame: pd.DataFrame, name: str, keys: pd.DataFrame) -> pd.DataFrame:
        out = frame.merge(keys, how="left").assign(confidence=_confidence())
        out["suppressed"] = out["suppressed"].fillna(True).astype(bool)
        if "carrier" in out and "unit" not in frame:
            out["unit"] = _unit(out["carrier"])
        columns = [c.name for c in TABLES[name]]
        values = [c for c in columns if c not in {"programme_id", "carrier", "event", "covariate", "scope", "unit",
                                                  "suppressed", "confidence"}]
        for column in values:  # counts stay integers and flags booleans, with gaps where withheld
            kind = out[column].dtype.kind
            dtype = "boolean" if kind == "b" else "Int64" if kind in "iu" else float
            out[column] = out[column].astype(dtype).mask(out["suppressed"])
        return out[columns]

    prosumers = derived.read("programme_prosumers")
    electricity = flags[flags["carrier"] == "electricity"][["programme_id", "suppressed"]]
    prosumer_flags = prosumers[["programme_id"]].merge(electricity, how="left")
    prosumer_flags["suppressed"] = (prosumer_flags["suppressed"].fillna(True).astype(bool)
                                    | (prosumers["participants_with_generation"] < rule.min_customers).to_numpy())
    return {
        "programmes": programmes[[c.name for c in TABLES["programmes"]]],
        "programme_effects": masked(effects, "programme_effects", flags),
        "programme_event_study": masked(derived.read("programme_event_study"), "programme_event_study", flags),
        "programme_balance": masked(derived.read("programme_balance"), "programme_balance", flags),
        "programme_savings": masked(derived.read("programme_savings"), "programme_savings", flags),
        "programme_cost": masked(derived.read("programme_cost"), "programme_cost", by_programme),
        "programme_prosumers": masked(prosumers, "programme_prosumers", prosumer_flags),
    }


def _confidence() -> float:
    from energy_lib.evaluation import EvaluationSettings

    return EvaluationSettings.configured().confidence


def _period(consumption: pd.DataFrame) -> dict[str, str]:
    months = consumption.loc[consumption["level"] == "city", "month"]
    return {"start": str(months.min()) if len(months) else "", "end": str(months.max()) if len(months) else ""}


def _write_table(out: Path, name: str, frame: pd.DataFrame) -> list[Path]:
    frame = frame[[c.name for c in TABLES[name]]].reset_index(drop=True)  # the dictionary's order
    parquet, csv = out / f"{name}.parquet", out / f"{name}.csv"
    frame.to_parquet(parquet, index=False)
    frame.to_csv(csv, index=False, encoding="utf-8-sig", lineterminator="\n")
    return [parquet, csv]


def _write_api(out: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    """``api/<level>/<area>/<table>.json`` for every area of every area-level table, and
    ``api/index.json`` listing them (a static open API: any web server serves it)."""
    written, listing = [], []
    for name, frame in tables.items():
        if "area" not in frame:
            continue
        for (level, area), rows in frame.groupby(["level", "area"], sort=True):
            relative = f"api/{level}/{area}/{name}.json"
            path = out / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            records = json.loads(rows.drop(columns=["level", "area"]).to_json(orient="records", force_ascii=False))
            # compact: an indented dump takes the pure-Python encoder, ten times slower
            path.write_text(json.dumps({"table": name, "level": level, "area": area, "rows": records},
                                       ensure_ascii=False, separators=(",", ":")), "utf-8")
            written.append(path)
            listing.append({"table": name, "level": level, "area": area, "path": relative})
    index = out / "api" / "index.json"
    index.write_text(json.dumps({"tables": sorted(TABLES), "files": listing}, ensure_ascii=False, separators=(",", ":")),
                     "utf-8")
    return [*written, index]


def _write_dictionary(out: Path) -> Path:
    rows = [{"table": name, "column": c.name, "unit": c.unit, "description": c.description}
            for name, columns in TABLES.items() for c in columns]
    path = out / "dictionary.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(out: Path) -> dict:
    """The open data's ``manifest.json`` (period, sources, code version, hashes)."""
    return json.loads((Path(out) / "manifest.json").read_text("utf-8"))


def read(out: Path, name: str) -> pd.DataFrame:
    """An open-data table from its Parquet file.

    Raises
    ------
    FileNotFoundError
        Saying how to build the open data when it is missing.
    """
    path = Path(out) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: build the open data first (`energy publish` or `make reports`)")
    return pd.read_parquet(path)


def protect(store: Store, derived: Store) -> disclosure.ProtectedRelease:
    """The release of every area table, protected and audited (:mod:`energy_lib.publish.disclosure`).

    Raises
    ------
    energy_lib.publish.protection.ProtectionError
        When no suppression protects every primary number: nothing is written.
    """
    settings = configuration.load("privacy")["protection"]
    return disclosure.protected_release(
        level=float(settings["level"]), **release_inputs(store, derived))


def release_inputs(store: Store, derived: Store) -> dict:
    """What :func:`energy_lib.publish.disclosure.build_release` needs, read from the store and the
    derived tables."""
    edges, _ = disclosure.period_edges(aggregate.months(store))
    return dict(
        use=aggregate.use_partials(store, edges), savings=derived.read("savings"),
        carbon_point=_qualified_carbon_points(derived), generation=store.read("generation"),
        sites=store.sql("SELECT site_id, ward_code, building_type, households, floor_area_m2 FROM sites ORDER BY site_id"),
        meter_sites=store.sql("SELECT meter_id, site_id FROM meters ORDER BY meter_id"), wards=ward_table(),
        rule=privacy.SuppressionRule.configured())


def _qualified_carbon_points(derived: Store) -> pd.DataFrame:
    """The derived ``carbon_point`` rows that count (status ``qualified``), with the columns the
    tables use: the full city has 19 million rows, most of them not qualified."""
    return derived.sql("SELECT meter_id, carrier, half_year, tier, maintenance, points, won, status FROM carbon_point "
                       "WHERE status = ? ORDER BY meter_id, carrier, half_year", [Status.QUALIFIED.value])


def audit_site(out: Path, store: Store, derived: Store) -> pd.DataFrame:
    """Attack a built site's open data with everything it publishes: the audit summary per table
    (:func:`energy_lib.publish.disclosure.audit_summary`) of the cells it withholds.

    The true values of the withheld cells come from the store and the derived tables, which must be
    those the site was built from (every published value is checked against them).

    Raises
    ------
    ValueError
        When the site does not publish what the store gives (another build, or altered files).
    """
    release, cells = disclosure.build_release(**release_inputs(store, derived))
    published = {source: read(out, source) for sources in disclosure.SITE_TABLES.values() for source, _ in sources}
    hidden = disclosure.site_pattern(release, cells, published)
    level = float(configuration.load("privacy")["protection"]["level"])
    result = attack(release, hidden, level=level)
    reason = np.where(hidden, np.where(release.row_primary != "", release.row_primary, REASONS[2]), "")
    return disclosure.audit_summary(release, reason, result)


def _write_disclosure(out: Path, protected: disclosure.ProtectedRelease) -> list[Path]:
    """``audit.csv`` (per table: cells, withheld by the rule and as complements, numbers an
    attacker recovers, smallest protection ratio) and ``availability.csv`` (what is published per
    table × area level × building-type level × carrier × period kind)."""
    paths = [out / "audit.csv", out / "availability.csv"]
    summary = disclosure.audit_summary(protected.release, protected.protection.reason, protected.protection.audit)
    summary.to_csv(paths[0], index=False, encoding="utf-8", lineterminator="\n")
    disclosure.availability(protected).to_csv(paths[1], index=False, encoding="utf-8", lineterminator="\n")
    return paths


def build(store: Store, derived: Store, out: Path, *, force: bool = False) -> dict:
    """Write every open-data table, the API, the dictionary, the licence and the manifest.

    Nothing is rewritten when the store, the derived tables and the code are those of the last
    build (``manifest.json`` records their hash), unless ``force``.

    Returns
    -------
    dict
        The manifest; ``manifest["data_hash"]`` identifies the open data (the report pages' input).
    """
    out = Path(out)
    inputs = inputs_hash(store, derived)
    if not force and (out / "manifest.json").exists() and manifest(out).get("inputs_hash") == inputs:
        return manifest(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    protected = protect(store, derived)
    sites = store.sql("SELECT site_id, ward_code, building_type, households, floor_area_m2 FROM sites ORDER BY site_id")
    meter_sites = store.sql("SELECT m.meter_id, s.ward_code, s.building_type FROM meters m JOIN sites s USING (site_id) "
                            "ORDER BY meter_id")
    consumption = consumption_tables(protected)
    tables = {
        **consumption,
        "savings": savings_table(protected, derived.read("savings")),
        "carbon_point": carbon_point_table(protected, _qualified_carbon_points(derived), meter_sites),
        "generation": generation_table(protected),
        "stock": stock_table(protected, sites),
        # KEPCO's own figures (public at gu × contract type) beside the store's protected totals
        "utility_electricity": reconcile.published_totals(store, consumption["consumption_annual"]),
        "wards": ward_table()[[c.name for c in TABLES["wards"]]],
        **programme_tables(store, derived, privacy.SuppressionRule.configured()),
    }
    files = [path for name, frame in tables.items() for path in _write_table(out, name, frame)]
    files += _write_api(out, tables)
    files.append(_write_dictionary(out))
    (out / "LICENSE.txt").write_text(LICENSE_TEXT, "utf-8")
    files.append(out / "LICENSE.txt")
    files += _write_disclosure(out, protected)
    rule = privacy.SuppressionRule.configured()
    body = {
        "title": "Gwangju energy information workbook — open data",
        "period": _period(tables["consumption_monthly"]),
        "code_version": code_version(),
        "inputs_hash": inputs,
        "privacy": {"min_customers": rule.min_customers, "max_share": rule.max_share, "source": rule.source,
                    "protection_level": protected.protection.audit.level,
                    "audit": "audit.csv", "availability": "availability.csv"},
        "sources": ["KEPCO (electricity)", "KEPCO electricity use by contract type, public data (utility_electricity)", "city gas company (gas)", "Gwangju Waterworks (water)", "KDHC (heat)",
                    "MOLIT building energy", "KMA ASOS 156 Gwangju (weather)"],
        "files": {str(p.relative_to(out)): _sha256(p) for p in sorted(files)},
    }
    body["data_hash"] = hashlib.sha256(json.dumps(body["files"], sort_keys=True).encode()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(body, ensure_ascii=False, indent=1), "utf-8")
    _write_index(out, tables, body)
    return body


def _write_index(out: Path, tables: dict[str, pd.DataFrame], body: dict) -> None:
    """``index.html``: the downloads, in Korean and English, with the dictionary and licence."""
    from energy_lib.publish.site import site_css

    words = {lang: {name: i18n.text(f"opendata.{name}", lang) for name in i18n.group("opendata")}
             | {"home": i18n.text("nav.home", lang), "nav_label": i18n.text("nav.label", lang)} for lang in i18n.LANGUAGES}
    page = templating.render("opendata/index.html.j2", **words, css=templating.Markup(site_css("../assets/")),
                             start=body["period"]["start"], end=body["period"]["end"], code_version=body["code_version"],
                             tables=[{"name": name, "rows": f"{len(frame):,}"} for name, frame in tables.items()]) + "\n"
    (out / "index.html").write_text(page, "utf-8")
