"""The rules that say in words whether an estimate can be told apart from no effect.

A report never compares a p-value or an interval with a number itself: it asks these functions,
whose level comes from the evaluation's settings (``config``: ``confidence``), so a page and the
evaluation it shows use one level.
"""

from __future__ import annotations

import math

__all__ = ["includes_zero", "pretrend_rejected"]


def includes_zero(low: float, high: float) -> bool:
    """Whether the confidence interval ``[low, high]`` (in the estimate's unit) holds zero: the
    effect cannot be told apart from none at the interval's level."""
    return low <= 0 <= high


def pretrend_rejected(p_value: float, confidence: float) -> bool | None:
    """Whether the joint test that every pre-enrolment event coefficient is zero is rejected at the
    level ``1 - confidence``: participants and their comparison group were already drifting apart
    before the programme, so the difference in differences may not be the programme's effect.

    Returns ``None`` when the test could not be made (``p_value`` NaN: very few sites).

    References
    ----------
    Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel trends.
    American Economic Review: Insights 4(3), 305-322.
    """
    if p_value is None or math.isnan(p_value):
        return None
    return p_value < round(1 - confidence, 12)  # 0.95 → 0.05, not 0.05000000000000004
