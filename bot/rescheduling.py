"""After a leader changed a setting a post's time follows: the group's `post_schedule`
rows derived again, in the command's transaction (every instance's scheduler reads them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.due import KINDS, next_due
from storage import post_schedule


async def reschedule(session: Any, group: Any, now: datetime) -> dict[str, datetime | None]:
    """Store when each of the group's posts is next due, from its settings as they are now
    (after a leader changed one, in the same transaction); kind -> due time."""
    found = {}
    for name, kind in KINDS.items():
        found[name] = at = next_due(kind, group, now, catch_up=False)
        await post_schedule.set_due(session, int(group.id), name, at)
    return found
