"""Programme evaluation: matching, the stacked difference in differences, savings and cost, and
recovery of the demo city's injected programme effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from energy_lib import evaluation as ev
from energy_lib.demo import truth

SETTINGS = ev.EvaluationSettings()
"""The configured settings (config/evaluation.toml is the only place with defaults)."""


def _city(effect_per_day: float = -2.0, *, seed: int = 7, meters_per_ward: int = 60, participants_per_ward: int = 12,
          selection: float = 0.0) -> tuple[ev.MonthlyUse, pd.DataFrame, pd.DataFrame]:
    """A synthetic city: two wards of one gu, electricity use per day with a meter level, a season,
    common monthly shocks and noise; participants enrol in staggered months and their use changes
    by ``effect_per_day`` from the second month after enrolment (``selection`` makes participants
    use more than the average meter before enrolment)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2021-01-01", periods=48, freq="MS").astype("datetime64[us]")
    wards = np.repeat(["2911051000", "2911052000"], meters_per_ward)
    n = len(wards)
    participant = np.zeros(n, dtype=bool)
    for ward in np.unique(wards):
        participant[np.flatnonzero(wards == ward)[:participants_per_ward]] = True
    level = rng.lognormal(np.log(10.0), 0.3, n) * np.where(participant, 1.0 + selection, 1.0)
    season = 1.0 + 0.3 * np.cos(2 * np.pi * (months.month.to_numpy() - 8) / 12)
    shock = rng.normal(0.0, 0.4, len(months))
    values = level[:, None] * season[None, :] + shock[None, :] + rng.normal(0.0, 0.5, (n, len(months)))
    enrol = np.full(n, -1)
    enrol[participant] = rng.integers(14, 30, participant.sum())
    after = np.arange(len(months))[None, :] >= (enrol[:, None] + SETTINGS.transition_months)
    values = np.where(participant[:, None] & after, values + effect_per_day, values)
    meters = pd.DataFrame({"meter_id": [f"m{i:03d}" for i in range(n)], "carrier": "electricity",
                           "site_id": [f"s{i:03d}" for i in range(n)], "ward_code": wards, "gu_code": "29110",
                           "building_type": "apartment", "floor_area_m2": 84.0, "households": 1})
    use = ev.MonthlyUse(values, meters, pd.DatetimeIndex(months))
    rows = meters.reset_index(names="row")
    treated = rows[participant].assign(enrolled_on=months[enrol[participant]], enrol_month=enrol[participant])
    return use, treated.reset_index(drop=True), rows[~participant].reset_index(drop=True)


def _estimate(use, treated, pool, settings=SETTINGS):
    matched, matches, candidates = ev.match_controls(use, treated, pool, settings)
    panel = ev.stacked_panel(use, matched, matches, settings)
    return matched, matches, candidates, panel, ev.difference_in_differences(panel, settings)


def test_absorbing_fixed_effects_gives_the_dummy_regression_estimate():
    rng = np.random.default_rng(1)
    n = 400
    unit, time = rng.integers(0, 30, n), rng.integers(0, 12, n)
    x = rng.normal(size=n) + 0.2 * unit
    y = 1.5 * x + rng.normal(size=30)[unit] + rng.normal(size=12)[time] + rng.normal(0, 0.1, n)
    weights = rng.uniform(0.3, 1.0, n)
    dummies = pd.get_dummies(pd.DataFrame({"u": unit.astype(str), "t": time.astype(str)}), drop_first=True, dtype=float)
    full = sm.WLS(y, sm.add_constant(pd.concat([pd.Series(x, name="x"), dummies], axis=1)), weights=weights).fit()
    absorbed = ev.absorb(np.column_stack([y, x]), [unit, time], weights)
    within = sm.WLS(absorbed[:, 0], absorbed[:, 1], weights=weights).fit()
    assert within.params[0] == pytest.approx(full.params["x"], rel=1e-9)
    np.testing.assert_allclose(within.resid, full.resid, atol=1e-8)


def test_the_difference_in_differences_recovers_a_known_effect():
    use, treated, pool = _city(-2.0, selection=0.3)
    *_, effect = _estimate(use, treated, pool)
    assert effect["ci_low"] < -2.0 < effect["ci_high"]
    assert effect["effect"] == pytest.approx(-2.0, abs=0.25)
    assert effect["participants"] == len(treated)
    assert effect["p_value"] < 1e-6


