"""Tests for bot.delivery: the outbox loop, on a real database, with a scripted transport."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.delivery import ChatKey, Deliverer, Outgoing, Sent
from bot.messages import to_group, to_member
from storage import outbox
from storage.database import Database
from storage.tables import Group, Member, OutboxMessage
from tests.conftest import Clock

PHONE = "call Dana on +1 555 0100"


class FakeTransport:
    """Records what it was given; answers from `script` (by text), else ok."""

    def __init__(self, platform: str = "fake", interval: float = 0.0,
                 journal: list[Outgoing] | None = None) -> None:  # fmt: skip
        self.platform = platform
        self.interval = interval
        self.overall_rate: float | None = None
        self.calls: list[Outgoing] = []
        self.times: list[float] = []  # the event loop's time of each send
        self.journal = journal if journal is not None else []  # shared by several instances
        self.script: dict[str, list[Sent | Exception]] = {}
        self.blocked: set[str] = set()  # texts whose send waits for `gate`
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.rendezvous: asyncio.Barrier | None = None  # first send waits for the other party

    def min_interval(self, chat: ChatKey) -> float:
        return self.interval

    async def send(self, message: Outgoing) -> Sent:
        self.calls.append(message)
        self.journal.append(message)
        self.times.append(asyncio.get_running_loop().time())
        self.started.set()
        if self.rendezvous is not None:
            rendezvous, self.rendezvous = self.rendezvous, None
            await asyncio.wait_for(rendezvous.wait(), timeout=10)
        if message.reply.text in self.blocked:
            await self.gate.wait()
        await asyncio.sleep(0)
        answers = self.script.get(message.reply.text)
        answer = answers.pop(0) if answers else Sent.ok()
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def texts(self) -> list[str]:
        return [m.reply.text for m in self.calls]


@dataclass(frozen=True)
class Person:
    """A member as a private message needs them."""

    id: int
    platform_user_id: str


async def make_group(db: Database, clock: Clock, chat_id: str = "chapter",
                     platform: str = "fake") -> Group:  # fmt: skip
    async with db.transaction() as session:
        group = Group(platform=platform, chat_id=chat_id, name=chat_id, timezone="UTC",
                      currency="USD", created_at=clock.now)  # fmt: skip
        session.add(group)
        await session.flush()
    return group


async def enqueue(db: Database, clock: Clock, group: Group, *texts: str,
                  recipient: str | None = None, image: bytes | None = None) -> None:  # fmt: skip
    messages = [
        outbox.Message(
            (to_member(Person(1, recipient), text) if recipient else to_group(text)).to_json(),
            recipient,
            image,
        )
        for text in texts
    ]
    await db.run(lambda unit: outbox.enqueue(unit, group, messages, clock.now))


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        result = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        return list(result.all())


async def by_text(db: Database) -> dict[str, OutboxMessage]:
    return {json.loads(row.payload)["text"]: row for row in await rows(db)}


async def test_delivered_once_and_marked_sent(db: Database, clock: Clock) -> None:
    group = await make_group(db, clock)
    other = await make_group(db, clock, "elsewhere", platform="other")
    await enqueue(db, clock, group, "hello", image=b"PNG")
    await enqueue(db, clock, group, "psst", recipient="U1")
    await enqueue(db, clock, other, "not mine")
    transport = FakeTransport()
    deliverer = Deliverer(db, [transport], clock=clock)

    assert await deliverer.run_once() == 2
    assert await deliverer.run_once() == 0
    assert sorted(transport.texts) == ["hello", "psst"]
    post, dm = sorted(transport.calls, key=lambda m: m.reply.text)
    assert (post.chat_id, post.recipient_user_id, post.group_id) == ("chapter", None, group.id)
    assert (post.image, post.image_name, post.reply.image) == (b"PNG", "image.png", b"PNG")
    assert dm.recipient_user_id == "U1" and dm.chat_key == ChatKey("", "U1", True)
    state = await by_text(db)
    for text in ("hello", "psst"):
        row = state[text]
        assert (row.status, row.attempts, row.lease_until) == ("sent", 1, None)
        assert row.sent_at == clock.now
    assert (state["not mine"].status, state["not mine"].attempts) == ("pending", 0)


async def test_order_per_chat_kept_and_chats_independent(db: Database, clock: Clock) -> None:
    first, second = await make_group(db, clock, "A"), await make_group(db, clock, "B")
    for i in range(5):
        await enqueue(db, clock, first, f"A{i}")
        await enqueue(db, clock, second, f"B{i}")
    transport = FakeTransport()
    transport.blocked = {"A0"}
    stop = asyncio.Event()
    runner = asyncio.create_task(Deliverer(db, [transport], clock=clock).run(stop, idle=0.01))
    try:
        for _ in range(500):  # B is not held up by A's slow first message
            if len([t for t in transport.texts if t.startswith("B")]) == 5:
                break
            await asyncio.sleep(0.01)
        assert transport.texts == ["A0", "B0", "B1", "B2", "B3", "B4"]
        transport.gate.set()
        for _ in range(500):
            if len(transport.texts) == 10:
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        transport.gate.set()
        await asyncio.wait_for(runner, timeout=5)
    assert [t for t in transport.texts if t.startswith("A")] == [f"A{i}" for i in range(5)]
    assert {r.status for r in await rows(db)} == {"sent"}


async def test_a_busy_chat_never_holds_back_a_quiet_one(db: Database, clock: Clock) -> None:
    """30 notices paced in one chat; a referral's details for someone else go out at once."""
    busy, quiet = await make_group(db, clock, "busy"), await make_group(db, clock, "quiet")
    await enqueue(db, clock, busy, *(f"notice {i}" for i in range(30)))
    transport = FakeTransport(interval=0.1)  # 30 notices: 3 seconds of pacing
    deliverer = Deliverer(db, [transport])  # the real clock: pacing is real time here
    stop = asyncio.Event()
    runner = asyncio.create_task(deliverer.run(stop))
    try:
        await asyncio.wait_for(transport.started.wait(), timeout=5)
        await enqueue(db, clock, quiet, "the prospect's details", recipient="U7")
        deliverer.wake()
        for _ in range(1000):
            if "the prospect's details" in transport.texts:
                break
            await asyncio.sleep(0.005)
    finally:
        stop.set()
        await asyncio.wait_for(runner, timeout=5)
    texts = transport.texts
    assert "the prospect's details" in texts
    notices = [t for t in texts if t.startswith("notice")]
    assert notices == [f"notice {i}" for i in range(len(notices))]  # in order, as queued
    assert len(notices) < 30  # the busy chat's backlog had not drained yet
    state = await by_text(db)
    assert state["notice 29"].status == "pending" and state["notice 29"].lease_until is None


