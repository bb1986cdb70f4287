"""One result type for every baseline method: status, settings, outputs, metrics, warnings.

Following OpenEEmeter, failure is a result: a meter with too little data, all zeros or a constant
temperature gets a status and warnings that say why, never an exception that stops a city's run.
Exceptions are for the caller's mistakes (wrong argument types, unknown options).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from energy_lib.core import templating

__all__ = ["STATUSES", "ModelWarning", "BaselineResult", "json_safe"]

STATUSES = ("qualified", "disqualified", "no_data", "error")
"""qualified: a baseline that may be used. disqualified: data present but the method's rules
reject it (too little, too short, no qualifying model). no_data: nothing to fit. error: the fit
failed numerically (singular design, all-zero usage)."""


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
    """A warning as data: a qualified name, what it means, and JSON-safe data showing why.

    Example: ``energy_lib.baselines.caltrack.too_few_days`` with ``{"n_days": 200,
    "n_days_required": 365}``.
    """

    qualified_name: str
    description: str
    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"qualified_name": self.qualified_name, "description": self.description,
                "data": json_safe(self.data)}

    @classmethod
    def from_dict(cls, data: dict) -> ModelWarning:
        return cls(data["qualified_name"], data["description"], dict(data.get("data") or {}))


@dataclass(frozen=True)
class BaselineResult:
    """The baseline of one meter by one method.

    Attributes
    ----------
    method : str
        ``caltrack_daily``, ``caltrack_billing``, ``towt`` or ``carbon_point``.
    status : str
        One of :data:`STATUSES`.
    meter_id : str or None
        The meter, where the result belongs to one.
    model_type : str or None
        The selected model (``intercept_only``, ``hdd_only``, ``cdd_only``, ``hdd_cdd``, …).
    params : dict
        Coefficients and balance points, with units in their names (``heating_slope_per_c``).
    metrics : dict
        Fit statistics (see :mod:`energy_lib.baselines.metrics`).
    settings : dict
        The settings the method ran with.
    warnings : tuple of ModelWarning
    candidates : tuple of dict
        Every candidate model considered, with its status and adjusted R².
    """

    method: str
    status: str
    meter_id: str | None = None
    model_type: str | None = None
    params: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    warnings: tuple[ModelWarning, ...] = ()
    candidates: tuple[dict, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")

    @property
    def qualified(self) -> bool:
        return self.status == "qualified"

    def to_dict(self) -> dict:
        """A JSON-safe dictionary (NaN → None); :meth:`from_dict` reverses it."""
        data = asdict(self)
        data["warnings"] = [w.to_dict() for w in self.warnings]
        return json_safe(data)

    @classmethod
    def from_dict(cls, data: dict) -> BaselineResult:
        values = dict(data)
        values["warnings"] = tuple(ModelWarning.from_dict(w) for w in data.get("warnings", ()))
        values["candidates"] = tuple(data.get("candidates", ()))
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def _repr_html_(self) -> str:
        """The same summary in a notebook, in nbconvert and in Voila."""
        rows = [(str(k), _fmt(v)) for items in (self.params, self.metrics) for k, v in items.items()]
        return templating.render("baselines/result.html.j2", method=self.method, meter_id=self.meter_id, status=self.status,
                                 model_type=self.model_type, rows=rows, warnings=self.warnings)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "–" if not math.isfinite(value) else f"{value:,.4g}"
    return str(value)
