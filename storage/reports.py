"""Balances and leaderboards, aggregated in SQL over the indexed ledger tables.

The statements are built once (with bind parameters) and run as prepared statements
(`storage.statements`): building and executing a statement through SQLAlchemy costs
more than the database takes to run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Numeric,
    String,
    bindparam,
    false,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlmodel import col

from storage.directory import active
from storage.meetings import standing
from storage.money_type import Money, from_stored
from storage.statements import Prepared
from storage.tables import (
    Ceu,
    Meeting,
    MeetingResponse,
    Member,
    OneToOne,
    Referral,
    Thanks,
    Visitor,
)
from storage.units import Unit

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Totals:
    """One member's numbers over one window."""

    given: int = 0
    received: int = 0
    credited: dict[str, Decimal] = field(default_factory=dict)  # thanks received, by currency
    thanked: dict[str, Decimal] = field(default_factory=dict)  # thanks given, by currency
    one_to_ones: int = 0
    visitors: int = 0
    ceus: int = 0
    # referrals given and received, by status (open, contacted, won, lost): the conversion
    given_by_status: dict[str, int] = field(default_factory=dict)
    received_by_status: dict[str, int] = field(default_factory=dict)
    # the member's attendance at the group's meetings started by the end, all time (read
    # only when asked: `totals_since(..., group_id=...)`): status -> count
    attendance: dict[str, int] = field(default_factory=dict)


def _since(model: Any, window: int) -> ColumnElement[bool]:
    return col(model.created_at) >= bindparam(f"start{window}")


def _group_window(model: Any) -> list[ColumnElement[bool]]:
    """The group's entries of one window (`start0` to `end`), not voided."""
    return [col(model.group_id) == bindparam("group_id"), _since(model, 0), *_live(model)]


def _live(model: Any) -> list[ColumnElement[bool]]:
    """Not voided, and created before :end (each window adds its own start)."""
    return [col(model.voided) == false(), col(model.created_at) < bindparam("end")]


SUMMED = ("credited", "thanked")
BY_STATUS = ("given_by_status", "received_by_status")


@cache
def _totals(windows: int, attendance: bool = False) -> Prepared:
    """Every number of a member's balance for `windows` start times, in one statement:
    a row per count (kind, NULL, one column per window) and a row per currency of each
    amount (kind, currency, sums). The columns carry no type: amounts are converted with
    `from_stored` (a count under the Money type would be scaled on SQLite). With
    `attendance`, a row per attendance status too (all time, in every window's column),
    through the group's meetings (`meetings (group_id, starts_at)`) and their answers."""

    def windowed(model: Any, aggregate: Any) -> list[Any]:
        return [aggregate.filter(_since(model, w)).label(f"w{w}") for w in range(windows)]

    def counted(kind: str, model: Any, column: Any) -> Any:
        where = [column == bindparam("member_id"), *_live(model)]
        no_currency = null().label("currency")
        return select(literal(kind).label("kind"), no_currency, *windowed(model, func.count()))\
            .where(*where)  # fmt: skip

    def by_status(kind: str, column: Any) -> Any:
        status = col(Referral.status)
        where = [column == bindparam("member_id"), *_live(Referral)]
        return (
            select(literal(kind), status, *windowed(Referral, func.count()))
            .where(*where)
            .group_by(status)
        )

    def summed(kind: str, column: Any) -> Any:
        amount, currency = col(Thanks.amount), col(Thanks.currency)
        where = [column == bindparam("member_id"), amount.is_not(None), *_live(Thanks)]
        plain = type_coerce(amount, Numeric())  # the stored value, unconverted
        return (
            select(literal(kind), currency, *windowed(Thanks, func.sum(plain)))
            .where(*where)
            .group_by(currency)
        )

    def attended() -> Any:
        status = standing()
        where = [col(Meeting.group_id) == bindparam("group_id"),
                 col(MeetingResponse.member_id) == bindparam("member_id"),
                 col(Meeting.starts_at) <= bindparam("end"), status.is_not(None)]  # fmt: skip
        return (
            select(literal("attendance"), type_coerce(status, String),
                   *[func.count().label(f"w{w}") for w in range(windows)])
            .join(Meeting, col(Meeting.id) == MeetingResponse.meeting_id)
            .where(*where)
            .group_by(status)
        )  # fmt: skip

    return Prepared(union_all(
        *([attended()] if attendance else []),
        counted("given", Referral, col(Referral.giver_id)),
        counted("received", Referral, col(Referral.receiver_id)),
        counted("one_to_ones", OneToOne, col(OneToOne.member_a_id)),
        counted("one_to_ones", OneToOne, col(OneToOne.member_b_id)),
        counted("visitors", Visitor, col(Visitor.host_id)),
        counted("ceus", Ceu, col(Ceu.member_id)),
        by_status("given_by_status", col(Referral.giver_id)),
        by_status("received_by_status", col(Referral.receiver_id)),
        summed("credited", col(Thanks.to_id)),
        summed("thanked", col(Thanks.from_id)),
    ))  # fmt: skip


async def totals_since(
    unit: Unit, member_id: int, starts: Sequence[datetime | None], end: datetime,
    group_id: int | None = None,
) -> list[Totals]:  # fmt: skip
    """A member's balance from each of `starts` (None: the beginning) up to `end`; with
    their attendance at the meetings of `group_id` (theirs) when it is given."""
    params: dict[str, Any] = {"member_id": member_id, "end": end, "group_id": group_id}
    params.update({f"start{w}": start or EPOCH for w, start in enumerate(starts)})
    result = [Totals() for _ in starts]
    dialect = unit.dialect_name
    statement = _totals(len(starts), attendance=group_id is not None)
    for kind, currency, *values in await unit.rows(statement, params):
        for totals, value in zip(result, values, strict=True):
            if kind == "attendance":  # the currency column holds the status
                totals.attendance[currency] = int(value)
            elif kind in SUMMED:
                if value is not None:
                    getattr(totals, kind)[currency] = from_stored(value, dialect)
            elif kind in BY_STATUS:  # the currency column holds the status
                if int(value):
                    getattr(totals, kind)[currency] = int(value)
            else:
                setattr(totals, kind, getattr(totals, kind) + int(value))
    return result


