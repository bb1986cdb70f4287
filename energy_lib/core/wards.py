"""Wards (gu and dong), the code crosswalk, and placing buildings given by legal dong.

The ward table is the 96 administrative dongs of Gwangju as of the MOIS code table of 2026-04-01
(``energy_lib/core/reference/wards.csv``). Codes change: dongs merge (중흥2·3동 → 중흥동, 2024) and the
sido prefix changed from 29 to 12 on 2026-07-01 (reported). :func:`ward_codes` builds a crosswalk
from every known code to the current ward so that a row with an old code is never dropped.

Building-level data names LEGAL dongs (법정동); :func:`place_by_legal_dong` maps them to
administrative dongs with the MOIS legal→admin links, by parcel where a parcel table places the
lot, otherwise by the documented allocation rule (see data/README.md), and says which it used.

References
----------
.. [1] 행정안전부, 행정기관코드–법정동코드 연계표 (KIKmix), editions 2024-08-01 and 2025-07-01.
.. [2] admdongkor 0.5.6 (PyPI), MOIS administrative code index, version key 20260401.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

import numpy as np
import pandas as pd

from energy_lib.core import configuration
from energy_lib.core.vectors import group_ids, map_values

__all__ = [
    "wards",
    "ward_codes",
    "legal_dongs",
    "normalise_codes",
    "resolve_codes",
    "place_by_legal_dong",
    "ALLOCATION_RULE",
]

ALLOCATION_RULE = "parcel-hash"
"""Rule for a building in a legal dong split across several wards when no parcel table places it:
the candidate wards are sorted by code and the building goes to candidate
``hash(legal_code, bun, ji) mod n``. Buildings of a split legal dong so spread evenly over its
wards, deterministically; each is flagged ``placement = "allocated"`` with its candidates."""


def _reference_csv(name: str) -> pd.DataFrame:
    with resources.files("energy_lib.core.reference").joinpath(name).open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False)


@functools.cache
def _sido_change() -> dict:
    return configuration.load("wards")["sido_change"]


def _renumbered(code: str) -> str | None:
    """The code after the 2026-07 sido prefix change (configured mapping of gu codes)."""
    new_gu = _sido_change()["gu_codes"].get(code[:5])
    return None if new_gu is None else new_gu + code[5:]


def wards() -> pd.DataFrame:
    """The 96 current wards (columns of the store table ``wards``); a copy the caller may change."""
    return _wards().copy()


@functools.cache
def _wards() -> pd.DataFrame:
    # read once per process: a report page asks for ward names dozens of times
    frame = _reference_csv("wards.csv")
    frame["lat"] = frame["lat"].astype(float)
    frame["lon"] = frame["lon"].astype(float)
    frame["code_2026_07"] = frame["ward_code"].map(_renumbered)
    return frame


def ward_codes() -> pd.DataFrame:
    """Crosswalk from every known code to the current ward (the store table ``ward_codes``).

    Rows: each current dong and gu code (``current``); codes of merged dongs (``merged``, from
    ``config/wards.toml``); and the 12-prefixed codes of the 2026-07 renumbering of all of them
    (``sido_change``, ``confirmed`` as configured).
    """
    current = wards()
    change = _sido_change()
    sido_from = pd.Timestamp(change["effective"])
    rows = []
    for w in current.itertuples():
        rows.append(dict(code=w.ward_code, level="dong", ward_code=w.ward_code, gu_code=w.gu_code,
                         valid_from=None, valid_to=sido_from, event="current", confirmed=True,
                         source="MOIS administrative code table 2026-04-01 (admdongkor 0.5.6)"))
    for gu_code in sorted(current["gu_code"].unique()):
        rows.append(dict(code=gu_code, level="gu", ward_code=None, gu_code=gu_code,
                         valid_from=None, valid_to=sido_from, event="current", confirmed=True,
                         source="MOIS administrative code table 2026-04-01"))
    for old in configuration.load("wards")["admin_changes"]:
        rows.append(dict(code=old["old_code"], level="dong", ward_code=old["ward_code"],
                         gu_code=old["ward_code"][:5], valid_from=None,
                         valid_to=pd.Timestamp(old["effective"]), event=old["event"],
                         confirmed=True, source=old["source"]))
    renumbered = []
    for row in rows:
        new_code = _renumbered(row["code"])
        if new_code is not None:
            renumbered.append({**row, "code": new_code, "valid_from": sido_from, "valid_to": None,
                               "event": "sido_change", "confirmed": bool(change["confirmed"]),
                               "source": change["source"]})
    # A merged dong's 12-prefixed code never existed; keep only renumbered current codes.
    renumbered = [r for r in renumbered if r["ward_code"] is None or r["code"][5:] == r["ward_code"][5:]]
    frame = pd.DataFrame(rows + renumbered)
    for column in ("valid_from", "valid_to"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.sort_values(["level", "code"], ignore_index=True)


def legal_dongs() -> pd.DataFrame:
    """Legal dong → administrative dong pairs (the store table ``legal_dongs``)."""
    links = _reference_csv("legal_to_admin.csv")
    frame = pd.DataFrame({
        "legal_code": links["legal_code"],
        "legal_name_ko": links["legal_name_ko"],
        "gu_code": links["legal_code"].str[:5],
        "ward_code": links["admin_code"],
        "source": links["source_vintage"],
    })
    frame["n_wards"] = frame.groupby("legal_code")["ward_code"].transform("size").astype("int64")
    return frame.sort_values(["legal_code", "ward_code"], ignore_index=True)


def _clean_code(code: str | None) -> str | None:
    if code is None:
        return None
    text = re.sub(r"[\s-]", "", str(code))
    text = re.sub(r"\.0$", "", text)
    return text or None


def normalise_codes(codes: pd.Series) -> pd.Series:
    """Clean code text: strip spaces and dashes, drop a spreadsheet's ``.0``; empty → NA."""
    return map_values(codes, _clean_code)


