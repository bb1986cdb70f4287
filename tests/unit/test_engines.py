"""The compute stage on a Dask cluster gives the tables of the local engine; engines keep order."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from energy_lib.compute import ComputeSettings, compute, engines
from energy_lib.store import Store


def _slow_square(item: int, *, offset: int) -> int:
    time.sleep(0.05 * (5 - item))  # the first items finish last
    return item * item + offset


@pytest.fixture(scope="module")
def dask_engine():
    with engines.engine_for("dask", workers=2) as engine:
        yield engine


def test_engines_give_results_in_the_items_order(dask_engine):
    expected = [i * i + 1 for i in range(5)]
    assert list(engines.LocalEngine().map(_slow_square, range(5), offset=1)) == expected
    with engines.LocalEngine(workers=2) as pool:
        assert list(pool.map(_slow_square, range(5), offset=1)) == expected
    assert list(dask_engine.map(_slow_square, range(5), offset=1)) == expected
    assert len(dask_engine.client.scheduler_info()["workers"]) == 2


def test_an_unknown_engine_or_a_stray_scheduler_is_refused():
    with pytest.raises(ValueError, match="one of local, dask"):
        engines.check("spark")
    with pytest.raises(ValueError, match="needs the dask engine"):
        engines.engine_for("local", scheduler="tcp://127.0.0.1:8786")


def test_compute_by_buckets_on_workers_or_a_dask_cluster_equals_one_bucket_in_this_process(demo, tmp_path, dask_engine):
    """A small city computed whole in this process, in eight-odd buckets on two local worker
    processes, and in the same buckets on a LocalCluster of two Dask workers: the same models
    selected and the same numbers (within 1e-9 relative) in every derived table."""
    whole, local, distributed = Store(tmp_path / "whole"), Store(tmp_path / "local"), Store(tmp_path / "dask")
    one = compute(demo["store"], whole, progress=False)
    assert one.buckets == 1
    rows = sum(one.readings.values())
    buckets = ComputeSettings(partition_rows=rows // 8)
    split = compute(demo["store"], local, buckets, progress=False, workers=2)
    assert split.buckets >= 8
    compute(demo["store"], distributed, buckets, progress=False, engine="dask",
            scheduler=dask_engine.client.scheduler.address)
    for other in (local, distributed):
        for name in ("baselines", "savings", "savings_by_group", "band_calibration", "carbon_point",
                     "programme_effects"):
            a, b = whole.read(name), other.read(name)
            assert len(a) > 0 or name == "programme_effects", name
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, obj=name)
        models = ["analysis", "meter_id", "method", "model_type"]
        assert whole.read("baselines")[models].equals(other.read("baselines")[models])
    assert not [p for p in tmp_path.rglob(".partitions-*")], "the buckets' scratch folder is removed"
