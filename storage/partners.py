"""Reciprocity: who referred whom, and the closed business each way, aggregated in SQL.

`member_exchanges` is one member's side (a row per member they exchanged with);
`group_pairs` is the whole group's who-referred-whom, one grouped pass over the
referrals index by (group, giver, receiver) (`ix_referrals_group_pair`), for its chart;
`group_partners` what `/partners group` says in text, from the same pass, counted in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    Numeric,
    String,
    bindparam,
    exists,
    false,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.money_type import from_stored
from storage.reports import EPOCH
from storage.statements import Prepared
from storage.tables import Member, Referral, Thanks
from storage.units import Unit


@dataclass
class Exchange:
    """What a member and one other member passed each other over a window."""

    member_id: int
    name: str
    given: int = 0  # referrals the member gave them
    received: int = 0  # referrals the member received from them
    # closed business they thanked the member for (from the member's referrals), by currency
    credited: dict[str, Decimal] = field(default_factory=dict)
    # closed business the member thanked them for (from their referrals), by currency
    thanked: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.given + self.received


def _window(model: Any, since: bool = True) -> list[Any]:
    """Not voided, and created in [start, end); `since` False: all time up to `end`.

    All time has a statement of its own rather than `start` at the epoch: PostgreSQL plans
    a prepared statement generically after five runs, and with a range of unknown bounds
    it expects a handful of rows and reads the time index and sorts, where the index by
    (group, giver, receiver) gives the group's pairs in order (3.2 ms against 0.95)."""
    found = [col(model.voided) == false(), col(model.created_at) < bindparam("end")]
    return [*found, col(model.created_at) >= bindparam("start")] if since else found


@cache
def _exchanges(since: bool) -> Prepared:
    """One statement: (other member, kind, currency, value) for the member's referrals and
    thanks either way; the names joined once per other member."""
    me: Any = bindparam("member_id")
    plain = type_coerce(col(Thanks.amount), Numeric())  # converted with `from_stored`
    one = literal(1)
    facts = union_all(
        select(col(Referral.receiver_id).label("other"), literal("given").label("kind"),
               null().label("currency"), one.label("value"))
        .where(col(Referral.giver_id) == me, *_window(Referral, since)),
        select(col(Referral.giver_id), literal("received"), null(), one)
        .where(col(Referral.receiver_id) == me, *_window(Referral, since)),
        select(col(Thanks.from_id), literal("credited"), col(Thanks.currency), plain)
        .where(col(Thanks.to_id) == me, col(Thanks.amount).is_not(None), *_window(Thanks, since)),
        select(col(Thanks.to_id), literal("thanked"), col(Thanks.currency), plain)
        .where(col(Thanks.from_id) == me, col(Thanks.amount).is_not(None), *_window(Thanks, since)),
    ).subquery("facts")  # fmt: skip
    summed = (
        select(facts.c.other, facts.c.kind, facts.c.currency, func.sum(facts.c.value).label("v"))
        .group_by(facts.c.other, facts.c.kind, facts.c.currency)
        .subquery("summed")
    )
    return Prepared(
        select(summed.c.other, col(Member.name), summed.c.kind, summed.c.currency, summed.c.v).join(
            Member, col(Member.id) == summed.c.other
        )
    )


async def member_exchanges(
    unit: Unit, member_id: int, start: datetime | None, end: datetime
) -> list[Exchange]:
    """Every member `member_id` exchanged referrals or closed business with in the window,
    in no particular order (the core sorts)."""
    params = {"member_id": member_id, "start": start or EPOCH, "end": end}
    found: dict[int, Exchange] = {}
    for other, name, kind, currency, value in await unit.rows(
        _exchanges(start is not None), params
    ):
        exchange = found.setdefault(other, Exchange(other, name))
        if kind in ("given", "received"):
            setattr(exchange, kind, int(value))
        else:
            getattr(exchange, kind)[currency] = from_stored(value, unit.dialect_name)
    return list(found.values())


# (giver id, receiver id, referrals): the referrals one member gave another over a window.
# A plain tuple, as the driver returns it: a group has hundreds of pairs.
Pair = tuple[int, int, int]


@cache
def _pairs_and_names(since: bool) -> Prepared:
    """One statement, one grouped pass: a row per (giver, receiver) with its count, then a
    row per member of the group with their name (receiver and count NULL)."""
    pairs = (
        select(col(Referral.giver_id), col(Referral.receiver_id), func.count().label("n"),
               type_coerce(null(), String).label("name"))
        .where(col(Referral.group_id) == bindparam("group_id"), *_window(Referral, since))
        .group_by(col(Referral.giver_id), col(Referral.receiver_id))
    )  # fmt: skip
    names = select(col(Member.id), null(), null(), col(Member.name)).where(
        col(Member.group_id) == bindparam("group_id")
    )
    return Prepared(union_all(pairs, names))


