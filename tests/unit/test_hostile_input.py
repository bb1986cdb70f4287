"""Issue 15, part 1: ingest survives hostile and careless input. Every case gets one clear
message (file, line, field, what to do; under 500 characters; no traceback), good rows are
stored, bad rows quarantined with a reason, and the work stays bounded."""

import gzip
import json
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

from energy_lib.cli import app
from energy_lib.ingest.formats import Options
from energy_lib.ingest.pipeline import ingest_files
from energy_lib.ingest.problems import MAX_MESSAGE, IngestError
from energy_lib.ingest.registry import FORMATS
from energy_lib.ingest.textfile import read_raw
from tests.conftest import bills_csv

KEPCO_HEADER = "년,월,시도,시군구,계약종별,고객호수,사용량"
runner = CliRunner()


def _conserved(report, store):
    """rows_in = stored + quarantined, in the report and in the file's one ingest_log line."""
    assert report.rows_in == report.rows_stored + report.rows_quarantined
    log = store.read("ingest_log")
    line = log[log["source_file"] == report.file]
    assert len(line) == 1
    assert line["rows_in"].iloc[0] == line["rows_stored"].iloc[0] + line["rows_quarantined"].iloc[0] == report.rows_in


def _clear(message: str, *words: str):
    assert len(message) < MAX_MESSAGE and "Traceback" not in message
    for word in words:
        assert word in message


def _kepco_row(**change) -> dict:
    row = {"year": "2023", "month": "01", "metro": "광주광역시", "city": "동구", "cntr": "주택용",
           "custCnt": "40000", "powerUseage": "12000000"}
    return {**row, **change}


# --- crashes and hangs -------------------------------------------------------------------------

def test_fractional_customer_count_in_kepco_json_is_quarantined(tmp_path, ingest, store):
    path = tmp_path / "kepco.json"
    path.write_text(json.dumps({"data": [_kepco_row(), _kepco_row(city="서구", custCnt="1.5")]}), "utf-8")
    report, rows = ingest(path)
    assert report.rows_stored == 1 and rows["reason"].tolist() == ["invalid_count"]
    assert rows.loc[0, "source_row"] == 3 and rows.loc[0, "column"] == "custCnt"
    _clear(rows.loc[0, "message"], "'1.5'", "whole number")
    _conserved(report, store)


def test_fractional_household_count_in_a_bill_csv_is_quarantined(write, ingest, store):
    path = write("b.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측,1.5", "0002,2911052500,202301,310,kWh,실측,1",
                                     "0003,2911052500,202301,310,kWh,실측,1e30"],
                                    header="고객번호,행정동코드,청구년월,사용량,단위,검침구분,세대수"))
    report, rows = ingest(path, carrier="electricity")
    assert report.rows_stored == 1 and rows["reason"].tolist() == ["invalid_count"] * 2
    assert rows["column"].tolist() == ["세대수"] * 2
    _conserved(report, store)


def test_first_line_beyond_the_csv_field_limit_is_refused_clearly(write, ingest, store):
    path = write("long.csv", "a" * 140_000 + ",사용량\n1,2\n")
    report, _ = ingest(path)
    assert report.status == "rejected"
    _clear(report.message, "long.csv", "row 1", "header")


def test_ten_megabytes_without_a_line_break_is_refused_at_once(write, ingest):
    path = write("one_line.csv", "1," * 5_000_000)
    started = time.perf_counter()
    report, _ = ingest(path)
    assert time.perf_counter() - started < 10
    assert report.status == "rejected"
    _clear(report.message, "one_line.csv", "row 1", "first line", "line breaks")


def test_too_many_columns_are_refused_and_matching_is_linear(write, ingest):
    report, _ = ingest(write("wide.csv", ",".join(f"c{i}" for i in range(20_000)) + "\n" + "1," * 19_999 + "1\n"))
    assert report.status == "rejected"
    _clear(report.message, "20,000 columns", "at most 10,000")
    headers = [f"column number {i}" for i in range(200_000)]
    started = time.perf_counter()
    for fmt in FORMATS.values():  # what detection asks of every format, on 200,000 headers
        fmt.missing(headers), fmt.score(headers)
    assert time.perf_counter() - started < 10  # was 200 s, quadratic


def test_deeply_nested_json_is_refused(tmp_path, ingest):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    report, _ = ingest(path)
    assert report.status == "rejected"
    _clear(report.message, "deep.json", "nested too deeply")


