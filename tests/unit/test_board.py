"""The resident bulletin board: posts, input rules, escaping, reports, moderation and its log,
rate limits, many processes writing at once, and the `energy board` commands.

A *client* is one visiting browser (its client key is the same across page reloads); tests name
clients "client-a", … and a page reload is a new Board for the same client."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from energy_lib.apps.board import (
    Board,
    BoardSettings,
    PostNotFound,
    PostRejected,
    RateLimited,
    database_url,
    local_time,
    post_html,
)
from energy_lib.cli.board import app

WARD = "2911052500"  # 동구 충장동
OTHER_WARD = "2914074500"  # 서구 치평동
SCRIPT = "<script>alert(1)</script>"
HANGUL = re.compile("[가-힣]")
runner = CliRunner()


class Clock:
    """A fake clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'board.sqlite3'}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def board(url: str, clock: Clock) -> Iterator[Board]:
    """A board whose rate limits do not get in the way (the rate-limit tests set their own)."""
    target = Board(url, settings=BoardSettings.from_config(posts_per_window=1000, reports_per_window=1000),
                   clock=clock)
    yield target
    target.close()


def _post(board: Board, client: str = "client-1", **fields):
    values = dict(title="보일러 온도", body="20도로 낮췄어요.", category="tips", nickname="햇살") | fields
    return board.post(client, **values)


# --- posting and listing ----------------------------------------------------------------------


def test_a_post_is_stored_trimmed_with_its_time_in_utc_and_read_back(board, clock, url):
    post = _post(board, title="  창문 단열  ", body="뽁뽁이를\r\n붙였어요.\n", nickname=" 햇살 ", ward_code=WARD)
    assert (post.title, post.body, post.nickname, post.ward_code) == ("창문 단열", "뽁뽁이를\n붙였어요.", "햇살", WARD)
    assert post.created_at == clock.now and post.created_at.tzinfo == UTC
    assert local_time(post.created_at).strftime("%H:%M %Z") == "18:00 KST"
    assert not post.hidden and post.open_reports == 0
    assert board.get(post.id) == post
    assert Board(url).get(post.id) == post  # a second board on the same database: tables created once
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_listing_filters_by_category_and_dong_newest_first_with_pages(board, clock):
    for i in range(12):
        clock.advance(60)
        _post(board, title=f"post {i}", category=("tips", "questions", "news")[i % 3],
              ward_code=(WARD, OTHER_WARD, None)[i % 2 + (i % 4 == 3)])
    everything = board.posts(per_page=5)
    assert (everything.total, everything.pages, len(everything.items)) == (12, 3, 5)
    assert [p.title for p in everything.items] == [f"post {i}" for i in (11, 10, 9, 8, 7)]
    last = board.posts(page=3, per_page=5)
    assert [p.title for p in last.items] == ["post 1", "post 0"] and last.page == 3
    assert board.posts(page=4, per_page=5).items == ()
    tips = board.posts(category="tips")
    assert tips.total == 4 and {p.category for p in tips.items} == {"tips"}
    dong = board.posts(ward_code=WARD)
    assert dong.total == sum(1 for i in range(12) if i % 2 == 0) and {p.ward_code for p in dong.items} == {WARD}
    both = board.posts(category="tips", ward_code=WARD)
    assert [p.title for p in both.items] == ["post 6", "post 0"]
    news = board.posts(category="news", ward_code=OTHER_WARD)
    assert [p.title for p in news.items] == ["post 5"] and news.pages == 1


def test_posts_at_the_same_moment_list_by_id_newest_first(board):
    ids = [_post(board, title=f"same time {i}").id for i in range(3)]
    assert [p.id for p in board.posts().items] == ids[::-1]


@pytest.mark.parametrize("arguments", [dict(page=0), dict(per_page=0), dict(per_page=101), dict(status="deleted")])
def test_listing_refuses_impossible_pages_and_statuses(board, arguments):
    with pytest.raises(ValueError):
        board.posts(**arguments)


# --- input rules ------------------------------------------------------------------------------

