"""All import formats, by name (``energy formats`` lists them)."""

from __future__ import annotations

from energy_lib.ingest import bills, building, interval, kdhc, kepco, kepco_public, parcels, programmes, pv, sites, weather
from energy_lib.ingest.formats import Format

__all__ = ["FORMATS"]

FORMATS: dict[str, Format] = {f.name: f for f in (
    bills.FORMAT,
    bills.HEAT_FORMAT,
    building.FORMAT,
    interval.FORMAT,
    interval.WIDE_FORMAT,
    pv.FORMAT,
    weather.FORMAT,
    kepco.FORMAT,
    kepco_public.FORMAT,
    kdhc.FORMAT,
    sites.FORMAT,
    parcels.FORMAT,
    programmes.FORMAT,
    programmes.PARTICIPATION_FORMAT,
)}
