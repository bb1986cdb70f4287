"""Build the OpenEEmeter 2.10.11 reference fixture for the CalTRACK daily and billing methods.

The script runs the reference implementation (eemeter 2.10.11) on every daily, monthly-billing
and bimonthly-billing sample meter that ships with eemeter, and writes everything another
implementation needs to reproduce the results without eemeter installed:

    tests/reference/eemeter_2_10_fixture.json

It must be run with the interpreter of the separate eemeter virtualenv, from the repository root:

    .venv-eemeter/bin/python tests/reference/make_eemeter_fixture.py

(the intended `make reference-eemeter` target runs exactly this command). The output is
deterministic: rerunning with the same eemeter / numpy / pandas / scipy / statsmodels versions
reproduces the file byte for byte. Pass `--check` to rebuild in memory and compare with the
file on disk instead of writing it.

Timing of eemeter itself (not part of the fixture, which stays deterministic):

    .venv-eemeter/bin/python tests/reference/make_eemeter_fixture.py --time 7

The procedure per sample follows the eemeter documentation and tests:

* ``meter, temps, meta = eemeter.load_sample(sample_id)``
* baseline: ``get_baseline_data(meter, end=meta["blackout_start_date"], max_days=365)``
* reporting: ``get_reporting_data(meter, start=meta["blackout_end_date"], max_days=365)``
* daily samples: ``create_caltrack_daily_design_matrix`` then
  ``fit_caltrack_usage_per_day_model(dm, fit_cdd=...)``
* billing samples: ``create_caltrack_billing_design_matrix`` then
  ``fit_caltrack_usage_per_day_model(dm, fit_cdd=..., use_billing_presets=True,
  weights_col="n_days_kept")``
* ``fit_cdd=False`` for gas meters (eemeter's documented convention: CDD models are not
  fitted for natural gas), ``fit_cdd=True`` for electricity; every other setting is default.
* ``metered_savings(model, reporting_meter, temps, with_disaggregated=True)``
* data sufficiency: ``caltrack_sufficiency_criteria(dm, requested_start=end - 365 days,
  requested_end=end)`` (recorded only; eemeter does not gate the fit on it).

The exported per-period temperature inputs are rebuilt here from the hourly temperatures (see
docs/reference/eemeter-caltrack-daily-billing.md) and are cross-checked against eemeter's own
design matrices before anything is written; the script fails if they disagree.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import warnings as py_warnings
from datetime import timedelta
from pathlib import Path

import eemeter
import numpy as np
import pandas as pd
import scipy
import statsmodels

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "eemeter_2_10_fixture.json"
FREQS = ("daily", "billing_monthly", "billing_bimonthly")
BALANCE_POINTS = list(range(30, 91))
BILLING_TOLERANCE = pd.Timedelta(days=35)


# --------------------------------------------------------------------------------------------
# small helpers


def clean(value):
    """Make a value JSON-safe: numpy scalars to Python, NaN/inf to None, timestamps to ISO."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    if value is pd.NaT:
        return None
    raise TypeError(f"cannot serialise {type(value)!r}: {value!r}")


def iso(index) -> list[str]:
    return [ts.isoformat() for ts in index]


def qualified_names(warning_list) -> list[str]:
    out = []
    for w in warning_list:
        out.append(w["qualified_name"] if isinstance(w, dict) else w.qualified_name)
    return out


def load_sample_ids() -> list[str]:
    with open(Path(eemeter.__file__).parent / "samples" / "metadata.json") as f:
        metadata = json.load(f)
    return sorted(k for k, v in metadata.items() if v["freq"] in FREQS)


# --------------------------------------------------------------------------------------------
# temperature "days" per meter period, rebuilt from the hourly series


