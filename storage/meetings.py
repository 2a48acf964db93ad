"""Meeting occurrences, RSVPs and attendance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.directory import insert_ignore
from storage.tables import AuditEntry, Meeting, MeetingResponse, Member, key


async def occurrence(
    session: AsyncSession, group_id: int, starts_at: datetime, place: str | None
) -> Meeting:
    """The meeting of the group starting at `starts_at`, created on first use."""
    values = dict(group_id=group_id, starts_at=starts_at, place=place)
    await insert_ignore(session, Meeting, values)
    statement = select(Meeting).where(Meeting.group_id == group_id, Meeting.starts_at == starts_at)
    return (await session.exec(statement)).one()


async def response(
    session: AsyncSession, meeting: Meeting, member: Member, now: datetime
) -> MeetingResponse:
    """A member's answer row for a meeting (new and unsaved when they have none yet)."""
    statement = select(MeetingResponse).where(
        MeetingResponse.meeting_id == meeting.id, MeetingResponse.member_id == member.id
    )
    found = (await session.exec(statement)).first()
    return found or MeetingResponse(meeting_id=key(meeting), member_id=key(member), updated_at=now)


async def rsvps(session: AsyncSession, group_id: int, starts_at: datetime) -> dict[str, list[str]]:
    """Who answered what for one meeting: answer -> member names, by name."""
    statement = (
        select(MeetingResponse.rsvp, Member.name)
        .join(Meeting, col(Meeting.id) == MeetingResponse.meeting_id)
        .join(Member, col(Member.id) == MeetingResponse.member_id)
        .where(Meeting.group_id == group_id, Meeting.starts_at == starts_at)
        .where(col(MeetingResponse.rsvp).is_not(None))
        .order_by(Member.name)
    )
    answers: dict[str, list[str]] = {}
    for rsvp, name in await session.exec(statement):
        answers.setdefault(str(rsvp), []).append(name)
    return answers


def standing() -> Any:
    """A response's attendance: what a leader recorded, else an RSVP of substitute (it
    stands unless a leader changes it); else NULL."""
    rsvp_substitute = case((col(MeetingResponse.rsvp) == "substitute", "substitute"), else_=None)
    return func.coalesce(col(MeetingResponse.attendance), rsvp_substitute)


async def attendance(session: AsyncSession, group_id: int, starts_at: datetime) -> dict[int, str]:
    """What stands of one meeting: member id -> attendance (`standing`)."""
    status = standing()
    statement = (
        select(MeetingResponse.member_id, status)
        .join(Meeting, col(Meeting.id) == MeetingResponse.meeting_id)
        .where(Meeting.group_id == group_id, Meeting.starts_at == starts_at)
        .where(status.is_not(None))
    )
    return {member_id: str(found) for member_id, found in await session.exec(statement)}


async def schedule_set_at(session: AsyncSession, group_id: int) -> datetime | None:
    """When the weekly meeting was last set (`/meeting set`), from the audit trail."""
    statement = select(func.max(AuditEntry.created_at)).where(
        col(AuditEntry.group_id) == group_id,
        col(AuditEntry.action) == "setting",
        col(AuditEntry.entity_kind) == "meeting",
    )
    found: datetime | None = (await session.exec(statement)).one()
    return found


async def move(session: AsyncSession, group_id: int, starts_at: datetime, to: datetime) -> bool:
    """Move a meeting (with its answers) to another time; False if there is none to move,
    or already one at the new time."""
    taken = select(Meeting.id).where(Meeting.group_id == group_id, Meeting.starts_at == to)
    if starts_at == to or (await session.exec(taken)).first() is not None:
        return False
    statement = (
        update(Meeting)
        .where(col(Meeting.group_id) == group_id, col(Meeting.starts_at) == starts_at)
        .values(starts_at=to)
    )
    result = await session.exec(statement)
    return bool(result.rowcount)
