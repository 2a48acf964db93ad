"""Group goals: what a goal is, how it is stored on the group, its progress and pace, and
the one notice in the group when it is reached (claimed once per period).

A goal is a kind (referrals, business, visitors, onetoones, ceus), a target and a period
(week, month, quarter, year), one per kind. Its progress is counted over the current period
in the group's timezone (`storage.goals.progress`); the pace says what is still needed per
remaining week, and "on track" means the pace so far reaches the target by the period's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from zoneinfo import ZoneInfo

from bot.money import format_money
from bot.periods import Period, Window, window

KINDS = ("referrals", "business", "visitors", "onetoones", "ceus")
PERIODS = (Period.WEEK, Period.MONTH, Period.QUARTER, Period.YEAR)
WORDS = {"referrals": "referrals given", "business": "closed business",
         "visitors": "visitors", "onetoones": "one-to-ones", "ceus": "CEUs"}  # fmt: skip
WEEK = timedelta(days=7)


def _first_up(words: str) -> str:
    """`words` with its first letter a capital (\"CEUs\" stays as it is)."""
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class Goal:
    """One group goal."""

    kind: str
    target: Decimal
    period: Period


def parse_goals(stored: str) -> list[Goal]:
    """The goals as the group row keeps them: "referrals:40:month,business:250000:year"."""
    goals = []
    for part in stored.split(","):
        if part:
            kind, target, period = part.split(":")
            goals.append(Goal(kind, Decimal(target), Period(period)))
    return sorted(goals, key=lambda g: KINDS.index(g.kind))


def stored_goals(goals: list[Goal]) -> str:
    """The inverse of `parse_goals`."""
    return ",".join(f"{g.kind}:{g.target}:{g.period.value}" for g in goals)


def with_goal(stored: str, kind: str, goal: Goal | None) -> str:
    """The stored goals with `kind`'s replaced by `goal` (None: removed)."""
    kept = [g for g in parse_goals(stored) if g.kind != kind]
    return stored_goals([*kept, goal] if goal is not None else kept)


def figure(kind: str, value: Decimal, currency: str) -> str:
    """A goal's number as members read it: money for business, else a whole count."""
    if kind == "business":
        return format_money(value, currency)
    return f"{int(value):,}"


def describe(goal: Goal, currency: str) -> str:
    """ "40 referrals given a month", "$250,000.00 of closed business a year"."""
    what = WORDS[goal.kind]
    target = figure(goal.kind, goal.target, currency)
    return f"{target} {'of ' + what if goal.kind == 'business' else what} a {goal.period.value}"


def period_bounds(period: Period, now: datetime, timezone: str) -> tuple[Window, datetime]:
    """The current period (its window up to `now`) and the moment it ends, in UTC."""
    span = window(period, now, timezone)
    assert span.start is not None
    zone = ZoneInfo(timezone)
    local = span.start.astimezone(zone).replace(tzinfo=None)
    if period is Period.WEEK:
        after = local + WEEK
    else:
        months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[period]
        index = local.month - 1 + months
        after = local.replace(year=local.year + index // 12, month=index % 12 + 1)
    return span, after.replace(tzinfo=zone).astimezone(span.start.tzinfo)


@dataclass(frozen=True)
class Progress:
    """A goal's standing at one moment of its period."""

    goal: Goal
    label: str  # the period, e.g. "December 2026"
    done: Decimal
    elapsed: timedelta
    left: timedelta

    @property
    def reached(self) -> bool:
        return self.done >= self.goal.target

    @property
    def percent(self) -> int:
        return int((self.done * 100 / self.goal.target).to_integral_value(ROUND_DOWN))

    @property
    def projected(self) -> Decimal:
        """What the pace so far comes to by the period's end."""
        total = self.elapsed + self.left
        if self.elapsed <= timedelta(0):
            return self.done
        return (
            self.done
            * Decimal(total / timedelta(seconds=1))
            / Decimal(self.elapsed / timedelta(seconds=1))
        )

    @property
    def on_track(self) -> bool:
        return self.reached or self.projected >= self.goal.target

    @property
    def weeks_left(self) -> Decimal:
        return Decimal(self.left / timedelta(seconds=1)) / Decimal(WEEK / timedelta(seconds=1))

    def needed_per_week(self) -> Decimal:
        """What is still to do, per remaining week (rounded up: that pace reaches it)."""
        to_go = self.goal.target - self.done
        weeks = self.weeks_left
        if to_go <= 0 or weeks <= 0:
            return Decimal(0)
        step = Decimal("0.01") if self.goal.kind == "business" else Decimal("0.1")
        return (to_go / weeks).quantize(step, ROUND_UP)


def progress_line(p: Progress, currency: str) -> str:
    """One goal's line in /goals."""
    kind, target = p.goal.kind, p.goal.target
    head = (f"{_first_up(WORDS[kind])}, {p.label}: {figure(kind, p.done, currency)} of "
            f"{figure(kind, target, currency)} ({p.percent}%)")  # fmt: skip
    if p.reached:
        return f"{head}. Reached. Well done!"
    weeks = p.weeks_left.quantize(Decimal("0.1"), ROUND_HALF_UP)
    pace = p.needed_per_week()
    shown_pace = format_money(pace, currency) if kind == "business" else f"{pace}"
    to_go = figure(kind, target - p.done, currency)
    projected = p.projected
    if kind == "business":
        on_pace = format_money(projected.quantize(Decimal("0.01"), ROUND_DOWN), currency)
    else:
        on_pace = f"{int(projected.to_integral_value(ROUND_DOWN)):,}"
    state = "on track" if p.on_track else "behind"
    return (f"{head}. {to_go} to go: {shown_pace} a week over the {weeks} weeks left. "
            f"{state.capitalize()} (the pace so far comes to {on_pace}).")  # fmt: skip


def reached_notice(goal: Goal, label: str, done: Decimal, currency: str) -> str:
    """The group's notice when a goal is reached."""
    return (f"Goal reached: {figure(goal.kind, done, currency)} {WORDS[goal.kind]} in "
            f"{label} (the goal was {figure(goal.kind, goal.target, currency)}). "
            "Well done, everyone!")  # fmt: skip
