"""A PostgreSQL unit that loses a deadlock or a serialization race runs again (bounded).

The races are set up with the database's own waits, since a unit may await nothing else
(`storage.units`): each unit says it arrived with a session advisory lock of its own and
waits, in a statement, until the other's is held too."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.database import CONFLICT_RETRIES, Database
from storage.statements import Prepared
from storage.tables import Group
from storage.units import Unit, Work
from tests.conftest import Clock

pytestmark = pytest.mark.postgres

_SERIALIZABLE = Prepared(text("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"))
_keys = itertools.count(731_000)


def barrier() -> tuple[Prepared, Prepared]:
    """The two sides of a meeting point in the database: each takes its own key (a session
    lock: it stays held after its transaction, until the connection closes) and waits up
    to 10 s, in the statement, until the other key is held."""
    first, second = next(_keys), next(_keys)

    def side(mine: int, theirs: int) -> Prepared:
        return Prepared(text(f"""DO $$ BEGIN
            PERFORM pg_advisory_lock({mine});
            FOR i IN 1..2000 LOOP
                EXIT WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
                                  AND objid = {theirs} AND granted);
                PERFORM pg_sleep(0.005);
            END LOOP;
        END $$"""))  # fmt: skip

    return side(first, second), side(second, first)


async def two_groups(db: Database) -> list[int]:
    async with db.transaction() as session:
        groups = [Group(platform="console", chat_id=f"g{i}", name=f"g{i}", timezone="UTC",
                        currency="USD", created_at=Clock().now) for i in range(2)]  # fmt: skip
        session.add_all(groups)
        await session.flush()
        return [int(g.id or 0) for g in groups]


async def rename(unit: Unit, group_id: int, suffix: str) -> None:
    await unit.session.exec(  # type: ignore[call-overload]
        text("UPDATE groups SET name = name || :suffix WHERE id = :id"),
        params={"suffix": suffix, "id": group_id},
    )


async def names(db: Database) -> list[str]:
    async with db.transaction() as session:
        rows = await session.exec(text("SELECT name FROM groups ORDER BY id"))  # type: ignore[call-overload]
        return [row[0] for row in rows]


async def test_a_deadlocked_unit_runs_again(pg_db: Database) -> None:
    first, second = await two_groups(pg_db)
    meet_a, meet_b = barrier()
    runs: list[str] = []

    def crosswise(mine: int, theirs: int, suffix: str, meet: Prepared) -> Work[None]:
        async def work(unit: Unit) -> None:
            runs.append(suffix)
            await rename(unit, mine, suffix)
            if runs.count(suffix) == 1:  # the first run waits until both hold a row
                await unit.execute(meet)
            await rename(unit, theirs, suffix)

        return work

    await asyncio.gather(
        pg_db.run(crosswise(first, second, "A", meet_a)),
        pg_db.run(crosswise(second, first, "B", meet_b)),
    )
    assert len(runs) == 3  # the deadlock's victim ran once more, after the other committed
    assert [sorted(name[2:]) for name in await names(pg_db)] == [["A", "B"], ["A", "B"]]


async def test_a_serialization_failure_runs_again(pg_db: Database) -> None:
    group, _ = await two_groups(pg_db)
    meet_a, meet_b = barrier()
    runs: list[str] = []

    def read_then_write(suffix: str, meet: Prepared) -> Work[None]:
        async def work(unit: Unit) -> None:
            runs.append(suffix)
            await unit.execute(_SERIALIZABLE)
            await unit.session.exec(text("SELECT name FROM groups"))  # type: ignore[call-overload]
            if runs.count(suffix) == 1:  # both have read before either writes
                await unit.execute(meet)
            await rename(unit, group, suffix)

        return work

    await asyncio.gather(
        pg_db.run(read_then_write("A", meet_a)), pg_db.run(read_then_write("B", meet_b))
    )
    assert len(runs) == 3  # the one that lost the race ran once more
    assert (await names(pg_db))[0] in ("g0AB", "g0BA")


async def test_retries_are_bounded(pg_db: Database) -> None:
    runs = 0

    async def always_deadlocked(unit: Unit) -> None:
        nonlocal runs
        runs += 1
        await unit.execute(Prepared(text(
            "DO $$ BEGIN RAISE EXCEPTION 'stand-in' USING ERRCODE = '40P01'; END $$"
        )))  # fmt: skip

    with pytest.raises(DBAPIError):
        await pg_db.run(always_deadlocked)
    assert runs == CONFLICT_RETRIES + 1
