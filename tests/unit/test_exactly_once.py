"""A platform may deliver the same request twice: it is recorded once and answered the same."""

from __future__ import annotations

import pytest

from bot.messages import Platform
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
    assert len(await all_rows(chat.core.db, OutboxMessage)) == outbox + 2  # bob, and the group
    assert await chat.say("alice", "/refer @bob Jane Roe, 555-0100", delivery_id="tg-77") == first
    assert len(await all_rows(chat.core.db, OutboxMessage)) == outbox + 2
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
