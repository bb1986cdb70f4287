import pandas as pd
import pytest

from energy_lib.ingest.formats import Options
from energy_lib.ingest.pipeline import ingest_files
from energy_lib.store import Store
from tests.conftest import bills_csv


def _files(write):
    months = [bills_csv([f"{c:04d},2911052500,2023{m:02d},{100 + c + m},kWh,실측" for c in range(50)]) for m in range(1, 7)]
    months[3] += "0001,2911052500,202301,102,kWh,실측\n"  # a row of January sent again in April
    return [write(f"b{m}.csv", text) for m, text in enumerate(months, start=1)]


@pytest.mark.parametrize("workers", [2])
def test_parallel_ingest_gives_the_same_store_as_sequential(tmp_path, write, workers):
    files = _files(write)
    options = Options(carrier="electricity")
    sequential, parallel = Store(tmp_path / "seq"), Store(tmp_path / "par")
    first = ingest_files(sequential, files, options)
    second = ingest_files(parallel, files, options, workers=workers)
    assert [r.message for r in first] == [r.message for r in second]
    columns = ["meter_id", "period_start", "value", "source_file", "source_row"]
    for store_a, store_b, table in ((sequential, parallel, "readings"), (sequential, parallel, "quarantine")):
        a = store_a.read(table).drop(columns="ingested_at").sort_values(list(store_a.read(table).columns[:3])).reset_index(drop=True)
        b = store_b.read(table).drop(columns="ingested_at").sort_values(list(store_b.read(table).columns[:3])).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
    assert sequential.read("readings")[columns].shape == (300, 5)
    assert second[3].reasons == {"already_stored": 1}
