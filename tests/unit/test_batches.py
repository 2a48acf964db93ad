"""Group commit on SQLite: units that arrive together share a transaction, not a fate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.service import FAILED, Core, GroupDefaults
from storage import directory
from storage.batches import BatchFailed
from storage.database import Database
from storage.migrate import upgrade
from storage.tables import Group, Member
from storage.units import Unit, Work
from tests.conftest import Chat

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'batches.db'}")
    await upgrade(database)
    async with database.transaction() as session:
        session.add(Group(platform="console", chat_id="chapter", name="Chapter",
                          timezone="UTC", currency="USD", created_at=NOW))  # fmt: skip
    yield database
    await database.dispose()


def joins(user_id: str, ran: list[str] | None = None) -> Work[str]:
    async def work(unit: Unit) -> str:
        if ran is not None:
            ran.append(user_id)
        member = await directory.ensure_member(unit, dict(
            group_id=1, platform_user_id=user_id, name=user_id, role="member", joined_at=NOW,
        ))  # fmt: skip
        return member.platform_user_id

    return work


async def members(db: Database) -> list[str]:
    async with db.transaction(write=False) as session:
        rows = await session.exec(select(Member.platform_user_id).order_by(col(Member.id)))
        return list(rows.all())


def commits_in_wal(path: Path) -> int:
    """How many transactions the write-ahead log holds: its commit frames (the frames
    whose header gives the database size after the commit), read off the file."""
    data = Path(f"{path}-wal").read_bytes()
    page_size = int.from_bytes(data[8:12], "big")
    salts = data[16:24]
    count, offset = 0, 32
    while offset + 24 + page_size <= len(data):
        header = data[offset : offset + 24]
        if header[8:16] != salts:
            break  # frames left over from before the log was restarted
        count += int.from_bytes(header[4:8], "big") != 0
        offset += 24 + page_size
    return count


async def test_units_arriving_together_share_one_transaction(
    sqlite_db: Database, tmp_path: Path
) -> None:
    before = commits_in_wal(tmp_path / "batches.db")
    results = await asyncio.gather(*(sqlite_db.run(joins(f"u{i}")) for i in range(20)))
    assert results == [f"u{i}" for i in range(20)]
    assert commits_in_wal(tmp_path / "batches.db") == before + 1
    assert await members(sqlite_db) == [f"u{i}" for i in range(20)]
    # one at a time, one transaction each
    for i in range(3):
        await sqlite_db.run(joins(f"v{i}"))
    assert commits_in_wal(tmp_path / "batches.db") == before + 4


async def test_a_failing_unit_is_rolled_back_alone(sqlite_db: Database) -> None:
    async def fails(unit: Unit) -> None:
        await joins("doomed")(unit)
        raise ValueError("refused")

    async def duplicate(unit: Unit) -> None:
        await directory.record_delivery(unit, "k", "[]", NOW)
        await joins("also-doomed")(unit)
        await directory.record_delivery(unit, "k", "[]", NOW)  # the same key: fails

    results = await asyncio.gather(
        sqlite_db.run(joins("ann")),
        sqlite_db.run(fails),
        sqlite_db.run(joins("ben")),
        sqlite_db.run(duplicate),
        sqlite_db.run(joins("cat")),
        return_exceptions=True,
    )
    assert results[0] == "ann" and results[2] == "ben" and results[4] == "cat"
    assert isinstance(results[1], ValueError)
    assert isinstance(results[3], IntegrityError)
    assert await members(sqlite_db) == ["ann", "ben", "cat"]


async def test_a_unit_that_waits_on_something_else_is_refused(sqlite_db: Database) -> None:
    """The batch's transaction never stays open while the event loop runs other tasks."""

    async def waits(unit: Unit) -> None:
        await joins("sleepy")(unit)
        await asyncio.sleep(0)

    results = await asyncio.gather(
        sqlite_db.run(waits), sqlite_db.run(joins("ann")), return_exceptions=True
    )
    assert isinstance(results[0], RuntimeError) and results[1] == "ann"
    assert await members(sqlite_db) == ["ann"]


