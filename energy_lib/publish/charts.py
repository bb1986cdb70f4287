"""The report charts: each returns a figure, its alt text and its table, in the page's language.

A chart of a published page always comes with words (alt text that states the key numbers) and a
table (the numbers themselves), so it can be read without seeing it and without telling colours
apart (KWCAG 2.2 / WCAG 1.1.1 and 1.4.1). Numbers come from the open-data tables; a suppressed
value is shown as a gap and named as suppressed in the words and the table. Numbers, months and
units are written by :mod:`energy_lib.core.formatting` (Babel) in the page's language; bars carry
their value as a tooltip (:func:`energy_lib.publish.plots.tip`). Where nothing of a chart can be
published, :func:`withheld` (or :func:`nothing_published`) says so in one sentence instead.

>>> fig, alt, table = charts.monthly_by_carrier(series, units, lang="ko")
>>> plots.show(fig, alt=alt, table=table, table_summary=i18n.text("common.table", "ko"))
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.ticker import Formatter, MaxNLocator

from energy_lib.core import formatting, i18n, templating
from energy_lib.publish import plots

__all__ = ["Chart", "Withheld", "CARRIERS", "withheld", "nothing_published", "monthly_by_carrier", "stacked_shares",
           "labelled_bars", "carrier_bars", "intervals", "half_year", "tier_bars", "distribution", "re100", "emissions",
           "event_study", "prosumer_balance"]

CARRIERS = ("electricity", "gas", "water", "heat")


@dataclass
class Chart:
    """A figure with its alt text and table; :meth:`show` displays all three."""

    figure: object
    alt: str
    table: pd.DataFrame
    lang: str

    def show(self) -> None:
        plots.show(self.figure, alt=self.alt, table=self.table, table_summary=i18n.text("common.table", self.lang))


@dataclass(frozen=True)
class Withheld:
    """In place of a chart whose every number is withheld: why, in plain words, and a link to the
    nearest level that is published (the gu for a dong, the city for a gu); :meth:`show` displays it."""

    html: str

    def show(self) -> None:
        from IPython.display import HTML, display

        display(HTML(self.html))


def withheld(area: str, lang: str) -> Withheld:
    """Why the numbers of ``area`` (a dong or gu code) are withheld, and where to look instead.

    The link is relative to the area's own page (``<lang>/dong/<code>.html`` or
    ``<lang>/gu/<code>.html``): a dong points to its gu, a gu to the city."""
    parent = area[:5] if len(area) == 10 else "city"
    href = f"../gu/{parent}.html" if parent != "city" else "../city.html"
    return _withheld_html(i18n.text("withheld.why", lang), lang, href=href, name=i18n.area_name(parent, lang))


def nothing_published(lang: str, *, href: str, name: str) -> Withheld:
    """One sentence in place of a chart that has nothing publishable, linking to the nearest
    level that is published (``href`` relative to the page, ``name`` its link text)."""
    return _withheld_html(i18n.text("report.no_data", lang), lang, href=href, name=name)


def _withheld_html(lead: str, lang: str, *, href: str, name: str) -> Withheld:
    """``lead`` and the catalogue's "see ``name``" sentence with ``name`` linked to ``href``
    (``templates/charts/withheld.html.j2``; every text escaped)."""
    before, after = i18n.text("withheld.see", lang, name="\x00").split("\x00")
    return Withheld(templating.render("charts/withheld.html.j2", lead=lead, before=before, after=after,
                                      href=href, name=name))


def _all_withheld(frame: pd.DataFrame, values: list[str]) -> bool:
    """No row, or no published number among ``values``."""
    return frame.empty or frame[values].astype(float).isna().all().all()


def _carrier(carrier: str, lang: str) -> str:
    return i18n.text(f"carrier.{carrier}", lang)


def _suppressed(lang: str) -> str:
    return i18n.text("common.suppressed", lang)


class _LocaleFormatter(Formatter):
    """Tick labels in the page's number format, with as many decimals as the tick step needs
    (``0, 50, 100``; ``0.0, 0.5, 1.0``), or a fixed number of them."""

    def __init__(self, lang: str, decimals: int | None = None):
        self.lang, self.decimals = lang, decimals

    def __call__(self, value, pos=None) -> str:
        decimals = self.decimals
        if decimals is None:  # the fewest decimals that write every tick exactly
            locs = np.asarray(self.locs, dtype=float)
            decimals = next((d for d in range(3) if np.allclose(locs * 10**d, np.round(locs * 10**d), atol=1e-6)), 3)
        return formatting.number(value, self.lang, decimals)


def _number_axis(axis, lang: str, decimals: int | None = None) -> None:
    """Tick labels of ``axis`` in the page's number format (decimals from the tick step if not given)."""
    axis.set_major_formatter(_LocaleFormatter(lang, decimals))


