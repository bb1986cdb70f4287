"""The canonical tables of the store: names, columns, types, units and meanings.

This registry is the data contract. The store writes every table with the Arrow schema built here,
and ``data/README.md`` (the data dictionary) documents every table and column listed here (a test
checks that the two agree).

Time columns are naive local time, Asia/Seoul (KST, UTC+9, no daylight saving); a period is
half-open, ``[period_start, period_end)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

__all__ = ["Column", "Table", "TABLES", "table"]

_ARROW_TYPES = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us"),
}


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    dtype: str
    description: str
    unit: str | None = None
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    """A canonical table: a dimension (rewritten whole on change) or a fact table (append-only)."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    kind: str  # "dimension", "fact" or "derived" (written whole by `energy compute`, in data/derived/)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, _ARROW_TYPES[c.dtype], nullable=c.nullable) for c in self.columns]
        )

    def empty(self) -> pd.DataFrame:
        """An empty frame with this table's columns and types."""
        return self.arrow_schema().empty_table().to_pandas()

    def conform(self, frame: pd.DataFrame) -> pa.Table:
        """Order, complete and type ``frame`` as this table.

        Nullable columns missing from ``frame`` are added as nulls; extra columns are dropped.

        Raises
        ------
        ValueError
            If a non-nullable column is missing or holds nulls: a bug in the caller, not bad input
            (bad input is quarantined before it reaches the store).
        """
        arrays = []
        for column in self.columns:
            arrow_type = _ARROW_TYPES[column.dtype]
            if column.name not in frame.columns:
                if not column.nullable:
                    raise ValueError(f"table {self.name}: column {column.name!r} is missing")
                arrays.append(pa.nulls(len(frame), arrow_type))
                continue
            array = pa.array(frame[column.name], from_pandas=True)
            if array.type != arrow_type:
                array = array.cast(arrow_type)
            if not column.nullable and array.null_count:
                raise ValueError(
                    f"table {self.name}: column {column.name!r} has {array.null_count} null value(s)"
                )
            arrays.append(array)
        return pa.Table.from_arrays(arrays, schema=self.arrow_schema())


def _c(name: str, dtype: str, description: str, unit: str | None = None, nullable: bool = False) -> Column:
    return Column(name, dtype, description, unit, nullable)


