"""The unit of work: prepared statements and the ORM session in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import select as orm_select

from storage import directory, entries
from storage.database import Database
from storage.statements import Prepared, _bind_processor
from storage.tables import Group, Member, Thanks
from storage.units import Unit, UnitWaited

NOW = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)
THANKS = Thanks.__table__  # type: ignore[attr-defined]
_THANKS_BY_ID = Prepared(select(*THANKS.c).where(THANKS.c.id == bindparam("id")))


async def _group_with(db: Database, *names: str) -> int:
    async def work(unit: Unit) -> int:
        session = unit.session
        group = Group(platform="console", chat_id="chapter", name="Chapter", timezone="UTC",
                      currency="USD", created_at=NOW)  # fmt: skip
        session.add(group)
        await session.flush()
        assert group.id is not None
        for name in names:
            session.add(Member(group_id=group.id, platform_user_id=name, name=name.title(),
                               joined_at=NOW))  # fmt: skip
        return group.id

    return await db.run(work)


async def test_prepared_rows_come_back_as_the_orm_reads_them(db: Database) -> None:
    """Times aware in UTC, money exact, booleans as booleans: the columns' own conversions."""
    group_id = await _group_with(db, "ann", "ben")

    async def work(unit: Unit) -> tuple[Thanks, tuple[object, ...], Thanks]:
        ann = await directory.find_member(unit, group_id, "ann")
        ben = await directory.find_member(unit, group_id, "ben")
        assert ann is not None and ben is not None
        added = await entries.add(
            unit, Thanks, group_id=group_id, from_id=ann.id, to_id=ben.id,
            amount=Decimal("1234.56"), currency="USD", note="kitchen", created_at=NOW,
        )  # fmt: skip
        raw = await unit.row(_THANKS_BY_ID, {"id": added.id})
        orm = (await unit.session.exec(orm_select(Thanks).where(Thanks.id == added.id))).one()
        return added, raw, orm

    added, raw, orm = await db.run(work)
    columns = [c.name for c in THANKS.columns]
    assert dict(zip(columns, raw, strict=True)) == orm.model_dump()
    assert orm is added  # the unit's one object for the row
    assert raw[columns.index("amount")] == Decimal("1234.56")
    assert raw[columns.index("created_at")] == NOW
    assert raw[columns.index("voided")] is False


async def test_statements_and_the_session_see_each_others_writes(db: Database) -> None:
    group_id = await _group_with(db, "ann")

    async def work(unit: Unit) -> tuple[str | None, int]:
        # The session's change is flushed before a prepared statement runs...
        (ann,) = (await unit.session.exec(orm_select(Member))).all()
        ann.name = "Ann Smith"
        found = await directory.find_member(unit, group_id, "ann")
        # ...and the session reads what a prepared statement wrote.
        await directory.ensure_member(unit, dict(
            group_id=group_id, platform_user_id="cat", name="Cat", role="member", joined_at=NOW,
        ))  # fmt: skip
        count = len((await unit.session.exec(orm_select(Member))).all())
        return (found.name if found else None), count

    assert await db.run(work) == ("Ann Smith", 2)


async def test_a_row_changed_before_the_session_was_made_is_saved(db: Database) -> None:
    """Rows found by prepared statements join the session late, their changes kept."""
    group_id = await _group_with(db, "ann")

    async def rename(unit: Unit) -> None:
        ann = await directory.find_member(unit, group_id, "ann")
        assert ann is not None
        ann.name = "Ann Smith"  # no session yet
        unit.session.add(ann)

    await db.run(rename)

    async def read(unit: Unit) -> list[str]:
        return [m.name for m in (await unit.session.exec(orm_select(Member))).all()]

    assert await db.run(read, write=False) == ["Ann Smith"]


async def test_the_same_row_is_the_same_object_in_a_unit(db: Database) -> None:
    group_id = await _group_with(db, "ann")

    async def work(unit: Unit) -> bool:
        first = await directory.find_member(unit, group_id, "ann")
        group, second = await directory.find_group_and_member(unit, "console", "", "chapter", "ann")
        assert group is not None and group.id == group_id
        by_session = await unit.session.get(Member, first.id if first else 0)
        return first is second is by_session

    assert await db.run(work)