REJECTED = [
    (dict(title=""), "title_empty"),
    (dict(title=" \t\n "), "title_empty"),
    (dict(title="가" * 101), "title_too_long"),
    (dict(title="두 줄\n제목"), "title_line_break"),
    (dict(title="nul\x00"), "title_line_break"),
    (dict(body=""), "body_empty"),
    (dict(body="\n \n\t"), "body_empty"),
    (dict(body="x" * 5001), "body_too_long"),
    (dict(body="nul \x00 in PostgreSQL"), "body_invalid_characters"),
    (dict(body="escape \x1b[31m red"), "body_invalid_characters"),
    (dict(body="lone \ud800 surrogate"), "body_invalid_characters"),
    (dict(nickname=""), "nickname_empty"),
    (dict(nickname="   "), "nickname_empty"),
    (dict(nickname="n" * 31), "nickname_too_long"),
    (dict(category="recipes"), "unknown_category"),
    (dict(category="Tips"), "unknown_category"),
    (dict(ward_code="1234567890"), "unknown_ward"),
    (dict(ward_code="29110525"), "unknown_ward"),
    (dict(body="연락 주세요 010-1234-5678"), "body_personal_number"),
    (dict(body="집 전화 062) 123 4567"), "body_personal_number"),
    (dict(title="고객번호 1203004517 사용량 문의"), "title_personal_number"),
    (dict(body="주민번호 900101-1234567"), "body_personal_number"),
    (dict(nickname="01012345678"), "nickname_personal_number"),
]


@pytest.mark.parametrize(("fields", "code"), REJECTED, ids=[code + str(i) for i, (_, code) in enumerate(REJECTED)])
def test_a_post_that_breaks_a_rule_is_rejected_with_a_code_and_a_message_in_both_languages(board, fields, code):
    with pytest.raises(PostRejected) as caught:
        _post(board, **fields)
    error = caught.value
    assert isinstance(error, ValueError) and error.code == code
    assert HANGUL.search(error.text("ko")) and error.text("en").isascii()
    assert str(error) == f"{error.text('ko')} / {error.text('en')}"
    assert board.posts(status="all").total == 0


def test_the_messages_say_what_to_fix(board):
    with pytest.raises(PostRejected) as caught:
        _post(board, title="가" * 120)
    assert caught.value.text("en") == ("Title is too long: shorten it to at most 100 characters (it has 120).")
    assert caught.value.text("ko") == "제목: 100자 이하로 줄여 주세요 (지금 120자)."
    assert caught.value.data["max"] == 100 and caught.value.data["length"] == 120
    with pytest.raises(PostRejected, match="tips \\(Saving tips\\)"):
        _post(board, category="recipes")


def test_phone_customer_and_resident_numbers_are_refused_before_anything_is_stored(board):
    """The demo's own customer numbers (electricity and gas 10 digits, water 9), Korean phone
    numbers in the ways people write them, and resident registration numbers: each refused with
    the kind named and the number masked, in both languages; nothing is stored."""
    from energy_lib.demo.city import DemoSettings, households

    demo = households(DemoSettings(households=50)).iloc[7]
    cases = {
        f"제 전기 고객번호는 {demo['electricity_no']}입니다": ("고객번호", "a customer number"),
        f"가스 {demo['gas_no'][:4]}-{demo['gas_no'][4:]}": ("고객번호", "a customer number"),
        f"수도 고객번호 {demo['water_no']}": ("고객번호", "a customer number"),
        "문자 주세요 010 9876 5432": ("전화번호", "a phone number"),
        "+82-10-9876-5432로 연락": ("전화번호", "a phone number"),
        "관리사무소 062-123-4567": ("전화번호", "a phone number"),
        "전화 ０１０－９８７６－５４３２": ("전화번호", "a phone number"),
        "제 번호 850315-2345678 입니다": ("주민등록번호", "a resident registration number"),
        "8503152345678": ("주민등록번호", "a resident registration number"),
    }
    for body, (korean, english) in cases.items():
        with pytest.raises(PostRejected) as caught:
            _post(board, body=body)
        error = caught.value
        assert error.code == "body_personal_number", body
        assert korean in error.text("ko") and "저장하지 않았습니다" in error.text("ko")
        assert english in error.text("en") and "nothing was stored" in error.text("en")
        shown = error.data["shown"]
        assert "*" in shown and shown[-4:].isdigit() and sum(c.isdigit() for c in shown) == 4, shown
    with pytest.raises(PostRejected) as caught:
        board.report("kernel-9", _post(board).id, reason="작성자 번호 010-1111-2222")
    assert caught.value.code == "report_reason_personal_number"
    assert board.posts(status="all").total == 1  # only the post the report was about


