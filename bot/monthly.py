"""The monthly scorecards, on the 1st at 09:00 in the group's timezone, privately: each
leader gets the whole group's (`/scorecard group`), and each member with nudges on (the
group's, and not muted by themself) their own (`/scorecard`). Read at the occurrence's time,
so that a post made late shows the same month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.actions.scorecard import group_scorecard, member_scorecard
from bot.context import LEADER
from bot.messages import Reply, Section, to_member
from storage import directory
from storage.tables import Member
from storage.units import Unit


@dataclass(frozen=True)
class Card:
    """One private scorecard: who gets it, its headline and sections."""

    member: Member
    head: str
    sections: tuple[Section, ...]


async def gather(unit: Unit, group: Any, at: datetime) -> list[Card]:
    """Every card of the month: the leaders' (the group's) first, then the members' own."""
    members = await directory.active_members(unit.session, int(group.id))
    cards = []
    leaders = [m for m in members if m.role == LEADER]
    if leaders:
        head, sections = await group_scorecard(unit, group, at)
        cards += [Card(m, f"Monthly scorecards: {head}", sections) for m in leaders]
    if group.nudges:
        for member in members:
            if member.nudges_muted_at is None:
                head, sections = await member_scorecard(unit, group, member, at)
                cards.append(Card(member, f"Your monthly scorecard: {head}", sections))
    return cards


def compose(cards: list[Card]) -> list[Reply]:
    """The private messages."""
    return [to_member(card.member, card.head, *card.sections) for card in cards]