async def dangling(unit: Unit) -> str:
    """A unit whose foreign key is checked at COMMIT (deferred): it fails the COMMIT."""
    await unit.driver.command("PRAGMA defer_foreign_keys = ON")
    await directory.ensure_member(unit, dict(
        group_id=99, platform_user_id="ghost", name="Ghost", role="member", joined_at=NOW,
    ))  # fmt: skip
    return "ghost"


async def test_a_failed_commit_fails_every_unit_of_the_batch(sqlite_db: Database) -> None:
    """Nobody hears "recorded", not even a unit that had failed on its own."""

    async def refused(unit: Unit) -> None:
        await joins("doomed")(unit)
        raise ValueError("refused")

    results = await asyncio.gather(
        sqlite_db.run(joins("ann")), sqlite_db.run(refused), sqlite_db.run(dangling),
        return_exceptions=True,
    )  # fmt: skip
    assert all(isinstance(r, BatchFailed) for r in results), results
    assert isinstance(results[2].__cause__, IntegrityError)  # type: ignore[union-attr]
    assert await members(sqlite_db) == []
    # the next batch starts afresh
    assert await sqlite_db.run(joins("ben")) == "ben"
    assert await members(sqlite_db) == ["ben"]


async def test_a_redelivery_in_the_batch_of_a_failed_commit_is_not_told_recorded(
    sqlite_db: Database,
) -> None:
    """The second delivery of a message, in the same batch as the first, would find the
    first's answer stored in the batch's transaction; the COMMIT fails: both callers hear
    that nothing was recorded, and the platform's next delivery records it."""
    chat = Chat(Core(sqlite_db, GroupDefaults()), chat_id="north")
    await chat.say("ann", "/join Plumber")
    await chat.say("ben", "/join Roofer")
    await chat.say("ann", "/refer @ben Jane Roe, 555-0100, roof")
    status = chat.incoming("ben", "/status 1 won 400", delivery_id="won-1")
    first, again, _ = await asyncio.gather(
        chat.core.handle(status), chat.core.handle(status), sqlite_db.run(dangling),
        return_exceptions=True,
    )  # fmt: skip
    assert [r.text for r in first] == [r.text for r in again] == [FAILED]  # type: ignore[union-attr]
    assert "#1" in await chat.text("ben", "/referrals")  # still open
    assert "Referral #1 is now won: $400.00" in await chat.text("ben", "/status 1 won 400",
                                                                 delivery_id="won-1")  # fmt: skip


async def test_a_caller_that_gave_up_before_its_batch_ran_records_nothing(
    sqlite_db: Database,
) -> None:
    ran: list[str] = []
    gave_up = asyncio.ensure_future(sqlite_db.run(joins("gone", ran)))
    kept = asyncio.ensure_future(sqlite_db.run(joins("ann", ran)))
    await asyncio.sleep(0)  # both have queued their work; the batch has not run yet
    gave_up.cancel()
    assert await kept == "ann"
    assert gave_up.cancelled()
    assert ran == ["ann"]
    assert await members(sqlite_db) == ["ann"]


async def session_writer(db: Database, user_id: str, *, waits: bool = False) -> None:
    async with db.transaction() as session:
        session.add(Member(group_id=1, platform_user_id=user_id, name=user_id,
                           joined_at=NOW))  # fmt: skip
        await session.flush()
        if waits:
            await asyncio.sleep(0)


async def test_session_writers_and_batches_take_turns(sqlite_db: Database) -> None:
    await asyncio.gather(
        session_writer(sqlite_db, "s1"), sqlite_db.run(joins("b1")),
        session_writer(sqlite_db, "s2"), sqlite_db.run(joins("b2")),
    )  # fmt: skip
    assert sorted(await members(sqlite_db)) == ["b1", "b2", "s1", "s2"]


async def test_a_session_writer_that_waits_on_something_else_is_refused(
    sqlite_db: Database,
) -> None:
    """It would hold SQLite's write lock while the loop runs other tasks: rolled back."""
    results = await asyncio.gather(
        session_writer(sqlite_db, "sleepy", waits=True), sqlite_db.run(joins("ann")),
        return_exceptions=True,
    )  # fmt: skip
    assert isinstance(results[0], RuntimeError) and results[1] == "ann"
    assert await members(sqlite_db) == ["ann"]