def test_numbers_residents_need_are_not_taken_for_personal_ones(board):
    body = ("2026-12-07에 20,000원 아꼈어요. 한 달 350 kWh, 누적 1,234,567,890원 절감 목표! "
            "에너지공단 상담 1588-1234, 보일러 20도, 사용량 123456789.5 kWh")
    assert _post(board, body=body).body == body


def test_texts_at_the_limits_are_accepted(board):
    post = _post(board, title="가" * 100, body="나" * 5000, nickname="다" * 30, ward_code="")
    assert (len(post.title), len(post.body), len(post.nickname), post.ward_code) == (100, 5000, 30, None)
    assert _post(board, body="탭\t과\n줄바꿈").body == "탭\t과\n줄바꿈"


def test_limits_are_configuration(url, clock):
    board = Board(url, settings=BoardSettings.from_config(title_length=(5, 10)), clock=clock)
    with pytest.raises(PostRejected) as caught:
        _post(board, title="짧음")
    assert caught.value.code == "title_too_short" and "5" in caught.value.text("en")
    assert _post(board, title="다섯 글자다").title == "다섯 글자다"


def test_report_and_hide_reasons_and_filters_are_checked(board):
    post = _post(board)
    with pytest.raises(PostRejected) as caught:
        board.report("kernel-2", post.id, "x" * 501)
    assert caught.value.code == "report_reason_too_long"
    with pytest.raises(PostRejected) as caught:
        board.hide(post.id, "  ", "kim")
    assert caught.value.code == "hide_reason_empty"
    with pytest.raises(PostRejected, match="unknown|Unknown"):
        board.posts(ward_code="0000000000")
    with pytest.raises(ValueError, match="client"):
        _post(board, client=" ")
    for name in ("", "reports", "system", "kim\nlee", "x" * 65):  # the log's own names, or no name
        with pytest.raises(ValueError, match="moderator"):
            board.hide(post.id, "reason", name)
    assert board.log() == ()


# --- escaping ---------------------------------------------------------------------------------


def test_html_and_script_are_stored_as_written_and_shown_as_text(board):
    post = _post(board, title=SCRIPT, body=f'{SCRIPT}\n<img src=x onerror="alert(2)"> & 더', nickname="<b>me</b>",
                 ward_code=WARD)
    assert board.get(post.id).title == SCRIPT  # stored raw
    shown = post_html(post)
    assert "<script" not in shown and "<img" not in shown and "<b>" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>\n&lt;img src=x onerror=&#34;alert(2)&#34;&gt; &amp; 더" in shown
    assert "&lt;b&gt;me&lt;/b&gt;" in shown and "동구 충장동" in shown and "2026년 01월 05일 18:00" in shown
    assert "Chungjang-dong, Dong-gu" in post_html(post, "en") and "Saving tips" in post_html(post, "en")
    assert "2026-01-05 18:00 KST" in post_html(post, "en")
    assert post._repr_html_() == shown and shown in board.posts()._repr_html_()


# --- reports and moderation -------------------------------------------------------------------


def test_three_different_clients_hide_a_post_and_one_client_counts_once(board):
    post = _post(board)
    assert board.report("kernel-a", post.id, "광고") is True
    assert board.report("kernel-a", post.id, "again") is False
    assert board.report("kernel-b", post.id) is True
    assert board.get(post.id).open_reports == 2  # still visible: two clients, not three
    assert board.report("kernel-c", post.id, "욕설") is True
    with pytest.raises(PostNotFound) as caught:
        board.get(post.id)
    assert caught.value.code == "post_not_found" and caught.value.text("en") == f"There is no post {post.id}."
    assert board.posts().total == 0
    hidden = board.posts(status="hidden").items[0]
    assert (hidden.id, hidden.hidden_by, hidden.open_reports) == (post.id, "reports", 3)
    with pytest.raises(PostNotFound):
        board.report("kernel-d", post.id)
    [reported] = board.reported()
    assert reported.post.id == post.id and [r.reason for r in reported.reports] == ["광고", "", "욕설"]


def test_restore_reviews_the_reports_so_only_new_clients_can_hide_again(board):
    post = _post(board)
    for client in ("a", "b", "c"):
        board.report(client, post.id)
    restored = board.restore(post.id, "kim")
    assert not restored.hidden and restored.open_reports == 0 and board.get(post.id) == restored
    assert board.reported() == () and board.posts(reported=True).total == 0
    assert board.report("a", post.id) is False  # reported before; a client counts once
    board.report("d", post.id)
    board.report("e", post.id)
    assert not board.get(post.id).hidden
    board.report("f", post.id)
    assert board.posts(status="hidden").items[0].id == post.id


