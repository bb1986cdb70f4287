"""Calibrating the demo city to KEPCO's published electricity use.

KEPCO publishes each gu's annual electricity use by contract type (계약종별); the reference year's
figures ship with the package (``energy_lib/core/reference/kepco_electricity_2024.csv``) and the
customer model around them in ``energy_lib/config/demo.toml``. A demo of ``households`` households
is the city scaled by ``s = households / city_households``: every gu × contract-type total of the
reference year is ``s`` times KEPCO's, with ``s`` times the city's customers at their real sizes.

* 주택용 (residential): the households' electricity profiles are scaled per gu so that their bills
  of the reference year add up to the gu's target (:func:`calibrate_households`).
* 일반용, 교육용, 산업용: buildings in MOLIT's building-energy files. Each gu's customers take
  their annual use from a lognormal distribution (a long tail: many small shops and workshops, a
  few large sites), plus configured anchors (the large plants of 광산구 and 북구); the sizes are
  scaled so that the group, with the fixed interval-metered sites in it, meets the target
  (:func:`building_customers`).
* 농사용, 가로등, 심야: customers that only KEPCO's aggregates show; their monthly use follows
  the weather and the length of the night (:func:`aggregate_series`).

The targets are met in expectation; billing noise and the exports' mess move a series by under 1%
where it has many customers and by up to about 3% where it has one (a gu's only school).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from energy_lib.core import configuration
from energy_lib.demo import usage
from energy_lib.demo.city import DemoSettings, gu_population
from energy_lib.demo.climate import rng

__all__ = ["CONTRACT_OF_SITE", "contracts", "reference", "scale", "customer_counts", "targets",
           "calibration_months", "calibrate_households", "building_customers", "aggregate_series",
           "darkness_hours", "price", "residential", "measure"]

CONTRACT_OF_SITE = {"commercial": "일반용", "public": "일반용", "apartment": "일반용",
                    "education": "교육용", "industrial": "산업용"}
"""KEPCO contract type of a non-household site's building type (households are 주택용); the same
mapping as :data:`energy_lib.publish.reconcile.CONTRACT_OF_BUILDING`."""

_LATITUDE_DEG = 35.16  # Gwangju (ASOS 156), for the hours of darkness of streetlights


@functools.cache
def _config() -> dict:
    return configuration.load("demo")


def contracts(kind: str | None = None) -> dict[str, dict]:
    """The configured contract types (all but 주택용), optionally of one ``kind`` (``building``
    or ``aggregate``)."""
    return {name: spec for name, spec in _config()["contracts"].items() if kind is None or spec["kind"] == kind}


def residential() -> str:
    """The households' contract type (주택용)."""
    return _config()["calibration"]["residential"]


def price(contract: str) -> float:
    """Average price of a contract type for the demo's aggregates [won/kWh]."""
    return float(_config()["prices"][contract])


def reference() -> pd.DataFrame:
    """KEPCO's annual use per gu and contract type in the reference year.

    Returns
    -------
    pandas.DataFrame
        ``gu_code``, ``contract``, ``kwh`` [kWh] (a copy: callers may change it).
    """
    return _reference().copy()


@functools.cache
def _reference() -> pd.DataFrame:
    name = _config()["calibration"]["reference_file"]
    with resources.files("energy_lib.core.reference").joinpath(name).open(encoding="utf-8") as f:
        table = pd.read_csv(f, dtype={"gu_code": str})
    year = _config()["calibration"]["year"]
    table = table[table["year"] == year]
    return table.rename(columns={"contract_type": "contract", "annual_kwh": "kwh"})[["gu_code", "contract", "kwh"]]


def scale(settings: DemoSettings) -> float:
    """The demo's share of the city: ``households / city_households`` [-]."""
    return settings.households / settings.city_households


def calibration_months(settings: DemoSettings) -> pd.DatetimeIndex:
    """The billing months of the reference year.

    Raises
    ------
    ValueError
        If the demo's span does not cover the whole reference year.
    """
    year = _config()["calibration"]["year"]
    months = settings.months[settings.months.year == year]
    if len(months) != 12:
        raise ValueError(f"the demo is calibrated on KEPCO's {year} figures: its months "
                         f"({settings.first_month}…{settings.last_month}) must cover all of {year}")
    return months


