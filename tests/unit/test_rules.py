"""The rules of the ledger, through the chat: who may record, move, void and change what."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from bot.messages import Audience
from bot.service import Core
from storage.database import Database
from storage.tables import AuditEntry, Group, Member, OutboxMessage, Referral, Thanks
from tests.conftest import Chat, Clock
from tests.unit.test_grammar import counts, fast_db, template_file  # noqa: F401  (fixtures)


class TickingClock(Clock):
    """A settable clock that moves one second on each reading, as real time would."""

    def __call__(self) -> Any:
        now = self.now
        self.now += timedelta(seconds=1)
        return now


@pytest.fixture(name="clock")
def ticking_clock() -> TickingClock:
    return TickingClock()


async def all_rows(database: Database, model: Any, *where: Any) -> list[Any]:
    async with database.transaction() as session:
        order = model.__table__.primary_key.columns
        return list((await session.exec(select(model).where(*where).order_by(*order))).all())


def payload_text(message: OutboxMessage) -> str:
    """Everything a member would read in an outbox message."""
    data = json.loads(message.payload)
    lines = [data["text"]]
    for section in data["sections"]:
        lines += [section["title"], *section["lines"]]
    return "\n".join(lines)


_BALANCE = re.compile(
    r"^(?P<label>[^\n:]+): (?P<given>\d+) given / (?P<received>\d+) received \(net [+-]?\d+\)"
    r" · (?P<credited>.+?) closed business credited"
    r" · (?P<thanked>.+?) closed business (?:you|they) received"
    r" · (?P<one_to_ones>\d+) one-to-ones? · (?P<visitors>\d+) visitors?"
    r" · (?P<ceus>\d+) CEUs?$",
    re.MULTILINE,
)


def balance_lines(answer: str) -> dict[str, dict[str, str]]:
    """The figures of a /balance answer, by period label ("All time", "Q4 2026", ...)."""
    found = {m["label"]: m.groupdict() for m in _BALANCE.finditer(answer)}
    assert found, answer
    return found


async def balance(chat: Chat, who: str, args: str = "all") -> dict[str, str]:
    """The figures of one member's /balance for one period."""
    (figures,) = balance_lines(await chat.text(who, f"/balance {args}".strip())).values()
    return figures


async def setup_group(chat: Chat) -> None:
    """alice (the founder, so a leader), bob and carol, each with a classification."""
    assert "Welcome" in await chat.text("alice", "/join Plumber")
    assert "Welcome" in await chat.text("bob", "/join Roofer")
    assert "Welcome" in await chat.text("carol", "/join Accountant")


async def refused(chat: Chat, who: str, text: str, *fragments: str, **kwargs: Any) -> str:
    """Send a command that must be refused: one private answer, nothing recorded."""
    before = await counts(chat.core.db)
    replies = await chat.say(who, text, **kwargs)
    assert [r.audience for r in replies] == [Audience.SENDER], replies
    answer = replies[0].text
    for fragment in fragments:
        assert fragment.lower() in answer.lower(), answer
    assert await counts(chat.core.db) == before
    return answer


# --- nothing with oneself ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "/refer @alice Jane Roe, 555-0100, new roof",
        "/refer @ALICE Jane Roe",
        "/refer <@alice> Jane Roe",
        "/thanks @alice 100",
        "/thanks @alice well done",
        "/onetoone @alice coffee",
        "/121 @alice",
    ],
)
async def test_nothing_with_oneself(chat: Chat, text: str) -> None:
    await setup_group(chat)
    await refused(chat, "alice", text, "yourself")


# --- classifications -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["/join Plumber", "/join plumber", "/join PLUMBER", "/join  pLuMbEr ",
             "/profile classification plumber", "/profile classification Plumber business X"],
)  # fmt: skip
async def test_one_member_per_classification(chat: Chat, text: str) -> None:
    await setup_group(chat)
    await refused(chat, "dave", text, "Alice", "Plumber", "one member per classification")
    await refused(chat, "bob", text, "Alice", "one member per classification")
    bob = (await all_rows(chat.core.db, Member, Member.platform_user_id == "bob"))[0]
    assert bob.classification == "Roofer"


