"""CalTRACK 2.0 daily and billing baselines, fitted for many meters at once.

Each meter's use per day is modelled as an intercept plus heating and/or cooling slopes times
degree days at a balance point found by grid search (CalTRACK 2.0, section 3): intercept-only,
HDD-only, CDD-only and HDD+CDD candidates (heating balance point ≤ cooling balance point), each
qualified by minimum degree days and non-negative coefficients, and the one with the highest
adjusted R² selected. Billing data use weighted least squares, weighted by the days of
temperature kept per period.

The reference implementation fits 2,014 statsmodels formulas per electricity meter (6.6–9.1 s of
CPU per meter on the benchmark machine, docs/benchmarks.md, issue 17). Here every candidate of every
meter in a batch is solved at once from weighted sums, in closed form. Daily meters of one weather
station (the usual case) are put on one calendar, so the degree days and the per-day products of
every HDD+CDD pair are computed once; each meter's sums are matrix products with those shared
columns, corrected for the days the meter misses (:func:`fit_caltrack`, Notes). Measured
2026-12-07 on the benchmark workload (windows, period arrays, fit and savings): 4,096–6,164 daily
meters per CPU-second on one core, 3,784–4,265 per second of wall time on the nearly idle machine
(docs/benchmarks.md, issue 17). The results equal OpenEEmeter
2.10's (tests/unit/baselines/test_caltrack.py).

Temperatures are in °C. The default balance-point grid is OpenEEmeter's 30–90 °F in 1 °F steps,
converted exactly, and the minimum total degree days (20 °F·day) likewise, so a fit in °C selects
the same model as a fit in °F; slopes per °C are 9/5 of slopes per °F.

References
----------
.. [1] CalTRACK Methods 2.0, sections 2 (data sufficiency) and 3 (daily and billing methods).
.. [2] OpenEEmeter 2.10, ``eemeter.caltrack.usage_per_day``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy import stats

from energy_lib.baselines import metrics
from energy_lib.baselines.result import CalTRACKResult, ModelWarning
from energy_lib.core.status import Status

__all__ = ["CalTRACKSettings", "Periods", "CalTRACKFit", "fit_caltrack", "predict_caltrack",
           "FAHRENHEIT_GRID", "MODEL_TYPES", "CandidateStatus", "CANDIDATE_STATUS"]

FAHRENHEIT_GRID = np.arange(30, 91, dtype=float)
"""OpenEEmeter's balance points [°F]."""

MODEL_TYPES = ("intercept_only", "hdd_only", "cdd_only", "hdd_cdd")


class CandidateStatus(StrEnum):
    """The status of one candidate model: a result's statuses, and ``not_attempted`` (too few
    degree days at its balance points, CalTRACK 2.0, 3.2.1)."""

    QUALIFIED = Status.QUALIFIED.value
    DISQUALIFIED = Status.DISQUALIFIED.value
    NOT_ATTEMPTED = "not_attempted"
    ERROR = Status.ERROR.value


CANDIDATE_STATUS = {0: CandidateStatus.QUALIFIED, 1: CandidateStatus.DISQUALIFIED, 2: CandidateStatus.NOT_ATTEMPTED,
                    3: CandidateStatus.ERROR}

_F_TO_C = 5.0 / 9.0


def _celsius(temp_f: np.ndarray) -> np.ndarray:
    return (np.asarray(temp_f, dtype=float) - 32.0) * _F_TO_C


@dataclass(frozen=True)
class CalTRACKSettings:
    """Settings of a CalTRACK daily or billing fit (CalTRACK 2.0 / OpenEEmeter 2.10 defaults).

    Parameters
    ----------
    interval : str
        ``daily`` or ``billing``.
    fit_cdd : bool
        Fit cooling terms (False for gas, by CalTRACK convention).
    balance_points_c : tuple of float
        Balance-point grid [°C] for both heating and cooling.
    minimum_non_zero_cdd, minimum_non_zero_hdd : int
        Periods with non-zero degree days a candidate needs (10 daily, 0 billing).
    minimum_total_cdd, minimum_total_hdd : float
        Total degree days a candidate needs [°C·day] (20 °F·day).
    beta_cdd_maximum_p_value, beta_hdd_maximum_p_value : float
        A slope with a larger p-value disqualifies its candidate (1: no screen).
    fit_intercept_only : bool
        With False, the best temperature model wins even with negative adjusted R².
    """

    interval: str = "daily"
    fit_cdd: bool = True
    balance_points_c: tuple[float, ...] = tuple(_celsius(FAHRENHEIT_GRID).tolist())
    minimum_non_zero_cdd: int = 10
    minimum_non_zero_hdd: int = 10
    minimum_total_cdd: float = 20.0 * _F_TO_C
    minimum_total_hdd: float = 20.0 * _F_TO_C
    beta_cdd_maximum_p_value: float = 1.0
    beta_hdd_maximum_p_value: float = 1.0
    fit_intercept_only: bool = True

    @classmethod
    def billing(cls, **overrides) -> CalTRACKSettings:
        """The billing presets: no minimum of non-zero degree-day periods."""
        return cls(**{"interval": "billing", "minimum_non_zero_cdd": 0, "minimum_non_zero_hdd": 0, **overrides})

    def to_dict(self) -> dict:
        data = asdict(self)
        data["balance_points_c"] = [round(b, 6) for b in self.balance_points_c]
        return data