async def test_a_chat_backlog_does_not_crowd_out_other_chats(db: Database, clock: Clock) -> None:
    busy, quiet = await make_group(db, clock, "busy"), await make_group(db, clock, "quiet")
    await enqueue(db, clock, busy, *(f"old {i}" for i in range(12)))
    clock.advance(seconds=1)
    await enqueue(db, clock, quiet, "newer", recipient="U7")
    transport = FakeTransport()
    deliverer = Deliverer(db, [transport], clock=clock, batch=4)  # fewer than the backlog

    assert await deliverer.run_once() == 2
    assert transport.texts == ["old 0", "newer"]
    while await deliverer.run_once():
        pass
    assert transport.texts == ["old 0", "newer", *(f"old {i}" for i in range(1, 12))]


async def test_pacing_holds_for_every_instance(db: Database, clock: Clock) -> None:
    group = await make_group(db, clock)
    await enqueue(db, clock, group, "one", "two")
    first, second = FakeTransport(interval=10.0), FakeTransport(interval=10.0)
    other_db = Database(db.url)  # another instance
    try:
        assert await Deliverer(db, [first], clock=clock).run_once() == 1
        later = Deliverer(other_db, [second], clock=clock)
        assert await later.run_once() == 0  # "two" waits for the chat's slot there too
        clock.advance(seconds=10)
        assert await later.run_once() == 1
    finally:
        await other_db.dispose()
    assert (first.texts, second.texts) == (["one"], ["two"])