def test_the_report_threshold_is_configuration(url, clock):
    board = Board(url, settings=BoardSettings.from_config(auto_hide_reports=1), clock=clock)
    post = _post(board)
    board.report("a", post.id)
    assert board.get(post.id, include_hidden=True).hidden


def test_moderators_hide_with_a_reason_and_see_hidden_posts(board, clock):
    kept, hidden = _post(board, title="kept"), _post(board, title="spam")
    board.report("a", hidden.id, "spam")
    clock.advance(30)
    result = board.hide(hidden.id, "광고 글", "kim")
    assert (result.hidden, result.hidden_by, result.hidden_reason, result.hidden_at) == (True, "moderator", "광고 글", clock.now)
    assert result.open_reports == 0 and board.reported() == ()
    assert [p.id for p in board.posts().items] == [kept.id]
    assert [p.id for p in board.posts(status="all").items] == [hidden.id, kept.id]
    with pytest.raises(PostNotFound):
        board.get(hidden.id)
    assert board.get(hidden.id, include_hidden=True) == result
    for action in (lambda: board.hide(999, "x", "kim"), lambda: board.restore(999, "kim"),
                   lambda: board.delete(999, "x", "kim"), lambda: board.get(999, include_hidden=True)):
        with pytest.raises(PostNotFound, match="999"):
            action()


def test_reported_lists_posts_with_open_reports_most_recent_first(board, clock):
    first, second = _post(board, title="first"), _post(board, title="second")
    board.report("a", second.id, "one")
    clock.advance(1)
    board.report("b", first.id, "two")
    assert [item.post.id for item in board.reported()] == [first.id, second.id]
    assert [p.id for p in board.posts(reported=True).items] == [second.id, first.id]


# --- rate limits ------------------------------------------------------------------------------


def test_post_rate_limit_holds_across_boards_and_says_when_to_retry(url, clock):
    settings = BoardSettings.from_config(posts_per_window=2, post_window_s=60)
    first, second = (Board(url, settings=settings, clock=clock) for _ in range(2))
    _post(first, "kernel")
    clock.advance(10)
    _post(second, "kernel")
    clock.advance(5)
    with pytest.raises(RateLimited) as caught:
        _post(first, "kernel")
    assert caught.value.retry_after == 45 and caught.value.code == "post_rate_limited"
    assert "45초" in caught.value.text("ko") and "45 seconds" in caught.value.text("en")
    _post(second, "another client")  # other clients are not held back
    clock.advance(45)
    _post(first, "kernel")  # the first post left the window
    with pytest.raises(RateLimited) as caught:
        _post(second, "kernel")
    assert caught.value.retry_after == 10
    assert first.posts().total == 4


def test_report_rate_limit_ignores_repeated_reports(board, url, clock):
    posts = [_post(board, title=f"p{i}") for i in range(3)]
    limited = Board(url, settings=BoardSettings.from_config(reports_per_window=2, report_window_s=3600), clock=clock)
    limited.report("kernel", posts[0].id)
    clock.advance(600)
    limited.report("kernel", posts[1].id)
    assert limited.report("kernel", posts[0].id) is False  # a repeat is no new report
    with pytest.raises(RateLimited) as caught:
        limited.report("kernel", posts[2].id)
    assert caught.value.retry_after == 3000 and caught.value.code == "report_rate_limited"
    clock.advance(3000)
    assert limited.report("kernel", posts[2].id) is True


def test_a_naive_clock_is_a_programming_error(url):
    board = Board(url, clock=lambda: datetime(2026, 1, 5))
    with pytest.raises(ValueError, match="timezone-aware"):
        _post(board)


# --- privacy ----------------------------------------------------------------------------------


