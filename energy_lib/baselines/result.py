"""One result type per baseline method, on one base: status, settings, outputs, metrics, warnings.

Following OpenEEmeter, failure is a result: a meter with too little data, all zeros or a constant
temperature gets a status and warnings that say why, never an exception that stops a city's run.
Exceptions are for the caller's mistakes (wrong argument types, unknown options).

Each method's result type (:class:`CalTRACKResult`, :class:`TOWTResult` here;
:class:`~energy_lib.baselines.carbon_point.CarbonPointResult` and
:class:`~energy_lib.baselines.eco_mileage.EcoMileageResult` for the city-wide rules) carries the
method's name and version and round-trips through JSON (``to_dict``/``from_dict``,
``to_json``/``from_json``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from energy_lib.core import templating
from energy_lib.core.status import ModelWarning, Status, json_safe

__all__ = ["STATUSES", "ModelWarning", "JSONResult", "BaselineResult", "CalTRACKResult", "TOWTResult", "json_safe",
           "check_version", "array_to_dict", "array_from_dict", "frame_to_dict", "frame_from_dict"]

STATUSES = tuple(Status)
"""The statuses of a result (:class:`energy_lib.core.status.Status`)."""


def array_to_dict(values: np.ndarray) -> dict:
    """A NumPy array as JSON-safe data (NaN → None) with its dtype; :func:`array_from_dict` reverses it."""
    values = np.asarray(values)
    return {"dtype": values.dtype.str if values.dtype.kind != "O" else "object", "shape": list(values.shape),
            "values": json_safe(values.ravel())}


def array_from_dict(data: dict) -> np.ndarray:
    dtype = np.dtype(data["dtype"])
    values = [np.nan if v is None else v for v in data["values"]] if dtype.kind == "f" else data["values"]
    return np.array(values, dtype=dtype).reshape(data["shape"])


def frame_to_dict(frame: pd.DataFrame) -> dict:
    """A data frame as JSON-safe columns (categoricals as codes and categories, NaN → None) with
    their dtypes; :func:`frame_from_dict` reverses it."""
    columns = {}
    for name, column in frame.items():
        if isinstance(column.dtype, pd.CategoricalDtype):
            columns[str(name)] = {"categories": json_safe(column.cat.categories.to_numpy()),
                                  "categories_name": column.cat.categories.name,
                                  "codes": array_to_dict(column.cat.codes.to_numpy())}
        else:
            columns[str(name)] = array_to_dict(column.to_numpy())
    return {"columns": columns}


def frame_from_dict(data: dict) -> pd.DataFrame:
    columns = {}
    for name, column in data["columns"].items():
        if "categories" in column:
            categories = pd.Index(column["categories"], name=column.get("categories_name"))
            columns[name] = pd.Categorical.from_codes(array_from_dict(column["codes"]), categories)
        else:
            columns[name] = array_from_dict(column)
    return pd.DataFrame(columns)


def check_version(data: dict, method: str, version: str) -> None:
    """Refuse a dictionary written by another method or version of a method."""
    if data.get("method", method) != method or data.get("version") != version:
        raise ValueError(f"a result of {data.get('method')!r} version {data.get('version')!r} is not a "
                         f"{method!r} version {version!r} result")


class JSONResult:
    """The JSON text of a result type that has ``to_dict`` and ``from_dict`` (which carry the
    method's name and version); every method's result type shares it."""

    VERSION: ClassVar[str] = ""

    @property
    def version(self) -> str:
        return self.VERSION

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True)
class BaselineResult(JSONResult):
    """The baseline of one meter by one method (the base of each method's result type).

    Attributes
    ----------
    method : str
        ``caltrack_daily``, ``caltrack_billing`` or ``towt``.
    status : Status
        Qualified, disqualified, no data or error (an unknown status is refused).
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

    METHODS: ClassVar[tuple[str, ...]] = ()
    """The method names a result type is for (empty: any, for the base)."""
    VERSION: ClassVar[str] = ""
    """The version of the method's specification the fit follows."""

    method: str
    status: Status
    meter_id: str | None = None
    model_type: str | None = None
    params: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    warnings: tuple[ModelWarning, ...] = ()
    candidates: tuple[dict, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        if self.METHODS and self.method not in self.METHODS:
            raise ValueError(f"{type(self).__name__} is a result of {', '.join(self.METHODS)}, not {self.method!r}")

    @property
    def qualified(self) -> bool:
        return self.status == Status.QUALIFIED

    def to_dict(self) -> dict:
        """A JSON-safe dictionary (NaN → None) with the method's version; :meth:`from_dict` reverses it."""
        data = asdict(self)
        data["status"] = str(self.status)
        data["warnings"] = [w.to_dict() for w in self.warnings]
        data["version"] = self.version
        return json_safe(data)

    @classmethod
    def from_dict(cls, data: dict) -> BaselineResult:
        """The result of :meth:`to_dict`, as the method's result type (refused for another version)."""
        kind = cls
        if not cls.METHODS:
            kind = next((t for t in cls.__subclasses__() if data.get("method") in t.METHODS), cls)
        check_version(data, data.get("method"), kind.VERSION)
        values = {k: v for k, v in data.items() if k != "version"}
        values["warnings"] = tuple(ModelWarning.from_dict(w) for w in data.get("warnings", ()))
        values["candidates"] = tuple(data.get("candidates", ()))
        return kind(**values)

    def _repr_html_(self) -> str:
        """The same summary in a notebook, in nbconvert and in Voila."""
        rows = [(str(k), _fmt(v)) for items in (self.params, self.metrics) for k, v in items.items()]
        return templating.render("baselines/result.html.j2", method=self.method, meter_id=self.meter_id, status=self.status,
                                 model_type=self.model_type, rows=rows, warnings=self.warnings)


@dataclass(frozen=True)
class CalTRACKResult(BaselineResult):
    """A CalTRACK daily or billing baseline of one meter (:mod:`energy_lib.baselines.caltrack`)."""

    METHODS: ClassVar[tuple[str, ...]] = ("caltrack_daily", "caltrack_billing")
    VERSION: ClassVar[str] = "CalTRACK 2.0"


@dataclass(frozen=True)
class TOWTResult(BaselineResult):
    """A TOWT (CalTRACK hourly) baseline of one meter (:mod:`energy_lib.baselines.towt`)."""

    METHODS: ClassVar[tuple[str, ...]] = ("towt",)
    VERSION: ClassVar[str] = "CalTRACK 2.0 hourly"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "–" if not math.isfinite(value) else f"{value:,.4g}"
    return str(value)
