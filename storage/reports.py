"""Balances and leaderboards, aggregated in SQL over the indexed ledger tables."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, false, func, literal, or_, select, true, union_all
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.money_type import Money
from storage.tables import Member, OneToOne, Referral, Thanks, Visitor


@dataclass
class Totals:
    """One member's numbers over one window."""

    given: int = 0
    received: int = 0
    credited: dict[str, Decimal] = field(default_factory=dict)  # thanks received, by currency
    thanked: dict[str, Decimal] = field(default_factory=dict)  # thanks given, by currency
    one_to_ones: int = 0
    visitors: int = 0


async def totals(
    session: AsyncSession, member_id: int, start: datetime | None, end: datetime
) -> Totals:
    """A member's balance between `start` (None: the beginning) and `end`."""

    def count(model: Any, *where: ColumnElement[bool]) -> Any:
        return (
            select(func.count())
            .select_from(model)
            .where(*_live(model, start, end), *where)
            .scalar_subquery()
        )

    a_side, b_side = col(OneToOne.member_a_id), col(OneToOne.member_b_id)
    counts = select(
        count(Referral, col(Referral.giver_id) == member_id),
        count(Referral, col(Referral.receiver_id) == member_id),
        count(OneToOne, or_(a_side == member_id, b_side == member_id)),
        count(Visitor, col(Visitor.host_id) == member_id),
    )
    given, received, one_to_ones, visitors = (await session.execute(counts)).one()
    result = Totals(int(given), int(received), one_to_ones=int(one_to_ones), visitors=int(visitors))

    def amounts(direction: str, column: Any) -> Any:
        total = func.sum(col(Thanks.amount), type_=Money)
        return (
            select(literal(direction), col(Thanks.currency), total)
            .where(column == member_id, col(Thanks.amount).is_not(None), *_live(Thanks, start, end))
            .group_by(col(Thanks.currency))
        )

    rows = await session.execute(
        union_all(amounts("credited", Thanks.to_id), amounts("thanked", Thanks.from_id))
    )
    for direction, currency, total in rows:
        getattr(result, direction)[currency] = Decimal(total)
    return result


def _live(model: Any, start: datetime | None, end: datetime) -> list[ColumnElement[bool]]:
    """Not voided, and created in [start, end)."""
    created = col(model.created_at)
    since = created >= start if start is not None else true()
    return [col(model.voided) == false(), since, created < end]


@dataclass
class Standing:
    """One member's line on the leaderboard."""

    member_id: int
    name: str
    given: int = 0
    credited: Decimal = Decimal(0)
    one_to_ones: int = 0


async def leaderboard(
    session: AsyncSession, group_id: int, currency: str, start: datetime | None, end: datetime
) -> list[Standing]:
    """Every member with activity in the window, best first."""
    lines: dict[int, dict[str, Any]] = defaultdict(dict)

    def window(model: Any) -> list[ColumnElement[bool]]:
        return [col(model.group_id) == group_id, *_live(model, start, end)]

    giver = col(Referral.giver_id)
    given = select(giver, func.count()).where(*window(Referral)).group_by(giver)
    for member_id, number in await session.execute(given):
        lines[member_id]["given"] = int(number)
    receiver = col(Thanks.to_id)
    credited = (
        select(receiver, func.sum(col(Thanks.amount), type_=Money))
        .where(*window(Thanks), col(Thanks.currency) == currency)
        .where(col(Thanks.amount).is_not(None))
        .group_by(receiver)
    )
    for member_id, total in await session.execute(credited):
        lines[member_id]["credited"] = Decimal(total)
    sides = union_all(
        select(col(OneToOne.member_a_id).label("member_id")).where(*window(OneToOne)),
        select(col(OneToOne.member_b_id).label("member_id")).where(*window(OneToOne)),
    ).subquery()
    meetings = select(sides.c.member_id, func.count()).group_by(sides.c.member_id)
    for member_id, number in await session.execute(meetings):
        lines[member_id]["one_to_ones"] = int(number)
    if not lines:
        return []
    names = select(col(Member.id), col(Member.name)).where(col(Member.id).in_(list(lines)))
    standings = [
        Standing(member_id, name, **lines[member_id])
        for member_id, name in await session.execute(names)
    ]
    standings.sort(key=lambda s: (-s.given, -s.credited, -s.one_to_ones, s.name.lower()))
    return standings