def period_temperature_days(index: pd.DatetimeIndex, temps: pd.Series, tolerance):
    """For each period start in ``index`` return the hourly-row count and the kept day means.

    Hourly rows are assigned to the latest period start at or before them, and only if they
    lie at most ``tolerance`` after it (``None`` = no limit). A period with at most 24 rows is
    one day, kept when it has more than 12 rows (rows, not non-null values); its mean ignores
    NaN. A longer period is cut into consecutive blocks of 24 rows from its first row; if fewer
    than 90 % of all its rows are non-null no block is kept, otherwise blocks with more than 12
    non-null values are kept. Returns a list of dicts (the last period included).
    """
    t_index = temps.index
    values = temps.to_numpy(dtype=float)
    out = []
    for i, start in enumerate(index):
        lo = t_index.searchsorted(start, side="left")
        hi = len(t_index)
        if i + 1 < len(index):
            hi = min(hi, t_index.searchsorted(index[i + 1], side="left"))
        if tolerance is not None:
            hi = min(hi, t_index.searchsorted(start + tolerance, side="right"))
        block = values[lo:max(lo, hi)]
        n_rows = len(block)
        if n_rows == 0:
            out.append({"n_hours": 0, "n_hours_not_null": 0, "days": [], "n_days_kept": None,
                        "n_days_dropped": None})
            continue
        n_not_null = int(np.isfinite(block).sum())
        if n_rows <= 24:
            if n_rows > 12:
                day = float(np.nanmean(block)) if n_not_null else float("nan")
                days, n_total = [day], 1
            else:
                days, n_total = [], 1
        else:
            chunks = [block[k:k + 24] for k in range(0, n_rows, 24)]
            n_total = len(chunks)
            if n_not_null < 0.9 * n_rows:
                days = []
            else:
                days = [float(np.nanmean(c)) for c in chunks if np.isfinite(c).sum() > 12]
        out.append({
            "n_hours": n_rows,
            "n_hours_not_null": n_not_null,
            "days": days,
            "n_days_kept": len(days),
            "n_days_dropped": n_total - len(days),
        })
    return out


def degree_days(days, bp, kind, total_days=None):
    """Mean over kept days of the daily degree days; times ``total_days`` when given."""
    if not days:
        return float("nan")
    arr = np.asarray(days, dtype=float)
    dd = np.maximum(arr - bp, 0) if kind == "cdd" else np.maximum(bp - arr, 0)
    value = float(dd.mean())
    return value * total_days if total_days is not None else value


def check_design_matrix(dm: pd.DataFrame, rows, label: str, averages: bool, bps=BALANCE_POINTS):
    """Assert that the rebuilt temperature days reproduce eemeter's design-matrix columns."""
    worst = 0.0
    for ts, row in zip(dm.index, rows):
        got = dm.loc[ts]
        if got.isnull().any():
            continue
        assert row["n_days_kept"] == got["n_days_kept"], (label, ts)
        assert row["n_days_dropped"] == got["n_days_dropped"], (label, ts)
        total = None if averages or row["n_hours"] <= 24 else row["n_days_kept"] + row["n_days_dropped"]
        for kind in ("cdd", "hdd"):
            for bp in bps:
                col = f"{kind}_{bp}"
                if col not in dm.columns:
                    continue
                mine = degree_days(row["days"], bp, kind, total)
                ref = float(got[col])
                err = abs(mine - ref) / max(1.0, abs(ref))
                worst = max(worst, err)
    if worst > 1e-12:
        raise AssertionError(f"{label}: rebuilt degree days differ from eemeter by {worst:.3e}")
    return worst


# --------------------------------------------------------------------------------------------
# the reference run


def fit_settings(meta) -> dict:
    billing = meta["freq"].startswith("billing")
    settings = {"fit_cdd": meta["interpretation"] != "gas"}
    if billing:
        settings.update(use_billing_presets=True, weights_col="n_days_kept")
    return settings


