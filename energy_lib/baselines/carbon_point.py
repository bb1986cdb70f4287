"""The Korean Carbon Neutral Point rule (탄소중립포인트, energy) on monthly bills.

Each month's use is compared with the mean use of the same month in the previous two years, or
the one previous year where only one exists. The programme pays per half-year: the reduction
rate of a half-year is its total baseline minus its total use, over its total baseline, and the
tier it reaches earns points per carrier. A 0–5% reduction right after two consecutive paid
half-years earns a maintenance bonus. Tiers, points and the maintenance rule are configuration
(``config/savings.toml``).

The computation runs on dense meter × month arrays: a city of 650,000 households × 3 carriers ×
4 years is a few array operations, not a loop over households.

References
----------
.. [1] 환경부, 탄소중립포인트제(에너지) 운영 규정: 기준사용량은 직전 2년 같은 달 평균, 감축률 5·10·15%
   구간별 인센티브, 반기 정산 (6월, 12월), 유지 인센티브.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from energy_lib.baselines.result import (
    JSONResult,
    array_from_dict,
    array_to_dict,
    check_version,
    frame_from_dict,
    frame_to_dict,
    json_safe,
)
from energy_lib.core import configuration
from energy_lib.core.status import Status

__all__ = ["MonthlyUsage", "same_month_baseline", "CarbonPointSettings", "CarbonPointResult",
           "carbon_point", "half_year_reduction", "reduction_tier", "MONTH_STATUS"]

MONTH_STATUS = {0: "ok", 1: "one_year", 2: "no_baseline", 3: "no_use"}
"""Per meter and month: baseline from two years (ok), from one year (one_year), none (no_baseline),
or no bill this month (no_use)."""
_TOLERANCE = 1e-9  # a reduction of exactly 15% reaches the 15% tier despite rounding in sums


def _month_number(months: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Months since 1970-01 of timestamps (computed once per distinct value: bills repeat months)."""
    codes, distinct = pd.factorize(np.asarray(months))
    numbers = np.asarray(distinct, dtype="datetime64[M]").astype(np.int64)
    return numbers[codes]


@dataclass(frozen=True)
class MonthlyUsage:
    """Monthly use as a dense array: one row per meter, one column per month.

    Attributes
    ----------
    meters : pandas.Index
        Meter ids, one per row.
    carriers : numpy.ndarray of str
        Carrier of each meter.
    first_month : numpy.datetime64
        The month of column 0.
    values : numpy.ndarray of float
        Use per meter and month in the carrier's canonical unit [kWh or m³]; NaN where there is
        no bill.
    """

    meters: pd.Index
    carriers: np.ndarray
    first_month: np.datetime64
    values: np.ndarray

    @property
    def months(self) -> pd.DatetimeIndex:
        """Month starts of the columns."""
        first = pd.Timestamp(self.first_month)
        return pd.date_range(first, periods=self.values.shape[1], freq="MS")

    @classmethod
    def from_long(cls, meter: pd.Series, carrier: pd.Series, month: pd.Series, value: pd.Series) -> MonthlyUsage:
        """Build from one row per bill: the meter, its carrier, the billing month (any timestamp in
        it) and the use. Several bills of one meter in one month are added up."""
        codes, meters = pd.factorize(meter, sort=False)
        month_number = _month_number(month)
        first = month_number.min() if len(month_number) else 0
        n_months = int(month_number.max() - first) + 1 if len(month_number) else 0
        flat = codes.astype(np.int64)
        flat *= n_months
        flat += month_number - first
        size = len(meters) * n_months
        if len(flat) and (np.diff(flat) > 0).all():  # one bill per meter-month, in order: place them
            total = np.full(size, np.nan)
            total[flat] = np.asarray(value, dtype=float)
            first_rows = np.flatnonzero(np.concatenate([[True], np.diff(codes) != 0]))
        else:  # any order, several bills in a month: add them up
            total = np.bincount(flat, weights=np.asarray(value, dtype=float), minlength=size)
            total[np.bincount(flat, minlength=size) == 0] = np.nan
            # factorize numbers meters in order of first appearance: a row is a first one where
            # its code exceeds every code before it
            first_rows = np.flatnonzero(codes > np.maximum.accumulate(np.concatenate([[-1], codes[:-1]])))
        carriers = np.asarray(pd.Series(carrier).iloc[first_rows], dtype=object)
        return cls(pd.Index(meters), carriers, np.datetime64(int(first), "M"), total.reshape(len(meters), n_months))

    def to_long(self, **arrays: np.ndarray) -> pd.DataFrame:
        """The meter × month arrays given (and ``use``) as a long frame, one row per meter-month
        that has a bill or a value."""
        n_meters, n_months = self.values.shape
        keep = ~np.isnan(self.values)
        for array in arrays.values():
            if array.dtype.kind == "f":
                keep |= ~np.isnan(array)
        meter_index, month_index = np.nonzero(keep)
        frame = pd.DataFrame({
            "meter_id": self.meters[meter_index], "carrier": self.carriers[meter_index],
            "month": self.months[month_index], "use": self.values[keep],
        })
        for name, array in arrays.items():
            frame[name] = array[keep]
        return frame


