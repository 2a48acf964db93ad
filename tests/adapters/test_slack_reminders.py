"""Real time on Slack: a meeting reminder set a few seconds ahead is posted once by the
scheduler, through the outbox, with its three answer buttons (Block Kit); each member's
click (block_actions, as Slack sends it) records their own RSVP, shown by /meeting. And a
post refused because the bot is not in the channel (not_in_channel, channel_not_found)
marks the group unreachable; a command there resumes it."""

# ruff: noqa: F811  (the fixtures `slack` and `bot` are imported from slack_harness)

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import col, select

from adapters.slack.transport import SlackTransport
from app.scheduler import PostScheduler
from bot.delivery import Deliverer
from storage.tables import Group, MeetingResponse, OutboxMessage
from tests.adapters.reminder_clock import reminder_in
from tests.adapters.slack_harness import MARKS, TOKEN, Harness, blocks_text, bot, slack  # noqa: F401
from tests.adapters.slack_requests import block_action
from tests.adapters.test_slack_interactivity import _buttons
from tests.unit.test_rules import all_rows

pytestmark = MARKS


async def chapter(bot: Harness) -> None:
    await bot.command("/joingroup", "Plumber")
    await bot.command("/joingroup", "Electrician", user_id="U2", user_name="bob")
    await bot.command("/joingroup", "Roofer", user_id="U3", user_name="carol")
    await bot.command("/meeting", "set monday 07:00")
    await bot.deliver()


def reminders(bot: Harness) -> list[dict[str, object]]:
    return [p for p in bot.posts("C1") if str(p.get("text", "")).startswith("Reminder:")]


async def test_a_reminder_a_few_seconds_ahead_is_posted_once_and_its_buttons_answer(
    bot: Harness,
) -> None:
    await chapter(bot)
    meeting = await reminder_in(bot.db, 3)
    deliverer = Deliverer(bot.db, [SlackTransport(bot.slack.base_url, token=TOKEN, interval=0.0)])
    scheduler = PostScheduler(bot.db, tick_seconds=1, on_posted=deliverer.wake)
    stop = asyncio.Event()
    delivering = asyncio.create_task(deliverer.run(stop, idle=0.2))
    await scheduler.start()
    try:
        for _ in range(200):  # up to 20 s
            if reminders(bot):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # more ticks: nothing again
    finally:
        await scheduler.stop()
        stop.set()
        await delivering

    [post] = reminders(bot)
    shown = blocks_text(post["blocks"])  # type: ignore[arg-type]
    assert "meets in 1h" in shown
    buttons = {e["text"]["text"]: (block, e) for block, e in _buttons(post["blocks"])}  # type: ignore[arg-type]
    assert list(buttons) == ["Attend", "Can't attend", "Sending a substitute"]
    for who, name, label, rid in (("U2", "bob", "Sending a substitute", "b"),
                                  ("U1", "alice", "Attend", "a"),
                                  ("U3", "carol", "Can't attend", "c")):  # fmt: skip
        block_id, element = buttons[label]
        click = block_action(element["action_id"], element["value"], block_id=block_id,
                             user_id=who, user_name=name,
                             response_url=bot.slack.response_url(rid))  # fmt: skip
        assert (await bot.post(click)).status_code == 200
    [bob] = bot.slack.responses_to("b")
    assert blocks_text(bob["blocks"]).startswith("Noted: sending a substitute on")
    assert f"{meeting:%H:%M}" in blocks_text(bob["blocks"])
    answer = await bot.answer("/meeting", user_id="U3", user_name="carol")
    assert "Coming (1): Alice" in answer
    assert "Not coming (1): Carol" in answer
    assert "Sending a substitute (1): Bob" in answer
    assert sorted(str(r.rsvp) for r in await all_rows(bot.db, MeetingResponse)) == [
        "no", "substitute", "yes"]  # fmt: skip


async def unreachable_since(bot: Harness) -> object:
    async with bot.db.transaction(write=False) as session:
        [group] = (await session.exec(select(Group))).all()
    return group.unreachable_since


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
async def test_a_channel_that_refuses_posts_marks_the_group_unreachable(
    bot: Harness, error: str
) -> None:
    await chapter(bot)
    assert await unreachable_since(bot) is None
    bot.slack.fail("chat.postMessage", error=error)
    await bot.command("/meeting", "set tuesday 08:00")  # its notice to the channel
    await bot.deliver()
    async with bot.db.transaction(write=False) as session:
        last = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()[-1]
    assert (last.status, last.last_error) == ("failed", error)
    assert await unreachable_since(bot) is not None
    await bot.command("/balance")  # used there again
    assert await unreachable_since(bot) is None