def customer_counts(settings: DemoSettings) -> pd.DataFrame:
    """Customers per gu and contract type (not 주택용) at the demo's scale, at least one each.

    A contract's city-wide customers are spread over the gu by a blend of the gu's share of the
    reference kWh and its population share (``population_weight``), then scaled.

    Returns
    -------
    pandas.DataFrame
        ``gu_code``, ``contract``, ``customers`` [customers].
    """
    ref = reference()
    population = gu_population().set_index("gu_code")["population"]
    parts = []
    for contract, spec in contracts().items():  # a handful of contract types, each vectorised over gu
        kwh = ref[ref["contract"] == contract].set_index("gu_code")["kwh"]
        weight = spec["population_weight"]
        share = (1 - weight) * kwh / kwh.sum() + weight * population.reindex(kwh.index) / population.sum()
        count = np.maximum(1, np.rint(spec["customers"] * share.to_numpy() * scale(settings))).astype(np.int64)
        parts.append(pd.DataFrame({"gu_code": kwh.index, "contract": contract, "customers": count}))
    return pd.concat(parts, ignore_index=True)


def targets(settings: DemoSettings) -> pd.DataFrame:
    """The reference year's use per gu and contract type at the demo's scale.

    Returns
    -------
    pandas.DataFrame
        ``gu_code``, ``contract``, ``kwh`` [kWh] (KEPCO's figure × the demo's scale).
    """
    return reference().assign(kwh=lambda t: t["kwh"] * scale(settings))


def calibrate_households(homes: pd.DataFrame, calendar: usage.Calendar, settings: DemoSettings) -> pd.DataFrame:
    """Households with their electricity profiles scaled per gu to meet the 주택용 targets.

    The bills of the reference year are computed once with the uncalibrated profiles; each gu's
    base load, heating and cooling slopes are multiplied by target ÷ that total. Bills are linear
    in these three (PV output is not scaled), so one pass meets the target within a fraction of
    a percent; the same noise is drawn again when the bills are written.

    Parameters
    ----------
    homes : pandas.DataFrame
        :func:`energy_lib.demo.city.households`.
    calendar : Calendar
    settings : DemoSettings

    Returns
    -------
    pandas.DataFrame
        A copy of ``homes`` with ``elec_base_kwh`` [kWh/day], ``elec_cool_slope`` and
        ``elec_heat_slope`` [kWh/K/day] calibrated.
    """
    bills = pd.concat([usage.household_bills(homes, calendar, settings, month, "electricity")
                       for month in calibration_months(settings)], ignore_index=True)
    gu = homes["gu_code"].to_numpy()
    modelled = pd.Series(bills["actual"].to_numpy()).groupby(gu[bills["household"].to_numpy()]).sum()
    wanted = targets(settings)
    wanted = wanted[wanted["contract"] == residential()].set_index("gu_code")["kwh"]
    factor = (wanted / modelled).reindex(pd.unique(gu)).fillna(1.0)
    out = homes.copy()
    per_home = factor.reindex(gu).to_numpy()
    for column in ("elec_base_kwh", "elec_cool_slope", "elec_heat_slope"):
        out[column] = out[column].to_numpy() * per_home
    return out


def _year_drivers(building_types: np.ndarray, calendar: usage.Calendar,
                  settings: DemoSettings) -> tuple[np.ndarray, np.ndarray]:
    """Base-load days (vacation-weighted) [day] and cooling degree days [K·day] of each site over
    the reference year, as :func:`energy_lib.demo.usage.building_use` counts them."""
    days = np.zeros(len(building_types))
    cooling = np.zeros(len(building_types))
    for month in calibration_months(settings):  # twelve months, each vectorised over the sites
        base, cdd = usage.building_drivers(building_types, calendar, month)
        days, cooling = days + base, cooling + cdd
    return days, cooling


def _sizes(n: int, sigma: float) -> np.ndarray:
    """Relative annual use of ``n`` customers [-]: the lognormal distribution's quantiles at the
    midpoints ``(i + ½) / n``, largest first.

    Quantiles rather than random draws: a random draw from a long tail now and then puts one
    customer at a quarter of a small gu's total (at the default scale, a gu has a few hundred
    shops), which is luck, not the city; the quantiles give every scale the same distribution."""
    quantiles = (np.arange(n)[::-1] + 0.5) / n
    return np.exp(sigma * special.ndtri(quantiles))


