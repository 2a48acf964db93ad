"""The weekly leaderboard post's conversion (the quarter to date) and goals (each over its
current period), as of the occurrence, on both databases, with exact figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from app.scheduler import PostScheduler
from storage.database import Database
from tests.conftest import Chat, Clock
from tests.unit.test_occasions import posts

FRIDAY_16 = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # the clock starts Wed 25 Nov 12:00


async def _post_sections(db: Database, clock: Clock) -> dict[str, list[str]]:
    clock.now = FRIDAY_16 + timedelta(seconds=5)
    assert await PostScheduler(db, clock=clock).tick() == 1
    [post] = await posts(db)
    return {s["title"]: s["lines"] for s in json.loads(post.payload)["sections"]}


async def test_the_post_shows_the_conversion_and_each_goal(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Electrician")
    await chat.say("carol", "/join Roofer")
    await chat.say("alice", "/meeting set thursday 07:00")
    await chat.say("alice", "/settings goal referrals 10 month")
    await chat.say("alice", "/settings goal business 1,000 quarter")
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, new roof")
    await chat.say("alice", "/refer @carol John Doe, 555-0101, gutters")
    await chat.say("alice", "/refer @bob Ann Poe, 555-0102, wiring")
    await chat.say("bob", "/status 1 won $250")
    await chat.say("carol", "/status 2 lost")
    sections = await _post_sections(db, clock)
    assert sections["Conversion (won of closed)"] == [
        "The group, Q4 2026 to date: 1 won of 2 closed (50%), 1 still open or contacted"
    ]
    # November: 640 of its 720 hours gone, 80 left: 7 / (80/168) = 14.7 a week, 3 x 720/640
    # = 3.375; Q4: 1,384 of 2,208 hours gone, 824 left: 750 / (824/168) = 152.912 (up),
    # 250 x 2208/1384 = 398.843 (down)
    assert sections["Goals"] == [
        "Referrals given, November 2026: 3 of 10 (30%). 7 to go: 14.7 a week over the"
        " 0.5 weeks left. Behind (the pace so far comes to 3).",
        "Closed business, Q4 2026: $250.00 of $1,000.00 (25%). $750.00 to go: $152.92 a week"
        " over the 4.9 weeks left. Behind (the pace so far comes to $398.84).",
    ]
    assert "Jane Roe" not in json.dumps(sections)


async def test_no_goals_no_goals_section_and_nothing_closed_yet(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Electrician")
    await chat.say("alice", "/meeting set thursday 07:00")
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, new roof")
    sections = await _post_sections(db, clock)
    assert "Goals" not in sections
    assert sections["Conversion (won of closed)"] == [
        "The group, Q4 2026 to date: nothing closed yet, 1 still open or contacted"
    ]
