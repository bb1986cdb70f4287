"""Two builds from the same inputs give byte-identical pages: a page changes only when its inputs
change, so a site's diff (or its checksum) shows what really changed."""

from __future__ import annotations

import shutil

import pytest

from energy_lib.core.wards import wards
from energy_lib.publish import site as publish
from tests.conftest import NOTEBOOKS

pytestmark = pytest.mark.xdist_group("published")

VARYING = {"build-summary.json", ".fonts.json"}
"""Files about the build, not about its inputs: how long it took [s], and the font cache's key
(each page's size and modification time, so that an unchanged site costs a few ``stat`` calls)."""


def _files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in VARYING}


def test_two_builds_of_the_same_inputs_are_byte_identical(published, tmp_path):
    pages = [p for p in publish.plan(wards(), ["apartment"])
             if p.path in ("ko/city.html", "en/gu/29140.html")]  # the city's notebook, and the areas' in English
    assert len(pages) == 2
    built = []
    for name in ("first", "second"):
        site = tmp_path / name
        shutil.copytree(published["data"], site / "data")
        summary = publish.build(site, pages, published["manifest"]["data_hash"], notebooks=NOTEBOOKS / "reports",
                                workers=1, force=True)  # one kernel: two pages do not pay for a second
        assert summary.counts() == {"executed": len(pages)}, summary.failed
        built.append(_files(site))
    first, second = built
    assert sorted(first) == sorted(second)
    assert [page.path for page in pages if page.path not in first] == []
    differ = [path for path in first if first[path] != second[path]]
    assert differ == [], _first_difference(first[differ[0]], second[differ[0]])


def _first_difference(one: bytes, other: bytes) -> str:
    at = next((i for i, (a, b) in enumerate(zip(one, other)) if a != b), min(len(one), len(other)))
    return f"first difference at byte {at}: {one[max(0, at - 80):at + 80]!r} / {other[max(0, at - 80):at + 80]!r}"
