"""Groups and members: finding them, creating them once, resolving names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import Group, Member

GROUP_COLUMNS = [c.name for c in Group.__table__.columns]  # type: ignore[attr-defined]
MEMBER_COLUMNS = [c.name for c in Member.__table__.columns]  # type: ignore[attr-defined]


async def insert_ignore(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> bool:
    """INSERT that quietly does nothing when a unique key already holds the row.

    True when the row was inserted.
    """
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.exec(insert(model).values(**values).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))


@cache
def _group_by_chat() -> Any:
    return select(Group).where(
        col(Group.platform) == bindparam("platform"),
        col(Group.workspace_id) == bindparam("workspace_id"),
        col(Group.chat_id) == bindparam("chat_id"),
    )


@cache
def _member_by_user() -> Any:
    members = Member.__table__  # type: ignore[attr-defined]
    return select(*members.c).where(
        members.c.group_id == bindparam("group_id"),
        members.c.platform_user_id == bindparam("user_id"),
    )


@cache
def _members_by_name() -> Any:
    name: Any = bindparam("name")
    return select(Member).where(
        col(Member.group_id) == bindparam("group_id"),
        or_(
            func.lower(Member.username) == name,
            func.lower(Member.platform_user_id) == name,
            func.lower(Member.name) == name,
        ),
    )


@cache
def _group_and_member() -> Any:
    groups, members = Group.__table__, Member.__table__  # type: ignore[attr-defined]
    joined = and_(
        members.c.group_id == groups.c.id, members.c.platform_user_id == bindparam("user_id")
    )
    return (
        select(*groups.c, *(c.label(f"m_{c.name}") for c in members.c))
        .select_from(groups.outerjoin(members, joined))
        .where(
            groups.c.platform == bindparam("platform"),
            groups.c.workspace_id == bindparam("workspace_id"),
            groups.c.chat_id == bindparam("chat_id"),
        )
    )


def _attach(session: AsyncSession, model: Any, data: dict[str, Any]) -> Any:
    """A row loaded with Core as a persistent object of the session, without a query
    (the session's own object when it already holds that row)."""
    existing = session.sync_session.identity_map.get(identity_key(model, data["id"]))
    if existing is not None:
        return existing
    # Built as the ORM's loader builds a row: no __init__, whose per-field instrumented
    # setattr costs more than the query did.
    row = model._sa_class_manager.new_instance()
    row.__dict__.update(data)
    make_transient_to_detached(row)
    session.add(row)
    return row


async def find_group_and_member(
    session: AsyncSession, platform: str, workspace_id: str, chat_id: str, user_id: str
) -> tuple[Group | None, Member | None]:
    """The chat's group and the user's membership of it, in one query (the hot path).

    Loaded with Core and attached to the session (the ORM's row loading costs more than
    the query); changes to either are flushed as UPDATEs like any loaded object.
    """
    params = {"platform": platform, "workspace_id": workspace_id, "chat_id": chat_id}
    conn = await session.connection()
    row = (await conn.execute(_group_and_member(), {**params, "user_id": user_id})).first()
    if row is None:
        return None, None
    data = row._mapping
    group = _attach(session, Group, {c: data[c] for c in GROUP_COLUMNS})
    if data["m_id"] is None:
        return group, None
    return group, _attach(session, Member, {c: data[f"m_{c}"] for c in MEMBER_COLUMNS})


async def find_group(
    session: AsyncSession, platform: str, workspace_id: str, chat_id: str
) -> Group | None:
    """The group bound to this chat (statements are built once: this is the hot path)."""
    params = {"platform": platform, "workspace_id": workspace_id, "chat_id": chat_id}
    group: Group | None = (await session.exec(_group_by_chat(), params=params)).first()
    return group


async def ensure_group(session: AsyncSession, values: dict[str, Any]) -> tuple[Group, bool]:
    """The group for this chat, created with `values` if new; True when this call created it."""
    created = await insert_ignore(session, Group, values)
    group = await find_group(session, values["platform"], values["workspace_id"], values["chat_id"])
    assert group is not None
    return group, created


async def groups_of_user(
    session: AsyncSession, platform: str, workspace_id: str, user_id: str
) -> Sequence[Group]:
    statement = (
        select(Group)
        .join(Member, col(Member.group_id) == Group.id)
        .where(Group.platform == platform, Group.workspace_id == workspace_id)
        .where(Member.platform_user_id == user_id)
        .order_by(col(Group.id))
    )
    return (await session.exec(statement)).all()


async def find_member(session: AsyncSession, group_id: int, user_id: str) -> Member | None:
    """The group's member with this platform user id (Core load, attached: the hot path)."""
    params = {"group_id": group_id, "user_id": user_id}
    conn = await session.connection()
    row = (await conn.execute(_member_by_user(), params)).first()
    member: Member | None = _attach(session, Member, dict(row._mapping)) if row else None
    return member


async def ensure_member(session: AsyncSession, values: dict[str, Any]) -> Member:
    """The member with this platform user id, created with `values` if new."""
    await insert_ignore(session, Member, values)
    member = await find_member(session, values["group_id"], values["platform_user_id"])
    assert member is not None
    return member


async def members_named(session: AsyncSession, group_id: int, name: str) -> Sequence[Member]:
    """Members whose username, platform id or display name is `name` (any case)."""
    params = {"group_id": group_id, "name": name.lower()}
    members: Sequence[Member] = (await session.exec(_members_by_name(), params=params)).all()
    return members


async def member_count(session: AsyncSession, group_id: int) -> int:
    statement = select(func.count()).select_from(Member).where(Member.group_id == group_id)
    return int((await session.exec(statement)).one())


async def roster(session: AsyncSession, group_id: int) -> Sequence[Member]:
    statement = select(Member).where(Member.group_id == group_id).order_by(func.lower(Member.name))
    return (await session.exec(statement)).all()


async def classification_holder(session: AsyncSession, group_id: int, key: str) -> Member | None:
    statement = select(Member).where(Member.group_id == group_id, Member.classification_key == key)
    return (await session.exec(statement)).first()


@cache
def _next_number() -> Any:
    groups = SQLModel.metadata.tables["groups"]
    return (
        update(groups)
        .where(groups.c.id == bindparam("group_id"))
        .values(next_referral_number=groups.c.next_referral_number + 1)
        .returning(groups.c.next_referral_number)
    )


async def take_referral_number(session: AsyncSession, group_id: int) -> int:
    """The group's next referral number; the row lock serialises concurrent givers."""
    conn = await session.connection()
    result = await conn.execute(_next_number(), {"group_id": group_id})
    return int(result.scalar_one()) - 1


@cache
def _delivery_answer() -> Any:
    deliveries = SQLModel.metadata.tables["deliveries"]
    return select(deliveries.c.answer).where(deliveries.c.key == bindparam("key"))


async def delivered(session: AsyncSession, key: str) -> str | None:
    """The stored answer (JSON) of a delivery already handled, or None."""
    conn = await session.connection()
    answer: str | None = (await conn.execute(_delivery_answer(), {"key": key})).scalar()
    return answer


DELIVERIES = SQLModel.metadata.tables["deliveries"]
_RECORD_DELIVERY = insert(DELIVERIES)


async def record_delivery(session: AsyncSession, key: str, answer: str, now: datetime) -> None:
    """Remember a handled delivery and its answer (the key is unique: a duplicate fails)."""
    conn = await session.connection()
    await conn.execute(_RECORD_DELIVERY, {"key": key, "answer": answer, "created_at": now})


async def forget_deliveries(session: AsyncSession, before: datetime) -> int:
    """Delete delivery ids recorded before `before`; returns how many."""
    conn = await session.connection()
    result = await conn.execute(delete(DELIVERIES).where(DELIVERIES.c.created_at < before))
    return int(result.rowcount)


async def count_with_role(session: AsyncSession, group_id: int, role: str) -> int:
    """How many of the group's members have `role`."""
    statement = (
        select(func.count())
        .select_from(Member)
        .where(Member.group_id == group_id, Member.role == role)
    )
    return int((await session.exec(statement)).one())
