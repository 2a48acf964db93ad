"""A group's settings in the JSON export (`settings` of each group), and back.

The document holds them typed: the meeting's weekday and `HH:MM`, reminder leads as a list
of minutes, the leaderboard as on/weekday/time (weekday and time null: the day after the
meeting, 16:00), milestones as decimal strings. An import also reads the string forms that
earlier versions exported (`"1440,60"`, `"auto"`, `"4 16:00"`, `"1000,5000"`).
"""

from __future__ import annotations

from datetime import time
from typing import Any

from storage.tables import DEFAULT_MILESTONES, DEFAULT_REMINDER_LEADS


def _hhmm(value: time | None) -> str | None:
    return None if value is None else f"{value:%H:%M}"


def exported(group: Any) -> dict[str, Any]:
    """The group's `settings` object."""
    return {
        "meeting_weekday": group.meeting_weekday,
        "meeting_time": _hhmm(group.meeting_time),
        "meeting_place": group.meeting_place,
        "reminder_leads": [int(m) for m in group.reminder_leads],
        "leaderboard_on": bool(group.leaderboard_on),
        "leaderboard_weekday": group.leaderboard_weekday,
        "leaderboard_time": _hhmm(group.leaderboard_time),
        "recognition": bool(group.recognition),
        "nudges": bool(group.nudges),
        "milestones": [str(a) for a in group.milestones],
    }


def _clock(value: Any) -> time | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.count(":") != 1:
        raise ValueError(f"the time {value!r} is not HH:MM")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _weekday(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise ValueError(f"the weekday {value!r} is not 0 (Monday) to 6")
    return value


def _list(value: Any, what: str) -> list[str]:
    if isinstance(value, str):  # an earlier version's comma list
        return [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or any(isinstance(v, bool) for v in value):
        raise ValueError(f"the {what} {value!r} are not a list")
    return [str(v) for v in value]


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} {value!r} is not true or false")
    return value


def imported(settings: dict[str, Any]) -> dict[str, Any]:
    """The group's columns from a document's `settings` (what is absent: the defaults)."""
    leaderboard_on, weekday, at = True, None, None
    if "leaderboard_schedule" in settings:  # an earlier version's "auto" | "off" | "D HH:MM"
        schedule = str(settings["leaderboard_schedule"]).strip()
        leaderboard_on = schedule != "off"
        if schedule not in ("auto", "off"):
            day, clock = schedule.split()
            weekday, at = _weekday(int(day)), _clock(clock)
    else:
        leaderboard_on = _flag(settings.get("leaderboard_on", True), "leaderboard_on")
        weekday = _weekday(settings.get("leaderboard_weekday"))
        at = _clock(settings.get("leaderboard_time"))
    place = settings.get("meeting_place")
    if place is not None and not isinstance(place, str):
        raise ValueError(f"the meeting place {place!r} is not text")
    leads = settings.get("reminder_leads", list(DEFAULT_REMINDER_LEADS))
    marks = settings.get("milestones", list(DEFAULT_MILESTONES))
    return {
        "meeting_weekday": _weekday(settings.get("meeting_weekday")),
        "meeting_time": _clock(settings.get("meeting_time")),
        "meeting_place": place,
        "reminder_leads": [int(m) for m in _list(leads, "reminder leads")],
        "leaderboard_on": leaderboard_on,
        "leaderboard_weekday": weekday,
        "leaderboard_time": at,
        "recognition": _flag(settings.get("recognition", True), "recognition"),
        "nudges": _flag(settings.get("nudges", True), "nudges"),
        "milestones": _list(marks, "milestones"),
    }
