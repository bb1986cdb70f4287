"""Issue 17 target (issue 3's was 1,000): CalTRACK daily (365-day baseline + reporting year) at
3,000 meters per second or better per core, with the ratio to OpenEEmeter 2.10 and to OpenEEmeter
4.x ``DailyModel`` measured in the same run.

Every engine runs the same workload (benchmarks/caltrack_speed.py) in its own process with one
thread: ours in this environment, eemeter 2.10 in ``.venv-eemeter`` and eemeter 4 in
``.venv-eemeter4`` (``make reference-venvs`` builds both; ``make bench`` does it first). eemeter
fits one meter at a time and takes seconds per meter, so it runs on a few meters; the rate is
meters per second either way. Each process reports wall and CPU time; on a machine shared with
other work, meters per CPU-second is the rate per core (the wall time includes waiting for a
core), and the target is checked on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "caltrack_speed.py"
OURS_METERS = int(os.environ.get("BENCH_CALTRACK_METERS", "20000"))
REFERENCES = {
    "eemeter2": (ROOT / ".venv-eemeter" / "bin" / "python", int(os.environ.get("BENCH_EEMETER2_METERS", "3"))),
    "eemeter4": (ROOT / ".venv-eemeter4" / "bin" / "python", int(os.environ.get("BENCH_EEMETER4_METERS", "20"))),
}


def _run(python: Path | str, engine: str, meters: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([str(python), str(SCRIPT), "--engine", engine, "--meters", str(meters)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_caltrack_daily_meters_per_second(benchmark):
    missing = [str(python) for python, _ in REFERENCES.values() if not python.exists()]
    if missing:
        pytest.fail(f"reference environments missing: {', '.join(missing)}; run `make reference-venvs`")
    results = {}

    def run():
        results["ours"] = _run(sys.executable, "ours", OURS_METERS)

    benchmark.pedantic(run, rounds=1, iterations=1)
    for engine, (python, meters) in REFERENCES.items():
        results[engine] = _run(python, engine, meters)
    ours = results["ours"]["meters_per_cpu_second"]
    ratios = {engine: ours / results[engine]["meters_per_cpu_second"] for engine in REFERENCES}
    benchmark.extra_info.update({"results": results, "ratios": ratios})
    print()
    for engine, result in results.items():
        print(f"{engine:>9} {result['version']:>8}: {result['meters']:>6} meters in {result['seconds']:8.2f} s wall "
              f"({result['meters_per_second']:10.3f} meters/s), {result['cpu_seconds']:8.2f} s CPU "
              f"({result['meters_per_cpu_second']:10.3f} meters/CPU-s); load {result['load_before']} → "
              f"{result['load_after']}" + (f"  (ours is {ratios[engine]:,.0f}× faster per CPU-second)"
                                          if engine in ratios else ""))
    assert ours >= 3000