def resolve_codes(codes: pd.Series, crosswalk: pd.DataFrame, *, level: str = "dong") -> pd.Series:
    """Map codes of any vintage to the current ward (``level="dong"``) or gu (``level="gu"``).

    Parameters
    ----------
    codes : pandas.Series of str
        Codes as found in data (10-digit dong codes or 5-digit gu codes; see
        :func:`normalise_codes`).
    crosswalk : pandas.DataFrame
        The ``ward_codes`` table.

    Returns
    -------
    pandas.Series of str
        Current ward code (or gu code), NA where the code is unknown.
    """
    table = crosswalk[crosswalk["level"] == level]
    target = "ward_code" if level == "dong" else "gu_code"
    mapping = dict(zip(table["code"], table[target]))
    return map_values(codes, lambda code: mapping.get(_clean_code(code)))


def place_by_legal_dong(legal_code: pd.Series, bun: pd.Series, ji: pd.Series,
                        links: pd.DataFrame, parcels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Place buildings given by legal dong and lot number in an administrative dong.

    Parameters
    ----------
    legal_code : pandas.Series of str
        10-digit legal dong codes (sigunguCd + bjdongCd).
    bun, ji : pandas.Series of str
        Main and sub lot numbers, without leading zeros (``ji`` is ``"0"`` if none).
    links : pandas.DataFrame
        The ``legal_dongs`` table.
    parcels : pandas.DataFrame, optional
        The ``parcels`` table (legal_code, bun, ji → ward_code) from the city's GIS.

    Returns
    -------
    pandas.DataFrame
        Same index as the inputs, columns ``ward_code`` (NA for an unknown legal dong),
        ``placement`` (``legal_single``, ``parcel`` or ``allocated``) and ``placement_note``.

    Notes
    -----
    A legal dong covered by one ward places exactly. Otherwise the parcel table decides; without
    a match, :data:`ALLOCATION_RULE` picks one of the candidates. Each distinct lot is placed once
    (a year of monthly building data names each lot twelve times) and its placement repeated.
    """
    keys = pd.DataFrame({"legal_code": legal_code.to_numpy(), "bun": bun.to_numpy(),
                         "ji": ji.to_numpy()}, index=legal_code.index)
    lot = group_ids(keys["legal_code"], keys["bun"], keys["ji"])
    first = np.unique(lot, return_index=True)[1]  # the first row of each lot (codes 0…k−1)
    placed = _place_lots(keys.iloc[first], links, parcels)
    return placed.iloc[lot].set_axis(keys.index)


def _place_lots(keys: pd.DataFrame, links: pd.DataFrame, parcels: pd.DataFrame | None) -> pd.DataFrame:
    """:func:`place_by_legal_dong` of distinct lots (``legal_code``, ``bun``, ``ji``)."""
    candidates = (links.sort_values("ward_code").groupby("legal_code")["ward_code"]
                  .agg(list).rename("candidates"))
    out = keys.join(candidates, on="legal_code")
    known = out["candidates"].notna()
    n = out["candidates"].map(len, na_action="ignore").fillna(0).astype(int)
    result = pd.DataFrame(index=keys.index, data={"ward_code": pd.Series(pd.NA, index=keys.index, dtype="str"),
                                                   "placement": pd.Series(pd.NA, index=keys.index, dtype="str"),
                                                   "placement_note": pd.Series(pd.NA, index=keys.index, dtype="str")})
    single = known & (n == 1)
    result.loc[single, "ward_code"] = out.loc[single, "candidates"].str[0]
    result.loc[single, "placement"] = "legal_single"
    split = known & (n > 1)
    if parcels is not None and len(parcels):
        by_parcel = keys.merge(parcels[["legal_code", "bun", "ji", "ward_code"]],
                               on=["legal_code", "bun", "ji"], how="left")["ward_code"].to_numpy()
        hit = split & pd.Series(by_parcel, index=keys.index).notna()
        result.loc[hit, "ward_code"] = by_parcel[hit.to_numpy()]
        result.loc[hit, "placement"] = "parcel"
        split &= ~hit
    if split.any():
        hashed = pd.util.hash_pandas_object(keys.loc[split], index=False).to_numpy()
        pick = (hashed % n[split].to_numpy().astype(np.uint64)).astype(int)
        lists = out.loc[split, "candidates"].to_list()
        result.loc[split, "ward_code"] = [c[i] for c, i in zip(lists, pick)]
        result.loc[split, "placement"] = "allocated"
        result.loc[split, "placement_note"] = [
            f"{ALLOCATION_RULE}: one of {' '.join(c)}" for c in lists
        ]
    return result
