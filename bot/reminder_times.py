"""When a group's meeting reminders are: pure functions of its settings (any clock).

A reminder is made `lead` minutes before each weekly meeting (`Group.reminder_leads`,
default 24 hours and 1 hour). The one rule across daylight-saving changes: a lead of whole
days keeps the meeting's local time (24 hours before a Thursday 07:00 meeting is Wednesday
07:00 local, also on the night the clocks change, so it is then 23 or 25 real hours
before); any other lead is real elapsed time (1 hour before is 60 minutes before).
A wall-clock time that does not exist or occurs twice follows `bot.due`'s rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.schedule import next_occurrence

DAY_MINUTES = 24 * 60
WINDOW = timedelta(days=8)  # every lead recurs weekly: one falls in any 8 days


@dataclass(frozen=True, order=True)
class Reminder:
    """One reminder: when it is made, for which meeting, how many minutes before."""

    at: datetime
    meeting: datetime
    lead: int


def meeting_slot(group: Any) -> tuple[int, time] | None:
    """The weekly meeting's weekday and local time, or None when no meeting is set."""
    weekday, clock = getattr(group, "meeting_weekday", None), getattr(group, "meeting_time", None)
    return None if weekday is None or clock is None else (int(weekday), clock)


def leads(group: Any) -> list[int]:
    """The group's reminder leads in minutes, largest first ([] = reminders off)."""
    return sorted({int(m) for m in getattr(group, "reminder_leads", None) or [] if int(m) > 0},
                  reverse=True)  # fmt: skip


def reminder_moment(meeting: datetime, lead: int, timezone: str) -> datetime:
    """When the reminder `lead` minutes before `meeting` (UTC) is made (the rule above)."""
    if lead % DAY_MINUTES:
        return meeting - timedelta(minutes=lead)
    zone = ZoneInfo(timezone)
    local = meeting.astimezone(zone).replace(tzinfo=None) - timedelta(minutes=lead)
    return local.replace(tzinfo=zone).astimezone(UTC)


def between(group: Any, start: datetime, end: datetime) -> list[Reminder]:
    """The group's reminders made after `start` and at or before `end`, earliest first."""
    slot, minutes = meeting_slot(group), leads(group)
    if slot is None or not minutes:
        return []
    found: list[Reminder] = []
    meeting = next_occurrence(*slot, group.timezone, start)
    last = end + timedelta(minutes=minutes[0]) + timedelta(days=1)
    while meeting <= last:
        for lead in minutes:
            at = reminder_moment(meeting, lead, group.timezone)
            if start < at <= end:
                found.append(Reminder(at, meeting, lead))
        meeting = next_occurrence(*slot, group.timezone, meeting)
    return sorted(found)


def latest(group: Any, now: datetime) -> Reminder | None:
    """The latest reminder at or before `now`."""
    found = between(group, now - WINDOW, now)
    return found[-1] if found else None


def following(group: Any, after: datetime) -> Reminder | None:
    """The first reminder strictly after `after`."""
    found = between(group, after, after + WINDOW)
    return found[0] if found else None


def at_moment(group: Any, at: datetime) -> Reminder | None:
    """The reminder made at `at` (a due time found by `latest`), if the settings have one."""
    return next((r for r in between(group, at - timedelta(seconds=1), at) if r.at == at), None)


def next_each(group: Any, now: datetime) -> list[Reminder]:
    """Each lead's next reminder after `now`, largest lead first (for `/settings`)."""
    coming = between(group, now, now + WINDOW)
    return [next(r for r in coming if r.lead == lead) for lead in leads(group)
            if any(r.lead == lead for r in coming)]  # fmt: skip
