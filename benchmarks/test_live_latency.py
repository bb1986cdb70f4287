"""Issue 6 target: from a file landing in the watched folder to the live page showing it, under 5 s.

`energy watch` (its defaults: a scan every 0.5 s, a file read once unchanged for 0.5 s) and
`energy serve` run over a copy of the demo store (``data/store`` after `make reports`; else a small
demo made here), with the live app open in headless Chromium at phone width. Ten of the demo feed's
files (one site and hour each) are dropped into the watched folder one at a time, written whole and
moved in with ``os.replace``; each is timed from landing to the page's status line showing the new
reading count, and split at the ``updated_at`` of the watcher's ``status.json``:

* watcher: landing → status written (waiting to see the file settle, ingest, expected versus
  actual for the day, both status files);
* page: status written → shown (the app's check every 0.5 s, reading and drawing the status,
  Voila's widget messages to the browser).

The store starts with the first hour of the day (see tests/e2e/live_pipeline.py), so the ten
files are an ordinary day's. The first file of the next day is timed on its own afterwards
(``rollover``, reported, not held to the target): for it the watcher first fits that day's baselines.
"""

from __future__ import annotations

import random
import statistics
import sys
import time

import pandas as pd
import pytest
from conftest import ROOT
from test_apps import browser  # noqa: F401 - the fixture: one headless Chromium

from energy_lib.demo import feed
from energy_lib.demo.city import DemoSettings

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from live_pipeline import STATUS, drop, hour_files, readings, serving, watching  # noqa: E402

FILES = 10
TARGET_SECONDS = 5.0


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The demo store of `make reports`, else a small demo (600 households) generated here."""
    if (ROOT / "data" / "store" / "_manifest.json").exists():
        return ROOT / "data" / "store"
    from energy_lib.demo.generate import generate, load
    from energy_lib.store import Store

    root = tmp_path_factory.mktemp("demo")
    generate(DemoSettings(households=600), root / "raw")
    load(Store(root / "store"), root / "raw" / "manifest.json")
    return root / "store"


def test_live_latency(benchmark, store, browser, tmp_path_factory):  # noqa: F811 - the imported fixture
    root = tmp_path_factory.mktemp("live")
    results = {"total": [], "watcher": [], "page": []}
    pause = random.Random(6)  # drops at varying phases of the watcher's and the app's checks
    with serving(store, root, root / "logs") as pipeline, watching(pipeline):
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(pipeline.app)
        page.wait_for_selector(STATUS, timeout=60_000)
        files = [*hour_files(pipeline, 1).items(), *hour_files(pipeline, 2).items()][:FILES]

        def run():
            for name, frame in files:
                time.sleep(pause.uniform(0.0, 1.0))
                before = readings(page)
                landed = drop(pipeline, name, frame)
                page.wait_for_function(f"n => Number(document.querySelector('{STATUS}').dataset.readings) > n",
                                       arg=before, timeout=30_000)
                shown = time.time()
                written = pd.Timestamp(pipeline.status()["updated_at"]).timestamp()
                results["total"].append(shown - landed)
                results["watcher"].append(written - landed)
                results["page"].append(shown - written)

        benchmark.pedantic(run, rounds=1, iterations=1)
        next_day = pipeline.day + pd.Timedelta(days=1)
        name, frame = next(iter(feed.hour_files(feed.day_load(next_day, DemoSettings.seed), next_day, 0).items()))
        landed = drop(pipeline, name, frame)
        page.wait_for_function(f"d => document.querySelector('{STATUS}').dataset.lastReading.startsWith(d)",
                               arg=f"{next_day:%Y-%m-%d}", timeout=60_000)
        rollover = time.time() - landed
        page.close()
    medians = {name: statistics.median(values) for name, values in results.items()}
    worst = {name: max(values) for name, values in results.items()}
    benchmark.extra_info.update({"store": str(store), "files": len(results["total"]), "median_seconds": medians,
                                 "max_seconds": worst, "rollover_seconds": rollover})
    print(f"\nstore {store}, {len(results['total'])} files")
    for name in results:
        print(f"{name:>8}: median {medians[name] * 1000:6.0f} ms, max {worst[name] * 1000:6.0f} ms")
    print(f"rollover: {rollover * 1000:6.0f} ms (the first file of the next day)")
    assert worst["total"] < TARGET_SECONDS
