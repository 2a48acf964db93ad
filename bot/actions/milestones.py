"""Milestones, told in the group once each: a member's first referral, every 10th, and each
closed-business threshold the group set (`/settings milestones`, in its currency).

Told right after the entry that reaches one, with it: the claim (`post_claims`, kind
`milestone`, unique per member and milestone) and the group's notice are written in the
entry's own transaction. A voided entry takes nothing back, and the claim keeps a milestone
reached again (after a void) from being told twice.
"""

from __future__ import annotations

from decimal import Decimal

from bot import commands as c
from bot.actions.settings import milestones
from bot.context import Context
from bot.messages import Reply, to_group
from bot.money import format_money
from bot.texts import ordinal
from storage import directory, entries
from storage import milestones as counting
from storage.tables import Member, PostClaim

EVERY = 10  # every 10th referral given is told


async def _claimed(ctx: Context, member_id: int, what: str) -> bool:
    """Claim one milestone of one member; True for whoever inserted the claim."""
    claim = dict(group_id=ctx.group_id, kind="milestone", occurrence=f"{member_id}:{what}",
                 created_at=ctx.now)  # fmt: skip
    return await directory.insert_ignore(ctx.session, PostClaim, claim)


async def _referrals(ctx: Context) -> list[Reply]:
    count = await counting.referrals_given(ctx.unit, ctx.group_id, ctx.member_id)
    if count != 1 and count % EVERY:
        return []
    if not await _claimed(ctx, ctx.member_id, f"referrals:{count}"):
        return []
    if count == 1:
        return [to_group(f"{ctx.member.name} gave their first referral. Welcome to the givers!")]
    return [to_group(f"{ctx.member.name} gave their {ordinal(count)} referral. Thank you!")]


async def _business(ctx: Context, member: Member, amount: Decimal) -> list[Reply]:
    """The thresholds this entry's `amount` carried the member's total past (a total over
    a threshold before this entry is no news)."""
    currency = ctx.group.currency
    now = await counting.credited(ctx.unit, ctx.group_id, int(member.id or 0), currency)
    crossed = [m for m in milestones(ctx.group) if now - amount < m <= now]
    told = [m for m in crossed if await _claimed(ctx, int(member.id or 0), f"business:{m}")]
    if not told:
        return []
    mark = format_money(max(told), currency)
    return [to_group(f"{member.name} passed {mark} of closed business credited to them. "
                     "Congratulations!")]  # fmt: skip


async def _credited_member(ctx: Context, command: c.Command) -> Member | None:
    if isinstance(command, c.ThankMember):
        return await ctx.resolve(command.member, reading=True)
    if isinstance(command, c.MoveReferral) and command.status == "won":
        referral = await entries.referral_numbered(ctx.session, ctx.group_id, command.number)
        if referral is not None:
            return await ctx.session.get(Member, referral.giver_id)
    return None


async def recognise(ctx: Context, command: c.Command) -> list[Reply]:
    """After an entry: the group's notice of a milestone it reached, once (with recognition
    on)."""
    if not ctx.group.recognition:
        return []
    if isinstance(command, c.GiveReferral):
        return await _referrals(ctx)
    amount = getattr(command, "amount", None)
    if isinstance(command, c.ThankMember | c.MoveReferral) and amount is not None:
        member = await _credited_member(ctx, command)
        return [] if member is None else await _business(ctx, member, amount)
    return []
