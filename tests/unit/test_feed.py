"""The simulated interval feed of the demo city (energy_lib.demo.feed, energy feed)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from energy_lib.cli import app
from energy_lib.demo.city import interval_sites
from energy_lib.demo.feed import Anomaly, FeedSettings, day_load, default_day, run_feed
from energy_lib.ingest.pipeline import ingest_file
from energy_lib.realtime import live
from energy_lib.store import Store

DAY = pd.Timestamp("2026-11-01")
HEADER = '"고객번호","일시","사용량(kWh)"'
runner = CliRunner()


def _quiet(line: str) -> None:
    """Swallow the feed's progress lines."""


def _value(path) -> float:
    """The use [kWh] on the first data row of a feed file."""
    return float(path.read_text("utf-8").splitlines()[1].split(",")[2].strip('"'))


def test_anomalies_are_parsed_and_bad_ones_refused():
    assert Anomaly.parse("AMI-005@14") == Anomaly("AMI-005", 14, 2.0)
    assert Anomaly.parse("ami-003@9x3.5") == Anomaly("AMI-003", 9, 3.5)
    for bad in ("AMI-005", "AMI-009@3", "AMI-005@24", "AMI-005@3x"):
        with pytest.raises(ValueError, match="SITE@HOUR"):
            Anomaly.parse(bad)


def test_settings_refuse_hours_past_the_day():
    assert list(FeedSettings(DAY, start_hour=22).hours) == [22, 23]
    with pytest.raises(ValueError, match="steps must be 1–2"):
        FeedSettings(DAY, start_hour=22, steps=3)


def test_files_are_deterministic_atomic_and_in_kepco_long_format(tmp_path):
    settings = FeedSettings(DAY, start_hour=8, steps=2, every=0)
    first = run_feed(tmp_path / "a", settings, echo=_quiet)
    again = run_feed(tmp_path / "b", settings, echo=_quiet)
    other = run_feed(tmp_path / "c", FeedSettings(DAY, seed=7, start_hour=8, steps=2, every=0), echo=_quiet)
    assert [p.name for p in first] == [p.name for p in again] and len(first) == 2 * 7
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, again))
    assert any(a.read_bytes() != c.read_bytes() for a, c in zip(first, other))
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(p.name for p in first)  # no .part left
    quarter = (tmp_path / "a" / "ami-003_20261101_08.csv").read_text("utf-8").splitlines()
    assert quarter == [HEADER] + [f'"0900100033","2026-11-01 08:{m:02d}",' + quarter[1 + i].split(",")[2]
                                  for i, m in enumerate((0, 15, 30, 45))]
    apartment = (tmp_path / "a" / "ami-005_20261101_09.csv").read_text("utf-8").splitlines()
    assert apartment[0] == HEADER and apartment[1].startswith('"0900100055","2026-11-01T09:00:00+09:00","')
    assert len(apartment) == 2 and (tmp_path / "a" / "ami-005_20261101_09.csv").read_bytes().endswith(b"\n")


def test_the_feed_continues_each_site_like_its_history(demo):
    """A day the demo has: the feed's load is the demo's own within its weather's rounding."""
    day = pd.Timestamp("2026-10-30")
    load = day_load(day, demo["settings"].seed)
    load = load[load["timestamp"] < day + pd.Timedelta(days=1)]
    stored = demo["store"].sql("""SELECT s.name, r.period_start AS timestamp, r.value_canonical AS stored
                                  FROM readings r JOIN meters m USING (meter_id) JOIN sites s USING (site_id)
                                  WHERE r.resolution IN ('hourly', '15min') AND r.period_start >= ? AND r.period_start < ?""",
                               [day, day + pd.Timedelta(days=1)])
    names = interval_sites().set_index("site_key")["name"]
    # the demo's exports leave a few hours blank (its real-world mess): compare the stored intervals
    both = load.assign(name=load["site_key"].map(names)).merge(stored, on=["name", "timestamp"])
    totals = both.groupby("name")[["kwh", "stored"]].sum()
    assert len(totals) == 7 and len(both) >= 0.95 * len(load)
    assert ((totals["kwh"] / totals["stored"] - 1).abs() < 0.01).all()


