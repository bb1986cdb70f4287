"""The live-monitoring app's views: today's load of each monitored site against its expected load,
the city's real-time total, and the readings outside their prediction interval ("unusual").

``energy watch`` keeps the live status up to date (:mod:`energy_lib.realtime.live`: ``status.parquet``
and ``status.json``); the app (``notebooks/apps/live.ipynb``) runs :func:`follow`, which checks the
status twice a second and redraws the widgets when it changed. Nothing here fits a model: the
expected loads and their intervals come with the status; this module sums and words them.

What is shown follows the site register (``series_public``, :func:`published`): a site's own series,
name and card only where the register records that it may be (a public body; consent). The other
sites appear only in their aggregate, and only when it passes the publishing rule
(:class:`energy_lib.publish.privacy.SuppressionRule`, 15/15) in every hour; otherwise the page says in
words that their figures are withheld and why, and the total it shows is that of the public sites
(a total of all sites minus the public sites' series would give the withheld aggregate away).

>>> frame, meta = live.read_status(folder)
>>> live_view.status_html(frame, meta, "ko")
'<p class="live-status" data-testid="live-status" ...>마지막 검침 15:00까지 · 검침 102건 · 갱신 15:00:02</p>'
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from energy_lib.core import i18n, templating
from energy_lib.publish import plots
from energy_lib.publish.privacy import SuppressionRule
from energy_lib.realtime import live

__all__ = ["status_stamp", "follow", "combine", "city_hourly", "Published", "published", "published_hourly",
           "site_intervals", "site_summary", "site_choices", "day_figure_html", "city_figure_html", "site_figure_html",
           "status_html", "city_html", "sites_html", "empty_html", "style"]

_LOG = logging.getLogger(__name__)
APP_FIGURE_WIDTH_IN = 4.2
"""Width of the app's figures [in]: at 110 dpi about 460 px, shown at 360 px on a phone."""
_KST = "Asia/Seoul"
UNUSUAL_COLOUR = "#b8002e"
"""Unusual readings: a dark red (6.8:1 contrast on white, WCAG 1.4.3 asks 4.5:1), also told apart by the ✕ marker and
the words "평소와 다름" (colour is never the only cue, WCAG 1.4.1)."""


def status_stamp(live_dir: str | os.PathLike) -> tuple[int, int] | None:
    """The version of ``status.json`` in ``live_dir``: ``(inode, mtime [ns])``; None when missing.

    The watcher replaces the file in one step (a new inode each time, :func:`energy_lib.realtime.live.write_status`),
    so a changed stamp means a new status. A ``stat`` costs microseconds: the app can ask twice a
    second without reading the files.
    """
    try:
        info = (Path(live_dir) / live.STATUS_JSON).stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns


_NOT_DRAWN = object()  # differs from every stamp


async def follow(live_dir: str | os.PathLike, redraw: Callable[[pd.DataFrame, dict], None], *,
                 every: float = 0.5, drawn: object = _NOT_DRAWN) -> None:
    """Call ``redraw(frame, meta)`` with the live status whenever it changes, and at once unless
    ``drawn`` is its current :func:`status_stamp` (the caller drew it already).

    Runs until cancelled (a task in the app's kernel, alive while the page is open: Voila shuts
    the kernel down when the page closes). ``every`` is the check interval [s].

    A failing redraw is logged and the loop goes on: one bad status must not freeze a page that
    is left open for a day. It is retried at the next change of the status, not every check.
    """
    seen = drawn
    while True:
        stamp = status_stamp(live_dir)
        if stamp != seen:
            seen = stamp
            try:
                redraw(*live.read_status(live_dir))
            except Exception:  # noqa: BLE001 - keep following; the log has the traceback
                _LOG.exception("live view: redrawing the status of %s failed", live_dir)
        await asyncio.sleep(every)


