"""`/scorecard`: a member's traffic lights over the last 26 weeks, and the group's.

The figures come from `storage.scorecard` (SQL), the points from `bot.scoring` (the one
table of thresholds). A member sees their own; a leader anyone's, and the whole group.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from bot import commands as c
from bot.context import Context, Refusal
from bot.messages import Reply, Section, to_sender
from bot.scoring import (
    POINTS,
    SPAN,
    Activity,
    colour,
    score,
    span_start,
    total,
    weeks_between,
)
from bot.texts import natural_key, plural
from storage import scorecard
from storage.scorecard import Figures
from storage.tables import Member
from storage.units import Unit


def _activity(figures: Figures) -> Activity:
    return Activity(
        given=figures.given, visitors=figures.visitors, one_to_ones=figures.one_to_ones,
        ceus=figures.ceus, credited=figures.credited, absences=figures.absences,
        lates=figures.lates, attended=figures.attended,
    )  # fmt: skip


def _weeks_of(now: datetime, figures: Figures) -> Fraction:
    return weeks_between(span_start(now, figures.joined_at), now)


def _with_form(refusal: Refusal) -> Refusal:
    from bot.grammar import spec_named  # here: the definitions, which it reads, import this

    spec = spec_named("scorecard")
    assert spec is not None
    forms = "\n".join((spec.usage, *spec.more))
    return Refusal(f"{refusal}\nThe right form:\n{forms}\nExample: {spec.examples[0]}")


async def _member(ctx: Context, cmd: c.ShowScorecard) -> Member:
    if cmd.member is None:
        return ctx.member
    try:
        member = await ctx.resolve(cmd.member, reading=True)
    except Refusal as refusal:
        raise _with_form(refusal) from refusal
    if member.id != ctx.sender_id and not ctx.is_leader:
        raise Refusal("You see your own scorecard (/scorecard); leaders see anyone's.")
    return member


async def show_scorecard(ctx: Context, cmd: c.ShowScorecard) -> list[Reply]:
    """The scorecard of the sender, of a member (leaders), or of the whole group (leaders)."""
    if cmd.group:
        ctx.require_leader("see the whole group's scorecard")
        head, sections = await group_scorecard(ctx.unit, ctx.group, ctx.now)
    else:
        member = await _member(ctx, cmd)
        head, sections = await member_scorecard(ctx.unit, ctx.group, member, ctx.now)
    return [to_sender(head, *sections)]


async def member_scorecard(
    unit: Unit, group: Any, member: Member, now: datetime
) -> tuple[str, tuple[Section, ...]]:
    """A member's scorecard up to `now`: its headline and sections (also the monthly post's)."""
    start = span_start(now, member.joined_at)
    figures = await scorecard.member_figures(
        unit, int(group.id), int(member.id or 0), group.currency, start, now
    )
    card = score(_activity(figures), _weeks_of(now, figures), group.currency)
    since = (
        "over the last 26 weeks"
        if start == now - SPAN
        else f"since joining on {member.joined_at:%d %b %Y} ({_weeks(start, now)})"
    )
    lines = tuple(
        f"{line.component.label}: {line.text}: {line.points} of {line.component.full}"
        for line in card.lines
    )
    step = f"Next step: {card.step}." if card.step else "Every component is at its full points."
    head = f"Scorecard of {member.name}, {since}: {card.total} of {POINTS} points, {card.colour}"
    return head, (Section("Points", lines), Section("The step that adds most", (step,)))


def _weeks(start: datetime, now: datetime) -> str:
    """The span in whole weeks, as the member reads it (the scoring uses it exactly)."""
    weeks = weeks_between(start, now)
    whole = (Decimal(weeks.numerator) / weeks.denominator).quantize(1, rounding=ROUND_HALF_UP)
    return plural(int(whole), "week")


async def group_scorecard(unit: Unit, group: Any, now: datetime) -> tuple[str, tuple[Section, ...]]:
    """Every member's score and colour up to `now`, lowest first, and the group's average:
    the headline and sections (also the leaders' monthly post)."""
    everyone = await scorecard.group_figures(unit, int(group.id), group.currency, now - SPAN, now)
    if not everyone:
        return f"Scorecards of {group.name}", (Section("Members", ("Nobody yet.",)),)
    scores = [(total(_activity(f), _weeks_of(now, f)), f) for f in everyone]
    scores.sort(key=lambda sf: (sf[0], natural_key(sf[1].name), sf[1].member_id))
    lines = tuple(f"{points} {colour(points)}: {f.name}" for points, f in scores)
    mean = Decimal(sum(points for points, _ in scores)) / len(scores)
    mean = mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    average = f"Group average: {mean} of {POINTS} points, {colour(mean)}"
    return (f"Scorecards of {group.name}, lowest first",
            (Section("Members", lines), Section("The group", (average,))))  # fmt: skip
