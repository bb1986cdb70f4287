"""CalTRACK data sufficiency of baseline periods, reported per meter (never silently applied).

CalTRACK 2.0 section 2.2: a daily or billing baseline covers 365 days; at least 90% of them have both metered use
and temperature; no negative use. Extreme values (above median + 3 IQR of use per day) are
reported but do not fail a meter. The checks say *why* a baseline may not be trusted; the model is
still fitted, as OpenEEmeter does, and the result carries the sufficiency status.

References
----------
.. [1] CalTRACK Methods 2.0, section 2.2 (data sufficiency).
.. [2] CalTRACK Methods 2.0, section 2.2.1.2 (hourly: more than 90% of the hours of every
   calendar month, which OpenEEmeter 2.10 does not check; docs/reference/eemeter-caltrack-hourly.md, 12).
.. [3] OpenEEmeter 2.10, ``caltrack_sufficiency_criteria`` (docs/reference/eemeter-caltrack-daily-billing.md, 5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy_lib.baselines.caltrack import Periods
from energy_lib.core.status import Sufficiency, WarningCode

__all__ = ["sufficiency", "hourly_sufficiency", "REQUIRED_DAYS", "MIN_COVERAGE"]

REQUIRED_DAYS = 365
MIN_COVERAGE = 0.9
_PREFIX = __name__


def sufficiency(periods: Periods, *, required_days: int = REQUIRED_DAYS, min_coverage: float = MIN_COVERAGE,
                min_temperature_coverage: float = MIN_COVERAGE) -> pd.DataFrame:
    """Per meter: whether its baseline periods are sufficient, and why not.

    Parameters
    ----------
    periods : Periods
        Baseline periods (use and kept daily temperatures).
    required_days : int
        Days a baseline must cover [days].
    min_coverage : float
        Fraction of the required days that must have use and temperature.
    min_temperature_coverage : float
        Fraction of a period's days that must have a temperature for the period to count.

    Returns
    -------
    pandas.DataFrame
        ``meter_id``, ``status`` (``pass`` or ``fail``), ``valid_days``, ``coverage`` [fraction],
        ``negative_periods``, ``extreme_periods`` and ``warnings`` (qualified names, ``;``-joined).
    """
    usage, days = periods.usage, periods.days
    has_temp = ~np.isnan(periods.temp_c)
    temp_days = has_temp.sum(axis=2)
    expected = np.minimum(np.nan_to_num(days), periods.temp_c.shape[2])
    with np.errstate(invalid="ignore", divide="ignore"):
        temp_ok = temp_days / np.where(expected > 0, expected, np.nan) >= min_temperature_coverage
        per_day = usage / days
    meter_ok = ~np.isnan(usage) & ~np.isnan(days)
    valid = meter_ok & temp_ok
    valid_days = np.where(valid, np.nan_to_num(days), 0.0).sum(axis=1)
    meter_days = np.where(meter_ok, np.nan_to_num(days), 0.0).sum(axis=1)
    temperature_days = np.where(temp_ok & ~np.isnan(days), np.nan_to_num(days), 0.0).sum(axis=1)
    coverage = valid_days / required_days
    negative = (np.nan_to_num(usage, nan=0.0) < 0).sum(axis=1)
    q25, median, q75 = _row_quantiles(np.where(meter_ok, per_day, np.nan), (0.25, 0.5, 0.75))
    extreme = (np.where(meter_ok, per_day, -np.inf) > (median + 3 * (q75 - q25))[:, None]).sum(axis=1)
    checks = [
        (~meter_ok.any(axis=1), WarningCode.NO_DATA, True),
        (coverage < min_coverage, WarningCode.TOO_MANY_DAYS_WITH_MISSING_DATA, True),
        (meter_days / required_days < min_coverage, WarningCode.TOO_MANY_DAYS_WITH_MISSING_METER_DATA, True),
        (temperature_days / required_days < min_coverage, WarningCode.TOO_MANY_DAYS_WITH_MISSING_TEMPERATURE_DATA,
         True),
        (negative > 0, WarningCode.NEGATIVE_METER_VALUES, True),
        (extreme > 0, WarningCode.EXTREME_VALUES_DETECTED, False),
    ]
    names = np.full(periods.n_meters, "", dtype=object)
    failed = np.zeros(periods.n_meters, dtype=bool)
    for mask, name, critical in checks:  # six checks, each over every meter at once
        names = np.where(mask, names + np.where(names == "", "", ";") + f"{_PREFIX}.{name}", names)
        if critical:
            failed |= mask
    return pd.DataFrame({"meter_id": periods.meter_ids, "status": np.where(failed, Sufficiency.FAIL, Sufficiency.PASS),
                         "valid_days": valid_days, "coverage": coverage, "negative_periods": negative,
                         "extreme_periods": extreme, "warnings": names})


def _row_quantiles(values: np.ndarray, quantiles: tuple[float, ...]) -> list[np.ndarray]:
    """Quantiles of each row ignoring NaN, interpolated linearly (NumPy's default method); NaN for
    a row without values. One sort of the whole array: ``np.nanpercentile`` along an axis calls
    Python once per row."""
    ordered = np.sort(values, axis=1)  # NaN last
    count = (~np.isnan(ordered)).sum(axis=1)
    last = np.maximum(count - 1, 0)
    rows = np.arange(len(ordered))
    out = []
    for q in quantiles:
        position = q * last
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, last)
        low, high = ordered[rows, below], ordered[rows, above]
        out.append(np.where(count > 0, low + (high - low) * (position - below), np.nan))
    return out


def hourly_sufficiency(usage: pd.Series, temp_c: pd.Series, start: pd.Timestamp, end: pd.Timestamp, *,
                       meter_id: str | None = None, min_coverage: float = MIN_COVERAGE) -> dict:
    """CalTRACK hourly sufficiency of one meter's baseline: every calendar month of the window has
    more than ``min_coverage`` of its hours with use and temperature; no negative use.

    Parameters
    ----------
    usage : pandas.Series
        Use per hour [kWh] indexed by the hour's start (missing hours absent or NaN).
    temp_c : pandas.Series
        Hourly temperature [°C].
    start, end : pandas.Timestamp
        The baseline window [start, end).

    Returns
    -------
    dict
        The columns of :func:`sufficiency` for this meter (``valid_days`` counts hours / 24).
    """
    hours = pd.date_range(start, end, freq="h", inclusive="left")
    use = usage.reindex(hours).to_numpy(dtype=float)
    valid = ~np.isnan(use) & ~np.isnan(temp_c.reindex(hours).to_numpy(dtype=float))
    month = hours.to_period("M")
    coverage_by_month = pd.Series(valid).groupby(month).mean()
    thin = [str(m) for m, c in coverage_by_month.items() if c < min_coverage]
    negative = int((use < 0).sum())
    used = use[valid]
    extreme = 0
    if len(used):
        q25, median, q75 = np.percentile(used, [25, 50, 75])
        extreme = int((used > median + 3 * (q75 - q25)).sum())
    names = []
    if not valid.any():
        names.append(WarningCode.NO_DATA)
    if thin:
        names.append(WarningCode.TOO_MANY_HOURS_MISSING_IN_MONTH)
    if negative:
        names.append(WarningCode.NEGATIVE_METER_VALUES)
    critical = bool(names)
    if extreme:
        names.append(WarningCode.EXTREME_VALUES_DETECTED)
    return {"meter_id": meter_id, "status": Sufficiency.FAIL if critical else Sufficiency.PASS,
            "valid_days": valid.sum() / 24.0,
            "coverage": valid.mean() if len(valid) else 0.0, "negative_periods": negative,
            "extreme_periods": extreme, "warnings": ";".join(f"{_PREFIX}.{n}" for n in names),
            "thin_months": thin}
