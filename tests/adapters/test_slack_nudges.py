"""Real time on Slack: the day's nudges check, due a few seconds ahead, runs by the
scheduler on its own clock and reaches the fake Web API once: a DM to the receiver of a
referral open for more than a week, with the buttons that move it; nothing in the channel."""

# ruff: noqa: F811  (the fixtures `slack` and `bot` are imported from slack_harness)

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col

from adapters.slack.transport import SlackTransport
from app.scheduler import PostScheduler
from bot.delivery import Deliverer
from storage.tables import Group, Referral, ScheduledPost
from tests.adapters.slack_harness import MARKS, TOKEN, Harness, blocks_text, bot, slack  # noqa: F401

pytestmark = MARKS


def a_zone_past_ten(now: datetime) -> str:
    """A fixed-offset zone where it is now about noon (after the day's 10:00 check)."""
    offset = 12 - now.hour
    offset += 24 if offset < -12 else 0
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def test_the_days_nudge_reaches_the_receiver_privately_once(bot: Harness) -> None:
    await bot.command("/joingroup", "Plumber")
    await bot.command("/joingroup", "Roofer", user_id="U2")
    await bot.command("/refer", "<@U2|bob> ACME, 555-1234, roof hot")
    await bot.deliver()  # the referral's own DM and notices
    before = len(bot.posts())
    now = datetime.now(UTC)
    async with bot.db.transaction() as session:  # given ten days ago, in a zone past 10:00
        await session.exec(update(Referral).values(created_at=now - timedelta(days=10)))  # type: ignore[call-overload]
        await session.exec(update(Group).values(timezone=a_zone_past_ten(now)))  # type: ignore[call-overload]
    deliverer = Deliverer(bot.db, [SlackTransport(bot.slack.base_url, token=TOKEN, interval=0.0)])
    scheduler = PostScheduler(bot.db, tick_seconds=1, on_posted=deliverer.wake)
    stop = asyncio.Event()
    delivering = asyncio.create_task(deliverer.run(stop, idle=0.2))
    await scheduler.start()  # the schedule built: the next check is tomorrow at 10:00
    async with bot.db.transaction() as session:  # a check due two seconds from now instead
        await session.exec(
            update(ScheduledPost)  # type: ignore[call-overload]
            .where(col(ScheduledPost.kind) == "nudges")
            .values(due_at=(datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0))
        )
    try:
        await bot.slack.wait_for("chat.postMessage", before + 1, timeout=20)
        await asyncio.sleep(2.5)  # more ticks: nothing again
    finally:
        await scheduler.stop()
        stop.set()
        await delivering

    [nudge] = bot.posts()[before:]
    assert nudge["channel"] == "DU2"
    text = blocks_text(nudge["blocks"])
    assert "Referral #1 from Alice is still open after 9 days" in text  # at 10:00 local
    assert "[Contacted #1:" in text and "[Won #1:" in text and "[Lost #1:" in text
    assert not [p for p in bot.posts("C1")[1:] if "open" in p["text"]]


async def test_refmute_is_slacks_name_for_mute(bot: Harness) -> None:
    await bot.command("/joingroup", "Roofer", user_id="U2")

    muted = await bot.answer("/refmute", "nudges", user_id="U2")
    again = await bot.answer("/unmute", "nudges", user_id="U2")

    assert muted.startswith("Nudges muted") and "/unmute nudges restarts them" in muted
    assert again.startswith("Nudges on again") and "/refmute nudges stops them" in again
