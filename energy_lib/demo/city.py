"""The people and buildings of the demo city.

Households are spread over the 5 gu in proportion to their population (KOSTAT 2020) and over each
gu's dongs by seeded weights (the demo has no dong-level population; say so wherever it shows).
Every household gets a dwelling, a size, customer numbers with three utilities, a consumption
profile (base load, heating and cooling slopes at its own balance points) and, for some, a PV
system and a programme. Non-household buildings stand on parcels of legal dongs, as many and as
large as :mod:`energy_lib.demo.calibration` says; a few sites have interval meters. Everything is
drawn from seeded random streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from energy_lib.core import configuration, wards
from energy_lib.demo.climate import rng

__all__ = ["DemoSettings", "households", "gu_population", "floor_areas", "buildings", "heat_complexes", "interval_sites", "PROGRAMMES"]


@dataclass(frozen=True)
class DemoSettings:
    """Size and span of the demo city.

    Parameters
    ----------
    households : int
        Households with meter data (the city has about 650,000).
    seed : int
        Seed of every random stream: the same settings give byte-identical files.
    first_month, last_month : str
        First and last billing month (YYYY-MM).
    city_households : int
        Households of the whole city. The demo is the city scaled by ``households /
        city_households`` (customers of every kind, and KEPCO's totals they are calibrated to);
        KEPCO's published aggregates scale the demo back up to the whole city.
    """

    households: int = 10_000
    seed: int = 2026
    first_month: str = "2022-01"
    last_month: str = "2026-10"
    city_households: int = 650_000

    @property
    def months(self) -> pd.DatetimeIndex:
        return pd.date_range(self.first_month, self.last_month, freq="MS")

    @property
    def weather_start(self) -> pd.Timestamp:
        return pd.Timestamp(self.first_month) - pd.DateOffset(years=1)

    @property
    def weather_end(self) -> pd.Timestamp:
        return pd.Timestamp(self.last_month) + pd.offsets.MonthEnd(0)


# Programmes with known, injected effects (the answer key is written to truth/).
PROGRAMMES = pd.DataFrame([
    dict(programme_id="balcony_pv", name_ko="베란다형 미니태양광 보급사업", name_en="Balcony PV",
         carrier="electricity", starts_on="2023-03-01", cost_won_per_participant=350_000,
         description="A 300–440 W balcony PV panel behind the household's meter; metered use falls by its output.",
         enrol_from="2023-03-01", enrol_to="2025-06-30"),
    dict(programme_id="insulation_retrofit", name_ko="노후주택 단열개선 지원사업", name_en="Insulation retrofit",
         carrier="gas", starts_on="2023-06-01", cost_won_per_participant=5_000_000,
         description="Wall, roof and window insulation of old detached houses; the heating slope falls by a quarter.",
         enrol_from="2023-06-01", enrol_to="2025-09-30"),
    dict(programme_id="energy_village", name_ko="에너지자립마을", name_en="Energy-independent village",
         carrier=None, starts_on="2024-01-01", cost_won_per_participant=150_000,
         description="Community saving campaign in two dongs: base electricity use falls 6%, gas 4%.",
         enrol_from="2024-01-01", enrol_to="2024-01-01"),
])
TRUE_EFFECTS = {
    "balcony_pv": "metered electricity falls by the panel's output (all self-consumed)",
    "insulation_retrofit": "gas heating slope × 0.75 from the completion day",
    "energy_village": "electricity base load × 0.94 and gas base load × 0.96 from 2024-01-01",
}
VILLAGE_DONGS = ("2915567000", "2917065000")  # 백운1동 (남구), 문화동 (북구)
DISTRICT_HEAT_DONGS = ("2914074500", "2914075100", "2914075200")  # 치평동, 상무1동, 상무2동 (서구)


def gu_population() -> pd.DataFrame:
    """The 2020 census population of each gu (``gu_code``, ``gu_name_ko``, ``population``)."""
    with resources.files("energy_lib.core.reference").joinpath("gu_population.csv").open(encoding="utf-8") as f:
        return pd.read_csv(f, dtype={"gu_code": str})


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total`` in proportion to ``weights`` (largest remainder)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(exact - counts)[::-1][: total - counts.sum()]] += 1
    return counts


def _customer_numbers(n: int, digits: int, multiplier: int, offset: int) -> np.ndarray:
    """Unique, random-looking customer numbers: an affine bijection modulo 10**digits."""
    modulus = 10**digits
    values = (np.arange(n, dtype=np.int64) * multiplier + offset) % modulus
    return np.char.zfill(values.astype(str), digits)


def dong_weights(settings: DemoSettings) -> pd.DataFrame:
    """Every ward with its share of the city's households (synthetic within each gu)."""
    table = wards.wards()[["ward_code", "gu_code"]].copy()
    population = gu_population().set_index("gu_code")["population"]
    generator = rng(settings.seed, "dongs")
    table["weight"] = generator.gamma(8.0, 1.0, len(table))
    table["weight"] = table["weight"] / table.groupby("gu_code")["weight"].transform("sum")
    table["share"] = table["weight"] * table["gu_code"].map(population) / population.sum()
    return table


def households(settings: DemoSettings) -> pd.DataFrame:
    """One row per household with its dwelling, utilities, consumption profile and programmes.

    The electricity profile is the model's before calibration: the generator scales it per gu
    to KEPCO's figures (:func:`energy_lib.demo.calibration.calibrate_households`)."""
    generator = rng(settings.seed, "households")
    n = settings.households
    dongs = dong_weights(settings)
    counts = _split(n, dongs["share"].to_numpy())
    ward = np.repeat(dongs["ward_code"].to_numpy(), counts)
    apartment_share = pd.Series(rng(settings.seed, "apartments").beta(6.5, 3.5, len(dongs)),
                                index=dongs["ward_code"])
    apartment = generator.random(n) < apartment_share[ward].to_numpy()
    persons = generator.choice([1, 2, 3, 4, 5], size=n, p=[0.407, 0.25, 0.18, 0.13, 0.033])
    area = np.where(apartment, generator.choice([59.0, 84.0, 114.0, 135.0], size=n, p=[0.35, 0.45, 0.15, 0.05]),
                    np.round(generator.lognormal(np.log(85), 0.35, n), 1))
    district_heat = apartment & np.isin(ward, DISTRICT_HEAT_DONGS) & (generator.random(n) < 0.8)
    has_gas = np.where(apartment, generator.random(n) < 0.97, generator.random(n) < 0.85)
    months = len(settings.months)
    moved_in = np.where(generator.random(n) < 0.04, generator.integers(1, months, n), 0)
    moved_out = np.where(generator.random(n) < 0.04, generator.integers(1, months, n), months)
    moved_out = np.maximum(moved_out, moved_in + 6)
    member = generator.random(n) < 0.56  # Gwangju's carbon bank: about 56% of households take part

    frame = pd.DataFrame({
        "household": np.arange(n), "ward_code": ward, "gu_code": pd.Series(ward).str[:5],
        "building_type": np.where(apartment, "apartment", "detached"), "persons": persons,
        "floor_area_m2": area, "district_heat": district_heat, "has_gas": has_gas,
        "member": member, "site_key": np.char.add("CP-", np.char.zfill(np.arange(n).astype(str), 7)),
        "electricity_no": _customer_numbers(n, 10, 7_919_137, 1_203_004_517),
        "gas_no": _customer_numbers(n, 10, 4_310_977, 6_100_000_003),
        "water_no": _customer_numbers(n, 9, 3_575_311, 200_000_117),
        "electricity_read_day": generator.integers(1, 27, n), "gas_read_day": generator.integers(1, 27, n),
        "moved_in": moved_in, "moved_out": np.minimum(moved_out, months),
        # consumption profile (daily expected use)
        "elec_base_kwh": (5.5 + 1.9 * persons) * generator.lognormal(0, 0.22, n),
        "elec_cool_slope": np.where(apartment, 1.15, 0.85) * generator.lognormal(0, 0.3, n),
        "elec_cool_bp": generator.choice([22.0, 23.0, 24.0, 25.0, 26.0], size=n, p=[0.1, 0.25, 0.35, 0.2, 0.1]),
        "elec_heat_slope": np.where(apartment, 0.02, 0.08) * generator.lognormal(0, 0.4, n),
        "gas_base_m3": np.where(district_heat, 0.25, 0.35 + 0.1 * persons) * generator.lognormal(0, 0.2, n),
        "gas_heat_slope": np.where(district_heat, 0.0, 0.15 * area / 84.0 * np.where(apartment, 1.0, 1.5))
        * generator.lognormal(0, 0.25, n),
        "gas_heat_bp": generator.choice([14.0, 15.0, 16.0, 17.0, 18.0], size=n, p=[0.1, 0.2, 0.35, 0.25, 0.1]),
        "water_base_m3": (0.08 + 0.1 * persons) * generator.lognormal(0, 0.2, n),
    })
    frame.loc[~frame["has_gas"], ["gas_base_m3", "gas_heat_slope"]] = 0.0
    _assign_pv_and_programmes(frame, settings)
    return frame


def _assign_pv_and_programmes(frame: pd.DataFrame, settings: DemoSettings) -> None:
    """Rooftop PV on some detached houses; programme participants with their enrolment days."""
    generator = rng(settings.seed, "programmes")
    n = len(frame)
    detached = frame["building_type"].eq("detached").to_numpy()
    apartment = ~detached
    stays = (frame["moved_in"].eq(0) & frame["moved_out"].eq(len(settings.months))).to_numpy()
    frame["pv_kw"] = np.where(detached & (generator.random(n) < 0.015), 3.0, 0.0)
    frame["pv_since"] = pd.NaT
    frame["programme_id"] = pd.Series(pd.NA, index=frame.index, dtype="str")
    frame["enrolled_on"] = pd.NaT

    def enrol(mask: np.ndarray, programme: str) -> None:
        row = PROGRAMMES.set_index("programme_id").loc[programme]
        first, last = pd.Timestamp(row["enrol_from"]), pd.Timestamp(row["enrol_to"])
        span = (last - first).days
        days = generator.integers(0, span + 1, mask.sum()) if span else np.zeros(mask.sum(), dtype=int)
        frame.loc[mask, "programme_id"] = programme
        frame.loc[mask, "enrolled_on"] = first + pd.to_timedelta(days, unit="D")

    eligible = stays & frame["member"].to_numpy() & frame["pv_kw"].eq(0).to_numpy()
    balcony = eligible & apartment & (generator.random(n) < 0.05)
    enrol(balcony, "balcony_pv")
    frame.loc[balcony, "pv_kw"] = np.round(generator.uniform(0.30, 0.44, balcony.sum()), 2)
    frame.loc[balcony, "pv_since"] = frame.loc[balcony, "enrolled_on"]
    retrofit = eligible & detached & frame["has_gas"].to_numpy() & ~balcony & (generator.random(n) < 0.06)
    enrol(retrofit, "insulation_retrofit")
    village = (eligible & ~balcony & ~retrofit & np.isin(frame["ward_code"], VILLAGE_DONGS)
               & (generator.random(n) < 0.6))
    enrol(village, "energy_village")
    rooftop = frame["pv_kw"].eq(3.0).to_numpy()
    frame.loc[rooftop, "pv_since"] = pd.Timestamp(settings.first_month) - pd.DateOffset(years=2)


_BUILDING_USES = pd.DataFrame({
    "building_type": ["commercial", "public", "education", "industrial"],
    "use_name": ["근린생활시설", "공공업무시설", "교육연구시설", "공장"],
    "m3_per_m2_year": [6.0, 5.0, 4.0, 10.0],
}).set_index("building_type")
"""MOLIT's main use (주용도) of each non-household building type, and its gas use per floor area
[m³/m²/year] (approximate, for the demo)."""


def floor_areas(building_type: np.ndarray, annual_kwh: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """A floor area for each building [m²], lognormal by building type as in the building register,
    tied to its annual use by a Gaussian copula.

    Parameters
    ----------
    building_type : numpy.ndarray of str
        Each building's type (a key of ``[floor_area]`` in ``config/demo.toml``).
    annual_kwh : numpy.ndarray
        Each building's annual electricity use [kWh].
    generator : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        Floor area [m²], whole square metres, at least ``minimum_m2``.

    Notes
    -----
    Within a type, ``z = ρ·Φ⁻¹(rank(use)) + √(1−ρ²)·ε`` with ε standard normal, and
    ``area = median · exp(σ·z)``: the area's distribution is the type's lognormal whatever the
    distribution of use (calibrated to KEPCO), and larger users tend to be larger buildings.
    Dividing use by a fixed kWh/m² would make every building of a type equally intensive, and
    small users implausibly small (a tenth of shops under 30 m²).
    """
    from scipy.special import ndtri

    spec = configuration.load("demo")["floor_area"]
    kinds = pd.Series(building_type)
    rank = pd.Series(annual_kwh).groupby(kinds.to_numpy()).rank(method="first").to_numpy()
    count = kinds.map(kinds.value_counts()).to_numpy(dtype=float)
    rho = float(spec["use_correlation"])
    z = rho * ndtri((rank - 0.5) / count) + np.sqrt(1.0 - rho**2) * generator.standard_normal(len(kinds))
    median = kinds.map({k: v["median_m2"] for k, v in spec.items() if isinstance(v, dict)}).to_numpy(dtype=float)
    sigma = kinds.map({k: v["sigma"] for k, v in spec.items() if isinstance(v, dict)}).to_numpy(dtype=float)
    return np.maximum(float(spec["minimum_m2"]), np.round(median * np.exp(sigma * z), 0))


def _legal_dongs(customers: pd.DataFrame, settings: DemoSettings) -> np.ndarray:
    """A legal dong in its gu for each customer: each gu × contract type spreads its customers
    over the gu's legal dongs by seeded gamma weights (``placement_shape`` small: concentrated in
    a few, as factories in industrial estates; large: spread out, as shops)."""
    legal = wards.legal_dongs().drop_duplicates("legal_code")
    out = np.empty(len(customers), dtype=object)
    for (gu, contract), rows in customers.groupby(["gu_code", "contract"], sort=True).indices.items():
        pool = legal.loc[legal["gu_code"] == gu, "legal_code"].to_numpy()  # one group per gu × contract type
        generator = rng(settings.seed, f"places-{contract}-{gu}")
        weights = generator.gamma(customers["placement_shape"].iloc[rows[0]], 1.0, len(pool))
        out[rows] = pool[generator.choice(len(pool), size=len(rows), p=weights / weights.sum())]
    return out


def _true_wards(legal_code: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """An administrative dong for each building among those its legal dong spans (uniform)."""
    links = wards.legal_dongs().sort_values(["legal_code", "ward_code"]).reset_index(drop=True)
    first = links.reset_index().groupby("legal_code")["index"].min()
    count = links.groupby("legal_code").size()
    pick = first[legal_code].to_numpy() + generator.integers(0, 1000, len(legal_code)) % count[legal_code].to_numpy()
    return links["ward_code"].to_numpy()[pick]


def buildings(settings: DemoSettings, customers: pd.DataFrame) -> pd.DataFrame:
    """Non-household buildings on parcels of legal dongs (building-energy data), with their true
    ward (used for the parcel table; the importer must find it from the legal dong).

    Parameters
    ----------
    settings : DemoSettings
    customers : pandas.DataFrame
        :func:`energy_lib.demo.calibration.building_customers`: one row per building with its gu,
        contract type, building type, annual use [kWh] and electricity profile.

    Returns
    -------
    pandas.DataFrame
        One row per building, ordered by legal dong and lot number as in a register extract:
        ``building``, ``legal_code``, ``true_ward``, ``plat``, ``bun``, ``ji``, ``building_type``,
        ``use_name``, ``contract``, ``floor_area_m2`` [m²], ``elec_base_kwh`` [kWh/day],
        ``elec_cool_slope`` [kWh/K/day], ``gas_base_m3`` [m³/day], ``gas_heat_slope`` [m³/K/day],
        ``has_gas``, ``annual_kwh`` [kWh].
    """
    generator = rng(settings.seed, "buildings")
    n = len(customers)
    legal_code = _legal_dongs(customers, settings)
    kinds = customers["building_type"].to_numpy()
    area = floor_areas(kinds, customers["annual_kwh"].to_numpy(dtype=float), generator)
    gas_per_m2 = _BUILDING_USES.loc[kinds, "m3_per_m2_year"].to_numpy()
    frame = pd.DataFrame({
        "legal_code": legal_code, "true_ward": _true_wards(legal_code, generator),
        "plat": np.where(generator.random(n) < 0.03, "1", "0"),
        "bun": generator.integers(1, 1800, n).astype(str), "ji": np.where(generator.random(n) < 0.6, "0",
                                                                        generator.integers(1, 40, n).astype(str)),
        "building_type": kinds, "use_name": _BUILDING_USES.loc[kinds, "use_name"].to_numpy(),
        "contract": customers["contract"].to_numpy(), "floor_area_m2": area,
        "elec_base_kwh": customers["elec_base_kwh"].to_numpy(),
        "elec_cool_slope": customers["elec_cool_slope"].to_numpy(),
        "gas_base_m3": area * gas_per_m2 / 365 * 0.3 * generator.lognormal(0, 0.3, n),
        "gas_heat_slope": area * gas_per_m2 / 365 * 0.09 * generator.lognormal(0, 0.3, n),
        "has_gas": generator.random(n) < 0.8, "annual_kwh": customers["annual_kwh"].to_numpy(),
    })
    # a building's site is its parcel: two buildings drawn on one lot would be one site with two
    # conflicting readings a month, so the k-th repeat of a lot moves to 지번 ji + 40 k (unique)
    repeat = frame.groupby(["legal_code", "plat", "bun", "ji"], sort=False).cumcount().to_numpy()
    frame["ji"] = (frame["ji"].astype(int).to_numpy() + 40 * repeat).astype(str)
    order = np.lexsort((frame["bun"].astype(int).to_numpy(), frame["legal_code"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True).rename_axis(None).assign(building=np.arange(n))


def heat_complexes(settings: DemoSettings) -> pd.DataFrame:
    """Apartment complexes on district heat (KDHC), in the district-heat dongs."""
    generator = rng(settings.seed, "heat")
    n = max(5, settings.households // 1000)
    return pd.DataFrame({
        "complex_no": [f"DH{1001 + i}" for i in range(n)],
        "name": [f"상무 {['푸른', '금호', '모아', '라인', '대주', '중흥', '호반', '우미'][i % 8]}아파트 {i // 8 + 1}단지" for i in range(n)],
        "ward_code": generator.choice(DISTRICT_HEAT_DONGS, size=n),
        "households": generator.integers(300, 1200, n),
        "base_kwh_per_household": generator.uniform(4.0, 6.0, n),
        "heat_slope_kwh_per_household": generator.uniform(1.2, 1.8, n),
    })


def interval_sites() -> pd.DataFrame:
    """The sites with interval (AMI) meters: two factories, two public buildings, the common areas
    of three apartment complexes.

    Their loads [kW] do not scale with the demo (the live feed continues them whatever the demo's
    size), so they are sized to stay below about 15% of their gu × contract-type total in the
    default demo (10,000 households), where the full city's plants would dwarf a whole gu; the
    calibration subtracts their use from the buildings' targets.

    ``series_public`` says whether the register lets the live monitor show the site's own series,
    with ``series_public_source``: the two public bodies (the city hall and a gu office) yes, as a
    demo assumption (a real register records the body's own decision); the factories and apartment
    complexes no (no consent is recorded in the demo), so they appear only in aggregates that pass
    the publishing rule.
    """
    public_body = "공공기관 (public body): 데모 가정 (demo assumption)"
    sites = pd.DataFrame([
        dict(site_key="AMI-001", name="하남산업단지 A공장", building_type="industrial", ward_code="2920064000",
             floor_area_m2=None, customer_no="0900100011", shape="wide", step_minutes=60, base_kw=200.0,
             peak_kw=460.0, cool_kw_per_c=8.0, heat_kw_per_c=2.0, schedule="industrial"),
        dict(site_key="AMI-002", name="평동산업단지 B공장", building_type="industrial", ward_code="2920067000",
             floor_area_m2=None, customer_no="0900100022", shape="wide", step_minutes=60, base_kw=150.0,
             peak_kw=330.0, cool_kw_per_c=6.0, heat_kw_per_c=1.5, schedule="industrial"),
        dict(site_key="AMI-003", name="광주광역시청", building_type="public", ward_code="2914074500",
             floor_area_m2=69_000.0, customer_no="0900100033", shape="long", step_minutes=15, base_kw=80.0,
             peak_kw=330.0, cool_kw_per_c=10.0, heat_kw_per_c=7.0, schedule="office"),
        dict(site_key="AMI-004", name="북구청", building_type="public", ward_code="2917059000",
             floor_area_m2=18_000.0, customer_no="0900100044", shape="long", step_minutes=60, base_kw=40.0,
             peak_kw=170.0, cool_kw_per_c=4.0, heat_kw_per_c=3.0, schedule="office"),
        dict(site_key="AMI-005", name="수완 호반아파트 단지", building_type="apartment", ward_code="2920063700",
             floor_area_m2=None, customer_no="0900100055", shape="long", step_minutes=60, base_kw=28.0,
             peak_kw=85.0, cool_kw_per_c=3.0, heat_kw_per_c=0.4, schedule="residential"),
        dict(site_key="AMI-006", name="봉선 대우아파트 단지", building_type="apartment", ward_code="2915553700",
             floor_area_m2=None, customer_no="0900100066", shape="long", step_minutes=60, base_kw=22.0,
             peak_kw=70.0, cool_kw_per_c=2.5, heat_kw_per_c=0.3, schedule="residential"),
        dict(site_key="AMI-007", name="첨단 라인아파트 단지", building_type="apartment", ward_code="2920062400",
             floor_area_m2=None, customer_no="0900100077", shape="long", step_minutes=60, base_kw=25.0,
             peak_kw=78.0, cool_kw_per_c=2.8, heat_kw_per_c=0.35, schedule="residential"),
    ])
    sites["series_public"] = sites["building_type"].eq("public")
    sites["series_public_source"] = sites["series_public"].map({True: public_body, False: ""})
    return sites