def _bar_height(count: int, per_bar: float = 0.075, extra: float = 0.16) -> float:
    """Height ratio of a horizontal bar chart of ``count`` bars (9 pt labels, ≥ 0.3 in a bar)."""
    return extra + per_bar * max(count, 1)


def monthly_by_carrier(series: pd.DataFrame, units: pd.Series, annual: pd.DataFrame, *, lang: str,
                       area: str | None = None) -> Chart | Withheld:
    """Monthly use, one panel per carrier under each other, each in its own unit scaled to be
    read (kWh → MWh → GWh; m³ → 1,000 m³).

    Parameters
    ----------
    series : pandas.DataFrame
        :func:`energy_lib.publish.aggregate.monthly_series` (months × carriers; NaN = suppressed).
    units : pandas.Series
        Canonical unit per carrier (``kWh``, ``m³``).
    annual : pandas.DataFrame
        The area's rows of :func:`energy_lib.publish.aggregate.last_twelve_months`, indexed by carrier:
        the last twelve months' total and change, where published, go into the words.
    area : str, optional
        The page's area: where no month of any carrier is published, :func:`withheld` says so
        (without an area, :func:`nothing_published` pointing to the city's page).
    """
    carriers = [c for c in CARRIERS if c in series.columns and series[c].notna().any()]
    if not carriers:  # never an empty chart: why, and where to look instead
        return _nothing(area, lang)
    months = pd.PeriodIndex(series.index, freq="M").to_timestamp()
    fig, axes = plots.figure(max(1, len(carriers)), 1, height_ratio=0.36, sharex=True, squeeze=False)
    scales = {c: formatting.scale_for(series[c], units[c]) for c in carriers}
    for ax, carrier in zip(axes[:, 0], carriers):
        scale = scales[carrier]
        line, = ax.plot(months, scale.apply(series[carrier]), color=plots.PALETTE[carrier], linewidth=1.8)
        ax.set_title(f"{_carrier(carrier, lang)} [{scale.unit}]", loc="left")
        _number_axis(ax.yaxis, lang)
        ax.set_ylim(bottom=0)
    bottom = axes[-1, 0]
    bottom.xaxis.set_major_locator(mdates.YearLocator())
    bottom.xaxis.set_major_formatter(lambda value, _: formatting.year(mdates.num2date(value).year, lang))
    parts = []
    for c in carriers:
        values, scale = series[c].astype(float), scales[c]
        shown = values.dropna()
        words = i18n.text("report.monthly_summary", lang, carrier=_carrier(c, lang),
                          low=formatting.number(scale.apply(shown.min()), lang, 1, unit=scale.unit),
                          high=formatting.number(scale.apply(shown.max()), lang, 1, unit=scale.unit),
                          month=formatting.month(shown.index[-1], lang),
                          last=formatting.number(scale.apply(shown.iloc[-1]), lang, 1, unit=scale.unit))
        recent = annual["recent"].get(c, np.nan) if "recent" in annual else np.nan
        if not formatting.missing(recent):
            words += i18n.text("report.monthly_year", lang, total=formatting.quantity(recent, lang, units[c]),
                               change=formatting.percent(annual["change"].get(c, np.nan), lang, 1, signed=True))
        if values.isna().any():
            words += i18n.text("report.monthly_gaps", lang, count=int(values.isna().sum()))
        parts.append(words)
    alt = i18n.text("report.monthly_alt", lang, start=formatting.month(series.index.min(), lang),
                    end=formatting.month(series.index.max(), lang),
                    summary=" ".join(parts) or i18n.text("report.no_data", lang))
    table = pd.DataFrame({f"{_carrier(c, lang)} [{units[c]}]": series[c].to_numpy(dtype=float) for c in carriers},
                         index=[formatting.month(m, lang) for m in series.index])
    table.index.name = i18n.text("column.month", lang)
    return Chart(fig, alt, formatting.table(table, lang), lang)