def test_no_effect_is_not_found_where_there_is_none():
    use, treated, pool = _city(0.0, seed=11)
    *_, effect = _estimate(use, treated, pool)
    assert effect["ci_low"] < 0.0 < effect["ci_high"]
    assert effect["p_value"] > 0.05


def test_the_event_study_is_flat_before_enrolment_and_shows_the_effect_after():
    use, treated, pool = _city(-2.0)
    # a caliper of 0.5 sd, not the configured 1.0: this city's season scales with a meter's level,
    # and controls up to 1 sd away in level trend apart enough for the pre-trend test to see it (p = 0.0002)
    settings = ev.EvaluationSettings(caliper=0.5)
    *_, panel, _ = _estimate(use, treated, pool, settings)
    study, pretrend = ev.event_study(panel, settings)
    assert list(study["event"]) == list(SETTINGS.events)
    assert study.set_index("event").loc[-1, "effect"] == 0.0
    before = study[study["event"] < -1]
    after = study[study["event"] >= SETTINGS.transition_months]
    assert before["effect"].abs().max() < 0.6
    assert after["effect"].between(-2.8, -1.2).all()
    assert pretrend > 0.01


def test_controls_share_the_participants_carrier_building_type_and_ward_and_are_nearest_in_use():
    use, treated, pool = _city(meters_per_ward=300)
    matched, matches, _, _, _ = _estimate(use, treated, pool)
    meters = use.meters
    participant = meters.iloc[matches["participant_row"]].reset_index(drop=True)
    control = meters.iloc[matches["control_row"]].reset_index(drop=True)
    in_ward = (matches["level"] == "ward").to_numpy()
    assert (participant["ward_code"] == control["ward_code"])[in_ward].all()
    assert (participant["gu_code"] == control["gu_code"]).all()
    assert in_ward.mean() > 0.6
    # a participant goes to its gu only when its ward lacks k candidates within the caliper
    assert (matches.loc[in_ward, "distance"] <= SETTINGS.caliper).all()
    assert (matches.groupby("participant_row").size() == SETTINGS.controls_per_participant).all()
    assert not set(matches["control_row"]) & set(treated["row"])
    # the chosen controls are closer in pre-enrolment use than the average candidate
    features = ev.pre_features(use, matches["control_row"].to_numpy(),
                               matched.set_index("row").loc[matches["participant_row"], "enrol_month"].to_numpy(), 12)
    chosen = np.abs(features["level"].to_numpy() - matched.set_index("row").loc[matches["participant_row"], "level"].to_numpy())
    assert chosen.mean() < 0.1


def test_settings_not_given_are_the_configured_ones_and_follow_a_change_of_configuration(monkeypatch):
    """config/evaluation.toml is the only default: a setting not passed is read from it, and a
    changed caliper there changes which candidates matching finds close enough in the ward."""
    from energy_lib.core import configuration

    config = configuration.load("evaluation")
    flat = {**config["window"], **config["matching"], **config["inference"]}
    assert ev.EvaluationSettings() == ev.EvaluationSettings.configured()
    assert {name: getattr(ev.EvaluationSettings(), name) for name in flat} == flat
    use, treated, pool = _city(meters_per_ward=300)
    _, wide, *_ = ev.match_controls(use, treated, pool, ev.EvaluationSettings())
    narrow_config = {**config, "matching": {**config["matching"], "caliper": 0.05}}
    monkeypatch.setattr(configuration, "load", lambda name: narrow_config if name == "evaluation" else config)
    narrow_settings = ev.EvaluationSettings()
    assert narrow_settings.caliper == 0.05 and ev.EvaluationSettings(caliper=2.0).caliper == 2.0
    _, narrow, *_ = ev.match_controls(use, treated, pool, narrow_settings)
    in_ward = narrow["level"] == "ward"
    assert (narrow.loc[in_ward, "distance"] <= 0.05).all()
    # the narrower caliper sends participants to their gu that the configured one matched in their ward
    assert in_ward.sum() < (wide["level"] == "ward").sum()


