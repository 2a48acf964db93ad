"""A fake Telegram Bot API server for tests.

It listens on 127.0.0.1 and answers like the Bot API does, so python-telegram-bot's real
`Bot` (and an `Application` on top of it) can be pointed at it::

    async with FakeTelegram() as telegram:
        bot = Bot(telegram.token, base_url=telegram.base_url)
        async with bot:
            await bot.send_message(chat_id=-100, text="<b>hi</b>", parse_mode="HTML")
        assert telegram.calls_to("sendMessage")[0].args["text"] == "<b>hi</b>"

Every method call is recorded as a `Call` (arguments merged from the query string and a
JSON, url-encoded or multipart body; JSON-valued fields such as `reply_markup` decoded).
Like Telegram it refuses malformed HTML in `parse_mode=HTML` texts, texts over 4,096
characters (captions over 1,024), and `callback_data` over 64 bytes, with 400 and
Telegram's own descriptions. `fail()` makes a method answer 429 with `retry_after`,
403 Forbidden, 400 or 500; `migrate()` turns a group into a supergroup, after which
sends to the old id answer 400 with `migrate_to_chat_id`. Updates pushed with
`push_update()` are served by `getUpdates` with Telegram's offset semantics (an update
is forgotten once a later call's offset is past it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from typing import Any, Self

from aiohttp import web

JsonDict = dict[str, Any]
TOKEN = "123456:TEST-token"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
# JSON-valued arguments when sent as form fields.
JSON_FIELDS = frozenset(
    {"reply_markup", "allowed_updates", "commands", "scope", "entities", "reply_parameters",
     "link_preview_options", "caption_entities"}
)  # fmt: skip
# The tags Telegram's HTML parse mode accepts, and the attributes each may carry.
_PLAIN_TAGS = ("b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre")
HTML_TAGS: dict[str, frozenset[str]] = {
    **{tag: frozenset() for tag in (*_PLAIN_TAGS, "tg-spoiler")},
    "a": frozenset({"href"}),
    "span": frozenset({"class"}),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}


@dataclass(frozen=True)
class Call:
    """One recorded Bot API call."""

    method: str
    args: JsonDict
    at: float  # time.monotonic() when it arrived


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    migrate_to: int | None
    times: int | None  # None: until clear_failures()


class BadRequest(Exception):
    """Raised by a method handler: answer 400 with Telegram's description."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description, self.status = description, status


class _HtmlChecker(HTMLParser):
    """Checks a text the way Telegram's HTML parse mode does: known tags only, properly
    nested and closed, and no bare `<`, `>` or `&` outside an entity."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        allowed = HTML_TAGS.get(tag)
        if allowed is None:
            self.error = self.error or f'Unsupported start tag "{tag}"'
            return
        for name, _ in attrs:
            if name not in allowed:
                self.error = self.error or f'Unsupported attribute "{name}" of tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f'Unexpected end tag "{tag}"'
            return
        self.stack.pop()

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.error = self.error or f'Unsupported entity "&{name};"'

    def handle_data(self, data: str) -> None:
        if "&" in data or "<" in data or ">" in data:
            self.error = self.error or "Unexpected character in text"

    def unknown_decl(self, data: str) -> None:
        self.error = self.error or "Unsupported declaration"


def html_error(text: str) -> str | None:
    """Why Telegram would refuse `text` in HTML parse mode, or None."""
    if "&" in text.replace("&lt;", "").replace("&gt;", "").replace("&amp;", "").replace(
        "&quot;", ""
    ).replace("&#", ""):
        return "Can't find end of the entity"
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.error is None and checker.stack:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
    if checker.error is None and checker.rawdata:
        checker.error = "Unexpected end of text"
    return checker.error


def visible_text(text: str) -> str:
    """The text a member sees: HTML tags removed, entities decoded."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]*>", "", text))