def stacked_shares(shares: pd.DataFrame, *, lang: str, alt_key: str) -> Chart:
    """Horizontal bars of each row's shares by carrier [fraction], shares printed on the bars.

    Parameters
    ----------
    shares : pandas.DataFrame
        Rows (areas, named) × carriers, each row summing to 1 (:func:`energy_lib.publish.aggregate.energy_mix`).
    alt_key : str
        Catalogue key of the alt text, with a ``{summary}`` placeholder.
    """
    fig, ax = plots.figure(height_ratio=_bar_height(len(shares), 0.09, 0.3))
    left = np.zeros(len(shares))
    for carrier in shares.columns:
        widths = shares[carrier].fillna(0.0).to_numpy()
        bars = ax.barh(list(shares.index), widths, left=left, color=plots.PALETTE[carrier], label=_carrier(carrier, lang))
        plots.tip(bars.patches, [f"{name} · {_carrier(carrier, lang)} {formatting.percent(w, lang, 0)}"
                                 for name, w in zip(shares.index, widths)])
        for y, (x0, width) in enumerate(zip(left, widths)):
            if width > 0.12:  # the share printed on its bar: the chart reads without colour
                ax.text(x0 + width / 2, y, formatting.percent(width, lang, 0), ha="center", va="center", color="white")
        left += widths
    for y, hidden in enumerate(shares.isna().all(axis=1)):
        if hidden:
            ax.text(0.01, y, _suppressed(lang), va="center", ha="left")
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: formatting.percent(v, lang, 0))
    ax.legend(ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False, handlelength=1.2,
              columnspacing=1.0)
    ax.invert_yaxis()
    summary = "; ".join(f"{name}: " + (", ".join(f"{_carrier(c, lang)} {formatting.percent(shares.loc[name, c], lang, 0)}"
                                                 for c in shares.columns)
                                       if shares.loc[name].notna().all() else _suppressed(lang))
                        for name in shares.index)
    table = shares.rename(columns=lambda c: f"{_carrier(c, lang)} [%]")
    shown = formatting.table(table, lang, {column: (lambda v: formatting.percent(v, lang, 1)) for column in table.columns})
    return Chart(fig, i18n.text(alt_key, lang, summary=summary), shown, lang)


def _bars(ax, values: pd.Series, *, lang: str, decimals: int, colour: str, highlight=None, unit: str = "") -> None:
    """Horizontal bars of ``values`` with their numbers printed (inside a long bar, after a short
    one), a withheld value as the word for it at zero, each bar's value as its tooltip."""
    numbers = values.astype(float)
    filled = numbers.fillna(0.0)
    colours = [plots.PALETTE["observed"] if name == highlight else colour for name in values.index]
    bars = ax.barh([str(i) for i in values.index], filled, color=colours)
    plots.tip(bars.patches, [f"{name}: {formatting.number(v, lang, decimals, unit=unit)}"
                             for name, v in zip(values.index, numbers)])
    top = float(filled.max()) if len(filled) else 0.0
    for y, value in enumerate(numbers):
        inside = value == value and value > top * 0.45
        text = formatting.number(value, lang, decimals)
        ax.text(value if inside else (0 if value != value else value), y, (text + " ") if inside else (" " + text),
                va="center", ha="right" if inside else "left", color="white" if inside else "black",
                style="normal" if value == value else "italic")
    ax.set_xlim(0, top * 1.3 if top > 0 else 1)
    _number_axis(ax.xaxis, lang)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.invert_yaxis()


