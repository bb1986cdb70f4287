"""Each import format turns its utility's export into canonical rows."""

import json

import numpy as np
import pandas as pd
import pytest

from energy_lib.core.identity import pseudonyms
from tests.conftest import bills_csv


def test_bills_with_read_dates_korean_forms_and_header_unit(write, ingest, store):
    text = ("고객번호,행정동코드,검침시작일,검침일,사용량(MJ),검침구분,용도\n"
            "6100000003,2911052500,2022.12.15,2023.01.14,\"2,135\",추정,가정용\n"
            "6100000004,2917052000,2022.12.20,2023.01.19,\"1,067\",실측,가정용\n")
    report, _ = ingest(write("gas.csv", text, "cp949"), carrier="gas")
    assert report.rows_stored == 2
    readings = store.read("readings").sort_values("source_row")
    assert readings["period_start"].tolist() == [pd.Timestamp("2022-12-15"), pd.Timestamp("2022-12-20")]
    assert readings["period_end"].tolist() == [pd.Timestamp("2023-01-15"), pd.Timestamp("2023-01-20")]  # inclusive end
    np.testing.assert_allclose(readings["value_canonical"], [2135 / 42.7, 1067 / 42.7])
    assert readings["unit"].tolist() == ["MJ", "MJ"] and readings["canonical_unit"].tolist() == ["m³", "m³"]
    assert readings["quality"].tolist() == ["estimated", "actual"]
    sites = store.read("sites").set_index("site_id")
    meters = store.read("meters").set_index("meter_id")
    old_code_site = meters.loc[readings["meter_id"].iloc[1], "site_id"]
    assert sites.loc[old_code_site, "ward_code"] == "2917053500"  # 중흥2동 → 중흥동
    assert sites["households"].tolist() == [1, 1] and set(store.read("readings")["resolution"]) == {"billing"}


def test_bills_end_exclusive_and_english_headers(write, ingest, store):
    text = "customer,ward,from,to,usage,unit\nA1,2911052500,2023-01-01,2023-02-01,310,kwh\n"
    report, _ = ingest(write("b.csv", text), carrier="electricity", end_inclusive=False)
    assert report.rows_stored == 1
    assert store.read("readings")["period_end"].iloc[0] == pd.Timestamp("2023-02-01")


def test_bills_with_carrier_column_and_twelve_prefixed_codes(write, ingest, store):
    text = bills_csv(["0001,1221052500,202607,300,kWh,실측,전기", "0001,1221052500,202607,12,㎥,실측,상수도"],
                     header="고객번호,행정동코드,청구년월,사용량,단위,검침구분,에너지원")
    report, _ = ingest(write("b.csv", text))
    assert report.rows_stored == 2
    assert sorted(store.read("readings")["carrier"]) == ["electricity", "water"]
    assert set(store.read("sites")["ward_code"]) == {"2911052500"}


def test_building_energy_placement(write, ingest, store):
    links = store.read("legal_dongs")
    single = links[links["n_wards"] == 1]["legal_code"].iloc[0]
    split = links[links["n_wards"] > 1]["legal_code"].iloc[0]
    candidate = sorted(links.loc[links["legal_code"] == split, "ward_code"])[-1]
    parcels = write("parcels.csv", f"법정동코드,번,지,행정동코드\n{split},0012,0000,{candidate}\n")
    assert ingest(parcels)[0].rows_stored == 1
    text = ("sigunguCd,bjdongCd,platGbCd,bun,ji,useYm,useQty,mainPurpsCdNm,totArea\n"
            f"{single[:5]},{single[5:]},0,0001,0000,202301,5000,업무시설,1200\n"
            f"{split[:5]},{split[5:]},0,0012,0000,202301,7000,교육연구시설,5000\n"
            f"{split[:5]},{split[5:]},0,0099,0003,202301,9000,공장,800\n"
            f"{split[:5]},99999,0,0001,0000,202301,100,공장,800\n")
    report, rows = ingest(write("molit.csv", text, "cp949"), carrier="electricity", unit="kWh")
    assert report.rows_stored == 3 and rows["reason"].tolist() == ["unknown_ward_code"]
    sites = store.read("sites").sort_values("building_type")
    assert sites["placement"].tolist() == ["legal_single", "parcel", "allocated"]
    assert sites["building_type"].tolist() == ["commercial", "education", "industrial"]
    assert sites.loc[sites["placement"] == "parcel", "ward_code"].iloc[0] == candidate
    assert "parcel-hash" in sites.loc[sites["placement"] == "allocated", "placement_note"].iloc[0]
    assert sites["floor_area_m2"].tolist() == [1200.0, 5000.0, 800.0]