def test_one_failing_file_does_not_lose_the_files_after_it(write, store):
    from energy_lib.ingest import bills

    good = write("good.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측"]))
    bad = write("bad.csv", bills_csv(["0002,2911052500,202301,300,kWh,실측", "0003,2911052500,202301,300,kWh,실측"]))
    after = write("after.csv", bills_csv(["0004,2911052500,202301,300,kWh,실측"]))
    convert = bills.convert

    def failing(columns, options, reference, **kwargs):  # a bug that only this file reveals
        if columns.raw.table.num_rows == 2:
            raise ZeroDivisionError("division by zero")
        return convert(columns, options, reference, **kwargs)

    object.__setattr__(bills.FORMAT, "convert", failing)  # Format is frozen; restored below
    try:
        reports = ingest_files(store, [good, bad, after], Options(carrier="electricity"))
    finally:
        object.__setattr__(bills.FORMAT, "convert", convert)
    assert [r.status for r in reports] == ["stored", "rejected", "stored"]
    _clear(reports[1].message, "bad.csv", "ZeroDivisionError", "report it")
    assert store.rows("readings") == 2


def test_formats_with_an_unknown_name_lists_the_formats():
    result = runner.invoke(app, ["formats", "nosuch"])
    assert result.exit_code != 0 and result.exception is None or isinstance(result.exception, SystemExit)
    assert "nosuch" in result.output and "bills" in result.output and "kepco" in result.output
    assert "Traceback" not in result.output and "KeyError" not in result.output


# --- silent wrong results ----------------------------------------------------------------------

def test_unit_column_contradicting_the_header_unit_is_a_conflict(write, ingest, store):
    path = write("b.csv", bills_csv(["0001,2911052500,202301,300,kWh", "0002,2911052500,202301,0.3,MWh"],
                                    header="고객번호,행정동코드,청구년월,사용량(kWh),단위"))
    report, rows = ingest(path, carrier="electricity")
    assert report.rows_stored == 1 and rows["reason"].tolist() == ["unit_conflict"]
    assert rows.loc[0, "source_row"] == 3 and rows.loc[0, "column"] == "단위"
    _clear(rows.loc[0, "message"], "MWh", "kWh")
    assert store.read("readings")["value_canonical"].tolist() == [300.0]  # never ×1000
    _conserved(report, store)


def test_unknown_contract_and_building_types_are_quarantined(write, ingest, store):
    path = write("b.csv", bills_csv(["0001,2911052500,202301,300,kWh,주택용,아파트", "0002,2911052500,202301,300,kWh,우주용,",
                                     "0003,2911052500,202301,300,kWh,일반용,성채"],
                                    header="고객번호,행정동코드,청구년월,사용량,단위,계약종별,건물유형"))
    report, rows = ingest(path, carrier="electricity")
    assert report.rows_stored == 1
    assert rows.set_index("source_row")["column"].to_dict() == {3: "계약종별", 4: "건물유형"}
    assert set(rows["reason"]) == {"unknown_category"}
    _conserved(report, store)


def test_implausible_aggregate_is_quarantined(write, ingest, store):
    path = write("kepco.csv", f"{KEPCO_HEADER}\n2023,1,광주광역시,동구,주택용,40000,12000000\n"
                              "2023,1,광주광역시,서구,주택용,40000,1e15\n2023,1,광주광역시,북구,주택용,1,900000\n")
    report, rows = ingest(path)
    assert report.rows_stored == 1 and rows["reason"].tolist() == ["implausible_value"] * 2
    _clear(rows.loc[0, "message"], "[plausible]")
    _conserved(report, store)


def test_empty_and_null_records_are_counted_and_quarantined(tmp_path, write, ingest, store):
    path = write("b.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측", ",,,,,", "0002,2911052500,202301,300,kWh,실측"]) + "\n\n")
    report, rows = ingest(path, carrier="electricity")
    assert report.rows_in == 3 and rows["reason"].tolist() == ["empty_record"] and rows.loc[0, "source_row"] == 3
    _conserved(report, store)
    document = tmp_path / "kepco.json"
    all_null = dict.fromkeys(_kepco_row())
    document.write_text(json.dumps({"data": [_kepco_row(), None, {}, all_null]}), "utf-8")
    report, rows = ingest(document)
    # one null in the list costs that record, not the file
    assert report.rows_in == 4 and report.rows_stored == 1
    assert rows.set_index("source_row")["reason"].to_dict() == {3: "empty_record", 4: "empty_record", 5: "empty_record"}
    _conserved(report, store)