def run_pipeline(meter, temps, meta):
    """Everything eemeter does for one sample, load excluded. Returns the intermediate objects."""
    billing = meta["freq"].startswith("billing")
    baseline_end = meta["blackout_start_date"]
    reporting_start = meta["blackout_end_date"]
    baseline_meter, baseline_warnings = eemeter.get_baseline_data(
        meter, end=baseline_end, max_days=365)
    if billing:
        dm = eemeter.create_caltrack_billing_design_matrix(baseline_meter, temps)
    else:
        dm = eemeter.create_caltrack_daily_design_matrix(baseline_meter, temps)
    model = eemeter.fit_caltrack_usage_per_day_model(dm, **fit_settings(meta))
    reporting_meter, reporting_warnings = eemeter.get_reporting_data(
        meter, start=reporting_start, max_days=365)
    savings, error_bands = eemeter.metered_savings(
        model, reporting_meter, temps, with_disaggregated=True)
    return {
        "baseline_meter": baseline_meter, "baseline_warnings": baseline_warnings,
        "design_matrix": dm, "model": model,
        "reporting_meter": reporting_meter, "reporting_warnings": reporting_warnings,
        "savings": savings, "error_bands": error_bands,
    }


def candidate_rows(model):
    rows = []
    for c in model.candidates:
        p = c.model_params or {}
        rows.append([
            c.model_type,
            p.get("cooling_balance_point", _bp_from_formula(c.formula, "cdd")),
            p.get("heating_balance_point", _bp_from_formula(c.formula, "hdd")),
            c.status,
            c.r_squared_adj,
            [w.qualified_name.rsplit(".", 1)[-1] for w in c.warnings],
        ])
    return rows


def _bp_from_formula(formula, kind):
    for term in formula.replace("~", "+").split("+"):
        term = term.strip()
        if term.startswith(kind + "_"):
            return int(term[4:])
    return None


