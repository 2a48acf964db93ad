"""The one loop that delivers outbox rows through the adapter that owns the chat.

Rows are leased (`storage.outbox.claim`: a chat's earliest pending row, one per
chat), sent paced per chat (one chat's rows in order, different chats
independently: none waits for another) and settled one by one, each in its own
short transaction, fenced by the lease so a row another instance took over is
never reset. A row that carries a chart to draw (`bot.charts`) has it drawn just before it is
sent. A private message whose recipient never opened the private chat with the
bot (or blocked it) is held for them (`bot.held`). Nothing here logs message text: it
can hold a prospect's details.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import traceback
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from bot import charts, held
from bot.messages import Reply
from storage import chats, outbox
from storage.clock import utcnow
from storage.database import Database
from storage.tables import OutboxMessage

log = logging.getLogger("referral_bot.delivery")


class ChatKey(NamedTuple):
    """One destination to pace: a group chat, or one user privately (`chat_id` is the user)."""

    workspace_id: str
    chat_id: str
    private: bool


@dataclass(frozen=True)
class Outgoing:
    """One outbox row to send; `recipient_user_id` None means post in the group chat."""

    id: int
    group_id: int
    workspace_id: str
    chat_id: str
    recipient_user_id: str | None
    reply: Reply
    image: bytes | None = None
    image_name: str | None = None
    thread_id: str | None = None  # a group post's forum topic (None: the chat itself)

    @property
    def chat_key(self) -> ChatKey:
        """Where this goes, for pacing."""
        return chat_key(self.workspace_id, self.chat_id, self.recipient_user_id)


def chat_key(workspace_id: str, chat_id: str, recipient_user_id: str | None) -> ChatKey:
    """The group chat, or the recipient when the message is private."""
    private = recipient_user_id is not None
    return ChatKey(workspace_id, recipient_user_id or chat_id, private)


class Outcome(StrEnum):
    """What the platform said."""

    OK = "ok"
    RATE_LIMITED = "rate_limited"  # try again after `retry_after` seconds
    SERVER_ERROR = "server_error"  # transient (5xx, network): retried with backoff
    UNREACHABLE = "unreachable"  # blocked, chat gone, bot removed: failed, never retried
    # the person must open the private chat first (never started it, or blocked the bot):
    # held until they do, where the transport has a `start_link`; else as UNREACHABLE
    NOT_STARTED = "not_started"


@dataclass(frozen=True)
class Sent:
    """The result of one send. `reason` is a platform error code, never message text."""

    outcome: Outcome
    retry_after: float = 0.0
    reason: str = ""
    # UNREACHABLE because the chat itself no longer takes the bot's posts (removed from it,
    # the channel gone): a group post marks its group unreachable (`bot.reachability`)
    chat_gone: bool = False

    @classmethod
    def ok(cls) -> Sent:
        return cls(Outcome.OK)

    @classmethod
    def rate_limited(cls, retry_after: float) -> Sent:
        return cls(Outcome.RATE_LIMITED, retry_after=retry_after, reason="rate limited")

    @classmethod
    def server_error(cls, reason: str) -> Sent:
        return cls(Outcome.SERVER_ERROR, reason=reason)

    @classmethod
    def unreachable(cls, reason: str, *, chat_gone: bool = False) -> Sent:
        return cls(Outcome.UNREACHABLE, reason=reason, chat_gone=chat_gone)

    @classmethod
    def not_started(cls, reason: str) -> Sent:
        return cls(Outcome.NOT_STARTED, reason=reason)


class Transport(Protocol):
    """What an adapter implements to deliver outbox rows on its platform.

    Its pacing: `min_interval(chat)`, the seconds between two posts to one chat (Slack
    about 1; Telegram 1 in a private chat, 3 in a group for its 20 a minute), and, where
    the platform limits the bot as a whole, an `overall_rate` attribute: posts a second
    across all its chats (Telegram 30). None or absent: no overall limit.

    A transport that answers `Sent.not_started` has `start_link(code)`: the link that
    opens the private chat with the bot and hands it `code` (Telegram's deep link).
    """

    platform: str

    async def send(self, message: Outgoing) -> Sent: ...

    def min_interval(self, chat: ChatKey) -> float: ...  # seconds between two posts to one chat


def outgoing(row: OutboxMessage) -> Outgoing:
    """The row as a message (raises ValueError/KeyError/TypeError on a bad payload)."""
    assert row.id is not None
    data = json.loads(row.payload)
    name = data.get("image_name") or ("image.png" if row.image else None)
    reply = replace(Reply.from_json(data), image=row.image, image_name=name)
    return Outgoing(row.id, row.group_id, row.workspace_id, row.chat_id,
                    row.recipient_user_id, reply, row.image, name, row.thread_id)  # fmt: skip


async def drawn(message: Outgoing, db: Database) -> Outgoing:
    """The message with its chart drawn (`bot.charts`), when it carries one to draw."""
    chart = message.reply.chart
    if chart is None or message.image is not None:
        return message
    png, name = await charts.picture(chart, db), message.image_name or "chart.png"
    reply = replace(message.reply, image=png, image_name=name, chart=None)
    return replace(message, reply=reply, image=png, image_name=name)


class Deliverer:
    """Claims due outbox rows and sends them through the transports, paced per chat.

    A chat has one row in flight at a time (its head: `storage.outbox.claim`), and each
    row is its own task: a chat that waits for its pacing, a 429's Retry-After or a
    5xx's backoff holds back its own later rows and nobody else's. `batch` bounds the
    rows in flight at once (so the chats served at once).
    """

    def __init__(
        self,
        db: Database,
        transports: Sequence[Transport],
        clock: Callable[[], datetime] = utcnow,
        batch: int = 50,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
        base_backoff: float = 1.0,
        max_backoff: float = 300.0,
    ) -> None:
        self.db, self.clock, self.batch, self.lease = db, clock, batch, lease
        self.max_attempts = max_attempts
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self.transports = {t.platform: t for t in transports}
        if len(self.transports) != len(transports):
            raise ValueError("one transport per platform")
        self.send_timeout = lease.total_seconds() / 3
        self._next_slot: dict[tuple[str, ChatKey], datetime] = {}  # a chat's next post
        self._overall_slot: dict[str, datetime] = {}  # a transport's next post (overall_rate)
        self._due: datetime | None = None  # the earliest time a row held back becomes due
        self._in_flight: set[asyncio.Task[int]] = set()
        self._wake = asyncio.Event()
        self._stop: asyncio.Event | None = None

    def wake(self) -> None:
        """Look for due rows now (call after a command committed)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        """Deliver until `stop` is set; sends in flight finish, unstarted rows are handed back.

        Claims again whenever a row is settled or `wake` is called, and when a row held
        back becomes due; at the latest every `idle` seconds.
        """
        self._stop = stop
        watcher = asyncio.create_task(self._wake_on(stop))
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self._claim(self._logged)
                except Exception:  # the database, most likely (no message text is bound)
                    log.exception("delivery claim failed; retrying")
                if not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._idle(idle))
        finally:
            watcher.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)
            self._stop = None

    async def run_once(self) -> int:
        """Claim the due rows (one per chat), send them, and return how many were settled."""
        tasks = await self._claim(self._deliver)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:  # every row is settled or handed back before this raises
            if isinstance(result, BaseException):
                raise result
        return sum(r for r in results if isinstance(r, int))

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    def _idle(self, idle: float) -> float:
        """Seconds to wait for a wake-up: until the earliest row held back is due."""
        if self._due is None:
            return idle
        return min(idle, max(0.0, (self._due - self.clock()).total_seconds()))

    async def _claim(
        self, deliver: Callable[[OutboxMessage], Coroutine[Any, Any, int]]
    ) -> list[asyncio.Task[int]]:
        """Lease the due chats' heads, as many as there is room for; a task for each."""
        room = self.batch - len(self._in_flight)
        if room <= 0:
            return []
        now = self.clock()
        for key in [k for k, until in self._next_slot.items() if until <= now]:
            del self._next_slot[key]
        if self._due is not None and self._due <= now:
            self._due = None
        async with self.db.transaction() as session:
            rows = await outbox.claim(session, list(self.transports), now, self.lease, room)
        tasks = [asyncio.create_task(deliver(row)) for row in rows]
        for task in tasks:
            self._in_flight.add(task)
            task.add_done_callback(self._settled)
        return tasks

    def _settled(self, task: asyncio.Task[int]) -> None:
        self._in_flight.discard(task)
        self._wake.set()  # room for another chat, and maybe this chat's next row

    async def _logged(self, row: OutboxMessage) -> int:
        """`_deliver` in the loop: an error is logged; the row stays leased until its lease
        ends, and is claimed again then."""
        try:
            return await self._deliver(row)
        except Exception:  # the database, most likely (no message text is bound)
            log.exception("outbox %s: delivery failed; retried after its lease", row.id)
            return 0

    async def _deliver(self, row: OutboxMessage) -> int:
        """Send one row when its chat (and its transport) may post again; settle it."""
        assert row.lease_until is not None
        transport = self.transports[row.platform]
        key = (row.platform, chat_key(row.workspace_id, row.chat_id, row.recipient_user_id))
        now = self.clock()
        wait = max(0.0, (self._next_slot.get(key, now) - now).total_seconds())
        wait = max(wait, self._overall_wait(transport, now, wait))
        left = (row.lease_until - now).total_seconds()
        stopping = self._stop is not None and self._stop.is_set()
        if wait and (stopping or wait + self.send_timeout > left):  # hand it back meanwhile
            await self._release(row, None if stopping else now + timedelta(seconds=wait))
            return 0
        if wait and await self._pause(wait):
            await self._release(row, None)
            return 0
        result = await self._attempt(transport, row)
        interval = max(0.0, transport.min_interval(key[1]))
        self._next_slot[key] = slot = self.clock() + timedelta(seconds=interval)
        return int(await self._settle(row, result, slot if interval else None))

    def _overall_wait(self, transport: Transport, now: datetime, wait: float) -> float:
        """Seconds until the transport may post again overall; books that post's slot."""
        rate = getattr(transport, "overall_rate", None)
        if not rate:
            return 0.0
        at = max(now + timedelta(seconds=wait), self._overall_slot.get(transport.platform, now))
        self._overall_slot[transport.platform] = at + timedelta(seconds=1 / rate)
        return (at - now).total_seconds()

    async def _pause(self, seconds: float) -> bool:
        """Sleep; True when stopped meanwhile."""
        if self._stop is None:
            await asyncio.sleep(seconds)
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    async def _attempt(self, transport: Transport, row: OutboxMessage) -> Sent:
        try:
            message = outgoing(row)
        except (ValueError, KeyError, TypeError) as exc:
            return Sent.unreachable(f"bad payload: {type(exc).__name__}")
        try:
            async with asyncio.timeout(self.send_timeout):
                message = await drawn(message, self.db)
        except Exception as exc:  # a drawing process died, or took too long: tried again
            return Sent.server_error(f"chart not drawn: {type(exc).__name__}")
        try:
            async with asyncio.timeout(self.send_timeout):
                return await transport.send(message)
        except Exception as exc:  # a bug or a network error; its text may quote the message
            frames = traceback.extract_tb(exc.__traceback__)
            where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
            return Sent.server_error(f"{type(exc).__name__}{where}")

    async def _settle(self, row: OutboxMessage, result: Sent, slot: datetime | None) -> bool:
        """Record `result` (with the chat's next row held until `slot`, once this one is
        done with); returns whether it applied (the lease was still this instance's)."""
        assert row.id is not None and row.lease_until is not None
        now, reason = self.clock(), result.reason[:200]
        status, retry_at = outbox.SENT, None
        if result.outcome is Outcome.RATE_LIMITED:
            status, retry_at = outbox.PENDING, now + timedelta(seconds=max(1.0, result.retry_after))
        elif result.outcome is Outcome.SERVER_ERROR and row.attempts + 1 < self.max_attempts:
            delay = self.base_backoff * 2 ** min(row.attempts, 32) * random.uniform(1.0, 1.1)
            status, retry_at = outbox.PENDING, now + timedelta(seconds=min(self.max_backoff, delay))
        elif result.outcome is Outcome.NOT_STARTED and (link := self._start_link(row)):
            return await self._hold(row, link, reason)
        elif result.outcome is not Outcome.OK:
            status = outbox.FAILED
        async with self.db.transaction() as session:
            if result.outcome is Outcome.RATE_LIMITED:  # not the message's fault: no attempt
                applied = bool(await outbox.release(
                    session, [row.id], lease_until=row.lease_until, retry_at=retry_at, error=reason
                ))  # fmt: skip
            else:
                applied = await outbox.settle(
                    session, row.id, status=status, now=now, retry_at=retry_at,
                    error=None if status == outbox.SENT else reason, lease_until=row.lease_until,
                )  # fmt: skip
            if applied and status != outbox.PENDING and slot is not None:
                await outbox.pace(session, row, slot)
            if applied and result.chat_gone and row.recipient_user_id is None:
                await chats.mark_unreachable(session, row.group_id, now)
        if applied:
            self._held_until(retry_at if status == outbox.PENDING else slot)
        if not applied or result.outcome is not Outcome.OK:
            level = logging.ERROR if status == outbox.FAILED else logging.WARNING
            log.log(level, "outbox %d platform=%s outcome=%s status=%s attempt=%d reason=%s",
                    row.id, row.platform, result.outcome.value,
                    status if applied else "lease lost", row.attempts + 1, reason)  # fmt: skip
        return applied

    def _start_link(self, row: OutboxMessage) -> Callable[[str], str] | None:
        """How to link to the private chat, for a private row on a transport that can."""
        transport = self.transports[row.platform]
        link: Callable[[str], str] | None = getattr(transport, "start_link", None)
        return link if row.recipient_user_id is not None else None

    async def _hold(self, row: OutboxMessage, link: Callable[[str], str], reason: str) -> bool:
        """Hold a private row its recipient cannot get yet; their group is told (`bot.held`)."""
        now = self.clock()
        applied = await self.db.run(lambda unit: held.hold(unit, row, link, reason, now))
        log.warning("outbox %d platform=%s outcome=not_started status=%s reason=%s",
                    row.id, row.platform, "held" if applied else "lease lost", reason)  # fmt: skip
        if applied:
            self._wake.set()  # the group's notice is due
        return applied

    def _held_until(self, when: datetime | None) -> None:
        """Remember when a row held back becomes due, to claim it then (`run`)."""
        if when is not None and (self._due is None or when < self._due):
            self._due = when

    async def _release(self, row: OutboxMessage, retry_at: datetime | None) -> None:
        """Hand an unsent row back, due again at `retry_at` (now when None)."""
        assert row.id is not None and row.lease_until is not None
        async with self.db.transaction() as session:
            await outbox.release(session, [row.id], lease_until=row.lease_until, retry_at=retry_at)
        self._held_until(retry_at)