def _nothing(area: str | None, lang: str) -> Withheld:
    """Why a chart has nothing to draw: the area's withheld note, or a pointer to the city."""
    if area is not None and area != "city":
        return withheld(area, lang)
    return nothing_published(lang, href="../city.html", name=i18n.area_name("city", lang))


def labelled_bars(values: pd.Series, *, lang: str, unit: str, alt: str, highlight: str | None = None,
                  decimals: int = 0, area: str | None = None) -> Chart | Withheld:
    """Horizontal bars with their values printed; ``highlight`` (an index label) drawn darker
    and named in the alt text. Suppressed values are labelled as suppressed at zero; where every
    value is, :func:`withheld` (for ``area``) or :func:`nothing_published` instead of a chart."""
    if values.astype(float).isna().all():
        return _nothing(area, lang)
    fig, ax = plots.figure(height_ratio=_bar_height(len(values)))
    _bars(ax, values, lang=lang, decimals=decimals, colour=plots.PALETTE["electricity"], highlight=highlight, unit=unit)
    ax.set_xlabel(unit)
    table = formatting.table(values.astype(float).to_frame(unit), lang, {unit: decimals})
    return Chart(fig, alt, table, lang)


def carrier_bars(totals: pd.DataFrame, *, lang: str, unit: str, alt_key: str, decimals: int = 0,
                 area: str | None = None, **alt_values) -> Chart | Withheld:
    """Energy by group (building types, gus) and carrier in one unit: a panel of totals over
    every carrier, then one panel per carrier, each withheld value marked as withheld. A group
    with a withheld carrier has no total (never the sum of the carriers that happen to be
    published).

    Parameters
    ----------
    totals : pandas.DataFrame
        :func:`energy_lib.publish.aggregate.carrier_totals` (one unit, e.g. [toe]) with named rows.
    unit : str
        That unit, e.g. ``"toe"``.
    alt_key : str
        Catalogue key with ``{unit}`` and ``{summary}``.

    area : str, optional
        The page's area, for :func:`withheld` where no value of any group is published.
    """
    carriers = [c for c in CARRIERS if c in totals.columns and (totals[c].isna() | (totals[c] != 0)).any()]
    panels = [("total", i18n.text("column.total", lang), totals["total"])]
    panels += [(c, _carrier(c, lang), totals[c][(totals[c] != 0) | totals[c].isna()]) for c in carriers]
    # a panel of nothing but withheld values would be an empty chart: named under the figure instead
    hidden = [title for key, title, values in panels if values.isna().all()]
    panels = [panel for panel in panels if not panel[2].isna().all()]
    if totals.empty or not panels:
        return _nothing(area, lang)
    heights = [0.55 + 0.3 * len(values) for _, _, values in panels]
    fig, axes = plots.figure(len(panels), 1, height_ratio=sum(heights) / plots.PHONE_WIDTH_IN / len(panels),
                             squeeze=False, gridspec_kw={"height_ratios": heights})
    for ax, (key, title, values) in zip(axes[:, 0], panels):
        colour = plots.PALETTE["observed"] if key == "total" else plots.PALETTE[key]
        _bars(ax, values, lang=lang, decimals=decimals, colour=colour, unit=unit)
        ax.set_title(f"{title} [{unit}]", loc="left")
    if hidden:
        fig.supxlabel(i18n.text("report.all_withheld", lang, names=", ".join(hidden)), x=0.01, ha="left", wrap=True,
                      fontsize=plots.MIN_FONT_PT + 0.5)
    parts = []
    for name, row in totals.iterrows():
        if not formatting.missing(row["total"]):
            parts.append(f"{name} {formatting.number(row['total'], lang, decimals)}")
        else:
            hidden = ", ".join(_carrier(c, lang) for c in str(row["withheld"]).split(",") if c)
            shown = ", ".join(f"{_carrier(c, lang)} {formatting.number(row[c], lang, decimals)}" for c in carriers
                              if not formatting.missing(row[c]) and row[c] != 0)
            parts.append(i18n.text("report.partial", lang, name=name, withheld=hidden) + (f" ({shown})" if shown else ""))
    alt = i18n.text(alt_key, lang, unit=unit, summary="; ".join(parts), **alt_values)
    table = totals[["total", *carriers]].rename(columns=lambda c: f"{i18n.text('column.total', lang) if c == 'total' else _carrier(c, lang)} [{unit}]")
    return Chart(fig, alt, formatting.table(table, lang, default_decimals=decimals), lang)


