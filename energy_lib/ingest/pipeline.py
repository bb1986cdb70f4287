"""Ingesting files: read → detect format → convert → check → store or quarantine, atomically.

Every record of a file ends in a canonical table or in quarantine with a reason; the file's line
in ``ingest_log`` (one per content, by sha256) says how many went where (``rows_in = rows_stored +
rows_quarantined``). The same bytes are never ingested twice. All of a file's changes are
committed in one atomic step. In a batch, a file that fails for any reason is rejected on its own
and the files after it are ingested.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from energy_lib.core import wards
from energy_lib.core.status import ModelWarning, WarningCode
from energy_lib.ingest import registry
from energy_lib.ingest.formats import Columns, Converted, Format, Options, Reference, detect
from energy_lib.ingest.problems import MAX_MESSAGE, IngestError, Issues, excerpt
from energy_lib.ingest.textfile import RawFile, read_raw
from energy_lib.store import Store

__all__ = ["IngestOutcome", "IngestReport", "ingest_file", "ingest_files", "ensure_reference", "data_files", "DATA_SUFFIXES"]

_log = logging.getLogger(__name__)
# A library does not print: without this, Python's last-resort handler would write warnings and
# a failing file's traceback to the terminal under `energy ingest`'s own short messages. An
# application that wants them configures logging (e.g. logging.basicConfig(level="WARNING")).
_log.addHandler(logging.NullHandler())

DATA_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".dat", ".xlsx", ".xlsm", ".json"})
"""File name endings a directory ingest takes: the export formats :func:`read_raw` reads."""

_EXCERPT = 100
"""Longest excerpt of a field kept in the quarantine's ``raw`` column [characters]."""


class IngestOutcome(StrEnum):
    """What became of one file (the ``status`` of its ``ingest_log`` row)."""

    STORED = "stored"
    """Read and committed (its rows stored or quarantined)."""
    ALREADY_INGESTED = "already_ingested"
    """The same content was ingested before; nothing added."""
    REJECTED = "rejected"
    """The file cannot be read; nothing added."""


@dataclass
class IngestReport:
    """What became of one file."""

    file: str
    status: IngestOutcome
    format: str | None = None
    rows_in: int = 0
    rows_stored: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    message: str = ""
    warnings: list[ModelWarning] = field(default_factory=list)
    seconds: float = 0.0
    skipped: dict[str, int] = field(default_factory=dict)
    """Input left out on purpose (:attr:`Converted.skipped`): rows of other regions, months not published."""

    def __post_init__(self) -> None:
        self.status = IngestOutcome(self.status)

    @property
    def ok(self) -> bool:
        return self.status != IngestOutcome.REJECTED


def ensure_reference(store: Store, *, rebuild: bool = False) -> None:
    """Write the ward table, the code crosswalk and the legal-dong links if missing (or always,
    with ``rebuild``): they come from ``energy_lib/reference`` and ``config/wards.toml``."""
    if rebuild or not store.rows("wards"):
        store.commit(replace={"wards": wards.wards(), "ward_codes": wards.ward_codes(),
                              "legal_dongs": wards.legal_dongs()})


def _now_utc() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").tz_localize(None).floor("us")


@dataclass
class _Prepared:
    """A file read, converted and checked on its own, waiting to be compared with the store and
    committed."""

    name: str
    raw: RawFile
    fmt: Format
    converted: Converted
    headers: dict[str, str]
    records: pd.DataFrame
    started: float


def ingest_file(store: Store, path: str | Path, options: Options = Options(), *,
                name: str | None = None) -> IngestReport:
    """Ingest one file into ``store``.

    Parameters
    ----------
    store : Store
    path : path
        The export file.
    options : Options
        Format, carrier, unit, encoding, … (each detected when not given).
    name : str, optional
        How to call the file in messages and in ``source_file`` (default: ``path`` as given).

    Returns
    -------
    IngestReport
        Never raises for bad input: a file that cannot be read at all is ``rejected`` with a
        message naming the file, row, column and what to do (and logged in ``ingest_log``).
    """
    prepared = _prepare(store, path, options, name)
    return prepared if isinstance(prepared, IngestReport) else _commit(store, prepared)