def test_the_client_key_is_kept_only_as_a_salted_hash(board, url):
    client = "client-6f1d2c3b-raw-key"
    post = _post(board, client)
    board.report(client, post.id, "test")
    with pytest.raises(PostRejected):
        _post(board, client, body="전화 010-1234-5678")
    board.close()
    path = Path(url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as connection:
        rows = [row for table in ("board_posts", "board_reports", "board_moderation_log")
                for row in connection.execute(f"SELECT * FROM {table}")]
        hashes = {row[0] for query in ("SELECT client_hash FROM board_posts", "SELECT reporter_hash FROM board_reports",
                                       "SELECT client_hash FROM board_moderation_log") for row in connection.execute(query)}
    assert rows and client not in repr(rows) and "5678" not in repr(rows)  # nor the refused number
    assert len(hashes) == 1 and re.fullmatch("c-[0-9a-f]{20}", hashes.pop())
    files = b"".join(p.read_bytes() for p in path.parent.iterdir())
    assert client.encode() not in files


# --- many processes at once -------------------------------------------------------------------

PROCESSES, POSTS_EACH = 4, 25


def _write_posts(url: str, worker: int, start) -> None:
    """One app kernel: open the board (maybe creating it), wait for the others, post."""
    board = Board(url, settings=BoardSettings.from_config(posts_per_window=POSTS_EACH))
    start.wait(timeout=120)
    for i in range(POSTS_EACH):
        board.post(f"kernel-{worker}", f"worker {worker} post {i}", "동시에 쓰기", "tips", f"w{worker}")


def test_processes_writing_at_once_to_one_sqlite_file_lose_nothing(url):
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    workers = [context.Process(target=_write_posts, args=(url, worker, start)) for worker in range(PROCESSES)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=180)
    assert [process.exitcode for process in workers] == [0] * PROCESSES
    listing = Board(url).posts(per_page=100)
    assert listing.total == PROCESSES * POSTS_EACH
    assert sorted(p.title for p in listing.items) == sorted(
        f"worker {w} post {i}" for w in range(PROCESSES) for i in range(POSTS_EACH))
    assert len({p.id for p in listing.items}) == PROCESSES * POSTS_EACH


# --- configuration ----------------------------------------------------------------------------


def test_the_database_url_comes_from_the_argument_then_the_environment_then_the_configuration(monkeypatch, url):
    monkeypatch.delenv("ENERGY_BOARD_URL", raising=False)
    assert database_url() == "sqlite:///data/board.sqlite3"
    monkeypatch.setenv("ENERGY_BOARD_URL", url)
    assert database_url() == url and Board().url == url
    assert database_url("postgresql://board@db/energy") == "postgresql://board@db/energy"


# --- the `energy board` commands --------------------------------------------------------------

def test_moderation_commands(board, url):
    kept = _post(board, title="kept")
    spam = _post(board, title="spam title", body="spam body")
    for client in ("a", "b", "c"):
        board.report(client, spam.id, f"reason {client}")

    listing = runner.invoke(app, ["list", "--db", url])
    assert listing.exit_code == 0 and "kept" in listing.output and "spam title" in listing.output
    assert "hidden by reports" in listing.output and "matching posts: 2" in listing.output
    hidden = runner.invoke(app, ["list", "--hidden", "--db", url])
    assert "spam title" in hidden.output and "kept" not in hidden.output
    reported = runner.invoke(app, ["list", "--reported", "--db", url])
    assert "spam title" in reported.output and "kept" not in reported.output

    reports = runner.invoke(app, ["reports", "--db", url])
    assert reports.exit_code == 0 and "3 open reports" in reports.output and "reason b" in reports.output

    shown = runner.invoke(app, ["show", str(spam.id), "--db", url])
    assert shown.exit_code == 0 and "spam body" in shown.output and "open reports: 3" in shown.output

    restored = runner.invoke(app, ["restore", str(spam.id), "--moderator", "kim", "--db", url])
    assert restored.exit_code == 0 and board.get(spam.id).title == "spam title"
    assert "no open reports" in runner.invoke(app, ["reports", "--db", url]).output

    hid = runner.invoke(app, ["hide", str(kept.id), "--reason", "중복 글", "--moderator", "kim", "--db", url])
    assert hid.exit_code == 0 and "중복 글" in hid.output
    with pytest.raises(PostNotFound):
        board.get(kept.id)
    assert "hidden by moderator" in runner.invoke(app, ["show", str(kept.id), "--db", url]).output


@pytest.mark.parametrize("arguments", [["show", "999"], ["hide", "999", "--reason", "x"], ["restore", "999"],
                                       ["delete", "999", "--reason", "x"]])
def test_an_unknown_id_is_an_error_with_exit_code_1(url, arguments):
    result = runner.invoke(app, [*arguments, "--db", url])
    assert result.exit_code == 1
    assert "There is no post 999" in result.stderr and "999번 글이 없습니다" in result.stderr


def test_commands_read_the_database_url_from_the_environment(board, url, monkeypatch):
    _post(board, title="from the environment")
    monkeypatch.setenv("ENERGY_BOARD_URL", url)
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0 and "from the environment" in result.output


# --- abuse: one client is one reporter, and the log records every action ----------------------


def test_one_client_reloading_the_page_cannot_hide_a_post_but_distinct_clients_can(url, clock):
    """Three page loads of one browser are three kernels (three Boards here) with one client key:
    one report. Three distinct clients hide the post, and the log says so."""
    author = Board(url, clock=clock)
    post = _post(author)
    reloads = [Board(url, clock=clock) for _ in range(3)]
    answers = [page.report("client-troll", post.id, "싫어요") for page in reloads]
    assert answers == [True, False, False]
    assert author.get(post.id).open_reports == 1 and not author.get(post.id).hidden
    assert author.log() == ()
    for client in ("client-b", "client-c"):
        clock.advance(60)
        author.report(client, post.id)
    with pytest.raises(PostNotFound):
        author.get(post.id)
    [entry] = author.log()
    assert (entry.actor, entry.action, entry.post_id, entry.at) == ("reports", "auto-hide", post.id, clock.now)
    assert entry.reason == "3 distinct reporters"


def test_every_moderation_action_is_logged_with_who_what_which_post_when_and_why(board, clock):
    spam, rude, kept = _post(board, title="spam"), _post(board, title="rude"), _post(board, title="kept")
    moments = {}
    for client in ("a", "b", "c"):
        board.report(client, spam.id)
    moments["auto-hide"] = clock.now
    clock.advance(60)
    board.restore(spam.id, "kim", "광고가 아님")
    moments["unhide"] = clock.now
    clock.advance(60)
    board.hide(rude.id, "욕설", "lee")
    moments["hide"] = clock.now
    clock.advance(60)
    board.delete(rude.id, "불법 정보", "kim")
    moments["delete"] = clock.now
    clock.advance(60)
    with pytest.raises(PostRejected):
        _post(board, "client-x", title="연락처", body="제 번호는 010-2345-6789 입니다")
    moments["refused-post"] = clock.now
    for failed in (lambda: board.hide(999, "x", "kim"), lambda: board.delete(999, "x", "kim")):
        with pytest.raises(PostNotFound):  # an action that did not happen is not logged
            failed()

    log = board.log()
    assert [(e.actor, e.action, e.post_id, e.reason) for e in log] == [
        ("system", "refused-post", None, "body: a phone number"),
        ("kim", "delete", rude.id, "불법 정보"),
        ("lee", "hide", rude.id, "욕설"),
        ("kim", "unhide", spam.id, "광고가 아님"),
        ("reports", "auto-hide", spam.id, "3 distinct reporters"),
    ]
    assert {e.action: e.at for e in log} == moments
    assert [p.id for p in board.posts(status="all").items] == [kept.id, spam.id]  # the deleted post is gone …
    assert board.reported() == ()  # … with its reports; its log entries stay
    assert [e.action for e in board.log(post_id=rude.id)] == ["delete", "hide"]
    assert [e.action for e in board.log(since=moments["hide"])] == ["refused-post", "delete", "hide"]
    assert [e.post_id for e in board.log(action="auto-hide")] == [spam.id]
    assert len(board.log(limit=2)) == 2
    with pytest.raises(ValueError, match="action"):
        board.log(action="ban")


def test_an_action_whose_log_entry_cannot_be_written_does_not_happen(board, monkeypatch):
    """The entry is written in the action's transaction: no action without its entry."""
    import energy_lib.apps.board

    post = _post(board)
    board.report("a", post.id)
    board.report("b", post.id)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the log is unavailable")

    monkeypatch.setattr(energy_lib.apps.board, "_log", broken)
    for action in (lambda: board.hide(post.id, "광고", "kim"), lambda: board.delete(post.id, "광고", "kim"),
                   lambda: board.report("c", post.id)):  # the third reporter would hide it
        with pytest.raises(RuntimeError, match="log"):
            action()
    kept = board.get(post.id)
    assert not kept.hidden and kept.open_reports == 2 and board.log() == ()


def test_rate_limits_hold_across_page_reloads_of_one_client(url, clock):
    """A reload is a new kernel with the same client key: the limits do not start again."""
    settings = BoardSettings.from_config(posts_per_window=2, post_window_s=600, reports_per_window=2,
                                         report_window_s=3600)
    posts = [_post(Board(url, clock=clock), "author", title=f"p{i}") for i in range(3)]
    first_load = Board(url, settings=settings, clock=clock)
    _post(first_load, "client-a")
    first_load.report("client-a", posts[0].id)
    first_load.report("client-a", posts[1].id)
    first_load.close()
    clock.advance(30)
    reload = Board(url, settings=settings, clock=clock)
    _post(reload, "client-a")
    with pytest.raises(RateLimited) as post_limit:
        _post(reload, "client-a")
    with pytest.raises(RateLimited) as report_limit:
        reload.report("client-a", posts[2].id)
    assert (post_limit.value.retry_after, report_limit.value.retry_after) == (570, 3570)
    _post(reload, "client-b")  # another client is not held back
    assert reload.report("client-b", posts[2].id) is True


def test_refused_posts_count_in_the_post_rate_limit(url, clock):
    """Otherwise one client could fill the moderation log with refusals."""
    board = Board(url, settings=BoardSettings.from_config(posts_per_window=2, post_window_s=600), clock=clock)
    for _ in range(2):
        with pytest.raises(PostRejected):
            _post(board, "client-a", body="고객번호 1203004517")
    with pytest.raises(RateLimited):
        _post(board, "client-a", body="고객번호 1203004517")
    with pytest.raises(RateLimited):
        _post(board, "client-a")
    assert len(board.log(action="refused-post")) == 2
    assert board.posts().total == 0
    _post(board, "client-b")


def test_a_board_made_when_rate_limits_were_per_session_is_upgraded_in_place(url, clock):
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as connection:  # the tables as they were before clients
        connection.executescript("""
            CREATE TABLE board_posts (id INTEGER PRIMARY KEY, created_at DATETIME NOT NULL,
                session_hash VARCHAR(32) NOT NULL, category VARCHAR(32) NOT NULL, ward_code VARCHAR(10),
                nickname TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, hidden BOOLEAN NOT NULL,
                hidden_at DATETIME, hidden_by VARCHAR(16), hidden_reason TEXT);
            CREATE TABLE board_reports (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES board_posts (id),
                session_hash VARCHAR(32) NOT NULL, reported_at DATETIME NOT NULL, reason TEXT NOT NULL,
                reviewed BOOLEAN NOT NULL, CONSTRAINT board_reports_once_per_session UNIQUE (post_id, session_hash));
            INSERT INTO board_posts VALUES (1, '2026-01-05 08:00:00.000000', 's-0123', 'tips', NULL, '햇살',
                '옛 글', '본문', 0, NULL, NULL, NULL);
            INSERT INTO board_reports VALUES (1, 1, 's-4567', '2026-01-05 08:30:00.000000', '', 0);""")
    connection.close()
    board = Board(url, clock=clock)
    assert board.get(1).title == "옛 글" and board.get(1).open_reports == 1
    assert board.report("client-a", 1) is True and board.report("client-a", 1) is False
    assert _post(board).id == 2


# --- personal numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind"), [
    ("010-1234-5678", "phone"),
    ("010 1234 5678", "phone"),
    ("01012345678", "phone"),
    ("010.1234.5678", "phone"),
    ("010–1234–5678", "phone"),  # en dashes
    ("010ㅡ1234ㅡ5678", "phone"),  # the Hangul ㅡ typed for a dash
    ("０１０－１２３４－５６７８", "phone"),  # full-width digits and hyphens
    ("+82 10 1234 5678", "phone"),
    ("062-123-4567", "phone"),
    ("(062) 123-4567", "phone"),
    ("0621234567", "phone"),
    ("02 1234 5678", "phone"),
    ("070-1234-5678", "phone"),
    ("850315-2345678", "resident_number"),
    ("850315 - 2345678", "resident_number"),
    ("8503152345678", "resident_number"),
    ("８５０３１５２３４５６７８", "resident_number"),
    ("1203004517", "customer_number"),  # the demo's electricity and gas numbers: 10 digits
    ("200000117", "customer_number"),  # water: 9 digits
    ("12-0300-4517", "customer_number"),
    ("1203-004517", "customer_number"),
    ("12 0300 4517", "customer_number"),  # printed in groups
    ("１２０３００４５１７", "customer_number"),
])
def test_personal_numbers_are_found_however_they_are_written(text, kind):
    from energy_lib.apps import personal_numbers

    [found] = personal_numbers.find(f"제 번호는 {text}입니다")
    assert found.kind == kind
    assert sum(c.isdigit() for c in found.masked) == 4 and "*" in found.masked


