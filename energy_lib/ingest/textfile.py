"""Reading an export file into a table of text, whatever its encoding and shape.

Korean public CSV files are very often CP949 (EUC-KR); API data is UTF-8; Excel's "Unicode text"
is UTF-16. :func:`read_raw` detects the encoding, the delimiter and the header, and returns every
field as text with the file's own row numbers (the header is row 1), so that later stages can
name the row and column of any problem. Rows that cannot be split into the header's fields
(a truncated last line, a stray delimiter) are kept aside as malformed, and empty records as
empty, not dropped. Excel workbooks (.xlsx, first sheet) and JSON API responses are read too.
The work a file can cause is bounded before it starts (config/ingest.toml ``[reading]``: the
first line's length, the number of columns, a column name's length, the number of rows that
cannot be split), so that a hostile file is refused in a second, not read for minutes.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from energy_lib.core import configuration
from energy_lib.ingest.problems import IngestError, excerpt

__all__ = ["RawFile", "Malformed", "read_raw", "normalise_header"]

_DELIMITERS = (",", "\t", ";", "|")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_NON_SPACE = re.compile(rb"\S")


@dataclass
class Malformed:
    """A row that could not be split into the header's fields (or a JSON list entry that is not
    a record)."""

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
        Rows that are not in ``table`` (cut-off or split rows).
    empty_rows : numpy.ndarray
        Row numbers of empty records (every field blank, a JSON ``null`` or ``{}``): not in
        ``table``, quarantined as ``empty_record``.
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
    empty_rows: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    ends_with_newline: bool = True
    blank_rows: int = 0
    """Blank lines at the end of the file (not records: editors and Excel pad files with them)."""
    damaged: bool = False
    """True when some bytes could not be decoded and were replaced by U+FFFD."""

    @property
    def records(self) -> int:
        """Records in the file: table rows plus malformed and empty records (trailing blank
        lines not counted)."""
        return self.table.num_rows + len(self.malformed) + len(self.empty_rows)



@functools.lru_cache(maxsize=65536)
def normalise_header(name: str) -> str:
    """A header reduced for matching: NFKC, lower case, no spaces, underscores, dots or a unit in
    brackets. ``"사용량(kWh)"`` → ``"사용량"``, ``"Power_Usage"`` → ``"powerusage"``."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    # innermost brackets only: a bracket group cannot contain an opening bracket, which keeps the
    # match linear in the text (a lazy ".*?" was quadratic on a cell full of unclosed brackets)
    text = re.sub(r"[\(\[（][^\(\[（\)\]）]*[\)\]）]", "", text)
    return re.sub(r"[\s_\-./·]", "", text)


def unit_in_header(name: str) -> str | None:
    """The unit written in brackets in a header (``"사용량(kWh)"`` → ``"kWh"``), if any."""
    match = re.search(r"[\(\[（]\s*([^\(\[（\)\]）]+?)\s*[\)\]）]", unicodedata.normalize("NFKC", str(name)))
    return match.group(1) if match else None


