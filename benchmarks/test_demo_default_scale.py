"""Issue 2 target: the demo at default scale, generated and ingested, in under 60 s (2 cores)."""

import re

from conftest import ENERGY


def test_demo_default_scale(benchmark, measured, tmp_path):
    def run():
        return measured(ENERGY + ["demo", "--out", str(tmp_path / "raw"), "--store", str(tmp_path / "store")])

    result = benchmark.pedantic(run, rounds=1, iterations=1)
    rows = int(re.search(r"ingested ([\d,]+) rows", result.output).group(1).replace(",", ""))
    generated = float(re.search(r"generated \d+ files in .* \(([\d.]+) s\)", result.output).group(1))
    benchmark.extra_info.update({"rows": rows, "generate_seconds": generated, "total_seconds": result.seconds,
                                 "peak_rss_mib": result.peak_rss_bytes / 2**20})
    print(f"\ndemo (10,000 households): {result.seconds:.1f} s total, {generated:.1f} s generating, "
          f"{rows:,} rows, peak {result.peak_rss_bytes / 2**20:.0f} MiB")
    assert result.seconds < 60
