"""The folder watcher (energy_lib.realtime.watch): ready files only, each row once, live status updated."""

from __future__ import annotations

import os
import shutil
import time

import pandas as pd
import pytest

from energy_lib.demo.feed import FeedSettings, day_load, hour_files, run_feed, weather_file, write_atomically
from energy_lib.realtime import live
from energy_lib.realtime import watch as watch_module
from energy_lib.realtime.watch import Watcher, WatchSettings, ignored
from energy_lib.store import Store

DAY = pd.Timestamp("2026-11-01")  # the day after the demo's last interval reading


@pytest.fixture
def store_copy(demo, tmp_path) -> Store:
    """A private copy of the small demo store (the session's store is shared)."""
    return Store(shutil.copytree(demo["store"].root, tmp_path / "store"))


@pytest.fixture
def watcher(store_copy, tmp_path) -> Watcher:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    lines: list[str] = []
    result = Watcher(inbox, store_copy, live.LiveMonitor(store_copy, tmp_path / "live"),
                     WatchSettings(poll=0.05, settle=0.2, settle_max=1.0), echo=lines.append)
    result.lines = lines
    return result


def _hour(hour: int) -> dict[str, pd.DataFrame]:
    return hour_files(day_load(DAY, 2026), DAY, hour)


def _poll_until(watcher: Watcher, seconds: float) -> list:
    """The watcher's first poll that reads something, within ``seconds`` [s] (a look every 0.05 s)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reports = watcher.poll()
        if reports:
            return reports
        time.sleep(0.05)
    pytest.fail(f"nothing read within {seconds} s")


def _age(path, seconds: float = 5.0) -> None:
    """Make a file look as if it was last written ``seconds`` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.mark.parametrize("name", [".hidden.csv", "ami.csv.part", "ami.tmp", "ami.csv.crdownload", "AMI.CSV.PART"])
def test_hidden_and_temporary_names_are_ignored(name):
    assert ignored(name)


def test_ordinary_names_are_read():
    assert not ignored("ami-003_20261101_00.csv") and not ignored("part.csv")


def test_hidden_and_temporary_files_are_never_ingested(watcher):
    files = _hour(0)
    for name, frame in list(files.items())[:3]:
        for hidden in (f".{name}", f"{name}.part", f"{name}.tmp"):
            write_atomically(frame, watcher.directory, hidden)
            _age(watcher.directory / hidden)
    before = watcher.store.rows("ingest_log")
    watcher.run(once=True)
    assert watcher.store.rows("ingest_log") == before and not watcher.processed


def test_a_file_seen_twice_adds_nothing(watcher):
    name, frame = next(iter(_hour(0).items()))
    path = write_atomically(frame, watcher.directory, name)
    _age(path)
    reports = watcher.poll()
    assert [r.rows_stored for r in reports] == [len(frame)]
    rows, log = watcher.store.rows("readings"), watcher.store.rows("ingest_log")
    assert watcher.poll() == []  # unchanged: not read again
    os.utime(path)  # touched: read again, but its content is in the store already
    shutil.copy(path, watcher.directory / f"copy-{name}")  # the same content under another name
    _age(path)
    _age(watcher.directory / f"copy-{name}")
    assert watcher.poll() == []
    assert (watcher.store.rows("readings"), watcher.store.rows("ingest_log")) == (rows, log)
    assert watcher.lines[-1].endswith(f"[skip] 2 files ({name} … copy-{name}): already in the store")  # oldest first


def test_a_half_written_file_waits_and_then_adds_every_row_once(watcher):
    name, frame = "ami-003_20261101_00.csv", _hour(0)["ami-003_20261101_00.csv"]
    write_atomically(frame, watcher.directory, ".whole")
    text = (watcher.directory / ".whole").read_bytes()
    path = watcher.directory / name
    cut = text.rindex(b"\n", 0, len(text) - 1) + 5  # the middle of the last row
    path.write_bytes(text[:cut])
    _age(path, 0.5)  # settled (0.2 s) but not given up on (settle_max 1 s)
    assert watcher.poll() == [] and watcher.pending_files() == 1  # no final line break yet
    with open(path, "ab") as handle:  # the writer goes on: the size changes
        handle.write(text[cut:])
    assert watcher.poll() == []  # just changed: not settled
    reports = _poll_until(watcher, seconds=10.0)  # read once unchanged for the settle time (0.2 s)
    assert [(r.rows_stored, r.rows_quarantined, r.warnings) for r in reports] == [(4, 0, [])]
    stored = watcher.store.sql("SELECT count(*) AS n FROM readings WHERE source_file = ?", [name])["n"].iloc[0]
    assert stored == 4 and watcher.pending_files() == 0
    assert watcher.last_status["readings"] == 4 and watcher.last_status["last_file"] == name


def test_a_file_that_never_ends_its_last_line_is_read_after_settle_max(watcher):
    name, frame = "ami-004_20261101_00.csv", _hour(0)["ami-004_20261101_00.csv"]
    path = write_atomically(frame, watcher.directory, name)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    assert watcher.poll() == [] and watcher.pending_files() == 1
    watcher.run(once=True)
    (report,) = [line for line in watcher.lines if name in line and "[ok]" in line]
    assert "1 stored" in report and any("does not end with a line break" in line for line in watcher.lines)


