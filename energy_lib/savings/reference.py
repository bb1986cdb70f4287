"""Our baselines side by side with OpenEEmeter 2.10's, on the sample meters eemeter ships.

The fixtures under ``tests/reference/`` were written by running eemeter 2.10.11 in its own
environment (``make reference-eemeter``; eemeter 2.10 needs numpy < 2 and pandas < 2). This
module turns a fixture's inputs into our data structures, fits our models and tabulates both
results, for the tests and for ``notebooks/research/caltrack_vs_openeemeter.ipynb``.

Temperatures in the fixtures are °F; they are converted to °C here, and our balance points are
reported back in °F so the columns compare directly. Slopes per °C are 9/5 of slopes per °F.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from energy_lib.baselines.caltrack import CalTRACKFit, CalTRACKSettings, Periods, fit_caltrack
from energy_lib.baselines.sufficiency import hourly_sufficiency, sufficiency
from energy_lib.baselines.towt import SEGMENT_NAMES, TOWTModel, fahrenheit_to_celsius, fit_towt
from energy_lib.savings import metered_savings, towt_savings

__all__ = ["load_fixture", "caltrack_periods", "caltrack_settings", "fit_sample",
           "tied_reference", "compare_caltrack", "towt_inputs", "towt_window", "fit_towt_sample",
           "compare_towt"]

MODEL_TYPE_NAMES = {"cdd_hdd": "hdd_cdd"}
"""eemeter's model-type names that differ from ours."""


def load_fixture(path: str | Path) -> dict:
    """Read an eemeter fixture (JSON written by tests/reference/make_eemeter_*.py)."""
    return json.loads(Path(path).read_text())


def _f_to_c_grid(value: float | None) -> float:
    return np.nan if value is None else float(fahrenheit_to_celsius(value))


def caltrack_periods(rows: dict, meter_id: str, *, billing: bool, reporting: bool) -> Periods:
    """One sample's baseline design or reporting rows as our :class:`Periods` (one meter).

    Rows without temperature or without a period length are left out, as eemeter leaves them
    out of the fit; baseline rows also need observed use.
    """
    usage_key = "reporting_observed" if reporting else "meter_value_total"
    keep = [i for i in range(len(rows["start"]))
            if rows["temperature_day_means"][i] is not None and rows["n_days"][i] is not None
            and (reporting or rows["usage_per_day"][i] is not None)]
    depth = max(len(rows["temperature_day_means"][i]) for i in keep)
    temp = np.full((1, len(keep), depth), np.nan)
    for j, i in enumerate(keep):
        temp[0, j, :len(rows["temperature_day_means"][i])] = fahrenheit_to_celsius(rows["temperature_day_means"][i])

    def column(key: str) -> np.ndarray:
        return np.array([[np.nan if rows[key][i] is None else rows[key][i] for i in keep]], dtype=float)

    kept = column("n_days_kept")
    start = np.array([[np.datetime64(pd.Timestamp(rows["start"][i]).tz_convert(None), "us") for i in keep]])
    return Periods(pd.Index([meter_id]), start, column(usage_key), column("n_days"), temp,
                   kept + column("n_days_dropped"), kept if billing else np.ones_like(kept))


def caltrack_settings(sample: dict) -> CalTRACKSettings:
    """Our settings equivalent to the eemeter settings the sample was fitted with."""
    make = CalTRACKSettings.billing if sample["interval"] == "billing" else CalTRACKSettings
    return make(fit_cdd=sample["fit_settings"].get("fit_cdd", True))


def fit_sample(sample: dict, sample_id: str) -> tuple[CalTRACKFit, Periods]:
    """Fit our CalTRACK model (keeping every candidate) to a sample's baseline; return the fit and
    its reporting periods."""
    billing = sample["interval"] == "billing"
    fit = fit_caltrack(caltrack_periods(sample["baseline_design"], sample_id, billing=billing, reporting=False),
                       caltrack_settings(sample), keep_candidates=True)
    reporting = caltrack_periods(sample["reporting_predictions"], sample_id, billing=billing, reporting=True)
    return fit, reporting


