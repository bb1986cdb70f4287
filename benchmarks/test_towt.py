"""Issue 3 target: a TOWT baseline for one interval meter-year in under 1 s (fit and predict), with
the ratio to OpenEEmeter 2.10's CalTRACK hourly model measured in the same run.

Both engines run the same sample meter-year (benchmarks/towt_speed.py) in their own process with
one thread; eemeter 2.10 in ``.venv-eemeter`` (``make reference-venvs``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "towt_speed.py"
EEMETER2 = ROOT / ".venv-eemeter" / "bin" / "python"


def _run(python: Path | str, engine: str, rounds: int) -> dict:
    done = subprocess.run([str(python), str(SCRIPT), "--engine", engine, "--rounds", str(rounds)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_towt_meter_year(benchmark):
    if not EEMETER2.exists():
        pytest.fail(f"reference environment missing: {EEMETER2}; run `make reference-venvs`")
    results = {}

    def run():
        results["ours"] = _run(sys.executable, "ours", 5)

    benchmark.pedantic(run, rounds=1, iterations=1)
    results["eemeter2"] = _run(EEMETER2, "eemeter2", 3)
    ratio = results["eemeter2"]["median_seconds"] / results["ours"]["median_seconds"]
    benchmark.extra_info.update({"results": results, "ratio": ratio})
    print(f"\nTOWT meter-year (8,760 h fit + 8,760 h prediction), median: ours {results['ours']['median_seconds']:.3f} s, "
          f"eemeter {results['eemeter2']['version']} {results['eemeter2']['median_seconds']:.2f} s "
          f"(ours is {ratio:,.0f}× faster)")
    assert results["ours"]["median_seconds"] < 1.0