def same_month_baseline(usage: MonthlyUsage, years_back: tuple[int, ...] = (1, 2)) -> tuple[np.ndarray, np.ndarray]:
    """The Carbon Point baseline of every meter and month.

    Parameters
    ----------
    usage : MonthlyUsage
    years_back : tuple of int
        Which earlier years count (the programme: the previous two).

    Returns
    -------
    baseline : numpy.ndarray of float
        Mean use of the same month in the previous years that have a bill [kWh or m³]; NaN where
        none has.
    years : numpy.ndarray of int8
        How many years the baseline averages (0, 1 or 2).

    Notes
    -----
    .. math:: B_{m,t} = \\frac{1}{|K|} \\sum_{k \\in K} U_{m,t-12k}, \\quad
              K = \\{k \\in \\text{years\\_back} : U_{m,t-12k} \\text{ exists}\\}
    """
    values = usage.values
    total = np.zeros_like(values)
    count = np.zeros(values.shape, dtype=np.int8)
    for k in years_back:
        lag = 12 * k
        if lag >= values.shape[1]:
            continue
        earlier = values[:, :-lag]
        present = ~np.isnan(earlier)
        total[:, lag:] += np.where(present, earlier, 0.0)
        count[:, lag:] += present
    with np.errstate(invalid="ignore", divide="ignore"):
        baseline = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return baseline, count


@dataclass(frozen=True)
class CarbonPointSettings:
    """Tiers, points and the maintenance rule (defaults from ``config/savings.toml``)."""

    tier_lower_bounds: tuple[float, ...]
    points: dict[str, tuple[int, ...]]
    maintenance_bounds: tuple[float, float]
    maintenance_after: int
    maintenance_points: dict[str, int]
    won_per_point: float
    years_back: tuple[int, ...] = (1, 2)

    @classmethod
    def from_config(cls) -> CarbonPointSettings:
        c = configuration.load("savings")["carbon_point"]
        m = c["maintenance"]
        return cls(tuple(c["tier_lower_bounds"]), {k: tuple(v) for k, v in c["points"].items()},
                   (m["lower_bound"], m["upper_bound"]), int(m["consecutive_payouts"]), dict(m["points"]),
                   float(c["won_per_point"]))


