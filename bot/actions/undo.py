"""Withdrawing and voiding entries: they stay in the audit trail and leave every total."""

from __future__ import annotations

from typing import Any

from bot import commands as c
from bot.actions.corrections import WINDOW, reopen, withdrawn_notice
from bot.context import Context, Refusal
from bot.messages import Reply, to_member, to_sender
from bot.money import format_money
from bot.texts import entry_name
from storage import entries
from storage.tables import Member, Referral, Thanks

# The word `/undo` takes for each kind (the parser also takes "one-to-one" and "121").
UNDO_WORDS = {"referral": "referral", "thanks": "thanks", "one_to_one": "onetoone",
              "visitor": "visitor", "ceu": "ceu"}  # fmt: skip


def _name(kind: str, entry: Any) -> str:
    return entry_name(kind, entry.number if kind == "referral" else entry.id)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


async def _target(ctx: Context, cmd: c.Undo) -> tuple[str, Any]:
    """The entry to withdraw or void, once the rules of who may allow it."""
    if cmd.kind is None:
        found = await entries.latest_by(ctx.session, ctx.group_id, ctx.member_id, ctx.now - WINDOW)
        if found is None:
            raise Refusal("You have no entry from the last 24 hours to withdraw.")
        return found
    assert cmd.entry_id is not None
    kind = cmd.kind
    entry = await entries.find_entry(ctx.session, ctx.group_id, kind, cmd.entry_id)
    if entry is None:
        raise Refusal(f"There is no {entry_name(kind, cmd.entry_id)} in this group to withdraw.")
    if entry.voided:
        raise Refusal(f"{_capital(_name(kind, entry))} is already withdrawn: "
                      "it counts in no total.")  # fmt: skip
    own = entries.author_id(kind, entry) == ctx.member_id
    if not ctx.is_leader and not own:
        raise Refusal("You can only withdraw your own entries; a leader can void others.")
    if not ctx.is_leader and ctx.now - entry.created_at > WINDOW:
        raise Refusal("You can only withdraw entries from the last 24 hours; ask a leader.")
    if ctx.is_leader and not own and not cmd.reason:
        raise Refusal("Give a reason when voiding someone else's entry, e.g. "
                      f"/undo {UNDO_WORDS[kind]} {cmd.entry_id} entered twice.")  # fmt: skip
    return kind, entry


async def undo(ctx: Context, cmd: c.Undo) -> list[Reply]:
    """Withdraw your own last entry, or (leaders) void any entry with a reason."""
    kind, entry = await _target(ctx, cmd)
    entry.voided = True
    ctx.session.add(entry)
    ctx.audit("voided", kind, cmd.reason or "withdrawn by its author", entry.id)
    answer = f"Withdrawn: {_name(kind, entry)}. It no longer counts in any total."
    members = await _members(ctx, kind, entry)
    extra: dict[int, str] = {}  # member id -> a line added to what they are told
    posts: list[Reply] = []
    if kind == "referral":  # its closed business is a thanks of its own: say so, leave it
        for thanks in await entries.live_thanks_for(ctx.session, entry.id):
            answer += "\n" + _thanks_still_counts(ctx, thanks, members)
    if kind == "thanks":
        referral = await ctx.session.get(Referral, entry.referral_id) if entry.referral_id else None
        giver, receiver = (members[m].name if m in members else "?"
                           for m in (entry.from_id, entry.to_id))  # fmt: skip
        notice = withdrawn_notice(entry, giver, receiver, referral)
        posts += [notice] if notice is not None else []
        if (moved := await reopen(ctx, entry)) is not None:
            again = f"Referral #{moved.number} is {moved.status} again"
            how = f"record the right amount with /status {moved.number} won <amount>."
            if moved.receiver_id == ctx.member_id:
                answer += f"\n{again}: {how}"
            else:
                who = members.get(moved.receiver_id)
                answer += f"\n{again}, so {who.name if who else 'its receiver'} can record it."
                extra[moved.receiver_id] = f"{again}: {how}"
    notices = _tell_those_concerned(ctx, kind, entry, cmd.reason, members, extra)
    return [to_sender(answer), *posts, *notices]


def _thanks_still_counts(ctx: Context, thanks: Thanks, members: dict[int, Member]) -> str:
    """A voided referral's thanks stays: name it, and how it goes too, if this sender can."""
    amount = format_money(thanks.amount, thanks.currency) if thanks.amount else "no amount"
    name = entry_name("thanks", thanks.id or 0)
    line = f"The thanks recorded when it was won ({name}, {amount}) still counts"
    own = thanks.from_id == ctx.member_id
    if ctx.is_leader or (own and ctx.now - thanks.created_at <= WINDOW):
        reason = "" if own else " <reason>"
        return f"{line}; to take it out too: /undo thanks {thanks.id}{reason}."
    author = members.get(thanks.from_id)
    return f"{line}: it is {author.name if author else 'its author'}'s entry; ask them or a leader."


async def _members(ctx: Context, kind: str, entry: Any) -> dict[int, Member]:
    """The members an entry names, by id."""
    columns = {"referral": ("giver_id", "receiver_id"), "thanks": ("from_id", "to_id"),
               "one_to_one": ("member_a_id", "member_b_id"), "visitor": ("host_id",),
               "ceu": ("member_id",)}  # fmt: skip
    found = {}
    for column in columns[kind]:
        member = await ctx.session.get(Member, getattr(entry, column))
        if member is not None and member.id is not None:
            found[member.id] = member
    return found


def _tell_those_concerned(
    ctx: Context, kind: str, entry: Any, reason: str | None, members: dict[int, Member],
    extra: dict[int, str],
) -> list[Reply]:  # fmt: skip
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
        if member_id is None or member_id in told or member_id not in members:
            continue
        told.add(member_id)
        line = f"\n{extra[member_id]}" if member_id in extra else ""
        notices.append(to_member(members[member_id], text + line))
    return notices
