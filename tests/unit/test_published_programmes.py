"""The evaluation of a programme with enough participants, as the open data and the programme
report publish it, on the 4,000-household recovery city (the small demo withholds them all)."""

from __future__ import annotations

import numpy as np
import pytest

from energy_lib.publish import opendata, privacy

pytestmark = pytest.mark.xdist_group("recovery")


def test_programme_evaluations_of_enough_participants_are_published(recovery_open_data):
    data, derived = recovery_open_data["data"], recovery_open_data["derived"]
    effects = opendata.read(data, "programme_effects").set_index(["programme_id", "carrier"])
    assert not effects["suppressed"].any()
    assert (effects["participants"] >= privacy.SuppressionRule.configured().min_customers).all()
    computed = derived.read("programme_effects").set_index(["programme_id", "carrier"])
    np.testing.assert_allclose(effects["effect"], computed.loc[effects.index, "effect"])
    assert (effects.loc[("insulation_retrofit", "gas"), "unit"], effects.loc[("balcony_pv", "electricity"), "unit"]) == ("m³", "kWh")
    savings = opendata.read(data, "programme_savings")
    assert set(savings["unit"]) == {"native", "kwh", "toe", "kgco2eq", "won"}
    cost = opendata.read(data, "programme_cost").set_index("programme_id")
    assert cost.loc["balcony_pv", "payback_years"] > 0
    prosumers = opendata.read(data, "programme_prosumers")
    assert list(prosumers["programme_id"]) == ["balcony_pv"] and not prosumers["suppressed"].any()