"""The weekly leaderboard post: the seven days up to the post, the quarter to date beside.

`gather` reads (a read unit); `compose` turns what was read into the post, its chart drawn
(`bot.weekly_chart`) in a drawing process (`bot.drawing`). Names, never mentions. Beside the
members' figures the post shows the group's conversion over the quarter to date (one
statement: `storage.reports.group_statuses`; a week is too short for referrals to close) and
each goal's progress over its current period (one statement for them all:
`storage.goals.progress`), both as of the occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot import drawing, goals, weekly_chart
from bot.actions.reports import CONVERSION_TITLE, ranked
from bot.conversion import Conversion
from bot.goals import Progress
from bot.messages import Reply, Section, to_group
from bot.periods import Period, window
from bot.texts import amounts, plural
from storage import directory, reports, weekly
from storage import goals as counting
from storage.units import Unit

TOP = 10
WEEK = timedelta(days=7)


@dataclass
class Figures:
    """One member's (or the group's) numbers over one window."""

    given: int = 0
    credited: dict[str, Decimal] = field(default_factory=dict)
    one_to_ones: int = 0
    visitors: int = 0


@dataclass
class WeeklyBoard:
    """What the post is made of, as read."""

    group_name: str
    currency: str
    timezone: str
    at: datetime
    quarter_label: str
    names: dict[int, str]
    week: dict[int, Figures]
    quarter: dict[int, Figures]
    week_before: dict[int, Figures]
    ranking: list[tuple[int, int]]  # (rank, member id), this week's
    recognition: bool = True  # off: no giver of the week (`/settings recognition off`)
    conversion: Conversion = field(default_factory=Conversion)  # the quarter to date
    goals: list[Progress] = field(default_factory=list)  # each goal over its current period


async def _figures(unit: Unit, group_id: int, start: datetime, end: datetime) -> dict[int, Figures]:
    standings = await reports.leaderboard(unit, group_id, start, end)
    out = {s.member_id: Figures(s.given, dict(s.credited), s.one_to_ones) for s in standings}
    for member_id, count in (await weekly.visitors_by_host(unit, group_id, start, end)).items():
        out.setdefault(member_id, Figures()).visitors = count
    return out


async def _goals(unit: Unit, group: Any, at: datetime) -> list[Progress]:
    """Each of the group's goals as it stood at `at`, over the period `at` falls in."""
    found = goals.parse_goals(group.goals or "")
    spans = [goals.period_bounds(goal.period, at, group.timezone) for goal in found]
    asked = [(goal.kind, span.start) for goal, (span, _) in zip(found, spans, strict=True)]
    figures = await counting.progress(unit, int(group.id), asked, at, group.currency)
    out = []
    for goal, (span, end), done in zip(found, spans, figures, strict=True):
        assert span.start is not None
        out.append(Progress(goal, span.label, done, at - span.start, end - at))
    return out


async def gather(unit: Unit, group: Any, at: datetime) -> WeeklyBoard:
    """Read the numbers of the week up to `at` (the occurrence, so that a post made late
    covers the same week), the week before, and the quarter to date."""
    group_id = int(group.id)
    quarter = window(Period.QUARTER, at, group.timezone)
    assert quarter.start is not None
    standings = await reports.leaderboard(unit, group_id, at - WEEK, at)
    names = {int(m.id or 0): m.name for m in await directory.active_members(unit.session, group_id)}
    week = await _figures(unit, group_id, at - WEEK, at)
    ranked_ids = {s.member_id for s in standings}
    # members whose week was visitors only are on the board too, after the others
    standings += [reports.Standing(m, names[m]) for m in week if m not in ranked_ids and m in names]
    return WeeklyBoard(
        group_name=group.name, currency=group.currency, timezone=group.timezone, at=at,
        quarter_label=quarter.label, names=names, week=week,
        quarter=await _figures(unit, group_id, quarter.start, at),
        week_before=await _figures(unit, group_id, at - 2 * WEEK, at - WEEK),
        ranking=[(rank, s.member_id) for rank, s in ranked(standings, group.currency)],
        recognition=bool(group.recognition),
        conversion=Conversion.of(await reports.group_statuses(unit, group_id, quarter.start, at)),
        goals=await _goals(unit, group, at),
    )  # fmt: skip


