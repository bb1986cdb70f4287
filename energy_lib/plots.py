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

``show`` displays a figure as an HTML ``<img>`` with its ``alt`` attribute: nbconvert's HTML
templates ignore alt text in output metadata, and screen readers need it on the element.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import io
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib import font_manager

__all__ = ["FONT_FAMILY", "PALETTE", "PHONE_WIDTH_IN", "korean_font_files", "use_style", "figure",
           "to_png", "figure_html", "show"]

FONT_FAMILY = "NanumGothic"
"""Font family used for all text; it covers Hangul, Latin and digits."""

PHONE_WIDTH_IN = 6.0
"""Default figure width in inches; at 110 dpi a figure fits a phone screen at full width and
stays legible when a report page scales it down."""

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
    """NanumGothic font files shipped in the ``koreanize-matplotlib`` distribution.

    Raises
    ------
    RuntimeError
        If the distribution is not installed (it is a dependency in pyproject.toml).
    """
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The Korean font is missing: install the project's dependencies "
                           "(`make venv`, or pip install koreanize-matplotlib).")
    fonts = Path(next(iter(spec.submodule_search_locations))) / "fonts"
    return sorted(fonts.glob("NanumGothic*.ttf"))


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
            "axes.titlesize": 13,
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 10,
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


def to_png(fig) -> bytes:
    """PNG bytes of ``fig`` (deterministic: no timestamp or software metadata)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def figure_html(fig, alt: str, *, table=None, table_summary: str = "표로 보기 · Show as a table") -> str:
    """``fig`` as an HTML ``<img>`` with its alternative text (and its table), then close it.

    For widgets that are updated in place (a Voila app), which take HTML rather than a display;
    :func:`show` displays the same HTML. Parameters as :func:`show`.

    Raises
    ------
    ValueError
        If ``alt`` is empty: every figure in the workbook needs alt text.
    """
    if not alt or not alt.strip():
        raise ValueError("Every figure needs alt text describing what it shows.")
    encoded = base64.b64encode(to_png(fig)).decode("ascii")
    plt.close(fig)
    tag = (f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt, quote=True)}" '
           'style="max-width:100%;height:auto">')
    if table is not None:
        tag += (f"<details><summary>{html.escape(table_summary)}</summary>"
                f"{table.to_html(na_rep='–', float_format=lambda v: f'{v:,.1f}', border=0)}</details>")
    return tag


def show(fig, alt: str, *, table=None, table_summary: str = "표로 보기 · Show as a table") -> None:
    """Display ``fig`` in a notebook as an image with alternative text, then close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    alt : str
        What the figure shows, in words: the trend and the key numbers, not "a chart".
    table : pandas.DataFrame, optional
        The figure's numbers, shown under it in a collapsed ``<details>`` element: the table
        alternative that accessibility rules (KWCAG 2.2, WCAG 1.1.1) ask for beside a chart.
    table_summary : str
        The label of the collapsed table.

    Raises
    ------
    ValueError
        If ``alt`` is empty: every figure in the workbook needs alt text.
    """
    from IPython.display import display

    display({"text/html": figure_html(fig, alt, table=table, table_summary=table_summary), "text/plain": alt}, raw=True)
