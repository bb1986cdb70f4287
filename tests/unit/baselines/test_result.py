"""One result type per baseline method: its name and version, and a JSON round trip."""

import json

import numpy as np
import pandas as pd
import pytest

from energy_lib.baselines.caltrack import CalTRACKSettings, Periods, fit_caltrack
from energy_lib.baselines.carbon_point import CarbonPointResult, MonthlyUsage, carbon_point
from energy_lib.baselines.eco_mileage import EcoMileageResult, eco_mileage
from energy_lib.baselines.result import BaselineResult, CalTRACKResult, ModelWarning, TOWTResult
from energy_lib.baselines.towt import fit_towt
from energy_lib.core.status import Severity, Status, WarningCode

DAYS = 365
TEMP_C = 15 + 12 * np.sin(np.linspace(0, 2 * np.pi, DAYS))


def _daily(usage: np.ndarray, temp_c: np.ndarray) -> Periods:
    m, p = usage.shape
    ones = np.ones((m, p))
    return Periods(pd.Index([f"m{i}" for i in range(m)]), np.zeros((m, p), dtype="datetime64[us]"), usage, ones,
                   temp_c[..., None], ones, ones)


def _monthly_usage() -> MonthlyUsage:
    months = pd.date_range("2021-01-01", "2024-12-01", freq="MS")
    rows = [("e", "electricity", m, 300.0 - 40 * (m.year == 2024)) for m in months]
    rows += [("g", "gas", m, 50.0) for m in months if m != pd.Timestamp("2024-03-01")]  # a missing bill
    frame = pd.DataFrame(rows, columns=["meter", "carrier", "month", "value"])
    return MonthlyUsage.from_long(frame["meter"], frame["carrier"], frame["month"], frame["value"])


def _through_json(result):
    """``result`` written to JSON text and read back as its own type."""
    text = result.to_json()
    assert json.loads(text)["method"] == result.method and json.loads(text)["version"] == result.version
    return type(result).from_json(text)


def test_caltrack_result_round_trips_with_its_candidates():
    usage = (5 + 0.8 * np.maximum(18 - TEMP_C, 0))[None].repeat(2, axis=0)
    usage[1] = np.nan  # no data: NaN parameters become None and back
    fit = fit_caltrack(_daily(usage, np.vstack([TEMP_C, TEMP_C])), CalTRACKSettings(fit_cdd=False),
                       keep_candidates=True)
    for i, status in enumerate((Status.QUALIFIED, Status.NO_DATA)):
        result = fit.result(i)
        assert isinstance(result, CalTRACKResult) and result.status is status
        assert result.method == "caltrack_daily" and result.version == CalTRACKResult.VERSION != ""
        back = _through_json(result)
        assert back.to_dict() == result.to_dict() and isinstance(back, CalTRACKResult)
    assert len(fit.result(0).candidates) > 1
    # the base type reads a result as its method's type
    assert type(BaselineResult.from_dict(fit.result(0).to_dict())) is CalTRACKResult


def test_towt_result_round_trips_with_its_warnings():
    index = pd.date_range("2024-01-01", periods=24 * 60, freq="h")
    model = fit_towt(pd.Series(1.0 + (index.hour > 8), index=index),
                     pd.Series(np.linspace(-5, 5, len(index)), index=index), meter_id="m1")
    result = model.result
    assert isinstance(result, TOWTResult) and result.status is Status.DISQUALIFIED and result.version
    missing = next(w for w in result.warnings if w.code is WarningCode.MISSING_MONTHS)
    assert missing.subject == "m1" and missing.severity is Severity.WARNING and missing.data["months"][0] == 3
    back = _through_json(result)
    assert back.to_dict() == result.to_dict() and back.warnings == result.warnings


def test_carbon_point_result_round_trips():
    result = carbon_point(_monthly_usage())
    assert result.method == "carbon_point" and result.version
    assert set(result.half_years["status"]) == {Status.QUALIFIED, Status.DISQUALIFIED}
    back = _through_json(result)
    assert isinstance(back, CarbonPointResult) and back.settings == result.settings
    pd.testing.assert_frame_equal(back.half_years, result.half_years)
    np.testing.assert_array_equal(back.baseline, result.baseline)
    np.testing.assert_array_equal(back.usage.values, result.usage.values)
    assert back.usage.first_month == result.usage.first_month and list(back.usage.meters) == ["e", "g"]
    pd.testing.assert_frame_equal(back.monthly(), result.monthly())


def test_eco_mileage_result_round_trips():
    result = eco_mileage(_monthly_usage(), pd.Series({"e": "s1", "g": "s2"}))
    assert isinstance(result, EcoMileageResult) and result.method == "eco_mileage" and result.version
    back = _through_json(result)
    pd.testing.assert_frame_equal(back.half_years, result.half_years)


def test_another_method_or_version_is_refused():
    result = carbon_point(_monthly_usage())
    with pytest.raises(ValueError, match="version"):
        CarbonPointResult.from_dict(result.to_dict() | {"version": "0"})
    with pytest.raises(ValueError, match="eco_mileage"):
        EcoMileageResult.from_dict(result.to_dict())
    towt = TOWTResult(method="towt", status=Status.NO_DATA)
    with pytest.raises(ValueError, match="version"):
        TOWTResult.from_dict(towt.to_dict() | {"version": "CalTRACK 1.0"})
    with pytest.raises(ValueError, match="towt"):
        TOWTResult(method="caltrack_daily", status=Status.QUALIFIED)


def test_warnings_serialise_with_code_severity_message_and_subject():
    warning = ModelWarning(WarningCode.NO_FINAL_LINE_BREAK, subject="bills.csv", data={"last_row": np.int64(7)})
    assert warning.message == WarningCode.NO_FINAL_LINE_BREAK.message and str(warning) == warning.message
    assert warning.to_dict() == {"code": "no_final_line_break", "severity": "warning", "message": warning.message,
                                 "subject": "bills.csv", "data": {"last_row": 7}}
    assert ModelWarning.from_dict(json.loads(json.dumps(warning.to_dict()))) == warning
    louder = ModelWarning("extreme_values_detected", "spikes", "m1", Severity.ERROR)
    assert louder.code is WarningCode.EXTREME_VALUES_DETECTED and louder.severity is Severity.ERROR
