"""The one loop that delivers outbox rows through the adapter that owns the chat.

Rows are leased (`storage.outbox.claim`), sent paced per chat (one chat's rows
in order, different chats concurrently) and settled one by one, each in its own
short transaction, fenced by the lease so a row another instance took over is
never reset. Nothing here logs message text: it can hold a prospect's details.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple, Protocol

from bot.messages import Reply
from storage import outbox
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


@dataclass(frozen=True)
class Sent:
    """The result of one send. `reason` is a platform error code, never message text."""

    outcome: Outcome
    retry_after: float = 0.0
    reason: str = ""

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
    def unreachable(cls, reason: str) -> Sent:
        return cls(Outcome.UNREACHABLE, reason=reason)


class Transport(Protocol):
    """What an adapter implements to deliver outbox rows on its platform."""

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
                    row.recipient_user_id, reply, row.image, name)  # fmt: skip


class Deliverer:
    """Claims due outbox rows and sends them through the transports, paced per chat."""

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
        self._next_slot: dict[tuple[str, ChatKey], datetime] = {}  # pacing: sleep until
        self._held: dict[tuple[str, ChatKey], datetime] = {}  # 429/backoff: hand rows back
        self._wake = asyncio.Event()
        self._stop: asyncio.Event | None = None

    def wake(self) -> None:
        """Look for due rows now (call after a command committed)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        """Deliver until `stop` is set; sends in flight finish, unstarted rows are handed back."""
        self._stop = stop
        watcher = asyncio.create_task(self._wake_on(stop))
        try:
            while not stop.is_set():
                try:
                    settled = await self.run_once()
                except Exception:  # the database, most likely (no message text is bound)
                    log.exception("delivery batch failed; retrying")
                    settled = 0
                if not settled and not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), idle)
                    self._wake.clear()
        finally:
            watcher.cancel()
            self._stop = None

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch, send it, and return how many rows were settled."""
        now = self.clock()
        for table in (self._next_slot, self._held):
            for key in [k for k, until in table.items() if until <= now]:
                del table[key]
        async with self.db.transaction() as session:
            rows = await outbox.claim(session, list(self.transports), now, self.lease, self.batch)
        chats: dict[tuple[str, ChatKey], list[OutboxMessage]] = {}
        for row in rows:
            key = (row.platform, chat_key(row.workspace_id, row.chat_id, row.recipient_user_id))
            chats.setdefault(key, []).append(row)
        deadline = asyncio.get_running_loop().time() + self.lease.total_seconds() * 0.8
        # one chat's database error must not cut the other chats' sends short
        results = await asyncio.gather(
            *(self._chat(key, chat_rows, deadline) for key, chat_rows in chats.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return sum(r for r in results if isinstance(r, int))

    async def _chat(
        self, key: tuple[str, ChatKey], rows: list[OutboxMessage], deadline: float
    ) -> int:
        """Send one chat's rows in order; hand back the rest when it must wait or stop."""
        transport = self.transports[key[0]]
        interval = max(0.0, transport.min_interval(key[1]))
        loop = asyncio.get_running_loop()
        settled, rest, hold = 0, list[OutboxMessage](), None
        for i, row in enumerate(rows):
            now = self.clock()
            if key in self._held and self._held[key] > now:
                rest, hold = rows[i:], self._held[key]
                break
            wait = max(0.0, (self._next_slot.get(key, now) - now).total_seconds())
            stopping = self._stop is not None and self._stop.is_set()
            late = loop.time() + wait + self.send_timeout > deadline
            if (stopping and wait) or late or (wait and await self._pause(wait)):
                rest = rows[i:]
                break
            result = await self._attempt(transport, row)
            self._next_slot[key] = self.clock() + timedelta(seconds=interval)
            applied, retry_at = await self._settle(row, result)
            settled += applied
            if applied and retry_at is not None:  # keep the chat's order: hold the rest
                self._held[key] = max(retry_at, self._held.get(key, retry_at))
                rest, hold = rows[i + 1 :], retry_at
                break
        await self._release(rest, hold)
        return settled

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
                return await transport.send(message)
        except Exception as exc:  # a bug or a network error; its text may quote the message
            frames = traceback.extract_tb(exc.__traceback__)
            where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
            return Sent.server_error(f"{type(exc).__name__}{where}")

    async def _settle(self, row: OutboxMessage, result: Sent) -> tuple[bool, datetime | None]:
        """Record `result`; returns whether it applied and when the row is retried."""
        assert row.id is not None and row.lease_until is not None
        now, reason = self.clock(), result.reason[:200]
        status, retry_at = outbox.SENT, None
        if result.outcome is Outcome.RATE_LIMITED:
            status, retry_at = outbox.PENDING, now + timedelta(seconds=max(1.0, result.retry_after))
        elif result.outcome is Outcome.SERVER_ERROR and row.attempts + 1 < self.max_attempts:
            delay = self.base_backoff * 2 ** min(row.attempts, 32) * random.uniform(1.0, 1.1)
            status, retry_at = outbox.PENDING, now + timedelta(seconds=min(self.max_backoff, delay))
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
        if not applied or result.outcome is not Outcome.OK:
            level = logging.ERROR if status == outbox.FAILED else logging.WARNING
            log.log(level, "outbox %d platform=%s outcome=%s status=%s attempt=%d reason=%s",
                    row.id, row.platform, result.outcome.value,
                    status if applied else "lease lost", row.attempts + 1, reason)  # fmt: skip
        return applied, retry_at

    async def _release(self, rows: list[OutboxMessage], retry_at: datetime | None) -> None:
        """Hand unsent rows back (all of a batch share one lease)."""
        if rows and rows[0].lease_until is not None:
            ids = [row.id for row in rows if row.id is not None]
            async with self.db.transaction() as session:
                await outbox.release(
                    session, ids, lease_until=rows[0].lease_until, retry_at=retry_at
                )
