"""What the weekly leaderboard adds to `storage.reports`: visitors brought per member."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, false, func, select
from sqlmodel import col

from storage.directory import active
from storage.statements import Prepared
from storage.tables import Member, Visitor
from storage.units import Unit

_VISITORS = Prepared(
    select(col(Visitor.host_id), func.count())
    .join(Member, col(Member.id) == col(Visitor.host_id))
    .where(col(Visitor.group_id) == bindparam("group_id"), col(Visitor.voided) == false())
    .where(
        col(Visitor.created_at) >= bindparam("start"), col(Visitor.created_at) < bindparam("end")
    )
    .where(active(Member))
    .group_by(col(Visitor.host_id))
)


async def visitors_by_host(
    unit: Unit, group_id: int, start: datetime, end: datetime
) -> dict[int, int]:
    """Active member id -> visitors they brought between `start` and `end`."""
    rows = await unit.rows(_VISITORS, {"group_id": group_id, "start": start, "end": end})
    return {int(member_id): int(count) for member_id, count in rows}
