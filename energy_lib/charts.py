"""The report charts: each returns a figure, its alt text and its table, in the page's language.

A chart of a published page always comes with words (alt text that states the key numbers) and a
table (the numbers themselves), so it can be read without seeing it and without telling colours
apart (KWCAG 2.2 / WCAG 1.1.1 and 1.4.1). Numbers come from the open-data tables; a suppressed
value is shown as a gap and named as suppressed in the words and the table.

>>> fig, alt, table = charts.monthly_by_carrier(series, units, lang="ko")
>>> plots.show(fig, alt=alt, table=table, table_summary=i18n.text("common.table", "ko"))
"""

from __future__ import annotations

import html

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_lib import i18n, plots

__all__ = ["Chart", "CARRIERS", "monthly_by_carrier", "stacked_shares", "labelled_bars", "intervals", "tier_bars",
           "distribution", "event_study", "prosumer_balance"]

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
    why = html.escape(i18n.text("withheld.why", lang))
    see = i18n.text("withheld.see", lang, name=f'<a href="{html.escape(href)}">{html.escape(i18n.area_name(parent, lang))}</a>')
    return Withheld(f'<p class="withheld" role="note">{why} {see}</p>')


def _all_withheld(frame: pd.DataFrame, values: list[str]) -> bool:
    """No row, or no published number among ``values``."""
    return frame.empty or frame[values].astype(float).isna().all().all()


def _carrier(carrier: str, lang: str) -> str:
    return i18n.text(f"carrier.{carrier}", lang)