def building_customers(settings: DemoSettings, calendar: usage.Calendar, fixed: pd.DataFrame) -> pd.DataFrame:
    """The non-household electricity customers that are buildings, with their use of the
    reference year and the load profile that gives it.

    Parameters
    ----------
    settings : DemoSettings
    calendar : Calendar
    fixed : pandas.DataFrame
        ``gu_code``, ``contract``, ``kwh``: the reference year's use of sites that do not scale
        with the demo (the interval-metered sites) [kWh]; subtracted from the targets.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``gu_code``, ``contract``, ``building_type``, ``annual_kwh``
        [kWh, reference year, expected], ``elec_base_kwh`` [kWh/day] and ``elec_cool_slope``
        [kWh/K/day] (cooling degree days above 24 °C), ordered by contract, gu and size.

    Notes
    -----
    A group's sampled customers share ``max(target − anchors − fixed, min_body_share × target)``
    in proportion to their lognormal quantiles, so the group meets its target exactly in expectation
    whatever its number of customers; only a group whose fixed sites exceed its target (tiny demos)
    runs over.
    """
    wanted = targets(settings).set_index(["gu_code", "contract"])["kwh"]
    taken = fixed.groupby(["gu_code", "contract"])["kwh"].sum()
    counts = customer_counts(settings).set_index(["gu_code", "contract"])["customers"]
    floor = _config()["calibration"]["min_body_share"]
    parts = []
    for contract, spec in contracts("building").items():  # three contract types × five gu
        types = spec["building_types"]
        for gu in sorted(wanted.xs(contract, level="contract").index):
            generator = rng(settings.seed, f"customers-{contract}-{gu}")
            target = wanted[(gu, contract)]
            anchors = np.asarray(spec.get("anchors", {}).get(gu, []), dtype=float) * target
            n_body = max(1, int(counts[(gu, contract)]) - len(anchors))
            body = max(target - anchors.sum() - taken.get((gu, contract), 0.0), floor * target)
            sizes = _sizes(n_body, spec["sigma"])
            annual = np.concatenate([anchors, sizes * body / sizes.sum()])
            kind = generator.choice(list(types), size=len(annual), p=list(types.values()))
            parts.append(pd.DataFrame({"gu_code": gu, "contract": contract, "building_type": kind,
                                       "annual_kwh": annual, "cooling_share": spec["cooling_share"],
                                       "placement_shape": spec["placement_shape"]}))
    frame = pd.concat(parts, ignore_index=True)
    days, cdd = _year_drivers(frame["building_type"].to_numpy(), calendar, settings)
    cooling = frame["cooling_share"].to_numpy()
    frame["elec_base_kwh"] = frame["annual_kwh"].to_numpy() * (1 - cooling) / days
    frame["elec_cool_slope"] = frame["annual_kwh"].to_numpy() * cooling / np.maximum(cdd, 1.0)
    return frame


def darkness_hours(dates: pd.DatetimeIndex) -> np.ndarray:
    """Hours from sunset to sunrise at Gwangju on each date [h].

    Notes
    -----
    Day length from the solar declination :math:`\\delta = 23.44° \\sin(2\\pi (284 + n) / 365)` and
    the sunset hour angle :math:`\\omega_0 = \\arccos(-\\tan\\varphi \\tan\\delta)`:
    :math:`24 - 2\\omega_0 / 15°` (Cooper's approximation; twilight ignored).
    """
    declination = np.radians(23.44) * np.sin(2 * np.pi * (284 + dates.day_of_year.to_numpy()) / 365.0)
    sunset = np.degrees(np.arccos(-np.tan(np.radians(_LATITUDE_DEG)) * np.tan(declination)))
    return 24.0 - 2.0 * sunset / 15.0


def _monthly_drivers(calendar: usage.Calendar, months: pd.DatetimeIndex) -> pd.DataFrame:
    """Per calendar month: days, heating degree days (16 °C), cooling degree days (24 °C) and
    hours of darkness — the drivers of the aggregate-only series."""
    starts = calendar.day(months.to_numpy())
    ends = calendar.day((months + pd.offsets.MonthBegin(1)).to_numpy())
    dark = np.concatenate([[0.0], np.cumsum(darkness_hours(pd.DatetimeIndex(calendar.temperature["date"])))])
    return pd.DataFrame({
        "month": months, "base": (ends - starts).astype(float),
        "heating": calendar.degree_days(calendar.hdd, 16.0, starts, ends),
        "cooling": calendar.degree_days(calendar.cdd, 24.0, starts, ends),
        "darkness": dark[ends] - dark[starts],
    })


