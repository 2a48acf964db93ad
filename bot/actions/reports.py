"""Balances and leaderboards."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from bot import commands as c
from bot.context import Context
from bot.conversion import Conversion
from bot.messages import Reply, Section, to_sender
from bot.periods import Period, window
from bot.texts import amounts, natural_key, plural, signed
from storage import reports

LEADERBOARD_LINES = 15
BALANCE_TITLE = "Referrals, closed business, one-to-ones, visitors and CEUs"
CONVERSION_TITLE = "Conversion (won of closed)"
ATTENDANCE_TITLE = "Attendance at meetings"


def _heading(label: str) -> str:
    """The period's label starting with a capital; str.capitalize would lower "Mon 23 Nov"."""
    return label[:1].upper() + label[1:]


def balance_line(totals: reports.Totals, currency: str, whose: str = "you") -> str:
    """A balance in one line: given vs received first; `whose` received the closed business
    of the thanks they gave ("you", or "they" for someone else's balance)."""
    net = signed(totals.given - totals.received)
    return (
        f"{totals.given} given / {totals.received} received (net {net})"
        f" · {amounts(totals.credited, currency)} closed business credited"
        f" · {amounts(totals.thanked, currency)} closed business {whose} received"
        f" · {plural(totals.one_to_ones, 'one-to-one')} · {plural(totals.visitors, 'visitor')}"
        f" · {plural(totals.ceus, 'CEU')}"
    )


def conversion_line(totals: reports.Totals) -> str:
    """A member's conversion as giver and as receiver, in one line."""
    given = Conversion.of(totals.given_by_status).describe()
    received = Conversion.of(totals.received_by_status).describe()
    return f"as giver {given}; as receiver {received}"


async def show_balance(ctx: Context, cmd: c.ShowBalance) -> list[Reply]:
    """The balance of the sender or of the member named, for one period or all time and quarter."""
    member = await ctx.resolve(cmd.member, reading=True) if cmd.member else ctx.member
    assert member.id is not None
    whose = "you" if member.id == ctx.sender_id else "they"
    periods = [cmd.period] if cmd.period else [Period.ALL, Period.QUARTER]
    spans = [window(period, ctx.now, ctx.group.timezone) for period in periods]
    starts = [s.start for s in spans]
    found = await reports.totals_since(ctx.unit, member.id, starts, ctx.now, ctx.group_id)
    lines = [
        f"{_heading(span.label)}: {balance_line(totals, ctx.group.currency, whose)}"
        for span, totals in zip(spans, found, strict=True)
    ]
    conversions = [
        f"{_heading(span.label)}: {conversion_line(totals)}"
        for span, totals in zip(spans, found, strict=True)
    ]
    gone = " (no longer in the group)" if member.left_at is not None else ""
    sections = [Section(BALANCE_TITLE, tuple(lines)), Section(CONVERSION_TITLE, tuple(conversions))]
    counts = found[0].attendance  # all time, whatever the period
    if counts or ctx.group.meeting_weekday is not None:  # once the group keeps meetings
        sections.append(Section(ATTENDANCE_TITLE, (f"All time: {attendance_line(counts)}",)))
    return [to_sender(f"Balance of {member.name}{gone}", *sections)]


def attendance_line(counts: dict[str, int]) -> str:
    """Attendance in BNI's PALMS terms; a substitute is never an absence."""
    return (f"{counts.get('present', 0)} present · {counts.get('late', 0)} late · "
            f"{plural(counts.get('absent', 0), 'absence')} · "
            f"{counts.get('medical', 0)} medical · "
            f"{plural(counts.get('substitute', 0), 'substitute')}")  # fmt: skip


def ranked(
    standings: Sequence[reports.Standing], currency: str
) -> list[tuple[int, reports.Standing]]:
    """The ranking with its ranks: referrals given, then closed business credited in the
    group's currency, then in each other currency (by code), then one-to-ones. Members equal
    on all of these share a rank (1, 2, 2, 4) and are listed by name in natural order."""
    others = sorted({code for s in standings for code in s.credited} - {currency})

    def score(s: reports.Standing) -> tuple[Decimal | int, ...]:
        business = [-s.credited.get(code, Decimal(0)) for code in (currency, *others)]
        return (-s.given, *business, -s.one_to_ones)

    ordered = sorted(standings, key=lambda s: (score(s), natural_key(s.name), s.member_id))
    out: list[tuple[int, reports.Standing]] = []
    for place, standing in enumerate(ordered, start=1):
        tied = out and score(out[-1][1]) == score(standing)
        out.append((out[-1][0] if tied else place, standing))
    return out


def standings_lines(standings: Sequence[reports.Standing], label: str, currency: str) -> Section:
    """The ranking as plain lines (names, never mentions): the first 15 places, with every
    member tied for the 15th (a cut never separates a tie), then "and N more"."""
    if not standings:
        return Section(_heading(label), ("Nothing recorded yet.",))
    places = ranked(standings, currency)
    shown = [(rank, s) for rank, s in places if rank <= LEADERBOARD_LINES]
    lines = [
        f"{rank}. {s.name}: {s.given} given · {amounts(s.credited, currency)} "
        f"closed business credited · {plural(s.one_to_ones, 'one-to-one')}"
        f" · {plural(s.ceus, 'CEU')}"
        for rank, s in shown
    ]
    if len(places) > len(shown):
        lines.append(f"and {len(places) - len(shown)} more")
    return Section(_heading(label), tuple(lines))


async def show_leaderboard(ctx: Context, cmd: c.ShowLeaderboard) -> list[Reply]:
    """The group's ranking for a period, and its conversion (read in one statement)."""
    span = window(cmd.period, ctx.now, ctx.group.timezone)
    standings, statuses = await reports.leaderboard_and_statuses(
        ctx.unit, ctx.group_id, span.start, span.end
    )
    section = standings_lines(standings, span.label, ctx.group.currency)
    conversion = Section(CONVERSION_TITLE, (f"The group: {Conversion.of(statuses).describe()}",))
    return [to_sender(f"Leaderboard of {ctx.group.name}", section, conversion)]
