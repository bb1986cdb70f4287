import numpy as np
import pandas as pd
import pytest

from energy_lib.core import configuration, units


def test_every_factor_has_value_unit_source_and_year():
    config = configuration.load("units")
    for section in ("definitions", "energy_content", "emissions", "prices"):
        for key in config[section]:
            factor = units.factor(f"{section}.{key}")
            assert factor.value > 0 and factor.unit and len(factor.source) > 20 and 1950 < factor.year < 2030


def test_factors_match_the_korean_heat_content_table():
    assert units.factor("energy_content.electricity_toe_per_kwh").value == pytest.approx(0.000229)
    assert units.factor("energy_content.gas_mj_per_m3").value == pytest.approx(42.7)
    assert units.factor("definitions.kwh_per_gcal").value == pytest.approx(1163.0)


def test_conversion_to_canonical_units():
    values = np.array([1.0, 1.0, 42.7, 1.0, 1.0, 1.0, 1000.0])
    unit = pd.Series(["MWh", "m³", "MJ", "Gcal", "TJ", "ton", "L"])
    carrier = pd.Series(["electricity", "gas", "gas", "heat", "heat", "water", "water"])
    converted, mismatch = units.to_canonical(values, unit, carrier)
    np.testing.assert_allclose(converted, [1000.0, 1.0, 1.0, 1163.0, 277_777.78, 1.0, 1.0], rtol=1e-6)
    assert not mismatch.any()


def test_unit_of_another_carrier_is_a_mismatch():
    converted, mismatch = units.to_canonical(np.array([5.0, 5.0]), pd.Series(["Gcal", "kWh"]),
                                             pd.Series(["electricity", "water"]))
    assert mismatch.tolist() == [True, True]
    assert np.isnan(converted).all()


def test_unit_spellings_are_normalised():
    spelled = units.normalise_unit_names(pd.Series(["kwh", "㎥", "Nm3", "톤", " MJ ", "furlongs"]))
    assert spelled.tolist() == ["kWh", "m³", "m³", "ton", "MJ", "furlongs"]


def test_energy_and_toe():
    carrier = pd.Series(["electricity", "gas", "heat", "water"])
    energy = units.energy_kwh(np.array([100.0, 1.0, 1163.0, 1.0]), carrier)
    np.testing.assert_allclose(energy[:3], [100.0, 42.7 / 3.6, 1163.0])
    assert np.isnan(energy[3])
    toe = units.toe(np.array([1000.0, 1000.0, 1163.0, 1.0]), carrier)
    np.testing.assert_allclose(toe[:3], [0.229, 1.019, 0.1])


def test_unknown_carrier_is_an_error():
    with pytest.raises(units.UnitError, match="unknown carrier"):
        units.canonical_unit("steam")


def test_emissions_and_won():
    carrier = pd.Series(["electricity", "gas", "water", "heat"])
    np.testing.assert_allclose(units.kgco2eq(np.array([1000.0, 100.0, 10.0, 5.0]), carrier)[:3], [417.3, 216.0, 3.32])
    assert np.isnan(units.kgco2eq(np.array([1.0]), pd.Series(["heat"])))[0]
    values = units.won(np.array([100.0, 10.0]), pd.Series(["electricity", "gas"]),
                       electricity_won_per_kwh=np.array([140.0, np.nan]))
    np.testing.assert_allclose(values, [14_000.0, 9_000.0])
