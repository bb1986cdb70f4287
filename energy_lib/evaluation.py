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

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import duckdb
import numpy as np
import pandas as pd
import statsmodels.api as sm

from energy_lib import configuration
from energy_lib.savings import in_units
from energy_lib.store import Store

__all__ = ["EvaluationSettings", "MonthlyUse", "Evaluation", "monthly_use", "participants", "comparison_pool",
           "pre_features", "match_controls", "balance", "stacked_panel", "absorb", "difference_in_differences",
           "event_study", "annual_savings", "cost_effectiveness", "prosumer_balance", "evaluate", "evaluate_all",
           "ENERGY_CARRIERS", "DAYS_PER_YEAR"]

ENERGY_CARRIERS = ("electricity", "gas", "heat")
"""Carriers evaluated for a programme that names none (e.g. an energy-independent village)."""

DAYS_PER_YEAR = 365.25
"""Days in a year, to turn an effect per day into savings per year [days/year]."""

_HEATING_MONTHS = (11, 12, 1, 2, 3)
_COOLING_MONTHS = (6, 7, 8, 9)
_FEATURES = ("level", "heating_ratio", "cooling_ratio")
_UNITS = ("native", "kwh", "toe", "kgco2eq", "won")


@dataclass(frozen=True)
class EvaluationSettings:
    """Windows, matching and inference settings (defaults: ``config/evaluation.toml``)."""

    pre_months: int = 12
    post_months: int = 12
    transition_months: int = 2
    min_months: int = 9
    controls_per_participant: int = 3
    caliper: float = 0.5
    max_abs_smd: float = 0.1
    confidence: float = 0.95

    @classmethod
    def configured(cls) -> EvaluationSettings:
        """The settings of ``config/evaluation.toml``."""
        config = configuration.load("evaluation")
        flat = {**config["window"], **config["matching"], **config["inference"]}
        return cls(**{f.name: flat[f.name] for f in fields(cls)})

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


_USE = """
WITH meter_rows AS (
    SELECT m.meter_id, row_number() OVER (ORDER BY m.meter_id) - 1 AS meter_row  -- the rows of _METERS
    FROM meters m JOIN sites s USING (site_id) WHERE list_contains($carriers, m.carrier)
), use AS (
    SELECT r.meter_id,
           date_trunc('month', CASE WHEN r.resolution = 'billing' THEN r.period_end ELSE r.period_start END) AS month,
           sum(r.value_canonical) AS value,
           sum(epoch(r.period_end) - epoch(r.period_start)) / 86400.0 AS days
    FROM readings r
    WHERE NOT r.outlier AND r.resolution IN ('billing', 'monthly', 'daily') AND list_contains($carriers, r.carrier)
    GROUP BY ALL
)
SELECT m.meter_row, datediff('month', DATE '1970-01-01', u.month)::INTEGER AS month_number,
       u.value / u.days AS per_day
FROM use u JOIN meter_rows m USING (meter_id)
WHERE u.days > 0
"""

_METERS = """
SELECT m.meter_id, m.carrier, s.site_id, s.ward_code, substr(s.ward_code, 1, 5) AS gu_code, s.building_type,
       s.floor_area_m2, s.households
FROM meters m JOIN sites s USING (site_id)
WHERE list_contains(?, m.carrier)
ORDER BY m.meter_id
"""


