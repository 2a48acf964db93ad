"""Real time on Telegram: a meeting reminder set a few seconds ahead is posted once by the
scheduler, through the outbox, with its inline keyboard of three answers; each member's
press (a callback_query as Telegram sends it) records their own RSVP, shown by /meeting.
And a group the bot was removed from (my_chat_member kicked, or a 403 on a post) is
unreachable: a week of it stops its posts until a command is sent there again."""

# ruff: noqa: F811  (fixtures are imported from telegram_harness)

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from adapters.telegram.transport import TelegramTransport
from app.scheduler import PostScheduler
from bot.delivery import Deliverer
from bot.occasions import Occasions
from storage.database import Database
from storage.tables import Group, MeetingResponse, ScheduledPost
from tests.adapters.reminder_clock import reminder_in
from tests.adapters.telegram_harness import Harness, telegram, tg  # noqa: F401
from tests.adapters.telegram_updates import (
    ALICE,
    BOB,
    CAROL,
    GROUP_ID,
    callback,
    command,
    my_chat_member,
)
from tests.adapters.test_telegram_steps import callback_answers, join, keyboard
from tests.unit.test_rules import all_rows


async def group_row(db: Database) -> Group:
    async with db.transaction(write=False) as session:
        [group] = (await session.exec(select(Group))).all()
    return group


async def scheduled(db: Database) -> set[str]:
    async with db.transaction(write=False) as session:
        return {row.kind for row in (await session.exec(select(ScheduledPost))).all()}


async def test_a_reminder_a_few_seconds_ahead_is_posted_once_and_its_buttons_answer(
    tg: Harness, db: Database
) -> None:
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"), (CAROL, "Roofer"))
    await tg.send(command(ALICE, "/meeting set monday 07:00"))
    await tg.deliver()
    before = len(tg.telegram.sent_to(GROUP_ID))
    meeting = await reminder_in(db, 3)
    unpaced = TelegramTransport(tg.platform.bot, private_interval=0.0, group_interval=0.0,
                                overall_rate=None)  # fmt: skip
    deliverer = Deliverer(db, [unpaced])
    scheduler = PostScheduler(db, tick_seconds=1, on_posted=deliverer.wake)
    stop = asyncio.Event()
    delivering = asyncio.create_task(deliverer.run(stop, idle=0.2))
    await scheduler.start()
    try:
        for _ in range(200):  # up to 20 s
            if len(tg.telegram.sent_to(GROUP_ID)) > before:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # more ticks: nothing again
    finally:
        await scheduler.stop()
        stop.set()
        await delivering

    posts = tg.telegram.sent_to(GROUP_ID)[before:]
    assert len(posts) == 1
    [post] = posts
    assert "meets in 1h" in str(post["text"]) and f"{meeting:%H:%M}" in str(post["text"])
    answers = keyboard(post)
    assert list(answers) == ["Attend", "Can't attend", "Sending a substitute"]
    message = dict(post, chat={"id": GROUP_ID, "type": "supergroup", "title": "Chapter"},
                   message_id=7001, date=int(datetime.now(UTC).timestamp()))  # fmt: skip
    await tg.send(callback(BOB, answers["Sending a substitute"], message))
    assert callback_answers(tg)[-1].startswith("Noted: sending a substitute on")
    await tg.send(callback(ALICE, answers["Attend"], message))
    await tg.send(callback(CAROL, answers["Can't attend"], message))
    assert callback_answers(tg)[-1].startswith("Noted: not coming on")
    await tg.send(command(CAROL, "/meeting"))
    shown = await tg.answer_to(CAROL.id)
    assert "Coming (1): Alice" in shown
    assert "Not coming (1): Carol" in shown
    assert "Sending a substitute (1): Bob" in shown
    assert sorted(str(r.rsvp) for r in await all_rows(db, MeetingResponse)) == [
        "no", "substitute", "yes"]  # fmt: skip


async def test_kicked_from_the_group_it_is_unreachable_then_a_command_resumes(
    tg: Harness, db: Database
) -> None:
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    await tg.send(command(ALICE, "/meeting set thursday 07:00"))
    await tg.deliver()
    await tg.send(my_chat_member(tg.telegram.bot_user, GROUP_ID, "member", "kicked"))
    since = (await group_row(db)).unreachable_since
    assert since is not None
    # still, for a week: the meeting's posts and the daily and monthly ones
    assert await scheduled(db) == {
        "leaderboard",
        "reminder",
        "anniversaries",
        "nudges",
        "scorecards",
    }
    a_week_on = since + timedelta(days=7)
    assert await Occasions(db).run(1, "reminder", a_week_on) == "unreachable"
    assert await scheduled(db) == set()
    # added back, a member's command there: reachable, its posts scheduled again
    await tg.send(my_chat_member(tg.telegram.bot_user, GROUP_ID, "left", "member"))
    await tg.send(command(BOB, "/meeting"))
    assert (await group_row(db)).unreachable_since is None
    assert await scheduled(db) == {
        "leaderboard",
        "reminder",
        "anniversaries",
        "nudges",
        "scorecards",
    }


async def test_a_403_on_a_group_post_marks_it_unreachable_a_private_one_does_not(
    tg: Harness, db: Database
) -> None:
    await join(tg, (ALICE, "Plumber"))
    tg.telegram.blocked.add(ALICE.id)  # she blocked the bot: her private chat only
    await tg.send(command(ALICE, "/balance"))
    await tg.deliver()
    assert (await group_row(db)).unreachable_since is None
    tg.telegram.blocked.add(GROUP_ID)  # "Forbidden: bot was kicked from the group chat"
    await tg.send(command(ALICE, "/meeting set thursday 07:00"))  # a notice to the group
    await tg.deliver()
    assert (await group_row(db)).unreachable_since is not None
