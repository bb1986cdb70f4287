"""data/README.md (the data dictionary) documents every canonical table and column."""

import re
from pathlib import Path

from energy_lib.core.tables import TABLES

DICTIONARY = (Path(__file__).resolve().parents[2] / "data" / "README.md").read_text("utf-8")


def _section(name: str) -> str:
    match = re.search(rf"^### `{name}`\n(.*?)(?=^##+ |\Z)", DICTIONARY, flags=re.M | re.S)
    assert match, f"data/README.md has no section ### `{name}`"
    return match.group(1)


def test_every_table_and_column_is_documented_with_its_unit():
    for name, spec in TABLES.items():
        section = _section(name)
        for column in spec.columns:
            row = re.search(rf"^\| `{column.name}` \|(.*)$", section, flags=re.M)
            assert row, f"{name}.{column.name} is not in data/README.md"
            if column.unit:
                assert column.unit in row.group(1), f"{name}.{column.name}: unit {column.unit} missing"


def test_no_undocumented_extra_columns():
    for name, spec in TABLES.items():
        documented = re.findall(r"^\| `([a-z0-9_]+)` \|", _section(name), flags=re.M)
        assert set(documented) == set(spec.column_names), name


def test_every_quarantine_reason_is_explained():
    from energy_lib.ingest.problems import REASONS

    for reason in REASONS:
        assert re.search(rf"^\| `{reason}` \|", DICTIONARY, flags=re.M), reason