def test_a_cut_off_last_row_is_logged(write, ingest, store, caplog):
    path = write("b.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측"]) + "0002,2911052500,2023")
    with caplog.at_level("WARNING"):
        report, rows = ingest(path, carrier="electricity")
    assert rows["reason"].tolist() == ["malformed_row"] and "cut off" in rows.loc[0, "message"]
    log = store.read("ingest_log")
    assert "does not end with a line break" in log["message"].iloc[0] and "row 3" in log["message"].iloc[0]
    assert any("does not end with a line break" in r.getMessage() for r in caplog.records)


# --- messages ----------------------------------------------------------------------------------

def test_gzip_file_gets_the_right_advice(tmp_path, ingest):
    path = tmp_path / "bills.csv.gz"
    path.write_bytes(gzip.compress(bills_csv(["0001,2911052500,202301,300,kWh,실측"]).encode()))
    report, _ = ingest(path)
    _clear(report.message, "gzip", "gunzip -k", "bills.csv.gz")
    assert "Excel" not in report.message and "UTF-16" not in report.message


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_detected_and_the_option_honoured(write, ingest, store, encoding):
    text = bills_csv(["0001,2911052500,202301,300,kWh,실측", "0002,2911052500,202301,310,kWh,실측"])
    raw = read_raw(write("detected.csv", text, encoding))
    assert raw.encoding == encoding and raw.table.num_rows == 2
    report, _ = ingest(write("given.csv", text, encoding), carrier="electricity", encoding=encoding)
    assert report.rows_stored == 2


def test_garbled_header_is_not_echoed_whole(write, ingest):
    garbled = ",".join("Ã¬Â\u0082Â¬Ã¬\u009aÂ©Ã«\u009f\u0089" * 300 for _ in range(20))  # ~50 KB
    report, _ = ingest(write("garbled.csv", garbled + "\n1,2\n"))
    assert report.status == "rejected"
    _clear(report.message, "garbled.csv", "row 1")
    long_value = write("long_value.csv", bills_csv([f"0001,2911052500,202301,{'9' * 50_000}x,kWh,실측"]))
    report, rows = ingest(long_value, carrier="electricity")
    _clear(rows.loc[0, "message"], "not a number")
    assert len(rows.loc[0, "raw"]) < 200


def test_directory_ingest_takes_data_files_and_lists_what_it_skipped(tmp_path, write):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "b.csv").write_text(bills_csv(["0001,2911052500,202301,300,kWh,실측"]), "utf-8")
    (folder / "README.md").write_text("# notes\n", "utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    result = runner.invoke(app, ["ingest", str(folder), "--carrier", "electricity", "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert "skipped 2 file(s)" in result.output and "README.md" in result.output and ".DS_Store" in result.output
    assert "1 file(s): 1 rows stored" in result.output


def test_ingest_log_keeps_one_line_per_content(write, ingest, store):
    path = write("b.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측"]))
    first, _ = ingest(path)  # no carrier: rejected
    again, _ = ingest(path)
    assert first.status == again.status == "rejected"
    assert len(store.read("ingest_log")) == 1
    stored, _ = ingest(path, carrier="electricity")
    repeat, _ = ingest(path, carrier="electricity")
    rejected_now, _ = ingest(path)
    assert stored.status == "stored" and repeat.status == "already_ingested" and rejected_now.status == "rejected"
    log = store.read("ingest_log")
    assert len(log) == 1 and log["status"].iloc[0] == "stored"


# --- no customer number in the quarantine ------------------------------------------------------

def test_quarantine_keeps_the_pseudonym_and_a_masked_excerpt(write, ingest, store):
    path = write("b.csv", bills_csv(["0123456789,2911052500,202301,300,kWh,실측,3",
                                     "0123456789,2911052500,202301,-5,kWh,실측,3",
                                     "0987654321,2911099999,202301,300,kWh,실측,3",
                                     "5555512345,2911052500,202301"],
                                    header="고객번호,행정동코드,청구년월,사용량,단위,검침구분,세대수"))
    report, rows = ingest(path, carrier="electricity")
    assert report.rows_stored == 1
    text = rows.astype(str).to_csv()
    for number in ("0123456789", "0987654321", "5555512345"):
        assert number not in text
    by_row = rows.set_index("source_row")
    assert json.loads(by_row.loc[3, "raw"]) == {"사용량": "-5"}  # the field at fault, nothing else
    meter = store.read("readings")["meter_id"].iloc[0]
    assert by_row.loc[3, "pseudonym"] == meter  # the same customer: the operator finds its meter
    assert pd.isna(by_row.loc[5, "pseudonym"]) and "#" in by_row.loc[5, "raw"]


