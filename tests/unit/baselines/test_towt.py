"""TOWT (CalTRACK hourly) against OpenEEmeter 2.10's results on its hourly sample meters."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from energy_lib.baselines.towt import SEGMENT_NAMES, fahrenheit_to_celsius, fit_towt
from energy_lib.core.status import Status, WarningCode
from energy_lib.savings.reference import compare_towt, fit_towt_sample, load_fixture, towt_window

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "reference"  # the committed eemeter fixtures
FIXTURE = load_fixture(FIXTURE_DIR / "eemeter_2_10_hourly_fixture.json")
SAMPLES = sorted(FIXTURE["samples"])


@pytest.fixture(scope="module", params=SAMPLES)
def fitted(request):
    sample = FIXTURE["samples"][request.param]
    model, usage, temp = fit_towt_sample(sample, request.param)
    return sample, usage, temp, model


def test_occupancy_and_bins_match_the_reference(fitted):
    sample, _, _, model = fitted
    for segment, mine in zip(SEGMENT_NAMES, model.segments):
        reference = sample["model"]["segments"][segment]
        assert mine.occupied.tolist() == reference["occupancy"], segment
        np.testing.assert_allclose(mine.endpoints, fahrenheit_to_celsius(reference["bin_endpoints"]), atol=1e-12)


def test_predictions_and_savings_match_the_reference(fitted):
    sample, usage, temp, model = fitted
    reporting = towt_window(usage, sample["windows"]["reporting"])
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
    assert empty.result.status == Status.NO_DATA and empty.result.warnings[0].code == WarningCode.NO_DATA
    short = fit_towt(pd.Series(1.0, index=index), pd.Series(np.linspace(-5, 5, len(index)), index=index))
    assert short.result.status == Status.DISQUALIFIED
    assert any(w.code == WarningCode.MISSING_MONTHS for w in short.result.warnings)
    assert np.isnan(short.predict(pd.date_range("2024-07-01", periods=3, freq="h"), np.zeros(3))).all()


def test_comparison_table_shows_agreement_on_every_sample():
    table = compare_towt(FIXTURE)
    assert len(table) == len(SAMPLES) and table["occupancy_match"].all() and table["bins_match"].all()
    assert (table["max_abs_prediction_diff"] < 1e-8).all() and (table["savings_rel_diff"] < 1e-8).all()
    assert (table["sufficiency_ours"].str.upper() == table["sufficiency_eemeter"]).all()
    assert (table["fsu_band_ours"] > 0).all()
