"""The scheduled posts' rows: when each group's next post of a kind is due
(`post_schedule`), and the claim that makes an occurrence be posted once (`post_claims`).

The due times are derived by `bot.due` from the settings; this module only stores and
finds them, with the one index (`ix_post_schedule_due`) that makes "what is due by now"
one range scan whatever the number of groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.directory import insert_ignore
from storage.tables import Group, PostClaim, ScheduledPost

SCHEDULE: Any = ScheduledPost.__table__  # type: ignore[attr-defined]


def _upsert(dialect: str) -> Any:
    """The upsert of one (group_id, kind, due_at) row, run with many rows' parameters (an
    executemany: compiled once, where a multi-row VALUES bound 30,000 parameters anew)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SCHEDULE)
    return statement.on_conflict_do_update(
        index_elements=["group_id", "kind"], set_={"due_at": statement.excluded.due_at}
    )


async def set_due(session: AsyncSession, group_id: int, kind: str, due_at: datetime | None) -> None:
    """The group's next post of `kind` is due at `due_at` (None: none is, the kind is off)."""
    if due_at is None:
        await session.exec(
            delete(ScheduledPost).where(
                col(ScheduledPost.group_id) == group_id, col(ScheduledPost.kind) == kind
            )
        )
        return
    await set_many(session, [{"group_id": group_id, "kind": kind, "due_at": due_at}])


async def set_many(session: AsyncSession, rows: Sequence[dict[str, Any]], chunk: int = 500) -> None:
    """Upsert many (group_id, kind, due_at) rows, `chunk` to an executemany."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    statement = _upsert(dialect)
    connection = await session.connection()  # (Core: the ORM session would not executemany it)
    for start in range(0, len(rows), chunk):
        await connection.execute(statement, list(rows[start : start + chunk]))


async def due_by(session: AsyncSession, now: datetime, limit: int = 1000) -> list[tuple[int, str]]:
    """The (group id, kind) whose post is due at or before `now`, the longest due first."""
    statement = (
        select(ScheduledPost.group_id, ScheduledPost.kind)
        .where(col(ScheduledPost.due_at) <= now)
        .order_by(col(ScheduledPost.due_at))
        .limit(limit)
    )
    return [(int(g), str(k)) for g, k in (await session.exec(statement)).all()]


async def earliest_after(session: AsyncSession, now: datetime) -> datetime | None:
    """When the next post after `now` is due (None: none is scheduled)."""
    statement = select(func.min(ScheduledPost.due_at)).where(col(ScheduledPost.due_at) > now)
    found: datetime | None = (await session.exec(statement)).one()
    return found


async def due_of(session: AsyncSession, group_id: int) -> dict[str, datetime]:
    """The group's scheduled posts: kind -> when due."""
    statement = select(ScheduledPost.kind, ScheduledPost.due_at).where(
        col(ScheduledPost.group_id) == group_id
    )
    return {str(k): at for k, at in (await session.exec(statement)).all()}


async def every_group(session: AsyncSession) -> Sequence[Group]:
    """Every group (to derive the schedule from at start-up)."""
    return (await session.exec(select(Group).order_by(col(Group.id)))).all()


async def all_due(session: AsyncSession) -> dict[tuple[int, str], datetime]:
    """Every scheduled post: (group id, kind) -> when due."""
    statement = select(ScheduledPost.group_id, ScheduledPost.kind, ScheduledPost.due_at)
    return {(int(g), str(k)): at for g, k, at in (await session.exec(statement)).all()}


async def drop(session: AsyncSession, keys: Sequence[tuple[int, str]]) -> None:
    """Remove the scheduled posts of these (group id, kind)."""
    for group_id, kind in keys:
        await set_due(session, group_id, kind, None)


async def claim(
    session: AsyncSession, group_id: int, kind: str, occurrence: str, now: datetime
) -> bool:
    """Claim one occurrence; True for whoever inserted the row (they post it, in the same
    transaction), False when it was claimed already (here or by another instance)."""
    values = dict(group_id=group_id, kind=kind, occurrence=occurrence, created_at=now)
    return await insert_ignore(session, PostClaim, values)


async def lock_group(session: AsyncSession, group_id: int, *, lock: bool = True) -> Group | None:
    """The group, re-read (with `lock`, its row locked for the transaction on PostgreSQL)."""
    statement = (
        select(Group).where(col(Group.id) == group_id).execution_options(populate_existing=True)
    )
    if lock and session.bind is not None and session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update()
    found: Group | None = (await session.exec(statement)).first()
    return found


async def is_claimed(session: AsyncSession, group_id: int, kind: str, occurrence: str) -> bool:
    """Whether the occurrence was claimed already."""
    statement = select(PostClaim.id).where(
        col(PostClaim.group_id) == group_id, col(PostClaim.kind) == kind,
        col(PostClaim.occurrence) == occurrence,
    )  # fmt: skip
    return (await session.exec(statement)).first() is not None