def aggregate_series(settings: DemoSettings, calendar: usage.Calendar) -> pd.DataFrame:
    """Monthly use and customers of the contract types that only KEPCO's aggregates show
    (농사용, 가로등, 심야), at the demo's scale.

    Each month's share of a year follows the configured profile: a mix of a flat base, heating
    and cooling degree days and hours of darkness, each normalised over the reference year, so
    the reference year's months add up to the target and other years vary with their weather.

    Returns
    -------
    pandas.DataFrame
        ``gu_code``, ``month``, ``cntr``, ``kwh`` [kWh], ``customers`` [customers].
    """
    drivers = _monthly_drivers(calendar, settings.months)
    year = drivers["month"].isin(calibration_months(settings))
    components = ["base", "heating", "cooling", "darkness"]
    normalised = drivers[components] / drivers.loc[year, components].sum().replace(0.0, 1.0)
    wanted = targets(settings)
    counts = customer_counts(settings)
    parts = []
    for contract, spec in contracts("aggregate").items():  # three contract types, vectorised over gu × month
        weights = normalised.to_numpy() @ np.array([spec["profile"][c] for c in components])
        annual = wanted[wanted["contract"] == contract].merge(counts, on=["gu_code", "contract"])
        parts.append(pd.DataFrame({
            "gu_code": np.repeat(annual["gu_code"].to_numpy(), len(drivers)),
            "month": np.tile(drivers["month"].to_numpy(), len(annual)), "cntr": contract,
            "kwh": np.outer(annual["kwh"].to_numpy(), weights).ravel(),
            "customers": np.repeat(annual["customers"].to_numpy(), len(drivers)),
        }))
    return pd.concat(parts, ignore_index=True)


_CONTRACT_OF_USE = {"근린생활시설": "일반용", "공공업무시설": "일반용", "교육연구시설": "교육용",
                    "공장": "산업용"}  # MOLIT main use → contract type, as city.buildings writes them
_CONTRACT_OF_REGISTER_TYPE = {"산업": "산업용", "공공": "일반용", "아파트": "일반용"}


def _manifest_files(raw: Path, fmt: str, year: int, carrier: str | None = None) -> list[Path]:
    """Files of a format (and carrier) in a demo manifest whose name carries ``year``."""
    entries = json.loads((raw / "manifest.json").read_text("utf-8"))["files"]
    return [raw / e["path"] for e in entries if e["format"] == fmt and str(year) in Path(e["path"]).stem
            and (carrier is None or e["options"].get("carrier") == carrier)]


def _household_electricity(raw: Path, year: int) -> pd.DataFrame:
    """Household bills of the year's billing months: ``gu_code``, ``contract``, ``kwh``, ``site``."""
    columns = ["고객번호", "행정동코드", "청구년월", "사용량", "계약종별"]
    frame = pd.concat([pd.read_csv(path, dtype=str, usecols=columns)
                       for path in _manifest_files(raw, "bills", year, "electricity")], ignore_index=True)
    # a file re-sends last month's first rows and a few rows twice: one bill per customer and month
    frame = frame[frame["청구년월"].str.startswith(str(year))].drop_duplicates(["고객번호", "청구년월"])
    return pd.DataFrame({"gu_code": frame["행정동코드"].str[:5], "contract": frame["계약종별"],
                         "kwh": pd.to_numeric(frame["사용량"], errors="coerce"), "site": frame["고객번호"]})


def _building_electricity(raw: Path, year: int) -> pd.DataFrame:
    """MOLIT building electricity of the year, with the contract type of each building's use."""
    files = _manifest_files(raw, "building", year, "electricity")
    frame = pd.concat([pd.read_csv(path, dtype=str, encoding="cp949") for path in files], ignore_index=True)
    return pd.DataFrame({"gu_code": frame["sigunguCd"], "contract": frame["mainPurpsCdNm"].map(_CONTRACT_OF_USE),
                         "kwh": pd.to_numeric(frame["useQty"], errors="coerce"),
                         "site": frame["sigunguCd"] + frame["bjdongCd"] + ":" + frame["platGbCd"] + ":" + frame["bun"]
                         + ":" + frame["ji"]})  # the parcel, as the importer keys a building's site


