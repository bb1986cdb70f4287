"""The workbook's shared vocabularies: the status of a result, warning codes and their severity.

Each is a ``str`` Enum (:class:`enum.StrEnum`): a member *is* its value, so tables, Parquet files
and JSON hold the same strings as before, while code compares members (``status ==
Status.QUALIFIED``) and an unknown value is refused (``Status("qualifed")`` raises ``ValueError``).

A warning is data (:class:`ModelWarning`): a code, its severity, a message, its subject (a meter
or a file) and JSON-safe values that show why.

Vocabularies that describe another idea (an ingested file's outcome, a page build's outcome, a
board post's visibility) are small Enums next to their owners.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

__all__ = ["Status", "Sufficiency", "Severity", "WarningCode", "SEVERITY", "MESSAGES", "ModelWarning", "json_safe"]


class Status(StrEnum):
    """The status of a fitted result (a baseline, a Carbon Point or eco-mileage half-year).

    Following OpenEEmeter, failure is a result: a meter with too little data gets a status, never
    an exception that stops a city's run.
    """

    QUALIFIED = "qualified"
    """A result that may be used."""
    DISQUALIFIED = "disqualified"
    """Data present, but the method's rules reject it (too little, too short, no qualifying model)."""
    NO_DATA = "no_data"
    """Nothing to fit."""
    ERROR = "error"
    """The fit failed numerically (singular design, all-zero usage)."""


class Sufficiency(StrEnum):
    """CalTRACK data sufficiency of a baseline (CalTRACK 2.0, 2.2): every critical check passes or not."""

    PASS = "pass"
    FAIL = "fail"


