import contextlib
import os
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from energy_lib import store as store_module
from energy_lib.core.tables import TABLES
from energy_lib.store import Store


def _weather(n: int, first: str = "2023-01-01", source: str = "w.csv") -> pd.DataFrame:
    return pd.DataFrame({"station": "156", "date": pd.date_range(first, periods=n), "temp_mean_c": 1.5,
                         "source_file": source, "source_row": range(2, n + 2),
                         "ingested_at": pd.Timestamp("2026-01-01")})


def test_empty_store_reads_every_table_with_its_columns(tmp_path):
    store = Store(tmp_path)
    for name, spec in TABLES.items():
        frame = store.read(name)
        assert frame.empty and list(frame.columns) == spec.column_names
    assert store.sql("SELECT count(*) AS n FROM readings")["n"].iloc[0] == 0


def test_commit_appends_and_replaces(tmp_path):
    store = Store(tmp_path)
    store.commit(append={"weather": _weather(3)})
    store.commit(append={"weather": _weather(2, "2023-02-01")})
    assert store.rows("weather") == 5 and store.generation == 2
    assert store.read("weather")["temp_mean_c"].tolist() == [1.5] * 5


def test_interrupted_commit_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.commit(append={"weather": _weather(3)})
    before = (store.generation, store.read("weather"))

    def crash(path, text):
        raise OSError("power cut")

    monkeypatch.setattr(store_module, "_write_atomically", crash)
    with pytest.raises(OSError):
        store.commit(append={"weather": _weather(10, "2024-01-01")})
    monkeypatch.undo()
    assert store.generation == before[0]
    pd.testing.assert_frame_equal(store.read("weather"), before[1])
    assert len(list((tmp_path / "weather").iterdir())) == 1  # the orphan part was removed


def test_orphans_of_a_killed_process_are_removed_by_the_next_writer(tmp_path):
    store = Store(tmp_path)
    store.commit(append={"weather": _weather(3)})
    orphan = tmp_path / "weather" / "part-99999999-deadbeef.parquet"
    orphan.write_bytes(b"half a file")
    assert store.rows("weather") == 3  # readers never see it
    store.commit(append={"weather": _weather(1, "2025-01-01")})
    assert not orphan.exists() and store.rows("weather") == 4


def test_error_inside_writer_commits_nothing(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError):
        with store.writer() as writer:
            writer.append("weather", _weather(3))
            raise RuntimeError("bug")
    assert store.rows("weather") == 0 and store.generation == 0


def test_a_replaced_table_is_written_at_once_but_seen_only_after_the_commit(tmp_path):
    """A long job (energy compute) writes each derived table as soon as it is final and lets it
    go; readers see none of them before the commit, and a failure leaves no part behind."""
    from energy_lib.ingest.pipeline import ensure_reference

    store = Store(tmp_path)
    ensure_reference(store)
    wards, parts = store.read("wards"), set((tmp_path / "wards").iterdir())
    generation = store.generation
    with pytest.raises(RuntimeError):
        with store.writer() as writer:
            writer.replace("wards", wards.iloc[:10])
            assert len(set((tmp_path / "wards").iterdir()) - parts) == 1  # on disk already
            assert len(Store(tmp_path).read("wards")) == len(wards) > 10  # but not seen
            raise RuntimeError("bug")
    assert set((tmp_path / "wards").iterdir()) == parts and store.generation == generation
    with store.writer() as writer:
        writer.replace("wards", wards.iloc[:10])
        assert len(Store(tmp_path).read("wards")) == len(wards)
    assert len(store.read("wards")) == 10 and store.generation == generation + 1


def test_dimension_and_fact_rules(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(ValueError, match="fact table"):
        with store.writer() as writer:
            writer.replace("weather", _weather(1))


def test_compaction_merges_small_parts_and_keeps_every_row(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "_MAX_SMALL_PARTS", 3)
    store = Store(tmp_path)
    for i in range(7):
        store.commit(append={"weather": _weather(2, f"202{i}-01-01", f"w{i}.csv")})
    assert store.rows("weather") == 14 and len(store.parts("weather")) <= 4
    assert sorted(store.read("weather")["source_file"].unique()) == [f"w{i}.csv" for i in range(7)]
    assert len(os.listdir(tmp_path / "weather")) == len(store.parts("weather"))


def test_files_are_pruned_by_time_and_carrier(tmp_path):
    store = Store(tmp_path)
    store.commit(append={"weather": _weather(10, "2020-01-01")})
    store.commit(append={"weather": _weather(10, "2024-01-01")})
    assert len(store.files("weather", time_from=pd.Timestamp("2023-06-01"))) == 1
    assert len(store.files("weather")) == 2


def test_clear_removes_the_tables_and_nothing_else(tmp_path):
    store = Store(tmp_path)
    (tmp_path / ".gitkeep").write_text("")
    store.commit(append={"weather": _weather(3)})
    store.clear()
    assert store.rows("weather") == 0 and (tmp_path / ".gitkeep").exists()
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="refusing"):
        store.clear()