def read_raw(path: str | Path, *, name: str | None = None, encoding: str | None = None) -> RawFile:
    """Read an export file as text.

    Parameters
    ----------
    path : path
        CSV/TSV/TXT (any of UTF-8, UTF-8 with BOM, CP949, UTF-16 with or without BOM), XLSX, or JSON.
    name : str, optional
        How to call the file in messages (default: ``path`` as given).
    encoding : str, optional
        Force a text encoding instead of detecting it.

    Raises
    ------
    IngestError
        Empty file, a compressed file, undecodable text, a binary file, no header, or a first
        line too long or too wide to be a header (limits in config/ingest.toml ``[reading]``).
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
    _refuse_compressed(data, suffix, name)
    if data[:4] == b"PK\x03\x04" or suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, name, digest)
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if encoding is None and not utf16:
        encoding = _utf16_without_bom(data[:4096])
    if encoding is None and (suffix == ".json" or data.lstrip()[:1] in (b"{", b"[")):
        return _read_json(data, name, digest)
    if encoding is None and not utf16 and b"\x00" in data[:4096]:
        raise IngestError(name, "this is not a text file (it contains NUL bytes).",
                          "If it is an Excel workbook, give it the .xlsx extension; if it is text in "
                          "another encoding, pass --encoding (e.g. utf-16-le).",
                          row=_row_of(data, data.index(b"\x00")))
    if encoding is None and not utf16:
        body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
        try:  # UTF-8 is checked by the CSV reader itself, without decoding the file in Python
            return _read_delimited(body, name, digest, "utf-8-sig" if body is not data else "utf-8")
        except _NotUtf8:
            pass
    text, used = _decode(data, name, encoding)
    return _read_delimited(text.lstrip("\ufeff").encode("utf-8"), name, digest, used,
                           damaged="\ufffd" in text)


# Magic numbers of the compressed files an export may arrive in, with the command that opens each.
_COMPRESSED = ((b"\x1f\x8b", "gzip", "gunzip -k"), (b"BZh", "bzip2", "bunzip2 -k"),
               (b"\xfd7zXZ\x00", "xz", "unxz -k"), (b"7z\xbc\xaf\x27\x1c", "7-Zip", "7z x"),
               (b"Rar!", "RAR", "unrar x"))


def _refuse_compressed(data: bytes, suffix: str, name: str) -> None:
    """A compressed file is refused with the command that decompresses it; the workbook does not
    decompress itself, so that no archive can expand beyond the bounds of a read."""
    for magic, kind, command in _COMPRESSED:
        if data.startswith(magic):
            raise IngestError(name, f"this is a {kind}-compressed file, not an export table.",
                              f"Decompress it first ({command} '{excerpt(Path(name).name, 80)}') and ingest "
                              "the CSV, XLSX or JSON file inside. Nothing was stored.")
    if suffix == ".zip":
        raise IngestError(name, "this is a ZIP archive, not an export table.",
                          "Unzip it and ingest the CSV, XLSX or JSON files inside. Nothing was stored.")


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when a text's NUL bytes sit at every other position.

    Excel's "Unicode text" and some exporters write UTF-16 without a byte-order mark. Its ASCII
    characters (digits, delimiters, Latin headers) have a NUL high byte, so a UTF-16-LE sample has
    NULs at most odd positions and none at even ones (the reverse for big-endian); a binary file
    has NULs at both, and UTF-8 or CP949 text has none.
    """
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 8:
        return None
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd >= 0.3 and nul_even == 0:
        return "utf-16-le"
    if nul_even >= 0.3 and nul_odd == 0:
        return "utf-16-be"
    return None


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


def _reading_limits() -> dict:
    """Bounds on what a header can be (config/ingest.toml ``[reading]``)."""
    return configuration.load("ingest")["reading"]


def _headers(names: list[str], name: str) -> list[str]:
    """Column names made unique, checked against the bounds of a header.

    Every later step (format detection, conversion, the Arrow table) costs time and memory per
    column, so a first line that is really a data dump (hundreds of thousands of fields) or a
    column name that is a whole document is refused here, before any of it runs.

    Raises
    ------
    IngestError
        More columns than ``max_columns``, or a column name longer than ``max_column_name``.
    """
    limits = _reading_limits()
    if len(names) > limits["max_columns"]:
        raise IngestError(name, f"the header has {len(names):,} columns; the workbook reads at most "
                                f"{limits['max_columns']:,}.",
                          "Check that the first line is the header and that the file uses one delimiter "
                          "(, tab ; |); a wider table must be split by columns.", row=1)
    long = next((i for i, h in enumerate(names) if len(h or "") > limits["max_column_name"]), None)
    if long is not None:
        raise IngestError(name, f"column {long + 1}'s name is {len(names[long]):,} characters long "
                                f"('{excerpt(names[long], 40)}'): that is data, not a header.",
                          "Check that the first line of the file is the header row.", row=1)
    return _unique(names)


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


