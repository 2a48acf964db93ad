"""The outbox: messages written with the entry that caused them, delivered later.

A chat's messages go out one at a time, in the order they were written: only a chat's
earliest pending message (its head) can be claimed, and the next one becomes the head
when that one is settled. A head that waits (a 429's Retry-After, a 5xx's backoff, the
chat's pacing) holds its chat back and no other. A private message its recipient cannot
get yet (they never opened the private chat) is held under a one-time code until they do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, or_, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.statements import Prepared, insert_values
from storage.tables import Group, OutboxMessage
from storage.units import Unit

PENDING, SENT, FAILED, HELD = "pending", "sent", "failed", "held"
OUTBOX: Any = SQLModel.metadata.tables["outbox"]
_COLUMNS = (
    "group_id", "platform", "workspace_id", "chat_id", "recipient_user_id", "payload", "image",
    "status", "attempts", "next_attempt_at", "created_at", "thread_id",
)  # fmt: skip
_ENQUEUE = Prepared(insert_values(OUTBOX, _COLUMNS))


@dataclass(frozen=True)
class Message:
    """One message to queue: for the group's chat, or privately for `recipient_user_id`."""

    payload: dict[str, Any]
    recipient_user_id: str | None = None
    image: bytes | None = None


async def enqueue(
    unit: Unit, group: Group, messages: Sequence[Message], now: datetime,
    thread_id: str | None = None,
) -> None:  # fmt: skip
    """Queue messages for the group's platform, in the unit's transaction (the group's
    posts to the forum topic `thread_id` when given)."""
    common = dict(
        group_id=group.id, platform=group.platform, workspace_id=group.workspace_id,
        chat_id=group.chat_id, status=PENDING, attempts=0, next_attempt_at=now, created_at=now,
        thread_id=thread_id,
    )  # fmt: skip
    rows = [
        {**common, "recipient_user_id": m.recipient_user_id, "image": m.image}
        | {"payload": orjson.dumps(m.payload).decode()}
        for m in messages
    ]
    await unit.execute_many(_ENQUEUE, rows)


# A destination, as `bot.delivery.ChatKey` has it: a group's chat, or one user privately
# (whichever group a private message came from).
_CHAT = (
    col(OutboxMessage.platform),
    col(OutboxMessage.workspace_id),
    func.coalesce(col(OutboxMessage.recipient_user_id), col(OutboxMessage.chat_id)),
    col(OutboxMessage.recipient_user_id).is_(None),
)


def _same_chat(row: OutboxMessage) -> list[Any]:
    """The conditions for a message to go where `row` goes."""
    where = [col(OutboxMessage.platform) == row.platform,
             col(OutboxMessage.workspace_id) == row.workspace_id]  # fmt: skip
    if row.recipient_user_id is None:
        return [*where, col(OutboxMessage.recipient_user_id).is_(None),
                col(OutboxMessage.chat_id) == row.chat_id]  # fmt: skip
    return [*where, col(OutboxMessage.recipient_user_id) == row.recipient_user_id]


async def claim(
    session: AsyncSession, platforms: Sequence[str], now: datetime, lease: timedelta, limit: int
) -> list[OutboxMessage]:
    """Lease the heads of up to `limit` chats (each chat's earliest pending message) that
    are due, the longest due first; another instance skips leased ones."""
    heads = (
        select(func.min(OutboxMessage.id))
        .where(OutboxMessage.status == PENDING, col(OutboxMessage.platform).in_(platforms))
        .group_by(*_CHAT)
    )
    due = (
        select(OutboxMessage.id)
        .where(col(OutboxMessage.id).in_(heads), OutboxMessage.next_attempt_at <= now)
        .where(or_(col(OutboxMessage.lease_until).is_(None), col(OutboxMessage.lease_until) < now))
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list((await session.exec(due)).all())
    if not ids:
        return []
    await session.exec(
        update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(lease_until=now + lease)
    )
    rows = await session.exec(
        select(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).order_by(col(OutboxMessage.id))
    )
    return list(rows.all())


async def settle(
    session: AsyncSession,
    message_id: int,
    *,
    status: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
    lease_until: datetime | None = None,
) -> bool:
    """Record the outcome of one delivery attempt.

    With `lease_until` (the value `claim` set) nothing changes when the lease was
    lost to another instance; returns whether the row was updated.
    """
    values: dict[str, Any] = {"status": status, "last_error": error, "lease_until": None}
    if status == SENT:
        values["sent_at"] = now
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    statement = update(OutboxMessage).where(col(OutboxMessage.id) == message_id)
    if lease_until is not None:
        statement = statement.where(
            col(OutboxMessage.status) == PENDING, col(OutboxMessage.lease_until) == lease_until
        )
    result = await session.exec(statement.values(attempts=OutboxMessage.attempts + 1, **values))
    return bool(result.rowcount)


async def pace(session: AsyncSession, row: OutboxMessage, until: datetime) -> None:
    """The next message to `row`'s chat waits until `until` (the chat's pacing, kept where
    every instance sees it)."""
    head = select(func.min(OutboxMessage.id)).where(
        OutboxMessage.status == PENDING, *_same_chat(row)
    )
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == head.scalar_subquery())
        .where(col(OutboxMessage.next_attempt_at) < until)
        .values(next_attempt_at=until)
    )


