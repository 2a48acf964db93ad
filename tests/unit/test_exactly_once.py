"""A platform may deliver the same request twice: it is recorded once and answered the same."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import update
from sqlmodel import col

from bot.messages import Audience, Incoming, Platform
from storage import outbox
from storage.tables import Delivery, OutboxMessage, Referral
from tests.conftest import Chat
from tests.unit.test_grammar import counts, fast_db, template_file  # noqa: F401  (fixtures)
from tests.unit.test_rules import all_rows, setup_group, ticking_clock  # noqa: F401

RECORDING = [
    "/refer @bob Jane Roe, 555-0100, new roof hot",
    "/thanks @bob 2,500.50 kitchen",
    "/thanks @bob great intro",
    "/onetoone @bob coffee",
    "/visitor Jane Roe, Roe Catering",
    "/join Baker",
    "/profile business Doe Ltd",
    "/settings timezone Europe/London",
    "/settings leader @bob",
    "/meeting set mon 07:00",
]
# Read-only commands (/balance, /leaderboard, ...) keep no delivery id: a redelivery reads
# the ledger again (tests/unit/test_service.py).


@pytest.mark.parametrize("text", RECORDING)
async def test_a_redelivery_is_recorded_once_and_answered_the_same(chat: Chat, text: str) -> None:
    await setup_group(chat)
    before = await counts(chat.core.db)
    first = await chat.say("alice", text, delivery_id="ev-1")
    after = await counts(chat.core.db)
    assert after["deliveries"] == before["deliveries"] + 1
    for _ in range(3):
        assert await chat.say("alice", text, delivery_id="ev-1") == first
        assert await counts(chat.core.db) == after


async def test_a_redelivered_refer_enqueues_one_message_each(chat: Chat) -> None:
    await setup_group(chat)
    outbox = len(await all_rows(chat.core.db, OutboxMessage))
    first = await chat.say("alice", "/refer @bob Jane Roe, 555-0100", delivery_id="tg-77")
    # bob, the group, and the group's notice of Alice's first referral
    assert len(await all_rows(chat.core.db, OutboxMessage)) == outbox + 3
    assert await chat.say("alice", "/refer @bob Jane Roe, 555-0100", delivery_id="tg-77") == first
    assert len(await all_rows(chat.core.db, OutboxMessage)) == outbox + 3
    assert [r.number for r in await all_rows(chat.core.db, Referral)] == [1]
    # a new delivery of the same text is a second referral
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100", delivery_id="tg-78")
    assert [r.number for r in await all_rows(chat.core.db, Referral)] == [1, 2]


@pytest.mark.parametrize(
    "text", ["/thanks @bob $abc", "/refer bob x", "/status 1 finished", "/frobnicate", ""]
)
async def test_a_redelivered_malformed_command_gets_the_same_error(chat: Chat, text: str) -> None:
    first = await chat.say("alice", text, delivery_id="ev-9")
    assert await chat.say("alice", text, delivery_id="ev-9") == first
    assert set((await counts(chat.core.db)).values()) == {0}
    await setup_group(chat)
    before = await counts(chat.core.db)
    first = await chat.say("alice", text, delivery_id="ev-10")
    assert await chat.say("alice", text, delivery_id="ev-10") == first
    assert await counts(chat.core.db) == before


async def test_a_redelivered_refusal_gets_the_same_refusal(chat: Chat) -> None:
    await setup_group(chat)
    before = await counts(chat.core.db)
    first = await chat.say("bob", "/settings nudges off", delivery_id="r-1")
    assert "only the group's leaders" in first[0].text.lower()
    assert await chat.say("bob", "/settings nudges off", delivery_id="r-1") == first
    assert await counts(chat.core.db) == before


async def test_a_redelivered_undo_withdraws_only_one_entry(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob first")
    await chat.say("alice", "/refer @bob second")
    first = await chat.say("alice", "/undo", delivery_id="undo-1")
    assert "referral #2" in first[0].text
    assert await chat.say("alice", "/undo", delivery_id="undo-1") == first
    voided = {r.number: r.voided for r in await all_rows(chat.core.db, Referral)}
    assert voided == {1: False, 2: True}


async def test_a_redelivered_status_move_is_not_refused(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe")
    first = await chat.say("bob", "/status 1 won 400", delivery_id="btn-1")
    assert "now won" in first[0].text
    assert await chat.say("bob", "/status 1 won 400", delivery_id="btn-1") == first
    rows = await counts(chat.core.db)
    assert rows["thanks"] == 1


async def test_the_same_id_on_another_platform_is_another_delivery(chat: Chat) -> None:
    await setup_group(chat)
    telegram = Chat(chat.core, chat_id="-100123", platform=Platform.TELEGRAM)
    await telegram.say("tom", "/join Plumber", delivery_id="42")
    await telegram.say("ann", "/join Roofer", delivery_id="43")
    await chat.say("alice", "/refer @bob console", delivery_id="500")
    await telegram.say("tom", "/refer @ann telegram", delivery_id="500")
    assert len(await all_rows(chat.core.db, Referral)) == 2
    keys = [d.key for d in await all_rows(chat.core.db, Delivery)]
    assert len(keys) == len(set(keys))


def not_in_place(chat: Chat, who: str, text: str, delivery_id: str) -> Incoming:
    """A message from a chat where no answer is only the sender's (a Telegram group)."""
    found = chat.incoming(who, text, delivery_id=delivery_id)
    return replace(found, chat=replace(found.chat, private_in_place=False))


