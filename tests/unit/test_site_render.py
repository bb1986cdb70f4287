"""A page's HTML depends on its notebook's content only: not on the random cell ids papermill and
nbformat give, nor on the times a run stamps."""

from __future__ import annotations

import nbformat

from energy_lib.publish import site


def _executed(cell_id: str, started: str):
    """A notebook as papermill leaves it: an injected-parameters cell with a random id, times."""
    notebook = nbformat.v4.new_notebook(metadata={"papermill": {"start_time": started, "duration": 1.5}})
    injected = nbformat.v4.new_code_cell('lang = "ko"', metadata={"tags": ["injected-parameters"],
                                                                  "papermill": {"start_time": started}})
    injected.id = cell_id
    shown = nbformat.v4.new_code_cell("show()", execution_count=3, outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": "<p>광주</p>", "text/plain": "광주"})],
        metadata={"execution": {"iopub.status.busy": started}})
    shown.id = "shown"
    notebook.cells = [injected, shown]
    return notebook


def test_two_runs_of_a_page_render_the_same_bytes():
    page = site.Page("city.ipynb", {"lang": "ko"}, "ko/city.html", "광주", "city")
    first = site.render_html(_executed("3f2a9c1e", "2026-01-01T00:00:00"), page, "en/city.html")
    second = site.render_html(_executed("b71d04aa", "2026-01-02T10:11:12"), page, "en/city.html")
    assert "<p>광주</p>" in first
    assert first == second


def test_rendering_leaves_the_run_as_it_was():
    """The build's timings still read papermill's durations after the page is rendered."""
    notebook = _executed("3f2a9c1e", "2026-01-01T00:00:00")
    site.render_html(notebook, site.Page("city.ipynb", {"lang": "ko"}, "ko/city.html", "광주", "city"), None)
    assert notebook.cells[0].id == "3f2a9c1e" and notebook.metadata["papermill"]["duration"] == 1.5


def test_a_page_sees_nothing_of_the_page_before_in_the_same_kernel(tmp_path):
    """Each build worker reuses one kernel: a page must find neither the names nor the figures
    the page before it left (the run's first cell clears them)."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name, source in (("leaves.ipynb", "import matplotlib.pyplot as plt\nleftover = 1\nplt.figure()\n"),
                         ("finds.ipynb", "import matplotlib.pyplot as plt\nassert 'leftover' not in dir()\n"
                                         "assert plt.get_fignums() == []\n")):
        notebook = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_code_cell('lang = "ko"', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(source)])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, notebooks / name)
    pages = [site.Page(name, {"lang": "ko"}, f"ko/{stem}.html", stem, "city")
             for name, stem in (("leaves.ipynb", "a"), ("finds.ipynb", "b"))]
    (tmp_path / "site" / "data").mkdir(parents=True)
    summary = site.build(tmp_path / "site", pages, "hash", notebooks=notebooks, workers=1)
    assert summary.counts() == {"executed": 2}, [(r.path, r.error) for r in summary.failed]
    assert not any("workbook-reset" in (tmp_path / "site" / page.path).read_text("utf-8") for page in pages)
