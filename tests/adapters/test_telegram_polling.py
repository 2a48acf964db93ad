"""Long polling (offsets confirmed only after processing) and the outbox transport's
handling of Telegram's refusals, against FakeTelegram."""

# ruff: noqa: F811  (fixtures are imported from telegram_harness)

from __future__ import annotations

import asyncio

import pytest

from adapters.telegram.app import TelegramPlatform
from adapters.telegram.transport import TelegramTransport
from bot.delivery import Deliverer, Outcome, Outgoing
from bot.messages import Audience, Reply
from bot.service import Core, GroupDefaults
from storage.database import Database
from tests.adapters.fake_telegram import FakeTelegram
from tests.adapters.telegram_harness import Harness, telegram, telegram_settings, tg  # noqa: F401
from tests.adapters.telegram_updates import ALICE, BOB, GROUP_ID, command

pytestmark = [pytest.mark.filterwarnings(r"ignore:(?s).*session\.exec\(\):DeprecationWarning")]


class Woken:
    """The platform's `wake`: counts the commands it handled, and waits for a number."""

    def __init__(self) -> None:
        self.count, self.changed = 0, asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self.changed.set()

    async def until(self, count: int) -> None:
        async with asyncio.timeout(5):
            while self.count < count:
                self.changed.clear()
                await self.changed.wait()


def polling(telegram: FakeTelegram, db: Database, wake: Woken) -> TelegramPlatform:
    settings = telegram_settings(telegram, "sqlite://", telegram_webhook_url=None,
                                 telegram_webhook_secret=None)  # fmt: skip
    return TelegramPlatform(settings, db, Core(db, GroupDefaults()), wake, poll_seconds=1)


async def deliver(platform: TelegramPlatform, db: Database) -> None:
    transport = TelegramTransport(
        platform.bot, private_interval=0.0, group_interval=0.0, overall_rate=None
    )
    deliverer = Deliverer(db, [transport])
    while await deliverer.run_once():
        pass


async def test_polling_processes_then_confirms(telegram: FakeTelegram, db: Database) -> None:
    woken = Woken()
    platform = polling(telegram, db, woken)
    first, second = command(ALICE, "/join Plumber"), command(BOB, "/join Electrician")
    telegram.push_update(first)
    telegram.push_update(second)
    await platform.start()
    try:
        await woken.until(2)
        await telegram.wait_for("getUpdates", 2)
        await deliver(platform, db)
    finally:
        await platform.stop()

    assert telegram.calls_to("deleteWebhook")  # polling mode: no webhook left behind
    offsets = [call.args.get("offset") for call in telegram.calls_to("getUpdates")]
    offsets = [None if o is None else int(o) for o in offsets]
    assert offsets[0] is None
    assert offsets[-1] == second["update_id"] + 1  # confirmed once both were processed
    assert {int(call.args["chat_id"]) for call in telegram.calls_to("sendMessage")} == {
        ALICE.id, BOB.id, GROUP_ID}  # fmt: skip
    sent = len(telegram.calls_to("sendMessage"))

    again = polling(telegram, db, woken)
    await again.start()  # a restart: nothing is delivered twice
    try:
        await asyncio.sleep(0.2)
        await deliver(again, db)
    finally:
        await again.stop()
    assert len(telegram.calls_to("sendMessage")) == sent


async def test_an_update_polled_again_after_a_crash_is_answered_once(
    telegram: FakeTelegram, db: Database
) -> None:
    """The process died after the commit, before `getUpdates` confirmed the update: the
    next process is served it again, and sends nothing new."""
    woken = Woken()
    raw = command(ALICE, "/join Plumber")
    telegram.push_update(raw)
    first = polling(telegram, db, woken)
    await first.start()
    await woken.until(1)
    await first.stop()
    telegram.push_update(raw)  # served again, as Telegram does for an unconfirmed update
    again = polling(telegram, db, woken)
    await again.start()
    try:
        await woken.until(2)
        await deliver(again, db)
    finally:
        await again.stop()
    assert len([t for t in telegram.sent_to(ALICE.id) if "Welcome" in t["text"]]) == 1
    assert len(telegram.sent_to(GROUP_ID)) == 1  # the welcome, once


