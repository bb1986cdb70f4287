"""One catalogue, both languages, every key the notebooks and charts use."""

import json
import re
import string
from pathlib import Path

import pytest

from energy_lib import i18n

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
           "stat.", "common.half_")
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
