"""The workbook's one visual style: Korean text that works offline, phone-width figures, alt text.

Every figure in a notebook, report or app goes through this module:

>>> from energy_lib import plots
>>> plots.use_style()
>>> fig, ax = plots.figure()
>>> ax.plot([1, 2, 3], [3, 1, 2]); ax.set_title("전력 사용량")
>>> plots.show(fig, alt="전력 사용량은 1월 3 kWh에서 2월 1 kWh로 줄었다가 3월 2 kWh가 되었습니다.")

The Korean font is NanumGothic (SIL Open Font License), the files shipped inside the
``koreanize-matplotlib`` wheel. The font files are registered with matplotlib directly rather
than by importing that package, which sets global state on import and needs ``distutils``
(absent from Python ≥ 3.12 without setuptools; ../shared/reference/jupyter-stack.md). No network
and no system font package is needed.

``show`` displays a figure as inline SVG drawn for a phone: text stays text (in NanumGothic,
which the site loads), so it is sharp at any size and searchable; the figure is
:data:`PHONE_WIDTH_IN` wide and no text is smaller than :data:`MIN_FONT_PT`, so at 390 px (a
content width of :data:`PHONE_CONTENT_PX`) every label renders at 11 CSS px or more, and the SVG
scales up to :data:`DESKTOP_MAX_PX` on a wide screen. The ``<svg>`` has ``role="img"`` and its alt
text as ``aria-label`` (nbconvert's templates ignore alt text in output metadata, and screen
readers need it on the element); bars and points given a :func:`tip` show their value on hover or
tap (an SVG ``<title>``). :func:`figure_html` can still give a PNG ``<img>`` (``format="png"``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib import font_manager

from energy_lib.core import i18n, templating
from energy_lib.publish import korean_font

__all__ = ["FONT_FAMILY", "PALETTE", "PHONE_WIDTH_IN", "PHONE_CONTENT_PX", "DESKTOP_MAX_PX", "MIN_FONT_PT",
           "korean_font_files", "use_style", "figure", "tip", "legible", "to_png", "to_svg", "figure_html", "show"]

FONT_FAMILY = "NanumGothic"
"""Font family used for all text; it covers Hangul, Latin and digits."""

PHONE_WIDTH_IN = 4.0
"""Figure width [in]: 288 pt, the SVG's width in user units (1 unit = 1 pt)."""

PHONE_CONTENT_PX = 358
"""The width [CSS px] a chart is drawn at on a 390 px phone: the page's content width (390 − 2 ×
16 px of padding)."""

MIN_FONT_PT = 9.0
"""The smallest text of a figure [pt = SVG user units]: drawn :data:`PHONE_WIDTH_IN` (288 pt) wide
at :data:`PHONE_CONTENT_PX` it renders at 9 × 358 / 288 = 11.2 CSS px."""

DESKTOP_MAX_PX = 560
"""The widest a chart is drawn [CSS px]: on a desktop it scales up to this, about twice its size
on a phone (text about 18–25 px)."""

PALETTE = {
    "electricity": "#1f77b4",
    "gas": "#d62728",
    "water": "#17becf",
    "heat": "#ff7f0e",
    "baseline": "#7f7f7f",
    "observed": "#2c3e50",
    "savings": "#2ca02c",
    "uncertainty": "#a6d8a6",
}
"""Colours by carrier and by role, so one carrier has the same colour in every figure."""

_DPI = 110


def korean_font_files() -> list[Path]:
    """NanumGothic font files shipped in the ``koreanize-matplotlib`` distribution
    (:func:`energy_lib.publish.korean_font.font_folder`, which raises if it is missing)."""
    return sorted(korean_font.font_folder().glob("NanumGothic*.ttf"))


