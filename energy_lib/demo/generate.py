"""Generating the demo city's export files and loading them through the importers.

``generate`` writes every source of the demo city into ``data/raw/demo`` (see :mod:`.exports` for
the shapes), ``truth/`` with the injected programme effects, and ``manifest.json``; ``load`` ingests
the manifest's files in order with the same adapters as real data. Deterministic: the same
settings give byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from energy_lib.demo import calibration, city, climate, usage
from energy_lib.demo.city import DemoSettings
from energy_lib.demo.climate import rng
from energy_lib.demo.exports import Manifest, dates, thousands, write_csv
from energy_lib.ingest.formats import Options
from energy_lib.ingest.pipeline import IngestReport, ingest_files
from energy_lib.store import Store

__all__ = ["generate", "load", "manifest_jobs", "MERGED_DONG", "OLD_CODES"]

MERGED_DONG = "2917053500"  # 중흥동: 2022–2023 data still carries 중흥2동/중흥3동 codes
OLD_CODES = ("2917052000", "2917053000")
RENUMBERED_FROM = pd.Timestamp("2026-07-01")  # KEPCO starts writing the 12xxx codes
MONTHLY_FILES_FROM = 100_000  # households: from here bills come as monthly files, below as yearly extracts


def _reported_codes(ward: np.ndarray, month: pd.Timestamp, households: np.ndarray, *, renumber: bool) -> np.ndarray:
    """Ward codes as a utility reports them in ``month``: old codes before the 2024 merger, the
    12-prefixed codes after 2026-07 (KEPCO only)."""
    codes = ward.astype(object).copy()
    if month < pd.Timestamp("2024-01-01"):
        merged = codes == MERGED_DONG
        codes[merged] = np.where(households[merged] % 2 == 0, OLD_CODES[0], OLD_CODES[1])
    if renumber and month >= RENUMBERED_FROM:
        from energy_lib.core import wards

        mapping = wards.wards().set_index("ward_code")["code_2026_07"]
        codes = pd.Series(codes).map(mapping).fillna(pd.Series(codes)).to_numpy(dtype=object)
    return codes


def _mess(frame: pd.DataFrame, settings: DemoSettings, stream: str, *, duplicate: float = 0.001,
          drop: float = 0.005) -> pd.DataFrame:
    """The real world's mess: a few rows missing (gaps), a few sent twice."""
    generator = rng(settings.seed, f"mess-{stream}")
    kept = frame[generator.random(len(frame)) >= drop]
    twice = kept[generator.random(len(kept)) < duplicate]
    return pd.concat([kept, twice]).sort_index(kind="stable").reset_index(drop=True)


