"""Private messages held for someone who has not opened their private chat with the bot.

Telegram lets a bot write privately only to people who pressed Start in its chat (and
have not blocked it since). Such a message is held (`hold`, by the Deliverer) under a
one-time code that all of the person's held messages share while it is pending, and the
group it came from is told by name, never what it says, with the link that opens the
chat; pressing Start there hands the bot the code (`release`, by the core), and what was
held under it for that person, and only for them, is due again, once. A message is held
for `HELD_FOR` (30 days) after it was written: opened later, its link says it expired.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.messages import Incoming, Reply, to_group, to_sender
from bot.texts import held_notice, held_released
from storage import directory, outbox
from storage.tables import OutboxMessage
from storage.units import Unit

HELD_FOR = timedelta(days=30)  # how long a private message waits for its recipient


def new_code() -> str:
    """A one-time code for a start link: 16 of A-Za-z0-9_- (Telegram takes 1-64)."""
    return secrets.token_urlsafe(12)


async def hold(
    unit: Unit, row: OutboxMessage, link: Callable[[str], str], reason: str, now: datetime
) -> bool:
    """Hold a leased private row under the code its recipient's held rows share (a new one
    when none), and queue a notice in its group unless one for that code went there; False
    when the lease was lost (nothing changed)."""
    assert row.recipient_user_id is not None and row.lease_until is not None
    held = await outbox.held_for(unit.session, row, now - HELD_FOR)  # a code not expiring
    code = held[0][0] if held else new_code()
    if not await outbox.hold(unit.session, row, code, error=reason, lease_until=row.lease_until):
        return False
    if (code, row.group_id) not in held:
        member = await directory.find_member(unit, row.group_id, row.recipient_user_id)
        text = held_notice(member.name if member else None, link(code))
        await outbox.post_in_group(unit.session, row, to_group(text).to_json(), now)
    return True


async def release(unit: Unit, incoming: Incoming, code: str | None, now: datetime) -> Reply | None:
    """The sender opened the private chat, with a link's `code` or none: what is held for
    them under it (with none, all of it) is due now, but for what was written more than
    `HELD_FOR` ago (given up); what to tell them (None: a bare Start with nothing held)."""
    chat = incoming.chat
    whose = (chat.platform.value, chat.workspace_id or "", incoming.sender.user_id, code)
    expired = await outbox.expire_held(unit.session, *whose, now - HELD_FOR)
    released = await outbox.release_held(unit.session, *whose, now)
    said = held_released(released, code is not None, expired, HELD_FOR.days)
    return None if said is None else to_sender(said)
