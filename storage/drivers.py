"""The two drivers as a unit of work uses them: `sqlite3` (inline) and asyncpg.

Each runs a `storage.statements.Prepared` statement on the driver's own
connection and raises what SQLAlchemy would raise for the driver's errors (an
`IntegrityError` for a duplicate key, a `DBAPIError` that says the connection
died), without the bound values in the text.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from storage.sqlite_inline import patiently
from storage.statements import Prepared


class Driver(Protocol):
    """The driver's connection as a unit uses it."""

    async def rows(self, prepared: Prepared, dialect: Any, args: Mapping[str, Any]) -> list[Any]:
        """The converted result rows of one prepared statement."""
        ...

    async def execute(self, prepared: Prepared, dialect: Any, args: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        ...

    async def execute_many(
        self, prepared: Prepared, dialect: Any, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Run a statement once per parameter set."""
        ...

    async def command(self, sql: str) -> None:
        """BEGIN, COMMIT, SAVEPOINT and the like."""
        ...

    def in_transaction(self) -> bool:
        """Whether the connection is inside a transaction the unit began."""
        ...


class SqliteDriver:
    """`sqlite3`, called inline: every call completes at once."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    async def rows(self, prepared: Prepared, dialect: Any, args: Mapping[str, Any]) -> list[Any]:
        compiled = prepared.compiled(dialect)
        try:
            raw = self.connection.execute(compiled.sql, compiled.args(args)).fetchall()
        except sqlite3.Error as error:
            raise translate(error, compiled.sql) from error
        return [compiled.row(r) for r in raw]

    async def execute(self, prepared: Prepared, dialect: Any, args: Mapping[str, Any]) -> int:
        compiled = prepared.compiled(dialect)
        try:
            return self.connection.execute(compiled.sql, compiled.args(args)).rowcount
        except sqlite3.Error as error:
            raise translate(error, compiled.sql) from error

    async def execute_many(
        self, prepared: Prepared, dialect: Any, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        compiled = prepared.compiled(dialect)
        try:
            self.connection.executemany(compiled.sql, [compiled.args(r) for r in rows])
        except sqlite3.Error as error:
            raise translate(error, compiled.sql) from error

    async def command(self, sql: str) -> None:
        try:
            self.connection.execute(sql)
        except sqlite3.Error as error:
            raise translate(error, sql) from error

    def in_transaction(self) -> bool:
        return self.connection.in_transaction

    async def begin_immediate(self) -> None:
        """``BEGIN IMMEDIATE``: the write lock up front (never "locked" half-way, when a
        read turns into a write), waited for off the loop when another process holds it."""
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            await patiently(lambda: self.command("BEGIN IMMEDIATE"))


class AsyncpgDriver:
    """asyncpg: one round trip a statement, through asyncpg's own statement cache."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def rows(self, prepared: Prepared, dialect: Any, args: Mapping[str, Any]) -> list[Any]:
        compiled = prepared.compiled(dialect)
        try:
            if compiled.results is None:  # the first run: learn the result columns' types
                statement = await self.connection.prepare(compiled.sql)
                codes = [a.type.oid for a in statement.get_attributes()]
                compiled = prepared.learn(dialect, codes)
                raw = await statement.fetch(*compiled.args(args))
            else:
                raw = await self.connection.fetch(compiled.sql, *compiled.args(args))
        except Exception as error:
            raise self._failed(error, compiled.sql) from error
        return [compiled.row(r) for r in raw]

    async def execute(self, prepared: Prepared, dialect: Any, args: Mapping[str, Any]) -> int:
        compiled = prepared.compiled(dialect)
        try:
            status = await self.connection.execute(compiled.sql, *compiled.args(args))
        except Exception as error:
            raise self._failed(error, compiled.sql) from error
        count = re.search(r"(\d+)$", status or "")
        return int(count.group(1)) if count else -1

    async def execute_many(
        self, prepared: Prepared, dialect: Any, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        compiled = prepared.compiled(dialect)
        try:
            await self.connection.executemany(compiled.sql, [compiled.args(r) for r in rows])
        except Exception as error:
            raise self._failed(error, compiled.sql) from error

    async def command(self, sql: str) -> None:
        try:
            await self.connection.execute(sql)
        except Exception as error:
            raise self._failed(error, sql) from error

    def in_transaction(self) -> bool:
        return bool(self.connection.is_in_transaction())

    def _failed(self, error: BaseException, sql: str) -> BaseException:
        if self.connection.is_closed():  # as SQLAlchemy's asyncpg dialect decides
            return DBAPIError(sql, None, error, connection_invalidated=True)
        return translate(error, sql)


def translate(error: BaseException, sql: str) -> BaseException:
    """A driver's error as SQLAlchemy would raise it (no parameters: they may quote members)."""
    if isinstance(error, sqlite3.IntegrityError):
        return IntegrityError(sql, None, error)
    if isinstance(error, sqlite3.OperationalError):
        return OperationalError(sql, None, error)
    if isinstance(error, sqlite3.Error):
        return DBAPIError(sql, None, error)
    import asyncpg

    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(sql, None, error)
    lost = (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.CannotConnectNowError,
        OSError,
    )
    if isinstance(error, lost):
        return DBAPIError(sql, None, error, connection_invalidated=True)
    if isinstance(error, asyncpg.PostgresError):
        return DBAPIError(sql, None, error)
    return error


def sqlite3_of(raw: Any) -> sqlite3.Connection:
    """The `sqlite3` connection under a pooled SQLAlchemy connection (`storage.sqlite_inline`)."""
    connection: sqlite3.Connection = raw.driver_connection.sqlite3_connection
    return connection
