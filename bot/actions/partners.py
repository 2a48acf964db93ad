"""/partners: reciprocity, a member's exchanges one by one, and the group's who-referred-whom."""

from __future__ import annotations

from typing import Any

from bot import charts
from bot import commands as c
from bot.actions.reports import _heading
from bot.context import Context
from bot.messages import Reply, Section, to_member, to_sender
from bot.periods import window
from bot.texts import amounts, natural_key, plural
from storage import partners
from storage.partners import Exchange, Pair

ONE_SIDED = 3  # referrals one way, none back: a partnership to talk about
TOP_PAIRS = 10


def _sorted(exchanges: list[Exchange]) -> list[Exchange]:
    """By the whole exchange (referrals both ways), then by name."""
    return sorted(exchanges, key=lambda x: (-x.total, natural_key(x.name), x.member_id))


def _line(x: Exchange, currency: str, mine: bool, name: str) -> str:
    you = "you" if mine else name
    return (f"{x.name}: {x.given} given to them · {x.received} received from them"
            f" · closed business {amounts(x.credited, currency)} credited to {you}"
            f" · {amounts(x.thanked, currency)} credited to them")  # fmt: skip


def _one_sided(x: Exchange, mine: bool, name: str) -> str | None:
    """A kind word on a partnership that runs one way, with the step that helps."""
    if x.given >= ONE_SIDED and x.received == 0:
        who = "You have" if mine else f"{name} has"
        return (f"{who} given {x.name} {plural(x.given, 'referral')} and none has come back"
                f" yet: a one-to-one with {x.name} helps them learn who to send"
                f" {'you' if mine else name}.")  # fmt: skip
    if x.received >= ONE_SIDED and x.given == 0:
        back = "you" if mine else name
        return (f"{x.name} has given {back} {plural(x.received, 'referral')} and none has gone"
                f" back yet: a one-to-one with {x.name} helps {back} learn who they are"
                " looking for.")  # fmt: skip
    return None


async def show_partners(ctx: Context, cmd: c.ShowPartners) -> list[Reply]:
    """For each member exchanged with: referrals each way and closed business each way,
    sorted by the whole exchange; one-sided partnerships pointed out kindly."""
    member = await ctx.resolve(cmd.member, reading=True) if cmd.member else ctx.member
    assert member.id is not None
    mine = member.id == ctx.sender_id
    span = window(cmd.period, ctx.now, ctx.group.timezone)
    found = _sorted(await partners.member_exchanges(ctx.unit, member.id, span.start, span.end))
    title = f"Partners of {member.name}"
    if not found:
        return [to_sender(title, Section(_heading(span.label), ("No referrals exchanged yet.",)))]
    currency = ctx.group.currency
    sections = [Section(_heading(span.label),
                        tuple(_line(x, currency, mine, member.name) for x in found))]  # fmt: skip
    notes = tuple(n for x in found if (n := _one_sided(x, mine, member.name)))
    if notes:
        sections.append(Section("One-sided so far", notes))
    return [to_sender(title, *sections)]


def _one_sided_pairs(pairs: list[Pair], names: dict[int, str], keys: dict[int, Any]) -> list[str]:
    """The pairs with at least `ONE_SIDED` one way and none back (as SQL found them), the
    most first."""
    found = sorted(pairs, key=lambda p: (-p[2], keys[p[0]], keys[p[1]]))
    return [f"{names[g]} gave {names[r]} {plural(n, 'referral')}, none back yet"
            for g, r, n in found]  # fmt: skip


def _top(pairs: list[Pair], keys: dict[int, Any]) -> list[Pair]:
    """The `TOP_PAIRS` pairs with the most referrals, ties by the names in natural order
    (SQL gives every pair from the cut's count up)."""
    return sorted(pairs, key=lambda p: (-p[2], keys[p[0]], keys[p[1]]))[:TOP_PAIRS]


async def show_group_partners(ctx: Context, cmd: c.ShowGroupPartners) -> list[Reply]:
    """Leaders: the group's who-referred-whom, the top pairs and the one-sided ones in text
    (counted in SQL: `storage.partners.group_partners`), and the heatmap sent to the leader
    privately: queued in this unit, drawn when it is delivered from the same window, up to
    this command's time (`bot.charts`), so the text answers at once."""
    ctx.require_leader("see the whole group's partners")
    span = window(cmd.period, ctx.now, ctx.group.timezone)
    found = await partners.group_partners(ctx.unit, ctx.group_id, span.start, span.end,
                                          top=TOP_PAIRS, one_sided=ONE_SIDED)  # fmt: skip
    title = f"Who referred whom in {ctx.group.name}"
    if not found.pairs:
        return [to_sender(title, Section(_heading(span.label), ("No referrals yet.",)))]
    names = found.names
    keys = {m: natural_key(name) for m, name in names.items()}  # once per member, not per pair
    top = tuple(f"{names[g]} → {names[r]}: {n}" for g, r, n in _top(found.top, keys))
    summary = (f"{plural(found.referrals, 'referral')} between"
               f" {plural(found.pairs, 'pair')} of members (giver → receiver).")  # fmt: skip
    sections = [Section(_heading(span.label), (summary, *top))]
    if one_sided := _one_sided_pairs(found.one_sided, names, keys):
        sections.append(Section("One-sided (a one-to-one could help)", tuple(one_sided)))
    caption = f"{title}, {span.label}"
    chart = charts.partners_chart(ctx.group_id, span.start, span.end, caption)
    text = to_sender(f"{title}. The chart is on its way to you privately.", *sections)
    return [text, to_member(ctx.member, f"{caption}: givers by receivers.", chart=chart)]
