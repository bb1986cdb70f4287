"""Programme evaluation: did a government-supported programme save energy, and how much?

Each participant is compared with similar sites that did not take part. The design:

1. **Comparison group.** For every participating meter, the ``k`` nearest non-participating meters
   of the same carrier, building type and ward (행정동; the gu where the ward has too few), by their
   use in the twelve months before the participant's enrolment: its level (log of mean use per
   day) and its seasonal shape (heating-season and cooling-season use relative to the mean).
   Matching is with replacement; a balance table reports standardised mean differences before and
   after matching [1]_.
2. **Difference in differences on a stacked panel.** Each participant with its matched controls is
   a *stack*, aligned on the participant's enrolment month (controls get the same date). Use per
   day of each billing month is regressed on the treatment indicator with stack × meter and
   stack × event-month fixed effects (absorbed by weighted alternating projections [2]_), with
   weights 1 for a participant and 1/k for each of its k controls, by statsmodels WLS with
   standard errors clustered by site (a control reused in several stacks is one cluster). Stacking
   avoids the bias of two-way fixed effects under staggered enrolment [3]_.
3. **Event study.** The same regression with one coefficient per month relative to enrolment (the
   month before is the reference); the pre-enrolment coefficients test parallel trends.
4. **Savings**, per participant and for all participants, per year, in the carrier's unit, kWh,
   toe, kgCO2eq and won, with confidence intervals; **cost-effectiveness** where the programme's
   public cost per participant is known; and for PV programmes the **prosumer balance**:
   generation, the fall in metered (grid) use, and the share of generation used at home.

Months: a bill belongs to the month it is read in (청구년월). The bill read in the enrolment month
and the one after mix days before and after the measure; they are estimated apart ("transition")
and left out of the effect. Settings are in ``config/evaluation.toml``.

References
----------
.. [1] E. A. Stuart, "Matching methods for causal inference: a review and a look forward",
   Statistical Science 25(1), 1–21, 2010; P. C. Austin, "Balance diagnostics for comparing the
   distribution of baseline covariates…", Statistics in Medicine 28, 3083–3107, 2009.
.. [2] S. Gaure, "OLS with multiple high dimensional category variables", Computational
   Statistics & Data Analysis 66, 8–18, 2013.
.. [3] D. Cengiz, A. Dube, A. Lindner, B. Zipperer, "The effect of minimum wages on low-wage
   jobs", Quarterly Journal of Economics 134(3), 2019 (stacked event studies); A. Goodman-Bacon,
   "Difference-in-differences with variation in treatment timing", J. Econometrics 225, 2021.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from energy_lib.core import configuration
from energy_lib.core.vectors import arrow_strings
from energy_lib.savings import in_units
from energy_lib.store import Store

__all__ = ["EffectStatus", "EvaluationSettings", "MonthlyUse", "Evaluation", "monthly_use", "participants", "comparison_pool",
           "pre_features", "match_controls", "balance", "stacked_panel", "absorb", "difference_in_differences",
           "event_study", "annual_savings", "cost_effectiveness", "prosumer_balance", "evaluate", "evaluate_all",
           "ENERGY_CARRIERS", "DAYS_PER_YEAR"]



class EffectStatus(StrEnum):
    """Whether a programme's effect on a carrier was estimated (the ``status`` of ``programme_effects``)."""

    ESTIMATED = "estimated"
    """Difference in differences and event study estimated."""
    TOO_FEW = "too_few"
    """Fewer than two participants or three sites in the panel: nothing estimated."""


ENERGY_CARRIERS = ("electricity", "gas", "heat")
"""Carriers evaluated for a programme that names none (e.g. an energy-independent village)."""

DAYS_PER_YEAR = 365.25
"""Days in a year, to turn an effect per day into savings per year [days/year]."""

_HEATING_MONTHS = (11, 12, 1, 2, 3)
_COOLING_MONTHS = (6, 7, 8, 9)
_FEATURES = ("level", "heating_ratio", "cooling_ratio")
_UNITS = ("native", "kwh", "toe", "kgco2eq", "won")


def _configured(name: str) -> int | float:
    """The entry ``name`` of ``config/evaluation.toml`` (any section): the only default of a setting."""
    config = configuration.load("evaluation")
    return {**config["window"], **config["matching"], **config["inference"]}[name]


def _default(name: str):
    """A dataclass field whose default is read from the configuration when an instance is made."""
    return field(default_factory=functools.partial(_configured, name))


@dataclass(frozen=True)
class EvaluationSettings:
    """Windows, matching and inference settings; a setting not passed is read from
    ``config/evaluation.toml`` (the code has no defaults of its own)."""

    pre_months: int = _default("pre_months")
    post_months: int = _default("post_months")
    transition_months: int = _default("transition_months")
    min_months: int = _default("min_months")
    controls_per_participant: int = _default("controls_per_participant")
    caliper: float = _default("caliper")
    max_abs_smd: float = _default("max_abs_smd")
    confidence: float = _default("confidence")

    @classmethod
    def configured(cls) -> EvaluationSettings:
        """The settings of ``config/evaluation.toml``."""
        return cls()

    @property
    def events(self) -> np.ndarray:
        """Months relative to the enrolment month that a stack covers [months]."""
        return np.arange(-self.pre_months, self.transition_months + self.post_months)


