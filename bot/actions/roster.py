"""Joining, profiles, leaving and the roster."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from bot import commands as c
from bot.context import LEADER, MEMBER, Context, Refusal
from bot.messages import Reply, Section, to_group, to_member, to_sender
from bot.texts import plural, shorten
from storage import directory
from storage.tables import Member

ASK_IN_ROSTER = 120  # characters of an ask in /members; /profile @member shows it whole


async def _set_classification(ctx: Context, classification: str) -> None:
    key = directory.classification_key(classification)
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


def _profile(ctx: Context, m: Member) -> Section:
    lines = [
        f"Classification: {m.classification or '(not set)'}",
        f"Business: {m.business or '(not set)'}",
        f"Looking for: {m.ask or '(not set)'}",
        f"Role: {m.role}",
    ]
    if m.left_at is not None:
        left = m.left_at.astimezone(ZoneInfo(ctx.group.timezone))
        lines.append(f"No longer in the group (since {left:%d %b %Y})")
    return Section(m.name, tuple(lines))


def _welcome(member: Member, back: bool = False) -> Reply:
    classification = f" ({member.classification})" if member.classification else ""
    return to_group(f"Welcome{' back' if back else ''} {member.name}{classification}!")


async def join(ctx: Context, cmd: c.Join) -> list[Reply]:
    """Join the group, optionally with a classification; a member who left comes back."""
    member = ctx.member
    if member.left_at is not None:
        return await _come_back(ctx, cmd)
    if cmd.classification is not None:
        await _set_classification(ctx, cmd.classification)
    if ctx.joined:
        text = f"Welcome to {ctx.group.name}, {member.name}!"
        if member.classification is None:
            text += " Set your classification with /join <classification>, e.g. /join Plumber."
        return [to_sender(text, _profile(ctx, member)), _welcome(member)]
    text = f"You are already a member of {ctx.group.name}."
    if cmd.classification is not None:
        text += f" Your classification is now {member.classification}."
    elif member.classification is None:
        text += " Set your classification with /join <classification>, e.g. /join Plumber."
    return [to_sender(text, _profile(ctx, member))]


async def _come_back(ctx: Context, cmd: c.Join) -> list[Reply]:
    """The same member row again, history intact; the old classification if still free."""
    member = ctx.member
    member.left_at = None
    ctx.session.add(member)
    note = ""
    if cmd.classification is not None:
        await _set_classification(ctx, cmd.classification)
    elif member.classification is not None:
        key = directory.classification_key(member.classification)
        holder = await directory.classification_holder(ctx.session, ctx.group_id, key)
        if holder is None:
            await _set_classification(ctx, member.classification)
        else:
            note = (f" {holder.name} holds the classification {member.classification} now;"
                    " set yours with /profile classification <classification>.")  # fmt: skip
            member.classification = None
    ctx.audit("rejoined", "member", None, member.id)
    text = f"Welcome back to {ctx.group.name}, {member.name}! Your history is as you left it."
    return [to_sender(text + note, _profile(ctx, member)), _welcome(member, back=True)]


async def update_profile(ctx: Context, cmd: c.UpdateProfile) -> list[Reply]:
    """Set the fields given."""
    if cmd.classification is not None:
        await _set_classification(ctx, cmd.classification)
    if cmd.business is not None:
        ctx.member.business = cmd.business
    if cmd.ask is not None:
        ctx.member.ask = cmd.ask
    ctx.session.add(ctx.member)
    return [to_sender("Profile updated.", _profile(ctx, ctx.member))]


async def show_profile(ctx: Context, cmd: c.ShowProfile) -> list[Reply]:
    """Your profile, or the profile of the member named."""
    if cmd.member is None:
        return [to_sender("Your profile:", _profile(ctx, ctx.member))]
    member = await ctx.resolve(cmd.member, reading=True)
    return [to_sender("Their profile:", _profile(ctx, member))]


def _roster_line(m: Member) -> str:
    return (
        f"{m.name} ({m.classification or 'no classification'})"
        + (f": {m.business}" if m.business else "")
        + (" · leader" if m.role == LEADER else "")
        + (f" · looking for: {shorten(m.ask, ASK_IN_ROSTER)}" if m.ask else "")
    )


async def list_members(ctx: Context, cmd: c.ListMembers) -> list[Reply]:
    """The roster of active members, by name, with what each is looking for."""
    members = await directory.active_members(ctx.session, ctx.group_id)
    heading = f"{ctx.group.name}: {plural(len(members), 'member')}"
    return [to_sender(heading, Section("Members", tuple(_roster_line(m) for m in members)))]


async def _not_the_last_leader(ctx: Context, member: Member, refusal: str) -> None:
    leaders = await directory.count_with_role(ctx.session, ctx.group_id, LEADER)
    if member.role == LEADER and leaders <= 1:
        raise Refusal(refusal)


def _step_out(ctx: Context, member: Member, action: str) -> None:
    """Off the roster: the row and every entry stay; the classification and the role go."""
    member.left_at, member.classification_key, member.role = ctx.now, None, MEMBER
    ctx.session.add(member)
    ctx.audit(action, "member", None, member.id)


async def leave(ctx: Context, cmd: c.Leave) -> list[Reply]:
    """Leave the group; your entries stay in every total, under your name."""
    member = ctx.member
    await _not_the_last_leader(ctx, member, (
        f"You are the only leader of {ctx.group.name}: name another leader first "
        "(/settings leader @member), then leave."
    ))  # fmt: skip
    _step_out(ctx, member, "left")
    return [
        to_sender(f"You left {ctx.group.name}. Your entries stay in every total, under your "
                  "name; /join brings you back."),
        to_group(f"{member.name} left the group."),
    ]  # fmt: skip


async def remove_member(ctx: Context, cmd: c.RemoveMember) -> list[Reply]:
    """Leaders: take a member off the roster; their entries stay in every total."""
    ctx.require_leader("remove members")
    member = await ctx.resolve(cmd.member)
    if member.id == ctx.sender_id:
        raise Refusal("To leave the group yourself, send /leave.")
    await _not_the_last_leader(ctx, member, (
        f"{member.name} is the only leader of {ctx.group.name}: name another leader first "
        "(/settings leader @member)."
    ))  # fmt: skip
    _step_out(ctx, member, "removed")
    return [
        to_sender(f"{member.name} is no longer a member of {ctx.group.name}. "
                  "Their entries stay in every total."),
        to_group(f"{member.name} is no longer a member of the group."),
        to_member(member, f"{ctx.member.name} took you off the roster of {ctx.group.name}. "
                  "Your entries stay in the group's totals."),
    ]  # fmt: skip
