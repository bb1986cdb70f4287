"""Savings: avoided energy use, normalised savings, their uncertainty, and aggregation.

* **Avoided energy use** over a reporting period: the baseline model's prediction for the
  reporting period's weather (the counterfactual) minus the metered use (CalTRACK 2.0, 4.1;
  positive is a saving).
* **Normalised annual savings**: the baseline model and a model of the reporting period, both
  predicted for a typical weather year (:func:`energy_lib.core.weather.normal_year`), so that a mild
  winter does not look like a saving.
* **Uncertainty** at 90% confidence: the fractional savings uncertainty band of ASHRAE Guideline 14
  (Annex B; with OpenEEmeter's empirical polynomial correction for daily and billing data) and
  the OLS prediction band, both as OpenEEmeter 2.10 computes them.
* **Calibration**: with a year of bills, the Guideline 14 band is too narrow (the model is chosen
  among many balance points and fitted to 12 points; the residual autocorrelation of 12 points is
  biased low). Meters with no known intervention between the two years (placebo meters) show how
  wide the band must be: :func:`band_calibration` finds the factor that makes 90% of their
  savings fall inside, and :func:`calibrate_bands` applies it (the ``band`` of the derived tables).
* **Floor**: no band is narrower than the measurement and the model allow. A fit to a few bills
  can have a residual error of almost nothing (a band of 10⁻⁸ m³ for a saving of 487 m³); the
  ``floor_band`` is the Guideline 14 FSU band of the same meter with the residual error at least a
  configured CV(RMSE) of its baseline mean, or the metering resolution, and no negative
  autocorrelation (``config/savings.toml``, ``[band_floor]``). The reported ``band`` starts from
  the larger of the two.
* **Aggregation** to ward, gu and building type adds savings and combines the meters'
  uncertainties. Meter bands calibrated for 90% coverage of single meters overstate the variance
  that sums add up (the calibration quantile follows the meters' heavy tails), and errors are
  correlated (every meter shares the weather and the year). :func:`aggregate_calibration`
  estimates, on placebo sums, each meter's standard error for sums and the part of it common to
  every meter of its carrier and method (a one-factor model); :func:`aggregate` adds them. A
  meter's error scales with its size more than with its stated band (:func:`size_exponent`), and
  a few meters carry most of a sum's variance, so sums are heavy-tailed: the standard errors are
  scaled so that 90% of placebo sums are covered (:func:`sum_coverage_factor`).
* **Units**: every figure in the carrier's unit, kWh, toe, kgCO2eq and won (:mod:`energy_lib.core.units`).

References
----------
.. [1] ASHRAE Guideline 14-2014, Annex B (uncertainty of savings).
.. [2] CalTRACK Methods 2.0, section 4 (savings and uncertainty).
.. [3] OpenEEmeter 2.10, ``eemeter.derivatives.metered_savings`` (docs/reference/eemeter-caltrack-daily-billing.md, 9).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from energy_lib.baselines.caltrack import CalTRACKFit, Periods, predict_caltrack
from energy_lib.baselines.towt import TOWTModel
from energy_lib.core import configuration, units
from energy_lib.core.status import Status

__all__ = ["metered_savings", "towt_savings", "error_bands", "band_calibration", "calibrate_bands", "normalised_savings", "aggregate", "in_units",
           "aggregate_calibration", "aggregate_errors", "size_exponent", "relative_scale", "sum_coverage_factor",
           "floored_band", "FSU_POLYNOMIAL", "Z_90", "BAND_FLOOR"]

FSU_POLYNOMIAL = {"daily": (-0.00024, 0.03535, 1.00286), "billing": (-0.00022, 0.03306, 0.94054),
                  "hourly": (0.0, 0.0, 1.0)}
"""Empirical correction of the Guideline 14 FSU formula, a·M² + b·M + c, with M the reporting
months (daily: days / 30; billing: periods), as OpenEEmeter 2.10 applies it. None is published for
hourly data (OpenEEmeter 2.10 gives hourly savings no band): the formula is used uncorrected."""

Z_90 = stats.norm.ppf(0.95)
"""Two-sided 90% normal quantile (1.645), to turn a 90% band into a standard error."""

BAND_FLOOR = configuration.load("savings")["band_floor"]
"""Per interval (``billing``, ``daily``, ``hourly``): ``min_cvrmse``, the smallest residual error
a baseline may claim as a fraction of its mean use, and ``resolution``, the metering resolution of
a reading [the meter's unit] (``config/savings.toml``)."""


def _reporting_months(periods: Periods, valid: np.ndarray, interval: str) -> np.ndarray:
    """P: reporting periods counted as OpenEEmeter does (daily: periods with data; billing: the
    reporting span in days / 30, rounded half to even)."""
    if interval in ("daily", "hourly"):
        return valid.sum(axis=1).astype(float)
    start = np.where(valid, periods.start.astype("datetime64[s]").astype(np.int64), np.iinfo(np.int64).max)
    end = np.where(valid, (periods.start.astype("datetime64[s]").astype(np.int64)
                           + np.nan_to_num(periods.days * 86400).astype(np.int64)), np.iinfo(np.int64).min)
    span_days = np.floor((end.max(axis=1) - start.min(axis=1)) / 86400)
    return np.where(valid.any(axis=1), np.round(span_days / 30.0), 0.0)


def error_bands(baseline: dict[str, np.ndarray], reporting_observed_mean: np.ndarray, reporting_months: np.ndarray,
                interval: str, *, confidence: float = 0.90, min_cvrmse: float | None = None,
                resolution: float | None = None) -> dict[str, np.ndarray]:
    """Uncertainty bands of savings [the meter's unit] at ``confidence``, per meter.

    Parameters
    ----------
    baseline : dict
        The baseline's totals metrics (:func:`energy_lib.baselines.metrics.fit_metrics_batch` of period
        totals): ``n``, ``n_params``, ``rmse_adj``, ``autocorr_resid``, ``observed_mean``,
        ``observed_variance``.
    reporting_observed_mean : numpy.ndarray
        Mean metered use per reporting period.
    reporting_months : numpy.ndarray
        P (see :func:`metered_savings`).
    interval : str
        ``daily``, ``billing`` or ``hourly``.

    min_cvrmse, resolution : float, optional
        The floor (:data:`BAND_FLOOR` of ``interval`` by default): the smallest residual error
        [fraction of the baseline mean] and the metering resolution [the meter's unit].

    Returns
    -------
    dict of numpy.ndarray
        ``fsu_band``, ``ols_band``, ``ols_model_error``, ``ols_noise`` and ``floor_band``; NaN where
        undefined. ``fsu_band`` is Guideline 14's (and OpenEEmeter's) band as such; ``floor_band``
        is the same formula with :math:`\\sigma` raised to
        :math:`\\max(\\sigma, c_{min} |\\bar y_b|, r / \\sqrt{12})` (the residual error no model of
        a meter's use can beat, and the rounding error of a reading read to a resolution
        :math:`r`, uniform over :math:`\\pm r/2`) and :math:`\\rho` to :math:`\\max(\\rho, 0)`. A
        band is used as :func:`floored_band`, the larger of the two: a fit to three bills can leave
        almost no residual (:math:`\\sigma \\approx 0`), and its band would claim a certainty no
        meter has.

    Notes
    -----
    With :math:`n` baseline periods, :math:`k` slopes, :math:`\\sigma = RMSE_{adj}`, lag-1
    autocorrelation :math:`\\rho`, :math:`n' = n(1-\\rho)/(1+\\rho)` and
    :math:`t = t_{0.95,\\,n-k}`:

    .. math::
        FSU = \\bar y_b n\\, t\\, (aM^2 + bM + c) \\frac{\\sigma}{\\bar y_b}
              \\sqrt{\\frac{n}{n'} \\left(1 + \\frac{2}{n'}\\right) \\frac{1}{P}}, \\qquad
        OLS = \\sqrt{\\left(t \\sigma \\frac{P}{\\sqrt n}
              \\sqrt{1 + \\frac{(\\bar y_b - \\bar y_r)^2}{V_b}}\\right)^2 + \\left(t \\sigma \\sqrt{P n / n'}\\right)^2}
    """
    n = baseline["n"]
    k = baseline["n_params"]
    sigma = baseline["rmse_adj"]
    rho = baseline["autocorr_resid"]
    mean_b = baseline["observed_mean"]
    variance_b = baseline["observed_variance"]
    P = reporting_months
    a, b, c = FSU_POLYNOMIAL[interval]
    M = P / 30.0 if interval == "daily" else P
    defined = (P > 0) & (n > 0) & (mean_b != 0) & (variance_b != 0) & (np.abs(rho) != 1) & ~np.isnan(rho) & (n - k > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(1 - (1 - confidence) / 2, np.where(defined, n - k, 1))
        n_prime = n * (1 - rho) / (1 + rho)
        model = t * sigma * P / np.sqrt(n) * np.sqrt(1 + (mean_b - reporting_observed_mean) ** 2 / variance_b)
        noise = t * sigma * np.sqrt(P * n / n_prime)
        fsu = (mean_b * n) * t * (a * M ** 2 + b * M + c) * (sigma / mean_b) * np.sqrt((n / n_prime) * (1 + 2 / n_prime) / P)
        ols = np.sqrt(model ** 2 + noise ** 2)
        floor = BAND_FLOOR[interval]
        sigma_min = np.maximum(np.abs(mean_b) * (floor["min_cvrmse"] if min_cvrmse is None else min_cvrmse),
                               (floor["resolution"] if resolution is None else resolution) / np.sqrt(12.0))
        n_floor = n * (1 - np.maximum(rho, 0.0)) / (1 + np.maximum(rho, 0.0))
        floor_band = np.abs((n * t * (a * M ** 2 + b * M + c)) * np.maximum(sigma, sigma_min)
                            * np.sqrt((n / n_floor) * (1 + 2 / n_floor) / P))
    return {name: np.where(defined, value, np.nan) for name, value in
            (("fsu_band", fsu), ("ols_band", ols), ("ols_model_error", model), ("ols_noise", noise),
             ("floor_band", floor_band))}


def floored_band(fsu_band: np.ndarray | pd.Series, floor_band: np.ndarray | pd.Series) -> np.ndarray:
    """The band a savings figure may state [its unit]: Guideline 14's band, at least the floor
    (:func:`error_bands`); NaN where either is undefined."""
    fsu, floor = np.asarray(fsu_band, dtype=float), np.asarray(floor_band, dtype=float)
    return np.where(np.isnan(fsu) | np.isnan(floor), np.nan, np.maximum(fsu, floor))


def metered_savings(fit: CalTRACKFit, reporting: Periods, *, confidence: float = 0.90) -> pd.DataFrame:
    """Avoided energy use of each meter over its reporting periods, with 90% bands.

    Parameters
    ----------
    fit : CalTRACKFit
        The baseline fits.
    reporting : Periods
        The same meters' reporting periods (use and temperatures).

    Returns
    -------
    pandas.DataFrame
        One row per meter: ``counterfactual``, ``observed``, ``savings`` [the meter's unit] summed
        over the periods with both a prediction and a reading; ``base``, ``heating``, ``cooling``
        parts of the counterfactual; ``fsu_band``, ``ols_band`` and ``floor_band`` (± at 90%,
        :func:`error_bands`), ``fsu`` (band / savings) and ``n_reporting_periods``.
    """
    predicted = predict_caltrack(fit, reporting)
    observed = reporting.usage
    both = ~np.isnan(observed) & ~np.isnan(predicted["predicted"])

    def total(x: np.ndarray) -> np.ndarray:
        return np.where(both, x, 0.0).sum(axis=1)

    counterfactual, observed_total = total(predicted["predicted"]), total(observed)
    count = both.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed_mean = observed_total / count
    months = _reporting_months(reporting, both, fit.settings.interval)
    bands = error_bands(fit.totals_metrics, observed_mean, months, fit.settings.interval, confidence=confidence)
    savings = counterfactual - observed_total
    has = (count > 0) & (fit.status == Status.QUALIFIED)
    frame = pd.DataFrame({
        "meter_id": fit.periods.meter_ids, "counterfactual": counterfactual, "observed": observed_total,
        "savings": savings, "base": total(predicted["base"]), "heating": total(predicted["heating"]),
        "cooling": total(predicted["cooling"]), **bands, "n_reporting_periods": count,
    })
    numeric = frame.columns.drop(["meter_id", "n_reporting_periods"])
    frame.loc[~has, numeric] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["fsu"] = np.abs(frame["fsu_band"] / frame["savings"])
    return frame


def towt_savings(model: TOWTModel, usage: pd.Series, temp_c: pd.Series, *, confidence: float = 0.90) -> dict:
    """Avoided energy use of one interval meter over its reporting hours, with 90% bands.

    Parameters
    ----------
    model : TOWTModel
        The meter's baseline.
    usage : pandas.Series
        Reporting use per hour [kWh] indexed by the hour's start.
    temp_c : pandas.Series
        Hourly temperature [°C].

    Returns
    -------
    dict
        The columns of :func:`metered_savings` for this meter (``base``, ``heating`` and ``cooling``
        are NaN: TOWT does not split its prediction). Bands use the baseline's hourly metrics with
        the uncorrected Guideline 14 formula; NaN when the baseline is not qualified.
    """
    predicted = model.predict(usage.index, temp_c.reindex(usage.index).to_numpy(dtype=float))
    observed = usage.to_numpy(dtype=float)
    both = ~np.isnan(predicted) & ~np.isnan(observed)
    count = int(both.sum())
    metrics_ = {k: np.array([model.result.metrics.get(k, np.nan)], dtype=float)
                for k in ("n", "n_params", "rmse_adj", "autocorr_resid", "observed_mean", "observed_variance")}
    counterfactual, observed_total = float(predicted[both].sum()), float(observed[both].sum())
    observed_mean = np.array([observed_total / count if count else np.nan])
    bands = error_bands(metrics_, observed_mean, np.array([float(count)]), "hourly", confidence=confidence)
    ok = count > 0 and model.result.status == Status.QUALIFIED
    row = {"counterfactual": counterfactual, "observed": observed_total, "savings": counterfactual - observed_total,
           "base": np.nan, "heating": np.nan, "cooling": np.nan, **{k: float(v[0]) for k, v in bands.items()}}
    row = {k: (v if ok else np.nan) for k, v in row.items()}
    row["n_reporting_periods"] = count
    row["fsu"] = abs(row["fsu_band"] / row["savings"]) if ok and row["savings"] else np.nan
    return row


def _normal_year_total(fit: CalTRACKFit, normal_temp_c: np.ndarray) -> np.ndarray:
    """Each meter's model predicted for every day of the typical year and summed [its unit per
    year]: :func:`~energy_lib.baselines.caltrack.predict_caltrack` of one-day periods, the same
    numbers (each day's α + β_h·HDD + β_c·CDD, NaN on a day without temperature or for a meter
    without a model, summed over the days alike) from three arrays instead of a dozen."""
    t = np.asarray(normal_temp_c, dtype=float)[None, :]
    total = np.maximum(np.nan_to_num(fit.heating_balance_point)[:, None] - t, 0.0)
    total *= np.where(np.isnan(fit.beta_hdd), 0.0, fit.beta_hdd)[:, None]
    total += fit.intercept[:, None]
    cooling = np.maximum(t - np.nan_to_num(fit.cooling_balance_point)[:, None], 0.0)
    cooling *= np.where(np.isnan(fit.beta_cdd), 0.0, fit.beta_cdd)[:, None]
    total += cooling
    total[:, np.isnan(t[0])] = np.nan
    return total.sum(axis=1)


def normalised_savings(baseline: CalTRACKFit, reporting: CalTRACKFit, normal_temp_c: np.ndarray) -> pd.DataFrame:
    """Normalised annual savings of each meter: both models predicted for a typical year.

    Parameters
    ----------
    baseline, reporting : CalTRACKFit
        Fits of the baseline and of the reporting period, of the same meters.
    normal_temp_c : numpy.ndarray
        365 daily mean temperatures of the typical year [°C].

    Returns
    -------
    pandas.DataFrame
        ``baseline_normal``, ``reporting_normal``, ``savings`` [the meter's unit per year] and
        ``band`` (± at 90%: the two models' prediction noise over the year, combined in quadrature;
        each model's residual error at least the floor of :func:`error_bands`, its residual
        autocorrelation at least 0).
    """
    if not baseline.periods.meter_ids.equals(reporting.periods.meter_ids):
        raise ValueError("the baseline and reporting fits must be of the same meters, in the same order")
    n_days = len(normal_temp_c)
    before = _normal_year_total(baseline, normal_temp_c)
    after = _normal_year_total(reporting, normal_temp_c)

    def noise(fit: CalTRACKFit) -> np.ndarray:
        # daily-equivalent prediction noise of the model over the year's days (OLS noise term)
        # at least the floor's residual error (min_cvrmse of the mean use per day, see error_bands)
        per_day_sigma = np.maximum(fit.avgs_metrics["rmse_adj"], BAND_FLOOR[fit.settings.interval]["min_cvrmse"]
                                   * np.abs(fit.avgs_metrics["observed_mean"]))
        rho = np.maximum(fit.avgs_metrics["autocorr_resid"], 0.0)
        n = fit.avgs_metrics["n"]
        with np.errstate(invalid="ignore", divide="ignore"):
            n_prime = n * (1 - rho) / (1 + rho)
            # undefined (NaN, not infinite) when the residuals are perfectly autocorrelated
            return np.where(n_prime > 0, Z_90 * per_day_sigma * np.sqrt(n_days * n_days / n_prime), np.nan)

    band = np.sqrt(noise(baseline) ** 2 + noise(reporting) ** 2)
    ok = (baseline.status == Status.QUALIFIED) & (reporting.status == Status.QUALIFIED)
    return pd.DataFrame({"meter_id": baseline.periods.meter_ids, "baseline_normal": np.where(ok, before, np.nan),
                         "reporting_normal": np.where(ok, after, np.nan),
                         "savings": np.where(ok, before - after, np.nan), "band": np.where(ok, band, np.nan)})


def band_calibration(placebo: pd.DataFrame, by: list[str], *, value: str = "savings", band: str = "fsu_band",
                     coverage: float = 0.90, min_meters: int = 30) -> pd.DataFrame:
    """How much stated bands must widen so that ``coverage`` of placebo meters fall inside them.

    Parameters
    ----------
    placebo : pandas.DataFrame
        Savings of meters whose true savings are zero (no intervention between baseline and
        reporting): ``value`` and ``band`` (the stated half-width at ``coverage``).
    by : list of str
        Groups calibrated separately, e.g. carrier and method.
    min_meters : int
        Groups with fewer placebo meters keep their bands (factor 1, ``calibrated`` False).

    Returns
    -------
    pandas.DataFrame
        Per group: ``meters``, ``quantile`` (the ``coverage`` quantile of |value| / band),
        ``factor`` (that quantile, at least 1: bands are never narrowed) and ``calibrated``.

    Notes
    -----
    A band is honest when it holds the truth as often as it claims. For a placebo meter the truth
    is zero, so the stated band covers it when :math:`|S_i| \\le B_i`; the factor
    :math:`k = \\max(1, Q_{0.9}(|S_i| / B_i))` makes 90% of placebo meters covered. This is the
    placebo (non-participant) test of savings methods, used to check CalTRACK's methods and the
    Guideline 14 uncertainty (Koran et al. 2017).

    References
    ----------
    .. [1] Koran, B., Boyer, E., Khawaja, M. S., Rushton, J. and Stewart, J. (2017). A comparison
       of approaches to estimating the time-aggregated uncertainty of savings estimated from meter
       data. International Energy Program Evaluation Conference (IEPEC), Baltimore.
    """
    rows = placebo.dropna(subset=[value, band])
    rows = rows[rows[band] > 0]
    ratio = (rows[value].abs() / rows[band]).rename("ratio")
    grouped = ratio.groupby([rows[c] for c in by], observed=True, sort=True)
    # "higher": an order statistic at or above the coverage point, so at least `coverage` of the
    # placebo meters are covered (interpolating could leave one short)
    out = grouped.agg(meters="size", quantile=lambda r: float(np.quantile(r, coverage, method="higher"))).reset_index()
    out["calibrated"] = out["meters"] >= min_meters
    out["factor"] = np.where(out["calibrated"], np.maximum(out["quantile"], 1.0), 1.0)
    return out


def calibrate_bands(frame: pd.DataFrame, calibration: pd.DataFrame, by: list[str], *, band: str = "fsu_band") -> np.ndarray:
    """``band`` of each row times its group's calibration factor (1 where the group has none)."""
    factor = frame[by].merge(calibration[by + ["factor"]], on=by, how="left")["factor"].fillna(1.0)
    return frame[band].to_numpy(dtype=float) * factor.to_numpy()


def relative_scale(s: np.ndarray, size: np.ndarray, exponent: np.ndarray | float,
                   reference: np.ndarray | float) -> np.ndarray:
    r"""Factor on a meter's stated standard error :math:`s_i` for the scale of its error [1]:
    :math:`(r_i / \bar r)^{-\gamma}`, :math:`r_i = s_i / |m_i|` its relative band (:math:`m_i` the
    meter's size, its counterfactual use, say), :math:`\bar r` the reference and :math:`\gamma`
    the exponent of :func:`size_exponent`. 1 where :math:`r_i` is undefined (no size, size 0)."""
    s, size = np.asarray(s, dtype=float), np.abs(np.asarray(size, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = (s / size / reference) ** (-np.asarray(exponent, dtype=float))
    return np.where(np.isfinite(factor) & (factor > 0), factor, 1.0)


def size_exponent(error: np.ndarray, s: np.ndarray, size: np.ndarray, group: np.ndarray,
                  n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    r"""How a meter's error scales with its own size rather than its stated band: per group, the
    exponent :math:`\gamma \in [0, 1]` and reference :math:`\bar r` of the variance function
    :math:`\mathrm{sd}(e_i) \propto s_i (r_i / \bar r)^{-\gamma}`, :math:`r_i = s_i / |m_i|`.

    Parameters
    ----------
    error, s, size : numpy.ndarray
        Placebo errors :math:`e_i` and stated standard errors :math:`s_i` [the meter's unit], the
        meters' sizes :math:`m_i` (counterfactual use) [the same unit].
    group : numpy.ndarray
        Each meter's group code, 0 … ``n_groups`` − 1.

    Returns
    -------
    tuple of numpy.ndarray
        Per group: ``exponent`` :math:`\gamma` (0: errors scale with the stated bands, as
        Guideline 14 assumes; 1: with the meter's size alone, whatever its band) and ``reference``
        :math:`\bar r` (the geometric mean of :math:`r_i`). A group with fewer than 3 usable meters
        gets :math:`\gamma = 0`, :math:`\bar r = 1`.

    Notes
    -----
    With :math:`z_i = e_i / s_i = \mathrm{sd}_i\,u_i / s_i` and :math:`u_i` of one distribution,
    :math:`\log z_i^2 = \mathrm{const} - 2\gamma \log r_i + \log u_i^2`: :math:`\gamma` is
    minus half the least-squares slope of :math:`\log z_i^2` on :math:`\log r_i`, Harvey's
    (1976) estimator of multiplicative heteroscedasticity; logarithms keep the few meters with
    extreme errors from driving it, as they drive a variance (Carroll and Ruppert 1988, 3.3). On
    the demo's placebo meters, :math:`z^2` falls from 4.1 in the fifth of gas meters with the
    narrowest relative bands to 0.54 in the widest: a band fitted tightly to 12 bills promises
    more than the next year keeps.

    References
    ----------
    .. [1] Harvey, A. C. (1976). Estimating regression models with multiplicative
       heteroscedasticity. Econometrica 44(3), 461–465.
    .. [2] Carroll, R. J. and Ruppert, D. (1988). Transformation and Weighting in Regression.
       Chapman and Hall, chapter 3 (variance function estimation).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.log(np.asarray(s, dtype=float) / np.abs(np.asarray(size, dtype=float)))
        y = np.log((np.asarray(error, dtype=float) / np.asarray(s, dtype=float)) ** 2)
    usable = np.isfinite(x) & np.isfinite(y)
    g, x, y = np.asarray(group)[usable], x[usable], y[usable]
    count = np.bincount(g, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x = np.bincount(g, weights=x, minlength=n_groups) / count
        mean_y = np.bincount(g, weights=y, minlength=n_groups) / count
        dx = x - mean_x[g]
        slope = np.bincount(g, weights=dx * (y - mean_y[g]), minlength=n_groups) / \
            np.bincount(g, weights=dx ** 2, minlength=n_groups)
    enough = (count >= 3) & np.isfinite(slope)
    exponent = np.where(enough, np.clip(-slope / 2.0, 0.0, 1.0), 0.0)
    return exponent, np.where(enough, np.exp(mean_x), 1.0)


def sum_coverage_factor(ratio: np.ndarray, weight: np.ndarray, *, coverage: float = 0.90) -> float:
    r"""The factor on modelled standard errors that makes ``coverage`` of placebo sums fall inside
    their bands [1]: :math:`Q_w(|S_G| / \sigma_G) / z`, with :math:`Q_w` the weighted
    ``coverage`` quantile of the sums' ratios of error to modelled standard error and :math:`z`
    the normal quantile of ``coverage`` (1.645 at 90%); 1 when no ratio is finite.

    Parameters
    ----------
    ratio : numpy.ndarray
        :math:`|S_G| / \sigma_G` per placebo sum [1].
    weight : numpy.ndarray
        Each sum's weight (:func:`aggregate_calibration` gives every sum the same).

    Notes
    -----
    A variance adds up in sums, but the band of a sum is a quantile. When a few meters with wide
    errors carry most of the variance of every sum (on the demo, the effective number of meters
    :math:`(\sum s_i^2)^2 / \sum s_i^4` of a gas ward is about 5 of its 100), a sum is as
    heavy-tailed as those few meters and a band of 1.645 standard errors covers more than 90%
    of sums (94% of the demo's gas wards). The factor is the same quantile calibration that
    :func:`band_calibration` applies to single meters, applied to sums of placebo meters (the
    non-participant test of Koran et al. 2017), and it may narrow the bands as well as widen them.
    """
    ratio, weight = np.asarray(ratio, dtype=float), np.asarray(weight, dtype=float)
    finite = np.isfinite(ratio) & np.isfinite(weight) & (weight > 0)
    if not finite.any():
        return 1.0
    order = np.argsort(ratio[finite], kind="stable")
    cumulative = np.cumsum(weight[finite][order])
    # the first sum at or above the coverage point: at least `coverage` of the weight is covered
    at = int(np.searchsorted(cumulative, coverage * cumulative[-1], side="left"))
    return float(ratio[finite][order][min(at, len(order) - 1)] / stats.norm.ppf(0.5 + coverage / 2))


def aggregate_calibration(placebo: pd.DataFrame, by: list[str], *, value: str = "savings", band: str = "fsu_band",
                          areas: dict[str, str] | None = None, size: str | None = None, min_meters: int = 30,
                          coverage: float = 0.90, salt: str = "aggregate") -> pd.DataFrame:
    r"""How the errors of placebo meters add up in sums: per group, the scale of the meters'
    errors and the shares of their variance shared within an area and by every meter, estimated
    on sums of placebo meters.

    Parameters
    ----------
    placebo : pandas.DataFrame
        ``meter_id``, ``value`` (savings whose truth is zero), ``band`` (the stated 90% band,
        floored: its standard error is ``band`` / 1.645), the ``by`` columns and the ``areas``
        columns.
    by : list of str
        Groups calibrated separately (carrier and method): errors are correlated within a group
        only.
    areas : dict of str, optional
        Name → column of nested areas whose meters may share an error (``{"ward": "ward_code",
        "gu": "gu_code"}``: meters read on the same days, with the same weather station, of the
        same housing stock).
    size : str, optional
        Column of the meters' size (``counterfactual``): each meter's standard error is first
        rescaled by :func:`relative_scale` with its group's :func:`size_exponent`, so that meters
        whose bands promise more than their errors keep are given more variance and the others
        less, instead of one pooled scale for all. Without it, :math:`\gamma = 0`.
    min_meters : int
        Groups with fewer placebo meters keep independent errors at their stated bands
        (``scale`` 1, shares 0, ``calibrated`` False).
    salt : str
        Salt of the hash that draws the random sums' meters (the same salt, the same sums).

    Returns
    -------
    pandas.DataFrame
        Per group: ``meters``, ``sums`` (placebo sums used), ``scale`` :math:`c` (a meter's
        standard error is :math:`c\,s_i`, :math:`s_i = B_i / 1.645`), ``correlation`` (the share
        :math:`\rho_0` of its variance common to every meter of the group), ``correlation_<area>``
        (the share :math:`\rho_a` common to the meters of its area), ``coverage_factor``
        (:math:`k`, below), ``size_exponent`` and
        ``size_reference`` (:func:`size_exponent`; 0 and 1 without ``size``) and ``calibrated``.

    Notes
    -----
    Below, :math:`s_i` is the stated standard error times :func:`relative_scale` (the stated one
    without ``size``). Meter :math:`i`'s error is modelled as
    :math:`e_i = c\,s_i(\sqrt{1-\rho_0-\sum_a\rho_a}\,z_i + \sqrt{\rho_0}\,w + \sum_a\sqrt{\rho_a}\,w_{a(i)})`,
    with :math:`w` shared by every meter of the group (the year's weather), :math:`w_{a(i)}` by
    the meters of its area :math:`a(i)`, all of unit variance. A sum :math:`G` then has
    :math:`E[(\sum_G e_i)^2] = c^2(1-\rho_0-\sum_a\rho_a)\sum_G s_i^2 + c^2\rho_0(\sum_G s_i)^2
    + \sum_a c^2\rho_a\sum_h(\sum_{G\cap h} s_i)^2` (:math:`h` the areas of kind :math:`a`).
    The placebo meters are summed in many ways: drawn at random (a hash of their id, mixed with
    the size of the sums: :func:`_draw`) into disjoint sums of 1, 2, 4, … meters up to an eighth
    of them, and by their real areas and all together; the squared sums are regressed on these
    terms (non-negative least squares; each sum :math:`G` weighted by :math:`1/(\sum_G s_i^2\,\overline{\sum s^2})`, the mean over the
    sums of its kind: every sum weighs about the same, and within a kind by its variance, as
    meters count in a sum). The
    coefficients are :math:`c^2(1-\rho_0-\sum_a\rho_a)`, :math:`c^2\rho_0` and :math:`c^2\rho_a`.
    Variances, not the 90% quantile of single meters (:func:`band_calibration`), are what add up
    in a sum: by the central limit theorem a ward's sum is close to normal even when single
    meters have heavy tails — when many meters share the variance. When a few carry it (the
    demo's gas wards: an effective 5 meters of 100), a sum is as heavy-tailed as they are and
    1.645 standard errors cover more than 90% of sums: the fitted coefficients are then
    multiplied by :math:`k^2`, :math:`k` = :func:`sum_coverage_factor` of the placebo sums of two
    or more meters (``coverage_factor``; ``scale`` includes it). This is the calibration of
    aggregate uncertainty on non-participants that Koran et al. (2017) compare with the
    Guideline 14 formula.

    References
    ----------
    .. [1] Koran, B., Boyer, E., Khawaja, M. S., Rushton, J. and Stewart, J. (2017). A comparison
       of approaches to estimating the time-aggregated uncertainty of savings estimated from meter
       data. IEPEC, Baltimore.
    .. [2] ASHRAE Guideline 14-2014, Annex B (uncertainty of savings; aggregation of meters).
    """
    from scipy.optimize import nnls

    areas = dict(areas or {})
    rows = placebo.dropna(subset=[value, band])
    rows = rows[rows[band] > 0]
    s = rows[band].to_numpy(dtype=float) / Z_90
    error = rows[value].to_numpy(dtype=float)
    grouped = rows.groupby(by, sort=True, observed=True)
    group_codes = grouped.ngroup().to_numpy()
    groups = grouped.size().index
    count = np.bincount(group_codes, minlength=len(groups))
    exponent, reference = np.zeros(len(groups)), np.ones(len(groups))
    if size is not None:
        meter_size = rows[size].to_numpy(dtype=float)
        exponent, reference = size_exponent(error, s, meter_size, group_codes, len(groups))
        exponent[count < min_meters] = 0.0
        s = s * relative_scale(s, meter_size, exponent[group_codes], reference[group_codes])
    area_codes = [pd.factorize(rows[column].astype(str))[0] for column in areas.values()]
    # each meter's id hashed once (ids are distinct, so without factorizing first: categorize=False
    # gives the same hashes 10× faster); each draw mixes in its size (_draw)
    meter = pd.util.hash_array((rows["meter_id"].astype(str) + f":{salt}").to_numpy(object), categorize=False)
    n = len(rows) + 1
    # the rows of each group together, in their order (a stable sort): each draw sorts within groups
    by_group = np.argsort(group_codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(count)])

    kinds = []  # per kind of sum: the rows in a sum, each one's sum (0, 1, … in sorted order) and the sums' ids
    size = 1
    while size == 1 or size * 8 <= count.max(initial=0):
        # a new draw per size: a row's rank in its group by a hash of its id and the size
        salted = _draw(meter, size)
        order = np.concatenate([np.array([], np.int64), *(by_group[a:b][_argsort_distinct(salted[by_group[a:b]])]
                                                          for a, b in zip(starts[:-1], starts[1:]))])  # a few groups
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order)) - np.repeat(starts[:-1], count)
        # whole sums of `size` rows (the last, incomplete one left out); groups with fewer than 8
        # sums of a size beyond 1 have none of it
        whole = np.where((size == 1) | (size * 8 <= count), count // size, 0)
        used = rank // size < whole[group_codes]
        first = np.cumsum(whole) - whole  # each group's first sum
        kinds.append((used, first[group_codes[used]] + rank[used] // size,
                      np.repeat(np.arange(len(groups)), whole) * n + np.arange(whole.sum()) - np.repeat(first, whole)))
        size *= 2
    for codes in [*area_codes, np.zeros(len(rows), np.int64)]:  # the real areas, then each group whole
        used = np.ones(len(rows), bool)
        # np.unique's sorted ids and inverse, by hashing (pandas.factorize) rather than a sort
        inverse, ids = pd.factorize(group_codes * n + codes, sort=True)
        kinds.append((used, inverse, ids))

    columns = {name: [] for name in ("y", "own", "common", *areas, "weight", "group", "kind")}
    for kind, (used, inverse, ids) in enumerate(kinds):
        s_used = s[used]
        own = np.bincount(inverse, weights=s_used ** 2)
        columns["y"].append(np.bincount(inverse, weights=error[used]) ** 2)
        columns["own"].append(own)
        columns["common"].append(np.bincount(inverse, weights=s_used) ** 2)
        for name, codes in zip(areas, area_codes):
            columns[name].append(_squared_area_sums(inverse, codes[used], s_used, len(ids), int(codes.max(initial=0)) + 1))
        # a sum's squared error varies as its variance squared: each sum weighs about as much as
        # another, and within a kind of sum by its variance (as meters count in a sum)
        columns["weight"].append(len(own) / (own * own.sum()))
        columns["group"].append(ids // n)
        columns["kind"].append(np.full(len(ids), kind))
    data = {name: np.concatenate(parts) for name, parts in columns.items()}
    terms = ["own", "common", *areas]
    coefficients = np.zeros((len(groups), len(terms)))
    coefficients[:, 0] = 1.0
    factor = np.ones(len(groups))
    sums = np.bincount(data["group"].astype(np.int64), minlength=len(groups))
    for code in range(len(groups)):  # a few groups (carrier × method)
        mine = data["group"] == code
        if count[code] < min_meters:
            continue
        root = np.sqrt(data["weight"][mine])
        design = np.column_stack([data[t][mine] for t in terms]) * root[:, None]
        coefficients[code] = nnls(design, data["y"][mine] * root)[0]
        # kind 0: single meters, whose bands are calibrated on their own (band_calibration)
        several = mine & (data["kind"] > 0)
        model = np.column_stack([data[t][several] for t in terms]) @ coefficients[code]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.sqrt(data["y"][several] / model)
        # every sum counts alike: kinds with a few large sums (gu, the city) say little of a quantile
        factor[code] = sum_coverage_factor(ratio, np.ones(len(ratio)), coverage=coverage)
        coefficients[code] *= factor[code] ** 2
    variance = coefficients.sum(axis=1)
    calibrated = count >= min_meters
    out = pd.DataFrame(index=groups)
    out["meters"] = count
    out["sums"] = sums
    out["scale"] = np.sqrt(variance)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(variance[:, None] > 0, coefficients / variance[:, None], 0.0)
    out["correlation"] = shares[:, 1]
    for k, name in enumerate(areas):
        out[f"correlation_{name}"] = shares[:, 2 + k]
    out["coverage_factor"] = factor
    out["size_exponent"] = exponent
    out["size_reference"] = reference
    out["calibrated"] = calibrated
    return out.reset_index()


def _draw(hashes: np.ndarray, size: int) -> np.ndarray:
    """The draw of sums of ``size`` meters: ``hashes`` (uint64, one per meter) mixed with the size
    by SplitMix64's finaliser (Steele, Lea and Flood 2014), a bijection of 64-bit integers, so
    that each size orders the meters anew, as independent of the other sizes as a hash of the id
    and the size would be, for a few NumPy passes instead of hashing every id again."""
    z = hashes + np.uint64(size * 0x9E3779B97F4A7C15 % 2**64)  # the sum wraps around, as in SplitMix64
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _argsort_distinct(keys: np.ndarray) -> np.ndarray:
    """``numpy.argsort(keys, kind="stable")``: the unstable sort, twice as fast, gives the same
    order when no two keys are equal (the hashes of distinct ids almost never are); the stable one
    when some are."""
    order = np.argsort(keys)
    ordered = keys[order]
    return order if not (ordered[1:] == ordered[:-1]).any() else np.argsort(keys, kind="stable")


_DENSE_PAIRS = 1 << 23
"""Sums × areas up to which :func:`_squared_area_sums` counts in one array (64 MB) instead of
hashing the pairs."""


def _squared_area_sums(sums: np.ndarray, areas: np.ndarray, weights: np.ndarray, n_sums: int,
                       n_areas: int) -> np.ndarray:
    """Per sum (codes 0…``n_sums``−1), the squares of its ``weights`` summed per area (codes
    0…``n_areas``−1), added up over its areas in the order of their codes. Pairs of sum and area
    are counted in one array when there are few, hashed (``pandas.factorize``) otherwise: the same
    additions in the same order either way."""
    pair = sums.astype(np.int64) * n_areas + areas
    if n_sums * n_areas <= _DENSE_PAIRS:
        present = np.flatnonzero(np.bincount(pair, minlength=n_sums * n_areas))  # sorted, as factorize's
        totals = np.bincount(pair, weights=weights, minlength=n_sums * n_areas)[present]
        return np.bincount(present // n_areas, weights=totals ** 2, minlength=n_sums)
    within, keys = pd.factorize(pair, sort=True)
    return np.bincount(keys // n_areas, weights=np.bincount(within, weights=weights) ** 2, minlength=n_sums)


def aggregate_errors(frame: pd.DataFrame, calibration: pd.DataFrame, by: list[str], *, band: str = "fsu_band",
                     areas: tuple[str, ...] = (), size: str | None = None) -> pd.DataFrame:
    r"""Each row's standard error for sums and its shared parts [the row's unit], from its stated
    90% ``band`` and its group's :func:`aggregate_calibration` (independent errors at the stated
    band where the group has none).

    ``size`` is the column of the meters' size the calibration was given (its ``size_exponent``
    and ``size_reference`` rescale :math:`s_i` by :func:`relative_scale`; a calibration without
    them, or no ``size``, leaves :math:`s_i` as stated).

    Returns
    -------
    pandas.DataFrame
        ``se`` (:math:`c\,s_i`), ``se_common`` (:math:`\sqrt{\rho_0}\,c\,s_i`) and ``se_<area>``
        (:math:`\sqrt{\rho_a}\,c\,s_i`) for each of ``areas``, indexed as ``frame``.
    """
    shares = ["correlation", *(f"correlation_{a}" for a in areas)]
    rescaled = size is not None and "size_exponent" in calibration
    extra = ["size_exponent", "size_reference"] if rescaled else []
    joined = frame[by].merge(calibration[by + ["scale", *shares, *extra]], on=by, how="left")
    s = frame[band].to_numpy(dtype=float) / Z_90
    if rescaled:
        s = s * relative_scale(s, frame[size].to_numpy(dtype=float), joined["size_exponent"].fillna(0.0).to_numpy(),
                               joined["size_reference"].fillna(1.0).to_numpy())
    se = s * joined["scale"].fillna(1.0).to_numpy()
    out = pd.DataFrame({"se": se}, index=frame.index)
    for share, name in zip(shares, ["common", *areas]):
        out[f"se_{name}"] = np.sqrt(joined[share].fillna(0.0).to_numpy()) * se
    return out


def aggregate(savings: pd.DataFrame, by: list[str], *, value: str = "savings", band: str = "fsu_band",
              se: str | None = None, shared: dict[str, str | None] | None = None,
              left_out: tuple[str, ...] = ()) -> pd.DataFrame:
    r"""Savings of groups of meters (ward, gu, building type, programme) with their uncertainty.

    Parameters
    ----------
    savings : pandas.DataFrame
        One row per meter: ``by``, ``value`` and ``band`` (90% half-width); ``se`` and the
        ``shared`` columns when given; the ``left_out`` columns.
    se : str, optional
        Column of each meter's standard error for sums (:func:`aggregate_errors`). Without it,
        meters are independent at their bands.
    shared : dict, optional
        Columns of the parts of ``se`` shared with other meters → the column of the area whose
        meters share it, or None for every meter (``{"se_common": None, "se_ward": "ward_code",
        "se_gu": "gu_code"}``).
    left_out : tuple of str
        Boolean columns: a meter with a savings figure and a band that is True in one of them
        (a baseline failing data sufficiency, say) is left out of the sums and counted in
        ``meters_<column>`` (in each such column it is True in).

    Returns
    -------
    pandas.DataFrame
        Per group: ``meters`` (summed), ``savings``, ``band``, ``fsu``, ``meters_without_baseline``
        (no savings or no band) and ``meters_<column>`` for each ``left_out`` column.

    Notes
    -----
    Without ``se``, standard errors add in quadrature: :math:`B_g = \sqrt{\sum_{i \in g} B_i^2}`.
    With them, under the model of :func:`aggregate_calibration`, with :math:`\sigma_i` = ``se``
    and :math:`\kappa_{l,i}` its shared parts,
    :math:`B_g = 1.645\sqrt{\sum_i (\sigma_i^2 - \sum_l \kappa_{l,i}^2) + \sum_l \sum_h (\sum_{i \in g \cap h} \kappa_{l,i})^2}`
    (:math:`h` the areas of part :math:`l`; one area for the common part). The portfolio FSU is
    :math:`B_g / |S_g|`.
    """
    shared = dict(shared or {}) if se is not None else {}
    has = savings[[value, band]].notna().all(axis=1).to_numpy()
    excluded = np.zeros(len(savings), dtype=bool)
    for column in left_out:
        excluded |= savings[column].to_numpy(dtype=bool)
    rows = savings[has & ~excluded]
    stated = rows[band].to_numpy(dtype=float) / Z_90
    own = stated if se is None else np.where(rows[se].isna(), stated, rows[se].to_numpy(dtype=float))
    missing = np.zeros(len(rows), dtype=bool) if se is None else rows[se].isna().to_numpy()
    parts = {column: np.where(missing, 0.0, rows[column].fillna(0.0).to_numpy(dtype=float)) for column in shared}
    independent = own ** 2 - sum((p ** 2 for p in parts.values()), np.zeros(len(rows)))
    frame = rows.assign(_var=independent, **{f"_{c}": p for c, p in parts.items()})
    grouped = frame.groupby(by, observed=True, sort=True)
    out = grouped.agg(meters=(value, "size"), savings=(value, "sum"), variance=("_var", "sum")).reset_index()
    variance = np.maximum(out.pop("variance").to_numpy(), 0.0)
    index = out.set_index(by).index
    for column, area in shared.items():
        keys = by + [area] if area and area not in by else by
        # dropna=False: a meter without an area code still adds its shared part (alone)
        within = frame.groupby(keys, observed=True, sort=True, dropna=False)[f"_{column}"].sum() ** 2
        if area:
            within = within.groupby(level=list(range(len(by))), observed=True, dropna=False).sum()
        variance = variance + within.reindex(index).fillna(0.0).to_numpy()
    out["band"] = Z_90 * np.sqrt(variance)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["fsu"] = np.abs(out["band"] / out["savings"])
    counts = {"meters_without_baseline": ~has}
    for column in left_out:
        counts[f"meters_{column}"] = has & savings[column].to_numpy(dtype=bool)
    for name, mask in counts.items():
        counted = savings[mask].groupby(by, observed=True).size()
        out[name] = index.map(counted).fillna(0).astype(int) if len(out) else pd.Series(dtype=int)
    return out


def in_units(quantity: np.ndarray | pd.Series, carrier: pd.Series, *,
             electricity_won_per_kwh: np.ndarray | float | None = None) -> pd.DataFrame:
    """A quantity of each carrier in its canonical unit, also as energy [kWh], [toe], emissions
    [kgCO2eq] and value [won]."""
    quantity = np.asarray(quantity, dtype=float)
    return pd.DataFrame({
        "native": quantity, "kwh": units.energy_kwh(quantity, carrier), "toe": units.toe(quantity, carrier),
        "kgco2eq": units.kgco2eq(quantity, carrier),
        "won": units.won(quantity, carrier, electricity_won_per_kwh=electricity_won_per_kwh),
    }, index=carrier.index)
