"""The workbook style renders Hangul with the bundled font and every figure carries alt text."""

import base64
import re

import matplotlib
import pytest
from matplotlib import font_manager

from energy_lib import plots

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


def test_show_emits_an_img_with_escaped_alt_text(capsys, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw: shown.append(data))
    fig, ax = plots.figure()
    ax.plot([0, 1], [1, 0])
    plots.show(fig, alt='사용량이 "10%" 줄었습니다 <요약>')
    html = shown[0]["text/html"]
    assert 'alt="사용량이 &quot;10%&quot; 줄었습니다 &lt;요약&gt;"' in html
    encoded = re.search(r'base64,([^"]+)"', html).group(1)
    assert base64.b64decode(encoded).startswith(b"\x89PNG")
    assert shown[0]["text/plain"].startswith("사용량이")
    assert not matplotlib.pyplot.fignum_exists(fig.number)


def test_show_refuses_a_figure_without_alt_text():
    fig, _ = plots.figure()
    with pytest.raises(ValueError, match="alt text"):
        plots.show(fig, alt="  ")
    matplotlib.pyplot.close(fig)
