"""Finding the demo's customer numbers and personal energy codes in clear in files the workbook
writes (tests/unit/test_no_cleartext.py scans the store and the release, tests/e2e/test_site.py
the built pages)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from energy_lib.core import personal_codes
from energy_lib.demo.generate import manifest_jobs
from energy_lib.demo.personal_codes import demo_codes
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


def leaks(files: list[Path], secrets: set[str]) -> dict[str, list[str]]:
    """Per file, the secrets found in it as whole words or hyphen-separated parts of words."""
    found = {}
    for path in files:
        words = set(_WORDS.findall(_texts(path)))
        words |= {part for word in words if "-" in word for part in word.split("-")}
        hits = sorted(words & secrets)
        if hits:
            found[str(path)] = hits[:5]
    return found


def demo_secrets(demo: dict, household_index: dict) -> set[str]:
    """Every customer number of the demo's raw files and every code the demo issued, as typed and
    as printed."""
    codes = set(demo_codes(demo["settings"])["code"]) | set(household_index["codes"])
    codes |= {personal_codes.normalise_code(c) for c in codes}
    return demo_customer_numbers(demo["raw"]) | codes