def test_kepco_json_and_csv(tmp_path, write, ingest, store):
    document = {"data": [
        {"year": "2023", "month": "01", "metro": "광주광역시", "city": "동구", "cntr": "주택용", "custCnt": "40000",
         "powerUseage": "12000000", "bill": "1700000000", "unitCost": "141.6"},
        {"year": "2023", "month": "01", "metro": "광주광역시", "city": "광산구", "cntr": "산업용", "custCnt": "900",
         "powerUseage": "90000000", "bill": "12000000000", "unitCost": "133"},
        {"year": "2023", "month": "01", "metro": "전라남도", "city": "목포시", "cntr": "주택용", "custCnt": "1",
         "powerUseage": "1", "bill": "1", "unitCost": "1"},
    ]}
    path = tmp_path / "kepco.json"
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    report, rows = ingest(path)
    assert report.format == "kepco" and report.rows_stored == 2 and rows["reason"].tolist() == ["outside_city"]
    csv = write("kepco.csv", "년,월,시도,시군구,계약종별,고객호수,사용량,전기요금\n2023,2,29,110,일반용,5000,\"3,000,000\",1\n"
                             "2023,2,광주광역시,합계,합계,1,1,1\n2023,2,광주광역시,북구,무료용,1,1,1\n")
    report, rows = ingest(csv)
    assert report.rows_stored == 2 and rows["reason"].tolist() == ["unknown_category"]
    aggregates = store.read("utility_aggregates").sort_values(["period_start", "region_code"])
    assert aggregates["region_code"].tolist() == ["29110", "29200", "29", "29110"]
    assert aggregates["category"].tolist() == ["residential", "industrial", "all", "general"]
    assert aggregates["value_canonical"].iloc[3] == 3_000_000


def test_kdhc_branch_and_heat_per_complex(write, ingest, store):
    report, _ = ingest(write("kdhc.csv", "basYm,brNm,engUseTj,engUseUnit\n202301,광주전남지사,245.3,TJ\n"))
    assert report.format == "kdhc" and report.rows_stored == 1
    assert store.read("utility_aggregates")["value_canonical"].iloc[0] == pytest.approx(245.3 * 277_777.78, rel=1e-6)
    text = ("단지코드,단지명,행정동코드,세대수,basYm,engUse,engUseUnit\nDH1,상무 아파트,2914074500,800,202301,410.5,Gcal\n"
            "DH1,상무 아파트,2914074500,800,202302,1300000,MJ\n")
    report, _ = ingest(write("heat.csv", text), format="heat")
    assert report.rows_stored == 2
    readings = store.read("readings").sort_values("period_start")
    np.testing.assert_allclose(readings["value_canonical"], [410.5 * 1163, 1_300_000 / 3.6])
    site = store.read("sites").iloc[0]
    assert site["households"] == 800 and site["name"] == "상무 아파트" and site["building_type"] == "unknown"


