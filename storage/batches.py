"""Group commit on SQLite: the units of work that arrive together share one transaction.

SQLite has one writer at a time, and a commit costs more than a command's
statements do. So the writes waiting at the same moment run one after the
other in one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), each in a
savepoint of its own: a unit that fails is rolled back to its savepoint and
the others go on. Every caller gets its result only after the COMMIT, so an
answer never says "recorded" before it is. If the BEGIN or the COMMIT fails,
every caller of the batch gets `BatchFailed`, whatever its unit computed (a
result, a refusal, the first answer to a redelivered message): none of it was
kept.

The batch runs without letting the event loop run anything else
(`storage.units.run_now`): its transaction is never open while another task
could touch the database, and nobody waits on SQLite's lock in this process.
When another process holds the lock, the BEGIN waits for it without holding
up the loop (`SqliteDriver.begin_immediate`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.drivers import SqliteDriver, sqlite3_of
from storage.units import Unit, Work, run_now

MAX_BATCH = 200  # units in one transaction; a unit takes ~0.1 ms


class BatchFailed(Exception):
    """The batch's transaction did not begin or did not commit: nothing of it was recorded."""


class Batches:
    """Collects SQLite write units and runs them, a batch per transaction."""

    def __init__(self, engine: AsyncEngine, lock: asyncio.Lock) -> None:
        self._engine = engine
        self._lock = lock  # shared with `Database.transaction`'s SQLite writers
        self._queue: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None
        # The batches' own connection, kept between batches (checking one out of the pool
        # costs as much as a unit does).
        self._connection: AsyncConnection | None = None
        self._driver: SqliteDriver | None = None

    async def run(self, work: Work[Any]) -> Any:
        """Run `work` in the next batch; its result once the batch is committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                await asyncio.sleep(0)  # the requests that are ready queue their work too
                async with self._lock:
                    batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                    await self._run(batch)
        except BaseException as error:  # cancelled at shutdown: nobody is left waiting
            _settle([(future, None, error) for _, future in self._queue])
            self._queue.clear()
            raise

    async def close(self) -> None:
        """Finish the work already queued, then give the batches' connection back (the
        database is being closed)."""
        if self._drainer is not None:
            await asyncio.gather(self._drainer, return_exceptions=True)
        async with self._lock:
            if self._connection is not None:
                connection, self._connection, self._driver = self._connection, None, None
                await connection.close()

    async def _open(self) -> tuple[AsyncConnection, SqliteDriver]:
        if self._connection is None or self._driver is None:
            connection = await self._engine.connect()
            await connection.begin()  # SQLAlchemy's view only: no BEGIN is ever sent
            raw = await connection.get_raw_connection()
            self._connection, self._driver = connection, SqliteDriver(sqlite3_of(raw))
        return self._connection, self._driver

    async def _run(self, batch: list[tuple[Work[Any], asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            connection, driver = await self._open()
            await driver.begin_immediate()
            try:
                for work, future in batch:
                    if not future.done():  # its caller gave up before it ran
                        outcomes.append((future, *await self._unit(connection, driver, work)))
                await driver.command("COMMIT")
            except BaseException:
                if driver.in_transaction():
                    await driver.command("ROLLBACK")
                raise
        except BaseException as error:  # BEGIN or COMMIT failed: nothing of the batch was kept
            await self._drop_connection()
            if not isinstance(error, Exception):
                _settle([(future, None, error) for _, future in batch])
                raise
            outcomes = [(future, None, _failed(error)) for _, future in batch]
        _settle(outcomes)

    async def _drop_connection(self) -> None:
        """After a failure the connection is opened afresh for the next batch."""
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()

    @staticmethod
    async def _unit(
        connection: AsyncConnection, driver: SqliteDriver, work: Work[Any]
    ) -> tuple[Any, BaseException | None]:
        """One unit in its savepoint: (its result, None) or (None, why it failed)."""
        await driver.command("SAVEPOINT unit")
        try:
            value = run_now(Unit(connection, driver, write=True).complete(work))
        except Exception as error:
            await driver.command("ROLLBACK TO SAVEPOINT unit")
            await driver.command("RELEASE SAVEPOINT unit")
            return None, error
        await driver.command("RELEASE SAVEPOINT unit")
        return value, None


def _failed(error: Exception) -> BatchFailed:
    failed = BatchFailed("the batch's transaction failed; nothing of it was recorded")
    failed.__cause__ = error
    return failed


def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, value, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(value)
        elif isinstance(error, Exception):
            future.set_exception(error)
        else:  # cancelled, or the process is stopping
            future.cancel()
