import pandas as pd

from energy_lib.core import wards


def test_ward_table_has_96_dongs_in_5_gu():
    table = wards.wards()
    assert len(table) == 96 and table["ward_code"].is_unique
    assert table.groupby("gu_name_ko").size().to_dict() == {"광산구": 21, "남구": 17, "동구": 13, "북구": 27, "서구": 18}
    assert table[["lat", "lon", "dong_name_en", "gu_name_en"]].notna().all().all()
    assert table["lat"].between(35.0, 35.3).all() and table["lon"].between(126.6, 127.1).all()


def test_crosswalk_maps_old_and_renumbered_codes_to_current_wards():
    crosswalk = wards.ward_codes()
    codes = pd.Series(["2917052000", "2917053000", "2917053500", "1221052500", "2911052500", "1227053500"])
    assert wards.resolve_codes(codes, crosswalk).tolist() == [
        "2917053500", "2917053500", "2917053500", "2911052500", "2911052500", "2917053500"]


def test_crosswalk_records_dates_events_and_confirmation():
    crosswalk = wards.ward_codes().set_index("code")
    merged = crosswalk.loc["2917052000"]
    assert merged["event"] == "merged" and merged["valid_to"] == pd.Timestamp("2024-01-01") and merged["confirmed"]
    renumbered = crosswalk.loc["1221052500"]
    assert renumbered["event"] == "sido_change" and not renumbered["confirmed"]
    assert renumbered["valid_from"] == pd.Timestamp("2026-07-01")
    assert "12270" in crosswalk.index  # gu-level renumbering too


def test_unknown_codes_and_sloppy_spelling():
    resolved = wards.resolve_codes(pd.Series([" 29110-52500 ", "2911052500.0", "2911099999", None]), wards.ward_codes())
    assert resolved.iloc[:2].tolist() == ["2911052500", "2911052500"]
    assert resolved.iloc[2:].isna().all()


def test_gu_level_codes():
    resolved = wards.resolve_codes(pd.Series(["29110", "12300", "99999"]), wards.ward_codes(), level="gu")
    assert resolved.iloc[:2].tolist() == ["29110", "29200"] and pd.isna(resolved.iloc[2])


def test_legal_dong_links_are_many_to_many():
    links = wards.legal_dongs()
    assert len(links) == 268 and links["legal_code"].nunique() == 202
    split = links[links["n_wards"] > 1]["legal_code"].nunique()
    assert split == 46


def test_placement_single_parcel_and_allocated():
    links = wards.legal_dongs()
    single = links[links["n_wards"] == 1].iloc[0]
    split = links[links["n_wards"] > 1]["legal_code"].iloc[0]
    candidates = sorted(links.loc[links["legal_code"] == split, "ward_code"])
    parcels = pd.DataFrame({"legal_code": [split], "bun": ["12"], "ji": ["0"], "ward_code": [candidates[-1]]})
    placed = wards.place_by_legal_dong(pd.Series([single["legal_code"], split, split, "2911099999"]),
                                       pd.Series(["1", "12", "99", "1"]), pd.Series(["0", "0", "3", "0"]),
                                       links, parcels)
    assert placed["placement"].tolist()[:3] == ["legal_single", "parcel", "allocated"]
    assert placed["ward_code"].tolist()[:2] == [single["ward_code"], candidates[-1]]
    assert placed["ward_code"].iloc[2] in candidates
    assert wards.ALLOCATION_RULE in placed["placement_note"].iloc[2]
    assert pd.isna(placed["ward_code"].iloc[3]) and pd.isna(placed["placement"].iloc[3])


def test_allocation_is_deterministic_and_spreads_buildings():
    links = wards.legal_dongs()
    split = links[links["n_wards"] >= 3]["legal_code"].iloc[0]
    n = 300
    args = (pd.Series([split] * n), pd.Series([str(i) for i in range(n)]), pd.Series(["0"] * n), links)
    first, second = wards.place_by_legal_dong(*args), wards.place_by_legal_dong(*args)
    assert first["ward_code"].equals(second["ward_code"])
    counts = first["ward_code"].value_counts()
    assert len(counts) == links.loc[links["legal_code"] == split, "ward_code"].nunique()
    assert counts.min() > n / len(counts) / 2


def test_a_lot_named_in_many_rows_is_placed_as_when_named_once():
    """Each distinct lot is placed once and its placement repeated (a year of monthly building
    data names each lot twelve times): the same rows, index and notes as lot by lot."""
    links = wards.legal_dongs()
    split = links[links["n_wards"] >= 3]["legal_code"].iloc[0]
    single = links[links["n_wards"] == 1]["legal_code"].iloc[0]
    codes = pd.Series([split, single, split, None, "2911099999"] * 12, dtype="str")
    bun = pd.Series(["7", "1", "8", "1", "1"] * 12, dtype="str")
    ji = pd.Series(["0"] * 60, dtype="str")
    index = pd.Index(range(100, 160))
    placed = wards.place_by_legal_dong(codes.set_axis(index), bun.set_axis(index), ji.set_axis(index), links)
    assert placed.index.equals(index)
    for row in range(60):
        once = wards.place_by_legal_dong(codes[row:row + 1], bun[row:row + 1], ji[row:row + 1], links)
        assert placed.iloc[row].fillna("-").tolist() == once.iloc[0].fillna("-").tolist()
