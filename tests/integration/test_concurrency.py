"""Many members at once: every command recorded exactly once, numbers unique, totals exact.

PostgreSQL (marked `postgres`, skipped without TEST_DATABASE_URL): real concurrent
transactions. SQLite: writers queue in one process, and two engines on one file stand for
two processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import func, select

from bot.messages import Audience, Reply
from bot.service import Core, GroupDefaults
from storage import reports
from storage.database import Database
from storage.migrate import upgrade
from storage.tables import Delivery, Group, Member, OutboxMessage, Referral, Thanks
from storage.units import Unit
from tests.conftest import Chat, Clock

WRITERS = 50
END_OF_TIME = datetime(2100, 1, 1, tzinfo=UTC)


def name(i: int) -> str:
    return f"m{i:02d}"


def amount(i: int) -> Decimal:
    """A different amount for each writer, with cents that floats would not keep."""
    return Decimal(1000 + i) + Decimal(i) / 100 + Decimal("0.01")


async def join_all(chat: Chat) -> None:
    for i in range(WRITERS + 1):
        await chat.say(name(i), f"/join Trade {i}")


async def count(db: Database, model: type, *where: object) -> int:
    async with db.transaction() as session:
        statement = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int((await session.exec(statement)).one())


async def referrals_and_thanks_at_once(chats: list[Chat]) -> None:
    """50 referrals at once, then 50 thanks at once, spread over the chats (the engines)."""
    db = chats[0].core.db

    def chat_for(i: int) -> Chat:
        return chats[i % len(chats)]

    answers = await asyncio.gather(
        *(chat_for(i).say(name(i), f"/refer @{name(i + 1)} Prospect {i}") for i in range(WRITERS))
    )
    for replies in answers:
        assert len(replies) == 1 and "Referral #" in replies[0].text, replies
    async with db.transaction() as session:
        rows = (await session.exec(select(Referral))).all()
        group = (await session.exec(select(Group).where(Group.chat_id == "chapter"))).one()
        members = (await session.exec(select(Member).where(Member.group_id == group.id))).all()
        ids = {m.platform_user_id: m.id for m in members}
    assert len(rows) == WRITERS
    assert sorted(r.number for r in rows) == list(range(1, WRITERS + 1))
    assert sorted(r.giver_id for r in rows) == sorted(ids[name(i)] for i in range(WRITERS))
    # each giver's answer names the number that was stored for them
    by_giver = {r.giver_id: r.number for r in rows}
    for i, replies in enumerate(answers):
        assert f"Referral #{by_giver[ids[name(i)]]} " in replies[0].text

    answers = await asyncio.gather(
        *(chat_for(i).say(name(i + 1), f"/thanks @{name(i)} {amount(i):,}") for i in range(WRITERS))
    )
    for replies in answers:
        assert len(replies) == 1 and "recorded" in replies[0].text, replies
    assert await count(db, Thanks) == WRITERS

    async def read(unit: Unit) -> list[reports.Standing]:
        for i in range(WRITERS):
            got = await reports.totals(unit, int(ids[name(i)] or 0), None, END_OF_TIME)
            assert got.given == 1 and got.received == (1 if i else 0)
            assert got.credited == {"USD": amount(i)}
        return await reports.leaderboard(unit, int(group.id or 0), None, END_OF_TIME)

    board = await db.run(read, write=False)
    assert sum(s.credited["USD"] for s in board) == sum(amount(i) for i in range(WRITERS))
    assert await count(db, OutboxMessage, OutboxMessage.recipient_user_id != None) >= WRITERS  # noqa: E711


async def same_delivery_at_once(chats: list[Chat], times: int = 10) -> list[list[Reply]]:
    db = chats[0].core.db
    before = await count(db, Referral)
    answers = await asyncio.gather(
        *(
            chats[i % len(chats)].say("m01", "/refer @m02 the same one", delivery_id="dup-1")
            for i in range(times)
        )
    )
    assert await count(db, Referral) == before + 1
    assert all(a == answers[0] for a in answers)
    assert len(answers[0]) == 1 and answers[0][0].audience is Audience.SENDER
    assert "Referral #" in answers[0][0].text
    assert await count(db, Delivery, Delivery.key.endswith(":dup-1")) == 1  # type: ignore[attr-defined]
    return answers


async def first_commands_at_once(chats: list[Chat]) -> None:
    db = chats[0].core.db
    fresh = [Chat(c.core, chat_id="brand-new") for c in chats]
    answers = await asyncio.gather(
        *(fresh[i % len(fresh)].say(f"new{i}", f"/join Job {i}") for i in range(6))
    )
    for replies in answers:
        assert "Welcome" in replies[0].text, replies
    assert await count(db, Group, Group.chat_id == "brand-new") == 1
    async with db.transaction() as session:
        group = (await session.exec(select(Group).where(Group.chat_id == "brand-new"))).one()
        roles = [m.role for m in (await session.exec(select(Member).where(
            Member.group_id == group.id))).all()]  # fmt: skip
    assert len(roles) == 6 and roles.count("leader") == 1


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
def pg_chat(pg_db: Database) -> Chat:
    return Chat(Core(pg_db, GroupDefaults(), clock=Clock()))


@pytest.mark.postgres
async def test_fifty_concurrent_writers_on_postgres(pg_chat: Chat) -> None:
    await join_all(pg_chat)
    await referrals_and_thanks_at_once([pg_chat])


@pytest.mark.postgres
async def test_the_same_delivery_ten_times_at_once_on_postgres(pg_chat: Chat) -> None:
    await join_all(pg_chat)
    await same_delivery_at_once([pg_chat])


@pytest.mark.postgres
async def test_two_first_commands_at_once_make_one_group_on_postgres(pg_chat: Chat) -> None:
    answers = await asyncio.gather(
        pg_chat.say("alice", "/join Plumber"), pg_chat.say("bob", "/join Roofer")
    )
    assert all("Welcome" in a[0].text for a in answers)
    assert await count(pg_chat.core.db, Group) == 1
    assert await count(pg_chat.core.db, Member) == 2
    assert await count(pg_chat.core.db, Member, Member.role == "leader") == 1
    await first_commands_at_once([pg_chat])


@pytest.mark.postgres
async def test_two_engines_on_postgres(pg_db: Database) -> None:
    other = Database(pg_db.url)
    try:
        chats = [Chat(Core(d, GroupDefaults(), clock=Clock())) for d in (pg_db, other)]
        await join_all(chats[0])
        await referrals_and_thanks_at_once(chats)
        await same_delivery_at_once(chats)
        await first_commands_at_once(chats)
    finally:
        await other.dispose()


# --- SQLite --------------------------------------------------------------------------------


@pytest.fixture
async def sqlite_dbs(sqlite_url: str) -> AsyncIterator[list[Database]]:
    """Two engines on one SQLite file, as two processes would have."""
    first = Database(sqlite_url)
    await upgrade(first)
    second = Database(sqlite_url)
    yield [first, second]
    await first.dispose()
    await second.dispose()


async def test_fifty_concurrent_writers_on_sqlite(sqlite_dbs: list[Database]) -> None:
    chat = Chat(Core(sqlite_dbs[0], GroupDefaults(), clock=Clock()))
    await join_all(chat)
    await referrals_and_thanks_at_once([chat])  # any "database is locked" would fail here
    await same_delivery_at_once([chat])
    await first_commands_at_once([chat])


async def test_two_engines_writing_one_sqlite_file(sqlite_dbs: list[Database]) -> None:
    chats = [Chat(Core(d, GroupDefaults(), clock=Clock())) for d in sqlite_dbs]
    await join_all(chats[1])
    await referrals_and_thanks_at_once(chats)
    await same_delivery_at_once(chats)
    await first_commands_at_once(chats)
