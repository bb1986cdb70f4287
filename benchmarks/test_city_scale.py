"""Issue 7 targets: the whole city on one machine, and hourly data at scale.

* ``test_full_city_compute``: ``energy compute`` over the 650,000-household demo store (105
  million bills, 4+ years, 3 carriers) in under 10 minutes with peak memory under 12 GiB, each
  stage's time reported. The store is built once into ``benchmarks/.data/store-<households>``
  from the issue-2 benchmark's export files (``energy ingest``, about 7 minutes) and reused.
* ``test_hourly_at_scale``: TOWT baselines and the daily (CalTRACK daily) analysis for 10,000
  interval sites × one year of hourly readings (87.6 million readings, ``benchmarks/hourly_city.py``
  on top of a 1,000-household demo); no target, the time and memory project a cluster's size.

Set BENCH_HOUSEHOLDS, BENCH_SITES or BENCH_WORKERS to try other scales.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from conftest import ENERGY, ROOT
from test_full_scale_ingest import HOUSEHOLDS, _exports

from energy_lib.store import Store

WORKERS = os.environ.get("BENCH_WORKERS", "2")
SITES = int(os.environ.get("BENCH_SITES", "10000"))
DATA = ROOT / "benchmarks" / ".data"
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _stages(output: str) -> dict:
    """The stage times of ``energy compute``'s report (wall seconds, and seconds inside buckets)."""
    total = re.search(r"total: +[\d.]+ s \((.*)\)", output).group(1)
    inside = re.search(r"inside them (.*)", output).group(1)
    parse = lambda text: {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+) s", text)}  # noqa: E731
    return {"wall": parse(total), "inside_buckets": parse(inside),
            "buckets": int(re.search(r"buckets: +([\d,]+) of", output).group(1).replace(",", ""))}


def _print(title: str, result, stages: dict) -> None:
    print(f"\n{title}: {result.seconds:.0f} s wall, peak memory {result.peak_rss_bytes / 2**30:.2f} GiB, "
          f"{stages['buckets']} buckets on {WORKERS} workers")
    print("  wall:   " + ", ".join(f"{k} {v:.1f} s" for k, v in stages["wall"].items()))
    print("  inside: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages["inside_buckets"].items()))


def test_full_city_compute(benchmark, measured, tmp_path):
    store = DATA / f"store-{HOUSEHOLDS}"
    manifest = _exports(measured)
    if not (store / "_manifest.json").exists() or (store / "_manifest.json").stat().st_mtime < manifest.stat().st_mtime:
        shutil.rmtree(store, ignore_errors=True)
        run = measured(ENERGY + ["ingest", "--manifest", str(manifest), "--workers", WORKERS, "--show", "0",
                                 "--store", str(store)])
        print(f"\ningested the {HOUSEHOLDS:,}-household city in {run.seconds:.0f} s")
    derived = tmp_path / "derived"

    def run():
        shutil.rmtree(derived, ignore_errors=True)
        return measured(ENERGY + ["compute", "--store", str(store), "--derived", str(derived), "-j", WORKERS],
                        env=ONE_THREAD)

    result = benchmark.pedantic(run, rounds=1, iterations=1)
    stages = _stages(result.output)
    readings = {k: int(v.replace(",", "")) for v, k in re.findall(r"([\d,]+) (bills|interval readings)", result.output)}
    rows = {k: int(v.replace(",", "")) for k, v in re.findall(r"(\w+): +([\d,]+) rows", result.output)}
    benchmark.extra_info.update({"households": HOUSEHOLDS, "seconds": result.seconds,
                                 "peak_rss_gib": result.peak_rss_bytes / 2**30, "readings": readings, "rows": rows,
                                 "readings_per_second": sum(readings.values()) / result.seconds, **stages})
    _print(f"full city ({HOUSEHOLDS:,} households, {sum(readings.values()):,} readings)", result, stages)
    print(f"  {sum(readings.values()) / result.seconds:,.0f} readings/s; rows: {rows}")
    assert rows["baselines"] > HOUSEHOLDS  # every household's electricity and gas meters at least


def test_hourly_at_scale(benchmark, measured, tmp_path):
    store = DATA / f"hourly-{SITES}"
    if not (store / "_manifest.json").exists():
        shutil.rmtree(store, ignore_errors=True)
        measured(ENERGY + ["demo", "--households", "1000", "--out", str(tmp_path / "raw"), "--store", str(store)])
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "hourly_city.py"), str(store), "--sites", str(SITES)],
                       cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    derived = tmp_path / "derived"

    def run():
        shutil.rmtree(derived, ignore_errors=True)
        # the year of hourly readings is the baseline year of an analysis reporting from 2026-11
        return measured(ENERGY + ["compute", "--store", str(store), "--derived", str(derived), "-j", WORKERS,
                                  "--reporting-start", "2026-11"], env=ONE_THREAD)

    result = benchmark.pedantic(run, rounds=1, iterations=1)
    stages = _stages(result.output)
    # a cluster computing 650,000 interval meters in an hour, at this machine's seconds per meter and
    # core (reading the bucket, CalTRACK daily, TOWT: everything inside the buckets)
    per_meter = sum(stages["inside_buckets"].values()) / SITES
    cores_for_an_hour = 650_000 * per_meter / 3600
    benchmark.extra_info.update({"sites": SITES, "seconds": result.seconds, "peak_rss_gib": result.peak_rss_bytes / 2**30,
                                 "seconds_per_meter": per_meter, "cores_for_650k_in_an_hour": cores_for_an_hour,
                                 **stages})
    _print(f"hourly at scale ({SITES:,} sites × 8,760 hours)", result, stages)
    print(f"  {per_meter * 1000:.0f} ms per meter and core: 650,000 meters in an hour need "
          f"{cores_for_an_hour:.0f} cores")
    # every hourly site has its CalTRACK daily and its TOWT baseline, fitted on the year of hours
    rows = {k: int(v.replace(",", "")) for k, v in re.findall(r"(\w+): +([\d,]+) rows", result.output)}
    assert rows["savings"] == rows["baselines"] > 0
    readings = int(re.search(r"([\d,]+) interval readings", result.output).group(1).replace(",", ""))
    assert readings >= SITES * 8_760
    baselines = Store(derived).read("baselines")
    hourly = baselines[baselines["meter_id"].str.startswith("m-hourly-") & (baselines["analysis"] == "annual")]
    assert hourly.groupby("method")["meter_id"].nunique().to_dict() == {"caltrack_daily": SITES, "towt": SITES}
    towt = hourly[hourly["method"] == "towt"]
    assert (towt["status"] == "qualified").mean() > 0.95 and (towt["n_periods"] >= 0.99 * 8_760).all()
