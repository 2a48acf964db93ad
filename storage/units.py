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
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapper, configure_mappers, make_transient_to_detached
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.drivers import Driver
from storage.statements import Prepared

T = TypeVar("T")
Work = Callable[["Unit"], Awaitable[T]]


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
        return await self.driver.rows(prepared, self.dialect, params or {})

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
        return await self.driver.execute(prepared, self.dialect, params or {})

    async def execute_many(self, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement once for each of `rows`."""
        if rows:
            await self._flush()
            await self.driver.execute_many(prepared, self.dialect, rows)

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
    """Run a coroutine that must complete without waiting (SQLite's units of work in a batch:
    the batch's transaction never stays open while the event loop runs something else)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("a unit of work on SQLite waited for something other than the database")