def _prepare(store: Store, path: str | Path, options: Options, name: str | None) -> _Prepared | IngestReport:
    """Everything that does not need the store's lock: read, detect, convert, check the file."""
    started = time.perf_counter()
    name = name or str(path)
    ensure_reference(store)
    try:
        raw = read_raw(path, name=name, encoding=options.encoding)
        fmt = detect(raw, registry.FORMATS, options.format)
        columns = Columns(raw, fmt.match(raw.headers))
        if raw.table.num_rows:
            converted = fmt.convert(columns, options, Reference(store))
        else:  # a header alone, or every row malformed or empty: nothing to convert or check
            converted = Converted(fmt.target, pd.DataFrame({"source_row": np.array([], dtype=np.int64)}), Issues(0))
    except IngestError as error:
        _log_rejection(store, name, path, error, options)
        return IngestReport(name, IngestOutcome.REJECTED, options.format, message=str(error),
                            seconds=time.perf_counter() - started)
    headers = {**columns.mapping, **converted.headers}
    _flag_damaged_text(raw, converted)
    records = fmt.sink.prepare(converted, headers, options) if len(converted.records) else converted.records
    return _Prepared(name, raw, fmt, converted, headers, records, started)


def _commit(store: Store, prepared: _Prepared) -> IngestReport:
    """Under the store's lock: skip content already ingested, compare with stored rows, commit."""
    name, raw, fmt, converted = prepared.name, prepared.raw, prepared.fmt, prepared.converted
    issues = converted.issues
    ingested_at = _now_utc()
    with store.writer() as writer:
        previous = _already_ingested(store, raw.sha256)
        if previous is not None:
            return IngestReport(name, IngestOutcome.ALREADY_INGESTED, previous["adapter"], raw.records, 0, 0,
                                message=f"the same content was ingested on {previous['ingested_at']:%Y-%m-%d %H:%M} "
                                        f"UTC as {previous['source_file']}; nothing added.",
                                seconds=time.perf_counter() - prepared.started)
        stored = (fmt.sink.stage(prepared.records, issues, prepared.headers, writer, ingested_at, name)
                  if len(prepared.records) else 0)
        quarantine = _quarantine_rows(prepared, ingested_at)
        writer.append("quarantine", quarantine)
        rows_in = len(converted.records) + len(raw.malformed) + len(raw.empty_rows)
        if stored + len(quarantine) != rows_in:
            raise RuntimeError(f"{name}: {rows_in} records in, {stored} stored and {len(quarantine)} "
                               "quarantined: records were lost (a bug; nothing was committed)")
        warnings = list(converted.warnings)
        if not raw.ends_with_newline:
            last = max([int(raw.rows[-1]) if len(raw.rows) else 2, *(m.row for m in raw.malformed),
                        *raw.empty_rows[-1:].tolist()])
            warnings.append(ModelWarning(WarningCode.NO_FINAL_LINE_BREAK,
                                         f"the file does not end with a line break: check that its last row "
                                         f"(row {last}) is complete, or export the file again.", name,
                                         data={"last_row": last}))
        for warning in warnings:
            _log.warning("%s: %s", name, warning)
        reasons = {str(k): int(v) for k, v in quarantine["reason"].value_counts(sort=False).items() if v}
        summary = _summary(stored, len(quarantine), reasons) + _skipped_text(converted.skipped)
        # the warnings go to the log as well as the report: a cut-off file must be visible later
        logged = summary + "".join(f"; warning: {w}" for w in warnings)
        _write_log_line(store, writer, pd.DataFrame([{
            "source_file": name, "sha256": raw.sha256, "adapter": fmt.name, "encoding": raw.encoding,
            "rows_in": rows_in, "rows_stored": stored, "rows_quarantined": len(quarantine),
            "status": IngestOutcome.STORED.value, "message": excerpt(logged, MAX_MESSAGE - 30),
            "ingested_at": ingested_at,
        }]))
    return IngestReport(name, IngestOutcome.STORED, fmt.name, rows_in, stored, len(quarantine), reasons,
                        summary, warnings, time.perf_counter() - prepared.started, dict(converted.skipped))