def test_a_ward_with_too_few_candidates_is_matched_in_its_gu():
    use, treated, pool = _city()
    lonely = treated["ward_code"] == "2911051000"
    pool = pool[pool["ward_code"] != "2911051000"].iloc[:]
    pool = pd.concat([pool, use.meters.reset_index(names="row").iloc[[12]]])  # one candidate left in the ward
    _, matches, *_ = ev.match_controls(use, treated, pool, SETTINGS)
    of_lonely = matches[matches["participant_row"].isin(treated.loc[lonely, "row"])]
    assert (of_lonely["level"] == "gu").all()
    assert (matches.groupby("participant_row").size() == SETTINGS.controls_per_participant).all()


def test_matching_balances_a_selected_group():
    use, treated, pool = _city(selection=0.3, meters_per_ward=150)
    matched, matches, candidates, _, _ = _estimate(use, treated, pool)
    table = ev.balance(matched, matches, candidates, use, SETTINGS).set_index("covariate")
    assert table.loc["use_per_day", "smd_before"] > 0.5
    assert abs(table.loc["use_per_day", "smd_after"]) < abs(table.loc["use_per_day", "smd_before"]) / 3
    assert table.loc["level", "balanced"]


def test_the_panel_leaves_out_members_without_enough_months_and_weights_controls():
    use, treated, pool = _city()
    matched, matches, *_ = ev.match_controls(use, treated, pool, SETTINGS)
    first = matched.iloc[0]
    gone = matches.loc[matches["participant_row"] == first["row"], "control_row"].iloc[0]
    values = use.values.copy()
    values[gone, first["enrol_month"] + SETTINGS.transition_months:] = np.nan  # a control that moved out
    panel = ev.stacked_panel(ev.MonthlyUse(values, use.meters, use.months), matched, matches, SETTINGS)
    stack = panel[panel["stack"] == first["row"]]
    assert gone not in set(stack["row"])
    assert stack.loc[~stack["treated"], "weight"].eq(1 / (SETTINGS.controls_per_participant - 1)).all()
    assert stack.loc[stack["treated"], "weight"].eq(1.0).all()
    assert stack["event"].between(-12, 13).all()


def test_annual_savings_in_every_unit_and_for_all_participants():
    effects = pd.DataFrame({"programme_id": ["p", "p"], "carrier": ["electricity", "gas"], "effect": [-1.0, -0.2],
                            "ci_low": [-1.5, -0.3], "ci_high": [-0.5, -0.1], "participants": [10, 8]})
    enrolled = pd.Series([20, 8], index=pd.MultiIndex.from_tuples([("p", "electricity"), ("p", "gas")]))
    table = ev.annual_savings(effects, enrolled).set_index(["carrier", "scope", "unit"])
    electricity = table.loc[("electricity", "per_participant", "kwh")]
    assert electricity["estimate"] == pytest.approx(365.25)
    assert (electricity["low"], electricity["high"]) == pytest.approx((0.5 * 365.25, 1.5 * 365.25))
    assert table.loc[("electricity", "all_participants", "kwh"), "estimate"] == pytest.approx(20 * 365.25)
    assert table.loc[("electricity", "all_participants", "kwh"), "participants"] == 20
    gas_kwh = table.loc[("gas", "per_participant", "kwh"), "estimate"]
    assert gas_kwh == pytest.approx(0.2 * 365.25 * 42.7 / 3.6, rel=1e-3)
    assert table.loc[("gas", "per_participant", "kgco2eq"), "estimate"] == pytest.approx(0.2 * 365.25 * 2.160, rel=1e-3)


def test_cost_effectiveness_and_an_interval_that_reaches_zero():
    savings = pd.DataFrame({"programme_id": "p", "carrier": "electricity", "scope": "all_participants",
                            "unit": ["won", "toe", "kgco2eq"], "estimate": [1_000_000.0, 2.0, 4_000.0],
                            "low": [-100_000.0, -0.2, -400.0], "high": [2_100_000.0, 4.2, 8_400.0], "participants": 10})
    programmes = pd.DataFrame({"programme_id": ["p"], "cost_won_per_participant": [500_000.0], "participants": [10]})
    row = ev.cost_effectiveness(savings, programmes).iloc[0]
    assert row["public_cost_won"] == 5_000_000
    assert row["payback_years"] == pytest.approx(5.0)
    assert row["payback_years_low"] == pytest.approx(5_000_000 / 2_100_000)
    assert row["payback_years_high"] == np.inf
    assert row["won_per_tco2eq"] == pytest.approx(5_000_000 / 4.0)
    unknown = ev.cost_effectiveness(savings, programmes.assign(cost_won_per_participant=np.nan)).iloc[0]
    assert np.isnan(unknown["payback_years"]) and unknown["savings_won"] == 1_000_000


