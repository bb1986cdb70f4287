"""What an import format is: the fields it reads, their header variants, and how it converts.

Each utility export format is a module of ``energy_lib.ingest`` that defines one :class:`Format`.
Formats find their fields by header, in any of the spellings the utilities use (Korean, English,
camelCase, with a unit in brackets); :func:`detect` picks the format whose fields a file has, and
names the right format when a file is given to the wrong one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from energy_lib.core import configuration, units, wards
from energy_lib.core.status import ModelWarning
from energy_lib.ingest import parse, vocab
from energy_lib.ingest.problems import IngestError, Issues, excerpt
from energy_lib.ingest.textfile import RawFile, normalise_header, unit_in_header

__all__ = ["Field", "Format", "Options", "Converted", "Columns", "Reference", "detect", "default_provider"]

def default_provider(carrier: str) -> str:
    """The provider a carrier's data comes from unless a file says otherwise (config/ingest.toml)."""
    return configuration.load("ingest")["providers"][carrier]


@dataclass(frozen=True)
class Field:
    """A field a format reads.

    Parameters
    ----------
    name : str
        Canonical name used in code.
    aliases : tuple of str
        Header spellings, compared after :func:`normalise_header`.
    required : bool
        A file without it is not of this format.
    help : str
        What the field holds (shown in ``energy formats`` and in messages).
    personal : bool
        The field identifies a person or household (a customer number, a register key, an
        address): the quarantine never keeps its text, only the record's pseudonym.
    """

    name: str
    aliases: tuple[str, ...]
    required: bool = True
    help: str = ""
    personal: bool = False

    @property
    def spellings(self) -> frozenset[str]:
        """Normalised header spellings that name this field."""
        return _spellings(self.name, self.aliases)


@functools.lru_cache(maxsize=None)
def _spellings(name: str, aliases: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalise_header(a) for a in (name, *aliases))


@dataclass(frozen=True)
class Options:
    """Choices a user can make when ingesting a file (``energy ingest --help``)."""

    format: str | None = None
    carrier: str | None = None
    unit: str | None = None
    provider: str | None = None
    encoding: str | None = None
    station: str | None = None
    timestamps: str = "start"
    end_inclusive: bool = True
    as_of: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        from energy_lib.core.units import CARRIERS

        if self.carrier is not None and self.carrier not in CARRIERS:
            raise ValueError(f"carrier must be one of {', '.join(CARRIERS)}, not {self.carrier!r}")
        if self.timestamps not in ("start", "end"):
            raise ValueError(f"timestamps must be 'start' or 'end', not {self.timestamps!r}")

    def now(self) -> pd.Timestamp:
        """The moment after which periods are in the future (default: now, KST)."""
        if self.as_of is not None:
            return pd.Timestamp(self.as_of)
        return pd.Timestamp.now(tz="Asia/Seoul").tz_localize(None)


