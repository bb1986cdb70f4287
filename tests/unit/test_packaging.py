"""pyproject.toml is the single list of dependencies; environment.yml and requirements.lock must
agree with it, and nothing the pages load comes from a CDN."""

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def _locked() -> dict[str, list[tuple[str, str, int]]]:
    """requirements.lock: name → [(version, environment marker, number of hashes)]."""
    text = (ROOT / "requirements.lock").read_text().replace("\\\n", " ")
    locked: dict[str, list[tuple[str, str, int]]] = {}
    for line in text.splitlines():
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)\s*(?:;\s*(.*?))?\s*(--hash.*)?$", line.strip())
        if match:
            name, version, marker, hashes = match.groups()
            locked.setdefault(canonicalize_name(name), []).append(
                (version, (marker or "").strip(), len(re.findall(r"--hash=sha256:[0-9a-f]{64}", hashes or ""))))
    return locked


def test_the_lock_pins_every_dependency_within_its_bounds_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = _locked()
    assert len(locked) > 100  # the whole tree, not only the direct dependencies
    assert all(hashes >= 1 for pins in locked.values() for _, _, hashes in pins)
    for item in project["dependencies"] + project["optional-dependencies"]["test"]:
        requirement = Requirement(item)
        pins = locked.get(canonicalize_name(requirement.name))
        assert pins, f"{requirement.name} is not in requirements.lock: run `make lock`"
        for version, _, _ in pins:
            assert requirement.specifier.contains(version, prereleases=True), \
                f"requirements.lock has {requirement.name} {version}, outside {requirement.specifier}: run `make lock`"


@pytest.mark.parametrize("name, fixed", [("tqdm", "4.66.3"), ("jupyterlab", "4.4.8"), ("jinja2", "3.1.6"),
                                         ("tornado", "6.5"), ("nbconvert", "7.17"), ("fonttools", "4.60.2")])
def test_floors_exclude_releases_with_published_advisories(name, fixed):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (requirement,) = [Requirement(r) for r in project["dependencies"] if canonicalize_name(Requirement(r).name) == name]
    below = ".".join([*fixed.split(".")[:-1], str(int(fixed.split(".")[-1]) - 1)]) if fixed.split(".")[-1] != "0" else None
    assert requirement.specifier.contains(fixed)
    assert below is None or not requirement.specifier.contains(below), f"{name} {below} has a published advisory"


_CDN = re.compile(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//(?!127\.0\.0\.1|localhost)[^\"' >]+\.(?:js|css|woff2?|ttf)\b", re.I)


def test_no_template_or_notebook_loads_an_asset_from_another_site():
    sources = [*ROOT.glob("energy_lib/publish/templates/**/*"), *ROOT.glob("notebooks/**/*.ipynb"),
               *ROOT.glob("energy_lib/**/*.html*"), *ROOT.glob("energy_lib/**/*.j2")]
    # markup only: Jinja code ({{ … }}, {% … %}) may name a CDN link to remove it (workbook-app does)
    markup = {path: re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", path.read_text("utf-8", errors="replace"), flags=re.S)
              for path in sources if path.is_file()}
    offending = [(str(path.relative_to(ROOT)), match.group(0)) for path, text in markup.items()
                 for match in _CDN.finditer(text)]
    assert offending == []


def test_every_file_the_package_reads_ships_in_the_wheel():
    """Each non-Python file under energy_lib/ (configuration, reference tables, templates) matches
    a package-data pattern of pyproject.toml, so that an installed wheel builds a site."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = ROOT / "energy_lib"
    missing = []
    for path in sorted(p for p in package.rglob("*") if p.is_file() and p.suffix not in {".py", ".pyc"}
                       and "__pycache__" not in p.parts):
        relative = path.relative_to(ROOT)
        shipped = False
        for owner, patterns in package_data.items():
            folder = ROOT.joinpath(*owner.split("."))
            if folder in path.parents:
                inner = path.relative_to(folder).as_posix()
                shipped |= any(fnmatch.fnmatchcase(inner, pattern) and inner.count("/") == pattern.count("/")
                               for pattern in patterns)
        if not shipped:
            missing.append(str(relative))
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