async def release(
    session: AsyncSession,
    message_ids: Sequence[int],
    *,
    lease_until: datetime,
    retry_at: datetime | None = None,
    error: str | None = None,
) -> int:
    """Hand leased messages back unsent, without counting an attempt (not before `retry_at`)."""
    values: dict[str, Any] = {"lease_until": None}
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    if error is not None:
        values["last_error"] = error
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(message_ids), col(OutboxMessage.status) == PENDING)
        .where(col(OutboxMessage.lease_until) == lease_until)
        .values(**values)
    )
    return int(result.rowcount)


async def pending_count(session: AsyncSession) -> int:
    """How many messages wait to be sent."""
    statement = (
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
    )
    return int((await session.exec(statement)).one())


def _recipient(platform: str, workspace_id: str, user_id: str) -> list[Any]:
    return [col(OutboxMessage.platform) == platform,
            col(OutboxMessage.workspace_id) == workspace_id,
            col(OutboxMessage.recipient_user_id) == user_id]  # fmt: skip


async def held_for(
    session: AsyncSession, row: OutboxMessage, written_since: datetime | None = None
) -> list[tuple[str, int]]:
    """The codes the held messages to `row`'s recipient wait under, with the group each came
    from (the earliest code first); only messages written since `written_since`, if given."""
    assert row.recipient_user_id is not None
    since = [] if written_since is None else [col(OutboxMessage.created_at) >= written_since]
    statement = (
        select(OutboxMessage.hold_code, OutboxMessage.group_id)
        .where(col(OutboxMessage.status) == HELD, col(OutboxMessage.hold_code).is_not(None))
        .where(*since)
        .where(*_recipient(row.platform, row.workspace_id, row.recipient_user_id))
        .group_by(col(OutboxMessage.hold_code), col(OutboxMessage.group_id))
        .order_by(func.min(OutboxMessage.id))
    )
    return [(str(code), int(group)) for code, group in (await session.exec(statement)).all()]


async def hold(
    session: AsyncSession, row: OutboxMessage, code: str, *, error: str, lease_until: datetime
) -> bool:
    """Hold a leased private message under `code` (fenced by the lease, as `settle`)."""
    values = dict(status=HELD, hold_code=code, lease_until=None, last_error=error)
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == PENDING)
        .where(col(OutboxMessage.lease_until) == lease_until)
        .values(attempts=OutboxMessage.attempts + 1, **values)
    )
    return bool(result.rowcount)


async def post_in_group(
    session: AsyncSession, row: OutboxMessage, payload: dict[str, Any], now: datetime
) -> None:
    """Queue a notice in the group chat `row` came from (in its topic, if it has one)."""
    session.add(OutboxMessage(
        group_id=row.group_id, platform=row.platform, workspace_id=row.workspace_id,
        chat_id=row.chat_id, thread_id=row.thread_id, payload=orjson.dumps(payload).decode(),
        status=PENDING, attempts=0, next_attempt_at=now, created_at=now,
    ))  # fmt: skip


async def expire_held(
    session: AsyncSession, platform: str, workspace_id: str, user_id: str, code: str | None,
    written_before: datetime,
) -> int:  # fmt: skip
    """The messages held for this person (under `code`, or with None all) that were written
    before `written_before` are given up (failed, their code cleared); how many."""
    statement = update(OutboxMessage).where(
        col(OutboxMessage.status) == HELD,
        *_recipient(platform, workspace_id, user_id),
        col(OutboxMessage.created_at) < written_before,
    )
    if code is not None:
        statement = statement.where(col(OutboxMessage.hold_code) == code)
    values = dict(status=FAILED, hold_code=None, lease_until=None, last_error="held too long")
    result = await session.exec(statement.values(**values))
    return int(result.rowcount or 0)


async def release_held(
    session: AsyncSession, platform: str, workspace_id: str, user_id: str, code: str | None,
    now: datetime,
) -> int:  # fmt: skip
    """Make the messages held for this person due now, once (their code is cleared): those
    held under `code`, or with None all of them; how many."""
    statement = update(OutboxMessage).where(
        col(OutboxMessage.status) == HELD, *_recipient(platform, workspace_id, user_id)
    )
    if code is not None:
        statement = statement.where(col(OutboxMessage.hold_code) == code)
    result = await session.exec(
        statement.values(status=PENDING, hold_code=None, next_attempt_at=now, lease_until=None)
    )
    return int(result.rowcount or 0)
