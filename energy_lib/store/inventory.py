"""What is in the store: a summary for people (``energy summary``) and for tests."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from energy_lib.core.tables import TABLES
from energy_lib.store import Store

__all__ = ["StoreSummary", "summarise", "render"]


@dataclass(frozen=True)
class StoreSummary:
    """Frames describing the store's content."""

    tables: pd.DataFrame
    readings: pd.DataFrame
    sites: pd.DataFrame
    files: pd.DataFrame
    quarantine: pd.DataFrame
    coverage: pd.DataFrame


def summarise(store: Store) -> StoreSummary:
    """Counts per table, readings per carrier and year, sites per type, files and quarantine."""
    tables = pd.DataFrame([{"table": name, "rows": store.rows(name), "parts": len(store.parts(name))}
                           for name in TABLES])
    readings = store.sql("""
        SELECT carrier, year(period_start) AS year, count(DISTINCT meter_id) AS meters, count(*) AS readings,
               CAST(round(sum(value_canonical)) AS BIGINT) AS total, any_value(canonical_unit) AS unit,
               round(100.0 * avg(CASE WHEN quality = 'estimated' THEN 1 ELSE 0 END), 2) AS estimated_pct,
               CAST(count(*) FILTER (WHERE outlier) AS BIGINT) AS outliers
        FROM readings GROUP BY ALL ORDER BY carrier, year""")
    sites = store.sql("""SELECT building_type, origin, placement, count(*) AS sites FROM sites
                         GROUP BY ALL ORDER BY building_type, origin, placement""")
    files = store.sql("""SELECT adapter AS format, status, count(*) AS files, CAST(sum(rows_in) AS BIGINT) AS rows_in,
                                CAST(sum(rows_stored) AS BIGINT) AS rows_stored,
                                CAST(sum(rows_quarantined) AS BIGINT) AS rows_quarantined
                         FROM ingest_log GROUP BY ALL ORDER BY format, status""")
    quarantine = store.sql("""SELECT reason, count(*) AS rows, count(DISTINCT source_file) AS files
                              FROM quarantine GROUP BY ALL ORDER BY rows DESC, reason""")
    coverage = store.sql("""
        SELECT 'readings · ' || carrier AS data, min(period_start) AS first, max(period_end) AS last FROM readings GROUP BY carrier
        UNION ALL SELECT 'weather · ' || station, min(date), max(date) FROM weather GROUP BY station
        UNION ALL SELECT 'generation', min(period_start), max(period_end) FROM generation HAVING count(*) > 0
        UNION ALL SELECT 'utility_aggregates · ' || provider, min(period_start), max(period_start) FROM utility_aggregates GROUP BY provider
        ORDER BY data""")
    return StoreSummary(tables, readings, sites, files, quarantine, coverage)


def render(summary: StoreSummary) -> str:
    """The summary as plain text."""
    def block(title: str, frame: pd.DataFrame) -> str:
        return f"== {title} ==\n" + (frame.to_string(index=False) if len(frame) else "(none)")

    return "\n\n".join([
        block("tables", summary.tables),
        block("data coverage", summary.coverage),
        block("readings by carrier and year (canonical units)", summary.readings),
        block("sites by building type", summary.sites),
        block("files ingested", summary.files),
        block("quarantine by reason (`energy quarantine` lists the rows)", summary.quarantine),
    ])
