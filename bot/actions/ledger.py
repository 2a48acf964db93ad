"""Entries of the ledger: referrals, thanks, one-to-ones and visitors."""

from __future__ import annotations

from bot import buttons as b
from bot import commands as c
from bot.actions.corrections import correct_won
from bot.context import Context, Refusal
from bot.messages import Button, Reply, Section, to_group, to_member, to_sender
from bot.money import format_money
from bot.texts import entry_name, shorten
from storage import directory, entries
from storage.tables import Ceu, Member, OneToOne, Referral, Thanks, Visitor, key

_ORDER = {"open": 0, "contacted": 1, "won": 2, "lost": 2}


def status_buttons(
    group_id: int, receiver_id: int, number: int, status: str = "open"
) -> tuple[Button, ...]:
    """The buttons that move a received referral forward from its status (only those);
    each names the group, the referral and its receiver (only they may press it)."""
    choices = (("contacted", "Contacted", None, None), ("won", "Won", "amount", "primary"),
               ("lost", "Lost", None, "danger"))  # fmt: skip
    return tuple(
        Button(f"{label} #{number}", f"/status {number} {choice}", prompt=prompt, style=style,
               data=b.status(group_id, receiver_id, number, choice))
        for choice, label, prompt, style in choices
        if _ORDER[choice] > _ORDER[status]
    )  # fmt: skip


def _flags(referral: Referral) -> str:
    words = [referral.temperature or "", "inside" if referral.inside else ""]
    return ", ".join(w for w in words if w)


async def give_referral(ctx: Context, cmd: c.GiveReferral) -> list[Reply]:
    receiver = await ctx.resolve_other(cmd.receiver, "give a referral to")
    number = await directory.take_referral_number(ctx.unit, ctx.group_id)
    referral = await entries.add(
        ctx.unit, Referral, group_id=ctx.group_id, number=number, giver_id=ctx.member_id,
        receiver_id=key(receiver), prospect=cmd.prospect, temperature=cmd.temperature,
        inside=cmd.inside, created_at=ctx.now, updated_at=ctx.now,
    )  # fmt: skip
    flags = _flags(referral)
    flags = f" ({flags})" if flags else ""
    return [
        to_sender(f"Referral #{number} to {receiver.name} recorded{flags}. "
                  "I sent them the details privately."),
        to_group(f"{ctx.member.name} passed a referral to {receiver.name}{flags}."),
        to_member(
            receiver,
            f"{ctx.member.name} gave you referral #{number}{flags}.",
            Section("Prospect", (cmd.prospect,)),
            buttons=status_buttons(ctx.group_id, key(receiver), number),
        ),
    ]  # fmt: skip


async def thank(ctx: Context, cmd: c.ThankMember) -> list[Reply]:
    other = await ctx.resolve_other(cmd.member, "thank")
    thanks = await entries.add(
        ctx.unit, Thanks, group_id=ctx.group_id, from_id=ctx.member_id, to_id=key(other),
        amount=cmd.amount, currency=ctx.group.currency, note=cmd.note, created_at=ctx.now,
    )  # fmt: skip
    note = f" ({cmd.note})" if cmd.note else ""
    name = entry_name("thanks", key(thanks))
    if cmd.amount is None:
        return [
            to_sender(f"Your thanks to {other.name} is recorded ({name})."),
            to_group(f"{ctx.member.name} thanked {other.name}{note}."),
        ]
    money = format_money(cmd.amount, ctx.group.currency)
    return [
        to_sender(f"Thanks to {other.name} recorded ({name}): "
                  f"{money} of closed business credited to them."),
        to_group(f"{ctx.member.name} thanked {other.name} for closed business: {money}{note}."),
    ]  # fmt: skip


async def _referral(ctx: Context, number: int) -> Referral:
    referral = await entries.referral_numbered(ctx.session, ctx.group_id, number)
    if referral is None or referral.voided:
        raise Refusal(f"There is no referral #{number} in this group (yours are in /referrals).")
    return referral


