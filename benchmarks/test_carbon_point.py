"""Issue 3 target: Carbon Point baselines for 650,000 households × 3 carriers × 4 years in under 30 s.

Input: one row per monthly bill (integer meter codes, as the compute stage reads them from the
store), 93.6 million rows. Timed: building the dense meter × month array, the same-month
baselines, half-year reduction rates, tiers, points, maintenance bonuses and won.
"""

import os
import time

import numpy as np
import pandas as pd

from energy_lib.baselines.carbon_point import MonthlyUsage, carbon_point

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "650000"))


def _bills(households: int, months: int = 48) -> pd.DataFrame:
    generator = np.random.default_rng(7)
    meters = 3 * households
    meter = np.repeat(np.arange(meters, dtype=np.int64), months)
    month = np.tile(pd.date_range("2022-01-01", periods=months, freq="MS").to_numpy(), meters)
    base = np.repeat(generator.gamma(4.0, 75.0, meters), months)
    value = base * generator.lognormal(0.0, 0.08, meters * months)
    carrier = pd.Categorical.from_codes(np.repeat(np.arange(meters) % 3, months), ["electricity", "gas", "water"])
    return pd.DataFrame({"meter": meter, "carrier": carrier, "month": month, "value": value})


def test_carbon_point_city_scale(benchmark):
    bills = _bills(HOUSEHOLDS)

    def run():
        usage = MonthlyUsage.from_long(bills["meter"], bills["carrier"], bills["month"], bills["value"])
        return carbon_point(usage)

    started = time.perf_counter()
    result = benchmark.pedantic(run, rounds=1, iterations=1)
    seconds = time.perf_counter() - started
    benchmark.extra_info.update({"bills": len(bills), "meters": 3 * HOUSEHOLDS, "seconds": seconds})
    print(f"\nCarbon Point: {len(bills):,} bills of {3 * HOUSEHOLDS:,} meters in {seconds:.1f} s; "
          f"{(result.half_years['tier'] > 0).mean():.1%} of meter-half-years reach a tier")
    assert seconds < 30
