"""The command line: `referral-bot [chat|export|import|db upgrade]`.

Errors go to stderr as one line each, with a non-zero exit status and no traceback.
"""

from __future__ import annotations

import asyncio
import getpass
import io
import json
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from app.wiring import Runtime, add_scheduler, build, console_deliverer
from bot import logs
from bot.settings import (
    ConfigurationError,
    Settings,
    check_database_file,
    load_settings,
    shown_url,
    sqlite_file,
)
from bot.texts import plural
from storage.database import Database

T = TypeVar("T")
app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # a usage mistake: click's plain "Usage: ... Error: ..." lines
    help="A chat bot for referral networking groups.",
)
db_app = typer.Typer(help="Database maintenance.", rich_markup_mode=None)
app.add_typer(db_app, name="db")


class CliError(Exception):
    """An error the user can act on: printed as one line."""


def settings() -> Settings:
    """The settings, read once per command (the environment and `.env`)."""
    try:
        return load_settings()
    except ConfigurationError as error:
        raise CliError(str(error)) from None


def _open_check(config: Settings, *, create: bool) -> None:
    """Before anything runs: DATABASE_URL names a database that can be opened (and, for a
    command that only reads, one that exists: a read never creates a database)."""
    try:
        check_database_file(config, create=create)
    except ConfigurationError as error:
        raise CliError(str(error)) from None

    async def connect() -> None:
        db = Database(config.database_url)
        try:
            async with db.engine.connect():
                pass
        except Exception as error:
            raise CliError(_unopenable(config, error)) from None
        finally:
            await db.dispose()

    asyncio.run(connect())


def _unopenable(config: Settings, error: Exception) -> str:
    reason = _reason(error)
    path = sqlite_file(config.database_url)
    if path is not None:
        return (f"DATABASE_URL: cannot open the SQLite file {path.absolute()} ({reason}); "
                "check that it and its folder may be read and written")  # fmt: skip
    return (f"DATABASE_URL: cannot connect to {shown_url(config.database_url)} ({reason}); "
            "check that PostgreSQL runs there and that the user, password and database "
            "are right")  # fmt: skip


def _with_runtime(
    config: Settings,
    work: Callable[[Runtime], Awaitable[T]],
    *,
    quiet: bool = False,
    migrate: bool = True,
    create: bool = True,
) -> T:
    _open_check(config, create=create)
    logs.configure(config.log_level if config.log_level_set or not quiet else "WARNING")

    async def main() -> T:
        runtime = await build(config, migrate=migrate)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(main())


@app.callback(invoke_without_command=True)
def start(ctx: typer.Context) -> None:
    """Start whatever the environment configures; with no platform, the console chat."""
    if ctx.invoked_subcommand is not None:
        return
    config = settings()
    if config.slack_configured or config.telegram_configured:
        from app.serve import serve

        _open_check(config, create=True)
        logs.configure(config.log_level)
        asyncio.run(serve(config))
        return
    _chat(config, getpass.getuser(), "chapter", None)


@app.command()
def chat(
    name: Annotated[str, typer.Option("--as", help="Who you are in the chat.")],
    group: Annotated[str, typer.Option("--group", help="The group's chat.")] = "chapter",
    message: Annotated[str | None, typer.Argument(help="One command to run.")] = None,
) -> None:
    """The console chat: one command with MESSAGE, else an interactive session."""
    _chat(settings(), name, group, message)


def _chat(config: Settings, name: str, group: str, message: str | None) -> None:
    from adapters.console import ConsoleChat, interactive

    async def work(runtime: Runtime) -> None:
        console = ConsoleChat(
            runtime.core, group, sys.stdout, console_deliverer(runtime, sys.stdout)
        )
        if message is not None:
            await console.send(name, message)
            return
        printing: set[asyncio.Task[None]] = set()

        def print_posts() -> None:  # a scheduled post was enqueued: print it
            task = asyncio.ensure_future(console.deliver())
            printing.add(task)
            task.add_done_callback(printing.discard)

        scheduler = add_scheduler(runtime, print_posts)
        await scheduler.start()
        try:
            await interactive(console, name, asyncio.Event())
        finally:
            await scheduler.stop()

    _with_runtime(config, work, quiet=True)


class Format(StrEnum):
    json = "json"
    csv = "csv"


