"""KEPCO's public file of electricity use by region and contract type (한국전력공사 시군구별 계약종별 전력사용량, 공공데이터).

One national file a year: a row per 시도 × 시군구 × 계약종별 (주택용, 일반용, 교육용, 산업용, 농사용,
가로등, 심야) with the columns ``연도, 시도, 시군구, 계약종별`` and one column per month, ``1월`` …
``12월`` [kWh]. Stored in utility_aggregates like the API export (format ``kepco``): provider
``kepco``, the current gu code, the contract type, the month. Only Gwangju is kept: rows of other
시도 are skipped and counted (the ingest summary says how many), never quarantined.

Customer counts (고객호수) and bills (전기요금) are read where a version of the file has them, in
either of two layouts:

* blocks of month columns named with their measure: ``사용량 1월`` … ``고객호수 1월`` …
  ``전기요금 1월`` … (also ``1월 고객호수``, ``1월_전기요금``); a plain ``1월`` is usage;
* a ``구분`` column (사용량, 고객호수, 전기요금) with one row per measure: the rows of one 연도,
  시도, 시군구 and 계약종별 are merged into the usage row's records (the merged rows are counted as
  skipped), and a customers or bill row without its usage row is quarantined.

How the hand-made quirks of these files are read:

* a byte-order mark, stray spaces in headers (`` 1월 ``) and in names (``심 야``, ``동 구``):
  ignored;
* thousands separators inside quoted fields (``"16,724,700"``): read as numbers;
* a dash (``-``, also ``－ – —``) is KEPCO's "none": **0 kWh** (0 customers, 0 won) for that cell,
  stored like any number, not an error and not missing;
* an empty cell in a month that other rows have is quarantined (``missing_value``); a month that
  no Gwangju row has (a file of the current year, months not published yet) is skipped and counted.

Each cell is a record: ``rows_in`` counts the Gwangju cells, quarantine names the cell's column.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from energy_lib.core import configuration, units
from energy_lib.core.vectors import map_values
from energy_lib.ingest import parse, vocab
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference
from energy_lib.ingest.kepco import AGGREGATE_SINK, GWANGJU_CODES, GWANGJU_NAMES, gu_codes
from energy_lib.ingest.problems import IngestError, Issues
from energy_lib.ingest.textfile import normalise_header, unit_in_header

__all__ = ["FORMAT", "month_columns", "MEASURES", "DASHES"]

FIELDS = (
    Field("year", ("연도", "년도", "년", "기준년도", "기준연도", "yyyy"), help="year"),
    Field("metro", ("시도", "시도명", "광역시도"), help="시도: 광주광역시 (others are skipped)"),
    Field("city", ("시군구", "시군구명", "구"), help="시군구: 동구, 서구, 남구, 북구, 광산구"),
    Field("cntr", ("계약종별", "계약종", "contract", "contract_type"), help="contract type (주택용, 일반용, …)"),
    Field("first_month", ("1월", "01월", "사용량1월", "1월사용량", "전력사용량1월", "1월전력사용량"),
          help="month columns 1월 … 12월 [kWh] (blocks 고객호수 1월 …, 전기요금 1월 … where present)"),
    Field("kind", ("구분", "항목", "지표", "measure"), required=False,
          help="사용량, 고객호수 or 전기요금 per row (one row per measure)"),
)

MEASURES = {
    "usage": ("사용량", "전력사용량", "판매량", "usage"),
    "customers": ("고객호수", "고객수", "호수", "customers"),
    "bill": ("전기요금", "요금", "판매수입", "판매금액", "bill"),
}
"""Names of the measures a month column or a ``구분`` cell may carry (compared after
:func:`~energy_lib.ingest.textfile.normalise_header`)."""
_MEASURE = {normalise_header(a): k for k, aliases in MEASURES.items() for a in aliases}

DASHES = ("-", "－", "–", "—", "‐", "−")
"""How KEPCO's tables write "none": read as 0."""

_MONTH = re.compile(r"^(?P<pre>\D*?)(?P<m>\d{1,2})월(?P<post>\D*)$")
_WHOLE_SIDO = ("", "합계", "전체", "계", "소계", "total", "all")


