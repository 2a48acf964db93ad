"""The group's settings and roles; leaders change them, one per command."""

from __future__ import annotations

from decimal import Decimal

from bot import commands as c
from bot.actions.meetings import timezone_changed
from bot.context import LEADER, MEMBER, Context, Refusal
from bot.goals import describe, parse_goals
from bot.messages import Reply, Section, to_group, to_sender
from bot.money import format_money
from bot.parsing import format_lead, weekday_name
from storage import directory

_COLUMNS = {"timezone": "timezone", "currency": "currency", "recognition": "recognition",
            "nudges": "nudges", "reminders": "reminder_leads", "milestones": "milestones",
            "leaderboard": "leaderboard_schedule"}  # fmt: skip


def _stored(name: str, value: object) -> object:
    if name == "reminders":
        return ",".join(str(minutes) for minutes in value)  # type: ignore[attr-defined]
    if name == "milestones":
        return ",".join(str(amount) for amount in value)  # type: ignore[attr-defined]
    return value


def reminder_leads(group: object) -> list[int]:
    text = str(getattr(group, "reminder_leads", ""))
    return [int(part) for part in text.split(",") if part]


def milestones(group: object) -> list[Decimal]:
    text = str(getattr(group, "milestones", ""))
    return [Decimal(part) for part in text.split(",") if part]


def _leaderboard_text(schedule: str) -> str:
    if schedule in ("auto", "off"):
        return "the day after the meeting, 16:00" if schedule == "auto" else "off"
    day, at = schedule.split()
    return f"{weekday_name(int(day))} {at}"


def _settings_lines(ctx: Context) -> tuple[str, ...]:
    g = ctx.group
    meeting = (f"{weekday_name(g.meeting_weekday)} {g.meeting_time}"
               if g.meeting_weekday is not None else "not set")  # fmt: skip
    leads = " ".join(format_lead(m) for m in reminder_leads(g)) or "off"
    marks = " ".join(format_money(a, g.currency) for a in milestones(g)) or "off"
    return (
        f"Timezone: {g.timezone}",
        f"Currency: {g.currency}",
        f"Meeting: {meeting}{', ' + g.meeting_place if g.meeting_place else ''}",
        f"Reminders: {leads}",
        f"Leaderboard post: {_leaderboard_text(g.leaderboard_schedule)}",
        f"Recognition: {'on' if g.recognition else 'off'}",
        f"Nudges: {'on' if g.nudges else 'off'}",
        f"Milestones: {marks}",
        "Goals: "
        + ("; ".join(describe(goal, g.currency) for goal in parse_goals(g.goals)) or "none"),
    )


# Until the scheduled posts are built, say so where their settings are shown.
NOT_POSTED_YET = (
    "Reminders, the weekly leaderboard post, recognition and nudges are kept as set here;"
    " this version does not post them yet."
)


async def show_settings(ctx: Context, cmd: c.ShowSettings) -> list[Reply]:
    """The group's settings."""
    lines = (*_settings_lines(ctx), NOT_POSTED_YET)
    return [to_sender(f"Settings of {ctx.group.name}", Section("Settings", lines))]


async def change_setting(ctx: Context, cmd: c.ChangeSetting) -> list[Reply]:
    """Leaders: change one setting."""
    ctx.require_leader("change the settings")
    old_zone = ctx.group.timezone
    setattr(ctx.group, _COLUMNS[cmd.name], _stored(cmd.name, cmd.value))
    ctx.session.add(ctx.group)
    stored = str(_stored(cmd.name, cmd.value))
    ctx.audit("setting", cmd.name, stored)
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
