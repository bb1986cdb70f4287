"""Time-of-week and temperature (TOWT) baselines for interval data: CalTRACK 2.0 hourly.

The model (LBNL; Mathieu et al. 2011) explains each hour's use by its hour of the week (168
effects) and by temperature through piecewise-linear bins whose slopes differ between "occupied"
and "unoccupied" hours of the week. Following CalTRACK 2.0 and OpenEEmeter 2.x, a year is fitted
as twelve overlapping three-month segments (the centre month weighted 1, its neighbours 0.5), and
each calendar month is predicted by the segment centred on it.

Temperatures are in °C; the temperature-bin endpoints are CalTRACK's 30, 45, 55, 65, 75 and 90 °F
converted exactly, and the occupancy model's degree-hour balance points 65 °F and 50 °F likewise,
so a fit in °C gives the same occupancy, bins and predictions as a fit in °F.

Hours of the week and calendar months are read from the index as given (local time for the
workbook's data).

References
----------
.. [1] CalTRACK Methods 2.0, sections 3.7–3.10 (hourly methods).
.. [2] J. L. Mathieu, P. N. Price, S. Kiliccote, M. A. Piette, "Quantifying Changes in Building
   Electricity Use, With Application to Demand Response", IEEE Trans. Smart Grid 2(3), 2011.
.. [3] OpenEEmeter 2.10, ``eemeter.caltrack.hourly`` (the reference implementation; the
   specification it was checked against is docs/reference/eemeter-caltrack-hourly.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from energy_lib.baselines import metrics
from energy_lib.baselines.result import ModelWarning, TOWTResult
from energy_lib.core.status import Status, WarningCode

__all__ = ["TOWTSettings", "TOWTModel", "fit_towt", "fahrenheit_to_celsius", "SEGMENT_NAMES"]


def fahrenheit_to_celsius(temp_f):
    """Temperature [°F] → [°C]: (T − 32) × 5/9."""
    return (np.asarray(temp_f, dtype=float) - 32.0) * 5.0 / 9.0


MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
SEGMENT_NAMES = tuple(f"{MONTH_NAMES[(c - 2) % 12]}-{MONTH_NAMES[c - 1]}-{MONTH_NAMES[c % 12]}-weighted"
                      for c in range(1, 13))
"""Segment names in CalTRACK's order, ``dec-jan-feb-weighted`` (centred on January) first."""


@dataclass(frozen=True)
class TOWTSettings:
    """Settings of the hourly model (defaults: CalTRACK 2.0 / OpenEEmeter 2.10)."""

    bin_endpoints_c: tuple[float, ...] = tuple(fahrenheit_to_celsius([30, 45, 55, 65, 75, 90]).tolist())
    min_hours_per_bin: int = 20
    occupancy_threshold: float = 0.65
    occupancy_cooling_balance_c: float = float(fahrenheit_to_celsius(65.0))
    occupancy_heating_balance_c: float = float(fahrenheit_to_celsius(50.0))
    neighbour_weight: float = 0.5

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _segment_weights(month: np.ndarray, neighbour: float) -> np.ndarray:
    """Weight of each hour (row) in each of the 12 segments (column): 1 in the centre month,
    ``neighbour`` in the months either side (cyclic), 0 otherwise."""
    centre = np.arange(1, 13)
    distance = (month[:, None] - centre[None, :]) % 12
    return np.where(distance == 0, 1.0, np.where((distance == 1) | (distance == 11), neighbour, 0.0))


def _occupancy(usage: np.ndarray, temp: np.ndarray, how: np.ndarray, weight: np.ndarray,
               settings: TOWTSettings) -> np.ndarray:
    """Occupied hours of the week of one segment: a weighted regression of use on cooling and
    heating degree-hours; an hour of the week is occupied when the regression under-predicts it
    in more than 65% of its hours (CalTRACK 2.0, 3.8)."""
    rows = weight > 0
    y, t, h, w = usage[rows], temp[rows], how[rows], weight[rows]
    occupied = np.ones(168, dtype=bool)  # an hour of the week without data counts as occupied
    if not len(y):
        return occupied
    x = np.column_stack([np.ones_like(t), np.maximum(t - settings.occupancy_cooling_balance_c, 0.0),
                         np.maximum(settings.occupancy_heating_balance_c - t, 0.0)])
    root = np.sqrt(w)
    coefficients = np.linalg.pinv(x * root[:, None], rcond=1e-15) @ (y * root)
    positive = (y - x @ coefficients) > 0
    total = np.bincount(h, minlength=168)
    above = np.bincount(h, weights=positive.astype(float), minlength=168)
    seen = total > 0
    occupied[seen] = above[seen] / total[seen] > settings.occupancy_threshold
    return occupied


