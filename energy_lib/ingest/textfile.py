"""Reading an export file into a table of text, whatever its encoding and shape.

Korean public CSV files are very often CP949 (EUC-KR); API data is UTF-8; Excel's "Unicode text"
is UTF-16. :func:`read_raw` detects the encoding, the delimiter and the header, and returns every
field as text with the file's own row numbers (the header is row 1), so that later stages can
name the row and column of any problem. Rows that cannot be split into the header's fields
(a truncated last line, a stray delimiter) are kept aside as malformed, not dropped.
Excel workbooks (.xlsx, first sheet) and JSON API responses are read too.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from energy_lib.ingest.problems import IngestError

__all__ = ["RawFile", "Malformed", "read_raw", "normalise_header"]

_DELIMITERS = (",", "\t", ";", "|")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_NON_SPACE = re.compile(rb"\S")


@dataclass
class Malformed:
    """A row that could not be split into the header's fields."""

    row: int
    text: str
    problem: str


@dataclass
class RawFile:
    """A file read as text.

    Attributes
    ----------
    name : str
        The file as the user named it (used in every message).
    sha256 : str
        Hash of the bytes; the same content is never ingested twice.
    encoding : str
        ``utf-8``, ``utf-8-sig``, ``cp949``, ``utf-16``, ``xlsx`` or ``json``.
    headers : list of str
        Column names as in the file (made unique).
    table : pyarrow.Table
        One string column per header; blank rows removed.
    rows : numpy.ndarray
        Row number in the file of each table row (header = 1).
    malformed : list of Malformed
        Rows that are not in ``table``.
    ends_with_newline : bool
        False for a CSV whose last line has no line break: the file may have been cut off.
    """

    name: str
    sha256: str
    encoding: str
    headers: list[str]
    table: pa.Table
    rows: np.ndarray
    malformed: list[Malformed] = field(default_factory=list)
    ends_with_newline: bool = True
    blank_rows: int = 0
    damaged: bool = False
    """True when some bytes could not be decoded and were replaced by U+FFFD."""

    @property
    def records(self) -> int:
        """Data rows in the file: table rows plus malformed rows (blank lines not counted)."""
        return self.table.num_rows + len(self.malformed)

    def row_values(self, positions: np.ndarray) -> list[list[str | None]]:
        """The text of table rows at ``positions``."""
        taken = self.table.take(pa.array(positions, type=pa.int64()))
        columns = [taken.column(i).to_pylist() for i in range(taken.num_columns)]
        return [list(values) for values in zip(*columns)] if columns else [[] for _ in positions]


