"""Joining, profiles and the roster."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from bot import commands as c
from bot.context import LEADER, Context, Refusal
from bot.messages import Reply, Section, to_group, to_sender
from bot.texts import plural
from storage import directory


def classification_key(classification: str) -> str:
    """Two spellings of one profession compare equal: case and spacing don't count."""
    return re.sub(r"\s+", " ", classification).strip().casefold()


async def _set_classification(ctx: Context, classification: str) -> None:
    key = classification_key(classification)
    holder = await directory.classification_holder(ctx.session, ctx.group_id, key)
    if holder is not None and holder.id != ctx.member.id:
        raise Refusal(
            f"{holder.name} already holds the classification {holder.classification} "
            "in this group: one member per classification."
        )
    ctx.member.classification, ctx.member.classification_key = classification, key
    ctx.session.add(ctx.member)
    try:
        async with ctx.session.begin_nested():
            await ctx.session.flush()
    except IntegrityError as error:  # someone took it at the same moment
        raise Refusal(f"The classification {classification} was just taken.") from error


def _profile(ctx: Context) -> Section:
    m = ctx.member
    return Section(m.name, (
        f"Classification: {m.classification or '(not set)'}",
        f"Business: {m.business or '(not set)'}",
        f"Looking for: {m.ask or '(not set)'}",
        f"Role: {m.role}",
    ))  # fmt: skip


async def join(ctx: Context, cmd: c.Join) -> list[Reply]:
    """Join the group, optionally with a classification."""
    if cmd.classification is None:
        text = f"Welcome to {ctx.group.name}, {ctx.member.name}! "
        if ctx.member.classification is None:
            text += "Set your classification with /join <classification>, e.g. /join Plumber."
        return [to_sender(text, _profile(ctx))]
    newly = ctx.member.classification is None
    await _set_classification(ctx, cmd.classification)
    replies = [to_sender(f"Welcome to {ctx.group.name}, {ctx.member.name}!", _profile(ctx))]
    if newly:
        replies.append(to_group(f"Welcome {ctx.member.name} ({cmd.classification})!"))
    return replies


async def update_profile(ctx: Context, cmd: c.UpdateProfile) -> list[Reply]:
    """Show the profile, or set the fields given."""
    if cmd.classification is not None:
        await _set_classification(ctx, cmd.classification)
    if cmd.business is not None:
        ctx.member.business = cmd.business
    if cmd.ask is not None:
        ctx.member.ask = cmd.ask
    ctx.session.add(ctx.member)
    changed = any(v is not None for v in (cmd.classification, cmd.business, cmd.ask))
    return [to_sender("Profile updated." if changed else "Your profile:", _profile(ctx))]


async def list_members(ctx: Context, cmd: c.ListMembers) -> list[Reply]:
    """The roster, by name."""
    members = await directory.roster(ctx.session, ctx.group_id)
    lines = tuple(
        f"{m.name} ({m.classification or 'no classification'})"
        + (f": {m.business}" if m.business else "")
        + (" · leader" if m.role == LEADER else "")
        for m in members
    )
    heading = f"{ctx.group.name}: {plural(len(members), 'member')}"
    return [to_sender(heading, Section("Members", lines))]
