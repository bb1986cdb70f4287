"""Words the utilities use, in Korean and English, mapped to the workbook's vocabulary.

Each mapping compares text after :func:`energy_lib.ingest.textfile.normalise_header` (case, spaces
and punctuation ignored). Unknown words map to NA so the caller can quarantine them by name.
"""

from __future__ import annotations

import pandas as pd

from energy_lib.core.vectors import map_values
from energy_lib.ingest.textfile import normalise_header

__all__ = ["BUILDING_TYPES", "CONTRACT_TYPES", "to_building_type", "to_carrier", "to_quality",
           "to_contract_type", "to_flag", "is_residential_use"]

BUILDING_TYPES = ("apartment", "detached", "commercial", "public", "education", "industrial", "unknown")

_FLAGS = {
    "yes": ("yes", "y", "true", "t", "1", "o", "예", "네", "동의", "공개", "있음", "해당"),
    "no": ("no", "n", "false", "f", "0", "x", "아니오", "아니요", "미동의", "비공개", "없음", "해당없음"),
}
_CARRIERS = {
    "electricity": ("electricity", "elec", "electric", "power", "전기", "전력", "전기사용량"),
    "gas": ("gas", "citygas", "도시가스", "가스", "lng"),
    "water": ("water", "수도", "상수도", "물", "급수"),
    "heat": ("heat", "districtheat", "지역난방", "난방", "열", "열에너지", "온수"),
}
_QUALITY = {
    "actual": ("actual", "a", "r", "read", "real", "실측", "정상", "검침", "실검침", "정상검침", "확정"),
    "estimated": ("estimated", "estimate", "e", "est", "추정", "인정", "추정검침", "인정검침", "추정치"),
}
_BUILDING_TYPES = {
    "apartment": ("apartment", "apt", "아파트", "공동주택", "연립주택", "연립", "다세대주택", "다세대"),
    "detached": ("detached", "house", "단독주택", "단독", "다가구주택", "다가구"),
    "commercial": ("commercial", "상업", "상업용", "근린생활시설", "판매시설", "업무시설", "숙박시설"),
    "public": ("public", "공공", "공공용", "공공업무시설", "공공기관", "관공서"),
    "education": ("education", "교육", "교육연구시설", "학교"),
    "industrial": ("industrial", "산업", "공장", "산업단지"),
}
# KEPCO contract types (계약종별) and the building type of a customer billed under each.
CONTRACT_TYPES = {
    "residential": ("주택용", "가정용", "주거용", "residential", "household"),
    "general": ("일반용", "general", "commercial"),
    "education": ("교육용", "education"),
    "industrial": ("산업용", "industrial"),
    "agricultural": ("농사용", "agricultural"),
    "streetlight": ("가로등", "streetlight"),
    "night": ("심야", "심야전력", "night"),
    "all": ("합계", "계", "전체", "total", "all"),
}
_CONTRACT_BUILDING = {"general": "commercial", "education": "education", "industrial": "industrial"}
_BUILDING_LOOKUP = {normalise_header(a): k for k, aliases in _BUILDING_TYPES.items() for a in aliases}
_CONTRACT_LOOKUP = {normalise_header(a): k for k, aliases in CONTRACT_TYPES.items() for a in aliases}


def _mapper(table: dict[str, tuple[str, ...]]):
    lookup = {normalise_header(alias): key for key, aliases in table.items() for alias in aliases}

    def apply(values: pd.Series) -> pd.Series:
        return map_values(values, lambda v: None if v is None else lookup.get(normalise_header(v)))

    return apply


to_carrier = _mapper(_CARRIERS)
to_carrier.__doc__ = "Carrier names (전기, 도시가스, 상수도, 지역난방, …) → electricity/gas/water/heat."
to_quality = _mapper(_QUALITY)
_to_yes_no = _mapper(_FLAGS)
to_quality.__doc__ = "Read types (실측, 추정, 인정, A, E, …) → actual/estimated."
to_contract_type = _mapper(CONTRACT_TYPES)
to_contract_type.__doc__ = "KEPCO contract types (주택용, 일반용, 교육용, 산업용, …) → English keys."


def to_flag(values: pd.Series) -> pd.Series:
    """Yes/no answers (예/아니오, 동의/미동의, 공개/비공개, Y/N, O/X, true/false, 1/0) → 1.0 / 0.0;
    NaN for anything else, so that the caller can quarantine it by name."""
    return _to_yes_no(values).map({"yes": 1.0, "no": 0.0})


def to_building_type(values: pd.Series) -> pd.Series:
    """Building types or uses (아파트, 단독주택, 교육용, 일반용, …) → :data:`BUILDING_TYPES`.

    A contract type names the building type of its customers where it can (일반용 → commercial,
    교육용 → education, 산업용 → industrial); 주택용 says a household but not which kind (NA).
    """
    def name(value: str | None) -> str | None:
        if value is None:
            return None
        key = normalise_header(value)
        return _BUILDING_LOOKUP.get(key) or _CONTRACT_BUILDING.get(_CONTRACT_LOOKUP.get(key))

    return map_values(values, name)


def is_residential_use(values: pd.Series) -> pd.Series:
    """True where a use or contract type names a household (주택용, 가정용, 아파트, 단독주택)."""
    def residential(value: str | None) -> float:
        key = normalise_header(value) if value is not None else ""
        return float(_CONTRACT_LOOKUP.get(key) == "residential" or _BUILDING_LOOKUP.get(key) in ("apartment", "detached"))

    return map_values(values, residential).fillna(0.0).astype(bool)
