"""Meeting occurrences, RSVPs and attendance."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.directory import insert_ignore
from storage.tables import Meeting, MeetingResponse, Member, key


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
