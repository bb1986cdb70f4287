"""No customer number and no personal energy code of the demo appears in clear anywhere the
workbook writes: every table of the store (quarantine and ingest log included), every derived
table, the "my savings" index and every file of the open-data release (issue 15, part 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from energy_lib import household
from energy_lib.demo.generate import manifest_jobs
from energy_lib.ingest import registry
from energy_lib.ingest.formats import Columns, detect
from energy_lib.ingest.textfile import read_raw

# the formats' fields that hold a utility's customer number (bills, interval, PV, programmes, site registers)
_CUSTOMER_FIELDS = re.compile(r"(^|_)customer_no$")


def demo_customer_numbers(raw: Path) -> set[str]:
    """Every customer number in the customer-number columns of the demo's raw files, read with
    the importers' own header matching."""
    numbers: set[str] = set()
    for path, options in manifest_jobs(raw / "manifest.json"):
        table = read_raw(path, encoding=options.encoding)
        fmt = detect(table, registry.FORMATS, options.format)
        columns = Columns(table, fmt.match(table.headers))
        for field in columns.mapping:
            if _CUSTOMER_FIELDS.search(field):
                typed = {v for v in columns.series(field).dropna() if len(v) >= 6}
                numbers |= typed | {v.replace("-", "").replace(" ", "") for v in typed}
    return numbers


def _cells(table: pa.Table) -> str:
    """Every cell of a table as text, one per line (numbers too: a customer number read as an integer)."""
    parts = []
    for column in table.columns:
        text = pc.cast(column, pa.string()) if not pa.types.is_string(column.type) else column
        parts.append("\n".join(v for v in text.to_pylist() if v))
    return "\n".join([*table.column_names, *parts])


def _texts(path: Path) -> str:
    if path.suffix == ".parquet":
        return _cells(pq.read_table(path))
    return path.read_bytes().decode("utf-8", errors="replace")


# words of letters and digits, with the hyphens of a printed code (ABCD-EFGH-JKMN) kept together
_WORDS = re.compile(r"[0-9A-Za-z]+(?:-[0-9A-Za-z]+)*")


def _leaks(files: list[Path], secrets: set[str]) -> dict[str, list[str]]:
    """Per file, the secrets found in it as whole words or hyphen-separated parts of words."""
    found = {}
    for path in files:
        words = set(_WORDS.findall(_texts(path)))
        words |= {part for word in words if "-" in word for part in word.split("-")}
        hits = sorted(words & secrets)
        if hits:
            found[str(path)] = hits[:5]
    return found


def test_the_scan_finds_a_number_stored_as_an_integer_and_a_code_in_a_sentence(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"n": [1203004517], "text": ["row 3: code ABCD-EFGH-JKMN was wrong"]}), path)
    assert _leaks([path], {"1203004517", "ABCD-EFGH-JKMN"}) == {str(path): ["1203004517", "ABCD-EFGH-JKMN"]}
    assert _leaks([path], {"ABCDEFGHJKMN", "203004517"}) == {}  # whole words only: no false alarms


def test_no_customer_number_or_code_in_the_store_the_derived_tables_the_index_or_the_release(demo, household_index):
    numbers = demo_customer_numbers(demo["raw"])
    assert len(numbers) > 1_000  # electricity, gas, water and heat customers, AMI meters, registers
    codes = set(household.demo_codes(demo["settings"])["code"]) | set(household_index["codes"])
    codes |= {household.normalise_code(c) for c in codes}  # as typed and as printed (ABCD-EFGH-JKMN)
    store, derived, release = household_index["store"].root, household_index["derived"].root, household_index["data"]
    files = [*store.rglob("*.parquet"), *derived.rglob("*.parquet"), household_index["path"],
             *(p for p in release.rglob("*") if p.is_file())]
    tables = {p.parent.name for p in files if p.parent in {*store.iterdir(), *derived.iterdir()}}
    assert {"readings", "meters", "sites", "quarantine", "ingest_log", "savings"} <= tables
    assert len([p for p in files if p.is_relative_to(release)]) > 10
    leaks = _leaks(files, numbers | codes)
    # the quarantine table kept raw rows with the customer number until branch i15-ingest (issue 15)
    assert not leaks, "in clear:\n" + "\n".join(f"{path}: {', '.join(found)}" for path, found in leaks.items())
