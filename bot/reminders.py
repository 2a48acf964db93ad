"""The meeting reminder post: when and where the meeting is, who has answered so far, and
the three answer buttons (attend, can't attend, sending a substitute) naming that meeting.

`gather` reads (a read unit); `compose` makes the post. The buttons are for everyone in
the group: each press records the presser's own answer (`bot.actions.meetings`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import reminder_times
from bot.actions.meetings import rsvp_buttons
from bot.messages import Reply, Section, to_group
from bot.parsing import format_lead
from storage import meetings
from storage.units import Unit

_ANSWERED = (("yes", "coming"), ("no", "not coming"), ("substitute", "sending a substitute"))


@dataclass(frozen=True)
class MeetingReminder:
    """What the post is made of, as read."""

    group_id: int
    group_name: str
    timezone: str
    place: str | None
    meeting: datetime
    lead: int
    answers: dict[str, int]


async def gather(unit: Unit, group: Any, at: datetime) -> MeetingReminder:
    """The reminder due at `at`: its meeting and the answers given so far."""
    found = reminder_times.at_moment(group, at)
    assert found is not None, "a due reminder has its meeting"
    answers = await meetings.rsvps(unit.session, int(group.id), found.meeting)
    return MeetingReminder(int(group.id), group.name, group.timezone, group.meeting_place,
                           found.meeting, found.lead,
                           {k: len(names) for k, names in answers.items()})  # fmt: skip


def compose(post: MeetingReminder) -> list[Reply]:
    """The post for the group's chat, with its answer buttons."""
    local = post.meeting.astimezone(ZoneInfo(post.timezone))
    place = f", {post.place}" if post.place else ""
    title = (f"Reminder: {post.group_name} meets in {format_lead(post.lead)}, "
             f"{local:%A %d %B at %H:%M} ({post.timezone}){place}. Will you be there?")  # fmt: skip
    answered = tuple(f"{word.capitalize()}: {post.answers[k]}" for k, word in _ANSWERED
                     if post.answers.get(k)) or ("Nobody has answered yet.",)  # fmt: skip
    buttons = rsvp_buttons(post.group_id, post.meeting, post.timezone)
    return [replace(to_group(title, Section("Answers so far", answered)), buttons=buttons)]
