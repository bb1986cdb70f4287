"""One catalogue, both languages, every key the notebooks and charts use."""

import ast
import json
import re
import string
from pathlib import Path

import pytest

from energy_lib.core import i18n

ROOT = Path(__file__).resolve().parents[2]


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_entry_has_both_languages_with_the_same_placeholders():
    for key in i18n.keys():
        ko, en = (i18n._entries()[key][lang] for lang in i18n.LANGUAGES)
        assert ko.strip() and en.strip(), key
        assert _fields(ko) == _fields(en), key
        words = re.sub(r"\{[^}]*\}", "", ko)
        # a unit is written the same in Korean (kWh, m³); every other entry needs Korean words
        assert re.search("[가-힣]", words) or key == "nav.language" or key.startswith("unit."), \
            f"{key}: the Korean text has no Korean"


DYNAMIC = ("carrier.", "building_type.", "column.", "section.", "my_savings.judgement_", "my_savings.half_", "map.", "unit.",
           "stat.", "common.half_", "board.categories.", "board.fields.", "board.personal_numbers.", "board.messages.",
           "saving_tips.", "opendata.", "warning.")
"""Key families the code builds from data (``t("carrier." + carrier)``)."""


def _sources() -> str:
    texts = []
    for path in [*ROOT.glob("notebooks/reports/*.ipynb"), *ROOT.glob("notebooks/apps/*.ipynb"), *ROOT.glob("energy_lib/**/*.py")]:
        text = path.read_text("utf-8")
        texts.append("\n".join("".join(c["source"]) for c in json.loads(text)["cells"]) if path.suffix == ".ipynb" else text)
    return "\n".join(texts)


def _used_keys() -> set[str]:
    """Keys passed to the catalogue's functions, plus any key written as a string literal.

    One pass over the sources: every quoted word (no quote or space inside, either quote, found
    at every opening quote, overlapping) is collected once and the keys are looked up in that set,
    which finds exactly the keys ``f'"{key}"' in source or f"'{key}'" in source`` finds."""
    keys = i18n.keys()
    assert not any(re.search(r"""["'\s]""", key) for key in keys), "a key with a quote or a space"
    source = _sources()
    called = set(re.findall(r"""(?:\bt|heading|text)\(\s*f?["']([a-z_0-9]+\.[a-z_0-9.]+)["']""", source))
    quoted = set(re.findall(r"""(?=(["'])([^"'\s]+)\1)""", source))
    return called | (set(keys) & {word for _, word in quoted})


def test_every_key_used_by_the_reports_exists():
    used = {key for key in re.findall(r"""(?:\bt|heading|text)\(\s*f?["']([a-z_0-9]+\.[a-z_0-9.]+)["']""", _sources())
            if not key.startswith(DYNAMIC)}  # a family's prefix, completed from data
    assert len(used) > 30, "few keys found: the pattern no longer matches how the reports call the catalogue"
    missing = used - set(i18n.keys())
    assert not missing, missing


def test_no_key_is_unused():
    used = _used_keys()
    unused = {key for key in i18n.keys() if key not in used and not key.startswith(DYNAMIC)}
    assert not unused, unused


def test_text_fills_placeholders_and_refuses_unknown_keys_and_languages():
    assert i18n.text("provenance.privacy_text", "en", min_customers=15, max_share=15).startswith("Cells with fewer than 15")
    with pytest.raises(KeyError, match="strings.toml"):
        i18n.text("no.such_key", "ko")
    with pytest.raises(ValueError, match="ko, en"):
        i18n.text("carrier.gas", "fr")


def test_area_names_and_numbers():
    assert i18n.area_name("city", "ko") == "광주 전체"
    assert i18n.area_name("29140", "en") == "Seo-gu"
    assert i18n.area_name("2914074500", "ko") == "서구 치평동"
    assert i18n.number(float("nan"), "ko") == "비공개" and i18n.number(1234.5, "en", 1) == "1,234.5"
    assert i18n.number(0.034, "ko", 1, percent=True) == "+3.4%"


# --- one catalogue: no user-facing words elsewhere ----------------------------------------------------------

HANGUL, LATIN = re.compile("[가-힣]"), re.compile("[A-Za-z]")
VOCABULARY = ("energy_lib/ingest/", "energy_lib/demo/")
"""Korean that is data, not words for a reader: the source files' column names and codes the
ingest maps (ingest/vocab.py, …) and the demo city's synthetic names and addresses."""


def _docstrings(tree: ast.AST) -> set[int]:
    """The docstrings of a module, its classes and functions, and the attribute docstrings."""
    return {id(stmt.value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            for stmt in node.body
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)}


def test_no_korean_words_for_readers_are_written_in_code():
    """Every Korean word a page, an app or a message shows is in config/strings.toml. Allowed in
    code: docstrings and comments, the data vocabulary (:data:`VOCABULARY`), and Korean terms
    quoted in English text (``administrative dong (행정동)``), i.e. a literal with fewer Hangul
    syllables than Latin letters (a pattern of Korean units is one too)."""
    found = []
    for path in sorted((ROOT / "energy_lib").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name.startswith(VOCABULARY):
            continue
        tree = ast.parse(path.read_text("utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                    and len(HANGUL.findall(node.value)) >= max(1, len(LATIN.findall(node.value)))):
                found.append(f"{name}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "Korean text in code; add it to energy_lib/config/strings.toml:\n" + "\n".join(found)


def test_templates_take_their_words_from_the_catalogue():
    """A template writes markup; its Korean words come in as values from the catalogue (a Korean
    sentence among the tags of a template would escape the literal check above)."""
    found = []
    for path in sorted((ROOT / "energy_lib" / "templates").rglob("*")):
        if path.is_file() and path.suffix in (".j2", ".html"):
            text = re.sub(r"\{#.*?#\}", "", path.read_text("utf-8"), flags=re.S)  # comments
            found += [f"{path.relative_to(ROOT)}: {word}" for word in re.findall("[가-힣]+", text)]
    assert not found, found


def _texts(node, path=()) -> list[str]:
    """Paths of the entries of a parsed TOML that look like catalogue texts (a ``ko`` or ``en`` text)."""
    if isinstance(node, dict):
        if any(isinstance(node.get(lang), str) for lang in i18n.LANGUAGES):
            return [".".join(path)]
        return [found for key, value in node.items() for found in _texts(value, (*path, str(key)))]
    if isinstance(node, list):
        return [found for i, value in enumerate(node) for found in _texts(value, (*path, str(i)))]
    return []


def test_the_board_and_tips_words_are_in_the_catalogue_only():
    from energy_lib.core import configuration

    for name in ("board", "tips"):
        assert not _texts(configuration.load(name)), f"config/{name}.toml holds texts: move them to strings.toml"
    assert set(i18n.group("board.categories")) == set(configuration.load("board")["categories"])
    assert [len(i18n.group(f"saving_tips.{c}")) for c in ("electricity", "gas", "water")] == [4, 4, 4]
    assert i18n.group("saving_tips.gas")["1"]["en"].startswith("Keep rooms at about 20 °C")
    assert i18n.group("no.such_prefix") == {}


def test_every_warning_code_has_words_in_both_languages():
    """The pages show a warning by its code (``t("warning." + code)``), so each code needs its text."""
    from energy_lib.core.status import WarningCode

    for code in WarningCode:
        assert i18n.text(f"warning.{code}", "ko") and i18n.text(f"warning.{code}", "en"), code
