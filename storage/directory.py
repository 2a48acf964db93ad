"""Groups and members: finding them, creating them once, resolving names; delivery ids.

The lookups every command makes are prepared statements run by the unit of work
(`storage.units`); the rest use the unit's ORM session.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.statements import Prepared, insert_values
from storage.tables import Group, Member
from storage.units import Unit


def classification_key(classification: str) -> str:
    """Two spellings of one profession compare equal: case and spacing don't count (the
    key of the one-member-per-classification rule)."""
    return re.sub(r"\s+", " ", classification).strip().casefold()


GROUPS: Any = Group.__table__  # type: ignore[attr-defined]
MEMBERS: Any = Member.__table__  # type: ignore[attr-defined]
DELIVERIES: Any = SQLModel.metadata.tables["deliveries"]
GROUP_COLUMNS = [c.name for c in GROUPS.columns]
MEMBER_COLUMNS = [c.name for c in MEMBERS.columns]


def _insert_ignoring(dialect: str, table: Any, values: dict[str, Any]) -> Any:
    """INSERT that quietly does nothing when a unique key already holds the row."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(values).on_conflict_do_nothing()


def _insert_ignore(table: Any, columns: Sequence[str]) -> Prepared:
    """`_insert_ignoring` as a prepared statement with a parameter per column."""
    values = {name: bindparam(name, type_=table.c[name].type) for name in columns}
    return Prepared(lambda dialect: _insert_ignoring(dialect, table, values))


