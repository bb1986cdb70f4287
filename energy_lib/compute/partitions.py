"""Meter partitions: the store's readings laid out again by meter, so that each compute task reads
only its own meters' rows.

The store's reading parts follow the files they came from (one per utility and month), so every
meter's bills are spread over every part, and a query for a few meters scans them all. Before
computing, :func:`write_partitions` copies the readings the compute stage needs into ``buckets``
Parquet directories by a hash of the meter id, in one DuckDB pass (``COPY … PARTITION_BY``).
A bucket holds every reading of its meters, so buckets' baselines are independent of each other
(partitioning by meter) and a task, in this process or on a cluster worker, reads one bucket:

>>> parts = write_partitions(store, scratch, since=since, partition_rows=2_000_000)
>>> bills = parts.read(0, "bills")

A task's memory is bounded by its bucket, not by the city.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from energy_lib.core.vectors import duckdb_cursor, run_starts
from energy_lib.store import Store

__all__ = ["Partitions", "write_partitions", "KINDS"]

KINDS = {
    "bills": (("billing", "monthly", "daily"), ("electricity", "gas", "water", "heat")),
    "interval": (("hourly", "15min"), ("electricity",)),
}
"""What each kind of partition holds: (resolutions, carriers) of the readings. Bills come with
daily readings, which the programme evaluation counts with them."""

_COLUMNS = "meter_id, carrier, resolution, period_start, period_end, value_canonical, outlier"


@dataclass(frozen=True)
class Partitions:
    """Readings written by bucket of meter under ``directory`` (``<kind>/bucket=<k>/*.parquet``).

    Attributes
    ----------
    directory : pathlib.Path
        Where the buckets are; a cluster's workers must see the same path (a shared file system).
    buckets : int
        Number of buckets; a meter's bucket is ``hash(meter_id) % buckets`` (DuckDB's hash).
    rows : dict of str to int
        Readings written per kind.
    """

    directory: Path
    buckets: int
    rows: dict[str, int]

    def read(self, bucket: int, kind: str) -> pd.DataFrame:
        """The readings of one bucket (``meter_id``, ``carrier``, ``resolution``, ``period_start``,
        ``period_end``, ``value_canonical``, ``outlier``), ordered by carrier, then grouped by
        meter (in the order of a hash of the meter id), each meter's in time order; empty if it has
        none. ``carrier`` and ``resolution`` are categoricals of the kind's values (:data:`KINDS`,
        in that order)."""
        files = sorted((self.directory / kind / f"bucket={bucket}").glob("*.parquet"))
        con = duckdb_cursor()
        with contextlib.closing(con):
            if not files:
                return con.execute(f"SELECT {_columns(kind)} FROM ({_empty()})").df()
            listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            # sorted on numbers, not text (half the time): carrier and resolution as enumerations,
            # meters by a hash of their id; through Arrow: half the time of .df() for a bucket's
            # million strings
            query = f"SELECT {_columns(kind)} FROM read_parquet([{listing}]) ORDER BY carrier, {{meter}}, period_start"
            table = con.sql(query.format(meter="hash(meter_id)")).to_arrow_table()
            if not _grouped(table["meter_id"]):  # two meters of one hash: by id (about one city in 10⁷)
                table = con.sql(query.format(meter="meter_id")).to_arrow_table()
            return table.to_pandas()


def _grouped(ids: pa.ChunkedArray) -> bool:
    """Whether each id's rows are consecutive (as many runs of equal ids as distinct ids)."""
    ids = ids.combine_chunks()
    return len(run_starts(ids)) == pc.count_distinct(ids).as_py()


def _columns(kind: str) -> str:
    """:data:`_COLUMNS` with ``carrier`` and ``resolution`` cast to enumerations of ``kind``'s values."""
    resolutions, carriers = KINDS[kind]
    return _COLUMNS.replace("carrier,", f"carrier::{_enum(carriers)} AS carrier,").replace(
        "resolution,", f"resolution::{_enum(resolutions)} AS resolution,")


def _enum(values: tuple[str, ...]) -> str:
    return "ENUM(" + ", ".join("'" + value + "'" for value in values) + ")"


def _empty() -> str:
    return ("SELECT ''::VARCHAR AS meter_id, ''::VARCHAR AS carrier, ''::VARCHAR AS resolution, "
            "NULL::TIMESTAMP AS period_start, NULL::TIMESTAMP AS period_end, "
            "NULL::DOUBLE AS value_canonical, NULL::BOOLEAN AS outlier WHERE false")


def write_partitions(store: Store, directory: Path, *, since: pd.Timestamp, partition_rows: int,
                     min_buckets: int = 1) -> Partitions:
    """Write the readings the compute stage needs by bucket of meter under ``directory``.

    Parameters
    ----------
    store : Store
        The canonical store (its committed parts at the time of the call).
    directory : pathlib.Path
        An empty or missing directory.
    since : pandas.Timestamp
        Interval readings ending before this are left out (the compute stage uses a year and a
        baseline year of them); bills are all kept (Carbon Point looks two years back).
    partition_rows : int
        About how many readings a bucket holds: the number of buckets is the readings divided by
        this, rounded up.
    min_buckets : int
        At least this many buckets (one per worker, so that a small city uses every worker).

    Returns
    -------
    Partitions
    """
    directory.mkdir(parents=True, exist_ok=True)
    con = duckdb_cursor()
    selections = {}
    with contextlib.closing(con), store.snapshot():  # the files listed stay until they are copied
        for kind, (resolutions, carriers) in KINDS.items():
            files = store.files("readings", time_from=since if kind == "interval" else None, carriers=set(carriers))
            where = "resolution IN ? AND carrier IN ?" + (" AND period_end > ?" if kind == "interval" else "")
            params = [list(resolutions), list(carriers)] + ([since] if kind == "interval" else [])
            selections[kind] = (f"SELECT {_COLUMNS} FROM {store.relation_sql('readings', files)} WHERE {where}",
                                params)
        rows = {kind: int(con.execute(f"SELECT count(*) FROM ({query})", params).fetchone()[0])
                for kind, (query, params) in selections.items()}
        buckets = max(1, min_buckets, math.ceil(sum(rows.values()) / partition_rows))
        for kind, (query, params) in selections.items():
            if rows[kind]:
                target = str(directory / kind).replace("'", "''")
                con.execute(f"COPY (SELECT *, hash(meter_id) % {buckets} AS bucket FROM ({query})) "
                            f"TO '{target}' (FORMAT parquet, PARTITION_BY (bucket), COMPRESSION zstd)", params)
    return Partitions(directory, buckets, rows)