async def move_referral(ctx: Context, cmd: c.MoveReferral) -> list[Reply]:
    referral = await _referral(ctx, cmd.number)
    if referral.receiver_id != ctx.member_id:
        raise Refusal(f"Only the member who received referral #{cmd.number} can move it.")
    if cmd.status == referral.status == "won":  # the receiver corrects the amount
        return await correct_won(ctx, referral, cmd)
    if _ORDER[cmd.status] <= _ORDER[referral.status]:
        raise Refusal(
            f"Referral #{cmd.number} is already {referral.status}; a referral only moves "
            "forward: open -> contacted -> won or lost."
        )
    referral.status, referral.updated_at = cmd.status, ctx.now
    ctx.session.add(referral)
    ctx.audit("status", "referral", cmd.status, referral.id)
    giver_text = f"{ctx.member.name} moved your referral #{cmd.number} to {cmd.status}."
    replies = [to_sender(f"Referral #{cmd.number} is now {cmd.status}.")]
    if cmd.status == "won" and cmd.amount is not None:
        thanks = await entries.add(
            ctx.unit, Thanks, group_id=ctx.group_id, from_id=ctx.member_id,
            to_id=referral.giver_id, amount=cmd.amount, currency=ctx.group.currency,
            note=f"referral #{cmd.number}", referral_id=referral.id, created_at=ctx.now,
        )  # fmt: skip
        giver = await ctx.session.get(type(ctx.member), referral.giver_id)
        money = format_money(cmd.amount, ctx.group.currency)
        giver_name = giver.name if giver else "the giver"
        replies = [
            to_sender(f"Referral #{cmd.number} is now won: {money} of closed business "
                      f"credited to {giver_name} ({entry_name('thanks', key(thanks))}). "
                      f"A wrong amount is corrected within 24 hours with "
                      f"/status {cmd.number} won <amount>."),
            to_group(f"{ctx.member.name} thanked {giver_name} for closed business: {money} "
                     f"(referral #{cmd.number})."),
        ]  # fmt: skip
        giver_text = f"{ctx.member.name} won your referral #{cmd.number}: {money} credited to you."
    details = Section("Prospect", (shorten(referral.prospect, 200),))
    giver = await ctx.session.get(Member, referral.giver_id)
    assert giver is not None
    return [*replies, to_member(giver, giver_text, details)]


async def list_referrals(ctx: Context, cmd: c.ListReferrals) -> list[Reply]:
    received, given = await entries.open_referrals(ctx.session, ctx.group_id, ctx.member_id)
    if not received and not given:
        return [to_sender("You have no open referrals. Give one with /refer @member ...")]
    names = {m.id: m.name for m in await directory.roster(ctx.session, ctx.group_id)}

    def line(r: Referral, other: int) -> str:
        flags = f", {_flags(r)}" if _flags(r) else ""
        return f"#{r.number} {names.get(other, '?')}: {shorten(r.prospect)} ({r.status}{flags})"

    sections = []
    if received:
        sections.append(Section("Received", tuple(line(r, r.giver_id) for r in received)))
    if given:
        sections.append(Section("Given", tuple(line(r, r.receiver_id) for r in given)))
    buttons = tuple(
        button
        for r in received[:10]
        for button in status_buttons(ctx.group_id, ctx.member_id, r.number, r.status)
    )
    return [to_sender("Your open referrals:", *sections, buttons=buttons)]


async def log_one_to_one(ctx: Context, cmd: c.LogOneToOne) -> list[Reply]:
    other = await ctx.resolve_other(cmd.member, "log a one-to-one with")
    meeting = await entries.add(
        ctx.unit, OneToOne, group_id=ctx.group_id, member_a_id=ctx.member_id,
        member_b_id=key(other), note=cmd.note, created_at=ctx.now,
    )  # fmt: skip
    assert other.id is not None
    return [
        to_sender(
            f"One-to-one with {other.name} logged ({entry_name('one_to_one', key(meeting))})."
        ),
        to_member(other, f"{ctx.member.name} logged a one-to-one with you."),
    ]


async def log_visitor(ctx: Context, cmd: c.LogVisitor) -> list[Reply]:
    visitor = await entries.add(
        ctx.unit, Visitor, group_id=ctx.group_id, host_id=ctx.member_id, name=cmd.name,
        business=cmd.business, created_at=ctx.now,
    )  # fmt: skip
    business = f" ({cmd.business})" if cmd.business else ""
    name = entry_name("visitor", key(visitor))
    return [to_sender(f"Visitor {cmd.name}{business} logged ({name}). Thank you!")]


async def log_ceu(ctx: Context, cmd: c.LogCeu) -> list[Reply]:
    """One continuing-education unit: what the member learned, for their scorecard."""
    ceu = await entries.add(
        ctx.unit, Ceu, group_id=ctx.group_id, member_id=ctx.member_id, note=cmd.note,
        created_at=ctx.now,
    )  # fmt: skip
    return [to_sender(f"CEU logged ({entry_name('ceu', key(ceu))}). Keep learning!")]
