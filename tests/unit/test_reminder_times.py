"""When meeting reminders are due (`bot.reminder_times`, `bot.due.REMINDER`): pure
functions of a group's settings, with fixed clocks, across daylight-saving changes and
after downtime (a reminder is made late only before its meeting)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from bot import reminder_times
from bot.due import REMINDER, due, next_due


@dataclass
class Settings:
    """A group's meeting settings, as the table has them."""

    timezone: str = "Europe/London"
    meeting_weekday: int | None = 3  # Thursday
    meeting_time: time | None = time(7, 0)
    meeting_place: str | None = None
    reminder_leads: list[int] = field(default_factory=lambda: [1440, 60])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def upcoming(group: Settings, start: datetime, count: int) -> list[datetime]:
    found, at = [], start
    for _ in range(count):
        nxt = next_due(REMINDER, group, at, catch_up=False)
        assert nxt is not None
        found.append(nxt)
        at = nxt
    return found


# Thursday 10 December 2026, 07:00 in London (GMT, so 07:00 UTC)
MEETING = utc(2026, 12, 10, 7)


def test_24_hours_and_1_hour_before_each_weekly_meeting() -> None:
    group = Settings()
    assert upcoming(group, utc(2026, 12, 8, 12), 4) == [
        utc(2026, 12, 9, 7), utc(2026, 12, 10, 6), utc(2026, 12, 16, 7), utc(2026, 12, 17, 6),
    ]  # fmt: skip
    assert REMINDER.occurrence_key(group, utc(2026, 12, 9, 7)) == "2026-12-10-1440m"
    assert REMINDER.occurrence_key(group, utc(2026, 12, 10, 6)) == "2026-12-10-60m"
    group.reminder_leads = [90, 2880]  # any leads, in any order
    assert upcoming(group, utc(2026, 12, 7, 12), 2) == [
        utc(2026, 12, 8, 7),
        utc(2026, 12, 10, 5, 30),
    ]


def test_off_without_leads_or_without_a_meeting() -> None:
    assert next_due(REMINDER, Settings(reminder_leads=[]), MEETING, catch_up=False) is None
    no_meeting = Settings(meeting_weekday=None, meeting_time=None)
    assert next_due(REMINDER, no_meeting, MEETING, catch_up=False) is None
    assert due(REMINDER, no_meeting, MEETING) is None


def test_due_until_the_meeting_starts_and_never_after() -> None:
    group = Settings()
    assert due(REMINDER, group, utc(2026, 12, 9, 7)) == utc(2026, 12, 9, 7)  # on time
    assert due(REMINDER, group, utc(2026, 12, 10, 6, 59, 59)) == utc(2026, 12, 10, 6)
    assert due(REMINDER, group, MEETING) is None  # the meeting has started
    assert due(REMINDER, group, utc(2026, 12, 10, 12)) is None


def test_downtime_of_an_hour_makes_the_reminder_late() -> None:
    group = Settings()
    assert due(REMINDER, group, utc(2026, 12, 9, 8)) == utc(2026, 12, 9, 7)  # 24 h one, late
    # away from before the 24 h reminder until after the 1 h one: only the latest is made
    assert due(REMINDER, group, utc(2026, 12, 10, 6, 30)) == utc(2026, 12, 10, 6)


def test_downtime_of_two_days_makes_no_reminder_after_its_meeting() -> None:
    group = Settings()
    assert due(REMINDER, group, utc(2026, 12, 11, 8)) is None  # Thursday's met already
    # back on Wednesday after the next meeting's 24 h reminder: that one is still useful
    assert due(REMINDER, group, utc(2026, 12, 16, 9)) == utc(2026, 12, 16, 7)


def test_new_york_spring_forward() -> None:
    # Sunday 14 March 2027: clocks jump from 02:00 EST to 03:00 EDT. A Sunday 07:00 meeting
    # is reminded on Saturday at 07:00 local (EST, 12:00 UTC), 23 real hours before it
    # (07:00 EDT, 11:00 UTC); the 1 h reminder is at 06:00 EDT.
    group = Settings(timezone="America/New_York", meeting_weekday=6)
    assert upcoming(group, utc(2027, 3, 12), 2) == [utc(2027, 3, 13, 12), utc(2027, 3, 14, 10)]
    # a 03:30 meeting that night: an hour before is 01:30 EST (02:30 never happens)
    group.meeting_time = time(3, 30)
    assert upcoming(group, utc(2027, 3, 13, 9), 1) == [utc(2027, 3, 14, 6, 30)]


def test_new_york_fall_back() -> None:
    # Sunday 7 November 2027: clocks go back from 02:00 EDT to 01:00 EST. Saturday 07:00
    # EDT (11:00 UTC) is 25 real hours before Sunday 07:00 EST (12:00 UTC).
    group = Settings(timezone="America/New_York", meeting_weekday=6)
    assert upcoming(group, utc(2027, 11, 5), 2) == [utc(2027, 11, 6, 11), utc(2027, 11, 7, 11)]


def test_london_spring_forward_and_fall_back() -> None:
    # Sunday 28 March 2027, 01:00 GMT -> 02:00 BST: Saturday 07:00 GMT, Sunday 06:00 BST
    group = Settings(meeting_weekday=6)
    assert upcoming(group, utc(2027, 3, 26), 2) == [utc(2027, 3, 27, 7), utc(2027, 3, 28, 5)]
    # Sunday 31 October 2027, 02:00 BST -> 01:00 GMT: Saturday 07:00 BST, Sunday 06:00 GMT
    assert upcoming(group, utc(2027, 10, 29), 2) == [utc(2027, 10, 30, 6), utc(2027, 10, 31, 6)]
    # each reminder names the meeting it is for
    [saturday] = reminder_times.between(group, utc(2027, 10, 30), utc(2027, 10, 30, 12))
    assert (saturday.meeting, saturday.lead) == (utc(2027, 10, 31, 7), 1440)
    assert saturday.meeting - saturday.at == timedelta(hours=25)


def test_each_leads_next_reminder() -> None:
    group = Settings()
    found = reminder_times.next_each(group, utc(2026, 12, 9, 12))  # the 24 h one just passed
    assert [(r.lead, r.at) for r in found] == [(1440, utc(2026, 12, 16, 7)),
                                               (60, utc(2026, 12, 10, 6))]  # fmt: skip


def test_catching_up_after_downtime_names_the_missed_reminder_while_useful() -> None:
    group = Settings()
    back = utc(2026, 12, 10, 6, 30)  # the 1 h reminder passed, the meeting not yet
    assert next_due(REMINDER, group, back, catch_up=True) == utc(2026, 12, 10, 6)
    assert next_due(REMINDER, group, MEETING, catch_up=True) == utc(2026, 12, 16, 7)
