"""Membership anniversaries, told in the group on the day (09:00 in its timezone), while
recognition is on: each active member who joined on this day of the year, a year or more
ago. Someone who joined on 29 February is celebrated on 28 February in other years.
Names only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.messages import Reply, Section, to_group
from bot.texts import plural
from storage import directory
from storage.units import Unit


@dataclass(frozen=True)
class Anniversaries:
    """Who has an anniversary on the day: (name, years)."""

    group_name: str
    members: tuple[tuple[str, int], ...]


def years_on(joined: date, day: date) -> int:
    """How many years a member who joined on `joined` celebrates on `day` (0: not today)."""
    years = day.year - joined.year
    if years < 1:
        return 0
    same = (joined.month, joined.day) == (day.month, day.day)
    leap_day = (joined.month, joined.day) == (2, 29) and (day.month, day.day) == (2, 28)
    leap_year = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
    return years if same or (leap_day and not leap_year) else 0


async def gather(unit: Unit, group: Any, at: datetime) -> Anniversaries:
    """The anniversaries on the local day of `at`."""
    zone = ZoneInfo(group.timezone)
    day = at.astimezone(zone).date()
    found = []
    for member in await directory.active_members(unit.session, int(group.id)):
        years = years_on(member.joined_at.astimezone(zone).date(), day)
        if years:
            found.append((member.name, years))
    return Anniversaries(group.name, tuple(found))


def compose(found: Anniversaries) -> list[Reply]:
    """One post in the group naming everyone celebrating; none when nobody is."""
    if not found.members:
        return []
    lines = tuple(f"{name}: {plural(years, 'year')} in the group" for name, years in found.members)
    head = f"Happy anniversary! Thank you for the years of referrals in {found.group_name}."
    return [to_group(head, Section("Membership anniversaries today", lines))]