@dataclass(frozen=True)
class MonthlyUse:
    """Use per day of every meter in every billing month.

    ``values[i, t]`` is meter ``meters.iloc[i]``'s use per day [canonical unit/day] in month
    ``months[t]``: the month's readings summed and divided by the days they cover; NaN where the
    meter has no reading (outliers flagged at ingest are left out).
    """

    values: np.ndarray
    meters: pd.DataFrame
    months: pd.DatetimeIndex

    def month_index(self, days: pd.Series) -> np.ndarray:
        """Position in ``months`` of the month of each day (−1 outside the data)."""
        return self.months.get_indexer(pd.DatetimeIndex(days).to_period("M").to_timestamp())

    @classmethod
    def of_readings(cls, readings: pd.DataFrame, carriers: Sequence[str]) -> MonthlyUse:
        """The matrix of the meters in ``readings`` (``meter_id``, ``carrier``, ``resolution``,
        ``period_start``, ``period_end``, ``value_canonical``, ``outlier``), rows in meter id
        order; ``meters`` has only ``meter_id``.

        A bill counts in the month its period ends in (the month it is read in), a monthly or
        daily reading in the month it starts in; bills, monthly and daily readings of
        ``carriers`` only, outliers flagged at ingest left out.
        """
        # NumPy columns and masks, not filtered frames: copying a bucket's strings costs more
        codes, meter_ids = pd.factorize(readings["meter_id"], sort=True)
        start = readings["period_start"].to_numpy("datetime64[us]")
        end = readings["period_end"].to_numpy("datetime64[us]")
        days = (end - start) / np.timedelta64(1, "D")
        billing = readings["resolution"].eq("billing").to_numpy(dtype=bool)
        keep = (~readings["outlier"].to_numpy(dtype=bool) & readings["resolution"].isin(_USE_RESOLUTIONS).to_numpy()
                & readings["carrier"].isin(list(carriers)).to_numpy() & (days > 0))
        used = np.bincount(codes[keep], minlength=len(meter_ids)) > 0
        codes, meter_ids = (np.cumsum(used) - 1)[codes[keep]], meter_ids[used]  # meters with use, in order
        month = np.where(billing, end, start)[keep].astype("datetime64[M]").astype(np.int64)
        value, days = readings["value_canonical"].to_numpy(dtype=float)[keep], days[keep]
        first = int(month.min()) if len(month) else 360  # 2000-01 for no data
        width = int(month.max()) - first + 1 if len(month) else 1
        cell = codes.astype(np.int64) * width + (month - first)
        size = len(meter_ids) * width
        total = np.bincount(cell, weights=value, minlength=size)
        covered = np.bincount(cell, weights=days, minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_day = np.where(covered > 0, total / covered, np.nan).reshape(len(meter_ids), width)
        return cls(per_day, pd.DataFrame({"meter_id": np.asarray(meter_ids, dtype=object)}), _month_range(first, width))

    @classmethod
    def combine(cls, blocks: list[MonthlyUse], meters: pd.DataFrame) -> MonthlyUse:
        """One matrix with the rows of ``meters`` (``_METERS``' columns) from blocks of other
        meters (:meth:`of_readings` of buckets of meters); NaN for meters in no block.

        ``blocks`` is emptied: each block is let go once copied, so the city's blocks and its
        matrix (about 0.6 GiB each) are not held at once to the end.
        """
        first = min((_month_number(b.months[0]) for b in blocks if len(b.meters)), default=360)
        last = max((_month_number(b.months[-1]) for b in blocks if len(b.meters)), default=360)
        values = np.full((len(meters), last - first + 1), np.nan)
        # every block's meters looked up at once (one hash table of the city's meter ids)
        found = pc.index_in(pa.chunked_array([arrow_strings(b.meters["meter_id"]) for b in blocks], pa.string()),
                            value_set=arrow_strings(meters["meter_id"]))
        rows = pc.fill_null(found, -1).to_numpy().astype(np.int64)
        ends = np.cumsum([len(b.meters) for b in blocks])
        while blocks:  # a few dozen buckets, in any order: their meters differ
            block = blocks.pop()
            mine = rows[ends[len(blocks)] - len(block.meters):ends[len(blocks)]]  # the block's rows
            if not len(block.meters):
                continue
            offset = _month_number(block.months[0]) - first
            values[mine[mine >= 0], offset:offset + len(block.months)] = block.values[mine >= 0]
        return cls(values, meters, _month_range(first, last - first + 1))


_USE_RESOLUTIONS = ("billing", "monthly", "daily")


def _month_number(month: pd.Timestamp) -> int:
    """Months since 1970-01."""
    return (month.year - 1970) * 12 + month.month - 1


def _month_range(first: int, width: int) -> pd.DatetimeIndex:
    """``width`` month starts from month number ``first`` (months since 1970-01)."""
    return pd.DatetimeIndex(np.arange(first, first + width).astype("datetime64[M]").astype("datetime64[us]"))


_READINGS = """
SELECT meter_id, carrier, resolution, period_start, period_end, value_canonical, outlier
FROM readings WHERE resolution IN ('billing', 'monthly', 'daily') AND list_contains(?, carrier)
"""

_METERS = """
SELECT m.meter_id, m.carrier, s.site_id, s.ward_code, substr(s.ward_code, 1, 5) AS gu_code, s.building_type,
       s.floor_area_m2, s.households
FROM meters m JOIN sites s USING (site_id)
WHERE list_contains(?, m.carrier)
ORDER BY m.meter_id
"""


def monthly_use(store: Store, carriers: Sequence[str]) -> MonthlyUse:
    """Every meter's use per day in each billing month, as a meters × months matrix
    (:meth:`MonthlyUse.of_readings` of the store's readings).

    This reads every bill of ``carriers`` at once: for a whole city, the compute stage builds the
    matrix bucket by bucket instead (:meth:`MonthlyUse.combine`).

    Parameters
    ----------
    store : Store
        The canonical store.
    carriers : sequence of str
        Carriers to read (``electricity``, ``gas``, …).
    """
    carriers = list(carriers)
    return MonthlyUse.combine([MonthlyUse.of_readings(store.sql(_READINGS, [carriers]), carriers)],
                              meters_of(store, carriers))


def meters_of(store: Store, carriers: Sequence[str]) -> pd.DataFrame:
    """The rows of :func:`monthly_use`'s matrix: meters of ``carriers`` with their site, ward,
    gu, building type, floor area and households, in meter id order."""
    return store.sql(_METERS, [list(carriers)])


def participants(store: Store, programme_id: str, use: MonthlyUse) -> pd.DataFrame:
    """The programme's participating meters with their enrolment month.

    Returns
    -------
    pandas.DataFrame
        ``row`` (position in ``use``), ``meter_id``, ``site_id``, ``carrier``, ``ward_code``,
        ``gu_code``, ``building_type``, ``enrolled_on`` and ``enrol_month`` (position of the
        enrolment month in ``use.months``), for the meters of the carriers in ``use`` whose
        enrolment month lies in the data.
    """
    joined = store.sql("SELECT site_id, enrolled_on FROM participation WHERE programme_id = ?", [programme_id])
    meters = use.meters.reset_index(names="row")
    frame = meters.merge(joined, on="site_id", how="inner").sort_values("meter_id", ignore_index=True)
    frame["enrol_month"] = use.month_index(frame["enrolled_on"])
    return frame[frame["enrol_month"] >= 0].reset_index(drop=True)


def comparison_pool(store: Store, use: MonthlyUse) -> pd.DataFrame:
    """Meters whose site is in no programme: the candidates for comparison groups (``row`` and the
    meter columns of ``use.meters``)."""
    enrolled = store.sql("SELECT DISTINCT site_id FROM participation")["site_id"]
    meters = use.meters.reset_index(names="row")
    return meters[~meters["site_id"].isin(enrolled)].reset_index(drop=True)


def pre_features(use: MonthlyUse, rows: np.ndarray, ends: np.ndarray, months: int) -> pd.DataFrame:
    """Features of use in the ``months`` months before ``ends`` (exclusive), per (row, end) pair.

    Returns
    -------
    pandas.DataFrame
        ``months_with_use`` [count], ``level`` (log of mean use per day), ``heating_ratio`` and
        ``cooling_ratio`` (mean use per day in November–March and in June–September over the mean
        of the window; NaN without such months) [dimensionless].
    """
    month_of_year = use.months.month.to_numpy()
    masks = (np.ones(len(use.months), dtype=bool), np.isin(month_of_year, _HEATING_MONTHS),
             np.isin(month_of_year, _COOLING_MONTHS))
    sums = np.zeros((len(masks), len(rows)))
    counts = np.zeros((len(masks), len(rows)))
    step = max(1, 2_000_000 // max(months, 1))  # pairs at a time: windows of a few dozen MB
    # pairs of one end month (a city's candidates have a few): their windows are one slice of the
    # matrix's columns, copied row by row, not gathered value by value
    order = np.argsort(ends, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(ends[order])) + 1) if len(order) else []:
        end = int(ends[group[0]])
        columns = np.arange(end - months, end)
        selected_months = [mask[np.maximum(columns, 0)] & (columns >= 0) for mask in masks]
        for first in range(0, len(group), step):  # only the pairs' own windows, not the whole matrix
            part = group[first:first + step]
            window = np.full((len(part), months), np.nan)  # months before the data: none
            window[:, months - min(months, end):] = use.values[rows[part], max(end - months, 0):end]
            present = ~np.isnan(window)
            filled = np.where(present, window, 0.0)  # zero where no use: masks only zero more months
            for i, in_mask in enumerate(selected_months):
                kept = filled
                if not in_mask.all():  # the other months' columns zeroed (np.where broadcasts slowly)
                    kept = filled.copy()
                    kept[:, ~in_mask] = 0.0
                sums[i, part] = kept.sum(axis=1)
                counts[i, part] = present.view(np.uint8) @ in_mask.view(np.uint8)  # at most 12: no overflow
    (every, heating, cooling), (n, n_heating, n_cooling) = sums, counts
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = every / n
        return pd.DataFrame({
            "months_with_use": n.astype(int),
            "level": np.log(np.where(mean > 0, mean, np.nan)),
            "heating_ratio": (heating / n_heating) / mean,
            "cooling_ratio": (cooling / n_cooling) / mean,
        })


def _with_features(use: MonthlyUse, frame: pd.DataFrame, settings: EvaluationSettings) -> pd.DataFrame:
    features = pre_features(use, frame["row"].to_numpy(), frame["enrol_month"].to_numpy(), settings.pre_months)
    out = pd.concat([frame.reset_index(drop=True), features], axis=1)
    usable = (out["months_with_use"] >= settings.min_months) & out[list(_FEATURES)].notna().all(axis=1)
    return out[usable.to_numpy()].reset_index(drop=True)


_MATCH = """
SELECT participant_row, unnest(nearest).r AS control_row, sqrt(unnest(nearest).d) AS distance
FROM (SELECT p.row AS participant_row, min({{'d': {distance}, 'r': c.row}}, ?) AS nearest  -- top k, ties by row
      FROM p JOIN c ON c.carrier = p.carrier AND c.building_type = p.building_type AND c.{level} = p.{level}
                   AND c.enrol_month = p.enrol_month
      GROUP BY p.row)
"""
_KEYS = ("carrier", "building_type", "ward_code", "gu_code")


def match_controls(use: MonthlyUse, treated: pd.DataFrame, pool: pd.DataFrame,
                   settings: EvaluationSettings) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The ``k`` nearest comparison meters of each participant, with replacement.

    Exact on carrier, building type and ward (the gu for a participant whose ward has fewer than
    ``k`` candidates within ``settings.caliper`` of it); nearest by Euclidean distance of the
    standardised pre-enrolment features (:func:`pre_features` over the participant's own twelve
    months before enrolment, for the participant and the candidates alike). A participant without
    ``k`` candidates in its gu is left out.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, pandas.DataFrame)
        The participants that could be matched, with their features; the matches:
        ``participant_row``, ``control_row``, ``control_site``, ``distance`` [standard
        deviations] and ``level`` (``ward`` or ``gu``); and every candidate (``row``,
        ``enrol_month``, ``carrier``) with its features.

    Notes
    -----
    A candidate is a pool meter at one enrolment month of its gu's participants: a whole city has
    millions of them, so they are kept as numbers (rows of ``use`` and integer codes of the keys),
    not as frames of strings.
    """
    k = settings.controls_per_participant
    codes = {key: pd.factorize(use.meters[key])[0].astype(np.int32) for key in _KEYS}
    treated = _with_features(use, treated, settings)
    candidates = _with_features(use, _candidate_months(pool["row"].to_numpy(), treated, codes), settings)
    scale = pd.concat([treated[list(_FEATURES)], candidates[list(_FEATURES)]]).std(ddof=1).replace(0.0, 1.0).fillna(1.0)
    distance = " + ".join(f"power((p.{f} - c.{f}) / {float(scale[f])!r}, 2)" for f in _FEATURES)

    def numeric(frame: pd.DataFrame) -> pd.DataFrame:
        rows = frame["row"].to_numpy()
        return pd.DataFrame({"row": rows, "enrol_month": frame["enrol_month"].to_numpy(),
                             **{key: codes[key][rows] for key in _KEYS}, **{f: frame[f].to_numpy() for f in _FEATURES}})

    parts = []
    with duckdb.connect() as con:
        con.register("c", numeric(candidates))
        remaining = treated
        for level in ("ward_code", "gu_code"):
            con.register("p", numeric(remaining))
            found = con.execute(_MATCH.format(distance=distance, level=level), [k]).df()
            close = found["distance"] <= settings.caliper if level == "ward_code" else np.ones(len(found), bool)
            complete = found[close].groupby("participant_row").size()
            complete = complete[complete >= k].index
            parts.append(found[found["participant_row"].isin(complete)].assign(level=level.removesuffix("_code")))
            remaining = remaining[~remaining["row"].isin(complete)]
    matches = pd.concat(parts, ignore_index=True).sort_values(["participant_row", "distance", "control_row"],
                                                              ignore_index=True)
    matches.insert(2, "control_site", use.meters["site_id"].to_numpy()[matches["control_row"].to_numpy()])
    matched = treated[treated["row"].isin(matches["participant_row"])].reset_index(drop=True)
    candidates.insert(2, "carrier", use.meters["carrier"].to_numpy()[candidates["row"].to_numpy()])
    return matched, matches, candidates


def _candidate_months(pool_rows: np.ndarray, treated: pd.DataFrame, codes: dict[str, np.ndarray]) -> pd.DataFrame:
    """Every pool meter at every enrolment month of the participants of its carrier, building type
    and gu (``row``, ``enrol_month``, in that order): a repeat of each pool row, not a join."""
    def key(rows: np.ndarray) -> np.ndarray:
        return (codes["carrier"][rows].astype(np.int64) * (int(codes["building_type"].max()) + 1)
                + codes["building_type"][rows]) * (int(codes["gu_code"].max()) + 1) + codes["gu_code"][rows]

    months = pd.DataFrame({"key": key(treated["row"].to_numpy()), "month": treated["enrol_month"].to_numpy()}) \
        .drop_duplicates().sort_values(["key", "month"], ignore_index=True)
    pool_key = key(pool_rows)
    first = np.searchsorted(months["key"].to_numpy(), pool_key, side="left")
    count = np.searchsorted(months["key"].to_numpy(), pool_key, side="right") - first
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return pd.DataFrame({"row": np.repeat(pool_rows, count),
                         "enrol_month": months["month"].to_numpy()[np.repeat(first, count) + offset]})


def balance(treated: pd.DataFrame, matches: pd.DataFrame, pool_features: pd.DataFrame, use: MonthlyUse,
            settings: EvaluationSettings) -> pd.DataFrame:
    """Balance of the pre-enrolment covariates: participants against all candidates and against
    the matched controls (weighted 1/k), per carrier.

    Parameters
    ----------
    treated : pandas.DataFrame
        Matched participants with their features (:func:`match_controls`).
    matches : pandas.DataFrame
        The matches.
    pool_features : pandas.DataFrame
        Every candidate (row, enrolment month) with its features: the unmatched comparison.
    use : MonthlyUse
        For the mean use per day and floor area.

    Returns
    -------
    pandas.DataFrame
        Per ``carrier`` and ``covariate`` (``use_per_day``, the three features, ``floor_area_m2``):
        ``participants``, ``candidates`` and ``matched`` means, ``smd_before`` and ``smd_after``
        (standardised mean differences: difference of means over the pooled standard deviation of
        participants and candidates), and ``balanced`` (|smd_after| below the configured limit).
    """
    def covariates(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[["carrier", *_FEATURES]].assign(use_per_day=np.exp(frame["level"]))
        return out.assign(floor_area_m2=use.meters["floor_area_m2"].to_numpy(float)[frame["row"].to_numpy()])

    k = matches.groupby("participant_row").size()
    controls = matches.assign(weight=1.0 / matches["participant_row"].map(k))
    control_months = treated.set_index("row")["enrol_month"].reindex(controls["participant_row"]).to_numpy()
    rows = controls["control_row"].to_numpy()
    matched = pd.concat([pd.DataFrame({"row": rows, "carrier": use.meters["carrier"].to_numpy()[rows]}),
                         pre_features(use, rows, control_months, settings.pre_months)], axis=1)
    groups = {"participants": (covariates(treated), np.ones(len(treated))),
              "candidates": (covariates(pool_features), np.ones(len(pool_features))),
              "matched": (covariates(matched), controls["weight"].to_numpy())}
    names = ["use_per_day", *_FEATURES, "floor_area_m2"]
    rows = []
    for carrier in sorted(treated["carrier"].unique()):  # two or three carriers
        stats = {}
        for group, (frame, weight) in groups.items():
            mine = (frame["carrier"] == carrier).to_numpy()
            values = frame.loc[mine, names]
            w = pd.DataFrame(np.broadcast_to(weight[mine][:, None], values.shape), columns=names).where(
                values.notna().to_numpy())
            total = w.sum()
            mean = (values.to_numpy() * w.fillna(0).to_numpy()).sum(axis=0) / total.to_numpy()
            var = ((values.to_numpy() - mean) ** 2 * w.fillna(0).to_numpy()).sum(axis=0) / total.to_numpy()
            stats[group] = (pd.Series(np.where(total > 0, mean, np.nan), index=names),
                            pd.Series(np.where(total > 0, var, np.nan), index=names))
        pooled = np.sqrt((stats["participants"][1] + stats["candidates"][1]) / 2).replace(0.0, np.nan)
        for name in names:
            if np.isnan(stats["participants"][0][name]):
                continue  # e.g. no floor areas in the store
            before = (stats["participants"][0][name] - stats["candidates"][0][name]) / pooled[name]
            after = (stats["participants"][0][name] - stats["matched"][0][name]) / pooled[name]
            rows.append({"carrier": carrier, "covariate": name,
                         "participants": stats["participants"][0][name], "candidates": stats["candidates"][0][name],
                         "matched": stats["matched"][0][name], "smd_before": before, "smd_after": after,
                         "balanced": bool(abs(after) < settings.max_abs_smd) if np.isfinite(after) else True})
    return pd.DataFrame(rows)


def stacked_panel(use: MonthlyUse, treated: pd.DataFrame, matches: pd.DataFrame,
                  settings: EvaluationSettings) -> pd.DataFrame:
    """The stacked panel: each participant and its controls, month by month around its enrolment.

    A member (participant or control) needs ``min_months`` months with use before and after the
    transition months; a stack needs its participant and at least one control.

    Returns
    -------
    pandas.DataFrame
        ``stack`` (the participant's row), ``row``, ``meter_id``, ``site_id``, ``carrier``,
        ``treated`` (bool), ``event`` (months from the enrolment month), ``month``, ``use_per_day``
        [unit/day] and ``weight`` (1, or 1/k for each of the stack's k controls).
    """
    events = settings.events
    stack = np.concatenate([treated["row"].to_numpy(), matches["participant_row"].to_numpy()])
    member = np.concatenate([treated["row"].to_numpy(), matches["control_row"].to_numpy()])
    is_treated = np.arange(len(stack)) < len(treated)
    enrol = treated.set_index("row")["enrol_month"].reindex(stack).to_numpy()
    position = enrol[:, None] + events[None, :]
    inside = (position >= 0) & (position < len(use.months))
    y = np.where(inside, use.values[member[:, None], np.clip(position, 0, len(use.months) - 1)], np.nan)
    present = ~np.isnan(y)
    pre = present[:, events < 0].sum(axis=1)
    post = present[:, events >= settings.transition_months].sum(axis=1)
    member_ok = (pre >= settings.min_months) & (post >= settings.min_months)
    stacks = pd.DataFrame({"stack": stack, "treated": is_treated, "ok": member_ok})
    participant_ok = stacks[stacks["treated"] & stacks["ok"]]["stack"]
    controls_ok = stacks[~stacks["treated"] & stacks["ok"]].groupby("stack").size()
    keep_stack = np.isin(stack, participant_ok) & np.isin(stack, controls_ok.index) & member_ok
    weight = np.where(is_treated, 1.0, 1.0 / controls_ok.reindex(stack).fillna(1).to_numpy())
    members, months = np.nonzero(present & keep_stack[:, None])
    meters = use.meters
    return pd.DataFrame({
        "stack": stack[members], "row": member[members],
        "meter_id": meters["meter_id"].to_numpy()[member[members]],
        "site_id": meters["site_id"].to_numpy()[member[members]],
        "carrier": meters["carrier"].to_numpy()[member[members]],
        "treated": is_treated[members], "event": events[months],
        "month": use.months[position[members, months]], "use_per_day": y[members, months],
        "weight": weight[members],
    })


def absorb(matrix: np.ndarray, groups: Sequence[np.ndarray], weights: np.ndarray, *,
           tolerance: float = 1e-10, max_iterations: int = 1000) -> np.ndarray:
    """Columns of ``matrix`` with several sets of fixed effects projected out (weighted).

    The method of alternating projections [2]_: demean by each grouping in turn until nothing
    changes. The result equals the residuals of a weighted regression on all the groups' dummies
    (Frisch–Waugh–Lovell), so a regression on absorbed columns gives the fixed-effects estimates.

    Parameters
    ----------
    matrix : numpy.ndarray
        n × p values.
    groups : sequence of numpy.ndarray
        Integer codes 0…G−1 of each grouping, length n.
    weights : numpy.ndarray
        Observation weights, length n.
    tolerance : float
        Stop when no value changes by more than this (relative to the columns' scale).
    """
    out = np.array(matrix, dtype=float, copy=True)
    if out.ndim == 1:
        out = out[:, None]
    scale = np.maximum(np.abs(out).max(axis=0), 1e-300)
    totals = [np.bincount(codes, weights) for codes in groups]
    for _ in range(max_iterations):
        change = 0.0
        for codes, total in zip(groups, totals):
            for j in range(out.shape[1]):  # a few dozen regressors
                means = np.bincount(codes, weights * out[:, j], minlength=len(total)) / np.where(total > 0, total, 1)
                shift = means[codes]
                out[:, j] -= shift
                change = max(change, float(np.abs(shift).max() / scale[j]) if len(shift) else 0.0)
        if change < tolerance:
            return out
    raise RuntimeError(f"fixed effects did not converge in {max_iterations} iterations (last change {change:.2e})")


def _fit(panel: pd.DataFrame, regressors: pd.DataFrame):
    """WLS of use per day on ``regressors`` with stack × meter and stack × event fixed effects,
    clustered by site."""
    # imported here: statsmodels takes about 0.4 s to import, and the report pages and apps that
    # read the evaluations' results never fit one
    import statsmodels.api as sm

    stack = panel["stack"].to_numpy(np.int64)
    # (stack, meter) and (stack, month) pairs as one integer each: factorising them is fast
    unit = pd.factorize(stack * (int(panel["row"].max()) + 1) + panel["row"].to_numpy(np.int64))[0]
    event = panel["event"].to_numpy(np.int64)
    time = pd.factorize(stack * (int(event.max() - event.min()) + 1) + (event - event.min()))[0]
    weights = panel["weight"].to_numpy(float)
    data = np.column_stack([panel["use_per_day"].to_numpy(float), regressors.to_numpy(float)])
    absorbed = absorb(data, [unit, time], weights)
    clusters = pd.factorize(panel["site_id"])[0]
    # the fixed effects absorbed the constant: hasconst=False spares statsmodels its search for one
    model = sm.WLS(absorbed[:, 0], pd.DataFrame(absorbed[:, 1:], columns=regressors.columns), weights=weights,
                   hasconst=False)
    return model.fit(cov_type="cluster", cov_kwds={"groups": clusters}, use_t=True)


def difference_in_differences(panel: pd.DataFrame, settings: EvaluationSettings) -> dict:
    """The average effect on participants' use per day after the transition months.

    Returns
    -------
    dict
        ``effect`` [unit/day; negative: use fell], ``se``, ``ci_low``, ``ci_high`` (at
        ``settings.confidence``), ``p_value``, ``transition_effect``, ``participants``,
        ``controls`` (distinct control meters), ``clusters`` (sites) and ``observations``.
    """
    treated = panel["treated"].to_numpy()
    event = panel["event"].to_numpy()
    regressors = pd.DataFrame({"post": treated & (event >= settings.transition_months),
                               "transition": treated & (event >= 0) & (event < settings.transition_months)})
    fit = _fit(panel, regressors)
    low, high = fit.conf_int(alpha=1 - settings.confidence).loc["post"]
    return {"effect": float(fit.params["post"]), "se": float(fit.bse["post"]), "ci_low": float(low),
            "ci_high": float(high), "p_value": float(fit.pvalues["post"]),
            "transition_effect": float(fit.params["transition"]),
            "participants": int(panel.loc[treated, "row"].nunique()),
            "controls": int(panel.loc[~treated, "row"].nunique()), "clusters": int(panel["site_id"].nunique()),
            "observations": len(panel)}


def event_study(panel: pd.DataFrame, settings: EvaluationSettings) -> tuple[pd.DataFrame, float]:
    """Participants' difference from their controls in each month around enrolment, against the
    month before enrolment.

    Returns
    -------
    (pandas.DataFrame, float)
        ``event``, ``effect`` [unit/day], ``se``, ``ci_low``, ``ci_high`` (the reference month −1
        is 0 by definition); and the p-value of the joint test that every pre-enrolment effect is
        zero (parallel trends; a small value casts doubt on the comparison group; NaN when there
        are too few sites to test it).
    """
    events = [e for e in settings.events if e != -1]
    treated = panel["treated"].to_numpy()
    regressors = pd.DataFrame({f"event_{e}": treated & (panel["event"].to_numpy() == e) for e in events})
    fit = _fit(panel, regressors)
    bounds = fit.conf_int(alpha=1 - settings.confidence)
    frame = pd.DataFrame({"event": events, "effect": fit.params.to_numpy(), "se": fit.bse.to_numpy(),
                          "ci_low": bounds[0].to_numpy(), "ci_high": bounds[1].to_numpy()})
    frame = pd.concat([frame, pd.DataFrame([{"event": -1, "effect": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0}])])
    pre = [name for name in regressors.columns if int(name.split("_")[1]) < -1]
    restriction = np.zeros((len(pre), len(regressors.columns)))
    for i, name in enumerate(pre):
        restriction[i, regressors.columns.get_loc(name)] = 1.0
    # with fewer clusters than pre-enrolment months the joint test is not defined (its covariance
    # is singular): no p-value rather than a misleading one
    covariance = restriction @ fit.cov_params().to_numpy() @ restriction.T
    testable = bool(pre) and np.linalg.matrix_rank(covariance) == len(pre)
    pretrend = float(fit.wald_test(restriction, scalar=True).pvalue) if testable else float("nan")
    return frame.sort_values("event", ignore_index=True), pretrend


def annual_savings(effects: pd.DataFrame, enrolled: pd.Series | None = None) -> pd.DataFrame:
    """Savings per year from the effects on use per day, per participant and for all participants.

    Parameters
    ----------
    effects : pandas.DataFrame
        One row per programme and carrier: ``programme_id``, ``carrier``, ``effect``, ``ci_low``,
        ``ci_high`` [unit/day] and ``participants`` (evaluated).
    enrolled : pandas.Series, optional
        Participants enrolled per (programme_id, carrier), to scale the per-participant savings to
        the whole programme (default: the evaluated participants).

    Returns
    -------
    pandas.DataFrame
        ``programme_id``, ``carrier``, ``scope`` (``per_participant`` or ``all_participants``),
        ``unit`` (``native``, ``kwh``, ``toe``, ``kgco2eq``, ``won``), ``estimate``, ``low`` and
        ``high`` [unit/year; positive: use fell], and ``participants`` (those the scope counts).
    """
    keys = pd.MultiIndex.from_frame(effects[["programme_id", "carrier"]])
    counts = (enrolled.reindex(keys).to_numpy(float) if enrolled is not None
              else effects["participants"].to_numpy(float))
    per_year = {"estimate": -effects["effect"], "low": -effects["ci_high"], "high": -effects["ci_low"]}
    parts = []
    for scope, factor in (("per_participant", np.ones(len(effects))), ("all_participants", counts)):
        converted = {name: in_units(values.to_numpy(float) * DAYS_PER_YEAR * factor, effects["carrier"])
                     for name, values in per_year.items()}
        for unit in _UNITS:
            parts.append(effects[["programme_id", "carrier"]].assign(
                scope=scope, unit=unit, **{name: frame[unit].to_numpy() for name, frame in converted.items()},
                participants=(effects["participants"].to_numpy() if scope == "per_participant" else counts).astype(int)))
    return pd.concat(parts, ignore_index=True)


def cost_effectiveness(savings: pd.DataFrame, programmes: pd.DataFrame) -> pd.DataFrame:
    """Public cost against what a programme saves a year, over all its carriers.

    Parameters
    ----------
    savings : pandas.DataFrame
        :func:`annual_savings` (scope ``all_participants``).
    programmes : pandas.DataFrame
        ``programme_id``, ``cost_won_per_participant`` (NaN: unknown) and ``participants``
        (enrolled sites).

    Returns
    -------
    pandas.DataFrame
        Per programme: ``public_cost_won``, annual ``savings_won``/``savings_toe``/
        ``savings_kgco2eq`` with ``_low``/``_high``, ``payback_years`` (public cost over the
        yearly bill savings: simple payback), ``won_per_toe`` and ``won_per_tco2eq`` (public cost
        per toe or tonne CO2eq saved a year), each with ``_low``/``_high`` from the savings'
        interval (infinite where the savings' interval reaches zero). Rows without a cost have NaN.
        The carriers' intervals are added in quadrature (their errors treated as independent).
    """
    total = savings[savings["scope"] == "all_participants"]
    rows = []
    for programme_id, mine in total.groupby("programme_id", sort=True):  # a handful of programmes
        info = programmes.set_index("programme_id").loc[programme_id]
        cost = float(info["cost_won_per_participant"]) * float(info["participants"])
        row: dict = {"programme_id": programme_id, "public_cost_won": cost}
        for unit in ("won", "toe", "kgco2eq"):
            values = mine[mine["unit"] == unit].dropna(subset=["estimate"])
            estimate = values["estimate"].sum() if len(values) else np.nan
            half = np.sqrt((((values["high"] - values["low"]) / 2) ** 2).sum()) if len(values) else np.nan
            row.update({f"savings_{unit}": estimate, f"savings_{unit}_low": estimate - half,
                        f"savings_{unit}_high": estimate + half})
        for name, unit, scale in (("payback_years", "won", 1.0), ("won_per_toe", "toe", 1.0),
                                  ("won_per_tco2eq", "kgco2eq", 1e-3)):
            estimate, low, high = (row[f"savings_{unit}{s}"] * scale for s in ("", "_low", "_high"))
            row[name] = cost / estimate if estimate > 0 else np.inf
            row[f"{name}_low"] = cost / high if high > 0 else np.inf
            row[f"{name}_high"] = cost / low if low > 0 else np.inf
        rows.append(row)
    frame = pd.DataFrame(rows)
    unknown = frame["public_cost_won"].isna() if len(frame) else []
    frame.loc[unknown, [c for c in frame.columns if c.startswith(("payback", "won_per"))]] = np.nan
    return frame


_GENERATION = """
SELECT site_id, date_trunc('month', period_start) AS month,
       sum(value_kwh) / (sum(epoch(period_end) - epoch(period_start)) / 86400.0) AS kwh_per_day
FROM generation WHERE NOT outlier GROUP BY ALL
"""


def prosumer_balance(store: Store, panel: pd.DataFrame, effect: dict,
                     settings: EvaluationSettings) -> dict | None:
    """PV participants' generation against the fall in their metered (grid) electricity.

    A plug-in or rooftop system behind the meter lowers what the meter records by what the home
    uses of its own generation; the rest is exported. The difference-in-differences effect on
    metered use therefore estimates self-consumption, and its share of generation the
    self-consumption ratio.

    Parameters
    ----------
    panel : pandas.DataFrame
        The electricity :func:`stacked_panel`.
    effect : dict
        Its :func:`difference_in_differences`.

    Returns
    -------
    dict or None
        None when no participant has generation data; else annual figures per participant
        [kWh/year]: ``generation``, ``grid_use`` (metered, after enrolment), ``self_consumed``
        (= the fall in grid use) with ``_low``/``_high``, ``exported`` (generation −
        self-consumed), ``gross_use`` (grid use + self-consumed); ``self_consumed_share`` with
        ``_low``/``_high`` [fraction]; and ``participants_with_generation``.
    """
    generation = store.sql(_GENERATION).astype({"month": "datetime64[us]"})
    post = panel[panel["treated"] & (panel["event"] >= settings.transition_months)]
    joined = post.merge(generation, on=["site_id", "month"], how="left")
    with_generation = joined.groupby("row")["kwh_per_day"].count()
    with_generation = with_generation[with_generation > 0].index
    if not len(with_generation):
        return None
    mine = joined[joined["row"].isin(with_generation)]
    generated = float(mine["kwh_per_day"].fillna(0.0).mean()) * DAYS_PER_YEAR
    grid = float(mine["use_per_day"].mean()) * DAYS_PER_YEAR
    saved = {s: -effect[k] * DAYS_PER_YEAR for s, k in (("", "effect"), ("_low", "ci_high"), ("_high", "ci_low"))}
    return {"participants_with_generation": len(with_generation), "generation": generated, "grid_use": grid,
            **{f"self_consumed{s}": v for s, v in saved.items()},
            "exported": generated - saved[""], "gross_use": grid + saved[""],
            **{f"self_consumed_share{s}": v / generated for s, v in saved.items()}}


@dataclass(frozen=True)
class Evaluation:
    """Everything :func:`evaluate` finds about one programme (tables of :func:`evaluate_all`)."""

    effects: pd.DataFrame
    event_study: pd.DataFrame
    balance: pd.DataFrame
    savings: pd.DataFrame
    cost: pd.DataFrame
    prosumers: pd.DataFrame
    panel: pd.DataFrame


def _programme(store: Store, programme_id: str) -> pd.Series:
    programmes = store.sql("SELECT * FROM programmes")
    if programme_id not in set(programmes["programme_id"]):
        known = ", ".join(sorted(programmes["programme_id"])) or "none"
        raise KeyError(f"the store has no programme {programme_id!r} (known: {known}); ingest the programme list "
                       "(energy ingest) or check the id")
    return programmes.set_index("programme_id").loc[programme_id]


def evaluate(store: Store, programme_id: str, settings: EvaluationSettings | None = None,
             use: MonthlyUse | None = None) -> Evaluation:
    """Evaluate one programme against its matched comparison group, for each carrier it targets
    (all energy carriers when it names none).

    Parameters
    ----------
    store : Store
        The canonical store (programmes, participation, readings, meters, sites, generation).
    programme_id : str
        The programme.
    settings : EvaluationSettings, optional
        Default: ``config/evaluation.toml``.
    use : MonthlyUse, optional
        :func:`monthly_use` of the energy carriers, when already read (for several programmes).

    Returns
    -------
    Evaluation
        ``effects`` has one row per carrier with participants: the difference-in-differences
        estimate (:func:`difference_in_differences`), ``pretrend_p_value``, ``enrolled`` (meters
        of participating sites), ``matched_in_gu`` (share of participants matched in the gu) and
        ``status`` (``estimated`` or ``too_few``: fewer than two participants or clusters).
    """
    settings = settings or EvaluationSettings.configured()
    programme = _programme(store, programme_id)
    carriers = [programme["carrier"]] if isinstance(programme["carrier"], str) else list(ENERGY_CARRIERS)
    use = use or monthly_use(store, ENERGY_CARRIERS)
    treated = participants(store, programme_id, use)
    treated = treated[treated["carrier"].isin(carriers)]
    pool = comparison_pool(store, use)
    matched, matches, candidates = match_controls(use, treated, pool[pool["carrier"].isin(carriers)], settings)
    panel = stacked_panel(use, matched, matches, settings)
    effects, studies = [], []
    for carrier in sorted(treated["carrier"].unique()):  # one to three carriers
        mine = panel[panel["carrier"] == carrier]
        enrolled = int((treated["carrier"] == carrier).sum())
        in_gu = matches[matches["participant_row"].isin(mine["stack"])].groupby("participant_row")["level"].first()
        row = {"programme_id": programme_id, "carrier": carrier, "enrolled": enrolled,
               "matched_in_gu": float((in_gu == "gu").mean()) if len(in_gu) else np.nan}
        if mine["stack"].nunique() < 2 or mine["site_id"].nunique() < 3:
            effects.append({**row, "status": EffectStatus.TOO_FEW, "participants": int(mine["stack"].nunique())})
            continue
        estimate = difference_in_differences(mine, settings)
        study, pretrend = event_study(mine, settings)
        effects.append({**row, **estimate, "pretrend_p_value": pretrend, "status": EffectStatus.ESTIMATED})
        studies.append(study.assign(programme_id=programme_id, carrier=carrier))
    effects = pd.DataFrame(effects)
    estimated = effects[effects["status"] == EffectStatus.ESTIMATED] if len(effects) else effects
    savings = annual_savings(estimated, estimated.set_index(["programme_id", "carrier"])["enrolled"]) \
        if len(estimated) else pd.DataFrame()
    info = pd.DataFrame([{"programme_id": programme_id, "cost_won_per_participant": programme["cost_won_per_participant"],
                          "participants": store.sql("SELECT count(DISTINCT site_id) AS n FROM participation "
                                                    "WHERE programme_id = ?", [programme_id])["n"].iloc[0]}])
    cost = cost_effectiveness(savings, info) if len(savings) else pd.DataFrame()
    electricity = estimated[estimated["carrier"] == "electricity"] if len(estimated) else estimated
    prosumers = None
    if len(electricity):
        prosumers = prosumer_balance(store, panel[panel["carrier"] == "electricity"], electricity.iloc[0].to_dict(),
                                     settings)
    balance_table = balance(matched, matches, candidates, use, settings).assign(programme_id=programme_id) \
        if len(matched) else pd.DataFrame()
    return Evaluation(effects, pd.concat(studies, ignore_index=True) if studies else pd.DataFrame(), balance_table,
                      savings, cost, pd.DataFrame([{"programme_id": programme_id, **prosumers}]) if prosumers
                      else pd.DataFrame(), panel)


def evaluate_all(store: Store, settings: EvaluationSettings | None = None, *,
                 progress: Callable[[str], None] | None = None, use: MonthlyUse | None = None,
                 threads: int = 1) -> dict[str, pd.DataFrame]:
    """Evaluate every programme with participants; the derived tables ``programme_effects``,
    ``programme_event_study``, ``programme_balance``, ``programme_savings``, ``programme_cost``
    and ``programme_prosumers`` (empty when the store has no participants). ``use`` is
    :func:`monthly_use` of :data:`ENERGY_CARRIERS` when already made; ``threads`` evaluate
    programmes at once (their NumPy, DuckDB and BLAS work releases the GIL; the matrix is shared,
    not copied)."""
    settings = settings or EvaluationSettings.configured()
    names = store.sql("SELECT DISTINCT programme_id FROM participation ORDER BY programme_id")["programme_id"]
    if use is None and len(names):
        use = monthly_use(store, ENERGY_CARRIERS)

    def one(programme_id: str) -> Evaluation:
        result = evaluate(store, programme_id, settings, use)
        if progress:
            progress(programme_id)
        return result

    with ThreadPoolExecutor(max(1, min(threads, len(names)))) as pool:  # a handful of programmes, in order
        results = list(pool.map(one, names))
    tables = {}
    for name, attribute in (("programme_effects", "effects"), ("programme_event_study", "event_study"),
                            ("programme_balance", "balance"), ("programme_savings", "savings"),
                            ("programme_cost", "cost"), ("programme_prosumers", "prosumers")):
        frames = [getattr(r, attribute) for r in results if len(getattr(r, attribute))]
        tables[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return tables
