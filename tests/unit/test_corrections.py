"""Correcting a mistyped won amount, withdrawing a won thanks, and the commands answers suggest."""

from __future__ import annotations

import itertools
import logging
import re
from decimal import Decimal

import pytest

from storage.tables import AuditEntry, OutboxMessage, Referral, Thanks
from tests.conftest import Chat
from tests.unit.test_grammar import counts, fast_db, template_file  # noqa: F401  (fixtures)
from tests.unit.test_reports import standings
from tests.unit.test_rules import (  # noqa: F401  (fixtures)
    TickingClock,
    all_rows,
    balance,
    payload_text,
    refused,
    setup_group,
    ticking_clock,
)


async def group_posts(chat: Chat) -> list[str]:
    rows = await all_rows(chat.core.db, OutboxMessage)
    return [payload_text(m) for m in rows if m.recipient_user_id is None]


async def told(chat: Chat, who: str) -> list[str]:
    rows = await all_rows(chat.core.db, OutboxMessage, OutboxMessage.recipient_user_id == who)
    return [payload_text(m) for m in rows]


async def exact_totals(chat: Chat, amount: str) -> None:
    """Alice (the giver) is credited `amount`, Bob (the receiver) received it, once."""
    alice, bob = await balance(chat, "alice"), await balance(chat, "bob")
    assert (alice["credited"], bob["thanked"]) == (amount, amount)
    for period in ("all", "quarter", "week"):
        (first, *_) = await standings(chat, "carol", period)
        assert (first["name"], first["credited"]) == ("Alice", amount)


async def live_amounts(chat: Chat) -> list[tuple[Decimal | None, bool]]:
    return [(t.amount, t.voided) for t in await all_rows(chat.core.db, Thanks)]


# --- /status N won <amount> on a referral already won: the receiver corrects it ----------


