"""The weekly meeting: when, who comes, who came."""

from __future__ import annotations

from datetime import datetime

from bot import commands as c
from bot.context import Context, Refusal
from bot.messages import Button, Reply, Section, to_group, to_sender
from bot.parsing import weekday_name
from bot.schedule import next_occurrence, parse_clock, previous_occurrence
from storage import meetings
from storage.tables import Meeting

RSVP_BUTTONS = (
    Button("Attend", "/meeting rsvp yes", style="primary"),
    Button("Can't attend", "/meeting rsvp no"),
    Button("Sending a substitute", "/meeting rsvp substitute"),
)
_RSVP_WORDS = {"yes": "coming", "no": "not coming", "substitute": "sending a substitute"}


def _schedule(ctx: Context) -> tuple[int, str]:
    g = ctx.group
    if g.meeting_weekday is None or g.meeting_time is None:
        raise Refusal("No weekly meeting is set. Leaders set it with "
                      "/meeting set <weekday> <HH:MM> [timezone] [place].")  # fmt: skip
    return int(g.meeting_weekday), str(g.meeting_time)


async def _meeting(ctx: Context, starts_at: datetime) -> Meeting:
    return await meetings.occurrence(ctx.session, ctx.group_id, starts_at, ctx.group.meeting_place)


def describe(ctx: Context, starts_at: datetime) -> str:
    from zoneinfo import ZoneInfo

    local = starts_at.astimezone(ZoneInfo(ctx.group.timezone))
    place = f", {ctx.group.meeting_place}" if ctx.group.meeting_place else ""
    return f"{local:%A %d %B at %H:%M} ({ctx.group.timezone}){place}"


async def show_meeting(ctx: Context, cmd: c.ShowMeeting) -> list[Reply]:
    """The next meeting and the answers so far."""
    weekday, clock = _schedule(ctx)
    starts = next_occurrence(weekday, parse_clock(clock), ctx.group.timezone, ctx.now)
    answers = await meetings.rsvps(ctx.session, ctx.group_id, starts)
    lines = tuple(
        f"{_RSVP_WORDS[key].capitalize()} ({len(answers[key])}): {', '.join(answers[key])}"
        for key in _RSVP_WORDS
        if key in answers
    ) or ("Nobody has answered yet.",)
    return [to_sender(f"Next meeting: {describe(ctx, starts)}", Section("Answers", lines),
                      buttons=RSVP_BUTTONS)]  # fmt: skip


async def answer_meeting(ctx: Context, cmd: c.AnswerMeeting) -> list[Reply]:
    """The sender's RSVP for the next meeting."""
    weekday, clock = _schedule(ctx)
    starts = next_occurrence(weekday, parse_clock(clock), ctx.group.timezone, ctx.now)
    response = await meetings.response(
        ctx.session, await _meeting(ctx, starts), ctx.member, ctx.now
    )
    response.rsvp, response.updated_at = cmd.response, ctx.now
    ctx.session.add(response)
    return [to_sender(f"Noted: {_RSVP_WORDS[cmd.response]} on {describe(ctx, starts)}.")]


async def schedule_meeting(ctx: Context, cmd: c.ScheduleMeeting) -> list[Reply]:
    """Leaders: set the weekly meeting (and the group's timezone when given)."""
    ctx.require_leader("set the meeting")
    g = ctx.group
    g.meeting_weekday, g.meeting_time = cmd.weekday, f"{cmd.at:%H:%M}"
    if cmd.timezone:
        g.timezone = cmd.timezone
    if cmd.place is not None:
        g.meeting_place = cmd.place
    ctx.session.add(g)
    ctx.audit("setting", "meeting", f"{weekday_name(cmd.weekday)} {cmd.at:%H:%M}")
    text = (f"Meetings are every {weekday_name(cmd.weekday)} at {cmd.at:%H:%M} "
            f"({g.timezone}){', ' + g.meeting_place if g.meeting_place else ''}.")  # fmt: skip
    return [to_sender(text), to_group(text)]


async def cancel_meetings(ctx: Context, cmd: c.CancelMeetings) -> list[Reply]:
    """Leaders: no weekly meeting any more (and no reminders)."""
    ctx.require_leader("turn the meeting off")
    ctx.group.meeting_weekday = ctx.group.meeting_time = None
    ctx.session.add(ctx.group)
    ctx.audit("setting", "meeting", "off")
    return [to_sender("The weekly meeting is off; no reminders will be posted.")]


async def record_attendance(ctx: Context, cmd: c.RecordAttendance) -> list[Reply]:
    """Leaders: a member's attendance at the latest meeting."""
    ctx.require_leader("record attendance")
    weekday, clock = _schedule(ctx)
    member = await ctx.resolve(cmd.member)
    starts = previous_occurrence(weekday, parse_clock(clock), ctx.group.timezone, ctx.now)
    response = await meetings.response(ctx.session, await _meeting(ctx, starts), member, ctx.now)
    response.attendance, response.updated_at = cmd.status, ctx.now
    ctx.session.add(response)
    ctx.audit("attendance", "member", cmd.status, member.id)
    return [to_sender(f"{member.name}: {cmd.status} on {describe(ctx, starts)}.")]