def build_sample(sample_id: str) -> dict:
    meter, temps, meta = eemeter.load_sample(sample_id)
    billing = meta["freq"].startswith("billing")
    r = run_pipeline(meter, temps, meta)
    dm, model = r["design_matrix"], r["model"]
    baseline_meter, reporting_meter = r["baseline_meter"], r["reporting_meter"]

    # --- inputs: temperature days per baseline period, checked against eemeter's design matrix
    tol_fit = BILLING_TOLERANCE if billing else pd.Timedelta(baseline_meter.index.freq)
    base_rows = period_temperature_days(baseline_meter.index, temps, tol_fit)
    worst_fit = check_design_matrix(dm, base_rows, f"{sample_id} baseline", averages=True)

    # --- prediction design matrix (eemeter's own, via predict with the design matrix)
    pred = model.predict(reporting_meter.index, temps, with_disaggregated=True,
                         with_design_matrix=True).result
    rep_freq = reporting_meter.index.freq
    tol_pred = pd.Timedelta(rep_freq) if rep_freq is not None else None
    rep_rows = period_temperature_days(reporting_meter.index, temps, tol_pred)
    worst_pred = check_design_matrix(
        pred, rep_rows, f"{sample_id} reporting", averages=False)

    # --- data sufficiency (recorded, not used to gate the fit)
    baseline_end = meta["blackout_start_date"]
    suff = eemeter.caltrack_sufficiency_criteria(
        dm, requested_start=baseline_end - timedelta(days=365), requested_end=baseline_end)

    day_counts = eemeter.day_counts(dm.index)
    baseline_design = {
        "start": iso(dm.index),
        "n_days": list(day_counts.values),
        "meter_value_total": list(baseline_meter["value"].values),
        "usage_per_day": list(dm["meter_value"].values),
        "n_days_kept": list(dm["n_days_kept"].values),
        "n_days_dropped": list(dm["n_days_dropped"].values),
        "temperature_mean": list(dm["temperature_mean"].values),
        "temperature_not_null": list(dm["temperature_not_null"].values),
        "temperature_null": list(dm["temperature_null"].values),
        "n_hours_matched": [row["n_hours"] for row in base_rows],
        "temperature_day_means": [row["days"] for row in base_rows],
    }

    best = model.model
    selected = None
    if best is not None:
        selected = {
            "model_type": best.model_type,
            "formula": best.formula,
            "status": best.status,
            "cooling_balance_point": best.model_params.get("cooling_balance_point"),
            "heating_balance_point": best.model_params.get("heating_balance_point"),
            "model_params": best.model_params,
            "r_squared_adj": best.r_squared_adj,
            "warnings": qualified_names(best.warnings),
        }
        res = best.result
        selected["statsmodels"] = {
            "nobs": float(res.nobs),
            "df_resid": float(res.df_resid),
            "df_model": float(res.df_model),
            "rsquared": float(res.rsquared),
            "rsquared_adj": float(res.rsquared_adj),
            "ssr": float(res.ssr),
            "scale": float(res.scale),
            "params": {k: float(v) for k, v in res.params.items()},
            "bse": {k: float(v) for k, v in res.bse.items()},
            "pvalues": {k: float(v) for k, v in res.pvalues.items()},
        }

    qualified = sorted(
        (c for c in model.candidates if c.status == "QUALIFIED"),
        key=lambda c: -c.r_squared_adj)
    top = [{
        "model_type": c.model_type, "model_params": c.model_params,
        "r_squared_adj": c.r_squared_adj,
    } for c in qualified[:5]]
    # Candidates whose adjusted R^2 is within 1e-9 of the selected one: when there is more than
    # one, the selection is decided by floating-point rounding (see the spec, "ties").
    near_ties = []
    if best is not None:
        for c in qualified:
            gap = best.r_squared_adj - c.r_squared_adj
            if gap > 1e-9:
                continue
            alt, _ = eemeter.metered_savings(c, reporting_meter, temps)
            near_ties.append({
                "model_type": c.model_type, "model_params": c.model_params,
                "r_squared_adj": c.r_squared_adj, "gap_to_selected": gap,
                "selected": c is best,
                "counterfactual_usage_total": alt["counterfactual_usage"].sum(),
                "metered_savings_total": alt["metered_savings"].sum(),
            })
        near_ties.sort(key=lambda t: (t["model_params"].get("cooling_balance_point", 0),
                                      t["model_params"].get("heating_balance_point", 0)))
    runner_up = next((c for c in qualified if c is not best), None)
    margin = (best.r_squared_adj - runner_up.r_squared_adj
              if best is not None and runner_up is not None else None)
    status_counts = {}
    for c in model.candidates:
        key = f"{c.model_type}:{c.status}"
        status_counts[key] = status_counts.get(key, 0) + 1

    savings = r["savings"]
    disagg_cols = ["counterfactual_base_load", "counterfactual_heating_load",
                   "counterfactual_cooling_load"]
    predictions = {
        "start": iso(savings.index),
        "n_days": list(eemeter.day_counts(reporting_meter.index).values),
        "n_days_kept": list(pred["n_days_kept"].values),
        "n_days_dropped": list(pred["n_days_dropped"].values),
        "temperature_mean": list(pred["temperature_mean"].values),
        "n_hours_matched": [row["n_hours"] for row in rep_rows],
        "temperature_day_means": [row["days"] for row in rep_rows],
        "predicted_usage": list(pred["predicted_usage"].values),
        "counterfactual_usage": list(savings["counterfactual_usage"].values),
        "reporting_observed": list(savings["reporting_observed"].values),
        "metered_savings": list(savings["metered_savings"].values),
    }
    for col in disagg_cols:
        predictions[col] = list(savings[col].values)
    for kind, key in (("cdd", "cooling_balance_point"), ("hdd", "heating_balance_point")):
        if best is not None and key in best.model_params:
            col = f"{kind}_{best.model_params[key]}"
            predictions[f"{col}_total"] = list(pred[col].values)

    totals = {
        "counterfactual_usage": savings["counterfactual_usage"].sum(),
        "reporting_observed": savings["reporting_observed"].sum(),
        "metered_savings": savings["metered_savings"].sum(),
        "n_periods": int(savings["metered_savings"].notnull().sum()),
    }
    for col in disagg_cols:
        totals[col] = savings[col].sum()

    return {
        "sample_id": sample_id,
        "freq": meta["freq"],
        "interval": model.interval,
        "interpretation": meta["interpretation"],
        "unit": meta["unit"],
        "fit_settings": fit_settings(meta),
        "model_settings": model.settings,
        "inputs": {
            "temperature": "hourly_temperature_F (top level)",
            "meter_data": {
                "start": iso(meter.index),
                "value": list(meter["value"].values),
                "note": "as returned by eemeter.load_sample (UTC); each value covers [start, next start); the last row is the end marker",
            },
        },
        "windows": {
            "baseline": {
                "requested_end": baseline_end.isoformat(),
                "max_days": 365,
                "first_period_start": dm.index[0].isoformat(),
                "last_period_end": dm.index[-1].isoformat(),
                "n_periods_with_data": int(dm["meter_value"].notnull().sum()),
                "warnings": qualified_names(r["baseline_warnings"]),
            },
            "reporting": {
                "requested_start": meta["blackout_end_date"].isoformat(),
                "max_days": 365,
                "first_period_start": reporting_meter.index[0].isoformat(),
                "last_period_end": reporting_meter.index[-1].isoformat(),
                "n_periods_with_data": int(reporting_meter["value"].notnull().sum()),
                "warnings": qualified_names(r["reporting_warnings"]),
            },
        },
        "baseline_design": baseline_design,
        "data_sufficiency": {
            "requested_start": (baseline_end - timedelta(days=365)).isoformat(),
            "requested_end": baseline_end.isoformat(),
            "status": suff.status,
            "warnings": qualified_names(suff.warnings),
            "data": suff.data,
        },
        "result": {
            "status": model.status,
            "method_name": model.method_name,
            "r_squared_adj": model.r_squared_adj,
            "warnings": qualified_names(model.warnings),
            "selected": selected,
            "avgs_metrics": model.avgs_metrics.json() if model.avgs_metrics else None,
            "avgs_metrics_warnings": qualified_names(model.avgs_metrics.warnings) if model.avgs_metrics else [],
            "totals_metrics": model.totals_metrics.json() if model.totals_metrics else None,
            "totals_metrics_warnings": qualified_names(model.totals_metrics.warnings) if model.totals_metrics else [],
        },
        "candidates": {
            "columns": ["model_type", "cooling_balance_point", "heating_balance_point", "status",
                        "r_squared_adj", "warnings"],
            "warnings_note": "last component of each qualified name; the full name is "
                             "eemeter.caltrack_daily.<model_type>.<component>",
            "rows": candidate_rows(model),
            "status_counts": status_counts,
            "top_qualified": top,
            "selection_margin": margin,
            "near_ties": near_ties,
            "selection_is_floating_point_tie": len(near_ties) > 1,
        },
        "reporting_predictions": predictions,
        "metered_savings": {
            "totals": totals,
            "error_bands": r["error_bands"],
        },
        "self_check": {
            "baseline_degree_day_max_rel_error": worst_fit,
            "reporting_degree_day_max_rel_error": worst_pred,
        },
    }


