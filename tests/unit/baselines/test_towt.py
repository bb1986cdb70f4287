"""TOWT (CalTRACK hourly) against OpenEEmeter 2.10's results on its hourly sample meters."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from energy_lib.baselines.towt import SEGMENT_NAMES, fahrenheit_to_celsius, fit_towt

FIXTURE = json.loads((Path(__file__).parents[2] / "reference" / "eemeter_2_10_hourly_fixture.json").read_text())
SAMPLES = sorted(FIXTURE["samples"])


def _inputs(sample: dict):
    inputs = sample["inputs"]
    index = pd.date_range(pd.Timestamp(inputs["index_start_utc"]).tz_convert(None), periods=inputs["n_hours"], freq="h")
    usage = pd.Series(np.array(inputs["usage"], dtype=float), index=index)
    temp = pd.Series(fahrenheit_to_celsius(np.array(inputs["temperature_f"], dtype=float)), index=index)
    return usage, temp


def _window(series: pd.Series, window: dict) -> pd.Series:
    part = series.iloc[window["offset_in_inputs"]: window["offset_in_inputs"] + window["n_rows"]].copy()
    part.iloc[-1] = np.nan  # eemeter blanks the closing boundary row of each window
    return part


@pytest.fixture(scope="module", params=SAMPLES)
def fitted(request):
    sample = FIXTURE["samples"][request.param]
    usage, temp = _inputs(sample)
    model = fit_towt(_window(usage, sample["windows"]["baseline"]), temp)
    return sample, usage, temp, model


def test_occupancy_and_bins_match_the_reference(fitted):
    sample, _, _, model = fitted
    for segment, mine in zip(SEGMENT_NAMES, model.segments):
        reference = sample["model"]["segments"][segment]
        assert mine.occupied.tolist() == reference["occupancy"], segment
        np.testing.assert_allclose(mine.endpoints, fahrenheit_to_celsius(reference["bin_endpoints"]), atol=1e-12)


def test_predictions_and_savings_match_the_reference(fitted):
    sample, usage, temp, model = fitted
    reporting = _window(usage, sample["windows"]["reporting"])
    predicted = model.predict(reporting.index, temp.reindex(reporting.index).to_numpy())
    expected = np.array(sample["predictions"]["reporting"]["predicted_usage"], dtype=float)
    both = ~np.isnan(expected)
    np.testing.assert_allclose(predicted[both], expected[both], rtol=1e-8, atol=1e-8)
    observed = reporting.to_numpy()
    ok = ~np.isnan(observed) & ~np.isnan(predicted)
    totals = sample["totals"]
    assert predicted[ok].sum() == pytest.approx(totals["counterfactual_usage"], rel=1e-9)
    assert (predicted[ok] - observed[ok]).sum() == pytest.approx(totals["metered_savings"], rel=1e-8)


def test_segment_metrics_match_the_reference(fitted):
    sample, _, _, model = fitted
    for segment, mine in zip(SEGMENT_NAMES, model.segments):
        reference = sample["model"]["segments"][segment]["totals_metrics"]
        for name in ("r_squared", "cvrmse_adj", "nmbe", "autocorr_resid", "n_prime", "fsu_base_term"):
            if reference[name] is not None:
                assert mine.metrics[name] == pytest.approx(reference[name], rel=1e-6, abs=1e-9), (segment, name)


def test_result_is_a_qualified_baseline_result(fitted):
    result = fitted[3].result
    assert result.status == "qualified" and result.method == "towt"
    assert result.to_dict()["metrics"]["cvrmse"] == pytest.approx(result.metrics["cvrmse"])


def test_bad_data_gives_a_status_not_an_exception():
    index = pd.date_range("2024-01-01", periods=24 * 60, freq="h")
    empty = fit_towt(pd.Series(np.nan, index=index), pd.Series(5.0, index=index))
    assert empty.result.status == "no_data" and empty.result.warnings[0].qualified_name.endswith("no_data")
    short = fit_towt(pd.Series(1.0, index=index), pd.Series(np.linspace(-5, 5, len(index)), index=index))
    assert short.result.status == "disqualified"
    assert any(w.qualified_name.endswith("missing_months") for w in short.result.warnings)
    assert np.isnan(short.predict(pd.date_range("2024-07-01", periods=3, freq="h"), np.zeros(3))).all()
