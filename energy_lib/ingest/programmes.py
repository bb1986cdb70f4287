"""Government-supported energy programmes and the sites that joined them.

Two files from the city's programme office:

* ``programmes``: ``programme_id``, names (``사업명``, ``name_en``), the carrier it targets, the day it
  opened (``시작일``), the public cost per participant [won] where known, and a description;
* ``participation``: ``programme_id``, the participant — a site-register key (``관리번호``) or a KEPCO
  customer number (``전기고객번호``) — and the day the measure took effect (``적용일``: installation,
  retrofit completion). A participant or programme the store does not know is quarantined.
"""

from __future__ import annotations

import pandas as pd

from energy_lib.core.identity import pseudonyms
from energy_lib.core.vectors import is_in
from energy_lib.ingest import checks, vocab
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference, default_provider
from energy_lib.ingest.problems import Issues
from energy_lib.ingest.sinks import DimensionSink, KeyedFactSink
from energy_lib.ingest.sites import register_site_ids

__all__ = ["FORMAT", "PARTICIPATION_FORMAT"]

FIELDS = (
    Field("programme_id", ("사업코드", "사업id", "programme", "program_id"), help="short id, e.g. balcony_pv"),
    Field("name_ko", ("사업명", "name", "이름"), help="name in Korean"),
    Field("name_en", ("영문사업명", "english_name"), required=False, help="name in English"),
    Field("carrier", ("대상에너지", "에너지원", "carrier"), required=False, help="carrier targeted"),
    Field("starts_on", ("시작일", "사업시작일", "start", "start_date"), help="day the programme opened"),
    Field("cost", ("참여자당지원금", "지원단가", "cost_won_per_participant", "cost"), required=False,
          help="public cost per participant [won]"),
    Field("description", ("설명", "사업내용", "description"), required=False, help="what it does"),
)
PARTICIPATION_FIELDS = (
    Field("programme_id", ("사업코드", "사업id", "programme", "program_id"), help="programme"),
    Field("site_key", ("관리번호", "가구번호", "site_key"), required=False, help="site-register key",
          personal=True),
    Field("customer_no", ("전기고객번호", "한전고객번호", "고객번호", "customer_no"), required=False,
          help="KEPCO customer number of the participant", personal=True),
    Field("enrolled_on", ("적용일", "설치일", "참여일", "enrolled_on", "date"), help="day the measure took effect"),
)


def convert(columns: Columns, options: Options, reference: Reference) -> Converted:
    n = columns.raw.table.num_rows
    issues = Issues(n)
    carrier = pd.Series(pd.NA, index=range(n), dtype="str")
    if "carrier" in columns:
        text = columns.series("carrier")
        carrier = vocab.to_carrier(text)
        bad = carrier.isna().to_numpy() & (text.str.len() > 0).to_numpy()
        issues.add(bad, columns.header("carrier"), "unknown_carrier",
                   "'" + text[bad] + "' is not a carrier (전기, 도시가스, 상수도, 지역난방). Leave it empty for several.")
    name_en = columns.series("name_en") if "name_en" in columns else columns.series("name_ko")
    description = columns.series("description") if "description" in columns else pd.Series(pd.NA, index=range(n))
    records = pd.DataFrame({
        "source_row": columns.rows,
        "programme_id": columns.required_text("programme_id", issues, "the programme id"),
        "name_ko": columns.required_text("name_ko", issues, "the name"),
        "name_en": name_en, "carrier": carrier, "starts_on": columns.date("starts_on", issues),
        "cost_won_per_participant": columns.optional_number("cost", issues, "the cost"),
        "description": description,
    })
    return Converted("programmes", records, issues)


def convert_participation(columns: Columns, options: Options, reference: Reference) -> Converted:
    n = columns.raw.table.num_rows
    issues = Issues(n)
    programme = columns.required_text("programme_id", issues, "the programme id")
    known = programme.isin(reference.table("programmes")["programme_id"]).to_numpy()
    issues.add(~known & (programme.str.len() > 0).to_numpy(), columns.header("programme_id"), "unknown_programme",
               "'" + programme[~known & (programme.str.len() > 0).to_numpy()]
               + "' is not a programme in the store. Ingest the programme list first.")
    if "site_key" in columns:
        key = columns.required_text("site_key", issues, "the site key")
        site = register_site_ids(key)
        sites = reference.table("sites")["site_id"]
        header = columns.header("site_key")
    else:
        number = columns.required_text("customer_no", issues, "the customer number")
        meter = pseudonyms("meter", pd.Series(default_provider("electricity"), index=range(n)),
                           pd.Series("electricity", index=range(n)), number)
        meters = reference.table("meters")
        site = meter.map(pd.Series(meters["site_id"].to_numpy(), index=meters["meter_id"].to_numpy()))
        sites = site.dropna()
        header = columns.header("customer_no")
    unknown = ~is_in(site, sites)
    issues.add(unknown, header, "unknown_site",
               "the participant is not in the store. Ingest the site register or the bills first, then this file again.")
    records = pd.DataFrame({"source_row": columns.rows, "programme_id": programme, "site_id": site,
                            "enrolled_on": columns.date("enrolled_on", issues)})
    return Converted("participation", records, issues)


FORMAT = Format(
    name="programmes",
    title="programme list",
    fields=FIELDS,
    convert=convert,
    sink=DimensionSink("programmes", ("programme_id",), "name_ko"),
    description="Government-supported energy programmes: id, names, carrier, start day, cost per participant.",
)

PARTICIPATION_FORMAT = Format(
    name="participation",
    title="programme participants",
    fields=PARTICIPATION_FIELDS,
    convert=convert_participation,
    sink=KeyedFactSink("participation", ("programme_id", "site_id"), "enrolled_on", (
        checks.Rule("future_period", "enrolled_on",
                    lambda f: ~(f["enrolled_on"] > pd.Timestamp.now(tz="Asia/Seoul").tz_localize(None)),
                    lambda f: "the day " + f["enrolled_on"].dt.strftime("%Y-%m-%d") + " is in the future. "
                              "Ingest participants once the measure has taken effect."),
    )),
    description="Which sites joined which programme, and the day the measure took effect.",
    one_of=((("site_key",), ("customer_no",)),),
)
