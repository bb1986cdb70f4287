"""Issue 15 target: every hostile input of the tester's list is handled within 30 s and 2 GiB.

Each case is a file of about 10 MB (or the size the case needs) given to `energy ingest` in a
fresh store, measured as a user would see it (wall time and peak memory of the process tree,
`conftest.run_measured`). A case passes when the command ends in time and memory, without a
traceback, with the outcome expected: the file refused with one clear message, or its rows stored
or quarantined with the reason named.
"""

import gzip
import io
import json
import shutil
import zipfile

import pytest
from conftest import ENERGY

GIB = 2**30
TEN_MB = 10_000_000
BILLS = "고객번호,행정동코드,청구년월,사용량,단위,검침구분,세대수,계약종별\n"
ROW = "0123456789,2911052500,202301,300,kWh,실측,1,주택용\n"
KEPCO = {"year": "2023", "month": "01", "metro": "광주광역시", "city": "동구", "cntr": "주택용",
         "custCnt": "40000", "powerUseage": "12000000"}


def _repeat(text: str, size: int) -> str:
    return text * (size // len(text.encode()))


def _kepco_json() -> str:
    """A single-line API response of ~10 MB: records of every gu and month, a fractional
    customer count and a null among them."""
    records = [{**KEPCO, "year": str(2000 + i // 12 % 25), "month": str(i % 12 + 1), "city": f"{110 + i % 5 * 30}",
                "cntr": ["주택용", "일반용", "산업용", "교육용"][i // 300 % 4] + " " * (i // 1200)} for i in range(60_000)]
    records[5]["custCnt"] = "1.5"
    records[7] = None
    return json.dumps({"data": records}, ensure_ascii=False)


def _zip_bomb() -> bytes:
    """A workbook of 1.9 MB that unpacks to 2 GB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(200):
                sheet.write(b" " * 10_000_000)
    return out.getvalue()


# name → (file name, content as text or bytes, extra options, text expected in the output)
CASES = {
    "one_line_10mb": ("one_line.csv", "1," * (TEN_MB // 2), [], "first line is"),
    "first_line_140k_chars": ("long_header.csv", "a" * 140_000 + ",사용량\n1,2\n", [], "REJECTED"),
    "columns_200k": ("wide.csv", ",".join("x" * 200_000) + "\n" + "1," * 199_999 + "1\n", [], "200,000 columns"),
    "deep_json_10mb": ("deep.json", "[" * (TEN_MB // 2) + "]" * (TEN_MB // 2), [], "nested too deeply"),
    "kepco_json_one_line_10mb": ("kepco.json", _kepco_json(), [], "invalid_count"),
    "ten_mb_field": ("field.csv", BILLS + "0123456789,2911052500,202301," + "x" * TEN_MB + ",kWh,실측,1,주택용\n",
                     ["--carrier", "electricity"], "unreadable_number"),
    "unclosed_brackets_10mb": ("brackets.csv", BILLS + "0123456789,2911052500,202301,300,kWh,실측,1," + "(" * TEN_MB + "\n",
                               ["--carrier", "electricity"], "unknown_category"),
    "fractional_counts_10mb": ("fractions.csv", BILLS + _repeat(ROW.replace(",1,", ",1.5,"), TEN_MB),
                               ["--carrier", "electricity"], "invalid_count"),
    "utf16le_without_bom_10mb": ("utf16.csv", (BILLS + _repeat(ROW, TEN_MB // 2)).encode("utf-16-le"),
                                 ["--carrier", "electricity"], "rows stored"),
    "gzip_of_10mb": ("bills.csv.gz", gzip.compress((BILLS + _repeat(ROW, TEN_MB)).encode()), [], "gunzip -k"),
    "malformed_rows_10mb": ("malformed.csv", BILLS + "1\n" * (TEN_MB // 2), ["--carrier", "electricity"],
                            "cannot be split"),
    "empty_rows_10mb": ("empty.csv", BILLS + ",,,,,,,\n" * (TEN_MB // 8) + ROW, ["--carrier", "electricity"],
                        "empty_record"),
    "garbled_header_50kb": ("garbled.csv", ",".join(["Ã¬Â\u0082Â¬Ã¬\u009aÂ©Ã«"] * 4000) + "\n1\n", [], "garbled"),
    "xlsx_zip_bomb_2gb": ("bomb.xlsx", _zip_bomb(), [], "unpacks to"),
    "implausible_1e15_kwh": ("kepco.csv", "년,월,시도,시군구,계약종별,고객호수,사용량\n2023,1,광주광역시,동구,주택용,40000,1e15\n", [],
                             "implausible_value"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_is_bounded(benchmark, measured, tmp_path, case):
    file_name, content, options, expected = CASES[case]
    path = tmp_path / file_name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    store = tmp_path / "store"

    def run():
        shutil.rmtree(store, ignore_errors=True)
        return measured(ENERGY + ["ingest", str(path), "--store", str(store), "--show", "1", *options], check=False)

    result = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update({"case": case, "bytes": path.stat().st_size, "seconds": result.seconds,
                                 "peak_rss_mib": result.peak_rss_bytes / 2**20})
    print(f"\n{case}: {path.stat().st_size / 1e6:.1f} MB in {result.seconds:.1f} s, "
          f"peak {result.peak_rss_bytes / 2**20:,.0f} MiB")
    assert "Traceback" not in result.output, result.output[-2000:]
    assert expected in result.output, result.output[-2000:]
    assert result.seconds < 30 and result.peak_rss_bytes < 2 * GIB