@app.command("export")
def export(
    group: Annotated[
        str | None, typer.Option("--group", help="Only this group: its id, chat id or name.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="json or csv.")] = Format.json,
) -> None:
    """Print the ledger as JSON (format version 1) or one CSV table."""
    from storage import transfer

    config = settings()

    async def work(runtime: Runtime) -> None:
        await _require_schema(runtime)
        group_id = None if group is None else await _one_group(runtime, group)
        if fmt is Format.csv:
            if isinstance(sys.stdout, io.TextIOWrapper):  # UTF-8 whatever the locale
                sys.stdout.reconfigure(encoding="utf-8", newline="")
            await transfer.write_csv(runtime.db, sys.stdout, group_id)
        else:
            await transfer.write_json(runtime.db, sys.stdout, group_id)

    _with_runtime(config, work, quiet=True, migrate=False, create=False)


async def _require_schema(runtime: Runtime) -> None:
    """Refuse to read a database that is not at this version's schema (a read migrates
    nothing): say what to run."""
    from storage.migrate import current_revision, head_revision, is_known

    current, head = await current_revision(runtime.db), head_revision()
    if current == head:
        return
    path = sqlite_file(runtime.settings.database_url)
    where = str(path.absolute()) if path else shown_url(runtime.settings.database_url)
    if current is None:
        raise CliError(
            f"the database at {where} has no tables yet: run 'referral-bot db upgrade' to "
            "set it up, or point DATABASE_URL at the bot's database"
        )
    if is_known(current):
        raise CliError(
            f"the database at {where} is at revision {current}, older than this version's "
            f"{head}: run 'referral-bot db upgrade' first"
        )
    raise CliError(
        f"the database at {where} is at revision {current}, which this version of "
        "referral-bot does not know (a newer version set it up): use that one"
    )


async def _one_group(runtime: Runtime, ref: str) -> int:
    from storage import transfer

    found = await transfer.groups_matching(runtime.db, ref)
    if not found:
        raise CliError(f"there is no group {ref!r} (give its id, chat id or name)")
    if len(found) > 1:
        listed = ", ".join(f"{i} ({name})" for i, name in found)
        raise CliError(f"{ref!r} names several groups: {listed}; give the id")
    return found[0][0]


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="A JSON export.")]) -> None:
    """Load a JSON export into an empty database."""
    from storage import transfer

    try:
        document: Any = json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise CliError(f"cannot read {file}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise CliError(f"{file} is not JSON: {error.msg} (line {error.lineno})") from None

    async def work(runtime: Runtime) -> dict[str, int]:
        return await transfer.import_document(runtime.db, document)

    counts = _with_runtime(settings(), work, quiet=True)
    print("imported " + ", ".join(_counted(n, k) for k, n in counts.items()), file=sys.stderr)


_WORDS = {  # an export list: its entries, one and several
    "groups": ("group", "groups"), "members": ("member", "members"),
    "referrals": ("referral", "referrals"), "thanks": ("thanks", "thanks"),
    "one_to_ones": ("one-to-one", "one-to-ones"), "visitors": ("visitor", "visitors"),
    "meetings": ("meeting", "meetings"),
    "meeting_responses": ("meeting response", "meeting responses"),
    "audit_log": ("audit log entry", "audit log entries"), "ceus": ("CEU", "CEUs"),
}  # fmt: skip


def _counted(count: int, kind: str) -> str:
    """`1 group`, `2 groups`, `1 audit log entry` for an export list's count."""
    return plural(count, *_WORDS.get(kind, (kind, kind)))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (start-up does it too)."""

    from storage.migrate import current_revision, upgrade

    async def work(runtime: Runtime) -> tuple[str | None, str | None]:
        before = await current_revision(runtime.db)
        await upgrade(runtime.db)
        return before, await current_revision(runtime.db)

    before, after = _with_runtime(settings(), work, quiet=True, migrate=False)
    if before == after:
        print(f"the database is up to date (revision {after})", file=sys.stderr)
    else:
        print(f"the database was upgraded from {before or 'empty'} to revision {after}",
              file=sys.stderr)  # fmt: skip


def main() -> None:
    """The console script's entry point."""
    try:
        app()
    except CliError as error:
        for line in str(error).splitlines():
            print(f"referral-bot: {line}", file=sys.stderr)
        sys.exit(2)
    except Exception as error:  # a last resort: one line, no traceback
        from storage import transfer

        if isinstance(error, transfer.ImportRefused):
            print(f"referral-bot: {error}", file=sys.stderr)
            sys.exit(2)
        print(f"referral-bot: {_one_line(error)}", file=sys.stderr)
        sys.exit(1)


def _one_line(error: Exception) -> str:
    """What went wrong, in one line: the database's own words, not SQLAlchemy's wrapping."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError):
        return f"database error: {_reason(error)}"
    if isinstance(error, OSError) and error.strerror:
        return f"cannot reach the database: {error.strerror}"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _reason(error: Exception) -> str:
    """The database's (or the system's) own words for an error, in one line."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError):
        error = error.orig  # type: ignore[assignment]
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
