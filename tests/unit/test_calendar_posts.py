"""The calendar's scheduled posts through the scheduler's tick, on both databases, at fixed
clocks in the group's timezone: membership anniversaries (daily 09:00, in the group), the
nudges check (daily 10:00, privately, at most one a week per member) and the monthly
scorecards (the 1st at 09:00, privately), each once across restarts and racing instances;
after downtime a daily one is made the same day only. Nothing private in the group."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlmodel import col

from app.scheduler import PostScheduler
from bot.occasions import build_schedule
from storage.database import Database
from storage.tables import OutboxMessage, PostClaim
from tests.conftest import Chat, Clock
from tests.unit.test_rules import all_rows, payload_text

PROSPECT = "Jane Roe, 555-0100, new roof"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def outbox(db: Database) -> list[OutboxMessage]:
    return await all_rows(db, OutboxMessage)


async def group_posts(db: Database, start: str) -> list[str]:
    rows = await all_rows(db, OutboxMessage, col(OutboxMessage.recipient_user_id).is_(None))
    return [payload_text(r) for r in rows if payload_text(r).startswith(start)]


async def private(db: Database, start: str) -> list[tuple[str, str]]:
    """(recipient, text) of the private messages that start with `start`."""
    rows = await all_rows(db, OutboxMessage, col(OutboxMessage.recipient_user_id).is_not(None))
    return [(str(r.recipient_user_id), payload_text(r)) for r in rows
            if json.loads(r.payload)["text"].startswith(start)]  # fmt: skip


async def tick_at(db: Database, clock: Clock, at: datetime) -> int:
    clock.now = at
    return await PostScheduler(db, clock=clock).tick()


async def claims(db: Database, kind: str) -> list[str]:
    return [c.occurrence for c in await all_rows(db, PostClaim, col(PostClaim.kind) == kind)]


# --- anniversaries -------------------------------------------------------------------


async def test_anniversaries_at_nine_in_the_groups_timezone_once(
    chat: Chat, db: Database, clock: Clock
) -> None:
    clock.now = utc(2025, 11, 25, 12)  # 07:00 in New York
    await chat.say("alice", "/join Plumber")
    await chat.say("alice", "/settings timezone America/New_York")
    clock.now = utc(2026, 11, 25, 12)
    await chat.say("bob", "/join Roofer")  # joined a year later: no anniversary yet
    assert await tick_at(db, clock, utc(2026, 11, 25, 13, 59)) == 0  # 08:59 local
    assert await group_posts(db, "Happy anniversary") == []
    assert await tick_at(db, clock, utc(2026, 11, 25, 14, 0, 1)) == 1  # 09:00 local
    assert await tick_at(db, clock, utc(2026, 11, 25, 14, 30)) == 0  # once
    clock.now = utc(2026, 11, 25, 14, 45)
    await build_schedule(db, clock.now)  # a restart the same day: still once
    assert await tick_at(db, clock, utc(2026, 11, 25, 14, 45)) == 0
    [post] = await group_posts(db, "Happy anniversary")
    assert "Alice: 1 year in the group" in post and "Bob" not in post
    assert await claims(db, "anniversaries") == ["2026-11-25"]
    # the next days: nobody, nothing posted (claimed, empty)
    await tick_at(db, clock, utc(2026, 11, 26, 14, 0, 1))
    assert len(await group_posts(db, "Happy anniversary")) == 1


async def test_anniversaries_missed_by_downtime_are_not_made_the_next_day(
    chat: Chat, db: Database, clock: Clock
) -> None:
    clock.now = utc(2025, 6, 1, 8)
    await chat.say("alice", "/join Plumber")
    await build_schedule(db, utc(2026, 5, 31, 20))  # running on 31 May
    clock.now = utc(2026, 6, 2, 8)  # then down over the whole of 1 June
    await build_schedule(db, clock.now)
    assert await tick_at(db, clock, utc(2026, 6, 2, 9, 30)) == 1  # the monthly scorecards
    assert await group_posts(db, "Happy anniversary") == []  # 1 June's: not on 2 June
    assert await claims(db, "anniversaries") == ["2026-06-02"]  # (nobody on 2 June)
    assert await claims(db, "scorecards") == ["2026-06-01"]  # a month's: still useful


async def test_recognition_off_makes_no_anniversaries(
    chat: Chat, db: Database, clock: Clock
) -> None:
    clock.now = utc(2025, 6, 1, 8)
    await chat.say("alice", "/join Plumber")
    await chat.say("alice", "/settings recognition off")
    assert "Recognition: off" in await chat.text("alice", "/settings")
    await tick_at(db, clock, utc(2026, 6, 1, 9, 30))
    assert await group_posts(db, "Happy anniversary") == []
    assert await claims(db, "anniversaries") == []


def test_a_leap_day_member_is_celebrated_on_the_28th() -> None:
    from datetime import date

    from bot.anniversaries import years_on

    assert years_on(date(2024, 2, 29), date(2025, 2, 28)) == 1
    assert years_on(date(2024, 2, 29), date(2028, 2, 28)) == 0
    assert years_on(date(2024, 2, 29), date(2028, 2, 29)) == 4
    assert years_on(date(2025, 3, 1), date(2025, 3, 1)) == 0  # the day they joined


# --- nudges --------------------------------------------------------------------------


async def nudge_group(chat: Chat, clock: Clock) -> None:
    clock.now = utc(2026, 11, 2, 9)  # a Monday
    for who, trade in (("alice", "Plumber"), ("bob", "Roofer"), ("carol", "Baker")):
        await chat.say(who, f"/join {trade}")
    await chat.say("alice", f"/refer @bob {PROSPECT}")


async def test_an_open_referral_after_7_days_at_most_one_nudge_a_week(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await nudge_group(chat, clock)
    assert await tick_at(db, clock, utc(2026, 11, 8, 10, 0, 1)) == 0  # 6 days: not yet
    assert await tick_at(db, clock, utc(2026, 11, 9, 10, 0, 1)) == 1  # 7 days
    [(who, text)] = await private(db, "Referral #1")
    assert who == "bob" and "still open after 7 days" in text and PROSPECT[:20] in text
    [row] = [r for r in await outbox(db) if r.recipient_user_id == "bob"
             and "still open" in r.payload]  # fmt: skip
    buttons = json.loads(row.payload)["buttons"]
    assert [b["command"] for b in buttons] == ["/status 1 contacted", "/status 1 won",
                                               "/status 1 lost"]  # fmt: skip
    for day in (10, 11, 15):  # within the week: none
        assert await tick_at(db, clock, utc(2026, 11, day, 10, 0, 1)) == 0
    assert await tick_at(db, clock, utc(2026, 11, 16, 10, 0, 1)) == 1  # a week on
    assert len(await private(db, "Referral #1")) == 2
    await chat.say("bob", "/status 1 contacted")  # moved: no longer nudged
    assert await tick_at(db, clock, utc(2026, 11, 23, 10, 0, 1)) == 0
    for row in await outbox(db):  # the prospect only ever privately
        assert row.recipient_user_id is not None or "555-0100" not in row.payload


async def test_no_referral_in_4_weeks_gets_a_warm_word_and_mute_stops_it(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await nudge_group(chat, clock)
    await chat.say("bob", "/status 1 contacted")
    answer = await chat.text("carol", "/mute nudges")
    assert answer.startswith("Nudges muted")
    assert (await chat.text("carol", "/mute nudges")).startswith("Your nudges are already muted")
    assert await tick_at(db, clock, utc(2026, 11, 29, 10, 0, 1)) == 0  # 27 days
    assert await tick_at(db, clock, utc(2026, 11, 30, 10, 0, 1)) == 1  # 4 weeks
    quiet = await private(db, "Hello")
    assert sorted(who for who, _ in quiet) == ["alice", "bob"]  # carol muted hers
    text = quiet[0][1]
    assert "quiet spell" in text and "/onetoone" in text and "/mute nudges" in text
    assert await group_posts(db, "Hello") == []
    assert (await chat.text("carol", "/unmute nudges")).startswith("Nudges on again")
    await tick_at(db, clock, utc(2026, 12, 1, 10, 0, 1))  # carol's, the next day
    assert [who for who, _ in await private(db, "Hello")] == ["alice", "bob", "carol"]


async def test_nudges_off_for_the_group_sends_none(chat: Chat, db: Database, clock: Clock) -> None:
    await nudge_group(chat, clock)
    answer = await chat.text("alice", "/settings nudges off")
    assert answer.startswith("Changed. Nudges: off")
    assert await tick_at(db, clock, utc(2026, 11, 30, 10, 0, 1)) == 0
    assert await private(db, "Referral #1") == [] and await private(db, "Hello") == []
    assert await claims(db, "nudges") == []


async def test_mute_and_unmute_malformed(chat: Chat) -> None:
    await chat.say("alice", "/join Plumber")
    for text in ("/mute", "/mute everything", "/unmute nudges now"):
        answer = await chat.text("alice", text)
        assert "nudges" in answer and ("/mute nudges" in answer or "/unmute nudges" in answer)
    assert (await chat.text("alice", "/unmute nudges")).startswith("Your nudges are already on")
    assert "/mute nudges" in await chat.text("alice", "/help")


# --- monthly scorecards --------------------------------------------------------------


async def test_monthly_scorecards_on_the_first_at_nine_local_once_across_restarts(
    chat: Chat, db: Database, clock: Clock
) -> None:
    clock.now = utc(2026, 11, 2, 9)
    for who, trade in (("alice", "Plumber"), ("bob", "Roofer"), ("carol", "Baker")):
        await chat.say(who, f"/join {trade}")
    await chat.say("alice", "/settings timezone Asia/Tokyo")  # 09:00 there is 00:00 UTC
    await chat.say("carol", "/mute nudges")
    shown = await chat.text("alice", "/settings")
    assert "monthly scorecards the 1st at 09:00 (next Tue 01 Dec 09:00)" in shown
    assert await tick_at(db, clock, utc(2026, 11, 30, 23, 59)) == 0
    assert await tick_at(db, clock, utc(2026, 12, 1, 0, 0, 1)) == 1
    clock.now = utc(2026, 12, 1, 0, 5)
    await build_schedule(db, clock.now)  # restarted
    assert await tick_at(db, clock, utc(2026, 12, 1, 0, 5)) == 0
    leaders = await private(db, "Monthly scorecards")
    assert [who for who, _ in leaders] == ["alice"]
    assert "Scorecards of chapter, lowest first" in leaders[0][1]
    own = await private(db, "Your monthly scorecard")
    assert sorted(who for who, _ in own) == ["alice", "bob"]  # carol muted her nudges
    assert await group_posts(db, "Monthly") == [] and await group_posts(db, "Your") == []
    assert await claims(db, "scorecards") == ["2026-12-01"]


async def test_two_instances_racing_send_the_monthly_scorecards_once(
    chat: Chat, db: Database, clock: Clock
) -> None:
    clock.now = utc(2026, 11, 2, 9)
    await chat.say("alice", "/join Plumber")
    clock.now = utc(2026, 12, 1, 9, 0, 1)
    first, second = PostScheduler(db, clock=clock), PostScheduler(db, clock=clock)
    outcomes = await asyncio.gather(
        first.occasions.run(1, "scorecards"), second.occasions.run(1, "scorecards")
    )
    assert sorted(outcomes) == ["claimed", "posted"]
    assert len(await private(db, "Monthly scorecards")) == 1
    assert len(await private(db, "Your monthly scorecard")) == 1


async def test_the_settings_show_the_next_time_of_each_post(chat: Chat, clock: Clock) -> None:
    clock.now = utc(2026, 11, 25, 12)  # a Wednesday, 13:00 in Paris
    await chat.say("alice", "/join Plumber")
    await chat.say("alice", "/settings timezone Europe/Paris")
    shown = await chat.text("alice", "/settings")
    assert "anniversaries daily at 09:00 (next Thu 26 Nov 09:00)" in shown
    assert "Nudges: on: checked daily at 10:00 (next Thu 26 Nov 10:00)" in shown
    assert "monthly scorecards the 1st at 09:00 (next Tue 01 Dec 09:00)" in shown
    answer = await chat.text("alice", "/settings nudges off")
    assert "Nudges: off (monthly scorecards the 1st at 09:00 (next Tue 01 Dec 09:00)" in answer


async def test_the_giver_of_the_week_is_recognition_too(
    chat: Chat, db: Database, clock: Clock
) -> None:
    from tests.unit.test_occasions import FRIDAY_16, a_week, posts

    await a_week(chat)
    await tick_at(db, clock, FRIDAY_16 + timedelta(seconds=1))
    await chat.say("alice", "/settings recognition off")
    await tick_at(db, clock, FRIDAY_16 + timedelta(days=7, seconds=1))
    on, off = (payload_text(p) for p in await posts(db))
    assert "Giver of the week\nAlice, 2 referrals given" in on
    assert "Giver of the week" not in off
