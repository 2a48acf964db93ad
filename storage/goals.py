"""A group goal's progress: how far the group got over a window, one statement per kind.

`progress` is the one place that counts per kind (one branch each): referrals given,
closed business credited in the group's currency, visitors brought, one-to-ones logged.
CEUs are counted once their table exists (`/ceu`): that kind has no branch yet.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Numeric, bindparam, false, func, select, type_coerce
from sqlmodel import col

from storage.money_type import from_stored
from storage.reports import EPOCH
from storage.statements import Prepared
from storage.tables import OneToOne, Referral, Thanks, Visitor
from storage.units import Unit


class NotCounted(LookupError):
    """A kind of goal whose entries this version does not keep yet (CEUs)."""


def _where(model: Any) -> list[Any]:
    return [
        col(model.group_id) == bindparam("group_id"),
        col(model.voided) == false(),
        col(model.created_at) >= bindparam("start"),
        col(model.created_at) < bindparam("end"),
    ]


@cache
def _statement(kind: str) -> Prepared:
    if kind == "referrals":
        return Prepared(select(func.count()).where(*_where(Referral)))
    if kind == "business":
        plain = type_coerce(col(Thanks.amount), Numeric())  # converted with `from_stored`
        return Prepared(
            select(func.sum(plain)).where(
                *_where(Thanks),
                col(Thanks.amount).is_not(None),
                col(Thanks.currency) == bindparam("currency"),
            )
        )
    if kind == "visitors":
        return Prepared(select(func.count()).where(*_where(Visitor)))
    if kind == "onetoones":
        return Prepared(select(func.count()).where(*_where(OneToOne)))
    # "ceus": the ceus table comes with /ceu; its branch goes here
    raise NotCounted(kind)


async def progress(
    unit: Unit, group_id: int, kind: str, start: datetime | None, end: datetime, currency: str
) -> Decimal:
    """The group's figure for a goal of `kind` from `start` (None: the beginning) to `end`:
    a count, or for `business` the closed business credited in `currency`."""
    params = {"group_id": group_id, "start": start or EPOCH, "end": end, "currency": currency}
    if kind != "business":
        params.pop("currency")
    value = await unit.value(_statement(kind), params)
    if value is None:
        return Decimal(0)
    return from_stored(value, unit.dialect_name) if kind == "business" else Decimal(int(value))
