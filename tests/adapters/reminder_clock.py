"""A meeting whose reminder is due a few seconds from now, set to the second in the
database (the commands take HH:MM): for the real-time reminder tests of both adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col, select

from storage.database import Database
from storage.tables import Group, ScheduledPost

LEAD = 60  # minutes


async def reminder_in(db: Database, seconds: float) -> datetime:
    """Move the group's meeting to LEAD minutes after `seconds` from now, with one reminder
    LEAD minutes before it (`/settings reminders 1h`); when the meeting starts (in the
    group's timezone)."""
    at = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
    meeting = at + timedelta(minutes=LEAD)
    async with db.transaction() as session:
        [zone] = (await session.exec(select(Group.timezone))).all()
        local = meeting.astimezone(ZoneInfo(zone))
        await session.exec(update(Group).values(
            meeting_weekday=local.weekday(), meeting_time=local.time(), reminder_leads=[LEAD]
        ))  # fmt: skip
        await session.exec(
            update(ScheduledPost).where(col(ScheduledPost.kind) == "reminder").values(due_at=at)
        )
    return local
