"""Telegram as the wiring sees it: python-telegram-bot's `Application`, fed by the webhook
(`POST /telegram/webhook`) or by long polling, and the outbox transport.

Every update is processed before it is confirmed: the webhook answers 200 only after
`process_update` returned (the core commits before it returns), and polling asks for
the next updates, which confirms the earlier ones, only after those were processed. A
Telegram group has no answer only its sender can see, so the core writes the answer to a
command sent in a group to the outbox, for the sender's private chat, with the command:
the webhook answers right after the commit, with no Bot API call on the way. Only what
recorded nothing (/help, a malformed command, a refusal) is sent privately from here,
before the 200 (a redelivery computes it again). Someone who never started the private
chat is told in the group, by name, how to start it, and is never shown the answer there;
pressing Start (`/start <code>`) releases what was held for them (`Core.opened`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import traceback
from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    ForceReply,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.telegram import incoming as inc
from adapters.telegram import render
from adapters.telegram.people import Administrators
from adapters.telegram.transport import NO_PREVIEW, TelegramTransport
from bot import buttons, grammar
from bot.buttons import ASK
from bot.messages import Incoming, Reply
from bot.service import Core
from bot.settings import Settings
from storage import chats
from storage.database import Database

log = logging.getLogger("referral_bot.telegram")
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
POLL_SECONDS = 25
NOT_STARTED = (
    "{name}, I answer commands privately, and you have not started a chat with me yet: "
    "open {link}, press Start, then send the command again."
)
SPEAKER_UNKNOWN = (
    "I need to know who is speaking: send the command from your own account, not "
    "anonymously as the group's admin or on behalf of a channel. Nothing was recorded."
)
Context = ContextTypes.DEFAULT_TYPE


class TelegramPlatform:
    """The bot's `Application`, its webhook route or polling loop, and its transport."""

    name = "telegram"

    def __init__(
        self, settings: Settings, db: Database, core: Core, wake: Callable[[], None],
        *, poll_seconds: int = POLL_SECONDS,
    ) -> None:  # fmt: skip
        assert settings.telegram_bot_token is not None
        token = settings.telegram_bot_token.get_secret_value()
        self.application = (
            Application.builder().token(token).base_url(settings.telegram_api_url)
            .updater(None).build()
        )  # fmt: skip
        self.bot = self.application.bot
        self.db, self.core, self.wake = db, core, wake
        self.webhook_url = settings.telegram_webhook_url
        secret = settings.telegram_webhook_secret
        self._secret = secret.get_secret_value().encode() if secret else None
        self.poll_seconds = poll_seconds
        self.admins = Administrators(self.bot)
        self._transport = TelegramTransport(self.bot, on_migrated=self.move_chat)
        self._stopping = asyncio.Event()
        self._after: set[asyncio.Task[None]] = set()  # work left for after the answer
        self._ready = False
        self._polling: asyncio.Task[None] | None = None
        self._register()

    # ------------------------------------------------------------------ the wiring's view

    @property
    def routes(self) -> Sequence[BaseRoute]:
        if self.webhook_url is None:
            return ()
        return (Route(WEBHOOK_PATH, self.webhook, methods=["POST"]),)

    @property
    def transport(self) -> TelegramTransport:
        return self._transport

    async def start(self) -> None:
        """getMe, the command menus, then the webhook (`setWebhook`) or the polling loop."""
        try:
            await self.application.initialize()
        except InvalidToken:
            raise RuntimeError(
                "TELEGRAM_BOT_TOKEN was refused by the Bot API (getMe: Unauthorized): "
                "copy the token @BotFather gave you"
            ) from None
        await self.set_commands()
        self._ready = True
        if self.webhook_url is not None:
            await self.bot.set_webhook(
                self.webhook_url, secret_token=(self._secret or b"").decode() or None,
                allowed_updates=ALLOWED_UPDATES,
            )  # fmt: skip
            log.info("telegram webhook set")
        else:
            await self.bot.delete_webhook()
            self._polling = asyncio.create_task(self.poll())
            log.info("telegram polling")

    async def stop(self) -> None:
        """Stop polling (an update being processed is finished and confirmed), then close."""
        self._stopping.set()
        if self._polling is not None:
            await self._polling
        await asyncio.gather(*self._after, return_exceptions=True)
        await self.application.shutdown()

    async def set_commands(self) -> None:
        """Telegram's command menu, for groups and private chats, from the `/help` specs."""
        commands = [BotCommand(spec.name, spec.summary[:256]) for spec in grammar.SPECS]
        for scope in (BotCommandScopeAllGroupChats(), BotCommandScopeAllPrivateChats()):
            await self.bot.set_my_commands(commands, scope=scope)

    # ------------------------------------------------------------------ updates in

    async def webhook(self, request: Request) -> Response:
        """`POST /telegram/webhook`: 403 without the secret, 400 for what is no update, 200
        once the update was processed."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if self._secret is None or not hmac.compare_digest(given, self._secret):
            return Response(status_code=403)
        if not self._ready:  # still starting: Telegram delivers it again shortly
            return Response(status_code=503)
        try:
            update = Update.de_json(await request.json(), self.bot)
        except Exception:  # not JSON, or not an update: nothing to process
            return Response(status_code=400)
        if update is None:
            return Response(status_code=400)
        await self.application.process_update(update)
        return Response(status_code=200)

    async def poll(self) -> None:
        """Long polling: each batch processed (chats side by side, one chat's updates in
        order) before the next `getUpdates` confirms it."""
        offset: int | None = None
        backoff = 1.0
        while not self._stopping.is_set():
            fetch = asyncio.ensure_future(self.bot.get_updates(
                offset=offset, timeout=self.poll_seconds, allowed_updates=ALLOWED_UPDATES,
            ))  # fmt: skip
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await fetch
                break
            try:
                updates = fetch.result()
            except TelegramError as error:
                log.warning("getUpdates failed: %s", type(error).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            if updates:
                await self._process(updates)
                offset = updates[-1].update_id + 1
        if offset is not None:  # confirm what was processed, so it is not delivered again
            with contextlib.suppress(TelegramError):
                await self.bot.get_updates(offset=offset, timeout=0, limit=1)

    async def _process(self, updates: Sequence[Update]) -> None:
        by_chat: dict[int, list[Update]] = defaultdict(list)
        for update in updates:
            chat = update.effective_chat
            by_chat[chat.id if chat else 0].append(update)

        async def in_order(chat_updates: list[Update]) -> None:
            for update in chat_updates:
                await self.application.process_update(update)

        await asyncio.gather(*(in_order(u) for u in by_chat.values()))

    def _register(self) -> None:
        app = self.application
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migrated))
        app.add_handler(MessageHandler(
            filters.UpdateType.MESSAGE & filters.COMMAND, self.on_command))  # fmt: skip
        app.add_handler(MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT, self.on_text,
        ))  # fmt: skip
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(ChatMemberHandler(self.on_membership, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self.on_error)

    # ------------------------------------------------------------------ handlers

    async def on_command(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None:
            return
        line = inc.command_line(message, self.bot.username)
        if line is None:
            return
        if inc.speaker_unknown(message):
            await self._say_in_chat(message, SPEAKER_UNKNOWN)
            return
        assert message.from_user is not None
        if message.from_user.is_bot:
            return
        await self.run(message, line, update.update_id)

    async def on_text(self, update: Update, context: Context) -> None:
        """Text in the private chat that is no command: an answer to guided steps (or to
        the amount a button asked for); the core says when nothing waits for one."""
        message = update.message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return
        await self.run(message, inc.CommandLine((message.text or "").strip(), {}),
                       update.update_id)  # fmt: skip

    async def on_button(self, update: Update, context: Context) -> None:
        """A button names what it acts on (`bot.buttons`): the core resolves it in its own
        group, for the member it belongs to; `?` first asks for its value in the private
        chat. Every press is answered (`answerCallbackQuery`)."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        if message is None:
            await query.answer("That message is too old; send the command instead.")
            return
        data = query.data
        asks = data.startswith(ASK)
        chat = inc.chat_ref(message.chat, message=message)
        admins = await self.admins.of(message.chat.id)
        who = inc.sender(query.from_user, is_admin=query.from_user.id in admins)
        delivery = inc.delivery_id(self.bot.id, update.update_id)
        if buttons.is_ours(data.removeprefix(ASK)):
            found = Incoming(chat, who, ASK if asks else "", delivery,
                             button=data.removeprefix(ASK))  # fmt: skip
        else:  # a button sent before buttons named their group: its command line
            found = Incoming(chat, who, data, delivery)
        replies = await self.core.handle(found)
        self.wake()
        first = replies[0].text if replies else ""
        if chat.is_private:
            await query.answer()
            await self._send(message.chat.id, render.parts(replies))
        elif asks:  # the question goes to the presser's private chat
            await query.answer()
            await self._send_private_or_explain(message, query.from_user, render.parts(replies))
        else:  # a group message's button (an RSVP): the answer as a notice only they see
            await query.answer(first[:200], show_alert=len(first) > 60)

    async def on_migrated(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None or message.migrate_to_chat_id is None:
            return
        await self.move_chat(str(message.chat.id), str(message.migrate_to_chat_id))

    async def on_membership(self, update: Update, context: Context) -> None:
        """The bot added to or removed from a chat; removed: its unsent posts there fail."""
        change = update.my_chat_member
        if change is None:
            return
        self.admins.forget(change.chat.id)
        if change.new_chat_member.status in ("left", "kicked"):
            chat_id, now = str(change.chat.id), self.core.clock()
            await self.db.run(lambda unit: chats.give_up_chat(unit, "telegram", chat_id, now))
            log.info("removed from a telegram chat: unreachable, its pending posts given up")

    async def on_error(self, update: object, context: Context) -> None:
        # Where it failed, never the error's text: that may quote what a member typed.
        error = context.error
        where = "".join(traceback.format_tb(error.__traceback__)) if error else ""
        log.error("telegram update failed: %s\n%s", type(error).__name__, where)

    # ------------------------------------------------------------------ the core, and answers

    async def run(self, message: Message, line: inc.CommandLine, update_id: int) -> None:
        """One command through the core; what it did not queue for the sender's private
        chat, sent there (from a group) or answered in the private chat. Telegram's Start
        button (`/start`, `/start <code>` from a link) opens the private chat."""
        assert message.from_user is not None
        private = message.chat.type == "private"
        word, _, code = line.text.partition(" ")
        if word == "/start" and not private:
            line = inc.CommandLine("/help", {})
        admins = await self.admins.of(message.chat.id)
        found = inc.incoming(message, line, self.bot.id, update_id,
                             is_admin=message.from_user.id in admins)  # fmt: skip
        if word == "/start" and private:
            replies = await self.core.opened(found, code.strip() or None)
        else:
            replies = await self.core.handle(found)
        try:
            await self.answer(message, replies)
        finally:
            self.wake()  # after the answer: what was queued follows it
        refer = line.text.startswith("/refer ") and not private
        if refer and await self.admins.bot_may_delete(message.chat.id):
            self._after_answer(self._delete(message))  # its details out of the group

    def _after_answer(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` once the update is answered (`stop` waits for it)."""
        task = asyncio.create_task(work)
        self._after.add(task)
        task.add_done_callback(self._after.discard)

    async def _delete(self, message: Message) -> None:
        with contextlib.suppress(TelegramError):  # too old, or the right was just taken back
            await message.delete()

    async def answer(self, message: Message, replies: list[Reply]) -> None:
        if not replies:
            return
        parts = render.parts(replies)
        if message.chat.type == "private":
            await self._send(message.chat.id, parts)
            return
        assert message.from_user is not None
        await self._send_private_or_explain(message, message.from_user, parts)

    async def _send_private_or_explain(
        self, message: Message, user: object, parts: list[render.Part], *,
        force_reply: bool = False,
    ) -> None:  # fmt: skip
        user_id = int(getattr(user, "id"))  # noqa: B009 (a telegram.User)
        try:
            await self._send(user_id, parts, force_reply=force_reply)
        except (Forbidden, BadRequest):  # never started the bot, or blocked it
            link = self._transport.start_link()
            name = str(getattr(user, "full_name", "") or "")
            await self._say_in_chat(message, NOT_STARTED.format(name=name, link=link))

    async def _say_in_chat(self, message: Message, text: str) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.send_message(
                message.chat.id, render.escape(text), parse_mode=ParseMode.HTML,
                message_thread_id=_topic(message),
                link_preview_options=NO_PREVIEW,
            )  # fmt: skip

    async def _send(self, chat_id: int, parts: list[render.Part], *, force_reply: bool = False
                    ) -> None:  # fmt: skip
        for i, part in enumerate(parts):
            markup = part.keyboard
            if force_reply and i == len(parts) - 1:
                markup = ForceReply(selective=True)  # type: ignore[assignment]
            try:
                await self.bot.send_message(
                    chat_id,
                    part.html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=NO_PREVIEW,
                )
            except NetworkError as error:
                if isinstance(error, BadRequest):
                    raise
                log.warning("telegram answer not sent: %s", type(error).__name__)
                return

    async def move_chat(self, old_chat_id: str, new_chat_id: str) -> None:
        """A group that became a supergroup keeps its data, settings and pending posts."""
        moved = await self.db.run(
            lambda unit: chats.move_chat(unit, "telegram", old_chat_id, new_chat_id)
        )
        log.info("telegram group migrated to a supergroup: %s", "moved" if moved else "nothing")


def _topic(message: Message) -> int | None:
    """The forum topic of `message`, to answer in it (None: the chat itself)."""
    topic = inc.topic_of(message)
    return None if topic is None else int(topic)
