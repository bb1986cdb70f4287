"""Issue 3 target: a TOWT baseline for one interval meter-year in under 1 s (fit and predict)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from energy_lib.baselines.towt import fahrenheit_to_celsius, fit_towt

FIXTURE = Path(__file__).parents[1] / "tests" / "reference" / "eemeter_2_10_hourly_fixture.json"


def test_towt_meter_year(benchmark):
    sample = json.loads(FIXTURE.read_text())["samples"]["il-electricity-cdd-hdd-hourly"]
    inputs = sample["inputs"]
    index = pd.date_range(pd.Timestamp(inputs["index_start_utc"]).tz_convert(None), periods=inputs["n_hours"], freq="h")
    usage = pd.Series(np.array(inputs["usage"], dtype=float), index=index)
    temp = pd.Series(fahrenheit_to_celsius(np.array(inputs["temperature_f"], dtype=float)), index=index)
    window = sample["windows"]["baseline"]
    baseline = usage.iloc[window["offset_in_inputs"]: window["offset_in_inputs"] + window["n_rows"]]
    reporting = usage.index[window["offset_in_inputs"] + window["n_rows"]:][:8760]

    def run():
        model = fit_towt(baseline, temp)
        return model.predict(reporting, temp.reindex(reporting).to_numpy())

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    median = benchmark.stats.stats.median
    print(f"\nTOWT meter-year (8,760 h fit + 8,760 h prediction): median {median:.3f} s")
    assert median < 1.0
