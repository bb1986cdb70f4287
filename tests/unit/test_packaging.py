"""pyproject.toml is the single list of dependencies; environment.yml must agree with it."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _requirements(items):
    return {re.split(r"[<>=!~ ]", item, maxsplit=1)[0].lower(): item.replace(" ", "") for item in items}


def test_environment_yml_lists_the_same_packages_and_bounds_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _requirements(project["dependencies"] + project["optional-dependencies"]["test"])
    text = (ROOT / "environment.yml").read_text()
    dependencies = text.split("\ndependencies:", 1)[1].splitlines()
    conda = [line.strip()[2:] for line in dependencies  # not pip, the interpreter or the package itself
             if line.strip().startswith("- ") and not line.strip().startswith(("- pip", "- python>", "- python=", "- -e"))]
    assert _requirements(conda) == wanted


def test_every_dependency_has_a_lower_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for item in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert ">=" in item, item


def test_readme_gives_the_two_setup_commands_and_ci_runs_the_tests():
    readme = (ROOT / "README.md").read_text()
    assert "make reports" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
