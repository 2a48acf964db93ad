"""`/mute nudges` and `/unmute nudges`: a member's own switch for their private nudges
(leaders switch them for the whole group with `/settings nudges on|off`)."""

from __future__ import annotations

from bot import commands as c
from bot.context import Context
from bot.messages import Reply, to_sender


async def mute_nudges(ctx: Context, cmd: c.MuteNudges) -> list[Reply]:
    """Mute the sender's nudges (and their monthly scorecard)."""
    return _switch(ctx, mute=True)


async def unmute_nudges(ctx: Context, cmd: c.UnmuteNudges) -> list[Reply]:
    """Restart the sender's nudges (and their monthly scorecard)."""
    return _switch(ctx, mute=False)


def _switch(ctx: Context, mute: bool) -> list[Reply]:
    """Mute or unmute the sender's nudges; said as it is now."""
    member = ctx.member
    muted = member.nudges_muted_at is not None
    if muted == mute:
        state = "muted" if muted else "on"
        undo = "/unmute nudges restarts them." if muted else "/mute nudges stops them."
        return [to_sender(f"Your nudges are already {state}. {undo}")]
    member.nudges_muted_at = ctx.now if mute else None
    ctx.session.add(member)
    ctx.audit("setting", "nudges", "muted" if mute else "unmuted", member.id)
    if mute:
        return [to_sender("Nudges muted: no more reminders about open referrals or giving, "
                          "nor your monthly scorecard. /unmute nudges restarts them.")]  # fmt: skip
    group_off = "" if ctx.group.nudges else " (the group's leaders have nudges off for now)"
    return [to_sender(f"Nudges on again: at most one a week, privately{group_off}. "
                      "/mute nudges stops them.")]  # fmt: skip
