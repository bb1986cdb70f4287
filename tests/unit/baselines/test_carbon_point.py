"""The Carbon Point rule: same month of the previous two years, half-year tiers, points, bonus."""

import numpy as np
import pandas as pd
import pytest

from energy_lib.baselines.carbon_point import (
    CarbonPointSettings,
    MonthlyUsage,
    carbon_point,
    reduction_tier,
    same_month_baseline,
)
from energy_lib.baselines.eco_mileage import eco_mileage

MONTHS = pd.date_range("2021-01-01", "2024-12-01", freq="MS")


def _usage(series: dict[tuple[str, str], list[float]]) -> MonthlyUsage:
    rows = [(meter, carrier, month, value) for (meter, carrier), values in series.items()
            for month, value in zip(MONTHS, values) if not np.isnan(value)]
    frame = pd.DataFrame(rows, columns=["meter", "carrier", "month", "value"])
    return MonthlyUsage.from_long(frame["meter"], frame["carrier"], frame["month"], frame["value"])


def _yearly(*per_year: float) -> list[float]:
    return [v for v in per_year for _ in range(12)]


def test_baseline_is_the_mean_of_the_same_month_in_the_two_previous_years():
    values = list(np.arange(48, dtype=float) + 100)
    usage = _usage({("m", "electricity"): values})
    baseline, years = same_month_baseline(usage)
    assert np.isnan(baseline[0, :12]).all() and (years[0, :12] == 0).all()
    np.testing.assert_allclose(baseline[0, 12:24], values[:12])  # one year only
    assert (years[0, 12:24] == 1).all() and (years[0, 24:] == 2).all()
    np.testing.assert_allclose(baseline[0, 30], (values[18] + values[6]) / 2)


def test_one_year_is_used_where_only_one_exists():
    values = _yearly(100, 100, 100, 90)
    values[6] = np.nan  # July 2021 missing: July 2023's baseline is July 2022 alone
    usage = _usage({("m", "gas"): values})
    baseline, years = same_month_baseline(usage)
    assert years[0, 30] == 1 and baseline[0, 30] == 100


def test_tiers_points_won_and_the_maintenance_bonus():
    settings = CarbonPointSettings.from_config()
    steady = _yearly(100, 100, 88, 0.97 * 94)  # 2023 −12% twice (tier 2), 2024 −3% (maintenance)
    result = carbon_point(_usage({("e", "electricity"): steady, ("g", "gas"): steady, ("w", "water"): steady,
                                  ("h", "heat"): steady}), settings)
    half = result.half_years.set_index(["meter_id", "half_year"])
    assert half.loc[("e", "2023H1"), "tier"] == 2 and half.loc[("e", "2023H1"), "points"] == 10_000
    assert half.loc[("g", "2023H2"), "points"] == 6_000 and half.loc[("w", "2023H2"), "points"] == 1_500
    assert half.loc[("e", "2023H1"), "won"] == 10_000 * settings.won_per_point
    assert half.loc[("e", "2024H1"), "maintenance"] and half.loc[("e", "2024H1"), "points"] == 3_000
    assert half.loc[("g", "2024H1"), "points"] == 1_800 and half.loc[("w", "2024H1"), "points"] == 450
    assert not half.loc[("e", "2024H2"), "maintenance"]  # the previous two were not both paid by tier
    assert half.loc[("h", "2023H1"), "tier"] == 2 and half.loc[("h", "2023H1"), "points"] == 0  # no heat points
    np.testing.assert_allclose(half.loc[("e", "2023H1"), "reduction"], 0.12)


def test_incomplete_half_years_are_disqualified_with_a_reason():
    values = _yearly(100, 100, 90, 90)
    values[40] = np.nan  # May 2024 has no bill
    half = carbon_point(_usage({("m", "electricity"): values})).half_years.set_index("half_year")
    assert half.loc["2024H1", "status"] == "disqualified" and half.loc["2024H1", "reason"].endswith("missing_bill")
    assert half.loc["2021H1", "reason"].endswith("no_baseline") and half.loc["2024H2", "status"] == "qualified"
    assert half.loc["2024H1", "points"] == 0


@pytest.mark.parametrize("rate, tier", [(0.0, 0), (0.0499, 0), (0.05, 1), (0.0999, 1), (0.10, 2), (0.15, 3), (0.6, 3),
                                        (-0.2, 0)])
def test_tier_bounds_are_inclusive(rate, tier):
    assert reduction_tier(np.array([rate]), np.array([0.05, 0.10, 0.15]))[0] == tier


def test_monthly_table_has_status_and_reduction():
    monthly = carbon_point(_usage({("m", "electricity"): _yearly(100, 100, 100, 80)})).monthly()
    assert set(monthly["status"]) == {"no_baseline", "one_year", "ok"}
    assert monthly.loc[monthly["month"] == "2024-03-01", "reduction"].iloc[0] == pytest.approx(0.2)


def test_several_bills_in_one_billing_month_are_added():
    frame = pd.DataFrame({"meter": ["m", "m"], "carrier": ["gas", "gas"],
                          "month": pd.to_datetime(["2023-01-03", "2023-01-28"]), "value": [10.0, 5.0]})
    usage = MonthlyUsage.from_long(frame["meter"], frame["carrier"], frame["month"], frame["value"])
    assert usage.values.tolist() == [[15.0]]


def test_eco_mileage_converts_to_co2_and_compares_six_months():
    usage = _usage({("e", "electricity"): _yearly(300, 300, 300, 255), ("g", "gas"): _yearly(50, 50, 50, 42.5),
                    ("w", "water"): _yearly(10, 10, 10, 8.5), ("x", "heat"): _yearly(1, 1, 1, 1)})
    result = eco_mileage(usage, pd.Series({"e": "s", "g": "s", "w": "s", "x": "s"})).half_years.set_index("half_year")
    expected = (300 * 0.424 + 50 * 2.78 + 10 * 0.332) * 6
    assert result.loc["2023H1", "baseline_co2_kg"] == pytest.approx(expected)
    assert result.loc["2024H1", "reduction"] == pytest.approx(0.15) and result.loc["2024H1", "tier"] == 3
    assert result.loc["2024H1", "carriers_used"] == "electricity, gas, water"  # heat has no Carbon Point factor
