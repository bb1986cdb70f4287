"""Pseudonymous ids for sites and meters.

Customer numbers identify people; the store never keeps them. A meter's id is a salted SHA-256 of
its provider, carrier and customer number, so the same customer in two files gets the same id,
and nobody without the salt can go back from the id to the number. The salt comes from
``$ENERGY_PSEUDONYM_SALT`` (set it in production and keep it secret); the default in
``config/ingest.toml`` is for the demo city only.
"""

from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa

from energy_lib import configuration
from energy_lib.vectors import arrow_strings, duckdb_cursor

__all__ = ["salt", "pseudonyms"]

_ID_HEX = 20  # 80 bits: collisions improbable far beyond a city's meters (birthday bound ~1e12)


def salt() -> str:
    """The pseudonymisation salt in force."""
    return os.environ.get("ENERGY_PSEUDONYM_SALT") or configuration.load("ingest")["identity"]["default_salt"]


def pseudonyms(kind: str, *parts: pd.Series) -> pd.Series:
    """Pseudonymous ids ``<kind[0]>-<hex>`` for the rows of ``parts`` joined by ``|``.

    Parameters
    ----------
    kind : str
        ``"meter"`` or ``"site"`` (the id's prefix is its first letter).
    *parts : pandas.Series of str
        Key parts, e.g. provider, carrier and customer number.

    Notes
    -----
    Vectorised: DuckDB's ``sha256`` over the whole column, not a Python loop.
    """
    key = pa.table({f"p{i}": arrow_strings(p) for i, p in enumerate(parts)})
    columns = " || '|' || ".join(f"p{i}" for i in range(len(parts)))
    cursor = duckdb_cursor()
    try:
        cursor.register("keys", key)
        hashed = cursor.execute(
            f"SELECT ? || '-' || substr(sha256(? || '|' || ? || '|' || {columns}), 1, {_ID_HEX}) AS id FROM keys",
            [kind[0], salt(), kind],
        ).fetchnumpy()["id"]
    finally:
        cursor.close()
    return pd.Series(hashed, index=parts[0].index, dtype="str")