async def group_pairs(
    unit: Unit, group_id: int, start: datetime | None, end: datetime
) -> tuple[list[Pair], dict[int, str]]:
    """The group's who-referred-whom in the window (one row per giver and receiver), and the
    names of every member the group ever had (those who left too: their entries count)."""
    params = {"group_id": group_id, "start": start or EPOCH, "end": end}
    pairs: list[Pair] = []
    names: dict[int, str] = {}
    for giver, receiver, count, name in await unit.rows(
        _pairs_and_names(start is not None), params
    ):
        if receiver is None:
            names[giver] = name
        else:
            pairs.append((giver, receiver, count))
    return pairs, names


@dataclass(frozen=True)
class GroupPartners:
    """What `/partners group` says of a window, counted in SQL: the referrals, the pairs of
    members they ran between, the top pairs and the one-sided ones (not the hundreds of
    pairs of a group: those are read for its chart, `group_pairs`)."""

    referrals: int
    pairs: int
    # every pair whose count is at least the `top`-th largest count (ties included: the
    # core breaks them by the names, in natural order, and keeps `top`)
    top: list[Pair]
    # every pair with at least `one_sided` referrals one way and none back
    one_sided: list[Pair]
    names: dict[int, str]  # every member the group ever had


@cache
def _group_partners(since: bool) -> Prepared:
    """One statement: the pairs counted once (a CTE over `ix_referrals_group_pair`), then a
    row of totals, the top pairs, the one-sided pairs and the members' names, tagged."""
    pairs = (
        select(col(Referral.giver_id).label("g"), col(Referral.receiver_id).label("r"),
               func.count().label("n"))
        .where(col(Referral.group_id) == bindparam("group_id"), *_window(Referral, since))
        .group_by(col(Referral.giver_id), col(Referral.receiver_id))
        .cte("p")
    )  # fmt: skip
    # one-sided: a pair with enough one way and no referral back, looked up in the index by
    # (group, giver, receiver) for the few pairs with enough (an anti-join of the pairs on
    # themselves got a nested loop over them from PostgreSQL's generic plan: 4-9 ms, not 1)
    back = aliased(Referral, name="back")
    none_back = ~exists().where(
        col(back.group_id) == bindparam("group_id"), col(back.giver_id) == pairs.c.r,
        col(back.receiver_id) == pairs.c.g, *_window(back, since),
    )  # fmt: skip
    cut = select(pairs.c.n).order_by(pairs.c.n.desc()).limit(1).offset(bindparam("cut"))
    no_name = type_coerce(null(), String)
    return Prepared(union_all(
        select(literal("total"), func.count(), null(),
               type_coerce(func.coalesce(func.sum(pairs.c.n), 0), Integer), no_name)
        .select_from(pairs),
        select(literal("top"), pairs.c.g, pairs.c.r, pairs.c.n, no_name)
        .where(pairs.c.n >= func.coalesce(cut.scalar_subquery(), 0)),
        select(literal("one"), pairs.c.g, pairs.c.r, pairs.c.n, no_name)
        .where(pairs.c.n >= bindparam("one_sided"), none_back),
        select(literal("name"), col(Member.id), null(), null(), col(Member.name))
        .where(col(Member.group_id) == bindparam("group_id")),
    ))  # fmt: skip


async def group_partners(
    unit: Unit, group_id: int, start: datetime | None, end: datetime, *, top: int,
    one_sided: int,
) -> GroupPartners:  # fmt: skip
    """The group's referrals in the window, as `/partners group` tells them."""
    params = {"group_id": group_id, "start": start or EPOCH, "end": end, "cut": top - 1,
              "one_sided": one_sided}  # fmt: skip
    referrals = pair_count = 0
    tops: list[Pair] = []
    lopsided: list[Pair] = []
    names: dict[int, str] = {}
    for kind, a, b, n, name in await unit.rows(_group_partners(start is not None), params):
        if kind == "name":
            names[a] = name
        elif kind == "total":
            pair_count, referrals = int(a), int(n)
        else:
            (tops if kind == "top" else lopsided).append((a, b, int(n)))
    return GroupPartners(referrals, pair_count, tops, lopsided, names)
