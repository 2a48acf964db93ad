"""Rules that read, then write across rows, under concurrent commands on PostgreSQL.

Each PostgreSQL write unit locks its group's row first (`storage.directory`), so the
commands of one group take turns: the last leader stays, the first member alone leads,
a classification has one holder, referral numbers run on. Each test runs a few bounded
rounds, since a race that is lost once in a while is the thing being tested.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import col, func, select

from bot.service import Core, GroupDefaults
from storage.database import Database
from storage.tables import Group, Member, Referral
from tests.conftest import Chat, Clock

pytestmark = pytest.mark.postgres
ROUNDS = 10


@pytest.fixture
def pg_chat(pg_db: Database) -> Chat:
    return Chat(Core(pg_db, GroupDefaults(), clock=Clock()))


async def roles(db: Database, chat_id: str) -> dict[str, str]:
    async with db.transaction() as session:
        statement = (
            select(Member.platform_user_id, Member.role)
            .join(Group, col(Group.id) == Member.group_id)
            .where(Group.chat_id == chat_id)
        )
        return dict((await session.exec(statement)).all())


async def test_two_leaders_demoting_each_other_leave_a_leader(pg_chat: Chat) -> None:
    await pg_chat.say("alice", "/join Plumber")
    await pg_chat.say("bob", "/join Roofer")
    for _ in range(ROUNDS):
        leader = next(u for u, r in (await roles(pg_chat.core.db, "chapter")).items()
                      if r == "leader")  # fmt: skip
        other = "bob" if leader == "alice" else "alice"
        assert "is now a leader" in await pg_chat.text(leader, f"/settings leader @{other}")
        answers = await asyncio.gather(
            pg_chat.text("alice", "/settings member @bob"),
            pg_chat.text("bob", "/settings member @alice"),
        )
        now = await roles(pg_chat.core.db, "chapter")
        assert list(now.values()).count("leader") == 1, (now, answers)
        assert sum("is now a member" in a for a in answers) == 1, answers
        refused = next(a for a in answers if "is now a member" not in a)
        assert "only leader" in refused or "Only the group's leaders" in refused, refused


async def test_two_first_members_at_once_make_one_leader(pg_chat: Chat) -> None:
    db = pg_chat.core.db
    for round_ in range(ROUNDS):
        chat = Chat(pg_chat.core, chat_id=f"new-{round_}")
        if round_ % 2:  # a group that exists with nobody in it (every member left)
            async with db.transaction() as session:
                session.add(Group(platform="console", chat_id=chat.chat_id, name=chat.chat_id,
                                  timezone="UTC", currency="USD",
                                  created_at=Clock().now))  # fmt: skip
        # a command that records and one that only reads: both make their sender a member
        commands = ["/join Plumber", "/balance", "/join Roofer", "/members"]
        answers = await asyncio.gather(
            *(chat.text(f"u{i}", text) for i, text in enumerate(commands))
        )
        assert not any("went wrong" in a for a in answers), answers
        now = await roles(db, chat.chat_id)
        assert len(now) == len(commands), now
        assert list(now.values()).count("leader") == 1, now


async def test_two_members_claiming_one_classification_get_one_answer_each(
    pg_chat: Chat,
) -> None:
    db = pg_chat.core.db
    for who in ("alice", "bob", "carol"):
        await pg_chat.say(who, "/join")
    for round_ in range(ROUNDS):
        trade = f"Trade {round_}"
        answers = await asyncio.gather(
            pg_chat.text("bob", f"/join {trade}"),
            pg_chat.text("carol", f"/profile classification {trade}"),
        )
        welcomed = [a for a in answers if "Welcome" in a or "Profile updated" in a]
        assert len(welcomed) == 1, answers
        [refused] = [a for a in answers if a not in welcomed]
        assert "one member per classification" in refused or "just taken" in refused, refused
        async with db.transaction() as session:
            statement = select(func.count()).where(Member.classification == trade)
            assert (await session.exec(statement)).one() == 1


async def test_fifty_referrals_at_once_in_one_group_are_numbered_once_each(
    pg_chat: Chat,
) -> None:
    members = [f"m{i:02d}" for i in range(51)]
    for member in members:
        await pg_chat.say(member, f"/join Trade {member}")
    for round_ in range(2):
        answers = await asyncio.gather(
            *(pg_chat.text(members[i], f"/refer @{members[i + 1]} Prospect {i}")
              for i in range(50))
        )  # fmt: skip
        assert all("recorded" in a for a in answers), answers
        async with pg_chat.core.db.transaction() as session:
            numbers = (await session.exec(select(Referral.number))).all()
        assert sorted(numbers) == list(range(1, 50 * (round_ + 1) + 1))
