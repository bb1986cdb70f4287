"""Goodness of fit of baseline models, and whether they meet ASHRAE Guideline 14.

The statistics follow OpenEEmeter 2.x's ``ModelMetrics`` (so that results can be compared with
the reference implementation) and CalTRACK 2.0 section 4.3: the residual is *predicted minus
observed*, CV(RMSE) is adjusted for the model's parameters, and the lag-1 autocorrelation of the
residuals gives the effective sample size used by the fractional savings uncertainty.

Everything is computed for many meters at once on 2-D arrays (one row per meter, NaN where a
period has no data): :func:`fit_metrics_batch`. :func:`fit_metrics` is the one-meter form.

References
----------
.. [1] ASHRAE Guideline 14-2014, Measurement of Energy, Demand, and Water Savings, Annex B.
.. [2] CalTRACK Methods 2.0, section 4.3 (model fit metrics).
.. [3] T. A. Reddy, D. E. Claridge, "Uncertainty of measured energy savings from statistical
   baseline models", HVAC&R Research 6(1), 2000.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from energy_lib.core import configuration

__all__ = ["fit_metrics_batch", "fit_metrics", "meets_guideline_14", "METRIC_NAMES"]

METRIC_NAMES = ("n", "n_params", "observed_mean", "predicted_mean", "observed_variance", "r_squared", "r_squared_adj", "rmse",
                "rmse_adj", "cvrmse", "cvrmse_adj", "nmbe", "nmae", "autocorr_resid", "n_prime",
                "degrees_of_freedom", "t_stat_90", "fsu_base_term")


def _lag1_autocorrelation(residual: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row's consecutive valid residuals (gaps skipped)."""
    packed = np.where(valid, residual, np.nan)
    if (valid[:, 1:] & ~valid[:, :-1]).any():  # a gap before a valid value: move valid values first
        order = np.argsort(~valid, axis=1, kind="stable")  # in time order
        packed = np.take_along_axis(packed, order, axis=1)
    a, b = packed[:, :-1], packed[:, 1:]
    pair = ~np.isnan(a) & ~np.isnan(b)
    n = pair.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = np.where(pair, a, 0).sum(axis=1) / n
        mean_b = np.where(pair, b, 0).sum(axis=1) / n
        da = np.where(pair, a - mean_a[:, None], 0)
        db = np.where(pair, b - mean_b[:, None], 0)
        return (da * db).sum(axis=1) / np.sqrt((da ** 2).sum(axis=1) * (db ** 2).sum(axis=1))


_T_QUANTILES: dict[tuple[float, float], float] = {}


def _t_quantiles(probability: float, dof: np.ndarray) -> np.ndarray:
    """Student's t quantiles of some degrees of freedom, each computed once per process (batches of
    meters share a few hundred values; a call of scipy's ppf took 0.4 ms in the CalTRACK benchmark)."""
    new = [d for d in dof.tolist() if (probability, d) not in _T_QUANTILES]
    if new:
        _T_QUANTILES.update(zip(((probability, d) for d in new), stats.t.ppf(probability, new).tolist()))
    return np.array([_T_QUANTILES[probability, d] for d in dof.tolist()], dtype=float)


