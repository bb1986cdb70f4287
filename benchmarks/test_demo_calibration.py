"""Issue 13, point 0: the full demo city (650,000 households) has KEPCO's real magnitudes.

Every gu × contract-type total of 2024 in the demo's KEPCO aggregate is within ±10% of KEPCO's
published figure (energy_lib/core/reference/kepco_electricity_2024.csv), and so is the sum of the
sites' own electricity (household bills, building energy, interval files) for the contract types
that have sites (주택용, 일반용, 교육용, 산업용). The export files are those of the issue-2
benchmark (``benchmarks/.data/demo-<households>``, generated when missing or older than the
generator); the time measured is reading them back. Set BENCH_HOUSEHOLDS for another scale.
"""

from __future__ import annotations

import time

import pandas as pd
from test_full_scale_ingest import HOUSEHOLDS, _exports

from energy_lib.demo import calibration
from energy_lib.demo.city import DemoSettings

TOLERANCE = 0.10


def test_full_scale_calibration(benchmark, measured):
    started = time.perf_counter()
    manifest = _exports(measured)
    prepared = time.perf_counter() - started
    settings = DemoSettings(households=HOUSEHOLDS)
    table = benchmark.pedantic(lambda: calibration.measure(manifest.parent, settings), rounds=1, iterations=1)
    with pd.option_context("display.width", 160, "display.max_rows", 50):
        print(f"\n{HOUSEHOLDS:,} households (exports ready in {prepared:.0f} s): 2024 per gu × contract type")
        print(table[["gu_code", "contract", "reference_kwh", "kepco_kwh", "kepco_customers", "site_kwh", "sites",
                     "kepco_ratio", "site_ratio"]].round(3).to_string(index=False))
    worst = {"kepco": float((table["kepco_ratio"] - 1).abs().max()),
             "sites": float((table["site_ratio"].dropna() - 1).abs().max())}
    benchmark.extra_info.update({"households": HOUSEHOLDS, "series": len(table), "worst_deviation": worst,
                                 "total_kepco_gwh": float(table["kepco_kwh"].sum() / 1e6),
                                 "total_reference_gwh": float(table["reference_kwh"].sum() / 1e6)})
    print(f"worst deviation: KEPCO aggregate {worst['kepco']:.1%}, sites {worst['sites']:.1%}")
    assert table["kepco_kwh"].notna().all() and len(table) == 35
    assert worst["kepco"] <= TOLERANCE
    assert table["site_kwh"].notna().sum() == 20 and worst["sites"] <= TOLERANCE
