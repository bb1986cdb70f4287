"""Maps of Gwangju's 96 administrative dongs coloured by a measure, for published reports.

>>> from energy_lib import maps, plots
>>> measure = maps.Measure("가구당 월평균 전력 사용량", "kWh")
>>> fig = maps.draw_map(values, measure, title="행정동별 전력 사용량, 2025년", highlight="29140")
>>> plots.show(fig, alt=maps.map_alt_text(values, measure, highlight="29140"))
>>> maps.map_table(values, measure)          # the same numbers as a table, shown next to the map

``values`` is a :class:`pandas.Series` indexed by the 10-digit ward code; NaN means suppressed
(for privacy, or not published), drawn light grey with hatching.

Shapes come from :mod:`energy_lib.publish.ward_shapes`: without a boundary file the map is a *schematic*
(Voronoi cells of the dong points, :func:`schematic_cells`) and the figure says so; a boundary
GeoJSON gives real shapes (:func:`read_boundaries`). Either way the dense centre, where dongs are
a few millimetres across at phone width, is repeated enlarged in a second panel.

Colour is never the only carrier of meaning (WCAG 2.2, 1.4.1 [1]): suppressed dongs are also
hatched and named in the legend, cells can carry their rank or value (``annotate``), and
:func:`map_table` and :func:`map_alt_text` give every number in words and digits.

The figure is drawn by matplotlib in the workbook style (:mod:`energy_lib.publish.plots`), so Hangul
renders in NanumGothic and the SVG (or PNG) of one input is always the same; each ward carries its
name and value as a tooltip.

References
----------
.. [1] W3C, Web Content Accessibility Guidelines (WCAG) 2.2, success criteria 1.1.1 Non-text
   Content and 1.4.1 Use of Color.
.. [2] Okabe, A., Boots, B., Sugihara, K., Chiu, S. N. (2000). Spatial Tessellations: Concepts and
   Applications of Voronoi Diagrams, 2nd ed. Wiley.
.. [3] Sutherland, I. E., Hodgman, G. W. (1974). Reentrant polygon clipping. Communications of
   the ACM 17(1), 32–42.
.. [4] Butler, H. et al. (2016). The GeoJSON Format, RFC 7946 (coordinates are WGS 84
   longitude, latitude; exterior rings counterclockwise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import colormaps, patheffects
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.transforms import offset_copy

from energy_lib.core import i18n
from energy_lib.core import wards as ward_reference
from energy_lib.publish import plots
from energy_lib.publish.ward_shapes import (
    WardShapes,
    edges,
    gu_outline,
    outline_mask,
    read_boundaries,
    schematic_cells,
    signed_area,
)

# The shapes come from energy_lib.publish.ward_shapes; the names most used with a map are here too.
__all__ = ["CORE_AREA_KM2", "Measure", "MapText", "WardShapes", "schematic_cells", "read_boundaries", "gu_outline",
           "rank_values", "draw_map", "map_table", "map_alt_text"]

CORE_AREA_KM2 = 2.0
"""Wards smaller than this [km²] make up the dense centre that the map repeats, enlarged, in a
second panel: at phone width they are only a few millimetres across."""

_LANGS = ("ko", "en")
_SUPPRESSED_FACE = "#e4e4e4"
_HATCH = dict(hatch="////", hatchcolor="#8c8c8c")
_DONG_EDGE, _GU_EDGE = "#ffffff", "#2b2b2b"
_LABEL_MARGIN_KM = 0.25  # labels in the inset stay this far [km] from its edges


@dataclass(frozen=True)
class Measure:
    """What the map colours: a name, its unit, how to print it and its colour map.

    Parameters
    ----------
    label : str
        The measure's name as readers see it, e.g. ``"가구당 월평균 전력 사용량"``.
    unit : str
        Its unit, e.g. ``"kWh"``; printed in brackets after the label.
    decimals : int, default 0
        Decimal places of printed values.
    cmap : str, default "YlGnBu"
        A sequential matplotlib colour map, light for low values (the alt text says "darker is
        higher"). ColorBrewer's YlGnBu stays readable with the common colour-vision deficiencies.
    """

    label: str
    unit: str
    decimals: int = 0
    cmap: str = "YlGnBu"

    @property
    def axis_label(self) -> str:
        """``label [unit]``, as on the colour bar and the table's header."""
        return f"{self.label} [{self.unit}]" if self.unit else self.label

    def format(self, value: float, *, unit: bool = False) -> str:
        """``value`` with thousands separators and :attr:`decimals` places, with its unit if asked."""
        text = f"{value:,.{self.decimals}f}"
        return f"{text} {self.unit}" if unit and self.unit else text


@dataclass(frozen=True)
class MapText:
    """The fixed words on a map; :meth:`for_lang` gives the workbook's Korean or English.

    Parameters
    ----------
    suppressed : str
        Legend entry (and table entry) of wards whose value is NaN.
    schematic_note : str
        Note under a schematic map: it is not a map of real boundaries, and whose points it uses.
    no_boundary : str
        Legend entry of wards that have no boundary in the file and are drawn as points.
    """

    suppressed: str
    schematic_note: str
    no_boundary: str

    @classmethod
    def for_lang(cls, lang: str) -> MapText:
        """The default text in ``lang`` (``"ko"`` or ``"en"``)."""
        _check_lang(lang)
        return cls(*(i18n.text(f"map.{key}", lang) for key in ("suppressed", "schematic_note", "no_boundary")))


def _check_lang(lang: str) -> None:
    if lang not in _LANGS:
        raise ValueError(f"lang must be one of {', '.join(_LANGS)}, not {lang!r}")


def _aligned(values: pd.Series, table: pd.DataFrame) -> pd.Series:
    """``values`` as floats in the ward table's order; wards absent from ``values`` are NaN."""
    values = pd.Series(values)
    values = values.set_axis(values.index.map(str))
    if values.index.has_duplicates:
        duplicated = sorted(set(values.index[values.index.duplicated()]))
        raise ValueError(f"values has duplicate ward codes: {duplicated}")
    unknown = sorted(set(values.index) - set(table["ward_code"]))
    if unknown:
        raise ValueError(f"values has codes that are not current wards: {unknown[:5]}. Map old codes "
                         "to current wards with energy_lib.core.wards.resolve_codes first.")
    return pd.to_numeric(values).astype(float).reindex(table["ward_code"])


def rank_values(values: pd.Series) -> pd.Series:
    """Rank of each value, 1 = highest; ties share the best rank; NaN stays unranked.

    Parameters
    ----------
    values : pandas.Series of float
        Indexed by ward code.

    Returns
    -------
    pandas.Series of Int64
        Same index, ``<NA>`` where the value is NaN.
    """
    return values.rank(ascending=False, method="min").astype("Int64")


def _names(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Gu and dong names in ``lang`` and the ward's full name, by ward code."""
    gu, dong = table[f"gu_name_{lang}"].to_numpy(), table[f"dong_name_{lang}"].to_numpy()
    full = [f"{g} {d}" if lang == "ko" else f"{d} ({g})" for g, d in zip(gu, dong)]
    return pd.DataFrame({"gu": gu, "dong": dong, "full": full},
                        index=pd.Index(table["ward_code"], name="ward_code"))


def _highlight_kind(highlight: str | None, table: pd.DataFrame) -> str | None:
    if highlight is None:
        return None
    if highlight in set(table["ward_code"]):
        return "ward"
    if highlight in set(table["gu_code"]):
        return "gu"
    raise ValueError(f"highlight must be a current ward code (10 digits) or gu code (5 digits) "
                     f"of the ward table, not {highlight!r}.")


# --- the figure ----------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class _Scene:
    """What both panels draw, computed once."""

    shapes: WardShapes
    data: pd.Series
    cmap: object
    norm: Normalize
    labels: pd.DataFrame  # where each ward's label goes [km]
    edges: tuple  # from edges

    def colour(self, code: str):
        value = self.data[code]
        return to_rgba(_SUPPRESSED_FACE) if math.isnan(value) else self.cmap(self.norm(value))


def _scene(shapes: WardShapes, data: pd.Series, measure: Measure) -> _Scene:
    finite = data.dropna()
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    if low == high:
        low, high = low - 0.5, high + 0.5
    labels = shapes.points()  # a ward's point, or the vertex mean of its largest ring if outside
    for code, rings in shapes.rings.items():
        if not shapes.contains(code, labels.loc[code].to_numpy())[0]:
            labels.loc[code] = max(rings, key=signed_area).mean(axis=0)
    return _Scene(shapes, data, colormaps[measure.cmap], Normalize(low, high), labels, edges(shapes))


def _paint_wards(ax, scene: _Scene) -> None:
    """Cells coloured by value (suppressed: grey, hatched), dong edges thin, gu edges heavy, and
    wards without a shape as points."""
    shapes, data = scene.shapes, scene.data
    drawn = [c for c in shapes.wards["ward_code"] if c in shapes.rings]
    valued = [c for c in drawn if not math.isnan(data[c])]
    hidden = [c for c in drawn if math.isnan(data[c])]
    if valued:
        cells = PathCollection([shapes.path(c) for c in valued], cmap=scene.cmap, norm=scene.norm,
                               edgecolors="none", transform=ax.transData, zorder=1)
        cells.set_array(data[valued].to_numpy())
        ax.add_collection(cells, autolim=False)
    if hidden:
        ax.add_collection(PathCollection([shapes.path(c) for c in hidden], facecolors=_SUPPRESSED_FACE,
                                         edgecolors="none", transform=ax.transData, zorder=1,
                                         gid="suppressed", **_HATCH), autolim=False)
    segments, own, other, gu = scene.edges
    across = other >= 0
    same_gu = across & (gu[own] == gu[np.maximum(other, 0)])
    once = own < other  # an edge between two wards is found from both sides; draw it once
    ax.add_collection(LineCollection(segments[same_gu & once], colors=_DONG_EDGE, linewidths=0.6,
                                     zorder=2), autolim=False)
    ax.add_collection(LineCollection(segments[~across | (~same_gu & once)], colors=_GU_EDGE,
                                     linewidths=1.5, zorder=3, capstyle="round", gid="gu_edges"),
                      autolim=False)
    if shapes.missing:
        xy = scene.labels.loc[list(shapes.missing)].to_numpy()
        ax.scatter(xy[:, 0], xy[:, 1], s=60, c=[scene.colour(c) for c in shapes.missing],
                   edgecolors="black", linewidths=1.0, zorder=4, gid="no_boundary")


def _paint_labels(ax, scene: _Scene, codes, annotate: str, measure: Measure, fontsize: float,
                  within=None) -> None:
    """Each ward's rank or value, black or white for contrast with its colour (WCAG relative
    luminance); inside ``within`` (a view [km]) if given, so that the panel's edge cuts none."""
    ranks = rank_values(scene.data)
    for code in codes:
        if math.isnan(scene.data[code]):
            continue
        x, y = scene.labels.loc[code]
        if within is not None:
            x0, x1, y0, y1 = within
            x = min(max(x, x0 + _LABEL_MARGIN_KM), x1 - _LABEL_MARGIN_KM)
            y = min(max(y, y0 + _LABEL_MARGIN_KM), y1 - _LABEL_MARGIN_KM)
        r, g, b = np.asarray(scene.colour(code)[:3]) ** 2.2
        dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.18
        ax.text(x, y, str(ranks[code]) if annotate == "rank" else measure.format(scene.data[code]),
                ha="center", va="center", fontsize=fontsize, color="white" if dark else "black",
                zorder=5, gid="ward_label")


def _paint_tips(ax, scene: _Scene, names: pd.Series, measure: Measure, text: MapText) -> None:
    """An invisible copy (1% white: a browser shows tooltips only over painted areas) of each ward's cell
    that carries its name and value as a tooltip (an SVG
    ``<title>``: hover or a long tap), over the colours and under the labels."""
    codes = [c for c in scene.shapes.wards["ward_code"] if c in scene.shapes.rings]
    cells = [ax.add_patch(PathPatch(scene.shapes.path(c), facecolor=(1.0, 1.0, 1.0, 0.01), edgecolor="none", zorder=4.5))
             for c in codes]
    plots.tip(cells, [f"{names[c]}: " + (text.suppressed if math.isnan(scene.data[c])
                                          else measure.format(scene.data[c], unit=True)) for c in codes])


def _halo(width: float) -> list:
    return [patheffects.withStroke(linewidth=width, foreground="white")]


def _paint_gu_names(ax, scene: _Scene, codes, lang: str, fontsize: float) -> None:
    """Each gu's name at the area-weighted centre of its wards among ``codes`` if that lies in
    one of them, else at its largest ward's label point."""
    shapes = scene.shapes
    table = shapes.wards.set_index("ward_code")
    codes = [c for c in codes if c in shapes.rings]
    for gu_code in sorted(set(table.loc[codes, "gu_code"])):
        members = [c for c in codes if table.loc[c, "gu_code"] == gu_code]
        areas = np.array([shapes.area(c) for c in members])
        centre = (scene.labels.loc[members].to_numpy() * areas[:, None]).sum(axis=0) / areas.sum()
        if not any(shapes.contains(c, centre)[0] for c in members):
            centre = scene.labels.loc[members[int(np.argmax(areas))]].to_numpy()
        ax.text(*centre, table.loc[members[0], f"gu_name_{lang}"], ha="center", va="center",
                fontsize=fontsize, fontweight="bold", color="#1a1a1a", zorder=7.5,
                path_effects=_halo(3.0), gid="gu_name")


def _paint_highlight(ax, scene: _Scene, highlight: str, kind: str) -> None:
    """A heavy black outline with a white halo round one ward or one gu."""
    if kind == "gu":
        segments, own, other, gu = scene.edges
        border = segments[outline_mask(own, other, gu, highlight)]
        for colour, width, zorder in (("white", 6.0, 6), ("black", 3.0, 6.5)):  # halo, then line
            ax.add_collection(LineCollection(border, colors=colour, linewidths=width, zorder=zorder,
                                             capstyle="round", gid="highlight"), autolim=False)
    elif highlight in scene.shapes.rings:
        ax.add_patch(PathPatch(scene.shapes.path(highlight), facecolor="none", edgecolor="black",
                               linewidth=2.5, zorder=6, path_effects=_halo(5.5), gid="highlight"))
    else:  # a ward drawn as a point
        ax.scatter(*scene.labels.loc[highlight], s=160, facecolors="none", edgecolors="black",
                   linewidths=2.5, zorder=6, gid="highlight")


def _callout(ax, scene: _Scene, code: str, name: str) -> None:
    """The ward's name in a box with a leader line, placed away from the mean of all wards' points
    (the dense centre), where cells are larger."""
    xy = scene.labels.loc[code].to_numpy()
    direction = xy - scene.labels.mean().to_numpy()
    norm = np.hypot(*direction)
    direction = direction / norm if norm > 1e-6 else np.array([0.0, 1.0])
    offset = dict(xy=tuple(xy), xytext=tuple(40 * direction), textcoords="offset points")
    ax.annotate("", **offset, zorder=5.5,
                arrowprops=dict(arrowstyle="-", color="black", linewidth=1.2, shrinkA=0, shrinkB=3))
    ax.annotate(name, **offset, fontsize=10, fontweight="bold", zorder=9, gid="callout",
                ha="left" if direction[0] > 0.3 else "right" if direction[0] < -0.3 else "center",
                va="bottom" if direction[1] > 0.3 else "top" if direction[1] < -0.3 else "center",
                bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="black", linewidth=0.8))


def _frame(ax, view, *, visible: bool) -> None:
    ax.set_xlim(view[0], view[1])
    ax.set_ylim(view[2], view[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set(visible=visible, color="#777777", linewidth=0.8)


def _in_view(xy: np.ndarray, view) -> np.ndarray:
    return (xy[:, 0] >= view[0]) & (xy[:, 0] <= view[1]) & (xy[:, 1] >= view[2]) & (xy[:, 1] <= view[3])


def draw_map(values: pd.Series, measure: Measure, *, title: str, shapes: WardShapes | None = None,
             lang: str = "ko", highlight: str | None = None, annotate: str | None = None,
             inset: bool = True, text: MapText | None = None) -> Figure:
    """A map of the wards coloured by ``values``, with colour bar, legend and notes.

    Parameters
    ----------
    values : pandas.Series of float
        The measure by 10-digit ward code [``measure.unit``]. NaN (or a ward absent from the
        index) is drawn light grey with hatching, with the legend entry ``text.suppressed``.
    measure : Measure
        Name, unit, decimals and colour map of the values.
    title : str
        Figure title.
    shapes : WardShapes, optional
        From :func:`read_boundaries`; :func:`schematic_cells` of all wards if omitted. Wards
        without a shape are drawn as points.
    lang : {"ko", "en"}
        Language of names and fixed text.
    highlight : str, optional
        A ward code (outlined, and named in a callout) or a gu code (its outline drawn heavy).
    annotate : {None, "rank", "value"}
        Print each ward's rank (1 = highest, as in :func:`map_table`) or value in its cell, so
        the map can be read without colour. Without it, gu names are printed instead.
    inset : bool, default True
        Repeat the dense centre (wards under :data:`CORE_AREA_KM2`) enlarged in a second panel,
        where the labels of the wards in its box are printed. False: one panel (a locator map).
    text : MapText, optional
        Fixed words; :meth:`MapText.for_lang` of ``lang`` if omitted.

    Returns
    -------
    matplotlib.figure.Figure
        Phone width (:data:`energy_lib.publish.plots.PHONE_WIDTH_IN`), its height fitted to the map.
        Show it with :func:`energy_lib.publish.plots.show` and :func:`map_alt_text`, next to
        :func:`map_table`.
    """
    _check_lang(lang)
    if annotate not in (None, "rank", "value"):
        raise ValueError(f"annotate must be None, 'rank' or 'value', not {annotate!r}")
    shapes = schematic_cells() if shapes is None else shapes
    text = MapText.for_lang(lang) if text is None else text
    table = shapes.wards
    data = _aligned(values, table)
    kind = _highlight_kind(highlight, table)
    scene = _scene(shapes, data, measure)

    xy = np.vstack([np.concatenate(r) for r in shapes.rings.values()] + [scene.labels.to_numpy()])
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = 0.02 * (high - low).max()
    view = (low[0] - pad, high[0] + pad, low[1] - pad, high[1] + pad)
    small = [c for c in shapes.rings if shapes.area(c) < CORE_AREA_KM2]
    core = None
    if inset and len(small) >= 3:
        low, high = scene.labels.loc[small].min() - 0.7, scene.labels.loc[small].max() + 0.7
        core = (low["x"], high["x"], low["y"], high["y"])
    heights = [(v[3] - v[2]) / (v[1] - v[0]) * plots.PHONE_WIDTH_IN for v in (view, core) if v]
    fig, axes = plots.figure(nrows=len(heights), squeeze=False, gridspec_kw={"height_ratios": heights},
                             height_ratio=(sum(heights) + 2.0) / (plots.PHONE_WIDTH_IN * len(heights)))
    fig.get_layout_engine().set(h_pad=0.08)  # [in]: air above the title and between the panels
    ax = axes[0, 0]
    _frame(ax, view, visible=False)
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    codes = list(table["ward_code"])
    in_core = (_in_view(scene.labels.loc[codes].to_numpy(), core) if core
               else np.zeros(len(codes), dtype=bool))  # labelled in the inset only
    panels = [(ax, None, [c for c, inside in zip(codes, in_core) if not inside])]
    if core:
        ax.add_patch(Rectangle((core[0], core[2]), core[1] - core[0], core[3] - core[2], fill=False,
                               edgecolor="black", linestyle=(0, (4, 2)), linewidth=1.1, zorder=7))
        _frame(axes[1, 0], core, visible=True)
        axes[1, 0].set_title(i18n.text("map.inset_title", lang), loc="left", fontsize=10)
        panels.append((axes[1, 0], core, [c for c, inside in zip(codes, in_core) if inside]))
    for panel, within, labelled in panels:  # within: the inset's view, its labels kept inside
        _paint_wards(panel, scene)
        if annotate is not None:
            size = {"rank": 8.0, "value": 7.5}[annotate] + (0.75 if within else 0.0)
            _paint_labels(panel, scene, labelled, annotate, measure, fontsize=size, within=within)
        else:
            _paint_gu_names(panel, scene, labelled if within else codes, lang, fontsize=10.5)
        if kind is not None:
            _paint_highlight(panel, scene, highlight, kind)
    _paint_tips(ax, scene, _names(table, lang)["full"], measure, text)
    if kind == "ward":
        _callout(ax, scene, highlight, _names(table, lang).loc[highlight, "dong"])
    _key(fig, axes[:, 0].tolist(), scene, measure, text)
    if shapes.schematic:
        fig.supxlabel(text.schematic_note, fontsize=8, color="#444444", x=0.01, ha="left", wrap=True,
                      linespacing=1.4)
    _fit_height(fig, axes[:, 0])
    return fig


def _key(fig, axes: list, scene: _Scene, measure: Measure, text: MapText) -> None:
    """The colour bar under the panels, and under its label the legend of grey hatching and
    points (or, with no value at all, the legend alone in the first panel)."""
    handles = []
    if scene.data.isna().any():
        handles.append(Patch(facecolor=_SUPPRESSED_FACE, edgecolor=_HATCH["hatchcolor"],
                             linewidth=0.6, label=text.suppressed, **_HATCH))
    if scene.shapes.missing:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7, markerfacecolor="white",
                              markeredgecolor="black", label=text.no_boundary))
    legend = dict(handles=handles, frameon=False, fontsize=9.5, handlelength=1.8, handleheight=1.1,
                  columnspacing=1.5, ncols=max(len(handles), 1))
    if scene.data.isna().all():
        axes[0].legend(loc="lower right", **legend)
        return
    bar = fig.colorbar(ScalarMappable(norm=scene.norm, cmap=scene.cmap), ax=axes, shrink=0.75,
                       orientation="horizontal", location="bottom", aspect=30, pad=0.015)
    bar.set_label(measure.axis_label, fontsize=10)
    bar.ax.tick_params(labelsize=9)
    bar.ax.xaxis.set_major_formatter(lambda v, _: measure.format(v))
    bar.outline.set_visible(False)
    if handles:
        below_label = offset_copy(bar.ax.transAxes, fig, y=-36, units="points")
        bar.ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below_label,
                      borderaxespad=0, **legend)


