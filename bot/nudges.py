"""The daily nudges check (10:00 in the group's timezone), privately, at most one nudge a
week per member, for a group with nudges on and members who did not mute theirs:

- a receiver whose referral is still `open` 7 days after it was given gets the buttons
  that move it (that nudge comes first);
- a member who gave no referral in 4 weeks (and joined at least 4 weeks ago) gets a warm
  word with what they could do this week; never shaming, never in the group.

`gather` reads, `compose` writes the private messages, `written` records who was nudged in
the occurrence's own transaction (`bot.occasions`), so that a restart nudges nobody twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.actions.ledger import status_buttons
from bot.messages import Reply, Section, to_member
from bot.texts import plural, shorten
from storage import directory, nudges
from storage.tables import Member
from storage.units import Unit

OPEN_FOR = timedelta(days=7)
QUIET_FOR = timedelta(weeks=4)
AT_MOST_EVERY = timedelta(days=7)
SHOWN = 3  # open referrals shown (with their buttons) in one nudge
MUTE = Section("Nudges", ("At most one a week, only to you. /mute nudges stops them.",))


@dataclass(frozen=True)
class Stale:
    """One referral still open after a week, as its receiver's nudge shows it."""

    number: int
    giver: str
    days: int
    prospect: str


@dataclass
class Check:
    """What one day's check found: who gets which nudge."""

    group_id: int
    open: dict[int, list[Stale]] = field(default_factory=dict)  # receiver -> referrals
    quiet: list[Member] = field(default_factory=list)
    members: dict[int, Member] = field(default_factory=dict)


def _may_nudge(member: Member, at: datetime) -> bool:
    if member.nudges_muted_at is not None:
        return False
    return member.nudged_at is None or at - member.nudged_at >= AT_MOST_EVERY


async def gather(unit: Unit, group: Any, at: datetime) -> Check:
    """Who is nudged at `at` (the day's check)."""
    group_id = int(group.id)
    everyone = {int(m.id or 0): m for m in await directory.active_members(unit.session, group_id)}
    check = Check(group_id, members={i: m for i, m in everyone.items() if _may_nudge(m, at)})
    for receiver, number, giver, given_at, prospect in await nudges.open_since(
        unit.session, group_id, at - OPEN_FOR
    ):
        if receiver in check.members:
            name = everyone[giver].name if giver in everyone else "a former member"
            days = (at - given_at).days
            check.open.setdefault(receiver, []).append(Stale(number, name, days, prospect))
    last = await nudges.last_given(unit.session, group_id)
    for member_id, member in check.members.items():
        quiet = at - last.get(member_id, member.joined_at) >= QUIET_FOR
        if member_id not in check.open and quiet and at - member.joined_at >= QUIET_FOR:
            check.quiet.append(member)
    return check


def _open_nudge(check: Check, member: Member, stale: list[Stale]) -> Reply:
    first = stale[0]
    head = (f"Referral #{first.number} from {first.giver} is still open after "
            f"{plural(first.days, 'day')}. Did you reach them? Tap where it stands:"
            if len(stale) == 1 else
            f"{len(stale)} referrals you received are still open after a week or more. "
            "Did you reach them? Tap where each stands:")  # fmt: skip
    lines = tuple(f"#{s.number} from {s.giver}, {plural(s.days, 'day')}: {shorten(s.prospect)}"
                  for s in stale[:SHOWN])  # fmt: skip
    if len(stale) > SHOWN:
        lines += (f"and {len(stale) - SHOWN} more in /referrals",)
    member_id = int(member.id or 0)
    buttons = tuple(b for s in stale[:SHOWN]
                    for b in status_buttons(check.group_id, member_id, s.number))  # fmt: skip
    return to_member(member, head, Section("Still open", lines), MUTE, buttons=buttons)


def _quiet_nudge(member: Member) -> Reply:
    ideas = (
        "Have a one-to-one with a member you know least, and log it: /onetoone @member",
        "Read what members are looking for: /members shows each one's ask",
        "Think of one customer or neighbour who needs a trade from the group: /find <need>",
        "Pass it on: /refer @member <who, contact, need>",
    )
    return to_member(
        member,
        f"Hello {member.name}, a quiet spell for referrals happens to everyone. "
        "A few ideas for this week:",
        Section("This week", ideas),
        MUTE,
    )


def compose(check: Check) -> list[Reply]:
    """The private nudges, one per member at most."""
    replies = [_open_nudge(check, check.members[m], s) for m, s in check.open.items()]
    return replies + [_quiet_nudge(member) for member in check.quiet]


async def written(unit: Unit, replies: Sequence[Reply], at: datetime) -> None:
    """With the claim: everyone nudged was nudged by the check at `at` (even if it ran late:
    next week's check may nudge them again)."""
    ids = sorted({r.member_id for r in replies if r.member_id is not None})
    await nudges.mark_nudged(unit.session, ids, at)