@dataclass(frozen=True)
class Periods:
    """Meter periods of a batch of meters, padded to the same number of periods.

    Attributes
    ----------
    meter_ids : pandas.Index
    start : numpy.ndarray of datetime64 [meters × periods]
        Start of each period (NaT for padding).
    usage : numpy.ndarray [meters × periods]
        Use in the period [kWh or m³]; NaN for padding or missing.
    days : numpy.ndarray [meters × periods]
        Length of the period [days].
    temp_c : numpy.ndarray [meters × periods × days]
        Daily mean temperatures [°C] of the period's days kept for degree days (NaN padding).
    blocks : numpy.ndarray [meters × periods]
        Days over which degree-day totals are counted in prediction (the period's days, including
        days without temperature: their mean is extrapolated).
    weight : numpy.ndarray [meters × periods]
        Regression weight: days of temperature kept (billing) or 1 (daily).
    """

    meter_ids: pd.Index
    start: np.ndarray
    usage: np.ndarray
    days: np.ndarray
    temp_c: np.ndarray
    blocks: np.ndarray
    weight: np.ndarray

    @property
    def n_meters(self) -> int:
        return len(self.meter_ids)


def _degree_days(temp_c: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean daily HDD and CDD over each period's kept days, for every balance point
    [meters × periods × balance points] (0 where a period has no temperature), and whether the
    period has any.

    Notes
    -----
    A period's HDD total is piecewise linear in the balance point :math:`b`: with its days'
    temperatures sorted, :math:`\\sum_d \\max(b - t_d, 0) = b\\,n(b) - S(n(b))`, where :math:`n(b)`
    counts the days colder than :math:`b` and :math:`S(k)` sums the :math:`k` coldest; the CDD
    total is :math:`(S_{all} - S(n(b))) - b\\,(N - n(b))`. One sort and one binary search per
    period replace a pass over every day at every balance point (30 times fewer operations for
    billing periods of 30 days and 61 balance points).
    """
    valid = ~np.isnan(temp_c)
    count = valid.sum(axis=2)
    if temp_c.shape[2] == 1:  # daily data: one day per period, no averaging; fmax turns NaN into 0
        t = temp_c[:, :, 0, None]
        return np.fmax(grid - t, 0.0), np.fmax(t - grid, 0.0), count > 0
    meters, periods, depth = temp_c.shape
    ordered = np.sort(temp_c, axis=2).reshape(-1, depth)  # NaN sort last
    running = np.zeros((len(ordered), depth + 1))
    np.nancumsum(ordered, axis=1, out=running[:, 1:])
    # n(b) of every period at once: each period's sorted temperatures shifted into its own band of
    # one sorted array (NaN above every balance point), searched for every balance point
    low = min(float(grid.min()), float(np.nanmin(ordered, initial=np.inf)))
    band = max(float(grid.max()), float(np.nanmax(ordered, initial=-np.inf))) - low + 2.0
    offset = np.arange(len(ordered))[:, None] * band
    keys = (np.where(np.isnan(ordered), band - 1.0, ordered - low) + offset).ravel()
    colder = np.searchsorted(keys, ((grid - low)[None, :] + offset).ravel()).reshape(len(ordered), -1) \
        - np.arange(len(ordered))[:, None] * depth
    below = np.take_along_axis(running, colder, axis=1)
    kept = count.reshape(-1, 1)
    hdd = grid * colder - below
    cdd = (running[:, -1:] - below) - grid * (kept - colder)
    scale = 1.0 / np.maximum(kept, 1)
    shape = (meters, periods, len(grid))
    return (hdd * scale).reshape(shape), (cdd * scale).reshape(shape), count > 0


def _distinct_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a 2-D float array, and each row's index among them.

    Rows are compared bit for bit (a NaN equals a NaN of the same bits), so that a row-wise
    computation done once on a distinct row gives the numbers of each of its copies. Rows are
    grouped by a 64-bit hash (an integer sort instead of a sort of whole rows) and the grouping is
    checked; a hash collision falls back to NumPy's exact row ``unique``.
    """
    bits = np.ascontiguousarray(values).view(np.uint64)
    # Σ_j bits_j · k_j modulo 2^64 (uint64 arithmetic wraps), with odd constants k_j
    multipliers = np.arange(1, bits.shape[1] + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) | np.uint64(1)
    _, first, inverse = np.unique((bits * multipliers).sum(axis=1), return_index=True, return_inverse=True)
    if not np.array_equal(bits[first][inverse], bits):  # a collision: two different rows, one hash
        _, first, inverse = np.unique(bits, axis=0, return_index=True, return_inverse=True)
    return values[first], inverse.reshape(-1)


@dataclass(frozen=True)
class _PeriodDegreeDays:
    """:func:`_degree_days` of a batch's periods, computed once per distinct period.

    Billing meters read on the same days share their periods' kept temperatures (2,772,854
    electricity bills of a 50,000-household demo city fall in 1,508 distinct periods), so the sort
    and search of :func:`_degree_days` run on the distinct periods only, and each meter's periods
    gather their rows. The numbers are those of :func:`_degree_days` of the meter's own periods:
    each period's are computed from its own temperatures alone.

    ``hdd``, ``cdd`` [distinct periods × balance points] are mean daily degree days [°C·day per
    day], ``has_temperature`` [distinct periods], ``index`` [meters × periods] each period's row.
    """

    hdd: np.ndarray
    cdd: np.ndarray
    has_temperature: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, temp_c: np.ndarray, grid: np.ndarray) -> _PeriodDegreeDays:
        """From the kept daily temperatures [°C] [meters × periods × days] and balance points [°C]."""
        meters, periods, depth = temp_c.shape
        distinct, index = _distinct_rows(temp_c.reshape(-1, depth))
        hdd, cdd, has_temperature = (a[0] for a in _degree_days(distinct[None], grid))
        return cls(hdd, cdd, has_temperature, index.reshape(meters, periods))

    def take(self, rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """HDD, CDD [meters × periods × balance points] and whether each period has temperature
        [meters × periods], of some of the meters: :func:`_degree_days` of their periods."""
        index = self.index[rows]
        return self.hdd[index], self.cdd[index], self.has_temperature[index]


@dataclass(frozen=True)
class CalTRACKFit:
    """CalTRACK fits of a batch of meters: the selected model of each, and every candidate.

    Arrays are per meter unless named otherwise; balance points are [°C], slopes per °C,
    intercepts per day in the meter's unit.
    """

    periods: Periods
    settings: CalTRACKSettings
    model_type: np.ndarray
    status: np.ndarray
    heating_balance_point: np.ndarray
    cooling_balance_point: np.ndarray
    intercept: np.ndarray
    beta_hdd: np.ndarray
    beta_cdd: np.ndarray
    r_squared_adj: np.ndarray
    avgs_metrics: dict[str, np.ndarray]
    totals_metrics: dict[str, np.ndarray]
    candidate_status: dict[str, np.ndarray] = field(repr=False)
    """Per model type, each candidate's status code (:data:`CANDIDATE_STATUS`); empty unless the
    fit was asked to keep candidates."""
    candidate_r2_adj: dict[str, np.ndarray] = field(repr=False)

    @property
    def n_params(self) -> np.ndarray:
        """Slope terms of each selected model (0, 1 or 2), as CalTRACK's metrics count them."""
        return np.select([self.model_type == "hdd_cdd", np.isin(self.model_type, ["hdd_only", "cdd_only"])],
                         [2, 1], 0)

    def table(self) -> pd.DataFrame:
        """One row per meter: status, model, balance points [°C], coefficients, R², CV(RMSE), NMBE."""
        return pd.DataFrame({
            "meter_id": self.periods.meter_ids, "status": self.status, "model_type": self.model_type,
            "heating_balance_point_c": self.heating_balance_point, "cooling_balance_point_c": self.cooling_balance_point,
            "intercept": self.intercept, "beta_hdd": self.beta_hdd, "beta_cdd": self.beta_cdd,
            "r_squared_adj": self.r_squared_adj, "cvrmse_adj": self.totals_metrics["cvrmse_adj"],
            "nmbe": self.totals_metrics["nmbe"], "n_periods": self.totals_metrics["n"],
            "fsu_base_term": self.totals_metrics["fsu_base_term"],
        })

    def result(self, i: int, warnings: tuple[ModelWarning, ...] = ()) -> CalTRACKResult:
        """The result object of meter *i* (with every candidate when the fit kept them)."""
        grid = np.asarray(self.settings.balance_points_c)
        candidates = [] if not self.candidate_status else [{"model_type": "intercept_only", "status": CANDIDATE_STATUS[int(self.candidate_status["intercept_only"][i])],
                       "r_squared_adj": float(self.candidate_r2_adj["intercept_only"][i])}]
        for kind in ("hdd_only", "cdd_only"):
            if kind in self.candidate_status:
                key = "heating_balance_point_c" if kind == "hdd_only" else "cooling_balance_point_c"
                candidates += [{"model_type": kind, key: round(float(b), 6),
                                "status": CANDIDATE_STATUS[int(s)], "r_squared_adj": float(r)}
                               for b, s, r in zip(grid, self.candidate_status[kind][i], self.candidate_r2_adj[kind][i])]
        if "hdd_cdd" in self.candidate_status:
            cool, heat = np.meshgrid(np.arange(len(grid)), np.arange(len(grid)), indexing="ij")
            pairs = heat <= cool
            candidates += [{"model_type": "hdd_cdd", "cooling_balance_point_c": round(float(grid[c]), 6),
                            "heating_balance_point_c": round(float(grid[h]), 6), "status": CANDIDATE_STATUS[int(s)],
                            "r_squared_adj": float(r)}
                           for c, h, s, r in zip(cool[pairs], heat[pairs], self.candidate_status["hdd_cdd"][i][pairs],
                                                 self.candidate_r2_adj["hdd_cdd"][i][pairs])]
        params = {"intercept": self.intercept[i]}
        if self.model_type[i] in ("hdd_only", "hdd_cdd"):
            params |= {"beta_hdd_per_c": self.beta_hdd[i], "heating_balance_point_c": self.heating_balance_point[i]}
        if self.model_type[i] in ("cdd_only", "hdd_cdd"):
            params |= {"beta_cdd_per_c": self.beta_cdd[i], "cooling_balance_point_c": self.cooling_balance_point[i]}
        return CalTRACKResult(
            method=f"caltrack_{self.settings.interval}", status=Status(self.status[i]),
            meter_id=str(self.periods.meter_ids[i]), model_type=self.model_type[i] or None,
            params={k: float(v) for k, v in params.items()},
            metrics={k: float(v[i]) for k, v in self.totals_metrics.items()},
            settings=self.settings.to_dict(), warnings=tuple(warnings), candidates=tuple(candidates))


_CHUNK = 64
"""Meters per batch: an array of the 1,891 HDD+CDD pairs of 64 meters (968 kB) fits the L2 cache of
a core of the benchmark machine (1 MiB); the fastest of 32, 64, 128, 256 and 512 there
(docs/benchmarks.md, issue 17)."""


@dataclass(frozen=True)
class _Design:
    """What the candidates of a batch are fitted to.

    ``y`` [meters × columns] is the use per day, ``w`` the regression weights (0 where a column
    has no use or no temperature). With ``shared`` the degree days ``hdd``, ``cdd`` are one
    [columns × balance points] array for every meter (one station, the same days) and ``outer``
    holds every pair's CDD × HDD product per column [columns × pairs] and ``basis`` the columns
    [HDD, CDD, HDD², CDD², HDD > 0, CDD > 0] of the sums of :func:`_moments`, computed once;
    otherwise they are per meter [meters × columns × balance points].
    """

    y: np.ndarray
    w: np.ndarray
    hdd: np.ndarray
    cdd: np.ndarray
    outer: np.ndarray | None = None
    basis: np.ndarray | None = None

    @property
    def shared(self) -> bool:
        return self.hdd.ndim == 2


def _pairs(n_grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (cooling, heating) of the HDD+CDD candidates: heating balance point ≤ cooling
    balance point, in CalTRACK's order (cooling outer, heating inner)."""
    cool, heat = np.nonzero(np.arange(n_grid)[None, :] <= np.arange(n_grid)[:, None])
    return cool, heat


def _common_days(periods: Periods) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Daily periods laid out on the batch's calendar: use [meters × days], weights and each
    day's temperature [°C], or None when the periods are not daily or two meters disagree on a
    day's temperature.

    A meter's missing days are NaN use and weight 0 in their own column, so that every meter
    shares the degree days of each column (the stored layout packs each meter's days together,
    and one missing day would shift the rest).
    """
    if periods.temp_c.shape[2] != 1 or not periods.n_meters:
        return None
    if _aligned(periods):  # every meter has every day, in the same columns: the stored layout is a calendar
        return periods.usage, periods.weight, periods.temp_c[0, :, 0]
    present = ~np.isnat(periods.start)
    if not present.any() or not (np.isnan(periods.usage[~present]).all() and (periods.days[present] == 1).all()):
        return None
    day = periods.start.astype("datetime64[D]").astype(np.int64)
    first = day[present].min()
    column = np.where(present, day - first, 0)
    n_days = int(column.max()) + 1
    if n_days > 4 * periods.usage.shape[1] + 31:  # too sparse a calendar: keep the stored layout
        return None
    rows = np.broadcast_to(np.arange(periods.n_meters)[:, None], column.shape)[present]
    cols = column[present]
    taken = np.zeros((periods.n_meters, n_days), dtype=bool)
    taken[rows, cols] = True
    if taken.sum() != len(cols):  # two periods of one meter on one day
        return None
    temp = periods.temp_c[present, 0]
    day_temp = np.full(n_days, np.nan)
    day_temp[cols] = temp
    if not np.array_equal(day_temp[cols], temp, equal_nan=True):
        return None
    usage, weight = np.full(taken.shape, np.nan), np.zeros(taken.shape)
    usage[rows, cols] = periods.usage[present]
    weight[rows, cols] = periods.weight[present]
    return usage, weight, day_temp


def _aligned(periods: Periods) -> bool:
    """Whether daily periods already share one calendar: in every column, every meter has the same
    day (distinct days, none missing), one day long, with the same temperature."""
    first = periods.start[0]
    return bool(not np.isnat(first).any() and (np.diff(first) > np.timedelta64(0)).all()
                and (periods.start == first).all() and (periods.days == 1).all()
                and _same_temperatures(periods.temp_c))


def _design(periods: Periods, grid: np.ndarray, fit_cdd: bool, common=None, degree_days=None) -> _Design:
    """The batch's use per day [unit/day], weights and degree days [°C·day per day].

    ``common`` (from :func:`_common_days`) puts daily meters on one calendar; billing meters
    with the same periods and temperatures share them as stored; other batches get degree days
    per meter: ``degree_days`` when given (:meth:`_PeriodDegreeDays.take`, the same numbers),
    else :func:`_degree_days` of their periods.
    """
    def shared(temp: np.ndarray, y: np.ndarray, weight: np.ndarray, hdd, cdd) -> _Design:
        has_temperature = ~np.isnan(temp)
        valid = ~np.isnan(y) & has_temperature & (weight > 0)
        outer = None
        if fit_cdd:
            cool, heat = _pairs(len(grid))
            outer = cdd[:, cool] * hdd[:, heat]
        basis = np.concatenate([hdd, cdd, hdd * hdd, cdd * cdd, (hdd > 0).astype(float), (cdd > 0).astype(float)],
                               axis=1)
        return _Design(np.where(valid, y, 0.0), np.where(valid, weight, 0.0), hdd, cdd, outer, basis)

    if common is not None:
        usage, weight, temp = common
        t = temp[:, None]
        return shared(temp, usage, weight, np.fmax(grid - t, 0.0), np.fmax(t - grid, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        y = periods.usage / periods.days
    if _same_temperatures(periods.temp_c):
        # billing meters read on the same days (or daily meters that could not be put on one
        # calendar): degree days once; a period without temperature has all its days NaN
        hdd, cdd, _ = (a[0] for a in _degree_days(periods.temp_c[:1], grid))
        temp = np.where(np.isnan(periods.temp_c[0]).all(axis=1), np.nan, 0.0)
        return shared(temp, y, periods.weight, hdd, cdd)
    hdd, cdd, has_temperature = _degree_days(periods.temp_c, grid) if degree_days is None else degree_days
    valid = ~np.isnan(y) & has_temperature & (periods.weight > 0)
    return _Design(np.where(valid, y, 0.0), np.where(valid, periods.weight, 0.0), hdd, cdd)


def fit_caltrack(periods: Periods, settings: CalTRACKSettings = CalTRACKSettings(), *,
                 keep_candidates: bool = False) -> CalTRACKFit:
    """Fit CalTRACK daily or billing baselines to every meter of a batch.

    Parameters
    ----------
    periods : Periods
        The meters' baseline periods (use, days, kept daily temperatures [°C], weights).
    settings : CalTRACKSettings
    keep_candidates : bool
        Keep the status and adjusted R² of every candidate of every meter (about 33 kB per
        meter with cooling), for :meth:`CalTRACKFit.result` and comparisons with OpenEEmeter.
        Off by default: a city's run needs only the selected models.

    Returns
    -------
    CalTRACKFit
        Status per meter: ``qualified`` (a model was selected), ``disqualified`` (no candidate
        qualified) or ``no_data``. Never raises for bad data.

    Notes
    -----
    With weights :math:`w_i`, use per day :math:`y_i` and degree days :math:`x_i`, every
    candidate minimises :math:`\\sum_i w_i (y_i - \\alpha - \\beta^T x_i)^2`. From weighted means
    and centred sums :math:`S_{ab} = \\sum_i w_i (a_i - \\bar a)(b_i - \\bar b)`:
    :math:`\\beta = S_{xx}^{-1} S_{xy}`, :math:`\\alpha = \\bar y - \\beta^T \\bar x`,
    :math:`SSR = S_{yy} - \\beta^T S_{xy}`, :math:`R^2 = 1 - SSR/S_{yy}` and
    :math:`R^2_{adj} = 1 - (n-1)/(n-k-1) (1 - R^2)`; the intercept-only model has
    :math:`R^2_{adj} = 0` (CalTRACK 2.0, 3.4; OpenEEmeter 2.10).

    Shared weather: daily meters of one station are put on one calendar (:func:`_common_days`),
    so the degree days :math:`h_d(b)`, :math:`c_d(b)` of day *d* are the same for every meter.
    The sums over a meter's days are then matrix products with one shared right-hand side
    (:math:`\\sum_d w_{md} x_d = (W X)_m`), and the cross sums of the 1,891 HDD+CDD pairs come
    from the products :math:`c_d(b_c)\\,h_d(b_h)`, computed once per batch, summed with every
    day's full weight :math:`\\bar w_d` and corrected for each meter's missing days:
    :math:`\\sum_d w_{md} c_d h_d = \\sum_d \\bar w_d c_d h_d - \\sum_{d:\\,w_{md} < \\bar w_d}
    (\\bar w_d - w_{md})\\, c_d h_d`, the second sum over the days some meter of the batch misses
    only. This is exact algebra (the same least-squares fits, not an approximation); without
    gaps the correction is empty.
    """
    grid = np.asarray(settings.balance_points_c, dtype=float)
    common = _common_days(periods) if settings.interval == "daily" else None
    design = _design(periods, grid, settings.fit_cdd, common) if common is not None else None
    # periods of several days (billing): degree days once per distinct period of the whole batch
    degree_days = _PeriodDegreeDays.of(periods.temp_c, grid) \
        if design is None and periods.temp_c.shape[2] > 1 and periods.n_meters else None

    def fit(part: Periods, rows: slice) -> CalTRACKFit:
        if design is not None:
            return _fit_chunk(part, settings, keep_candidates, _take_design(design, rows))
        if degree_days is not None:
            return _fit_chunk(part, settings, keep_candidates,
                              _design(part, grid, settings.fit_cdd, degree_days=degree_days.take(rows)))
        return _fit_chunk(part, settings, keep_candidates)

    if periods.n_meters <= _CHUNK:
        return fit(periods, slice(None))
    parts = [fit(_take(periods, slice(a, a + _CHUNK)), slice(a, a + _CHUNK)) for a in range(0, periods.n_meters, _CHUNK)]
    join = np.concatenate
    return CalTRACKFit(
        periods, settings, *(join([getattr(p, f) for p in parts]) for f in
                             ("model_type", "status", "heating_balance_point", "cooling_balance_point", "intercept",
                              "beta_hdd", "beta_cdd", "r_squared_adj")),
        *({k: join([getattr(p, name)[k] for p in parts]) for k in getattr(parts[0], name)}
          for name in ("avgs_metrics", "totals_metrics", "candidate_status", "candidate_r2_adj")))


def _take(periods: Periods, rows: slice) -> Periods:
    """The periods of some of the meters."""
    return Periods(periods.meter_ids[rows], *(getattr(periods, f)[rows] for f in
                                              ("start", "usage", "days", "temp_c", "blocks", "weight")))


def _take_design(design: _Design, rows: slice) -> _Design:
    """A shared design's rows of some of the meters."""
    return _Design(design.y[rows], design.w[rows], design.hdd, design.cdd, design.outer, design.basis)


def _moments(design: _Design, valid: np.ndarray, wy: np.ndarray, W: np.ndarray, y_mean: np.ndarray):
    """Weighted means and centred sums of the HDD and of the CDD [meters × balance points]: for
    each family x̄, S_xx, S_xy, Σ w x and the number of valid periods with x > 0 (raw sums as
    matrix products, centred afterwards)."""
    w = design.w
    if design.shared:  # three products with the shared columns
        g = design.hdd.shape[1]
        raw = w @ design.basis[:, :4 * g]                   # Σ w h, Σ w c, Σ w h², Σ w c²
        raw_y = wy @ design.basis[:, :2 * g]                # Σ w y h, Σ w y c
        raw_nonzero = valid.astype(float) @ design.basis[:, 4 * g:]
        parts = [(raw[:, :g], raw[:, 2 * g:3 * g], raw_y[:, :g], raw_nonzero[:, :g]),
                 (raw[:, g:2 * g], raw[:, 3 * g:], raw_y[:, g:], raw_nonzero[:, g:])]
    else:
        def product(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # Σ_p a[m, p] b[m, p, g]
            return np.matmul(a[:, None, :], b)[:, 0, :]

        parts = [(product(w, x), product(w, x * x), product(wy, x), product(valid.astype(float), (x > 0).astype(float)))
                 for x in (design.hdd, design.cdd)]
    out = []
    for total, squares, with_y, nonzero in parts:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / W[:, None]
            out.append((mean, squares - total * mean, with_y - total * y_mean[:, None], total, nonzero))
    return out


def _cross(design: _Design, cool: np.ndarray, heat: np.ndarray, live: np.ndarray | None) -> np.ndarray:
    """Σ_p w c(b_c) h(b_h) of every meter and HDD+CDD pair [meters × pairs] (raw, uncentred);
    only the pairs ``live`` (indices into ``cool``, ``heat``) unless None."""
    w = design.w
    if live is not None:
        cool, heat = cool[live], heat[live]
    if not design.shared:
        return np.matmul(np.swapaxes(design.cdd * w[..., None], 1, 2), design.hdd)[:, cool, heat]
    full = w.max(axis=0)  # each column's weight for a meter that has it
    shared = full @ design.outer
    cross = np.repeat((shared if live is None else shared[live])[None, :], len(w), axis=0)
    gap = full[None, :] - w
    missing = np.flatnonzero(gap.any(axis=0))  # the columns some meter of the batch misses
    if len(missing):
        correction = gap[:, missing] @ design.outer[missing]
        cross -= correction if live is None else correction[:, live]
    return cross


def _fit_chunk(periods: Periods, settings: CalTRACKSettings, keep_candidates: bool,
               design: _Design | None = None) -> CalTRACKFit:
    """:func:`fit_caltrack` on one batch of meters."""
    grid = np.asarray(settings.balance_points_c, dtype=float)
    n_grid, m = len(grid), periods.n_meters
    if design is None:
        design = _design(periods, grid, settings.fit_cdd)
    w, y0 = design.w, design.y
    valid = w > 0
    n = valid.sum(axis=1).astype(float)
    W = w.sum(axis=1)
    wy = w * y0
    with np.errstate(invalid="ignore", divide="ignore"):
        y_mean = wy.sum(axis=1) / W
        syy = (wy * y0).sum(axis=1) - wy.sum(axis=1) * y_mean
    heating, cooling = _moments(design, valid, wy, W, y_mean)
    h_mean, shh, shy, h_total, h_nonzero = heating
    c_mean, scc, scy, c_total, c_nonzero = cooling
    h_attempted = (h_total >= settings.minimum_total_hdd) & (h_nonzero >= settings.minimum_non_zero_hdd)
    c_attempted = (c_total >= settings.minimum_total_cdd) & (c_nonzero >= settings.minimum_non_zero_cdd)

    def adjusted(ssr: np.ndarray, k: int) -> np.ndarray:
        """1 − (n − 1)/(n − k − 1) · (1 − R²), R² = 1 − SSR/S_yy (in one new array)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            r2 = np.divide(ssr, syy[:, None])
            np.subtract(1.0, r2, out=r2)
            np.subtract(1.0, r2, out=r2)
            r2 *= (n[:, None] - 1.0) / (n[:, None] - k - 1.0)
            return np.subtract(1.0, r2, out=r2)

    def p_values(beta, variance_factor, ssr, k):
        """Two-sided t-test p-values of a slope with n − k − 1 degrees of freedom."""
        dof = (n - k - 1)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.sqrt(ssr / dof * variance_factor)
            return 2 * stats.t.sf(np.abs(beta / se), dof)

    status: dict[str, np.ndarray] = {}
    r2_adj: dict[str, np.ndarray] = {}
    score: dict[str, np.ndarray] = {}  # adjusted R² of qualified candidates, −inf for the others
    coefficients: dict[str, tuple] = {}

    def judge(kind: str, attempted, degenerate, bad, r2):
        """Status codes (0 qualified, 1 disqualified, 2 not attempted, 3 error) and scores."""
        fitted = attempted & ~degenerate
        qualified = fitted & ~bad
        qualified &= np.isfinite(r2)
        score[kind] = np.where(qualified, r2, -np.inf)
        if keep_candidates:
            status[kind] = np.where(~attempted, 2, np.where(degenerate, 3, np.where(bad, 1, 0))).astype(np.int8)
            r2_adj[kind] = np.where(fitted, r2, np.nan)

    # intercept-only: the weighted mean; adjusted R² is 0 by definition (CalTRACK 2.0, 3.4.2)
    has_data = (n > 0)[:, None]
    judge("intercept_only", has_data, ~has_data, (y_mean < 0)[:, None] | (not settings.fit_intercept_only),
          np.zeros((m, 1)))
    if keep_candidates:  # the intercept-only candidate's own status ignores fit_intercept_only
        status["intercept_only"] = np.where(n > 0, np.where(y_mean < 0, 1, 0), 3).astype(np.int8)
        r2_adj["intercept_only"] = np.where(n > 0, 0.0, np.nan)

    def single(kind: str, sxx, sxy, mean, attempted, max_p):
        with np.errstate(invalid="ignore", divide="ignore"):
            beta = sxy / sxx
            intercept = y_mean[:, None] - beta * mean
            ssr = syy[:, None] - beta * sxy
        degenerate = ~(sxx > 0) | (n[:, None] < 3)
        bad = (intercept < 0) | (beta < 0)
        if max_p < 1.0:
            with np.errstate(invalid="ignore", divide="ignore"):
                bad |= p_values(beta, 1.0 / sxx, ssr, 1) > max_p
        judge(kind, attempted, degenerate, bad, adjusted(ssr, 1))
        coefficients[kind] = (intercept, beta)

    single("hdd_only", shh, shy, h_mean, h_attempted, settings.beta_hdd_maximum_p_value)
    cool, heat = _pairs(n_grid)
    if settings.fit_cdd:
        single("cdd_only", scc, scy, c_mean, c_attempted, settings.beta_cdd_maximum_p_value)
        # every (cooling, heating) pair: S_hc = Σ w c h − (Σ w c)(Σ w h)/W. The [meters × pairs]
        # arrays are the bulk of the fit's work: products are written into buffers in place, in
        # the order of the equations in the Notes of fit_caltrack (the same floating-point result)
        attempted = c_attempted[:, cool] & h_attempted[:, heat]
        live = None
        if not keep_candidates:  # only the pairs some meter of the batch attempts can be selected
            live = np.flatnonzero(attempted.any(axis=0))
            attempted = attempted[:, live]
        pair_cool, pair_heat = (cool, heat) if live is None else (cool[live], heat[live])
        S_hh, S_cc, S_hy, S_cy = shh[:, pair_heat], scc[:, pair_cool], shy[:, pair_heat], scy[:, pair_cool]
        h_bar, c_bar = h_mean[:, pair_heat], c_mean[:, pair_cool]
        with np.errstate(invalid="ignore", divide="ignore"):
            S_hc = _cross(design, cool, heat, live)
            buffer = c_total[:, pair_cool]
            buffer *= h_bar
            S_hc -= buffer
            hh_cc = S_hh * S_cc
            det = np.multiply(S_hc, S_hc)
            np.subtract(hh_cc, det, out=det)                                   # S_hh S_cc − S_hc²
            beta_h = np.multiply(S_cc, S_hy)
            beta_h -= np.multiply(S_hc, S_cy, out=buffer)
            beta_h /= det                                                      # (S_cc S_hy − S_hc S_cy) / det
            beta_c = np.multiply(S_hh, S_cy)
            beta_c -= np.multiply(S_hc, S_hy, out=buffer)
            beta_c /= det                                                      # (S_hh S_cy − S_hc S_hy) / det
            intercept = np.subtract(y_mean[:, None], np.multiply(beta_h, h_bar, out=buffer))
            intercept -= np.multiply(beta_c, c_bar, out=buffer)                # ȳ − β_h h̄ − β_c c̄
            ssr = np.subtract(syy[:, None], np.multiply(beta_h, S_hy, out=buffer))
            ssr -= np.multiply(beta_c, S_cy, out=buffer)                       # S_yy − β_h S_hy − β_c S_cy
            np.abs(hh_cc, out=hh_cc)
            np.maximum(hh_cc, 1e-300, out=hh_cc)
            hh_cc *= 1e-12
        degenerate = np.abs(det, out=buffer) > hh_cc
        np.logical_not(degenerate, out=degenerate)
        degenerate |= (n < 4)[:, None]
        bad = intercept < 0
        bad |= beta_c < 0
        bad |= beta_h < 0
        if settings.beta_cdd_maximum_p_value < 1.0 or settings.beta_hdd_maximum_p_value < 1.0:
            with np.errstate(invalid="ignore", divide="ignore"):
                bad |= p_values(beta_c, S_hh / det, ssr, 2) > settings.beta_cdd_maximum_p_value
                bad |= p_values(beta_h, S_cc / det, ssr, 2) > settings.beta_hdd_maximum_p_value
        judge("hdd_cdd", attempted, degenerate, bad, adjusted(ssr, 2))
        coefficients["hdd_cdd"] = (intercept, beta_h, beta_c)

    # selection: strict ">" over candidates in CalTRACK's order (intercept, HDD, CDD, HDD+CDD with
    # the cooling balance point outer): the first of equal candidates wins
    rows = np.arange(m)
    selected_r2 = np.full(m, -np.inf)
    model_type = np.full(m, "", dtype=object)
    local = np.zeros(m, dtype=np.int64)
    for kind, values in score.items():
        if not values.shape[1]:  # no pair attempted by any meter of the batch
            continue
        best = np.argmax(values, axis=1)
        better = values[rows, best] > selected_r2
        selected_r2[better], model_type[better], local[better] = values[rows, best][better], kind, best[better]
    has_model = np.isfinite(selected_r2)
    model_type = model_type.astype(str)

    intercept = np.full(m, np.nan)
    beta_hdd = np.full(m, np.nan)
    beta_cdd = np.full(m, np.nan)
    heating_bp = np.full(m, np.nan)
    cooling_bp = np.full(m, np.nan)
    chosen = model_type == "intercept_only"
    intercept[chosen] = y_mean[chosen]
    for kind, beta_out, bp_out in (("hdd_only", beta_hdd, heating_bp), ("cdd_only", beta_cdd, cooling_bp)):
        chosen = model_type == kind
        if chosen.any():
            a, b = coefficients[kind]
            intercept[chosen] = a[rows[chosen], local[chosen]]
            beta_out[chosen] = b[rows[chosen], local[chosen]]
            bp_out[chosen] = grid[local[chosen]]
    chosen = model_type == "hdd_cdd"
    if chosen.any():
        a, bh, bc = coefficients["hdd_cdd"]
        pair = local[chosen]
        intercept[chosen] = a[rows[chosen], pair]
        beta_hdd[chosen] = bh[rows[chosen], pair]
        beta_cdd[chosen] = bc[rows[chosen], pair]
        heating_bp[chosen] = grid[pair_heat[pair]]
        cooling_bp[chosen] = grid[pair_cool[pair]]
    selected_r2 = np.where(has_model, selected_r2, np.nan)

    # metrics on the stored layout of the periods (OpenEEmeter's order of residuals)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = periods.usage / periods.days
    observed_valid = ~np.isnan(y) & (~np.isnan(periods.temp_c)).any(axis=2) & (periods.weight > 0)
    predicted = _usage_per_day(intercept, beta_hdd, beta_cdd, heating_bp, cooling_bp, periods.temp_c)
    observed = np.where(observed_valid, y, np.nan)
    predicted = np.where(observed_valid, predicted, np.nan)
    k = np.select([model_type == "hdd_cdd", np.isin(model_type, ["hdd_only", "cdd_only"])], [2, 1], 0)
    avgs = metrics.fit_metrics_batch(observed, predicted, k)
    if np.all((periods.days == 1) | ~observed_valid):  # daily periods: totals are the same numbers
        totals = {key: value.copy() for key, value in avgs.items()}
    else:
        totals = metrics.fit_metrics_batch(observed * periods.days, predicted * periods.days, k)
    result_status = np.where(n == 0, Status.NO_DATA, np.where(has_model, Status.QUALIFIED, Status.DISQUALIFIED))
    if keep_candidates and "hdd_cdd" in status:
        def square(values: np.ndarray, fill) -> np.ndarray:
            """Triangle values in the [meters × cooling × heating] layout of the candidates."""
            out = np.full((m, n_grid, n_grid), fill, dtype=values.dtype)
            out[:, cool, heat] = values
            return out

        status["hdd_cdd"] = square(status["hdd_cdd"], 2)
        r2_adj["hdd_cdd"] = square(r2_adj["hdd_cdd"], np.nan)
    return CalTRACKFit(periods, settings, model_type, result_status, heating_bp, cooling_bp, intercept, beta_hdd,
                       beta_cdd, selected_r2, avgs, totals, status, r2_adj)


def _same_temperatures(temp_c: np.ndarray) -> bool:
    """Whether every meter of the batch has the same kept daily temperatures in every period."""
    return bool(np.array_equal(temp_c, np.broadcast_to(temp_c[:1], temp_c.shape), equal_nan=True))


def _period_degree_days(temp_c: np.ndarray, heating_bp: np.ndarray, cooling_bp: np.ndarray, *,
                        once_per_period: bool = False):
    """Mean daily HDD and CDD over each period's kept days at each meter's own balance points
    [meters × periods], and the number of kept days.

    With ``once_per_period`` each distinct (period, balance point) is computed once and gathered:
    a period's degree days depend only on its temperatures and the balance point, billing meters
    share read days and many meters share a balance point. The same operations on the same
    numbers, so the same results; worth it for a whole batch of meters (prediction), not for a
    chunk of :data:`_CHUNK` meters (the fit's in-sample prediction).
    """
    valid = ~np.isnan(temp_c)
    count = valid.sum(axis=2)
    if temp_c.shape[2] == 1:  # daily periods: the day's own degree days (NaN without temperature)
        t = temp_c[:, :, 0]
        return (np.maximum(np.nan_to_num(heating_bp)[:, None] - t, 0.0),
                np.maximum(t - np.nan_to_num(cooling_bp)[:, None], 0.0), count)
    if not once_per_period:
        return (_mean_degree_days(temp_c, np.nan_to_num(heating_bp)[:, None, None], heating=True),
                _mean_degree_days(temp_c, np.nan_to_num(cooling_bp)[:, None, None], heating=False), count)
    meters, periods, depth = temp_c.shape
    distinct, row = _distinct_rows(temp_c.reshape(-1, depth))
    row = row.reshape(meters, periods)

    def per_pair(balance_point: np.ndarray, heating: bool) -> np.ndarray:
        """:func:`_mean_degree_days` of the distinct (period, balance point) pairs of the batch."""
        points, point = np.unique(np.nan_to_num(balance_point), return_inverse=True)
        pairs, pair = np.unique(row * len(points) + point.reshape(-1, 1), return_inverse=True)
        values = _mean_degree_days(distinct[pairs // len(points)], points[pairs % len(points), None], heating=heating)
        return values[pair.reshape(meters, periods)]

    return per_pair(heating_bp, True), per_pair(cooling_bp, False), count


def _mean_degree_days(temp_c: np.ndarray, balance_point: np.ndarray, *, heating: bool) -> np.ndarray:
    """Mean daily HDD (``heating``) or CDD over the kept (not NaN) days of the last axis of
    ``temp_c`` [°C], at ``balance_point`` [°C] broadcast against it [°C·day per day]; NaN for a
    period without a kept day."""
    kept = ~np.isnan(temp_c)
    t = np.where(kept, temp_c, 0.0)
    degree_days = np.maximum(balance_point - t if heating else t - balance_point, 0.0) * kept
    with np.errstate(invalid="ignore", divide="ignore"):
        return degree_days.sum(axis=-1) / kept.sum(axis=-1)


def _slope(beta: np.ndarray) -> np.ndarray:
    """A model's slope, 0 where the model has no such term."""
    return np.where(np.isnan(beta), 0.0, beta)[:, None]


def _usage_per_day(intercept, beta_hdd, beta_cdd, heating_bp, cooling_bp, temp_c):
    """α + β_h·HDD + β_c·CDD per day of each period (the in-sample prediction of the fit)."""
    hdd, cdd, _ = _period_degree_days(temp_c, heating_bp, cooling_bp)
    return intercept[:, None] + _slope(beta_hdd) * hdd + _slope(beta_cdd) * cdd


def predict_caltrack(fit: CalTRACKFit, periods: Periods) -> dict[str, np.ndarray]:
    """Predicted use of each period [kWh or m³] of the same meters, e.g. a reporting year.

    Returns
    -------
    dict of numpy.ndarray [meters × periods]
        ``predicted`` (base + heating + cooling), ``base``, ``heating``, ``cooling``; NaN where the
        period has no temperature or the meter has no model.

    Notes
    -----
    :math:`\\hat E_i = \\alpha n_i + \\beta_h B_i \\overline{HDD}_i + \\beta_c B_i \\overline{CDD}_i`,
    with :math:`n_i` the period's days and :math:`B_i` the days its degree-day total counts
    (OpenEEmeter 2.10 ``caltrack_usage_per_day_predict``).
    """
    if not fit.periods.meter_ids.equals(periods.meter_ids):
        raise ValueError("the periods must belong to the fitted meters, in the same order")
    hdd, cdd, count = _period_degree_days(periods.temp_c, fit.heating_balance_point, fit.cooling_balance_point,
                                          once_per_period=True)
    base = fit.intercept[:, None] * periods.days
    heating = _slope(fit.beta_hdd) * hdd * periods.blocks
    cooling = _slope(fit.beta_cdd) * cdd * periods.blocks
    missing = (count == 0) | np.isnan(periods.days)
    out = {"base": base, "heating": heating, "cooling": cooling}
    if missing.any():
        for values in out.values():  # new arrays, set in place
            values[missing] = np.nan
    out["predicted"] = out["base"] + out["heating"] + out["cooling"]
    return out
