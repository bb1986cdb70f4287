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
from phone import PHONE, assert_fits_a_phone, assert_one_language, screenshots
from playwright.sync_api import expect

from tests.conftest import code_cost

pytestmark = pytest.mark.xdist_group("published")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
ANSWER_MS = 30_000
"""[ms] an app's answer to a click or a key: well under a second alone, many seconds on the 2-core
machine while the suite's other worker runs notebooks (a failure is then no answer at all)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def codes(site, demo, tmp_path_factory):
    """The small demo's codes and its household index (as `energy household-index` makes them):
    customer number → code of the households in the index."""
    from energy_lib.apps import household
    from energy_lib.core import personal_codes
    from energy_lib.demo.personal_codes import demo_codes

    issued = demo_codes(demo["settings"])
    table = issued.assign(code_hash=personal_codes.code_hashes(issued["code"], settings=code_cost()))
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
        # room for every page the tests open: they close their pages without the page's unload
        # handler (page.close()), so no shutdown request is sent and each kernel waits for the culler
        # (60-90 s), and the index test fetches every app's page without a browser
        server = subprocess.Popen([sys.executable, "-m", "energy_lib.cli", "serve", "--port", url.rsplit(":", 1)[1],
                                   "--site", str(site["site"]), "--max-kernels", "40"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "ENERGY_BOARD_URL": f"sqlite:///{database}",
                                       "ENERGY_HOUSEHOLD_INDEX": str(site["household_index"]),
                                       "ENERGY_LIVE_DIR": str(tmp_path_factory.mktemp("live"))})
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


APP_S = 120.0
"""[s] how long a test waits for an app's page: its kernel may wait behind others warming up, while
the server answers "busy, try again" (503) as it would to a visitor, and the test tries again."""


def _visit(page, url: str, heading: str) -> None:
    """Open an app's ``url`` in ``page`` as a patient visitor, until its ``heading`` is on screen:
    while the server answers busy (every warm-up slot taken, docs/apps.md), ask again."""
    deadline = time.monotonic() + APP_S
    while (response := page.goto(url, wait_until="commit")) is not None and response.status == 503:
        assert time.monotonic() < deadline, f"{url} stayed busy for {APP_S:.0f} s"
        page.wait_for_timeout(500)  # the poll's interval: the condition is the server's answer
    page.wait_for_selector(f"text={heading}", timeout=max(1.0, deadline - time.monotonic()) * 1000)


HEADINGS = {"index.ipynb": "광주 에너지 시민 앱", "ward_explorer.ipynb": "우리 동네 에너지 탐색",
            "my_savings.ipynb": "우리 집 절감 확인", "board.ipynb": "주민 에너지 게시판", "live.ipynb": "실시간 전력 모니터링"}
"""Every app the tests here open, and the heading that shows it has run."""


@contextlib.contextmanager
def _app(browser, voila: str, notebook: str):
    """An app open at phone width, once its heading is on screen; closed afterwards."""
    page = browser.new_page(viewport=PHONE)
    _visit(page, f"{voila}/voila/render/{notebook}", HEADINGS[notebook])
    try:
        yield page
    finally:
        page.close()


@pytest.fixture
def explorer(voila, browser):
    with _app(browser, voila, "ward_explorer.ipynb") as page:
        yield page


def test_explorer_shows_the_default_gu_renders_korean_and_passes_axe_core(explorer):
    explorer.wait_for_selector(".explorer-report h1", timeout=30_000)
    assert explorer.evaluate("document.documentElement.lang") == "ko"
    assert "서구" in explorer.locator(".explorer-report h1").first.inner_text()
    explorer.evaluate("document.fonts.ready")
    assert explorer.evaluate("document.fonts.check('16px NanumGothic', '광주')")
    for selector in (".explorer-report h1", ".widget-dropdown select"):  # the report and the controls use it
        family = explorer.evaluate(f"getComputedStyle(document.querySelector('{selector}')).fontFamily")
        assert family.startswith('"NanumGothic"') or family.startswith("NanumGothic"), (selector, family)
    assert "print(" not in explorer.content() and "import ipywidgets" not in explorer.content()  # sources stripped
    ARTIFACTS.mkdir(exist_ok=True)
    explorer.screenshot(path=str(ARTIFACTS / "app-explorer-ko.png"), full_page=True)
    violations = _wcag_violations(explorer)
    assert not violations, violations


def test_choosing_a_dong_shows_its_report(explorer):
    explorer.wait_for_selector(".explorer-report", timeout=30_000)
    explorer.get_by_label("행정동", exact=True).select_option(label="치평동")
    explorer.wait_for_selector("text=서구 치평동 에너지 보고서", timeout=ANSWER_MS)
    explorer.get_by_label("행정동", exact=True).select_option(label="농성1동")  # not in the test site
    explorer.wait_for_selector("text=아직 공개되지 않았습니다", timeout=ANSWER_MS)


WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
"""axe-core's rules for WCAG 2.1 A and AA, the basis of KWCAG 2.2. Voila's own page has no landmark
regions (axe's best-practice rule "region"), which the apps cannot change."""


def _wcag_violations(page) -> list:
    """axe-core's WCAG 2.1 A/AA violations on the page: rule, impact and the first nodes."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]


@pytest.fixture
def board_page(voila, browser):
    with _app(browser, voila, "board.ipynb") as page:
        yield page


def test_a_post_appears_and_a_script_in_it_stays_text(board_page):
    board_page.get_by_label("제목").fill("창문 단열 <b>팁</b>")
    board_page.get_by_label("본문").fill("뽁뽁이를 붙였더니 좋아요 <script>window.hacked = 1</script>")
    board_page.get_by_label("닉네임").fill("치평동 주민")
    board_page.get_by_role("button", name="올리기").click()
    board_page.wait_for_selector("text=글을 올렸습니다.", timeout=ANSWER_MS)
    post = board_page.locator(".board-post").first
    post.wait_for(timeout=ANSWER_MS)
    assert post.locator(".board-title").inner_text() == "창문 단열 <b>팁</b>"
    assert "<script>window.hacked = 1</script>" in post.locator(".board-body").inner_text()
    assert board_page.evaluate("window.hacked") is None
    assert post.locator("script").count() == 0 and post.locator("b").count() == 0
    board_page.screenshot(path=str(ARTIFACTS / "app-board-ko.png"), full_page=True)


def test_an_empty_post_gets_a_message_not_an_error_and_the_board_passes_axe_core(board_page):
    violations = _wcag_violations(board_page)
    assert not violations, violations
    board_page.get_by_role("button", name="올리기").click()
    board_page.wait_for_selector("[role=status]", timeout=ANSWER_MS)
    assert "제목" in board_page.locator("[role=status]").inner_text()
    assert "Traceback" not in board_page.content()
    violations = _wcag_violations(board_page)  # with the message shown
    assert not violations, violations


def test_index_links_the_apps_only_in_the_korean_font_and_one_language(voila, browser):
    from energy_lib.apps.explorer import APPS

    with _app(browser, voila, "index.ipynb") as page:
        hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
        # no /voila/tree; each is the address at which the other tests here open and check that
        # app (a fetch here would start a kernel for nothing)
        assert sorted(hrefs) == sorted(f"/voila/render/{notebook}" for notebook, _, _ in APPS)
        assert {notebook for notebook, _, _ in APPS} <= set(HEADINGS)
        page.evaluate("document.fonts.ready")
        assert page.evaluate("document.fonts.check('16px NanumGothic', '광주')")
        for selector in ("h1", "ul.apps a", "ul.apps li"):
            family = page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).fontFamily")
            assert family.replace('"', "").startswith("NanumGothic"), (selector, family)
        assert_fits_a_phone(page)
        assert_one_language(page, "ko")
        screenshots(page, "index-ko")
        page.get_by_role("button", name="English").click()
        expect(page.locator("h1")).to_have_text("Gwangju energy apps for citizens", timeout=ANSWER_MS)
        assert_fits_a_phone(page)
        assert_one_language(page, "en")
        screenshots(page, "index-en")


@pytest.fixture
def savings_page(voila, browser):
    with _app(browser, voila, "my_savings.ipynb") as page:
        yield page


def test_a_valid_code_shows_that_household_and_a_wrong_one_a_message_and_passes_axe_core(savings_page, codes):
    account, code = next(iter(codes.items()))
    savings_page.get_by_label("고객번호").fill(account)
    savings_page.get_by_label("에너지 코드").fill(code)
    savings_page.get_by_role("button", name="확인").click()
    savings_page.wait_for_selector(".my-savings h2", timeout=ANSWER_MS)
    assert "우리 집 에너지" in savings_page.locator(".my-savings h2").inner_text()
    assert savings_page.locator(".my-savings .carrier-card").count() >= 1
    # the neighbours: a comparison with the two published figures and how they are made, or in words why not
    neighbours = savings_page.locator(".my-savings").inner_text()
    assert "비슷한 이웃과 비교" in neighbours and "<NA>" not in neighbours
    if savings_page.locator(".peer-compare").count():
        assert "보통 이웃" in neighbours and "효율적인 이웃" in neighbours and "유효숫자 2자리" in neighbours
    else:
        assert savings_page.locator(".peer-withheld").count() == 1
    savings_page.get_by_label("고객번호").fill(account)
    savings_page.get_by_label("에너지 코드").fill("WRONG234")
    savings_page.get_by_role("button", name="확인").click()
    savings_page.wait_for_selector("[role=alert]", timeout=ANSWER_MS)
    wrong = savings_page.locator("[role=alert]").inner_text()
    savings_page.get_by_label("고객번호").fill("9999999999")
    savings_page.get_by_label("에너지 코드").fill(code)
    savings_page.get_by_role("button", name="확인").click()
    expect(savings_page.get_by_label("에너지 코드")).to_have_value("", timeout=ANSWER_MS)  # emptied after the answer is drawn
    assert savings_page.locator("[role=alert]").inner_text() == wrong  # no enumeration of customers
    assert savings_page.locator(".my-savings").count() == 0
    violations = _wcag_violations(savings_page)  # with the message shown
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
                               "return !e || e.innerText !== h; }", arg=before, timeout=ANSWER_MS)


# --- every app at phone width, in one language ---------------------------------------------------------


def test_explorer_fits_a_phone_in_either_language_and_switching_relabels_everything(explorer):
    explorer.wait_for_selector(".explorer-report h1", timeout=30_000)
    # the report is the published page (energy publish); its closed tables are the report pages' to
    # fix (issue 14, <NA> in report tables), what the explorer shows open is checked here
    assert_fits_a_phone(explorer, collapsed=False)
    report = explorer.evaluate("document.querySelector('.explorer-report').getBoundingClientRect().width")
    assert report <= PHONE["width"], report  # the report is as wide as the phone, not 900 px
    screenshots(explorer, "explorer-ko")
    explorer.get_by_role("button", name="English").click()
    explorer.wait_for_selector("text=Ward energy explorer", timeout=ANSWER_MS)
    explorer.wait_for_selector(".explorer-report[lang=en] h1", timeout=ANSWER_MS)
    assert "Seo-gu" in explorer.locator(".explorer-report h1").first.inner_text()
    explorer.screenshot(path=str(ARTIFACTS / "app-explorer-en.png"), full_page=True)
    assert_fits_a_phone(explorer, collapsed=False)
    assert_one_language(explorer, "en")
    screenshots(explorer, "explorer-en")


def _look_up(page, account: str, code: str, button: str = "확인") -> None:
    page.get_by_label("고객번호").fill(account)
    page.get_by_label("에너지 코드").fill(code)
    page.get_by_role("button", name=button).click()
    page.wait_for_selector(".my-savings h2", timeout=ANSWER_MS)


def test_my_savings_shows_what_the_store_gives_in_both_languages_at_phone_width(savings_page, codes, site):
    """The rendered app, not only the library's HTML: every number of one household's page read
    back from the browser and compared with the figures recomputed from the store."""
    from tests.unit.test_my_savings import check_page, expected_figures, monthly_bills

    bills = monthly_bills(site["store"])
    account, code = list(codes.items())[3]
    expected = expected_figures(site["store"], site["derived"], bills, account)
    _look_up(savings_page, account, code)
    rendered = savings_page.locator(".my-savings").evaluate("e => e.outerHTML")
    assert check_page(rendered, expected, "ko") >= 10
    assert_fits_a_phone(savings_page)
    assert_one_language(savings_page, "ko", allowed=(account,))
    cards = savings_page.evaluate("[...document.querySelectorAll('.carrier-card')].map(e => e.getBoundingClientRect().right)")
    assert cards and max(cards) <= PHONE["width"]
    screenshots(savings_page, "my-savings-ko")
    savings_page.get_by_role("button", name="English").click()
    savings_page.wait_for_selector(".my-savings[lang=en]", timeout=ANSWER_MS)
    rendered = savings_page.locator(".my-savings").evaluate("e => e.outerHTML")
    assert check_page(rendered, expected, "en") >= 10
    assert_fits_a_phone(savings_page)
    assert_one_language(savings_page, "en", allowed=(account,))
    screenshots(savings_page, "my-savings-en")


def _write(page, title: str, body: str, nickname: str = "치평동 주민", labels=("제목", "본문", "닉네임", "올리기")) -> None:
    page.get_by_label(labels[0]).fill(title)
    page.get_by_label(labels[1]).fill(body)
    page.get_by_label(labels[2]).fill(nickname)
    page.get_by_role("button", name=labels[3]).click()


def _page_count(page) -> int:
    """The number of posts the listing says it has (e.g. "1 / 1 쪽 · 글 3개")."""
    import re

    return int(re.search(r"(\d+)\s*(?:개|posts)", page.locator(".board-page").inner_text()).group(1))


def test_the_list_refreshes_after_posting_even_under_another_filter(board_page):
    board_page.get_by_label("분류").first.select_option(label="질문")  # the list shows questions only
    expect(board_page.locator(".board-page")).to_contain_text("쪽", timeout=ANSWER_MS)
    before = _page_count(board_page)
    _write(board_page, "베란다 태양광 후기", "한 달에 30 kWh 정도 줄었어요.")
    expect(board_page.locator("[role=status]")).to_have_text("글을 올렸습니다.", timeout=ANSWER_MS)
    first = board_page.locator(".board-item").first
    expect(first.locator(".board-title")).to_have_text("베란다 태양광 후기", timeout=ANSWER_MS)  # a tip, shown at once
    assert _page_count(board_page) >= before + 1
    assert board_page.get_by_label("분류").first.input_value() == "전체"  # the filter was cleared to show it
    expect(board_page.get_by_label("제목")).to_have_value("")


def test_a_post_is_reported_with_the_button_on_it(board_page):
    _write(board_page, "신고 시험 글", "광고 문구입니다.")
    post = board_page.locator(".board-item", has_text="신고 시험 글").first
    post.wait_for(timeout=ANSWER_MS)
    assert board_page.get_by_label("신고할 글 번호").count() == 0  # no typing a post's number
    post.get_by_role("button", name="신고").click()
    expect(post.locator("[role=status]")).to_have_text("신고했습니다. 고맙습니다.", timeout=ANSWER_MS)
    expect(post.get_by_role("button", name="신고")).to_be_disabled()
    board_page.get_by_role("button", name="English").click()  # the list is drawn again: the report is remembered
    post = board_page.locator(".board-item", has_text="신고 시험 글").first
    expect(post.locator("[role=status]")).to_have_text("Reported. Thank you.", timeout=ANSWER_MS)
    expect(post.get_by_role("button", name="Report")).to_be_disabled()


def _report_in(page, title: str) -> str:
    """Press the report button of the post titled ``title``; the answer under it."""
    post = page.locator(".board-item", has_text=title).first
    post.wait_for(timeout=ANSWER_MS)
    post.get_by_role("button", name="신고").click()
    answer = post.locator("[role=status]")
    expect(answer).to_contain_text("신고", timeout=ANSWER_MS)
    return answer.inner_text()


def _open_board(context, voila: str):
    """The board in a browser ``context`` (one person), once its heading is on screen."""
    page = context.new_page()
    _visit(page, f"{voila}/voila/render/board.ipynb", HEADINGS["board.ipynb"])
    return page


def _reload(page) -> None:
    _visit(page, page.url, HEADINGS["board.ipynb"])  # a new page load: a new kernel, the same browser
    expect(page.locator(".board-page")).to_contain_text("쪽", timeout=ANSWER_MS)


def test_reloading_the_page_does_not_make_another_reporter_but_three_people_hide_a_post(voila, browser):
    title = "새로고침 신고 시험 글"
    people = [browser.new_context(viewport=PHONE) for _ in range(3)]  # three browsers: three clients
    try:
        first = _open_board(people[0], voila)
        _write(first, title, "광고 문구입니다.")
        assert _report_in(first, title) == "신고했습니다. 고맙습니다."
        _reload(first)  # the same person reloads and reports again: counted once
        assert _report_in(first, title) == "이미 신고한 글입니다."
        for person in people[1:]:
            page = _open_board(person, voila)
            still_shown = page.locator(".board-item", has_text=title)
            expect(still_shown).to_have_count(1, timeout=ANSWER_MS)  # fewer than three people reported it
            assert _report_in(page, title) == "신고했습니다. 고맙습니다."
        _reload(page)
        expect(page.locator(".board-item", has_text=title)).to_have_count(0, timeout=ANSWER_MS)  # hidden after three
    finally:
        for context in people:
            context.close()


PERSONAL_NUMBERS = (("제 번호 010-2345-6789로 문자 주세요", "전화번호"), ("고객번호 1203004517 요금 문의", "고객번호"),
                    ("주민번호 850315-2345678", "주민등록번호"))
"""A post holding each kind of personal number, and the kind the refusal names (no name is part
of another, so each refusal is told from the one before)."""


def test_personal_numbers_are_refused_with_a_message_and_nothing_is_stored(board_page):
    expect(board_page.locator(".board-page")).to_contain_text("쪽", timeout=ANSWER_MS)
    before = _page_count(board_page)
    status = board_page.locator("[role=status]")
    for body, kind in PERSONAL_NUMBERS:
        _write(board_page, "연락처 남깁니다", body)
        expect(status).to_contain_text(kind, timeout=ANSWER_MS)
        assert "저장하지 않았습니다" in status.inner_text() and "****" in status.inner_text(), kind
        assert _page_count(board_page) == before, kind
        expect(board_page.get_by_label("본문")).to_have_value(body)  # kept, for the citizen to fix
        assert board_page.locator(".board-item", has_text="연락처 남깁니다").count() == 0, kind


def _citizens_words(page) -> tuple[str, ...]:
    """Words citizens wrote (titles, texts, nicknames): shown as written, in any language."""
    texts = page.eval_on_selector_all(".board-title, .board-body, .board-nickname", "es => es.map(e => e.innerText)")
    return tuple(sorted({word for text in texts for word in text.split()}, key=len, reverse=True))


def test_board_switches_to_english_and_fits_a_phone(board_page):
    _write(board_page, "보일러 온도 팁", "20도로 낮췄어요.")
    expect(board_page.locator("[role=status]")).to_have_text("글을 올렸습니다.", timeout=ANSWER_MS)
    assert_fits_a_phone(board_page)
    assert_one_language(board_page, "ko", allowed=_citizens_words(board_page))
    expect(board_page.get_by_text("서로 다른 3명이 신고한 글은")).to_have_count(1)  # the rules are on the page
    screenshots(board_page, "board-ko")
    board_page.get_by_role("button", name="English").click()
    expect(board_page.locator("h1")).to_have_text("Residents' energy board", timeout=ANSWER_MS)
    expect(board_page.get_by_text("a post reported by 3 different people is hidden")).to_have_count(1)
    expect(board_page.locator(".board-meta").first).to_contain_text("Saving tips")
    assert board_page.get_by_label("Title").count() == 1 and board_page.get_by_label("Nickname").count() == 1
    assert_fits_a_phone(board_page)
    assert_one_language(board_page, "en", allowed=_citizens_words(board_page))
    _write(board_page, "Call me", "My number is 010-2345-6789", labels=("Title", "Text", "Nickname", "Post"))
    expect(board_page.locator("[role=status]")).to_contain_text("nothing was stored", timeout=ANSWER_MS)
    assert "a phone number" in board_page.locator("[role=status]").inner_text()
    screenshots(board_page, "board-en")


def test_live_monitor_without_data_says_so_in_words_at_phone_width(voila, browser):
    with _app(browser, voila, "live.ipynb") as page:
        message = page.locator("[data-testid=live-empty]")
        message.wait_for(timeout=30_000)
        text = page.evaluate("document.body.innerText")
        assert "make" not in text and "energy watch" not in text and "/" not in text
        assert_fits_a_phone(page)
        assert_one_language(page, "ko")
        screenshots(page, "live-empty-ko")
        page.get_by_role("button", name="English").click()
        expect(page.locator("[data-testid=live-empty][lang=en]")).to_be_visible(timeout=ANSWER_MS)
        assert_fits_a_phone(page)
        assert_one_language(page, "en")