async def test_an_overall_rate_spaces_every_chat(db: Database, clock: Clock) -> None:
    chats = [await make_group(db, clock, f"chat{i}") for i in range(4)]
    for group in chats:
        await enqueue(db, clock, group, f"to {group.chat_id}")
    transport = FakeTransport()
    transport.overall_rate = 20.0  # a post every 50 ms, whichever the chat
    assert await Deliverer(db, [transport], clock=clock).run_once() == 4
    gaps = [b - a for a, b in zip(transport.times, transport.times[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.04


async def test_rate_limit_is_honoured_and_pauses_the_chat(db: Database, clock: Clock) -> None:
    group, other = await make_group(db, clock), await make_group(db, clock, "other")
    await enqueue(db, clock, group, "first")
    await enqueue(db, clock, other, "elsewhere")
    transport = FakeTransport()
    transport.script["first"] = [Sent.rate_limited(5)]
    deliverer = Deliverer(db, [transport], clock=clock)
    start = clock.now

    assert await deliverer.run_once() == 2
    row = (await by_text(db))["first"]
    assert (row.status, row.next_attempt_at, row.lease_until) == (
        "pending",
        start + timedelta(seconds=5),
        None,
    )
    assert row.attempts == 0 and row.last_error == "rate limited"
    assert (await by_text(db))["elsewhere"].status == "sent"

    await enqueue(db, clock, group, "second")  # due now, but its chat is paused
    clock.advance(seconds=4.9)
    assert await deliverer.run_once() == 0
    assert transport.texts == ["first", "elsewhere"]
    second = (await by_text(db))["second"]
    assert (second.status, second.lease_until, second.attempts) == ("pending", None, 0)

    clock.advance(seconds=0.1)
    assert await deliverer.run_once() == 1
    assert await deliverer.run_once() == 1
    assert transport.texts == ["first", "elsewhere", "first", "second"]
    assert {r.status for r in await rows(db)} == {"sent"}


async def test_server_error_retried_with_backoff_then_sent(db: Database, clock: Clock) -> None:
    group = await make_group(db, clock)
    await enqueue(db, clock, group, "hi")
    transport = FakeTransport()
    transport.script["hi"] = [Sent.server_error("503"), Sent.server_error("502")]
    deliverer = Deliverer(db, [transport], clock=clock, base_backoff=1.0)

    for attempt, backoff in ((1, 1.0), (2, 2.0)):
        start = clock.now
        assert await deliverer.run_once() == 1
        [row] = await rows(db)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert start + timedelta(seconds=backoff) <= row.next_attempt_at
        assert row.next_attempt_at <= start + timedelta(seconds=backoff * 1.1)
        assert await deliverer.run_once() == 0  # not before its time
        assert len(transport.calls) == attempt
        clock.advance(seconds=backoff * 1.1)
    assert await deliverer.run_once() == 1
    [row] = await rows(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


async def test_failed_after_max_attempts(
    db: Database, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="referral_bot.delivery")
    group = await make_group(db, clock)
    await enqueue(db, clock, group, "hi")
    transport = FakeTransport()
    transport.script["hi"] = [Sent.server_error("503")] * 10
    deliverer = Deliverer(db, [transport], clock=clock, max_attempts=3, max_backoff=2.0)

    for _ in range(6):
        await deliverer.run_once()
        clock.advance(seconds=10)
    [row] = await rows(db)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "503")
    assert len(transport.calls) == 3
    [final] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"outbox {row.id} platform=fake outcome=server_error status=failed" in final.getMessage()


async def test_unreachable_is_failed_and_never_retried(db: Database, clock: Clock) -> None:
    group = await make_group(db, clock)
    await enqueue(db, clock, group, "hi", recipient="U9")
    transport = FakeTransport()
    transport.script["hi"] = [Sent.unreachable("account_inactive")]
    deliverer = Deliverer(db, [transport], clock=clock)

    assert await deliverer.run_once() == 1
    clock.advance(hours=1)
    assert await deliverer.run_once() == 0
    [row] = await rows(db)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "account_inactive")
    assert len(transport.calls) == 1


class LinkingTransport(FakeTransport):
    """A transport whose platform makes a link that opens the private chat (Telegram's)."""

    def start_link(self, code: str) -> str:
        return f"https://chat.example/bot?start={code}"


async def test_a_private_message_not_started_is_held_and_the_group_told(
    db: Database, clock: Clock
) -> None:
    group = await make_group(db, clock)
    other = await make_group(db, clock, "elsewhere")
    async with db.transaction() as session:
        session.add(Member(group_id=group.id, platform_user_id="U9", name="Bob",
                           joined_at=clock.now))  # fmt: skip
    await enqueue(db, clock, group, PHONE, "second", recipient="U9")
    await enqueue(db, clock, other, "third", recipient="U9")
    transport = LinkingTransport()
    for text in (PHONE, "second", "third"):
        transport.script[text] = [Sent.not_started("forbidden: not started")]
    deliverer = Deliverer(db, [transport], clock=clock)
    while await deliverer.run_once():
        pass

    state = await by_text(db)
    held = [state[text] for text in (PHONE, "second", "third")]
    assert {(row.status, row.attempts) for row in held} == {("held", 1)}
    [code] = {row.hold_code for row in held}  # one code for all of the person's messages
    assert code is not None and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code)
    notices = [m for m in transport.calls if m.recipient_user_id is None]
    assert [(m.chat_id, m.reply.text) for m in notices] == [  # once per group, never the text
        ("chapter", f"Bob, I have a private message for you: open "
                    f"https://chat.example/bot?start={code} and press Start."),
        ("elsewhere", "I have a private message for someone here who has not started a chat "
                      f"with me: open https://chat.example/bot?start={code} and press Start "
                      "(it opens only for them)."),
    ]  # fmt: skip

    async with db.transaction() as session:  # someone else's Start releases nothing
        assert await outbox.release_held(session, "fake", "", "U8", code, clock.now) == 0
    async with db.transaction() as session:
        assert await outbox.release_held(session, "fake", "", "U9", code, clock.now) == 3
    async with db.transaction() as session:  # once: the code is cleared
        assert await outbox.release_held(session, "fake", "", "U9", code, clock.now) == 0
    while await deliverer.run_once():
        pass
    assert {row.status for row in (await by_text(db)).values()} == {"sent"}
    assert [m.reply.text for m in transport.calls if m.recipient_user_id][-3:] == [
        PHONE, "second", "third"]  # fmt: skip


async def test_not_started_without_a_link_is_unreachable(db: Database, clock: Clock) -> None:
    group = await make_group(db, clock)
    await enqueue(db, clock, group, "hi", recipient="U9")
    transport = FakeTransport()  # a platform with no link to give (Slack)
    transport.script["hi"] = [Sent.not_started("forbidden")]
    deliverer = Deliverer(db, [transport], clock=clock)
    assert await deliverer.run_once() == 1
    assert await deliverer.run_once() == 0
    [row] = await rows(db)
    assert (row.status, row.hold_code) == ("failed", None)


async def test_transport_exception_retried_and_text_never_logged(
    db: Database, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="referral_bot.delivery")
    group = await make_group(db, clock)
    await enqueue(db, clock, group, PHONE, recipient="U1")
    transport = FakeTransport()
    transport.script[PHONE] = [RuntimeError(f"cannot post {PHONE!r}")]
    deliverer = Deliverer(db, [transport], clock=clock)

    assert await deliverer.run_once() == 1
    [row] = await rows(db)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error is not None and row.last_error.startswith("RuntimeError at ")
    assert "555" not in row.last_error
    [record] = caplog.records
    assert f"outbox {row.id} platform=fake outcome=server_error" in record.getMessage()
    assert record.exc_info is None
    assert "555" not in caplog.text and "Dana" not in caplog.text

    clock.advance(seconds=2)
    assert await deliverer.run_once() == 1
    assert (await rows(db))[0].status == "sent"


async def test_undecodable_payload_is_failed(db: Database, clock: Clock) -> None:
    group = await make_group(db, clock)
    await enqueue(db, clock, group, "hi")
    async with db.transaction() as session:
        row = (await session.exec(select(OutboxMessage))).one()
        row.payload = "{not json"
        session.add(row)
    transport = FakeTransport()
    assert await Deliverer(db, [transport], clock=clock).run_once() == 1
    [row] = await rows(db)
    assert (row.status, row.last_error) == ("failed", "bad payload: JSONDecodeError")
    assert transport.calls == []


async def test_two_instances_never_send_a_row_twice(db: Database, clock: Clock) -> None:
    groups = [await make_group(db, clock, f"chat{i}") for i in range(8)]
    for i in range(5):
        for group in groups:
            await enqueue(db, clock, group, f"{group.chat_id}-{i}")
    other_db = Database(db.url)  # a second instance: its own engine and pool
    journal: list[Outgoing] = []  # every send of both, in the order they happened
    try:
        first, second = FakeTransport(journal=journal), FakeTransport(journal=journal)
        first.rendezvous = second.rendezvous = asyncio.Barrier(2)  # both hold leases at once
        instances = [Deliverer(db, [first], clock=clock, batch=4),
                     Deliverer(other_db, [second], clock=clock, batch=4)]  # fmt: skip

        async def work(deliverer: Deliverer) -> None:
            for _ in range(200):
                if not await deliverer.run_once():
                    async with db.transaction() as session:
                        if not await outbox.pending_count(session):
                            return
                    await asyncio.sleep(0.005)

        await asyncio.gather(*(work(d) for d in instances))
    finally:
        await other_db.dispose()
    ids = [m.id for m in first.calls + second.calls]
    assert len(ids) == 40 and len(set(ids)) == 40
    assert first.calls and second.calls
    assert {(r.status, r.attempts) for r in await rows(db)} == {("sent", 1)}
    for group in groups:  # each chat's messages in the order they were queued
        sent = [m.reply.text for m in journal if m.chat_id == group.chat_id]
        assert sent == [f"{group.chat_id}-{i}" for i in range(5)]


async def test_rows_leased_by_a_dead_instance_are_sent_after_the_lease(
    db: Database, clock: Clock
) -> None:
    group = await make_group(db, clock)
    await enqueue(db, clock, group, "a", "b", "c")
    lease = timedelta(seconds=60)
    async with db.transaction() as session:  # the instance that dies holding the lease
        claimed = await outbox.claim(session, ["fake"], clock.now, lease, 10)
    transport = FakeTransport()
    survivor = Deliverer(db, [transport], clock=clock, lease=lease)

    assert [row.id for row in claimed] == [min(r.id or 0 for r in await rows(db))]  # "a"
    assert await survivor.run_once() == 0  # "a" is leased, and "b" and "c" come after it
    clock.advance(seconds=61)
    assert [await survivor.run_once() for _ in range(4)] == [1, 1, 1, 0]
    assert transport.texts == ["a", "b", "c"]
    async with db.transaction() as session:  # the dead one comes back: it cannot undo that
        zombie = claimed[0]
        assert zombie.id is not None
        undone = await outbox.settle(
            session, zombie.id, status="pending", now=clock.now, retry_at=clock.now,
            lease_until=zombie.lease_until,
        )  # fmt: skip
    assert not undone
    assert {r.status for r in await rows(db)} == {"sent"}


async def test_a_batch_cancelled_mid_send_loses_nothing(db: Database, clock: Clock) -> None:
    group = await make_group(db, clock)
    await enqueue(db, clock, group, "a", "b")
    hung = FakeTransport()
    hung.blocked = {"a"}
    batch = asyncio.create_task(Deliverer(db, [hung], clock=clock).run_once())
    await hung.started.wait()
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    state = await by_text(db)
    assert (state["a"].status, state["a"].lease_until is not None) == ("pending", True)
    assert (state["b"].status, state["b"].lease_until) == ("pending", None)

    clock.advance(seconds=61)
    transport = FakeTransport()
    deliverer = Deliverer(db, [transport], clock=clock)
    assert [await deliverer.run_once() for _ in range(3)] == [1, 1, 0]
    assert transport.texts == ["a", "b"]


async def test_run_stops_promptly_and_finishes_the_batch(db: Database, clock: Clock) -> None:
    group, other = await make_group(db, clock, "A"), await make_group(db, clock, "B")
    await enqueue(db, clock, group, "A0", "A1")
    await enqueue(db, clock, other, "B0")
    transport = FakeTransport(interval=10.0)  # A1 would wait 10s for its slot
    transport.blocked = {"A0"}
    stop = asyncio.Event()
    runner = asyncio.create_task(Deliverer(db, [transport], clock=clock).run(stop, idle=30))
    await transport.started.wait()
    stop.set()
    transport.gate.set()
    await asyncio.wait_for(runner, timeout=5)
    state = await by_text(db)
    assert (state["A0"].status, state["B0"].status) == ("sent", "sent")
    assert (state["A1"].status, state["A1"].lease_until, state["A1"].attempts) == (
        "pending",
        None,
        0,
    )


async def test_wake_sends_promptly_and_stop_ends_the_idle_wait(db: Database, clock: Clock) -> None:
    group = await make_group(db, clock)
    transport = FakeTransport()
    deliverer = Deliverer(db, [transport], clock=clock)
    stop = asyncio.Event()
    runner = asyncio.create_task(deliverer.run(stop, idle=30))
    await asyncio.sleep(0.05)  # now idle for up to 30s
    await enqueue(db, clock, group, "dm")
    deliverer.wake()
    await asyncio.wait_for(transport.started.wait(), timeout=5)
    stop.set()
    await asyncio.wait_for(runner, timeout=5)
    assert (await rows(db))[0].status == "sent"
