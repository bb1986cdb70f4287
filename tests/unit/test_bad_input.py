"""Bad input gets a clear message (file, row, column, what to do) and nothing is lost."""

import pandas as pd
import pytest

from tests.conftest import bills_csv

HEADER_DATES = "고객번호,행정동코드,사용기간시작,사용기간종료,사용량,단위"


def _conserved(report, store):
    log = store.read("ingest_log")
    line = log[log["source_file"] == report.file].iloc[-1]
    assert line["rows_in"] == line["rows_stored"] + line["rows_quarantined"] == report.rows_in
    assert report.rows_in == report.rows_stored + report.rows_quarantined


def test_unknown_ward_code(write, ingest, store):
    path = write("b.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측", "0002,2911099999,202301,310,kWh,실측"]))
    report, rows = ingest(path, carrier="electricity")
    assert report.rows_stored == 1 and rows["reason"].tolist() == ["unknown_ward_code"]
    assert rows.loc[0, "source_row"] == 3 and rows.loc[0, "column"] == "행정동코드"
    assert "2911099999" in rows.loc[0, "message"] and "energy wards" in rows.loc[0, "message"]
    assert '"2911099999"' in rows.loc[0, "raw"]
    _conserved(report, store)


def test_negative_is_quarantined_and_absurd_is_flagged_not_dropped(write, ingest, store):
    path = write("b.csv", bills_csv([
        "0001,2911052500,202301,-5,kWh,실측", "0002,2911052500,202301,25000,kWh,실측",
        "0003,2911052500,202301,900000000,kWh,실측", "0004,2911052500,202301,300,kWh,실측"],
        header="고객번호,행정동코드,청구년월,사용량,단위,검침구분,계약종별").replace(",실측\n", ",실측,주택용\n"))
    report, rows = ingest(path, carrier="electricity")
    assert rows.set_index("source_row")["reason"].to_dict() == {2: "negative_value", 4: "impossible_value"}
    assert (rows["column"] == "사용량").all() and "cannot run backwards" in rows.loc[0, "message"]
    readings = store.read("readings").set_index("source_row")
    assert readings.loc[3, "outlier"] and not readings.loc[5, "outlier"]  # 25,000 kWh: kept, flagged
    _conserved(report, store)


def test_duplicates_within_a_file(write, ingest, store):
    path = write("b.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측", "0001,2911052500,202301,300,kWh,실측",
                                     "0002,2911052500,202301,100,kWh,실측", "0002,2911052500,202301,140,kWh,실측"]))
    report, rows = ingest(path, carrier="electricity")
    by_row = rows.set_index("source_row")
    assert by_row.loc[3, "reason"] == "duplicate_row" and "row 2" in by_row.loc[3, "message"]
    assert by_row.loc[[4, 5], "reason"].tolist() == ["conflicting_rows"] * 2
    assert "rows 4, 5" in by_row.loc[4, "message"]
    assert report.rows_stored == 1
    _conserved(report, store)


def test_duplicates_across_files_and_the_same_file_twice(write, ingest, store):
    first = write("jan.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측", "0002,2911052500,202301,100,kWh,실측"]))
    again = write("jan_resent.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측", "0002,2911052500,202301,120,kWh,실측",
                                               "0003,2911052500,202301,50,kWh,실측"]))
    ingest(first, carrier="electricity")
    report, rows = ingest(again, carrier="electricity")
    by_row = rows.set_index("source_row")
    assert by_row.loc[2, "reason"] == "already_stored" and "jan.csv row 2" in by_row.loc[2, "message"]
    assert by_row.loc[3, "reason"] == "conflicts_with_stored" and "stored value is kept" in by_row.loc[3, "message"]
    assert report.rows_stored == 1
    repeat, _ = ingest(first, carrier="electricity")
    assert repeat.status == "already_ingested" and repeat.rows_stored == 0
    assert store.rows("readings") == 3
    _conserved(report, store)


def test_overlapping_billing_periods(write, ingest, store):
    path = write("b.csv", bills_csv([
        "0001,2911052500,2023-01-15,2023-02-14,300,kWh", "0001,2911052500,2023-02-10,2023-03-14,280,kWh",
        "0001,2911052500,2023-02-15,2023-03-14,290,kWh"], header=HEADER_DATES))
    report, rows = ingest(path, carrier="electricity")
    assert rows["reason"].tolist() == ["overlapping_period"] and rows.loc[0, "source_row"] == 3
    assert "overlaps the period of row 2" in rows.loc[0, "message"]
    later = write("c.csv", bills_csv(["0001,2911052500,2023-03-01,2023-03-31,100,kWh"], header=HEADER_DATES))
    report, rows = ingest(later, carrier="electricity")
    assert rows["reason"].tolist() == ["overlapping_period"] and "b.csv row 4" in rows.loc[0, "message"]
    _conserved(report, store)


