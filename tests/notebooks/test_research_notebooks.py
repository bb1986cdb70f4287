"""The research notebooks run end to end with papermill and show what they claim."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbcheck import ROOT, alt_texts, text_of

RESEARCH = sorted((ROOT / "notebooks" / "research").glob("*.ipynb"))


@pytest.mark.parametrize("path", RESEARCH, ids=lambda p: p.stem)
def test_notebook_has_a_parameters_cell_and_kernel_metadata(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["kernelspec"]["name"] == "python3" and notebook.metadata["language_info"]["name"] == "python"
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and notebook.cells.index(tagged[0]) < 3
    assert not [cell for cell in notebook.cells if cell.cell_type == "code" and cell.get("outputs")], \
        "notebooks are committed without outputs"


def test_caltrack_comparison_shows_agreement_with_openeemeter(execute):
    notebook = execute("notebooks/research/caltrack_vs_openeemeter.ipynb")
    text = text_of(notebook)
    assert "same model type: 100% of 12 samples" in text and "same valid days: True" in text
    differences = re.search(r"coefficients: ([0-9.e+-]+), savings: ([0-9.e+-]+), FSU band: ([0-9.e+-]+)", text)
    assert all(float(value) < 1e-6 for value in differences.groups())
    (alt,) = alt_texts(notebook)
    assert "16" in alt and float(re.search(r"largest relative difference ([0-9.]+e[+-][0-9]+)", alt).group(1)) < 1e-6


@pytest.mark.xdist_group("recovery")
def test_programme_recovery_notebook_finds_the_truth_within_the_bands(execute, recovery_city):
    notebook = execute("notebooks/research/programme_recovery.ipynb", store_dir=str(recovery_city["store"].root),
                       derived_dir=str(recovery_city["derived"].root), raw_dir=str(recovery_city["raw"]))
    totals, coverage = alt_texts(notebook)
    inside, pairs = map(int, re.search(r"In (\d+) of (\d+) programme", totals).groups())
    assert pairs == 4 and inside == pairs
    calibrated, uncalibrated = map(int, re.search(r"calibrated band covers (\d+)%, the uncalibrated FSU band (\d+)%",
                                                  coverage).groups())
    assert 80 <= calibrated <= 99 and uncalibrated <= 75 and calibrated >= uncalibrated + 15


def test_programme_recovery_notebook_says_what_to_do_without_data(execute, tmp_path):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError, match="make reports"):
        execute("notebooks/research/programme_recovery.ipynb", store_dir=str(tmp_path / "none"))
