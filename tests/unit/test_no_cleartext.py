"""No customer number and no personal energy code of the demo appears in clear anywhere the
workbook writes: every table of the store (quarantine and ingest log included), every derived
table, the "my savings" index and every file of the open-data release (issue 15, part 2). The
built pages are scanned by tests/e2e/test_site.py."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from cleartext import demo_customer_numbers, demo_secrets, leaks


def test_the_scan_finds_a_number_stored_as_an_integer_and_a_code_in_a_sentence(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"n": [1203004517], "text": ["row 3: code ABCD-EFGH-JKMN was wrong"]}), path)
    assert leaks([path], {"1203004517", "ABCD-EFGH-JKMN"}) == {str(path): ["1203004517", "ABCD-EFGH-JKMN"]}
    assert leaks([path], {"ABCDEFGHJKMN", "203004517"}) == {}  # whole words only: no false alarms


def test_no_customer_number_or_code_in_the_store_the_derived_tables_the_index_or_the_release(demo, household_index):
    assert len(demo_customer_numbers(demo["raw"])) > 1_000  # electricity, gas, water, heat, AMI meters, registers
    store, derived, release = household_index["store"].root, household_index["derived"].root, household_index["data"]
    files = [*store.rglob("*.parquet"), *derived.rglob("*.parquet"), household_index["path"],
             *(p for p in release.rglob("*") if p.is_file())]
    tables = {p.parent.name for p in files if p.parent in {*store.iterdir(), *derived.iterdir()}}
    assert {"readings", "meters", "sites", "quarantine", "ingest_log", "savings"} <= tables
    assert len([p for p in files if p.is_relative_to(release)]) > 10
    found = leaks(files, demo_secrets(demo, household_index))
    assert not found, "in clear:\n" + "\n".join(f"{path}: {', '.join(hits)}" for path, hits in found.items())
