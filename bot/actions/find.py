"""/find: who in the group can serve a need, and who is looking for it."""

from __future__ import annotations

from bot import commands as c
from bot import find
from bot.context import Context
from bot.messages import Reply, Section, to_sender
from bot.texts import natural_key, shorten
from storage import directory

SHOWN = 10


async def find_members(ctx: Context, cmd: c.FindMembers) -> list[Reply]:
    """Members of this group (never another's) matching the words, best first; then those
    whose ask matches, as "looking for"."""
    members = await directory.active_members(ctx.session, ctx.group_id)
    scored = [(find.score(cmd.words, m.classification, m.business, m.name), m) for m in members]
    serving = sorted(((s, m) for s, m in scored if s),
                     key=lambda sm: (-sm[0], natural_key(sm[1].name)))  # fmt: skip
    asking = sorted(((find.asks_for(cmd.words, m.ask), m) for m in members),
                    key=lambda sm: (-sm[0], natural_key(sm[1].name)))  # fmt: skip
    looking = [m for hits, m in asking if hits]
    shown = shorten(cmd.words, 60)
    if not serving and not looking:
        return [to_sender(f"Nobody in {ctx.group.name} matches '{shown}'. "
                          "/members lists everyone with their business.")]  # fmt: skip
    sections = []
    if serving:
        lines = tuple(
            f"{m.name}: {m.classification or '(no classification)'}"
            + (f", {m.business}" if m.business else "")
            for _, m in serving[:SHOWN]
        )
        sections.append(Section("Can serve it", lines))
    if looking:
        lines = tuple(
            f"{m.name}, looking for: {shorten(m.ask or '', 120)}" for m in looking[:SHOWN]
        )
        sections.append(Section("Looking for it", lines))
    return [to_sender(f"Found in {ctx.group.name} for '{shown}':", *sections)]
