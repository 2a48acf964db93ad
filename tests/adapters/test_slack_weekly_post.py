"""Real time on Slack: a weekly leaderboard set a few seconds ahead is posted once, by the
scheduler, through the outbox, with its chart uploaded by the files upload v2 flow
(files.getUploadURLExternal, the upload, files.completeUploadExternal shared into the
channel) and the text beside it."""

# ruff: noqa: F811  (the fixtures `slack` and `bot` are imported from slack_harness)

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import update
from sqlmodel import select

from adapters.slack.transport import SlackTransport
from app.scheduler import PostScheduler
from bot.delivery import Deliverer
from storage.tables import Group, ScheduledPost
from tests.adapters.slack_harness import MARKS, TOKEN, Harness, bot, slack  # noqa: F401

pytestmark = MARKS


async def test_a_leaderboard_a_few_seconds_ahead_is_uploaded_once(bot: Harness) -> None:
    await bot.command("/joingroup", "Plumber")
    await bot.command("/refer", "<@U2|bob> ACME, 555-1234, roof hot")
    await bot.command("/meeting", "set monday 07:00")
    at = datetime.now(UTC) + timedelta(seconds=3)
    async with bot.db.transaction() as session:  # `/settings leaderboard`, to the second
        [zone] = (await session.exec(select(Group.timezone))).all()  # Alice's Slack timezone
        local = at.astimezone(ZoneInfo(zone))
        clock = local.time().replace(microsecond=0)
        await session.exec(update(Group).values(  # type: ignore[call-overload]
            leaderboard_weekday=local.weekday(), leaderboard_time=clock
        ))  # fmt: skip
        await session.exec(update(ScheduledPost).values(due_at=at.replace(microsecond=0)))  # type: ignore[call-overload]
    deliverer = Deliverer(bot.db, [SlackTransport(bot.slack.base_url, token=TOKEN, interval=0.0)])
    scheduler = PostScheduler(bot.db, tick_seconds=1, on_posted=deliverer.wake)
    stop = asyncio.Event()
    delivering = asyncio.create_task(deliverer.run(stop, idle=0.2))
    await scheduler.start()
    try:
        await bot.slack.wait_for("files.completeUploadExternal", 1, timeout=20)
        await asyncio.sleep(2.5)  # more ticks: nothing again
    finally:
        await scheduler.stop()
        stop.set()
        await delivering

    [url] = bot.slack.calls_to("files.getUploadURLExternal")
    [complete] = bot.slack.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "C1"
    assert "Weekly leaderboard" in complete.args["initial_comment"]
    assert "ACME" not in complete.args["initial_comment"]  # the prospect stays private
    [png] = bot.slack.uploads.values()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.text["Description"] == "Alice: 1 this week, 1 this quarter"  # type: ignore[attr-defined]
    assert url.args["filename"].endswith(".png")