def ingest_files(store: Store, jobs: Iterable[str | Path | tuple[str | Path, Options]],
                 options: Options = Options(), *, workers: int = 1,
                 progress: Callable[[IngestReport], None] | None = None) -> list[IngestReport]:
    """Ingest several files, committing them in the order given.

    Parameters
    ----------
    jobs : iterable
        Paths (ingested with ``options``) or ``(path, options)`` pairs.
    workers : int
        Processes that read and check files at the same time. Commits stay in order, one at a
        time, so the store ends the same whatever the number of workers.
    progress : callable, optional
        Called with each file's report as it is committed.
    """
    jobs = [j if isinstance(j, tuple) else (j, options) for j in jobs]
    notify = progress or (lambda report: None)
    if workers <= 1 or len(jobs) < 2:
        reports = []
        for path, job_options in jobs:
            reports.append(_guarded(store, path, job_options, lambda: ingest_file(store, path, job_options)))
            notify(reports[-1])
        return reports
    ensure_reference(store)
    context = multiprocessing.get_context("spawn")
    turn, condition = context.Value("i", 0), context.Condition()
    with context.Pool(workers, initializer=_init_worker, initargs=(turn, condition)) as pool:
        pending = [pool.apply_async(_worker, (str(store.root), i, str(path), job_options))
                   for i, (path, job_options) in enumerate(jobs)]
        reports = []
        for result in pending:
            reports.append(result.get())
            notify(reports[-1])
    return reports


_TURN = None  # (shared counter of the next file to commit, its condition), set in each worker


def _init_worker(turn, condition) -> None:
    global _TURN
    _TURN = (turn, condition)


def _worker(root: str, index: int, path: str, options: Options) -> IngestReport:
    """Prepare a file, wait until the files before it are committed, commit it, pass the turn."""
    turn, condition = _TURN
    store = Store(root)
    try:
        prepared = _guarded(store, path, options, lambda: _prepare(store, path, options, None))
        with condition:
            condition.wait_for(lambda: turn.value == index)
        if isinstance(prepared, IngestReport):
            return prepared
        return _guarded(store, path, options, lambda: _commit(store, prepared))
    finally:
        with condition:
            condition.wait_for(lambda: turn.value == index)
            turn.value = index + 1
            condition.notify_all()


def _guarded(store: Store, path: str | Path, options: Options, work: Callable[[], object]):
    """Run one file's ``work``; a failure that is not an :class:`IngestError` (a bug the file
    revealed) rejects that file with a short message instead of ending the whole batch, so the
    files after it are still ingested. The full traceback goes to the log for the maintainers."""
    started = time.perf_counter()
    try:
        return work()
    except Exception as error:  # deliberately broad: one file's bug must not lose the batch
        _log.exception("unexpected failure while ingesting %s", path)
        problem = IngestError(str(path), f"the workbook failed on this file ({type(error).__name__}: "
                                         f"{excerpt(str(error), 100)}); nothing of it was stored.",
                              "This is a bug: report it with the file. The other files were ingested.")
        _log_rejection(store, str(path), path, problem, options)
        return IngestReport(str(path), IngestOutcome.REJECTED, options.format, message=str(problem),
                            seconds=time.perf_counter() - started)


def data_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """The data files under ``directory`` (by name ending, :data:`DATA_SUFFIXES`), in name order,
    and the files skipped (hidden files such as .DS_Store, README.md, archives, …)."""
    found = sorted(p for p in directory.rglob("*") if p.is_file())
    hidden = [any(part.startswith(".") for part in p.relative_to(directory).parts) for p in found]
    taken = [p for p, h in zip(found, hidden) if not h and p.suffix.lower() in DATA_SUFFIXES]
    chosen = set(taken)
    return taken, [p for p in found if p not in chosen]


def _already_ingested(store: Store, sha256: str) -> dict | None:
    if not store.rows("ingest_log"):
        return None
    found = store.sql("SELECT source_file, adapter, ingested_at FROM ingest_log "
                      "WHERE sha256 = ? AND status = ? ORDER BY ingested_at LIMIT 1", [sha256, IngestOutcome.STORED.value])
    return None if found.empty else found.iloc[0].to_dict()


def _log_rejection(store: Store, name: str, path: str | Path, error: IngestError, options: Options) -> None:
    """Log a rejected file: one line per content (sha256), the newest rejection's message. Content
    stored before keeps its line alone (re-ingesting it adds nothing, even when it fails)."""
    try:
        digest = _sha256(Path(path))
    except OSError:
        digest = ""
    line = pd.DataFrame([{
        "source_file": name, "sha256": digest, "adapter": options.format or "unknown", "encoding": None,
        "rows_in": 0, "rows_stored": 0, "rows_quarantined": 0, "status": IngestOutcome.REJECTED.value,
        "message": str(error), "ingested_at": _now_utc(),
    }])
    with store.writer() as writer:
        if store.rows("ingest_log"):
            logged = store.sql("SELECT status FROM ingest_log WHERE sha256 = ?", [digest])
            if (logged["status"] == IngestOutcome.STORED).any():
                return
        _write_log_line(store, writer, line)