def _total(figures: dict[int, Figures]) -> Figures:
    total = Figures()
    for f in figures.values():
        total.given += f.given
        total.one_to_ones += f.one_to_ones
        total.visitors += f.visitors
        for code, amount in f.credited.items():
            total.credited[code] = total.credited.get(code, Decimal(0)) + amount
    return total


def _change(now: int | Decimal, before: int | Decimal) -> str:
    difference = now - before
    return "same as the week before" if not difference else f"{difference:+,} on the week before"


def _money_change(now: Figures, before: Figures, currency: str) -> str:
    mine, theirs = now.credited.get(currency, Decimal(0)), before.credited.get(currency, Decimal(0))
    difference = mine - theirs
    if not difference:
        return "same as the week before"
    sign = "+" if difference > 0 else "-"
    return f"{sign}{amounts({currency: abs(difference)}, currency)} on the week before"


def _member_line(board: WeeklyBoard, rank: int, member_id: int) -> str:
    w, q = board.week.get(member_id, Figures()), board.quarter.get(member_id, Figures())
    cur = board.currency
    return (f"{rank}. {board.names[member_id]}: {w.given} given ({q.given}) · "
            f"{amounts(w.credited, cur)} closed business ({amounts(q.credited, cur)}) · "
            f"{plural(w.one_to_ones, 'one-to-one')} ({q.one_to_ones}) · "
            f"{plural(w.visitors, 'visitor')} ({q.visitors})")  # fmt: skip


def compose_text(board: WeeklyBoard) -> tuple[str, tuple[Section, ...]]:
    """The post's headline and sections."""
    local = board.at.astimezone(ZoneInfo(board.timezone))
    since = (local - WEEK).strftime("%a %d %b")
    title = f"Weekly leaderboard of {board.group_name}: the 7 days from {since} to {local:%a %d %b}"
    shown = [(rank, m) for rank, m in board.ranking if rank <= TOP]
    lines = tuple(_member_line(board, rank, m) for rank, m in shown) or ("No activity this week.",)
    if len(board.ranking) > len(shown):
        lines += (f"and {len(board.ranking) - len(shown)} more",)
    week, before = _total(board.week), _total(board.week_before)
    totals = (
        f"Referrals: {week.given} ({_change(week.given, before.given)})",
        f"Closed business: {amounts(week.credited, board.currency)} "
        f"({_money_change(week, before, board.currency)})",
        f"One-to-ones: {week.one_to_ones} ({_change(week.one_to_ones, before.one_to_ones)})",
        f"Visitors: {week.visitors} ({_change(week.visitors, before.visitors)})",
    )
    top = [m for rank, m in board.ranking if rank == 1 and board.week[m].given > 0]
    giver = "nobody yet: the first referral of the week takes it"
    if top:
        count = plural(board.week[top[0]].given, "referral")
        giver = " and ".join(board.names[m] for m in top) + f", {count} given"
    conversion = f"The group, {board.quarter_label} to date: {board.conversion.describe()}"
    sections = [
        Section(f"This week (in brackets: {board.quarter_label} to date)", lines),
        Section("The group this week", totals),
        Section(CONVERSION_TITLE, (conversion,)),
    ]
    if board.goals:
        shown_goals = tuple(goals.progress_line(p, board.currency) for p in board.goals)
        sections.append(Section("Goals", shown_goals))
    if board.recognition:
        sections.append(Section("Giver of the week", (giver,)))
    return title, tuple(sections)


def chart(board: WeeklyBoard) -> tuple[str, list[str], list[int], list[int]]:
    """What the chart shows (`bot.weekly_chart.draw`'s arguments): referrals given per member,
    this week and this quarter, the week's ranking first, then the rest by the quarter."""
    order = [m for _, m in board.ranking]
    ranked_ids = set(order)
    order += sorted((m for m in board.quarter if m not in ranked_ids and m in board.names),
                    key=lambda m: (-board.quarter[m].given, board.names[m]))  # fmt: skip
    week = [board.week.get(m, Figures()).given for m in order]
    quarter = [board.quarter.get(m, Figures()).given for m in order]
    title = f"{board.group_name}: referrals given"
    return title, [board.names[m] for m in order], week, quarter


async def compose(board: WeeklyBoard) -> list[Reply]:
    """The post for the group's chat, its chart attached (drawn in a drawing process)."""
    title, sections = compose_text(board)
    image = await drawing.drawn(weekly_chart.draw, *chart(board)) if board.quarter else None
    return [to_group(title, *sections, image=image)]
