"""Milestones through the core, on both databases: a member's first referral and every
10th, each closed-business threshold in the group's currency, told once in the group with
the entry that reaches it, and not again when reached again after a void."""

from __future__ import annotations

from sqlmodel import col

from storage.tables import OutboxMessage, PostClaim
from tests.conftest import Chat
from tests.unit.test_rules import all_rows, payload_text

PROSPECT = "Jane Roe, 555-0100, new roof"


async def group_notices(chat: Chat, *starts: str) -> list[str]:
    rows = await all_rows(
        chat.core.db, OutboxMessage, col(OutboxMessage.recipient_user_id).is_(None)
    )
    texts = [payload_text(r) for r in rows]
    return [t for t in texts if t.startswith(starts)] if starts else texts


async def members(chat: Chat) -> None:
    await chat.say("alice", "/join Plumber")  # the first: a leader
    await chat.say("bob", "/join Roofer")


async def test_first_and_every_tenth_referral_once_even_after_a_void(chat: Chat) -> None:
    await members(chat)
    await chat.say("alice", f"/refer @bob {PROSPECT}")
    assert await group_notices(chat, "Alice gave") == [
        "Alice gave their first referral. Welcome to the givers!"
    ]
    await chat.say("alice", "/undo")  # voided: taken back from nobody, and not told again
    await chat.say("alice", f"/refer @bob {PROSPECT}")
    assert len(await group_notices(chat, "Alice gave")) == 1
    for _ in range(9):
        await chat.say("alice", f"/refer @bob {PROSPECT}")
    tenth = "Alice gave their 10th referral. Thank you!"
    assert await group_notices(chat, "Alice gave") == [
        "Alice gave their first referral. Welcome to the givers!", tenth,
    ]  # fmt: skip
    await chat.say("alice", "/undo")  # back to 9, then 10 again: no second notice
    await chat.say("alice", f"/refer @bob {PROSPECT}")
    assert (await group_notices(chat, "Alice gave")).count(tenth) == 1
    claims = await all_rows(chat.core.db, PostClaim, col(PostClaim.kind) == "milestone")
    assert sorted(c.occurrence for c in claims) == ["1:referrals:1", "1:referrals:10"]
    assert not any(PROSPECT in t or "555-0100" in t for t in await group_notices(chat))


async def test_closed_business_thresholds_in_the_groups_currency(chat: Chat) -> None:
    await members(chat)
    await chat.say("alice", "/settings currency EUR")
    assert "Milestones: €1,000.00 €10,000.00 €100,000.00" in await chat.text("alice", "/settings")
    await chat.say("bob", "/thanks @alice 999.99")
    assert await group_notices(chat, "Alice passed €", "Alice passed $") == []
    await chat.say("bob", "/thanks @alice 0.01")  # exactly 1,000.00: reached
    assert await group_notices(chat, "Alice passed €", "Alice passed $") == [
        "Alice passed €1,000.00 of closed business credited to them. Congratulations!"
    ]
    await chat.say("bob", "/undo")  # under again, then past again: told once
    await chat.say("bob", "/thanks @alice 5")
    assert len(await group_notices(chat, "Alice passed €", "Alice passed $")) == 1
    await chat.say("bob", "/thanks @alice 150,000")  # past two at once: the highest told
    assert (await group_notices(chat, "Alice passed €", "Alice passed $"))[-1] == (
        "Alice passed €100,000.00 of closed business credited to them. Congratulations!"
    )
    claims = await all_rows(chat.core.db, PostClaim, col(PostClaim.kind) == "milestone")
    assert sorted(c.occurrence for c in claims) == [
        "1:business:1000", "1:business:10000", "1:business:100000",
    ]  # fmt: skip


async def test_a_won_referral_credits_the_giver_and_recognition_off_tells_nothing(
    chat: Chat,
) -> None:
    await members(chat)
    await chat.say("bob", f"/refer @alice {PROSPECT}")
    await chat.say("alice", "/status 1 won 1,200")
    assert await group_notices(chat, "Bob passed $") == [
        "Bob passed $1,000.00 of closed business credited to them. Congratulations!"
    ]
    await chat.say("alice", "/settings recognition off")
    await chat.say("alice", f"/refer @bob {PROSPECT}")  # Alice's first: not told
    await chat.say("alice", "/thanks @bob 20,000")
    assert await group_notices(chat, "Alice gave", "Bob passed $10") == []


async def test_custom_thresholds(chat: Chat) -> None:
    await members(chat)
    answer = await chat.text("alice", "/settings milestones 250 500.50")
    assert "Milestones: $250.00 $500.50" in answer
    await chat.say("bob", "/thanks @alice 500.50")
    assert await group_notices(chat, "Alice passed €", "Alice passed $") == [
        "Alice passed $500.50 of closed business credited to them. Congratulations!"
    ]
