"""The resident bulletin board: citizens share saving tips, questions and village news.

A :class:`Board` keeps posts and citizens' reports of abuse in a database reached through
SQLAlchemy Core: SQLite in WAL mode by default (``data/board.sqlite3``), PostgreSQL where a city
serves the apps from several machines. The URL is configuration: ``Board(url)``, else
``$ENERGY_BOARD_URL``, else ``config/board.toml``.

Many app kernels (processes) write at once, so everything that must hold across them lives in the
database: each write is one serialisable transaction (SQLite: ``BEGIN IMMEDIATE`` with a busy
timeout; PostgreSQL: ``SERIALIZABLE``), retried when it lost a lock or a serialisation conflict;
rate limits count the client's rows in the database, not a counter in memory.

One person is one *client*: the caller passes the visiting browser's client key
(:func:`energy_lib.apps.client.client_key`, the same across page reloads), not the kernel's id, so
that reloading the page neither resets a rate limit nor makes a second reporter. A post is hidden
by citizens only when ``auto_hide_reports`` distinct clients reported it.

Every moderation action (a moderator's hide, unhide and delete, the reports' auto-hide, and the
system's refusal of a post holding a personal number) is written to the moderation log in the
same transaction as the action itself (:meth:`Board.log`, ``energy board log``).

Privacy: the board never sees an IP address, and it keeps a client key only as a keyed hash (HMAC under the board's own key)
(:func:`energy_lib.core.identity.pseudonyms`), which is enough to count one client's posts and reports.
A refused post leaves only its field and the kind of number in the log, never the text.

Text is stored exactly as written; :func:`post_html` is the one way to show it as HTML, and it
escapes everything a citizen wrote, so no user text ever becomes markup.

>>> board = Board("sqlite:///data/board.sqlite3")                        # doctest: +SKIP
>>> post = board.post(client_key(), "보일러 온도", "20도로 낮췄더니…", "tips", "햇살")  # doctest: +SKIP
>>> board.posts(category="tips", page=1, per_page=10).items           # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
import os
import random
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from energy_lib.apps import personal_numbers
from energy_lib.core import configuration, i18n, identity, templating, wards

__all__ = [
    "Board",
    "BoardSettings",
    "Visibility",
    "Post",
    "Page",
    "Report",
    "ReportedPost",
    "LogEntry",
    "ACTIONS",
    "BoardError",
    "PostRejected",
    "RateLimited",
    "PostNotFound",
    "database_url",
    "post_html",
    "local_time",
    "category_label",
    "KST",
]

KST = timezone(timedelta(hours=9), "KST")
"""Korea Standard Time. Korea has no daylight saving time, so a fixed offset is exact."""

_T = TypeVar("_T")


class Visibility(StrEnum):
    """Which posts a listing shows (:meth:`Board.posts`): citizens see ``visible`` posts only; the
    other two are for moderators."""

    VISIBLE = "visible"
    HIDDEN = "hidden"
    ALL = "all"


ACTIONS = ("hide", "unhide", "delete", "auto-hide", "refused-post")
"""What the moderation log records: a moderator's ``hide``, ``unhide`` and ``delete``, the reports'
``auto-hide`` and the system's ``refused-post`` (a post holding a personal number)."""
_REPORTS_ACTOR, _SYSTEM_ACTOR = "reports", "system"
_MODERATOR_LENGTH = 64  # [characters] of a moderator's name in the log


def _config() -> dict[str, Any]:
    return configuration.load("board")


def database_url(url: str | None = None) -> str:
    """The board's database URL: ``url`` if given, else ``$ENERGY_BOARD_URL``, else the default of
    ``config/board.toml``."""
    return url or os.environ.get("ENERGY_BOARD_URL") or _config()["database"]["url"]


def category_label(category: str, lang: str) -> str:
    """The name of a category (``"tips"``, ``"questions"``, ``"news"``) in ``lang``."""
    return i18n.text(f"board.categories.{category}", _checked_lang(lang))


def _labels(group: str, name: str) -> dict[str, str]:
    """A label of the board's catalogue (``board.<group>.<name>``) in every language."""
    return {lang: i18n.text(f"board.{group}.{name}", lang) for lang in i18n.LANGUAGES}


def local_time(moment: datetime) -> datetime:
    """``moment`` (timezone-aware) in Korea Standard Time, for display."""
    return moment.astimezone(KST)


def _checked_lang(lang: str) -> str:
    if lang not in i18n.LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(i18n.LANGUAGES)}, not {lang!r}")
    return lang