async def private_rows(chat: Chat, who: str) -> list[OutboxMessage]:
    rows = await all_rows(chat.core.db, OutboxMessage, col(OutboxMessage.recipient_user_id) == who)
    return [row for row in rows if row.payload]


@pytest.mark.parametrize("text", ["/balance", "/refer @bob Jane Roe, 555-0100, roof"])
async def test_answers_not_shown_in_place_are_queued_once(chat: Chat, text: str) -> None:
    """The answer goes to the sender's private chat through the outbox, with the command:
    a redelivery (a read's too) queues nothing more and answers nothing in place."""
    await setup_group(chat)
    for _ in range(2):
        assert await chat.core.handle(not_in_place(chat, "alice", text, "tg-90")) == []
    [answer] = await private_rows(chat, "alice")
    data = json.loads(answer.payload)
    assert data["audience"] == "member" and data["member_id"] is not None
    assert ("Balance of Alice" if text == "/balance" else "Referral #1") in data["text"]


async def test_answers_that_record_nothing_are_returned_to_send_privately(chat: Chat) -> None:
    await setup_group(chat)
    before = len(await all_rows(chat.core.db, OutboxMessage))
    for text in ("/thanks @bob $abc", "/status 9 won", "/help"):
        [reply] = await chat.core.handle(not_in_place(chat, "bob", text, f"tg-{text}"))
        assert reply.audience is Audience.SENDER
    assert len(await all_rows(chat.core.db, OutboxMessage)) == before


async def hold(chat: Chat, who: str, code: str) -> None:
    async with chat.core.db.transaction() as session:
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.recipient_user_id) == who)
            .values(status=outbox.HELD, hold_code=code)
        )


async def test_start_releases_the_senders_held_messages_once(chat: Chat) -> None:
    await setup_group(chat)
    await chat.core.handle(not_in_place(chat, "bob", "/balance", "tg-1"))
    await chat.core.handle(not_in_place(chat, "carol", "/balance", "tg-2"))
    await hold(chat, "bob", "code-of-bob")
    await hold(chat, "carol", "code-of-carol")

    def start(who: str, code: str | None, delivery: str) -> Incoming:
        return chat.incoming(who, f"/start {code or ''}".strip(), delivery, private=True)

    [other] = await chat.core.opened(start("carol", "code-of-bob", "s1"), "code-of-bob")
    assert "someone else" in other.text  # somebody else's code releases nothing
    assert [r.status for r in await private_rows(chat, "bob")] == ["held"]
    [here] = await chat.core.opened(start("bob", "code-of-bob", "s2"), "code-of-bob")
    assert here.text == "Here it is:"
    [row] = await private_rows(chat, "bob")
    assert (row.status, row.hold_code) == ("pending", None)
    again = await chat.core.opened(start("bob", "code-of-bob", "s2"), "code-of-bob")
    assert [r.text for r in again] == ["Here it is:"]  # the same Start again: the same answer
    [used] = await chat.core.opened(start("bob", "code-of-bob", "s3"), "code-of-bob")
    assert "used already" in used.text
    *help_replies, kept = await chat.core.opened(start("carol", None, "s4"), None)
    assert help_replies[0].text.startswith("Referral bot") and "kept 1 private" in kept.text
    assert [r.status for r in await private_rows(chat, "carol")] == ["pending"]