def test_start_up_writes_the_status_from_the_store(watcher):
    watcher.run(once=True)
    frame, meta = live.read_status(watcher.monitor.live_dir)
    assert meta["day"] == "2026-10-31" and meta["last_file"] is None and meta["last_file_seen_at"] is None
    assert meta["readings"] == len(frame) == 240


def test_new_files_update_the_live_day_and_weather_switches_to_observed(watcher):
    run_feed(watcher.directory, FeedSettings(DAY, steps=1, every=0), echo=lambda line: None)
    watcher.run(once=True)
    frame, meta = live.read_status(watcher.monitor.live_dir)
    assert meta["day"] == "2026-11-01" and meta["readings"] == 6 + 4 and meta["temperature_source"] == "normal"
    assert meta["last_file"] == "ami-007_20261101_00.csv"
    seen = pd.Timestamp(meta["last_file_seen_at"])
    assert seen.tz is not None and seen <= pd.Timestamp(meta["updated_at"])
    before = frame["expected_kwh"].to_numpy()
    name, weather = weather_file(DAY, 2026)
    write_atomically(weather, watcher.directory, name, "cp949")
    watcher.run(once=True)
    after, meta = live.read_status(watcher.monitor.live_dir)
    assert meta["temperature_source"] == "observed" and meta["last_file"] == name and meta["readings"] == 10
    assert (after["expected_kwh"].to_numpy() != before).any()  # the day's own temperature
    assert watcher.monitor.refits == 2  # start-up, then the new day; weather of the live day needs no refit


def _rejected(watcher) -> dict[str, str]:
    """The rejected folder: entry name (without the time prefix) → its reason file's text."""
    folder = watcher.directory / ".rejected"
    if not folder.exists():
        return {}
    return {entry.name.split("-", 1)[1]: (folder / f"{entry.name}.reason.txt").read_text("utf-8")
            for entry in folder.iterdir() if not entry.name.endswith(".reason.txt")}


def test_links_are_never_followed_and_are_moved_aside(watcher, tmp_path):
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    name, frame = next(iter(_hour(0).items()))
    write_atomically(frame, secret.parent, secret.name)  # a file the ingest could read, outside the inbox
    (watcher.directory / "passwd.csv").symlink_to("/etc/passwd")
    (watcher.directory / name).symlink_to(secret)
    (watcher.directory / "elsewhere").symlink_to(secret.parent, target_is_directory=True)
    log = watcher.store.rows("ingest_log")
    watcher.run(once=True)
    assert watcher.store.rows("ingest_log") == log  # nothing was read
    rejected = _rejected(watcher)
    assert set(rejected) == {"passwd.csv", name, "elsewhere"}
    assert all("symbolic link" in reason for reason in rejected.values())
    assert secret.exists() and not any(watcher.directory.glob("*.csv"))  # the links moved, their targets stay
    assert (watcher.directory / ".rejected").is_dir() and all(e.is_symlink() for e in (watcher.directory / ".rejected").iterdir()
                                                               if not e.name.endswith(".txt"))


def test_a_fifo_is_refused_without_blocking(watcher):
    os.mkfifo(watcher.directory / "ami.csv")  # opening it to read would wait for a writer forever
    name, frame = next(iter(_hour(0).items()))
    _age(write_atomically(frame, watcher.directory, name))
    watcher.run(once=True)
    assert "named pipe" in _rejected(watcher)["ami.csv"]
    assert watcher.store.sql("SELECT count(*) AS n FROM ingest_log WHERE source_file = ?", [name])["n"].iloc[0] == 1


def test_a_hostile_file_is_moved_aside_and_the_watcher_keeps_going(watcher, monkeypatch):
    garbage = watcher.directory / "garbage.csv"
    garbage.write_bytes(b"\x00\xff" * 5000 + b"\n")
    crasher = watcher.directory / "crasher.csv"
    crasher.write_text("a,b\n1,2\n", encoding="utf-8")
    name, frame = next(iter(_hour(0).items()))
    for path in (garbage, crasher, write_atomically(frame, watcher.directory, name)):
        _age(path)
    real_ingest = watch_module.ingest_file

    def ingest_that_breaks_on_one_file(store, path, **options):
        if path.name == "crasher.csv":
            raise RecursionError("maximum recursion depth exceeded")
        return real_ingest(store, path, **options)

    monkeypatch.setattr(watch_module, "ingest_file", ingest_that_breaks_on_one_file)
    watcher.run(once=True)
    rejected = _rejected(watcher)
    assert set(rejected) == {"garbage.csv", "crasher.csv"}
    assert "RecursionError" in rejected["crasher.csv"] and "garbage.csv" in rejected["garbage.csv"]
    assert watcher.store.sql("SELECT sum(rows_stored) AS n FROM ingest_log WHERE source_file = ?", [name])["n"].iloc[0] == len(frame)
    assert any("[REJECTED] crasher.csv" in line for line in watcher.lines)
