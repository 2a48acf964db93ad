"""Balances and leaderboards."""

from __future__ import annotations

from bot import commands as c
from bot.context import Context
from bot.messages import Reply, Section, to_sender
from bot.money import format_money
from bot.periods import Period, Window, window
from bot.texts import amounts, plural, signed
from storage import reports

LEADERBOARD_LINES = 15


def _heading(label: str) -> str:
    """The period's label starting with a capital; str.capitalize would lower "Mon 23 Nov"."""
    return label[:1].upper() + label[1:]


def balance_line(totals: reports.Totals, currency: str) -> str:
    """A balance in one line: given vs received first."""
    net = signed(totals.given - totals.received)
    return (
        f"{totals.given} given / {totals.received} received (net {net})"
        f" · {amounts(totals.credited, currency)} closed business credited"
        f" · {amounts(totals.thanked, currency)} received"
        f" · {plural(totals.one_to_ones, 'one-to-one')} · {plural(totals.visitors, 'visitor')}"
    )


async def show_balance(ctx: Context, cmd: c.ShowBalance) -> list[Reply]:
    """The balance of the sender or of the member named, for one period or all time and quarter."""
    member = await ctx.resolve(cmd.member) if cmd.member else ctx.member
    assert member.id is not None
    periods = [cmd.period] if cmd.period else [Period.ALL, Period.QUARTER]
    spans = [window(period, ctx.now, ctx.group.timezone) for period in periods]
    found = await reports.totals_since(ctx.unit, member.id, [s.start for s in spans], ctx.now)
    lines = [
        f"{_heading(span.label)}: {balance_line(totals, ctx.group.currency)}"
        for span, totals in zip(spans, found, strict=True)
    ]
    return [to_sender(f"Balance of {member.name}", Section(member.name, tuple(lines)))]


async def standings_section(ctx: Context, span: Window) -> Section:
    """The leaderboard over `span` as a section of plain names (never mentions)."""
    standings = await reports.leaderboard(
        ctx.unit, ctx.group_id, ctx.group.currency, span.start, span.end
    )
    return standings_lines(standings, span.label, ctx.group.currency)


def standings_lines(standings: list[reports.Standing], label: str, currency: str) -> Section:
    """The ranking as plain lines (names, never mentions), cut after the first 15."""
    if not standings:
        return Section(_heading(label), ("Nothing recorded yet.",))
    lines = [
        f"{rank}. {s.name}: {s.given} given · {format_money(s.credited, currency)} "
        f"closed business credited · {plural(s.one_to_ones, 'one-to-one')}"
        for rank, s in enumerate(standings[:LEADERBOARD_LINES], start=1)
    ]
    if len(standings) > LEADERBOARD_LINES:
        lines.append(f"and {len(standings) - LEADERBOARD_LINES} more")
    return Section(_heading(label), tuple(lines))


async def show_leaderboard(ctx: Context, cmd: c.ShowLeaderboard) -> list[Reply]:
    """The group's ranking for a period."""
    span = window(cmd.period, ctx.now, ctx.group.timezone)
    section = await standings_section(ctx, span)
    return [to_sender(f"Leaderboard of {ctx.group.name}, {span.label}", section)]
