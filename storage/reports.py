"""Balances and leaderboards, aggregated in SQL over the indexed ledger tables."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, literal, or_, select, true, union_all
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


def _since(column: Any, start: datetime | None) -> ColumnElement[bool]:
    return column >= start if start is not None else true()


async def totals(
    session: AsyncSession, member_id: int, start: datetime | None, end: datetime
) -> Totals:
    """A member's balance between `start` (None: the beginning) and `end`."""

    def count(model: Any, *where: ColumnElement[bool]) -> Any:
        created = model.created_at
        return (
            select(func.count())
            .select_from(model)
            .where(model.voided == False, _since(created, start), created < end, *where)  # noqa: E712
            .scalar_subquery()
        )

    counts = select(
        count(Referral, Referral.giver_id == member_id),
        count(Referral, Referral.receiver_id == member_id),
        count(OneToOne, or_(OneToOne.member_a_id == member_id, OneToOne.member_b_id == member_id)),
        count(Visitor, Visitor.host_id == member_id),
    )
    given, received, one_to_ones, visitors = (await session.execute(counts)).one()
    result = Totals(int(given), int(received), one_to_ones=int(one_to_ones), visitors=int(visitors))

    def amounts(direction: str, column: Any) -> Any:
        return (
            select(literal(direction), col(Thanks.currency), func.sum(col(Thanks.amount), type_=Money))
            .where(column == member_id, col(Thanks.voided) == False)  # noqa: E712
            .where(col(Thanks.amount).is_not(None))
            .where(_since(Thanks.created_at, start), col(Thanks.created_at) < end)
            .group_by(col(Thanks.currency))
        )

    rows = await session.execute(
        union_all(amounts("credited", Thanks.to_id), amounts("thanked", Thanks.from_id))
    )
    for direction, currency, total in rows:
        getattr(result, direction)[currency] = Decimal(total)
    return result


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
        return [
            model.group_id == group_id,
            model.voided == False,  # noqa: E712
            _since(model.created_at, start),
            model.created_at < end,
        ]

    given = select(Referral.giver_id, func.count()).where(*window(Referral)).group_by(
        Referral.giver_id
    )
    for member_id, number in await session.execute(given):
        lines[member_id]["given"] = int(number)
    credited = (
        select(Thanks.to_id, func.sum(col(Thanks.amount), type_=Money))
        .where(*window(Thanks), Thanks.currency == currency, col(Thanks.amount).is_not(None))
        .group_by(Thanks.to_id)
    )
    for member_id, total in await session.execute(credited):
        lines[member_id]["credited"] = Decimal(total)
    sides = union_all(
        select(OneToOne.member_a_id.label("member_id")).where(*window(OneToOne)),  # type: ignore[attr-defined]
        select(OneToOne.member_b_id.label("member_id")).where(*window(OneToOne)),  # type: ignore[attr-defined]
    ).subquery()
    meetings = select(sides.c.member_id, func.count()).group_by(sides.c.member_id)
    for member_id, number in await session.execute(meetings):
        lines[member_id]["one_to_ones"] = int(number)
    if not lines:
        return []
    names = select(Member.id, Member.name).where(col(Member.id).in_(list(lines)))
    standings = [
        Standing(member_id, name, **lines[member_id])
        for member_id, name in await session.execute(names)
    ]
    standings.sort(key=lambda s: (-s.given, -s.credited, -s.one_to_ones, s.name.lower()))
    return standings