def use_style() -> None:
    """Apply the workbook style to matplotlib and seaborn (idempotent).

    Registers NanumGothic, then sets seaborn's whitegrid theme with that font (``set_theme``
    would otherwise reset the family to one without Hangul) and the ASCII hyphen for minus signs
    (NanumGothic has no U+2212).
    """
    registered = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in korean_font_files():
        if str(path) not in registered:
            font_manager.fontManager.addfont(str(path))
    sns.set_theme(
        context="notebook", style="whitegrid", font=FONT_FAMILY,
        rc={
            "axes.unicode_minus": False,
            "figure.dpi": _DPI,
            "savefig.dpi": _DPI,
            "figure.figsize": (PHONE_WIDTH_IN, PHONE_WIDTH_IN * 0.62),
            "axes.titlesize": 11,
            "axes.labelsize": 9.5,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "legend.title_fontsize": 9,
            "figure.titlesize": 11,
            "svg.fonttype": "none",  # text stays text, drawn by the page in its font
            "axes.spines.top": False,
            "axes.spines.right": False,
        },
    )


def figure(nrows: int = 1, ncols: int = 1, *, height_ratio: float = 0.62, **kwargs):
    """A new figure in the workbook style, phone width, ``height_ratio`` × width per row.

    Returns ``(fig, ax)`` like :func:`matplotlib.pyplot.subplots`.
    """
    use_style()
    size = (PHONE_WIDTH_IN, PHONE_WIDTH_IN * height_ratio * nrows)
    return plt.subplots(nrows, ncols, figsize=size, layout="constrained", **kwargs)


def tip(artists, texts) -> None:
    """Give each of ``artists`` (bars, markers, map cells) its value as a tooltip: an SVG
    ``<title>`` that a browser shows on hover or a long tap.

    Parameters
    ----------
    artists : iterable of matplotlib.artist.Artist
        E.g. the patches of ``ax.bar(...)``; all of one figure.
    texts : iterable of str
        What each shows, e.g. ``"서구: 3,120 kWh"``.
    """
    for artist, text in zip(artists, texts):
        fig = artist.get_figure()
        tips = fig.__dict__.setdefault("_workbook_tips", {})
        gid = f"tip{len(tips)}"
        artist.set_gid(gid)
        tips[gid] = str(text)


def legible(fig) -> None:
    """Raise every text of ``fig`` smaller than :data:`MIN_FONT_PT` to it (titles, labels, tick
    labels, legends, annotations), so no chart text renders under 11 px on a phone, and let titles,
    labels and annotations wrap at the figure's edge (tick labels and legend entries get room from
    the layout instead)."""
    from matplotlib.offsetbox import TextArea
    from matplotlib.text import Text

    laid_out = {id(area._text) for area in fig.findobj(TextArea)}  # legend entries and their title
    for ax in fig.axes:
        for which, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            # get_ticklabels places the ticks for the axes' size before the layout: their number may
            # change when the figure is drawn, but not their font size (tick_params sets it for
            # every tick the axis makes), so no draw is needed to find it
            ticks = axis.get_ticklabels(which="both")
            labels = [t for t in ticks if t.get_text()]
            if labels and min(t.get_fontsize() for t in labels) < MIN_FONT_PT:
                ax.tick_params(axis=which, which="both", labelsize=MIN_FONT_PT)  # sets these labels in place
            laid_out |= {id(t) for t in ticks}
    for text in fig.findobj(Text):
        if text.get_fontsize() < MIN_FONT_PT:
            text.set_fontsize(MIN_FONT_PT)
        # a title longer than the phone's width (an English map title) breaks into lines rather
        # than running past the figure's edge, where the SVG cuts it off
        if id(text) not in laid_out:
            text.set_wrap(True)