def combine(frame: pd.DataFrame, keys) -> pd.DataFrame:
    """Sum the meters' intervals of ``frame`` (the status table) by ``keys``.

    Returns one row per key with ``actual_kwh`` (the sum, NaN unless every interval in the group has
    a reading), ``expected_kwh``, ``lower_kwh``, ``upper_kwh`` (the summed prediction interval),
    ``read_actual_kwh`` and ``read_expected_kwh`` (actual and expected over the intervals that have a
    reading: a like-for-like comparison while the day is incomplete), ``intervals``, ``readings``
    and ``unusual`` (how many intervals are outside their interval) [kWh].

    Notes
    -----
    The half-widths of the intervals are added in quadrature, as for independent errors:
    :math:`u = \\hat{y} + \\sqrt{\\sum_i (u_i - \\hat{y}_i)^2}`, likewise below. Adding the bounds
    themselves would claim that every meter errs the same way at once.
    """
    read = frame["actual_kwh"].notna()
    parts = frame.assign(
        read_actual_kwh=frame["actual_kwh"].where(read, 0.0),
        read_expected_kwh=frame["expected_kwh"].where(read, 0.0),
        above2=(frame["upper_kwh"] - frame["expected_kwh"]) ** 2,
        below2=(frame["expected_kwh"] - frame["lower_kwh"]) ** 2,
        readings=read.astype(int), intervals=1, unusual=frame["unusual"].astype(int))
    sums = parts.groupby(keys, sort=True)[["read_actual_kwh", "read_expected_kwh", "expected_kwh", "above2", "below2",
                                           "readings", "intervals", "unusual"]].sum(min_count=1)  # NaN: no baseline
    sums["actual_kwh"] = sums["read_actual_kwh"].where(sums["readings"] == sums["intervals"])
    sums["upper_kwh"] = sums["expected_kwh"] + np.sqrt(sums.pop("above2"))
    sums["lower_kwh"] = (sums["expected_kwh"] - np.sqrt(sums.pop("below2"))).clip(lower=0.0)
    return sums[["actual_kwh", "expected_kwh", "lower_kwh", "upper_kwh", "read_actual_kwh", "read_expected_kwh",
                 "intervals", "readings", "unusual"]]


def city_hourly(frame: pd.DataFrame, meta: dict | None = None) -> pd.DataFrame:
    """The city's total per hour of the live day (15-minute meters summed to hours), from
    :func:`combine`: an hour has an actual total once every monitored meter reported it.

    ``unusual`` is 1 for an hour whose total lies outside the total's prediction interval.
    The total's prediction interval is ``meta["city_interval"]`` (the quantiles of the sites'
    summed baseline residuals, :mod:`energy_lib.realtime.live`) where the status has it: the sites share
    the weather and the calendar, so their errors are correlated and the quadrature sum of
    :func:`combine` would be too narrow.
    """
    hours = combine(frame, frame["period_start"].dt.floor("h").rename("period_start"))
    interval = (meta or {}).get("city_interval")
    if interval and len(hours):
        hour = hours.index.hour
        lower = np.array([np.nan if v is None else v for v in interval["lower_offset"]], dtype=float)[hour]
        upper = np.array([np.nan if v is None else v for v in interval["upper_offset"]], dtype=float)[hour]
        known = ~np.isnan(lower) & ~np.isnan(upper)
        hours["lower_kwh"] = np.where(known, np.maximum(hours["expected_kwh"] + lower, 0.0), hours["lower_kwh"])
        hours["upper_kwh"] = np.where(known, hours["expected_kwh"] + upper, hours["upper_kwh"])
    # an hour of the city is unusual when its total is, not when one of its sites is (the site
    # list shows those): with seven sites at 95%, some site is outside in a third of the hours
    actual = hours["actual_kwh"]
    hours["unusual"] = ((actual < hours["lower_kwh"]) | (actual > hours["upper_kwh"])).astype(int)
    return hours


def _is_public(frame: pd.DataFrame) -> pd.Series:
    """Rows of sites whose own series may be shown (a status without the column: none)."""
    if "series_public" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["series_public"].fillna(False).astype(bool)


@dataclass(frozen=True)
class Published:
    """What of a live status may be shown.

    Attributes
    ----------
    public : pandas.DataFrame
        Status rows of the sites whose own series may be shown (``series_public``).
    private_sites : int
        Sites whose series may not be shown [count].
    private_shown : bool
        Their aggregate passes ``rule`` in every hour: the total shown is of every site.
    reason : str or None
        Why their aggregate is withheld: ``too_few_customers`` or ``dominant_customer`` (None when
        shown or when there are none).
    rule : SuppressionRule
    """

    public: pd.DataFrame
    private_sites: int
    private_shown: bool
    reason: str | None
    rule: SuppressionRule

    @property
    def total_frame_is_all(self) -> bool:
        """Whether the total shown is of every monitored site (else of the public sites only)."""
        return self.private_shown or self.private_sites == 0