def month_columns(headers: list[str]) -> dict[str, list[tuple[int, str]]]:
    """The month columns of a header row, by measure: ``{"usage": [(1, "1월"), …], "customers": …}``.

    A plain ``1월`` is ``"plain"`` (usage, or the row's ``구분``); ``고객호수 1월`` or
    ``1월(고객호수)`` is ``"customers"``. Raises :class:`ValueError` for a month outside 1–12, a
    measure that is not known, or a month given twice.
    """
    found: dict[str, list[tuple[int, str]]] = {}
    for header in headers:
        text = re.sub(r"[\(\[（]\s*([^\(\[（\)\]）]+?)\s*[\)\]）]", lambda m: m.group(1) if normalise_header(m.group(1))
                      in _MEASURE else "", str(header))  # 1월(고객호수): the measure, not a unit
        match = _MONTH.match(normalise_header(text))
        if not match:
            continue
        month, word = int(match.group("m")), match.group("pre") or match.group("post")
        if not 1 <= month <= 12:
            raise ValueError(f"the column '{header}' names month {month}, not one of 1월 … 12월")
        measure = "plain" if not word else _MEASURE.get(word)
        if measure is None:
            raise ValueError(f"the column '{header}' is a month of '{word}', which is not one of "
                             f"{', '.join(a for aliases in MEASURES.values() for a in aliases[:2])}")
        if any(m == month for m, _ in found.get(measure, [])):
            raise ValueError(f"month {month}월 appears twice ({header})")
        found.setdefault(measure, []).append((month, header))
    return {k: sorted(v) for k, v in found.items()}


def _cells(raw_table: pa.Table, names: list[str], sources: np.ndarray) -> pa.Array:
    """The cells of columns ``names`` at table rows ``sources`` (−1: no row, an empty cell),
    melted column by column: cell ``i * len(sources) + g`` is column ``i`` of group ``g``."""
    take = pa.array(np.where(sources >= 0, sources, 0), mask=sources < 0)
    if not names:
        return pa.array([], pa.string())
    return pa.concat_arrays([raw_table.column(n).combine_chunks().take(take) for n in names])


