"""The weekly meeting's occurrences, in the group's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo


@cache
def zone(timezone: str) -> ZoneInfo:
    """The timezone, kept: `ZoneInfo` holds only 8 zones strongly, so with more in use
    each call re-read its file (10,000 groups in 24 zones: 0.7 s of the schedule build)."""
    return ZoneInfo(timezone)


def _at(day: datetime, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day.date(), clock, tzinfo=tz).astimezone(UTC)


def on_day(day: date, clock: time, timezone: str) -> datetime:
    """The moment (UTC) of `clock` on `day` in `timezone`."""
    return datetime.combine(day, clock, tzinfo=zone(timezone)).astimezone(UTC)


def next_occurrence(weekday: int, clock: time, timezone: str, now: datetime) -> datetime:
    """The first meeting strictly after `now`."""
    tz = zone(timezone)
    local = now.astimezone(tz)
    day = local + timedelta(days=(weekday - local.weekday()) % 7)
    moment = _at(day, clock, tz)
    return moment if moment > now else _at(day + timedelta(days=7), clock, tz)


def previous_occurrence(weekday: int, clock: time, timezone: str, now: datetime) -> datetime:
    """The latest meeting at or before `now`."""
    tz = zone(timezone)
    local = now.astimezone(tz)
    day = local - timedelta(days=(local.weekday() - weekday) % 7)
    moment = _at(day, clock, tz)
    return moment if moment <= now else _at(day - timedelta(days=7), clock, tz)


def meeting_of_the_day(weekday: int, clock: time, timezone: str, now: datetime) -> datetime:
    """The meeting attendance is for: today's from the start of its day (in `timezone`),
    even before it starts; on other days the latest one."""
    tz = zone(timezone)
    local = now.astimezone(tz)
    if local.weekday() == weekday:
        return _at(local, clock, tz)
    return previous_occurrence(weekday, clock, timezone, now)


def parse_clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


# The weekly leaderboard when it has no time of its own: the day after the meeting, 16:00.
LEADERBOARD_AFTER_MEETING = time(16, 0)


def leaderboard_slot(group: object) -> tuple[int, time] | None:
    """The weekly leaderboard's weekday (0 = Monday) and local time: its own, else the day
    after the meeting at 16:00; None when it is off, or follows a meeting that is not set."""
    if not getattr(group, "leaderboard_on", False):
        return None
    weekday, clock = (
        getattr(group, "leaderboard_weekday", None),
        getattr(group, "leaderboard_time", None),
    )
    if weekday is not None and clock is not None:
        return int(weekday), clock
    meeting_day = getattr(group, "meeting_weekday", None)
    if meeting_day is None or getattr(group, "meeting_time", None) is None:
        return None
    return (int(meeting_day) + 1) % 7, LEADERBOARD_AFTER_MEETING


# Recognition's anniversaries and the monthly scorecards at 09:00, the nudges at 10:00
# (local); as (weekday, time) slots whose weekday a daily or monthly kind does not use.
ANNIVERSARIES_AT = time(9, 0)
NUDGES_AT = time(10, 0)
SCORECARDS_AT = time(9, 0)


def anniversaries_slot(group: object) -> tuple[int, time] | None:
    """Membership anniversaries, daily at 09:00: while recognition is on."""
    return (0, ANNIVERSARIES_AT) if getattr(group, "recognition", False) else None


def nudges_slot(group: object) -> tuple[int, time] | None:
    """The nudges check, daily at 10:00: while the group has nudges on."""
    return (0, NUDGES_AT) if getattr(group, "nudges", False) else None


def scorecards_slot(group: object) -> tuple[int, time] | None:
    """The monthly scorecards, the 1st at 09:00: always (leaders get the group's; members
    with nudges on their own)."""
    return 0, SCORECARDS_AT