class Reference:
    """Reference tables a conversion may need (code crosswalk, legal-dong links, parcels), read
    from the store on first use."""

    def __init__(self, store):
        self._store = store
        self._cache: dict[str, pd.DataFrame] = {}

    def table(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            self._cache[name] = self._store.read(name)
        return self._cache[name]

    @property
    def ward_codes(self) -> pd.DataFrame:
        return self.table("ward_codes")

    @property
    def legal_dongs(self) -> pd.DataFrame:
        return self.table("legal_dongs")

    @property
    def parcels(self) -> pd.DataFrame:
        return self.table("parcels")

    def interval_resolutions(self, meter_ids: list[str]) -> set[str]:
        """Resolutions (``15min``, ``hourly``, ``daily``) of the readings stored for ``meter_ids``."""
        found = self._store.sql("SELECT DISTINCT resolution FROM readings WHERE meter_id IN ? "
                                "AND resolution IN ('15min', 'hourly', 'daily')", [meter_ids])
        return set(found["resolution"])


@dataclass
class Converted:
    """A file converted to canonical records.

    ``records`` has one row per input record (a row of a long file, a cell of a wide one), with
    ``source_row`` and ``source_column`` and the target table's fields; ``issues`` holds the
    records that must be quarantined, by position.
    """

    target: str
    records: pd.DataFrame
    issues: Issues
    warnings: list[ModelWarning] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    """Headers for fields derived from other columns (e.g. ``unit`` from ``사용량(kWh)``)."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Input left out on purpose, not an error, by why: ``outside_city`` (rows of another 시도 in a
    national file), ``not_published`` (cells of months no row has yet), ``merged`` (rows merged
    into another record). Not records: ``rows_in`` does not count them; the ingest summary does."""


class Columns:
    """The file's columns matched to a format's fields."""

    def __init__(self, raw: RawFile, mapping: dict[str, str]):
        self.raw = raw
        self.mapping = mapping
        self._texts: dict[str, pa.Array] = {}
        self._series: dict[str, pd.Series] = {}
        self._blanks: dict[str, np.ndarray] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.mapping

    def header(self, name: str) -> str:
        """The file's header for field ``name``."""
        return self.mapping[name]

    def text(self, name: str) -> pa.Array:
        """The field's text without surrounding spaces, one entry per table row (computed once)."""
        if name not in self._texts:
            self._texts[name] = pc.utf8_trim_whitespace(self.raw.table.column(self.mapping[name]).combine_chunks())
        return self._texts[name]

    def series(self, name: str) -> pd.Series:
        """The field's text as a pandas Series (stripped; Arrow-backed, computed once)."""
        if name not in self._series:
            self._series[name] = self.text(name).to_pandas()
        return self._series[name]

    def blank(self, name: str) -> np.ndarray:
        """True where the field is empty (computed once)."""
        if name not in self._blanks:
            self._blanks[name] = pc.equal(pc.utf8_length(self.text(name)), 0).to_numpy(zero_copy_only=False)
        return self._blanks[name]

    def unit_hint(self, name: str) -> str | None:
        """A unit written in the field's header, e.g. ``kWh`` in ``사용량(kWh)``."""
        return unit_in_header(self.mapping[name]) if name in self.mapping else None

    def unit_conflicts(self, unit_field: str, value_field: str, issues: Issues,
                       positions: np.ndarray | None = None) -> None:
        """Quarantine rows whose unit column disagrees with the unit written in the value's header
        (``사용량(kWh)`` with 단위 ``MWh``) as ``unit_conflict``: either reading would silently be
        wrong by the ratio of the units (×1000 for kWh and MWh), and which is right cannot be told.

        ``positions`` maps ``issues``' records to table rows where they are not the same (the
        cells of a wide file)."""
        hint = self.unit_hint(value_field)
        if hint is None or unit_field not in self:
            return
        given = units.normalise_unit_names(self.series(unit_field))
        expected = units.normalise_unit_names(pd.Series([hint])).iloc[0]
        conflict = (given != expected).to_numpy() & ~self.blank(unit_field)
        self._add_by_row(conflict, unit_field, "unit_conflict", issues, positions, "the unit column says '",
                         f"' but the header '{excerpt(self.header(value_field), 40)}' says {hint}. Correct the "
                         "unit column or the header, whichever is wrong, and ingest the file again.")

    def unknown_category(self, name: str, unknown: np.ndarray, issues: Issues, expected: str,
                         positions: np.ndarray | None = None) -> None:
        """Quarantine a category (contract type, building type) outside the vocabulary as
        ``unknown_category`` rather than store it as ``unknown``: a misspelt class would silently
        move a site out of its peer group. ``unknown`` is a mask over table rows; ``expected``
        names the accepted words."""
        bad = np.asarray(unknown, dtype=bool) & ~self.blank(name)
        self._add_by_row(bad, name, "unknown_category", issues, positions, "'",
                         f"' is not {expected}, or leave it empty.")

    def _add_by_row(self, mask: np.ndarray, name: str, reason: str, issues: Issues,
                    positions: np.ndarray | None, before: str, after: str) -> None:
        """Add the rows of ``mask`` to ``issues`` with the message ``before`` + the field's text
        (cut to 40 characters) + ``after``, built for the flagged rows only."""
        if not mask.any():
            return
        messages = np.full(len(mask), None, dtype=object)
        messages[mask] = (before + self.series(name)[mask].str.slice(0, 40) + after).to_numpy(dtype=object)
        if positions is not None:  # records are cells taken from rows
            mask, messages = mask[positions], messages[positions]
        issues.add(mask, self.header(name), reason, messages)

    @property
    def rows(self) -> np.ndarray:
        """Row number in the file of each table row."""
        return self.raw.rows

    def _blank(self, name: str, issues: Issues, what: str) -> np.ndarray:
        blank = self.blank(name)
        issues.add(blank, self.header(name), "missing_value",
                   f"{what} is empty. Fill it in, or remove the row if it is not data.")
        return blank

    def required_text(self, name: str, issues: Issues, what: str) -> pd.Series:
        """The field's text; empty cells are quarantined as ``missing_value``."""
        self._blank(name, issues, what)
        return self.series(name)

    def _parsed(self, name: str, issues: Issues, parser, *, what: str, reason: str, expected: str) -> np.ndarray:
        """Parse a required field; empty cells are ``missing_value``, unreadable ones ``reason``."""
        values, ok = parser(self.text(name))
        bad = ~ok & ~self._blank(name, issues, what)
        issues.add(bad, self.header(name), reason, "'" + self.series(name)[bad] + f"' is not {expected}.")
        return values

    def number(self, name: str, issues: Issues, what: str) -> np.ndarray:
        """The field as numbers; empty or unreadable cells are quarantined."""
        return self._parsed(name, issues, parse.parse_number, what=what, reason="unreadable_number",
                            expected=f"a number. Write {what} in digits (1234 or 1,234.5)")

    def optional_number(self, name: str, issues: Issues, what: str) -> np.ndarray:
        """Like :meth:`number`, but an empty cell (or a missing column) gives NaN."""
        if name not in self:
            return np.full(self.raw.table.num_rows, np.nan)
        values, ok = parse.parse_number(self.text(name))
        bad = ~ok & ~self.blank(name)
        issues.add(bad, self.header(name), "unreadable_number",
                   "'" + self.series(name)[bad] + f"' is not a number. Write {what} in digits, or leave it empty.")
        return values

    def optional_count(self, name: str, issues: Issues, what: str) -> pd.arrays.IntegerArray:
        """The field as a count (customers, households) [count]; an empty cell or a missing column
        gives NA.

        A count that is not a whole number (``1.5``: an averaged or shifted column) or beyond
        ``[counts] max_count`` of config/ingest.toml is quarantined as ``invalid_count``: it cannot
        be stored as a count, and a guess would be a silent wrong result.
        """
        values = self.optional_number(name, issues, what)
        limit = configuration.load("ingest")["counts"]["max_count"]
        with np.errstate(invalid="ignore"):
            bad = ~np.isnan(values) & ((values != np.floor(values)) | ~(np.abs(values) <= limit))
        if bad.any():
            issues.add(bad, self.header(name), "invalid_count",
                       "'" + self.series(name)[bad] + f"' is not a whole number of {what} (at most {limit:,}). "
                       "Correct the count in the file (a count never has decimals) and ingest it again.")
        return pd.array(np.where(bad, np.nan, values), dtype="Float64").astype("Int64")

    def optional_flag(self, name: str, issues: Issues, what: str) -> np.ndarray:
        """The field as yes/no (:func:`energy_lib.ingest.vocab.to_flag`): an empty cell or a missing
        column is no; anything else that is not a yes or a no is quarantined as ``unreadable_flag``."""
        n = self.raw.table.num_rows
        if name not in self:
            return np.zeros(n, dtype=bool)
        flag = vocab.to_flag(self.series(name)).to_numpy(dtype=float)
        bad = np.isnan(flag) & ~self.blank(name)
        issues.add(bad, self.header(name), "unreadable_flag",
                   "'" + self.series(name)[bad] + f"' is not a yes or a no. Write {what} as 예 or 아니오 "
                   "(Y/N, O/X, 1/0), or leave it empty for no.")
        return flag == 1.0

    def month(self, name: str, issues: Issues) -> np.ndarray:
        """The field as the first day of a month (202301, 2023-01, 2023년 1월, …)."""
        return self._parsed(name, issues, parse.parse_month, what="the month", reason="unreadable_date",
                            expected=f"a month. Write it as {parse.MONTH_FORMS}")

    def date(self, name: str, issues: Issues) -> np.ndarray:
        """The field as a day (20230115, 2023-01-15, 2023. 1. 15., …)."""
        return self._parsed(name, issues, parse.parse_date, what="the date", reason="unreadable_date",
                            expected=f"a date. Write it as {parse.DATE_FORMS}")

    def timestamp(self, name: str, issues: Issues) -> np.ndarray:
        """The field as a date and time of day (2023-01-15 13:00, ISO 8601 with offset, …)."""
        return self._parsed(name, issues, parse.parse_datetime, what="the time", reason="unreadable_date",
                            expected="a date and time. Write it as 2023-01-15 13:00 or 2023-01-15T13:00:00+09:00")

    def ward(self, name: str, issues: Issues, crosswalk: pd.DataFrame, *, level: str = "dong") -> pd.Series:
        """Current ward (or gu) codes for the field's codes of any vintage; unknown codes are
        quarantined as ``unknown_ward_code``."""
        blank = self._blank(name, issues, "the ward code")
        resolved = wards.resolve_codes(self.series(name), crosswalk, level=level)
        unknown = resolved.isna().to_numpy() & ~blank
        what = "administrative dong (10 digits)" if level == "dong" else "gu (5 digits)"
        issues.add(unknown, self.header(name), "unknown_ward_code",
                   "'" + self.series(name)[unknown] + f"' is not a Gwangju {what} code of any vintage. "
                   "Correct the code (see `energy wards`), or, if it is a new official code, add it "
                   "to energy_lib/config/wards.toml and run `energy init --rebuild-reference`.")
        return resolved


@dataclass(frozen=True)
class Format:
    """An import format."""

    name: str
    title: str
    fields: tuple[Field, ...]
    convert: Callable[[Columns, Options, Reference], Converted]
    sink: object
    description: str = ""
    one_of: tuple[tuple[tuple[str, ...], ...], ...] = ()
    """Groups of alternatives: from each group, all fields of at least one alternative must be
    present (e.g. a billing month, or a start and an end date)."""

    @property
    def target(self) -> str:
        return self.sink.table

    def match(self, headers: list[str]) -> dict[str, str]:
        """Field name → header for the fields found in ``headers`` (the first header that names
        each field).

        Linear in the number of headers: the headers are normalised once per file
        (:func:`header_index`) and each field's spellings are looked up, instead of comparing
        every field with every header (which took minutes for 200,000 columns).
        """
        index = header_index(tuple(headers))
        found = {}
        for f in self.fields:
            hits = [index[s] for s in f.spellings if s in index]
            if hits:
                found[f.name] = headers[min(hits)]
        return found

    @property
    def personal_fields(self) -> frozenset[str]:
        """Names of the fields that identify a person or household."""
        return frozenset(f.name for f in self.fields if f.personal)

    def missing(self, headers: list[str]) -> list[Field]:
        """Required fields (and the first alternative of unmet groups) not in ``headers``."""
        found = self.match(headers)
        missing = [f for f in self.fields if f.required and f.name not in found]
        by_name = {f.name: f for f in self.fields}
        for group in self.one_of:
            if not any(all(n in found for n in alternative) for alternative in group):
                missing += [by_name[n] for n in group[0] if n not in found]
        return missing

    def score(self, headers: list[str]) -> tuple[int, int]:
        """(required fields found, all fields found): how well a file fits this format."""
        found = self.match(headers)
        return (sum(1 for f in self.fields if f.required and f.name in found), len(found))


@functools.lru_cache(maxsize=4)
def header_index(headers: tuple[str, ...]) -> dict[str, int]:
    """Normalised header → position of its first occurrence. Cached for the few header rows in
    use at once: detection asks every format about the same file's headers."""
    index: dict[str, int] = {}
    for position, header in enumerate(headers):
        index.setdefault(normalise_header(header), position)
    return index


def detect(raw: RawFile, formats: dict[str, Format], wanted: str | None) -> Format:
    """The format of ``raw``: ``wanted`` if given and it fits, else the one whose fields all match.

    Raises
    ------
    IngestError
        If ``wanted`` is unknown; if the file lacks a required field of ``wanted`` (naming the
        format it looks like, if any); or if no format fits.
    """
    complete = [f for f in formats.values() if not f.missing(raw.headers)]
    complete.sort(key=lambda f: f.score(raw.headers), reverse=True)
    if wanted is not None:
        if wanted not in formats:
            raise IngestError(raw.name, f"there is no import format {wanted!r}.",
                              f"Use one of: {', '.join(formats)} (see `energy formats`).")
        fmt = formats[wanted]
        missing = fmt.missing(raw.headers)
        if not missing:
            return fmt
        other = next((f for f in complete if f.name != wanted), None)
        if other is not None:
            raise IngestError(
                raw.name, f"this is not a {fmt.title} file: it has no {_names(missing)} column, "
                          f"and its columns ({_echo(raw.headers, 8)}) are those of a {other.title} file.",
                f"Ingest it with --format {other.name}, or leave --format out.", row=1)
        raise IngestError(raw.name, f"no column for {_names(missing)}: the file's columns are "
                                    f"{_echo(raw.headers, 12)}.",
                          f"A {fmt.title} file needs {_names(missing, spellings=True)}. "
                          "Rename the column in the header, or check that this is the right file.", row=1)
    if complete:
        return complete[0]
    best = max(formats.values(), key=lambda f: f.score(raw.headers))
    hint = ""
    if best.score(raw.headers)[0]:
        hint = f" Closest is {best.title}, which also needs {_names(best.missing(raw.headers), spellings=True)}."
    raise IngestError(raw.name, f"the columns ({_echo(raw.headers, 12)}) match no import format.",
                      f"See `energy formats` for the columns each format reads.{hint}", row=1)


def _echo(headers: list[str], count: int) -> str:
    """The first ``count`` headers, each cut short, for a message (a garbled header can be 50 KB)."""
    shown = ", ".join(excerpt(h, 30) for h in headers[:count])
    return shown + (f", … ({len(headers):,} columns)" if len(headers) > count else "")


def _names(fields: list[Field], spellings: bool = False) -> str:
    if not spellings:
        return " or ".join(f"'{f.name}'" for f in fields)
    return "; ".join(f"'{f.name}' (any of: {', '.join((f.name, *f.aliases)[:6])})" for f in fields)

