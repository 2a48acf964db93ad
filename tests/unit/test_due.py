"""What is due when (`bot.due`): pure functions of a group's settings, with fixed clocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.due import LEADERBOARD, due, next_due


@dataclass
class Settings:
    """A group's schedule settings, as the table has them."""

    timezone: str = "UTC"
    meeting_weekday: int | None = 3  # Thursday
    meeting_time: time | None = time(7, 0)
    leaderboard_on: bool = True
    leaderboard_weekday: int | None = None
    leaderboard_time: time | None = None


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_default_leaderboard_is_the_day_after_the_meeting_at_16() -> None:
    group = Settings(timezone="Europe/London")  # Thursday 07:00 meetings
    # Wednesday 2 December 2026 (GMT): the next one is Friday 4 December, 16:00 London
    assert next_due(LEADERBOARD, group, utc(2026, 12, 2, 9), catch_up=False) == utc(2026, 12, 4, 16)
    group.meeting_weekday = 6  # Sunday meetings: Monday's leaderboard (the week wraps)
    assert next_due(LEADERBOARD, group, utc(2026, 12, 2, 9), catch_up=False) == utc(2026, 12, 7, 16)


def test_a_leaderboard_of_its_own_and_off() -> None:
    group = Settings(timezone="America/New_York", leaderboard_weekday=0,
                     leaderboard_time=time(9, 30))  # fmt: skip
    # Monday 7 December 2026 09:30 EST = 14:30 UTC
    assert next_due(LEADERBOARD, group, utc(2026, 12, 2), catch_up=False) == utc(
        2026, 12, 7, 14, 30
    )
    group.leaderboard_on = False
    assert next_due(LEADERBOARD, group, utc(2026, 12, 2), catch_up=False) is None
    no_meeting = Settings(meeting_weekday=None, meeting_time=None)  # follows no meeting
    assert next_due(LEADERBOARD, no_meeting, utc(2026, 12, 2), catch_up=False) is None


def weekly(group: Settings, start: datetime, count: int) -> list[datetime]:
    found, at = [], start
    for _ in range(count):
        nxt = next_due(LEADERBOARD, group, at, catch_up=False)
        assert nxt is not None
        found.append(nxt)
        at = nxt
    return found


def test_new_york_spring_forward_keeps_the_local_time() -> None:
    # Sunday 14 March 2027: clocks jump from 02:00 EST to 03:00 EDT
    group = Settings(timezone="America/New_York", leaderboard_weekday=6,
                     leaderboard_time=time(7, 0))  # fmt: skip
    assert weekly(group, utc(2027, 3, 1), 3) == [
        utc(2027, 3, 7, 12), utc(2027, 3, 14, 11), utc(2027, 3, 21, 11),  # 07:00 local each
    ]  # fmt: skip


def test_new_york_a_time_that_does_not_exist_is_taken_an_hour_later() -> None:
    group = Settings(timezone="America/New_York", leaderboard_weekday=6,
                     leaderboard_time=time(2, 30))  # fmt: skip
    # 02:30 does not exist on 14 March 2027: taken as 02:30 EST = 07:30 UTC (03:30 EDT), once
    assert weekly(group, utc(2027, 3, 8), 2) == [utc(2027, 3, 14, 7, 30), utc(2027, 3, 21, 6, 30)]


def test_new_york_fall_back_a_time_that_occurs_twice_is_its_first() -> None:
    # Sunday 1 November 2026: clocks go back from 02:00 EDT to 01:00 EST; 01:30 happens twice
    group = Settings(timezone="America/New_York", leaderboard_weekday=6,
                     leaderboard_time=time(1, 30))  # fmt: skip
    assert weekly(group, utc(2026, 10, 20), 3) == [
        utc(2026, 10, 25, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 8, 6, 30),
    ]  # fmt: skip
    # and the occurrence due just after the second 01:30 is still that first one, posted once
    assert due(LEADERBOARD, group, utc(2026, 11, 1, 6, 31)) == utc(2026, 11, 1, 5, 30)


def test_london_spring_forward_and_fall_back() -> None:
    # 28 March 2027: 01:00 GMT -> 02:00 BST (01:30 does not exist); 25 October 2026:
    # 02:00 BST -> 01:00 GMT (01:30 twice)
    group = Settings(timezone="Europe/London", leaderboard_weekday=6, leaderboard_time=time(1, 30))
    assert weekly(group, utc(2027, 3, 22), 2) == [utc(2027, 3, 28, 1, 30), utc(2027, 4, 4, 0, 30)]
    assert weekly(group, utc(2026, 10, 19), 2) == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 11, 1, 1, 30),
    ]
    # a Friday 16:00 leaderboard stays 16:00 local on both sides of the change
    friday = Settings(timezone="Europe/London", leaderboard_weekday=4, leaderboard_time=time(16, 0))
    assert weekly(friday, utc(2026, 10, 19), 2) == [utc(2026, 10, 23, 15), utc(2026, 10, 30, 16)]


def test_after_an_hour_of_downtime_the_missed_post_is_still_due() -> None:
    group = Settings(leaderboard_weekday=4, leaderboard_time=time(16, 0))
    friday = utc(2026, 12, 4, 16)
    assert due(LEADERBOARD, group, friday - timedelta(seconds=1)) is None  # last week's: too old
    assert due(LEADERBOARD, group, friday) == friday
    assert due(LEADERBOARD, group, friday + timedelta(hours=1)) == friday
    # catching up at start-up finds it too
    assert next_due(LEADERBOARD, group, friday + timedelta(hours=1), catch_up=True) == friday


def test_after_two_days_of_downtime_the_missed_leaderboard_is_skipped() -> None:
    group = Settings(leaderboard_weekday=4, leaderboard_time=time(16, 0))
    friday = utc(2026, 12, 4, 16)
    assert due(LEADERBOARD, group, friday + timedelta(days=2)) is None
    assert due(LEADERBOARD, group, friday + timedelta(hours=24)) == friday  # the last moment
    next_week = next_due(LEADERBOARD, group, friday + timedelta(days=2), catch_up=True)
    assert next_week == utc(2026, 12, 11, 16)


def test_the_occurrence_key_is_the_local_date() -> None:
    group = Settings(timezone="America/New_York")
    assert LEADERBOARD.occurrence_key(group, utc(2026, 12, 5, 2)) == "2026-12-04"
