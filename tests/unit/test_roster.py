"""The roster: joining, leaving and removal, who is a member, profiles and the asks."""

from __future__ import annotations

import asyncio
import io

import pytest

from bot.messages import Audience, Incoming, Sender
from bot.service import Core, GroupDefaults
from storage.database import Database
from storage.export import iso
from storage.tables import AuditEntry, Group, Member, OutboxMessage, Referral
from storage.transfer import export_document, import_document, write_csv
from tests.conftest import Chat, Clock
from tests.unit.test_grammar import counts, fast_db, template_file  # noqa: F401  (fixtures)
from tests.unit.test_rules import (  # noqa: F401  (the ticking clock fixture)
    all_rows,
    balance,
    payload_text,
    refused,
    setup_group,
    ticking_clock,
)
from tests.unit.test_transfer import _without_time, empty  # noqa: F401  (fixture)

READ_ONLY = ["/members", "/help", "/balance", "/leaderboard", "/referrals", "/meeting",
             "/settings", "/profile", "/balance @alice", "/profile @alice"]  # fmt: skip


async def members(db: Database) -> dict[str, Member]:
    return {m.platform_user_id: m for m in await all_rows(db, Member)}


async def group_posts(db: Database, before: int = 0) -> list[str]:
    posts = (await all_rows(db, OutboxMessage))[before:]
    return [payload_text(p) for p in posts if p.recipient_user_id is None]


# --- who is a member -----------------------------------------------------------------------


@pytest.mark.parametrize("text", READ_ONLY)
async def test_reading_in_a_chat_without_a_group_sets_nothing_up(chat: Chat, text: str) -> None:
    answer = await chat.text("zed", text)
    if text != "/help":
        assert "no group in this chat yet" in answer and "/join" in answer, answer
    assert set((await counts(chat.core.db)).values()) == {0}


@pytest.mark.parametrize("text", READ_ONLY)
async def test_reading_makes_nobody_a_member(chat: Chat, text: str) -> None:
    await chat.say("alice", "/join Plumber")
    before = await counts(chat.core.db)
    answer = await chat.text("nina", text)
    assert "right form" not in answer and "went wrong" not in answer, answer
    assert await counts(chat.core.db) == before
    assert list(await members(chat.core.db)) == ["alice"]


async def test_a_non_member_is_told_how_to_join_where_the_answer_is_theirs(chat: Chat) -> None:
    await setup_group(chat)
    for text in ("/balance", "/referrals", "/profile"):
        await refused(chat, "nina", text, "not a member of chapter yet", "/join")
    # what is the group's to read, they read
    assert "Alice (Plumber)" in await chat.text("nina", "/members")
    assert "Balance of Bob" in await chat.text("nina", "/balance @bob")
    # recording something, or /join, makes them a member
    assert "logged" in await chat.text("nina", "/visitor Jane Roe")
    assert "nina" in await members(chat.core.db)


async def test_leave_by_someone_who_is_not_a_member_records_nothing(chat: Chat) -> None:
    await refused(chat, "zed", "/leave", "no group in this chat yet")
    await setup_group(chat)
    await refused(chat, "nina", "/leave", "not a member of chapter")
    assert "nina" not in await members(chat.core.db)


# --- /join again ---------------------------------------------------------------------------


async def test_an_existing_members_join_is_not_a_welcome(chat: Chat) -> None:
    await setup_group(chat)
    db = chat.core.db
    posts = len(await all_rows(db, OutboxMessage))
    answer = await chat.text("alice", "/join")
    assert "already a member of chapter" in answer and "Welcome" not in answer
    assert "Classification: Plumber" in answer  # their profile
    answer = await chat.text("alice", "/join Pipefitter")
    assert "already a member" in answer and "classification is now Pipefitter" in answer
    assert (await members(db))["alice"].classification == "Pipefitter"
    assert await group_posts(db, posts) == []  # the group is not welcoming them again
    await refused(chat, "alice", "/join Roofer", "Bob already holds", "Roofer")


# --- /leave --------------------------------------------------------------------------------


async def test_a_member_who_leaves_stays_in_every_total(chat: Chat) -> None:
    await setup_group(chat)
    db = chat.core.db
    await chat.say("bob", "/refer @carol Jane Roe, 555-0100")
    await chat.say("alice", "/thanks @bob 100")
    await chat.say("bob", "/onetoone @carol")
    posts = len(await all_rows(db, OutboxMessage))

    replies = await chat.say("bob", "/leave")
    assert "You left chapter" in replies[0].text and "under your name" in replies[0].text
    assert await group_posts(db, posts) == ["Bob left the group."]
    bob = (await members(db))["bob"]
    assert bob.left_at is not None and bob.classification_key is None
    (audit,) = await all_rows(db, AuditEntry, AuditEntry.action == "left")
    assert (audit.actor_id, audit.entity_kind, audit.entity_id) == (bob.id, "member", bob.id)

    roster = await chat.text("alice", "/members")
    assert "2 members" in roster and "Bob" not in roster
    board = await chat.text("alice", "/leaderboard")
    assert "Bob" not in board and "Carol" in board
    # the entries stay: carol received a referral and met someone, alice thanked
    carol = await balance(chat, "carol")
    assert (carol["received"], carol["one_to_ones"]) == ("1", "1")
    assert (await balance(chat, "alice"))["thanked"] == "$100.00"
    # and bob's own history reads as before, under his name
    mine = await balance(chat, "bob")
    assert (mine["given"], mine["credited"]) == ("1", "$100.00")
    theirs = await chat.text("alice", "/balance @bob")
    assert "Balance of Bob (no longer in the group)" in theirs
    out = io.StringIO()
    await write_csv(db, out)
    assert out.getvalue().count(",Bob,") == 3  # the referral, the thanks, the one-to-one


