"""Seoul's Eco-Mileage rule (에코마일리지): a household's six months against the same six months
averaged over the previous two years, with every carrier converted to CO2 first.

Uses the Carbon Point conversion factors of ``config/units.toml`` (electricity 424 gCO2/kWh, city
gas 2,780 gCO2/m³, water 332 gCO2/m³). Heat has no Carbon Point factor and is left out (said in
the result's ``carriers_used``). Tiers are configuration; mileage is awarded only where the
amounts are configured (``config/savings.toml``).

References
----------
.. [1] 서울특별시, 에코마일리지 제도: 6개월 단위로 직전 2년 같은 기간 평균 대비 감축률 (전기·수도·
   도시가스·지역난방, 온실가스 환산).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from energy_lib.baselines.carbon_point import MonthlyUsage, half_year_reduction, reduction_tier, same_month_baseline
from energy_lib.baselines.result import JSONResult, check_version, frame_from_dict, frame_to_dict
from energy_lib.core import configuration, units
from energy_lib.core.status import Status

__all__ = ["eco_mileage", "EcoMileageResult", "CO2_FACTORS"]

CO2_FACTORS = {
    "electricity": "emissions.carbon_point_electricity_kgco2_per_kwh",
    "gas": "emissions.carbon_point_gas_kgco2_per_m3",
    "water": "emissions.carbon_point_water_kgco2_per_m3",
}
"""Carbon Point factor of each carrier's canonical unit [kgCO2/kWh or kgCO2/m³]."""


@dataclass(frozen=True)
class EcoMileageResult(JSONResult):
    """Eco-Mileage outcomes of many sites.

    Attributes
    ----------
    half_years : pandas.DataFrame
        One row per site and half-year (see :func:`eco_mileage`).
    """

    METHOD: ClassVar[str] = "eco_mileage"
    VERSION: ClassVar[str] = "1"
    """The revision of this implementation of the rule (raised when its results change)."""

    half_years: pd.DataFrame

    @property
    def method(self) -> str:
        return self.METHOD

    def to_dict(self) -> dict:
        """A JSON-safe dictionary (NaN → None) with the method's name and version; :meth:`from_dict`
        reverses it."""
        return {"method": self.method, "version": self.version, "half_years": frame_to_dict(self.half_years)}

    @classmethod
    def from_dict(cls, data: dict) -> EcoMileageResult:
        check_version(data, cls.METHOD, cls.VERSION)
        return cls(frame_from_dict(data["half_years"]))



def eco_mileage(usage: MonthlyUsage, site_of_meter: pd.Series) -> EcoMileageResult:
    """Eco-Mileage reduction rates and tiers per site and half-year.

    Parameters
    ----------
    usage : MonthlyUsage
        Monthly use of the sites' meters [kWh, m³].
    site_of_meter : pandas.Series
        Site id indexed by meter id.

    Returns
    -------
    EcoMileageResult
        ``half_years``, one row per site and half-year: ``co2_kg`` and ``baseline_co2_kg`` [kgCO2] over the six
        months, ``reduction`` [fraction], ``tier`` (0–3), ``mileage`` (NaN where not configured),
        ``status`` (``qualified`` where every meter of the site has every bill and a baseline),
        ``carriers_used``.

    Notes
    -----
    :math:`E_{s,t} = \\sum_{m \\in s} f_{c(m)} U_{m,t}`; the baseline and half-year reduction are
    those of :func:`~energy_lib.baselines.carbon_point.same_month_baseline` and
    :func:`~energy_lib.baselines.carbon_point.half_year_reduction` applied to :math:`E`.
    """
    config = configuration.load("savings")["eco_mileage"]
    factor = pd.Series(usage.carriers).map({c: units.factor(k).value for c, k in CO2_FACTORS.items()}).to_numpy(float)
    counted = ~np.isnan(factor)
    sites = site_of_meter.reindex(usage.meters).to_numpy(dtype=object)
    counted &= pd.notna(sites)
    codes, site_ids = pd.factorize(sites[counted])
    co2 = usage.values[counted] * factor[counted, None]
    n_sites, n_months = len(site_ids), usage.values.shape[1]
    total = np.zeros((n_sites, n_months))
    missing = np.zeros((n_sites, n_months), dtype=bool)
    np.add.at(total, codes, np.nan_to_num(co2))
    np.logical_or.at(missing, codes, np.isnan(co2))
    site_co2 = np.where(missing, np.nan, total)
    site_usage = MonthlyUsage(pd.Index(site_ids), np.full(n_sites, "co2", dtype=object), usage.first_month, site_co2)
    baseline, _ = same_month_baseline(site_usage)
    co2_total, baseline_total, reduction, halves, complete = half_year_reduction(site_co2, baseline, usage.first_month)
    bounds = np.asarray(config["tier_lower_bounds"])
    tier = np.where(complete, reduction_tier(reduction, bounds), 0)
    amounts = np.array([0.0, *config["mileage"]]) if config["mileage"] else None
    carriers_used = ", ".join(sorted(set(usage.carriers[counted])))
    n_half = len(halves)
    return EcoMileageResult(pd.DataFrame({
        "site_id": np.repeat(site_ids, n_half), "half_year": np.tile(halves.to_numpy(), n_sites),
        "co2_kg": co2_total.ravel(), "baseline_co2_kg": baseline_total.ravel(), "reduction": reduction.ravel(),
        "tier": tier.ravel().astype(np.int8),
        "mileage": amounts[tier.ravel()] if amounts is not None else np.nan,
        "status": np.where(complete.ravel(), Status.QUALIFIED, Status.DISQUALIFIED), "carriers_used": carriers_used,
    }))
