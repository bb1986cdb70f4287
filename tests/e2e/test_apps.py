"""The citizen apps in a real Voila server (started by the test) and headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("published")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def voila(site):
    """`energy serve` on a free port over the test site; stopped after the module."""
    port = _free_port()
    log = open(ARTIFACTS.parent / "test-artifacts" / "voila.log" if ARTIFACTS.exists() else os.devnull, "w")
    server = subprocess.Popen([sys.executable, "-m", "energy_lib.cli", "serve", "--port", str(port),
                               "--site", str(site["site"])], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/voila/tree", timeout=5)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("the Voila server did not start (see test-artifacts/voila.log)")
            time.sleep(0.5)
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.fixture
def explorer(voila, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    started = time.monotonic()
    page.goto(f"{voila}/voila/render/ward_explorer.ipynb")
    page.wait_for_selector("text=우리 동네 에너지 탐색", timeout=60_000)
    page.first_render_seconds = time.monotonic() - started
    yield page
    page.close()


def test_explorer_shows_the_default_gu_and_renders_korean(explorer):
    explorer.wait_for_selector(".explorer-report h1", timeout=30_000)
    assert "서구" in explorer.locator(".explorer-report h1").first.inner_text()
    explorer.evaluate("document.fonts.ready")
    assert explorer.evaluate("document.fonts.check('16px NanumGothic', '광주')")
    for selector in (".explorer-report h1", ".widget-dropdown select"):  # the report and the controls use it
        family = explorer.evaluate(f"getComputedStyle(document.querySelector('{selector}')).fontFamily")
        assert family.startswith('"NanumGothic"') or family.startswith("NanumGothic"), (selector, family)
    assert "print(" not in explorer.content() and "import ipywidgets" not in explorer.content()  # sources stripped
    ARTIFACTS.mkdir(exist_ok=True)
    explorer.screenshot(path=str(ARTIFACTS / "app-explorer-ko.png"), full_page=True)


def test_choosing_a_dong_shows_its_report(explorer):
    explorer.wait_for_selector(".explorer-report", timeout=30_000)
    explorer.get_by_label("행정동").select_option(label="치평동")
    explorer.wait_for_selector("text=서구 치평동 에너지 보고서", timeout=10_000)
    explorer.get_by_label("행정동").select_option(label="농성1동")  # not in the test site
    explorer.wait_for_selector("text=아직 공개되지 않았습니다", timeout=10_000)


def test_switching_language_relabels_everything(explorer):
    explorer.wait_for_selector(".explorer-report", timeout=30_000)
    explorer.get_by_role("button", name="English").click()
    explorer.wait_for_selector("text=Ward energy explorer", timeout=10_000)
    explorer.wait_for_selector(".explorer-report[lang=en] h1", timeout=10_000)
    assert "Seo-gu" in explorer.locator(".explorer-report h1").first.inner_text()
    explorer.screenshot(path=str(ARTIFACTS / "app-explorer-en.png"), full_page=True)


WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
"""axe-core's rules for WCAG 2.1 A and AA, the basis of KWCAG 2.2. Voila's own page has no landmark
regions (axe's best-practice rule "region"), which the apps cannot change."""


def test_explorer_passes_axe_core(explorer):
    from axe_playwright_python.sync_playwright import Axe

    explorer.wait_for_selector(".explorer-report", timeout=30_000)
    assert explorer.evaluate("document.documentElement.lang") == "ko"
    results = Axe().run(explorer, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]
    assert not violations, violations
