"""One TOWT (CalTRACK hourly) meter-year, timed with our library or with OpenEEmeter 2.10.

The workload is eemeter's sample meter ``il-electricity-cdd-hdd-hourly``: fit the 365-day hourly
baseline (occupancy, temperature bins, twelve weighted segments) and predict the 365-day
reporting year. Ours reads the sample from the committed fixture (the same numbers eemeter
loads), in °C; eemeter runs its documented hourly flow with default settings.

    python benchmarks/towt_speed.py --engine ours
    .venv-eemeter/bin/python benchmarks/towt_speed.py --engine eemeter2

The last line printed is JSON: engine, version, rounds, median_seconds. One thread per engine.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

SAMPLE = "il-electricity-cdd-hdd-hourly"
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "reference" / "eemeter_2_10_hourly_fixture.json"


def run_ours(rounds: int) -> tuple[str, list[float]]:
    import energy_lib
    from energy_lib.baselines.towt import fit_towt
    from energy_lib.savings.reference import load_fixture, towt_inputs, towt_window

    sample = load_fixture(FIXTURE)["samples"][SAMPLE]
    usage, temp = towt_inputs(sample)
    baseline = towt_window(usage, sample["windows"]["baseline"])
    reporting = towt_window(usage, sample["windows"]["reporting"]).index
    times = []
    for _ in range(rounds + 1):  # the first round warms up
        started = time.perf_counter()
        model = fit_towt(baseline, temp)
        model.predict(reporting, temp.reindex(reporting).to_numpy())
        times.append(time.perf_counter() - started)
    return getattr(energy_lib, "__version__", "dev"), times[1:]


def run_eemeter2(rounds: int) -> tuple[str, list[float]]:
    import eemeter

    meter_data, temperature_data, metadata = eemeter.load_sample(SAMPLE)
    baseline, _ = eemeter.get_baseline_data(meter_data, end=metadata["blackout_start_date"], max_days=365)
    reporting, _ = eemeter.get_reporting_data(meter_data, start=metadata["blackout_end_date"], max_days=365)
    times = []
    for _ in range(rounds + 1):
        started = time.perf_counter()
        preliminary = eemeter.create_caltrack_hourly_preliminary_design_matrix(baseline, temperature_data)
        segmentation = eemeter.segment_time_series(preliminary.index, "three_month_weighted")
        occupancy = eemeter.estimate_hour_of_week_occupancy(preliminary, segmentation=segmentation)
        bins = eemeter.fit_temperature_bins(preliminary, segmentation=segmentation)
        design = eemeter.create_caltrack_hourly_segmented_design_matrices(preliminary, segmentation, occupancy, bins)
        model = eemeter.fit_caltrack_hourly_model(design, occupancy, bins)
        model.predict(reporting.index, temperature_data)
        times.append(time.perf_counter() - started)
    return eemeter.__version__, times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["ours", "eemeter2"], required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    version, times = (run_ours if args.engine == "ours" else run_eemeter2)(args.rounds)
    print(json.dumps({"engine": args.engine, "version": version, "rounds": len(times),
                      "median_seconds": round(statistics.median(times), 4)}))


if __name__ == "__main__":
    main()
