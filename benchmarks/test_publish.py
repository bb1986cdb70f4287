"""Issue 4 targets: a cold build of the whole demo site (city, 5 gu, 96 dongs, 6 building types; Korean
and English, and 3 programme evaluations: 222 pages and the open data) in under 10 minutes on this 2-core machine, and a rebuild
with no change in under 15 s. Where the time goes is read from the build summary.

Runs on the default demo (`make reports` builds it: data/store and data/derived); the site is
built into a temporary folder.
"""

import json

import pytest
from conftest import ENERGY, ROOT


@pytest.fixture(scope="module")
def inputs():
    store, derived = ROOT / "data" / "store", ROOT / "data" / "derived"
    if not (store / "_manifest.json").exists() or not (derived / "_manifest.json").exists():
        pytest.fail("run `make reports` (or `energy demo` and `energy compute`) first: the build needs the demo")
    return store, derived


def test_publish_cold_and_unchanged(benchmark, measured, inputs, tmp_path):
    store, derived = inputs
    command = ENERGY + ["publish", "--site", str(tmp_path / "site"), "--store", str(store), "--derived", str(derived)]
    cold = benchmark.pedantic(lambda: measured(command), rounds=1, iterations=1)
    summary = json.loads((tmp_path / "site" / "build-summary.json").read_text("utf-8"))
    warm = measured(command)
    again = json.loads((tmp_path / "site" / "build-summary.json").read_text("utf-8"))
    pages = summary["counts"].get("executed", 0)
    parts = summary["seconds"]["page_parts"]
    benchmark.extra_info.update({"cold_seconds": cold.seconds, "unchanged_seconds": warm.seconds, "pages": pages,
                                 "page_parts": parts, "peak_rss_mib": cold.peak_rss_bytes / 2**20})
    print(f"\ncold build: {pages} pages in {cold.seconds:.1f} s (pages {summary['seconds']['pages']:.1f} s on 2 workers; "
          f"summed over pages: kernel start {parts['kernel']:.1f} s, imports + data {parts['setup']:.1f} s, "
          f"views + figures {parts['cells']:.1f} s, HTML {parts['render']:.1f} s); peak {cold.peak_rss_bytes / 2**20:.0f} MiB")
    print(f"unchanged rebuild: {warm.seconds:.1f} s ({again['counts']})")
    assert summary["counts"] == {"executed": 222}, summary["counts"]
    assert again["counts"] == {"unchanged": 222}
    assert cold.seconds < 600 and warm.seconds < 15