def _interval_electricity(raw: Path, year: int) -> pd.DataFrame:
    """Interval-metered sites' electricity of the year, placed by the site register."""
    register = pd.read_csv(raw / "city" / "carbon_point_register.csv", dtype=str, keep_default_na=False)
    register = register[register["시설명"] != ""].set_index("전기고객번호")
    entries = json.loads((raw / "manifest.json").read_text("utf-8"))["files"]
    parts = []
    for entry in (e for e in entries if e["format"] in ("interval", "interval_wide")):  # one file per site
        frame = pd.read_csv(raw / entry["path"], dtype=str)
        if entry["format"] == "interval_wide":
            hours = frame.drop(columns=["고객번호", "날짜"]).apply(pd.to_numeric, errors="coerce")
            day, kwh = frame["날짜"], hours.sum(axis=1)
        else:
            day, kwh = frame["일시"].str[:10], pd.to_numeric(frame["사용량(kWh)"], errors="coerce")
        keep = day.str.startswith(str(year)).to_numpy()
        site = register.loc[frame["고객번호"].iloc[0]]
        parts.append(pd.DataFrame({"gu_code": site["행정동코드"][:5],
                                   "contract": _CONTRACT_OF_REGISTER_TYPE[site["건물유형"]],
                                   "kwh": [kwh[keep].sum()], "site": frame["고객번호"].iloc[0]}))
    return pd.concat(parts, ignore_index=True)


def _kepco_totals(raw: Path, year: int) -> pd.DataFrame:
    """KEPCO's published aggregate of the year: ``gu_code``, ``contract``, ``kepco_kwh``,
    ``kepco_customers`` (the mean over months)."""
    from energy_lib.core import wards

    codes = wards.wards().drop_duplicates("gu_code").set_index("gu_name_ko")["gu_code"]
    records = pd.DataFrame(json.loads((raw / "kepco" / f"contract_type_usage_{year}.json").read_text("utf-8"))["data"])
    records["gu_code"] = records["city"].map(codes)
    return records.groupby(["gu_code", "cntr"], as_index=False).agg(
        kepco_kwh=("powerUsage", "sum"), kepco_customers=("custCnt", "mean")).rename(columns={"cntr": "contract"})


def measure(raw: Path, settings: DemoSettings) -> pd.DataFrame:
    """The calibration year's electricity per gu and contract type in a demo's export files,
    against KEPCO's reference figures.

    Reads the files as a person checking them would: KEPCO's aggregate (the whole city), and the
    sites' own data — household bills, MOLIT building energy, interval files — summed by the gu
    and contract type the files give (one bill per customer and month; the building with the
    legal-dong typo still counts, its gu is right).

    Parameters
    ----------
    raw : path
        A demo's export directory (with ``manifest.json``).
    settings : DemoSettings
        The settings it was generated with (for its scale).

    Returns
    -------
    pandas.DataFrame
        ``gu_code``, ``contract``, ``reference_kwh`` [kWh, KEPCO], ``kepco_kwh`` [kWh, the
        demo's aggregate], ``kepco_customers``, ``site_kwh`` [kWh, sum over the sites; NaN for
        contract types without sites], ``sites``, ``kepco_ratio`` (kepco_kwh / reference_kwh) and
        ``site_ratio`` (site_kwh / (reference_kwh × scale)).
    """
    raw = Path(raw)
    year = int(calibration_months(settings)[0].year)
    sites = pd.concat([_household_electricity(raw, year), _building_electricity(raw, year),
                       _interval_electricity(raw, year)], ignore_index=True)
    site_totals = sites.groupby(["gu_code", "contract"], as_index=False).agg(site_kwh=("kwh", "sum"),
                                                                            sites=("site", "nunique"))
    table = (reference().rename(columns={"kwh": "reference_kwh"})
             .merge(_kepco_totals(raw, year), on=["gu_code", "contract"], how="outer")
             .merge(site_totals, on=["gu_code", "contract"], how="left"))
    table["kepco_ratio"] = table["kepco_kwh"] / table["reference_kwh"]
    table["site_ratio"] = table["site_kwh"] / (table["reference_kwh"] * scale(settings))
    return table.sort_values(["gu_code", "contract"]).reset_index(drop=True)
