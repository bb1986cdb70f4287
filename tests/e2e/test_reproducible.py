"""Two builds from the same inputs give byte-identical pages: a page changes only when its inputs
change, so a site's diff (or its checksum) shows what really changed."""

from __future__ import annotations

import shutil

import pytest

from energy_lib.publish import site as publish
from tests.conftest import NOTEBOOKS

pytestmark = pytest.mark.xdist_group("published")

VARYING = {"build-summary.json", ".fonts.json"}
"""Files about the build, not about its inputs: how long it took [s], and the font cache's key
(each page's size and modification time, so that an unchanged site costs a few ``stat`` calls)."""


def _files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in VARYING}


def test_two_builds_of_the_same_inputs_are_byte_identical(site, tmp_path):
    """Two pages of the test site (the city's notebook, and the areas' in English) built again in
    another build, in a fresh kernel: every file of the site is the same, byte for byte."""
    again = ["ko/city.html", "en/gu/29140.html"]
    copy = tmp_path / "site"  # the other tests of the group share the site: rebuild a copy of it
    shutil.copytree(site["site"], copy)
    for path in again:
        (copy / path).unlink()
    # the site's own plan, its failing page included (the index pages list it)
    summary = publish.build(copy, [*site["pages"], site["failing"]], site["manifest"]["data_hash"], notebooks=NOTEBOOKS / "reports",
                            workers=1)  # one kernel: two pages do not pay for a second
    assert summary.counts() == {"executed": len(again), "unchanged": len(site["pages"]) - len(again), "failed": 1}
    first, second = _files(site["site"]), _files(copy)
    assert sorted(first) == sorted(second)
    assert [path for path in again if path not in first] == []
    differ = [path for path in first if first[path] != second[path]]
    assert differ == [], _first_difference(first[differ[0]], second[differ[0]])


def _first_difference(one: bytes, other: bytes) -> str:
    at = next((i for i, (a, b) in enumerate(zip(one, other)) if a != b), min(len(one), len(other)))
    return f"first difference at byte {at}: {one[max(0, at - 80):at + 80]!r} / {other[max(0, at - 80):at + 80]!r}"
