"""Fuzz tests on every import format (issue 15): hostile bytes and hostile-but-plausible rows.

Whatever a file holds, no exception escapes but :class:`IngestError` (a file refused as a whole,
with a message), and every record of a file that is read ends stored or quarantined:
``rows_in = rows_stored + rows_quarantined``, in the report and in the file's ``ingest_log`` line.
Derandomized, so a run is repeatable; a few seconds per format.
"""

import csv
import io
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from energy_lib.ingest.formats import Options
from energy_lib.ingest.pipeline import ensure_reference, ingest_file
from energy_lib.ingest.problems import MAX_MESSAGE, IngestError
from energy_lib.ingest.registry import FORMATS
from energy_lib.ingest.textfile import read_raw
from energy_lib.store import Store

# Arrow decodes a malformed row's text as UTF-8 before calling the row handler; for non-UTF-8
# bytes that fails inside Arrow, which reports it as an unraisable exception and stops the parse;
# the reader then decodes the file and parses it again. The outcome is what these tests check.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

FUZZ = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Cells a careless export or an attacker would write: fractions in counts, huge, negative and
# non-finite numbers, dates in several forms and out of range, codes of other cities, units of
# other carriers, quotes, brackets that never close, control characters, very long text.
CELLS = ["", " ", "0", "1", "1.5", "-3", "1,234.5", "1e15", "1e400", "-0", "NaN", "inf", "null", "None",
         "202301", "2023-01-15", "2023-02-30", "1899-12-31", "2999-01-01", "2023-01-15 13:00", "24:00",
         "2911052500", "2911099999", "29110", "29", "광주광역시", "동구", "서울특별시", "주택용", "우주용", "아파트",
         "kWh", "MWh", "m³", "Gcal", "TJ", "전기", "가스", "실측", "추정", "예", "아니오", "balcony_pv",
         '"', "'", "(((((", "\x00", "\ufeff", "\ufffd", "é", "9" * 300, "x" * 2000]


def _header(fmt) -> list[str]:
    """Every field of ``fmt`` under its first spelling (as exports name them)."""
    return [f.aliases[0] if f.aliases else f.name for f in fmt.fields]


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory) -> Store:
    store = Store(tmp_path_factory.mktemp("fuzz") / "store")
    ensure_reference(store)
    return store


_serial = itertools.count()


def _ingest_and_check(store: Store, directory, data: bytes, fmt_name: str, suffix: str = ".csv") -> None:
    path = directory / f"fuzz_{fmt_name}_{next(_serial)}{suffix}"
    path.write_bytes(data)
    report = ingest_file(store, path, Options(format=fmt_name, carrier="electricity"))
    assert len(report.message) < MAX_MESSAGE and "Traceback" not in report.message
    if report.status == "stored":
        assert report.rows_in == report.rows_stored + report.rows_quarantined
        log = store.read("ingest_log")
        line = log[log["sha256"] == read_raw(path).sha256]
        assert len(line) == 1
        assert line["rows_in"].iloc[0] == line["rows_stored"].iloc[0] + line["rows_quarantined"].iloc[0]


def _rows_csv(header: list[str], rows: list[list[str]], delimiter: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


@pytest.mark.parametrize("fmt_name", sorted(FORMATS))
@FUZZ
@given(body=st.binary(max_size=600), prefix_header=st.booleans())
def test_hostile_bytes_never_escape_as_anything_but_an_ingest_error(fmt_name, body, prefix_header, fuzz_store,
                                                                    tmp_path_factory):
    head = (",".join(_header(FORMATS[fmt_name])) + "\n").encode() if prefix_header else b""
    _ingest_and_check(fuzz_store, tmp_path_factory.getbasetemp(), head + body, fmt_name)


@pytest.mark.parametrize("fmt_name", sorted(FORMATS))
@FUZZ
@given(data=st.data())
def test_plausible_rows_are_stored_or_quarantined_never_lost(fmt_name, data, fuzz_store, tmp_path_factory):
    header = _header(FORMATS[fmt_name])
    # rows of the header's width (rows of another width are the bytes test's business), so that
    # every value reaches the conversions and checks
    rows = data.draw(st.lists(st.lists(st.sampled_from(CELLS), min_size=len(header), max_size=len(header)),
                              min_size=1, max_size=8))
    delimiter = data.draw(st.sampled_from([",", "\t", ";"]))
    _ingest_and_check(fuzz_store, tmp_path_factory.getbasetemp(), _rows_csv(header, rows, delimiter), fmt_name)


@pytest.mark.parametrize("fmt_name", sorted(FORMATS))
@FUZZ
@given(data=st.data())
def test_plausible_records_of_a_json_response_are_never_lost(fmt_name, data, fuzz_store, tmp_path_factory):
    header = _header(FORMATS[fmt_name])
    record = st.dictionaries(st.sampled_from(header), st.sampled_from(CELLS) | st.none() | st.floats(allow_nan=True),
                             min_size=len(header) - 2, max_size=len(header))
    records = data.draw(st.lists(record | st.none(), min_size=1, max_size=8))
    body = json.dumps({"response": {"items": records}}, ensure_ascii=False).encode("utf-8", errors="surrogatepass")
    _ingest_and_check(fuzz_store, tmp_path_factory.getbasetemp(), body, fmt_name, ".json")


@FUZZ
@given(body=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                         lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
                         max_leaves=30))
def test_hostile_json_documents(body, fuzz_store, tmp_path_factory):
    _ingest_and_check(fuzz_store, tmp_path_factory.getbasetemp(), json.dumps(body).encode(), "kepco", ".json")


@FUZZ
@given(body=st.binary(max_size=2000))
def test_read_raw_raises_only_ingest_errors(body, tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / f"raw_{next(_serial)}.csv"
    path.write_bytes(body)
    try:
        raw = read_raw(path)
    except IngestError as error:
        assert len(str(error)) < MAX_MESSAGE
        return
    assert raw.records == raw.table.num_rows + len(raw.malformed)
