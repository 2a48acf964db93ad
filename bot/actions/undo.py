"""Withdrawing and voiding entries: they stay in the audit trail and leave every total."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import commands as c
from bot.context import Context, Refusal
from bot.messages import Reply, to_member, to_sender
from bot.money import format_money
from storage import entries
from storage.tables import Member

WINDOW = timedelta(hours=24)
_NAMES = {"referral": "referral #{number}", "thanks": "thanks {id}",
          "one_to_one": "one-to-one {id}", "visitor": "visitor {id}"}  # fmt: skip


def _name(kind: str, entry: Any) -> str:
    return _NAMES[kind].format(number=getattr(entry, "number", ""), id=entry.id)


async def undo(ctx: Context, cmd: c.Undo) -> list[Reply]:
    """Withdraw your own last entry, or (leaders) void any entry with a reason."""
    if cmd.kind is None:
        found = await entries.latest_by(ctx.session, ctx.group_id, ctx.member_id, ctx.now - WINDOW)
        if found is None:
            raise Refusal("You have no entry from the last 24 hours to withdraw.")
        kind, entry = found
    else:
        assert cmd.entry_id is not None
        kind = cmd.kind
        entry = await entries.find_entry(ctx.session, ctx.group_id, kind, cmd.entry_id)
        if entry is None:
            raise Refusal(f"There is no {kind.replace('_', '-')} {cmd.entry_id} to withdraw.")
        if entry.voided:
            name = _name(kind, entry)
            raise Refusal(f"{name[:1].upper()}{name[1:]} is already withdrawn: "
                          "it counts in no total.")  # fmt: skip
        own = entries.author_id(kind, entry) == ctx.member_id
        recent = ctx.now - entry.created_at <= WINDOW
        if not ctx.is_leader and not own:
            raise Refusal("You can only withdraw your own entries; a leader can void others.")
        if not ctx.is_leader and not recent:
            raise Refusal("You can only withdraw entries from the last 24 hours; ask a leader.")
        if ctx.is_leader and not own and not cmd.reason:
            raise Refusal("Give a reason when voiding someone else's entry, e.g. "
                          f"/undo {cmd.kind} {cmd.entry_id} entered twice.")  # fmt: skip
    entry.voided = True
    ctx.session.add(entry)
    ctx.audit("voided", kind, cmd.reason or "withdrawn by its author", entry.id)
    answer = f"Withdrawn: {_name(kind, entry)}. It no longer counts in any total."
    notices = await _tell_those_concerned(ctx, kind, entry, cmd.reason)
    if kind == "referral":  # its closed business is a thanks of its own: say so, leave it
        for thanks in await entries.live_thanks_for(ctx.session, entry.id):
            amount = format_money(thanks.amount, thanks.currency) if thanks.amount else "no amount"
            answer += (
                f"\nThe thanks recorded when it was won (thanks {thanks.id}, {amount}) still "
                f"counts; to take it out too: /undo thanks {thanks.id} <reason>."
            )
    return [to_sender(answer), *notices]


async def _tell_those_concerned(
    ctx: Context, kind: str, entry: Any, reason: str | None
) -> list[Reply]:
    """Privately: the author of an entry someone else voided, and the other member the entry
    concerned (a referral's receiver, the member thanked, the other side of a one-to-one)."""
    why = f" ({reason})" if reason else ""
    what = _name(kind, entry)
    other = {"referral": "receiver_id", "thanks": "to_id", "one_to_one": "member_b_id"}.get(kind)
    wanted = [
        (entries.author_id(kind, entry), f"{ctx.member.name} voided your {what}{why}."),
        (getattr(entry, other, None) if other else None,
         f"{ctx.member.name} withdrew {what}, which concerned you{why}. "
         "It no longer counts in any total."),
    ]  # fmt: skip
    notices, told = [], {ctx.member_id}
    for member_id, text in wanted:
        if member_id is None or member_id in told:
            continue
        told.add(member_id)
        member = await ctx.session.get(Member, member_id)
        if member is not None:
            notices.append(to_member(member, text))
    return notices