def intervals(frame: pd.DataFrame, *, lang: str, label: str, unit: str | None = None, alt_key: str,
              scale: float = 1.0, area: str | None = None) -> Chart | Withheld:
    """Estimates with 90% intervals (savings ± band) per named row; a line at zero. Rows in
    different units (a ``unit`` column, ``unit`` not given) get one panel per unit, each
    scaled to be read (kWh → MWh …): quantities in different units never share an axis.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``name``, ``savings``, ``band`` and ``meters`` rows (from the open-data ``savings`` table),
        and ``unit`` if ``unit`` is not given.
    unit : str, optional
        The unit of every row after dividing by ``scale`` (e.g. ``"MWh"``).
    scale : float
        Divide values by this for the axis (e.g. 1000 for MWh from kWh).
    area : str, optional
        The page's area: where its own row is withheld, :func:`withheld` says so instead of a
        chart of the other rows alone.
    """
    if area is not None and _all_withheld(frame[frame["area"] == area], ["savings"]):
        return withheld(area, lang)
    if unit is not None:
        groups = [(unit, scale, frame)]
    else:
        groups = []
        for native, rows in frame.groupby("unit", sort=False):
            chosen = formatting.scale_for(pd.concat([rows["savings"].abs() + rows["band"]]), native)
            groups.append((chosen.unit, chosen.divisor, rows))
    heights = [0.5 + 0.3 * len(rows) for _, _, rows in groups]
    fig, axes = plots.figure(len(groups), 1, height_ratio=sum(heights) / plots.PHONE_WIDTH_IN / len(groups),
                             squeeze=False, gridspec_kw={"height_ratios": heights})
    parts, tables = [], []
    for ax, (shown_unit, divisor, rows) in zip(axes[:, 0], groups):
        y = np.arange(len(rows))
        values, bands = rows["savings"].astype(float) / divisor, rows["band"].astype(float) / divisor
        ax.errorbar(values, y, xerr=bands, fmt="o", capsize=4, color=plots.PALETTE["savings"])
        ax.axvline(0, color=plots.PALETTE["baseline"], linewidth=1)
        ax.set_yticks(y, list(rows["name"]))
        for yy, value in zip(y, values):
            if value != value:
                ax.text(0, yy, " " + _suppressed(lang), va="center", ha="left", style="italic")
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlabel(f"{label} [{shown_unit}]")
        _number_axis(ax.xaxis, lang)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        parts += [f"{n} {formatting.number(s, lang, 1)} ± {formatting.number(b, lang, 1, unit=shown_unit)}"
                  if s == s else f"{n} {_suppressed(lang)}" for n, s, b in zip(rows["name"], values, bands)]
        tables.append(pd.DataFrame({
            i18n.text("column.area", lang): rows["name"].to_numpy(),
            i18n.text("column.meters", lang): [formatting.number(v, lang) for v in rows["meters"]],
            i18n.text("column.savings", lang): [formatting.number(v, lang, 1, unit=shown_unit) for v in values],
            i18n.text("column.band", lang): [formatting.number(v, lang, 1, unit=shown_unit) for v in bands]}))
    alt = i18n.text(alt_key, lang, summary="; ".join(parts) or i18n.text("report.no_data", lang))
    return Chart(fig, alt, pd.concat(tables, ignore_index=True).set_index(i18n.text("column.area", lang)), lang)


def half_year(code: str, lang: str) -> str:
    """A half-year code (``2024H1``) in words: ``2024년 상반기``, ``H1 2024``."""
    return i18n.text(f"common.half_{code[-1]}", lang, year=code[:4]) if len(code) == 6 and code[4] == "H" else code


