"""Writing the demo city's data in the utilities' own export formats.

Each source is written as its utility would send it — KEPCO bills in UTF-8 with ISO dates, the gas
company's in CP949 with dotted dates, MJ and thousands separators, water bills in UTF-8 with a BOM
and "2023년 1월" months, building energy in CP949, KEPCO's aggregates as API JSON, interval data
both wide (파워플래너) and long, a participant list as an Excel workbook — and enters the store
through the same adapters as real data. :class:`Manifest` records each file with the import
format and options a person would use for it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from energy_lib.core.vectors import arrow_strings

__all__ = ["Manifest", "write_csv", "dates", "thousands"]


@dataclass
class Manifest:
    """Files written, in the order they must be ingested, with their import options."""

    root: Path
    entries: list[dict] = field(default_factory=list)

    def add(self, path: Path, format: str, **options) -> None:
        self.entries.append({"path": str(path.relative_to(self.root)), "format": format,
                             "options": {k: v for k, v in options.items() if v is not None}})

    def save(self) -> Path:
        target = self.root / "manifest.json"
        target.write_text(json.dumps({"files": self.entries}, ensure_ascii=False, indent=1), "utf-8")
        return target


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8") -> Path:
    """Write ``frame`` as CSV (every column as text) in ``encoding`` (``utf-8``, ``utf-8-sig``,
    ``cp949``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_arrays([_text(frame[c]) for c in frame.columns], names=[str(c) for c in frame.columns])
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(quoting_style="needed"))
    data = buffer.getvalue()
    if encoding != "utf-8":
        data = data.decode("utf-8").encode(encoding)
    path.write_bytes(data)
    return path


def _text(column: pd.Series) -> pa.Array:
    """A column as Arrow text without a detour through Python objects where possible."""
    if isinstance(column.dtype, pd.StringDtype) or column.dtype == object:
        return arrow_strings(column.fillna(""))
    if column.dtype.kind == "U":
        return pa.array(column.to_numpy())
    return arrow_strings(column.astype("str").fillna(""))


def dates(values: np.ndarray, separator: str = "-") -> pd.api.extensions.ExtensionArray:
    """Days as ``2023-01-15`` (or with another separator), formatted once per distinct day.

    Returns an index-free text array, so that it lines up by position in any frame."""
    days = np.asarray(values, dtype="datetime64[D]")
    distinct, codes = np.unique(days, return_inverse=True)
    text = np.datetime_as_string(distinct, unit="D")
    if separator != "-":
        text = np.char.replace(text, "-", separator)
    return pd.Series(pd.Categorical.from_codes(codes.ravel(), text.astype(object))).astype("str").array


def thousands(values: np.ndarray) -> np.ndarray:
    """Integers written with thousands separators (``1,234``)."""
    return np.array([f"{v:,}" for v in np.asarray(values, dtype=np.int64)], dtype=object)
