"""A group's chat as the platform sees it: a chat that changes its id (a Telegram group
upgraded to a supergroup keeps its group), and a chat that no longer takes the bot's posts
(`groups.unreachable_since`, `bot.reachability`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import Group, OutboxMessage
from storage.units import Unit


async def move_chat(unit: Unit, platform: str, old_chat_id: str, new_chat_id: str) -> bool:
    """Give the group of `old_chat_id` (its members, entries, settings) and its unsent
    messages the chat's new id; False when there is no such group, or the new chat has a
    group of its own already (then both are left as they are)."""
    session = unit.session
    taken = select(Group.id).where(col(Group.platform) == platform,
                                   col(Group.chat_id).in_([old_chat_id, new_chat_id]))  # fmt: skip
    found = (await session.exec(taken)).all()
    if len(found) != 1:
        return False
    moved = await session.exec(
        update(Group)
        .where(col(Group.platform) == platform, col(Group.chat_id) == old_chat_id)
        .values(chat_id=new_chat_id)
    )
    if not moved.rowcount:
        return False
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.platform) == platform,
            col(OutboxMessage.chat_id) == old_chat_id,
            col(OutboxMessage.sent_at).is_(None),
        )
        .values(chat_id=new_chat_id)
    )
    return True


async def mark_unreachable(session: AsyncSession, group_id: int, now: datetime) -> None:
    """A post to the group's chat was refused for good: unreachable since now, unless it
    was already (the first refusal's time is kept)."""
    await session.exec(
        update(Group)
        .where(col(Group.id) == group_id)
        .values(unreachable_since=func.coalesce(col(Group.unreachable_since), now))
    )


async def give_up_chat(unit: Unit, platform: str, chat_id: str, now: datetime) -> int:
    """The bot was removed from a group chat: the group is unreachable from now, and its
    unsent group posts fail (kept, with the reason, never retried); private messages to
    members are not affected."""
    await unit.session.exec(
        update(Group)
        .where(col(Group.platform) == platform, col(Group.chat_id) == chat_id)
        .values(unreachable_since=func.coalesce(col(Group.unreachable_since), now))
    )
    result = await unit.session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.platform) == platform,
            col(OutboxMessage.chat_id) == chat_id,
            col(OutboxMessage.recipient_user_id).is_(None),
            col(OutboxMessage.status) == "pending",
        )
        .values(status="failed", last_error="removed from the chat")
    )
    return int(result.rowcount or 0)
