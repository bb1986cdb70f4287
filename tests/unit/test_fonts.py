"""Web font subsets (energy_lib/publish/fonts.py): the glyphs asked for and no others, the same
bytes for the same input, written again only when their input changed."""

from __future__ import annotations

import io
import json
import os

import pytest
from fontTools.ttLib import TTFont

from energy_lib.publish import fonts


def _cmap(data: bytes) -> set[str]:
    font = TTFont(io.BytesIO(data))
    return {chr(code) for code in font.getBestCmap()}


def test_ks_x_1001_is_the_2350_hangul_syllables_of_euc_kr():
    syllables = fonts.ks_x_1001_hangul()
    assert len(syllables) == len(set(syllables)) == 2350
    assert syllables[0] == "가" and syllables[-1] == "힝"
    assert all("\uac00" <= s <= "\ud7a3" for s in syllables)
    assert "광" in syllables and "똠" not in syllables  # 똠 is the classic syllable EUC-KR lacks


def test_characters_resolve_html_references():
    assert {"광", "주", "<", "&"} <= fonts.characters_of("<p>&#44305;&#xc8fc; &amp; 광</p>")
    assert "\n" not in fonts.characters_of("a\nb")


@pytest.fixture(scope="module")
def regular():
    return fonts._sources()[0]


@pytest.mark.slow
def test_a_subset_is_woff2_with_exactly_the_glyphs_asked_for_and_deterministic(regular):
    wanted = set("광주광역시 에너지 보고서 kWh 2024") | {"똠"}
    data = fonts.subset(regular, wanted)
    assert data[:4] == b"wOF2"
    assert _cmap(data) == wanted  # NanumGothic has 똠: every Hangul syllable
    assert fonts.subset(regular, wanted) == data
    assert len(data) < 20_000  # the full font is 2.3 MB as WOFF
    names = {record.nameID for record in TTFont(io.BytesIO(data))["name"].names}
    assert {0, 13} <= names  # copyright and the SIL Open Font License travel with the font


@pytest.mark.slow
def test_site_fonts_follow_the_pages_and_are_written_only_when_they_change(tmp_path):
    (tmp_path / "ko").mkdir()
    page = tmp_path / "ko" / "city.html"
    page.write_text("<html><body><h1>광주광역시</h1><svg><text>전기 사용량</text></svg></body></html>", "utf-8")
    info = fonts.write_site_fonts(tmp_path)
    regular = (tmp_path / "assets" / "NanumGothic.woff2").read_bytes()
    glyphs = _cmap(regular)
    assert set("광주광역시전기사용량") <= glyphs and "힝" not in glyphs
    has = {chr(code) for code in TTFont(fonts._sources()[0]).getBestCmap()}
    assert set(fonts.BASE_CHARACTERS) & has <= glyphs  # digits, Latin, punctuation: always kept
    assert set("0123456789kWh%.,()·°") <= glyphs
    bold = tmp_path / "assets" / "NanumGothicBold.woff2"
    assert set("광주") <= _cmap(bold.read_bytes())
    assert json.loads((tmp_path / "assets" / "fonts.json").read_text("utf-8"))["key"] == info["key"]

    stamp = bold.stat().st_mtime_ns
    assert fonts.write_site_fonts(tmp_path)["key"] == info["key"]  # nothing changed: nothing written
    assert bold.stat().st_mtime_ns == stamp

    page.write_text("<html><body><h1>광주광역시 힝</h1></body></html>", "utf-8")
    os.utime(page, ns=(stamp + 10**9, stamp + 10**9))
    changed = fonts.write_site_fonts(tmp_path)
    assert changed["key"] != info["key"] and "힝" in _cmap((tmp_path / "assets" / "NanumGothic.woff2").read_bytes())


def test_app_characters_cover_the_catalogue_and_the_wards():
    from energy_lib.core import i18n
    from energy_lib.core.wards import wards

    characters = fonts.app_characters()
    for key, entry in i18n._entries().items():
        assert set(entry["ko"]) - {"\n"} <= characters, key
    table = wards()
    assert set("".join(table["dong_name_ko"]) + "".join(table["gu_name_ko"])) <= characters


def test_unicode_range_joins_runs_of_code_points():
    assert fonts.unicode_range("가각간나") == "U+AC00-AC01, U+AC04, U+B098"
    assert fonts.unicode_range("a") == "U+61"


@pytest.mark.slow
def test_app_fonts_are_what_the_apps_show_then_the_rest_of_ks_x_1001_fetched_only_when_shown(tmp_path):
    import re

    info = fonts.write_app_fonts(tmp_path)
    shown = _cmap((tmp_path / "NanumGothic.woff2").read_bytes())
    more = _cmap((tmp_path / f"NanumGothic{fonts.APP_SUPPLEMENT}.woff2").read_bytes())
    assert not shown & more and set(fonts.ks_x_1001_hangul()) <= shown | more
    assert set(fonts.app_characters()) & set(fonts.ks_x_1001_hangul()) <= shown  # what the apps show: first part
    assert info["shown"]["bytes"]["NanumGothic.woff2"] < 200_000
    css = (tmp_path / "fonts.css").read_text("utf-8")
    ranges = re.findall(r"unicode-range: ([^;]+);", css)
    assert len(ranges) == 2 and ranges[0] == fonts.unicode_range(more)  # regular and bold, same range
    assert 'url("NanumGothicBold-more.woff2")' in css and "font-weight: 700" in css