_PROVENANCE = (
    _c("source_file", "string", "Path of the file the row came from, as given to `energy ingest`."),
    _c("source_row", "int64", "Row of the source file (the header is row 1), or record number of a JSON file."),
    _c("ingested_at", "timestamp", "When the row was stored (UTC)."),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "wards",
            "The 96 administrative dongs (행정동) of Gwangju's 5 gu: the unit of every ward report.",
            ("ward_code",),
            (
                _c("ward_code", "string", "10-digit MOIS administrative code of the dong as of 2026-04-01 (the stable key)."),
                _c("gu_code", "string", "5-digit code of the gu (first five digits of ward_code)."),
                _c("gu_name_ko", "string", "Name of the gu in Korean."),
                _c("gu_name_en", "string", "Name of the gu in English."),
                _c("dong_name_ko", "string", "Name of the dong in Korean."),
                _c("dong_name_en", "string", "Name of the dong in English (Revised Romanization)."),
                _c("lat", "float64", "Latitude of the dong's representative point (WGS84).", "°"),
                _c("lon", "float64", "Longitude of the dong's representative point (WGS84).", "°"),
                _c("point_source", "string", "Where the representative point comes from."),
                _c("code_2026_07", "string", "The dong's code after the 2026-07 sido prefix change (configured; see `confirmed` in ward_codes).", nullable=True),
            ),
            "dimension",
        ),
        Table(
            "ward_codes",
            "Crosswalk from every known code (old, current, renumbered; dong or gu level) to the current ward.",
            ("code",),
            (
                _c("code", "string", "A code as it may appear in data: 10 digits (dong) or 5 digits (gu)."),
                _c("level", "string", "`dong` or `gu`."),
                _c("ward_code", "string", "Current ward the code maps to (null for gu-level codes).", nullable=True),
                _c("gu_code", "string", "Current gu the code maps to (the 2026-04-01 gu code)."),
                _c("valid_from", "timestamp", "First day the code is in use, where known.", nullable=True),
                _c("valid_to", "timestamp", "First day the code is no longer in use (null: still valid).", nullable=True),
                _c("event", "string", "`current`, `merged` (dong merged into ward_code) or `sido_change` (2026-07 renumbering)."),
                _c("confirmed", "bool", "False where the mapping is reported but not confirmed against the MOIS table."),
                _c("source", "string", "Where the mapping comes from."),
            ),
            "dimension",
        ),
        Table(
            "legal_dongs",
            "Legal dongs (법정동) and the administrative dongs that cover them: many-to-many, one row per pair.",
            ("legal_code", "ward_code"),
            (
                _c("legal_code", "string", "10-digit legal dong code (sigunguCd + bjdongCd)."),
                _c("legal_name_ko", "string", "Name of the legal dong in Korean."),
                _c("gu_code", "string", "5-digit gu code (sigunguCd)."),
                _c("ward_code", "string", "An administrative dong that covers (part of) the legal dong."),
                _c("n_wards", "int64", "How many administrative dongs cover the legal dong (1: placement is exact)."),
                _c("source", "string", "MOIS code table edition."),
            ),
            "dimension",
        ),
        Table(
            "parcels",
            "Parcels (필지) with the administrative dong they lie in, from the city's GIS: places buildings of split legal dongs exactly.",
            ("legal_code", "bun", "ji"),
            (
                _c("legal_code", "string", "10-digit legal dong code."),
                _c("bun", "string", "Main lot number (본번), without leading zeros."),
                _c("ji", "string", "Sub lot number (부번), without leading zeros; `0` if none."),
                _c("ward_code", "string", "Administrative dong the parcel lies in."),
                _c("source_file", "string", "File the parcel came from."),
            ),
            "dimension",
        ),
        Table(
            "sites",
            "Metered places: a household, a building, a complex. Pseudonymous.",
            ("site_id",),
            (
                _c("site_id", "string", "Pseudonymous id (keyed HMAC-SHA256 of the register key or of the meter's customer number)."),
                _c("ward_code", "string", "Current ward of the site."),
                _c("building_type", "string", "`apartment`, `detached`, `commercial`, `public`, `education`, `industrial` or `unknown`."),
                _c("households", "int64", "Households living at the site (1 for a household; null where not known or not residential).", nullable=True),
                _c("floor_area_m2", "float64", "Floor area.", "m²", nullable=True),
                _c("name", "string", "Public name of a non-household site (e.g. an industrial complex); never set for households.", nullable=True),
                _c("placement", "string", "How the ward was found: `reported` (a ward code in the data), `legal_single` (legal dong covered by one ward), `parcel` (parcel table), `allocated` (documented rule; see data/README.md)."),
                _c("placement_note", "string", "For `allocated`: the candidate wards and the rule used.", nullable=True),
                _c("origin", "string", "`register` (from a site register) or `implicit` (created from a bill or export that named a customer not in any register)."),
                _c("series_public", "bool", "The site's own interval series may be shown by name (live monitor): a public body, or the site's recorded consent. False unless a site register says so; every other site appears only in aggregates that pass the publishing rule."),
                _c("series_public_source", "string", "Where that decision is recorded (e.g. `공공기관 (public body)` or a consent letter's reference); empty when `series_public` is false.", nullable=True),
                _c("source_file", "string", "File that last defined the site."),
            ),
            "dimension",
        ),
        Table(
            "meters",
            "Meters and utility accounts: one per site, carrier and provider. Pseudonymous.",
            ("meter_id",),
            (
                _c("meter_id", "string", "Pseudonymous id: keyed HMAC-SHA256 of provider, carrier and customer number (the number itself is never stored)."),
                _c("site_id", "string", "Site the meter belongs to."),
                _c("carrier", "string", "`electricity`, `gas`, `heat` or `water`."),
                _c("provider", "string", "Utility that supplies the data (`kepco`, `gas`, `water`, `heat`, or a building-energy or AMI source)."),
                _c("source_file", "string", "File that last defined the meter."),
            ),
            "dimension",
        ),
        Table(
            "readings",
            "Metered consumption: one row per meter and period. Append-only.",
            ("meter_id", "period_start"),
            (
                _c("meter_id", "string", "Meter (see meters)."),
                _c("carrier", "string", "Carrier of the meter (repeated here for fast filtering)."),
                _c("period_start", "timestamp", "Start of the period (inclusive), KST."),
                _c("period_end", "timestamp", "End of the period (exclusive), KST. A bill read on the 14th ends on the 15th 00:00."),
                _c("value", "float64", "Consumption in the provider's unit (`unit`)."),
                _c("unit", "string", "The provider's unit (kWh, MWh, m³, MJ, Gcal, TJ, …)."),
                _c("value_canonical", "float64", "Consumption in the carrier's canonical unit: kWh (electricity, heat) or m³ (gas, water).", "kWh or m³"),
                _c("canonical_unit", "string", "`kWh` or `m³`."),
                _c("energy_kwh", "float64", "Energy content (gas at 42.7 MJ/m³ gross); null for water.", "kWh", nullable=True),
                _c("resolution", "string", "`billing` (a bill between read dates), `monthly` (a calendar month), `daily`, `hourly` or `15min`."),
                _c("quality", "string", "`actual` (read) or `estimated` (the utility estimated it)."),
                _c("outlier", "bool", "True where the value is above the configured outlier limit (kept, flagged, never dropped)."),
                *_PROVENANCE,
            ),
            "fact",
        ),
        Table(
            "weather",
            "Daily weather at a station (Gwangju ASOS 156).",
            ("station", "date"),
            (
                _c("station", "string", "Station number (KMA ASOS; Gwangju is 156)."),
                _c("date", "timestamp", "Day (00:00 KST)."),
                _c("temp_mean_c", "float64", "Daily mean air temperature.", "°C"),
                _c("temp_min_c", "float64", "Daily minimum air temperature.", "°C", nullable=True),
                _c("temp_max_c", "float64", "Daily maximum air temperature.", "°C", nullable=True),
                *_PROVENANCE,
            ),
            "fact",
        ),
        Table(
            "programmes",
            "Government-supported energy programmes.",
            ("programme_id",),
            (
                _c("programme_id", "string", "Short id, e.g. `balcony_pv`."),
                _c("name_ko", "string", "Name in Korean."),
                _c("name_en", "string", "Name in English."),
                _c("carrier", "string", "Carrier the programme targets (null: several).", nullable=True),
                _c("starts_on", "timestamp", "Day the programme opened."),
                _c("cost_won_per_participant", "float64", "Public cost per participant, where known.", "won", nullable=True),
                _c("description", "string", "What the programme does.", nullable=True),
                _c("source_file", "string", "File that defined the programme."),
            ),
            "dimension",
        ),
        Table(
            "participation",
            "Which site joined which programme, and when.",
            ("programme_id", "site_id"),
            (
                _c("programme_id", "string", "Programme (see programmes)."),
                _c("site_id", "string", "Participating site."),
                _c("enrolled_on", "timestamp", "Day the measure took effect at the site (installation, retrofit completion)."),
                *_PROVENANCE,
            ),
            "fact",
        ),
        Table(
            "generation",
            "Renewable (PV) generation per site and period.",
            ("site_id", "period_start"),
            (
                _c("site_id", "string", "Generating site."),
                _c("period_start", "timestamp", "Start of the period (inclusive), KST."),
                _c("period_end", "timestamp", "End of the period (exclusive), KST."),
                _c("value_kwh", "float64", "Generation.", "kWh"),
                _c("quality", "string", "`actual` or `estimated`."),
                _c("outlier", "bool", "True where above the configured outlier limit."),
                *_PROVENANCE,
            ),
            "fact",
        ),
        Table(
            "utility_aggregates",
            "What utilities publish already aggregated, e.g. KEPCO's usage by gu × contract type × month.",
            ("provider", "region_code", "category", "period_start"),
            (
                _c("provider", "string", "`kepco`, `kdhc`, …"),
                _c("carrier", "string", "`electricity`, `gas`, `heat` or `water`."),
                _c("region_level", "string", "`gu`, `sido` or `branch`."),
                _c("region_code", "string", "Current gu code (5 digits) for gu level; sido code `29` or a branch name otherwise."),
                _c("category", "string", "Contract type (`residential`, `general`, `education`, `industrial`, `agricultural`, `streetlight`, `night`) or `all`."),
                _c("category_ko", "string", "The provider's own name of the category (계약종별)."),
                _c("period_start", "timestamp", "First day of the month."),
                _c("customers", "int64", "Customers in the cell.", nullable=True),
                _c("value", "float64", "Consumption in the provider's unit."),
                _c("unit", "string", "The provider's unit."),
                _c("value_canonical", "float64", "Consumption in the carrier's canonical unit.", "kWh or m³"),
                _c("bill_won", "float64", "Total billed.", "won", nullable=True),
                *_PROVENANCE,
            ),
            "fact",
        ),
        Table(
            "quarantine",
            "Input rows that were not stored: where (file, row, column), why, whose (pseudonym) and a masked excerpt. Nothing is lost; no customer number is kept.",
            ("source_file", "source_row", "column"),
            (
                _c("source_file", "string", "File the row came from."),
                _c("source_row", "int64", "Row of the file (header is row 1)."),
                _c("adapter", "string", "Import format that read the file."),
                _c("column", "string", "Column at fault, as named in the file (null if the row as a whole).", nullable=True),
                _c("reason", "string", "Short reason code, e.g. `negative_value`, `unknown_ward_code`, `duplicate_row`."),
                _c("message", "string", "What is wrong and what to do."),
                _c("pseudonym", "string", "Pseudonymous meter or site id of the record (as `meters.meter_id`, `sites.site_id`); never the customer number. Null when the record has none.", nullable=True),
                _c("raw", "string", "A masked excerpt, as JSON: the field at fault (column → text, cut to 100 characters; a customer number, register key or address is masked), `{}` for a record as a whole, or the line of a row that could not be split (`_line`, digit runs masked)."),
                _c("ingested_at", "timestamp", "When the row was quarantined (UTC)."),
            ),
            "fact",
        ),
        Table(
            "ingest_log",
            "Every file content offered to `energy ingest` (one line per sha256), and what became of its rows.",
            ("sha256",),
            (
                _c("source_file", "string", "Path of the file, as given."),
                _c("sha256", "string", "SHA-256 of the file's bytes: the same content is never ingested twice."),
                _c("adapter", "string", "Import format used."),
                _c("encoding", "string", "Detected text encoding (`utf-8`, `utf-8-sig`, `cp949`, `utf-16`), or `xlsx`/`json`.", nullable=True),
                _c("rows_in", "int64", "Records in the file, empty records included (blank lines at the end of a file not counted)."),
                _c("rows_stored", "int64", "Rows stored in a canonical table."),
                _c("rows_quarantined", "int64", "Rows sent to quarantine. rows_in = rows_stored + rows_quarantined."),
                _c("status", "string", "`stored` or `rejected` (the file as a whole could not be read)."),
                _c("message", "string", "Summary, or why the file was rejected.", nullable=True),
                _c("ingested_at", "timestamp", "When (UTC)."),
            ),
            # one line per content (sha256): a rejection is replaced by the content's next outcome,
            # so the table is rewritten, not only appended to
            "dimension",
        ),
        Table(
            "baselines",
            "One fitted baseline per analysis, meter and method: model, balance points, fit metrics, data sufficiency.",
            ("analysis", "meter_id", "method"),
            (
                _c("analysis", "string", "`annual` (the reporting year against the year before) or `programme:<programme_id>` (the year after enrolment against the year before)."),
                _c("meter_id", "string", "Meter (see meters)."),
                _c("carrier", "string", "Carrier of the meter."),
                _c("method", "string", "`caltrack_billing`, `caltrack_daily` or `towt` (hourly)."),
                _c("baseline_start", "timestamp", "First day of the baseline window."),
                _c("baseline_end", "timestamp", "End of the baseline window (exclusive): the reporting period or the intervention starts here."),
                _c("status", "string", "`qualified` (a model to use), `disqualified` (no candidate model met CalTRACK's rules, or too little data), `no_data` or `error`."),
                _c("model_type", "string", "`intercept_only`, `hdd_only`, `cdd_only`, `hdd_cdd` or `towt`.", nullable=True),
                _c("heating_balance_point_c", "float64", "Heating balance point.", "°C", nullable=True),
                _c("cooling_balance_point_c", "float64", "Cooling balance point.", "°C", nullable=True),
                _c("intercept", "float64", "Base use per day, in the meter's unit (`unit`).", "unit/day", nullable=True),
                _c("beta_hdd", "float64", "Use per heating degree day.", "unit/°C·day", nullable=True),
                _c("beta_cdd", "float64", "Use per cooling degree day.", "unit/°C·day", nullable=True),
                _c("n_periods", "int64", "Baseline periods (bills, days or hours) with use and temperature."),
                _c("r_squared_adj", "float64", "Adjusted R² of the selected model.", nullable=True),
                _c("cvrmse_adj", "float64", "Adjusted CV(RMSE) of the period totals (ASHRAE Guideline 14).", "fraction", nullable=True),
                _c("nmbe", "float64", "Normalised mean bias error of the period totals.", "fraction", nullable=True),
                _c("fsu_base_term", "float64", "Guideline 14 fractional savings uncertainty term at 90% (before the reporting period is known).", nullable=True),
                _c("meets_guideline_14", "bool", "CV(RMSE) and NMBE within Guideline 14's limits for the data frequency (config/savings.toml)."),
                _c("sufficiency", "string", "`pass` or `fail`: CalTRACK data sufficiency of the baseline window (reported, not applied)."),
                _c("valid_days", "float64", "Days of the window with use and temperature (hours / 24 for hourly data).", "days"),
                _c("warnings", "string", "Qualified names of the sufficiency and model warnings, `;`-separated (empty: none); one row each in the `warnings` table."),
                _c("unit", "string", "The meter's canonical unit (`kWh` or `m³`)."),
            ),
            "derived",
        ),
        Table(
            "warnings",
            "One row per warning of a baseline: data sufficiency and model warnings, by code and severity.",
            ("analysis", "meter_id", "method", "code"),
            (
                _c("analysis", "string", "See baselines."),
                _c("meter_id", "string", "The warning's subject: the meter (see meters)."),
                _c("method", "string", "See baselines."),
                _c("code", "string", "What happened: a code of `energy_lib.core.status.WarningCode` (`no_data`, `too_many_days_with_missing_data`, `extreme_values_detected`, `missing_months`, …)."),
                _c("severity", "string", "`error` (the baseline fails data sufficiency), `warning` (it stands, but look) or `info`."),
                _c("message", "string", "What the code means."),
            ),
            "derived",
        ),
        Table(
            "savings",
            "Savings of one meter in one analysis: counterfactual, metered use, avoided use with 90% bands, normalised annual savings, in four units.",
            ("analysis", "meter_id", "method"),
            (
                _c("analysis", "string", "See baselines."),
                _c("meter_id", "string", "Meter (see meters)."),
                _c("method", "string", "See baselines."),
                _c("primary", "bool", "The method used for this meter in aggregates (TOWT for interval meters, CalTRACK otherwise)."),
                _c("site_id", "string", "Site of the meter."),
                _c("carrier", "string", "Carrier of the meter."),
                _c("ward_code", "string", "Ward of the site."),
                _c("gu_code", "string", "Gu of the site."),
                _c("building_type", "string", "Building type of the site."),
                _c("reporting_start", "timestamp", "First day of the reporting window."),
                _c("reporting_end", "timestamp", "End of the reporting window (exclusive)."),
                _c("n_reporting_periods", "int64", "Reporting periods with both a reading and a prediction."),
                _c("counterfactual", "float64", "What the baseline model predicts for the reporting periods' weather.", "unit", nullable=True),
                _c("observed", "float64", "Metered use over the same periods.", "unit", nullable=True),
                _c("savings", "float64", "Avoided use: counterfactual − observed (positive: a saving).", "unit", nullable=True),
                _c("fsu_band", "float64", "± half-width of the 90% band of `savings` (Guideline 14 fractional savings uncertainty).", "unit", nullable=True),
                _c("ols_band", "float64", "± half-width of the 90% OLS prediction band of `savings`.", "unit", nullable=True),
                _c("floor_band", "float64", "± the narrowest 90% band the model and the metering allow: the Guideline 14 band with the residual error at least the floor of config/savings.toml (`[band_floor]`).", "unit", nullable=True),
                _c("band", "float64", "± half-width of the 90% band of `savings` shown for the meter: the larger of `fsu_band` and `floor_band`, widened by the placebo calibration (see band_calibration).", "unit", nullable=True),
                _c("se", "float64", "Standard error of `savings` as it adds up in sums: the floored band / 1.645, rescaled for the meter's size, times the placebo sums' scale (see band_calibration).", "unit", nullable=True),
                _c("se_common", "float64", "The part of `se` shared by every meter of the carrier and method (weather, year): sums add it linearly, the rest in quadrature.", "unit", nullable=True),
                _c("se_ward", "float64", "The part of `se` shared by the meters of the ward (added linearly within a ward).", "unit", nullable=True),
                _c("se_gu", "float64", "The part of `se` shared by the meters of the gu (added linearly within a gu).", "unit", nullable=True),
                _c("sufficiency", "string", "`pass` or `fail`: CalTRACK data sufficiency of the meter's baseline (see baselines)."),
                _c("programme_in_baseline", "bool", "Annual analysis: the meter's programme (of its carrier) began during the baseline year, so its annual savings are left out of the sums."),
                _c("in_totals", "bool", "Summed in savings_by_group and the open data: primary method, savings and a band, sufficiency `pass`, not `programme_in_baseline`."),
                _c("normal_baseline", "float64", "Baseline model's use in a typical weather year.", "unit/year", nullable=True),
                _c("normal_reporting", "float64", "Reporting-period model's use in a typical weather year.", "unit/year", nullable=True),
                _c("normal_savings", "float64", "Normalised annual savings: normal_baseline − normal_reporting.", "unit/year", nullable=True),
                _c("normal_band", "float64", "± half-width of the 90% band of `normal_savings` (the two models' prediction noise, placebo-calibrated).", "unit/year", nullable=True),
                _c("unit", "string", "Canonical unit of the figures above (`kWh` or `m³`)."),
                _c("savings_kwh", "float64", "`savings` as energy.", "kWh", nullable=True),
                _c("savings_toe", "float64", "`savings` in tonnes of oil equivalent.", "toe", nullable=True),
                _c("savings_kgco2eq", "float64", "`savings` as greenhouse-gas emissions.", "kgCO2eq", nullable=True),
                _c("savings_won", "float64", "`savings` at the configured prices.", "won", nullable=True),
            ),
            "derived",
        ),
        Table(
            "savings_by_group",
            "Savings of the city, each gu, ward and building type, and each programme: sums of the meters `in_totals` (see savings) with portfolio uncertainty; meters left out are counted, by reason.",
            ("analysis", "carrier", "level", "group"),
            (
                _c("analysis", "string", "See baselines."),
                _c("carrier", "string", "Carrier."),
                _c("level", "string", "`city`, `gu`, `ward` or `building_type`."),
                _c("group", "string", "`29` (Gwangju) for the city, the gu code, the ward code or the building type."),
                _c("meters", "int64", "Meters with a qualified baseline and a band, summed here."),
                _c("meters_without_baseline", "int64", "Meters of the group left out (no qualified baseline or no reporting data)."),
                _c("meters_insufficient", "int64", "Meters of the group with savings and a band but left out: their baseline fails CalTRACK data sufficiency."),
                _c("meters_programme_in_baseline", "int64", "Annual analysis: meters of the group left out because their programme began during the baseline year."),
                _c("counterfactual", "float64", "Sum of the meters' counterfactuals.", "unit"),
                _c("observed", "float64", "Sum of the meters' metered use.", "unit"),
                _c("savings", "float64", "Sum of the meters' savings.", "unit"),
                _c("band", "float64", "± half-width of the 90% band: 1.645 × √(Σ(se² − se_common² − se_ward² − se_gu²) + (Σ se_common)² + Σ over wards (Σ se_ward)² + Σ over gu (Σ se_gu)²) over the meters summed (errors calibrated on placebo sums).", "unit"),
                _c("fsu", "float64", "band / |savings|.", "fraction", nullable=True),
                _c("savings_fraction", "float64", "savings / counterfactual.", "fraction", nullable=True),
                _c("normal_savings", "float64", "Sum of the meters' normalised annual savings.", "unit/year", nullable=True),
                _c("normal_band", "float64", "± half-width of its 90% band (quadrature).", "unit/year", nullable=True),
                _c("unit", "string", "Canonical unit (`kWh` or `m³`)."),
                _c("savings_kwh", "float64", "`savings` as energy.", "kWh", nullable=True),
                _c("savings_toe", "float64", "`savings` in tonnes of oil equivalent.", "toe", nullable=True),
                _c("savings_kgco2eq", "float64", "`savings` as greenhouse-gas emissions.", "kgCO2eq", nullable=True),
                _c("savings_won", "float64", "`savings` at the configured prices.", "won", nullable=True),
                _c("band_kgco2eq", "float64", "`band` as emissions.", "kgCO2eq", nullable=True),
            ),
            "derived",
        ),
        Table(
            "band_calibration",
            "How much the stated savings bands are widened so that 90% of placebo meters (no programme) fall inside them.",
            ("carrier", "method", "quantity"),
            (
                _c("carrier", "string", "Carrier."),
                _c("method", "string", "See baselines."),
                _c("quantity", "string", "`savings` (avoided use; calibrates `fsu_band` into `band`) or `normal_savings`."),
                _c("meters", "int64", "Placebo meters: annual analysis, sites in no programme, with savings and a band."),
                _c("quantile", "float64", "90% quantile of |savings| / stated band over the placebo meters (1 or less: the stated band is honest)."),
                _c("factor", "float64", "Factor applied to the stated bands: the quantile, at least 1; 1 when there are too few placebo meters."),
                _c("calibrated", "bool", "Enough placebo meters (30 or more) to calibrate."),
                _c("sum_meters", "int64", "`savings` only: placebo meters passing data sufficiency, drawn into sums to calibrate the errors of sums.", nullable=True),
                _c("sums", "int64", "`savings` only: placebo sums used (disjoint sums of 1, 2, 4, … meters).", nullable=True),
                _c("sum_scale", "float64", "`savings` only: a meter's standard error in sums is sum_scale × floored band / 1.645 × its size factor (see sum_size_exponent).", nullable=True),
                _c("sum_correlation", "float64", "`savings` only: share of that variance common to every meter of the carrier and method.", "fraction", nullable=True),
                _c("sum_correlation_ward", "float64", "`savings` only: share of that variance common to the meters of a ward.", "fraction", nullable=True),
                _c("sum_correlation_gu", "float64", "`savings` only: share of that variance common to the meters of a gu.", "fraction", nullable=True),
                _c("sum_coverage_factor", "float64", "`savings` only: factor in sum_scale that makes 90% of placebo sums of two or more meters fall inside their bands (below 1: the variance alone over-covers).", nullable=True),
                _c("sum_size_exponent", "float64", "`savings` only: γ of a meter's error scale in sums, floored band / 1.645 × (relative band / sum_size_reference)^−γ, relative band = floored band / 1.645 / |counterfactual| (0: as stated; 1: in proportion to the counterfactual).", nullable=True),
                _c("sum_size_reference", "float64", "`savings` only: the geometric mean relative band of the placebo meters (see sum_size_exponent).", nullable=True),
            ),
            "derived",
        ),
        Table(
            "carbon_point",
            "The Carbon Point rule per meter and half-year: use against the same months of the two previous years, tier, points.",
            ("meter_id", "half_year"),
            (
                _c("meter_id", "string", "Meter (see meters)."),
                _c("carrier", "string", "Carrier of the meter."),
                _c("half_year", "string", "`2025H1` (January–June) or `2025H2` (July–December), by billing month."),
                _c("use", "float64", "Use in the six billing months.", "unit", nullable=True),
                _c("baseline", "float64", "Sum of the six months' baselines (each the mean of the same month in the previous two years, or one).", "unit", nullable=True),
                _c("reduction", "float64", "(baseline − use) / baseline.", "fraction", nullable=True),
                _c("tier", "int64", "0 (under 5%), 1 (5–10%), 2 (10–15%), 3 (15% or more); tiers from config/savings.toml."),
                _c("maintenance", "bool", "The maintenance bonus applies (0–5% after two paid half-years)."),
                _c("points", "float64", "Carbon Points earned.", "points"),
                _c("won", "float64", "Their value.", "won"),
                _c("status", "string", "`qualified` (six bills and six baselines) or `disqualified`."),
                _c("reason", "string", "Why disqualified: `…missing_bill` or `…no_baseline` (empty when qualified)."),
                _c("unit", "string", "Canonical unit (`kWh` or `m³`)."),
            ),
            "derived",
        ),
        Table(
            "programme_effects",
            "Each programme's effect on its participants' use per carrier: difference in differences against matched comparison meters (energy_lib.evaluation).",
            ("programme_id", "carrier"),
            (
                _c("programme_id", "string", "Programme (see programmes)."),
                _c("carrier", "string", "Carrier evaluated (the programme's, or each energy carrier when it names none)."),
                _c("enrolled", "int64", "Meters of this carrier at participating sites."),
                _c("matched_in_gu", "float64", "Share of participants whose controls came from the gu (too few candidates in their ward).", "fraction", nullable=True),
                _c("effect", "float64", "Average change of a participant's use per day after the transition months, against its matched controls (negative: use fell).", "unit/day", nullable=True),
                _c("se", "float64", "Standard error of `effect`, clustered by site.", "unit/day", nullable=True),
                _c("ci_low", "float64", "Lower end of the confidence interval of `effect` (level in config/evaluation.toml, 95% by default).", "unit/day", nullable=True),
                _c("ci_high", "float64", "Upper end of that interval.", "unit/day", nullable=True),
                _c("p_value", "float64", "Two-sided p-value of `effect` (t with clusters − 1 degrees of freedom).", nullable=True),
                _c("transition_effect", "float64", "Effect in the transition months (the bills read in the enrolment month and the next), left out of `effect`.", "unit/day", nullable=True),
                _c("participants", "int64", "Participants evaluated (matched, with enough months of use)."),
                _c("controls", "int64", "Distinct comparison meters used.", nullable=True),
                _c("clusters", "int64", "Sites (clusters of the standard errors).", nullable=True),
                _c("observations", "int64", "Meter-months in the regression.", nullable=True),
                _c("pretrend_p_value", "float64", "p-value of the joint test that every pre-enrolment event-study effect is zero (small: the groups' trends differed before enrolment).", nullable=True),
                _c("status", "string", "`estimated`, or `too_few` (fewer than two participants or three sites with enough data)."),
            ),
            "derived",
        ),
        Table(
            "programme_event_study",
            "Participants' use per day against their controls in each month around enrolment (the month before is the reference).",
            ("programme_id", "carrier", "event"),
            (
                _c("event", "int64", "Billing month relative to the enrolment month (0: the bill read in the enrolment month).", "months"),
                _c("effect", "float64", "Difference from the controls, relative to month −1.", "unit/day"),
                _c("se", "float64", "Its standard error, clustered by site.", "unit/day"),
                _c("ci_low", "float64", "Lower end of its confidence interval.", "unit/day"),
                _c("ci_high", "float64", "Upper end.", "unit/day"),
                _c("programme_id", "string", "Programme."),
                _c("carrier", "string", "Carrier."),
            ),
            "derived",
        ),
        Table(
            "programme_balance",
            "Balance of pre-enrolment covariates: participants against all candidates and against their matched controls.",
            ("programme_id", "carrier", "covariate"),
            (
                _c("carrier", "string", "Carrier."),
                _c("covariate", "string", "`use_per_day` (mean in the twelve months before enrolment), `level` (its log), `heating_ratio`, `cooling_ratio` (November–March and June–September use over the mean) or `floor_area_m2`."),
                _c("participants", "float64", "Participants' mean."),
                _c("candidates", "float64", "Mean of every candidate comparison meter of the same carrier, building type and gu.", nullable=True),
                _c("matched", "float64", "Matched controls' mean (weighted 1/k).", nullable=True),
                _c("smd_before", "float64", "Standardised mean difference, participants − candidates, over the pooled standard deviation.", nullable=True),
                _c("smd_after", "float64", "The same against the matched controls.", nullable=True),
                _c("balanced", "bool", "|smd_after| below the limit of config/evaluation.toml (0.1)."),
                _c("programme_id", "string", "Programme."),
            ),
            "derived",
        ),
        Table(
            "programme_savings",
            "Yearly savings of each programme and carrier, per participant and for all participants, in five units, with confidence intervals.",
            ("programme_id", "carrier", "scope", "unit"),
            (
                _c("programme_id", "string", "Programme."),
                _c("carrier", "string", "Carrier."),
                _c("scope", "string", "`per_participant` or `all_participants` (every enrolled meter of the carrier)."),
                _c("unit", "string", "`native` (kWh or m³), `kwh`, `toe`, `kgco2eq` or `won`."),
                _c("estimate", "float64", "Savings in a year (positive: use fell): −effect × 365.25 days, times the participants for `all_participants`.", "unit/year", nullable=True),
                _c("low", "float64", "Lower end of its confidence interval.", "unit/year", nullable=True),
                _c("high", "float64", "Upper end.", "unit/year", nullable=True),
                _c("participants", "int64", "Participants the row counts."),
            ),
            "derived",
        ),
        Table(
            "programme_cost",
            "Cost-effectiveness of each programme over all its carriers: public cost against yearly savings.",
            ("programme_id",),
            (
                _c("programme_id", "string", "Programme."),
                _c("public_cost_won", "float64", "Public cost: cost per participant × participating sites.", "won", nullable=True),
                _c("savings_won", "float64", "Yearly bill savings of all participants.", "won/year"),
                _c("savings_won_low", "float64", "Lower end of its interval (carriers in quadrature).", "won/year"),
                _c("savings_won_high", "float64", "Upper end.", "won/year"),
                _c("savings_toe", "float64", "Yearly energy savings.", "toe/year", nullable=True),
                _c("savings_toe_low", "float64", "Lower end.", "toe/year", nullable=True),
                _c("savings_toe_high", "float64", "Upper end.", "toe/year", nullable=True),
                _c("savings_kgco2eq", "float64", "Yearly emissions avoided.", "kgCO2eq/year", nullable=True),
                _c("savings_kgco2eq_low", "float64", "Lower end.", "kgCO2eq/year", nullable=True),
                _c("savings_kgco2eq_high", "float64", "Upper end.", "kgCO2eq/year", nullable=True),
                _c("payback_years", "float64", "Simple payback: public cost / yearly bill savings (infinite when savings are not positive).", "years", nullable=True),
                _c("payback_years_low", "float64", "From the upper end of the savings.", "years", nullable=True),
                _c("payback_years_high", "float64", "From the lower end of the savings.", "years", nullable=True),
                _c("won_per_toe", "float64", "Public cost per toe saved a year.", "won/(toe/year)", nullable=True),
                _c("won_per_toe_low", "float64", "From the upper end of the savings.", "won/(toe/year)", nullable=True),
                _c("won_per_toe_high", "float64", "From the lower end of the savings.", "won/(toe/year)", nullable=True),
                _c("won_per_tco2eq", "float64", "Public cost per tonne CO2eq avoided a year.", "won/(tCO2eq/year)", nullable=True),
                _c("won_per_tco2eq_low", "float64", "From the upper end of the savings.", "won/(tCO2eq/year)", nullable=True),
                _c("won_per_tco2eq_high", "float64", "From the lower end of the savings.", "won/(tCO2eq/year)", nullable=True),
            ),
            "derived",
        ),
        Table(
            "programme_prosumers",
            "PV programmes: participants' generation against the fall in their metered (grid) electricity, per participant and year.",
            ("programme_id",),
            (
                _c("programme_id", "string", "Programme."),
                _c("participants_with_generation", "int64", "Evaluated participants with generation data."),
                _c("generation", "float64", "Mean generation after enrolment.", "kWh/year"),
                _c("grid_use", "float64", "Mean metered electricity after enrolment.", "kWh/year"),
                _c("self_consumed", "float64", "Generation used at home: the fall in metered use (−effect × 365.25).", "kWh/year"),
                _c("self_consumed_low", "float64", "Lower end of its interval.", "kWh/year"),
                _c("self_consumed_high", "float64", "Upper end.", "kWh/year"),
                _c("exported", "float64", "generation − self_consumed.", "kWh/year"),
                _c("gross_use", "float64", "What the home used: grid_use + self_consumed.", "kWh/year"),
                _c("self_consumed_share", "float64", "self_consumed / generation.", "fraction"),
                _c("self_consumed_share_low", "float64", "Lower end.", "fraction"),
                _c("self_consumed_share_high", "float64", "Upper end.", "fraction"),
            ),
            "derived",
        ),
    )
}


def table(name: str) -> Table:
    """The canonical table called ``name``."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"no canonical table {name!r}; tables are {', '.join(TABLES)}") from None