@functools.lru_cache(maxsize=65536)
def normalise_header(name: str) -> str:
    """A header reduced for matching: NFKC, lower case, no spaces, underscores, dots or a unit in
    brackets. ``"사용량(kWh)"`` → ``"사용량"``, ``"Power_Usage"`` → ``"powerusage"``."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    text = re.sub(r"[\(\[（].*?[\)\]）]", "", text)
    return re.sub(r"[\s_\-./·]", "", text)


def unit_in_header(name: str) -> str | None:
    """The unit written in brackets in a header (``"사용량(kWh)"`` → ``"kWh"``), if any."""
    match = re.search(r"[\(\[（]\s*([^\)\]）]+?)\s*[\)\]）]", unicodedata.normalize("NFKC", str(name)))
    return match.group(1) if match else None


def read_raw(path: str | Path, *, name: str | None = None, encoding: str | None = None) -> RawFile:
    """Read an export file as text.

    Parameters
    ----------
    path : path
        CSV/TSV/TXT (any of UTF-8, UTF-8 with BOM, CP949, UTF-16 with BOM), XLSX, or JSON.
    name : str, optional
        How to call the file in messages (default: ``path`` as given).
    encoding : str, optional
        Force a text encoding instead of detecting it.

    Raises
    ------
    IngestError
        Empty file, undecodable text, a binary file, or no header.
    """
    path = Path(path)
    name = name or str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise IngestError(name, f"the file cannot be read ({error.strerror}).",
                          "Check the path and the file's permissions.") from None
    digest = hashlib.sha256(data).hexdigest()
    if not data or data.isspace():
        raise IngestError(name, "the file is empty (no header and no rows).",
                          "Export it again from the utility's system; nothing was stored.")
    suffix = path.suffix.lower()
    if data[:4] == b"PK\x03\x04" or suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, name, digest)
    if suffix == ".json" or data.lstrip()[:1] in (b"{", b"["):
        return _read_json(data, name, digest)
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not utf16 and b"\x00" in data[:4096]:
        raise IngestError(name, "this is not a text file (it contains NUL bytes).",
                          "If it is an Excel workbook, give it the .xlsx extension; if it is UTF-16 text "
                          "without a byte-order mark, save it as UTF-8 CSV.", row=_row_of(data, data.index(b"\x00")))
    if encoding is None and not utf16:
        body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
        try:  # UTF-8 is checked by the CSV reader itself, without decoding the file in Python
            return _read_delimited(body, name, digest, "utf-8-sig" if body is not data else "utf-8")
        except _NotUtf8:
            pass
    text, used = _decode(data, name, encoding)
    return _read_delimited(text.lstrip("\ufeff").encode("utf-8"), name, digest, used,
                           damaged="\ufffd" in text)


class _NotUtf8(Exception):
    """The bytes are not valid UTF-8: decode them another way."""


def _decode(data: bytes, name: str, encoding: str | None) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", name), "utf-16"
    if encoding:
        return _strict(data, encoding, name), encoding
    if data.startswith(codecs.BOM_UTF8):
        return _lenient(data, "utf-8-sig", name), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp949"), "cp949"
    except UnicodeDecodeError:
        pass
    # Neither decodes cleanly: a few damaged bytes (a cut-off last character, a corrupt row) are
    # replaced and those rows quarantined later; a file that is mostly undecodable is rejected.
    candidates = {enc: data.decode(enc, errors="replace") for enc in ("utf-8", "cp949")}
    best = min(candidates, key=lambda enc: candidates[enc].count("\ufffd"))
    text = candidates[best]
    damaged_lines = sum(1 for line in text.splitlines() if "\ufffd" in line)
    if damaged_lines > max(1, len(text.splitlines()) // 1000):
        error_at = _first_error(data, best)
        raise IngestError(
            name, f"the text is neither UTF-8 nor CP949 (EUC-KR): {damaged_lines} rows have bytes "
                  f"that are not valid in either.",
            "Open it in the program that made it and save it as 'CSV UTF-8', or pass --encoding "
            "with its real encoding. Nothing was stored.", row=_row_of(data, error_at))
    return text, best


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError:
        raise IngestError(name, f"unknown encoding {encoding!r}.",
                          "Use utf-8, utf-8-sig, cp949 or utf-16, or leave --encoding out to detect it.") from None
    except UnicodeDecodeError as error:
        guess = next((e for e in ("utf-8", "cp949") if e != encoding and _decodes(data, e)), None)
        hint = f"It reads as {guess}: pass --encoding {guess}, or leave --encoding out." if guess else \
            "Save it again as 'CSV UTF-8'."
        raise IngestError(name, f"byte {data[error.start:error.start + 1]!r} is not valid {encoding}.",
                          hint, row=_row_of(data, error.start)) from None


def _lenient(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode(encoding, errors="replace")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def _first_error(data: bytes, encoding: str) -> int:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        return error.start
    return 0


def _row_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, header in enumerate(headers):
        header = unicodedata.normalize("NFC", (header or "").strip().lstrip("\ufeff")) or f"column {i + 1}"
        if header in seen:
            seen[header] += 1
            header = f"{header} ({seen[header]})"
        else:
            seen[header] = 1
        out.append(header)
    return out


def _read_delimited(body: bytes, name: str, digest: str, encoding: str, *, damaged: bool = False) -> RawFile:
    """Parse delimited UTF-8 bytes. A fast multi-threaded pass first; where some row cannot be
    split, an exact single-threaded pass that knows every row's number."""
    start, leading_blank = 0, 0
    while True:  # skip blank lines before the header, without splitting (copying) a large file
        end = body.find(b"\n", start)
        line = body[start:] if end < 0 else body[start:end]
        if line.strip() or end < 0:
            break
        start, leading_blank = end + 1, leading_blank + 1
    try:
        first_line = line.rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        raise _NotUtf8 from None
    delimiter = max(_DELIMITERS, key=first_line.count)
    headers = _unique(next(csv.reader([first_line], delimiter=delimiter)))
    _check_header_is_text(headers, name)
    header_end = body.find(b"\n", start)
    if header_end < 0 or not _NON_SPACE.search(body, header_end + 1):
        empty = pa.table({h: pa.array([], pa.string()) for h in headers})
        return RawFile(name, digest, encoding, headers, empty, np.array([], dtype=np.int64),
                       ends_with_newline=body.endswith((b"\n", b"\r")), damaged=damaged)
    content = pa.py_buffer(memoryview(body)[start:])  # no copy of a large file
    try:
        table, malformed = _parse(content, headers, delimiter, exact=False)
        if malformed:
            table, malformed = _parse(content, headers, delimiter, exact=True)
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error) or "utf8" in str(error).lower():
            raise _NotUtf8 from None
        raise IngestError(name, f"the file cannot be parsed as delimited text ({error}).",
                          "Check that it is a CSV export; save it again from the program that made it.") from None
    for m in malformed:
        m.row += leading_blank
    rows = np.arange(2, table.num_rows + 2, dtype=np.int64) + leading_blank
    if malformed:
        bad = np.array(sorted(m.row for m in malformed), dtype=np.int64) - leading_blank
        total = table.num_rows + len(bad)
        rows = np.setdiff1d(np.arange(2, total + 2, dtype=np.int64), bad, assume_unique=True) + leading_blank
    blank = _blank_rows(table)
    if blank.any():
        table, rows = table.filter(pa.array(~blank)), rows[~blank]
    return RawFile(name, digest, encoding, headers, table, rows, malformed,
                   ends_with_newline=body.endswith((b"\n", b"\r")), blank_rows=int(blank.sum()),
                   damaged=damaged)


