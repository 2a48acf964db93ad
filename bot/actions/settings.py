"""The group's settings and roles; leaders change them, one per command."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot import commands as c
from bot import reminder_times
from bot.actions.meetings import timezone_changed
from bot.context import LEADER, MEMBER, Context, Refusal
from bot.due import ANNIVERSARIES, LEADERBOARD, NUDGES, SCORECARDS, Kind
from bot.goals import describe, parse_goals
from bot.messages import Reply, Section, to_group, to_sender
from bot.money import format_money
from bot.parsing import format_lead, weekday_name
from bot.rescheduling import reschedule
from bot.schedule import leaderboard_slot
from storage import directory

_COLUMNS = {"timezone": "timezone", "currency": "currency", "recognition": "recognition",
            "nudges": "nudges", "reminders": "reminder_leads",
            "milestones": "milestones"}  # fmt: skip
# The settings the scheduled posts' times follow (`bot.occasions.reschedule`).
_SCHEDULING = ("timezone", "leaderboard", "reminders", "recognition", "nudges")


def _store(group: Any, name: str, value: object) -> str:
    """Set one setting on the group's typed columns; what the audit trail records."""
    if name == "leaderboard":
        group.leaderboard_on = value != "off"
        weekday, at = value if isinstance(value, tuple) else (None, None)
        group.leaderboard_weekday, group.leaderboard_time = weekday, at
        return str(value) if isinstance(value, str) else f"{weekday} {at:%H:%M}"
    if name == "reminders":
        value = [int(minutes) for minutes in value]  # type: ignore[attr-defined]
    elif name == "milestones":
        value = [format(amount, "f") for amount in value]  # type: ignore[attr-defined]
    setattr(group, _COLUMNS[name], value)
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def reminder_leads(group: object) -> list[int]:
    return [int(minutes) for minutes in getattr(group, "reminder_leads", None) or []]


def milestones(group: object) -> list[Decimal]:
    return [Decimal(amount) for amount in getattr(group, "milestones", None) or []]


def _leaderboard_text(group: Any, now: datetime) -> str:
    if not group.leaderboard_on:
        return "off"
    if group.leaderboard_weekday is not None and group.leaderboard_time is not None:
        when = f"{weekday_name(group.leaderboard_weekday)} {group.leaderboard_time:%H:%M}"
    else:
        when = "the day after the meeting, 16:00"
    slot = leaderboard_slot(group)
    if slot is None:
        return f"{when} (no meeting is set, so none is posted)"
    if when[0].islower():
        when += f" ({weekday_name(slot[0])})"
    at = LEADERBOARD.following(group, now)
    assert at is not None
    local = at.astimezone(ZoneInfo(group.timezone))
    return f"{when}; next {local:%a %d %b %H:%M}"


def _reminders_text(group: Any, now: datetime) -> str:
    """The leads, each with its next reminder's local time."""
    leads = [format_lead(m) for m in reminder_leads(group)]
    if not leads:
        return "off"
    coming = reminder_times.next_each(group, now)
    if not coming:
        return f"{' '.join(leads)} (no meeting is set, so none is posted)"
    zone = ZoneInfo(group.timezone)
    nexts = ", ".join(f"{format_lead(r.lead)} {r.at.astimezone(zone):%a %d %b %H:%M}"
                      for r in coming)  # fmt: skip
    return f"{' '.join(leads)}; next {nexts}"


def _next(kind: Kind, group: Any, now: datetime) -> str:
    """When the group's next post of `kind` is, in its timezone."""
    at = kind.following(group, now)
    return "none" if at is None else f"{at.astimezone(ZoneInfo(group.timezone)):%a %d %b %H:%M}"


def _recognition_text(group: Any, now: datetime) -> str:
    if not group.recognition:
        return "off"
    anniversaries = _next(ANNIVERSARIES, group, now)
    return ("on: milestones after the entry that reaches them, giver of the week in the "
            f"leaderboard post, anniversaries daily at 09:00 (next {anniversaries})")  # fmt: skip


def _nudges_text(group: Any, now: datetime) -> str:
    scorecards = f"monthly scorecards the 1st at 09:00 (next {_next(SCORECARDS, group, now)})"
    if not group.nudges:
        return f"off ({scorecards} to leaders only)"
    return f"on: checked daily at 10:00 (next {_next(NUDGES, group, now)}); {scorecards}"


def _settings_lines(ctx: Context) -> tuple[str, ...]:
    g = ctx.group
    meeting = (f"{weekday_name(g.meeting_weekday)} {g.meeting_time:%H:%M}"
               if g.meeting_weekday is not None and g.meeting_time is not None
               else "not set")  # fmt: skip
    marks = " ".join(format_money(a, g.currency) for a in milestones(g)) or "off"
    return (
        f"Timezone: {g.timezone}",
        f"Currency: {g.currency}",
        f"Meeting: {meeting}{', ' + g.meeting_place if g.meeting_place else ''}",
        f"Reminders: {_reminders_text(g, ctx.now)}",
        f"Leaderboard post: {_leaderboard_text(g, ctx.now)}",
        f"Recognition: {_recognition_text(g, ctx.now)}",
        f"Nudges: {_nudges_text(g, ctx.now)}",
        f"Milestones: {marks}",
        "Goals: "
        + ("; ".join(describe(goal, g.currency) for goal in parse_goals(g.goals)) or "none"),
    )


async def show_settings(ctx: Context, cmd: c.ShowSettings) -> list[Reply]:
    """The group's settings."""
    lines = _settings_lines(ctx)
    return [to_sender(f"Settings of {ctx.group.name}", Section("Settings", lines))]


async def change_setting(ctx: Context, cmd: c.ChangeSetting) -> list[Reply]:
    """Leaders: change one setting."""
    ctx.require_leader("change the settings")
    old_zone = ctx.group.timezone
    stored = _store(ctx.group, cmd.name, cmd.value)
    ctx.session.add(ctx.group)
    ctx.audit("setting", cmd.name, stored)
    if cmd.name in _SCHEDULING:
        await reschedule(ctx.session, ctx.group, ctx.now)
    shown = next(line for line in _settings_lines(ctx) if line.lower().startswith(cmd.name[:6]))
    if cmd.name == "timezone":
        return await timezone_changed(ctx, old_zone, f"Changed. {shown}.")
    return [to_sender(f"Changed. {shown}")]


async def set_role(ctx: Context, cmd: c.SetRole) -> list[Reply]:
    """Leaders: give or take the leader role."""
    ctx.require_leader("change roles")
    member = await ctx.resolve(cmd.member)
    if member.role == cmd.role:
        already = "a leader" if cmd.role == LEADER else "not a leader"
        return [to_sender(f"{member.name} is already {already} of {ctx.group.name}.")]
    demoting = cmd.role == MEMBER
    if demoting and await directory.count_with_role(ctx.session, ctx.group_id, LEADER) <= 1:
        raise Refusal(f"{member.name} is the only leader; name another leader first.")
    member.role = cmd.role
    ctx.session.add(member)
    ctx.audit("role", "member", cmd.role, member.id)
    now = "no longer a leader" if demoting else "now a leader"
    text = f"{member.name} is {now} of {ctx.group.name}."
    return [to_sender(text), to_group(text)]