def tier_bars(points: pd.DataFrame, *, lang: str, area: str | None = None) -> Chart | Withheld:
    """Stacked bars of meters per Carbon Point tier and half-year (rows of the open-data
    ``carbon_point`` table for one area, building type and carrier); :func:`withheld` in its
    place where no half-year's tiers are published (``area`` given): a chart of withheld counts
    would be empty."""
    tiers = ["tier_1", "tier_2", "tier_3"]
    if area is not None and _all_withheld(points, tiers):
        return withheld(area, lang)
    points = points.sort_values("half_year")
    labels = [half_year(h, lang) for h in points["half_year"]]
    fig, ax = plots.figure(height_ratio=_bar_height(len(points), 0.075, 0.3))
    left = np.zeros(len(points))
    for tier, shade, hatch in zip(tiers, ["#9ecae1", "#4292c6", "#08519c"], ["", "//", "xx"]):
        counts = points[tier].astype(float).fillna(0.0).to_numpy()
        # hatching tells the tiers apart without colour
        bars = ax.barh(labels, counts, left=left, color=shade, hatch=hatch, edgecolor="white",
                       label=i18n.text(f"column.{tier}", lang))
        plots.tip(bars.patches, [f"{h} · {i18n.text(f'column.{tier}', lang)}: {formatting.number(v, lang)}"
                                 for h, v in zip(labels, points[tier].astype(float))])
        left += counts
    for y, hidden in enumerate(points[tiers].astype(float).isna().all(axis=1)):
        if hidden:
            ax.text(0, y, " " + _suppressed(lang), va="center", ha="left", style="italic")
    ax.invert_yaxis()
    ax.legend(frameon=False, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16), handlelength=1.2)
    ax.set_xlabel(i18n.text("column.meters", lang))
    _number_axis(ax.xaxis, lang)
    reached = points[tiers].astype(float).sum(axis=1, min_count=3)
    summary = "; ".join(f"{h}: {formatting.number(total, lang)}" for h, total in zip(labels, reached))
    table = points[["meters", *tiers]].astype(float).rename(columns=lambda c: i18n.text(f"column.{c}", lang))
    table.index = labels
    table.index.name = i18n.text("column.half_year", lang)
    return Chart(fig, i18n.text("report.carbon_point_alt", lang, summary=summary or i18n.text("report.no_data", lang)),
                 formatting.table(table, lang), lang)