async def test_a_member_may_rewrite_their_own_classification(chat: Chat) -> None:
    await setup_group(chat)
    assert "classification is now plumber" in await chat.text("alice", "/join plumber")
    assert "Profile updated" in await chat.text("bob", "/profile classification Roofing")
    # the old classification is free again
    assert "Welcome" in await chat.text("dave", "/join roofer")


# --- referrals move forward, by their receiver ---------------------------------------------


async def statuses(database: Database) -> dict[int, str]:
    return {r.number: r.status for r in await all_rows(database, Referral)}


async def test_only_the_receiver_moves_a_referral_and_only_forward(chat: Chat) -> None:
    await setup_group(chat)
    for _ in range(3):
        assert "recorded" in await chat.text("alice", "/refer @bob Jane Roe, 555-0100, roof")
    db = chat.core.db

    await refused(chat, "alice", "/status 1 contacted", "only the member who received")
    await refused(chat, "carol", "/status 1 won 100", "only the member who received")
    await refused(chat, "dave", "/status 1 lost", "only the member who received")
    assert await statuses(db) == {1: "open", 2: "open", 3: "open"}

    assert "now contacted" in await chat.text("bob", "/status 1 contacted")
    await refused(chat, "bob", "/status 1 contacted", "already contacted", "only moves forward")
    assert "now won" in await chat.text("bob", "/status 1 won")
    await refused(chat, "bob", "/status 1 contacted", "already won")
    await refused(chat, "bob", "/status 1 lost", "already won")
    await refused(chat, "bob", "/status 1 won", "already won")

    assert "now lost" in await chat.text("bob", "/status #2 lost")
    await refused(chat, "bob", "/status 2 won", "already lost")
    await refused(chat, "bob", "/status 2 contacted", "already lost")

    assert "now won" in await chat.text("bob", "/status 3 won")  # open -> won directly
    await refused(chat, "bob", "/status 4 contacted", "no referral #4")
    assert await statuses(db) == {1: "won", 2: "lost", 3: "won"}


