"""The command line: `referral-bot [chat|export|import|db upgrade]`.

Errors go to stderr as one line, with a non-zero exit status and no traceback.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from app.wiring import Runtime, build, console_deliverer
from bot import logs
from bot.settings import Settings
from bot.texts import plural

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
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        )
        raise CliError(f"bad configuration: {problems}") from None


def _with_runtime(
    work: Callable[[Runtime], Awaitable[T]], *, quiet: bool = False, migrate: bool = True
) -> T:
    config = settings()
    explicit = "LOG_LEVEL" in os.environ
    logs.configure(config.log_level if explicit or not quiet else "WARNING")

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

        logs.configure(config.log_level)
        asyncio.run(serve(config))
        return
    chat(name=getpass.getuser(), group="chapter", message=None)


@app.command()
def chat(
    name: Annotated[str, typer.Option("--as", help="Who you are in the chat.")],
    group: Annotated[str, typer.Option("--group", help="The group's chat.")] = "chapter",
    message: Annotated[str | None, typer.Argument(help="One command to run.")] = None,
) -> None:
    """The console chat: one command with MESSAGE, else an interactive session."""
    from adapters.console import ConsoleChat, interactive

    async def work(runtime: Runtime) -> None:
        console = ConsoleChat(
            runtime.core, group, sys.stdout, console_deliverer(runtime, sys.stdout)
        )
        if message is not None:
            await console.send(name, message)
        else:
            await interactive(console, name, asyncio.Event())

    _with_runtime(work, quiet=True)


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

    async def work(runtime: Runtime) -> None:
        group_id = None if group is None else await _one_group(runtime, group)
        writer = transfer.write_csv if fmt is Format.csv else transfer.write_json
        await writer(runtime.db, sys.stdout, group_id)

    _with_runtime(work, quiet=True)


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

    counts = _with_runtime(work, quiet=True)
    print("imported " + ", ".join(_counted(n, k) for k, n in counts.items()), file=sys.stderr)


_WORDS = {  # an export list: its entries, one and several
    "groups": ("group", "groups"), "members": ("member", "members"),
    "referrals": ("referral", "referrals"), "thanks": ("thanks", "thanks"),
    "one_to_ones": ("one-to-one", "one-to-ones"), "visitors": ("visitor", "visitors"),
    "meetings": ("meeting", "meetings"),
    "meeting_responses": ("meeting response", "meeting responses"),
    "audit_log": ("audit log entry", "audit log entries"),
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

    before, after = _with_runtime(work, quiet=True, migrate=False)
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
        print(f"referral-bot: {error}", file=sys.stderr)
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
        return f"database error: {str(error.orig).strip().splitlines()[0]}"
    if isinstance(error, OSError) and error.strerror:
        return f"cannot reach the database: {error.strerror}"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