async def test_the_receiver_corrects_a_mistyped_won_amount(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, roof")
    won = await chat.text("bob", "/status 1 won 40,000")
    assert "$40,000.00" in won and "/status 1 won <amount>" in won  # how to correct it

    answer = await chat.text("bob", "/status 1 won 4,000")

    assert answer == (
        "Corrected: referral #1 is won with $4,000.00 of closed business credited to Alice, "
        "not $40,000.00 (thanks #2 replaces thanks #1)."
    )
    assert await live_amounts(chat) == [(Decimal("40000"), True), (Decimal("4000"), False)]
    (old, new) = await all_rows(chat.core.db, Thanks)
    assert new.referral_id == old.referral_id and new.note == "referral #1"
    audit = await all_rows(chat.core.db, AuditEntry, AuditEntry.action == "voided")
    assert [(a.entity_kind, a.entity_id, a.reason) for a in audit] == [
        ("thanks", old.id, "corrected")
    ]
    assert (await group_posts(chat))[-1] == (
        "Correction: Bob thanked Alice for closed business (referral #1): $4,000.00 "
        "(not $40,000.00)."
    )
    to_alice = (await told(chat, "alice"))[-1]
    assert "Bob corrected your referral #1: $4,000.00 credited to you (not $40,000.00)." in to_alice
    assert [r.status for r in await all_rows(chat.core.db, Referral)] == ["won"]
    await exact_totals(chat, "$4,000.00")


async def test_a_correction_applies_once(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe")
    await chat.say("bob", "/status 1 won 40,000")
    first = await chat.text("bob", "/status 1 won 4,000", delivery_id="slack-retry-1")
    again = await chat.text("bob", "/status 1 won 4,000", delivery_id="slack-retry-1")
    assert again == first and "Corrected" in first
    # typed again (a new delivery): the amount is already right, nothing more is recorded
    await refused(chat, "bob", "/status 1 won 4,000", "already won with $4,000.00")
    assert await live_amounts(chat) == [(Decimal("40000"), True), (Decimal("4000"), False)]
    assert sum("Correction" in post for post in await group_posts(chat)) == 1
    await exact_totals(chat, "$4,000.00")


async def test_only_the_receiver_corrects_and_within_24_hours(
    chat: Chat, clock: TickingClock
) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe")
    await chat.say("bob", "/status 1 won 40,000")
    await refused(chat, "alice", "/status 1 won 4,000", "only the member who received")
    await refused(chat, "carol", "/status 1 won 4,000", "only the member who received")
    clock.advance(hours=23)
    assert "Corrected" in await chat.text("bob", "/status 1 won 4,000")
    clock.advance(hours=23)  # 24 hours after the correction, 46 after the win: still in time
    assert "Corrected" in await chat.text("bob", "/status 1 won 4,500")
    clock.advance(hours=25)
    await refused(chat, "bob", "/status 1 won 5,000", "more than 24 hours", "ask a leader")
    await refused(chat, "bob", "/undo thanks 3", "last 24 hours", "ask a leader")
    await exact_totals(chat, "$4,500.00")


async def test_the_amount_of_a_referral_won_without_one_is_added(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe")
    await chat.say("bob", "/status 1 won")
    answer = await chat.text("bob", "/status 1 won 2,000")
    assert answer == (
        "Referral #1 is won: $2,000.00 of closed business credited to Alice (thanks #1)."
    )
    assert (await group_posts(chat))[-2] == (  # then Alice's $1,000 milestone
        "Bob thanked Alice for closed business: $2,000.00 (referral #1)."
    )
    await exact_totals(chat, "$2,000.00")


# --- withdrawing the won thanks puts the referral back ------------------------------------


@pytest.mark.parametrize(("before", "status"), [("", "open"), ("contacted", "contacted")])
async def test_undoing_the_won_thanks_reopens_the_referral(
    chat: Chat, before: str, status: str
) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe")
    if before:
        await chat.say("bob", f"/status 1 {before}")
    await chat.say("bob", "/status 1 won 40,000")

    answer = await chat.text("bob", "/undo")

    assert answer == (
        "Withdrawn: thanks #1. It no longer counts in any total.\n"
        f"Referral #1 is {status} again: record the right amount with /status 1 won <amount>."
    )
    assert (await group_posts(chat))[-1] == (
        "Correction: the thanks from Bob to Alice for $40,000.00 (referral #1) is withdrawn; "
        "it no longer counts in any total."
    )
    assert [r.status for r in await all_rows(chat.core.db, Referral)] == [status]
    await exact_totals(chat, "$0.00")
    assert "now won" in await chat.text("bob", "/status 1 won 4,000")
    await exact_totals(chat, "$4,000.00")
    reasons = [
        (a.action, a.entity_kind, a.reason) for a in await all_rows(chat.core.db, AuditEntry)
    ]
    assert ("voided", "thanks", "withdrawn by its author") in reasons
    assert ("status", "referral", status) in reasons


async def test_a_leader_voiding_a_won_thanks_tells_the_receiver_how_to_record_it(
    chat: Chat, clock: TickingClock
) -> None:
    await setup_group(chat)
    await chat.say("carol", "/refer @bob Jane Roe")
    await chat.say("bob", "/status 1 won 40,000")
    clock.advance(hours=30)  # too late for bob to correct it himself
    answer = await chat.text("alice", "/undo thanks 1 wrong amount, should be 4,000")
    assert "Referral #1 is open again, so Bob can record it." in answer
    assert (await told(chat, "bob"))[-1] == (
        "Alice voided your thanks #1 (wrong amount, should be 4,000).\n"
        "Referral #1 is open again: record the right amount with /status 1 won <amount>."
    )
    assert "now won" in await chat.text("bob", "/status 1 won 4,000")
    credited = (await balance(chat, "carol"))["credited"]
    assert credited == "$4,000.00"


async def test_voiding_the_referral_leaves_its_thanks_and_the_status(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("bob", "/refer @carol Jane Roe")
    await chat.say("carol", "/status 1 won 1,200")
    answer = await chat.text("bob", "/undo")  # bob, a member, withdraws his referral
    assert answer == (
        "Withdrawn: referral #1. It no longer counts in any total.\n"
        "The thanks recorded when it was won (thanks #1, $1,200.00) still counts: "
        "it is Carol's entry; ask them or a leader."
    )
    assert (await balance(chat, "bob"))["credited"] == "$1,200.00"


# --- every command an answer suggests works for the one it was suggested to ------------------

_SUGGESTED = re.compile(
    r"(?<![\w/])/[a-z0-9]+(?:[^\S\n]+\S*?[^\s.,;)])*?(?=[.,;)]+(?:\s|$)|\n|$)"
)  # a command ends where a sentence or a line does
_AMOUNTS = itertools.count(4321)


def suggested(answer: str) -> list[str]:
    """The commands written in an answer, placeholders filled in (a new amount each time)."""
    found = []
    for command in _SUGGESTED.findall(answer):
        command = command.replace("<reason>", "entered by mistake")
        found.append(command.replace("<amount>", f"{next(_AMOUNTS):,}"))
    return found


@pytest.mark.parametrize("who", ["bob", "alice"], ids=["member", "leader"])
async def test_the_commands_undo_suggests_work_for_who_gets_them(
    chat: Chat, clock: TickingClock, caplog: pytest.LogCaptureFixture, who: str
) -> None:
    await setup_group(chat)
    await chat.say("dave", "/join Baker")
    ran: list[str] = []

    async def run(sender: str, text: str) -> str:
        """Send a command; as `who`, run each command its answer suggests, as `who`."""
        answer = await chat.text(sender, text)
        if sender != who:
            return answer
        for command in suggested(answer):
            with caplog.at_level(logging.INFO, logger="referral_bot.core"):
                caplog.clear()
                result = await chat.text(who, command)
            (outcome,) = re.findall(r"outcome=(\w+)", caplog.text)
            assert outcome == "ok", (text, answer, command, result)
            ran.append(command)
        return answer

    await run(who, "/undo")
    await run("carol", f"/refer @{who} Jane Roe")  # referral #1, to who
    await run(who, "/status 1 won 40,000")  # suggests the correction: now $4,321
    await run(who, "/status 1 won")
    await run(who, "/undo")  # withdraws the won thanks: suggests recording it again
    await run(who, "/refer @carol John Doe")  # referral #2, by who
    await run("carol", "/status 2 won 1,000")
    await run(who, "/undo")  # withdraws referral #2: its thanks is carol's
    logged = await run("dave", "/onetoone @carol coffee")
    (number,) = re.findall(r"one-to-one #(\d+)", logged)
    await run(who, f"/undo onetoone {number}")  # dave's
    await run(who, "/undo referral 99")
    await run(who, "/undo referral 2")  # withdrawn already
    await run(who, "/status 99 won")
    await run("carol", f"/refer @{who} Jim Poe")  # referral #3
    await run(who, "/status 3 won 500")
    clock.advance(hours=25)
    await run(who, "/status 3 won 600")  # too late to correct it alone
    await run(who, "/status 3 contacted")

    assert {c.rsplit(" ", 1)[0] for c in ran} >= {"/status 1 won", "/status 3 won"}
    if who == "alice":
        assert any(c.startswith("/undo thanks") for c in ran)
        assert f"/undo onetoone {number} entered twice" in ran
    await exact_or_none(chat)


async def exact_or_none(chat: Chat) -> None:
    """After the corrections no thanks counts twice: one live thanks per won referral."""
    live = [t for t in await all_rows(chat.core.db, Thanks) if not t.voided]
    referral_ids = [t.referral_id for t in live if t.referral_id is not None]
    assert len(referral_ids) == len(set(referral_ids))


# --- one way of naming entries ---------------------------------------------------------------


async def test_answers_name_entries_as_kind_and_number(chat: Chat) -> None:
    await setup_group(chat)
    assert "(thanks #1)" in await chat.text("bob", "/thanks @carol 100")
    assert "(thanks #2)" in await chat.text("bob", "/thanks @carol well done")
    assert "(one-to-one #1)" in await chat.text("bob", "/onetoone @carol coffee")
    assert "(visitor #1)" in await chat.text("bob", "/visitor Jane Roe, Roe Catering")
    # what is shown is what /undo takes
    assert "Withdrawn: visitor #1." in await chat.text("bob", "/undo visitor #1")
    assert "Withdrawn: one-to-one #1." in await chat.text("bob", "/undo one-to-one #1")
    assert "Withdrawn: thanks #2." in await chat.text("bob", "/undo thanks #2")
    await refused(chat, "bob", "/undo thanks #2", "Thanks #2 is already withdrawn")
    await refused(chat, "bob", "/undo one-to-one 7", "There is no one-to-one #7")


async def test_referrals_offer_only_the_moves_possible_from_its_status(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe")
    await chat.say("alice", "/refer @bob John Doe")
    await chat.say("bob", "/status 2 contacted")
    (answer,) = await chat.say("bob", "/referrals")
    assert [b.label for b in answer.buttons] == [
        "Contacted #1", "Won #1", "Lost #1", "Won #2", "Lost #2",
    ]  # fmt: skip