def _private_check(private: pd.DataFrame, rule: SuppressionRule) -> str | None:
    """Why the hourly aggregate of ``private`` (status rows of non-public sites) fails ``rule`` in
    some hour, or None if it passes in every hour.

    Each site is one customer (an apartment complex's AMI meter is the complex's, billed to one
    customer). An hour's cell counts the sites with a reading in it; the dominance share is the
    largest site's share of the hour's use, or of its expected use before any reading [fraction].
    """
    hour = private["period_start"].dt.floor("h")
    use = private["actual_kwh"].where(private["actual_kwh"].notna(), private["expected_kwh"]).fillna(0.0)
    per_site = use.groupby([hour.rename("hour"), private["site_id"]]).sum()
    cells = per_site.groupby(level="hour").agg(["size", "sum", "max"])
    too_few, dominant = rule.failures(np.full(len(cells), private["site_id"].nunique()),
                                      np.where(cells["sum"] > 0, cells["max"] / cells["sum"].where(cells["sum"] > 0), 0.0))
    if too_few.any() or not len(cells):
        return "too_few_customers"
    return "dominant_customer" if dominant.any() else None


def published(frame: pd.DataFrame, rule: SuppressionRule | None = None) -> Published:
    """Split a live status into what may be shown: the public sites' rows, and whether the other
    sites' aggregate passes the publishing rule (default :meth:`SuppressionRule.configured`)."""
    rule = rule or SuppressionRule.configured()
    public = _is_public(frame)
    private = frame[~public]
    sites = int(private["site_id"].nunique())
    reason = _private_check(private, rule) if sites else None
    return Published(public=frame[public], private_sites=sites, private_shown=sites > 0 and reason is None,
                     reason=reason, rule=rule)


def published_hourly(frame: pd.DataFrame, meta: dict, shown: Published | None = None) -> pd.DataFrame:
    """The total per hour that may be shown (:func:`city_hourly`): of every site when the other
    sites' aggregate passes the rule (with ``meta["city_interval"]``), else of the public sites
    (with ``meta["public_interval"]``); no rows when neither may be shown."""
    shown = shown or published(frame)
    if shown.total_frame_is_all:
        return city_hourly(frame, meta)
    return city_hourly(shown.public, {"city_interval": (meta or {}).get("public_interval")})


def site_intervals(frame: pd.DataFrame, site_id: str) -> pd.DataFrame:
    """One site's intervals of the live day (its meters summed), from :func:`combine`."""
    return combine(frame[frame["site_id"] == site_id], "period_start")


def site_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per site of ``frame`` (pass :attr:`Published.public`): its names, its latest complete interval (``last_start``, ``last_end``,
    ``last_actual_kwh``, ``last_expected_kwh`` [kWh], ``last_unusual``, ``last_change`` = actual ÷
    expected − 1), today so far (``actual_kwh``,
    ``expected_kwh`` over the same intervals, ``change``) and ``unusual`` (intervals outside their
    prediction interval today). Sites without a reading yet have NaN and NaT; in status order."""
    described = frame.drop_duplicates("site_id").set_index("site_id")[["site_name", "building_type", "ward_code",
                                                                       "resolution"]]
    ends = frame.groupby(["site_id", "period_start"], sort=True)["period_end"].max()
    intervals = combine(frame, ["site_id", "period_start"]).join(ends)
    done = intervals[intervals["actual_kwh"].notna()].reset_index()
    last = done.groupby("site_id").tail(1).set_index("site_id")
    today = intervals.groupby(level="site_id")[["read_actual_kwh", "read_expected_kwh", "unusual"]].sum()
    summary = described.assign(
        last_start=last["period_start"], last_end=last["period_end"], last_actual_kwh=last["actual_kwh"],
        last_expected_kwh=last["expected_kwh"],
        last_unusual=last["unusual"].reindex(described.index).fillna(0).gt(0),
        actual_kwh=today["read_actual_kwh"].where(today["read_expected_kwh"] > 0),
        expected_kwh=today["read_expected_kwh"].where(today["read_expected_kwh"] > 0),
        unusual=today["unusual"])
    summary["last_change"] = summary["last_actual_kwh"] / summary["last_expected_kwh"] - 1
    summary["change"] = summary["actual_kwh"] / summary["expected_kwh"] - 1
    return summary.reset_index()


def site_choices(frame: pd.DataFrame, lang: str) -> list[tuple[str, str]]:
    """``(label, site_id)`` of every site whose own series may be shown, for a dropdown: its name
    and building type (empty when there is none), in the order of the names (가나다 for Korean
    names: Hangul syllables are in that order in Unicode), not of the site ids (pseudonyms, whose
    order changes with the key)."""
    sites = frame[_is_public(frame)].drop_duplicates("site_id").sort_values(["site_name", "site_id"], kind="stable")
    return [(f"{name} ({i18n.text('building_type.' + kind, lang)})", site_id)
            for site_id, name, kind in zip(sites["site_id"], sites["site_name"], sites["building_type"])]


_t = i18n.text  # the templates escape: every word goes in as text


def _kwh(value: float, lang: str) -> str:
    return i18n.quantity(value, "kwh", lang)  # Babel's format; "not available" in words when missing


def _change(value: float, lang: str) -> str:
    return i18n.percent(value, lang, 1, signed=True)


def _clock(moment: pd.Timestamp, *, start: pd.Timestamp | None = None) -> str:
    """HH:MM of a naive KST time; "24:00" when it is the midnight that ends ``start``'s day."""
    if start is not None and moment.normalize() > start.normalize() and moment == moment.normalize():
        return "24:00"
    return moment.strftime("%H:%M")


