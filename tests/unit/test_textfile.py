import json

import pandas as pd
import pytest

from energy_lib.ingest.problems import IngestError
from energy_lib.ingest.textfile import normalise_header, read_raw, unit_in_header

TEXT = "고객번호,사용량\n0001,12\n0002,13\n"


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                ("cp949", "cp949"), ("utf-16", "utf-16")])
def test_encodings_are_detected(write, encoding, expected):
    raw = read_raw(write("f.csv", TEXT, encoding))
    assert raw.encoding == expected
    assert raw.headers == ["고객번호", "사용량"]
    assert raw.table.column("사용량").to_pylist() == ["12", "13"]
    assert raw.rows.tolist() == [2, 3]


def test_tab_and_semicolon_delimiters(write):
    assert read_raw(write("t.tsv", TEXT.replace(",", "\t"))).headers == ["고객번호", "사용량"]
    assert read_raw(write("s.csv", TEXT.replace(",", ";"))).table.num_rows == 2


def test_malformed_rows_are_kept_with_their_row_numbers(write):
    raw = read_raw(write("f.csv", "a,b,c\n1,2,3\n4,5\n\n6,7,8\n9,10,11,12\n13,14,15\n"))
    assert raw.table.column("a").to_pylist() == ["1", "6", "13"]
    assert raw.rows.tolist() == [2, 5, 7]
    assert [(m.row, m.text) for m in raw.malformed] == [(3, "4,5"), (6, "9,10,11,12")]
    assert raw.empty_rows.tolist() == [4]  # the blank line inside the file is an empty record
    assert raw.blank_rows == 0 and raw.records == 6


def test_quoted_newlines_keep_row_numbers_exact(write):
    raw = read_raw(write("f.csv", 'a,b\n"x\ny",1\n2,3,4\n5,6\n'))
    assert raw.table.column("a").to_pylist() == ["x\ny", "5"]
    assert [m.row for m in raw.malformed] == [3]


def test_truncated_file_is_noticed(write):
    raw = read_raw(write("f.csv", "a,b,c\n1,2,3\n4,5"))
    assert not raw.ends_with_newline
    assert [m.row for m in raw.malformed] == [3]


def test_empty_file_is_rejected(write):
    with pytest.raises(IngestError, match="empty"):
        read_raw(write("empty.csv", "  \n"))


def test_undecodable_file_is_rejected_with_its_row(write, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n" + b"\xff\xfe\xfa,1\n" * 20)
    with pytest.raises(IngestError) as error:
        read_raw(path)
    assert "neither UTF-8 nor CP949" in str(error.value) and error.value.row == 2
    assert "CSV UTF-8" in error.value.action


def test_forced_wrong_encoding_names_the_row_and_the_right_one(write):
    path = write("f.csv", TEXT + "0003,14\n", "cp949")
    with pytest.raises(IngestError) as error:
        read_raw(path, encoding="utf-8")
    assert error.value.row == 1 and "--encoding cp949" in error.value.action


def test_binary_file_is_rejected(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a\x00b\x00c\x00")
    with pytest.raises(IngestError, match="not a text file"):
        read_raw(path)


def test_garbled_header_is_explained(write):
    garbled = "고객번호,사용량".encode("cp949").decode("latin-1") + "\n1,2\n"
    with pytest.raises(IngestError, match="garbled") as error:
        read_raw(write("g.csv", garbled))
    assert "고객번호" in str(error.value)


def test_a_few_damaged_bytes_are_replaced_and_flagged(tmp_path):
    path = tmp_path / "d.csv"
    good = "고객번호,사용량\n".encode("cp949") + b"".join(f"{i:04d},1\n".encode() for i in range(3000))
    path.write_bytes(good + b"9999,\xff\n")
    raw = read_raw(path)
    assert raw.encoding in ("cp949", "utf-8") and raw.damaged


def test_xlsx_and_json(tmp_path):
    frame = pd.DataFrame({"고객번호": ["0001", "0002"], "사용량": ["12", ""]})
    frame.to_excel(tmp_path / "f.xlsx", index=False)
    raw = read_raw(tmp_path / "f.xlsx")
    assert raw.encoding == "xlsx" and raw.headers == ["고객번호", "사용량"] and raw.rows.tolist() == [2, 3]
    document = {"response": {"header": {"code": "00"}, "body": {"items": {"item": [{"a": "1"}, {"a": "2"}]}}}}
    (tmp_path / "f.json").write_text(json.dumps(document), "utf-8")
    raw = read_raw(tmp_path / "f.json")
    assert raw.encoding == "json" and raw.table.column("a").to_pylist() == ["1", "2"]


def test_header_normalisation():
    assert normalise_header("사용량(kWh)") == "사용량"
    assert normalise_header(" Power_Usage ") == "powerusage"
    assert unit_in_header("사용량(kWh)") == "kWh" and unit_in_header("사용량") is None


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # pyarrow's, see _read_delimited
def test_cp949_file_with_a_malformed_row_is_read_not_rejected(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_bytes("고객번호,사용량\n0001,12\n가,3,4\n0002,13\n".encode("cp949"))
    raw = read_raw(path)
    assert raw.encoding == "cp949" and raw.table.num_rows == 2
    assert [(m.row, m.text) for m in raw.malformed] == [(3, "가,3,4")]