def _fit_height(fig, map_axes) -> None:
    """Fit the figure's height to the map panels, which keep equal aspect at full width.

    Constrained layout centres an equal-aspect panel in its cell, leaving blank bands if the
    figure is too tall, or narrows the panel if too short; a few layout passes (no drawing) find
    the height with neither.
    """
    for _ in range(4):
        fig.get_layout_engine().execute(fig)
        height, change = fig.get_figheight(), 0.0
        for ax in map_axes:
            ax.apply_aspect()
            cell, box = ax.get_position(original=True), ax.get_position()
            # blank width, as the height the panel would gain at full width, less blank height [fraction]
            change += (cell.width - box.width) * box.height / box.width - (cell.height - box.height)
        change *= height
        if abs(change) < 0.01:
            break
        fig.set_figheight(height + change)


# --- text alternatives ---------------------------------------------------------------------




def map_table(values: pd.Series, measure: Measure, *, shapes: WardShapes | None = None,
              lang: str = "ko", text: MapText | None = None) -> pd.DataFrame:
    """The map's numbers as a table: every ward with its rank and value, highest first.

    This is the text alternative a report shows next to the map (WCAG 2.2, 1.1.1 and 1.4.1 [1]).

    Parameters
    ----------
    values : pandas.Series of float
        The measure by ward code [``measure.unit``], NaN where suppressed.
    measure : Measure
    shapes : WardShapes, optional
        The shapes drawn (for their ward table); :func:`energy_lib.core.wards.wards` if omitted.
    lang : {"ko", "en"}
    text : MapText, optional
        ``text.suppressed`` is printed for NaN values.

    Returns
    -------
    pandas.DataFrame
        Index: ward code. Columns rank (1 = highest, ties share a rank, ``–`` if suppressed), gu,
        dong and the value with ``measure.decimals`` places (header ``label [unit]``), as text
        ready to show. Suppressed wards come last, in ward-code order.
    """
    _check_lang(lang)
    table = ward_reference.wards() if shapes is None else shapes.wards
    text = MapText.for_lang(lang) if text is None else text
    data = _aligned(values, table)
    ranks = rank_values(data)
    order = (pd.DataFrame({"rank": ranks.astype(float).fillna(np.inf), "code": data.index})
             .sort_values(["rank", "code"])["code"].to_list())
    names = _names(table, lang).loc[order]
    rank_h, gu_h, dong_h, index_h = (i18n.text(f"map.table_{key}", lang) for key in ("rank", "gu", "dong", "code"))
    return pd.DataFrame({
        rank_h: ["–" if pd.isna(ranks[c]) else str(ranks[c]) for c in order],
        gu_h: names["gu"].to_numpy(),
        dong_h: names["dong"].to_numpy(),
        measure.axis_label: [text.suppressed if math.isnan(data[c]) else measure.format(data[c])
                             for c in order],
    }, index=pd.Index(order, name=index_h))