def _bin_endpoints(temp: np.ndarray, settings: TOWTSettings) -> np.ndarray:
    """CalTRACK's temperature bins for one segment: candidate endpoints are dropped, ends first,
    until every bin holds at least ``min_hours_per_bin`` hours (CalTRACK 2.0, 3.9.1.2)."""
    endpoints = list(settings.bin_endpoints_c)
    while endpoints:
        counts = np.bincount(np.searchsorted(np.asarray(endpoints), temp, side="left"),
                             minlength=len(endpoints) + 1)  # bins closed on the right
        invalid = counts < settings.min_hours_per_bin
        drop: set[float] = set()
        if invalid[0]:
            drop.add(endpoints[0])
        if invalid[-1]:
            drop.add(endpoints[-1])
        if not drop:
            drop = {endpoints[i] for i in np.flatnonzero(invalid[1:-1]) + 1 if i < len(endpoints)}
        if not drop:
            break
        endpoints = [e for e in endpoints if e not in drop]
    return np.asarray(endpoints)


def _bin_features(temp: np.ndarray, endpoints: np.ndarray) -> np.ndarray:
    """The part of each temperature that falls in each bin: bin_0 = min(T, e_1), bin_i =
    clip(T − e_i, 0, e_{i+1} − e_i), the last unbounded; the features add up to T."""
    if not len(endpoints):
        return temp[:, None].copy()
    lower = np.concatenate([[-np.inf], endpoints])
    upper = np.concatenate([endpoints, [np.inf]])
    features = np.clip(temp[:, None] - lower[None, :], 0.0, (upper - lower)[None, :])
    features[:, 0] = np.minimum(temp, endpoints[0])
    return features


def _predict(coefficients: np.ndarray, how: np.ndarray, bins: np.ndarray, occupied_hours: np.ndarray,
             split: bool) -> np.ndarray:
    """α_h(t) + Σ β · slope columns, without building the 168 dummy columns."""
    return coefficients[how] + _slope_columns(bins, occupied_hours[how], split) @ coefficients[168:]