def _line_end(body: bytes, start: int) -> int:
    """Where the line starting at ``start`` ends (-1: at the end of the data). A line ends at LF,
    CRLF, or a lone CR (old Mac exports), as for the CSV parser."""
    lf, cr = body.find(b"\n", start), body.find(b"\r", start)
    if cr >= 0 and (lf < 0 or cr < lf - 1):
        return cr
    return lf


def _read_delimited(body: bytes, name: str, digest: str, encoding: str, *, damaged: bool = False) -> RawFile:
    """Parse delimited UTF-8 bytes. A fast multi-threaded pass first; where some row cannot be
    split, an exact single-threaded pass that knows every row's number."""
    start, leading_blank = 0, 0
    while True:  # skip blank lines before the header, without splitting (copying) a large file
        end = _line_end(body, start)
        line = body[start:] if end < 0 else body[start:end]
        if line.strip() or end < 0:
            break
        start, leading_blank = end + 1, leading_blank + 1
    limit = _reading_limits()["max_header_bytes"]
    if len(line) > limit:  # checked before decoding or splitting it: the work stays bounded
        raise IngestError(name, f"the first line is {len(line):,} bytes long, more than a header can be "
                                f"({limit:,}).",
                          "Check that this is a CSV export with a header row and one record per line "
                          "(a file whose line breaks were lost cannot be read).", row=leading_blank + 1)
    try:
        first_line = line.rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        raise _NotUtf8 from None
    delimiter = max(_DELIMITERS, key=first_line.count)
    try:
        names = next(csv.reader([first_line], delimiter=delimiter))
    except csv.Error as error:  # e.g. a field longer than csv.field_size_limit() (131,072 characters)
        raise IngestError(name, f"the header row cannot be split into column names ({error}).",
                          "Check that the first line of the file is the header row.", row=leading_blank + 1) from None
    headers = _headers(names, name)
    _check_header_is_text(headers, name)
    header_end = _line_end(body, start)
    if header_end < 0 or not _NON_SPACE.search(body, header_end + 1):
        empty = pa.table({h: pa.array([], pa.string()) for h in headers})
        return RawFile(name, digest, encoding, headers, empty, np.array([], dtype=np.int64),
                       ends_with_newline=body.endswith((b"\n", b"\r")), damaged=damaged)
    content = pa.py_buffer(memoryview(body)[start:])  # no copy of a large file
    try:
        table, malformed = _parse(content, headers, delimiter, exact=False)
        if malformed:
            table, malformed = _parse(content, headers, delimiter, exact=True)
    except _TooManyMalformed:  # quarantining millions of rows one by one would take minutes
        limit = _reading_limits()["max_malformed_rows"]
        raise IngestError(name, f"more than {limit:,} rows cannot be split into the header's "
                                f"{len(headers):,} fields: this is not a table of that header.",
                          "Check the delimiter and that the first line is this file's header; export "
                          "the file again. Nothing was stored.", row=leading_blank + 1) from None
    except pa.ArrowInvalid as error:
        # Arrow decodes a malformed row's text as UTF-8 before it calls the handler; in a CP949
        # file that fails and the parse stops with a generic error: decode the file and retry
        if "UTF8" in str(error) or "utf8" in str(error).lower() or not _decodes(body, "utf-8"):
            raise _NotUtf8 from None
        raise IngestError(name, f"the file cannot be parsed as delimited text ({excerpt(str(error), 120)}).",
                          "Check that it is a CSV export; save it again from the program that made it.") from None
    for m in malformed:
        m.row += leading_blank
    rows = np.arange(2, table.num_rows + 2, dtype=np.int64) + leading_blank
    if malformed:
        bad = np.array(sorted(m.row for m in malformed), dtype=np.int64) - leading_blank
        total = table.num_rows + len(bad)
        rows = np.setdiff1d(np.arange(2, total + 2, dtype=np.int64), bad, assume_unique=True) + leading_blank
    last = max((m.row for m in malformed), default=0)
    table, rows, empty, padding = _set_aside_empty(table, rows, padding_after=last)
    return RawFile(name, digest, encoding, headers, table, rows, malformed, empty,
                   ends_with_newline=body.endswith((b"\n", b"\r")), blank_rows=padding, damaged=damaged)


