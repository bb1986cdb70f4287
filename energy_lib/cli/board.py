"""``energy board``: moderate the resident bulletin board (energy_lib/apps/board.py).

Staff list and read posts (hidden ones too), hide, restore or delete them, see citizens' reports
of abuse and read the moderation log. Every command takes ``--db URL`` (or ``$ENERGY_BOARD_URL``);
the default database is the one in ``config/board.toml``. Actions are logged under the moderator's
name: ``--moderator`` (or ``$ENERGY_MODERATOR``), else the login name. An unknown post id is an
error with exit code 1.
"""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

from energy_lib.core import configuration

if TYPE_CHECKING:
    from energy_lib.apps.board import BoardError, Post

app = typer.Typer(
    help="Moderate the resident bulletin board: list and read posts (hidden ones too), hide, restore "
         "or delete them, see citizens' reports of abuse and read the moderation log.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

DbOption = Annotated[Optional[str], typer.Option(
    "--db", envvar="ENERGY_BOARD_URL",
    help="Database URL, e.g. sqlite:///data/board.sqlite3 or postgresql+psycopg://host/db; also "
         "$ENERGY_BOARD_URL; default from energy_lib/config/board.toml.")]
PostId = Annotated[int, typer.Argument(help="The post's number (the id that `energy board list` shows).")]
ModeratorOption = Annotated[Optional[str], typer.Option(
    "--moderator", envvar="ENERGY_MODERATOR",
    help="Your name in the moderation log; also $ENERGY_MODERATOR; default the login name.")]

_TITLE_WIDTH = 40
_MAX_PER_PAGE = int(configuration.load("board")["limits"]["max_per_page"])  # without importing SQLAlchemy at start-up


def _time(moment: datetime) -> str:
    from energy_lib.apps.board import local_time

    return local_time(moment).strftime("%Y-%m-%d %H:%M KST")


def _status(post: Post) -> str:
    return f"hidden by {post.hidden_by}" if post.hidden else "visible"


def _fail(error: BoardError | ValueError) -> NoReturn:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(1)


def _moderator(name: str | None) -> str:
    """The name the log keeps for the person at the keyboard."""
    return name or getpass.getuser()


def _since(text: str) -> datetime:
    """``2026-12-07`` or ``2026-12-07 09:30`` (KST, as the log shows times) or an ISO time with
    its own offset, as a timezone-aware datetime."""
    from energy_lib.apps.board import KST

    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=KST)


@app.command("list")
def list_posts(
    hidden: Annotated[bool, typer.Option(
        "--hidden", help="Only hidden posts (hidden by a moderator or by citizens' reports).")] = False,
    reported: Annotated[bool, typer.Option(
        "--reported", help="Only posts with reports that no moderator has reviewed yet.")] = False,
    category: Annotated[Optional[str], typer.Option(help="Only this category (tips, questions, news).")] = None,
    ward: Annotated[Optional[str], typer.Option(help="Only posts about this dong (10-digit ward code).")] = None,
    page: Annotated[int, typer.Option(min=1, help="Page to show, from 1 (newest posts first).")] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=_MAX_PER_PAGE,
                                          help=f"Posts per page (1 to {_MAX_PER_PAGE}).")] = 20,
    db: DbOption = None,
) -> None:
    """List posts, newest first, visible and hidden, with their status and open reports."""
    from energy_lib.apps.board import Board, BoardError, Visibility

    try:
        listing = Board(db).posts(category, ward, page, per_page, status=Visibility.HIDDEN if hidden else Visibility.ALL,
                                  reported=reported)
    except BoardError as error:
        _fail(error)
    for post in listing.items:
        title = post.title if len(post.title) <= _TITLE_WIDTH else post.title[:_TITLE_WIDTH - 1] + "…"
        typer.echo(f"{post.id:>6}  {_time(post.created_at)}  {_status(post):<18}  reports {post.open_reports:<3}  "
                   f"{post.category:<9}  {post.ward_code or '-':<10}  {post.nickname}: {title}")
    typer.echo(f"page {listing.page} of {listing.pages}; matching posts: {listing.total}")


