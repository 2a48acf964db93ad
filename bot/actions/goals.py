"""Group goals: leaders set them (/settings goal), everyone sees them (/goals), and the group
hears once per period when one is reached."""

from __future__ import annotations

from datetime import timedelta

from bot import commands as c
from bot import goals
from bot.context import Context
from bot.goals import Goal, Progress
from bot.messages import Reply, Section, to_group, to_sender
from storage import directory
from storage import goals as counting
from storage.tables import PostClaim

# What each recording command can move (a thanks or a won referral: closed business).
MOVES = {c.GiveReferral: "referrals", c.ThankMember: "business", c.MoveReferral: "business",
         c.LogOneToOne: "onetoones", c.LogVisitor: "visitors", c.LogCeu: "ceus"}  # fmt: skip


async def set_goal(ctx: Context, cmd: c.SetGoal) -> list[Reply]:
    """Leaders: set a goal of one kind (replacing that kind's), or remove it."""
    ctx.require_leader("set the group's goals")
    current = {g.kind: g for g in goals.parse_goals(ctx.group.goals)}
    if cmd.target is None:
        if cmd.kind not in current:
            return [to_sender(f"There is no {cmd.kind} goal to remove. /goals shows the goals.")]
        ctx.group.goals = goals.with_goal(ctx.group.goals, cmd.kind, None)
        text = f"The {cmd.kind} goal ({goals.describe(current[cmd.kind], ctx.group.currency)})"
        text += " is removed."
    else:
        assert cmd.period is not None
        goal = Goal(cmd.kind, cmd.target, cmd.period)
        ctx.group.goals = goals.with_goal(ctx.group.goals, cmd.kind, goal)
        text = f"Goal set: {goals.describe(goal, ctx.group.currency)}. /goals shows the progress."
    ctx.session.add(ctx.group)
    ctx.audit("setting", "goal", ctx.group.goals)
    return [to_sender(text)]


async def _progress(ctx: Context, found: list[Goal]) -> list[Progress]:
    """Each goal's standing now, over its current period (one statement for them all)."""
    spans = [goals.period_bounds(goal.period, ctx.now, ctx.group.timezone) for goal in found]
    # up to and with this instant: the entry this command just recorded counts
    until = ctx.now + timedelta(microseconds=1)
    asked = [(goal.kind, span.start) for goal, (span, _) in zip(found, spans, strict=True)]
    figures = await counting.progress(ctx.unit, ctx.group_id, asked, until, ctx.group.currency)
    out = []
    for goal, (span, end), done in zip(found, spans, figures, strict=True):
        assert span.start is not None
        out.append(Progress(goal, span.label, done, ctx.now - span.start, end - ctx.now))
    return out


async def show_goals(ctx: Context, cmd: c.ShowGoals) -> list[Reply]:
    """Each goal's progress this period, the percentage, the pace needed per remaining
    week, and on track or behind."""
    found = goals.parse_goals(ctx.group.goals)
    title = f"Goals of {ctx.group.name}"
    if not found:
        return [to_sender(f"{title}: none set yet. Leaders set one, e.g."
                          " /settings goal referrals 40 month.")]  # fmt: skip
    lines = [goals.progress_line(p, ctx.group.currency) for p in await _progress(ctx, found)]
    return [to_sender(title, Section("This period", tuple(lines)))]


async def recognise(ctx: Context, command: c.Command) -> list[Reply]:
    """After an entry: the group's notice for a goal this entry reached, once per period
    (the claim and the notice are written with the entry, in its transaction)."""
    kind = MOVES.get(type(command))
    if kind is None or not ctx.group.goals or not ctx.group.recognition:
        return []
    goal = next((g for g in goals.parse_goals(ctx.group.goals) if g.kind == kind), None)
    if goal is None:
        return []
    (progress,) = await _progress(ctx, [goal])
    if not progress.reached:
        return []
    start = ctx.now - progress.elapsed
    claim = dict(group_id=ctx.group_id, kind="goal",
                 occurrence=f"{goal.kind}:{goal.period.value}:{start:%Y-%m-%dT%H:%M}",
                 created_at=ctx.now)  # fmt: skip
    if not await directory.insert_ignore(ctx.session, PostClaim, claim):
        return []
    text = goals.reached_notice(goal, progress.label, progress.done, ctx.group.currency)
    return [to_group(text)]
