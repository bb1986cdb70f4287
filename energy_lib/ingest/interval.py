"""Interval meter data (AMI): 15-minute or hourly energy [kWh] of industrial complexes, public
buildings and apartment complexes.

Two shapes:

* long (``interval``): one row per meter and interval — customer or meter number, a timestamp
  (``2023-01-15 13:00``, ISO 8601 with offset), the value; the step (15 min, 1 h) is read from the
  timestamps. Timestamps label the START of the interval unless ``--timestamps end``.
* wide (``interval_wide``), as KEPCO's 파워플래너 exports it: one row per meter and day, with one
  column per hour (``1시`` … ``24시``, hour ending) or quarter hour (``00:15`` … ``24:00``). Labels
  that reach 24 are hour-ending; labels from 0 (``0시``, ``00:00``) are hour-starting. Each cell is
  a record: ``rows_in`` counts cells, and quarantine names the cell's column.

A meter not in a site register needs a ward (``행정동코드``) to be placed, and may have a public
name (``시설명``) and a building type.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa

from energy_lib.core import wards
from energy_lib.core.identity import pseudonyms
from energy_lib.ingest import metered, parse, vocab
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference, default_provider
from energy_lib.ingest.problems import IngestError, Issues
from energy_lib.ingest.sinks import MeteredSink
from energy_lib.ingest.textfile import normalise_header

__all__ = ["FORMAT", "WIDE_FORMAT", "interval_columns"]

_COMMON = (
    Field("customer_no", ("고객번호", "계기번호", "설비번호", "meter_no", "meter", "customer", "custNo"),
          help="customer or meter number", personal=True),
    Field("unit", ("단위", "unit"), required=False, help="kWh (default kWh)"),
    Field("ward_code", ("행정동코드", "행정기관코드", "adm_cd", "ward"), required=False,
          help="administrative dong (needed for a meter in no register)"),
    Field("site_name", ("시설명", "사업장명", "단지명", "건물명", "site_name"), required=False,
          help="public name of the site"),
    Field("building_type", ("건물유형", "용도", "building_type"), required=False, help="industrial, public, …"),
    Field("provider", ("공급사", "provider"), required=False, help="default kepco"),
)
LONG_FIELDS = _COMMON + (
    Field("timestamp", ("일시", "측정일시", "수집일시", "LP수집일시", "datetime", "time", "timestamp", "date_time"),
          help="date and time of the interval"),
    Field("value", ("사용량", "전력량", "유효전력량", "kwh", "usage", "value", "energy"), help="energy [kWh]"),
)
WIDE_FIELDS = _COMMON + (
    Field("date", ("날짜", "일자", "측정일", "date", "day"), help="day"),
    Field("first_interval", ("1시", "01시", "0시", "00시", "h01", "h1", "h00", "h0", "hour1", "hour01", "00:15",
                             "0:15", "01:00", "1:00", "00:00", "0:00"),
          help="the first hour or quarter-hour column (1시 … 24시, 00:15 … 24:00)"),
)

_LABEL = re.compile(r"^(?:h|hour)?(?P<h>\d{1,2})(?:시|h)?(?::(?P<m>\d{2}))?(?:시)?$")


def interval_columns(headers: list[str]) -> tuple[list[str], np.ndarray]:
    """The headers that label intervals of a day and the offset [minutes] of each interval's
    START from midnight (hour-ending labels are moved back by one step)."""
    found = []
    for header in headers:
        match = _LABEL.match(normalise_header(header))
        if match:
            found.append((header, int(match.group("h")) * 60 + int(match.group("m") or 0)))
    if len(found) < 2:
        return [], np.array([], dtype=np.int64)
    names = [h for h, _ in found]
    minutes = np.array([m for _, m in found], dtype=np.int64)
    step = int(np.min(np.diff(np.sort(minutes))))
    if minutes.max() >= 24 * 60 or minutes.min() >= step:  # labels 1…24 or 00:15…24:00 end an interval
        minutes = minutes - step
    return names, minutes


def _placement(columns: Columns, reference: Reference, source_positions: np.ndarray) -> dict:
    """Ward (optional; unknown codes flagged per row), building type and public name of each
    record's site, taken from the record's source row."""
    n = columns.raw.table.num_rows
    out: dict[str, object] = {"ward_unknown": np.zeros(n, dtype=bool)}
    if "ward_code" in columns:
        ward = columns.series("ward_code")
        resolved = wards.resolve_codes(ward, reference.ward_codes)
        out["ward_unknown"] = resolved.isna().to_numpy() & (ward.str.len() > 0).to_numpy()
        out["ward_code"] = resolved.to_numpy(dtype=object)[source_positions]
    else:
        out["ward_code"] = np.full(len(source_positions), None, dtype=object)
    building = (vocab.to_building_type(columns.series("building_type")).fillna("unknown")
                if "building_type" in columns else pd.Series("unknown", index=range(n)))
    out["building_type"] = building.to_numpy(dtype=object)[source_positions]
    name = columns.series("site_name") if "site_name" in columns else pd.Series(pd.NA, index=range(n), dtype="str")
    out["site_name"] = name.where(name.str.len() > 0).to_numpy(dtype=object)[source_positions]
    return out


def _records(columns: Columns, options: Options, reference: Reference, issues: Issues,
             source_positions: np.ndarray, source_column: np.ndarray | None, start: np.ndarray,
             end: np.ndarray, value: np.ndarray, resolution: str) -> Converted:
    """Metered records for cells taken from the file's rows ``source_positions``."""
    n = len(source_positions)
    customer = columns.series("customer_no").to_numpy(dtype=object)[source_positions]
    unit = (columns.series("unit").to_numpy(dtype=object)[source_positions] if "unit" in columns
            else np.full(n, options.unit or columns.unit_hint("value") or "kWh", dtype=object))
    provider = (columns.series("provider").to_numpy(dtype=object)[source_positions] if "provider" in columns
                else np.full(n, options.provider or default_provider("electricity"), dtype=object))
    place = _placement(columns, reference, source_positions)
    records = pd.DataFrame({
        "source_row": columns.rows[source_positions], "provider": provider, "carrier": "electricity",
        "account": customer, "resolution": resolution, "period_start": start, "period_end": end, "value": value, "unit": unit,
        "quality": "actual", "ward_code": place["ward_code"], "placement": "reported",
        "building_type": place["building_type"], "site_name": place["site_name"],
    })
    if source_column is not None:
        records["source_column"] = source_column
    if "building_type" in columns:
        given = columns.series("building_type")
        columns.unknown_category("building_type", (vocab.to_building_type(given).isna()
                                                   & ~vocab.is_residential_use(given)).to_numpy(), issues,
                                 "a building type: use 아파트, 단독주택, 상업, 공공, 교육, 산업 (see data/README.md)",
                                 positions=source_positions)
    if "unit" in columns and "value" in columns:
        columns.unit_conflicts("unit", "value", issues, positions=source_positions)
    unknown = place["ward_unknown"][source_positions]
    issues.add(unknown, columns.mapping.get("ward_code"), "unknown_ward_code",
               "'" + pd.Series(columns.series("ward_code").to_numpy(dtype=object)[source_positions][unknown]
                               if "ward_code" in columns else [], dtype="str")
               + "' is not a Gwangju administrative dong code of any vintage. Correct it (see `energy wards`).")
    return Converted("readings", records, issues)


