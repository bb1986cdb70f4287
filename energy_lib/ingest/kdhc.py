"""District heat sold per KDHC branch and month (한국지역난방공사 지사별 열판매량).

Fields ``basYm`` (month), ``brNm`` (branch, e.g. 광주전남지사), ``engUseTj`` (heat sold) and
``engUseUnit`` (``TJ``); Korean headers (기준년월, 지사명, 열사용량, 단위) too. Stored in
utility_aggregates (provider ``kdhc``, region level ``branch``); heat per apartment complex goes
through the ``heat`` format instead.
"""

from __future__ import annotations

import pandas as pd

from energy_lib.core import units
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference
from energy_lib.ingest.kepco import AGGREGATE_SINK
from energy_lib.ingest.problems import Issues

__all__ = ["FORMAT"]

FIELDS = (
    Field("basYm", ("기준년월", "년월", "base_month"), help="month (202301)"),
    Field("brNm", ("지사명", "지사", "branch"), help="KDHC branch"),
    Field("engUseTj", ("engUse", "열판매량", "열사용량", "heat_sold"), help="heat sold"),
    Field("engUseUnit", ("단위", "unit"), required=False, help="TJ, Gcal, MJ (default TJ)"),
)


def convert(columns: Columns, options: Options, reference: Reference) -> Converted:
    n = columns.raw.table.num_rows
    issues = Issues(n)
    start = columns.month("basYm", issues)
    branch = columns.required_text("brNm", issues, "the branch")
    value = columns.number("engUseTj", issues, "the heat sold")
    unit = (columns.required_text("engUseUnit", issues, "the unit") if "engUseUnit" in columns
            else pd.Series(options.unit or columns.unit_hint("engUseTj") or "TJ", index=range(n), dtype="str"))
    columns.unit_conflicts("engUseUnit", "engUseTj", issues)
    unit = units.normalise_unit_names(unit)
    canonical, mismatch = units.to_canonical(value, unit, pd.Series("heat", index=range(n)))
    issues.add(mismatch & (unit.str.len() > 0).to_numpy(), columns.mapping.get("engUseUnit", "engUseUnit"),
               "unit_mismatch", "'" + unit[mismatch & (unit.str.len() > 0).to_numpy()]
               + "' is not a heat unit (TJ, GJ, Gcal, MJ, kWh, MWh). Correct the unit.")
    records = pd.DataFrame({
        "source_row": columns.rows, "provider": options.provider or "kdhc", "carrier": "heat",
        "region_level": "branch", "region_code": branch, "category": "all", "category_ko": "전체",
        "period_start": start, "customers": pd.array([None] * n, dtype="Int64"), "value": value,
        "unit": unit, "value_canonical": canonical, "bill_won": float("nan"),
    })
    return Converted("utility_aggregates", records, issues, headers={"value": columns.header("engUseTj")})


FORMAT = Format(
    name="kdhc",
    title="KDHC heat sold per branch",
    fields=FIELDS,
    convert=convert,
    sink=AGGREGATE_SINK,
    description=__doc__.split("\n\n")[0],
)