def _set_aside_empty(table: pa.Table, rows: np.ndarray, *, padding_after: int | None
                     ) -> tuple[pa.Table, np.ndarray, np.ndarray, int]:
    """Take the empty records (every field blank) out of ``table``, so that they are counted and
    quarantined as ``empty_record``, not lost.

    With ``padding_after`` (a row number, for CSV and Excel), blank rows after the last row with
    any content and after that row are the padding editors and Excel leave at the end of a
    file: they are counted as padding, not records.

    Returns
    -------
    table, rows, empty_rows, padding
        The table and its row numbers without the empty rows, the row numbers of the empty
        records, and the number of padding rows.
    """
    blank = _blank_rows(table)
    if not blank.any():
        return table, rows, np.array([], dtype=np.int64), 0
    padding = np.zeros_like(blank)
    if padding_after is not None:
        last = max(int(rows[~blank].max()) if (~blank).any() else 0, padding_after)
        padding = blank & (rows > last)
    return (table.filter(pa.array(~blank)), rows[~blank], rows[blank & ~padding].astype(np.int64),
            int(padding.sum()))


class _TooManyMalformed(Exception):
    """More rows cannot be split than ``[reading] max_malformed_rows``."""


def _parse(content: pa.Buffer, headers: list[str], delimiter: str, *, exact: bool) -> tuple[pa.Table, list[Malformed]]:
    malformed: list[Malformed] = []
    limit = _reading_limits()["max_malformed_rows"]

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if len(malformed) >= limit:  # stop the parser: "error" makes it raise at once
            return "error"
        problem = (f"has {row.actual_columns} fields, the header has {row.expected_columns}"
                   if row.actual_columns != row.expected_columns else "cannot be split into fields")
        malformed.append(Malformed(int(row.number or 0), row.text, problem))
        return "skip"

    try:
        table = _read_csv(content, headers, delimiter, exact, on_invalid)
    except pa.ArrowInvalid:
        if len(malformed) >= limit:
            raise _TooManyMalformed from None
        raise
    return table, malformed


def _read_csv(content: pa.Buffer, headers: list[str], delimiter: str, exact: bool, on_invalid) -> pa.Table:
    """Arrow's CSV reader with every field as text."""
    return pacsv.read_csv(
        pa.BufferReader(content),
        read_options=pacsv.ReadOptions(use_threads=not exact, column_names=headers, skip_rows=1,
                                       block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=exact,
                                         ignore_empty_lines=False, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in headers},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )


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


def _from_frame(frame: pd.DataFrame, name: str, digest: str, encoding: str, rows: np.ndarray,
                malformed: list[Malformed] | None = None, empty_rows: np.ndarray | None = None) -> RawFile:
    """A table read by pandas (Excel, JSON) as text, with the file's row number of each record
    (and, for JSON, the list entries that are not records: malformed, or null)."""
    headers = _headers([str(c) for c in frame.columns], name)
    frame = frame.astype(object).where(frame.notna(), "").astype(str)
    table = pa.Table.from_arrays([pa.array(frame[c].to_numpy(dtype=object), type=pa.string()) for c in frame.columns],
                                 names=headers)
    table, rows, empty, padding = _set_aside_empty(table, rows, padding_after=0 if encoding == "xlsx" else None)
    if empty_rows is not None and len(empty_rows):
        empty = np.sort(np.concatenate([empty, empty_rows]))
    return RawFile(name, digest, encoding, headers, table, rows, malformed or [], empty, blank_rows=padding)


