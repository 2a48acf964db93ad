"""The unit of work: what the core does for one message, in one transaction.

`Database.run(work)` hands `work` a `Unit`. The statements every command runs
(`storage.statements.Prepared`) go straight to the driver's connection through
`rows`, `row`, `value`, `execute` and `execute_many`; everything else uses
`session`, an ORM session on the same connection, made the first time it is
asked for. The transaction is sent on the driver's connection (BEGIN,
SAVEPOINT, COMMIT, ROLLBACK by `Database.run` or the SQLite batch), and
SQLAlchemy's connection is told it runs without one (autocommit), so that both
kinds of statement share it. The ORM session sits in a savepoint of its own
within it and is committed into it when the work is done.

A unit only talks to the database (docs/adding-an-action.md). On SQLite its
statements complete without suspending, so a unit is driven to its end at once
(`run_now`); on PostgreSQL it suspends only inside a statement (`guarded`,
which knows from `watch_statements` and the unit's own calls when one is
running). A unit that awaits anything else (a platform call, a thread, a
sleep, a lock) is stopped there with `UnitWaited`, the same on both
databases, and its transaction is rolled back: nothing of it is recorded.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapper, configure_mappers, make_transient_to_detached
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.drivers import Driver
from storage.statements import Prepared

T = TypeVar("T")
Work = Callable[["Unit"], Awaitable[T]]
IN_STATEMENT = "referral_bot_in_statement"  # connection.info: a statement is on the wire
WAITED = "a unit of work waited for something other than the database"


class UnitWaited(RuntimeError):
    """A unit of work awaited something other than the database (it was stopped there and
    rolled back): outside work goes before or after the unit (`bot.outside`)."""


class Unit:
    """One unit of work: prepared statements on the driver, the ORM for the rest."""

    def __init__(self, connection: AsyncConnection, driver: Driver, *, write: bool) -> None:
        self.connection = connection
        self.driver = driver
        self.dialect = connection.dialect
        self.write = write
        self._session: AsyncSession | None = None
        # rows loaded before the session was made, with their values as loaded
        self._loaded: dict[Any, tuple[Any, dict[str, Any]]] = {}
        self._info = connection.sync_connection.info if connection.sync_connection else {}
        self._info[IN_STATEMENT] = False
        # what lookups found in this unit (the unit's own objects), by lookup
        self.found: dict[Any, Any] = {}

    @property
    def dialect_name(self) -> str:
        return str(self.dialect.name)

    @property
    def locks_groups(self) -> bool:
        """True for a write unit on PostgreSQL: its group lookup locks the group's row
        (`storage.directory`), so that one group's writes take turns and a rule that reads
        then writes across rows (the last leader, the first member, one member per
        classification) holds. SQLite's writers take turns already (`storage.batches`)."""
        return self.write and self.dialect.name == "postgresql"

    async def rows(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row of a prepared statement, as tuples."""
        await self._flush()
        self._info[IN_STATEMENT] = True
        try:
            return await self.driver.rows(prepared, self.dialect, params or {})
        finally:
            self._info[IN_STATEMENT] = False

    async def row(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> Any:
        """The first row, or None."""
        found = await self.rows(prepared, params)
        return found[0] if found else None

    async def value(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        found = await self.row(prepared, params)
        return None if found is None else found[0]

    async def execute(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        await self._flush()
        self._info[IN_STATEMENT] = True
        try:
            return await self.driver.execute(prepared, self.dialect, params or {})
        finally:
            self._info[IN_STATEMENT] = False

    async def execute_many(self, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement once for each of `rows`."""
        if rows:
            await self._flush()
            self._info[IN_STATEMENT] = True
            try:
                await self.driver.execute_many(prepared, self.dialect, rows)
            finally:
                self._info[IN_STATEMENT] = False

    @property
    def session(self) -> AsyncSession:
        """An ORM session in this unit's transaction, made on first use."""
        if self._session is None:
            mode = "create_savepoint" if self.write else "rollback_only"
            self._session = AsyncSession(
                bind=self.connection, join_transaction_mode=mode, expire_on_commit=False
            )
            for row, loaded in self._loaded.values():
                _into_session(self._session, row, loaded)
            self._loaded.clear()
        return self._session

    def attach(self, model: Any, data: dict[str, Any]) -> Any:
        """A row loaded by a prepared statement, as the unit's one object for that row.

        Built as the ORM's loader builds one (no __init__, whose per-field checks cost
        more than the query). It joins `session` when the session is made (most units
        never need one): changed and added to it, it is saved like any other row.
        """
        row_key = _mapper(model).identity_key_from_primary_key((data["id"],))
        if self._session is not None:
            existing = self._session.sync_session.identity_map.get(row_key)
            if existing is not None:
                return existing
        elif (known := self._loaded.get(row_key)) is not None:
            return known[0]
        row = model._sa_class_manager.new_instance()
        row.__dict__.update(data)
        if self._session is not None:
            _into_session(self._session, row, data)
        else:
            self._loaded[row_key] = (row, dict(data))
        return row

    async def complete(self, work: Work[T]) -> T:
        """Run `work`, then save what it left in the session; on failure, drop the session."""
        try:
            result = await work(self)
            if self._session is not None:
                await self._session.commit()
        finally:
            if self._session is not None:
                await self._session.close()
                self._session = None
        return result

    def in_statement(self) -> bool:
        """True while one of the unit's statements is on the wire (the one wait allowed)."""
        return bool(self._info.get(IN_STATEMENT))

    async def _flush(self) -> None:
        """What the session holds goes in before a prepared statement reads or writes."""
        if self._session is not None:
            await self._session.flush()


def _into_session(session: AsyncSession, row: Any, loaded: dict[str, Any]) -> None:
    """A loaded row into the session as a persistent object, keeping what was changed on it
    since it was loaded as changes (to be saved) rather than as its stored values."""
    changed = {k: v for k, v in row.__dict__.items() if k in loaded and v != loaded[k]}
    row.__dict__.update({k: loaded[k] for k in changed})
    make_transient_to_detached(row)  # persistent, as loaded
    session.add(row)
    for name, value in changed.items():
        setattr(row, name, value)


@functools.cache
def _mapper(model: type[Any]) -> Mapper[Any]:
    configure_mappers()  # what the ORM does before its first query: attributes work
    mapper: Mapper[Any] = inspect(model)
    return mapper


def run_now(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a unit that must complete without suspending (SQLite: the batch's transaction
    never stays open while the event loop runs something else). One that suspends gets
    `UnitWaited` thrown in where it waited (its `finally` blocks run), and raises it."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    error = UnitWaited(WAITED + " (SQLite)")
    try:
        coroutine.throw(error)
    except StopIteration:
        pass  # it swallowed the error: still refused
    except UnitWaited:
        raise
    except BaseException as other:
        raise error from other
    finally:
        coroutine.close()
    raise error


class _Guarded(Generic[T]):
    """Awaits a unit's coroutine as its task would, step by step, letting it suspend only
    while `may_wait()` says a statement is on the wire; a suspension anywhere else gets
    `UnitWaited` thrown in where it waited, as `run_now` does."""

    def __init__(self, coroutine: Coroutine[Any, Any, T], may_wait: Callable[[], bool]) -> None:
        self._coroutine, self._may_wait = coroutine, may_wait

    def __await__(self) -> Generator[Any, Any, T]:
        coroutine, sent = self._coroutine, None
        thrown: BaseException | None = None
        refused: UnitWaited | None = None
        while True:
            try:
                yielded = coroutine.send(sent) if thrown is None else coroutine.throw(thrown)
            except StopIteration as done:
                if refused is not None:  # it swallowed the error: still refused
                    raise refused from None
                return done.value
            sent, thrown = None, None
            if not self._may_wait():
                if refused is not None:  # waited outside again, after being told
                    coroutine.close()
                    raise refused
                thrown = refused = UnitWaited(WAITED + " (PostgreSQL)")
                continue  # not waited for: thrown in where it waited
            try:
                sent = yield yielded
            except BaseException as error:  # cancelled: into the unit, as a task does
                thrown = error


def guarded(coroutine: Coroutine[Any, Any, T], may_wait: Callable[[], bool]) -> Awaitable[T]:
    """`coroutine` awaited with waits allowed only while `may_wait()` (see `_Guarded`)."""
    return _Guarded(coroutine, may_wait)


def watch_statements(engine: Engine) -> None:
    """Mark on each connection's `info` when an ORM statement is on the wire (the waits a
    unit may make besides its prepared statements), for `guarded`."""

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn: Any, *_: Any) -> None:
        conn.info[IN_STATEMENT] = True

    @event.listens_for(engine, "after_cursor_execute")
    def _finished(conn: Any, *_: Any) -> None:
        conn.info[IN_STATEMENT] = False

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        if context.connection is not None:
            context.connection.info[IN_STATEMENT] = False
