"""The scorecard's rules: BNI's "traffic lights" over the last 26 weeks.

`COMPONENTS` is the one table of thresholds. Each component turns a figure (a count, a
rate per week or an amount) into points through its bands, read in order: the first band
whose limit the figure is below (or at, for an inclusive band) gives the points, and a
figure past every band gets `top`. A chapter whose region scores differently edits this
table and nothing else (the README says how); `POINTS` and the colours follow it.

The figures come from `storage.scorecard` (aggregated in SQL); this module only scores
them, exactly: rates are `Fraction`s, amounts `Decimal`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor

from bot.money import format_money
from bot.texts import plural

SPAN = timedelta(weeks=26)
WEEK = timedelta(weeks=1)
Figure = Fraction | Decimal | int


@dataclass(frozen=True)
class Band:
    """Figures below `limit` (at most `limit` when `inclusive`) score `points`."""

    limit: Fraction
    points: int
    inclusive: bool = False

    def holds(self, figure: Fraction) -> bool:
        return figure <= self.limit if self.inclusive else figure < self.limit

    def holds_rate(self, count: int, weeks: Fraction) -> bool:
        """`holds(count / weeks)` in integers: `/scorecard group` scores every member."""
        left = count * weeks.denominator * self.limit.denominator
        right = self.limit.numerator * weeks.numerator
        return left <= right if self.inclusive else left < right

    def holds_value(self, value: int | Decimal) -> bool:
        """`holds(value)` for a count or an amount, without building a Fraction."""
        left, right = value * self.limit.denominator, self.limit.numerator
        return left <= right if self.inclusive else left < right


def _bands(*bands: tuple[str, int] | tuple[str, int, bool]) -> tuple[Band, ...]:
    return tuple(Band(Fraction(Decimal(b[0])), b[1], *b[2:]) for b in bands)


@dataclass(frozen=True)
class Component:
    """One line of the scorecard: what is counted, and its points table."""

    key: str  # the figure's name in `Activity`
    label: str
    bands: tuple[Band, ...]
    top: int  # the points of a figure past every band
    per_week: bool = False  # the figure is the count divided by the weeks
    unit: tuple[str, str] | None = None  # one and several, for the next step; None: no step
    from_attendance: bool = False  # full points, said so, when no attendance is recorded

    @property
    def full(self) -> int:
        return max(self.top, *(band.points for band in self.bands))

    def points(self, figure: Figure) -> int:
        value = Fraction(figure)
        return next((band.points for band in self.bands if band.holds(value)), self.top)

    def points_for_count(self, count: int, weeks: Fraction) -> int:
        """`points(count / weeks)` of a per-week component, in integer arithmetic."""
        return next((b.points for b in self.bands if b.holds_rate(count, weeks)), self.top)


COMPONENTS: tuple[Component, ...] = (
    Component("absences", "Absences (a substitute is not one)",
              _bands(("0", 15, True), ("1", 10, True), ("2", 5, True)), 0,
              from_attendance=True),
    Component("given", "Referrals given",
              _bands(("0.5", 0), ("0.75", 5), ("1", 10), ("1.2", 15)), 20,
              per_week=True, unit=("referral given", "referrals given")),
    Component("visitors", "Visitors brought",
              _bands(("0.083", 0), ("0.167", 5), ("0.25", 10), ("0.5", 15)), 20,
              per_week=True, unit=("visitor brought", "visitors brought")),
    Component("credited", "Closed business credited",
              _bands(("1000", 0), ("2500", 5), ("5000", 10)), 15, unit=("", "")),
    Component("one_to_ones", "One-to-ones",
              _bands(("0.25", 0), ("0.5", 5)), 10,
              per_week=True, unit=("one-to-one", "one-to-ones")),
    Component("ceus", "CEUs",
              _bands(("0", 0, True), ("0.25", 5), ("0.5", 10)), 15,
              per_week=True, unit=("CEU", "CEUs")),
    Component("lates", "On time (late at most once)", _bands(("1", 5, True)), 0,
              from_attendance=True),
)  # fmt: skip
POINTS = sum(component.full for component in COMPONENTS)  # 100
COLOURS = ((70, "green"), (50, "amber"), (30, "red"), (0, "grey"))  # from that total up


def colour(total: int | Decimal) -> str:
    return next(name for floor_, name in COLOURS if total >= floor_)


@dataclass(frozen=True)
class Activity:
    """A member's figures over their scorecard's span (from `storage.scorecard`)."""

    given: int = 0
    visitors: int = 0
    one_to_ones: int = 0
    ceus: int = 0
    credited: Decimal = Decimal(0)  # in the group's currency
    absences: int = 0
    lates: int = 0
    attended: int = 0  # meetings with an attendance recorded for them


def span_start(now: datetime, joined_at: datetime) -> datetime:
    """The scorecard's start: 26 weeks ago, or when the member joined if later."""
    return max(now - SPAN, joined_at)


