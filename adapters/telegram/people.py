"""Who leads a Telegram group: its administrators, asked of Telegram and cached briefly."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import Bot
from telegram.error import TelegramError

log = logging.getLogger("referral_bot.telegram")
ADMINS_TTL = 300.0  # seconds: a promotion in Telegram reaches the bot within five minutes
FAILED_TTL = 30.0  # when Telegram did not answer, ask again soon


class Administrators:
    """`getChatAdministrators`, cached per chat for a few minutes."""

    def __init__(self, bot: Bot, clock: Callable[[], float] = time.monotonic) -> None:
        self.bot, self.clock = bot, clock
        # chat id -> (until when, the people who administer it, may the bot delete there)
        self._cache: dict[int, tuple[float, frozenset[int], bool]] = {}

    async def of(self, chat_id: int) -> frozenset[int]:
        """The user ids of the chat's creator and administrators (none for a private chat)."""
        return (await self._lookup(chat_id))[1]

    async def bot_may_delete(self, chat_id: int) -> bool:
        """True when the bot itself administers the chat with the right to delete messages."""
        return (await self._lookup(chat_id))[2]

    async def _lookup(self, chat_id: int) -> tuple[float, frozenset[int], bool]:
        if chat_id > 0:
            return 0.0, frozenset(), False
        now = self.clock()
        cached = self._cache.get(chat_id)
        if cached is not None and cached[0] > now:
            return cached
        try:
            admins = await self.bot.get_chat_administrators(chat_id)
        except TelegramError as error:
            log.warning("getChatAdministrators failed: %s", type(error).__name__)
            stale = cached or (0.0, frozenset(), False)
            self._cache[chat_id] = (now + FAILED_TTL, stale[1], stale[2])
            return self._cache[chat_id]
        ids = frozenset(member.user.id for member in admins if not member.user.is_bot)
        deletes = any(
            member.user.id == self.bot.id
            and (member.status == "creator" or getattr(member, "can_delete_messages", False))
            for member in admins
        )
        self._cache[chat_id] = (now + ADMINS_TTL, ids, deletes)
        return self._cache[chat_id]

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)