def test_anomalies_multiply_only_their_site_and_hour(tmp_path):
    plain = run_feed(tmp_path / "a", FeedSettings(DAY, start_hour=13, steps=2, every=0), echo=_quiet)
    marked = run_feed(tmp_path / "b", FeedSettings(DAY, start_hour=13, steps=2, every=0,
                                                   anomalies=(Anomaly("AMI-005", 14, 3.0),)), echo=_quiet)
    changed = [i for i, (a, b) in enumerate(zip(plain, marked)) if a.read_bytes() != b.read_bytes()]
    assert [plain[i].name for i in changed] == ["ami-005_20261101_14.csv"]
    assert _value(marked[changed[0]]) == pytest.approx(3 * _value(plain[changed[0]]), abs=0.02)


def test_the_last_hour_brings_the_days_weather(store):
    files = run_feed(store.root.parent / "inbox", FeedSettings(DAY, start_hour=23, every=0), echo=_quiet)
    assert files[-1].name == "asos_156_daily_20261101.csv"
    report = ingest_file(store, files[-1])
    assert (report.format, report.rows_stored) == ("weather", 1)
    row = store.read("weather").iloc[0]
    assert row["date"] == DAY and row["temp_min_c"] < row["temp_mean_c"] < row["temp_max_c"]


def test_feed_then_watch_once_shows_the_new_readings(demo, tmp_path):
    root = shutil.copytree(demo["store"].root, tmp_path / "store")
    assert default_day(Store(root)) == DAY
    inbox, status = tmp_path / "inbox", tmp_path / "live"
    fed = runner.invoke(app, ["feed", str(inbox), "--store", str(root), "--every", "0", "--steps", "1",
                              "--anomaly", "AMI-004@0x4"])
    assert fed.exit_code == 0, fed.output
    assert "feeding 2026-11-01 from 00:00" in fed.output and "7 files written" in fed.output
    watched = runner.invoke(app, ["watch", str(inbox), "--store", str(root), "--live", str(status), "--once",
                                  "--settle", "0"])
    assert watched.exit_code == 0, watched.output
    assert watched.output.count("[ok]") == 7 and "live 2026-11-01: 10 readings of 7 sites" in watched.output
    frame, meta = live.read_status(status)
    assert meta["day"] == "2026-11-01" and meta["readings"] == 10 and meta["last_file"] == "ami-007_20261101_00.csv"
    assert len(frame) == 6 * 24 + 96 and frame["expected_kwh"].notna().all()
    shown = frame[frame["actual_kwh"].notna()]
    assert shown["period_start"].max() == DAY + pd.Timedelta(minutes=45)
    unusual = shown[shown["unusual"]]
    assert ("북구청", DAY) in set(zip(unusual["site_name"], unusual["period_start"]))
    again = runner.invoke(app, ["watch", str(inbox), "--store", str(root), "--live", str(status), "--once"])
    assert again.exit_code == 0 and "[skip] 7 files (ami-001_20261101_00.csv … ami-007_20261101_00.csv): " \
        "already in the store" in again.output
    assert live.read_status(status)[1]["readings"] == 10


def test_a_file_of_one_interval_per_meter_takes_the_step_the_store_holds(demo, store, tmp_path):
    """A feed's hourly file holds one reading per meter: its step is the meter's stored one."""
    copy = Store(shutil.copytree(demo["store"].root, tmp_path / "copy"))
    path = run_feed(tmp_path / "inbox", FeedSettings(DAY, start_hour=5, steps=1, every=0), echo=_quiet)[3]
    assert path.name == "ami-004_20261101_05.csv" and len(path.read_text("utf-8").splitlines()) == 2
    assert ingest_file(copy, path).rows_stored == 1
    row = copy.sql("SELECT resolution, period_start, period_end FROM readings WHERE source_file = ?", [str(path)])
    assert row.to_dict("records") == [{"resolution": "hourly", "period_start": DAY + pd.Timedelta(hours=5),
                                       "period_end": DAY + pd.Timedelta(hours=6)}]
    report = ingest_file(store, path)  # a store that has never seen the meter cannot tell
    assert report.status == "rejected" and "one timestamp per meter" in report.message
    assert "ingest an earlier file of the meters first" in report.message
