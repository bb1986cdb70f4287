"""The citizen apps in a real Voila server (started by the test) and headless Chromium."""

from __future__ import annotations

import contextlib
import http.client
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
def codes(site, demo, tmp_path_factory):
    """The small demo's codes and its household index (as `energy household-index` makes them):
    customer number → code of the households in the index."""
    from energy_lib import household

    issued = household.demo_codes(demo["settings"])
    table = issued.assign(code_hash=household.code_hashes(issued["code"], household.code_salt()))
    index = household.build_index(site["store"], site["derived"], table[["account", "code_hash"]])
    site["household_index"] = household.write_index(index, tmp_path_factory.mktemp("apps") / "household_index.parquet")
    indexed = household.customer_pseudonym(issued["account"]).isin(index["meter_id"]).to_numpy()
    return issued[indexed].set_index("account")["code"]


def _answers(server: subprocess.Popen, url: str, *, deadline: float) -> bool:
    """Whether ``server`` answers ``url`` over HTTP before ``deadline``; False as soon as it exits or
    something else (not HTTP) answers on its port."""
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5)
            return True
        except http.client.HTTPException:  # e.g. a kernel's ZeroMQ socket took the port
            return False
        except OSError:
            if server.poll() is not None:
                return False
            time.sleep(0.5)
    return False


@pytest.fixture(scope="module")
def voila(site, codes, tmp_path_factory):
    """`energy serve` on a free port over the test site; stopped after the module."""
    log = open(ARTIFACTS.parent / "test-artifacts" / "voila.log" if ARTIFACTS.exists() else os.devnull, "w")
    database = tmp_path_factory.mktemp("board") / "board.sqlite3"
    for _ in range(3):  # another test's kernel may bind the free port before Voila does: try another
        url = f"http://127.0.0.1:{_free_port()}"
        server = subprocess.Popen([sys.executable, "-m", "energy_lib.cli", "serve", "--port", url.rsplit(":", 1)[1],
                                   "--site", str(site["site"])], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "ENERGY_BOARD_URL": f"sqlite:///{database}",
                                       "ENERGY_HOUSEHOLD_INDEX": str(site["household_index"])})
        if _answers(server, f"{url}/voila/tree", deadline=time.monotonic() + 90):
            break
        server.kill()
        server.wait(timeout=30)
    else:
        pytest.fail("the Voila server did not start (see test-artifacts/voila.log)")
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


@contextlib.contextmanager
def _app(browser, voila: str, notebook: str, heading: str):
    """An app open at phone width, once its heading is on screen; closed afterwards."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{voila}/voila/render/{notebook}")
    page.wait_for_selector(f"text={heading}", timeout=60_000)
    try:
        yield page
    finally:
        page.close()


@pytest.fixture
def explorer(voila, browser):
    with _app(browser, voila, "ward_explorer.ipynb", "우리 동네 에너지 탐색") as page:
        yield page


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


def _wcag_violations(page) -> list:
    """axe-core's WCAG 2.1 A/AA violations on the page: rule, impact and the first nodes."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]


def test_explorer_passes_axe_core(explorer):
    explorer.wait_for_selector(".explorer-report", timeout=30_000)
    assert explorer.evaluate("document.documentElement.lang") == "ko"
    violations = _wcag_violations(explorer)
    assert not violations, violations


@pytest.fixture
def board_page(voila, browser):
    with _app(browser, voila, "board.ipynb", "주민 에너지 게시판") as page:
        yield page


def test_a_post_appears_and_a_script_in_it_stays_text(board_page):
    board_page.get_by_label("제목").fill("창문 단열 <b>팁</b>")
    board_page.get_by_label("본문").fill("뽁뽁이를 붙였더니 좋아요 <script>window.hacked = 1</script>")
    board_page.get_by_label("닉네임").fill("치평동 주민")
    board_page.get_by_role("button", name="올리기").click()
    board_page.wait_for_selector("text=글을 올렸습니다.", timeout=10_000)
    post = board_page.locator(".board-post").first
    post.wait_for(timeout=10_000)
    assert post.locator(".board-title").inner_text() == "창문 단열 <b>팁</b>"
    assert "<script>window.hacked = 1</script>" in post.locator(".board-body").inner_text()
    assert board_page.evaluate("window.hacked") is None
    assert post.locator("script").count() == 0 and post.locator("b").count() == 0
    board_page.screenshot(path=str(ARTIFACTS / "app-board-ko.png"), full_page=True)