def test_an_unknown_programme_is_named(demo):
    with pytest.raises(KeyError, match="no programme 'solar_roads'.*balcony_pv"):
        ev.evaluate(demo["store"], "solar_roads")


@pytest.mark.xdist_group("recovery")
def test_the_evaluation_recovers_the_demo_citys_injected_effects(recovery_city):
    """Every programme and carrier: the true effect lies in the 95% interval; comparison groups of
    city-wide programmes are balanced in pre-enrolment use; the PV programme's self-consumption matches its metered
    generation (balcony panels are all behind the meter)."""
    store = recovery_city["store"]
    effects = truth.programme_effects(recovery_city["raw"])
    settings = ev.EvaluationSettings.configured()
    use = ev.monthly_use(store, ev.ENERGY_CARRIERS)
    found = {}
    for programme_id in ("balcony_pv", "energy_village", "insulation_retrofit"):
        result = ev.evaluate(store, programme_id, settings, use)
        true = truth.true_effect(effects[effects["programme_id"] == programme_id], result.panel,
                                 settings.transition_months)
        for row in result.effects.itertuples():
            assert row.status == "estimated" and row.participants >= 15, row
            assert row.ci_low <= true[row.carrier] <= row.ci_high, (programme_id, row.carrier, true[row.carrier], row)
            found[(programme_id, row.carrier)] = row.effect
        if programme_id != "energy_village":  # two dongs of a 4,000-household city leave few candidates
            level = result.balance[result.balance["covariate"].isin(["use_per_day", "level"])]
            assert level["balanced"].all(), result.balance
        if programme_id == "balcony_pv":
            prosumer = result.prosumers.iloc[0]
            assert prosumer["self_consumed_share_low"] <= 1.0 <= prosumer["self_consumed_share_high"]
    assert set(found) == {("balcony_pv", "electricity"), ("energy_village", "electricity"),
                          ("energy_village", "gas"), ("insulation_retrofit", "gas")}
    written = recovery_city["derived"].read("programme_effects").set_index(["programme_id", "carrier"])["effect"]
    assert written.to_dict() == pytest.approx(found)


def test_monthly_use_from_buckets_of_meters_is_the_whole_citys(demo):
    """The compute stage builds the matrix bucket by bucket: the same matrix as from all readings,
    with a bill in the month it is read in, outliers left out, and NaN for meters without use."""
    store = demo["store"]
    readings = store.sql("SELECT meter_id, carrier, resolution, period_start, period_end, value_canonical, outlier "
                         "FROM readings WHERE resolution IN ('billing', 'monthly', 'daily')")
    whole = ev.monthly_use(store, ev.ENERGY_CARRIERS)
    bucket = pd.util.hash_array(readings["meter_id"].to_numpy(dtype=object)) % 3
    blocks = [ev.MonthlyUse.of_readings(readings[bucket == b], ev.ENERGY_CARRIERS) for b in range(3)]
    combined = ev.MonthlyUse.combine(blocks, ev.meters_of(store, ev.ENERGY_CARRIERS))
    assert blocks == []  # each block let go once copied
    assert combined.months.equals(whole.months) and combined.meters.equals(whole.meters)
    np.testing.assert_allclose(combined.values, whole.values, rtol=1e-12)
    # one bill, by hand: read in March, 31 days of use
    bill = readings[(readings["resolution"] == "billing") & ~readings["outlier"]
                    & readings["carrier"].isin(ev.ENERGY_CARRIERS)].iloc[0]
    one = ev.MonthlyUse.of_readings(readings[readings["meter_id"] == bill["meter_id"]], ev.ENERGY_CARRIERS)
    month = pd.Timestamp(bill["period_end"]).to_period("M").to_timestamp()
    same_month = readings[(readings["meter_id"] == bill["meter_id"]) & ~readings["outlier"]
                          & (readings["period_end"].dt.to_period("M").dt.start_time == month)]
    days = (same_month["period_end"] - same_month["period_start"]).dt.total_seconds().sum() / 86400
    assert one.values[0, one.months.get_loc(month)] == pytest.approx(same_month["value_canonical"].sum() / days)
    assert np.isnan(combined.values).all(axis=1).sum() == len(set(combined.meters["meter_id"])
                                                              - set(readings.loc[~readings["outlier"], "meter_id"]))