def monthly_by_carrier(series: pd.DataFrame, units: pd.Series, annual: pd.DataFrame, *, lang: str) -> Chart:
    """Small multiples of monthly use, one panel per carrier in its own unit [1,000 units].

    Parameters
    ----------
    series : pandas.DataFrame
        :func:`energy_lib.aggregate.monthly_series` (months × carriers; NaN = suppressed).
    units : pandas.Series
        Unit per carrier.
    annual : pandas.DataFrame
        The area's rows of :func:`energy_lib.aggregate.last_twelve_months`, indexed by carrier.
    """
    carriers = [c for c in CARRIERS if c in series.columns and series[c].notna().any()]
    rows = max(1, (len(carriers) + 1) // 2)
    fig, axes = plots.figure(rows, 2, height_ratio=0.42, sharex=True, squeeze=False)
    months = pd.PeriodIndex(series.index, freq="M").to_timestamp()
    for ax, carrier in zip(axes.flat, carriers):
        ax.plot(months, series[carrier] / 1000, color=plots.PALETTE[carrier], linewidth=1.8)
        ax.set_title(f"{_carrier(carrier, lang)} [1,000 {units[carrier]}]", fontsize=10)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    for ax in list(axes.flat)[len(carriers):]:
        ax.set_visible(False)
    summary = "; ".join(i18n.text("report.monthly_summary", lang, carrier=_carrier(c, lang),
                                  recent=i18n.number(annual["recent"].get(c, np.nan), lang), unit=units[c],
                                  change=i18n.number(annual["change"].get(c, np.nan), lang, 1, percent=True))
                        for c in carriers)
    alt = i18n.text("report.monthly_alt", lang, start=series.index.min(), end=series.index.max(),
                    summary=summary or i18n.text("report.no_data", lang))
    table = series[carriers].rename(columns=lambda c: f"{_carrier(c, lang)} [{units[c]}]")
    return Chart(fig, alt, table, lang)


def stacked_shares(shares: pd.DataFrame, *, lang: str, alt_key: str) -> Chart:
    """Horizontal bars of each row's shares by carrier [fraction], shares printed on the bars.

    Parameters
    ----------
    shares : pandas.DataFrame
        Rows (areas, named) × carriers, each row summing to 1 (:func:`energy_lib.aggregate.energy_mix`).
    alt_key : str
        Catalogue key of the alt text, with a ``{summary}`` placeholder.
    """
    fig, ax = plots.figure(height_ratio=0.2 + 0.09 * len(shares))
    left = np.zeros(len(shares))
    for carrier in shares.columns:
        widths = shares[carrier].fillna(0.0).to_numpy()
        ax.barh(shares.index, widths, left=left, color=plots.PALETTE[carrier], label=_carrier(carrier, lang))
        for y, (x0, width) in enumerate(zip(left, widths)):
            if width > 0.08:  # the share printed on its bar: the chart reads without colour
                ax.text(x0 + width / 2, y, f"{width:.0%}", ha="center", va="center", color="white", fontsize=9)
        left += widths
    for y, hidden in enumerate(shares.isna().all(axis=1)):
        if hidden:
            ax.text(0.01, y, i18n.text("common.suppressed", lang), va="center", ha="left", fontsize=9)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.legend(ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    ax.invert_yaxis()
    summary = "; ".join(f"{name}: " + (", ".join(f"{_carrier(c, lang)} {shares.loc[name, c]:.0%}" for c in shares.columns)
                                       if shares.loc[name].notna().all() else i18n.text("common.suppressed", lang))
                        for name in shares.index)
    table = (shares * 100).round(1).rename(columns=lambda c: f"{_carrier(c, lang)} %")
    return Chart(fig, i18n.text(alt_key, lang, summary=summary), table, lang)


def labelled_bars(values: pd.Series, *, lang: str, unit: str, alt: str, highlight: str | None = None,
                  decimals: int = 0) -> Chart:
    """Horizontal bars with their values printed; ``highlight`` (an index label) drawn darker
    and named in the alt text. Suppressed values are gaps labelled as suppressed."""
    fig, ax = plots.figure(height_ratio=0.2 + 0.075 * len(values))
    colours = [plots.PALETTE["observed"] if name == highlight else plots.PALETTE["electricity"] for name in values.index]
    filled = values.astype(float).fillna(0.0)
    ax.barh([str(i) for i in values.index], filled, color=colours)
    top = float(filled.max()) if len(filled) else 0.0
    for y, value in enumerate(values.astype(float)):
        inside = value == value and value > top * 0.3
        ax.text(value if inside else (0 if value != value else value), y,
                (i18n.number(value, lang, decimals) + " ") if inside else (" " + i18n.number(value, lang, decimals)),
                va="center", ha="right" if inside else "left", fontsize=8, color="white" if inside else "black")
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.tick_params(axis="y", labelsize=8)
    table = pd.DataFrame({unit: [i18n.number(v, lang, decimals) for v in values.astype(float)]}, index=values.index)
    return Chart(fig, alt, table, lang)


def intervals(frame: pd.DataFrame, *, lang: str, label: str, unit: str, alt_key: str, scale: float = 1.0,
              area: str | None = None) -> Chart | Withheld:
    """Estimates with 90% intervals (savings ± band) per named row; a line at zero.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``name``, ``savings``, ``band`` and ``meters`` rows (from the open-data ``savings`` table).
    scale : float
        Divide values by this for the axis (e.g. 1000 for MWh from kWh).
    area : str, optional
        The page's area: where its own row is withheld, :func:`withheld` says so instead of a
        chart of the other rows alone.
    """
    if area is not None and _all_withheld(frame[frame["area"] == area], ["savings"]):
        return withheld(area, lang)
    fig, ax = plots.figure(height_ratio=0.2 + 0.09 * max(len(frame), 1))
    y = np.arange(len(frame))
    ax.errorbar(frame["savings"] / scale, y, xerr=frame["band"] / scale, fmt="o", capsize=4, color=plots.PALETTE["savings"])
    ax.axvline(0, color=plots.PALETTE["baseline"], linewidth=1)
    ax.set_yticks(y, frame["name"])
    ax.invert_yaxis()
    ax.set_xlabel(f"{label} [{unit}]")
    summary = "; ".join(f"{n} {i18n.number(s / scale, lang, 1)} ± {i18n.number(b / scale, lang, 1)} {unit}"
                        for n, s, b in zip(frame["name"], frame["savings"], frame["band"]))
    table = pd.DataFrame({
        i18n.text("column.area", lang): frame["name"].to_numpy(),
        i18n.text("column.meters", lang): [i18n.number(v, lang) for v in frame["meters"]],
        f"{i18n.text('column.savings', lang)} [{unit}]": [i18n.number(v / scale, lang, 1) for v in frame["savings"]],
        f"{i18n.text('column.band', lang)} [{unit}]": [i18n.number(v / scale, lang, 1) for v in frame["band"]]})
    return Chart(fig, i18n.text(alt_key, lang, summary=summary or i18n.text("report.no_data", lang)), table, lang)


def tier_bars(points: pd.DataFrame, *, lang: str, area: str | None = None) -> Chart | Withheld:
    """Stacked bars of meters per Carbon Point tier and half-year (rows of the open-data
    ``carbon_point`` table for one area, building type and carrier); :func:`withheld` in its
    place where every half-year is withheld (``area`` given)."""
    if area is not None and _all_withheld(points, ["meters"]):
        return withheld(area, lang)
    points = points.sort_values("half_year")
    tiers = ["tier_1", "tier_2", "tier_3"]
    fig, ax = plots.figure(height_ratio=0.5)
    bottom = np.zeros(len(points))
    for tier, shade, hatch in zip(tiers, ["#9ecae1", "#4292c6", "#08519c"], ["", "//", "xx"]):
        counts = points[tier].astype(float).fillna(0.0).to_numpy()
        # hatching tells the tiers apart without colour
        ax.bar(points["half_year"], counts, bottom=bottom, color=shade, hatch=hatch, edgecolor="white",
               label=i18n.text(f"column.{tier}", lang))
        bottom += counts
    ax.legend(frameon=False, fontsize=8)
    ax.set_ylabel(i18n.text("column.meters", lang))
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    reached = points[tiers].astype(float).sum(axis=1, min_count=3)
    summary = "; ".join(f"{h}: {i18n.number(total, lang)}" for h, total in zip(points["half_year"], reached))
    table = points.set_index("half_year")[["meters", *tiers]].rename(columns=lambda c: i18n.text(f"column.{c}", lang))
    table.index.name = i18n.text("column.half_year", lang)
    return Chart(fig, i18n.text("report.carbon_point_alt", lang, summary=summary or i18n.text("report.no_data", lang)),
                 table, lang)


def distribution(values: pd.Series, *, lang: str, unit: str, alt_key: str, name: str) -> Chart:
    """A histogram of the published values of many areas (e.g. dongs' use per m²), with the
    median marked; suppressed areas are counted in the words, not drawn.

    Parameters
    ----------
    values : pandas.Series
        One value per area [``unit``], NaN where suppressed.
    alt_key : str
        Catalogue key with ``{name}``, ``{count}``, ``{median}``, ``{low}``, ``{high}`` and ``{hidden}``.
    """
    shown = values.dropna().astype(float)
    fig, ax = plots.figure(height_ratio=0.5)
    if len(shown):
        ax.hist(shown, bins=min(20, max(5, len(shown) // 3)), color=plots.PALETTE["electricity"], edgecolor="white")
        ax.axvline(shown.median(), color=plots.PALETTE["observed"], linestyle="--", linewidth=1.5)
    ax.set_xlabel(unit)
    ax.set_ylabel(i18n.text("column.areas", lang))
    quantiles = shown.quantile([0.0, 0.5, 1.0]) if len(shown) else pd.Series([np.nan] * 3, index=[0.0, 0.5, 1.0])
    alt = i18n.text(alt_key, lang, name=name, count=len(shown), median=i18n.number(quantiles[0.5], lang, unit=unit),
                    low=i18n.number(quantiles[0.0], lang, unit=unit), high=i18n.number(quantiles[1.0], lang, unit=unit),
                    hidden=int(values.isna().sum()))
    table = shown.describe(percentiles=[0.25, 0.5, 0.75]).to_frame(unit).round(1) if len(shown) else pd.DataFrame({unit: []})
    return Chart(fig, alt, table, lang)


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
                    pre=i18n.number(before.abs().max() if len(before) else np.nan, lang, 2),
                    post=i18n.number(after.mean() if len(after) else np.nan, lang, 2))
    table = pd.DataFrame({
        i18n.text("programme.event_axis_x", lang): study["event"].to_numpy(),
        f"{i18n.text('column.change', lang)} [{unit}/d]": [i18n.number(v, lang, 2) for v in study["effect"]],
        f"{i18n.text('programme.low', lang)}": [i18n.number(v, lang, 2) for v in study["ci_low"]],
        f"{i18n.text('programme.high', lang)}": [i18n.number(v, lang, 2) for v in study["ci_high"]]})
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
    ax.bar_label(bars, labels=[i18n.number(v, lang) for v in values], padding=3, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("kWh")
    ax.margins(x=0.2)
    alt = i18n.text("programme.prosumer_alt", lang, generation=i18n.number(row["generation"], lang),
                    self_consumed=i18n.number(row["self_consumed"], lang), exported=i18n.number(row["exported"], lang),
                    grid=i18n.number(row["grid_use"], lang), gross=i18n.number(row["gross_use"], lang))
    return Chart(fig, alt, values.map(lambda v: i18n.number(v, lang)).to_frame("kWh"), lang)