def _write_log_line(store: Store, writer, line: pd.DataFrame) -> None:
    """Log a file's outcome as the one line of its content (sha256): an earlier line of the same
    content (a rejection) is replaced, so that the log keeps one line per content."""
    digest = line["sha256"].iloc[0]
    if store.rows("ingest_log") and len(store.sql("SELECT 1 FROM ingest_log WHERE sha256 = ? LIMIT 1", [digest])):
        log = store.read("ingest_log")  # rewritten only when the content was logged before
        writer.replace("ingest_log", pd.concat([log[log["sha256"] != digest], line], ignore_index=True))
        return
    writer.append("ingest_log", line)


def _sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (memory stays bounded)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _flag_damaged_text(raw: RawFile, converted: Converted) -> None:
    """Quarantine records from rows with bytes the encoding could not decode (shown as �)."""
    if not raw.damaged:
        return
    damaged = np.zeros(raw.table.num_rows, dtype=bool)
    for column in raw.table.columns:
        damaged |= pc.fill_null(pc.match_substring(column, "\ufffd"), False).to_numpy(zero_copy_only=False)
    if not damaged.any():
        return
    bad_rows = raw.rows[damaged]
    records = converted.records
    hit = records["source_row"].isin(bad_rows).to_numpy()
    converted.issues.add(hit, None, "undecodable_text",
                         f"the row has bytes that are not valid {raw.encoding} (shown as �): it may be "
                         "corrupt or cut off. Check the row in the original file.")


def _quarantine_rows(prepared: _Prepared, ingested_at: pd.Timestamp) -> pd.DataFrame:
    """The quarantine rows of a file: where (file, row, column), why (reason, message), whose
    (the record's pseudonym, never its customer number) and a masked excerpt of the field at fault.

    Only what an operator needs to find and fix the row is kept: the excerpt holds the field at
    fault, cut to :data:`_EXCERPT` characters, and no field that identifies a person or household
    (a customer number, a register key, an address) ever appears in it in clear.
    """
    raw, converted, adapter = prepared.raw, prepared.converted, prepared.fmt.name
    summary = converted.issues.summary()
    records = converted.records
    positions = summary["position"].to_numpy()
    source_rows = records["source_row"].to_numpy()[positions] if len(positions) else np.array([], dtype=np.int64)
    row_index = pd.Series(np.arange(len(raw.rows)), index=raw.rows)
    raw_positions = row_index.reindex(source_rows).to_numpy()
    columns = summary["column"].to_numpy(dtype=object)
    if "source_column" in records:  # wide files: the cell's column unless a field was named
        cell = records["source_column"].iloc[positions].to_numpy(dtype=object)
        columns = np.where(pd.isna(columns), cell, columns)
    personal = {prepared.headers[f] for f in prepared.fmt.personal_fields if f in prepared.headers}
    frame = pd.DataFrame({
        "source_file": raw.name, "source_row": source_rows.astype(np.int64), "adapter": adapter,
        "column": columns, "reason": summary["reason"].to_numpy(), "message": summary["message"].to_numpy(),
        "pseudonym": _pseudonyms(prepared.records, positions),
        "raw": _field_excerpts(raw, raw_positions, columns, personal), "ingested_at": ingested_at,
    })
    malformed = pd.DataFrame({
        "source_file": raw.name, "source_row": [m.row for m in raw.malformed], "adapter": adapter,
        "column": None, "reason": "malformed_row",  # REASONS["malformed_row"]
        "message": [_malformed_message(raw, m, i) for i, m in enumerate(raw.malformed)],
        "pseudonym": None,
        "raw": _line_excerpts([m.text for m in raw.malformed]),
        "ingested_at": ingested_at,
    })
    n = len(raw.empty_rows)
    empty = pd.DataFrame({
        "source_file": _constant(raw.name, n), "source_row": raw.empty_rows, "adapter": _constant(adapter, n),
        "column": np.full(n, None, dtype=object), "reason": _constant("empty_record", n),
        "message": _constant("the record has every field empty: nothing to store. Remove it from the file, "
                             "or fill it in and ingest the file again.", n),
        "pseudonym": np.full(n, None, dtype=object), "raw": _constant("{}", n),
        "ingested_at": np.full(n, ingested_at.to_datetime64()),
    })
    parts = [p for p in (frame, malformed, empty) if len(p)]
    if not parts:
        return frame.iloc[0:0]
    if len(parts) == 1 and parts[0]["source_row"].is_monotonic_increasing:  # e.g. a million empty records
        return parts[0]
    return pd.concat(parts, ignore_index=True).sort_values(["source_row"], kind="stable", ignore_index=True)


