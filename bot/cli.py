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

from bot import logs
from bot.app import Runtime, build
from bot.settings import Settings

T = TypeVar("T")
app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    help="A chat bot for referral networking groups.",
)
db_app = typer.Typer(help="Database maintenance.")
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


def _with_runtime(work: Callable[[Runtime], Awaitable[T]], *, quiet: bool = False) -> T:
    config = settings()
    explicit = "LOG_LEVEL" in os.environ
    logs.configure(config.log_level if explicit or not quiet else "WARNING")

    async def main() -> T:
        runtime = await build(config)
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
        from bot.serve import serve

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
        console = ConsoleChat(runtime.core, group, sys.stdout)
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
    group: Annotated[int | None, typer.Option("--group", help="Only this group (its id).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="json or csv.")] = Format.json,
) -> None:
    """Print the ledger as JSON (format version 1) or one CSV table."""
    from storage import transfer

    async def work(runtime: Runtime) -> None:
        writer = transfer.write_csv if fmt is Format.csv else transfer.write_json
        await writer(runtime.db, sys.stdout, group)

    _with_runtime(work, quiet=True)


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
    print("imported " + ", ".join(f"{n:,} {k}" for k, n in counts.items()), file=sys.stderr)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (start-up does it too)."""

    async def work(runtime: Runtime) -> None:
        return None

    _with_runtime(work, quiet=True)
    print("database is up to date", file=sys.stderr)


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
        print(f"referral-bot: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