def test_a_reader_keeps_its_files_while_compaction_retires_them(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "_MAX_SMALL_PARTS", 2)
    store = Store(tmp_path)
    for i in range(2):
        store.commit(append={"weather": _weather(2, f"202{i}-01-01", f"w{i}.csv")})
    reader = Store(tmp_path)  # another reader of the same directory (as another process would be)
    with contextlib.closing(reader.connect(["weather"])) as pinned:
        before = set(os.listdir(tmp_path / "weather"))
        store.commit(append={"weather": _weather(2, "2022-01-01", "w2.csv")})  # 3 small parts: merged
        assert len(store.parts("weather")) == 1
        assert before <= set(os.listdir(tmp_path / "weather"))  # retired, not deleted: a snapshot is open
        assert pinned.execute("SELECT count(*) FROM weather").fetchone()[0] == 4  # the state it pinned
    store.commit(append={"weather": _weather(1, "2023-01-01", "w3.csv")})  # no reader now: retired files go
    assert set(os.listdir(tmp_path / "weather")) == {Path(p.file).name for p in store.parts("weather")}
    assert store.rows("weather") == 7


def test_readers_never_fail_while_a_writer_compacts(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "_MAX_SMALL_PARTS", 2)
    store = Store(tmp_path)
    store.commit(append={"weather": _weather(2, "2000-01-01", "w0.csv")})
    commits, failures, counts = 40, [], []
    done = threading.Event()

    def read_until_done() -> None:
        reader = Store(tmp_path)
        while not done.is_set():
            try:
                counts.append(int(reader.sql("SELECT count(*) AS n FROM weather")["n"].iloc[0]))
                counts.append(len(reader.read("weather")))
            except Exception as error:  # noqa: BLE001 - any failure is what the test counts
                failures.append(repr(error))

    threads = [threading.Thread(target=read_until_done) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for i in range(1, commits + 1):
            store.commit(append={"weather": _weather(2, f"{2000 + i}-01-01", f"w{i}.csv")})
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == [] and counts and all(n % 2 == 0 and 2 <= n <= 2 * (commits + 1) for n in counts)
    assert store.rows("weather") == 2 * (commits + 1)


def test_read_parts_reads_each_part_once_and_follows_the_committed_parts(tmp_path, monkeypatch):
    """An ingest worker looks the stored meters up at every commit: a part file never changes,
    so only new parts are read; parts merged away by compaction are dropped."""
    store = Store(tmp_path)
    reads = []
    real = store_module.pq.read_table
    monkeypatch.setattr(store_module.pq, "read_table",  # count read_parts' reads, not the compaction's
                        lambda f, **kw: (kw.get("columns") and reads.append(f)) or real(f, **kw))

    def meters(i: int) -> pd.DataFrame:
        return pd.DataFrame({"meter_id": [f"m-{i}"], "site_id": [f"s-{i}"], "carrier": "gas", "provider": "x",
                             "source_file": "f.csv"})

    for i in range(3):
        store.commit(append={"meters": meters(i)})
        got = store.read_parts("meters", store.files("meters"), ["meter_id", "site_id"])
        assert got.to_pandas()["meter_id"].tolist() == [f"m-{j}" for j in range(i + 1)]
        assert len(reads) == i + 1  # the new part only
    for i in range(3, 1 + store_module._MAX_SMALL_PARTS):  # one more small part than allowed: merged into one
        store.commit(append={"meters": meters(i)})
    files = store.files("meters")
    assert len(files) == 1
    got = store.read_parts("meters", files, ["meter_id", "site_id"])
    assert len(reads) == 4  # the merged part
    assert [len(parts) for key, parts in store_module._PART_CACHE.items() if key[0] == str(tmp_path.resolve())] == [1]
    assert got.equals(pa.Table.from_pandas(store.read("meters")[["meter_id", "site_id"]], preserve_index=False,
                                           schema=got.schema))
