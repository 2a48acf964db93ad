"""Meeting reminders through the occasion door and the scheduler's tick, on both
databases, with a settable clock: posted once with their three answer buttons, answered by
whoever presses them, made late only before their meeting; and a group whose chat stopped
taking posts stops being scheduled after a week, until the bot is used there again."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from app.scheduler import PostScheduler
from bot import buttons
from bot.delivery import Deliverer, Sent
from bot.occasions import Occasions, build_schedule
from storage.database import Database
from storage.tables import Group, OutboxMessage, PostClaim, ScheduledPost
from tests.conftest import Chat, Clock
from tests.unit.test_delivery import FakeTransport

# The clock starts Wed 25 Nov 2026 12:00 UTC; meetings are on Thursdays at 07:00 (UTC), so
# the next one is Thu 26 Nov and its 24 h reminder (Wed 07:00) has passed already.
ONE_HOUR_BEFORE = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


async def reminders(db: Database) -> list[OutboxMessage]:
    async with db.transaction(write=False) as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    return [r for r in rows if json.loads(r.payload)["text"].startswith("Reminder:")]


async def scheduled(db: Database) -> dict[str, datetime]:
    async with db.transaction(write=False) as session:
        rows = (await session.exec(select(ScheduledPost))).all()
    return {r.kind: r.due_at for r in rows}


async def a_chapter(chat: Chat) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Electrician")
    await chat.say("carol", "/join Roofer")
    await chat.say("alice", "/meeting set thursday 07:00 Town Hall")
    # only the reminders here: the daily recognition and nudges have tests of their own
    await chat.say("alice", "/settings recognition off")
    await chat.say("alice", "/settings nudges off")


async def press(chat: Chat, who: str, button: dict[str, str]) -> str:
    incoming = replace(chat.incoming(who, ""), button=button["data"])
    replies = await chat.core.handle(incoming)
    return "\n".join(r.text for r in replies)


async def test_a_reminder_is_posted_once_with_three_buttons_answered_by_each_presser(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await a_chapter(chat)
    assert (await scheduled(db))["reminder"] == ONE_HOUR_BEFORE
    scheduler = PostScheduler(db, clock=clock)
    assert await scheduler.tick() == 0
    clock.now = ONE_HOUR_BEFORE + timedelta(seconds=5)
    assert await scheduler.tick() == 1
    assert await scheduler.tick() == 0  # once
    [post] = await reminders(db)
    assert post.recipient_user_id is None  # in the group's chat
    payload = json.loads(post.payload)
    assert payload["text"] == ("Reminder: chapter meets in 1h, Thursday 26 November at 07:00 "
                               "(UTC), Town Hall. Will you be there?")  # fmt: skip
    assert payload["sections"][0]["lines"] == ["Nobody has answered yet."]
    attend, cannot, substitute = payload["buttons"]
    assert [b["label"] for b in payload["buttons"]] == [
        "Attend", "Can't attend", "Sending a substitute"]  # fmt: skip
    decoded = [buttons.decode(b["data"]) for b in payload["buttons"]]
    assert {(p.group_id, p.member_id, p.target) for p in decoded if p} == {(1, None, "20261126")}
    assert [p.choice for p in decoded if p] == ["yes", "no", "substitute"]

    assert "Noted: coming" in await press(chat, "alice", attend)
    assert "Noted: sending a substitute" in await press(chat, "bob", substitute)
    assert "Noted: not coming" in await press(chat, "carol", cannot)
    assert "Noted: coming" in await press(chat, "carol", attend)  # changed their mind
    shown = await chat.text("bob", "/meeting")
    assert "Coming (2): Alice, Carol" in shown
    assert "Sending a substitute (1): Bob" in shown
    assert "Not coming" not in shown

    clock.now = ONE_HOUR_BEFORE + timedelta(hours=1, seconds=1)  # the meeting has begun
    assert "already taken place; nothing was recorded" in await press(chat, "bob", cannot)
    async with db.transaction(write=False) as session:
        claims = (await session.exec(select(PostClaim))).all()
    assert [(c.kind, c.occurrence) for c in claims] == [("reminder", "2026-11-26-60m")]
    assert (await scheduled(db))["reminder"] == datetime(2026, 12, 2, 7, tzinfo=UTC)  # 24 h


async def test_two_schedulers_racing_post_one_reminder(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await a_chapter(chat)
    clock.now = ONE_HOUR_BEFORE + timedelta(seconds=1)
    first, second = Occasions(db, clock), Occasions(db, clock)
    outcomes = await asyncio.gather(first.run(1, "reminder"), second.run(1, "reminder"))
    assert sorted(outcomes) == ["claimed", "posted"]
    assert len(await reminders(db)) == 1


async def test_downtime_an_hour_reminds_late_two_days_not_after_the_meeting(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await a_chapter(chat)
    clock.now = ONE_HOUR_BEFORE + timedelta(minutes=50)  # back 10 minutes before it starts
    await build_schedule(db, clock.now)
    assert await PostScheduler(db, clock=clock).tick() == 1
    [late] = await reminders(db)
    assert json.loads(late.payload)["text"].startswith("Reminder: chapter meets in 1h")
    # then away from Tuesday noon to Thursday noon: the 24 h and 1 h reminders and the
    # meeting passed meanwhile; nothing is made for it
    clock.now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    await build_schedule(db, clock.now)
    clock.now += timedelta(days=2)
    await build_schedule(db, clock.now)
    await PostScheduler(db, clock=clock).tick()  # (the month's scorecards go to the leader)
    assert len(await reminders(db)) == 1
    assert (await scheduled(db))["reminder"] == datetime(2026, 12, 9, 7, tzinfo=UTC)


async def test_reminder_settings_reschedule_and_show_the_next_times(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await a_chapter(chat)
    answer = await chat.text("alice", "/settings reminders 2d 90m")
    assert answer == "Changed. Reminders: 2d 90m; next 2d Tue 01 Dec 07:00, 90m Thu 26 Nov 05:30"
    assert (await scheduled(db))["reminder"] == datetime(2026, 11, 26, 5, 30, tzinfo=UTC)
    assert "refused" not in answer
    refused = await chat.text("bob", "/settings reminders 1h")
    assert "leader" in refused.lower()
    assert (await scheduled(db))["reminder"] == datetime(2026, 11, 26, 5, 30, tzinfo=UTC)
    await chat.say("alice", "/settings reminders off")
    assert "reminder" not in await scheduled(db)
    assert "Reminders: off" in await chat.text("alice", "/settings")
    await chat.say("alice", "/settings reminders 24h 1h")
    await chat.say("alice", "/meeting off")
    assert "reminder" not in await scheduled(db)
    shown = await chat.text("alice", "/settings")
    assert "Reminders: 24h 1h (no meeting is set, so none is posted)" in shown


async def drain(deliverer: Deliverer) -> int:
    """Deliver until nothing is due; how many rows were settled."""
    settled = 0
    while done := await deliverer.run_once():
        settled += done
    return settled


async def unreachable_since(db: Database) -> datetime | None:
    async with db.transaction(write=False) as session:
        [group] = (await session.exec(select(Group))).all()
    return group.unreachable_since


async def test_a_chat_unreachable_for_a_week_stops_until_the_bot_is_used_there(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await a_chapter(chat)
    transport = FakeTransport(platform="console")
    deliverer = Deliverer(db, [transport], clock=clock)
    await drain(deliverer)  # what the commands sent the group
    scheduler = PostScheduler(db, clock=clock)
    clock.now = ONE_HOUR_BEFORE
    assert await scheduler.tick() == 1
    [post] = await reminders(db)
    text = json.loads(post.payload)["text"]
    transport.script[text] = [Sent.unreachable("not_in_channel", chat_gone=True)]  # Slack's
    assert await drain(deliverer) == 1
    [post] = await reminders(db)
    assert (post.status, post.last_error) == ("failed", "not_in_channel")
    assert await unreachable_since(db) == ONE_HOUR_BEFORE
    # within the week the posts are still tried (and the first refusal's time kept)
    clock.now = datetime(2026, 12, 2, 7, tzinfo=UTC)
    await scheduler.tick()  # the reminder (and the month's scorecards, to the leader)
    [_, second] = await reminders(db)
    gone = Sent.unreachable("not_in_channel", chat_gone=True)
    transport.script[json.loads(second.payload)["text"]] = [gone]
    await drain(deliverer)
    assert await unreachable_since(db) == ONE_HOUR_BEFORE
    # a week unreachable: nothing is scheduled any more, at the tick or at start-up
    clock.now = ONE_HOUR_BEFORE + timedelta(days=7)
    assert await scheduler.tick() == 0
    assert await scheduled(db) == {}
    await build_schedule(db, clock.now)
    assert await scheduled(db) == {}
    assert len(await reminders(db)) == 2
    # a private message's refusal never marks the group; a member using the bot in the
    # group's chat again (even only reading) resumes it
    assert "Next meeting" in await chat.text("bob", "/meeting", private=True)
    assert await unreachable_since(db) == ONE_HOUR_BEFORE
    assert "Bob" in await chat.text("bob", "/balance")
    assert await unreachable_since(db) is None
    assert await scheduled(db) == {
        "reminder": datetime(2026, 12, 9, 7, tzinfo=UTC),  # the next meeting's 24 h one
        "leaderboard": datetime(2026, 12, 4, 16, tzinfo=UTC),
        "scorecards": datetime(2027, 1, 1, 9, tzinfo=UTC),  # the leaders' monthly one
    }
    clock.now = datetime(2026, 12, 9, 7, tzinfo=UTC)
    assert await scheduler.tick() == 1  # Friday's leaderboard, days late, is skipped
    latest = json.loads((await reminders(db))[-1].payload)["text"]
    assert latest.startswith("Reminder: chapter meets in 24h, Thursday 10 December at 07:00")
