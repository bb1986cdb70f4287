"""One CalTRACK daily workload, timed with our library or with OpenEEmeter, on one core.

Each meter has two years of daily electricity use (a 365-day baseline and a 365-day reporting year)
made from a heating and a cooling change-point model plus noise, on a Gwangju-like temperature
year. Every engine does, for every meter: build its input from the readings, fit the baseline
(all candidate models, all balance points), predict the reporting year and total the savings.

    python benchmarks/caltrack_speed.py --engine ours --meters 5000
    .venv-eemeter/bin/python benchmarks/caltrack_speed.py --engine eemeter2 --meters 3
    .venv-eemeter4/bin/python benchmarks/caltrack_speed.py --engine eemeter4 --meters 20

The last line printed is JSON: engine, version, meters, seconds (wall), meters_per_second,
cpu_seconds (the process's CPU time, user + system) and meters_per_cpu_second, the threads the
process runs (1: no BLAS or OpenMP pool started) and the load average before and after. Thread
pools are limited to one thread before NumPy loads, so every engine runs on one core; on a shared
machine the wall time includes time spent waiting for a core, and meters per CPU-second is the
rate per core. The workload uses NumPy only, so it is the same under every engine's environment.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DAYS = 730
FIRST_DAY = "2023-01-01"
LOAD_BEFORE = [round(x, 2) for x in os.getloadavg()]  # 1, 5 and 15 minutes


def temperatures_c() -> np.ndarray:
    """730 daily mean temperatures [°C]: an annual cycle (1 °C in January, 26.5 °C in August)
    with persistent anomalies."""
    generator = np.random.default_rng(156)
    day = np.arange(DAYS)
    cycle = 13.75 - 12.75 * np.cos(2 * np.pi * (day - 18) / 365.25)
    anomaly = np.zeros(DAYS)
    shocks = generator.normal(0.0, 1.6, DAYS)
    for i in range(1, DAYS):  # an AR(1) series of one station, not a loop over meters
        anomaly[i] = 0.7 * anomaly[i - 1] + shocks[i]
    return np.round(cycle + anomaly, 1)


def usage_kwh(meters: int, temp_c: np.ndarray) -> np.ndarray:
    """Daily use [kWh] of each meter [meters × days]."""
    generator = np.random.default_rng(2026)
    base = generator.gamma(6.0, 1.5, meters)[:, None]
    heat_bp = generator.uniform(10.0, 16.0, meters)[:, None]
    cool_bp = generator.uniform(20.0, 25.0, meters)[:, None]
    heat = generator.uniform(0.0, 0.4, meters)[:, None] * np.maximum(heat_bp - temp_c, 0.0)
    cool = generator.uniform(0.2, 1.2, meters)[:, None] * np.maximum(temp_c - cool_bp, 0.0)
    return np.round((base + heat + cool) * generator.lognormal(0.0, 0.12, (meters, DAYS)), 3)


def readings(meters: int, temp_c: np.ndarray) -> pd.DataFrame:
    """Long readings, one row per meter and day, as the store holds them."""
    days = pd.date_range(FIRST_DAY, periods=DAYS, freq="D")
    start = np.tile(days.values, meters)
    return pd.DataFrame({
        "meter_id": np.repeat([f"m{i:06d}" for i in range(meters)], DAYS),
        "period_start": start, "period_end": start + np.timedelta64(1, "D"),
        "value_canonical": usage_kwh(meters, temp_c).ravel(), "resolution": "daily",
    })


def run_ours(meters: int) -> str:
    import energy_lib
    from energy_lib.baselines.caltrack import CalTRACKSettings, fit_caltrack
    from energy_lib.baselines.data import daily_periods, window
    from energy_lib.compute import ComputeSettings
    from energy_lib.savings import metered_savings

    temp_c = temperatures_c()
    temp = pd.Series(temp_c, index=pd.date_range(FIRST_DAY, periods=DAYS, freq="D"))
    rows = readings(meters, temp_c)
    edges = pd.Series(pd.Timestamp(FIRST_DAY) + pd.Timedelta(days=365), index=pd.Index(rows["meter_id"].unique()))
    chunk = ComputeSettings().chunk_meters  # meters at once, as `energy compute` does
    qualified, savings = 0, 0
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, meters, chunk):
        part, part_edges = rows.iloc[first * DAYS:(first + chunk) * DAYS], edges.iloc[first:first + chunk]
        baseline = daily_periods(window(part, part_edges, before=True), temp, meter_ids=part_edges.index)
        reporting = daily_periods(window(part, part_edges, before=False), temp, meter_ids=part_edges.index)
        fit = fit_caltrack(baseline, CalTRACKSettings(fit_cdd=True))
        result = metered_savings(fit, reporting)
        qualified += int((fit.status == "qualified").sum())
        savings += int(result["savings"].notna().sum())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert qualified == savings == meters
    return _report("ours", getattr(energy_lib, "__version__", "dev"), meters, seconds, cpu)


def run_eemeter2(meters: int) -> str:
    import eemeter

    temp_c = temperatures_c()
    hours = pd.date_range(FIRST_DAY, periods=DAYS * 24, freq="H", tz="UTC")
    temps_f = pd.Series(np.repeat(temp_c * 9 / 5 + 32, 24), index=hours)  # hourly, each day its mean
    days = pd.date_range(FIRST_DAY, periods=DAYS + 1, freq="D", tz="UTC")
    use = usage_kwh(meters, temp_c)
    edge = days[365]
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(meters):  # eemeter fits one meter at a time
        meter = pd.DataFrame({"value": np.append(use[i], np.nan)}, index=days)
        baseline, _ = eemeter.get_baseline_data(meter, end=edge, max_days=365)
        design = eemeter.create_caltrack_daily_design_matrix(baseline, temps_f)
        model = eemeter.fit_caltrack_usage_per_day_model(design, fit_cdd=True)
        reporting, _ = eemeter.get_reporting_data(meter, start=edge, max_days=365)
        savings, _ = eemeter.metered_savings(model, reporting, temps_f, with_disaggregated=True)
        assert model.status == "SUCCESS" and savings["metered_savings"].notna().any()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return _report("eemeter2", eemeter.__version__, meters, seconds, cpu)


def run_eemeter4(meters: int) -> str:
    import logging

    import eemeter
    import eemeter.eemeter as em

    logging.getLogger("eemeter").setLevel(logging.ERROR)
    temp_c = temperatures_c()
    days = pd.date_range(FIRST_DAY, periods=DAYS, freq="D", tz="Asia/Seoul")
    temp_f = temp_c * 9 / 5 + 32
    use = usage_kwh(meters, temp_c)

    def one(i: int) -> float:
        frame = pd.DataFrame({"observed": use[i], "temperature": temp_f}, index=days)
        baseline = em.DailyBaselineData(frame.iloc[:365], is_electricity_data=True)
        model = em.DailyModel().fit(baseline, ignore_disqualification=True)
        reporting = em.DailyReportingData(frame.iloc[365:], is_electricity_data=True)
        predicted = model.predict(reporting, ignore_disqualification=True)
        return float((predicted["predicted"] - predicted["observed"]).sum())

    one(0)  # compile numba functions first: a city's run pays this once
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(meters):  # eemeter fits one meter at a time
        one(i)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return _report("eemeter4", eemeter.__version__, meters, seconds, cpu)


def _report(engine: str, version: str, meters: int, seconds: float, cpu_seconds: float) -> str:
    return json.dumps({"engine": engine, "version": version, "meters": meters, "seconds": round(seconds, 4),
                       "meters_per_second": round(meters / seconds, 3), "cpu_seconds": round(cpu_seconds, 4),
                       "meters_per_cpu_second": round(meters / cpu_seconds, 3), "threads": _threads(),
                       "load_before": LOAD_BEFORE, "load_after": [round(x, 2) for x in os.getloadavg()],
                       "python": sys.version.split()[0], "numpy": np.__version__, "pandas": pd.__version__})


def _threads() -> int:
    """Threads of this process now (Linux; 0 where unknown)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("ours", "eemeter2", "eemeter4"), required=True)
    parser.add_argument("--meters", type=int, default=1000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print({"ours": run_ours, "eemeter2": run_eemeter2, "eemeter4": run_eemeter4}[args.engine](args.meters))


if __name__ == "__main__":
    main()
