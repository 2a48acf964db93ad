"""Held private messages (`bot.held`) wait 30 days for their recipient, then expire: the
start link says so and releases nothing; what is younger is still released."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.delivery import ChatKey, Deliverer, Outgoing, Sent
from bot.held import HELD_FOR
from bot.messages import Platform
from bot.service import Core
from storage.database import Database
from storage.tables import OutboxMessage
from tests.conftest import Chat, Clock


class NotStartedTransport:
    """Telegram as the outbox sees it when the receiver never pressed Start: every private
    message is refused as not started until `started`; group posts go through."""

    platform = "telegram"

    def __init__(self) -> None:
        self.started: set[str] = set()
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> Sent:
        who = message.recipient_user_id
        if who is not None and who not in self.started:
            return Sent.not_started("Forbidden: bot can't initiate conversation with a user")
        self.sent.append(message)
        return Sent.ok()

    def min_interval(self, chat: ChatKey) -> float:
        return 0.0

    def start_link(self, code: str) -> str:
        return f"https://t.me/TestBot?start={code}"


async def deliver_all(deliverer: Deliverer) -> None:
    while await deliverer.run_once():
        pass


async def held_code(db: Database) -> str:
    async with db.transaction(write=False) as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    codes = {row.hold_code for row in rows if row.status == "held"}
    [code] = codes
    assert code is not None and re.fullmatch(r"[A-Za-z0-9_-]{16}", code)
    return code


async def statuses(db: Database) -> list[tuple[str, str | None]]:
    async with db.transaction(write=False) as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    return [(row.status, row.last_error) for row in rows if row.recipient_user_id == "bob"]


async def setup(core: Core, clock: Clock) -> tuple[Chat, NotStartedTransport, Deliverer]:
    chat = Chat(core, platform=Platform.TELEGRAM)
    transport = NotStartedTransport()
    deliverer = Deliverer(core.db, [transport], clock=clock)
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Electrician")
    transport.started.add("alice")
    return chat, transport, deliverer


async def test_a_held_message_expires_after_30_days(core: Core, db: Database, clock: Clock) -> None:
    chat, transport, deliverer = await setup(core, clock)
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, roof")
    await deliver_all(deliverer)
    code = await held_code(db)

    clock.advance(days=HELD_FOR.days, seconds=1)
    transport.started.add("bob")
    [answer] = await core.opened(chat.incoming("bob", f"/start {code}", private=True), code)
    assert answer.text.startswith("That link has expired: I keep private messages for 30 days")
    await deliver_all(deliverer)
    assert not [m for m in transport.sent if m.recipient_user_id == "bob"]  # nothing released
    assert {status for status, _ in await statuses(db)} == {"failed"}
    assert {error for _, error in await statuses(db)} == {"held too long"}


async def test_a_message_held_under_30_days_is_released(
    core: Core, db: Database, clock: Clock
) -> None:
    chat, transport, deliverer = await setup(core, clock)
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, roof")
    await deliver_all(deliverer)
    clock.advance(days=HELD_FOR.days - 1)
    await chat.say("alice", "/refer @bob Ann Lee, 555-0199, porch")  # the same code
    await deliver_all(deliverer)
    code = await held_code(db)

    clock.advance(days=2)  # the first is 31 days old now, the second one day
    transport.started.add("bob")
    [answer] = await core.opened(chat.incoming("bob", f"/start {code}", private=True), code)
    assert answer.text == (
        "1 private message I kept for you had expired (I keep them 30 days). Here it is:"
    )
    await deliver_all(deliverer)
    [got] = [m for m in transport.sent if m.recipient_user_id == "bob"]
    assert "555-0199" in str(got.reply.sections) and "555-0100" not in str(got.reply.sections)


async def test_a_bare_start_says_what_expired(core: Core, db: Database, clock: Clock) -> None:
    chat, _, deliverer = await setup(core, clock)
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, roof")
    await deliver_all(deliverer)
    clock.advance(days=31)
    replies = await core.opened(chat.incoming("bob", "/start", private=True), None)
    assert replies[-1].text == (
        "1 private message I kept for you had expired (I keep them 30 days)."
    )


async def test_after_30_days_a_new_message_gets_a_new_link(
    core: Core, db: Database, clock: Clock
) -> None:
    chat, transport, deliverer = await setup(core, clock)
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, roof")
    await deliver_all(deliverer)
    old = await held_code(db)
    clock.advance(days=31)
    await chat.say("alice", "/refer @bob Ann Lee, 555-0199, porch")
    await deliver_all(deliverer)
    async with db.transaction(write=False) as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    new = {row.hold_code for row in rows if row.status == "held"} - {old, None}
    assert len(new) == 1  # not under the old link, which is about to expire
    notices = [m.reply.text for m in transport.sent if "private message for you" in m.reply.text]
    assert len(notices) == 2 and new.pop() in notices[1]