@pytest.mark.parametrize("text", [
    "2026-12-07",  # a date
    "2026.12.07",
    "2025-01-01 2025-12-31",  # a period
    "2026년",  # a year
    "2023 2024 2025년 비교",  # years
    "1,234 kWh",  # amounts
    "한 달 350 kWh",
    "123456789 kWh",
    "123456789.5 kWh",
    "사용량 320 310 290 kWh",  # a list of quantities
    "기온 20 21 22 23 24도",
    "1,234,567,890원",
    "사업비 150000000원",
    "₩150000000",
    "20,000원",
    "1588-1234",  # a business's representative number
    "123-4567",  # a local number without its area code names nobody
    "12:30",
])
def test_numbers_residents_write_are_not_taken_for_personal_ones(text):
    from energy_lib.apps import personal_numbers

    assert personal_numbers.find(text) == ()


def test_the_board_page_tells_residents_the_rule():
    from energy_lib.core import i18n

    reporters = BoardSettings.from_config().auto_hide_reports
    korean, english = (i18n.text("board.intro", lang) + i18n.text("board.reports_rule", lang, reporters=reporters)
                       for lang in ("ko", "en"))
    assert all(word in korean for word in ("전화번호", "고객번호", "주민등록번호", "저장하지 않", f"서로 다른 {reporters}명"))
    assert all(word in english for word in ("phone", "customer", "resident registration", "not stored",
                                            f"reported by {reporters} different people"))


