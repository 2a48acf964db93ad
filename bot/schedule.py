"""The weekly meeting's occurrences, in the group's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _at(day: datetime, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day.date(), clock, tzinfo=zone).astimezone(UTC)


def next_occurrence(weekday: int, clock: time, timezone: str, now: datetime) -> datetime:
    """The first meeting strictly after `now`."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    day = local + timedelta(days=(weekday - local.weekday()) % 7)
    moment = _at(day, clock, zone)
    return moment if moment > now else _at(day + timedelta(days=7), clock, zone)


def previous_occurrence(weekday: int, clock: time, timezone: str, now: datetime) -> datetime:
    """The latest meeting at or before `now`."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    day = local - timedelta(days=(local.weekday() - weekday) % 7)
    moment = _at(day, clock, zone)
    return moment if moment <= now else _at(day - timedelta(days=7), clock, zone)


def parse_clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
