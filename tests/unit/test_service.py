"""The core's service: delivery memory, read-only commands, and its one log line."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from bot.service import Core, GroupDefaults
from storage.database import Database
from storage.tables import Delivery, Member
from tests.conftest import Chat, Clock


async def deliveries(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(Delivery))).one())


async def test_old_delivery_ids_are_forgotten_recent_ones_kept(
    chat: Chat, core: Core, clock: Clock
) -> None:
    await chat.say("alice", "/join Plumber", delivery_id="old")
    clock.advance(days=8)
    await chat.say("alice", "/visitor Jane Roe", delivery_id="recent")
    assert await deliveries(core.db) == 2
    assert await core.forget_deliveries() == 1
    assert await deliveries(core.db) == 1
    again = await chat.text("alice", "/visitor Jane Roe", delivery_id="recent")
    assert "Visitor Jane Roe" in again
    assert await deliveries(core.db) == 1


async def test_read_only_commands_keep_no_delivery_id(chat: Chat, core: Core) -> None:
    await chat.say("alice", "/join Plumber")
    before = await deliveries(core.db)
    for command in ("/balance", "/leaderboard", "/referrals", "/members", "/settings"):
        first = await chat.text("alice", command, delivery_id=f"same-{command}")
        second = await chat.text("alice", command, delivery_id=f"same-{command}")
        assert first == second
    assert await deliveries(core.db) == before


async def test_one_log_line_per_message_without_private_details(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Electrician")
    with caplog.at_level(logging.INFO, logger="referral_bot"):
        await chat.say("alice", "/refer @bob Jane Roe, 555-0100, secret roof job hot")
        await chat.say("alice", "/thanks @bob $abc")
    lines = [r.getMessage() for r in caplog.records if r.name == "referral_bot.core"]
    assert len(lines) == 2
    assert lines[0].startswith("group=console:chapter command=refer outcome=ok ms=")
    assert lines[1].startswith("group=console:chapter command=thanks outcome=malformed ms=")
    assert not any("555-0100" in line or "Jane" in line for line in lines)


async def test_help_and_wrong_forms_work_in_a_private_chat_without_a_group(chat: Chat) -> None:
    assert "Commands" in await chat.text("zoe", "/help", private=True)
    assert "/thanks @member" in await chat.text("zoe", "/thanks @bob $abc", private=True)
    assert "not in a group yet" in await chat.text("zoe", "/balance", private=True)


async def test_a_database_outage_gets_an_apology_and_logs_no_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    away = Database("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        chat = Chat(Core(away, GroupDefaults()))
        with caplog.at_level(logging.INFO, logger="referral_bot"):
            answer = await chat.text("alice", "/refer @bob Jane Roe, 555-0100, roof")
    finally:
        await away.dispose()
    assert "nothing was recorded" in answer
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "outcome=error" in logged
    assert "555-0100" not in logged and "Jane" not in logged


async def test_database_errors_do_not_carry_what_members_typed(db: Database) -> None:
    async with db.transaction() as session:
        with pytest.raises(DBAPIError) as raised:
            await session.exec(text("SELECT * FROM no_such_table WHERE x = :secret"),
                               params={"secret": "555-0100"})  # fmt: skip
    assert "555-0100" not in str(raised.value)


async def test_the_group_and_sender_loaded_for_a_command_save_their_changes(chat: Chat) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("alice", "/settings currency EUR")
    await chat.say("alice", "/profile business Roe Plumbing")
    renamed = chat.incoming("alice", "/profile")
    renamed = type(renamed)(renamed.chat, type(renamed.sender)("alice", "Alice Roe"), "/profile",
                            "d-renamed")  # fmt: skip
    answer = await chat.core.handle(renamed)
    assert answer[0].sections[0].title == "Alice Roe"
    assert "Business: Roe Plumbing" in answer[0].sections[0].lines
    async with chat.core.db.transaction() as session:
        stored = (await session.exec(select(Member.name, Member.business))).all()
    assert stored == [("Alice Roe", "Roe Plumbing")]
    assert "Currency: EUR" in await chat.text("alice", "/settings")