def map_alt_text(values: pd.Series, measure: Measure, *, shapes: WardShapes | None = None,
                 lang: str = "ko", title: str | None = None, highlight: str | None = None,
                 n_extremes: int = 3) -> str:
    """Alternative text for the map: what it shows, the highest and lowest wards with their
    values, the median, how many are suppressed, and the highlighted ward or gu.

    Parameters
    ----------
    values : pandas.Series of float
        The measure by ward code [``measure.unit``], NaN where suppressed.
    measure : Measure
    shapes : WardShapes, optional
        The shapes drawn (schematic or not, and their ward table); the schematic if omitted.
    lang : {"ko", "en"}
    title : str, optional
        The figure's title, said first.
    highlight : str, optional
        The ward or gu code highlighted on the map.
    n_extremes : int, default 3
        How many highest and lowest wards to name.

    Returns
    -------
    str
        Plain sentences, for :func:`energy_lib.publish.plots.show`'s ``alt``.
    """
    _check_lang(lang)
    table = ward_reference.wards() if shapes is None else shapes.wards
    words = {key: i18n.text(f"map.alt_{key}", lang) for key in (
        "intro", "schematic", "boundaries", "top", "bottom", "median", "suppressed", "ward", "ward_suppressed", "gu",
        "gu_suppressed", "table")}
    data = _aligned(values, table)
    kind = _highlight_kind(highlight, table)
    names = _names(table, lang)["full"]
    finite = data.dropna().sort_values(ascending=False, kind="stable")
    n_wards, n_valued = len(table), len(finite)

    def listed(part: pd.Series) -> str:
        return ", ".join(f"{names[c]} {measure.format(v, unit=True)}" for c, v in part.items())

    schematic = shapes is None or shapes.schematic
    sentences = [(f"{title}: " if title else "") + words["intro"].format(
        n=n_wards, label=measure.axis_label, kind=words["schematic" if schematic else "boundaries"])]
    if n_valued:
        sentences += [words["top"].format(items=listed(finite.iloc[:n_extremes])),
                      words["bottom"].format(items=listed(finite.iloc[::-1].iloc[:n_extremes])),
                      words["median"].format(n=n_valued, value=measure.format(finite.median(), unit=True))]
    if n_valued < n_wards:
        sentences.append(words["suppressed"].format(n=n_wards - n_valued, total=n_wards))
    if kind == "ward" and math.isnan(data[highlight]):
        sentences.append(words["ward_suppressed"].format(name=names[highlight]))
    elif kind == "ward":
        sentences.append(words["ward"].format(name=names[highlight], n=n_valued,
                                              value=measure.format(data[highlight], unit=True),
                                              rank=rank_values(data)[highlight]))
    elif kind == "gu":
        inside = data[(table["gu_code"] == highlight).to_numpy()]
        name = table.loc[table["gu_code"] == highlight, f"gu_name_{lang}"].iloc[0]
        key = "gu" if inside.notna().any() else "gu_suppressed"
        sentences.append(words[key].format(name=name, n=len(inside),
                                           value=measure.format(inside.median(), unit=True)))
    sentences.append(words["table"])
    return " ".join(sentences)
