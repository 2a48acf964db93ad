"""The scorecard's figures, aggregated in SQL: one statement for one member, one for the
whole group (every member's figures at once, grouped by member).

Each statement is a union of the facts that count (a referral given, a visitor brought,
either side of a one-to-one, a CEU, closed business credited in the group's currency, a
recorded attendance), each read through the index that starts with the group or the
member, then summed per member. Voided entries count nowhere. The scoring itself is the
core's (`bot.scoring`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    case,
    false,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlmodel import col

from storage.directory import active
from storage.money_type import Money
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

FIGURES = ("given", "visitors", "one_to_ones", "ceus", "credited", "absences", "lates",
           "attended")  # fmt: skip


@dataclass(frozen=True)
class Figures:
    """One member's counts over the span (what `bot.scoring.Activity` scores)."""

    member_id: int
    name: str
    joined_at: datetime
    given: int = 0
    visitors: int = 0
    one_to_ones: int = 0
    ceus: int = 0
    credited: Decimal = Decimal(0)
    absences: int = 0
    lates: int = 0
    attended: int = 0


def _window(model: Any, scope: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    created = col(model.created_at)
    return [scope, col(model.voided) == false(), created >= bindparam("start"),
            created < bindparam("end")]  # fmt: skip


def _facts(by_member: bool) -> Any:
    """Every fact of the span as (member_id, one column per figure). Attendance has no
    upper bound: it is recorded on today's meeting or the latest, never on a later one."""

    def scope(model: Any, member_column: Any) -> ColumnElement[bool]:
        if by_member:
            return member_column == bindparam("member_id")
        return col(model.group_id) == bindparam("group_id")

    zero, one = literal(0), literal(1)
    no_money = type_coerce(literal(0), Money)

    def fact(member: Any, model: Any, figure: str, value: Any = one) -> Any:
        values = [value if name == figure else (no_money if name == "credited" else zero)
                  for name in FIGURES]  # fmt: skip
        labelled = (v.label(n) for v, n in zip(values, FIGURES, strict=True))
        return select(member.label("member_id"), *labelled).where(
            *_window(model, scope(model, member))
        )

    amount = type_coerce(col(Thanks.amount), Money)
    credited = fact(col(Thanks.to_id), Thanks, "credited", amount).where(
        col(Thanks.currency) == bindparam("currency"), col(Thanks.amount).is_not(None)
    )
    status = col(MeetingResponse.attendance)
    meeting_scope = (
        col(MeetingResponse.member_id) == bindparam("member_id")
        if by_member
        else col(Meeting.group_id) == bindparam("group_id")
    )
    counted = {"absences": status == "absent", "lates": status == "late"}
    attendance = (
        select(
            col(MeetingResponse.member_id),
            *(zero for _ in FIGURES[:4]),
            no_money,
            *(case((when, 1), else_=0) for when in counted.values()),
            one,
        )
        .join(Meeting, col(Meeting.id) == col(MeetingResponse.meeting_id))
        .where(meeting_scope, status.is_not(None))
        .where(col(Meeting.starts_at) >= bindparam("start"))
    )
    if by_member:  # a member's responses are found through the meeting of the group
        attendance = attendance.where(col(Meeting.group_id) == bindparam("group_id"))
    return union_all(
        fact(col(Referral.giver_id), Referral, "given"),
        fact(col(Visitor.host_id), Visitor, "visitors"),
        fact(col(OneToOne.member_a_id), OneToOne, "one_to_ones"),
        fact(col(OneToOne.member_b_id), OneToOne, "one_to_ones"),
        fact(col(Ceu.member_id), Ceu, "ceus"),
        credited,
        attendance,
    ).subquery("facts")


@cache
def _statement(by_member: bool) -> Prepared:
    """Per member, each figure summed; for the group, every active member (with none: zeros)."""
    facts = _facts(by_member)
    sums = [
        (type_coerce(func.sum(facts.c[n]), Money) if n == "credited" else func.sum(facts.c[n]))
        .label(n)
        for n in FIGURES
    ]  # fmt: skip
    per_member = select(facts.c.member_id, *sums).group_by(facts.c.member_id).subquery("sums")
    member = col(Member.id)
    statement = select(
        member, col(Member.name), col(Member.joined_at), *(per_member.c[n] for n in FIGURES)
    ).outerjoin(per_member, per_member.c.member_id == member)
    if by_member:
        return Prepared(statement.where(member == bindparam("member_id")))
    return Prepared(statement.where(col(Member.group_id) == bindparam("group_id"), active(Member)))


def _figures(row: Any) -> Figures:
    member_id, name, joined_at, *values = row
    counts: dict[str, Any] = {}
    for figure, value in zip(FIGURES, values, strict=True):
        counts[figure] = Decimal(value or 0) if figure == "credited" else int(value or 0)
    return Figures(int(member_id), str(name), joined_at, **counts)


def _params(group_id: int, currency: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {"group_id": group_id, "currency": currency, "start": start, "end": end}


async def member_figures(
    unit: Unit, group_id: int, member_id: int, currency: str, start: datetime, end: datetime
) -> Figures:
    """One member's figures between `start` and `end` (closed business in `currency`)."""
    params = {**_params(group_id, currency, start, end), "member_id": member_id}
    return _figures(await unit.row(_statement(True), params))


async def group_figures(
    unit: Unit, group_id: int, currency: str, start: datetime, end: datetime
) -> list[Figures]:
    """Every active member's figures between `start` and `end`, in one statement.

    Entries are counted from `start` for everyone: a member's entries never come before
    they joined, so a later joiner's own span (`bot.scoring.span_start`) holds the same."""
    rows = await unit.rows(_statement(False), _params(group_id, currency, start, end))
    return [_figures(row) for row in rows]