def tied_reference(sample: dict, fit: CalTRACKFit) -> dict:
    """eemeter's parameters and savings for the model we selected.

    Where eemeter's selection is a floating-point tie (two balance points whose adjusted R²
    agree to the last few bits, so the winner depends on summation order), the fixture lists the
    tied candidates and this returns the one we selected; otherwise eemeter's selected model.
    """
    if not sample["candidates"]["selection_is_floating_point_tie"]:
        return {"params": sample["result"]["selected"]["model_params"],
                "savings": sample["metered_savings"]["totals"]["metered_savings"],
                "counterfactual": sample["metered_savings"]["totals"]["counterfactual_usage"]}
    ours = round(fit.heating_balance_point[0] * 9 / 5 + 32)
    tie = next(t for t in sample["candidates"]["near_ties"] if t["model_params"]["heating_balance_point"] == ours)
    return {"params": tie["model_params"], "savings": tie["metered_savings_total"],
            "counterfactual": tie["counterfactual_usage_total"]}


def _relative(ours: float, theirs: float | None) -> float:
    if theirs is None:
        return np.nan
    return abs(ours - theirs) / max(abs(theirs), 1e-300)


def compare_caltrack(fixture: dict) -> pd.DataFrame:
    """One row per eemeter daily or billing sample: eemeter's result and ours.

    Columns: ``sample``, ``interval``, ``model_eemeter``, ``model_ours``, heating and cooling
    balance points [°F] from each, ``coef_rel_diff`` (largest relative difference of intercept
    and slopes, slopes compared per °F), ``r2_adj_eemeter`` / ``r2_adj_ours``, counterfactual and
    metered savings totals [sample units] from each with ``savings_rel_diff``, the FSU band from
    each, ``valid_days_eemeter`` / ``valid_days_ours`` (sufficiency) and ``floating_point_tie``.
    """
    rows = []
    for sample_id in sorted(fixture["samples"]):
        sample = fixture["samples"][sample_id]
        fit, reporting = fit_sample(sample, sample_id)
        selected = sample["result"]["selected"]
        reference = tied_reference(sample, fit)
        params = reference["params"]
        saved = metered_savings(fit, reporting).iloc[0]
        coefficients = [_relative(fit.intercept[0], params.get("intercept"))]
        if "beta_hdd" in params:
            coefficients.append(_relative(fit.beta_hdd[0] * 5 / 9, params["beta_hdd"]))
        if "beta_cdd" in params:
            coefficients.append(_relative(fit.beta_cdd[0] * 5 / 9, params["beta_cdd"]))
        ours_sufficiency = sufficiency(caltrack_periods(sample["baseline_design"], sample_id,
                                                        billing=sample["interval"] == "billing",
                                                        reporting=False)).iloc[0]
        rows.append({
            "sample": sample_id,
            "interval": sample["interval"],
            "model_eemeter": MODEL_TYPE_NAMES.get(selected["model_type"], selected["model_type"]),
            "model_ours": fit.model_type[0],
            "heating_bp_f_eemeter": params.get("heating_balance_point", np.nan),
            "heating_bp_f_ours": fit.heating_balance_point[0] * 9 / 5 + 32,
            "cooling_bp_f_eemeter": params.get("cooling_balance_point", np.nan),
            "cooling_bp_f_ours": fit.cooling_balance_point[0] * 9 / 5 + 32,
            "coef_rel_diff": float(np.nanmax(coefficients)),
            "r2_adj_eemeter": selected["r_squared_adj"],
            "r2_adj_ours": fit.r_squared_adj[0],
            "counterfactual_eemeter": reference["counterfactual"],
            "counterfactual_ours": saved["counterfactual"],
            "savings_eemeter": reference["savings"],
            "savings_ours": saved["savings"],
            "savings_rel_diff": _relative(saved["savings"], reference["savings"]),
            "fsu_band_eemeter": sample["metered_savings"]["error_bands"].get("FSU Error Band"),
            "fsu_band_ours": saved["fsu_band"],
            "valid_days_eemeter": sample["data_sufficiency"]["data"]["too_many_days_with_missing_data"]["n_valid_days"],
            "valid_days_ours": int(ours_sufficiency["valid_days"]),
            "floating_point_tie": bool(sample["candidates"]["selection_is_floating_point_tie"]),
        })
    return pd.DataFrame(rows)