def build_fixture() -> dict:
    sample_ids = load_sample_ids()
    _, temps, _ = eemeter.load_sample(sample_ids[0])
    samples = {}
    for sample_id in sample_ids:
        samples[sample_id] = clean(build_sample(sample_id))
    return {
        "description": (
            "OpenEEmeter 2.10.11 CalTRACK 2.0 daily/billing reference results on eemeter's bundled "
            "sample meters. Spec: docs/reference/eemeter-caltrack-daily-billing.md. "
            "Generated by tests/reference/make_eemeter_fixture.py; NaN is stored as null."),
        "versions": {
            "eemeter": eemeter.get_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "conventions": {
            "baseline": "get_baseline_data(meter, end=blackout_start_date, max_days=365)",
            "reporting": "get_reporting_data(meter, start=blackout_end_date, max_days=365)",
            "daily_fit": "fit_caltrack_usage_per_day_model(create_caltrack_daily_design_matrix(...), fit_cdd=<electricity>)",
            "billing_fit": "fit_caltrack_usage_per_day_model(create_caltrack_billing_design_matrix(...), fit_cdd=<electricity>, use_billing_presets=True, weights_col='n_days_kept')",
            "gas": "fit_cdd=False (intercept_only and hdd_only candidates only)",
            "savings": "metered_savings(model, reporting_meter, temps, with_disaggregated=True, confidence_level=0.90); savings = counterfactual - observed",
            "temperature_day_means": "per period, the daily mean temperatures (degF) of the kept days, in order; degree days are means over these",
        },
        "hourly_temperature_F": clean({
            "start": iso(temps.index),
            "value": list(temps.values),
            "note": "il-tempF.csv.gz after eemeter.load_sample (UTC, hourly resample with sum(min_count=1)); shared by every sample",
        }),
        "samples": samples,
    }


def dumps(fixture: dict) -> str:
    """Compact JSON, one top-level key (and one sample) per line, for readable diffs."""
    def one(v):
        return json.dumps(v, separators=(",", ":"), allow_nan=False, sort_keys=False)

    lines = ["{"]
    keys = list(fixture)
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        if key == "samples":
            lines.append(f"{json.dumps(key)}:{{")
            sids = list(fixture[key])
            for j, sid in enumerate(sids):
                c2 = "," if j < len(sids) - 1 else ""
                lines.append(f"{json.dumps(sid)}:{one(fixture[key][sid])}{c2}")
            lines.append("}" + comma)
        else:
            lines.append(f"{json.dumps(key)}:{one(fixture[key])}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# timing


def time_eemeter(repetitions: int) -> None:
    ids = [s for s in load_sample_ids() if s.endswith("-daily")]
    print(f"eemeter {eemeter.get_version()}; {repetitions} timed repetitions after 1 warm-up; "
          "load excluded; timed = get_baseline_data + design matrix + fit + get_reporting_data + "
          "metered_savings (predict)")
    print(f"{'sample':36s} {'min s':>8s} {'median s':>9s} {'max s':>8s}   "
          f"{'dm':>6s} {'fit':>6s} {'predict':>7s} (median s)")
    for sample_id in ids:
        meter, temps, meta = eemeter.load_sample(sample_id)
        billing = meta["freq"].startswith("billing")
        totals, parts = [], []
        for rep in range(repetitions + 1):
            t0 = time.perf_counter()
            bl, _ = eemeter.get_baseline_data(meter, end=meta["blackout_start_date"], max_days=365)
            dm = (eemeter.create_caltrack_billing_design_matrix if billing
                  else eemeter.create_caltrack_daily_design_matrix)(bl, temps)
            t1 = time.perf_counter()
            model = eemeter.fit_caltrack_usage_per_day_model(dm, **fit_settings(meta))
            t2 = time.perf_counter()
            rp, _ = eemeter.get_reporting_data(meter, start=meta["blackout_end_date"], max_days=365)
            eemeter.metered_savings(model, rp, temps, with_disaggregated=True)
            t3 = time.perf_counter()
            if rep:
                totals.append(t3 - t0)
                parts.append((t1 - t0, t2 - t1, t3 - t2))
        med = [statistics.median(p[k] for p in parts) for k in range(3)]
        print(f"{sample_id:36s} {min(totals):8.3f} {statistics.median(totals):9.3f} "
              f"{max(totals):8.3f}   {med[0]:6.3f} {med[1]:6.3f} {med[2]:7.3f}  "
              f"[{len(model.candidates)} candidates, {model.model.model_type}]")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true",
                        help="compare a fresh build with the file on disk; do not write")
    parser.add_argument("--time", type=int, metavar="N", default=0,
                        help="time eemeter on the daily samples with N repetitions; no fixture")
    args = parser.parse_args(argv)

    if eemeter.get_version() != "2.10.11":
        print(f"warning: expected eemeter 2.10.11, found {eemeter.get_version()}", file=sys.stderr)

    with py_warnings.catch_warnings():
        # pandas/statsmodels deprecation chatter from eemeter internals; results unaffected.
        py_warnings.simplefilter("ignore", FutureWarning)
        py_warnings.simplefilter("ignore", DeprecationWarning)
        if args.time:
            time_eemeter(args.time)
            return 0
        text = dumps(build_fixture())

    if args.check:
        same = args.output.exists() and args.output.read_text() == text
        print("fixture up to date" if same else "fixture differs from a fresh build")
        return 0 if same else 1
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(text) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
