"""What can go wrong with input, said so that a person can act on it.

Two kinds of problem:

* :class:`IngestError` — the file as a whole cannot be read (empty, undecodable, not the format
  asked for). Nothing is stored from it; the message names the file, the row and column where
  known, what is wrong and what to do.
* :class:`Issues` — problems of single records (a negative value, an unknown ward code, a
  duplicate). Those records go to the quarantine table with the reason, the record's pseudonym
  and a masked excerpt of the field at fault; the rest of the file is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["IngestError", "Issues", "location", "excerpt", "REASONS", "MAX_MESSAGE"]

MAX_MESSAGE = 500
"""A message for a file or a record is shorter than this [characters]: long enough to name the
file, row, column and what to do, short enough that a garbled 50 KB field is never echoed whole."""

REASONS: dict[str, str] = {
    "malformed_row": "the row cannot be split into the header's fields (a cut-off line, a stray delimiter)",
    "empty_record": "a record with every field empty (a row of delimiters only, a JSON null or {})",
    "undecodable_text": "the row has bytes that are not valid in the file's encoding",
    "missing_value": "a required field is empty",
    "unreadable_number": "a number field is not a number",
    "unreadable_date": "a date or month field is not a date in any accepted form",
    "invalid_count": "a count (customers, households) that is not a whole number, or beyond config/ingest.toml [counts]",
    "unreadable_flag": "a yes/no field that is neither (예/아니오, 동의/미동의, Y/N, O/X, true/false, 1/0)",
    "unknown_ward_code": "a ward, gu or legal-dong code of no known vintage",
    "unknown_carrier": "a carrier name that is not electricity, gas, water or heat",
    "unknown_category": "a contract type or building type that is not in the vocabulary",
    "unknown_quality": "a read type that is neither actual nor estimated",
    "unknown_site": "a customer or site that no register, bill or ward places",
    "unknown_programme": "a programme the store does not know",
    "outside_city": "a row about another city (not stored; nothing to do)",
    "unit_mismatch": "a unit that is unknown or not a unit of the row's carrier",
    "unit_conflict": "the unit column and the unit in the value's header disagree (e.g. 사용량(kWh) with 단위 MWh)",
    "negative_value": "a negative consumption or count",
    "impossible_value": "a value beyond the physical limit (config/ingest.toml), or a temperature out of range",
    "implausible_value": "an aggregate beyond the bounds for its carrier and class (config/ingest.toml [plausible])",
    "inconsistent_value": "fields that contradict each other (mean outside min–max, a day outside its month, …)",
    "empty_period": "a period that ends before or when it starts",
    "long_period": "a billing period longer than a bill can be",
    "too_early": "a date before 1990 (a typing error)",
    "future_period": "a period or day after today",
    "duplicate_row": "an exact copy of an earlier row of the same file (the first is stored)",
    "conflicting_rows": "rows of one file with the same key and different values (none is stored)",
    "overlapping_period": "a period that overlaps another of the same meter (in the file or stored)",
    "already_stored": "the same row was stored before from another file",
    "conflicts_with_stored": "a stored row has the same key and another value (the stored one is kept)",
}
"""Every reason a row can be quarantined for, with its meaning (data/README.md lists them)."""


def excerpt(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters (with ``…`` and the full length when cut), for echoing
    input in a message."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def location(file: str, row: int | None = None, column: str | None = None) -> str:
    """``"bills.csv, row 12, column '사용량'"``: where a problem is."""
    text = excerpt(file, 160)
    if row is not None:
        text += f", row {row}"
    if column is not None:
        text += f", column '{excerpt(column, 60)}'"
    return text


class IngestError(Exception):
    """A file that cannot be ingested at all.

    Parameters
    ----------
    file : str
        The file, as the user named it.
    problem : str
        What is wrong.
    action : str
        What to do about it.
    row, column : optional
        Where, when known (row 1 is the header).
    """

    def __init__(self, file: str, problem: str, action: str, *, row: int | None = None,
                 column: str | None = None):
        self.file, self.problem, self.action, self.row, self.column = file, problem, action, row, column
        super().__init__(_clip(f"{location(file, row, column)}: {problem} {action}", action))


@dataclass
class Issues:
    """Problems found in the records of one file, by record position (0 … n-1).

    A record may have several problems; it is quarantined once, with the first problem's reason
    and every problem in its message.
    """

    n: int
    _positions: list[np.ndarray] = field(default_factory=list)
    _columns: list[np.ndarray] = field(default_factory=list)
    _reasons: list[np.ndarray] = field(default_factory=list)
    _messages: list[np.ndarray] = field(default_factory=list)

    def add(self, where: np.ndarray, column: str | None | np.ndarray, reason: str,
            message: str | np.ndarray | pd.Series) -> None:
        """Record a problem.

        Parameters
        ----------
        where : numpy.ndarray
            Boolean mask over all records, or integer positions.
        column : str, None or array
            Column(s) at fault, as named in the file.
        reason : str
            Reason code (``negative_value``, ``unknown_ward_code``, …).
        message : str or array of str
            What is wrong and what to do; one text, or one per flagged record.
        """
        if reason not in REASONS:
            raise ValueError(f"unknown quarantine reason {reason!r}; add it to problems.REASONS")
        where = np.asarray(where)
        positions = np.flatnonzero(where) if where.dtype == bool else where.astype(np.int64)
        if positions.size == 0:
            return
        if where.dtype == bool and not isinstance(message, str) and len(message) == self.n:
            message = np.asarray(message, dtype=object)[positions]
        if where.dtype == bool and isinstance(column, np.ndarray) and len(column) == self.n:
            column = column[positions]
        messages = np.broadcast_to(np.asarray(message, dtype=object), positions.shape)
        missing = pd.isna(messages)
        if missing.any():  # a message built from a missing value; say what we know
            messages = np.where(missing, f"{reason.replace('_', ' ')} (see the raw row)", messages)
        messages = clip_messages(messages)
        self._positions.append(positions)
        self._columns.append(np.broadcast_to(np.asarray(column, dtype=object), positions.shape))
        self._reasons.append(np.full(positions.shape, reason, dtype=object))
        self._messages.append(messages)

    @property
    def rejected(self) -> np.ndarray:
        """Boolean mask of records with at least one problem."""
        mask = np.zeros(self.n, dtype=bool)
        for positions in self._positions:
            mask[positions] = True
        return mask

    def summary(self) -> pd.DataFrame:
        """One row per rejected record: ``position``, ``column``, ``reason``, ``message``."""
        if not self._positions:
            return pd.DataFrame({"position": pd.Series(dtype="int64"), "column": pd.Series(dtype=object),
                                 "reason": pd.Series(dtype=object), "message": pd.Series(dtype=object)})
        frame = pd.DataFrame({
            "position": np.concatenate(self._positions),
            "column": np.concatenate(self._columns),
            "reason": np.concatenate(self._reasons),
            "message": np.concatenate(self._messages),
        })
        frame["column"] = frame["column"].where(frame["column"].notna(), None)
        frame = frame.sort_values("position", kind="stable")
        out = frame.drop_duplicates("position", keep="first").set_index("position")
        repeated = frame["position"].duplicated(keep=False).to_numpy()
        if repeated.any():  # records with several problems: every problem in the message
            joined = frame[repeated].groupby("position")["message"].agg(lambda m: "; ".join(dict.fromkeys(m)))
            out.loc[joined.index, "message"] = joined
        out = out.reset_index()
        return out[["position", "column", "reason", "message"]]


def _clip(message: str, tail: str) -> str:
    """``message`` in fewer than :data:`MAX_MESSAGE` characters, keeping its end (what to do) whole."""
    if len(message) < MAX_MESSAGE:
        return message
    keep = max(MAX_MESSAGE - len(tail) - 2, 40)
    return message[:keep - 1] + "… " + tail[-(MAX_MESSAGE - keep - 2):]


def clip_messages(messages: np.ndarray) -> np.ndarray:
    """Record messages in fewer than :data:`MAX_MESSAGE` characters: a long one keeps its first 200 and
    last 250 characters (what is wrong, and what to do), so an echoed field never floods it."""
    text = pd.Series(messages, dtype=object).astype(str)
    long = text.str.len() >= MAX_MESSAGE
    if long.any():
        text[long] = text[long].str.slice(0, 200) + " … " + text[long].str.slice(-250)
    return text.to_numpy(dtype=object)