def test_interval_long_with_offsets_and_end_labels(write, ingest, store):
    stamps = pd.date_range("2023-01-01 01:00", periods=48, freq="h")
    text = "고객번호,일시,사용량(kWh),행정동코드,시설명\n" + "".join(
        f"0900,{t:%Y-%m-%dT%H:%M:%S}+09:00,{10 + i % 5},2914074500,광주광역시청\n" for i, t in enumerate(stamps))
    report, _ = ingest(write("ami.csv", text), timestamps="end")
    assert report.format == "interval" and report.rows_stored == 48
    readings = store.read("readings").sort_values("period_start")
    assert readings["period_start"].iloc[0] == pd.Timestamp("2023-01-01 00:00")  # hour ending 01:00
    assert (readings["period_end"] - readings["period_start"]).eq(pd.Timedelta(hours=1)).all()
    assert set(store.read("readings")["resolution"]) == {"hourly"}
    assert store.read("sites")["name"].tolist() == ["광주광역시청"]


def test_interval_wide_hour_ending_with_gaps(write, ingest, store):
    hours = ",".join(f"{h}시" for h in range(1, 25))
    day1 = ",".join(["5.0"] * 23 + [""])
    day2 = ",".join(["6.0"] * 10 + ["x"] + ["6.0"] * 13)
    text = f"고객번호,날짜,{hours},행정동코드\n0900,2023-01-01,{day1},2920064000\n0900,2023-01-02,{day2},2920064000\n"
    report, rows = ingest(write("wide.csv", text))
    assert report.format == "interval_wide" and report.rows_in == 48 and report.rows_stored == 46
    assert rows.set_index("column")["reason"].to_dict() == {"24시": "missing_value", "11시": "unreadable_number"}
    assert rows["source_row"].tolist() == [2, 3]
    first = store.read("readings").sort_values("period_start").iloc[0]
    assert first["period_start"] == pd.Timestamp("2023-01-01 00:00") and first["value"] == 5.0


def test_interval_wide_quarter_hours(write, ingest, store):
    labels = [f"{(m // 60):02d}:{m % 60:02d}" for m in range(15, 24 * 60 + 1, 15)]
    text = "고객번호,날짜," + ",".join(labels) + ",행정동코드\n0900,2023-01-01," + ",".join(["1.5"] * 96) + ",2914074500\n"
    report, _ = ingest(write("q.csv", text))
    assert report.rows_stored == 96 and set(store.read("readings")["resolution"]) == {"15min"}
    assert store.read("readings")["period_start"].max() == pd.Timestamp("2023-01-01 23:45")


def test_pv_generation_lands_on_the_electricity_site(write, ingest, store):
    ingest(write("bills.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측"])), carrier="electricity")
    report, rows = ingest(write("pv.csv", "고객번호,발전년월,발전량,단위\n0001,2023-01,35.2,kWh\n0002,2023-01,30,kWh\n"))
    assert report.format == "pv" and report.rows_stored == 1 and rows["reason"].tolist() == ["unknown_site"]
    generation = store.read("generation")
    assert generation["site_id"].iloc[0] == store.read("meters")["site_id"].iloc[0]
    assert generation["value_kwh"].iloc[0] == pytest.approx(35.2)


def test_weather_asos_export(write, ingest, store):
    text = ("지점,지점명,일시,평균기온(°C),최저기온(°C),최고기온(°C)\n156,광주,2023-01-01,1.2,-3.0,5.5\n"
            "156,광주,2023-01-02,,-2.0,4.0\n156,광주,2023-01-03,60.0,,\n156,광주,2023-01-04,9.0,-1.0,5.0\n")
    report, rows = ingest(write("w.csv", text, "cp949"))
    assert report.format == "weather" and report.rows_stored == 1
    assert rows["reason"].tolist() == ["missing_value", "impossible_value", "inconsistent_value"]
    assert rows["column"].tolist() == ["평균기온(°C)"] * 3


