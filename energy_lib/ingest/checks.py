"""Checks shared by the import formats: validation rules run by pandera, duplicates, overlaps.

A failed check never stops a file: the records that fail go to quarantine with a message that says
what is wrong and what to do, and the rest are stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from energy_lib.ingest.problems import Issues

__all__ = ["Rule", "validate", "duplicates_within", "overlaps_within", "against_stored"]


@dataclass(frozen=True)
class Rule:
    """A validation rule over canonical records.

    Parameters
    ----------
    reason : str
        Reason code stored in quarantine (``negative_value``, ``future_period``, …).
    column : str
        Field the rule is about; messages name the file's header for it.
    passes : callable
        ``frame -> boolean Series``, True where a record is fine.
    message : callable
        ``failing frame -> Series of str``: what is wrong and what to do, per failing record.
    """

    reason: str
    column: str
    passes: Callable[[pd.DataFrame], pd.Series]
    message: Callable[[pd.DataFrame], pd.Series]


def validate(frame: pd.DataFrame, rules: list[Rule], issues: Issues, headers: dict[str, str],
             columns: dict[str, pa.Column] | None = None) -> None:
    """Run ``rules`` (and column types) with pandera over all records of ``frame``; add the
    failures to ``issues``, so that a record with several problems shows them all.

    Rules pass on missing values (a field that could not be read is already quarantined).
    ``frame`` is indexed by record position. ``headers`` maps field names to the file's headers.
    Column type failures are programming errors (parsing produced the wrong type) and raise.
    """
    candidates = frame
    if candidates.empty:
        return
    schema = pa.DataFrameSchema(
        columns=columns or {},
        checks=[pa.Check(rule.passes, name=rule.reason) for rule in rules],
    )
    try:
        schema.validate(candidates, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        by_rule = {rule.reason: rule for rule in rules}
        unknown = cases[~cases["check"].isin(list(by_rule))]
        if len(unknown):
            raise TypeError(f"records do not have the canonical types:\n{unknown.head()}") from None
        for reason, group in cases.groupby("check", sort=False):
            rule = by_rule[reason]
            positions = np.unique(group["index"].to_numpy(dtype=np.int64))
            failing = candidates.loc[positions]
            issues.add(positions, headers.get(rule.column, rule.column), rule.reason,
                       rule.message(failing).to_numpy(dtype=object))


def duplicates_within(frame: pd.DataFrame, key: list[str], value: str, issues: Issues,
                      headers: dict[str, str]) -> None:
    """Quarantine repeated keys within one file.

    Records with the same key and the same value: the first is kept, the others are
    ``duplicate_row``. The same key with different values: every one of them is
    ``conflicting_rows``, since which is right cannot be told.
    """
    live = frame[~issues.rejected[frame.index.to_numpy()]]
    repeated = live.duplicated(key, keep=False)
    if not repeated.any():
        return
    group = live[repeated]
    first_row = group.groupby(key, sort=False)["source_row"].transform("min")
    values = group.groupby(key, sort=False)[value].transform("nunique", dropna=False)
    conflict = values > 1
    conflicting = group[conflict]
    if len(conflicting):
        rows = conflicting.groupby(key, sort=False)["source_row"].transform(
            lambda r: ", ".join(map(str, sorted(r))))
        issues.add(conflicting.index.to_numpy(), headers.get(value, value), "conflicting_rows",
                   ("the same meter and period appear in rows " + rows + " with different values. "
                    "Find out from the utility which is right, correct the file, and ingest it again.")
                   .to_numpy(dtype=object))
    exact = group[~conflict & group.duplicated(key, keep="first")]
    if len(exact):
        issues.add(exact.index.to_numpy(), None, "duplicate_row",
                   ("duplicate of row " + first_row[exact.index].astype(str)
                    + "; the first copy is stored. Nothing to do.").to_numpy(dtype=object))


def overlaps_within(frame: pd.DataFrame, issues: Issues, headers: dict[str, str], *,
                    entity: str = "meter_id") -> None:
    """Quarantine periods of one meter that overlap an earlier period in the same file.

    Records must have ``period_start`` and ``period_end``. Exact duplicates of a period are left
    to :func:`duplicates_within`.
    """
    live = frame[~issues.rejected[frame.index.to_numpy()]]
    if live.empty:
        return
    ordered = live.sort_values([entity, "period_start", "source_row"], kind="stable")
    same_entity = ordered[entity].eq(ordered[entity].shift())
    same_start = same_entity & ordered["period_start"].eq(ordered["period_start"].shift())
    end_ns = ordered["period_end"].astype("int64")
    previous_end = end_ns.groupby(ordered[entity].to_numpy(), sort=False).cummax().groupby(
        ordered[entity].to_numpy(), sort=False).shift()
    overlap = same_entity & ~same_start & (ordered["period_start"].astype("int64") < previous_end)
    hit = ordered[overlap.to_numpy()]
    if len(hit):
        previous = ordered["source_row"].shift()[overlap.to_numpy()].astype("int64").astype(str)
        issues.add(hit.index.to_numpy(), headers.get("period_start", "period_start"), "overlapping_period",
                   ("the period " + _period_text(hit) + " overlaps the period of row " + previous
                    + " for the same meter. Check the billing dates.").to_numpy(dtype=object))


def against_stored(pairs: pd.DataFrame, issues: Issues, headers: dict[str, str], *,
                   value: str = "value_canonical") -> None:
    """Quarantine new records that repeat, contradict or overlap stored ones.

    ``pairs`` has one row per (new record, stored row) of the same meter whose periods overlap:
    ``position`` (of the new record), ``period_start``, ``period_end``, ``value`` and the stored
    row's ``period_start_stored``, ``period_end_stored``, ``<value>_stored``,
    ``source_file_stored``, ``source_row_stored``. A record equal to a stored one is
    ``already_stored``; the same period with another value is ``conflicts_with_stored``; a
    different period that overlaps is ``overlapping_period``. Stored rows are never changed.
    """
    if pairs.empty:
        return
    pairs = pairs.reset_index(drop=True)
    same_period = ((pairs["period_start"] == pairs["period_start_stored"])
                   & (pairs["period_end"] == pairs["period_end_stored"]))
    same_value = pd.Series(np.isclose(pairs[value], pairs[f"{value}_stored"], rtol=1e-9, atol=0))
    where = pairs["source_file_stored"] + " row " + pairs["source_row_stored"].astype(str)
    kinds = [
        (same_period & same_value, None, "already_stored",
         "already stored from " + where + "; nothing to do."),
        (same_period & ~same_value, headers.get(value, value), "conflicts_with_stored",
         "the stored reading for this meter and period (" + pairs[f"{value}_stored"].round(6).astype(str)
         + " from " + where + ") has another value; the stored value is kept. Ask the utility which "
                              "is right."),
        (~same_period, headers.get("period_start", "period_start"), "overlapping_period",
         "the period " + _period_text(pairs) + " overlaps a stored period ("
         + _period_text(pairs, "_stored") + ", " + where + ") of the same meter. Check the billing dates."),
    ]
    for mask, column, reason, message in kinds:
        chosen = pairs[mask.to_numpy()].drop_duplicates("position")
        if len(chosen):
            issues.add(chosen["position"].to_numpy(), column, reason,
                       message[chosen.index].to_numpy(dtype=object))


def _period_text(frame: pd.DataFrame, suffix: str = "") -> pd.Series:
    start = frame[f"period_start{suffix}"].dt.strftime("%Y-%m-%d %H:%M").str.replace(" 00:00", "")
    end = frame[f"period_end{suffix}"].dt.strftime("%Y-%m-%d %H:%M").str.replace(" 00:00", "")
    return start + "–" + end
