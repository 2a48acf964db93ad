"""The engine: one `Database` per process, SQLite (WAL) or PostgreSQL (asyncpg).

Two ways in:

- `Database.run(work)`: the core's units of work (`storage.units`). On SQLite
  the writes that arrive together share one transaction (`storage.batches`);
  on PostgreSQL each has its own. BEGIN and COMMIT are sent on the driver's
  connection; the SQLAlchemy connection over it sends none (autocommit, as far
  as SQLAlchemy knows), so that prepared statements and the ORM share them.
- `Database.transaction()`: an ORM session in one transaction, for everything
  else (the outbox loop, export and import, tests). On SQLite its writers start
  with ``BEGIN IMMEDIATE`` (the write lock up front: never "database is locked"
  half-way when a read turns into a write) and take turns with the batches on
  one asyncio lock instead of spinning in SQLite's busy handler.

SQLite's statements run inline on the loop (`storage.sqlite_inline`), and no
writer waits on anything but the database inside its transaction: nobody
holds SQLite's write lock while the loop runs other tasks, so nothing in the
process waits on it (other processes wait up to the busy timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_inline
from storage.batches import Batches
from storage.drivers import AsyncpgDriver, Driver, SqliteDriver, sqlite3_of
from storage.units import Unit, Work

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
MMAP_BYTES = 128 * 1024 * 1024  # reads through the OS page cache without a copy (as Rails 8)
IMMEDIATE = "referral_bot_begin_immediate"
NO_BEGIN = "referral_bot_no_begin"
PING_SECONDS = 3
CONFLICT_RETRIES = 5  # runs of a unit after its first, on a serialization failure or deadlock
CONFLICTS = ("40001", "40P01")


def async_url(url: str) -> str:
    """The SQLAlchemy URL with the async driver (``postgresql://`` is accepted as written)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported DATABASE_URL scheme: {parsed.drivername}")


def _sqlite_setup(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        # A savepoint's journal (a unit of a batch, `storage.batches`) in memory, not in a
        # temporary file: SQLite spills it to disk past 64 KiB, a write call per page.
        cursor.execute("PRAGMA temp_store = MEMORY")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(NO_BEGIN, False):
            return  # each statement on its own, as PostgreSQL's readers run
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(IMMEDIATE) else "BEGIN")


class Database:
    """The process's database: the engine, sessions, and write serialisation on SQLite."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        # hide_parameters: an error's text never carries what a member typed (logs stay clean)
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            path = make_url(self.url).database or ":memory:"
            kwargs.update(async_creator=sqlite_inline.creator(path))
        else:
            # No pre-ping (a round trip per transaction): a connection found dead fails its
            # unit of work, which the core runs once more (`Core.handle`).
            kwargs.update(pool_size=10, max_overflow=20, pool_recycle=1800)
        self.engine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        # Our units of work take SQLite's write lock up front; other users of the engine
        # (slack_sdk's stores, health checks, exports) begin deferred and only read.
        writer = (
            self.engine.execution_options(**{IMMEDIATE: True}) if self.is_sqlite else self.engine
        )
        self._sessions = async_sessionmaker(writer, class_=AsyncSession, expire_on_commit=False)
        # Readers run each statement on its own (no BEGIN/COMMIT: round trips on PostgreSQL,
        # two more statements on SQLite): they read, and their rare writes (a member's new
        # display name, someone mentioned for the first time) are single rows on their own
        # (a newcomer who sends a reading command is made a member in a writing unit).
        reader = self.engine.execution_options(
            **({NO_BEGIN: True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"})
        )
        self._readers = async_sessionmaker(reader, class_=AsyncSession, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # Units of work: BEGIN and COMMIT sent on the driver's connection (`run`, the
        # batches); SQLAlchemy's connection sends none, on either database.
        self._units = reader
        self._batches = Batches(self._units, self._write_lock) if self._write_lock else None

    async def run(self, work: Work[T], *, write: bool = True) -> T:
        """Run `work(unit)` as one unit of work: committed when it returns, rolled back
        when it raises. `write=False` is for work that reads (and at most writes a row on
        its own): no transaction, nothing to wait for. On SQLite a writing unit waits for
        nothing but the database (`storage.batches`). On PostgreSQL a unit that lost a
        serialization race or a deadlock (`is_conflict`) runs again, afresh, up to
        `CONFLICT_RETRIES` times: `work` only talks to the database, so running it again
        is safe."""
        if write and self._batches is not None:
            result: T = await self._batches.run(work)
            return result
        if self.is_sqlite:
            return await self._run(work, write)
        for attempt in range(CONFLICT_RETRIES):
            try:
                return await self._run(work, write)
            except DBAPIError as error:
                if not is_conflict(error):
                    raise
            await asyncio.sleep(random.uniform(0.5, 1.0) * 0.005 * 2**attempt)
        return await self._run(work, write)

    async def _run(self, work: Work[T], write: bool) -> T:
        async with self._units.connect() as connection:
            await connection.begin()  # SQLAlchemy's view only: no BEGIN is sent
            raw = await connection.get_raw_connection()
            driver: Driver = (
                SqliteDriver(sqlite3_of(raw))
                if self.is_sqlite
                else AsyncpgDriver(raw.driver_connection)
            )
            unit = Unit(connection, driver, write=write)
            try:
                if not write:
                    return await unit.complete(work)
                await driver.command("BEGIN")
                result = await unit.complete(work)
                await driver.command("COMMIT")
            except BaseException as error:
                await _abandon(connection, driver, error)
                raise
            return result

    @contextlib.asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        `write=False` is for reading: no BEGIN, each statement on its own, and on SQLite
        no turn to wait for behind the writers.
        """
        lock = self._write_lock if write and self._write_lock else contextlib.nullcontext()
        sessions = self._sessions if write else self._readers
        async with lock, sessions() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        """True when the database answers."""
        try:
            async with asyncio.timeout(PING_SECONDS), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self._batches is not None:
            await self._batches.close()
        await self.engine.dispose()


async def _abandon(connection: Any, driver: Driver, error: BaseException) -> None:
    """Roll a failed unit back; a connection that died, or cannot roll back, is not pooled
    again."""
    if not is_disconnect(error):
        try:
            if driver.in_transaction():
                await driver.command("ROLLBACK")
            return
        except Exception:
            pass
    await connection.invalidate()


def is_conflict(error: BaseException) -> bool:
    """True for PostgreSQL's serialization failure (40001) or deadlock (40P01): the
    transaction was rolled back and can run again."""
    cause: BaseException | None = getattr(error, "orig", None) or error
    while cause is not None:
        if getattr(cause, "sqlstate", None) in CONFLICTS:
            return True
        cause = cause.__cause__
    return False


def is_disconnect(error: BaseException) -> bool:
    """True for an error that says the connection died (the unit of work can run again)."""
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
