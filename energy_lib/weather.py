"""Temperatures and degree days.

References
----------
.. [1] CalTRACK Methods 2.0, section 3.1 (degree days from daily mean temperature).
.. [2] ASHRAE Guideline 14-2014, Annex D (degree-day models).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["heating_degree_days", "cooling_degree_days"]


def _keep_type(like, values: np.ndarray):
    return pd.Series(values, index=like.index, name=getattr(like, "name", None)) if isinstance(like, pd.Series) else values


def heating_degree_days(temp_air: np.ndarray | pd.Series, balance_point: float) -> np.ndarray | pd.Series:
    """Heating degree days of daily mean temperatures.

    Parameters
    ----------
    temp_air : array-like
        Daily mean air temperature [°C].
    balance_point : float
        Heating balance point [°C].

    Returns
    -------
    Same type as ``temp_air``
        Heating degree days [°C·day]; NaN where the temperature is NaN.

    Notes
    -----
    .. math:: HDD = \\max(T_{bp} - T, 0)
    """
    temp = np.asarray(temp_air, dtype=float)
    return _keep_type(temp_air, np.where(np.isnan(temp), np.nan, np.maximum(balance_point - temp, 0.0)))


def cooling_degree_days(temp_air: np.ndarray | pd.Series, balance_point: float) -> np.ndarray | pd.Series:
    """Cooling degree days of daily mean temperatures.

    Parameters
    ----------
    temp_air : array-like
        Daily mean air temperature [°C].
    balance_point : float
        Cooling balance point [°C].

    Returns
    -------
    Same type as ``temp_air``
        Cooling degree days [°C·day]; NaN where the temperature is NaN.

    Notes
    -----
    .. math:: CDD = \\max(T - T_{bp}, 0)
    """
    temp = np.asarray(temp_air, dtype=float)
    return _keep_type(temp_air, np.where(np.isnan(temp), np.nan, np.maximum(temp - balance_point, 0.0)))
