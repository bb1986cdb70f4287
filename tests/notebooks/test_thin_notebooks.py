"""The report and app notebooks narrate; the library computes (STYLE.md, house rule 6).

Every code cell of ``notebooks/reports`` and ``notebooks/apps`` is parsed with :mod:`ast` and held
to what a notebook may do: call ``energy_lib.publish`` (reports) or ``energy_lib.apps`` (apps),
show figures and tables. No loops, no function or class definitions, no model fits or
significance rules, no unit conversions, no HTML written in the notebook, at most 15 code cells.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbcheck import ROOT

MAX_CODE_CELLS = 15
ALLOWED = {"reports": "energy_lib.publish", "apps": "energy_lib.apps"}
NOTEBOOKS = sorted((ROOT / "notebooks" / folder / name).relative_to(ROOT)
                   for folder in ALLOWED for name in sorted(p.name for p in (ROOT / "notebooks" / folder).glob("*.ipynb")))

_CONTROL = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
            ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_HTML = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]*(\s|>|/)")
_MODEL_CALL = re.compile(r"^(fit|fit_.*|.*_fit|ols|wls|glm|ttest.*|.*p_?value.*|.*significan.*)$", re.I)
_ARITHMETIC = (ast.Mult, ast.Div, ast.FloorDiv, ast.Pow)
_TRIVIAL = {0, 1, -1}


def code_cells(path: Path) -> list[str]:
    notebook = nbformat.read(ROOT / path, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def parse(source: str) -> ast.Module:
    """A cell as Python: IPython's magics and shell escapes (``%``, ``!``) are left out."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


def _number(node: ast.AST) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    return None


def _called_name(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else ""


def violations(path: Path) -> list[str]:
    """What a notebook does that belongs in the library, one line each (empty: a thin notebook)."""
    folder = path.parts[1]
    allowed = ALLOWED[folder]
    cells = code_cells(path)
    found = []
    if len(cells) > MAX_CODE_CELLS:
        found.append(f"{len(cells)} code cells (at most {MAX_CODE_CELLS})")
    for number, source in enumerate(cells, 1):
        where = f"cell {number}"
        for node in ast.walk(parse(source)):
            line = f"{where}, line {getattr(node, 'lineno', '?')}"
            if isinstance(node, _CONTROL):
                found.append(f"{line}: {type(node).__name__}")
            elif isinstance(node, ast.Import):
                found += [f"{line}: import {a.name}" for a in node.names
                          if a.name.split(".")[0] == "energy_lib" and not _within(a.name, allowed)]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "energy_lib":
                if node.module == "energy_lib":
                    found += [f"{line}: from energy_lib import {a.name}" for a in node.names
                              if not _within(f"energy_lib.{a.name}", allowed)]
                elif not _within(node.module, allowed):
                    found.append(f"{line}: from {node.module} import ...")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _HTML.search(node.value):
                found.append(f"{line}: HTML in a string ({node.value[:30]!r})")
            elif isinstance(node, ast.Call) and _MODEL_CALL.match(_called_name(node)):
                found.append(f"{line}: a model or test call ({_called_name(node)})")
            elif isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
                factors = [v for v in (_number(node.left), _number(node.right)) if v is not None and v not in _TRIVIAL]
                if factors:
                    found.append(f"{line}: arithmetic with a literal factor {factors[0]!r} (a unit conversion)")
            elif isinstance(node, ast.Compare):
                limits = [v for v in map(_number, [node.left, *node.comparators]) if v is not None and 0 < abs(v) < 1]
                names = [n.attr if isinstance(n, ast.Attribute) else getattr(n, "id", "") for n in [node.left, *node.comparators]]
                if limits or any(re.search(r"p_?value", name or "", re.I) for name in names):
                    found.append(f"{line}: a significance rule (a comparison with a p-value or a level)")
    return found


def _within(module: str, allowed: str) -> bool:
    return module == allowed or module.startswith(allowed + ".")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_a_notebook_only_calls_the_library_and_shows(path):
    assert violations(path) == []


def test_the_rules_catch_what_belongs_in_the_library(tmp_path, monkeypatch):
    """Each rule flags a cell that breaks it (so a passing notebook test means something)."""
    cells = {
        "for": "for x in y:\n    pass", "comprehension": "[x for x in y]", "def": "def f():\n    pass",
        "lambda": "f = lambda x: x", "import": "from energy_lib.core import i18n", "html": "s = f'<p>{x}</p>'",
        "fit": "model.fit_caltrack(x)", "conversion": "mwh = kwh / 1000", "significance": "p < 0.05",
    }
    for name, source in cells.items():
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        target = tmp_path / "notebooks" / "reports" / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    for name in cells:
        assert violations(Path("notebooks") / "reports" / f"{name}.ipynb"), name
    fine = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from energy_lib.publish import report\npage = report.open_report(data_dir, lang)\npage.title()")])
    nbformat.write(fine, tmp_path / "notebooks" / "reports" / "fine.ipynb")
    assert violations(Path("notebooks") / "reports" / "fine.ipynb") == []
