"""`/scorecard`: a member's traffic lights over the last 26 weeks, and the group's.

The figures come from `storage.scorecard` (SQL), the points from `bot.scoring` (the one
table of thresholds). A member sees their own; a leader anyone's, and the whole group.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from bot import commands as c
from bot.context import Context, Refusal
from bot.messages import Reply, Section, to_sender
from bot.scoring import (
    POINTS,
    SPAN,
    Activity,
    Scorecard,
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


def _activity(figures: Figures) -> Activity:
    return Activity(
        given=figures.given, visitors=figures.visitors, one_to_ones=figures.one_to_ones,
        ceus=figures.ceus, credited=figures.credited, absences=figures.absences,
        lates=figures.lates, attended=figures.attended,
    )  # fmt: skip


def _weeks_of(ctx: Context, figures: Figures) -> Fraction:
    return weeks_between(span_start(ctx.now, figures.joined_at), ctx.now)


def _card(ctx: Context, figures: Figures) -> Scorecard:
    return score(_activity(figures), _weeks_of(ctx, figures), ctx.group.currency)


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
        return await _show_group(ctx)
    member = await _member(ctx, cmd)
    start = span_start(ctx.now, member.joined_at)
    figures = await scorecard.member_figures(
        ctx.unit, ctx.group_id, int(member.id or 0), ctx.group.currency, start, ctx.now
    )
    card = _card(ctx, figures)
    since = (
        "over the last 26 weeks"
        if start == ctx.now - SPAN
        else f"since joining on {member.joined_at:%d %b %Y} ({_weeks(start, ctx.now)})"
    )
    lines = tuple(
        f"{line.component.label}: {line.text}: {line.points} of {line.component.full}"
        for line in card.lines
    )
    step = f"Next step: {card.step}." if card.step else "Every component is at its full points."
    head = f"Scorecard of {member.name}, {since}: {card.total} of {POINTS} points, {card.colour}"
    return [to_sender(head, Section("Points", lines), Section("The step that adds most", (step,)))]


def _weeks(start: datetime, now: datetime) -> str:
    """The span in whole weeks, as the member reads it (the scoring uses it exactly)."""
    weeks = weeks_between(start, now)
    whole = (Decimal(weeks.numerator) / weeks.denominator).quantize(1, rounding=ROUND_HALF_UP)
    return plural(int(whole), "week")


async def _show_group(ctx: Context) -> list[Reply]:
    ctx.require_leader("see the whole group's scorecard")
    start = ctx.now - SPAN
    everyone = await scorecard.group_figures(
        ctx.unit, ctx.group_id, ctx.group.currency, start, ctx.now
    )
    if not everyone:
        return [to_sender(f"Scorecards of {ctx.group.name}", Section("Members", ("Nobody yet.",)))]
    scores = [(total(_activity(f), _weeks_of(ctx, f)), f) for f in everyone]
    scores.sort(key=lambda sf: (sf[0], natural_key(sf[1].name), sf[1].member_id))
    lines = tuple(f"{points} {colour(points)}: {f.name}" for points, f in scores)
    mean = Decimal(sum(points for points, _ in scores)) / len(scores)
    mean = mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    average = f"Group average: {mean} of {POINTS} points, {colour(mean)}"
    return [to_sender(f"Scorecards of {ctx.group.name}, lowest first", Section("Members", lines),
                      Section("The group", (average,)))]  # fmt: skip
