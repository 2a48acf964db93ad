"""The engine: one `Database` per process, SQLite (WAL) or PostgreSQL (asyncpg).

The ways in:

- `Database.run(work)`: the core's units of work (`storage.units`). On SQLite
  the writes that arrive together share one transaction (`storage.batches`);
  on PostgreSQL each has its own. BEGIN and COMMIT are sent on the driver's
  connection; the SQLAlchemy connection over it sends none (autocommit, as far
  as SQLAlchemy knows), so that prepared statements and the ORM share them.
- `Database.transaction()`: an ORM session in one transaction, for everything
  else (the outbox loop, export and import, tests); `Database.writing()`: a
  connection in one writing transaction (migrations, slack_sdk's OAuth stores).

On SQLite every write takes one path: one writer at a time in the process (an
asyncio lock that the batches, `transaction()` and `writing()` share), the
write lock taken up front with ``BEGIN IMMEDIATE`` and, when another process
holds it, waited for with the loop free (`storage.sqlite_inline`), then
statements that complete without letting the loop run anything else until the
COMMIT: a writer that awaits anything else is rolled back and refused, as a
batch's unit is. So nobody in the process holds SQLite's write lock while the
loop runs other tasks, and with ``busy_timeout = 0`` no statement ever waits
for it on the loop. Readers (`run(write=False)`, `transaction(write=False)`,
`reading`, `ping`) have connections of their own that cannot write (``PRAGMA
query_only``); in WAL mode a read never waits on a writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_inline
from storage.batches import Batches
from storage.drivers import AsyncpgDriver, Driver, SqliteDriver, sqlite3_of
from storage.units import Unit, Work, guarded, run_now, watch_statements

T = TypeVar("T")

BUSY_TIMEOUT_MS = int(sqlite_inline.BUSY_WAIT_SECONDS * 1000)  # off the loop (export's reader)
MMAP_BYTES = 128 * 1024 * 1024  # reads through the OS page cache without a copy (as Rails 8)
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


def _sqlite_setup(engine: AsyncEngine, *, read_only: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        # A locked database is an error at once, never a wait on the loop: a writer waits
        # for another process's lock with the loop free (`storage.sqlite_inline`).
        cursor.execute("PRAGMA busy_timeout = 0")
        cursor.execute("PRAGMA journal_mode = WAL")
        # Each COMMIT is on disk before anyone hears "recorded", power cut or not (NORMAL
        # loses the last commits then): one fsync of the log per commit, a batch's.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        # A savepoint's journal (a unit of a batch, `storage.batches`) in memory, not in a
        # temporary file: SQLite spills it to disk past 64 KiB, a write call per page.
        cursor.execute("PRAGMA temp_store = MEMORY")
        if read_only:  # a reader's write is an error, not a write outside the one path
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(NO_BEGIN, False):
            return  # each statement on its own, as PostgreSQL's readers run
        connection.exec_driver_sql("BEGIN")


@contextlib.contextmanager
def _alone() -> Iterator[None]:
    """Refuses a writer that let the loop run another task while it held SQLite's lock."""
    others_ran: list[bool] = []
    handle = asyncio.get_running_loop().call_soon(others_ran.append, True)
    try:
        yield
    finally:
        handle.cancel()
    if others_ran:
        raise RuntimeError("an SQLite writer waited for something other than the database")