def test_site_register_links_meters_and_moves_implicit_sites(write, ingest, store):
    ingest(write("bills.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측"])), carrier="electricity")
    assert store.read("sites")["origin"].tolist() == ["implicit"]
    text = ("관리번호,행정동코드,건물유형,세대수,전용면적,전기고객번호,가스고객번호\n"
            "CP-1,2911052500,아파트,1,84.0,0001,6100\nAMI-1,2920064000,산업,,,0900,\n")
    report, _ = ingest(write("register.csv", text))
    assert report.format == "sites" and report.rows_stored == 2
    sites = store.read("sites")
    assert sorted(sites["origin"]) == ["register", "register"]  # the bill's implicit site is gone
    meters = store.read("meters")
    assert len(meters) == 3 and set(meters["carrier"]) == {"electricity", "gas"}
    readings_meter = store.read("readings")["meter_id"].iloc[0]
    assert meters.set_index("meter_id").loc[readings_meter, "site_id"] == \
        sites.set_index("building_type").loc["apartment", "site_id"]
    gas_meter = pseudonyms("meter", pd.Series(["haeyang"]), pd.Series(["gas"]), pd.Series(["6100"])).iloc[0]
    assert gas_meter in set(meters["meter_id"])


def test_site_register_records_whose_series_may_be_shown(write, ingest, store):
    ingest(write("bills.csv", bills_csv(["0001,2911052500,202301,300,kWh,실측"])), carrier="electricity")
    assert not store.read("sites")["series_public"].any()  # a site from a bill is never public
    text = ("관리번호,행정동코드,건물유형,시설명,전기고객번호,실시간공개,공개근거\n"
            "AMI-3,2914074500,공공,광주광역시청,0903,예,공공기관\n"
            "AMI-1,2920064000,산업,하남산업단지,0901,아니오,\n"
            "AMI-5,2920063700,아파트,수완 단지,0905,,\n"
            "AMI-6,2915553700,아파트,봉선 단지,0906,Y,\n"
            "AMI-7,2920062400,아파트,첨단 단지,0907,아마도,동의서\n")
    report, rows = ingest(write("register.csv", text))
    assert report.rows_stored == 3
    sites = store.read("sites").dropna(subset=["name"]).set_index("name")
    assert sites["series_public"].to_dict() == {"광주광역시청": True, "하남산업단지": False, "수완 단지": False}
    assert sites.loc["광주광역시청", "series_public_source"] == "공공기관"
    assert sites.loc[["하남산업단지", "수완 단지"], "series_public_source"].isna().all()
    # a yes without its source, and a word that is neither yes nor no, are quarantined by name
    assert rows["reason"].tolist() == ["missing_value", "unreadable_flag"] and rows["column"].tolist() == ["실시간공개"] * 2
    assert "공개근거" in rows["message"].iloc[0] and "아마도" in rows["message"].iloc[1]
    english = "site_key,ward_code,building_type,name,series_public,series_public_source\nS-9,2914074500,public,Gu office,true,consent 2025-03\n"
    ingest(write("register_en.csv", english))
    assert store.read("sites").set_index("name").loc["Gu office", "series_public"]


def test_programmes_and_participation(write, ingest, store):
    ingest(write("register.csv", "관리번호,행정동코드,건물유형,세대수,전기고객번호\nCP-1,2911052500,아파트,1,0001\n"))
    report, _ = ingest(write("p.csv", "사업코드,사업명,영문사업명,대상에너지,시작일,참여자당지원금\n"
                                      "balcony_pv,베란다형 미니태양광,Balcony PV,전기,2023-03-01,\"350,000\"\n"))
    assert report.format == "programmes"
    programme = store.read("programmes").iloc[0]
    assert programme["carrier"] == "electricity" and programme["cost_won_per_participant"] == 350_000
    report, rows = ingest(write("join.csv", "사업코드,관리번호,적용일\nbalcony_pv,CP-1,2023-04-02\n"
                                            "balcony_pv,CP-9,2023-04-02\nretrofit,CP-1,2023-04-02\n"))
    assert report.rows_stored == 1 and rows["reason"].tolist() == ["unknown_site", "unknown_programme"]
    report, rows = ingest(write("join2.csv", "사업코드,전기고객번호,설치일\nbalcony_pv,0001,2023-04-02\n"))
    assert rows["reason"].tolist() == ["already_stored"]