async def test_a_reading_unit_cannot_write(sqlite_db: Database) -> None:
    """Every write takes the one path: a reader's connection refuses one."""
    with pytest.raises(OperationalError, match="readonly"):
        await sqlite_db.run(joins("sneaky"), write=False)
    with pytest.raises(OperationalError, match="readonly"):
        async with sqlite_db.transaction(write=False) as session:
            session.add(Member(group_id=1, platform_user_id="sneaky", name="S", joined_at=NOW))
    assert await members(sqlite_db) == []


async def test_commands_of_every_kind_share_a_batch(sqlite_db: Database, tmp_path: Path) -> None:
    """Commands that use the ORM session (a profile, a setting) and commands that do not
    (referrals, thanks) in one batch: each recorded as if alone."""
    chat = Chat(Core(sqlite_db, GroupDefaults()), chat_id="north")
    for who in ("ann", "ben", "cat"):
        await chat.say(who, "/join")
    before = commits_in_wal(tmp_path / "batches.db")
    answers = await asyncio.gather(
        chat.text("ann", "/join Plumber"),
        chat.text("ben", "/refer @cat Jane Roe, 555-0100 hot"),
        chat.text("ann", "/settings currency EUR"),
        chat.text("cat", "/profile business Cat's Roofs"),
        chat.text("ben", "/join Plumber"),  # ann has it: refused, alone
        chat.text("cat", "/thanks @ben 300"),
    )
    assert commits_in_wal(tmp_path / "batches.db") == before + 1
    assert "Your classification is now Plumber" in answers[0]
    assert "Referral #1 to Cat recorded (hot)" in answers[1]
    assert "Currency: EUR" in answers[2]
    assert "Cat's Roofs" in answers[3]
    assert "Ann already holds the classification Plumber" in answers[4]
    assert "€300.00 of closed business credited" in answers[5]  # after the change of currency
    roster = await chat.text("ann", "/members")
    assert "Ann (Plumber)" in roster and "Ben (no classification)" in roster


async def test_closing_the_database_finishes_the_work_queued(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'closing.db'}")
    await upgrade(database)
    async with database.transaction() as session:
        session.add(Group(platform="console", chat_id="chapter", name="Chapter",
                          timezone="UTC", currency="USD", created_at=NOW))  # fmt: skip
    queued = [asyncio.ensure_future(database.run(joins(f"u{i}"))) for i in range(5)]
    await asyncio.sleep(0)  # queued, not yet run
    await database.dispose()
    assert [await q for q in queued] == [f"u{i}" for i in range(5)]
    reopened = Database(f"sqlite:///{tmp_path / 'closing.db'}")
    try:
        assert await members(reopened) == [f"u{i}" for i in range(5)]
    finally:
        await reopened.dispose()


async def test_every_connection_runs_with_the_settings_the_batches_rely_on(
    sqlite_db: Database,
) -> None:
    """WAL (readers never wait on the batch), FULL sync (a commit acknowledged survives a
    power cut, not only the process being killed), foreign keys, savepoint journals in
    memory (a unit of a batch writes no temporary file), no busy wait (it would stop the
    loop: a writer waits for the lock off it), and readers that cannot write."""
    pragmas = ("journal_mode", "synchronous", "foreign_keys", "temp_store", "busy_timeout",
               "query_only")  # fmt: skip
    writer, reader = ["wal", 2, 1, 2, 0, 0], ["wal", 2, 1, 2, 0, 1]

    async def read(unit: Unit) -> list[object]:
        connection = await unit.session.connection()
        return [(await connection.exec_driver_sql(f"PRAGMA {p}")).scalar() for p in pragmas]

    async def read_session(session: AsyncSession) -> list[object]:
        connection = await session.connection()
        return [(await connection.exec_driver_sql(f"PRAGMA {p}")).scalar() for p in pragmas]

    assert await sqlite_db.run(read) == writer  # the batches' connection
    assert await sqlite_db.run(read, write=False) == reader  # a pooled reader's
    async with sqlite_db.transaction() as session:
        assert await read_session(session) == writer
    async with sqlite_db.transaction(write=False) as session:
        assert await read_session(session) == reader