def _by_half_year(*arrays: np.ndarray, first_month: np.datetime64 | None = None):
    """Meter × month arrays cut into meter × half-year × 6 (whole half-years only)."""
    *arrays, first_month = arrays if first_month is None else (*arrays, first_month)
    first = int(np.datetime64(first_month, "M").astype(np.int64))
    offset = (-first) % 6  # months to skip to the first January or July
    n_half = max(0, (arrays[0].shape[1] - offset) // 6)
    window = slice(offset, offset + 6 * n_half)
    shaped = [a[:, window].reshape(a.shape[0], n_half, 6) for a in arrays]
    return (*shaped, n_half, offset, first)


def half_year_reduction(use: np.ndarray, baseline: np.ndarray, first_month: np.datetime64
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index, np.ndarray]:
    """Half-year totals and reduction rates of meter × month arrays.

    Only half-years (January–June, July–December) that lie wholly in the data are evaluated. A
    meter's half-year is complete when all six months have use and a baseline.

    Returns
    -------
    use_total, baseline_total : numpy.ndarray [meters × half-years]
        Sums over the six months [kWh or m³]; NaN where incomplete.
    reduction : numpy.ndarray
        ``(baseline_total − use_total) / baseline_total`` [fraction]; NaN where incomplete or the
        baseline is zero.
    half_years : pandas.Index of str
        ``2024H1``, ``2024H2``, …
    complete : numpy.ndarray of bool
    """
    u, b, n_half, offset, first = _by_half_year(use, baseline, first_month)
    use_total = u.sum(axis=2)  # NaN wherever a month is missing: exactly the incomplete half-years
    baseline_total = b.sum(axis=2)
    complete = ~np.isnan(use_total) & ~np.isnan(baseline_total)
    use_total[~complete] = np.nan
    baseline_total[~complete] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        reduction = np.where(baseline_total > 0, (baseline_total - use_total) / baseline_total, np.nan)
    starts = first + offset + 6 * np.arange(n_half)
    half_years = pd.Index([f"{1970 + s // 12}H{1 + (s % 12) // 6}" for s in starts], name="half_year")
    return use_total, baseline_total, reduction, half_years, complete


def reduction_tier(reduction: np.ndarray, lower_bounds: np.ndarray) -> np.ndarray:
    """Tier reached by each reduction rate: 0 below the first bound, *i* from the *i*-th bound on
    (bounds inclusive, to within 1e-9); 0 for NaN."""
    return np.searchsorted(np.asarray(lower_bounds) - _TOLERANCE, np.nan_to_num(reduction, nan=-1.0), side="right")


@dataclass(frozen=True)
class CarbonPointResult(JSONResult):
    """Monthly baselines and half-year outcomes of many meters.

    Attributes
    ----------
    usage : MonthlyUsage
    baseline : numpy.ndarray [meters × months]
        Same-month baseline [kWh or m³].
    baseline_years : numpy.ndarray [meters × months]
        Years the baseline averages.
    half_years : pandas.DataFrame
        One row per meter and half-year: ``use``, ``baseline``, ``reduction`` [fraction], ``tier``
        (0–3), ``points``, ``maintenance`` (bool), ``won``, ``status`` (``qualified`` for a
        complete half-year, ``disqualified`` for one with a missing bill or baseline) and ``reason``
        (``energy_lib.baselines.carbon_point.missing_bill`` or ``….no_baseline``).
    settings : CarbonPointSettings
    """

    METHOD: ClassVar[str] = "carbon_point"
    VERSION: ClassVar[str] = "1"
    """The revision of this implementation of the rule (raised when its results change)."""

    usage: MonthlyUsage
    baseline: np.ndarray
    baseline_years: np.ndarray
    half_years: pd.DataFrame
    settings: CarbonPointSettings

    @property
    def method(self) -> str:
        return self.METHOD

    def to_dict(self) -> dict:
        """A JSON-safe dictionary (NaN → None) of the inputs, settings and outputs, with the
        method's name and version; :meth:`from_dict` reverses it."""
        return {"method": self.method, "version": self.version, "settings": json_safe(asdict(self.settings)),
                "usage": {"meters": array_to_dict(self.usage.meters.to_numpy()),
                          "carriers": array_to_dict(self.usage.carriers), "first_month": str(self.usage.first_month),
                          "values": array_to_dict(self.usage.values)},
                "baseline": array_to_dict(self.baseline), "baseline_years": array_to_dict(self.baseline_years),
                "half_years": frame_to_dict(self.half_years)}

    @classmethod
    def from_dict(cls, data: dict) -> CarbonPointResult:
        check_version(data, cls.METHOD, cls.VERSION)
        u, c = data["usage"], data["settings"]
        usage = MonthlyUsage(pd.Index(array_from_dict(u["meters"])), array_from_dict(u["carriers"]),
                             np.datetime64(u["first_month"], "M"), array_from_dict(u["values"]))
        settings = CarbonPointSettings(tuple(c["tier_lower_bounds"]), {k: tuple(v) for k, v in c["points"].items()},
                                       tuple(c["maintenance_bounds"]), c["maintenance_after"],
                                       dict(c["maintenance_points"]), c["won_per_point"], tuple(c["years_back"]))
        return cls(usage, array_from_dict(data["baseline"]), array_from_dict(data["baseline_years"]),
                   frame_from_dict(data["half_years"]), settings)


    def monthly(self) -> pd.DataFrame:
        """One row per meter and month: use, baseline, years averaged, reduction, status."""
        with np.errstate(invalid="ignore", divide="ignore"):
            reduction = (self.baseline - self.usage.values) / self.baseline
        status = np.where(np.isnan(self.usage.values), 3,
                          np.where(self.baseline_years == 0, 2, np.where(self.baseline_years == 1, 1, 0)))
        frame = self.usage.to_long(baseline=self.baseline, baseline_years=self.baseline_years,
                                   reduction=reduction, status_code=status)
        frame["status"] = frame.pop("status_code").map(MONTH_STATUS)
        return frame


def carbon_point(usage: MonthlyUsage, settings: CarbonPointSettings | None = None) -> CarbonPointResult:
    """Carbon Point baselines, half-year reduction rates, tiers, points and won for every meter.

    Parameters
    ----------
    usage : MonthlyUsage
        Monthly bills (billing month) of electricity, gas and water meters [kWh, m³]. Meters of
        other carriers get tiers but no points.
    settings : CarbonPointSettings, optional
        Default: ``config/savings.toml``.

    Returns
    -------
    CarbonPointResult

    Notes
    -----
    The reduction rate of a half-year *h* is
    :math:`r_h = (\\sum_{t \\in h} B_t - \\sum_{t \\in h} U_t) / \\sum_{t \\in h} B_t`; tier *i*
    applies when :math:`r_h \\ge` the *i*-th lower bound. The maintenance bonus applies when
    :math:`0 \\le r_h < 5\\%` and the previous two half-years were both paid by tier.
    """
    settings = settings or CarbonPointSettings.from_config()
    baseline, years = same_month_baseline(usage, settings.years_back)
    use_total, baseline_total, reduction, halves, complete = half_year_reduction(usage.values, baseline,
                                                                                 usage.first_month)
    bounds = np.asarray(settings.tier_lower_bounds)
    tier = np.where(complete, reduction_tier(reduction, bounds), 0)
    points_table = np.zeros((len(usage.meters), len(bounds) + 1))
    maintenance_points = np.zeros(len(usage.meters))
    for carrier, points in settings.points.items():  # one entry per carrier, not per meter
        rows = usage.carriers == carrier
        points_table[rows, 1:] = points
        maintenance_points[rows] = settings.maintenance_points.get(carrier, 0)
    points = np.take_along_axis(points_table, tier, axis=1)
    paid = tier > 0
    previous_paid = np.ones_like(paid)
    for k in range(1, settings.maintenance_after + 1):
        shifted = np.zeros_like(paid)
        shifted[:, k:] = paid[:, :-k] if k < paid.shape[1] else False
        previous_paid &= shifted
    low, high = settings.maintenance_bounds
    maintenance = complete & (reduction >= low) & (reduction < high) & previous_paid & ~paid
    points = points + np.where(maintenance, maintenance_points[:, None], 0.0)

    n_meters, n_half = use_total.shape
    meter_index = np.repeat(np.arange(n_meters), n_half)
    carrier_codes, carrier_names = pd.factorize(usage.carriers)
    frame = pd.DataFrame({
        "meter_id": usage.meters[meter_index],
        "carrier": pd.Categorical.from_codes(carrier_codes[meter_index], carrier_names),
        "half_year": pd.Categorical.from_codes(np.tile(np.arange(n_half), n_meters), halves),
        "use": use_total.ravel(), "baseline": baseline_total.ravel(), "reduction": reduction.ravel(),
        "tier": tier.ravel().astype(np.int8), "maintenance": maintenance.ravel(),
        "points": points.ravel(), "won": points.ravel() * settings.won_per_point,
        "status": pd.Categorical.from_codes((~complete).ravel().astype(np.int8),
                                            [Status.QUALIFIED.value, Status.DISQUALIFIED.value]),
        "reason": pd.Categorical.from_codes(_reasons(usage.values, baseline, usage.first_month, complete).ravel(),
                                            ["", f"{__name__}.missing_bill", f"{__name__}.no_baseline"]),
    })
    return CarbonPointResult(usage, baseline, years, frame, settings)


def _reasons(use: np.ndarray, baseline: np.ndarray, first_month: np.datetime64, complete: np.ndarray) -> np.ndarray:
    """Why a half-year is not evaluated, as codes: 0 evaluated, 1 a month without a bill, 2 a month
    without a baseline."""
    u, b, *_ = _by_half_year(use, baseline, first_month)
    missing_bill = np.isnan(u).any(axis=2)
    missing_baseline = np.isnan(b).any(axis=2)
    return np.where(complete, 0, np.where(missing_bill, 1, np.where(missing_baseline, 2, 0))).astype(np.int8)