def _read_xlsx(path: Path, name: str, digest: str) -> RawFile:
    """Read a workbook's first sheet with calamine (Rust; about 7× faster than openpyxl: 1.6
    million cells in 8 s instead of 55 s), after checking from the ZIP directory that it does not
    unpack beyond ``[reading] max_workbook_bytes`` (a ZIP bomb)."""
    limit = _reading_limits()["max_workbook_bytes"]
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, OSError) as error:
        raise IngestError(name, f"the Excel workbook cannot be opened ({excerpt(str(error), 80)}).",
                          "Open it in Excel and save it again as .xlsx, or export it as CSV.") from None
    if unpacked > limit:
        raise IngestError(name, f"the workbook unpacks to {unpacked:,} bytes, more than the workbook reads "
                                f"({limit:,}).",
                          "Export the sheet as CSV (UTF-8) and ingest the CSV, or split the workbook.")
    try:
        frame = pd.read_excel(path, sheet_name=0, dtype=str, header=0, engine="calamine")
    except Exception as error:  # calamine raises many types for a damaged workbook
        raise IngestError(name, f"the Excel workbook cannot be read ({type(error).__name__}: "
                                f"{excerpt(str(error), 120)}).",
                          "Open it in Excel and save it again, or export it as CSV; if it is a ZIP "
                          "archive, unzip it and ingest the files inside.") from None
    if frame.empty and not len(frame.columns):
        raise IngestError(name, "the first sheet of the workbook is empty.",
                          "Put the data on the first sheet with a header row.")
    return _from_frame(frame, name, digest, "xlsx", np.arange(2, len(frame) + 2, dtype=np.int64))


def _read_json(data: bytes, name: str, digest: str) -> RawFile:
    """Read the list of records of a JSON API response; the first record of the list is row 2 (as if
    its keys were a header row). Entries of the list that are not objects (``null``, a number)
    are set aside as empty or malformed records, not a reason to refuse the file."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
        records, positions, others = _largest_record_list(document)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        row = getattr(error, "lineno", None)
        raise IngestError(name, f"the JSON cannot be read ({excerpt(str(error), 120)}).",
                          "Save the API response as it came (UTF-8); a cut-off download is not valid JSON.",
                          row=row) from None
    except RecursionError:  # Python's JSON parser recurses once per level of nesting
        raise IngestError(name, "the JSON is nested too deeply to be read (about 1,000 levels or more).",
                          "Give the API response that lists the data as it came; a list of records is "
                          "never nested this deep.") from None
    if records is None:
        raise IngestError(name, "the JSON holds no list of records.",
                          "Give the API response that lists the data (e.g. {\"data\": [{...}, ...]}).")
    frame = pd.DataFrame.from_records(records)
    if len(frame.columns) == 0:
        frame = pd.DataFrame(index=range(len(records)), columns=["record"])
    nested = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, (dict, list))).any()]
    for column in nested:  # nested values as JSON text, not Python reprs
        frame[column] = frame[column].map(lambda v: json.dumps(v, ensure_ascii=False)[:1000]
                                          if isinstance(v, (dict, list)) else v)
    nulls = np.array([k + 2 for k, v in others if v is None], dtype=np.int64)
    malformed = [Malformed(k + 2, excerpt(json.dumps(v, ensure_ascii=False), 200),
                           "is not a JSON object (a record with field names)") for k, v in others if v is not None]
    return _from_frame(frame, name, digest, "json", positions + 2, malformed, nulls)


def _largest_record_list(node: object) -> tuple[list[dict] | None, np.ndarray, list[tuple[int, object]]]:
    """The longest list of objects anywhere in a JSON document (API envelopes vary).

    A list counts when at least half its entries are objects; its other entries (``null``, a
    stray number) are returned apart with their positions, so that one bad entry costs one record.

    Returns
    -------
    records, positions, others
        The objects, their positions in the list, and (position, value) of the other entries.
    """
    best: list | None = None
    best_count = 0
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            count = sum(1 for x in current if isinstance(x, dict))
            if count and 2 * count >= len(current) and count > best_count:
                best, best_count = current, count
            stack.extend(x for x in current if isinstance(x, (dict, list)))
        elif isinstance(current, dict):
            stack.extend(v for v in current.values() if isinstance(v, (dict, list)))
    if best is None:
        return None, np.array([], dtype=np.int64), []
    is_record = np.array([isinstance(x, dict) for x in best], dtype=bool)
    positions = np.flatnonzero(is_record).astype(np.int64)
    return ([best[i] for i in positions], positions,
            [(int(i), best[i]) for i in np.flatnonzero(~is_record)])
