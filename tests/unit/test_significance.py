"""The rules a programme page says "cannot be told apart from no effect" and "a pre-trend" by."""

from __future__ import annotations

import math

from energy_lib.evaluation import EvaluationSettings
from energy_lib.publish import significance


def test_an_interval_holding_zero_is_not_told_apart_from_no_effect():
    assert significance.includes_zero(-1.0, 2.0)
    assert significance.includes_zero(0.0, 2.0) and significance.includes_zero(-2.0, 0.0)
    assert not significance.includes_zero(0.5, 2.0) and not significance.includes_zero(-2.0, -0.1)


def test_the_pretrend_rule_uses_the_evaluations_level():
    confidence = EvaluationSettings.configured().confidence
    level = round(1 - confidence, 12)
    assert significance.pretrend_rejected(level / 2, confidence) is True
    assert significance.pretrend_rejected(level, confidence) is False  # rejected below the level only
    assert significance.pretrend_rejected(0.5, confidence) is False
    assert significance.pretrend_rejected(math.nan, confidence) is None  # too few sites to test
    assert significance.pretrend_rejected(0.07, 0.90) is True  # another level, another answer
