"""The weekly meeting: when, who comes, who came."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot import buttons
from bot import commands as c
from bot.arguments import ATTENDANCE
from bot.context import Context, Refusal
from bot.messages import Button, Reply, Section, to_group, to_sender
from bot.parsing import weekday_name
from bot.rescheduling import reschedule
from bot.schedule import meeting_of_the_day, next_occurrence, on_day
from storage import directory, meetings
from storage.tables import Meeting, key

_RSVP_LABELS = (("yes", "Attend", "primary"), ("no", "Can't attend", None),
                ("substitute", "Sending a substitute", None))  # fmt: skip
_RSVP_WORDS = {"yes": "coming", "no": "not coming", "substitute": "sending a substitute"}


def _schedule(ctx: Context) -> tuple[int, time]:
    g = ctx.group
    if g.meeting_weekday is None or g.meeting_time is None:
        raise Refusal("No weekly meeting is set. Leaders set it with "
                      "/meeting set <weekday> <HH:MM> [timezone] [place].")  # fmt: skip
    return int(g.meeting_weekday), g.meeting_time


async def _meeting(ctx: Context, starts_at: datetime) -> Meeting:
    return await meetings.occurrence(ctx.session, ctx.group_id, starts_at, ctx.group.meeting_place)


def rsvp_buttons(group_id: int, starts_at: datetime, timezone: str) -> tuple[Button, ...]:
    """Attend / can't attend / substitute for the meeting at `starts_at`: each names that
    occurrence (its local date), so a late press never answers for the next one."""
    day = starts_at.astimezone(ZoneInfo(timezone)).date()
    return tuple(
        Button(label, f"/meeting rsvp {answer}", style=style,
               data=buttons.rsvp(group_id, day, answer))
        for answer, label, style in _RSVP_LABELS
    )  # fmt: skip


def _occurrence(ctx: Context, cmd: c.AnswerMeeting, weekday: int, clock: time) -> datetime:
    """The meeting an answer is for: a button's own occurrence (refused once it started,
    or when the meeting moved off that day), else the next one."""
    if cmd.on is None:
        return next_occurrence(weekday, clock, ctx.group.timezone, ctx.now)
    starts = on_day(cmd.on, clock, ctx.group.timezone)
    if cmd.on.weekday() != weekday:
        raise Refusal(f"There is no meeting on {cmd.on:%A %d %B} any more; nothing was "
                      "recorded. /meeting shows the next one, with its buttons.")  # fmt: skip
    if starts <= ctx.now:
        raise Refusal(f"The meeting of {describe(ctx, starts)} has already taken place; "
                      "nothing was recorded. /meeting shows the next one, with its "
                      "buttons.")  # fmt: skip
    return starts


def describe(ctx: Context, starts_at: datetime) -> str:
    local = starts_at.astimezone(ZoneInfo(ctx.group.timezone))
    place = f", {ctx.group.meeting_place}" if ctx.group.meeting_place else ""
    return f"{local:%A %d %B at %H:%M} ({ctx.group.timezone}){place}"


async def show_meeting(ctx: Context, cmd: c.ShowMeeting) -> list[Reply]:
    """The next meeting and the answers so far."""
    weekday, clock = _schedule(ctx)
    starts = next_occurrence(weekday, clock, ctx.group.timezone, ctx.now)
    answers = await meetings.rsvps(ctx.session, ctx.group_id, starts)
    lines = tuple(
        f"{_RSVP_WORDS[key].capitalize()} ({len(answers[key])}): {', '.join(answers[key])}"
        for key in _RSVP_WORDS
        if key in answers
    ) or ("Nobody has answered yet.",)
    return [to_sender(f"Next meeting: {describe(ctx, starts)}", Section("Answers", lines),
                      buttons=rsvp_buttons(ctx.group_id, starts, ctx.group.timezone))]  # fmt: skip


async def answer_meeting(ctx: Context, cmd: c.AnswerMeeting) -> list[Reply]:
    """The sender's RSVP for the next meeting, or for a button's own meeting."""
    weekday, clock = _schedule(ctx)
    starts = _occurrence(ctx, cmd, weekday, clock)
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
    g.meeting_weekday, g.meeting_time = cmd.weekday, cmd.at
    if cmd.timezone:
        g.timezone = cmd.timezone
    if cmd.place is not None:
        g.meeting_place = cmd.place
    ctx.session.add(g)
    ctx.audit("setting", "meeting", f"{weekday_name(cmd.weekday)} {cmd.at:%H:%M}")
    await reschedule(ctx.session, g, ctx.now)  # the leaderboard may follow the meeting
    text = (f"Meetings are every {weekday_name(cmd.weekday)} at {cmd.at:%H:%M} "
            f"({g.timezone}){', ' + g.meeting_place if g.meeting_place else ''}.")  # fmt: skip
    return [to_sender(text), to_group(text)]


async def cancel_meetings(ctx: Context, cmd: c.CancelMeetings) -> list[Reply]:
    """Leaders: no weekly meeting any more (and no reminders)."""
    ctx.require_leader("turn the meeting off")
    ctx.group.meeting_weekday = ctx.group.meeting_time = None
    ctx.session.add(ctx.group)
    ctx.audit("setting", "meeting", "off")
    await reschedule(ctx.session, ctx.group, ctx.now)
    return [to_sender("The weekly meeting is off; no reminders will be posted.")]


async def _meeting_of_the_day(ctx: Context) -> datetime:
    """Today's meeting from the start of its day, else the latest; never one from before
    the schedule was set (no such meeting took place)."""
    weekday, clock = _schedule(ctx)
    starts = meeting_of_the_day(weekday, clock, ctx.group.timezone, ctx.now)
    set_at = await meetings.schedule_set_at(ctx.session, ctx.group_id)
    zone = ZoneInfo(ctx.group.timezone)
    if set_at is not None and starts.astimezone(zone).date() < set_at.astimezone(zone).date():
        first = next_occurrence(weekday, clock, ctx.group.timezone, ctx.now)
        raise Refusal("No meeting has taken place since the meeting was set; the first is on "
                      f"{describe(ctx, first)}. Attendance is recorded from the start of its "
                      "day.")  # fmt: skip
    return starts


async def record_attendance(ctx: Context, cmd: c.RecordAttendance) -> list[Reply]:
    """Leaders: a member's attendance at today's meeting (from the start of its day), else
    at the latest."""
    ctx.require_leader("record attendance")
    member = await ctx.resolve(cmd.member)
    starts = await _meeting_of_the_day(ctx)
    response = await meetings.response(ctx.session, await _meeting(ctx, starts), member, ctx.now)
    response.attendance, response.updated_at = cmd.status, ctx.now
    ctx.session.add(response)
    ctx.audit("attendance", "member", cmd.status, member.id)
    return [to_sender(f"{member.name}: {cmd.status} on {describe(ctx, starts)}.")]


async def show_attendance(ctx: Context, cmd: c.ShowAttendance) -> list[Reply]:
    """Leaders: what was recorded of today's meeting (else the latest)."""
    ctx.require_leader("see the attendance")
    starts = await _meeting_of_the_day(ctx)
    recorded = await meetings.attendance(ctx.session, ctx.group_id, starts)
    by_status: dict[str, list[str]] = {}
    for member in await directory.roster(ctx.session, ctx.group_id):
        by_status.setdefault(recorded.get(key(member), ""), []).append(member.name)
    lines = tuple(
        f"{(status or 'not recorded yet').capitalize()} ({len(names)}): {', '.join(names)}"
        for status in (*ATTENDANCE, "")
        if (names := by_status.get(status))
    )
    return [to_sender(f"Attendance on {describe(ctx, starts)}", Section("Attendance", lines))]


