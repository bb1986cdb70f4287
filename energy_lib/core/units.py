"""Units, energy content and emission factors.

All factors come from ``energy_lib/config/units.toml``, each with its source and year; this
module is the only place that converts units. Importers convert native units to each carrier's
canonical unit once, at ingest; downstream code works in canonical units.

Canonical units: electricity [kWh], gas [m³], heat [kWh], water [m³]; energy [kWh] and [toe];
emissions [kgCO2eq].
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from energy_lib.core import configuration
from energy_lib.core.vectors import arrow_strings, map_values

__all__ = [
    "CARRIERS",
    "ENERGY_CARRIERS",
    "Factor",
    "UnitError",
    "canonical_unit",
    "factor",
    "normalise_unit_names",
    "to_canonical",
    "energy_kwh",
    "toe",
    "kgco2eq",
    "won",
]

CARRIERS: tuple[str, ...] = ("electricity", "gas", "heat", "water")
"""Metered carriers, in the order reports show them."""

ENERGY_CARRIERS: tuple[str, ...] = ("electricity", "gas", "heat")
"""Carriers that are energy (water is not)."""


class UnitError(ValueError):
    """A unit that is unknown, or does not belong to the carrier it is used for."""


@dataclass(frozen=True)
class Factor:
    """A conversion factor with its provenance."""

    value: float
    unit: str
    source: str
    year: int


def factor(dotted_key: str) -> Factor:
    """Return a factor of ``units.toml`` by its dotted key, e.g. ``"energy_content.gas_mj_per_m3"``."""
    entry = configuration.lookup("units", dotted_key)
    return Factor(float(entry["value"]), entry["unit"], entry["source"], int(entry["year"]))


def canonical_unit(carrier: str) -> str:
    """Canonical unit of ``carrier`` (``"kWh"`` or ``"m³"``)."""
    return _carrier(carrier)["canonical_unit"]


def _carrier(carrier: str) -> dict:
    carriers = configuration.load("units")["carriers"]
    if carrier not in carriers:
        raise UnitError(f"unknown carrier {carrier!r}; expected one of {', '.join(carriers)}")
    return carriers[carrier]


@functools.cache
def _canonical_per_native(carrier: str, unit: str) -> float:
    spec = _carrier(carrier)["units"].get(unit)
    if spec is None:
        accepted = ", ".join(_carrier(carrier)["units"])
        raise UnitError(f"unit {unit!r} is not a {carrier} unit; expected one of {accepted}")
    value = float(spec.get("scale", 1.0))
    if "times" in spec:
        value *= factor(spec["times"]).value
    if "per" in spec:
        value /= factor(spec["per"]).value
    return value


def normalise_unit_names(units: pd.Series) -> pd.Series:
    """Map spelling variants of unit names (``kwh``, ``㎥``, ``Nm3``, ``톤``) to canonical names.

    Unknown names are returned unchanged (stripped), so that :func:`to_canonical` can name them.
    """
    aliases = configuration.load("units")["unit_aliases"]

    def canonical(unit: str | None) -> str | None:
        if unit is None:
            return None
        cleaned = unicodedata.normalize("NFC", str(unit)).strip()
        return aliases.get(cleaned.lower(), cleaned)

    return map_values(units, canonical)


def to_canonical(value: np.ndarray | pd.Series, unit: pd.Series, carrier: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Convert values from their native unit to their carrier's canonical unit.

    Parameters
    ----------
    value : array-like
        Values in the native ``unit`` of each row.
    unit : pandas.Series of str
        Native unit of each row, canonical spelling (see :func:`normalise_unit_names`).
    carrier : pandas.Series of str
        Carrier of each row (``electricity``, ``gas``, ``heat``, ``water``).

    Returns
    -------
    converted : numpy.ndarray of float
        Values in the carrier's canonical unit; NaN where the unit does not fit the carrier.
    mismatch : numpy.ndarray of bool
        True where the unit is unknown or is not a unit of the row's carrier.

    Notes
    -----
    Gas in [MJ] converts to [m³] by the gross calorific value of city gas,
    ``energy_content.gas_mj_per_m3`` (42.7 MJ/Nm³); heat in [Gcal] converts at 1,163 kWh/Gcal.
    """
    def per_native(pair: str | None) -> float | None:
        try:
            return _canonical_per_native(*pair.split("\x1f", 1)) if pair is not None else None
        except (UnitError, TypeError):
            return None

    key = pc.binary_join_element_wise(arrow_strings(carrier), arrow_strings(unit), "\x1f")
    per_row = map_values(key, per_native).to_numpy(dtype=float)
    converted = np.asarray(value, dtype=float) * per_row
    return converted, np.isnan(per_row)


