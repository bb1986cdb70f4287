"""The workbook style renders Hangul with the bundled font and every figure carries alt text."""

import base64
import re

import matplotlib
import pytest
from matplotlib import font_manager

from energy_lib.publish import plots

matplotlib.use("Agg")


def test_korean_font_is_registered_and_used_for_hangul():
    plots.use_style()
    assert plots.korean_font_files(), "NanumGothic files missing from koreanize-matplotlib"
    path = font_manager.findfont(font_manager.FontProperties(family=plots.FONT_FAMILY),
                                 fallback_to_default=False)
    assert "NanumGothic" in path
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_hangul_renders_without_missing_glyph_warnings(recwarn):
    fig, ax = plots.figure()
    ax.set_title("광주광역시 서구 전력 사용량")
    ax.plot([1, 2, 3], [-1, 0, 2])
    png = plots.to_png(fig)
    assert png.startswith(b"\x89PNG")
    assert not [w for w in recwarn if "missing from font" in str(w.message)]
    matplotlib.pyplot.close(fig)


def test_png_is_deterministic():
    images = []
    for _ in range(2):
        fig, ax = plots.figure()
        ax.bar(["가", "나"], [1, 2])
        images.append(plots.to_png(fig))
        matplotlib.pyplot.close(fig)
    assert images[0] == images[1]


def test_show_emits_inline_svg_with_text_as_text_and_escaped_alt_text(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw: shown.append(data))
    fig, ax = plots.figure()
    ax.plot([0, 1], [1, 0])
    ax.set_title("광주 사용량")
    plots.show(fig, alt='사용량이 "10%" 줄었습니다 <요약>')
    html = shown[0]["text/html"]
    assert html.count("<svg") == 1 and 'role="img"' in html
    assert 'aria-label="사용량이 &#34;10%&#34; 줄었습니다 &lt;요약&gt;"' in html
    assert "<text" in html and ">광주 사용량<" in html and "font-family: NanumGothic" in html  # text, not glyph paths
    assert "<metadata>" not in html and "<dc:date>" not in html and "<?xml" not in html
    assert 'width="100%"' in html and 'height="' not in html.split(">", 1)[0]  # scales with the page
    assert shown[0]["text/plain"].startswith("사용량이")
    assert not matplotlib.pyplot.fignum_exists(fig.number)


def _svg(values, alt="막대 두 개", small=6.0):
    fig, ax = plots.figure()
    bars = ax.bar(["가", "나"], values)
    ax.text(0, 1, "작은 글씨", fontsize=small)
    ax.tick_params(labelsize=small)
    plots.tip(bars.patches, [f"{n}: {v}" for n, v in zip("가나", values)])
    svg = plots.to_svg(fig, alt)
    matplotlib.pyplot.close(fig)
    return svg


def test_svg_is_deterministic_with_unique_ids_tooltips_and_no_text_below_the_minimum():
    first, again, other = _svg([1, 2]), _svg([1, 2]), _svg([2, 1], alt="다른 막대")
    assert first == again
    ids = set(re.findall(r'id="([^"]+)"', first))
    assert ids and not ids & set(re.findall(r'id="([^"]+)"', other))  # two charts on a page share no id
    for ref in re.findall(r'url\(#([^)]+)\)', first):
        assert ref in ids
    assert "<title>가: 1</title>" in first and "<title>나: 2</title>" in first
    sizes = [float(v) for v in re.findall(r"font-size: ([0-9.]+)px", first)]
    assert sizes and min(sizes) >= plots.MIN_FONT_PT
    width = float(re.search(r'viewBox="0 0 ([0-9.]+) ', first).group(1))
    # at a phone's content width the smallest text is at least 11 CSS px
    assert plots.MIN_FONT_PT * plots.PHONE_CONTENT_PX / width >= 11


def test_legends_and_titles_are_raised_to_the_minimum_and_a_long_title_wraps():
    fig, ax = plots.figure()
    ax.plot([0, 1], [1, 0], label="범례 항목")
    ax.legend(fontsize=6, title="범례", title_fontsize=6)  # legend text is laid out by its box
    ax.set_title("전기 사용량의 긴 제목 " * 10, fontsize=6)
    svg = plots.to_svg(fig, "선 하나와 범례")
    matplotlib.pyplot.close(fig)
    sizes = [float(v) for v in re.findall(r"font-size: ([0-9.]+)px", svg)]
    assert sizes and min(sizes) >= plots.MIN_FONT_PT
    assert ">범례 항목<" in svg and ">범례<" in svg
    assert len(re.findall(r">[^<]*긴 제목[^<]*<", svg)) >= 2  # the title broke into lines at the figure's edge


def test_figure_html_still_gives_a_png_img_for_apps():
    fig, ax = plots.figure()
    ax.plot([0, 1], [1, 0])
    html = plots.figure_html(fig, alt="선 하나")
    encoded = re.search(r'base64,([^"]+)"', html).group(1)
    assert base64.b64decode(encoded).startswith(b"\x89PNG") and 'alt="선 하나"' in html


def test_show_refuses_a_figure_without_alt_text():
    fig, _ = plots.figure()
    with pytest.raises(ValueError, match="alt text"):
        plots.show(fig, alt="  ")
    matplotlib.pyplot.close(fig)