def distribution(values: pd.Series, *, lang: str, unit: str, alt_key: str, name: str, decimals: int = 0,
                 nearest: tuple[str, str] = ("../city.html", "")) -> Chart | Withheld:
    """A histogram of the published values of many areas (e.g. dongs' use per m²), with the
    median marked; suppressed areas are counted in the words, not drawn. With no published
    value, :func:`nothing_published` pointing to ``nearest`` (href, name) instead.

    Parameters
    ----------
    values : pandas.Series
        One value per area [``unit``], NaN where suppressed.
    alt_key : str
        Catalogue key with ``{name}``, ``{count}``, ``{median}``, ``{low}``, ``{high}`` and ``{hidden}``.
    """
    shown = values.dropna().astype(float)
    if not len(shown):
        return nothing_published(lang, href=nearest[0], name=nearest[1] or i18n.area_name("city", lang))
    fig, ax = plots.figure(height_ratio=0.5)
    counts, edges, bars = ax.hist(shown, bins=min(12, max(4, len(shown) // 4)), color=plots.PALETTE["electricity"],
                                  edgecolor="white")
    plots.tip(bars.patches, [f"{formatting.number(a, lang, decimals)}–{formatting.number(b, lang, decimals)} {unit}: "
                             f"{formatting.number(c, lang)}" for a, b, c in zip(edges[:-1], edges[1:], counts)])
    ax.axvline(shown.median(), color=plots.PALETTE["observed"], linestyle="--", linewidth=1.5)
    ax.set_xlabel(unit)
    ax.set_ylabel(i18n.text("column.areas", lang))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _number_axis(ax.xaxis, lang)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    quantiles = shown.quantile([0.0, 0.25, 0.5, 0.75, 1.0])
    alt = i18n.text(alt_key, lang, name=name, count=len(shown),
                    median=formatting.number(quantiles[0.5], lang, decimals, unit=unit),
                    low=formatting.number(quantiles[0.0], lang, decimals, unit=unit),
                    high=formatting.number(quantiles[1.0], lang, decimals, unit=unit), hidden=int(values.isna().sum()))
    table = pd.DataFrame({unit: [formatting.number(len(shown), lang)]
                          + [formatting.number(quantiles[q], lang, decimals) for q in (0.0, 0.25, 0.5, 0.75, 1.0)]},
                         index=[i18n.text(f"stat.{k}", lang) for k in ("count", "min", "q1", "median", "q3", "max")])
    return Chart(fig, alt, table, lang)


def _year_bars(ax, years, values, *, lang: str, colour: str, label: str, text) -> None:
    bars = ax.bar([str(y) for y in years], values, color=colour, label=label)
    plots.tip(bars.patches, [f"{y}: {text(v)}" for y, v in zip(years, values)])
    ax.bar_label(bars, labels=[text(v) for v in values], padding=2)


def re100(progress: pd.DataFrame, *, lang: str, target_year: int) -> Chart:
    """PV generation's share of electricity use per year [%] with the straight path to RE100
    (:func:`energy_lib.publish.aggregate.re100_progress`)."""
    fig, ax = plots.figure(height_ratio=0.62)
    years = progress["year"].astype(str)
    _year_bars(ax, years, progress["share"] * 100, lang=lang, colour=plots.PALETTE["savings"],
               label=i18n.text("column.pv_share", lang), text=lambda v: formatting.percent(v / 100, lang, 1))
    ax.plot(years, progress["target_share"] * 100, color=plots.PALETTE["baseline"], marker="o", linestyle="--",
            label=i18n.text("column.target_path", lang))
    ax.set_ylabel("%")
    _number_axis(ax.yaxis, lang)
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    summary = ", ".join(f"{y} {formatting.percent(v, lang, 2)}" for y, v in zip(years, progress["share"]))
    table = pd.DataFrame({i18n.text("column.pv_share", lang): [formatting.percent(v, lang, 2) for v in progress["share"]],
                          i18n.text("column.target_path", lang): [formatting.percent(v, lang, 1) for v in progress["target_share"]]},
                         index=pd.Index(years, name=i18n.text("column.year", lang)))
    return Chart(fig, i18n.text("report.re100_alt", lang, summary=summary, year=target_year), table, lang)


def emissions(path: pd.DataFrame, *, lang: str, target_year: int) -> Chart:
    """Emissions of metered energy per year [tCO2eq] with the straight path to net zero
    (:func:`energy_lib.publish.aggregate.emissions_path`)."""
    fig, ax = plots.figure(height_ratio=0.62)
    years = path["year"].astype(str)
    _year_bars(ax, years, path["tco2eq"], lang=lang, colour=plots.PALETTE["gas"], label=i18n.text("column.tco2eq", lang),
               text=lambda v: formatting.number(v, lang))
    ax.plot(years, path["target_tco2eq"], color=plots.PALETTE["baseline"], marker="o", linestyle="--",
            label=i18n.text("column.target_path", lang))
    ax.set_ylabel("tCO2eq")
    _number_axis(ax.yaxis, lang)
    ax.margins(y=0.15)
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    summary = ", ".join(f"{y} {formatting.number(v, lang)}" for y, v in zip(years, path["tco2eq"]))
    table = pd.DataFrame({i18n.text("column.tco2eq", lang): path["tco2eq"].to_numpy(dtype=float),
                          i18n.text("column.target_path", lang) + " [tCO2eq]": path["target_tco2eq"].to_numpy(dtype=float)},
                         index=pd.Index(years, name=i18n.text("column.year", lang)))
    return Chart(fig, i18n.text("report.carbon_alt", lang, summary=summary, year=target_year),
                 formatting.table(table, lang), lang)


def event_study(study: pd.DataFrame, *, lang: str, carrier: str, unit: str, transition_months: int) -> Chart:
    """Participants' daily use against their comparison group, month by month around enrolment,
    with the confidence band; the transition months shaded.

    Parameters
    ----------
    study : pandas.DataFrame
        Rows of the open-data ``programme_event_study`` table for one programme and carrier
        (``event``, ``effect``, ``ci_low``, ``ci_high``) [``unit`` per day].
    transition_months : int
        Months from enrolment that mix days before and after (shaded; left out of the effect).
    """
    study = study.sort_values("event")
    colour = plots.PALETTE.get(carrier, plots.PALETTE["observed"])
    fig, ax = plots.figure(height_ratio=0.6)
    ax.axvspan(-0.5, transition_months - 0.5, color=plots.PALETTE["baseline"], alpha=0.15, linewidth=0)
    ax.fill_between(study["event"], study["ci_low"], study["ci_high"], color=colour, alpha=0.2, linewidth=0)
    ax.plot(study["event"], study["effect"], marker="o", markersize=3, color=colour)
    ax.axhline(0, color=plots.PALETTE["baseline"], linewidth=1)
    ax.set_xlabel(i18n.text("programme.event_axis_x", lang))
    ax.set_ylabel(i18n.text("programme.event_axis_y", lang, unit=f"{unit}/d"))
    before = study.loc[study["event"] < 0, "effect"]
    after = study.loc[study["event"] >= transition_months, "effect"]
    alt = i18n.text("programme.event_alt", lang, carrier=_carrier(carrier, lang), unit=f"{unit}/d",
                    pre=formatting.number(before.abs().max() if len(before) else np.nan, lang, 2),
                    post=formatting.number(after.mean() if len(after) else np.nan, lang, 2))
    table = pd.DataFrame({
        i18n.text("programme.event_axis_x", lang): study["event"].to_numpy(),
        f"{i18n.text('column.change', lang)} [{unit}/d]": [formatting.number(v, lang, 2) for v in study["effect"]],
        f"{i18n.text('programme.low', lang)}": [formatting.number(v, lang, 2) for v in study["ci_low"]],
        f"{i18n.text('programme.high', lang)}": [formatting.number(v, lang, 2) for v in study["ci_high"]]})
    return Chart(fig, alt, table, lang)


def prosumer_balance(row: pd.Series, *, lang: str) -> Chart:
    """Electricity per PV participant a year: generated, self-consumed, exported, metered and
    used in all [kWh], from a row of the open-data ``programme_prosumers`` table."""
    labels = {"generation": i18n.text("programme.generation", lang), "self_consumed": i18n.text("programme.self_consumed", lang),
              "exported": i18n.text("programme.exported", lang), "grid_use": i18n.text("programme.grid_use", lang),
              "gross_use": i18n.text("programme.gross_use", lang)}
    values = pd.Series([float(row[p]) for p in labels], index=list(labels.values()))
    colours = [plots.PALETTE["savings"], plots.PALETTE["savings"], plots.PALETTE["uncertainty"],
               plots.PALETTE["electricity"], plots.PALETTE["observed"]]
    fig, ax = plots.figure(height_ratio=0.7)
    bars = ax.barh(values.index, values.to_numpy(), color=colours)
    ax.bar_label(bars, labels=[formatting.number(v, lang) for v in values], padding=3)
    ax.invert_yaxis()
    ax.set_xlabel("kWh")
    ax.margins(x=0.2)
    alt = i18n.text("programme.prosumer_alt", lang, generation=formatting.number(row["generation"], lang),
                    self_consumed=formatting.number(row["self_consumed"], lang), exported=formatting.number(row["exported"], lang),
                    grid=formatting.number(row["grid_use"], lang), gross=formatting.number(row["gross_use"], lang))
    return Chart(fig, alt, formatting.table(values.to_frame("kWh"), lang), lang)
