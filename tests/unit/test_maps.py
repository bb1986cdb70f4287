"""Ward maps: schematic cells, boundary files, colouring with suppressed values, highlight, text
alternatives, deterministic PNG and Hangul without missing glyphs."""

import json
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt
from scipy.spatial import ConvexHull

from energy_lib.core import wards
from energy_lib.core.status import WarningCode
from energy_lib.publish import maps, plots, ward_shapes

matplotlib.use("Agg")

MEASURE = maps.Measure("가구당 월평균 전력 사용량", "kWh")
SUPPRESSED = ["2911057000", "2920065000"]  # 계림2동, 임곡동
CHIPYEONG, DONG_GU = "2914074500", "29110"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return wards.wards()


@pytest.fixture(scope="module")
def cells(table) -> maps.WardShapes:
    return maps.schematic_cells(table)


@pytest.fixture(scope="module")
def values(table) -> pd.Series:
    """Ward i of the table has 100 + i [kWh]: 동구 충장동 is lowest, 광산구 신창동 highest."""
    series = pd.Series(100.0 + np.arange(len(table)), index=table["ward_code"].to_numpy())
    series[SUPPRESSED] = np.nan
    return series


def _unproject(ring: np.ndarray) -> list:
    scale = ward_shapes.EARTH_RADIUS_KM * math.pi / 180
    lon0, lat0 = ward_shapes.ORIGIN
    lon = lon0 + ring[:, 0] / (scale * math.cos(math.radians(lat0)))
    lat = lat0 + ring[:, 1] / scale
    closed = np.column_stack([lon, lat])
    return np.vstack([closed, closed[:1]]).tolist()


def _collection(features: list) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _feature(code: str, geometry: dict, prop: str = "adm_cd2") -> dict:
    return {"type": "Feature", "properties": {prop: code, "adm_nm": "광주광역시"}, "geometry": geometry}


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def _gid(fig, gid: str) -> list:
    return [artist for artist in fig.findobj() if artist.get_gid() == gid]


# --- schematic cells -----------------------------------------------------------------------

def test_schematic_cells_cover_every_ward_and_tile_the_outline(table, cells):
    assert list(cells.rings) == list(table["ward_code"]) and cells.schematic and not cells.missing
    points = cells.points()
    for code, rings in cells.rings.items():
        (ring,) = rings
        assert len(ring) >= 3
        assert cells.area(code) > 0.2  # [km²], counterclockwise and not degenerate
        assert cells.contains(code, points.loc[code].to_numpy())[0], code
    every_vertex = np.concatenate([r[0] for r in cells.rings.values()])
    outline_area = ConvexHull(every_vertex).volume  # in 2-D, "volume" is the area [km²]
    assert sum(cells.area(c) for c in cells.rings) == pytest.approx(outline_area, rel=1e-9)
    assert 350 < outline_area < 650  # Gwangju is 501 km²


def test_projection_is_km_east_and_north_of_the_origin():
    x, y = ward_shapes.project([ward_shapes.ORIGIN[0], ward_shapes.ORIGIN[0] + 0.1], [ward_shapes.ORIGIN[1], ward_shapes.ORIGIN[1] + 0.1])
    assert x[0] == y[0] == 0
    assert y[1] == pytest.approx(11.119, abs=1e-3)  # 0.1° of latitude [km]
    assert x[1] == pytest.approx(11.119 * math.cos(math.radians(35.16)), abs=1e-3)