def towt_inputs(sample: dict) -> tuple[pd.Series, pd.Series]:
    """An hourly sample's usage and temperature [°C] as series on its (UTC) hourly index."""
    inputs = sample["inputs"]
    index = pd.date_range(pd.Timestamp(inputs["index_start_utc"]).tz_convert(None), periods=inputs["n_hours"], freq="h")
    usage = pd.Series(np.array(inputs["usage"], dtype=float), index=index)
    temp = pd.Series(fahrenheit_to_celsius(np.array(inputs["temperature_f"], dtype=float)), index=index)
    return usage, temp


def towt_window(series: pd.Series, window: dict) -> pd.Series:
    """The rows of a fixture window; eemeter blanks the closing boundary row, so we do too."""
    part = series.iloc[window["offset_in_inputs"]: window["offset_in_inputs"] + window["n_rows"]].copy()
    part.iloc[-1] = np.nan
    return part


def fit_towt_sample(sample: dict, sample_id: str) -> tuple[TOWTModel, pd.Series, pd.Series]:
    """Fit our TOWT model to an hourly sample's baseline; return it, the usage and temperature."""
    usage, temp = towt_inputs(sample)
    return fit_towt(towt_window(usage, sample["windows"]["baseline"]), temp, meter_id=sample_id), usage, temp


def compare_towt(fixture: dict) -> pd.DataFrame:
    """One row per eemeter hourly sample: eemeter's CalTRACK hourly result and our TOWT.

    Columns: ``sample``, ``occupancy_match`` and ``bins_match`` (all twelve segments identical),
    ``max_abs_prediction_diff`` [sample units per hour] over the reporting year,
    counterfactual and metered savings totals from each with ``savings_rel_diff``,
    ``cvrmse_jan_eemeter`` / ``cvrmse_jan_ours`` (the January-centred segment's CV(RMSE)),
    ``fsu_band_ours`` (our 90% FSU band; eemeter 2.10 gives none for hourly models),
    and the baseline sufficiency verdict from each (``sufficiency_eemeter``, ``sufficiency_ours``).
    """
    rows = []
    for sample_id in sorted(fixture["samples"]):
        sample = fixture["samples"][sample_id]
        model, usage, temp = fit_towt_sample(sample, sample_id)
        occupancy = all(segment.occupied.tolist() == sample["model"]["segments"][name]["occupancy"]
                        for name, segment in zip(SEGMENT_NAMES, model.segments))
        bins = all(np.allclose(segment.endpoints, fahrenheit_to_celsius(sample["model"]["segments"][name]["bin_endpoints"]),
                               atol=1e-12) for name, segment in zip(SEGMENT_NAMES, model.segments))
        reporting = towt_window(usage, sample["windows"]["reporting"])
        predicted = model.predict(reporting.index, temp.reindex(reporting.index).to_numpy())
        expected = np.array(sample["predictions"]["reporting"]["predicted_usage"], dtype=float)
        ours = towt_savings(model, reporting, temp)
        totals = sample["totals"]
        baseline = sample["windows"]["baseline"]
        start = usage.index[baseline["offset_in_inputs"]]
        end = usage.index[baseline["offset_in_inputs"] + baseline["n_rows"] - 1]
        ours_sufficiency = hourly_sufficiency(towt_window(usage, baseline), temp, start, end)
        rows.append({
            "sample": sample_id,
            "occupancy_match": occupancy,
            "bins_match": bins,
            "max_abs_prediction_diff": float(np.nanmax(np.abs(predicted - expected))),
            "counterfactual_eemeter": totals["counterfactual_usage"],
            "counterfactual_ours": ours["counterfactual"],
            "savings_eemeter": totals["metered_savings"],
            "savings_ours": ours["savings"],
            "savings_rel_diff": _relative(ours["savings"], totals["metered_savings"]),
            "cvrmse_jan_eemeter": sample["model"]["segments"][SEGMENT_NAMES[0]]["totals_metrics"]["cvrmse_adj"],
            "cvrmse_jan_ours": model.segments[0].metrics["cvrmse_adj"],
            "fsu_band_ours": ours["fsu_band"],
            "sufficiency_eemeter": sample["sufficiency"]["baseline"]["status"],
            "sufficiency_ours": ours_sufficiency["status"],
        })
    return pd.DataFrame(rows)