def _constant(text: str, n: int) -> pd.Categorical:
    """``n`` times ``text`` as a one-category column: a few bytes per row, where an Arrow string
    column of a million copies of a message costs over 100 MB (and pandas fills it by a take per
    row: 10 s for 1.7 million rows)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[text])


def _malformed_message(raw: RawFile, m, i: int) -> str:
    cut_off = (not raw.ends_with_newline and i == len(raw.malformed) - 1
               and m.row > (raw.rows.max() if len(raw.rows) else 0))
    return f"the row {m.problem}" + ("; the file does not end with a line break, so it was probably cut off: "
                                     "export it again." if cut_off else
                                     ". Check for a stray delimiter or a missing field.")


def _pseudonyms(records: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    """The pseudonym of each quarantined record: its meter id (derived from the customer number
    by :func:`energy_lib.core.identity.pseudonyms`, as for stored rows) or its site id; None where the
    record has no customer number or site key."""
    for column in ("meter_id", "site_id"):
        if column in records:
            ids = records[column].iloc[positions].to_numpy(dtype=object)  # the few quarantined, not every row
            if "account" in records:  # no customer number, no pseudonym (a hash of nothing)
                account = records["account"].iloc[positions].to_numpy(dtype=object)
                ids = np.where(pd.Series(account, dtype=object).fillna("").astype(str).str.len().to_numpy() > 0,
                               ids, None)
            return ids
    return np.full(len(positions), None, dtype=object)


def _field_excerpts(raw: RawFile, raw_positions: np.ndarray, columns: np.ndarray, personal: set[str]) -> np.ndarray:
    """``{"column": "text"}`` of the field at fault of each quarantined record, as JSON; the text
    cut to :data:`_EXCERPT` characters, a personal field masked, ``{}`` for a record as a whole."""
    out = np.full(len(columns), "{}", dtype=object)
    known = ~pd.isna(raw_positions)
    for column in pd.unique(columns[known & ~pd.isna(columns)]):
        if column not in raw.table.column_names:
            continue
        at = np.flatnonzero(known & (columns == column))
        text = raw.table.column(column).take(pa.array(raw_positions[at].astype(np.int64))).to_pandas().fillna("")
        if column in personal:
            text = "[masked: " + text.str.len().astype(str) + " characters]"
        else:
            text = text.where(text.str.len() <= _EXCERPT, text.str.slice(0, _EXCERPT) + "…")
        out[at] = [json.dumps({column: value}, ensure_ascii=False) for value in text]
    return out


def _line_excerpts(lines: list[str]) -> list[str]:
    """A row that could not be split, as ``{"_line": …}``: cut to :data:`_EXCERPT` characters, and
    every run of 6 or more digits masked, since which field is the customer number cannot be told."""
    text = pd.Series(lines, dtype=object).astype(str).str.slice(0, _EXCERPT)
    text = text.str.replace(r"\d[\d\- ]{4,}\d", lambda m: "#" * len(m.group(0)), regex=True)
    return [json.dumps({"_line": value}, ensure_ascii=False) for value in text]


def _summary(stored: int, quarantined: int, reasons: dict[str, int]) -> str:
    text = f"{stored:,} stored, {quarantined:,} quarantined"
    if reasons:
        text += " (" + ", ".join(f"{k}: {v:,}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])) + ")"
    return text


_SKIPPED = {
    "outside_city": "{n:,} rows of other regions (시도 other than Gwangju)",
    "not_published": "{n:,} cells of months not published yet",
    "merged": "{n:,} 고객호수/전기요금 rows merged into their usage rows",
}


def _skipped_text(skipped: dict[str, int]) -> str:
    """``"; skipped: 3,120 rows of other regions (…)"``: what was left out on purpose, not an error."""
    parts = [_SKIPPED.get(k, "{n:,} " + k).format(n=v).replace(" rows ", " row " if v == 1 else " rows ")
             .replace(" cells ", " cell " if v == 1 else " cells ") for k, v in skipped.items() if v]
    return "; skipped: " + ", ".join(parts) if parts else ""
