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

from energy_lib.core.vectors import group_ids
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
        checks=[pa.Check(_as_series(rule.passes), name=f"{i}:{rule.reason}") for i, rule in enumerate(rules)],
    )
    try:
        schema.validate(candidates, lazy=True, inplace=True)  # checks only: no copy of the file's records
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        by_rule = {f"{i}:{rule.reason}": rule for i, rule in enumerate(rules)}
        unknown = cases[~cases["check"].isin(list(by_rule))]
        if len(unknown):
            raise TypeError(f"records do not have the canonical types:\n{unknown.head()}") from None
        for name, group in cases.groupby("check", sort=False):
            rule = by_rule[name]
            positions = np.unique(group["index"].to_numpy(dtype=np.int64))
            failing = candidates.loc[positions]
            issues.add(positions, headers.get(rule.column, rule.column), rule.reason,
                       rule.message(failing).to_numpy(dtype=object))


def _as_series(passes: Callable[[pd.DataFrame], pd.Series | np.ndarray]) -> Callable[[pd.DataFrame], pd.Series]:
    """pandera needs a boolean Series aligned with the frame; rules may return arrays, or
    nullable booleans whose missing values (a comparison with a missing field) pass."""
    def check(frame: pd.DataFrame) -> pd.Series:
        result = passes(frame)
        if isinstance(result, pd.Series):
            result = result.fillna(True).to_numpy(dtype=bool)
        return pd.Series(np.asarray(result, dtype=bool), index=frame.index)

    return check


def duplicates_within(frame: pd.DataFrame, key: list[str], value: str, issues: Issues,
                      headers: dict[str, str]) -> None:
    """Quarantine repeated keys within one file.

    Records with the same key and the same value: the first is kept, the others are
    ``duplicate_row``. The same key with different values: every one of them is
    ``conflicting_rows``, since which is right cannot be told.
    """
    alive = ~issues.rejected[frame.index.to_numpy()]
    if not alive.any():
        return
    ids = group_ids(*(frame[k] for k in key))
    ids = np.where(alive, ids, -1 - np.arange(len(ids)))  # rejected rows never match anything
    dense = np.unique(ids, return_inverse=True)[1]
    repeated = np.bincount(dense)[dense] > 1
    if not repeated.any():
        return
    group = frame[repeated].assign(_key=ids[repeated])  # few rows: pandas from here on
    first_row = group.groupby("_key")["source_row"].transform("min")
    values = group.groupby("_key")[value].transform("nunique", dropna=False)
    conflict = values > 1
    conflicting = group[conflict]
    if len(conflicting):
        rows = conflicting.groupby("_key")["source_row"].transform(lambda r: ", ".join(map(str, sorted(r))))
        issues.add(conflicting.index.to_numpy(), headers.get(value, value), "conflicting_rows",
                   ("the same meter and period appear in rows " + rows + " with different values. "
                    "Find out from the utility which is right, correct the file, and ingest it again.")
                   .to_numpy(dtype=object))
    exact = group[~conflict & group.duplicated("_key", keep="first")]
    if len(exact):
        issues.add(exact.index.to_numpy(), None, "duplicate_row",
                   ("duplicate of row " + first_row[exact.index].astype(str)
                    + "; the first copy is stored. Nothing to do.").to_numpy(dtype=object))


def overlaps_within(frame: pd.DataFrame, issues: Issues, headers: dict[str, str], *,
                    entity: str = "meter_id") -> None:
    """Quarantine periods of one meter that overlap an earlier period in the same file.

    Records must have ``period_start`` and ``period_end``. Exact duplicates of a period are left
    to :func:`duplicates_within`.

    Notes
    -----
    Sorted by (meter, start), a period overlaps an earlier one of its meter when it starts before
    the latest end seen so far in that meter. Meters are offset into disjoint ranges of one int64
    axis, so one running maximum serves every meter at once. A quarantined period must not block
    the ones after it, so each round rejects only the first overlap of each meter, and rounds
    repeat until none is left (one round for a file with no overlaps).
    """
    alive = ~issues.rejected[frame.index.to_numpy()]
    if not alive.any():
        return
    live = np.flatnonzero(alive)
    codes = group_ids(frame[entity])[live]
    if np.bincount(codes).max(initial=0) <= 1:
        return  # every meter appears once: nothing can overlap (a month of bills)
    starts = frame["period_start"].to_numpy()[live]
    base = starts.min()
    start = (starts - base) // np.timedelta64(1, "s")
    end = (frame["period_end"].to_numpy()[live] - base) // np.timedelta64(1, "s")
    rows = frame["source_row"].to_numpy()[live]
    order = np.lexsort((rows, start, codes))
    c, s, e = codes[order], start[order], end[order]
    width = int(max(e.max(), s.max())) + 1
    kept = np.ones(len(order), dtype=bool)
    rejected, blocking = [], []
    while True:
        index = np.flatnonzero(kept)
        ci, si, ei = c[index], s[index], e[index]
        running_end = np.maximum.accumulate(ci * width + ei)
        previous_end = np.concatenate([[np.iinfo(np.int64).min], running_end[:-1]])
        same_meter = np.concatenate([[False], ci[1:] == ci[:-1]])
        same_start = same_meter & np.concatenate([[False], si[1:] == si[:-1]])
        overlap = same_meter & ~same_start & (ci * width + si < previous_end)
        if not overlap.any():
            break
        hits = np.flatnonzero(overlap)
        first = hits[np.concatenate([[True], ci[hits[1:]] != ci[hits[:-1]]])]
        rejected.append(index[first])
        blocking.append(index[first - 1])
        kept[index[first]] = False
    if not rejected:
        return
    hit_sorted, previous_sorted = np.concatenate(rejected), np.concatenate(blocking)
    hit = frame.iloc[live[order[hit_sorted]]]
    previous = rows[order[previous_sorted]]
    issues.add(hit.index.to_numpy(), headers.get("period_start", "period_start"), "overlapping_period",
               ("the period " + _period_text(hit) + " overlaps the period of row "
                + pd.Series(previous, index=hit.index).astype(str)
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
