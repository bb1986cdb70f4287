"""Issue 13 target: protection + audit of the whole release in under 60 s on the default demo, and
measured at the full city's scale.

* ``test_disclosure_default_demo``: the default demo (10,000 households) generated, ingested and
  computed in a temporary folder, then the release built, protected and audited in this process,
  each part timed.
* ``test_disclosure_full_city``: the same on the 650,000-household store that
  ``test_city_scale.py`` builds (``benchmarks/.data/store-650000``; its derived tables are
  computed once into ``benchmarks/.data/derived-650000`` when missing, about 10 minutes).
"""

from __future__ import annotations

import subprocess
import time

import pytest
from conftest import ENERGY, ROOT
from test_full_scale_ingest import HOUSEHOLDS

from energy_lib.publish import disclosure, opendata
from energy_lib.store import Store

DATA = ROOT / "benchmarks" / ".data"


def _measure(store: Store, derived: Store) -> dict:
    started = time.perf_counter()
    inputs = opendata.release_inputs(store, derived)
    read = time.perf_counter()
    protected = disclosure.protected_release(level=0.15, **inputs)
    done = time.perf_counter()
    summary = disclosure.audit_summary(protected.release, protected.protection.reason, protected.protection.audit)
    assert summary["recoverable"].eq(0).all()
    seconds = protected.protection.seconds
    return {"read_s": read - started, "build_s": done - read - seconds["total"], "protect_and_audit_s": seconds["total"],
            "local_s": seconds["local"], "audit_s": seconds["audit"], "rounds": protected.protection.rounds,
            "rows": protected.release.n_rows, "relations": protected.release.relations.shape[0],
            "hidden_primary": int(summary["hidden_primary"].sum()),
            "hidden_complementary": int(summary["hidden_complementary"].sum())}


def _report(benchmark, title: str, figures: dict) -> None:
    benchmark.extra_info.update(figures)
    print(f"\n{title}: read {figures['read_s']:.1f} s, cells and relations {figures['build_s']:.1f} s, protection + "
          f"audit {figures['protect_and_audit_s']:.1f} s (local pass {figures['local_s']:.1f} s, audit rounds "
          f"{figures['audit_s']:.1f} s, {figures['rounds']} rounds); {figures['rows']:,} cells, "
          f"{figures['relations']:,} relations, {figures['hidden_primary']:,} primary, "
          f"{figures['hidden_complementary']:,} complements")


def test_disclosure_default_demo(benchmark, tmp_path):
    store, derived = tmp_path / "store", tmp_path / "derived"
    subprocess.run(ENERGY + ["demo", "--out", str(tmp_path / "raw"), "--store", str(store)], check=True,
                   capture_output=True)
    subprocess.run(ENERGY + ["compute", "--store", str(store), "--derived", str(derived)], check=True,
                   capture_output=True)
    figures = benchmark.pedantic(lambda: _measure(Store(store), Store(derived)), rounds=1, iterations=1)
    _report(benchmark, "release of the default demo (10,000 households)", figures)
    assert figures["protect_and_audit_s"] < 60


def test_disclosure_full_city(benchmark):
    store = DATA / f"store-{HOUSEHOLDS}"
    if not (store / "_manifest.json").exists():
        pytest.skip(f"{store} is built by benchmarks/test_city_scale.py (make bench PYTEST_ARGS='-k full_city')")
    derived = DATA / f"derived-{HOUSEHOLDS}"
    if not (derived / "_manifest.json").exists():
        subprocess.run(ENERGY + ["compute", "--store", str(store), "--derived", str(derived)], check=True,
                       capture_output=True)
    figures = benchmark.pedantic(lambda: _measure(Store(store), Store(derived)), rounds=1, iterations=1)
    _report(benchmark, f"release of the full city ({HOUSEHOLDS:,} households)", figures)