_FIGURES: dict[tuple, str] = {}
_FIGURES_KEPT = 32


def day_figure_html(intervals: pd.DataFrame, *, title: str, lang: str, resolution: str = "hourly") -> str:
    """A day's actual load against its expected load and prediction interval, as an ``<img>`` with
    alt text and the table beside it (:func:`energy_lib.publish.plots.figure_html`).

    Drawing a figure is most of an update's time (about 0.25 s), and most new files leave most
    figures as they were (one site's file, another site selected): a figure of the same numbers
    is drawn once and then reused.

    Parameters
    ----------
    intervals : pandas.DataFrame
        :func:`city_hourly` or :func:`site_intervals`, indexed by ``period_start``.
    title : str
        What the figure is of (the city, a site's name).
    lang : str
    resolution : str
        ``"hourly"`` or ``"15min"``: the length of one interval, for the axis label [kWh per interval].
    """
    key = (pd.util.hash_pandas_object(intervals).to_numpy().tobytes(), title, lang, resolution)
    if key not in _FIGURES:
        if len(_FIGURES) >= _FIGURES_KEPT:
            _FIGURES.clear()
        _FIGURES[key] = _day_figure_html(intervals, title=title, lang=lang, resolution=resolution)
    return _FIGURES[key]


def _day_figure_html(intervals: pd.DataFrame, *, title: str, lang: str, resolution: str) -> str:
    when = intervals.index
    step = pd.Timedelta(minutes=15 if resolution == "15min" else 60)
    day = when.min().normalize()
    # hours since midnight: interval edges for stairs, which draw each interval as a flat step
    # and leave a gap where there is no reading yet
    edges = np.append((when - day) / pd.Timedelta(hours=1), (when[-1] + step - day) / pd.Timedelta(hours=1))
    fig, ax = plots.figure(height_ratio=0.8)
    # narrower than a report figure: the app is read on a phone at full width, where the same
    # fonts on a 4.2-inch figure come out about 40% larger than on the 6-inch report figures
    fig.set_size_inches(APP_FIGURE_WIDTH_IN, APP_FIGURE_WIDTH_IN * 0.8)
    ax.stairs(intervals["upper_kwh"], edges, baseline=intervals["lower_kwh"], fill=True, color=plots.PALETTE["baseline"],
              alpha=0.3, label=i18n.text("live.band", lang))
    ax.stairs(intervals["expected_kwh"], edges, baseline=None, color=plots.PALETTE["baseline"], linestyle="--",
              linewidth=1.5, label=i18n.text("live.expected", lang))
    ax.stairs(intervals["actual_kwh"], edges, baseline=None, color=plots.PALETTE["observed"], linewidth=2.2,
              label=i18n.text("live.actual", lang))
    flagged = intervals["unusual"].to_numpy() > 0
    if flagged.any():
        middles = (edges[:-1] + edges[1:]) / 2
        ax.scatter(middles[flagged], intervals["read_actual_kwh"].to_numpy()[flagged], marker="X", s=80,
                   color=UNUSUAL_COLOUR, zorder=5, label=i18n.text("live.unusual", lang))
    ax.set_xlim(0, 24)
    ax.set_xticks([0, 6, 12, 18, 24])
    ax.set_xlabel(i18n.text("live.hour_axis", lang))
    ax.set_ylabel(i18n.text("live.unit_15min" if resolution == "15min" else "live.unit_hourly", lang))
    ax.set_ylim(bottom=0)
    ax.set_title(title, loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2, frameon=False)  # below: never over the load
    read = intervals[intervals["readings"] > 0]
    if len(read):
        actual, expected = read["read_actual_kwh"].sum(), read["read_expected_kwh"].sum()
        alt = i18n.text("live.figure_alt", lang, title=title, start=_clock(read.index.min()),
                        end=_clock(read.index.max() + step, start=read.index.max()), actual=_kwh(actual, lang),
                        expected=_kwh(expected, lang), change=_change(actual / expected - 1, lang),
                        unusual=int(intervals["unusual"].sum()))
    else:
        alt = i18n.text("live.figure_alt_empty", lang, title=title, expected=_kwh(intervals["expected_kwh"].sum(), lang))
    table = pd.DataFrame({
        i18n.text("live.column_time", lang): [t.strftime("%H:%M") for t in when],
        i18n.text("live.actual", lang): intervals["actual_kwh"].to_numpy(),
        i18n.text("live.expected", lang): intervals["expected_kwh"].to_numpy(),
        i18n.text("live.column_lower", lang): intervals["lower_kwh"].to_numpy(),
        i18n.text("live.column_upper", lang): intervals["upper_kwh"].to_numpy(),
        i18n.text("live.unusual", lang): [i18n.text("live.yes", lang) if n else "" for n in intervals["unusual"]],
    })
    return plots.figure_html(fig, alt, table=table.set_index(table.columns[0]),
                             table_summary=i18n.text("common.table", lang))


