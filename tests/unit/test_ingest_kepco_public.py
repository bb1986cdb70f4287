"""KEPCO's public file of usage by 시도 × 시군구 × 계약종별, one column per month (format ``kepco_public``).

Fixtures in tests/fixtures/kepco_public (written by its make_fixtures.py): the 2024 national file
whose Gwangju rows sum to the published annual figures, a file with 고객호수/전기요금 blocks, and
one with a 구분 column.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from energy_lib.ingest.kepco_public import month_columns

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kepco_public"
REFERENCE = Path(__file__).resolve().parents[2] / "energy_lib" / "core" / "reference" / "kepco_electricity_2024.csv"
CATEGORY = {"주택용": "residential", "일반용": "general", "교육용": "education", "산업용": "industrial",
            "농사용": "agricultural", "가로등": "streetlight", "심야": "night"}


def _file_values(path: Path) -> pd.DataFrame:
    """The fixture's Gwangju cells read independently of the workbook (pandas, by hand): one row
    per gu × contract type × month [kWh]."""
    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    table.columns = [c.strip() for c in table.columns]
    table = table[table["시도"].str.strip() == "광주광역시"]
    long = table.melt(id_vars=["연도", "시도", "시군구", "계약종별"], var_name="month", value_name="text")
    long["kwh"] = long["text"].str.strip().replace("-", "0").str.replace(",", "").astype(float)
    long["category"] = long["계약종별"].str.replace(" ", "").map(CATEGORY)
    long["month"] = long["month"].str.replace("월", "").astype(int)
    return long


@pytest.fixture
def national(ingest, tmp_path):
    path = tmp_path / "national_2024.csv"
    shutil.copy(FIXTURES / "national_2024.csv", path)
    return path, *ingest(path)


def test_national_file_stores_exactly_gwangjus_35_series(national, store):
    path, report, quarantine = national
    assert report.format == "kepco_public"  # detected without --format
    assert (report.rows_stored, report.rows_quarantined) == (35 * 12, 0) and quarantine.empty
    assert report.skipped == {"outside_city": 20}  # 서울 종로구, 부산 동구 (7 each), 전남 동구 and 순천시 (3 each)
    assert "skipped: 20 rows of other regions" in report.message
    stored = store.read("utility_aggregates")
    series = stored.groupby(["region_code", "category"]).size()
    assert len(series) == 35 and (series == 12).all()
    assert set(stored["region_code"]) == {"29110", "29140", "29155", "29170", "29200"}
    assert set(stored["category"]) == set(CATEGORY.values()) and (stored["provider"] == "kepco").all()


def test_every_monthly_value_equals_the_files(national, store):
    path, _, _ = national
    expected = _file_values(path)
    names = store.read("wards").drop_duplicates("gu_code").set_index("gu_name_ko")["gu_code"]
    expected["region_code"] = expected["시군구"].str.strip().map(names)
    stored = store.read("utility_aggregates").assign(month=lambda t: t["period_start"].dt.month)
    both = expected.merge(stored, on=["region_code", "category", "month"], how="outer", indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == 420
    np.testing.assert_array_equal(both["value_canonical"].to_numpy(), both["kwh"].to_numpy())
    assert (stored["period_start"].dt.year == 2024).all() and (stored["unit"] == "kWh").all()


def test_annual_sums_equal_kepcos_published_2024_figures(national, store):
    reference = pd.read_csv(REFERENCE, dtype={"gu_code": str})
    annual = store.sql("SELECT region_code AS gu_code, category_ko AS contract_type, sum(value_canonical) AS kwh "
                       "FROM utility_aggregates GROUP BY ALL")
    both = reference.merge(annual, on=["gu_code", "contract_type"], how="outer")
    assert len(both) == 35 and (both["kwh"] == both["annual_kwh"]).all()
    assert annual["kwh"].sum() / 1e9 == pytest.approx(9.343, abs=5e-4)  # 9,343 GWh in all


def test_quirks_bom_spaces_separators_dashes(national, store):
    path, _, _ = national
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the fixture has them all
    head = path.read_text("utf-8-sig").splitlines()[0]
    assert " 연도" in head and " 1월 " in head
    text = path.read_text("utf-8-sig")
    assert '"1,' in text and ",심 야," in text and ",-," in text
    stored = store.read("utility_aggregates")
    farm = stored[(stored["region_code"] == "29110") & (stored["category"] == "agricultural")].sort_values("period_start")
    assert farm["value_canonical"].tolist()[:2] == [0.0, 0.0]  # a dash is none: 0 kWh, stored
    night = stored[stored["category"] == "night"]
    assert len(night) == 60 and set(night["category_ko"]) == {"심야"}  # "심 야" read, spaces dropped
    assert set(stored.loc[stored["category"] == "residential", "category_ko"]) == {"주택용"}


def test_other_sidos_dong_gu_is_not_gwangjus(national, store):
    # 전라남도 동구 and 부산광역시 동구 lie between and before Gwangju's rows; none is stored as 29110
    dong_gu = store.read("utility_aggregates").query("region_code == '29110'")
    assert len(dong_gu) == 84
    assert store.rows("quarantine") == 0


def test_same_file_again_adds_nothing(national, ingest, store, tmp_path):
    copy = tmp_path / "again.csv"
    shutil.copy(national[0], copy)
    report, _ = ingest(copy)
    assert report.status == "already_ingested" and store.rows("utility_aggregates") == 420


def test_blocks_of_customers_and_bills_months_not_published(ingest, store):
    report, quarantine = ingest(FIXTURES / "blocks_2025.csv")
    assert report.format == "kepco_public"
    # 북구 주택용 and 교육용: 9 published months each; 광산구 임시용 quarantined; 서울 skipped
    assert (report.rows_stored, report.rows_quarantined) == (18, 9)
    assert report.skipped == {"outside_city": 1, "not_published": 9}  # usage cells: 3 records × 3 months
    stored = store.read("utility_aggregates").sort_values(["category", "period_start"])
    home = stored[stored["category"] == "residential"]
    assert home["value_canonical"].tolist() == [60_000_000 + 1000 * m for m in range(9)]
    assert home["customers"].tolist() == [210_000 + m for m in range(9)]
    assert home["bill_won"].tolist() == [(60_000_000 + 1000 * m) * 150 for m in range(9)]
    school = stored[stored["category"] == "education"]
    assert school["customers"].iloc[0] == 0  # a dash in 고객호수 1월: none
    assert quarantine["reason"].unique().tolist() == ["unknown_category"]
    assert (quarantine["source_row"] == 4).all() and (quarantine["column"] == "계약종별").all()
    message = quarantine["message"].iloc[0]
    assert "blocks_2025.csv, row 4, column '계약종별'" in message and "'임시용'" in message
    assert "vocab.py" in message and "ingest the file again" in message


def test_kind_column_rows_merged_orphans_quarantined(ingest, store):
    report, quarantine = ingest(FIXTURES / "kind_2023.csv")  # CP949
    assert report.rows_stored == 24 and report.skipped == {"outside_city": 1, "merged": 4}
    assert sorted(quarantine["reason"].value_counts().items()) == [("missing_value", 12), ("unknown_category", 12)]
    orphan = quarantine[quarantine["reason"] == "missing_value"]
    assert (orphan["source_row"] == 8).all() and "without a 사용량 row" in orphan["message"].iloc[0]
    assert "'평균단가' is not 사용량" in quarantine.loc[quarantine["reason"] == "unknown_category", "message"].iloc[0]
    stored = store.read("utility_aggregates").sort_values("period_start")
    light = stored[stored["category"] == "streetlight"]
    assert light["value_canonical"].tolist() == [740_000 + m for m in range(12)]
    assert light["customers"].tolist() == [3_100 + m for m in range(12)]
    assert light["bill_won"].tolist() == [(740_000 + m) * 160 for m in range(12)]
    assert (light["source_row"] == 5).all()  # the 사용량 row


def test_empty_and_unreadable_cells(write, ingest, store):
    text = ("연도,시도,시군구,계약종별,1월,2월,3월\n"
            "2024,광주광역시,서구,주택용,\"1,000\",,abc\n"
            "2024,광주광역시,북구,주택용,-,\"2,000\",3000\n"
            "2024,광주광역시,수성구,주택용,1,2,3\n")
    report, quarantine = ingest(write("small.csv", text))
    assert report.rows_stored == 4  # 서구 1월, 북구 1–3월
    reasons = quarantine.set_index(["source_row", "column"])["reason"].to_dict()
    assert reasons[(2, "2월")] == "missing_value" and reasons[(2, "3월")] == "unreadable_number"
    assert set(quarantine.loc[quarantine["source_row"] == 4, "reason"]) == {"unknown_ward_code"}
    assert "'-' for none" in quarantine.loc[quarantine["reason"] == "missing_value", "message"].iloc[0]
    north = store.read("utility_aggregates").query("region_code == '29170'").sort_values("period_start")
    assert north["value_canonical"].tolist() == [0.0, 2000.0, 3000.0]


def test_month_columns_and_their_measures():
    found = month_columns(["연도", " 1월 ", "2월(kWh)", "고객호수 1월", "1월_전기요금", "비고"])
    assert found == {"plain": [(1, " 1월 "), (2, "2월(kWh)")], "customers": [(1, "고객호수 1월")],
                     "bill": [(1, "1월_전기요금")]}
    assert month_columns(["1월(고객호수)"]) == {"customers": [(1, "1월(고객호수)")]}
    for bad in (["13월"], ["1월평균"], ["1월", "01월"]):
        with pytest.raises(ValueError):
            month_columns(bad)


def test_api_export_still_reads_as_kepco(write, ingest):
    report, _ = ingest(write("api.csv", "년,월,시도,시군구,계약종별,사용량\n2024,1,광주광역시,동구,주택용,\"1,000\"\n"))
    assert report.format == "kepco" and report.rows_stored == 1