async def test_polling_stops_promptly_while_telegram_is_away(
    telegram: FakeTelegram, db: Database
) -> None:
    settings = telegram_settings(telegram, "sqlite://", telegram_webhook_url=None,
                                 telegram_webhook_secret=None)  # fmt: skip
    platform = TelegramPlatform(settings, db, Core(db, GroupDefaults()), lambda: None)
    await platform.start()
    telegram.fail("getUpdates", 502, "Bad Gateway", times=None)
    await telegram.wait_for("getUpdates", 2)
    await asyncio.wait_for(platform.stop(), 5)


def outgoing(chat_id: int, recipient: int | None = None, text: str = "hi") -> Outgoing:
    reply = Reply(Audience.MEMBER if recipient else Audience.GROUP, text)
    return Outgoing(1, 1, "", str(chat_id), str(recipient) if recipient else None, reply)


async def test_the_transport_classifies_telegrams_refusals(tg: Harness) -> None:
    transport, fake = tg.platform.transport, tg.telegram
    fake.fail("sendMessage", 429, retry_after=9)
    limited = await transport.send(outgoing(GROUP_ID))
    assert (limited.outcome, limited.retry_after) == (Outcome.RATE_LIMITED, 9.0)
    fake.blocked.add(BOB.id)  # blocked the bot, or never started it: held for a link
    assert (await transport.send(outgoing(GROUP_ID, BOB.id))).outcome is Outcome.NOT_STARTED
    fake.blocked.discard(BOB.id)
    fake.not_started.add(BOB.id)
    assert (await transport.send(outgoing(GROUP_ID, BOB.id))).outcome is Outcome.NOT_STARTED
    fake.fail("sendMessage", 403, "Forbidden: user is deactivated")
    assert (await transport.send(outgoing(GROUP_ID, BOB.id))).outcome is Outcome.UNREACHABLE
    fake.fail("sendMessage", 403, "Forbidden: bot was kicked from the group chat")
    assert (await transport.send(outgoing(GROUP_ID))).outcome is Outcome.UNREACHABLE
    assert transport.start_link("Ab_9-") == "https://t.me/ReferralTestBot?start=Ab_9-"
    fake.fail("sendMessage", 500)
    assert (await transport.send(outgoing(GROUP_ID))).outcome is Outcome.SERVER_ERROR
    fake.fail("sendMessage", 400, "Bad Request: chat not found")
    assert (await transport.send(outgoing(GROUP_ID))).outcome is Outcome.UNREACHABLE
    assert (await transport.send(outgoing(GROUP_ID, text="<b>&"))).outcome is Outcome.OK
    assert fake.sent_to(GROUP_ID)[-1]["text"] == "&lt;b&gt;&amp;"


async def test_an_image_goes_with_its_caption(tg: Harness) -> None:
    reply = Reply(Audience.GROUP, "Leaderboard " + "x" * 1500, image=b"\x89PNG\r\n\x1a\n")
    message = Outgoing(1, 1, "", str(GROUP_ID), None, reply, reply.image, "week.png")
    assert (await tg.platform.transport.send(message)).outcome is Outcome.OK
    photo, rest = tg.telegram.sent_to(GROUP_ID)
    assert photo["photo"] == b"\x89PNG\r\n\x1a\n" and len(photo["caption"]) <= 1024
    assert rest["text"].endswith("x")


def test_pacing_keeps_telegrams_limits(tg: Harness) -> None:
    from bot.delivery import ChatKey

    transport = tg.platform.transport
    assert transport.min_interval(ChatKey("", str(ALICE.id), True)) >= 1.0
    assert 60 / transport.min_interval(ChatKey("", str(GROUP_ID), False)) <= 20  # a minute