# --- Errors -----------------------------------------------------------------------------------


class BoardError(Exception):
    """An error a citizen or moderator can act on.

    Attributes
    ----------
    code : str
        Stable identifier for an app that words its own message, e.g. ``"title_too_long"``.
    data : dict
        The values in the message (``max``, ``length``, ``seconds``, …); a value that depends on
        the language is a ``{"ko": …, "en": …}`` dict.

    ``str(error)`` is the message in Korean and English; :meth:`text` gives one language.
    """

    def __init__(self, code: str, message: str, **data: Any) -> None:
        self.code = code
        self.data = data
        self._message = message
        super().__init__(f"{self.text('ko')} / {self.text('en')}")

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``"ko"`` or ``"en"``), saying what to do."""
        values = {key: value[lang] if isinstance(value, dict) else value for key, value in self.data.items()}
        return i18n.text(f"board.messages.{self._message}", _checked_lang(lang), **values)


class PostRejected(BoardError, ValueError):
    """A post, report or moderation reason that breaks an input rule; nothing was stored.

    ``code`` is ``<field>_<problem>`` for text (``title_empty``, ``body_too_long``,
    ``nickname_line_break``, ``report_reason_invalid_characters``, ``body_personal_number``, …), or ``unknown_category`` /
    ``unknown_ward``.
    """


class RateLimited(BoardError):
    """The client posted or reported too often; ``retry_after`` [s] says when it may again."""

    def __init__(self, action: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"{action}_rate_limited", f"rate_limited_{action}", seconds=retry_after)


class PostNotFound(BoardError, LookupError):
    """No such post, or (for citizens) the post is hidden: both read the same, on purpose."""

    def __init__(self, post_id: int) -> None:
        self.post_id = post_id
        super().__init__("post_not_found", "not_found", post_id=post_id)


# --- Settings and results ---------------------------------------------------------------------


@dataclass(frozen=True)
class BoardSettings:
    """The board's rules, from ``config/board.toml`` (see the comments there for each entry).

    Lengths are ``(minimum, maximum)`` [characters]; windows are [s].
    """

    categories: tuple[str, ...]
    title_length: tuple[int, int]
    body_length: tuple[int, int]
    nickname_length: tuple[int, int]
    report_reason_length: tuple[int, int]
    hide_reason_length: tuple[int, int]
    max_per_page: int
    posts_per_window: int
    post_window_s: float
    reports_per_window: int
    report_window_s: float
    auto_hide_reports: int
    busy_timeout_s: float
    retries: int

    @classmethod
    def from_config(cls, **overrides: Any) -> BoardSettings:
        """The configured settings, with ``overrides`` (field names of this class) applied."""
        config = _config()
        limits, rates = config["limits"], config["rate_limits"]
        settings = cls(
            categories=tuple(config["categories"]),
            title_length=tuple(limits["title"]),
            body_length=tuple(limits["body"]),
            nickname_length=tuple(limits["nickname"]),
            report_reason_length=tuple(limits["report_reason"]),
            hide_reason_length=tuple(limits["hide_reason"]),
            max_per_page=limits["max_per_page"],
            posts_per_window=rates["posts"],
            post_window_s=rates["posts_window_s"],
            reports_per_window=rates["reports"],
            report_window_s=rates["reports_window_s"],
            auto_hide_reports=config["moderation"]["auto_hide_reports"],
            busy_timeout_s=config["database"]["busy_timeout_s"],
            retries=config["database"]["retries"],
        )
        return dataclasses.replace(settings, **overrides)


@dataclass(frozen=True)
class Post:
    """One post, its text exactly as written (show it with :func:`post_html`).

    ``created_at`` and ``hidden_at`` are UTC (:func:`local_time` gives KST). ``hidden_by`` is
    ``"moderator"`` or ``"reports"`` (citizens' reports reached the threshold); ``open_reports``
    counts reports no moderator has reviewed yet.
    """

    id: int
    created_at: datetime
    category: str
    title: str
    body: str
    nickname: str
    ward_code: str | None
    hidden: bool
    hidden_at: datetime | None
    hidden_by: str | None
    hidden_reason: str | None
    open_reports: int

    def _repr_html_(self) -> str:
        return post_html(self)


@dataclass(frozen=True)
class Page:
    """One page of a listing, newest first: ``items``, the ``total`` matching posts, and the
    ``page`` number (from 1) of ``per_page`` posts."""

    items: tuple[Post, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1, so that an empty listing reads "page 1 of 1")."""
        return max(1, math.ceil(self.total / self.per_page))

    def _repr_html_(self) -> str:
        return "\n".join(post_html(post) for post in self.items)


@dataclass(frozen=True)
class Report:
    """A citizen's report of a post (whose client is not shown)."""

    reported_at: datetime
    reason: str


@dataclass(frozen=True)
class ReportedPost:
    """A post with the reports a moderator has not reviewed, oldest report first."""

    post: Post
    reports: tuple[Report, ...]


@dataclass(frozen=True)
class LogEntry:
    """One moderation action, as :meth:`Board.log` gives it.

    ``at`` is UTC; ``actor`` is the moderator's name, ``"reports"`` (citizens' reports hid the
    post) or ``"system"`` (the board refused a post); ``action`` is one of :data:`ACTIONS`;
    ``post_id`` is None for a refused post (it was never stored); ``reason`` says why (a
    moderator's words, the number of reporters, or the refused field and kind of number).
    """

    id: int
    at: datetime
    actor: str
    action: str
    post_id: int | None
    reason: str | None


# --- Display ----------------------------------------------------------------------------------


def post_html(post: Post, lang: str = "ko") -> str:
    """The post as safe HTML: every text a citizen wrote is escaped, line breaks become ``<br>``.

    Parameters
    ----------
    post : Post
    lang : str
        ``"ko"`` or ``"en"``: the language of the category and dong names.

    Returns
    -------
    str
        An ``<article class="board-post">`` with the title, a line of category, dong, nickname and
        time (KST, written as ``lang`` writes it), and the body, from ``templates/board/post.html.j2``
        (autoescaped). No markup comes from the post's own text.
    """
    meta = [category_label(post.category, lang)]
    if post.ward_code:
        meta.append(i18n.area_name(post.ward_code, lang))
    when = local_time(post.created_at)
    time = i18n.text("board.time", lang, year=when.year, month=f"{when.month:02d}", day=f"{when.day:02d}",
                     hour=f"{when.hour:02d}", minute=f"{when.minute:02d}")
    return templating.render("board/post.html.j2", post_id=post.id, title=post.title, meta=meta,
                             nickname=post.nickname, time=time, lines=post.body.split("\n"))


# --- Tables -----------------------------------------------------------------------------------


class _UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC in and out, on every backend.

    SQLite has no time zones: it gets naive UTC (ISO text, which also sorts in time order) and the
    zone is put back on the way out; PostgreSQL keeps ``timestamptz``.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_METADATA = sa.MetaData()

_POSTS = sa.Table(
    "board_posts", _METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", _UTCDateTime, nullable=False),
    sa.Column("client_hash", sa.String(32), nullable=False),  # counts the client's posts (rate limit)
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("ward_code", sa.String(10)),
    sa.Column("nickname", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False),
    sa.Column("hidden_at", _UTCDateTime),
    sa.Column("hidden_by", sa.String(16)),
    sa.Column("hidden_reason", sa.Text),
    sa.Index("board_posts_listing", "hidden", "created_at", "id"),
    sa.Index("board_posts_client", "client_hash", "created_at"),
)

_REPORTS = sa.Table(
    "board_reports", _METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("board_posts.id"), nullable=False),
    sa.Column("reporter_hash", sa.String(32), nullable=False),  # the reporting client, hashed
    sa.Column("reported_at", _UTCDateTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("reviewed", sa.Boolean, nullable=False),  # a moderator hid or restored the post since
    # One report per client and post: reloading the page does not make a second reporter.
    sa.UniqueConstraint("post_id", "reporter_hash", name="board_reports_once_per_reporter"),
    sa.Index("board_reports_reporter", "reporter_hash", "reported_at"),
    sa.Index("board_reports_open", "post_id", "reviewed"),
)

_LOG = sa.Table(
    "board_moderation_log", _METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", _UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(_MODERATOR_LENGTH), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    # No foreign key: the entry of a deleted post outlives it. None for a refused post.
    sa.Column("post_id", sa.Integer),
    sa.Column("reason", sa.Text),
    # Only for refused posts: they count in the client's post rate limit, so that nobody can
    # flood the log with refusals. Never shown.
    sa.Column("client_hash", sa.String(32)),
    sa.Index("board_log_post", "post_id", "at"),
    sa.Index("board_log_time", "at"),
    sa.Index("board_log_client", "client_hash", "at"),
)

# Columns renamed when rate limits and reports moved from kernel sessions to clients:
# table -> (old name, new name). A database made before is upgraded in place on first use.
_RENAMED = {"board_posts": ("session_hash", "client_hash"), "board_reports": ("session_hash", "reporter_hash")}

_IS_OPEN = _REPORTS.c.reviewed == sa.false()
_OPEN_REPORTS = (sa.select(sa.func.count()).select_from(_REPORTS).where(_REPORTS.c.post_id == _POSTS.c.id, _IS_OPEN)
                 .scalar_subquery().label("open_reports"))


def _post(row: Row) -> Post:
    return Post(**{field.name: getattr(row, field.name) for field in dataclasses.fields(Post)})


def _engine(url: str, settings: BoardSettings) -> Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # SERIALIZABLE makes PostgreSQL refuse the race of two count-then-insert transactions (the
        # rate limits, the report threshold); the loser is retried.
        return sa.create_engine(url, isolation_level="SERIALIZABLE", pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": settings.busy_timeout_s})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below); sqlite3's own would start only at the first write.
        dbapi_connection.isolation_level = None
        # WAL: readers never block the writer nor it them, so many kernels can share one file.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A writer takes the write lock at BEGIN, waiting up to the busy timeout: a deferred
        # transaction that reads and then writes fails at once with "database is locked" when
        # another process wrote in between, and its count-then-insert would not be serialised.
        write = connection.get_execution_options().get("board_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _transient(error: OperationalError) -> bool:
    """A failure that a retry of the whole transaction cures: SQLite's busy timeout ran out, or
    PostgreSQL cancelled a serialisation conflict (40001) or deadlock (40P01)."""
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state in ("40001", "40P01") or "locked" in str(error.orig)


# --- Input rules ------------------------------------------------------------------------------


@functools.cache
def _ward_codes() -> frozenset[str]:
    return frozenset(wards.wards()["ward_code"])


def _checked_text(field: str, value: str, length: tuple[int, int], *, multiline: bool) -> str:
    """``value`` with line endings as ``\\n`` and surrounding whitespace trimmed.

    Raises
    ------
    PostRejected
        ``<field>_empty``, ``_too_short``, ``_too_long``, ``_line_break`` (a line break or other
        control character in a one-line field), ``_invalid_characters`` (control characters other
        than line breaks and tabs, or lone surrogates that no database can store) or
        ``_personal_number`` (a phone, customer or resident registration number:
        :func:`energy_lib.apps.personal_numbers.find`; the message shows it masked).
    TypeError
        If ``value`` is not a str (the caller's mistake, not the citizen's).
    """
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str, not {type(value).__name__}")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    label = _labels("fields", field)
    shortest, longest = length
    if not text and shortest > 0:
        raise PostRejected(f"{field}_empty", "empty", field=label)
    categories = {unicodedata.category(char) for char in text.replace("\n", "").replace("\t", "")}
    # PostgreSQL refuses NUL in text and no driver encodes a lone surrogate: reject them here,
    # with a message, rather than fail in the database.
    if "Cs" in categories or "Cc" in categories and multiline:
        raise PostRejected(f"{field}_invalid_characters", "invalid_characters", field=label)
    if not multiline and ("Cc" in categories or "\n" in text or "\t" in text):
        raise PostRejected(f"{field}_line_break", "line_break", field=label)
    if len(text) < shortest:
        raise PostRejected(f"{field}_too_short", "too_short", field=label, min=shortest, length=len(text))
    if len(text) > longest:
        raise PostRejected(f"{field}_too_long", "too_long", field=label, max=longest, length=len(text))
    found = personal_numbers.find(text)
    if found:  # refused before anything is stored: the board never holds a phone or customer number
        first = found[0]
        raise PostRejected(f"{field}_personal_number", "personal_number", field=label,
                           kind=_labels("personal_numbers", first.kind), shown=first.masked)
    return text


def _checked_ward(ward_code: str | None) -> str | None:
    """The 10-digit ward code, or None for none (``None`` or blank)."""
    code = (ward_code or "").strip()
    if not code:
        return None
    if code not in _ward_codes():
        raise PostRejected("unknown_ward", "unknown_ward", value=code)
    return code


def _client_hash(client: str) -> str:
    """The keyed hash (HMAC) the board keeps instead of the client key."""
    if not isinstance(client, str) or not client.strip():
        raise ValueError("the client must be a non-empty str: energy_lib.apps.client.client_key()")
    return str(identity.pseudonyms("client", pd.Series([client], dtype="str")).iloc[0])


def _checked_moderator(moderator: str) -> str:
    """A moderator's name for the log: one line, not empty, not a name the board itself uses."""
    name = moderator.strip() if isinstance(moderator, str) else ""
    if not name or len(name) > _MODERATOR_LENGTH or not name.isprintable() or name in (_REPORTS_ACTOR, _SYSTEM_ACTOR):
        raise ValueError(f"the moderator must be a name of 1 to {_MODERATOR_LENGTH} printable characters, "
                         f"other than {_REPORTS_ACTOR!r} and {_SYSTEM_ACTOR!r}, not {moderator!r}")
    return name


def _upgrade(connection: Connection) -> None:
    """Rename the columns of a database made before :data:`_RENAMED` (in place, data kept)."""
    inspector = sa.inspect(connection)
    for table, (old, new) in _RENAMED.items():
        if old in {column["name"] for column in inspector.get_columns(table)}:
            connection.exec_driver_sql(f'ALTER TABLE {table} RENAME COLUMN {old} TO {new}')


def _log(connection: Connection, now: datetime, actor: str, action: str, post_id: int | None,
         reason: str | None, client_hash: str | None = None) -> None:
    """Write one moderation log entry, inside the caller's transaction."""
    connection.execute(sa.insert(_LOG).values(at=now, actor=actor, action=action, post_id=post_id,
                                              reason=reason, client_hash=client_hash))


# --- The board --------------------------------------------------------------------------------

_POST_COLUMNS = (*(column for column in _POSTS.c if column.name != "client_hash"), _OPEN_REPORTS)
_NEWEST_FIRST = (_POSTS.c.created_at.desc(), _POSTS.c.id.desc())


class Board:
    """The bulletin board in one database; tables are created on first use.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy database URL; default ``$ENERGY_BOARD_URL``, else ``config/board.toml``.
    settings : BoardSettings, optional
        The rules; default :meth:`BoardSettings.from_config`.
    clock : callable, optional
        Returns the current time as a timezone-aware datetime (tests pass a fake clock).

    Notes
    -----
    One Board per process (e.g. per app kernel) is enough; it keeps a small connection pool.
    """

    def __init__(self, url: str | None = None, *, settings: BoardSettings | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.url = database_url(url)
        self.settings = settings or BoardSettings.from_config()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._engine = _engine(self.url, self.settings)
        try:
            self._run(_METADATA.create_all, write=True)
        except (IntegrityError, ProgrammingError):
            # PostgreSQL: another process created the tables between this one's check and its
            # CREATE TABLE. They exist now, which the second check sees.
            self._run(_METADATA.create_all, write=True)
        self._run(_upgrade, write=True)

    def __repr__(self) -> str:
        return f"Board({sa.engine.make_url(self.url).render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Close the pooled database connections."""
        self._engine.dispose()

    # -- citizens --

    def post(self, client: str, title: str, body: str, category: str, nickname: str,
             ward_code: str | None = None) -> Post:
        """Publish a post.

        Parameters
        ----------
        client : str
            The writer's client key (:func:`energy_lib.apps.client.client_key`); stored only as a
            keyed hash (HMAC).
        title, body, nickname : str
            As written; surrounding whitespace is trimmed, HTML is kept as text.
        category : str
            One of the configured categories (``tips``, ``questions``, ``news``).
        ward_code : str, optional
            The 10-digit code of the administrative dong the post is about.

        Returns
        -------
        Post

        Raises
        ------
        PostRejected
            A field breaks an input rule (its ``code`` says which); nothing is stored. A refusal
            for a personal number (``<field>_personal_number``) is logged as ``refused-post``
            (the field and the kind of number only).
        RateLimited
            The client posted, or had posts refused for personal numbers, ``posts_per_window``
            times within the window.
        """
        rules = self.settings
        digest = _client_hash(client)
        try:
            values = dict(
                title=_checked_text("title", title, rules.title_length, multiline=False),
                body=_checked_text("body", body, rules.body_length, multiline=True),
                category=self._checked_category(category),
                nickname=_checked_text("nickname", nickname, rules.nickname_length, multiline=False),
                ward_code=_checked_ward(ward_code),
            )
        except PostRejected as error:
            if error.code.endswith("_personal_number"):
                self._run(lambda connection: self._refuse(connection, digest, error), write=True)
            raise

        def work(connection: Connection) -> Post:
            now = self._now()
            _rate_limit(connection, "post", _post_moments(digest), rules.posts_per_window, rules.post_window_s, now)
            inserted = connection.execute(sa.insert(_POSTS).values(
                **values, created_at=now, client_hash=digest, hidden=False))
            return _fetch(connection, inserted.inserted_primary_key[0], include_hidden=True)

        return self._run(work, write=True)

    def posts(self, category: str | None = None, ward_code: str | None = None, page: int = 1,
              per_page: int = 10, *, status: Visibility | str = Visibility.VISIBLE, reported: bool = False) -> Page:
        """One page of posts, newest first (ties: higher id first).

        Parameters
        ----------
        category, ward_code : str, optional
            Only posts of this category / about this dong.
        page : int
            From 1; a page past the last is empty.
        per_page : int
            1 to ``max_per_page``.
        status : Visibility
            Citizens see ``visible`` posts only; ``hidden`` and ``all`` are for moderators.
        reported : bool
            Only posts with reports no moderator has reviewed.

        Raises
        ------
        PostRejected
            Unknown category or ward code.
        """
        if status not in set(Visibility):
            raise ValueError(f"status must be one of {', '.join(Visibility)}, not {status!r}")
        if page < 1 or not 1 <= per_page <= self.settings.max_per_page:
            raise ValueError(f"page must be 1 or more and per_page 1 to {self.settings.max_per_page}")
        conditions = []
        if category is not None:
            conditions.append(_POSTS.c.category == self._checked_category(category))
        if (ward := _checked_ward(ward_code)) is not None:
            conditions.append(_POSTS.c.ward_code == ward)
        if status != Visibility.ALL:
            conditions.append(_POSTS.c.hidden == (status == Visibility.HIDDEN))
        if reported:
            conditions.append(_POSTS.c.id.in_(sa.select(_REPORTS.c.post_id).where(_IS_OPEN)))

        def work(connection: Connection) -> Page:
            # One transaction: the total and the items come from the same snapshot.
            total = connection.execute(sa.select(sa.func.count()).select_from(_POSTS).where(*conditions)).scalar_one()
            rows = connection.execute(sa.select(*_POST_COLUMNS).where(*conditions).order_by(*_NEWEST_FIRST)
                                      .limit(per_page).offset((page - 1) * per_page))
            return Page(tuple(_post(row) for row in rows), total, page, per_page)

        return self._run(work)

    def get(self, post_id: int, *, include_hidden: bool = False) -> Post:
        """The post ``post_id``.

        Raises
        ------
        PostNotFound
            No such post, or it is hidden and ``include_hidden`` (for moderators) is False.
        """
        return self._run(lambda connection: _fetch(connection, post_id, include_hidden=include_hidden))

    def report(self, reporter: str, post_id: int, reason: str = "") -> bool:
        """Report a post as abusive.

        When ``auto_hide_reports`` distinct clients have reported a post that no moderator has
        reviewed since, the post is hidden (logged as ``auto-hide`` by ``reports``) until a
        moderator hides it for good or restores it.

        Parameters
        ----------
        reporter : str
            The reporting client's key (:func:`energy_lib.apps.client.client_key`): the same
            across page reloads, so one person counts once however often they reload.
        post_id : int
        reason : str
            Optional words for the moderators.

        Returns
        -------
        bool
            False if this client had reported the post already (a client counts once).

        Raises
        ------
        PostNotFound
            No such post, or it is hidden.
        PostRejected
            The reason is too long.
        RateLimited
            The client reported ``reports_per_window`` times within the window.
        """
        rules = self.settings
        reason = _checked_text("report_reason", reason, rules.report_reason_length, multiline=True)
        digest = _client_hash(reporter)

        def work(connection: Connection) -> bool:
            now = self._now()
            _fetch(connection, post_id, include_hidden=False)
            mine = (_REPORTS.c.post_id == post_id) & (_REPORTS.c.reporter_hash == digest)
            if connection.execute(sa.select(_REPORTS.c.id).where(mine)).first() is not None:
                return False
            moments = sa.select(_REPORTS.c.reported_at.label("at")).where(_REPORTS.c.reporter_hash == digest)
            _rate_limit(connection, "report", moments, rules.reports_per_window, rules.report_window_s, now)
            connection.execute(sa.insert(_REPORTS).values(
                post_id=post_id, reporter_hash=digest, reported_at=now, reason=reason, reviewed=False))
            # Open reports of one post are from distinct clients (one row per client and post).
            reporters = connection.execute(sa.select(sa.func.count()).select_from(_REPORTS)
                                           .where(_REPORTS.c.post_id == post_id, _IS_OPEN)).scalar_one()
            if reporters >= rules.auto_hide_reports:
                connection.execute(sa.update(_POSTS).where(_POSTS.c.id == post_id).values(
                    hidden=True, hidden_at=now, hidden_by="reports", hidden_reason=None))
                _log(connection, now, _REPORTS_ACTOR, "auto-hide", post_id, f"{reporters} distinct reporters")
            return True

        return self._run(work, write=True)

    # -- moderators --

    def hide(self, post_id: int, reason: str, moderator: str) -> Post:
        """Hide a post from citizens, saying why; its open reports count as reviewed. Logged as
        ``hide`` by ``moderator``.

        Raises
        ------
        PostNotFound
            No such post.
        PostRejected
            The reason is empty or too long.
        ValueError
            ``moderator`` is empty, too long, or ``"reports"``/``"system"`` (the board's own names).
        """
        reason = _checked_text("hide_reason", reason, self.settings.hide_reason_length, multiline=True)
        return self._moderate(post_id, _checked_moderator(moderator), hidden=True, reason=reason)

    def restore(self, post_id: int, moderator: str, reason: str = "") -> Post:
        """Show a hidden post again (or keep a visible one); its open reports count as reviewed,
        so only new reports from other clients can hide it again. Logged as ``unhide`` by
        ``moderator``, with the optional ``reason``.

        Raises
        ------
        PostNotFound
            No such post.
        PostRejected
            The reason is too long.
        ValueError
            As for :meth:`hide`.
        """
        reason = _checked_text("hide_reason", reason, (0, self.settings.hide_reason_length[1]), multiline=True)
        return self._moderate(post_id, _checked_moderator(moderator), hidden=False, reason=reason or None)

    def delete(self, post_id: int, reason: str, moderator: str) -> None:
        """Delete a post and its reports for good (e.g. unlawful content). Logged as ``delete``
        by ``moderator``; the log entry keeps the post's number and the reason, not its text.

        Raises
        ------
        PostNotFound
            No such post.
        PostRejected
            The reason is empty or too long.
        ValueError
            As for :meth:`hide`.
        """
        reason = _checked_text("hide_reason", reason, self.settings.hide_reason_length, multiline=True)
        actor = _checked_moderator(moderator)

        def work(connection: Connection) -> None:
            _fetch(connection, post_id, include_hidden=True)
            connection.execute(sa.delete(_REPORTS).where(_REPORTS.c.post_id == post_id))
            connection.execute(sa.delete(_POSTS).where(_POSTS.c.id == post_id))
            _log(connection, self._now(), actor, "delete", post_id, reason)

        self._run(work, write=True)

    def log(self, *, post_id: int | None = None, since: datetime | None = None, action: str | None = None,
            limit: int | None = None) -> tuple[LogEntry, ...]:
        """The moderation log, newest first (ties: higher id first).

        Parameters
        ----------
        post_id : int, optional
            Only entries about this post.
        since : datetime, optional
            Only entries at or after this moment (timezone-aware).
        action : str, optional
            Only this action, one of :data:`ACTIONS`.
        limit : int, optional
            At most this many entries (the newest).
        """
        if action is not None and action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be a timezone-aware datetime")
        conditions = []
        if post_id is not None:
            conditions.append(_LOG.c.post_id == operator.index(post_id))
        if since is not None:
            conditions.append(_LOG.c.at >= since)
        if action is not None:
            conditions.append(_LOG.c.action == action)
        query = (sa.select(_LOG.c.id, _LOG.c.at, _LOG.c.actor, _LOG.c.action, _LOG.c.post_id, _LOG.c.reason)
                 .where(*conditions).order_by(_LOG.c.at.desc(), _LOG.c.id.desc()).limit(limit))
        return self._run(lambda connection: tuple(LogEntry(**row._mapping) for row in connection.execute(query)))

    def reported(self) -> tuple[ReportedPost, ...]:
        """Posts with reports no moderator has reviewed, hidden or not; the most recently reported
        first (ties: higher id first)."""
        def work(connection: Connection) -> tuple[ReportedPost, ...]:
            rows = connection.execute(sa.select(_REPORTS.c.post_id, _REPORTS.c.reported_at, _REPORTS.c.reason)
                                      .where(_IS_OPEN).order_by(_REPORTS.c.reported_at, _REPORTS.c.id))
            reports: dict[int, list[Report]] = {}
            for row in rows:
                reports.setdefault(row.post_id, []).append(Report(row.reported_at, row.reason))
            posts = {row.id: _post(row) for row in connection.execute(
                sa.select(*_POST_COLUMNS).where(_POSTS.c.id.in_(list(reports))))}
            order = sorted(reports, key=lambda post_id: (reports[post_id][-1].reported_at, post_id), reverse=True)
            return tuple(ReportedPost(posts[post_id], tuple(reports[post_id])) for post_id in order)

        return self._run(work)

    # -- internals --

    def _checked_category(self, category: str) -> str:
        if category not in self.settings.categories:
            choices = {lang: ", ".join(f"{name} ({category_label(name, lang)})" for name in self.settings.categories)
                       for lang in i18n.LANGUAGES}
            raise PostRejected("unknown_category", "unknown_category", value=category, choices=choices)
        return category

    def _moderate(self, post_id: int, moderator: str, *, hidden: bool, reason: str | None) -> Post:
        """Hide or unhide a post for a moderator, mark its reports reviewed and log it, in one
        transaction."""
        def work(connection: Connection) -> Post:
            now = self._now()
            _fetch(connection, post_id, include_hidden=True)
            connection.execute(sa.update(_POSTS).where(_POSTS.c.id == post_id).values(
                hidden=hidden, hidden_at=now if hidden else None, hidden_by="moderator" if hidden else None,
                hidden_reason=reason if hidden else None))
            connection.execute(sa.update(_REPORTS).where(_REPORTS.c.post_id == post_id, _IS_OPEN)
                               .values(reviewed=True))
            _log(connection, now, moderator, "hide" if hidden else "unhide", post_id, reason)
            return _fetch(connection, post_id, include_hidden=True)

        return self._run(work, write=True)

    def _refuse(self, connection: Connection, digest: str, error: PostRejected) -> None:
        """Log a post refused for a personal number: the field and the kind of number, never the
        text. Counts in the client's post rate limit (:class:`RateLimited` once it is used up)."""
        now = self._now()
        _rate_limit(connection, "post", _post_moments(digest), self.settings.posts_per_window,
                    self.settings.post_window_s, now)
        field = error.code.removesuffix("_personal_number")
        _log(connection, now, _SYSTEM_ACTOR, "refused-post", None, f"{field}: {error.data['kind']['en']}",
             client_hash=digest)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the board's clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def _run(self, work: Callable[[Connection], _T], *, write: bool = False) -> _T:
        """``work(connection)`` in one transaction, retried while the failure is transient."""
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._engine.connect() as connection:
                    connection.execution_options(board_write=write)
                    with connection.begin():
                        return work(connection)
            except OperationalError as error:
                if attempt >= self.settings.retries or not _transient(error):
                    raise
                # Jittered backoff, so that the processes that collided do not collide again.
                time.sleep(random.uniform(0, min(1.0, 0.05 * 2 ** attempt)))


def _fetch(connection: Connection, post_id: int, *, include_hidden: bool) -> Post:
    query = sa.select(*_POST_COLUMNS).where(_POSTS.c.id == operator.index(post_id))
    if not include_hidden:
        query = query.where(_POSTS.c.hidden == sa.false())
    row = connection.execute(query).one_or_none()
    if row is None:
        raise PostNotFound(post_id)
    return _post(row)


def _post_moments(digest: str) -> sa.CompoundSelect:
    """When the client posted, or had a post refused for a personal number (column ``at``)."""
    return sa.union_all(
        sa.select(_POSTS.c.created_at.label("at")).where(_POSTS.c.client_hash == digest),
        sa.select(_LOG.c.at).where(_LOG.c.client_hash == digest, _LOG.c.action == "refused-post"))


def _rate_limit(connection: Connection, action: str, moments: sa.Select | sa.CompoundSelect, limit: int,
                window_s: float, now: datetime) -> None:
    """Raise :class:`RateLimited` if the client did ``action`` ``limit`` times in the window.

    ``moments`` selects the client's times of ``action`` as column ``at``. The ``limit``-th newest
    of them in the window is the one whose expiry lets the client act again, so one query both
    decides and gives the time to wait.
    """
    window = timedelta(seconds=window_s)
    recent = moments.subquery()
    blocking = connection.execute(
        sa.select(recent.c.at).where(recent.c.at > now - window)
        .order_by(recent.c.at.desc()).offset(limit - 1).limit(1)).scalar()
    if blocking is not None:
        raise RateLimited(action, max(1, math.ceil((blocking + window - now).total_seconds())))
