"""The compute stage on the small demo city: derived tables, their consistency, determinism, CLI."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from energy_lib.cli import app
from energy_lib.compute import _merged_runs, compute, default_reporting_start
from energy_lib.core import units
from energy_lib.core.scratch import new_scratch_folder, remove_abandoned
from energy_lib.core.status import Severity, Sufficiency, WarningCode
from energy_lib.core.tables import TABLES
from energy_lib.store import Store

pytestmark = pytest.mark.xdist_group("demo")


@pytest.fixture(scope="session")  # built once per worker: its tests may not run one after another
def computed(demo, tmp_path_factory) -> dict:
    derived = Store(tmp_path_factory.mktemp("derived"))
    report = compute(demo["store"], derived, progress=False)
    tables = {name: derived.read(name) for name in report.rows}
    return {"report": report, "derived": derived, "store": demo["store"], **tables}


def test_reporting_year_defaults_to_the_last_twelve_billing_months(computed):
    assert computed["report"].reporting_start == pd.Timestamp("2025-11-01")
    assert default_reporting_start(computed["store"]) == pd.Timestamp("2025-11-01")


def test_every_modelled_meter_gets_a_baseline_row_with_a_status(computed):
    store = computed["store"]
    bill_meters = store.sql("SELECT DISTINCT meter_id FROM readings WHERE resolution IN ('billing', 'monthly') "
                            "AND carrier IN ('electricity', 'gas', 'heat')")["meter_id"]
    interval = store.sql("SELECT DISTINCT meter_id FROM readings WHERE resolution IN ('hourly', '15min')")["meter_id"]
    annual = computed["baselines"][computed["baselines"]["analysis"] == "annual"]
    assert set(annual.loc[annual["method"] == "caltrack_billing", "meter_id"]) == set(bill_meters)
    assert set(annual.loc[annual["method"] == "caltrack_daily", "meter_id"]) == set(interval)
    assert set(annual.loc[annual["method"] == "towt", "meter_id"]) == set(interval)
    assert set(computed["baselines"]["status"]) <= {"qualified", "disqualified", "no_data", "error"}
    assert (annual["status"] == "qualified").mean() > 0.9
    # a meter that moved out before the baseline year says so; it does not vanish
    assert (annual["status"] == "no_data").sum() > 0


def test_no_silent_nan(computed):
    savings = computed["savings"]
    status = computed["baselines"].set_index(["analysis", "meter_id", "method"])["status"]
    joined = savings.join(status, on=["analysis", "meter_id", "method"])
    has = (joined["status"] == "qualified") & (joined["n_reporting_periods"] > 0)
    assert joined.loc[has, ["savings", "counterfactual", "observed", "fsu_band", "band"]].notna().all().all()
    assert joined.loc[~has, "savings"].isna().all()  # no estimate where there is no baseline or no data


def test_units_follow_the_configured_factors(computed):
    rows = computed["savings"].dropna(subset=["savings"])
    for carrier, group in rows.groupby("carrier"):
        np.testing.assert_allclose(group["savings_kgco2eq"], units.kgco2eq(group["savings"].to_numpy(), group["carrier"]))
        np.testing.assert_allclose(group["savings_toe"], units.toe(group["savings"].to_numpy(), group["carrier"]))
        assert (group["unit"] == units.canonical_unit(carrier)).all()


def test_groups_add_up_to_the_city(computed):
    groups = computed["savings_by_group"]
    primary = computed["savings"][computed["savings"]["primary"]].dropna(subset=["savings", "band"])
    summed = primary[primary["in_totals"]]
    for (analysis, carrier), meters in summed.groupby(["analysis", "carrier"]):
        rows = groups[(groups["analysis"] == analysis) & (groups["carrier"] == carrier)]
        city = rows[rows["level"] == "city"].iloc[0]
        assert city["meters"] == len(meters)
        assert city["savings"] == pytest.approx(meters["savings"].sum())
        own = (meters["se"] ** 2 - meters["se_common"] ** 2 - meters["se_ward"] ** 2 - meters["se_gu"] ** 2).sum()
        shared = (meters["se_common"].sum() ** 2 + (meters.groupby("ward_code")["se_ward"].sum() ** 2).sum()
                  + (meters.groupby("gu_code")["se_gu"].sum() ** 2).sum())
        assert city["band"] == pytest.approx(1.6448536 * np.sqrt(own + shared))
        for level in ("gu", "building_type"):
            assert rows.loc[rows["level"] == level, "savings"].sum() == pytest.approx(city["savings"])
            assert rows.loc[rows["level"] == level, "meters"].sum() == city["meters"]


def test_insufficient_baselines_are_counted_not_summed(computed):
    """Issue 16: a meter whose baseline fails CalTRACK data sufficiency (a few bills) adds no
    savings to a ward, a gu or the city; each group says how many it left out."""
    savings, groups = computed["savings"], computed["savings_by_group"]
    primary = savings[savings["primary"]].dropna(subset=["savings", "band"])
    insufficient = primary[primary["sufficiency"] == "fail"]
    assert len(insufficient) > 0 and not insufficient["in_totals"].any()
    wards = groups[groups["level"] == "ward"].set_index(["analysis", "carrier", "group"])
    expected = insufficient.groupby(["analysis", "carrier", "ward_code"]).size()
    shown = wards["meters_insufficient"].reindex(expected.index)
    # a ward whose every meter is insufficient has nothing summed, hence no row
    assert (shown.dropna() == expected[shown.notna()]).all() and shown.notna().any()
    city = groups[groups["level"] == "city"].set_index(["analysis", "carrier"])["meters_insufficient"]
    assert (city.reindex(insufficient.groupby(["analysis", "carrier"]).size().index)
            == insufficient.groupby(["analysis", "carrier"]).size()).all()


def test_interval_meters_count_once_in_sums(computed):
    savings = computed["savings"]
    interval = savings[savings["method"] == "towt"]["meter_id"]
    annual = savings[(savings["analysis"] == "annual") & savings["meter_id"].isin(interval)]
    assert annual.groupby("meter_id")["primary"].sum().eq(1).all()
    assert set(annual.loc[annual["primary"], "method"]) == {"towt"}


def test_bands_are_calibrated_on_placebo_meters(computed):
    calibration = computed["band_calibration"].set_index(["carrier", "method", "quantity"])
    assert calibration.loc[("electricity", "caltrack_billing", "savings"), "calibrated"]
    assert (calibration["factor"] >= 1).all()
    savings = computed["savings"]
    placebo = savings[(savings["analysis"] == "annual") & (savings["method"] == "caltrack_billing")
                      & (savings["carrier"] == "electricity")].dropna(subset=["savings"])
    programme_sites = set(computed["store"].read("participation")["site_id"])
    placebo = placebo[~placebo["site_id"].isin(programme_sites)]
    assert ((placebo["savings"].abs() <= placebo["band"] + 1e-9).mean()) >= 0.9


def test_carbon_point_table(computed):
    carbon = computed["carbon_point"]
    assert set(carbon["carrier"]) <= {"electricity", "gas", "water", "heat"}
    assert carbon["half_year"].str.fullmatch(r"20\d\dH[12]").all()
    assert set(carbon["tier"]) <= {0, 1, 2, 3}
    qualified = carbon[carbon["status"] == "qualified"]
    np.testing.assert_allclose(qualified["reduction"], (qualified["baseline"] - qualified["use"]) / qualified["baseline"])
    assert (carbon.loc[carbon["status"] == "disqualified", "reason"] != "").all()


def test_warnings_reach_the_derived_table_by_code_and_severity(computed):
    warnings, baselines = computed["warnings"], computed["baselines"]
    assert len(warnings) > 0 and computed["report"].rows["warnings"] == len(warnings)
    assert set(warnings["code"]) <= set(WarningCode) and set(warnings["severity"]) <= set(Severity)
    # every code named in a baseline's `warnings` column has its row, and no other row exists
    keys = ["analysis", "meter_id", "method"]
    named = {(*k, name.rsplit(".", 1)[1]) for *k, names in baselines[keys + ["warnings"]].itertuples(index=False)
             for name in names.split(";") if name}
    assert set(warnings[keys + ["code"]].itertuples(index=False, name=None)) == named
    # a baseline failing data sufficiency has an error-severity warning that says why
    failing = baselines.loc[baselines["sufficiency"] == Sufficiency.FAIL, keys]
    errors = warnings.loc[warnings["severity"] == Severity.ERROR, keys].drop_duplicates()
    assert len(failing) > 0 and len(failing.merge(errors, on=keys)) == len(failing)
    assert warnings["message"].str.len().gt(0).all()
    assert computed["report"].warnings == warnings["code"].value_counts().to_dict()


def test_tables_conform_to_the_data_dictionary(computed):
    for name in computed["report"].rows:
        assert list(computed[name].columns) == TABLES[name].column_names


def test_a_rerun_writes_identical_tables(computed, tmp_path):
    again = Store(tmp_path / "derived")
    compute(computed["store"], again, progress=False)
    for name in computed["report"].rows:
        pd.testing.assert_frame_equal(again.read(name), computed[name])


def test_cli_compute_sets_the_reporting_year(demo, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["compute", "--store", str(demo["store"].root), "--derived", str(tmp_path / "d"),
                                 "--reporting-start", "2024-01"])
    assert result.exit_code == 0, result.output
    assert "reporting year from 2024-01" in result.output
    assert "warnings: " in result.output and str(WarningCode.NO_DATA) in result.output  # counts per code
    peaks = re.search(r"peak memory: read ([\d.]+) GiB, partition ([\d.]+) GiB, buckets ([\d.]+) GiB", result.output)
    assert peaks and 0 < float(peaks[1]) <= float(peaks[2]) <= float(peaks[3]) < 8, result.output  # the step where it grew
    assert Store(tmp_path / "d").rows("savings") > 0
    baselines = Store(tmp_path / "d").read("baselines")
    annual = baselines[baselines["analysis"] == "annual"]
    assert (annual["baseline_end"] == pd.Timestamp("2024-01-01")).all()
    assert (annual.loc[annual["method"] == "caltrack_billing", "baseline_start"] == pd.Timestamp("2023-01-01")).all()
    bad = runner.invoke(app, ["compute", "--store", str(demo["store"].root), "--derived", str(tmp_path / "d"),
                              "--reporting-start", "June"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output


def test_cli_compute_on_an_empty_store_says_what_to_do(tmp_path):
    result = CliRunner().invoke(app, ["compute", "--store", str(tmp_path / "s"), "--derived", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "no bills" in result.output and "energy demo" in result.output


def test_a_killed_compute_leaves_nothing_the_next_run_keeps(demo, tmp_path):
    derived = tmp_path / "d"
    process = subprocess.Popen([sys.executable, "-m", "energy_lib.cli", "compute", "--store", str(demo["store"].root),
                                "--derived", str(derived)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(derived.glob(".partitions-*/*")) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "compute ended before it wrote its partitions"
        process.send_signal(signal.SIGKILL)  # no finally block runs: the scratch folder stays
    finally:
        process.wait(timeout=60)
    left = list(derived.glob(".partitions-*"))
    assert left, "the kill came too late to leave a scratch folder"
    compute(demo["store"], Store(derived), progress=False)
    assert list(derived.glob(".partitions-*")) == [] and Store(derived).rows("savings") > 0
    assert not any(entry.name.startswith(".") for entry in derived.iterdir() if entry.is_dir())


def test_scratch_folders_of_running_processes_are_kept(tmp_path):
    mine = new_scratch_folder(tmp_path, "partitions")
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = tmp_path / f".partitions-{int(ended.stdout)}-0123abcd"
    abandoned.mkdir()
    other_prefix = tmp_path / f".spill-{int(ended.stdout)}-0123abcd"
    other_prefix.mkdir()
    assert remove_abandoned(tmp_path, "partitions") == [abandoned]
    assert mine.is_dir() and other_prefix.is_dir() and not abandoned.exists()


def test_buckets_sorted_runs_merge_into_the_order_of_a_full_sort():
    """The city's Carbon Point rows are the buckets' sorted runs merged: the same order as sorting
    every row, each meter's rows kept in their run's order."""
    rng = np.random.default_rng(1)
    runs = [[], [], [], []]
    for i, meter in enumerate(f"m-{k:05d}" for k in rng.permutation(3_000)):
        runs[i % 4] += [(meter, half) for half in range(int(rng.integers(1, 4)))]
    tables = [pa.table({"meter_id": pa.array([m for m, _ in sorted(r)], pa.string()),
                        "half": pa.array([h for _, h in sorted(r)], pa.int64())}) for r in runs]
    table = pa.concat_tables([*tables, tables[0].slice(0, 0)])  # an empty bucket too
    merged = table.take(_merged_runs(table["meter_id"]))
    assert merged.equals(table.sort_by([("meter_id", "ascending"), ("half", "ascending")]))