def monthly_use(store: Store, carriers: Sequence[str]) -> MonthlyUse:
    """Every meter's use per day in each billing month, as a meters × months matrix.

    The sums per meter and month are made by DuckDB and come back as three NumPy columns (row,
    month, use per day), not as a frame of meter ids: the full city's 75 million meter-months fit
    in about 1 GB on their way to the matrix.

    Parameters
    ----------
    store : Store
        The canonical store.
    carriers : sequence of str
        Carriers to read (``electricity``, ``gas``, …).
    """
    carriers = list(carriers)
    meters = store.sql(_METERS, [carriers])
    with contextlib.closing(store.connect(["readings", "meters", "sites"])) as con:
        use = con.execute(_USE, {"carriers": carriers}).fetchnumpy()
    month_number = np.asarray(use["month_number"], dtype=np.int64)
    first, last = (int(month_number.min()), int(month_number.max())) if len(month_number) else (360, 360)
    months = pd.DatetimeIndex(np.arange(first, last + 1).astype("datetime64[M]").astype("datetime64[us]"))
    values = np.full((len(meters), len(months)), np.nan)
    values[np.asarray(use["meter_row"], dtype=np.int64), month_number - first] = np.asarray(use["per_day"], dtype=float)
    return MonthlyUse(values, meters, months)


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
    valid = ~np.isnan(use.values)
    filled = np.where(valid, use.values, 0.0)
    month_of_year = use.months.month.to_numpy()

    def window_sums(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        total = np.concatenate([np.zeros((len(filled), 1)), np.cumsum(filled * mask, axis=1)], axis=1)
        count = np.concatenate([np.zeros((len(filled), 1)), np.cumsum(valid * mask, axis=1)], axis=1)
        start = np.maximum(ends - months, 0)
        return total[rows, ends] - total[rows, start], count[rows, ends] - count[rows, start]

    every, n = window_sums(np.ones(len(use.months), dtype=bool))
    heating, n_heating = window_sums(np.isin(month_of_year, _HEATING_MONTHS))
    cooling, n_cooling = window_sums(np.isin(month_of_year, _COOLING_MONTHS))
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
SELECT p.row AS participant_row, c.row AS control_row, c.site_id AS control_site,
       sqrt({distance}) AS distance
FROM p JOIN c ON c.carrier = p.carrier AND c.building_type = p.building_type AND c.{level} = p.{level}
            AND c.enrol_month = p.enrol_month
QUALIFY row_number() OVER (PARTITION BY p.row ORDER BY distance, c.row) <= ?
"""


def match_controls(use: MonthlyUse, treated: pd.DataFrame, pool: pd.DataFrame,
                   settings: EvaluationSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
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
        deviations] and ``level`` (``ward`` or ``gu``); and every candidate (row, enrolment month)
        with its features.
    """
    k = settings.controls_per_participant
    treated = _with_features(use, treated, settings)
    keys = ["carrier", "building_type", "gu_code", "enrol_month"]
    wanted = pool.merge(treated[keys].drop_duplicates(), on=keys[:3])
    candidates = _with_features(use, wanted, settings)
    scale = pd.concat([treated, candidates])[list(_FEATURES)].std(ddof=1).replace(0.0, 1.0).fillna(1.0)
    distance = " + ".join(f"power((p.{f} - c.{f}) / {float(scale[f])!r}, 2)" for f in _FEATURES)
    columns = ["row", "site_id", "carrier", "building_type", "ward_code", "gu_code", "enrol_month", *_FEATURES]
    parts = []
    with duckdb.connect() as con:
        con.register("c", candidates[columns])
        remaining = treated
        for level in ("ward_code", "gu_code"):
            con.register("p", remaining[columns])
            found = con.execute(_MATCH.format(distance=distance, level=level), [k]).df()
            close = found["distance"] <= settings.caliper if level == "ward_code" else np.ones(len(found), bool)
            complete = found[close].groupby("participant_row").size()
            complete = complete[complete >= k].index
            parts.append(found[found["participant_row"].isin(complete)].assign(level=level.removesuffix("_code")))
            remaining = remaining[~remaining["row"].isin(complete)]
    matches = pd.concat(parts, ignore_index=True).sort_values(["participant_row", "distance", "control_row"],
                                                              ignore_index=True)
    matched = treated[treated["row"].isin(matches["participant_row"])].reset_index(drop=True)
    return matched, matches, candidates


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
    features = pool_features.set_index(["row", "enrol_month"])
    control_rows = treated.set_index("row")["enrol_month"].reindex(controls["participant_row"]).to_numpy()
    matched = features.loc[list(zip(controls["control_row"], control_rows))].reset_index()
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
    unit = pd.factorize(pd.MultiIndex.from_arrays([panel["stack"], panel["row"]]))[0]
    time = pd.factorize(pd.MultiIndex.from_arrays([panel["stack"], panel["event"]]))[0]
    weights = panel["weight"].to_numpy(float)
    data = np.column_stack([panel["use_per_day"].to_numpy(float), regressors.to_numpy(float)])
    absorbed = absorb(data, [unit, time], weights)
    clusters = pd.factorize(panel["site_id"])[0]
    model = sm.WLS(absorbed[:, 0], pd.DataFrame(absorbed[:, 1:], columns=regressors.columns), weights=weights)
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
            effects.append({**row, "status": "too_few", "participants": int(mine["stack"].nunique())})
            continue
        estimate = difference_in_differences(mine, settings)
        study, pretrend = event_study(mine, settings)
        effects.append({**row, **estimate, "pretrend_p_value": pretrend, "status": "estimated"})
        studies.append(study.assign(programme_id=programme_id, carrier=carrier))
    effects = pd.DataFrame(effects)
    estimated = effects[effects["status"] == "estimated"] if len(effects) else effects
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
                 progress: Callable[[str], None] | None = None) -> dict[str, pd.DataFrame]:
    """Evaluate every programme with participants; the derived tables ``programme_effects``,
    ``programme_event_study``, ``programme_balance``, ``programme_savings``, ``programme_cost``
    and ``programme_prosumers`` (empty when the store has no participants)."""
    settings = settings or EvaluationSettings.configured()
    names = store.sql("SELECT DISTINCT programme_id FROM participation ORDER BY programme_id")["programme_id"]
    use = monthly_use(store, ENERGY_CARRIERS) if len(names) else None
    results = []
    for programme_id in names:  # a handful of programmes
        results.append(evaluate(store, programme_id, settings, use))
        if progress:
            progress(programme_id)
    tables = {}
    for name, attribute in (("programme_effects", "effects"), ("programme_event_study", "event_study"),
                            ("programme_balance", "balance"), ("programme_savings", "savings"),
                            ("programme_cost", "cost"), ("programme_prosumers", "prosumers")):
        frames = [getattr(r, attribute) for r in results if len(getattr(r, attribute))]
        tables[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return tables
