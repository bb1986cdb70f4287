"""Readings laid out by bucket of meter: nothing lost, nothing doubled, a meter in one bucket."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from energy_lib.compute import partitions
from energy_lib.compute.partitions import KINDS, _grouped, write_partitions


def test_every_reading_is_in_the_one_bucket_of_its_meter(demo, tmp_path):
    store = demo["store"]
    since = pd.Timestamp("2025-01-01")
    parts = write_partitions(store, tmp_path / "parts", since=since, partition_rows=20_000)
    for kind, (resolutions, carriers) in KINDS.items():
        where = "resolution IN ? AND carrier IN ?" + (" AND period_end > ?" if kind == "interval" else "")
        expected = store.sql(f"SELECT meter_id, period_start, value_canonical FROM readings WHERE {where}",
                             [list(resolutions), list(carriers)] + ([since] if kind == "interval" else []))
        assert parts.rows[kind] == len(expected) > 0, kind
        buckets = [parts.read(k, kind).assign(bucket=k) for k in range(parts.buckets)]
        for frame in buckets:  # each bucket as the compute stage expects it
            _assert_in_carrier_meter_and_time_order(frame, carriers)
        found = pd.concat(buckets, ignore_index=True)
        assert len(found) == len(expected), f"{kind}: readings lost or doubled"
        assert (found.groupby("meter_id")["bucket"].nunique() == 1).all(), f"{kind}: a meter split over buckets"
        key = ["meter_id", "period_start"]
        pd.testing.assert_frame_equal(found.sort_values(key, ignore_index=True)[expected.columns],
                                      expected.sort_values(key, ignore_index=True), check_dtype=False)
    assert parts.buckets == -(-sum(parts.rows.values()) // 20_000)


def test_a_bucket_without_readings_of_a_kind_is_an_empty_frame(demo, tmp_path):
    parts = write_partitions(demo["store"], tmp_path / "parts", since=pd.Timestamp("2100-01-01"),
                             partition_rows=10**9)
    assert parts.rows["interval"] == 0 and parts.buckets == 1
    empty = parts.read(0, "interval")
    assert empty.empty and list(empty.columns) == ["meter_id", "carrier", "resolution", "period_start",
                                                   "period_end", "value_canonical", "outlier"]
    assert list(empty["carrier"].cat.categories) == list(KINDS["interval"][1])


def test_a_small_city_still_has_a_bucket_for_every_worker(demo, tmp_path):
    parts = write_partitions(demo["store"], tmp_path / "parts", since=pd.Timestamp("2025-01-01"),
                             partition_rows=10**9, min_buckets=3)
    assert parts.buckets == 3
    sizes = [len(parts.read(k, "bills")) for k in range(3)]
    assert all(sizes) and sum(sizes) == parts.rows["bills"]


def _assert_in_carrier_meter_and_time_order(frame: pd.DataFrame, carriers: tuple[str, ...]) -> None:
    """Carriers in order, then each meter's rows together, in time order."""
    carrier = frame["carrier"].cat.codes.to_numpy()
    assert list(frame["carrier"].cat.categories) == list(carriers)
    assert (carrier[1:] >= carrier[:-1]).all(), "carriers not in order"
    meter = frame["meter_id"].to_numpy()
    runs = 1 + int((meter[1:] != meter[:-1]).sum()) if len(meter) else 0
    assert runs == frame["meter_id"].nunique(), "a meter's rows apart"
    start, same = frame["period_start"].to_numpy(), meter[1:] == meter[:-1]
    assert (start[1:][same] >= start[:-1][same]).all(), "a meter's rows out of time order"


def test_meters_of_one_hash_are_still_read_apart(demo, tmp_path, monkeypatch):
    """Meters are grouped by a hash of their id; should two meters of a bucket share it, the
    bucket is read again by id, and each meter's rows still come together."""
    parts = write_partitions(demo["store"], tmp_path / "parts", since=pd.Timestamp("2025-01-01"),
                             partition_rows=10**9)
    checked = []
    monkeypatch.setattr(partitions, "_grouped", lambda ids: checked.append(len(ids)) and False)
    frame = parts.read(0, "bills")
    assert checked and len(frame) == parts.rows["bills"]
    _assert_in_carrier_meter_and_time_order(frame, KINDS["bills"][1])
    assert frame.loc[frame["carrier"] == "electricity", "meter_id"].is_monotonic_increasing  # by id


def test_grouped_counts_runs_of_equal_ids():
    assert _grouped(pa.chunked_array([["a", "a"], ["b", "c", "c"]]))
    assert not _grouped(pa.chunked_array([["a", "b"], ["a"]]))
    assert _grouped(pa.chunked_array([], pa.string()))