async def test_leaving_frees_the_classification(chat: Chat) -> None:
    await setup_group(chat)
    await refused(chat, "dave", "/join Roofer", "Bob already holds")
    await chat.say("bob", "/leave")
    assert "Welcome to chapter, Dave" in await chat.text("dave", "/join roofer")


async def test_one_who_left_records_nothing_until_they_join_again(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("bob", "/leave")
    for text in ("/refer @carol Jane Roe", "/thanks @carol 5", "/visitor Jane", "/leave",
                 "/profile business Roe Roofing", "/undo"):  # fmt: skip
        await refused(chat, "bob", text, "no longer a member of chapter", "/join")


@pytest.mark.parametrize(
    "text", ["/refer @bob Jane Roe", "/thanks @bob 10", "/onetoone @bob", "/refer <@bob> Jane",
             "/settings leader @bob", "/settings remove @bob", "/meeting attendance @bob late"]
)  # fmt: skip
async def test_one_who_left_cannot_be_named(chat: Chat, text: str) -> None:
    await setup_group(chat)
    await chat.say("alice", "/meeting set mon 07:00")
    await chat.say("bob", "/leave")
    await refused(chat, "alice", text, "Bob is no longer in the group")


async def test_the_same_name_means_the_active_member(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("bob", "/leave")
    base = chat.incoming("robert", "/join Painter")
    await chat.core.handle(Incoming(base.chat, Sender("robert", "Bob"), base.text, "d-robert"))
    assert "Referral #1 to Bob" in await chat.text("alice", "/refer @bob Jane Roe")
    (referral,) = await all_rows(chat.core.db, Referral)
    assert referral.receiver_id == (await members(chat.core.db))["robert"].id


# --- coming back ---------------------------------------------------------------------------


async def test_coming_back_is_the_same_member_with_their_history(chat: Chat) -> None:
    await setup_group(chat)
    db = chat.core.db
    await chat.say("bob", "/refer @carol Jane Roe")
    await chat.say("bob", "/profile ask landlords")
    before = (await members(db))["bob"]
    await chat.say("bob", "/leave")
    posts = len(await all_rows(db, OutboxMessage))

    answer = await chat.text("bob", "/join")
    assert "Welcome back to chapter, Bob" in answer and "Classification: Roofer" in answer
    assert await group_posts(db, posts) == ["Welcome back Bob (Roofer)!"]
    after = (await members(db))["bob"]
    assert (after.id, after.joined_at, after.ask, after.left_at) == (
        before.id, before.joined_at, "landlords", None
    )  # fmt: skip
    assert after.classification_key == "roofer"
    assert (await balance(chat, "bob"))["given"] == "1"
    assert "Bob (Roofer)" in await chat.text("alice", "/members")
    assert [a.action for a in await all_rows(db, AuditEntry)] == ["left", "rejoined"]


async def test_coming_back_takes_the_classification_only_if_free(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("bob", "/leave")
    await chat.say("dave", "/join Roofer")
    answer = await chat.text("bob", "/join")
    assert "Welcome back" in answer and "Dave holds the classification Roofer" in answer
    bob = (await members(chat.core.db))["bob"]
    assert (bob.classification, bob.classification_key, bob.left_at) == (None, None, None)
    # or they come back with another one, given with /join
    await chat.say("carol", "/leave")
    await refused(chat, "carol", "/join Roofer", "Dave already holds")
    assert "Classification: Bookkeeper" in await chat.text("carol", "/join Bookkeeper")


# --- /settings remove ----------------------------------------------------------------------


async def test_a_leader_removes_a_member(chat: Chat) -> None:
    await setup_group(chat)
    db = chat.core.db
    await chat.say("carol", "/refer @bob Jane Roe")
    await refused(chat, "bob", "/settings remove @carol", "only the group's leaders")
    await refused(chat, "alice", "/settings remove @alice", "/leave")
    posts = len(await all_rows(db, OutboxMessage))

    replies = await chat.say("alice", "/settings remove @carol")
    assert replies[0].text == (
        "Carol is no longer a member of chapter. Their entries stay in every total."
    )
    assert await group_posts(db, posts) == ["Carol is no longer a member of the group."]
    told = await all_rows(db, OutboxMessage, OutboxMessage.recipient_user_id == "carol")
    assert "Alice took you off the roster of chapter" in payload_text(told[-1])
    alice, carol = (await members(db))["alice"], (await members(db))["carol"]
    (audit,) = await all_rows(db, AuditEntry, AuditEntry.action == "removed")
    assert (audit.actor_id, audit.entity_id) == (alice.id, carol.id)
    assert carol.left_at is not None
    assert "Carol" not in await chat.text("bob", "/members")
    assert "Carol" not in await chat.text("bob", "/leaderboard")
    assert (await balance(chat, "bob"))["received"] == "1"
    assert "Welcome to chapter, Dave" in await chat.text("dave", "/join Accountant")
    await refused(chat, "alice", "/settings remove @carol", "Carol is no longer in the group")


async def test_the_last_leader_cannot_leave_or_be_removed(core: Core) -> None:
    chat = Chat(core, admins={"carol"})  # carol leads as the chat's admin, not by role
    await setup_group(chat)
    await refused(chat, "alice", "/leave", "only leader of chapter", "/settings leader")
    await refused(chat, "carol", "/settings remove @alice", "Alice is the only leader")
    assert "Bob is now a leader" in await chat.text("alice", "/settings leader @bob")
    assert "You left chapter" in await chat.text("alice", "/leave")
    roles = {k: (m.role, m.left_at is None) for k, m in (await members(core.db)).items()}
    assert roles == {"alice": ("member", False), "bob": ("leader", True),
                     "carol": ("member", True)}  # fmt: skip
    await refused(chat, "bob", "/leave", "only leader")
    # who comes back is a member again, not a leader
    await chat.say("alice", "/join")
    await refused(chat, "alice", "/settings nudges off", "only the group's leaders")


# --- profiles and asks ---------------------------------------------------------------------


async def test_members_and_profiles_show_each_members_ask(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/profile business Roe Plumbing ask landlords with old buildings")
    roster = await chat.text("bob", "/members")
    assert "Alice (Plumber): Roe Plumbing · leader · looking for: landlords with old buildings" in (
        roster
    )
    assert "Bob (Roofer)\n" in roster + "\n"  # no ask, nothing said
    replies = await chat.say("bob", "/profile @alice")
    assert [r.audience for r in replies] == [Audience.SENDER]
    (section,) = replies[0].sections
    assert section.title == "Alice"
    assert "Looking for: landlords with old buildings" in section.lines
    assert "Business: Roe Plumbing" in section.lines
    assert "Classification: Roofer" in await chat.text("bob", "/profile")
    await refused(chat, "bob", "/profile @zed", "no member called @zed")


async def test_set_role_says_what_changed(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/settings leader @bob")
    posts = len(await all_rows(chat.core.db, OutboxMessage))
    replies = await chat.say("bob", "/settings member @alice")
    assert replies[0].text == "Alice is no longer a leader of chapter."
    assert await group_posts(chat.core.db, posts) == ["Alice is no longer a leader of chapter."]
    answer = await chat.text("bob", "/settings member @alice")
    assert answer == "Alice is already not a leader of chapter."
    assert await group_posts(chat.core.db, posts) == ["Alice is no longer a leader of chapter."]


# --- the export ----------------------------------------------------------------------------


async def test_the_export_keeps_members_who_left(
    db: Database,
    chat: Chat,
    empty: Database,  # noqa: F811
) -> None:
    await setup_group(chat)
    await chat.say("bob", "/refer @carol Jane Roe")
    await chat.say("bob", "/leave")
    await chat.say("dave", "/join Roofer")  # bob's classification, taken by another
    document = await export_document(db)
    rows = {m["platform_user_id"]: m for m in document["members"]}
    left = (await members(db))["bob"].left_at
    assert left is not None and rows["bob"]["left_at"] == iso(left)
    assert rows["bob"]["classification"] == "Roofer" == rows["dave"]["classification"]
    assert rows["alice"]["left_at"] is None

    await import_document(empty, document)
    assert _without_time(await export_document(empty)) == _without_time(document)
    imported = {m.platform_user_id: m for m in await all_rows(empty, Member)}
    assert imported["bob"].left_at is not None and imported["bob"].classification_key is None
    assert imported["dave"].classification_key == "roofer"
    assert [g.chat_id for g in await all_rows(empty, Group)] == ["chapter"]
    moved = Chat(Core(empty, chat.core.defaults, clock=chat.core.clock))
    assert "Bob" not in await moved.text("alice", "/members")
    assert "no longer a member" in await moved.text("bob", "/visitor Jane")


@pytest.mark.postgres
async def test_two_leaders_leaving_at_once_leave_one_leader(pg_db: Database) -> None:
    """The last-leader rule reads the other leaders and then writes: the group's row lock
    makes the second wait for the first, so the group is never left without a leader."""
    for attempt in range(5):
        chat = Chat(Core(pg_db, GroupDefaults(), clock=Clock()), chat_id=f"pair-{attempt}")
        await setup_group(chat)
        await chat.say("alice", "/settings leader @bob")
        answers = await asyncio.gather(chat.text("alice", "/leave"), chat.text("bob", "/leave"))
        assert sorted("You left" in a for a in answers) == [False, True], answers
        assert any("only leader" in a for a in answers), answers
