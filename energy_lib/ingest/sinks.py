"""Where converted records go: the checks and writes that depend on the target table.

A sink works in two steps. ``prepare`` runs without the store's lock (validation, ids, repeats
within the file); ``stage`` runs under it (comparison with stored rows, then staging the rows
that pass). Three kinds:

* :class:`MeteredSink` — consumption and generation (see :mod:`energy_lib.ingest.metered`);
* :class:`KeyedFactSink` — append-only facts with a key (weather, utility aggregates,
  participation): a repeated key with the same value is a duplicate, with another value a
  conflict;
* :class:`DimensionSink` — reference tables (parcels, programmes): the newest file's row for a
  key replaces the stored one.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from energy_lib.core.tables import table
from energy_lib.core.vectors import duckdb_cursor
from energy_lib.ingest import checks, metered
from energy_lib.ingest.formats import Converted, Options
from energy_lib.ingest.problems import Issues
from energy_lib.store import Writer

__all__ = ["Sink", "MeteredSink", "KeyedFactSink", "DimensionSink"]


class Sink:
    """Interface of a sink."""

    table: str

    def prepare(self, converted: Converted, headers: dict[str, str], options: Options) -> pd.DataFrame:
        raise NotImplementedError

    def stage(self, records: pd.DataFrame, issues: Issues, headers: dict[str, str], writer: Writer,
              ingested_at: pd.Timestamp, source_file: str) -> int:
        raise NotImplementedError


@dataclass(frozen=True)
class MeteredSink(Sink):
    """Consumption (``readings``) or PV generation (``generation``)."""

    target: metered.MeteredTarget

    @property
    def table(self) -> str:
        return self.target.table

    def prepare(self, converted, headers, options):
        return metered.prepare(converted.records, converted.issues, headers, self.target, options.now())

    def stage(self, records, issues, headers, writer, ingested_at, source_file):
        return metered.stage(records, issues, headers, self.target, writer, ingested_at, source_file)


@dataclass(frozen=True)
class _KeyedSink(Sink):
    """Records identified by ``key``; ``value`` is compared to tell duplicates from conflicts.
    ``rules`` validate the records (pandera)."""

    table: str
    key: tuple[str, ...]
    value: str
    rules: tuple[checks.Rule, ...] = field(default_factory=tuple)

    def prepare(self, converted, headers, options):
        records, issues = converted.records, converted.issues
        checks.validate(records, list(self.rules), issues, headers)
        checks.duplicates_within(records, list(self.key), self.value, issues, headers)
        return records


@dataclass(frozen=True)
class KeyedFactSink(_KeyedSink):
    """Append-only facts: a key stored before is a duplicate (same value) or a conflict."""

    def stage(self, records, issues, headers, writer, ingested_at, source_file):
        live = records[~issues.rejected[records.index.to_numpy()]]
        if live.empty:
            return 0
        stored_files = writer.store.files(self.table)
        if stored_files:
            keys = list(self.key)
            with contextlib.closing(duckdb_cursor()) as con:
                con.register("new", live[keys + [self.value]].reset_index(names="position"))
                on = " AND ".join(f's."{k}" = n."{k}"' for k in keys)
                pairs = con.execute(f"""
                    SELECT n.position, n."{self.value}" AS new_value, s."{self.value}" AS stored_value,
                           s.source_file, s.source_row
                    FROM new n JOIN {writer.store.relation_sql(self.table, stored_files)} s ON {on}
                """).df()
            if len(pairs):
                pairs = pairs.drop_duplicates("position")
                where = pairs["source_file"] + " row " + pairs["source_row"].astype(str)
                same = _same(pairs["new_value"], pairs["stored_value"])
                issues.add(pairs["position"].to_numpy()[same], None, "already_stored",
                           ("already stored from " + where[same] + "; nothing to do.").to_numpy(dtype=object))
                issues.add(pairs["position"].to_numpy()[~same], headers.get(self.value, self.value),
                           "conflicts_with_stored",
                           ("the stored row for the same key (" + pairs["stored_value"][~same].astype(str)
                            + " from " + where[~same] + ") has another value; the stored value is kept. "
                                                        "Ask the source which is right.").to_numpy(dtype=object))
                live = live[~issues.rejected[live.index.to_numpy()]]
        rows = live.assign(source_file=source_file, ingested_at=ingested_at)
        writer.append(self.table, rows.sort_values(list(self.key), kind="stable"))
        return len(rows)


@dataclass(frozen=True)
class DimensionSink(_KeyedSink):
    """A reference table; the new file's rows replace stored rows with the same ``key``."""

    def stage(self, records, issues, headers, writer, ingested_at, source_file):
        live = records[~issues.rejected[records.index.to_numpy()]].assign(source_file=source_file)
        if live.empty:
            return 0
        columns = table(self.table).column_names
        stored = writer.store.read(self.table)
        kept = stored.merge(live[list(self.key)], on=list(self.key), how="left", indicator=True)
        kept = stored[(kept["_merge"] == "left_only").to_numpy()]
        combined = pd.concat([kept, live[[c for c in columns if c in live]]], ignore_index=True)
        writer.replace(self.table, combined.sort_values(list(self.key), kind="stable", ignore_index=True))
        return len(live)


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
        return np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=0, equal_nan=True)
    return (a.astype(str).to_numpy() == b.astype(str).to_numpy())