def test_a_customer_number_at_fault_is_masked(write, ingest):
    path = write("b.csv", bills_csv(["0123456789,2911052500,202301,300,kWh,실측", "0123456789,2911052500,202301,301,kWh,실측"]))
    _, rows = ingest(path, carrier="electricity")
    assert rows["reason"].tolist() == ["conflicting_rows"] * 2
    assert "0123456789" not in rows.astype(str).to_csv()


def test_ingest_error_is_cut_to_the_message_limit():
    error = IngestError("x" * 1000, "y" * 1000, "Do this.", row=3, column="z" * 1000)
    assert len(str(error)) < MAX_MESSAGE and str(error).endswith("Do this.")


def test_a_file_of_unsplittable_rows_is_refused_not_quarantined_row_by_row(write, ingest):
    path = write("shifted.csv", bills_csv(["1"] * 100_001))
    started = time.perf_counter()
    report, rows = ingest(path, carrier="electricity")
    assert time.perf_counter() - started < 20 and rows.empty
    _clear(report.message, "shifted.csv", "more than 100,000 rows cannot be split", "delimiter")


def test_interval_files_quarantine_unit_conflicts_and_unknown_building_types(write, ingest, store):
    path = write("lp.csv", "고객번호,일시,사용량(kWh),단위,건물유형,행정동코드\n"
                           "3300070001,2023-01-15 00:00,1.5,kWh,공공,2911052500\n"
                           "3300070001,2023-01-15 01:00,0.002,MWh,공공,2911052500\n"
                           "3300070002,2023-01-15 00:00,1.5,kWh,우주정거장,2911052500\n")
    report, rows = ingest(path, format="interval")
    assert report.rows_stored == 1
    assert rows.set_index("source_row")["reason"].to_dict() == {3: "unit_conflict", 4: "unknown_category"}
    assert "3300070002" not in rows.astype(str).to_csv()
    _conserved(report, store)


def test_a_workbook_that_unpacks_too_far_is_refused(tmp_path, ingest):
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 210_000_000)  # compresses to ~200 kB
    report, _ = ingest(path)
    assert report.status == "rejected"
    _clear(report.message, "bomb.xlsx", "unpacks to", "CSV")


def test_a_bug_on_one_file_shows_no_traceback_in_the_command(tmp_path):
    """Run as a real process: pytest's own log handlers would hide Python's last-resort handler,
    which printed the traceback under the command's message."""
    import subprocess
    import sys

    path = tmp_path / "kepco.csv"
    path.write_text(f"{KEPCO_HEADER}\n2023,1,광주광역시,동구,주택용,40000,12000000\n", "utf-8")
    script = ("import sys\nfrom energy_lib.ingest import kepco\n"
              "object.__setattr__(kepco.FORMAT, 'convert', lambda *args: 1 / 0)  # a bug\n"
              "from energy_lib.cli import app\nsys.argv = ['energy', *sys.argv[1:]]\napp()\n")
    result = subprocess.run([sys.executable, "-c", script, "ingest", str(path), "--store", str(tmp_path / "store")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "REJECTED" in result.stdout and "ZeroDivisionError" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_message_of_exactly_the_limit_is_clipped_below_it():
    """The limit holds for every length of the file's path (a temporary folder's name varies):
    a message of exactly MAX_MESSAGE characters was let through whole."""
    from energy_lib.ingest.problems import MAX_MESSAGE, IngestError

    file, action = "/tmp/fuzz_interval_wide_265.csv", "Rename the column in the header."
    for length in range(MAX_MESSAGE - 3, MAX_MESSAGE + 3):
        problem = "p" * (length - len(file) - len(": ") - len(" ") - len(action))
        message = str(IngestError(file, problem, action))
        assert len(message) < MAX_MESSAGE and message.endswith(action)
