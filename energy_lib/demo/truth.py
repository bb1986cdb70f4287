"""The demo city's answer key: what each programme participant would have used without the
programme, bill by bill, linked to the stored meters.

The generator writes ``truth/programme_effects.parquet`` with the utilities' customer numbers (it
never sees the pseudonymisation salt); this module turns them into the store's meter ids, so the
estimates of the compute stage can be checked against the injected effects.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from energy_lib.baselines.data import window
from energy_lib.identity import pseudonyms
from energy_lib.ingest.formats import default_provider

__all__ = ["programme_effects", "true_savings"]


def programme_effects(raw: str | Path) -> pd.DataFrame:
    """Every participant bill of the demo: ``meter_id``, ``programme_id``, ``carrier``,
    ``period_start``, ``period_end``, ``counterfactual``, ``actual`` and ``savings`` [kWh or m³].

    Parameters
    ----------
    raw : path
        The demo's export directory (``data/raw/demo``), which holds ``truth/``.
    """
    frame = pd.read_parquet(Path(raw) / "truth" / "programme_effects.parquet")
    provider = frame["carrier"].map({c: default_provider(c) for c in frame["carrier"].unique()})
    frame["meter_id"] = pseudonyms("meter", provider, frame["carrier"], frame["account"])
    for column in ("period_start", "period_end"):
        frame[column] = frame[column].astype("datetime64[us]")
    return frame.drop(columns=["account", "site_key"])


def true_savings(effects: pd.DataFrame, readings: pd.DataFrame, edges: pd.Series, *, days: int = 365) -> pd.DataFrame:
    """True savings of each meter over the reporting periods a programme analysis uses: the
    whole periods in ``days`` after the meter's enrolment that are also stored readings.

    Parameters
    ----------
    effects : pandas.DataFrame
        :func:`programme_effects` of one programme and carrier.
    readings : pandas.DataFrame
        The stored readings of the meters (``meter_id``, ``period_start``).
    edges : pandas.Series
        Enrolment day per meter id.

    Returns
    -------
    pandas.DataFrame
        Per ``meter_id``: ``true_counterfactual``, ``true_savings`` and ``periods``.
    """
    reporting = window(effects, edges, days=days, before=False)
    stored = reporting.merge(readings[["meter_id", "period_start"]].drop_duplicates(), on=["meter_id", "period_start"])
    return stored.groupby("meter_id").agg(true_counterfactual=("counterfactual", "sum"),
                                          true_savings=("savings", "sum"), periods=("savings", "size"))