def city_figure_html(frame: pd.DataFrame, meta: dict, lang: str) -> str:
    """The hourly total that may be shown against its expected load (:func:`published_hourly`,
    :func:`day_figure_html`); in words, never an empty chart, when no total may be shown."""
    shown = published(frame)
    hours = published_hourly(frame, meta, shown)
    if hours.empty:
        return _withheld_html(shown, lang)
    title = i18n.text("live.city_figure" if shown.total_frame_is_all else "live.public_figure", lang)
    return day_figure_html(hours, title=title, lang=lang)


def site_figure_html(frame: pd.DataFrame, site_id: str, lang: str) -> str:
    """One site's day against its expected load, in its own intervals (hourly or 15-minute), if
    the register lets its series be shown; otherwise a sentence saying it is not shown."""
    site = frame[(frame["site_id"] == site_id) & _is_public(frame)]
    if site.empty:
        return templating.render("live_view/withheld.html.j2", lang=lang, testid=False, text=_t("live.site_not_public", lang))
    first = site.iloc[0]
    return day_figure_html(site_intervals(site, site_id), title=first["site_name"], lang=lang,
                           resolution=first["resolution"])


def _withheld_html(shown: Published, lang: str) -> str:
    """Why the other sites' figures are not shown, in words (empty when nothing is withheld)."""
    if shown.private_shown or not shown.private_sites:
        return ""
    key = "live.withheld_few" if shown.reason == "too_few_customers" else "live.withheld_dominant"
    text = _t(key, lang, count=shown.private_sites, minimum=shown.rule.min_customers,
              share=i18n.percent(shown.rule.max_share, lang, 0))
    return templating.render("live_view/withheld.html.j2", lang=lang, testid=True, text=text)


def _kst_time(iso: str | None) -> str:
    """HH:MM:SS in Korea of an ISO time with its offset (the watcher writes UTC)."""
    return pd.Timestamp(iso).tz_convert(_KST).strftime("%H:%M:%S") if iso else "–"


def status_html(frame: pd.DataFrame, meta: dict, lang: str) -> str:
    """The status line: the end of the latest reading, how many readings, and when the watcher
    last updated the status (Korean time). Its ``data-readings`` and ``data-last-reading``
    attributes let tests and the benchmark see a new reading arrive."""
    read = frame[frame["actual_kwh"].notna()]
    updated = _kst_time(meta.get("updated_at"))
    if len(read):
        last = read["period_end"].max()
        text = _t("live.status", lang, last=_clock(last, start=read["period_start"].max()), count=i18n.decimal(len(read), lang),
                  updated=updated)
    else:
        last, text = None, _t("live.status_waiting", lang, updated=updated)
    stamp = last.isoformat() if last is not None else ""
    return templating.render("live_view/status.html.j2", lang=lang, readings=len(read), last_reading=stamp, text=text)