def _numbers(cells: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, readable, blank) of cells: thousands separators read, a dash is 0."""
    text = pc.utf8_trim_whitespace(pc.fill_null(cells.cast(pa.string()), ""))
    dash = pc.is_in(text, value_set=pa.array(DASHES)).to_numpy(zero_copy_only=False)
    values, ok = parse.parse_number(pc.if_else(pa.array(dash), pa.scalar("0"), text))
    blank = parse.blank(text)
    return values, ok | dash, blank & ~dash


def convert(columns: Columns, options: Options, reference: Reference) -> Converted:
    """KEPCO's wide public file → utility_aggregates records (one per Gwangju row and month)."""
    raw = columns.raw
    try:
        months = month_columns(raw.headers)
    except ValueError as error:
        raise IngestError(raw.name, f"{error}.", "Name the month columns 1월 … 12월 (a block per measure: "
                                                 "사용량 1월, 고객호수 1월, 전기요금 1월).", row=1) from None
    has_kind = "kind" in columns
    if has_kind and set(months) - {"plain"}:
        raise IngestError(raw.name, "the file has a 구분 column and month columns named with a measure.",
                          "Use one layout: either a 구분 column with plain 1월 … 12월, or blocks "
                          "사용량 1월 …, 고객호수 1월 … without 구분.", row=1, column=columns.header("kind"))
    usage_columns = months.get("plain", []) if has_kind else months.get("plain", []) + months.get("usage", [])
    if not usage_columns or (not has_kind and "plain" in months and "usage" in months):
        raise IngestError(raw.name, "no usage months (1월 … 12월, or 사용량 1월 …) were found, or both.",
                          "Name the usage columns 1월 … 12월 once.", row=1)
    if len({m for m, _ in usage_columns}) != len(usage_columns):
        raise IngestError(raw.name, "a usage month appears twice.", "Keep one column per month.", row=1)

    # rows of Gwangju (or without a 시도, quarantined below); others skipped and counted
    metro = columns.series("metro").str.replace(r"\s+", "", regex=True)
    gwangju = (metro.str.lower().isin(GWANGJU_NAMES) | metro.isin(GWANGJU_CODES)).to_numpy()
    metro_blank = columns.blank("metro")
    kept = np.flatnonzero(gwangju | metro_blank)
    skipped = {"outside_city": int((~gwangju & ~metro_blank).sum())}

    # groups: one per record row (the usage row, with its customers and bill rows under 구분)
    city = columns.series("city").str.replace(r"\s+", "", regex=True)
    cntr = columns.series("cntr")
    if has_kind:
        kind = map_values(columns.series("kind"), lambda v: None if v is None else _MEASURE.get(normalise_header(v))).to_numpy(dtype=object)
        kind = np.where(pd.isna(kind), "unknown", kind)[kept]
        key = (columns.series("year").str.strip() + "|" + metro + "|" + city + "|"
               + cntr.map(normalise_header)).to_numpy(dtype=object)[kept]
        frame = pd.DataFrame({"pos": kept, "key": key, "kind": kind})
        frame["occ"] = frame.groupby(["key", "kind"]).cumcount().astype(str)
        alone = frame["kind"] == "unknown"
        frame.loc[alone, "occ"] = "row" + frame.loc[alone, "pos"].astype(str)  # a group of its own
        gid = pd.factorize(frame["key"] + "|" + frame["occ"])[0]
        groups = int(gid.max()) + 1 if len(gid) else 0
        sources = {}
        for measure in ("usage", "customers", "bill"):
            source = np.full(groups, -1, dtype=np.int64)
            chosen = frame["kind"].isin([measure, "unknown"] if measure == "usage" else [measure]).to_numpy()
            source[gid[chosen]] = frame["pos"].to_numpy()[chosen]
            sources[measure] = source
        first = np.full(groups, np.iinfo(np.int64).max)
        np.minimum.at(first, gid, frame["pos"].to_numpy())
        rep = np.where(sources["usage"] >= 0, sources["usage"], first)
        skipped["merged"] = int(len(kept) - groups)
        kind_of_rep = pd.Series(frame["kind"].to_numpy(), index=frame["pos"].to_numpy()).reindex(rep).to_numpy()
        measure_columns = {m: usage_columns for m in ("usage", "customers", "bill")}
    else:
        rep = kept.astype(np.int64)
        groups = len(rep)
        sources = {"usage": rep, "customers": rep, "bill": rep}
        kind_of_rep = np.full(groups, "usage", dtype=object)
        measure_columns = {"usage": usage_columns, "customers": months.get("customers", []),
                           "bill": months.get("bill", [])}

    # usage cells, month by month; a month no Gwangju row has is not published yet
    names = [h for _, h in usage_columns]
    usage_cells = _cells(raw.table, names, sources["usage"])
    values, ok, blank = _numbers(usage_cells)
    k = len(names)
    has_usage = sources["usage"] >= 0
    published = ~(blank.reshape(k, groups) | ~has_usage).all(axis=1) if groups else np.zeros(k, dtype=bool)
    skipped["not_published"] = int((~published).sum() * has_usage.sum())
    cell_month = np.repeat(np.array([m for m, _ in usage_columns]), groups)
    keep_cell = np.repeat(published, groups)
    values, ok, blank, cell_month = values[keep_cell], ok[keep_cell], blank[keep_cell], cell_month[keep_cell]
    group = np.tile(np.arange(groups), int(published.sum()))
    source_column = np.repeat(np.array(names, dtype=object), groups)[keep_cell]
    n = len(group)
    row = rep[group]
    issues = Issues(n)

    def per_record(name: str) -> pd.Series:
        return pd.Series(columns.series(name).to_numpy(dtype=object)[row], dtype="str")

    def where(mask: np.ndarray, column: str | None = None) -> pd.Series:
        """``"file.csv, row 12, column '계약종별': "`` for the flagged records (the column left out
        for a month cell: quarantine names it)."""
        at = f"{raw.name}, row " + pd.Series(raw.rows[row[mask]]).astype(str)
        return at + (f", column '{column}': " if column else ": ")

    def flagged(values: pd.Series, mask: np.ndarray) -> pd.Series:
        """The flagged records' text, indexed like :func:`where`'s."""
        return pd.Series(values.to_numpy(dtype=object)[mask], dtype="str")

    # 구분: an unknown measure, or a customers/bill row without its usage row
    if has_kind:
        unknown_kind = kind_of_rep[group] == "unknown"
        issues.add(unknown_kind, columns.header("kind"), "unknown_category",
                   where(unknown_kind, columns.header("kind")) + "'" + flagged(per_record("kind"), unknown_kind)
                   + "' is not 사용량, 고객호수 or 전기요금. Correct the 구분 cell and ingest the file again.")
        orphan = ~has_usage[group]
        issues.add(orphan, columns.header("kind"), "missing_value",
                   where(orphan, columns.header("kind")) + "a 고객호수 or 전기요금 row without a 사용량 row for the same "
                   "연도, 시도, 시군구 and 계약종별: nothing to store it with. Add the 사용량 row, or remove the row.")
    else:
        orphan = np.zeros(n, dtype=bool)

    # 연도 and month
    year, year_ok = parse.parse_number(pa.array(per_record("year").to_numpy(dtype=object), pa.string()))
    year_ok &= (year >= 1990) & (year <= 2200) & (year == np.floor(year))
    year_blank = parse.blank(pa.array(per_record("year").to_numpy(dtype=object), pa.string()))
    issues.add(year_blank, columns.header("year"), "missing_value", "the year (연도) is empty. Fill it in.")
    bad_year = ~year_ok & ~year_blank
    issues.add(bad_year, columns.header("year"), "unreadable_date",
               where(bad_year, columns.header("year")) + "'" + flagged(per_record("year"), bad_year)
               + "' is not a year. Write it in four digits (2024).")
    y = np.where(year_ok, year, 1970).astype(int)
    start = ((y - 1970) * 12 + (cell_month - 1)).astype("datetime64[M]").astype("datetime64[us]")
    start = np.where(year_ok, start, np.datetime64("NaT"))

    # 시도 without a name
    no_metro = metro_blank[row]
    issues.add(no_metro, columns.header("metro"), "missing_value",
               "the 시도 is empty. Write 광주광역시 (rows of other 시도 are skipped).")

    # 시군구: the gu of Gwangju (name or code of any vintage), or the whole 시도 (합계, empty)
    gu, _ = gu_codes(city, reference.ward_codes)
    whole_city = city.str.lower().isin(_WHOLE_SIDO).to_numpy()[row]
    gu_code = gu.to_numpy(dtype=object)[row]
    unknown_gu = pd.isna(gu_code) & ~whole_city & ~no_metro
    issues.add(unknown_gu, columns.header("city"), "unknown_ward_code",
               where(unknown_gu, columns.header("city")) + "'" + flagged(per_record("city"), unknown_gu)
               + "' is not a gu of Gwangju (동구, 서구, 남구, 북구, 광산구, or a code of any vintage). "
                 "Correct it (see `energy wards`) and ingest the file again.")

    # 계약종별
    category_text = per_record("cntr").str.replace(r"\s+", "", regex=True)  # "심 야" → 심야
    category = vocab.to_contract_type(category_text).to_numpy(dtype=object)
    cntr_blank = columns.blank("cntr")[row]
    issues.add(cntr_blank, columns.header("cntr"), "missing_value", "the contract type (계약종별) is empty. Fill it in.")
    unknown_cntr = pd.isna(category) & ~cntr_blank
    issues.add(unknown_cntr, columns.header("cntr"), "unknown_category",
               where(unknown_cntr, columns.header("cntr")) + "'" + flagged(category_text, unknown_cntr)
               + "' is not a KEPCO contract type (주택용, 일반용, 교육용, 산업용, 농사용, 가로등, 심야, or 합계). "
                 "Correct the name in the file, or add a new official spelling to CONTRACT_TYPES in "
                 "energy_lib/ingest/vocab.py, and ingest the file again.")

    # usage [kWh]: a dash is 0; an empty cell in a published month is quarantined
    empty = blank & ~orphan
    issues.add(empty, source_column, "missing_value",
               where(empty)
               + "the month has no usage. KEPCO writes '-' for none (read as 0): ask the source, "
                 "or write '-' if the cell means none, and ingest the file again.")
    unreadable = ~ok & ~blank
    text = pd.Series(usage_cells.to_numpy(zero_copy_only=False)[keep_cell][unreadable],
                     dtype="str")
    issues.add(unreadable, source_column, "unreadable_number",
               where(unreadable) + "'" + text
               + "' is not a number. Write the usage in digits (1,234,567), or '-' for none.")
    unit = options.unit or unit_in_header(names[0]) or "kWh"
    canonical, mismatch = units.to_canonical(values, pd.Series(unit, index=range(n)),
                                             pd.Series("electricity", index=range(n)))
    issues.add(mismatch, source_column, "unit_mismatch",
               f"unit '{unit}' is not an electricity unit. Pass --unit kWh or MWh.")

    customers = _measure(raw, columns, "customers", measure_columns, sources, group, cell_month, issues, raw.rows[row])
    bill = _measure(raw, columns, "bill", measure_columns, sources, group, cell_month, issues, raw.rows[row])
    limit = configuration.load("ingest")["counts"]["max_count"]
    with np.errstate(invalid="ignore"):
        bad_count = ~np.isnan(customers) & ((customers != np.floor(customers)) | ~(np.abs(customers) <= limit))
    issues.add(bad_count, "고객호수", "invalid_count",
               f"the customer count is not a whole number (at most {limit:,}). Correct it and ingest the file again.")

    records = pd.DataFrame({
        "source_row": raw.rows[row], "source_column": source_column,
        "provider": options.provider or "kepco", "carrier": "electricity",
        "region_level": np.where(whole_city, "sido", "gu"),
        "region_code": np.where(whole_city, "29", gu_code),
        "category": category, "category_ko": category_text.to_numpy(dtype=object), "period_start": start,
        "customers": pd.array(np.where(bad_count, np.nan, customers), dtype="Float64").astype("Int64"),
        "value": values, "unit": unit, "value_canonical": canonical, "bill_won": bill,
    })
    # the column at fault of a value check is the cell's own month column (quarantine's source_column)
    headers = {"value": None, "value_canonical": None, "customers": None}
    return Converted("utility_aggregates", records, issues, headers=headers,
                     skipped={k: v for k, v in skipped.items() if v})