def fit_metrics_batch(observed: np.ndarray, predicted: np.ndarray, n_params: np.ndarray | int,
                      *, confidence: float = 0.90) -> dict[str, np.ndarray]:
    """Fit statistics of many meters at once.

    Parameters
    ----------
    observed, predicted : numpy.ndarray [meters × periods]
        Use per period in any consistent unit; NaN where there is no data (a period counts when
        both are present).
    n_params : int or numpy.ndarray [meters]
        Parameters of each meter's model.
    confidence : float
        Two-sided confidence of ``t_stat`` (0.90 by CalTRACK convention).

    Returns
    -------
    dict of numpy.ndarray [meters]
        :data:`METRIC_NAMES`. Undefined values (too few periods, zero mean) are NaN.

    Notes
    -----
    With :math:`e_t = \\hat y_t - y_t` over the *n* periods with both values:

    - :math:`R^2 = \\mathrm{corr}(\\hat y, y)^2`, :math:`R^2_{adj} = 1 - (1-R^2)(n-1)/(n-p-1)`;
    - :math:`RMSE = \\sqrt{\\sum e^2/n}`, :math:`RMSE_{adj} = \\sqrt{\\sum e^2/(n-p)}`;
    - :math:`CV(RMSE) = RMSE/\\bar y`, :math:`CV(RMSE)_{adj} = RMSE_{adj}/\\bar y`;
    - :math:`NMBE = \\sum e / \\sum y` (positive: the model over-predicts);
    - :math:`\\rho` = lag-1 autocorrelation of *e*, :math:`n' = n_{obs} (1-\\rho)/(1+\\rho)`;
    - ``fsu_base_term`` :math:`= t \\cdot CV(RMSE)_{adj} \\sqrt{(n_{obs}-p)/(n'-p)} \\sqrt{1+2/n'}`,
      with *t* the Student quantile at the given confidence and :math:`\\mathrm{round}(n'-p)`
      degrees of freedom.
    """
    y = np.atleast_2d(np.asarray(observed, dtype=float))
    yhat = np.atleast_2d(np.asarray(predicted, dtype=float))
    p = np.broadcast_to(np.asarray(n_params, dtype=float), y.shape[:1]).astype(float)
    valid = ~np.isnan(y) & ~np.isnan(yhat)
    n = valid.sum(axis=1).astype(float)
    n_observed = (~np.isnan(y)).sum(axis=1).astype(float)
    e = np.where(valid, yhat - y, 0.0)
    yv, pv = np.where(valid, y, 0.0), np.where(valid, yhat, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        y_mean = yv.sum(axis=1) / n
        p_mean = pv.sum(axis=1) / n
        dy = np.where(valid, y - y_mean[:, None], 0.0)
        observed_variance = (dy ** 2).sum(axis=1) / n  # population variance, as OpenEEmeter
        dp = np.where(valid, yhat - p_mean[:, None], 0.0)
        r = (dy * dp).sum(axis=1) / np.sqrt((dy ** 2).sum(axis=1) * (dp ** 2).sum(axis=1))
        r2 = r ** 2
        r2_adj = 1 - (1 - r2) * (n - 1) / (n - p - 1)
        sse = (e ** 2).sum(axis=1)
        rmse = np.sqrt(sse / n)
        rmse_adj = np.sqrt(sse / (n - p))
        cvrmse, cvrmse_adj = rmse / y_mean, rmse_adj / y_mean
        nmbe = e.sum(axis=1) / yv.sum(axis=1)
        nmae = np.abs(e).sum(axis=1) / yv.sum(axis=1)
        rho = _lag1_autocorrelation(yhat - y, valid)
        n_prime = n_observed * (1 - rho) / (1 + rho)
        dof = np.round(n_prime - p)
        defined = (n_prime > p) & (dof >= 1)
        distinct, inverse = np.unique(np.where(defined, dof, 1), return_inverse=True)
        t = np.where(defined, _t_quantiles(1 - (1 - confidence) / 2, distinct)[inverse.reshape(-1)], np.nan)
        correction = np.sqrt((n_observed - p) / (n_prime - p))
        approximation = np.sqrt(1 + 2 / n_prime)
        fsu = np.where(defined, t * cvrmse_adj * correction * approximation, np.nan)
    return {"n": n, "n_params": p, "observed_mean": y_mean, "predicted_mean": p_mean,
            "observed_variance": observed_variance, "r_squared": r2,
            "r_squared_adj": r2_adj, "rmse": rmse, "rmse_adj": rmse_adj, "cvrmse": cvrmse,
            "cvrmse_adj": cvrmse_adj, "nmbe": nmbe, "nmae": nmae, "autocorr_resid": rho, "n_prime": n_prime,
            "degrees_of_freedom": np.where(defined, dof, np.nan), "t_stat_90": t, "fsu_base_term": fsu}


def fit_metrics(observed, predicted, n_params: int, *, confidence: float = 0.90) -> dict[str, float]:
    """:func:`fit_metrics_batch` for one meter, as a dict of floats."""
    batch = fit_metrics_batch(np.asarray(observed, dtype=float)[None, :], np.asarray(predicted, dtype=float)[None, :],
                              n_params, confidence=confidence)
    return {k: float(v[0]) for k, v in batch.items()}


def meets_guideline_14(cvrmse_adj, nmbe, frequency: str):
    """Whether fits meet ASHRAE Guideline 14's limits for their data frequency.

    Parameters
    ----------
    cvrmse_adj, nmbe : float or numpy.ndarray
        Adjusted CV(RMSE) and NMBE [fraction].
    frequency : str
        ``monthly`` (bills), ``daily`` or ``hourly``; limits from ``config/savings.toml``.

    Returns
    -------
    bool or numpy.ndarray of bool
        False where a metric is undefined.
    """
    limits = configuration.load("savings")["guideline_14"]
    if frequency not in ("monthly", "daily", "hourly"):
        raise ValueError(f"frequency must be monthly, daily or hourly, not {frequency!r}")
    limit = limits[frequency]
    cv, bias = np.asarray(cvrmse_adj, dtype=float), np.asarray(nmbe, dtype=float)
    result = (cv <= limit["cvrmse"]) & (np.abs(bias) <= limit["nmbe"])
    return bool(result) if result.ndim == 0 else result