def to_png(fig) -> bytes:
    """PNG bytes of ``fig`` (deterministic: no timestamp or software metadata)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


_ID = re.compile(r'\bid="([^"]+)"')


def to_svg(fig, alt: str) -> str:
    """``fig`` as an inline ``<svg>`` element for a page, its text as text.

    Deterministic: the ids matplotlib hashes are salted with the alt text (``svg.hashsalt``), no
    date or software metadata is written, and every id is prefixed by a hash of the drawing so
    that two charts on one page never share one. The ``<svg>`` scales with the page
    (``width="100%"``, up to :data:`DESKTOP_MAX_PX`), has ``role="img"`` and ``aria-label`` (the alt
    text), and each :func:`tip` becomes a ``<title>`` in its element.
    """
    legible(fig)
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": hashlib.sha256(alt.encode()).hexdigest()[:16]}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):].replace('<style type="text/css">*{', '<style type="text/css">svg.chart *{')
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    for gid, text in fig.__dict__.get("_workbook_tips", {}).items():
        opening = templating.render("plots/tip.html.j2", gid=gid, text=text)
        svg = svg.replace(opening[:opening.index("<title>")], opening, 1)
    # coordinates to 0.01 pt (matplotlib writes 10⁻⁶): a map's paths are a third of the size
    svg = re.sub(r'(?<=[ "(,])(-?[0-9]+\.[0-9]{2})[0-9]+', r"\1", svg)
    prefix = "c" + hashlib.sha256(svg.encode()).hexdigest()[:8] + "-"
    svg = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = svg.replace("url(#", f"url(#{prefix}").replace('xlink:href="#', f'xlink:href="#{prefix}')
    svg = re.sub(r'\s(?:width|height)="[0-9.]+pt"', "", svg[:400], count=2) + svg[400:]
    svg = templating.render("plots/svg_head.html.j2", alt=alt, max_px=DESKTOP_MAX_PX) + svg[len("<svg "):]
    # the figure's own font names, then the page's: NanumGothic is loaded by the site's CSS
    return svg.replace("font-family: 'NanumGothic'", "font-family: NanumGothic, sans-serif")


def figure_html(fig, alt: str, *, table=None, table_summary: str | None = None,
                format: str = "png") -> str:
    """``fig`` as HTML with its alternative text (and its table), then close it.

    For widgets that are updated in place (a Voila app), which take HTML rather than a display;
    :func:`show` displays the same HTML as inline SVG. Parameters as :func:`show`.

    Parameters
    ----------
    format : {"png", "svg"}
        An ``<img>`` of a PNG with ``alt``, or inline SVG (:func:`to_svg`).

    Raises
    ------
    ValueError
        If ``alt`` is empty: every figure in the workbook needs alt text.
    """
    if not alt or not alt.strip():
        raise ValueError("Every figure needs alt text describing what it shows.")
    if format not in ("png", "svg"):
        raise ValueError(f"format must be 'png' or 'svg', not {format!r}")
    # matplotlib's SVG (post-processed by to_svg) and pandas' table (to_html escapes its cells)
    # come from trusted serializers: Markup, so that the template does not escape them again
    svg = templating.Markup(to_svg(fig, alt)) if format == "svg" else None
    if table_summary is None:
        table_summary = " · ".join(i18n.text("common.table", lang) for lang in i18n.LANGUAGES)
    png = base64.b64encode(to_png(fig)).decode("ascii") if format == "png" else None
    plt.close(fig)
    shown = None if table is None else templating.Markup(
        table.to_html(na_rep="–", float_format=lambda v: f"{v:,.1f}", border=0))
    return templating.render("plots/figure.html.j2", svg=svg, png=png, alt=alt, table=shown, table_summary=table_summary)


def show(fig, alt: str, *, table=None, table_summary: str | None = None,
         collapsed: str | None = None) -> None:
    """Display ``fig`` in a notebook as inline SVG with alternative text, then close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    alt : str
        What the figure shows, in words: the trend and the key numbers, not "a chart".
    table : pandas.DataFrame, optional
        The figure's numbers, shown under it in a collapsed ``<details>`` element: the table
        alternative that accessibility rules (KWCAG 2.2, WCAG 1.1.1) ask for beside a chart.
        Format it for the page's language first (:func:`energy_lib.core.formatting.table`).
    table_summary : str, optional
        The label of the collapsed table; default the catalogue's ``common.table`` in every language
        (``표로 보기 · Show as a table``).
    collapsed : str, optional
        Show the figure (and its table) folded in a ``<details>`` element with this label: a
        second view of the same numbers that a reader opens when they want it.

    Raises
    ------
    ValueError
        If ``alt`` is empty: every figure in the workbook needs alt text.
    """
    from IPython.display import display

    shown = figure_html(fig, alt, table=table, table_summary=table_summary, format="svg")
    if collapsed:
        shown = templating.render("plots/collapsed.html.j2", summary=collapsed, shown=templating.Markup(shown))
    display({"text/html": shown, "text/plain": alt}, raw=True)