_RESOLUTIONS = {15: "15min", 60: "hourly", 1440: "daily"}


def _resolution(step_minutes: int) -> str:
    return _RESOLUTIONS.get(step_minutes, f"{step_minutes}min")


def _stored_step(columns: Columns, options: Options, reference: Reference) -> pd.Timedelta:
    """The step of a file with one timestamp per meter (a live feed's latest interval): the
    resolution of the interval readings the store already holds for its meters."""
    customer = columns.series("customer_no")
    provider = (columns.series("provider") if "provider" in columns
                else pd.Series(options.provider or default_provider("electricity"), index=customer.index))
    meter_ids = pseudonyms("meter", provider, pd.Series("electricity", index=customer.index), customer)
    found = reference.interval_resolutions(meter_ids.unique().tolist())
    if len(found) != 1:
        held = f"the store holds them at {', '.join(sorted(found))}" if found else "the store has none of these meters"
        raise IngestError(columns.raw.name, f"the step between readings cannot be told (one timestamp per meter, and "
                          f"{held}).", "Give two or more intervals per meter, or ingest an earlier file of the "
                          "meters first.")
    return pd.Timedelta(minutes={v: k for k, v in _RESOLUTIONS.items()}[found.pop()])


def convert_long(columns: Columns, options: Options, reference: Reference) -> Converted:
    n = columns.raw.table.num_rows
    issues = Issues(n)
    columns.required_text("customer_no", issues, "the customer number")
    stamp = columns.timestamp("timestamp", issues)
    value = columns.number("value", issues, "the value")
    customer = columns.series("customer_no")
    ordered = pd.DataFrame({"c": customer, "t": stamp}).dropna().drop_duplicates().sort_values(["c", "t"])
    gaps = ordered.groupby("c")["t"].diff().dropna()
    step = (pd.Timedelta(gaps[gaps > pd.Timedelta(0)].min()) if len(gaps)
            else _stored_step(columns, options, reference))
    minutes = int(step / pd.Timedelta(minutes=1))
    offset = step.to_timedelta64() if options.timestamps == "end" else np.timedelta64(0, "us")
    start = stamp - offset
    converted = _records(columns, options, reference, issues, np.arange(n), None, start,
                         start + step.to_timedelta64(), value, _resolution(minutes))
    converted.headers = {"value": columns.header("value"), "account": columns.header("customer_no"),
                         "period_start": columns.header("timestamp")}
    return converted


