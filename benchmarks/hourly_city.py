"""A store with hourly data for many sites, for issue 7's "hourly at scale" benchmark.

The demo city has seven interval-metered sites; a city with smart meters everywhere has one per
building. This builds, deterministically, ``sites`` interval sites (each a variation of one of the
demo's seven: industrial, office or residential schedule, scaled base and peak load and
temperature slopes) with one year of hourly electricity readings from the demo's own load model
(:func:`energy_lib.demo.usage.interval_load`'s formula, vectorised over sites), on top of a small
demo store that provides the wards, the weather and a few bills.

The readings are written to the store's ``readings`` table directly, in the canonical form the
adapters produce: this benchmark measures the compute stage, not ingest (issue 2 measures that).

Usage: ``python benchmarks/hourly_city.py STORE --sites 10000`` (after ``energy demo --store STORE``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.ndimage import convolve1d
from tqdm.auto import tqdm

from energy_lib.core import weather
from energy_lib.core.tables import TABLES
from energy_lib.demo.city import interval_sites
from energy_lib.demo.climate import rng
from energy_lib.demo.usage import occupancy
from energy_lib.store import Store

YEAR_START = pd.Timestamp("2025-11-01")
"""The year of readings: the baseline year of an annual analysis reporting from 2026-11."""
SITES_PER_PART = 500
SOURCE = "benchmarks/hourly_city.py"


def site_table(n_sites: int, wards: pd.Series, seed: int = 2026) -> pd.DataFrame:
    """``n_sites`` interval sites: the demo's seven templates in turn, each scaled by a lognormal factor."""
    generator = rng(seed, "hourly-city-sites")
    templates = interval_sites()
    pick = templates.iloc[np.arange(n_sites) % len(templates)].reset_index(drop=True)
    scale = generator.lognormal(-2.0, 0.8, n_sites)  # most sites far smaller than the demo's complexes
    ids = [f"{i:06d}" for i in range(n_sites)]
    return pd.DataFrame({
        "site_id": [f"s-hourly-{i}" for i in ids], "meter_id": [f"m-hourly-{i}" for i in ids],
        "ward_code": generator.choice(wards.to_numpy(), n_sites), "building_type": pick["building_type"],
        "schedule": pick["schedule"], "base_kw": pick["base_kw"] * scale, "peak_kw": pick["peak_kw"] * scale,
        "cool_kw_per_c": pick["cool_kw_per_c"] * scale, "heat_kw_per_c": pick["heat_kw_per_c"] * scale,
    })


def hourly_loads(sites: pd.DataFrame, stamps: pd.DatetimeIndex, temp_c: np.ndarray, seed: int) -> np.ndarray:
    """Energy [kWh] per hour, sites × hours: the demo's interval load model (occupancy schedule,
    cooling above 24 °C and heating below 16 °C scaled by occupancy, persistent noise)."""
    by_schedule = {s: occupancy(stamps, s) for s in sites["schedule"].unique()}
    occupied = np.stack([by_schedule[s] for s in sites["schedule"]])
    active = np.maximum(occupied, 0.3)
    load = (sites["base_kw"].to_numpy()[:, None] + (sites["peak_kw"] - sites["base_kw"]).to_numpy()[:, None] * occupied
            + sites["cool_kw_per_c"].to_numpy()[:, None] * np.maximum(temp_c - 24.0, 0) * active
            + sites["heat_kw_per_c"].to_numpy()[:, None] * np.maximum(16.0 - temp_c, 0) * active)
    shocks = rng(seed, f"hourly-city-{sites['site_id'].iloc[0]}").normal(0.0, 0.04, load.shape)
    wobble = convolve1d(shocks, np.ones(8) / np.sqrt(8), axis=1, mode="constant")  # persistent, not white
    return np.maximum(load * (1.0 + wobble), 0.0)


def build(store: Store, n_sites: int, seed: int = 2026) -> int:
    """Add ``n_sites`` hourly sites and their year of readings to ``store``; the readings written."""
    wards = store.sql("SELECT ward_code FROM wards ORDER BY ward_code")["ward_code"]
    sites = site_table(n_sites, wards, seed)
    daily = weather.daily_weather(store, "156")
    hourly = weather.hourly_temperature(daily)
    stamps = pd.date_range(YEAR_START, YEAR_START + pd.DateOffset(years=1), freq="h", inclusive="left")
    temp_c = hourly.reindex(stamps).to_numpy(dtype=float)
    with store.writer() as writer:
        writer.append("sites", pd.DataFrame({
            "site_id": sites["site_id"], "ward_code": sites["ward_code"], "building_type": sites["building_type"],
            "placement": "reported", "origin": "benchmark", "series_public": False, "source_file": SOURCE}))
        writer.append("meters", pd.DataFrame({"meter_id": sites["meter_id"], "site_id": sites["site_id"],
                                              "carrier": "electricity", "provider": "kepco", "source_file": SOURCE}))
    written = 0
    start = stamps.to_numpy().astype("datetime64[us]")
    for first in tqdm(range(0, n_sites, SITES_PER_PART), desc="hourly sites", unit="part"):
        part = sites.iloc[first:first + SITES_PER_PART]
        kwh = hourly_loads(part, stamps, temp_c, seed).ravel()
        n = len(kwh)
        columns = {
            "meter_id": pa.array(np.repeat(part["meter_id"].to_numpy(), len(stamps)), pa.string()),
            "carrier": _constant("electricity", n), "period_start": pa.array(np.tile(start, len(part))),
            "period_end": pa.array(np.tile(start + np.timedelta64(1, "h"), len(part))), "value": pa.array(kwh),
            "unit": _constant("kWh", n), "value_canonical": pa.array(kwh), "canonical_unit": _constant("kWh", n),
            "energy_kwh": pa.array(kwh), "resolution": _constant("hourly", n), "quality": _constant("actual", n),
            "outlier": pa.array(np.zeros(n, dtype=bool)), "source_file": _constant(SOURCE, n),
            "source_row": pa.array(np.arange(written, written + n, dtype=np.int64)),
            "ingested_at": pa.array(np.full(n, np.datetime64("2026-11-22T00:00:00", "us"))),
        }
        schema = TABLES["readings"].arrow_schema()
        rows = pa.Table.from_arrays([columns[name].cast(schema.field(name).type) for name in schema.names],
                                    schema=schema)
        with store.writer() as writer:
            writer.append("readings", rows)
        written += n
    return written


def _constant(text: str, n: int) -> pa.Array:
    """One text repeated ``n`` times, without ``n`` Python strings."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([text])).cast(pa.string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--sites", type=int, default=10_000)
    args = parser.parse_args()
    print(f"{build(Store(args.store), args.sites):,} hourly readings added to {args.store}")


if __name__ == "__main__":
    main()