@app.command()
def show(post_id: PostId, db: DbOption = None) -> None:
    """Show one post in full (hidden ones too), with its status and open reports."""
    from energy_lib.apps.board import Board, BoardError

    try:
        post = Board(db).get(post_id, include_hidden=True)
    except BoardError as error:
        _fail(error)
    typer.echo(f"post {post.id} · {post.category} · {post.ward_code or 'no dong'} · {post.nickname} · "
               f"{_time(post.created_at)}")
    status = _status(post)
    if post.hidden:
        status += f" at {_time(post.hidden_at)}" + (f": {post.hidden_reason}" if post.hidden_reason else "")
    typer.echo(f"status: {status}; open reports: {post.open_reports}")
    typer.echo(f"title: {post.title}")
    typer.echo("")
    typer.echo(post.body)


@app.command()
def hide(
    post_id: PostId,
    reason: Annotated[str, typer.Option(help="Why the post is hidden (kept with the post and in the log).")],
    moderator: ModeratorOption = None,
    db: DbOption = None,
) -> None:
    """Hide a post from citizens; its open reports count as reviewed. Logged as hide."""
    from energy_lib.apps.board import Board, BoardError

    try:
        post = Board(db).hide(post_id, reason, _moderator(moderator))
    except (BoardError, ValueError) as error:
        _fail(error)
    typer.echo(f"post {post.id} hidden: {post.hidden_reason}")


@app.command()
def restore(
    post_id: PostId,
    reason: Annotated[str, typer.Option(help="Why the post is shown again (kept in the log).")] = "",
    moderator: ModeratorOption = None,
    db: DbOption = None,
) -> None:
    """Show a hidden post to citizens again; its open reports count as reviewed, so only new
    reports from other clients can hide it again. Logged as unhide."""
    from energy_lib.apps.board import Board, BoardError

    try:
        post = Board(db).restore(post_id, _moderator(moderator), reason)
    except (BoardError, ValueError) as error:
        _fail(error)
    typer.echo(f"post {post.id} is visible again")


@app.command()
def delete(
    post_id: PostId,
    reason: Annotated[str, typer.Option(help="Why the post is deleted (kept in the log).")],
    moderator: ModeratorOption = None,
    db: DbOption = None,
) -> None:
    """Delete a post and its reports for good (e.g. unlawful content); the log keeps its number
    and the reason, not its text. Logged as delete."""
    from energy_lib.apps.board import Board, BoardError

    try:
        Board(db).delete(post_id, reason, _moderator(moderator))
    except (BoardError, ValueError) as error:
        _fail(error)
    typer.echo(f"post {post_id} deleted")


@app.command("log")
def moderation_log(
    post: Annotated[Optional[int], typer.Option("--post", help="Only entries about this post.")] = None,
    since: Annotated[Optional[str], typer.Option(
        help="Only entries from this time on: 2026-12-07 or '2026-12-07 09:30' (KST), or ISO with an offset.")] = None,
    action: Annotated[Optional[str], typer.Option(
        help="Only this action: hide, unhide, delete, auto-hide or refused-post.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many entries, the newest.")] = 50,
    db: DbOption = None,
) -> None:
    """Show the moderation log, newest first: when, who (a moderator, 'reports' or 'system'),
    what, which post and why."""
    from energy_lib.apps.board import Board

    try:
        entries = Board(db).log(post_id=post, since=_since(since) if since else None, action=action, limit=limit)
    except ValueError as error:
        _fail(error)
    if not entries:
        typer.echo("no log entries")
        return
    actor_width = max(5, *(len(entry.actor) for entry in entries))
    typer.echo(f"{'time':<20}  {'actor':<{actor_width}}  {'action':<12}  {'post':>6}  reason")
    for entry in entries:
        typer.echo(f"{_time(entry.at):<20}  {entry.actor:<{actor_width}}  {entry.action:<12}  "
                   f"{entry.post_id if entry.post_id is not None else '-':>6}  {entry.reason or '-'}")
    typer.echo(f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'}, newest first")


@app.command()
def reports(db: DbOption = None) -> None:
    """List citizens' reports that no moderator has reviewed, by post, most recently reported first."""
    from energy_lib.apps.board import Board

    reported = Board(db).reported()
    if not reported:
        typer.echo("no open reports")
    for item in reported:
        post = item.post
        typer.echo(f"post {post.id} ({_status(post)}), {len(item.reports)} open reports: {post.title}")
        for report in item.reports:
            typer.echo(f"   {_time(report.reported_at)}  {report.reason or '(no reason given)'}")
    if reported:
        typer.echo("hide: energy board hide ID --reason TEXT · restore: energy board restore ID")