def energy_kwh(value_canonical: np.ndarray | pd.Series, carrier: pd.Series) -> np.ndarray:
    """Energy content [kWh] of values in canonical units; NaN for water.

    Notes
    -----
    Electricity and heat are already in [kWh]. Gas [m³] × 42.7 [MJ/m³] × (1/3.6) [kWh/MJ].
    """
    per = {
        "electricity": 1.0,
        "heat": 1.0,
        "gas": factor("energy_content.gas_mj_per_m3").value * factor("definitions.kwh_per_mj").value,
        "water": np.nan,
    }
    return np.asarray(value_canonical, dtype=float) * map_values(carrier, per).to_numpy(dtype=float)


def toe(value_canonical: np.ndarray | pd.Series, carrier: pd.Series) -> np.ndarray:
    """Tonnes of oil equivalent [toe] of values in canonical units (consumption basis); NaN for water.

    Notes
    -----
    Electricity 0.000229 toe/kWh; city gas 0.001019 toe/Nm³; heat 0.1 toe/Gcal, i.e.
    0.1/1163 toe/kWh (Korean energy heat-content table, 2022).
    """
    per = {
        "electricity": factor("energy_content.electricity_toe_per_kwh").value,
        "gas": factor("energy_content.gas_toe_per_m3").value,
        "heat": factor("energy_content.heat_toe_per_gcal").value / factor("definitions.kwh_per_gcal").value,
        "water": np.nan,
    }
    return np.asarray(value_canonical, dtype=float) * map_values(carrier, per).to_numpy(dtype=float)


def kgco2eq(value_canonical: np.ndarray | pd.Series, carrier: pd.Series) -> np.ndarray:
    """Emissions [kgCO2eq] of values in canonical units; NaN for heat (no configured factor).

    Notes
    -----
    Electricity: the national grid factor (0.4173 kgCO2eq/kWh, 2023). City gas: 2.160 kgCO2eq/Nm³
    (IPCC default for natural gas at the net calorific value). Water: 0.332 kgCO2eq/m³ (Carbon Point
    factor). See ``config/units.toml`` for sources.
    """
    per = {
        "electricity": factor("emissions.electricity_kgco2eq_per_kwh").value,
        "gas": factor("emissions.gas_kgco2eq_per_m3").value,
        "water": factor("emissions.water_kgco2eq_per_m3").value,
        "heat": np.nan,
    }
    return np.asarray(value_canonical, dtype=float) * map_values(carrier, per).to_numpy(dtype=float)


def won(value_canonical: np.ndarray | pd.Series, carrier: pd.Series, *,
        electricity_won_per_kwh: np.ndarray | float | None = None) -> np.ndarray:
    """Value [won] of quantities in canonical units at the configured average prices.

    Parameters
    ----------
    electricity_won_per_kwh : array-like, optional
        Electricity price per row (e.g. KEPCO's average price of the gu, contract type and
        month); the configured average where not given or NaN.
    """
    per = {
        "electricity": factor("prices.electricity_won_per_kwh").value,
        "gas": factor("prices.gas_won_per_m3").value,
        "water": factor("prices.water_won_per_m3").value,
        "heat": factor("prices.heat_won_per_kwh").value,
    }
    price = map_values(carrier, per).to_numpy(dtype=float)
    if electricity_won_per_kwh is not None:
        given = np.broadcast_to(np.asarray(electricity_won_per_kwh, dtype=float), price.shape)
        use = (np.asarray(carrier) == "electricity") & ~np.isnan(given)
        price = np.where(use, given, price)
    return np.asarray(value_canonical, dtype=float) * price