def test_an_empty_post_gets_a_message_not_an_error(board_page):
    board_page.get_by_role("button", name="올리기").click()
    board_page.wait_for_selector("[role=status]", timeout=10_000)
    assert "제목" in board_page.locator("[role=status]").inner_text()
    assert "Traceback" not in board_page.content()


def test_board_passes_axe_core(board_page):
    violations = _wcag_violations(board_page)
    assert not violations, violations


def test_index_links_every_app(voila, browser):
    from energy_lib.explorer import APPS

    with _app(browser, voila, "index.ipynb", "광주 에너지 시민 앱") as page:
        hrefs = page.eval_on_selector_all("ul.apps a", "links => links.map(a => a.getAttribute('href'))")
        assert {f"/voila/render/{notebook}" for notebook, _, _ in APPS} <= set(hrefs)
        for href in set(hrefs):
            assert page.request.get(f"{voila}{href}").ok, href


@pytest.fixture
def savings_page(voila, browser):
    with _app(browser, voila, "my_savings.ipynb", "우리 집 절감 확인") as page:
        yield page


def test_a_valid_code_shows_that_household_and_a_wrong_one_a_message(savings_page, codes):
    account, code = next(iter(codes.items()))
    savings_page.get_by_label("고객번호").fill(account)
    savings_page.get_by_label("에너지 코드").fill(code)
    savings_page.get_by_role("button", name="확인").click()
    savings_page.wait_for_selector(".my-savings h2", timeout=10_000)
    assert "우리 집 에너지" in savings_page.locator(".my-savings h2").inner_text()
    assert savings_page.locator(".my-savings table tbody tr").count() >= 1
    # the neighbours: a comparison with the two published figures and how they are made, or in words why not
    neighbours = savings_page.locator(".my-savings").inner_text()
    assert "비슷한 이웃과 비교" in neighbours and "<NA>" not in neighbours
    if savings_page.locator(".peer-compare").count():
        assert "보통 이웃" in neighbours and "효율적인 이웃" in neighbours and "유효숫자 2자리" in neighbours
    else:
        assert savings_page.locator(".peer-withheld").count() == 1
    savings_page.screenshot(path=str(ARTIFACTS / "app-my-savings-ko.png"), full_page=True)
    savings_page.get_by_label("고객번호").fill(account)
    savings_page.get_by_label("에너지 코드").fill("WRONG234")
    savings_page.get_by_role("button", name="확인").click()
    savings_page.wait_for_selector("[role=alert]", timeout=10_000)
    wrong = savings_page.locator("[role=alert]").inner_text()
    savings_page.get_by_label("고객번호").fill("9999999999")
    savings_page.get_by_label("에너지 코드").fill(code)
    savings_page.get_by_role("button", name="확인").click()
    savings_page.wait_for_timeout(1000)
    assert savings_page.locator("[role=alert]").inner_text() == wrong  # no enumeration of customers
    assert savings_page.locator(".my-savings").count() == 0


def test_my_savings_passes_axe_core(savings_page):
    violations = _wcag_violations(savings_page)
    assert not violations, violations


def test_explorer_works_with_the_keyboard_alone(explorer):
    explorer.wait_for_selector(".explorer-report h1", timeout=30_000)
    before = explorer.locator(".explorer-report h1").first.inner_text()
    reached = []
    for _ in range(20):  # Tab through the page until the dong menu has the focus
        explorer.keyboard.press("Tab")
        label = explorer.evaluate("document.activeElement.labels && document.activeElement.labels[0] ? "
                                  "document.activeElement.labels[0].innerText : document.activeElement.tagName")
        reached.append(label)
        if label == "행정동":
            break
    assert reached[-1] == "행정동", reached
    explorer.keyboard.press("ArrowDown")
    # the next dong's report, or the message that it is not published in the small test site
    explorer.wait_for_function("h => { const e = document.querySelector('.explorer-report h1'); "
                               "return !e || e.innerText !== h; }", arg=before, timeout=10_000)
