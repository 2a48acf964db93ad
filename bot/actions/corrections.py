"""Correcting a won amount: the receiver replaces the thanks a `won` recorded, within 24 hours.

`/status 9 won 4,000` on a referral its receiver already won voids the thanks the win
recorded (audit reason "corrected") and records the right one; the group is told the
corrected figure. Withdrawing or voiding that thanks instead puts the referral back to the
status it had before it was won, so that `/status 9 won <amount>` records it again.
"""

from __future__ import annotations

from datetime import timedelta

from bot import commands as c
from bot.context import Context, Refusal
from bot.messages import Reply, Section, to_group, to_member, to_sender
from bot.money import format_money
from bot.texts import entry_name, shorten
from storage import entries
from storage.tables import Member, Referral, Thanks, key

WINDOW = timedelta(hours=24)  # own entries may be withdrawn or corrected this long


def _money(thanks: Thanks) -> str:
    return format_money(thanks.amount, thanks.currency) if thanks.amount else "no amount"


async def correct_won(ctx: Context, referral: Referral, cmd: c.MoveReferral) -> list[Reply]:
    """`/status N won [amount]` on a referral its receiver (the sender) already won."""
    number = referral.number
    live = await entries.live_thanks_for(ctx.session, key(referral))
    old = live[-1] if live else None
    since = old.created_at if old is not None else referral.updated_at
    recent = ctx.now - since <= WINDOW
    if cmd.amount is None or (old is None and not recent):
        hint = f" To correct its amount: /status {number} won <amount>." if recent else ""
        raise Refusal(f"Referral #{number} is already won.{hint}")
    if not recent:
        assert old is not None
        how = (f"void {entry_name('thanks', key(old))} with /undo thanks {old.id} <reason>, "
               f"then record the right amount with /status {number} won <amount>."
               if ctx.is_leader else
               f"ask a leader to void {entry_name('thanks', key(old))}; "
               "the referral then reopens and you can record the right amount.")  # fmt: skip
        raise Refusal(
            f"Referral #{number} was won more than 24 hours ago, so its amount can no longer "
            f"be corrected here: {how}"
        )
    money = format_money(cmd.amount, ctx.group.currency)
    if old is not None and old.amount == cmd.amount and old.currency == ctx.group.currency:
        raise Refusal(f"Referral #{number} is already won with {money}: nothing to correct.")
    if old is not None:
        old.voided = True
        ctx.session.add(old)
        ctx.audit("voided", "thanks", "corrected", old.id)
    new = await entries.add(
        ctx.unit, Thanks, group_id=ctx.group_id, from_id=ctx.member_id,
        to_id=referral.giver_id, amount=cmd.amount, currency=ctx.group.currency,
        note=f"referral #{number}", referral_id=referral.id, created_at=ctx.now,
    )  # fmt: skip
    giver = await ctx.session.get(Member, referral.giver_id)
    assert giver is not None
    new_name = entry_name("thanks", key(new))
    details = Section("Prospect", (shorten(referral.prospect, 200),))
    if old is None:  # won without an amount: the amount is added
        return [
            to_sender(f"Referral #{number} is won: {money} of closed business credited to "
                      f"{giver.name} ({new_name})."),
            to_group(f"{ctx.member.name} thanked {giver.name} for closed business: {money} "
                     f"(referral #{number})."),
            to_member(giver, f"{ctx.member.name} won your referral #{number}: {money} "
                             "credited to you.", details),
        ]  # fmt: skip
    was = _money(old)
    return [
        to_sender(f"Corrected: referral #{number} is won with {money} of closed business "
                  f"credited to {giver.name}, not {was} ({new_name} replaces "
                  f"{entry_name('thanks', key(old))})."),
        to_group(f"Correction: {ctx.member.name} thanked {giver.name} for closed business "
                 f"(referral #{number}): {money} (not {was})."),
        to_member(giver, f"{ctx.member.name} corrected your referral #{number}: {money} "
                         f"credited to you (not {was}).", details),
    ]  # fmt: skip


async def reopen(ctx: Context, thanks: Thanks) -> Referral | None:
    """After `thanks` was voided: if it was what a `won` recorded, put its referral back to
    the status before (contacted if it ever was, else open); the referral so moved."""
    if thanks.referral_id is None:
        return None
    referral = await ctx.session.get(Referral, thanks.referral_id)
    if referral is None or referral.voided or referral.status != "won":
        return None
    others = await entries.live_thanks_for(ctx.session, key(referral))
    if any(other.id != thanks.id for other in others):
        return None
    contacted = await entries.was_contacted(ctx.session, ctx.group_id, key(referral))
    referral.status, referral.updated_at = ("contacted" if contacted else "open"), ctx.now
    ctx.session.add(referral)
    ctx.audit("status", "referral", referral.status, referral.id)
    return referral


def withdrawn_notice(
    thanks: Thanks, giver: str, receiver: str, referral: Referral | None
) -> Reply | None:
    """The group saw a thanks's amount: tell it that the amount no longer counts."""
    if thanks.amount is None:
        return None
    source = f" (referral #{referral.number})" if referral is not None else ""
    return to_group(
        f"Correction: the thanks from {giver} to {receiver} for {_money(thanks)}{source} "
        "is withdrawn; it no longer counts in any total."
    )
