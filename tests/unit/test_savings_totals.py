"""Issue 16, honest aggregates: the band floor, meters left out of sums, the calibration of sums
on placebo meters (synthetic data with known errors) and the flag of a programme begun in the
baseline year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy_lib import savings
from energy_lib.compute import mark_totals

Z = 1.6448536269514722


def _metrics(sigma: float, rho: float = 0.0, n: float = 12.0, mean: float = 300.0) -> dict:
    return {"n": np.array([n]), "n_params": np.array([2.0]), "rmse_adj": np.array([sigma]),
            "autocorr_resid": np.array([rho]), "observed_mean": np.array([mean]),
            "observed_variance": np.array([900.0])}


def test_a_near_perfect_fit_gets_the_floor_not_a_band_of_nothing():
    """A fit to three bills leaves σ ≈ 0: Guideline 14's band is ~0, the floor is the same formula
    with σ = min_cvrmse × mean use (of config/savings.toml)."""
    floor = savings.BAND_FLOOR["billing"]["min_cvrmse"]
    assert 0 < floor < 0.15  # a floor under Guideline 14's monthly limit
    tiny = savings.error_bands(_metrics(1e-9, n=3.0), np.array([280.0]), np.array([12.0]), "billing")
    honest = savings.error_bands(_metrics(floor * 300.0, n=3.0), np.array([280.0]), np.array([12.0]), "billing")
    assert tiny["fsu_band"][0] < 1e-6
    assert tiny["floor_band"][0] == pytest.approx(honest["fsu_band"][0], rel=1e-12)
    assert savings.floored_band(tiny["fsu_band"], tiny["floor_band"])[0] == pytest.approx(honest["fsu_band"][0])
    # negative autocorrelation does not narrow the floor (n' is at most n)
    negative = savings.error_bands(_metrics(1e-9, rho=-0.5, n=3.0), np.array([280.0]), np.array([12.0]), "billing")
    assert negative["floor_band"][0] == pytest.approx(honest["fsu_band"][0], rel=1e-12)
    # a fit worse than the floor keeps its own band; the metering resolution floors a tiny meter
    wide = savings.error_bands(_metrics(60.0), np.array([280.0]), np.array([12.0]), "billing")
    assert wide["floor_band"][0] == pytest.approx(wide["fsu_band"][0])
    small = savings.error_bands(_metrics(0.0, mean=2.0), np.array([2.0]), np.array([12.0]), "billing",
                                min_cvrmse=0.0, resolution=1.0)
    assert small["floor_band"][0] == pytest.approx(
        savings.error_bands(_metrics(1 / np.sqrt(12), mean=2.0), np.array([2.0]), np.array([12.0]), "billing")["fsu_band"][0])


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "ward": ["a", "a", "a", "b", "b"], "savings": [10.0, 20.0, 27_000.0, 5.0, np.nan],
        "band": [3.0, 4.0, 1e-8, 12.0, np.nan], "insufficient": [False, False, True, False, False],
        "programme_in_baseline": [False, False, False, True, False]})


def test_meters_left_out_are_counted_not_summed():
    out = savings.aggregate(_frame(), ["ward"], band="band", left_out=("insufficient", "programme_in_baseline"))
    a = out.set_index("ward").loc["a"]
    assert a["meters"] == 2 and a["savings"] == 30.0 and a["band"] == pytest.approx(5.0)
    assert a["meters_insufficient"] == 1 and a["meters_programme_in_baseline"] == 0
    # ward b: its only summable meter began a programme in the baseline year; nothing is summed
    assert list(out["ward"]) == ["a"]
    everything = savings.aggregate(_frame(), ["ward"], band="band")
    assert everything.set_index("ward").loc["a", "savings"] == 27_030.0  # what the sums used to show


def test_correlated_errors_add_linearly():
    frame = pd.DataFrame({"g": ["x"] * 3, "savings": [1.0, 2.0, 3.0], "band": [Z, Z, Z],
                          "se": [1.0, 2.0, 2.0], "se_common": [0.0, 1.0, 2.0]})
    out = savings.aggregate(frame, ["g"], band="band", se="se", shared={"se_common": None}).iloc[0]
    # own parts 1, 3, 0 in quadrature, common parts 0 + 1 + 2 added linearly
    assert out["band"] == pytest.approx(Z * np.sqrt(1 + 3 + 0 + 3.0 ** 2))
    # a part shared within an area adds linearly within it, in quadrature across areas
    areas = frame.assign(area=["p", "q", "q"], se_common=0.0, se_area=[0.0, 1.0, 2.0])
    out = savings.aggregate(areas, ["g"], band="band", se="se", shared={"se_area": "area"}).iloc[0]
    assert out["band"] == pytest.approx(Z * np.sqrt(1 + 3 + 0 + 0.0 ** 2 + 3.0 ** 2))
    split = savings.aggregate(areas.assign(area=["p", "q", "r"]), ["g"], band="band", se="se",
                              shared={"se_area": "area"}).iloc[0]
    assert split["band"] == pytest.approx(Z * np.sqrt(1 + 3 + 0 + 1 + 4))


def _placebo(rng: np.random.Generator, n: int, scale: float, common: float, tail: float | None = None,
             ward: float = 0.0) -> pd.DataFrame:
    """Meters with stated bands B_i and errors scale · s_i · z_i + common · s_i + ward · s_i · w_ward
    (s_i = B_i / 1.645; 80 wards of about 50 meters; 5 gu of 16 wards), z_i normal or Student-t
    (``tail`` degrees of freedom, rescaled to unit variance), w_ward normal."""
    band = rng.lognormal(np.log(100.0), 0.8, n)
    s = band / Z
    z = rng.standard_normal(n) if tail is None else rng.standard_t(tail, n) / np.sqrt(tail / (tail - 2))
    wards = rng.integers(0, 80, n)
    return pd.DataFrame({"meter_id": [f"m{i:05d}" for i in range(n)], "carrier": "gas", "method": "caltrack_billing",
                         "savings": scale * s * z + common * s + ward * s * rng.standard_normal(80)[wards], "band": band,
                         "ward_code": wards.astype(str), "gu_code": (wards // 16).astype(str)})


def test_a_group_is_summed_in_draws_of_1_2_4_meters_then_by_its_areas_and_whole():
    """Each group's sums: its meters one by one; drawn into disjoint sums of 2, 4, … meters (the
    last, incomplete sum left out; a size only while the group holds 8 sums of it); each ward and
    gu; and all together — counted per group, whatever the order of the rows."""
    rng = np.random.default_rng(3)
    gas = _placebo(rng, 1_000, 1.0, 0.0)
    electricity = _placebo(rng, 100, 1.0, 0.0).assign(carrier="electricity", meter_id=lambda f: "e" + f["meter_id"])
    placebo = pd.concat([gas, electricity], ignore_index=True).sample(frac=1.0, random_state=1)  # groups interleaved
    areas = {"ward": "ward_code", "gu": "gu_code"}
    table = savings.aggregate_calibration(placebo, ["carrier", "method"], band="band", areas=areas).set_index("carrier")
    for carrier, meters in placebo.groupby("carrier"):
        n = len(meters)
        draws = sum(n // size for size in [1, *(2 ** k for k in range(1, 20) if 8 * 2 ** k <= n)])
        assert table.loc[carrier, "sums"] == draws + meters["ward_code"].nunique() + meters["gu_code"].nunique() + 1
    again = savings.aggregate_calibration(placebo.sort_values("meter_id"), ["carrier", "method"], band="band", areas=areas)
    pd.testing.assert_frame_equal(table.reset_index(), again, rtol=1e-9)


def test_independent_errors_give_their_scale_and_no_correlation():
    rng = np.random.default_rng(16)
    table = savings.aggregate_calibration(_placebo(rng, 4_000, 0.6, 0.0), ["carrier", "method"], band="band").iloc[0]
    assert table["calibrated"] and table["meters"] == 4_000 and table["sums"] > 4_000
    assert table["scale"] == pytest.approx(0.6, rel=0.08)
    assert table["correlation"] < 0.02


def test_a_common_error_is_found_and_covered_in_sums():
    """Every meter off by the same 0.3 s_i (one year's weather): a sum of m meters is off by
    0.3 Σ s_i, far outside its bands in quadrature once m is large; the calibration sees it in
    the placebo sums and the sums' bands cover it."""
    rng = np.random.default_rng(7)
    placebo = _placebo(rng, 4_000, 0.6, 0.3)
    table = savings.aggregate_calibration(placebo, ["carrier", "method"], band="band")
    c2_rho = table["scale"].iloc[0] ** 2 * table["correlation"].iloc[0]
    assert c2_rho == pytest.approx(0.09, rel=0.3)
    errors = savings.aggregate_errors(placebo, table, ["carrier", "method"], band="band")
    sums = placebo.assign(se=errors["se"], se_common=errors["se_common"], ward=np.arange(len(placebo)) // 100)
    out = savings.aggregate(sums, ["ward"], band="band", se="se", shared={"se_common": None})
    naive = savings.aggregate(sums, ["ward"], band="band")
    assert (out["savings"].abs() <= out["band"]).mean() >= 0.85
    assert (naive["savings"].abs() <= naive["band"]).mean() < 0.5


@pytest.mark.parametrize("tail", [None, 3.0])
def test_sums_of_held_apart_meters_are_covered_90_percent(tail):
    """Calibrated on one half of the placebo meters, the bands of sums of 50 meters of the other
    half cover 90% ± 4% of them, with normal and heavy-tailed (t, 3 degrees of freedom) errors."""
    covered = []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        placebo = _placebo(rng, 4_000, 1.5, 0.0, tail)
        half = placebo.index % 2 == 0
        table = savings.aggregate_calibration(placebo[half], ["carrier", "method"], band="band")
        held = placebo[~half]
        errors = savings.aggregate_errors(held, table, ["carrier", "method"], band="band")
        sums = savings.aggregate(held.assign(se=errors["se"], se_common=errors["se_common"], ward=np.arange(len(held)) // 50),
                                 ["ward"], band="band", se="se", shared={"se_common": None})
        covered.append((sums["savings"].abs() <= sums["band"]).to_numpy())
    assert np.concatenate(covered).mean() == pytest.approx(0.90, abs=0.04)


def test_a_programme_begun_in_the_baseline_year_is_flagged_and_left_out():
    frame = pd.DataFrame({
        "analysis": ["annual", "annual", "annual", "programme:p"], "meter_id": ["in", "before", "after", "in"],
        "primary": True, "savings": 1.0, "fsu_band": 1.0, "sufficiency": "pass"})
    enrolled = pd.DataFrame({"programme_id": "p", "meter_id": ["in", "before", "after"], "carrier": "gas",
                             "enrolled_on": pd.to_datetime(["2025-03-15", "2024-10-31", "2025-11-01"])})
    out = mark_totals(frame, enrolled, pd.Timestamp("2025-11-01"))
    assert out["programme_in_baseline"].tolist() == [True, False, False, False]
    assert out["in_totals"].tolist() == [False, True, True, True]
    failing = mark_totals(frame.assign(sufficiency="fail"), enrolled.iloc[:0], pd.Timestamp("2025-11-01"))
    assert not failing["in_totals"].any()


def test_an_error_shared_within_wards_is_found_and_covered_in_ward_sums():
    """Meters of a ward share part of their error (read on the same days, say): ward sums are off
    by far more than their bands in quadrature say. Calibrated with the ward as an area, on one
    half of the meters, the other half's ward sums are covered about 90% of the time."""
    covered, naive_covered = [], []
    for seed in range(10):
        rng = np.random.default_rng(300 + seed)
        placebo = _placebo(rng, 8_000, 1.0, 0.0, ward=0.25)
        half = placebo.index % 2 == 0
        areas = {"ward": "ward_code", "gu": "gu_code"}
        table = savings.aggregate_calibration(placebo[half], ["carrier", "method"], band="band", areas=areas)
        assert table["correlation_ward"].iloc[0] > 0.02 and table["correlation"].iloc[0] < 0.02
        held = placebo[~half]
        errors = savings.aggregate_errors(held, table, ["carrier", "method"], band="band", areas=tuple(areas))
        shared = {"se_common": None, "se_ward": "ward_code", "se_gu": "gu_code"}
        sums = savings.aggregate(held.assign(**errors), ["ward_code"], band="band", se="se", shared=shared)
        naive = savings.aggregate(held, ["ward_code"], band="band")
        covered.append((sums["savings"].abs() <= sums["band"]).to_numpy())
        naive_covered.append((naive["savings"].abs() <= naive["band"]).to_numpy())
    assert np.concatenate(covered).mean() == pytest.approx(0.90, abs=0.05)
    assert np.concatenate(naive_covered).mean() < 0.75


def _sized(rng: np.random.Generator, n: int, exponent: float) -> pd.DataFrame:
    """Meters of sizes m_i (counterfactual use) with stated bands whose relative width r_i = s_i / m_i
    varies tenfold, and errors of sd s_i (r_i / r̄)^−exponent (exponent 1: in proportion to the
    size, whatever the band says; 0: as the band says); 80 wards, 5 gu."""
    size = rng.lognormal(np.log(1_000.0), 0.7, n)
    relative = rng.lognormal(np.log(0.02), 0.6, n)
    s = relative * size
    sd = s * (relative / np.exp(np.mean(np.log(relative)))) ** -exponent
    wards = rng.integers(0, 80, n)
    return pd.DataFrame({"meter_id": [f"m{i:05d}" for i in range(n)], "carrier": "gas", "method": "caltrack_billing",
                         "savings": sd * rng.standard_normal(n), "band": s * Z, "counterfactual": size,
                         "ward_code": wards.astype(str), "gu_code": (wards // 16).astype(str)})


@pytest.mark.parametrize("exponent", [0.0, 0.5, 1.0])
def test_the_size_exponent_of_a_known_variance_function_is_found(exponent):
    """Errors of sd s_i (r_i / r̄)^−γ: the log-regression finds γ (Harvey 1976), and the rescaled
    errors z_i / factor_i have one variance across the relative bands."""
    rng = np.random.default_rng(51)
    meters = _sized(rng, 6_000, exponent)
    s = meters["band"].to_numpy() / Z
    found, reference = savings.size_exponent(meters["savings"].to_numpy(), s, meters["counterfactual"].to_numpy(),
                                             np.zeros(len(meters), dtype=int), 1)
    assert found[0] == pytest.approx(exponent, abs=0.06)
    assert reference[0] == pytest.approx(0.02, rel=0.05)
    scaled = meters["savings"].to_numpy() / (s * savings.relative_scale(s, meters["counterfactual"], found, reference))
    narrow = s / meters["counterfactual"].to_numpy() < reference[0]
    assert np.var(scaled[narrow]) == pytest.approx(np.var(scaled[~narrow]), rel=0.12)


def test_relative_scale_is_one_at_the_reference_and_without_a_size():
    s = np.array([2.0, 8.0, 2.0, 2.0])
    factor = savings.relative_scale(s, np.array([100.0, 100.0, 0.0, np.nan]), 0.5, 0.02)
    # r = 0.02 (the reference) → 1; r = 0.08 → (4)^−0.5 = 0.5; no size → 1
    assert factor == pytest.approx([1.0, 0.5, 1.0, 1.0])


def test_the_sum_coverage_factor_is_one_for_normal_sums_and_below_for_heavy_tails():
    rng = np.random.default_rng(5)
    normal = np.abs(rng.standard_normal(40_000))
    assert savings.sum_coverage_factor(normal, np.ones(len(normal))) == pytest.approx(1.0, abs=0.02)
    # unit variance, but a few sums carry it: most fall well inside 1.645 standard errors
    mixture = np.abs(rng.standard_normal(40_000) * np.where(rng.random(40_000) < 0.05, 3.0, 1.0)) / np.sqrt(1.4)
    heavy = savings.sum_coverage_factor(mixture, np.ones(len(mixture)))
    assert 0.75 < heavy < 0.95
    assert np.mean(mixture <= heavy * Z) == pytest.approx(0.90, abs=0.005)
    # weights: sums of weight 0 do not count; no finite ratio leaves the errors as modelled
    assert savings.sum_coverage_factor(np.r_[normal, np.full(10_000, 50.0)], np.r_[np.ones(len(normal)), np.zeros(10_000)]) \
        == pytest.approx(1.0, abs=0.02)
    assert savings.sum_coverage_factor(np.array([np.nan]), np.ones(1)) == 1.0


def test_sums_of_meters_whose_errors_follow_their_size_are_covered_90_percent():
    """Bands that misstate which meters are uncertain (errors in proportion to the meters' size,
    bands tenfold apart in relative width): calibrated with the size on one half, the other half's
    ward sums are covered 90% ± 4%, and the calibration reports γ near 1."""
    covered = []
    for seed in range(10):
        meters = _sized(np.random.default_rng(600 + seed), 8_000, 1.0)
        half = meters.index % 2 == 0
        table = savings.aggregate_calibration(meters[half], ["carrier", "method"], band="band", size="counterfactual")
        assert table["size_exponent"].iloc[0] > 0.9
        held = meters[~half]
        errors = savings.aggregate_errors(held, table, ["carrier", "method"], band="band", size="counterfactual")
        sums = savings.aggregate(held.assign(**errors), ["ward_code"], band="band", se="se", shared={"se_common": None})
        covered.append((sums["savings"].abs() <= sums["band"]).to_numpy())
    assert np.concatenate(covered).mean() == pytest.approx(0.90, abs=0.04)


def test_pseudo_areas_keep_wards_whole_and_are_as_many_as_the_gu():
    from energy_lib.demo.truth import pseudo_areas

    rng = np.random.default_rng(3)
    ward = pd.Series(rng.integers(0, 97, 5_000).astype(str))
    gu = pd.Series((ward.astype(int) // 20).astype(str))  # 5 gu
    areas = pseudo_areas(ward, gu, "draw:1")
    assert (areas.groupby(ward)["pseudo_gu"].nunique() == 1).all()  # no ward is split
    wards_per_group = areas.assign(ward=ward).groupby("pseudo_gu")["ward"].nunique()
    assert len(wards_per_group) == 5 and wards_per_group.max() - wards_per_group.min() <= 1
    halves = areas.assign(ward=ward).groupby("half_city")["ward"].nunique()
    assert sorted(halves) == [48, 49]
    assert areas.equals(pseudo_areas(ward, gu, "draw:1"))  # the same salt, the same areas
    assert not areas["pseudo_gu"].equals(pseudo_areas(ward, gu, "draw:2")["pseudo_gu"])


def test_the_normal_year_is_predict_caltrack_of_one_day_periods_exactly():
    """normalised_savings sums each model over the typical year from three arrays: the same
    numbers, bit for bit, as predict_caltrack of one-day periods (its former path), for heating,
    cooling, intercept-only and unfitted meters and a day without temperature."""
    from energy_lib.baselines.caltrack import CalTRACKSettings, Periods, fit_caltrack, predict_caltrack

    rng = np.random.default_rng(5)
    meters, days = 12, 365
    temp = 14 - 12 * np.cos(2 * np.pi * np.arange(days) / 365) + rng.normal(0, 2, days)
    usage = (rng.uniform(3, 9, (meters, 1)) + rng.uniform(0, 0.6, (meters, 1)) * np.maximum(12 - temp, 0)
             + rng.uniform(0, 1.2, (meters, 1)) * np.maximum(temp - 22, 0)) * rng.lognormal(0, 0.1, (meters, days))
    usage[3] = rng.lognormal(1, 0.1, days)  # no weather dependence
    usage[4] = np.nan  # no data: no model
    ones = np.ones((meters, days))

    def periods(values):
        return Periods(pd.Index([f"m{i}" for i in range(meters)]), np.zeros((meters, days), dtype="datetime64[us]"),
                       values, ones, np.broadcast_to(temp[None, :, None], (meters, days, 1)), ones, ones)

    settings = CalTRACKSettings(fit_cdd=True)
    baseline = fit_caltrack(periods(usage), settings)
    reporting = fit_caltrack(periods(usage * 0.9), settings)
    assert "no_data" in set(baseline.status) and len(set(baseline.model_type) - {""}) > 1
    normal = temp.copy()
    normal[40] = np.nan
    year = Periods(baseline.periods.meter_ids, np.zeros((meters, days), dtype="datetime64[us]"),
                   np.full((meters, days), np.nan), ones, np.broadcast_to(normal[None, :, None], (meters, days, 1)),
                   ones, ones)
    before = predict_caltrack(baseline, year)["predicted"].sum(axis=1)
    after = predict_caltrack(reporting, year)["predicted"].sum(axis=1)
    result = savings.normalised_savings(baseline, reporting, normal)
    ok = (baseline.status == "qualified") & (reporting.status == "qualified")
    np.testing.assert_array_equal(result["baseline_normal"].to_numpy(), np.where(ok, before, np.nan))
    np.testing.assert_array_equal(result["reporting_normal"].to_numpy(), np.where(ok, after, np.nan))
    assert np.isnan(before).all()  # a day without temperature: no typical year
    clean = Periods(year.meter_ids, year.start, year.usage, ones, np.broadcast_to(temp[None, :, None], (meters, days, 1)),
                    ones, ones)
    np.testing.assert_array_equal(savings._normal_year_total(baseline, temp),
                                  predict_caltrack(baseline, clean)["predicted"].sum(axis=1))


def test_area_sums_counted_densely_equal_the_hashed_pairs(monkeypatch):
    """The squared area sums of the placebo draws are the same numbers, bit for bit, whether the
    pairs of sum and area are counted in one array or hashed."""
    rng = np.random.default_rng(11)
    sums, areas, weights = rng.integers(0, 300, 20_000), rng.integers(0, 40, 20_000), rng.gamma(2.0, 1.0, 20_000)
    dense = savings._squared_area_sums(sums, areas, weights, 300, 40)
    monkeypatch.setattr(savings, "_DENSE_PAIRS", 0)
    hashed = savings._squared_area_sums(sums, areas, weights, 300, 40)
    assert np.array_equal(dense, hashed)
    first = (sums == 0)
    expected = sum(weights[first & (areas == a)].sum() ** 2 for a in range(40))
    assert np.isclose(dense[0], expected, rtol=1e-12)


def test_each_draw_orders_the_meters_anew_and_ties_keep_their_order():
    hashes = pd.util.hash_array(np.array([f"m-{i}" for i in range(5_000)], dtype=object), categorize=False)
    first, second = savings._draw(hashes, 1), savings._draw(hashes, 2)
    assert len(np.unique(first)) == len(hashes)  # a bijection: distinct ids keep distinct keys
    assert abs(np.corrcoef(np.argsort(np.argsort(first)), np.argsort(np.argsort(second)))[0, 1]) < 0.05
    keys = np.array([3, 1, 3, 2, 1], dtype=np.uint64)
    assert savings._argsort_distinct(keys).tolist() == [1, 4, 3, 0, 2]  # ties: the stable order
    assert savings._argsort_distinct(first).tolist() == np.argsort(first, kind="stable").tolist()