def weeks_between(start: datetime, now: datetime) -> Fraction:
    """The span in weeks, exactly, and at least one (a newcomer's first days)."""
    span, week = now - start, WEEK
    microseconds = (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds
    return max(Fraction(1), Fraction(microseconds, int(week.total_seconds()) * 1_000_000))


@dataclass(frozen=True)
class Line:
    component: Component
    text: str  # the figure as the member reads it
    points: int


@dataclass(frozen=True)
class Scorecard:
    lines: tuple[Line, ...]
    step: str | None  # the one step that would raise the score most

    @property
    def total(self) -> int:
        return sum(line.points for line in self.lines)

    @property
    def colour(self) -> str:
        return colour(self.total)


def _rate(value: Fraction) -> str:
    return f"{Decimal(value.numerator) / Decimal(value.denominator):.2f}"


def _figure(component: Component, activity: Activity, weeks: Fraction) -> Figure:
    count = getattr(activity, component.key)
    return Fraction(count) / weeks if component.per_week else count


def _text(component: Component, activity: Activity, weeks: Fraction, currency: str) -> str:
    count = getattr(activity, component.key)
    if component.key == "credited":
        return format_money(count, currency)
    if component.per_week:
        return f"{count:,} ({_rate(Fraction(count) / weeks)} a week)"
    return f"{count:,}"


def _needed(band: Band, weeks: Fraction, per_week: bool) -> Fraction:
    """The least figure (a count, or an amount) that leaves `band` upwards."""
    limit = band.limit * weeks if per_week else band.limit
    if per_week:  # whole entries
        return Fraction(floor(limit) + 1 if band.inclusive else ceil(limit))
    return limit + (Fraction(1, 100) if band.inclusive else 0)


def _step(component: Component, activity: Activity, weeks: Fraction, currency: str,
          points: int) -> tuple[int, Fraction, str] | None:  # fmt: skip
    """(points gained, entries it takes, the advice) for reaching the component's next band,
    if it has one; more closed business counts as more entries than any count."""
    if component.unit is None:
        return None
    figure = Fraction(_figure(component, activity, weeks))
    band = next((b for b in component.bands if b.holds(figure)), None)
    if band is None:
        return None
    count = Fraction(getattr(activity, component.key))
    more = _needed(band, weeks, component.per_week) - count
    target = count + more
    gained = component.points(target / weeks if component.per_week else target) - points
    if component.per_week:
        what = plural(int(more), f"more {component.unit[0]}", f"more {component.unit[1]}")
        effort = more
    else:
        amount = Decimal(more.numerator) / Decimal(more.denominator)
        what = f"{format_money(amount, currency)} more closed business credited to you"
        effort = Fraction(10**9)
    return gained, effort, f"{what} would add {gained} points"


def points_of(component: Component, activity: Activity, weeks: Fraction) -> int:
    """A component's points; full points, for attendance, when none is recorded."""
    if component.from_attendance and not activity.attended:
        return component.full
    if component.per_week:
        return component.points_for_count(getattr(activity, component.key), weeks)
    value = getattr(activity, component.key)
    return next((b.points for b in component.bands if b.holds_value(value)), component.top)


def total(activity: Activity, weeks: Fraction) -> int:
    """The score alone (`/scorecard group`), without the texts and the step."""
    return sum(points_of(component, activity, weeks) for component in COMPONENTS)


def score(activity: Activity, weeks: Fraction, currency: str) -> Scorecard:
    """Each component's figure and points, and the step that would raise the total most
    (the most points; on a tie, the fewest entries, then the first in the table)."""
    lines, steps = [], []
    for component in COMPONENTS:
        if component.from_attendance and not activity.attended:
            lines.append(Line(component, "no meetings recorded (full points)", component.full))
            continue
        points = points_of(component, activity, weeks)
        lines.append(Line(component, _text(component, activity, weeks, currency), points))
        step = _step(component, activity, weeks, currency, points)
        if step is not None and step[0] > 0:
            steps.append(step)
    best = min(steps, key=lambda s: (-s[0], s[1]), default=None)  # min keeps the first of a tie
    return Scorecard(tuple(lines), best[2] if best else None)
