"""Outbox delivery on Telegram: group posts, private messages and images, errors classified.

Group notices go to the group's chat, private ones to the member's private chat with the
bot (its id is the user's id), images with `sendPhoto` and the text as caption (what does
not fit follows as messages). `RetryAfter` -> rate limited, network errors and 5xx ->
retried; a private message to someone who never started the bot or blocked it -> not
started (the outbox holds it and links them to `start_link`); other `Forbidden`s (bot
removed, account deleted) and chats that are gone -> unreachable; a group that became a
supergroup (`ChatMigrated`) is moved to its new id (`on_migrated`) and the message sent
there. A group post of a command sent in a forum topic goes to that topic; a topic that
was deleted since, to the chat's General.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from adapters.telegram import render
from bot.delivery import ChatKey, Outgoing, Sent

# Telegram's published limits: one message a second per chat, 20 a minute per group, and
# about 30 a second in all (the outbox paces all three: `bot.delivery.Deliverer`). The
# overall rate keeps a margin below 30 for the event loop's timing, so that a burst (10,000
# weekly leaderboards due at once) gets no 429.
PRIVATE_INTERVAL = 1.0
GROUP_INTERVAL = 3.0
OVERALL_RATE = 25.0
Migrated = Callable[[str, str], Awaitable[None]]
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Telegram's words for a private chat the person has not opened (or has closed).
NOT_STARTED = ("can't initiate conversation", "blocked by the user")
TOPIC_GONE = "thread not found"  # "Bad Request: message thread not found"
CHAT_NOT_FOUND = "chat not found"  # "Bad Request: chat not found": the group is gone


def seconds(period: int | float | timedelta) -> float:
    """A python-telegram-bot time period (seconds, or a timedelta from v22.2) in seconds."""
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


class TelegramTransport:
    """Sends outbox rows through the Bot API."""

    platform = "telegram"

    def __init__(
        self, bot: Bot, on_migrated: Migrated | None = None, *,
        private_interval: float = PRIVATE_INTERVAL, group_interval: float = GROUP_INTERVAL,
        overall_rate: float | None = OVERALL_RATE,
    ) -> None:  # fmt: skip
        self.bot, self.on_migrated = bot, on_migrated
        self.private_interval, self.group_interval = private_interval, group_interval
        self.overall_rate = overall_rate  # messages a second across every chat (None: no limit)

    def min_interval(self, chat: ChatKey) -> float:
        return self.private_interval if chat.private else self.group_interval

    def start_link(self, code: str | None = None) -> str:
        """The link that opens the private chat with the bot; with `code` (1-64 of
        A-Za-z0-9_-), pressing Start there sends `/start <code>`."""
        link = f"https://t.me/{self.bot.username}"
        return f"{link}?start={code}" if code else link

    async def send(self, message: Outgoing) -> Sent:
        chat_id = message.recipient_user_id or message.chat_id
        topic = None if message.recipient_user_id or not message.thread_id else message.thread_id
        try:
            try:
                await self._in_topic(int(chat_id), message, topic)
            except ChatMigrated as moved:
                if message.recipient_user_id is not None or self.on_migrated is None:
                    raise
                await self.on_migrated(message.chat_id, str(moved.new_chat_id))
                await self._in_topic(moved.new_chat_id, message, topic)
        except RetryAfter as error:
            return Sent.rate_limited(seconds(error.retry_after))
        except Forbidden as error:
            said = error.message.lower()
            if message.recipient_user_id is not None and any(w in said for w in NOT_STARTED):
                return Sent.not_started("forbidden: not started")
            return Sent.unreachable("forbidden", chat_gone=message.recipient_user_id is None)
        except ChatMigrated:
            return Sent.unreachable("chat_migrated")
        except BadRequest as error:  # the chat is gone, or Telegram refuses this message
            gone = CHAT_NOT_FOUND in error.message.lower()
            return Sent.unreachable("bad_request: " + error.message[:80], chat_gone=gone)
        except NetworkError as error:  # timeouts, 5xx, connection errors
            return Sent.server_error(type(error).__name__)
        return Sent.ok()

    async def _in_topic(self, chat_id: int, message: Outgoing, topic: str | None) -> None:
        """Send in the forum topic `topic`; to the chat itself when there is none (any more:
        a deleted topic)."""
        if topic is not None:
            try:
                return await self._send(chat_id, message, int(topic))
            except BadRequest as error:
                if TOPIC_GONE not in error.message.lower():
                    raise
        await self._send(chat_id, message, None)

    async def _send(self, chat_id: int, message: Outgoing, topic: int | None) -> None:
        reply = message.reply
        texts: list[render.Part] = render.parts([reply])
        if reply.image is not None:
            caption, rest = render.caption(reply)
            await self.bot.send_photo(
                chat_id, reply.image, caption=caption, parse_mode=ParseMode.HTML,
                filename=reply.image_name or "chart.png", message_thread_id=topic,
            )  # fmt: skip
            texts = [render.Part(text) for text in rest]
        for part in texts:
            await self.bot.send_message(
                chat_id, part.html, parse_mode=ParseMode.HTML, reply_markup=part.keyboard,
                link_preview_options=NO_PREVIEW, message_thread_id=topic,
            )  # fmt: skip