def _solve(how: np.ndarray, slopes: np.ndarray, weight: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Minimum-norm weighted least squares for 168 hour-of-week dummies plus slope columns.

    The normal matrix is assembled from per-hour-of-week sums in O(rows × slopes) (the dummy
    block is diagonal), and solved by a symmetric eigendecomposition: pinv(A) = pinv(AᵀA)·Aᵀ,
    so this is the pseudo-inverse solution that OpenEEmeter's statsmodels fit computes, at a
    fraction of the cost of an SVD of the full design. Eigenvalues below 1e-12 of the largest
    (singular values below 1e-6) count as zero: columns without data or exactly collinear
    columns then get the minimum-norm share, as in the reference.
    """
    k = slopes.shape[1]
    gram = np.zeros((168 + k, 168 + k))
    gram[np.arange(168), np.arange(168)] = np.bincount(how, weights=weight, minlength=168)
    weighted = slopes * weight[:, None]
    for j in range(k):  # a handful of temperature-bin columns
        gram[:168, 168 + j] = gram[168 + j, :168] = np.bincount(how, weights=weighted[:, j], minlength=168)
    gram[168:, 168:] = weighted.T @ slopes
    rhs = np.concatenate([np.bincount(how, weights=weight * y, minlength=168), weighted.T @ y])
    values, vectors = np.linalg.eigh(gram)
    keep = values > 1e-12 * values.max()
    return vectors[:, keep] @ ((vectors[:, keep].T @ rhs) / values[keep])


def _slope_columns(bins: np.ndarray, occupied: np.ndarray, split: bool) -> np.ndarray:
    """The bin columns of the design (split into unoccupied and occupied hours, if split)."""
    if not split:
        return bins
    return np.hstack([bins * ~occupied[:, None], bins * occupied[:, None]])


@dataclass(frozen=True)
class _Segment:
    name: str
    occupied: np.ndarray
    endpoints: np.ndarray
    split: bool
    coefficients: np.ndarray
    metrics: dict

    def predict(self, how: np.ndarray, temp: np.ndarray) -> np.ndarray:
        return _predict(self.coefficients, how, _bin_features(temp, self.endpoints), self.occupied, self.split)


@dataclass(frozen=True)
class TOWTModel:
    """A fitted TOWT baseline: one model per segment, each predicting its centre month.

    ``result`` is its :class:`~energy_lib.baselines.result.TOWTResult` (status,
    metrics of the whole baseline, warnings); ``segments`` hold each segment's occupancy,
    bins, coefficients and metrics.
    """

    result: TOWTResult
    segments: tuple[_Segment | None, ...] = field(repr=False)
    settings: TOWTSettings = field(repr=False)

    def predict(self, index: pd.DatetimeIndex, temp_c: np.ndarray) -> np.ndarray:
        """Use [kWh per interval] predicted for the hours of ``index`` at temperatures ``temp_c``
        [°C]; NaN where the temperature is missing or the month's segment has no model."""
        how = _hour_of_week(index)
        month = index.month.to_numpy()
        temp = np.asarray(temp_c, dtype=float)
        out = np.full(len(index), np.nan)
        for centre, segment in enumerate(self.segments, start=1):  # twelve months, not many meters
            rows = (month == centre) & ~np.isnan(temp)
            if segment is not None and rows.any():
                out[rows] = segment.predict(how[rows], temp[rows])
        return out

    def segment_table(self) -> pd.DataFrame:
        """Per segment: occupied hours, bin endpoints [°C], parameters, and the fit metrics."""
        return pd.DataFrame([{
            "segment": s.name, "occupied_hours": int(s.occupied.sum()),
            "bin_endpoints_c": [round(float(e), 3) for e in s.endpoints], "n_params": len(s.coefficients),
            **{k: s.metrics.get(k) for k in ("n", "r_squared", "cvrmse_adj", "nmbe")},
        } for s in self.segments if s is not None])


def _hour_of_week(index: pd.DatetimeIndex) -> np.ndarray:
    return (index.day_of_week.to_numpy() * 24 + index.hour.to_numpy()).astype(np.int64)


def fit_towt(usage: pd.Series, temp_c: pd.Series, *, meter_id: str | None = None,
             settings: TOWTSettings = TOWTSettings()) -> TOWTModel:
    """Fit a TOWT baseline to a year of hourly use.

    Parameters
    ----------
    usage : pandas.Series
        Use per hour [kWh], indexed by the hour's start.
    temp_c : pandas.Series
        Hourly air temperature [°C] on the same index (reindexed exactly; no interpolation).
    meter_id : str, optional
    settings : TOWTSettings

    Returns
    -------
    TOWTModel
        Never raises for bad data: too little data, constant temperature or a failed segment give
        a ``disqualified``/``no_data`` status or a segment warning.

    Notes
    -----
    Each segment *s* minimises :math:`\\sum_t w^s_t (y_t - \\alpha_{h(t)} - \\sum_i
    \\beta_{i,o(h(t))} b_i(T_t))^2` by the minimum-norm least-squares solution (the
    pseudo-inverse), so columns without data get a zero coefficient as in OpenEEmeter.
    """
    temp = temp_c.reindex(usage.index).to_numpy(dtype=float)
    y = usage.to_numpy(dtype=float)
    valid = ~np.isnan(y) & ~np.isnan(temp)
    warnings: list[ModelWarning] = []
    base = {"method": "towt", "meter_id": meter_id, "settings": settings.to_dict()}
    if valid.sum() == 0:
        return TOWTModel(TOWTResult(status=Status.NO_DATA, warnings=(ModelWarning(
            WarningCode.NO_DATA, "No hour has both use and temperature.", meter_id, data={"n_hours": int(len(y))}),),
            **base),
            (None,) * 12, settings)
    index = usage.index[valid]
    y, temp = y[valid], temp[valid]
    how = _hour_of_week(index)
    month = index.month.to_numpy()
    weights = _segment_weights(month, settings.neighbour_weight)
    segments: list[_Segment | None] = []
    for s, name in enumerate(SEGMENT_NAMES):  # twelve segments of one meter
        w = weights[:, s]
        rows = w > 0
        if not rows.any():
            warnings.append(ModelWarning(WarningCode.EMPTY_SEGMENT, "A segment has no hours with data; its "
                                         "month cannot be predicted.", meter_id, data={"segment": name}))
            segments.append(None)
            continue
        occupied = _occupancy(y, temp, how, w, settings)
        endpoints = _bin_endpoints(temp[rows], settings)
        modes = occupied[how[rows]]
        split = bool(modes.any() and not modes.all())
        bins = _bin_features(temp[rows], endpoints)
        coefficients = _solve(how[rows], _slope_columns(bins, occupied[how[rows]], split), w[rows], y[rows])
        centre = w == 1.0
        fitted = _predict(coefficients, how[centre], _bin_features(temp[centre], endpoints), occupied, split)
        segment_metrics = metrics.fit_metrics(y[centre], fitted, n_params=len(coefficients))
        segments.append(_Segment(name, occupied, endpoints, split, coefficients, segment_metrics))
    model = TOWTModel(TOWTResult(status=Status.QUALIFIED, **base), tuple(segments), settings)
    predicted = model.predict(index, temp)
    overall = metrics.fit_metrics(y, predicted, n_params=1)
    missing_months = sorted(set(range(1, 13)) - set(np.unique(month).tolist()))
    if missing_months:
        warnings.append(ModelWarning(WarningCode.MISSING_MONTHS, "The baseline has no data in some calendar "
                                     "months; those months are predicted from their neighbours' half weight.",
                                     meter_id, data={"months": missing_months}))
    status = Status.QUALIFIED if len(np.unique(month)) >= 12 else Status.DISQUALIFIED
    result = TOWTResult(status=status, model_type="towt", metrics=overall, warnings=tuple(warnings),
                            params={"occupied_hours_mean": float(np.mean([s.occupied.sum() for s in segments
                                                                          if s is not None]))}, **base)
    return TOWTModel(result, tuple(segments), settings)
