"""The occasion door (`bot.occasions`) and the scheduler's tick (`app.scheduler`), on both
databases, with a settable clock: the weekly leaderboard is claimed and enqueued once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.scheduler import PostScheduler
from bot.occasions import build_schedule
from storage.database import Database
from storage.tables import OutboxMessage, PostClaim, ScheduledPost
from tests.conftest import Chat, Clock

FRIDAY_16 = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # the clock starts Wed 25 Nov 12:00


async def posts(db: Database) -> list[OutboxMessage]:
    async with db.transaction(write=False) as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    return [r for r in rows if json.loads(r.payload)["text"].startswith("Weekly leaderboard")]


async def scheduled(db: Database, *kinds: str) -> dict[str, datetime]:
    """The group's scheduled posts of `kinds` (the leaderboard's unless given)."""
    async with db.transaction(write=False) as session:
        rows = (await session.exec(select(ScheduledPost))).all()
    return {r.kind: r.due_at for r in rows if r.kind in (kinds or ("leaderboard",))}


async def a_week(chat: Chat) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Electrician")
    await chat.say("carol", "/join Roofer")
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, new roof hot")
    await chat.say("alice", "/refer @carol John Doe, 555-0101, gutters")
    await chat.say("bob", "/thanks @alice $250 the fuse box")
    await chat.say("carol", "/visitor Dan Guest, Baker")
    await chat.say("alice", "/meeting set thursday 07:00")


async def test_the_weekly_leaderboard_is_posted_once_with_its_chart(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await a_week(chat)
    assert await scheduled(db) == {"leaderboard": FRIDAY_16}  # the day after the meeting
    scheduler = PostScheduler(db, clock=clock)
    assert await scheduler.tick() == 0  # not due yet
    clock.now = FRIDAY_16 + timedelta(seconds=5)
    assert await scheduler.tick() == 1
    assert await scheduler.tick() == 0  # once
    [post] = await posts(db)
    assert post.recipient_user_id is None and post.image is not None
    assert post.image.startswith(b"\x89PNG\r\n\x1a\n")
    payload = json.loads(post.payload)
    text = json.dumps(payload)
    assert "Jane Roe" not in text and "555-0100" not in text  # prospects stay private
    lines = [line for s in payload["sections"] for line in s["lines"]]
    assert lines[0].startswith("1. Alice: 2 given (2)")
    assert "$250.00 closed business ($250.00)" in lines[0]
    carol = "2. Carol: 0 given (0) · $0.00 closed business ($0.00) · 0 one-to-ones (0)"
    assert lines[1] == carol + " · 1 visitor (1)"
    assert "Alice, 2 referrals given" in lines
    assert "Referrals: 2 (+2 on the week before)" in lines
    assert await scheduled(db) == {"leaderboard": FRIDAY_16 + timedelta(days=7)}
    async with db.transaction(write=False) as session:
        claims = (await session.exec(select(PostClaim))).all()
    board = [(c.kind, c.occurrence) for c in claims if c.kind == "leaderboard"]
    assert board == [("leaderboard", "2026-11-27")]


async def test_two_schedulers_racing_post_once(chat: Chat, db: Database, clock: Clock) -> None:
    import asyncio

    await a_week(chat)
    clock.now = FRIDAY_16 + timedelta(seconds=1)
    first, second = PostScheduler(db, clock=clock), PostScheduler(db, clock=clock)
    outcomes = await asyncio.gather(
        first.occasions.run(1, "leaderboard"), second.occasions.run(1, "leaderboard")
    )
    assert sorted(outcomes) == ["claimed", "posted"]
    assert len(await posts(db)) == 1


async def test_a_setting_changed_between_two_ticks(chat: Chat, db: Database, clock: Clock) -> None:
    await a_week(chat)
    scheduler = PostScheduler(db, clock=clock)
    clock.now = FRIDAY_16 - timedelta(minutes=10)
    assert await scheduler.tick() == 0
    answer = await chat.text("alice", "/settings leaderboard friday 17:00")
    assert "Leaderboard post: Friday 17:00; next Fri 27 Nov 17:00" in answer
    clock.now = FRIDAY_16 + timedelta(minutes=1)  # the old time: nothing
    assert await scheduler.tick() == 0
    clock.now = FRIDAY_16 + timedelta(hours=1, seconds=1)
    assert await scheduler.tick() == 1
    # moved within the same day after it was posted: not posted twice that week
    await chat.say("alice", "/settings leaderboard friday 18:00")
    clock.now = FRIDAY_16 + timedelta(hours=2, seconds=1)
    assert await scheduler.tick() == 0
    assert len(await posts(db)) == 1


async def test_downtime_an_hour_posts_late_two_days_skips(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await a_week(chat)
    clock.now = FRIDAY_16 + timedelta(hours=1)  # back an hour late
    await build_schedule(db, clock.now)
    assert await PostScheduler(db, clock=clock).tick() == 1
    clock.now = FRIDAY_16 + timedelta(days=9)  # then away over the next Friday, two days
    await build_schedule(db, clock.now)
    await PostScheduler(db, clock=clock).tick()  # today's nudges and the month's scorecards
    assert len(await posts(db)) == 1
    assert await scheduled(db) == {"leaderboard": FRIDAY_16 + timedelta(days=14)}


async def test_off_and_the_settings_say_what_is_posted(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await a_week(chat)
    shown = await chat.text("alice", "/settings")
    assert (
        "Leaderboard post: the day after the meeting, 16:00 (Friday); next Fri 27 Nov 16:00"
        in shown
    )
    assert "Reminders: 24h 1h; next 24h Wed 25 Nov 07:00" not in shown  # 12:00 already
    assert "Reminders: 24h 1h; next 24h Wed 02 Dec 07:00, 1h Thu 26 Nov 06:00" in shown
    assert "kept as set here" not in shown and "does not post" not in shown
    await chat.say("alice", "/settings leaderboard off")
    assert await scheduled(db) == {}
    clock.now = FRIDAY_16 + timedelta(seconds=1)
    assert await PostScheduler(db, clock=clock).tick() == 0
    assert await posts(db) == []