def convert_wide(columns: Columns, options: Options, reference: Reference) -> Converted:
    raw = columns.raw
    names, offsets = interval_columns(raw.headers)
    if not names:
        raise IngestError(raw.name, "no hour or quarter-hour columns (1시 … 24시, 00:15 … 24:00) were found.",
                          "Use the long interval format (--format interval) for one row per reading.", row=1)
    rows = raw.table.num_rows
    k = len(names)
    step = int(np.min(np.diff(np.sort(offsets))))
    day, day_ok = parse.parse_date(columns.text("date"))
    day_blank = parse.blank(columns.text("date"))
    cells = pa.concat_arrays([raw.table.column(name).combine_chunks() for name in names])
    values, ok = parse.parse_number(cells)
    blank = parse.blank(cells)
    # record i*rows + r is the cell of column i, row r: melted column by column
    source_positions = np.tile(np.arange(rows), k)
    source_column = np.repeat(np.array(names, dtype=object), rows)
    start = (np.tile(day, k) + np.repeat(offsets, rows).astype("timedelta64[m]")).astype("datetime64[us]")
    end = start + np.timedelta64(step, "m")
    issues = Issues(rows * k)
    customer_blank = np.tile(parse.blank(columns.text("customer_no")), k)
    issues.add(customer_blank, columns.header("customer_no"), "missing_value",
               "the customer number is empty. Fill it in, or remove the row if it is not data.")
    day_text = np.tile(columns.series("date").to_numpy(dtype=object), k)
    bad_day = np.tile(~day_ok & ~day_blank, k)
    issues.add(bad_day, columns.header("date"), "unreadable_date",
               "'" + pd.Series(day_text[bad_day], dtype="str") + f"' is not a date. Write it as {parse.DATE_FORMS}.")
    issues.add(np.tile(day_blank, k), columns.header("date"), "missing_value",
               "the date is empty. Fill it in, or remove the row if it is not data.")
    issues.add(blank, source_column, "missing_value", "the interval has no value (a gap in the meter data). "
                                                      "Nothing to do unless the utility can fill it.")
    bad = ~ok & ~blank
    issues.add(bad, source_column, "unreadable_number",
               "'" + pd.Series(cells.to_numpy(zero_copy_only=False)[bad], dtype="str")
               + "' is not a number. Write the energy in digits.")
    converted = _records(columns, options, reference, issues, source_positions, source_column,
                         start, end, values, _resolution(step))
    converted.headers = {"account": columns.header("customer_no"), "period_start": columns.header("date")}
    return converted


FORMAT = Format(
    name="interval",
    title="interval meter data (one row per reading)",
    fields=LONG_FIELDS,
    convert=convert_long,
    sink=MeteredSink(metered.READINGS),
    description="Interval meter data, one row per meter and 15-minute or hourly interval [kWh].",
)

WIDE_FORMAT = Format(
    name="interval_wide",
    title="interval meter data (one row per day, a column per hour)",
    fields=WIDE_FIELDS,
    convert=convert_wide,
    sink=MeteredSink(metered.READINGS),
    description="Interval meter data, one row per meter and day with 24 hourly or 96 quarter-hourly columns "
                "(KEPCO 파워플래너).",
)
