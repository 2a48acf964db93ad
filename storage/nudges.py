"""What the daily nudges check reads, aggregated in SQL (one statement each), and the one
write it makes: when each nudged member was nudged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import false, func, update
from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.directory import active
from storage.tables import Member, Referral


async def open_since(
    session: AsyncSession, group_id: int, before: datetime
) -> list[tuple[int, int, int, datetime, str]]:
    """The referrals still `open` that were given at or before `before`, oldest first:
    (receiver id, number, giver id, given at, prospect); voided ones left out."""
    statement = (
        select_columns(col(Referral.receiver_id), col(Referral.number), col(Referral.giver_id),
                       col(Referral.created_at), col(Referral.prospect))
        .where(col(Referral.group_id) == group_id, col(Referral.voided) == false(),
               col(Referral.status) == "open", col(Referral.created_at) <= before)
        .order_by(col(Referral.created_at), col(Referral.number))
    )  # fmt: skip
    rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    return [(int(r[0]), int(r[1]), int(r[2]), r[3], str(r[4])) for r in rows]


async def last_given(session: AsyncSession, group_id: int) -> dict[int, datetime]:
    """Each active member's latest referral given (not voided): member id -> when."""
    statement = (
        select(Referral.giver_id, func.max(Referral.created_at))
        .join(Member, col(Member.id) == col(Referral.giver_id))
        .where(col(Referral.group_id) == group_id, col(Referral.voided) == false(), active())
        .group_by(col(Referral.giver_id))
    )
    return {int(giver): at for giver, at in (await session.exec(statement)).all()}


async def mark_nudged(session: AsyncSession, member_ids: Sequence[int], now: datetime) -> None:
    """These members were nudged at `now` (the next may come a week later)."""
    if member_ids:
        statement = update(Member).where(col(Member.id).in_(member_ids)).values(nudged_at=now)
        await session.exec(statement)