def _measure(raw, columns: Columns, measure: str, measure_columns: dict, sources: dict, group: np.ndarray,
             cell_month: np.ndarray, issues: Issues, rows: np.ndarray) -> np.ndarray:
    """Customers or bill of each record from its month in the measure's columns (NaN where the
    file has none); an unreadable cell is quarantined on the record."""
    found = measure_columns.get(measure, [])
    out = np.full(len(group), np.nan)
    if not found:
        return out
    names = [h for _, h in found]
    groups = len(sources[measure])
    values, ok, blank = _numbers(_cells(raw.table, names, sources[measure]))
    position = {m: i for i, (m, _) in enumerate(found)}
    index = np.array([position.get(int(m), -1) for m in range(13)])[cell_month]
    have = index >= 0
    cell = np.where(have, index * groups + group, 0)
    out = np.where(have & ok[cell], values[cell], np.nan)
    bad = have & ~ok[cell] & ~blank[cell]
    what = "customer count (고객호수)" if measure == "customers" else "bill (전기요금)"
    header = np.array(names, dtype=object)[np.where(have, index, 0)]
    issues.add(bad, header, "unreadable_number",
               f"{raw.name}, row " + pd.Series(rows[bad]).astype(str) + f": the {what} is not a number. "
               "Write it in digits, '-' for none, or leave it empty.")
    return out


FORMAT = Format(
    name="kepco_public",
    title="KEPCO public file of usage by 시군구 × 계약종별 (one column per month)",
    fields=FIELDS,
    convert=convert,
    sink=AGGREGATE_SINK,
    description=__doc__.split("\n\n")[0],
)
