"""The package's layout (../shared/DESIGN.md, docs/architecture.md): packages in layers, kept by
import-linter; nothing in the package reads a path above itself."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import energy_lib

PACKAGE = Path(energy_lib.__file__).resolve().parent
ROOT = PACKAGE.parent
LAYERS = {"cli", "apps", "demo", "publish", "compute", "realtime", "evaluation", "savings", "baselines", "ingest",
          "store", "core"}


def test_the_layers_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_the_contract_names_every_package_of_the_layout():
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    named = set(re.findall(r"energy_lib\.(\w+)", text.split("[tool.importlinter]", 1)[1]))
    assert named == LAYERS


def test_the_top_level_holds_only_the_layout_packages_and_config():
    entries = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    assert entries == LAYERS | {"__init__.py", "config"}
    assert all((PACKAGE / name / "__init__.py").is_file() for name in LAYERS)


def _path_reads(tree: ast.AST) -> list[str]:
    """``parents[n]`` and ``.parent.parent`` on ``__file__`` paths: reads above a module's package."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents":
            found.append(ast.unparse(node))
        if isinstance(node, ast.Attribute) and node.attr == "parent" and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "parent":
            found.append(ast.unparse(node))
    return found


def test_no_module_reads_a_path_above_the_package():
    """Notebook and output folders are settings (``energy publish --notebooks``, ``--site``), so a
    wheel builds a site. A module may look inside the package (its config, templates, reference
    tables): ``parents[1]`` of a module one level down is the package itself."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        depth = len(path.relative_to(PACKAGE).parts) - 1  # 0: energy_lib/x.py, 1: energy_lib/core/x.py
        for expression in _path_reads(ast.parse(path.read_text("utf-8"))):
            levels = re.search(r"parents\[(\d+)\]", expression)
            up = int(levels.group(1)) if levels else expression.count(".parent") - 1
            if up > depth:
                offenders.append(f"{path.relative_to(ROOT)}: {expression}")
        if re.search(r"""["'](\.\./)+(notebooks|reports|tests|data)\b""", path.read_text("utf-8")):
            offenders.append(f"{path.relative_to(ROOT)}: a relative path out of the package")
    assert not offenders, offenders
