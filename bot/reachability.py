"""A group whose chat no longer takes the bot's posts (the bot was removed, the channel is
gone): its posts there are recorded as undeliverable (`bot.delivery`, the adapters), and
once it has stayed so for `STOP_AFTER` its scheduled posts stop being scheduled, until
someone sends a command in that chat again (`bot.service`): adding the bot back
alone does not (no command has come through it yet).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.rescheduling import reschedule

STOP_AFTER = timedelta(days=7)


def stopped(group: Any, now: datetime) -> bool:
    """True when the group's chat has been unreachable for a week or more at `now`."""
    since: datetime | None = getattr(group, "unreachable_since", None)
    return since is not None and now - since >= STOP_AFTER


async def resume(session: Any, group: Any, now: datetime) -> None:
    """Someone used the bot in the group's chat: it is reachable again, and its posts are
    scheduled again from its settings (in the command's transaction)."""
    group.unreachable_since = None
    session.add(group)
    await reschedule(session, group, now)