def city_html(frame: pd.DataFrame, meta: dict, lang: str) -> str:
    """The real-time total that may be shown (:func:`published_hourly`): today so far against the
    expected load of the same intervals, the latest complete hour against its prediction interval,
    and how the expectation was made; and, in words, which sites' figures are withheld and why."""
    shown = published(frame)
    hours = published_hourly(frame, meta, shown)
    so_far, expected = hours["read_actual_kwh"].sum(), hours["read_expected_kwh"].sum()
    heading = "live.city_heading" if shown.total_frame_is_all else "live.public_heading"
    total = words = None
    if expected > 0:
        total = _t("live.city_so_far", lang, actual=_kwh(so_far, lang), expected=_kwh(expected, lang),
                   change=_change(so_far / expected - 1, lang))
    complete = hours[hours["actual_kwh"].notna()]
    if len(complete):
        start, hour = complete.index[-1], complete.iloc[-1]
        inside = hour["lower_kwh"] <= hour["actual_kwh"] <= hour["upper_kwh"]
        words = _t("live.city_hour" if inside else "live.city_hour_unusual", lang, start=_clock(start),
                   end=_clock(start + pd.Timedelta(hours=1), start=start), actual=_kwh(hour["actual_kwh"], lang),
                   lower=_kwh(hour["lower_kwh"], lang), upper=_kwh(hour["upper_kwh"], lang))
    confidence = meta.get("confidence")
    source = "live.weather_observed" if meta.get("temperature_source") == "observed" else "live.weather_normal"
    method = _t("live.method", lang, sites=frame["site_id"].nunique(), weather=i18n.text(source, lang),
                confidence=i18n.percent(float(confidence) if confidence else None, lang, 0))
    return templating.render("live_view/city.html.j2", lang=lang, heading=_t(heading, lang, day=meta.get("day", "")),
                             withheld=templating.Markup(_withheld_html(shown, lang)), total=total, hour=words,
                             method=method)


def sites_html(frame: pd.DataFrame, lang: str) -> str:
    """The sites whose own series may be shown, as a list (readable at phone width): each site's
    latest reading against its expected load, today so far, and a flag in words when a reading is
    unusual; then how many other sites are monitored but not shown one by one (never their names)."""
    shown = published(frame)
    items = []
    for site in site_summary(shown.public).itertuples(index=False):
        kind = i18n.text("building_type." + site.building_type, lang)
        where = i18n.area_name(site.ward_code, lang)
        flag = _t("live.unusual", lang) if site.last_unusual else ""
        if pd.isna(site.last_end):
            latest = _t("live.site_waiting", lang)
        else:
            latest = _t("live.site_latest", lang, start=_clock(site.last_start),
                        end=_clock(site.last_end, start=site.last_start), actual=_kwh(site.last_actual_kwh, lang),
                        expected=_kwh(site.last_expected_kwh, lang), change=_change(site.last_change, lang))
            latest += " " + _t("live.site_today", lang, change=_change(site.change, lang), unusual=int(site.unusual))
        items.append({"id": site.site_id, "unusual": int(site.unusual), "flag": flag, "name": site.site_name,
                      "kind": kind, "where": where, "latest": latest})
    private = _t("live.sites_private", lang, count=shown.private_sites) if shown.private_sites else None
    return templating.render("live_view/sites.html.j2", lang=lang, heading=_t("live.sites_heading", lang),
                             text=_t("live.sites_text", lang), sites=items, no_sites=_t("live.no_public_sites", lang),
                             private=private)


def empty_html(lang: str) -> str:
    """The message shown while there is no live status yet: in the citizen's words, that the page
    fills in by itself. How an operator starts the watcher is in docs/monitoring.md, not here."""
    return templating.render("live_view/empty.html.j2", lang=lang, text=_t("live.empty", lang))


def style() -> str:
    """CSS of the live app on top of :func:`energy_lib.apps.explorer.app_style`: the site list as cards
    that wrap on a phone, and unusual readings marked by a border and a word, not colour alone."""
    return templating.render("live_view/style.html.j2", unusual=UNUSUAL_COLOUR)
