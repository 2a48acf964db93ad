"""Withdrawing and voiding entries: they stay in the audit trail and leave every total."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import commands as c
from bot.context import Context, Refusal
from bot.messages import Reply, to_sender
from bot.money import format_money
from storage import entries

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
        if entry is None or entry.voided:
            raise Refusal(f"There is no {kind.replace('_', '-')} {cmd.entry_id} to withdraw.")
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
    if kind == "referral":  # its closed business is a thanks of its own: say so, leave it
        for thanks in await entries.live_thanks_for(ctx.session, entry.id):
            amount = format_money(thanks.amount, thanks.currency) if thanks.amount else "no amount"
            answer += (
                f"\nThe thanks recorded when it was won (thanks {thanks.id}, {amount}) still "
                f"counts; to take it out too: /undo thanks {thanks.id} <reason>."
            )
    return [to_sender(answer)]