async def test_the_giver_is_told_privately_of_each_move(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, roof")
    await chat.say("bob", "/status 1 contacted")
    told = await all_rows(chat.core.db, OutboxMessage, OutboxMessage.recipient_user_id == "alice")
    assert len(told) == 1
    assert "moved your referral #1 to contacted" in payload_text(told[0])


async def test_won_with_an_amount_thanks_the_giver(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, roof")
    answer = await chat.text("bob", "/status 1 won 2,500.50")
    assert "$2,500.50" in answer and "Alice" in answer
    db = chat.core.db
    (thanks,) = await all_rows(db, Thanks)
    members = {m.platform_user_id: m.id for m in await all_rows(db, Member)}
    referral = (await all_rows(db, Referral))[0]
    assert (thanks.from_id, thanks.to_id) == (members["bob"], members["alice"])
    assert thanks.amount == Decimal("2500.50")
    assert thanks.referral_id == referral.id and thanks.currency == "USD"

    for alice in balance_lines(await chat.text("alice", "/balance")).values():
        assert (alice["given"], alice["credited"], alice["thanked"]) == ("1", "$2,500.50", "$0.00")
    for bob in balance_lines(await chat.text("bob", "/balance")).values():
        assert (bob["received"], bob["credited"], bob["thanked"]) == ("1", "$0.00", "$2,500.50")

    told = await all_rows(db, OutboxMessage, OutboxMessage.recipient_user_id == "alice")
    assert len(told) == 1
    assert "won your referral #1" in payload_text(told[0])
    assert "$2,500.50" in payload_text(told[0])


async def test_won_without_an_amount_records_no_thanks(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe")
    await chat.say("bob", "/status 1 won")
    assert await all_rows(chat.core.db, Thanks) == []
    assert (await balance(chat, "alice"))["credited"] == "$0.00"


# --- /undo -------------------------------------------------------------------------------


async def test_undo_withdraws_the_callers_own_last_entries(chat: Chat, clock: Clock) -> None:
    await setup_group(chat)
    await chat.say("bob", "/thanks @carol 100")
    await chat.say("bob", "/onetoone @carol coffee")
    await chat.say("bob", "/visitor Jane Roe, Roe Catering")
    await chat.say("bob", "/refer @carol Jane Roe")
    await chat.say("carol", "/refer @bob John Doe")  # carol's, newer: not bob's to withdraw
    assert "Withdrawn: referral #1" in await chat.text("bob", "/undo")
    assert "Withdrawn: visitor #1" in await chat.text("bob", "/undo")
    assert "Withdrawn: one-to-one #1" in await chat.text("bob", "/undo")
    assert "Withdrawn: thanks #1" in await chat.text("bob", "/undo")
    await refused(chat, "bob", "/undo", "no entry from the last 24 hours")
    referrals = await all_rows(chat.core.db, Referral)
    assert {r.number: r.voided for r in referrals} == {1: True, 2: False}


async def test_undo_only_within_24_hours(chat: Chat, clock: Clock) -> None:
    await setup_group(chat)
    await chat.say("bob", "/thanks @carol 100")
    clock.advance(hours=23)
    await chat.say("bob", "/refer @carol Jane Roe")
    clock.advance(hours=2)  # the thanks is now 25 hours old, the referral 2
    assert "Withdrawn: referral #1" in await chat.text("bob", "/undo")
    await refused(chat, "bob", "/undo", "no entry from the last 24 hours")
    await refused(chat, "bob", "/undo thanks 1", "last 24 hours", "ask a leader")
    clock.advance(hours=25)
    await chat.say("bob", "/visitor Jane Roe")
    clock.advance(hours=25)
    await refused(chat, "bob", "/undo", "no entry from the last 24 hours")
    await refused(chat, "bob", "/undo visitor 1", "last 24 hours")
    # a leader still can, with a reason
    assert "Withdrawn: thanks #1" in await chat.text("alice", "/undo thanks 1 entered by mistake")


async def test_leaders_void_any_entry_with_a_reason(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("bob", "/refer @carol Jane Roe")
    await chat.say("bob", "/thanks @carol 250")
    bob = await balance(chat, "bob")
    assert (bob["given"], bob["thanked"]) == ("1", "$250.00")

    await refused(chat, "alice", "/undo referral 1", "give a reason")
    await refused(chat, "carol", "/undo referral 1 duplicate", "only withdraw your own")
    await refused(chat, "carol", "/undo thanks 1 duplicate", "only withdraw your own")
    assert "Withdrawn: referral #1" in await chat.text("alice", "/undo referral 1 duplicate")
    assert "Withdrawn: thanks #1" in await chat.text("alice", "/undo thanks 1 wrong group")
    await refused(chat, "alice", "/undo referral 1 again", "Referral #1 is already withdrawn")

    bob = await balance(chat, "bob")
    assert (bob["given"], bob["thanked"]) == ("0", "$0.00")
    carol = await balance(chat, "carol")
    assert (carol["received"], carol["credited"]) == ("0", "$0.00")
    # the entries stay, marked voided, with who voided them, when and why
    db = chat.core.db
    assert [r.voided for r in await all_rows(db, Referral)] == [True]
    assert [t.voided for t in await all_rows(db, Thanks)] == [True]
    alice = (await all_rows(db, Member, Member.platform_user_id == "alice"))[0]
    audit = await all_rows(db, AuditEntry, AuditEntry.action == "voided")
    assert sorted((a.entity_kind, a.reason, a.actor_id) for a in audit) == [
        ("referral", "duplicate", alice.id),
        ("thanks", "wrong group", alice.id),
    ]
    # a voided referral can no longer be moved
    await refused(chat, "carol", "/status 1 contacted", "no referral #1")


async def test_those_an_entry_concerned_are_told_it_was_withdrawn(chat: Chat) -> None:
    await setup_group(chat)
    db = chat.core.db
    await chat.say("bob", "/refer @carol Jane Roe, 555-0100")
    await chat.say("bob", "/thanks @carol 250")
    before = len(await all_rows(db, OutboxMessage))

    await chat.say("alice", "/undo referral 1 entered twice")  # a leader voids bob's entry
    await chat.say("bob", "/undo thanks 1")  # bob withdraws his own

    told = [
        (m.recipient_user_id, payload_text(m)) for m in (await all_rows(db, OutboxMessage))[before:]
    ]
    assert told == [
        ("bob", "Alice voided your referral #1 (entered twice)."),
        ("carol", "Alice withdrew referral #1, which concerned you (entered twice). "
                  "It no longer counts in any total."),
        (None, "Correction: the thanks from Bob to Carol for $250.00 is withdrawn; "
               "it no longer counts in any total."),  # the group saw the amount
        ("carol", "Bob withdrew thanks #1, which concerned you. It no longer counts in any total."),
    ]  # fmt: skip
    assert not any("555-0100" in text for _, text in told)  # the prospect is not repeated


async def test_voiding_a_won_referral_points_at_its_thanks(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("bob", "/refer @carol Jane Roe")
    await chat.say("carol", "/status 1 won 1,200")

    answer = await chat.text("alice", "/undo referral 1 duplicate of #2")

    assert "Withdrawn: referral #1" in answer
    assert "thanks #1, $1,200.00) still counts" in answer
    assert "/undo thanks 1 <reason>" in answer
    bob = await balance(chat, "bob")
    assert (bob["given"], bob["credited"]) == ("0", "$1,200.00")  # the thanks stays
    assert "Withdrawn: thanks #1" in await chat.text("alice", "/undo thanks 1 duplicate of #2")
    assert (await balance(chat, "bob"))["credited"] == "$0.00"


async def test_a_member_cannot_void_someone_elses_entry(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe")
    await chat.say("alice", "/onetoone @bob")
    await refused(chat, "bob", "/undo referral 1 not mine", "only withdraw your own")
    await refused(chat, "bob", "/undo onetoone 1 not mine", "only withdraw your own")
    await refused(chat, "bob", "/undo", "no entry")
    assert [r.voided for r in await all_rows(chat.core.db, Referral)] == [False]


# --- leaders -------------------------------------------------------------------------------

LEADER_ONLY = [
    "/settings timezone Europe/London",
    "/settings currency EUR",
    "/settings reminders 2h",
    "/settings reminders off",
    "/settings leaderboard fri 16:00",
    "/settings recognition off",
    "/settings nudges off",
    "/settings milestones 100 200",
    "/settings leader @bob",
    "/settings member @alice",
    "/meeting set mon 07:00",
    "/meeting set mon 07:00 Europe/London Town Hall",
    "/meeting off",
    "/meeting attendance @alice present",
]


@pytest.mark.parametrize("text", LEADER_ONLY)
async def test_leader_only_commands_refuse_members(chat: Chat, text: str) -> None:
    await setup_group(chat)
    assert "Meetings are every Tuesday" in await chat.text("alice", "/meeting set tue 07:00")
    settings = await chat.text("bob", "/settings")
    await refused(chat, "bob", text, "only the group's leaders")
    await refused(chat, "dave", text, "only the group's leaders")  # not even a member yet
    assert await chat.text("bob", "/settings") == settings


async def test_the_first_member_is_the_leader(chat: Chat) -> None:
    await chat.say("bob", "/visitor Jane Roe")  # recording something makes a member
    await chat.say("alice", "/join Plumber")
    roster = await chat.text("alice", "/members")
    assert "Bob (no classification) · leader" in roster
    assert "Alice (Plumber)" in roster and "Alice (Plumber) · leader" not in roster
    assert "Changed" in await chat.text("bob", "/settings nudges off")
    await refused(chat, "alice", "/settings nudges on", "only the group's leaders")


async def test_a_chat_admin_is_a_leader(core: Core) -> None:
    chat = Chat(core, admins={"carol"})
    await setup_group(chat)
    assert "Changed. Timezone: Europe/London" in await chat.text(
        "carol", "/settings timezone Europe/London"
    )
    await chat.say("bob", "/refer @alice Jane Roe")
    assert "Withdrawn" in await chat.text("carol", "/undo referral 1 duplicate")
    await refused(chat, "bob", "/settings timezone UTC", "only the group's leaders")


async def test_naming_a_leader_and_the_last_leader(chat: Chat) -> None:
    await setup_group(chat)
    await refused(chat, "alice", "/settings member @alice", "only leader")
    await refused(chat, "bob", "/settings leader @bob", "only the group's leaders")

    replies = await chat.say("alice", "/settings leader @bob")
    assert replies[0].text == "Bob is now a leader of chapter."
    posts = await all_rows(chat.core.db, OutboxMessage)
    assert any("Bob is now a leader" in payload_text(p) for p in posts)
    assert "Changed" in await chat.text("bob", "/settings recognition off")
    assert "Bob is no longer a leader" in await chat.text("alice", "/settings member @bob")
    await refused(chat, "bob", "/settings recognition on", "only the group's leaders")

    await chat.say("alice", "/settings leader @carol")
    assert "Alice is no longer a leader" in await chat.text("carol", "/settings member @alice")
    await refused(chat, "carol", "/settings member @carol", "only leader")
    await refused(chat, "carol", "/settings member <@carol>", "only leader")
    roles = {m.platform_user_id: m.role for m in await all_rows(chat.core.db, Member)}
    assert roles == {"alice": "member", "bob": "member", "carol": "leader"}


# --- privacy -------------------------------------------------------------------------------

PROSPECT = "Jane Roe, 555-0100, jane@example.com, needs a new roof"


async def test_the_prospect_goes_only_to_the_receiver(chat: Chat) -> None:
    await setup_group(chat)
    welcomes = len(await all_rows(chat.core.db, OutboxMessage))
    replies = await chat.say("alice", f"/refer @bob {PROSPECT} hot")
    assert [r.audience for r in replies] == [Audience.SENDER]
    db = chat.core.db

    def mentions_prospect(message: OutboxMessage) -> bool:
        shown = payload_text(message)
        return any(part in shown for part in ("Jane Roe", "555-0100", "jane@example.com", "roof"))

    outbox = (await all_rows(db, OutboxMessage))[welcomes:]
    assert [m.recipient_user_id for m in outbox if mentions_prospect(m)] == ["bob"]
    group_posts = [m for m in outbox if m.recipient_user_id is None]
    assert len(group_posts) == 2
    assert payload_text(group_posts[0]) == "Alice passed a referral to Bob (hot)."
    assert payload_text(group_posts[1]).startswith("Alice gave their first referral")
    (to_bob,) = [m for m in outbox if m.recipient_user_id == "bob"]
    assert PROSPECT in payload_text(to_bob)

    # moving it on and thanking keeps it out of the group's chat too
    await chat.say("bob", "/status 1 contacted")
    await chat.say("bob", "/status 1 won 1,200")
    await chat.say("alice", "/referrals")
    outbox = (await all_rows(db, OutboxMessage))[welcomes:]
    group_posts = [m for m in outbox if m.recipient_user_id is None]
    assert len(group_posts) == 4  # and the thanks, and Alice's $1,000 milestone
    assert not any(mentions_prospect(m) for m in group_posts)
    assert {m.recipient_user_id for m in outbox if mentions_prospect(m)} == {"alice", "bob"}


async def test_sql_and_markup_are_kept_as_plain_text(chat: Chat) -> None:
    await setup_group(chat)
    prospect = "Robert'); DROP TABLE referrals; -- <!channel> <script>alert(1)</script>"
    assert "Referral #1" in await chat.text("alice", f"/refer @bob {prospect}")
    (referral,) = await all_rows(chat.core.db, Referral)
    assert referral.prospect == prospect
    to_bob = await all_rows(chat.core.db, OutboxMessage, OutboxMessage.recipient_user_id == "bob")
    assert len(to_bob) == 1
    assert prospect in payload_text(to_bob[0])


# --- groups are separate -------------------------------------------------------------------


async def test_groups_are_isolated(core: Core) -> None:
    a, b = Chat(core, chat_id="A"), Chat(core, chat_id="B")
    await a.say("alice", "/join Plumber")
    await a.say("bob", "/join Roofer")
    await a.say("alice", "/refer @bob Prospect in A")
    await b.say("carol", "/join Plumber")  # the same classification, another group: fine
    await b.say("dave", "/join Roofer")
    await b.say("carol", "/refer @dave First prospect in B")
    await b.say("carol", "/refer @dave Second prospect in B")
    await b.say("dave", "/thanks @carol 500")
    db = core.db

    # A's numbering is A's own: #2 does not exist there, #1 is A's referral
    await refused(a, "bob", "/status 2 contacted", "no referral #2 in this group")
    assert "Referral #1 is now contacted" in await a.text("bob", "/status 1 contacted")
    await refused(a, "dave", "/status 1 won 100", "only the member who received")
    await refused(a, "alice", "/undo referral 2 duplicate", "no referral #2")
    b_thanks = (await all_rows(db, Thanks))[0]
    await refused(a, "alice", f"/undo thanks {b_thanks.id} duplicate", f"no thanks #{b_thanks.id}")
    await refused(a, "alice", "/balance @dave", "no member called @dave")
    await refused(a, "alice", "/thanks @carol 5", "no member called @carol")

    groups = {g.chat_id: g.id for g in await all_rows(db, Group)}
    by_number = {(r.group_id, r.number): r.status for r in await all_rows(db, Referral)}
    assert by_number == {
        (groups["A"], 1): "contacted",
        (groups["B"], 1): "open",
        (groups["B"], 2): "open",
    }
    roster_a = await a.text("alice", "/members")
    assert "2 members" in roster_a and "Carol" not in roster_a and "Dave" not in roster_a
    assert "Prospect in A" in await a.text("bob", "/referrals")
    assert "B" not in (await a.text("bob", "/referrals")).replace("Bob", "")
    board_a = await a.text("alice", "/leaderboard")
    assert "Alice" in board_a and "Carol" not in board_a and "$500" not in board_a
    # alice joining B makes her a member there, not a leader
    await b.say("alice", "/join Baker")
    await refused(b, "alice", "/settings timezone Europe/London", "only the group's leaders")


async def test_a_private_chat_resolves_to_the_users_only_group(core: Core) -> None:
    a, b = Chat(core, chat_id="A"), Chat(core, chat_id="B")
    await a.say("alice", "/join Plumber")
    await a.say("bob", "/join Roofer")

    assert "Balance of Alice" in await a.text("alice", "/balance", private=True)
    assert "Referral #1 to Bob" in await a.text("alice", "/refer @bob Jane Roe", private=True)
    groups = await all_rows(core.db, Group)
    assert [g.chat_id for g in groups] == ["A"]
    posts = await all_rows(core.db, OutboxMessage, col(OutboxMessage.recipient_user_id).is_(None))
    (notice,) = [p for p in posts if "passed a referral" in payload_text(p)]
    assert notice.chat_id == "A"  # the group notice goes to the group's chat

    await refused(a, "nina", "/balance", "not in a group yet", "/join", private=True)
    await refused(a, "nina", "/refer @bob Jane Roe", "not in a group yet", private=True)

    await b.say("bob", "/join Roofer")
    await refused(a, "bob", "/balance", "several groups", private=True)
    await refused(a, "bob", "/thanks @alice 100", "several groups", private=True)


@pytest.mark.parametrize(
    "text",
    ["/thanks @zed 5", "/refer @zed Jane Roe", "/onetoone @zed", "/balance @zed",
     "/refer <@U999> Jane Roe", "/thanks <@U999|zed> 5"],
)  # fmt: skip
async def test_an_unknown_member_is_refused_with_how_they_join(chat: Chat, text: str) -> None:
    await setup_group(chat)
    await refused(chat, "alice", text, "join", "/join")