def test_unit_mismatch_and_unknown_unit(write, ingest, store):
    path = write("b.csv", bills_csv(["0001,2911052500,202301,300,Gcal,실측", "0002,2911052500,202301,3,furlong,실측",
                                     "0003,2911052500,202301,0.3,MWh,실측"]))
    report, rows = ingest(path, carrier="electricity")
    assert rows["reason"].tolist() == ["unit_mismatch", "unit_mismatch"] and (rows["column"] == "단위").all()
    assert "not a unit of electricity" in rows.loc[0, "message"] and "kWh" in rows.loc[0, "message"]
    assert store.read("readings")["value_canonical"].tolist() == [300.0]
    _conserved(report, store)


def test_future_dates(write, ingest, store):
    next_year = pd.Timestamp.now().year + 1
    path = write("b.csv", bills_csv([f"0001,2911052500,{next_year}01,300,kWh,실측", "0002,2911052500,202301,10,kWh,실측"]))
    report, rows = ingest(path, carrier="electricity")
    assert rows["reason"].tolist() == ["future_period"] and "cannot be in the future" in rows.loc[0, "message"]
    _conserved(report, store)


def test_unreadable_values_and_missing_fields(write, ingest, store):
    path = write("b.csv", bills_csv(["0001,2911052500,2023-13,300,kWh,실측", "0002,2911052500,202301,3OO,kWh,실측",
                                     ",2911052500,202301,300,kWh,실측", "0004,2911052500,202301,,kWh,실측"]))
    report, rows = ingest(path, carrier="electricity")
    assert rows["reason"].tolist() == ["unreadable_date", "unreadable_number", "missing_value", "missing_value"]
    assert rows["column"].tolist() == ["청구년월", "사용량", "고객번호", "사용량"]
    assert "2023년 1월" in rows.loc[0, "message"]
    _conserved(report, store)


def test_truncated_file(write, ingest, store):
    path = write("b.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측"]) + "0002,29110525")
    report, rows = ingest(path, carrier="electricity")
    assert rows["reason"].tolist() == ["malformed_row"] and rows.loc[0, "source_row"] == 3
    assert "cut off" in rows.loc[0, "message"] and report.rows_stored == 1
    _conserved(report, store)


def test_empty_file(write, ingest, store):
    report, _ = ingest(write("empty.csv", ""), carrier="electricity")
    assert report.status == "rejected" and "empty.csv" in report.message and "empty" in report.message
    assert store.read("ingest_log")["status"].tolist() == ["rejected"]


def test_wrong_encoding(tmp_path, ingest, store):
    path = tmp_path / "b.csv"
    path.write_bytes(bills_csv(["0001,2911052500,202301,300,kWh,실측"]).encode("cp949"))
    report, _ = ingest(path, carrier="electricity", encoding="utf-8")
    assert report.status == "rejected" and "row 1" in report.message and "--encoding cp949" in report.message
    assert store.rows("readings") == 0
    report, _ = ingest(path, carrier="electricity")  # detected when not forced
    assert report.status == "stored" and report.rows_stored == 1


def test_wrong_file_for_the_adapter(write, ingest):
    weather = write("w.csv", "지점,일시,평균기온(°C)\n156,2023-01-01,1.2\n")
    report, _ = ingest(weather, format="bills", carrier="electricity")
    assert report.status == "rejected" and "not a household bill export" in report.message
    assert "--format weather" in report.message and "row 1" in report.message


def test_no_format_fits(write, ingest):
    report, _ = ingest(write("x.csv", "foo,bar\n1,2\n"))
    assert report.status == "rejected" and "match no import format" in report.message


def test_missing_carrier_or_unit_is_a_clear_error(write, ingest):
    report, _ = ingest(write("b.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측"])))
    assert report.status == "rejected" and "--carrier" in report.message
    path = write("c.csv", "고객번호,행정동코드,청구년월,사용량\n0001,2911052500,202301,300\n")
    report, _ = ingest(path, carrier="electricity")
    assert report.status == "rejected" and "--unit" in report.message and "'사용량'" in report.message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "utf-16"])
def test_every_row_ends_stored_or_quarantined(write, ingest, store, encoding):
    rows = [f"{i:04d},2911052500,202301,{i},kWh,실측" for i in range(1, 40)]
    rows += ["0001,2911052500,202301,1,kWh,실측", "0005,x,202301,5,kWh,실측", "0006,2911052500,2023-13,6,kWh,실측",
             "0007,2911052500,202301,-7,kWh,추정", "bad line"]
    report, quarantine = ingest(write("b.csv", bills_csv(rows), encoding), carrier="electricity")
    assert report.rows_in == 44 and report.rows_quarantined == len(quarantine) == 5
    assert report.rows_stored == store.rows("readings") == 39
    _conserved(report, store)