async def test_a_failed_unit_leaves_nothing_behind(db: Database) -> None:
    group_id = await _group_with(db, "ann")

    async def work(unit: Unit) -> None:
        await directory.ensure_member(unit, dict(
            group_id=group_id, platform_user_id="ben", name="Ben", role="member", joined_at=NOW,
        ))  # fmt: skip
        unit.session.add(Member(group_id=group_id, platform_user_id="cat", name="Cat",
                                joined_at=NOW))  # fmt: skip
        await unit.session.flush()
        raise RuntimeError("the action changed its mind")

    with pytest.raises(RuntimeError):
        await db.run(work)

    async def names(unit: Unit) -> list[str]:
        return [m.platform_user_id for m in (await unit.session.exec(orm_select(Member))).all()]

    assert await db.run(names, write=False) == ["ann"]
    # and the connection it used is as good as new
    await directory_add(db, group_id, "dan")
    assert sorted(await db.run(names, write=False)) == ["ann", "dan"]


async def directory_add(db: Database, group_id: int, user_id: str) -> None:
    await db.run(lambda unit: directory.ensure_member(unit, dict(
        group_id=group_id, platform_user_id=user_id, name=user_id, role="member", joined_at=NOW,
    )))  # fmt: skip


async def test_a_duplicate_key_is_an_integrity_error_without_the_values(db: Database) -> None:
    """As SQLAlchemy's own errors with hidden parameters: what was bound is not in the text
    (PostgreSQL's own detail may name the key; the core never logs an error's text)."""

    async def record(unit: Unit) -> None:
        await directory.record_delivery(unit, "slack:T1:d1", '["Jane Roe, 555-0100"]', NOW)

    await db.run(record)
    with pytest.raises(IntegrityError) as raised:
        await db.run(record)
    assert "555-0100" not in str(raised.value)


def test_a_time_is_converted_once_per_object() -> None:
    from sqlalchemy.dialects import sqlite
    from sqlmodel.sql.sqltypes import UTCDateTime

    process = _bind_processor(UTCDateTime(), sqlite.dialect())
    assert process is not None
    first = process(NOW)
    assert process(NOW) is first
    later = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    assert process(later) == "2026-11-25 13:00:00.000000"
    assert process(NOW) == first == "2026-11-25 12:00:00.123456"


async def _names(db: Database) -> list[str]:
    async def work(unit: Unit) -> list[str]:
        return list((await unit.session.exec(orm_select(Member.platform_user_id))).all())

    return sorted(await db.run(work, write=False))


@pytest.mark.parametrize("what", ["a sleep", "a thread", "an event"])
@pytest.mark.parametrize("write", [True, False])
async def test_a_unit_that_awaits_anything_but_the_database_fails_and_records_nothing(
    db: Database, what: str, write: bool
) -> None:
    """The write-unit rule on both databases: stopped where it waited, rolled back."""
    group_id = await _group_with(db, "ann")
    event = asyncio.Event()
    waits: dict[str, Callable[[], Awaitable[object]]] = {
        "a sleep": lambda: asyncio.sleep(0),
        "a thread": lambda: asyncio.to_thread(sum, [1, 2]),
        "an event": event.wait,  # a lock, a queue, an HTTP call: never set here
    }

    async def work(unit: Unit) -> str:
        if write:
            await directory.ensure_member(unit, dict(
                group_id=group_id, platform_user_id="ben", name="Ben", role="member",
                joined_at=NOW,
            ))  # fmt: skip
        await directory.find_member(unit, group_id, "ann")
        await waits[what]()
        return "done"

    async with asyncio.timeout(30):  # (a unit left to wait on the event would hang)
        with pytest.raises(UnitWaited):
            await db.run(work, write=write)
    assert await _names(db) == ["ann"]


async def test_a_unit_that_swallows_the_refusal_is_still_refused(db: Database) -> None:
    group_id = await _group_with(db, "ann")

    async def work(unit: Unit) -> str:
        await directory.ensure_member(unit, dict(
            group_id=group_id, platform_user_id="ben", name="Ben", role="member", joined_at=NOW,
        ))  # fmt: skip
        with contextlib.suppress(UnitWaited):
            await asyncio.sleep(0)
        return "carried on"

    with pytest.raises(UnitWaited):
        await db.run(work)
    assert await _names(db) == ["ann"]


async def test_a_unit_waits_for_its_statements_and_the_session_on_both(db: Database) -> None:
    """Only the database's own waits: prepared statements, ORM queries, flush, commit."""
    group_id = await _group_with(db, "ann")

    async def work(unit: Unit) -> int:
        for name in ("ben", "cat"):
            unit.session.add(Member(group_id=group_id, platform_user_id=name, name=name,
                                    joined_at=NOW))  # fmt: skip
            await unit.session.flush()
        await directory.find_member(unit, group_id, "ben")
        return len((await unit.session.exec(orm_select(Member))).all())

    assert await db.run(work) == 3
    assert await _names(db) == ["ann", "ben", "cat"]
