"""Balances and leaderboards, aggregated in SQL over the indexed ledger tables."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, false, func, literal, select, union_all
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


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _live(model: Any) -> list[ColumnElement[bool]]:
    """Not voided, and created in [:start, :end)."""
    created = col(model.created_at)
    return [col(model.voided) == false(), created >= bindparam("start"), created < bindparam("end")]


def _count(model: Any, column: Any) -> Any:
    where = [column == bindparam("member_id"), *_live(model)]
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


@cache
def _counts() -> Any:
    """One statement, built once: every count of a member's balance."""
    return select(
        _count(Referral, col(Referral.giver_id)),
        _count(Referral, col(Referral.receiver_id)),
        _count(OneToOne, col(OneToOne.member_a_id)) + _count(OneToOne, col(OneToOne.member_b_id)),
        _count(Visitor, col(Visitor.host_id)),
    )


@cache
def _amounts() -> Any:
    """Closed business credited to a member and thanked by them, per currency."""

    def side(direction: str, column: Any) -> Any:
        total = func.sum(col(Thanks.amount), type_=Money)
        where = [column == bindparam("member_id"), col(Thanks.amount).is_not(None), *_live(Thanks)]
        return (
            select(literal(direction), col(Thanks.currency), total)
            .where(*where)
            .group_by(col(Thanks.currency))
        )

    return union_all(side("credited", col(Thanks.to_id)), side("thanked", col(Thanks.from_id)))


async def totals(
    session: AsyncSession, member_id: int, start: datetime | None, end: datetime
) -> Totals:
    """A member's balance between `start` (None: the beginning) and `end`."""
    conn = await session.connection()
    params = {"member_id": member_id, "start": start or EPOCH, "end": end}
    given, received, one_to_ones, visitors = (await conn.execute(_counts(), params)).one()
    result = Totals(int(given), int(received), one_to_ones=int(one_to_ones), visitors=int(visitors))
    for direction, currency, total in await conn.execute(_amounts(), params):
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


@cache
def _board() -> tuple[Any, Any, Any]:
    """The leaderboard's three statements, built once."""

    def window(model: Any) -> list[ColumnElement[bool]]:
        return [col(model.group_id) == bindparam("group_id"), *_live(model)]

    giver = col(Referral.giver_id)
    given = select(giver, func.count()).where(*window(Referral)).group_by(giver)
    receiver = col(Thanks.to_id)
    credited = (
        select(receiver, func.sum(col(Thanks.amount), type_=Money))
        .where(*window(Thanks), col(Thanks.currency) == bindparam("currency"))
        .where(col(Thanks.amount).is_not(None))
        .group_by(receiver)
    )
    sides = union_all(
        select(col(OneToOne.member_a_id).label("member_id")).where(*window(OneToOne)),
        select(col(OneToOne.member_b_id).label("member_id")).where(*window(OneToOne)),
    ).subquery()
    meetings = select(sides.c.member_id, func.count()).group_by(sides.c.member_id)
    return given, credited, meetings


async def leaderboard(
    session: AsyncSession, group_id: int, currency: str, start: datetime | None, end: datetime
) -> list[Standing]:
    """Every member with activity in the window, best first."""
    conn = await session.connection()
    params = {"group_id": group_id, "currency": currency, "start": start or EPOCH, "end": end}
    given, credited, meetings = _board()
    lines: dict[int, dict[str, Any]] = defaultdict(dict)
    for member_id, number in await conn.execute(given, params):
        lines[member_id]["given"] = int(number)
    for member_id, total in await conn.execute(credited, params):
        lines[member_id]["credited"] = Decimal(total or 0)
    for member_id, number in await conn.execute(meetings, params):
        lines[member_id]["one_to_ones"] = int(number)
    if not lines:
        return []
    ids: Any = col(Member.id)
    names = select(ids, col(Member.name)).where(ids.in_(list(lines)))
    standings = [
        Standing(member_id, name, **lines[member_id])
        for member_id, name in await conn.execute(names)  # ids are never NULL here
    ]
    standings.sort(key=lambda s: (-s.given, -s.credited, -s.one_to_ones, s.name.lower()))
    return standings
