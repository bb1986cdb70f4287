"""Issue 16, items 4 and 5: do the 90% savings bands hold the truth 90% of the time, for a meter, a
ward (dong), a gu and the city?

The demo city (10,000 households; BENCH_HOUSEHOLDS for another scale) is generated, ingested and
computed into ``benchmarks/.data/coverage-<households>`` (again when the demo's or the compute
stage's code is newer). The annual analysis's savings are compared with the demo's injected truth
(:func:`energy_lib.demo.truth.annual_truth`: 0 for non-participants, the injected savings for
participants with no effect in their baseline year) on meters held apart from the calibration:
each of BENCH_SPLITS draws (200) calibrates on half of the meters and measures the other half
(:func:`energy_lib.demo.truth.band_coverage`). The table goes to docs/benchmarks.md; the target is
88–92% for electricity and gas at every level measured on many sums. Meters and wards are held to
it; sums of gu size (random groups of wards, ``pseudo-gu``) and of half the city (random halves
of the wards, ``half-city``) are measured on at least one sum per draw, but of one demo year
(see LARGE). The real gu and city rows are printed with their counts (5 gu and 1 city per draw:
their coverage is the share of draws of a handful of realised errors) and not asserted.

Several demo years: with BENCH_SEEDS (``2026,2027,2028,2029,2030``), a second test builds one
smaller demo per seed (BENCH_SEED_HOUSEHOLDS households, 5,000; each seed draws its own weather,
people and noise: another realised year) into ``benchmarks/.data/coverage-<households>-seed<seed>``,
runs BENCH_SEED_SPLITS draws (20) on each, and reports gu, city and the pseudo-areas pooled over the
seeds with a Wilson 90% interval. The interval counts each seed's real sums once (5 gu and one city a
seed), not once per draw: the draws of one seed share its realised year.
"""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from scipy import stats

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "10000"))
SPLITS = int(os.environ.get("BENCH_SPLITS", "200"))
DATA = ROOT / "benchmarks" / ".data" / f"coverage-{HOUSEHOLDS}"
SEEDS = [int(s) for s in os.environ.get("BENCH_SEEDS", "").split(",") if s.strip()]
SEED_HOUSEHOLDS = int(os.environ.get("BENCH_SEED_HOUSEHOLDS", "5000"))
SEED_SPLITS = int(os.environ.get("BENCH_SEED_SPLITS", "20"))
TARGET = ("meter", "ward")
"""Levels held to the issue's 88–92%: many sums, nearly independent of one another."""
LARGE = ("pseudo-gu", "half-city")
"""Sums of gu and half-city size (at least one per draw, but sharing most of their meters from
draw to draw and the demo's one year): 84–87% on the default demo; on 10 demo years (seeds) one
year's coverage of these sums ranges from 85% to 100% and the pooled coverage is 93–95%
(docs/benchmarks.md, "bands by size of sum, several demo years"), so one year is held to 80–97%
only, that a gross regression shows; the test over seeds is the measurement."""
CODE = [*(ROOT / "energy_lib" / "demo").glob("*.py"), ROOT / "energy_lib" / "config" / "demo.toml"]
COMPUTE = [path for name in ("compute", "savings", "evaluation", "baselines")
           for path in (ROOT / "energy_lib" / name).glob("*.py")] + [ROOT / "energy_lib" / "config" / "savings.toml"]


def _newest(paths) -> float:
    return max(p.stat().st_mtime for p in paths if p.exists())


def _city(data=DATA, households=HOUSEHOLDS, seed=None):
    """The demo city's store and derived tables (built when missing or older than their code)."""
    os.environ["ENERGY_KEY_FILE"] = str(data / "secret.key")  # the benchmark's own key, not the user's
    os.environ.pop("ENERGY_SECRET_KEY", None)
    from energy_lib.compute import compute
    from energy_lib.core import keys
    from energy_lib.demo.city import DemoSettings
    from energy_lib.demo.generate import generate, load
    from energy_lib.store import Store

    manifest = data / "raw" / "manifest.json"
    if not manifest.exists() or manifest.stat().st_mtime < _newest(CODE):
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        keys.create_key()
        settings = DemoSettings(households=households, **({} if seed is None else {"seed": seed}))
        generate(settings, data / "raw")
        load(Store(data / "store"), manifest)
    store, derived = Store(data / "store"), Store(data / "derived")
    stamp = data / "derived" / "_manifest.json"
    if not stamp.exists() or stamp.stat().st_mtime < max(_newest(COMPUTE), manifest.stat().st_mtime):
        compute(store, derived, progress=False)
    return store, derived


