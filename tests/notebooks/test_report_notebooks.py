"""Each report notebook runs on its own with papermill (as a researcher reruns it) and shows its
sections with alt text, in both languages."""

from __future__ import annotations

import nbformat
import pytest
from nbcheck import ROOT, alt_texts, outputs

REPORTS = sorted((ROOT / "notebooks" / "reports").glob("*.ipynb"))
CASES = [("city.ipynb", {}, "ko"), ("area.ipynb", {"level": "gu", "code": "29140"}, "en"),
         ("area.ipynb", {"level": "ward", "code": "2914074500"}, "ko"),
         ("building_type.ipynb", {"building_type": "apartment"}, "en")]
"""Each report notebook run once by papermill, both languages among them (the site's build runs
every page of tests/e2e in both)."""

pytestmark = pytest.mark.xdist_group("published")


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.stem)
def test_report_notebook_has_parameters_and_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and "lang" in tagged[0].source and "data_dir" in tagged[0].source
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert not [cell for cell in notebook.cells if cell.cell_type == "code" and cell.get("outputs")]


@pytest.mark.parametrize(("name", "parameters", "lang"), CASES,
                         ids=lambda v: v if isinstance(v, str) else "-".join(map(str, v.values())))
def test_report_notebook_runs_and_every_figure_has_words(execute, published, name, parameters, lang):
    notebook = execute(f"notebooks/reports/{name}", lang=lang, data_dir=str(published["data"]), **parameters)
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs(notebook))
    assert html.count("<h2") >= 5 and 'class="provenance"' in html
    alts = alt_texts(notebook)
    assert len(alts) >= 4
    if lang == "en":
        assert not any("가" <= ch <= "힣" for alt in alts for ch in alt if alt), "English alt text in Korean"
    assert "<details><summary>" in html  # the table alternative of the charts
    if name == "area.ipynb":
        _says_what_each_savings_sum_holds(html, published, parameters["code"], lang)


def _says_what_each_savings_sum_holds(html: str, published, code: str, lang: str) -> None:
    """Under the savings chart: each published sum's meters, and the meters it leaves out and why."""
    import html as markup

    from energy_lib.core import formatting, i18n
    from energy_lib.publish import opendata

    savings = opendata.read(published["data"], "savings")
    shown = savings[(savings["analysis"] == "annual") & savings["area"].isin([code, "city"])
                    & (savings["building_type"] == "residential") & (savings["carrier"] == "electricity")
                    & ~savings["suppressed"]]
    assert len(shown), "the small demo publishes the city's residential electricity savings"
    text = markup.unescape(html)
    for row in shown.itertuples():
        said = i18n.text("report.savings_meters", lang, name=i18n.area_name(row.area, lang),
                         meters=formatting.number(row.meters, lang),
                         insufficient=formatting.number(row.meters_insufficient, lang),
                         programme=formatting.number(row.meters_programme_in_baseline, lang))
        assert said in text


def test_a_wrong_area_code_says_what_is_allowed(execute, published):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError, match="level must be"):
        execute("notebooks/reports/area.ipynb", level="ward", code="123", data_dir=str(published["data"]))


def test_a_programme_with_few_participants_is_withheld(execute, published):
    """The small demo's programmes have fewer than 15 participants: the page says so, shows no
    estimate and no figure."""
    from energy_lib.core import i18n
    from energy_lib.publish import opendata

    notebook = execute("notebooks/reports/programme.ipynb", lang="en", programme_id="insulation_retrofit",
                       data_dir=str(published["data"]))
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs(notebook))
    effects = opendata.read(published["data"], "programme_effects")
    assert effects["suppressed"].all() and effects["effect"].isna().all()
    assert i18n.text("programme.withheld", "en", carrier="City gas", minimum=15) in html
    assert not alt_texts(notebook) and 'class="provenance"' in html
