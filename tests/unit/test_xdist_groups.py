"""The suite's costly cities are built once because the tests that use one share an xdist group
(``make test`` runs ``pytest -n 2 --dist loadgroup``). pytest 9.2 made xdist drop the groups
without a word (pytest-xdist#1386), and each city was built on both workers; this test fails if
the groups stop reaching the scheduler again."""

from __future__ import annotations

import os
import re
import subprocess
import sys

MODULE = '''
import pytest

pytestmark = pytest.mark.xdist_group("city")


@pytest.mark.parametrize("n", range(6))
def test_uses_the_city(n):
    pass
'''


def test_a_group_runs_on_one_worker(tmp_path):
    (tmp_path / "test_grouped.py").write_text(MODULE, "utf-8")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-n", "2", "--dist", "loadgroup", "-v",
                          "-p", "no:cacheprovider", "test_grouped.py"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})  # xdist alone: quick
    assert run.returncode == 0, run.stdout[-2000:]
    ran = re.findall(r"\[(gw\d)\] .*PASSED test_grouped\.py::test_uses_the_city\[\d\](@city)?", run.stdout)
    assert len(ran) == 6, run.stdout[-2000:]
    assert {worker for worker, _ in ran} in ({"gw0"}, {"gw1"}) and all(suffix == "@city" for _, suffix in ran)
