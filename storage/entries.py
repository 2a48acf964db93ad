"""Entries of every kind by their author, for /undo and voiding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from pydantic_core import PydanticUndefined
from sqlalchemy import false, literal, union_all
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.statements import Prepared, insert_values
from storage.tables import AuditEntry, Ceu, OneToOne, Referral, Thanks, Visitor
from storage.units import Unit

E = TypeVar("E", bound=SQLModel)

KINDS: dict[str, Any] = {
    "referral": Referral,
    "thanks": Thanks,
    "one_to_one": OneToOne,
    "visitor": Visitor,
    "ceu": Ceu,
}
AUTHOR = {"referral": "giver_id", "thanks": "from_id", "one_to_one": "member_a_id",
          "visitor": "host_id", "ceu": "member_id"}  # fmt: skip


def author_id(kind: str, entry: Any) -> int:
    return int(getattr(entry, AUTHOR[kind]))


async def latest_by(
    session: AsyncSession, group_id: int, member_id: int, since: datetime
) -> tuple[str, Any] | None:
    """The member's most recent entry (not voided) created at or after `since`."""
    parts = [
        select(literal(kind).label("kind"), model.id.label("id"), model.created_at.label("at"))
        .where(col(model.group_id) == group_id, col(getattr(model, AUTHOR[kind])) == member_id)
        .where(col(model.voided) == false(), col(model.created_at) >= since)
        for kind, model in KINDS.items()
    ]
    latest = union_all(*parts).subquery()
    statement = select(latest.c.kind, latest.c.id).order_by(latest.c.at.desc(), latest.c.id.desc())
    row = (await session.exec(statement.limit(1))).first()
    if row is None:
        return None
    kind, entry_id = row
    return kind, await session.get(KINDS[kind], entry_id)


async def find_entry(session: AsyncSession, group_id: int, kind: str, number: int) -> Any:
    """A referral by its number in the group, other entries by id; None if not in this group."""
    model = KINDS[kind]
    if kind == "referral":
        statement = select(Referral).where(
            col(Referral.group_id) == group_id, col(Referral.number) == number
        )
        return (await session.exec(statement)).first()
    entry = await session.get(model, number)
    return entry if entry is not None and entry.group_id == group_id else None


@cache
def _defaults(model: type[SQLModel]) -> dict[str, Any]:
    """The model's own defaults for the columns a new row may leave out."""
    return {
        name: field.default
        for name, field in model.model_fields.items()
        if name != "id" and field.default is not PydanticUndefined and not field.default_factory
    }


@cache
def _insert(model: type[SQLModel]) -> Prepared:
    """``INSERT ... RETURNING id`` of every column of a model's table but the id."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    columns = [c.name for c in table.columns if c.name != "id"]
    return Prepared(insert_values(table, columns, returning=table.c.id))


async def add(unit: Unit, model: type[E], **values: Any) -> E:
    """A new entry of `model`, inserted with one prepared statement (validated by the
    command's grammar, not built through the model's __init__, which costs more than
    SQLite's insert); returned with its id, as the unit's object for that row."""
    row = {**_defaults(model), **values}
    row["id"] = int(await unit.value(_insert(model), row))
    entry: E = unit.attach(model, row)
    return entry


async def live_thanks_for(session: AsyncSession, referral_id: int) -> Sequence[Thanks]:
    """The thanks recorded from a referral (its `won` amount) and not voided."""
    statement = select(Thanks).where(
        col(Thanks.referral_id) == referral_id, col(Thanks.voided) == false()
    )
    return (await session.exec(statement.order_by(col(Thanks.id)))).all()


async def was_contacted(session: AsyncSession, group_id: int, referral_id: int) -> bool:
    """Whether the referral was ever moved to `contacted` (its audit trail says so)."""
    statement = select(AuditEntry.id).where(
        col(AuditEntry.group_id) == group_id, col(AuditEntry.entity_kind) == "referral",
        col(AuditEntry.entity_id) == referral_id, col(AuditEntry.action) == "status",
        col(AuditEntry.reason) == "contacted",
    )  # fmt: skip
    return (await session.exec(statement.limit(1))).first() is not None


async def referral_numbered(session: AsyncSession, group_id: int, number: int) -> Referral | None:
    """The group's referral with this number, locked for update (PostgreSQL)."""
    statement = select(Referral).where(Referral.group_id == group_id, Referral.number == number)
    referral: Referral | None = (await session.exec(statement.with_for_update())).first()
    return referral


async def open_referrals(
    session: AsyncSession, group_id: int, member_id: int
) -> tuple[Sequence[Referral], Sequence[Referral]]:
    """A member's referrals still open or contacted: (received, given), by number."""
    base = select(Referral).where(
        col(Referral.group_id) == group_id,
        col(Referral.voided) == false(),
        col(Referral.status).in_(("open", "contacted")),
    )
    number = col(Referral.number)
    received = await session.exec(base.where(Referral.receiver_id == member_id).order_by(number))
    given = await session.exec(base.where(Referral.giver_id == member_id).order_by(number))
    return received.all(), given.all()