def test_gu_outline_separates_the_gu_from_its_neighbours(table, cells):
    gu_of = dict(zip(table["ward_code"], table["gu_code"]))
    def gu_at(point):
        return next((gu_of[c] for c in cells.rings if cells.contains(c, point)[0]), None)

    total = 0.0
    for gu_code in sorted(set(table["gu_code"])):
        outline = maps.gu_outline(cells, gu_code)
        assert len(outline) > 5
        ends = np.round(outline.reshape(-1, 2), 6)
        _, counts = np.unique(ends, axis=0, return_counts=True)
        assert (counts % 2 == 0).all(), "the outline is closed"
        for start, end in outline[:: max(1, len(outline) // 12)]:
            mid, d = (start + end) / 2, end - start
            normal = np.array([-d[1], d[0]]) / np.hypot(*d) * 0.01  # left of the edge
            assert gu_at(mid + normal) == gu_code
            assert gu_at(mid - normal) != gu_code
        total += np.hypot(*(outline[:, 1] - outline[:, 0]).T).sum()
    assert maps.gu_outline(cells, "29110").shape[1:] == (2, 2)
    assert total > 0


# --- boundary files ------------------------------------------------------------------------

def _boundary_file(tmp_path, cells, table, *, skip=(), extra=()):
    """Every ward's cell as a feature: 충장동 as a MultiPolygon of two halves, 동명동 with a hole,
    중흥동 under its pre-2024 code of 중흥2동."""
    features = []
    for code, (ring,) in cells.rings.items():
        if code in skip:
            continue
        if code == "2911052500":
            half = len(ring) // 2
            centre = ring.mean(axis=0)
            parts = [np.vstack([centre, ring[: half + 1]]), np.vstack([centre, ring[half:], ring[:1]])]
            geometry = {"type": "MultiPolygon", "coordinates": [[_unproject(p)] for p in parts]}
        elif code == "2911054500":
            hole = ring.mean(axis=0) + 0.1 * (ring - ring.mean(axis=0))
            geometry = {"type": "Polygon", "coordinates": [_unproject(ring), _unproject(hole)]}
        else:
            geometry = {"type": "Polygon", "coordinates": [_unproject(ring)]}
        features.append(_feature("2917052000" if code == "2917053500" else code, geometry))
    path = tmp_path / "boundaries.geojson"
    path.write_text(json.dumps(_collection(features + list(extra)), ensure_ascii=False), "utf-8")
    return path


def test_boundary_file_polygons_multipolygons_holes_and_old_codes(tmp_path, cells, table):
    path = _boundary_file(tmp_path, cells, table)
    shapes = maps.read_boundaries(path)
    assert not shapes.schematic and shapes.source == str(path)
    assert shapes.missing == () and shapes.warnings == ()
    assert "2917053500" in shapes.rings  # 중흥2동's old code is the merged 중흥동
    for code in ("2914074500", "2917053500", "2911052500"):
        assert shapes.area(code) == pytest.approx(cells.area(code), rel=1e-6)
    assert len(shapes.rings["2911052500"]) == 2  # MultiPolygon: two exteriors
    assert shapes.area("2911054500") == pytest.approx(0.99 * cells.area("2911054500"), rel=1e-6)
    hole_centre = cells.rings["2911054500"][0].mean(axis=0)
    assert shapes.contains("2911054500", [hole_centre + 0.3, hole_centre]).tolist() == [True, False]
    assert maps.gu_outline(shapes, DONG_GU).shape[0] > maps.gu_outline(cells, DONG_GU).shape[0]  # + hole


def test_boundary_file_missing_wards_and_other_regions_are_warnings(tmp_path, cells, table):
    seoul = _feature("1111053000", {"type": "Polygon", "coordinates": [
        [[126.97, 37.57], [126.98, 37.57], [126.98, 37.58], [126.97, 37.57]]]})
    path = _boundary_file(tmp_path, cells, table, skip={CHIPYEONG}, extra=[seoul])
    shapes = maps.read_boundaries(path, code_property="adm_cd2")
    assert shapes.missing == (CHIPYEONG,)
    found = {w.code: w.data for w in shapes.warnings}
    assert found[WarningCode.WARD_WITHOUT_BOUNDARY] == {"ward_codes": [CHIPYEONG], "dong_names": ["치평동"]}
    assert found[WarningCode.FEATURES_OUTSIDE_GWANGJU] == {"n_features": 1, "examples": ["1111053000"]}
    assert {w.subject for w in shapes.warnings} == {path.name}
    fig = maps.draw_map(pd.Series({CHIPYEONG: 5.0}), MEASURE, title="경계", shapes=shapes,
                        highlight=CHIPYEONG)
    assert len(_gid(fig, "no_boundary")) == 2  # the missing ward as a point, in both panels
    assert "경계 자료 없음 (점으로 표시)" in _texts(fig)
    assert not any("모식도" in t for t in _texts(fig))  # real boundaries: no schematic note
    plt.close(fig)


def test_unknown_gwangju_code_names_file_feature_code_and_remedy(tmp_path):
    square = {"type": "Polygon", "coordinates": [[[126.9, 35.1], [126.91, 35.1], [126.91, 35.11],
                                                  [126.9, 35.1]]]}
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(_collection([_feature("2911052500", square), _feature("2911099900", square)])))
    with pytest.raises(ValueError) as error:
        maps.read_boundaries(path)
    message = str(error.value)
    for part in (str(path), "feature 1", "'2911099900'", "adm_cd2", "config/wards.toml",
                 "energy init --rebuild-reference"):
        assert part in message


@pytest.mark.parametrize("case, expected", [
    ("seven_digit", "not a 10-digit administrative dong code"),
    ("no_property", "Pass code_property="),
    ("projected", "ogr2ogr -t_srs EPSG:4326"),
    ("point", "must be a Polygon or MultiPolygon"),
    ("not_geojson", "not a GeoJSON file"),
    ("only_elsewhere", "none of its 1 features is a Gwangju ward"),
])
def test_bad_boundary_files_say_what_to_do(tmp_path, case, expected):
    square = {"type": "Polygon", "coordinates": [[[126.9, 35.1], [126.91, 35.1], [126.91, 35.11],
                                                  [126.9, 35.1]]]}
    content = {
        "seven_digit": _collection([_feature("2911052", square)]),
        "no_property": _collection([_feature("2911052500", square, prop="name")]),
        "projected": _collection([_feature("2911052500", {"type": "Polygon", "coordinates": [
            [[955000, 1684000], [956000, 1684000], [956000, 1685000], [955000, 1684000]]]})]),
        "point": _collection([_feature("2911052500", {"type": "Point", "coordinates": [126.9, 35.1]})]),
        "not_geojson": "no json here",
        "only_elsewhere": _collection([_feature("1111053000", square)]),
    }[case]
    path = tmp_path / f"{case}.geojson"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(ValueError, match=expected) as error:
        maps.read_boundaries(path)
    assert str(path) in str(error.value)


# --- values, table and alt text ------------------------------------------------------------

def test_table_ranks_highest_first_and_shows_suppressed_last(table, values):
    result = maps.map_table(values, MEASURE)
    assert list(result.columns) == ["순위", "구", "행정동", "가구당 월평균 전력 사용량 [kWh]"]
    assert len(result) == len(table) and result.index.name == "행정동코드"
    top = result.iloc[0]
    assert top.name == table["ward_code"].iloc[-1]
    assert (top["순위"], top["행정동"], top.iloc[3]) == ("1", table["dong_name_ko"].iloc[-1], "195")
    assert result.index[-2:].tolist() == SUPPRESSED
    assert result.iloc[-1].tolist() == ["–", "광산구", "임곡동", "비공개"]
    assert result["순위"].iloc[-3] == str(len(table) - 2)
    english = maps.map_table(values, MEASURE, lang="en", text=maps.MapText("비공개 / suppressed", "", ""))
    assert english.loc["2911057000"].tolist() == ["–", "Dong-gu", "Gyerim 2-dong", "비공개 / suppressed"]


def test_rank_ties_share_the_best_rank():
    ranks = maps.rank_values(pd.Series([3.0, 5.0, 5.0, np.nan], index=list("abcd")))
    assert ranks.tolist() == [3, 1, 1, pd.NA]


def test_alt_text_names_extremes_median_suppressed_and_highlight(values):
    alt = maps.map_alt_text(values, MEASURE, title="행정동별 전력 사용량", highlight=CHIPYEONG)
    assert alt.startswith("행정동별 전력 사용량: 광주 96개 행정동의 가구당 월평균 전력 사용량 [kWh] 지도(모식도")
    assert "가장 높은 동: 광산구 신창동 195 kWh, 광산구 본량동 194 kWh, 광산구 삼도동 193 kWh." in alt
    assert "가장 낮은 동: 동구 충장동 100 kWh, 동구 동명동 101 kWh, 동구 계림1동 102 kWh." in alt
    assert "2개 동은 비공개(회색 빗금)입니다." in alt
    chipyeong = values[CHIPYEONG]
    rank = int((values > chipyeong).sum()) + 1
    assert f"강조 표시: 서구 치평동, {chipyeong:.0f} kWh, 94개 동 중 {rank}위." in alt
    english = maps.map_alt_text(values, MEASURE, lang="en", highlight=DONG_GU, n_extremes=1)
    assert "Highest: Sinchang-dong (Gwangsan-gu) 195 kWh." in english
    assert "Suppressed: 2 of 96 dongs (grey hatching)." in english
    assert "Highlighted: Dong-gu (13 dongs, median 106 kWh)." in english


def test_values_must_be_current_ward_codes(values):
    with pytest.raises(ValueError, match="resolve_codes"):
        maps.map_table(pd.Series({"2917052000": 1.0}), MEASURE)  # 중흥2동, merged in 2024
    with pytest.raises(ValueError, match="highlight"):
        maps.map_alt_text(values, MEASURE, highlight="29999")
    with pytest.raises(ValueError, match="lang"):
        maps.map_alt_text(values, MEASURE, lang="ja")


# --- the figure ----------------------------------------------------------------------------

def test_map_colours_values_hatches_suppressed_and_notes_the_schematic(values, cells):
    fig = maps.draw_map(values, MEASURE, title="행정동별 전력 사용량", shapes=cells)
    main, inset, bar = fig.axes[:3]
    hatched = _gid(fig, "suppressed")
    assert len(hatched) == 2 and hatched[0].get_hatch() == "////"  # main map and inset
    assert len(hatched[0].get_paths()) == len(SUPPRESSED)
    coloured = [c for c in main.collections if c.get_array() is not None]
    assert len(coloured[0].get_paths()) == len(values) - len(SUPPRESSED)
    texts = _texts(fig)
    assert "비공개" in texts and MEASURE.axis_label in texts
    assert any(t.startswith("모식도:") and "실제 경계가 아닙니다" in t for t in texts)
    assert {"동구", "서구", "남구", "북구", "광산구"} <= set(texts)
    assert bar.get_xlabel() == MEASURE.axis_label
    assert fig.get_figwidth() == plots.PHONE_WIDTH_IN
    plt.close(fig)


def test_rank_labels_cover_every_valued_ward_once(values, cells):
    fig = maps.draw_map(values, MEASURE, title="순위", shapes=cells, annotate="rank")
    labels = sorted(int(t.get_text()) for t in _gid(fig, "ward_label"))
    assert labels == list(range(1, len(values) - len(SUPPRESSED) + 1))
    plt.close(fig)


def test_highlight_outlines_a_ward_with_a_callout_or_a_gu(values, cells):
    fig = maps.draw_map(values, MEASURE, title="치평동", shapes=cells, highlight=CHIPYEONG, inset=False)
    (outline,) = _gid(fig, "highlight")
    assert np.allclose(outline.get_path().vertices[:-1], cells.rings[CHIPYEONG][0])
    assert [t.get_text() for t in _gid(fig, "callout")] == ["치평동"]
    assert len(fig.axes) == 2  # one map and the colour bar
    plt.close(fig)
    fig = maps.draw_map(values, MEASURE, title="동구", shapes=cells, highlight=DONG_GU, lang="en")
    lines = _gid(fig, "highlight")
    assert len(lines) == 4  # halo and line, in both panels
    assert np.allclose(lines[1].get_segments(), maps.gu_outline(cells, DONG_GU))
    assert "Dong-gu" in _texts(fig) and "Suppressed" in _texts(fig)
    plt.close(fig)


def test_png_is_deterministic_and_hangul_has_every_glyph(values, recwarn):
    images = []
    for _ in range(2):
        fig = maps.draw_map(values, MEASURE, title="광주 행정동별 전력 사용량 (모식도)",
                            annotate="value", highlight=CHIPYEONG)
        images.append(plots.to_png(fig))
        plt.close(fig)
    assert images[0] == images[1] and images[0].startswith(b"\x89PNG")
    assert not [w for w in recwarn if "missing from font" in str(w.message)]


def test_map_of_only_suppressed_values_has_no_colour_bar(cells):
    fig = maps.draw_map(pd.Series(dtype=float), MEASURE, title="전부 비공개", shapes=cells, inset=False)
    assert len(fig.axes) == 1 and "비공개" in _texts(fig)
    plt.close(fig)
