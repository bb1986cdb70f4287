"""Run notebooks as a researcher would: papermill with parameters, in their own folder."""

from __future__ import annotations

import nbformat
import pytest
from nbcheck import ROOT, outputs


@pytest.fixture
def execute(tmp_path):
    """``execute(relative_path, **parameters)`` runs a notebook with papermill and returns it."""
    import papermill

    def _execute(relative: str, **parameters):
        source = ROOT / relative
        target = tmp_path / source.name
        papermill.execute_notebook(str(source), str(target), parameters=parameters, cwd=str(source.parent),
                                   kernel_name="python3", progress_bar=False)
        notebook = nbformat.read(target, as_version=4)
        assert not [o for o in outputs(notebook) if o.get("output_type") == "error"]
        return notebook

    return _execute