def generate(settings: DemoSettings, out: Path, *, progress: Callable | None = None) -> Manifest:
    """Write the demo city's export files to ``out`` and return the manifest.

    Parameters
    ----------
    settings : DemoSettings
    out : path
        Directory for the files (created; files of an earlier run are overwritten).
    progress : callable, optional
        ``progress(step_name)`` is called as each step completes (for a progress bar).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tick = progress or (lambda name: None)
    manifest = Manifest(out)

    temperature = climate.daily_temperature(str(settings.weather_start.date()), str(settings.weather_end.date()), settings.seed)
    calendar = usage.Calendar.from_weather(temperature, settings)
    _weather(temperature, out, manifest)
    homes = calibration.calibrate_households(city.households(settings), calendar, settings)
    metered_sites = city.interval_sites()
    interval_loads = _interval_loads(metered_sites, temperature, settings)
    customers = calibration.building_customers(settings, calendar, _fixed_use(metered_sites, interval_loads, settings))
    others = city.buildings(settings, customers)
    complexes = city.heat_complexes(settings)
    _parcels(others, settings, out, manifest)
    _register(homes, metered_sites, out, manifest)
    _programmes(out, manifest)
    tick("city")

    truth: list[pd.DataFrame] = []
    totals: list[pd.DataFrame] = []
    bills = _BillFiles(out, manifest, monthly=settings.households >= MONTHLY_FILES_FROM)
    for month in settings.months:
        truth.append(_electricity(homes, calendar, settings, month, bills, totals))
        truth.append(_gas(homes, calendar, settings, month, bills))
        _water(homes, settings, month, bills)
        tick(f"bills {month:%Y-%m}")
    bills.flush()
    building_totals = _buildings(others, calendar, settings, out, manifest)
    _heat(complexes, calendar, settings, out, manifest)
    tick("buildings and heat")
    interval_totals = _interval(metered_sites, interval_loads, settings, out, manifest)
    tick("interval data")
    _pv(homes, calendar, settings, out, manifest)
    _participation(homes, out, manifest)
    _kepco(totals, building_totals, interval_totals, calibration.aggregate_series(settings, calendar), settings, out,
           manifest)
    _truth(homes, truth, settings, out)
    tick("aggregates and truth")
    manifest.save()
    return manifest


def load(store: Store, manifest_path: Path, *, workers: int = 1,
         progress: Callable[[IngestReport], None] | None = None) -> list[IngestReport]:
    """Ingest the files of a demo manifest, in order, with the importers (``workers`` processes
    read and check files at once; commits stay in the manifest's order)."""
    return ingest_files(store, manifest_jobs(manifest_path), workers=workers, progress=progress)


def manifest_jobs(manifest_path: Path) -> list[tuple[Path, Options]]:
    """The (file, import options) pairs of a manifest, in order."""
    manifest_path = Path(manifest_path)
    entries = json.loads(manifest_path.read_text("utf-8"))["files"]
    return [(manifest_path.parent / e["path"], Options(format=e["format"], **e["options"])) for e in entries]


def _weather(temperature: pd.DataFrame, out: Path, manifest: Manifest) -> None:
    frame = pd.DataFrame({
        "지점": "156", "지점명": "광주", "일시": dates(temperature["date"].to_numpy()),
        "평균기온(°C)": temperature["temp_mean_c"].map("{:.1f}".format),
        "최저기온(°C)": temperature["temp_min_c"].map("{:.1f}".format),
        "최고기온(°C)": temperature["temp_max_c"].map("{:.1f}".format),
        "일강수량(mm)": "",
    })
    frame.loc[frame["일시"] == "2023-07-14", "평균기온(°C)"] = ""  # a day the station missed
    first, last = temperature["date"].iloc[[0, -1]].dt.year
    path = write_csv(frame, out / "kma" / f"asos_156_daily_{first}-{last}.csv", "cp949")
    manifest.add(path, "weather")


def _parcels(others: pd.DataFrame, settings: DemoSettings, out: Path, manifest: Manifest) -> None:
    from energy_lib.core import wards

    links = wards.legal_dongs()
    split = others["legal_code"].isin(links.loc[links["n_wards"] > 1, "legal_code"]).to_numpy()
    known = split & (rng(settings.seed, "parcels").random(len(others)) < 0.7)
    rows = others[known]
    frame = pd.DataFrame({"법정동코드": rows["legal_code"], "번": rows["bun"].str.zfill(4),
                          "지": rows["ji"].str.zfill(4), "행정동코드": rows["true_ward"]})
    manifest.add(write_csv(frame, out / "city" / "parcel_wards.csv"), "parcels")


def _register(homes: pd.DataFrame, metered_sites: pd.DataFrame, out: Path, manifest: Manifest) -> None:
    members = homes[homes["member"]]
    households = pd.DataFrame({
        "관리번호": members["site_key"], "행정동코드": members["ward_code"],
        "건물유형": members["building_type"].map({"apartment": "아파트", "detached": "단독주택"}),
        "세대수": "1", "전용면적": members["floor_area_m2"].map("{:.1f}".format), "시설명": "",
        "전기고객번호": members["electricity_no"],
        "가스고객번호": np.where(members["has_gas"], members["gas_no"], ""),
        "수도고객번호": members["water_no"], "실시간공개": "", "공개근거": "",
    })
    facilities = pd.DataFrame({
        "관리번호": metered_sites["site_key"], "행정동코드": metered_sites["ward_code"],
        "건물유형": metered_sites["building_type"].map({"industrial": "산업", "public": "공공", "apartment": "아파트"}),
        "세대수": "", "전용면적": metered_sites["floor_area_m2"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}"),
        "시설명": metered_sites["name"], "전기고객번호": metered_sites["customer_no"], "가스고객번호": "",
        "수도고객번호": "", "실시간공개": metered_sites["series_public"].map({True: "예", False: "아니오"}),
        "공개근거": metered_sites["series_public_source"],
    })
    path = write_csv(pd.concat([households, facilities], ignore_index=True),
                     out / "city" / "carbon_point_register.csv", "utf-8-sig")
    manifest.add(path, "sites")


def _programmes(out: Path, manifest: Manifest) -> None:
    p = city.PROGRAMMES
    frame = pd.DataFrame({
        "사업코드": p["programme_id"], "사업명": p["name_ko"], "영문사업명": p["name_en"],
        "대상에너지": p["carrier"].map({"electricity": "전기", "gas": "도시가스"}).fillna(""),
        "시작일": p["starts_on"], "참여자당지원금": p["cost_won_per_participant"].map("{:,}".format),
        "설명": p["description"],
    })
    manifest.add(write_csv(frame, out / "city" / "programmes.csv"), "programmes")


def _columns(homes: pd.DataFrame, household: pd.Series | np.ndarray, *columns: str) -> pd.DataFrame:
    """Columns of the households at the given positions (``household`` is the row number)."""
    return homes[list(columns)].iloc[np.asarray(household)].reset_index(drop=True)


class _BillFiles:
    """Collects each utility's bills into one file per month (large cities) or per year."""

    def __init__(self, out: Path, manifest: Manifest, *, monthly: bool):
        self.out, self.manifest, self.monthly = out, manifest, monthly
        self.pending: dict[tuple[str, str], list[pd.DataFrame]] = {}
        self.specs: dict[tuple[str, str], tuple[Path, str, str]] = {}
        self.last: dict[str, pd.DataFrame] = {}

    def add(self, frame: pd.DataFrame, month: pd.Timestamp, carrier: str, folder: str, stem: str, encoding: str) -> None:
        period = f"{month:%Y%m}" if self.monthly else f"{month:%Y}"
        key = (carrier, period)
        if not self.monthly:
            for other in [k for k in self.pending if k[0] == carrier and k != key]:
                self._write(other)
        self.pending.setdefault(key, []).append(frame)
        self.specs[key] = (self.out / folder / f"{stem}_{period}.csv", encoding, carrier)
        self.last[carrier] = frame
        if self.monthly:
            self._write(key)

    def _write(self, key: tuple[str, str]) -> None:
        path, encoding, carrier = self.specs.pop(key)
        write_csv(pd.concat(self.pending.pop(key), ignore_index=True), path, encoding)
        self.manifest.add(path, "bills", carrier=carrier)

    def flush(self) -> None:
        for key in list(self.pending):
            self._write(key)


def _electricity(homes, calendar, settings, month, files, totals) -> pd.DataFrame:
    bills = usage.household_bills(homes, calendar, settings, month, "electricity")
    h = _columns(homes, bills["household"], "electricity_no", "ward_code", "gu_code", "building_type",
                 "site_key", "programme_id")
    generator = rng(settings.seed, f"kepco-file-{month:%Y%m}")
    value = np.rint(bills["actual"].to_numpy()).astype(np.int64)
    frame = pd.DataFrame({
        "고객번호": h["electricity_no"].to_numpy(),
        "행정동코드": _reported_codes(h["ward_code"].to_numpy(), month, bills["household"].to_numpy(), renumber=True),
        "청구년월": month.strftime("%Y%m"),
        "사용기간시작": dates(bills["period_start"].to_numpy()),
        "사용기간종료": dates(bills["period_end"].to_numpy() - np.timedelta64(1, "D")),
        "사용량": value.astype(str), "단위": "kWh",
        "검침구분": np.where(generator.random(len(bills)) < 0.02, "추정", "실측"),
        "계약종별": "주택용",
        "건물유형": h["building_type"].map({"apartment": "아파트", "detached": "단독주택"}).to_numpy(),
    })
    totals.append(pd.DataFrame({"gu_code": h["gu_code"].to_numpy(), "month": month, "kwh": value}))
    frame = _mess(frame, settings, f"electricity-{month:%Y%m}")
    if month == pd.Timestamp("2023-05-01"):
        frame.loc[3, "사용량"] = "-" + frame.loc[3, "사용량"]
    if month == pd.Timestamp("2024-09-01"):
        twin = frame.iloc[[5]].copy()
        twin["사용량"] = str(int(twin["사용량"].iloc[0]) + 17)
        frame = pd.concat([frame, twin], ignore_index=True)
    if month == pd.Timestamp("2025-01-01"):
        frame.loc[7, "사용량"] = str(int(frame.loc[7, "사용량"]) * 40)  # stored, flagged as an outlier
    if month.month == 1 and "electricity" in files.last:  # December's first rows are sent again
        frame = pd.concat([files.last["electricity"].head(max(1, len(frame) // 300)), frame], ignore_index=True)
    files.add(frame, month, "electricity", "kepco", "household_bills", "utf-8")
    return _truth_rows(bills, h, month, "electricity")


def _gas(homes, calendar, settings, month, files) -> pd.DataFrame:
    bills = usage.household_bills(homes, calendar, settings, month, "gas")
    h = _columns(homes, bills["household"], "gas_no", "ward_code", "site_key", "programme_id")
    generator = rng(settings.seed, f"gas-file-{month:%Y%m}")
    from energy_lib.core import units

    mj_per_m3 = units.factor("energy_content.gas_mj_per_m3").value
    frame = pd.DataFrame({
        "고객번호": h["gas_no"].to_numpy(),
        "행정동코드": _reported_codes(h["ward_code"].to_numpy(), month, bills["household"].to_numpy(), renumber=False),
        "청구년월": month.strftime("%Y.%m"),
        "검침시작일": dates(bills["period_start"].to_numpy(), "."),
        "검침일": dates(bills["period_end"].to_numpy() - np.timedelta64(1, "D"), "."),
        "사용량(MJ)": thousands(np.rint(bills["actual"].to_numpy() * mj_per_m3)),
        "검침구분": np.where(generator.random(len(bills)) < 0.02, "추정", "실측"),
        "용도": "가정용",
    })
    frame = _mess(frame, settings, f"gas-{month:%Y%m}")
    if month == pd.Timestamp("2024-02-01"):
        frame.loc[11, "행정동코드"] = "2911099999"
    if month == pd.Timestamp("2022-12-01"):
        frame.loc[2, "사용량(MJ)"] = "1,2O5"
    files.add(frame, month, "gas", "gas", "gas_bills", "cp949")
    return _truth_rows(bills, h, month, "gas")


def _water(homes, settings, month, files) -> None:
    bills = usage.water_bills(homes, settings, month)
    h = _columns(homes, bills["household"], "water_no", "ward_code")
    generator = rng(settings.seed, f"water-file-{month:%Y%m}")
    frame = pd.DataFrame({
        "수용가번호": h["water_no"].to_numpy(),
        "행정동코드": _reported_codes(h["ward_code"].to_numpy(), month, bills["household"].to_numpy(), renumber=False),
        "청구년월": f"{month.year}년 {month.month}월",
        "사용량": np.rint(bills["actual"].to_numpy()).astype(np.int64).astype(str), "단위": "㎥",
        "검침구분": np.where(generator.random(len(bills)) < 0.01, "인정", "정상"), "업종": "가정용",
    })
    frame = _mess(frame, settings, f"water-{month:%Y%m}")
    if month == pd.Timestamp("2022-08-01"):
        frame.loc[4, "청구년월"] = "2062년 8월"
    if month == pd.Timestamp("2025-03-01"):
        frame.loc[9, "사용량"] = ""
    files.add(frame, month, "water", "water", "water_bills", "utf-8-sig")


def _truth_rows(bills: pd.DataFrame, h: pd.DataFrame, month: pd.Timestamp, carrier: str) -> pd.DataFrame:
    treated = h["programme_id"].notna().to_numpy()
    return pd.DataFrame({
        "site_key": h["site_key"].to_numpy()[treated], "programme_id": h["programme_id"].to_numpy()[treated],
        "carrier": carrier, "account": h[f"{carrier}_no"].to_numpy()[treated], "billing_month": month,
        "period_start": bills["period_start"].to_numpy()[treated], "period_end": bills["period_end"].to_numpy()[treated],
        "counterfactual": bills["counterfactual"].to_numpy()[treated], "actual": bills["actual"].to_numpy()[treated],
    })


def _buildings(others, calendar, settings, out, manifest) -> pd.DataFrame:
    totals = []
    area_text = others["floor_area_m2"].map("{:.0f}".format)  # formatted once, not once per month
    for year, months in pd.Series(settings.months).groupby(settings.months.year):
        for carrier, unit, label in (("electricity", "kWh", "elec"), ("gas", "m³", "gas")):
            parts = []
            for month in months:
                use = usage.building_use(others, calendar, settings, month, carrier)
                keep = use > 0
                b = others[keep]
                parts.append(pd.DataFrame({
                    "sigunguCd": b["legal_code"].str[:5], "bjdongCd": b["legal_code"].str[5:],
                    "platGbCd": b["plat"], "bun": b["bun"].str.zfill(4), "ji": b["ji"].str.zfill(4),
                    "useYm": month.strftime("%Y%m"), "useQty": np.round(use[keep]).astype(np.int64).astype(str),
                    "mainPurpsCdNm": b["use_name"], "totArea": area_text[keep],
                }))
                if carrier == "electricity":
                    totals.append(pd.DataFrame({"gu_code": b["true_ward"].str[:5].to_numpy(), "month": month,
                                                "building_type": b["building_type"].to_numpy(),
                                                "site": b["building"].astype(str).to_numpy(), "kwh": use[keep]}))
            frame = pd.concat(parts, ignore_index=True)
            if carrier == "electricity" and year == 2024:
                frame.loc[1, "bjdongCd"] = "99999"  # a typo in the legal dong code
            path = write_csv(frame, out / "molit" / f"building_energy_{label}_{year}.csv", "cp949")
            manifest.add(path, "building", carrier=carrier, unit=unit)
    return pd.concat(totals, ignore_index=True)


def _heat(complexes, calendar, settings, out, manifest) -> None:
    branch = []
    for year, months in pd.Series(settings.months).groupby(settings.months.year):
        parts = []
        for month in months:
            kwh = usage.complex_heat(complexes, calendar, settings, month)
            unit, value = ("Gcal", kwh / 1163.0) if year <= 2024 else ("MJ", kwh * 3.6)
            parts.append(pd.DataFrame({
                "단지코드": complexes["complex_no"], "단지명": complexes["name"], "행정동코드": complexes["ward_code"],
                "세대수": complexes["households"].astype(str), "basYm": month.strftime("%Y%m"),
                "engUse": np.round(value, 1).astype(str), "engUseUnit": unit,
            }))
            branch.append({"basYm": month.strftime("%Y%m"), "brNm": "광주전남지사",
                           "engUseTj": f"{kwh.sum() * 14 / 277_777.78:.2f}", "engUseUnit": "TJ"})
        manifest.add(write_csv(pd.concat(parts, ignore_index=True), out / "kdhc" / f"complex_heat_{year}.csv"), "heat")
    manifest.add(write_csv(pd.DataFrame(branch), out / "kdhc" / "branch_heat_sold.csv"), "kdhc")


def _interval_loads(sites: pd.DataFrame, temperature: pd.DataFrame, settings: DemoSettings) -> dict[str, pd.DataFrame]:
    """Each interval-metered site's load [kWh per interval] over the demo's span, by site key."""
    hourly = climate.hourly_temperature(temperature[temperature["date"] >= pd.Timestamp(settings.first_month)])
    return {site.site_key: usage.interval_load(pd.Series(site._asdict()), hourly, settings)
            for site in sites.itertuples(index=False)}  # seven sites, each vectorised over its intervals


def _fixed_use(sites: pd.DataFrame, loads: dict[str, pd.DataFrame], settings: DemoSettings) -> pd.DataFrame:
    """The interval-metered sites' use in the calibration year per gu and contract type [kWh]:
    they do not scale with the demo, so the buildings' targets leave room for them."""
    months = calibration.calibration_months(settings)
    first, end = months[0], months[-1] + pd.offsets.MonthBegin(1)
    kwh = [loads[key].loc[(loads[key]["timestamp"] >= first) & (loads[key]["timestamp"] < end), "kwh"].sum()
           for key in sites["site_key"]]
    return pd.DataFrame({"gu_code": sites["ward_code"].str[:5].to_numpy(),
                         "contract": sites["building_type"].map(calibration.CONTRACT_OF_SITE).to_numpy(), "kwh": kwh})


def _interval(sites, loads, settings, out, manifest) -> pd.DataFrame:
    totals = []
    for site in sites.itertuples(index=False):  # seven sites, each vectorised over its intervals
        site = pd.Series(site._asdict())
        load = loads[site["site_key"]]
        generator = rng(settings.seed, f"ami-file-{site['site_key']}")
        totals.append(pd.DataFrame({"gu_code": site["ward_code"][:5], "month": load["timestamp"].dt.to_period("M").dt.start_time,
                                    "building_type": site["building_type"], "site": site["site_key"], "kwh": load["kwh"]}))
        stem = out / "ami" / f"{site['site_key'].lower()}_{settings.first_month}_{settings.last_month}.csv"
        if site["shape"] == "wide":
            day = load["timestamp"].dt.normalize()
            table = load.assign(day=day, hour=load["timestamp"].dt.hour + 1).pivot(index="day", columns="hour", values="kwh")
            cells = pd.DataFrame(np.char.mod("%.1f", table.to_numpy()), index=table.index, columns=table.columns)
            cells = cells.mask(generator.random(cells.shape) < 0.0005, "")
            frame = pd.concat([pd.DataFrame({"고객번호": site["customer_no"], "날짜": dates(table.index.to_numpy())}),
                               cells.reset_index(drop=True).rename(columns=lambda h: f"{h}시")], axis=1)
            manifest.add(write_csv(frame, stem), "interval_wide")
        else:
            iso = site["building_type"] == "apartment"
            stamps = load["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S+09:00" if iso else "%Y-%m-%d %H:%M")
            frame = pd.DataFrame({"고객번호": site["customer_no"], "일시": stamps.to_numpy(),
                                  "사용량(kWh)": np.char.mod("%.2f", load["kwh"].to_numpy())})
            if site["site_key"] == "AMI-004":
                frame = pd.concat([frame, frame.iloc[24 * 400: 24 * 401]], ignore_index=True)  # a day sent twice
            manifest.add(write_csv(frame, stem), "interval")
    return pd.concat(totals, ignore_index=True)


def _pv(homes, calendar, settings, out, manifest) -> None:
    for year, months in pd.Series(settings.months).groupby(settings.months.year):
        parts = []
        for month in months:
            generation = usage.pv_generation(homes, calendar, settings, month)
            h = _columns(homes, generation["household"], "electricity_no")
            parts.append(pd.DataFrame({"고객번호": h["electricity_no"].to_numpy(), "발전년월": month.strftime("%Y-%m"),
                                       "발전량": np.round(generation["generation"].to_numpy(), 1).astype(str),
                                       "단위": "kWh"}))
        manifest.add(write_csv(pd.concat(parts, ignore_index=True), out / "pv" / f"pv_generation_{year}.csv"), "pv")


def _participation(homes, out, manifest) -> None:
    joined = homes[homes["programme_id"].notna()]
    by_key = joined[joined["programme_id"] != "balcony_pv"]
    frame = pd.DataFrame({"사업코드": by_key["programme_id"], "관리번호": by_key["site_key"],
                          "적용일": dates(by_key["enrolled_on"].to_numpy())})
    manifest.add(write_csv(frame, out / "city" / "programme_participants.csv"), "participation")
    balcony = joined[joined["programme_id"] == "balcony_pv"]
    workbook = out / "city" / "balcony_pv_installations.xlsx"
    pd.DataFrame({"사업코드": balcony["programme_id"], "전기고객번호": balcony["electricity_no"],
                  "설치일": dates(balcony["enrolled_on"].to_numpy())}).to_excel(workbook, index=False)
    manifest.add(workbook, "participation")


def _kepco(household_totals, building_totals, interval_totals, aggregate_only, settings, out, manifest) -> None:
    """KEPCO's published aggregates: the demo scaled back up to the whole city, by gu, contract
    type and billing month (the city's metered sample is a part of KEPCO's customers).

    주택용 comes from the household bills, 일반용/교육용/산업용 from the buildings and interval
    sites (by :data:`~energy_lib.demo.calibration.CONTRACT_OF_SITE`), 농사용/가로등/심야 from
    customers that no site-level file shows (:func:`~energy_lib.demo.calibration.aggregate_series`).
    """
    from energy_lib.core import wards

    scale = settings.city_households / settings.households
    gu_names = wards.wards().drop_duplicates("gu_code").set_index("gu_code")["gu_name_ko"]
    residential = pd.concat(household_totals).groupby(["gu_code", "month"])["kwh"].agg(["sum", "size"]).reset_index()
    residential["cntr"] = calibration.residential()
    others = pd.concat([building_totals, interval_totals])
    others["cntr"] = others["building_type"].map(calibration.CONTRACT_OF_SITE)
    # customers are sites, not rows: an interval site has thousands of rows a month
    others = others.groupby(["gu_code", "month", "cntr"]).agg(sum=("kwh", "sum"), size=("site", "nunique")).reset_index()
    aggregate_only = aggregate_only.rename(columns={"kwh": "sum", "customers": "size"})
    generator = rng(settings.seed, "kepco-aggregates")
    rows = pd.concat([residential, others, aggregate_only], ignore_index=True)
    rows["usage"] = rows["sum"] * scale * generator.lognormal(0, 0.01, len(rows))
    rows["customers"] = np.rint(rows["size"] * scale).astype(np.int64)
    rows["bill"] = rows["usage"] * rows["cntr"].map(calibration.price)
    for year, part in rows.groupby(rows["month"].dt.year):
        part = part.sort_values(["month", "gu_code", "cntr"])
        records = [{"year": str(m.year), "month": f"{m.month:02d}", "metro": "광주광역시", "city": gu_names[g],
                    "cntr": c, "custCnt": int(n), "powerUsage": int(round(u)), "bill": int(round(b)),
                    "unitCost": round(b / u, 1) if u else 0.0}
                   for m, g, c, n, u, b in part[["month", "gu_code", "cntr", "customers", "usage", "bill"]].itertuples(index=False)]
        path = out / "kepco" / f"contract_type_usage_{year}.json"
        path.write_text(json.dumps({"data": records}, ensure_ascii=False, indent=0), "utf-8")
        manifest.add(path, "kepco")


def _truth(homes: pd.DataFrame, truth: list[pd.DataFrame], settings: DemoSettings, out: Path) -> None:
    """The answer key: each participant's use with and without its programme, per bill."""
    frame = pd.concat(truth, ignore_index=True)
    frame["savings"] = frame["counterfactual"] - frame["actual"]
    directory = out / "truth"
    directory.mkdir(exist_ok=True)
    frame.to_parquet(directory / "programme_effects.parquet", index=False)
    summary = frame.groupby(["programme_id", "carrier"]).agg(
        participants=("site_key", "nunique"), counterfactual=("counterfactual", "sum"), savings=("savings", "sum")).reset_index()
    summary["savings_fraction"] = summary["savings"] / summary["counterfactual"]
    participants = homes[homes["programme_id"].notna()].groupby("programme_id").size()
    document = {
        "note": "Synthetic demo city: the programme effects injected into the data, and what they saved.",
        "settings": {"households": settings.households, "seed": settings.seed,
                     "first_month": settings.first_month, "last_month": settings.last_month},
        "programmes": {
            p: {"effect": city.TRUE_EFFECTS[p], "participants": int(participants.get(p, 0)),
                "savings": {r.carrier: {"total": round(float(r.savings), 3),
                                        "fraction_of_counterfactual_while_enrolled_or_not": round(float(r.savings_fraction), 6)}
                            for r in summary[summary["programme_id"] == p].itertuples()}}
            for p in city.PROGRAMMES["programme_id"]
        },
        "units": {"electricity": "kWh", "gas": "m³"},
    }
    (directory / "programmes.json").write_text(json.dumps(document, ensure_ascii=False, indent=1), "utf-8")
