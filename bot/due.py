"""What is due at a given `now`: pure functions of a group's stored settings (any clock).

Every time is in the group's IANA timezone: a weekly 07:00 stays 07:00 local across
daylight-saving changes. The one rule for the two nights a year when that is not a plain
moment (`bot.schedule.on_day`, zoneinfo's `fold=0`): a time that does not exist that night
(02:30 when clocks jump from 02:00 to 03:00) is taken as the moment it would be had the
clocks not jumped, i.e. 03:30 by the new clock; a time that occurs twice (01:30 when clocks
go back from 02:00 to 01:00) is its first occurrence. Either way, one moment per week.

A post kind says when its occurrences are (`latest` at or before a moment, the `following`
one strictly after) and how long a missed one stays worth posting (`useful_for`): the
weekly leaderboard 24 hours. Adding a kind (meeting reminders, nudges) is adding a `Kind`:
weekly, `Daily` (anniversaries at 09:00, the nudges check at 10:00: a missed one is made
the same local day only) or `Monthly` (the scorecards, the 1st at 09:00).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import reminder_times
from bot.schedule import (
    anniversaries_slot,
    leaderboard_slot,
    next_occurrence,
    nudges_slot,
    on_day,
    previous_occurrence,
    scorecards_slot,
)

Slot = Callable[[Any], tuple[int, time] | None]


@dataclass(frozen=True)
class Kind:
    """One kind of scheduled post: a weekly slot taken from the group's settings."""

    name: str
    slot: Slot
    useful_for: timedelta

    def latest(self, group: Any, now: datetime) -> datetime | None:
        """The latest occurrence at or before `now` (UTC), or None when the kind is off."""
        slot = self.slot(group)
        return None if slot is None else previous_occurrence(*slot, group.timezone, now)

    def following(self, group: Any, after: datetime) -> datetime | None:
        """The first occurrence strictly after `after` (UTC), or None when off."""
        slot = self.slot(group)
        return None if slot is None else next_occurrence(*slot, group.timezone, after)

    def occurrence_key(self, group: Any, at: datetime) -> str:
        """The claim's key of the occurrence at `at`: its local date, so that moving the
        time within the same day (a leader changing 16:00 to 17:00 after the post) never
        posts that week's leaderboard twice."""
        return at.astimezone(ZoneInfo(group.timezone)).date().isoformat()

    def useful_until(self, group: Any, at: datetime) -> datetime:
        """Until when the occurrence at `at` is still worth posting when it was missed."""
        return at + self.useful_for


class Reminders(Kind):
    """Meeting reminders (`bot.reminder_times`): several a week, one per lead; each is
    useful only until its meeting starts, and its claim names the meeting and the lead."""

    def latest(self, group: Any, now: datetime) -> datetime | None:
        found = reminder_times.latest(group, now)
        return None if found is None else found.at

    def following(self, group: Any, after: datetime) -> datetime | None:
        found = reminder_times.following(group, after)
        return None if found is None else found.at

    def occurrence_key(self, group: Any, at: datetime) -> str:
        found = reminder_times.at_moment(group, at)
        meeting = at if found is None else found.meeting
        day = meeting.astimezone(ZoneInfo(group.timezone)).date().isoformat()
        return f"{day}-{0 if found is None else found.lead}m"

    def useful_until(self, group: Any, at: datetime) -> datetime:
        found = reminder_times.at_moment(group, at)
        return at if found is None else found.meeting - timedelta(microseconds=1)


@dataclass(frozen=True)
class Daily(Kind):
    """A post every day at the slot's local time (its weekday is not used). One missed
    while the bot was down is made later the same local day only, never the next."""

    def latest(self, group: Any, now: datetime) -> datetime | None:
        slot = self.slot(group)
        if slot is None:
            return None
        at = on_day(now.astimezone(ZoneInfo(group.timezone)).date(), slot[1], group.timezone)
        return at if at <= now else None  # yesterday's is not made today

    def following(self, group: Any, after: datetime) -> datetime | None:
        slot = self.slot(group)
        if slot is None:
            return None
        day = after.astimezone(ZoneInfo(group.timezone)).date()
        at = on_day(day, slot[1], group.timezone)
        return at if at > after else on_day(day + timedelta(days=1), slot[1], group.timezone)


def _month_start(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Monthly(Kind):
    """A post on the 1st of each month at the slot's local time (its weekday is not used)."""

    def latest(self, group: Any, now: datetime) -> datetime | None:
        slot = self.slot(group)
        if slot is None:
            return None
        first = _month_start(now.astimezone(ZoneInfo(group.timezone)).date())
        at = on_day(first, slot[1], group.timezone)
        return at if at <= now else on_day(_month_start(first, -1), slot[1], group.timezone)

    def following(self, group: Any, after: datetime) -> datetime | None:
        slot = self.slot(group)
        if slot is None:
            return None
        first = _month_start(after.astimezone(ZoneInfo(group.timezone)).date())
        at = on_day(first, slot[1], group.timezone)
        return at if at > after else on_day(_month_start(first, 1), slot[1], group.timezone)


LEADERBOARD = Kind("leaderboard", leaderboard_slot, timedelta(hours=24))
REMINDER = Reminders("reminder", reminder_times.meeting_slot, timedelta(0))
# Recognition's daily post, the daily nudges check, and the monthly scorecards.
ANNIVERSARIES = Daily("anniversaries", anniversaries_slot, timedelta(hours=24))
NUDGES = Daily("nudges", nudges_slot, timedelta(hours=24))
SCORECARDS = Monthly("scorecards", scorecards_slot, timedelta(days=7))
KINDS: dict[str, Kind] = {
    k.name: k for k in (LEADERBOARD, REMINDER, ANNIVERSARIES, NUDGES, SCORECARDS)
}


def due(kind: Kind, group: Any, now: datetime) -> datetime | None:
    """The occurrence to post at `now`: the latest one at or before it, while it is still
    useful (a leaderboard missed by more than 24 hours is skipped, a reminder once its
    meeting started); else None."""
    at = kind.latest(group, now)
    return at if at is not None and now <= kind.useful_until(group, at) else None


def next_due(kind: Kind, group: Any, now: datetime, *, catch_up: bool) -> datetime | None:
    """When the group's next post of `kind` is due, for `post_schedule`: the first
    occurrence after `now`; with `catch_up` (at start-up, after downtime) the first one
    still useful, which may have passed (it is posted then, once: the claim decides)."""
    if catch_up and (missed := due(kind, group, now)) is not None:
        return missed
    return kind.following(group, now)
