"""SQLite for the async engine, run inline on the event loop's thread.

SQLAlchemy's aiosqlite dialect sends every driver call (cursor, execute,
fetch, close) through aiosqlite's worker thread: about 100 µs a call against
1 µs for `sqlite3` itself, some 80 calls for one `/refer`. A statement on an
indexed SQLite file takes microseconds, so this module gives the dialect
(through `create_async_engine(async_creator=...)`) a connection whose
awaitables complete at once: the same `sqlite3` calls, without the hop.

A call that waited on SQLite's lock would stop the whole loop, so none does:
the process's connections run with ``busy_timeout = 0`` (a locked database
is an error at once, never a wait), and a writer that finds the write lock
taken (by another process: the CLI's import, say) waits for it here, with
`patiently`: SQLite's own busy wait, the same pauses, bounded the same, but
with `asyncio.sleep` between the tries, so the loop serves everyone else
meanwhile. In this process nobody holds the write lock across an await
(`storage.database`), so the lock is only ever found taken by another process.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
BUSY_WAIT_SECONDS = 30.0  # how long a writer waits for another process's write lock
# The pauses of SQLite's own busy handler (sqliteDefaultBusyCallback), then 100 ms each.
PAUSES = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.1)


def is_busy(error: BaseException) -> bool:
    """True for SQLite's "database is locked" (SQLITE_BUSY and its extended codes), as
    `sqlite3` raises it or wrapped by SQLAlchemy."""
    orig = getattr(error, "orig", error)
    code = getattr(orig, "sqlite_errorcode", 0) if isinstance(orig, sqlite3.Error) else 0
    return code & 0xFF == sqlite3.SQLITE_BUSY


async def patiently(attempt: Callable[[], Awaitable[T]], wait: float = BUSY_WAIT_SECONDS) -> T:
    """`attempt()`, tried again after a pause each time it finds the database locked, for
    up to `wait` seconds; then the last "database is locked" error. `attempt` must leave
    nothing behind when it fails (a BEGIN that did not begin, a transaction rolled back)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    for pause in itertools.chain(PAUSES, itertools.repeat(PAUSES[-1])):
        try:
            return await attempt()
        except Exception as error:
            if not is_busy(error) or loop.time() + pause > deadline:
                raise
        await asyncio.sleep(pause)
    raise AssertionError("unreachable")


class _Queue:
    """Stands in for aiosqlite's request queue, which SQLAlchemy's dialect uses once
    (to set `isolation_level`): the function runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineCursor:
    """A `sqlite3.Cursor` behind aiosqlite's awaitable cursor interface."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    def __await__(self) -> Any:
        async def itself() -> InlineCursor:
            return self

        return itself().__await__()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        self._cursor.execute(sql, () if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aiter__(self) -> AsyncIterator[Any]:
        for row in self._cursor:
            yield row


class InlineConnection:
    """A `sqlite3.Connection` behind the part of aiosqlite's interface SQLAlchemy uses."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _Queue()

    @property
    def sqlite3_connection(self) -> sqlite3.Connection:
        """The connection itself, for the statements `storage.units` runs directly."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._conn.isolation_level = value

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def creator(path: str) -> Callable[[], Any]:
    """The `async_creator` for `create_async_engine` on the SQLite file at `path`."""

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(path, check_same_thread=False))

    return connect