def _parse(content: pa.Buffer, headers: list[str], delimiter: str, *, exact: bool) -> tuple[pa.Table, list[Malformed]]:
    malformed: list[Malformed] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        problem = (f"has {row.actual_columns} fields, the header has {row.expected_columns}"
                   if row.actual_columns != row.expected_columns else "cannot be split into fields")
        malformed.append(Malformed(int(row.number or 0), row.text, problem))
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(content),
        read_options=pacsv.ReadOptions(use_threads=not exact, column_names=headers, skip_rows=1,
                                       block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=exact,
                                         ignore_empty_lines=False, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in headers},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    return table, malformed


def _blank_rows(table: pa.Table) -> np.ndarray:
    """Rows whose every field is empty (blank lines), checked column by column on the candidates."""
    candidates = np.arange(table.num_rows)
    for column in table.columns:
        values = column.take(pa.array(candidates)) if len(candidates) < table.num_rows else column
        empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0).to_numpy(zero_copy_only=False)
        candidates = candidates[empty]
        if not len(candidates):
            break
    blank = np.zeros(table.num_rows, dtype=bool)
    blank[candidates] = True
    return blank


def _check_header_is_text(headers: list[str], name: str) -> None:
    """Reject a header that is garbled (CP949 read as Latin-1 and saved again as UTF-8)."""
    joined = "".join(headers)
    latin = sum(1 for ch in joined if "\u00a0" <= ch <= "\u00ff")
    if latin >= 3 and not _HANGUL.search(joined):
        try:
            repaired = joined.encode("latin-1").decode("cp949")
            hint = f" (it reads as '{repaired[:30]}' when decoded as CP949)"
        except (UnicodeEncodeError, UnicodeDecodeError):
            hint = ""
        raise IngestError(name, f"the header is garbled text ('{joined[:30]}'){hint}: the file was "
                                "converted with the wrong encoding somewhere on the way.",
                          "Export it again from the utility's system and ingest the original file.", row=1)


def _from_frame(frame: pd.DataFrame, name: str, digest: str, encoding: str, first_row: int) -> RawFile:
    headers = _unique([str(c) for c in frame.columns])
    frame = frame.astype(object).where(frame.notna(), "").astype(str)
    table = pa.Table.from_arrays([pa.array(frame[c].to_numpy(dtype=object), type=pa.string()) for c in frame.columns],
                                 names=headers)
    rows = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)
    blank = _blank_rows(table)
    if blank.any():
        table, rows = table.filter(pa.array(~blank)), rows[~blank]
    return RawFile(name, digest, encoding, headers, table, rows, blank_rows=int(blank.sum()))


def _read_xlsx(path: Path, name: str, digest: str) -> RawFile:
    try:
        frame = pd.read_excel(path, sheet_name=0, dtype=str, header=0)
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        raise IngestError(name, f"the Excel workbook cannot be read ({type(error).__name__}: {error}).",
                          "Open it in Excel and save it again, or export it as CSV.") from None
    if frame.empty and not len(frame.columns):
        raise IngestError(name, "the first sheet of the workbook is empty.",
                          "Put the data on the first sheet with a header row.")
    return _from_frame(frame, name, digest, "xlsx", first_row=2)


def _read_json(data: bytes, name: str, digest: str) -> RawFile:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        row = getattr(error, "lineno", None)
        raise IngestError(name, f"the JSON cannot be read ({error}).",
                          "Save the API response as it came (UTF-8); a cut-off download is not valid JSON.",
                          row=row) from None
    records = _largest_record_list(document)
    if records is None:
        raise IngestError(name, "the JSON holds no list of records.",
                          "Give the API response that lists the data (e.g. {\"data\": [{...}, ...]}).")
    frame = pd.DataFrame.from_records(records)
    # Record k of the list is reported as row k + 1, as if the keys were a header row.
    return _from_frame(frame, name, digest, "json", first_row=2)


def _largest_record_list(node: object) -> list[dict] | None:
    """The longest list of objects anywhere in a JSON document (API envelopes vary)."""
    best: list[dict] | None = None
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            if current and all(isinstance(x, dict) for x in current) and (best is None or len(current) > len(best)):
                best = current
            stack.extend(x for x in current if isinstance(x, (dict, list)))
        elif isinstance(current, dict):
            stack.extend(v for v in current.values() if isinstance(v, (dict, list)))
    return best