async def insert_ignore(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> bool:
    """INSERT that quietly does nothing when a unique key already holds the row.

    True when the row was inserted.
    """
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    statement = _insert_ignoring(dialect, model.__table__, values)
    result = await session.exec(statement)
    return bool(getattr(result, "rowcount", 0))


_IN_CHAT = (
    GROUPS.c.platform == bindparam("platform"),
    GROUPS.c.workspace_id == bindparam("workspace_id"),
    GROUPS.c.chat_id == bindparam("chat_id"),
)
_THE_USERS = and_(
    MEMBERS.c.group_id == GROUPS.c.id,
    or_(
        MEMBERS.c.platform_user_id == bindparam("user_id"),
        MEMBERS.c.platform_user_id == bindparam("other_id"),
    ),
)
_GROUP_AND_MEMBERS = Prepared(
    select(*GROUPS.c, *MEMBERS.c)
    .select_from(GROUPS.outerjoin(MEMBERS, _THE_USERS))
    .where(*_IN_CHAT)
)
# A PostgreSQL write unit's lookup (`Unit.locks_groups`) locks the group's row, and the
# members' rows it returns, until the unit ends: one group's writers take turns. The
# members' rows are locked too because a locked row is returned as the writer before
# left it (READ COMMITTED reads a row it had to wait for again), while the rest of a
# statement reads from the snapshot taken before the wait; hence the inner join (an
# outer join's optional side cannot be locked). FOR NO KEY UPDATE leaves the foreign-key
# checks of new rows that point at them free to go on.
_LOCKED_GROUP_AND_MEMBERS = Prepared(
    select(*GROUPS.c, *MEMBERS.c)
    .select_from(GROUPS.join(MEMBERS, _THE_USERS))
    .where(*_IN_CHAT)
    .with_for_update(of=[GROUPS, MEMBERS], key_share=True)
)
_LOCKED_GROUP = Prepared(select(*GROUPS.c).where(*_IN_CHAT).with_for_update(key_share=True))
_MEMBER_BY_USER = Prepared(
    select(*MEMBERS.c).where(
        MEMBERS.c.group_id == bindparam("group_id"),
        MEMBERS.c.platform_user_id == bindparam("user_id"),
    )
)
_MEMBERS_NAMED = Prepared(
    select(*MEMBERS.c).where(
        MEMBERS.c.group_id == bindparam("group_id"),
        or_(
            func.lower(MEMBERS.c.username) == bindparam("name"),
            func.lower(MEMBERS.c.platform_user_id) == bindparam("name"),
            func.lower(MEMBERS.c.name) == bindparam("name"),
        ),
    )
)
NEW_MEMBER = ("group_id", "platform_user_id", "username", "name", "role", "joined_at")
_ADD_MEMBER = _insert_ignore(MEMBERS, NEW_MEMBER)
_MEMBER_COUNT = Prepared(
    select(func.count()).select_from(MEMBERS).where(MEMBERS.c.group_id == bindparam("group_id"))
)
_NEXT_NUMBER = Prepared(
    update(GROUPS)
    .where(GROUPS.c.id == bindparam("group_id"))
    .values(next_referral_number=GROUPS.c.next_referral_number + 1)
    .returning(GROUPS.c.next_referral_number)
)
_DELIVERY_ANSWER = Prepared(select(DELIVERIES.c.answer).where(DELIVERIES.c.key == bindparam("key")))
_RECORD_DELIVERY = Prepared(insert_values(DELIVERIES, ("key", "answer", "created_at")))


async def find_group_and_member(
    unit: Unit,
    platform: str,
    workspace_id: str,
    chat_id: str,
    user_id: str,
    other_id: str | None = None,
) -> tuple[Group | None, Member | None]:
    """The chat's group and the user's membership of it, in one query (the hot path).

    `other_id`, a user the command names, is looked up in the same query: `find_member`
    then has them without one of its own. A PostgreSQL write unit locks the rows it
    finds (`Unit.locks_groups`).
    """
    params = {"platform": platform, "workspace_id": workspace_id, "chat_id": chat_id}
    users = {"user_id": user_id, "other_id": other_id or user_id}
    if not unit.locks_groups:
        rows = await unit.rows(_GROUP_AND_MEMBERS, {**params, **users})
    elif not (rows := await unit.rows(_LOCKED_GROUP_AND_MEMBERS, {**params, **users})):
        nobody = (None,) * len(MEMBER_COLUMNS)  # neither is a member (yet): the group alone
        rows = [(*row, *nobody) for row in await unit.rows(_LOCKED_GROUP, params)]
    if not rows:
        return None, None
    width = len(GROUP_COLUMNS)
    group = unit.attach(Group, dict(zip(GROUP_COLUMNS, rows[0][:width], strict=True)))
    sender = None
    for row in rows:
        if row[width] is not None:
            member = unit.attach(Member, dict(zip(MEMBER_COLUMNS, row[width:], strict=True)))
            unit.found[("member", member.group_id, member.platform_user_id)] = member
            sender = member if member.platform_user_id == user_id else sender
    return group, sender


async def find_group(
    session: AsyncSession, platform: str, workspace_id: str, chat_id: str, *, lock: bool = False
) -> Group | None:
    """The group bound to this chat (its row locked for the transaction with `lock`)."""
    statement = select(Group).where(
        Group.platform == platform, Group.workspace_id == workspace_id, Group.chat_id == chat_id
    )
    if lock:
        statement = statement.with_for_update(key_share=True)
    group: Group | None = (await session.exec(statement)).first()
    return group


async def ensure_group(unit: Unit, values: dict[str, Any]) -> tuple[Group, bool]:
    """The group for this chat, created with `values` if new; True when this call created it.

    A concurrent creator waits on the chat's unique key until the first one commits, then
    finds its group (locked, as `find_group_and_member` does, in a PostgreSQL write unit).
    """
    created = await insert_ignore(unit.session, Group, values)
    group = await find_group(unit.session, values["platform"], values["workspace_id"],
                             values["chat_id"], lock=unit.locks_groups)  # fmt: skip
    assert group is not None
    return group, created


async def groups_of_user(
    unit: Unit, platform: str, workspace_id: str, user_id: str
) -> Sequence[Group]:
    """The groups the user is a member of (in a private chat: where their command goes),
    their rows locked in a PostgreSQL write unit."""
    statement = (
        select(Group)
        .join(Member, col(Member.group_id) == Group.id)
        .where(Group.platform == platform, Group.workspace_id == workspace_id)
        .where(Member.platform_user_id == user_id, active())
        .order_by(col(Group.id))
    )
    if unit.locks_groups:
        statement = statement.with_for_update(of=Group, key_share=True)
    return (await unit.session.exec(statement)).all()


async def find_member(unit: Unit, group_id: int, user_id: str) -> Member | None:
    """The group's member with this platform user id (the hot path)."""
    known: Member | None = unit.found.get(("member", group_id, user_id))
    if known is not None:
        return known
    row = await unit.row(_MEMBER_BY_USER, {"group_id": group_id, "user_id": user_id})
    if row is None:
        return None
    member: Member = unit.attach(Member, dict(zip(MEMBER_COLUMNS, row, strict=True)))
    return member


async def ensure_member(unit: Unit, values: dict[str, Any]) -> Member:
    """The member with this platform user id, created with `values` (the NEW_MEMBER
    columns; `username` may be left out) if new."""
    member, _ = await add_member(unit, values)
    return member


async def add_member(unit: Unit, values: dict[str, Any]) -> tuple[Member, bool]:
    """As `ensure_member`; True when this call created the member."""
    created = await unit.execute(_ADD_MEMBER, {"username": None, **values}) > 0
    member = await find_member(unit, values["group_id"], values["platform_user_id"])
    assert member is not None
    return member, created


async def members_named(unit: Unit, group_id: int, name: str) -> list[Member]:
    """Members whose username, platform id or display name is `name` (any case)."""
    rows = await unit.rows(_MEMBERS_NAMED, {"group_id": group_id, "name": name.lower()})
    return [unit.attach(Member, dict(zip(MEMBER_COLUMNS, row, strict=True))) for row in rows]


async def member_count(unit: Unit, group_id: int) -> int:
    return int(await unit.value(_MEMBER_COUNT, {"group_id": group_id}))


def active(model: Any = Member) -> Any:
    """The one notion of an active member (not left, not removed), for every query that
    lists, ranks or counts members: the roster, the leaderboard, the scheduled posts.
    A member who left keeps their row, and their entries keep counting in every total."""
    return col(model.left_at).is_(None)


async def roster(session: AsyncSession, group_id: int) -> Sequence[Member]:
    """Every member the group ever had, by name (those who left too: their entries stay)."""
    statement = select(Member).where(Member.group_id == group_id).order_by(func.lower(Member.name))
    return (await session.exec(statement)).all()


async def active_members(session: AsyncSession, group_id: int) -> Sequence[Member]:
    """The group's active members, by name: the roster as `/members` and the posts show it."""
    statement = (
        select(Member)
        .where(Member.group_id == group_id, active())
        .order_by(func.lower(Member.name), col(Member.id))
    )
    return (await session.exec(statement)).all()


async def classification_holder(session: AsyncSession, group_id: int, key: str) -> Member | None:
    """The active member holding a classification (one who left has freed it)."""
    statement = select(Member).where(
        Member.group_id == group_id, Member.classification_key == key, active()
    )
    return (await session.exec(statement)).first()


async def take_referral_number(unit: Unit, group_id: int) -> int:
    """The group's next referral number; the row lock serialises concurrent givers."""
    return int(await unit.value(_NEXT_NUMBER, {"group_id": group_id})) - 1


async def delivered(unit: Unit, key: str) -> str | None:
    """The stored answer (JSON) of a delivery already handled, or None."""
    answer: str | None = await unit.value(_DELIVERY_ANSWER, {"key": key})
    return answer


async def record_delivery(unit: Unit, key: str, answer: str, now: datetime) -> None:
    """Remember a handled delivery and its answer (the key is unique: a duplicate fails)."""
    await unit.execute(_RECORD_DELIVERY, {"key": key, "answer": answer, "created_at": now})


async def forget_deliveries(session: AsyncSession, before: datetime) -> int:
    """Delete delivery ids recorded before `before`; returns how many."""
    conn = await session.connection()
    result = await conn.execute(delete(DELIVERIES).where(DELIVERIES.c.created_at < before))
    return int(result.rowcount)


async def count_with_role(session: AsyncSession, group_id: int, role: str) -> int:
    """How many of the group's active members have `role`. The group's row is locked first
    (PostgreSQL), so that two leaders stepping down at once cannot leave the group with none."""
    await session.exec(select(Group.id).where(Group.id == group_id).with_for_update())
    statement = (
        select(func.count())
        .select_from(Member)
        .where(Member.group_id == group_id, Member.role == role, active())
    )
    return int((await session.exec(statement)).one())