@dataclass
class FakeTelegram:
    """A local Bot API; use as `async with FakeTelegram() as telegram`."""

    token: str = TOKEN
    bot_id: int = 123456
    bot_username: str = "ReferralTestBot"

    calls: list[Call] = field(default_factory=list, init=False)
    webhook: JsonDict = field(default_factory=dict, init=False)
    commands: dict[str, list[JsonDict]] = field(default_factory=dict, init=False)
    administrators: dict[int, list[JsonDict]] = field(default_factory=dict, init=False)
    chat_members: dict[tuple[int, int], JsonDict] = field(default_factory=dict, init=False)
    blocked: set[int] = field(default_factory=set, init=False)
    not_started: set[int] = field(default_factory=set, init=False)  # never pressed Start
    deleted_topics: set[int] = field(default_factory=set, init=False)  # forum topics gone
    messages: dict[tuple[int, int], JsonDict] = field(default_factory=dict, init=False)
    deleted: list[tuple[int, int]] = field(default_factory=list, init=False)
    cannot_delete: set[int] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._failures: dict[str, list[_Failure]] = {}
        self._migrated: dict[int, int] = {}
        self._updates: list[JsonDict] = []
        self._message_ids = itertools.count(1)
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._root = ""

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self._root = f"http://127.0.0.1:{port}"
        self._changed = asyncio.Condition()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """python-telegram-bot's `base_url` (the token is appended): `http://127.0.0.1:P/bot`."""
        return f"{self._root}/bot"

    @property
    def bot_user(self) -> JsonDict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Referral Bot",
                "username": self.bot_username, "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False}  # fmt: skip

    # ------------------------------------------------------------------ configuration

    def fail(
        self, method: str, status: int = 500, description: str | None = None, *,
        retry_after: int | None = None, migrate_to: int | None = None, times: int | None = 1,
    ) -> None:  # fmt: skip
        """Make `method` fail (the next `times` calls; None: until `clear_failures`)."""
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after or 1}",
                403: "Forbidden: bot was blocked by the user",
                400: "Bad Request: chat not found",
            }.get(status, "Internal Server Error")
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures.setdefault(method, []).append(
            _Failure(status, description, retry_after, migrate_to, times)
        )

    def clear_failures(self) -> None:
        self._failures.clear()

    def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: sends to the old id answer `migrate_to_chat_id`."""
        self._migrated[old_chat_id] = new_chat_id

    def set_administrators(self, chat_id: int, *users: JsonDict, creator: JsonDict | None = None
                           ) -> None:  # fmt: skip
        """`getChatAdministrators` for the chat: the creator first, then the admins."""
        admins = [{"status": "creator", "user": creator, "is_anonymous": False}] if creator else []
        admins += [{"status": "administrator", "user": user, "can_be_edited": False,
                    "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
                    "can_manage_video_chats": True, "can_restrict_members": True,
                    "can_promote_members": False, "can_change_info": True,
                    "can_invite_users": True, "can_post_stories": False,
                    "can_edit_stories": False, "can_delete_stories": False}
                   for user in users]  # fmt: skip
        self.administrators[chat_id] = admins

    def push_update(self, update: JsonDict) -> None:
        """Queue an update for `getUpdates`."""
        self._updates.append(update)
        self._notify()

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent_to(self, chat_id: int) -> list[JsonDict]:
        """The arguments of every message or photo sent to `chat_id`, in order."""
        return [
            call.args for call in self.calls
            if call.method in ("sendMessage", "sendPhoto") and _int(call.args.get("chat_id"))
            == chat_id
        ]  # fmt: skip

    async def wait_for(self, method: str, count: int = 1, seconds: float = 5.0) -> list[Call]:
        """Wait (bounded) until `method` has been called `count` times."""
        assert self._changed is not None
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)
        return self.calls_to(method)

    # ------------------------------------------------------------------ the server

    def _notify(self) -> None:
        if self._changed is None:
            return

        async def notify() -> None:
            assert self._changed is not None
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(notify())

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = request.match_info["method"]
        args = await _arguments(request)
        self.calls.append(Call(method, args, time.monotonic()))
        self._notify()
        failure = self._take_failure(method)
        if failure is not None:
            body: JsonDict = {"ok": False, "error_code": failure.status,
                              "description": failure.description}  # fmt: skip
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            if failure.migrate_to is not None:
                body["parameters"] = {"migrate_to_chat_id": failure.migrate_to}
            return _answer(failure.status, body)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        try:
            result = await handler(args) if method == "getUpdates" else handler(args)
        except BadRequest as error:
            body = {"ok": False, "error_code": error.status, "description": error.description}
            if error.status == 400 and error.description.startswith("Bad Request: group chat was"):
                body["parameters"] = {"migrate_to_chat_id": self._migrated[_int(args["chat_id"])]}
            return _answer(error.status, body)
        return _answer(200, {"ok": True, "result": result})

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method) or self._failures.get("*")
        if not queue:
            return None
        failure = queue[0]
        if failure.times is not None:
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
        return failure

    # ------------------------------------------------------------------ methods

    def _m_getMe(self, args: JsonDict) -> JsonDict:
        return self.bot_user

    def _m_setWebhook(self, args: JsonDict) -> bool:
        self.webhook = dict(args)
        return True

    def _m_deleteWebhook(self, args: JsonDict) -> bool:
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, args: JsonDict) -> JsonDict:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}  # fmt: skip

    def _m_setMyCommands(self, args: JsonDict) -> bool:
        scope = (args.get("scope") or {}).get("type", "default")
        self.commands[scope] = list(args.get("commands") or [])
        return True

    def _m_deleteMyCommands(self, args: JsonDict) -> bool:
        self.commands.pop((args.get("scope") or {}).get("type", "default"), None)
        return True

    def _m_getMyCommands(self, args: JsonDict) -> list[JsonDict]:
        return self.commands.get((args.get("scope") or {}).get("type", "default"), [])

    async def _m_getUpdates(self, args: JsonDict) -> list[JsonDict]:
        offset = _int(args.get("offset", 0))
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = _int(args.get("limit", 100)) or 100
        deadline = time.monotonic() + min(float(args.get("timeout", 0) or 0), 2.0)
        while not self._updates and time.monotonic() < deadline:  # noqa: ASYNC110 (bounded)
            await asyncio.sleep(0.02)
        return self._updates[:limit]

    def _m_sendMessage(self, args: JsonDict) -> JsonDict:
        chat_id = self._deliverable(args)
        text = str(args.get("text", ""))
        self._check_text(text, args.get("parse_mode"), MAX_TEXT, "message is too long")
        self._check_markup(args.get("reply_markup"))
        shown = visible_text(text) if args.get("parse_mode") else text
        return self._store(chat_id, {"text": shown}, args)

    def _m_sendPhoto(self, args: JsonDict) -> JsonDict:
        chat_id = self._deliverable(args)
        photo = args.get("photo")
        if not isinstance(photo, bytes) or not photo:
            raise BadRequest("Bad Request: there is no photo in the request")
        caption = str(args.get("caption", ""))
        self._check_text(caption, args.get("parse_mode"), MAX_CAPTION,
                         "message caption is too long")  # fmt: skip
        self._check_markup(args.get("reply_markup"))
        size = {"file_id": f"photo{len(self.calls)}", "file_unique_id": f"u{len(self.calls)}",
                "width": 800, "height": 600, "file_size": len(photo)}  # fmt: skip
        return self._store(chat_id, {"photo": [size], "caption": visible_text(caption)}, args)

    def _m_editMessageText(self, args: JsonDict) -> JsonDict:
        chat_id = _int(args.get("chat_id"))
        message = self.messages.get((chat_id, _int(args.get("message_id"))))
        if message is None:
            raise BadRequest("Bad Request: message to edit not found")
        text = str(args.get("text", ""))
        self._check_text(text, args.get("parse_mode"), MAX_TEXT, "MESSAGE_TOO_LONG")
        self._check_markup(args.get("reply_markup"))
        message["text"] = visible_text(text) if args.get("parse_mode") else text
        message["reply_markup"] = args.get("reply_markup") or {"inline_keyboard": []}
        message["edit_date"] = int(time.time())
        return message

    def _m_editMessageReplyMarkup(self, args: JsonDict) -> JsonDict:
        chat_id = _int(args.get("chat_id"))
        message = self.messages.get((chat_id, _int(args.get("message_id"))))
        if message is None:
            raise BadRequest("Bad Request: message to edit not found")
        self._check_markup(args.get("reply_markup"))
        message["reply_markup"] = args.get("reply_markup") or {"inline_keyboard": []}
        return message

    def _m_deleteMessage(self, args: JsonDict) -> bool:
        key = (_int(args.get("chat_id")), _int(args.get("message_id")))
        if key[0] in self.cannot_delete:
            raise BadRequest("Bad Request: message can't be deleted")
        self.deleted.append(key)
        return True

    def _m_answerCallbackQuery(self, args: JsonDict) -> bool:
        if not args.get("callback_query_id"):
            raise BadRequest("Bad Request: query is too old and response timeout expired")
        if len(str(args.get("text", ""))) > 200:
            raise BadRequest("Bad Request: MESSAGE_TOO_LONG")
        return True

    def _m_getChatAdministrators(self, args: JsonDict) -> list[JsonDict]:
        chat_id = _int(args.get("chat_id"))
        if chat_id > 0:
            raise BadRequest("Bad Request: there are no administrators in the private chat")
        return self.administrators.get(chat_id, [])

    def _m_getChatMember(self, args: JsonDict) -> JsonDict:
        key = (_int(args.get("chat_id")), _int(args.get("user_id")))
        if key not in self.chat_members:
            raise BadRequest("Bad Request: user not found")
        return self.chat_members[key]

    # ------------------------------------------------------------------ checks

    def _deliverable(self, args: JsonDict) -> int:
        chat_id = _int(args.get("chat_id"))
        if chat_id in self._migrated:
            raise BadRequest("Bad Request: group chat was upgraded to a supergroup chat")
        if chat_id in self.not_started:
            raise BadRequest("Forbidden: bot can't initiate conversation with a user", status=403)
        if chat_id in self.blocked:
            raise BadRequest(
                "Forbidden: bot was blocked by the user" if chat_id > 0
                else "Forbidden: bot was kicked from the group chat", status=403,
            )  # fmt: skip
        if (thread := args.get("message_thread_id")) is not None and (
            _int(thread) in self.deleted_topics
        ):
            raise BadRequest("Bad Request: message thread not found")
        return chat_id

    @staticmethod
    def _check_text(text: str, parse_mode: object, limit: int, too_long: str) -> None:
        if parse_mode == "HTML" and (error := html_error(text)) is not None:
            raise BadRequest(f"Bad Request: can't parse entities: {error}")
        shown = visible_text(text) if parse_mode == "HTML" else text
        if not shown.strip() and limit == MAX_TEXT:
            raise BadRequest("Bad Request: message text is empty")
        if len(shown.encode("utf-16-le")) // 2 > limit:
            raise BadRequest(f"Bad Request: {too_long}")

    @staticmethod
    def _check_markup(markup: object) -> None:
        if not markup:
            return
        assert isinstance(markup, dict)
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise BadRequest("Bad Request: BUTTON_DATA_INVALID")

    def _store(self, chat_id: int, content: JsonDict, args: JsonDict) -> JsonDict:
        message_id = next(self._message_ids)
        chat_type = "private" if chat_id > 0 else "supergroup" if chat_id < -(10**12) else "group"
        message: JsonDict = {
            "message_id": message_id, "date": int(time.time()), "from": self.bot_user,
            "chat": {"id": chat_id, "type": chat_type, **({} if chat_id > 0 else {"title": "g"})},
            **content,
        }  # fmt: skip
        if (args.get("reply_markup") or {}).get("inline_keyboard"):  # the only kind echoed
            message["reply_markup"] = args["reply_markup"]
        if args.get("message_thread_id"):
            message["message_thread_id"] = _int(args["message_thread_id"])
            message["is_topic_message"] = True
        self.messages[(chat_id, message_id)] = message
        return message


def _int(value: object) -> int:
    return int(str(value)) if value not in (None, "") else 0


def _answer(status: int, body: JsonDict) -> web.Response:
    return web.json_response(body, status=status)


async def _arguments(request: web.Request) -> JsonDict:
    """The call's arguments, from the query string and a JSON, form or multipart body."""
    args: JsonDict = dict(request.query)
    if request.can_read_body:
        kind = request.content_type
        if kind == "application/json":
            args.update(await request.json())
        elif kind == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.name is None or not hasattr(part, "read"):
                    continue
                data = await part.read()  # type: ignore[union-attr]
                if part.filename:  # type: ignore[union-attr]
                    args[part.name] = bytes(data)
                else:
                    args[part.name] = data.decode()
        else:
            args.update(dict(await request.post()))
    for name in JSON_FIELDS & set(args):
        if isinstance(args[name], str):
            with contextlib.suppress(json.JSONDecodeError):
                args[name] = json.loads(args[name])
    # python-telegram-bot attaches files as attach://name references
    for name, value in list(args.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            args[name] = args.get(value.removeprefix("attach://"), value)
    return args
