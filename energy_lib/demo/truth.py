"""The demo city's answer key: what each programme participant would have used without the
programme, bill by bill, linked to the stored meters.

The generator writes ``truth/programme_effects.parquet`` with the utilities' customer numbers (it
never sees the pseudonymisation key); this module turns them into the store's meter ids, so the
estimates of the compute stage can be checked against the injected effects.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from energy_lib.baselines.data import window
from energy_lib.core.identity import pseudonyms
from energy_lib.core.status import Sufficiency
from energy_lib.ingest.formats import default_provider
from energy_lib.savings import aggregate
from energy_lib.store import Store

__all__ = ["programme_effects", "true_savings", "compare_with_truth", "recovery_summary", "true_effect", "annual_truth",
           "band_coverage", "pseudo_areas"]


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


def compare_with_truth(store: Store, derived: Store, effects: pd.DataFrame) -> pd.DataFrame:
    """Per programme meter: the compute stage's savings estimate next to the true savings.

    Parameters
    ----------
    store, derived : Store
        The canonical store and the compute stage's derived tables.
    effects : pandas.DataFrame
        :func:`programme_effects` of the demo the store was loaded from.

    Returns
    -------
    pandas.DataFrame
        The ``savings`` rows of every ``programme:<id>`` analysis with a band, joined with
        :func:`true_savings` of the same bills (``true_counterfactual``, ``true_savings``,
        ``periods``) [kWh or m³].
    """
    estimates = derived.sql("SELECT * FROM savings WHERE analysis LIKE 'programme:%' ORDER BY analysis, carrier, meter_id")
    edges = derived.sql("SELECT analysis, meter_id, baseline_end FROM baselines WHERE analysis LIKE 'programme:%'")
    readings = store.sql("SELECT meter_id, carrier, period_start FROM readings WHERE resolution = 'billing'")
    parts = []
    for (analysis, carrier), rows in estimates.groupby(["analysis", "carrier"], sort=True):  # a few programmes
        programme = analysis.split(":", 1)[1]
        mine = effects[(effects["programme_id"] == programme) & (effects["carrier"] == carrier)]
        meter_edges = edges[edges["analysis"] == analysis].set_index("meter_id")["baseline_end"]
        truth = true_savings(mine, readings[readings["carrier"] == carrier], meter_edges)
        parts.append(rows.join(truth, on="meter_id"))
    return pd.concat(parts, ignore_index=True).dropna(subset=["savings", "band"])


def recovery_summary(compared: pd.DataFrame) -> pd.DataFrame:
    """How well the estimates recover the truth, per programme analysis and carrier.

    Parameters
    ----------
    compared : pandas.DataFrame
        :func:`compare_with_truth`.

    Returns
    -------
    pandas.DataFrame
        ``analysis``, ``carrier``, ``meters``, ``estimate`` and ``truth`` (sums over the meters),
        ``band`` (90% band of the sum: root sum of squares of the meters' calibrated bands, as
        their errors are independent), ``within_band`` (|estimate − truth| ≤ band),
        ``meter_coverage`` (share of meters whose calibrated band covers their truth; 0.90 is
        the claim) and ``meter_coverage_uncalibrated`` (the same with the Guideline 14 FSU band).
    """
    error = compared["savings"] - compared["true_savings"]
    frame = compared.assign(covered=error.abs() <= compared["band"],
                            covered_uncalibrated=error.abs() <= compared["fsu_band"])
    keys = ["analysis", "carrier"]
    totals = aggregate(frame, keys, band="band")[keys + ["meters", "savings", "band"]]
    checks = frame.groupby(keys, sort=True).agg(truth=("true_savings", "sum"), meter_coverage=("covered", "mean"),
                                                meter_coverage_uncalibrated=("covered_uncalibrated", "mean"))
    summary = totals.rename(columns={"savings": "estimate"}).join(checks, on=keys)
    summary.insert(5, "within_band", (summary["estimate"] - summary["truth"]).abs() <= summary["band"])
    return summary[keys + ["meters", "estimate", "truth", "band", "within_band", "meter_coverage",
                           "meter_coverage_uncalibrated"]]


def true_effect(effects: pd.DataFrame, panel: pd.DataFrame, transition_months: int) -> pd.Series:
    """The true average effect on participants' use per day that a programme evaluation estimates.

    Parameters
    ----------
    effects : pandas.DataFrame
        :func:`programme_effects` of one programme.
    panel : pandas.DataFrame
        The evaluation's stacked panel (:func:`energy_lib.evaluation.stacked_panel`).
    transition_months : int
        Months after enrolment left out of the effect.

    Returns
    -------
    pandas.Series
        Per carrier: the mean over the participants' evaluated months after the transition of
        (actual − counterfactual) per day of each bill [unit/day; negative: use fell].
    """
    post = panel[panel["treated"] & (panel["event"] >= transition_months)]
    bills = effects.assign(month=effects["billing_month"].astype("datetime64[us]"),
                           change_per_day=-effects["savings"] / (effects["period_end"] - effects["period_start"]).dt.days)
    joined = post.merge(bills[["meter_id", "month", "change_per_day"]], on=["meter_id", "month"], how="left")
    if joined["change_per_day"].isna().any():
        raise ValueError("some evaluated participant months have no bill in the answer key: "
                         "was the store loaded from this demo?")
    return joined.groupby("carrier")["change_per_day"].mean()


def annual_truth(store: Store, derived: Store, effects: pd.DataFrame) -> pd.DataFrame:
    """The annual analysis's primary savings rows next to their true savings, where the demo knows
    them exactly: 0 for meters at sites in no programme, and for participants whose programme
    saved nothing in the baseline year, the injected savings of the stored reporting bills (a
    participant saving already in its baseline year has no exact truth for a year-on-year figure
    and is left out).

    Returns
    -------
    pandas.DataFrame
        The ``savings`` rows (``analysis`` ``annual``, primary) with ``true_savings`` [kWh or m³].
    """
    rows = derived.sql("SELECT * FROM savings WHERE analysis = 'annual' AND \"primary\" ORDER BY meter_id")
    programme_sites = set(store.read("participation")["site_id"])
    bills = store.sql("SELECT meter_id, period_start FROM readings WHERE resolution = 'billing'").drop_duplicates()
    start = rows["reporting_start"].min()
    month = effects["billing_month"].astype("datetime64[us]")
    stored = effects.merge(bills, on=["meter_id", "period_start"])
    stored_month = stored["billing_month"].astype("datetime64[us]")
    reporting = stored[(stored_month >= start) & (stored_month < start + pd.DateOffset(months=12))]
    baseline = effects[(month >= start - pd.DateOffset(months=12)) & (month < start)]
    clean = baseline.groupby("meter_id")["savings"].apply(lambda s: bool((s == 0).all()))
    truth = reporting.groupby("meter_id")["savings"].sum()
    participant = rows["site_id"].isin(programme_sites).to_numpy()
    known = rows["meter_id"].map(clean).fillna(False).astype(bool).to_numpy()
    rows["true_savings"] = np.where(participant, rows["meter_id"].map(truth).fillna(0.0).to_numpy(), 0.0)
    return rows[~participant | known].reset_index(drop=True)


def pseudo_areas(ward: pd.Series, gu: pd.Series, salt: str) -> pd.DataFrame:
    """Random areas of gu and city size made of whole wards, to measure the bands of sums of that
    size on more sums than a city has.

    Parameters
    ----------
    ward, gu : pandas.Series
        Each meter's ward and gu code.
    salt : str
        Salt of the hash of the ward codes that orders the wards (the same salt, the same areas).

    Returns
    -------
    pandas.DataFrame
        ``pseudo_gu`` (the wards in hash order cut into as many groups of consecutive wards as
        there are gu, of equal size ± 1 ward) and ``half_city`` (the same order cut in two),
        indexed as ``ward``.
    """
    codes, uniques = pd.factorize(ward.astype(str))
    order = np.argsort(pd.util.hash_array((uniques.to_numpy(object) + f":{salt}").astype(object)), kind="stable")
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[order] = np.arange(len(uniques))
    n_gu = max(gu.nunique(), 1)
    return pd.DataFrame({"pseudo_gu": (rank * n_gu // max(len(uniques), 1))[codes],
                         "half_city": (rank * 2 // max(len(uniques), 1))[codes]}, index=ward.index)


def band_coverage(rows: pd.DataFrame, programme_sites: set, *, splits: int = 20) -> pd.DataFrame:
    """Coverage of the 90% savings bands against the truth on meters held apart from the
    calibration, for meters, wards, gu and the city, and for sums of gu and city size
    (:func:`pseudo_areas`).

    Each of ``splits`` draws (a hash of the meter id and the draw) puts half of the meters in a
    calibration half and half in an evaluation half. The bands are calibrated on the placebo
    meters (sites in no programme) of the calibration half exactly as the compute stage does
    (:func:`energy_lib.compute.calibrate`); the evaluation half's meters that sums count
    (``in_totals``) are summed per ward, gu and city and compared with their true sums. A demo
    has 5 gu and one city: their coverage over the draws is the share of draws of a handful of
    realised errors. The draws also sum random groups of wards as many as a gu has
    (``pseudo-gu``) and the two halves of a random split of the wards (``half-city``): as many
    sums of those sizes as draws allow, with their bands computed exactly as a gu's (each
    meter's ward and gu part added within its real ward and gu).

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`annual_truth`.
    programme_sites : set
        Site ids of every programme participant.

    Returns
    -------
    pandas.DataFrame
        Per ``level`` (``meter``, ``ward``, ``gu``, ``city``, ``pseudo-gu``, ``half-city``) and
        ``carrier``: ``n`` (meters or
        sums over all draws), ``coverage`` (share with |estimate − truth| ≤ band) and
        ``error_ratio`` (mean |estimate − truth| / band; 0.61 for normal errors under an honest
        90% band).
    """
    from energy_lib import savings as sv
    from energy_lib.compute import AREAS, SHARED, SIZE

    by = ["carrier", "method"]
    rows = rows.assign(floored=sv.floored_band(rows["fsu_band"], rows["floor_band"]), city="29")
    parts = []
    for draw in range(splits):
        half = pd.util.hash_array((rows["meter_id"].astype(str) + f":coverage:{draw}").to_numpy(object)) % 2 == 0
        calibration, held = rows[half], rows[~half].copy()
        placebo = calibration[~calibration["site_id"].isin(programme_sites)]
        factors = sv.band_calibration(placebo, by, band="floored")
        sums = sv.aggregate_calibration(placebo[placebo["sufficiency"] == Sufficiency.PASS], by, band="floored",
                                        areas=AREAS, size=SIZE)
        held["band"] = sv.calibrate_bands(held, factors, by, band="floored")
        errors = sv.aggregate_errors(held, sums, by, band="floored", areas=tuple(AREAS), size=SIZE)
        held[list(errors.columns)] = errors.to_numpy()
        held = held[held["in_totals"]]
        error = (held["savings"] - held["true_savings"]).abs()
        parts.append(pd.DataFrame({"level": "meter", "carrier": held["carrier"].to_numpy(),
                                   "error": error.to_numpy(), "band": held["band"].to_numpy()}))
        held = held.assign(**pseudo_areas(held["ward_code"], held["gu_code"], f"coverage:{draw}"))
        for level, column in (("ward", "ward_code"), ("gu", "gu_code"), ("city", "city"),
                              ("pseudo-gu", "pseudo_gu"), ("half-city", "half_city")):
            keys = ["carrier", column]
            total = sv.aggregate(held, keys, band="band", se="se", shared=SHARED)
            truth = held.groupby(keys, observed=True)["true_savings"].sum()
            error = (total["savings"] - total.set_index(keys).index.map(truth).to_numpy()).abs()
            parts.append(pd.DataFrame({"level": level, "carrier": total["carrier"].to_numpy(),
                                       "error": error.to_numpy(), "band": total["band"].to_numpy()}))
    frame = pd.concat(parts, ignore_index=True)
    frame["covered"] = frame["error"] <= frame["band"]
    frame["ratio"] = frame["error"] / frame["band"]
    out = frame.groupby(["level", "carrier"], sort=False).agg(n=("covered", "size"), coverage=("covered", "mean"),
                                                           error_ratio=("ratio", "mean")).reset_index()
    return out
