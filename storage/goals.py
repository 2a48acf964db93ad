"""Group goals' progress: how far the group got over each goal's window, in one statement.

`_figure` is the one place that counts per kind (one branch each): referrals given, closed
business credited in the group's currency, visitors brought, one-to-ones logged, CEUs
recorded. `progress` runs the
figures of all the goals asked for as one statement (one round trip).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Numeric, bindparam, false, func, literal, select, type_coerce, union_all
from sqlmodel import col

from storage.money_type import from_stored
from storage.reports import EPOCH
from storage.statements import Prepared
from storage.tables import Ceu, OneToOne, Referral, Thanks, Visitor
from storage.units import Unit


def _where(model: Any, index: int) -> list[Any]:
    return [
        col(model.group_id) == bindparam("group_id"),
        col(model.voided) == false(),
        col(model.created_at) >= bindparam(f"start{index}"),
        col(model.created_at) < bindparam("end"),
    ]


def _figure(kind: str, index: int) -> Any:
    """The select of one goal's figure (the goal's index, then the figure)."""
    which = literal(index).label("goal")
    if kind == "referrals":
        return select(which, func.count().label("figure")).where(*_where(Referral, index))
    if kind == "business":
        plain = type_coerce(col(Thanks.amount), Numeric())  # converted with `from_stored`
        return select(which, func.sum(plain)).where(
            *_where(Thanks, index),
            col(Thanks.amount).is_not(None),
            col(Thanks.currency) == bindparam("currency"),
        )
    if kind == "visitors":
        return select(which, func.count()).where(*_where(Visitor, index))
    if kind == "onetoones":
        return select(which, func.count()).where(*_where(OneToOne, index))
    if kind == "ceus":
        return select(which, func.count()).where(*_where(Ceu, index))
    raise ValueError(f"no goal of kind {kind!r}")


@cache
def _statement(kinds: tuple[str, ...]) -> Prepared:
    parts = [_figure(kind, index) for index, kind in enumerate(kinds)]
    return Prepared(parts[0] if len(parts) == 1 else union_all(*parts))


async def progress(
    unit: Unit,
    group_id: int,
    goals: Sequence[tuple[str, datetime | None]],
    end: datetime,
    currency: str,
) -> list[Decimal]:
    """The group's figure for each goal (its kind, and the start of its window; None: the
    beginning) up to `end`: a count, or for `business` the closed business credited in
    `currency`."""
    if not goals:
        return []
    kinds = tuple(kind for kind, _ in goals)
    params: dict[str, Any] = {"group_id": group_id, "end": end}
    params.update({f"start{i}": start or EPOCH for i, (_, start) in enumerate(goals)})
    if "business" in kinds:
        params["currency"] = currency
    figures = [Decimal(0)] * len(goals)
    for index, value in await unit.rows(_statement(kinds), params):
        if value is not None:
            business = kinds[index] == "business"
            figures[index] = (
                from_stored(value, unit.dialect_name) if business else Decimal(int(value))
            )
    return figures