def _local_label(clock: str, timezone: str) -> str:
    """`07:00 Berlin time`, or `07:00 UTC` for a zone without a place."""
    place = timezone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{clock} {place} time" if "/" in timezone else f"{clock} {timezone}"


async def timezone_changed(ctx: Context, old_zone: str, changed: str) -> list[Reply]:
    """After `/settings timezone`: the meeting keeps its local time, so its moment moves; say
    so, and move the next meeting (with the answers already given) to the new moment."""
    g = ctx.group
    if g.meeting_weekday is None or g.meeting_time is None or old_zone == g.timezone:
        return [to_sender(changed)]
    clock = g.meeting_time
    was = next_occurrence(int(g.meeting_weekday), clock, old_zone, ctx.now)
    day = was.astimezone(ZoneInfo(old_zone)).date()
    to = on_day(day, clock, g.timezone)
    await meetings.move(ctx.session, ctx.group_id, was, to)
    meeting = f"{weekday_name(int(g.meeting_weekday))} {clock:%H:%M}"
    if to == was:
        return [to_sender(f"{changed} The {meeting} meeting stays at {to:%H:%M} UTC.")]
    label = _local_label(f"{clock:%H:%M}", g.timezone)
    moved = (f"The {meeting} meeting is now {label}, "
             f"{to:%H:%M} UTC (it was {was:%H:%M} UTC)")  # fmt: skip
    answered = await meetings.rsvps(ctx.session, ctx.group_id, to)
    kept = f"; the answers for {day:%A %d %B} are kept" if answered else ""
    return [
        to_sender(f"{changed} {moved}{kept}."),
        to_group(f"The group's timezone is now {g.timezone}. {moved}."),
    ]