# --- `energy board log` -----------------------------------------------------------------------


def test_the_log_command_prints_every_action_and_filters(board, url, monkeypatch):
    """The commands act at the real time, after the fixture clock's reports and refusal."""
    spam, rude = _post(board, title="spam"), _post(board, title="rude")
    for client in ("a", "b", "c"):
        board.report(client, spam.id)
    with pytest.raises(PostRejected):
        _post(board, body="연락 010-2345-6789")
    monkeypatch.setenv("ENERGY_MODERATOR", "park")
    assert runner.invoke(app, ["restore", str(spam.id), "--reason", "괜찮음", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["hide", str(rude.id), "--reason", "욕설", "--moderator", "kim", "--db", url]).exit_code == 0
    deleted = runner.invoke(app, ["delete", str(rude.id), "--reason", "불법", "--moderator", "kim", "--db", url])
    assert deleted.exit_code == 0 and f"post {rude.id} deleted" in deleted.output

    result = runner.invoke(app, ["log", "--db", url])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["time", "actor", "action", "post", "reason"]
    rows = [line.split(None, 5) for line in lines[1:-1]]  # date, time, KST, actor, action, the rest
    assert [(row[3], row[4]) for row in rows] == [("kim", "delete"), ("kim", "hide"), ("park", "unhide"),
                                                  ("system", "refused-post"), ("reports", "auto-hide")]
    assert [row[5].split(None, 1) for row in rows] == [
        [str(rude.id), "불법"], [str(rude.id), "욕설"], [str(spam.id), "괜찮음"], ["-", "body: a phone number"],
        [str(spam.id), "3 distinct reporters"]]
    assert lines[-2].startswith("2026-01-05 18:00 KST") and lines[-1] == "5 entries, newest first"

    about = runner.invoke(app, ["log", "--post", str(rude.id), "--db", url])
    assert [line.split()[4] for line in about.output.splitlines()[1:-1]] == ["delete", "hide"]
    only = runner.invoke(app, ["log", "--action", "auto-hide", "--db", url])
    assert "1 entry," in only.output and "reports" in only.output
    assert "3 entries" in runner.invoke(app, ["log", "--since", "2026-01-06", "--db", url]).output
    assert "5 entries" in runner.invoke(app, ["log", "--since", "2026-01-05 18:00", "--db", url]).output
    assert "2 entries" in runner.invoke(app, ["log", "--limit", "2", "--db", url]).output
    for wrong in (["--action", "ban"], ["--since", "yesterday"]):
        failed = runner.invoke(app, ["log", *wrong, "--db", url])
        assert failed.exit_code == 1 and "error:" in failed.stderr
    assert runner.invoke(app, ["hide", str(spam.id), "--reason", "x", "--moderator", "system",
                               "--db", url]).exit_code == 1
    assert "no log entries" in runner.invoke(app, ["log", "--db", url.replace("board.sqlite3", "empty.sqlite3")]).output