def test_savings_band_coverage(benchmark):
    from energy_lib.demo import truth

    started = time.perf_counter()
    store, derived = _city()
    prepared = time.perf_counter() - started
    rows = truth.annual_truth(store, derived, truth.programme_effects(DATA / "raw"))
    sites = set(store.read("participation")["site_id"])
    table = benchmark.pedantic(lambda: truth.band_coverage(rows, sites, splits=SPLITS), rounds=1, iterations=1)
    savings = derived.read("savings")
    annual = savings[(savings["analysis"] == "annual") & savings["primary"] & savings["savings"].notna()]
    left_out = annual.groupby("carrier").agg(insufficient=("sufficiency", lambda s: int((s == "fail").sum())),
                                             programme_in_baseline=("programme_in_baseline", "sum"),
                                             summed=("in_totals", "sum"))
    with pd.option_context("display.width", 160):
        print(f"\n{HOUSEHOLDS:,} households (city ready in {prepared:.0f} s), {SPLITS} draws of held-apart halves")
        print(table.round(3).to_string(index=False))
        print("annual analysis, meters with savings:\n" + left_out.to_string())
    benchmark.extra_info.update({"households": HOUSEHOLDS, "splits": SPLITS,
                                 "coverage": table.round(4).to_dict("records")})
    main = table[table["carrier"].isin(["electricity", "gas"])].set_index("level")
    measured = main.loc[[*TARGET, *LARGE]]
    assert len(measured) == 2 * len(TARGET + LARGE) and (measured["n"] >= SPLITS).all(), measured
    assert main.loc[list(TARGET), "coverage"].between(0.88, 0.92).all(), main
    assert main.loc[list(LARGE), "coverage"].between(0.80, 0.97).all(), main


def wilson(successes: float, n: float, *, confidence: float = 0.90) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (``successes`` may be fractional: a seed's
    share of covered draws)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(centre - half), float(centre + half))


def pooled(per_seed: pd.DataFrame, splits: int) -> pd.DataFrame:
    """Coverage per level and carrier pooled over seeds: ``n`` (sums over all draws and seeds),
    ``independent`` (sums counted once per seed: ``n`` / draws), ``coverage``, ``low`` and ``high``
    (Wilson 90% interval on ``independent``), ``error_ratio``, ``seeds_all_covered`` (seeds whose
    sums were covered in every draw)."""
    frame = per_seed.assign(covered=per_seed["coverage"] * per_seed["n"], ratio=per_seed["error_ratio"] * per_seed["n"])
    out = frame.groupby(["level", "carrier"], sort=False).agg(n=("n", "sum"), covered=("covered", "sum"),
                                                                ratio=("ratio", "sum"), seeds=("seed", "nunique")).reset_index()
    out["independent"] = out["n"] / splits
    out["coverage"] = out["covered"] / out["n"]
    out["error_ratio"] = out.pop("ratio") / out["n"]
    bounds = [wilson(c * i, i) for c, i in zip(out["coverage"], out["independent"])]
    out["low"], out["high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    return out.drop(columns="covered")[["level", "carrier", "seeds", "n", "independent", "coverage", "low", "high",
                                        "error_ratio"]]


@pytest.mark.skipif(not SEEDS, reason="set BENCH_SEEDS (e.g. 2026,2027,2028,2029,2030) to measure several demo years")
def test_savings_band_coverage_over_seeds(benchmark):
    """Gu and city coverage over several realised demo years (one small demo per seed)."""
    from energy_lib.demo import truth

    def run():
        parts, timing = [], {}
        for seed in SEEDS:
            started = time.perf_counter()
            data = ROOT / "benchmarks" / ".data" / f"coverage-{SEED_HOUSEHOLDS}-seed{seed}"
            store, derived = _city(data, SEED_HOUSEHOLDS, seed)
            built = time.perf_counter() - started
            rows = truth.annual_truth(store, derived, truth.programme_effects(data / "raw"))
            sites = set(store.read("participation")["site_id"])
            parts.append(truth.band_coverage(rows, sites, splits=SEED_SPLITS).assign(seed=seed))
            timing[seed] = (built, time.perf_counter() - started - built)
            print(f"seed {seed}: city ready in {built:.0f} s, {SEED_SPLITS} draws in {timing[seed][1]:.0f} s", flush=True)
        return pd.concat(parts, ignore_index=True), timing

    per_seed, timing = benchmark.pedantic(run, rounds=1, iterations=1)
    table = pooled(per_seed, SEED_SPLITS)
    wide = per_seed[per_seed["level"].isin(["gu", "city", "pseudo-gu", "half-city"])].pivot_table(
        index=["level", "carrier"], columns="seed", values="coverage", sort=False)
    with pd.option_context("display.width", 200):
        print(f"\n{len(SEEDS)} seeds x {SEED_HOUSEHOLDS:,} households, {SEED_SPLITS} draws each")
        print(table.round(3).to_string(index=False))
        print("coverage per seed:\n" + wide.round(3).to_string())
        print("per seed (csv):\n" + per_seed.round(5).to_csv(index=False))
    benchmark.extra_info.update({"households": SEED_HOUSEHOLDS, "splits": SEED_SPLITS, "seeds": SEEDS,
                                 "timing": {str(k): v for k, v in timing.items()},
                                 "coverage": table.round(4).to_dict("records")})
    main = table[table["carrier"].isin(["electricity", "gas"])].set_index("level")
    # what several years can show: meters at the target; wards of the small demos a little over it
    # (92-93% on 10 seeds, docs/benchmarks.md); for gu, the city and the sums of their size, an
    # interval that holds 90% (no evidence against the bands, and no more than that)
    assert main.loc["meter", "coverage"].between(0.88, 0.92).all(), main
    assert main.loc["ward", "coverage"].between(0.88, 0.95).all(), main
    large = main.loc[["gu", "city", *LARGE]]
    assert ((large["low"] <= 0.90) & (large["high"] >= 0.90)).all(), large
