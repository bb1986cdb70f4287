"""All import formats, by name (``energy formats`` lists them)."""

from __future__ import annotations

from energy_lib.ingest import bills
from energy_lib.ingest.formats import Format

__all__ = ["FORMATS"]

FORMATS: dict[str, Format] = {f.name: f for f in (
    bills.FORMAT,
)}
