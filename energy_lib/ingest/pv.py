"""PV generation of prosumers (태양광 발전량): monthly generation per KEPCO customer.

Rooftop and balcony PV in Korea is settled against the household's electricity account (상계거래),
so generation is reported per KEPCO customer number: ``고객번호``, the month (``발전년월``/``useYm``)
or a period (``발전시작일``, ``발전종료일``, inclusive), the generation (``발전량``) in kWh (or the unit in
a unit column or the header). The generation is stored for the site of that electricity account
(table ``generation``); an account in no register and no bill needs a ward column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from energy_lib.ingest import metered
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference, default_provider
from energy_lib.ingest.problems import Issues
from energy_lib.ingest.sinks import MeteredSink

__all__ = ["FORMAT"]

FIELDS = (
    Field("customer_no", ("고객번호", "한전고객번호", "전기고객번호", "customer", "custNo"),
          help="the prosumer's KEPCO customer number", personal=True),
    Field("month", ("발전년월", "년월", "useYm", "month"), required=False, help="month of generation"),
    Field("period_start", ("발전시작일", "시작일", "from", "start"), required=False, help="first day"),
    Field("period_end", ("발전종료일", "종료일", "to", "end"), required=False, help="last day (inclusive)"),
    Field("generation", ("발전량", "genQty", "generation_kwh", "pv_kwh", "value"), help="generation"),
    Field("unit", ("단위", "unit"), required=False, help="kWh (default), MWh"),
    Field("ward_code", ("행정동코드", "adm_cd", "ward"), required=False, help="administrative dong"),
    Field("read_type", ("검침구분", "quality"), required=False, help="실측/추정"),
)


def convert(columns: Columns, options: Options, reference: Reference) -> Converted:
    n = columns.raw.table.num_rows
    issues = Issues(n)
    customer = columns.required_text("customer_no", issues, "the customer number")
    if "period_start" in columns and "period_end" in columns:
        start = columns.date("period_start", issues)
        end = columns.date("period_end", issues) + np.timedelta64(1 if options.end_inclusive else 0, "D")
    else:
        start = columns.month("month", issues)
        end = (start.astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[us]")
    value = columns.number("generation", issues, "the generation")
    unit = (columns.required_text("unit", issues, "the unit") if "unit" in columns
            else pd.Series(options.unit or columns.unit_hint("generation") or "kWh", index=range(n), dtype="str"))
    columns.unit_conflicts("unit", "generation", issues)
    ward = (columns.ward("ward_code", issues, reference.ward_codes) if "ward_code" in columns
            else pd.Series(pd.NA, index=range(n), dtype="str"))
    provider = options.provider or default_provider("electricity")
    records = pd.DataFrame({
        "source_row": columns.rows, "provider": provider, "carrier": "electricity", "account": customer,
        "resolution": "monthly",
        "period_start": start, "period_end": end, "value": value, "unit": unit, "quality": "actual",
        "ward_code": ward, "placement": "reported",
    })
    return Converted("generation", records, issues, headers={"value": columns.header("generation"),
                                                             "account": columns.header("customer_no")})


FORMAT = Format(
    name="pv",
    title="PV generation per customer",
    fields=FIELDS,
    convert=convert,
    sink=MeteredSink(metered.GENERATION),
    description=__doc__.split("\n\n")[0],
    one_of=((("month",), ("period_start", "period_end")),),
)