class Database:
    """The process's database: the engine, sessions, and write serialisation on SQLite."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        # hide_parameters: an error's text never carries what a member typed (logs stay clean)
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        path = make_url(self.url).database or ":memory:"
        if self.is_sqlite:
            kwargs.update(async_creator=sqlite_inline.creator(path))
        else:
            # No pre-ping (a round trip per transaction): a connection found dead fails its
            # unit of work, which the core runs once more (`Core.handle`).
            kwargs.update(pool_size=10, max_overflow=20, pool_recycle=1800)
        # `engine` is for tools (migrations, benchmarks, tests); on SQLite, write only through
        # `run`, `transaction` or `writing` (the one path).
        self.engine = create_async_engine(self.url, **kwargs)
        self._read_engine = self.engine
        if self.is_sqlite:
            _sqlite_setup(self.engine, read_only=False)
            if path != ":memory:":  # (an in-memory database is one per engine: no readers' own)
                self._read_engine = create_async_engine(self.url, **kwargs)
                _sqlite_setup(self._read_engine, read_only=True)
        # PostgreSQL's session writers (SQLite's are `writing`'s)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        # Readers run each statement on its own (no BEGIN/COMMIT: round trips on PostgreSQL,
        # two more statements on SQLite): they only read.
        no_begin = {NO_BEGIN: True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
        self._read_units = self._read_engine.execution_options(**no_begin)
        self._readers = async_sessionmaker(
            self._read_units, class_=AsyncSession, expire_on_commit=False
        )
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # Units of work and SQLite's writers: BEGIN and COMMIT sent on the driver's
        # connection (`run`, `writing`, the batches); SQLAlchemy's connection sends none.
        self._units = self.engine.execution_options(**no_begin)
        self._batches = Batches(self._units, self._write_lock) if self._write_lock else None
        if not self.is_sqlite:  # a unit may wait for its statements only (`storage.units`)
            watch_statements(self.engine.sync_engine)

    async def run(self, work: Work[T], *, write: bool = True) -> T:
        """Run `work(unit)` as one unit of work: committed when it returns, rolled back
        when it raises. `write=False` is for work that only reads: no transaction, nothing
        to wait for (on SQLite a write there fails). On SQLite a writing unit waits for
        nothing but the database (`storage.batches`). On PostgreSQL a unit that lost a
        serialization race or a deadlock (`is_conflict`) runs again, afresh, up to
        `CONFLICT_RETRIES` times: `work` only talks to the database, so running it again
        is safe. On both, a unit that awaits anything but the database is stopped there,
        rolled back, and raises `storage.units.UnitWaited`."""
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
        async with (self._units if write else self._read_units).connect() as connection:
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
                    return await self._complete(unit, work)
                await driver.command("BEGIN")
                result = await self._complete(unit, work)
                await driver.command("COMMIT")
            except BaseException as error:
                await _abandon(connection, driver, error)
                raise
            return result

    async def _complete(self, unit: Unit, work: Work[T]) -> T:
        """The unit's work, waiting for nothing but the database (`storage.units`): on
        SQLite for nothing at all, on PostgreSQL for its statements."""
        if self.is_sqlite:
            return run_now(unit.complete(work))
        return await guarded(unit.complete(work), unit.in_statement)

    @contextlib.asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        `write=False` is for reading: no BEGIN, each statement on its own, and on SQLite
        no turn to wait for behind the writers. A writer on SQLite is `writing`'s: it
        awaits nothing but the session.
        """
        if not write or self._write_lock is None:
            sessions = self._sessions if write else self._readers
            async with sessions() as session, session.begin():
                yield session
            return
        async with self.writing() as connection:
            session = AsyncSession(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
            try:
                yield session
                await session.commit()
            finally:
                await session.close()

    @contextlib.asynccontextmanager
    async def writing(self, *, rebuilds_tables: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection in one writing transaction: committed on success, rolled back on
        error. On SQLite it is the process's one writer until then (`BEGIN IMMEDIATE`, the
        write lock, waited for with the loop free), so the body must await nothing but its
        statements: one that lets the loop run another task is rolled back (RuntimeError).

        `rebuilds_tables` (migrations): on SQLite, foreign keys are off while the body
        copies a table into a new one and drops the old (Alembic's batch mode; with them on,
        dropping a table that members and referrals point at fails), and every reference is
        checked before the COMMIT, as SQLite's own procedure for altering a table says.
        """
        if self._write_lock is None:
            async with self.engine.begin() as connection:
                yield connection
            return
        async with self._write_lock, self._units.connect() as connection:
            await connection.begin()  # SQLAlchemy's view only: no BEGIN is sent
            raw = sqlite3_of(await connection.get_raw_connection())
            driver = SqliteDriver(raw)
            if rebuilds_tables:  # only outside a transaction does this pragma take effect
                await driver.command("PRAGMA foreign_keys = OFF")
            try:
                await driver.begin_immediate()
                try:
                    with _alone():
                        yield connection
                    if rebuilds_tables and (broken := raw.execute("PRAGMA foreign_key_check")
                                            .fetchall()):  # fmt: skip
                        raise RuntimeError(f"references left dangling: {broken[:5]}")
                    await driver.command("COMMIT")
                except BaseException as error:
                    await _abandon(connection, driver, error)
                    raise
            finally:
                if rebuilds_tables:
                    await driver.command("PRAGMA foreign_keys = ON")

    def reading(self) -> AsyncConnection:
        """A connection for reads (`async with db.reading() as connection`): each statement
        on its own; on SQLite it cannot write."""
        return self._read_units.connect()

    async def ping(self) -> bool:
        """True when the database answers a read (which on SQLite, in WAL mode, never waits
        for a writer, in this process or another)."""
        probe = "SELECT count(*) FROM sqlite_master" if self.is_sqlite else "SELECT 1"
        try:
            async with asyncio.timeout(PING_SECONDS), self.reading() as conn:
                await conn.execute(text(probe))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self._batches is not None:
            await self._batches.close()
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()


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


def is_read_only(error: BaseException) -> bool:
    """True for a write refused on a reader's connection (`run(work, write=False)` on
    SQLite): nothing was written, the work can run again as a writer."""
    orig = getattr(error, "orig", None)
    code = getattr(orig, "sqlite_errorcode", 0) if isinstance(orig, sqlite3.Error) else 0
    return code & 0xFF == sqlite3.SQLITE_READONLY


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