async def totals(unit: Unit, member_id: int, start: datetime | None, end: datetime) -> Totals:
    """A member's balance between `start` (None: the beginning) and `end`."""
    return (await totals_since(unit, member_id, [start], end))[0]


@dataclass
class Standing:
    """One member's line on the leaderboard."""

    member_id: int
    name: str
    given: int = 0
    credited: dict[str, Decimal] = field(default_factory=dict)  # thanks received, by currency
    one_to_ones: int = 0
    ceus: int = 0


@cache
def _board(with_statuses: bool = False) -> Prepared:
    """The leaderboard as one statement: per active member and currency, given, credited
    and one-to-ones (the counts come on the member's row without a currency); with
    `with_statuses`, the group's referrals of the window by status follow in the same
    statement (one round trip, not two, for `/leaderboard`), as rows with no member id,
    the status where the name is and the count where the referrals given are."""

    window = _group_window
    zero = type_coerce(literal(0), Money)
    amount = type_coerce(col(Thanks.amount), Money)
    one, none = literal(1), null()
    facts = union_all(
        select(col(Referral.giver_id).label("member_id"), none.label("currency"),
               one.label("given"), zero.label("credited"), literal(0).label("met"),
               literal(0).label("learned"))
        .where(*window(Referral)),
        select(col(Thanks.to_id), col(Thanks.currency), literal(0), amount, literal(0),
               literal(0))
        .where(*window(Thanks), col(Thanks.amount).is_not(None)),
        select(col(OneToOne.member_a_id), none, literal(0), zero, one, literal(0))
        .where(*window(OneToOne)),
        select(col(OneToOne.member_b_id), none, literal(0), zero, one, literal(0))
        .where(*window(OneToOne)),
        select(col(Ceu.member_id), none, literal(0), zero, literal(0), one).where(*window(Ceu)),
    ).subquery("facts")  # fmt: skip
    per_member = (
        select(
            facts.c.member_id,
            facts.c.currency,
            func.sum(facts.c.given).label("given"),
            func.sum(facts.c.credited).label("credited"),
            func.sum(facts.c.met).label("met"),
            func.sum(facts.c.learned).label("learned"),
        )
        .group_by(facts.c.member_id, facts.c.currency)
        .subquery("per_member")
    )
    # Summed first, then joined: one name lookup per member rather than per entry.
    board = (
        select(
            per_member.c.member_id,
            col(Member.name),
            per_member.c.currency,
            per_member.c.given,
            type_coerce(per_member.c.credited, Money),
            per_member.c.met,
            per_member.c.learned,
        )
        .join(Member, col(Member.id) == per_member.c.member_id)
        .where(active(Member))
    )
    if not with_statuses:
        return Prepared(board)
    status = col(Referral.status)
    statuses = (
        select(type_coerce(null(), Integer), type_coerce(status, String), none, func.count(),
               zero, literal(0), literal(0))
        .where(*window(Referral))
        .group_by(status)
    )  # fmt: skip
    return Prepared(union_all(board, statuses))


async def leaderboard(
    unit: Unit, group_id: int, start: datetime | None, end: datetime
) -> list[Standing]:
    """Every active member with activity in the window, in no particular order (the ranking
    is the core's: `bot.actions.reports.ranked`); closed business in every currency."""
    standings, _ = await _standings(unit, group_id, start, end, with_statuses=False)
    return standings


async def leaderboard_and_statuses(
    unit: Unit, group_id: int, start: datetime | None, end: datetime
) -> tuple[list[Standing], dict[str, int]]:
    """`leaderboard` and `group_statuses` of the window, in one statement."""
    return await _standings(unit, group_id, start, end, with_statuses=True)


async def _standings(
    unit: Unit, group_id: int, start: datetime | None, end: datetime, *, with_statuses: bool
) -> tuple[list[Standing], dict[str, int]]:
    params = {"group_id": group_id, "start0": start or EPOCH, "end": end}
    standings: dict[int, Standing] = {}
    statuses: dict[str, int] = {}
    rows = await unit.rows(_board(with_statuses), params)
    for member_id, name, currency, given, credited, met, learned in rows:
        if member_id is None:  # the group's referrals with one status
            statuses[str(name)] = int(given)
            continue
        standing = standings.setdefault(member_id, Standing(member_id, name))
        standing.given += int(given)
        standing.one_to_ones += int(met)
        standing.ceus += int(learned)
        if currency is not None:
            standing.credited[currency] = Decimal(credited or 0)
    return list(standings.values()), statuses


@cache
def _group_statuses() -> Prepared:
    """The group's referrals in the window, counted by status (the group's conversion)."""
    status = col(Referral.status)
    return Prepared(select(status, func.count()).where(*_group_window(Referral)).group_by(status))


async def group_statuses(
    unit: Unit, group_id: int, start: datetime | None, end: datetime
) -> dict[str, int]:
    """How many of the group's referrals (not voided) of the window have each status."""
    params = {"group_id": group_id, "start0": start or EPOCH, "end": end}
    return {str(status): int(n) for status, n in await unit.rows(_group_statuses(), params)}
