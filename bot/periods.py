"""Reporting periods in a group's timezone: week (from Monday), month, quarter, year, all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Period(StrEnum):
    """The periods members can ask for."""

    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ALL = "all"


@dataclass(frozen=True)
class Window:
    """A period resolved to UTC bounds; `start` is None for all time."""

    period: Period
    start: datetime | None
    end: datetime
    label: str


def window(period: Period, now: datetime, timezone: str) -> Window:
    """The bounds of `period` containing `now`, computed in `timezone`, returned in UTC."""
    local = now.astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.ALL:
        return Window(period, None, now, "all time")
    if period is Period.WEEK:
        start = midnight - timedelta(days=local.weekday())
        label = f"this week (from {start:%a %d %b})"
    elif period is Period.MONTH:
        start = midnight.replace(day=1)
        label = f"{start:%B %Y}"
    elif period is Period.QUARTER:
        quarter = (local.month - 1) // 3
        start = midnight.replace(month=quarter * 3 + 1, day=1)
        label = f"Q{quarter + 1} {start.year}"
    else:
        start = midnight.replace(month=1, day=1)
        label = f"{start.year}"
    # replace() keeps the wall clock; re-attach the zone so DST offsets are right.
    start = start.replace(tzinfo=None).replace(tzinfo=ZoneInfo(timezone))
    return Window(period, start.astimezone(UTC), now, label)


def last_days(days: int, now: datetime) -> Window:
    """The `days` days up to `now` (the weekly leaderboard's window)."""
    return Window(Period.WEEK, now - timedelta(days=days), now, f"the last {days} days")