class Severity(StrEnum):
    """How much a warning matters: ``info`` (for the record), ``warning`` (the result stands but
    look), ``error`` (the result is not usable as it is)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class WarningCode(StrEnum):
    """Every warning the library emits, one code each (the last part of the qualified names of
    OpenEEmeter's warnings where the rule is theirs)."""

    # data sufficiency (energy_lib.baselines.sufficiency; CalTRACK 2.0, 2.2 and 4.2 for hourly)
    NO_DATA = "no_data"
    TOO_MANY_DAYS_WITH_MISSING_DATA = "too_many_days_with_missing_data"
    TOO_MANY_DAYS_WITH_MISSING_METER_DATA = "too_many_days_with_missing_meter_data"
    TOO_MANY_DAYS_WITH_MISSING_TEMPERATURE_DATA = "too_many_days_with_missing_temperature_data"
    NEGATIVE_METER_VALUES = "negative_meter_values"
    EXTREME_VALUES_DETECTED = "extreme_values_detected"
    TOO_MANY_HOURS_MISSING_IN_MONTH = "too_many_hours_missing_in_month"
    # TOWT (energy_lib.baselines.towt)
    EMPTY_SEGMENT = "empty_segment"
    MISSING_MONTHS = "missing_months"
    # ward boundaries (energy_lib.publish.ward_shapes)
    WARD_WITHOUT_BOUNDARY = "ward_without_boundary"
    FEATURES_OUTSIDE_GWANGJU = "features_outside_gwangju"
    POINT_OUTSIDE_BOUNDARY = "point_outside_boundary"
    # ingest (energy_lib.ingest.pipeline)
    NO_FINAL_LINE_BREAK = "no_final_line_break"

    @property
    def severity(self) -> Severity:
        """The code's severity (:data:`SEVERITY`)."""
        return SEVERITY[self]

    @property
    def message(self) -> str:
        """What the code means, in one sentence (:data:`MESSAGES`)."""
        return MESSAGES[self]


SEVERITY: dict[WarningCode, Severity] = {
    # CalTRACK's critical sufficiency checks fail the baseline; extreme values only flag it
    WarningCode.NO_DATA: Severity.ERROR,
    WarningCode.TOO_MANY_DAYS_WITH_MISSING_DATA: Severity.ERROR,
    WarningCode.TOO_MANY_DAYS_WITH_MISSING_METER_DATA: Severity.ERROR,
    WarningCode.TOO_MANY_DAYS_WITH_MISSING_TEMPERATURE_DATA: Severity.ERROR,
    WarningCode.NEGATIVE_METER_VALUES: Severity.ERROR,
    WarningCode.EXTREME_VALUES_DETECTED: Severity.WARNING,
    WarningCode.TOO_MANY_HOURS_MISSING_IN_MONTH: Severity.ERROR,
    WarningCode.EMPTY_SEGMENT: Severity.WARNING,
    WarningCode.MISSING_MONTHS: Severity.WARNING,
    WarningCode.WARD_WITHOUT_BOUNDARY: Severity.WARNING,
    WarningCode.FEATURES_OUTSIDE_GWANGJU: Severity.INFO,
    WarningCode.POINT_OUTSIDE_BOUNDARY: Severity.WARNING,
    WarningCode.NO_FINAL_LINE_BREAK: Severity.WARNING,
}
"""The default severity of each code."""

MESSAGES: dict[WarningCode, str] = {
    WarningCode.NO_DATA: "The baseline has no use with a temperature.",
    WarningCode.TOO_MANY_DAYS_WITH_MISSING_DATA: "Fewer than 90% of the baseline's days have use and temperature.",
    WarningCode.TOO_MANY_DAYS_WITH_MISSING_METER_DATA: "Fewer than 90% of the baseline's days have use.",
    WarningCode.TOO_MANY_DAYS_WITH_MISSING_TEMPERATURE_DATA: "Fewer than 90% of the baseline's days have a temperature.",
    WarningCode.NEGATIVE_METER_VALUES: "The baseline has negative use.",
    WarningCode.EXTREME_VALUES_DETECTED: "The baseline has use above the median plus three interquartile ranges.",
    WarningCode.TOO_MANY_HOURS_MISSING_IN_MONTH: "A calendar month of the baseline has fewer than 90% of its hours.",
    WarningCode.EMPTY_SEGMENT: "A segment has no hours with data; its coefficients are NaN.",
    WarningCode.MISSING_MONTHS: "The baseline has no data in some calendar months.",
    WarningCode.WARD_WITHOUT_BOUNDARY: "Some wards have no boundary feature; they are drawn as points.",
    WarningCode.FEATURES_OUTSIDE_GWANGJU: "Features outside Gwangju were skipped.",
    WarningCode.POINT_OUTSIDE_BOUNDARY: "Some wards' representative points lie outside their boundary.",
    WarningCode.NO_FINAL_LINE_BREAK: "The file does not end with a line break: its last row may be cut off.",
}
"""The default message of each code (a warning may carry a more precise one)."""


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as None, NumPy scalars and arrays as Python values."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class ModelWarning:
    """A warning as data: a code, its severity, a message, its subject and JSON-safe data showing why.

    Example: ``ModelWarning(WarningCode.MISSING_MONTHS, subject="m-001", data={"months": [2, 3]})``.

    Attributes
    ----------
    code : WarningCode
        What happened (an unknown code is refused).
    message : str
        What it means here; the code's default message (:attr:`WarningCode.message`) if empty.
    subject : str or None
        What it is about: a meter id or a file.
    severity : Severity
        ``info``, ``warning`` or ``error``; the code's default (:attr:`WarningCode.severity`) if None.
    data : dict
        JSON-safe values that show why.
    """

    code: WarningCode
    message: str = ""
    subject: str | None = None
    severity: Severity | None = None
    data: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        code = WarningCode(self.code)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "severity", Severity(self.severity) if self.severity is not None else code.severity)
        object.__setattr__(self, "message", self.message or code.message)

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        return {"code": str(self.code), "severity": str(self.severity), "message": self.message,
                "subject": self.subject, "data": json_safe(self.data)}

    @classmethod
    def from_dict(cls, data: dict) -> ModelWarning:
        return cls(WarningCode(data["code"]), data.get("message", ""), data.get("subject"),
                   Severity(data["severity"]) if data.get("severity") else None, dict(data.get("data") or {}))
