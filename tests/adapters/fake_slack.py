"""A fake Slack Web API server for tests.

It listens on 127.0.0.1 and answers like Slack does, so the real ``slack_sdk`` clients (and bolt
on top of them) can be pointed at it with ``base_url=slack.base_url``::

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        await client.chat_postMessage(channel="C1", text="hi")
        assert slack.calls_to("chat.postMessage")[0].args["text"] == "hi"

Every API call is recorded as a :class:`Call`. Arguments are merged from the query string and the
body (JSON, url-encoded or multipart); fields that Slack accepts as JSON strings (``blocks``,
``attachments``, ``view``, ...) are decoded, so assertions do not depend on the encoding the
client happened to choose. The token comes from ``Authorization: Bearer`` or a ``token`` field;
``client_id``/``client_secret`` sent with HTTP Basic auth (``oauth.v2.access``) land in ``args``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

from aiohttp import web

JsonDict = dict[str, Any]

# Arguments Slack accepts as JSON-encoded strings in form bodies.
JSON_STRING_FIELDS = frozenset({"blocks", "attachments", "view", "files", "metadata", "profile"})
# Methods that do not need a token.
NO_TOKEN_METHODS = frozenset({"api.test", "oauth.v2.access", "oauth.v2.exchange", "apps.uninstall"})
DEFAULT_SCOPES = "app_mentions:read,chat:write,commands,files:write,im:write,users:read"


@dataclass(frozen=True)
class Call:
    """One recorded Web API call."""

    method: str
    args: JsonDict
    token: str | None
    content_type: str = ""


@dataclass(frozen=True)
class ResponsePost:
    """One message posted to a fake ``response_url``."""

    id: str
    body: JsonDict


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    times: int | None  # None: until clear_failures()


@dataclass
class _Identity:
    """Who a token belongs to, as auth.test reports it."""

    team_id: str
    team_name: str
    team_domain: str
    user_id: str
    bot_id: str
    user_name: str = "referral-bot"


class SlackApiFailure(Exception):
    """Raised by a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class FakeSlack:
    """A local Slack Web API; use as ``async with FakeSlack() as slack``."""

    team_id: str = "T0001"
    team_name: str = "Acme Chapter"
    team_domain: str = "acme"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    app_id: str = "A1"

    calls: list[Call] = field(default_factory=list, init=False)
    responses: list[ResponsePost] = field(default_factory=list, init=False)
    uploads: dict[str, bytes] = field(default_factory=dict, init=False)
    users: dict[str, JsonDict] = field(default_factory=dict, init=False)
    channels: dict[str, JsonDict] = field(default_factory=dict, init=False)
    views: dict[str, JsonDict] = field(default_factory=dict, init=False)
    revoked_tokens: set[str] = field(default_factory=set, init=False)
    oauth_result: JsonDict = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._failures: dict[str, list[_Failure]] = {}
        self._identities: dict[str, _Identity] = {}
        self._files: dict[str, JsonDict] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._root = ""
        self._handlers: dict[str, Callable[[Call], JsonDict]] = {
            "api.test": lambda call: {"args": call.args},
            "auth.test": self._auth_test,
            "auth.revoke": self._auth_revoke,
            "apps.uninstall": lambda call: {},
            "oauth.v2.access": self._oauth_v2_access,
            "team.info": self._team_info,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }
        self.add_user(self.bot_user_id, name="referral-bot", real_name="Referral Bot", is_bot=True)
        self.set_oauth_result()

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self._root = f"http://127.0.0.1:{port}"
        self._changed = asyncio.Condition()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` to ``AsyncWebClient``: ``http://127.0.0.1:PORT/api/``."""
        return f"{self._root}/api/"

    def response_url(self, response_id: str = "r1") -> str:
        """A ``response_url`` whose posts are recorded in :attr:`responses`."""
        return f"{self._root}/response/{response_id}"

    # ------------------------------------------------------------------ configuration

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        team_id: str | None = None,
        tz: str = "Europe/Berlin",
    ) -> JsonDict:
        """Register a user for ``users.info``; returns the (mutable) user object."""
        real_name = real_name if real_name is not None else name
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        user: JsonDict = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": display_name if display_name is not None else name,
                "display_name_normalized": display_name if display_name is not None else name,
                "email": email or f"{name}@example.com",
                "team": team_id or self.team_id,
                "image_72": f"https://avatars.example.com/{user_id}_72.png",
            },
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1700000000,
        }
        if is_bot:
            user["profile"]["bot_id"] = self.bot_id
            user["profile"].pop("email")
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        members: list[str] | None = None,
        is_private: bool = False,
    ) -> JsonDict:
        """Register a channel for ``conversations.info`` / ``conversations.members``."""
        channel: JsonDict = {
            "id": channel_id,
            "name": name,
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "is_archived": False,
            "is_general": False,
            "is_member": True,
            "is_ext_shared": False,
            "context_team_id": self.team_id,
            "created": 1700000000,
            "creator": "U1",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "members": list(members or []),
        }
        self.channels[channel_id] = channel
        return channel

    def register_token(
        self,
        token: str,
        *,
        team_id: str,
        team_name: str = "Other Workspace",
        team_domain: str = "other",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
    ) -> None:
        """Make ``auth.test`` answer for another workspace when called with ``token``."""
        self._identities[token] = _Identity(team_id, team_name, team_domain, bot_user_id, bot_id)

    def set_oauth_result(
        self,
        *,
        access_token: str = "xoxb-installed-token",
        team_id: str | None = None,
        team_name: str | None = None,
        bot_user_id: str | None = None,
        authed_user_id: str = "U1",
        scope: str = DEFAULT_SCOPES,
        error: str | None = None,
    ) -> JsonDict:
        """Configure the answer of ``oauth.v2.access`` (``error`` makes it fail)."""
        if error is not None:
            self.oauth_result = {"ok": False, "error": error}
            return self.oauth_result
        self.oauth_result = {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": authed_user_id},
            "scope": scope,
            "token_type": "bot",
            "access_token": access_token,
            "bot_user_id": bot_user_id or self.bot_user_id,
            "team": {"id": team_id or self.team_id, "name": team_name or self.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if team_id is not None and team_id != self.team_id:
            self.register_token(
                access_token,
                team_id=team_id,
                team_name=team_name or "Other Workspace",
                bot_user_id=bot_user_id or self.bot_user_id,
            )
        return self.oauth_result

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (``times=None``: until cleared).

        ``status=429`` answers ``ratelimited`` with a ``Retry-After`` header (default 1 s),
        ``status>=500`` answers ``fatal_error``, ``status=200`` answers ``ok: false`` with
        ``error``. Failures queue up per method in the order they were added.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures.setdefault(method, []).append(_Failure(status, error, retry_after, times))

    def clear_failures(self) -> None:
        self._failures.clear()

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def responses_to(self, response_id: str) -> list[JsonDict]:
        return [post.body for post in self.responses if post.id == response_id]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[Call]:
        """Wait until at least ``count`` calls of ``method`` were recorded and return them."""
        await self._wait(
            lambda: len(self.calls_to(method)) >= count,
            timeout,
            lambda: f"{count} call(s) to {method}; got {[c.method for c in self.calls]}",
        )
        return self.calls_to(method)

    async def wait_for_responses(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ResponsePost]:
        """Wait until at least ``count`` posts to response URLs were recorded."""
        await self._wait(
            lambda: len(self.responses) >= count,
            timeout,
            lambda: f"{count} response_url post(s); got {len(self.responses)}",
        )
        return list(self.responses)

    async def _wait(
        self, done: Callable[[], bool], seconds: float, describe: Callable[[], str]
    ) -> None:
        assert self._changed is not None, "FakeSlack is not running"
        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(done)
        except TimeoutError:
            raise AssertionError(f"timed out after {seconds}s waiting for {describe()}") from None

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        call = Call(method, args, _take_token(request, args), request.content_type)
        self.calls.append(call)
        await self._notify()

        failure = self._next_failure(method)
        if failure is not None:
            return _failure_response(failure)
        handler = self._handlers.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        if method not in NO_TOKEN_METHODS:
            if not call.token:
                return web.json_response({"ok": False, "error": "not_authed"})
            if call.token in self.revoked_tokens:
                return web.json_response({"ok": False, "error": "token_revoked"})
        try:
            body = handler(call)
        except SlackApiFailure as error:
            return web.json_response({"ok": False, "error": error.error})
        return web.json_response({"ok": True, **body} if "ok" not in body else body)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self._files:
            return web.Response(status=404, text="file_not_found")
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = next(iter(form.values()))
            data = part.file.read() if isinstance(part, web.FileField) else str(part).encode()
        else:
            data = await request.read()
        self.uploads[file_id] = data
        await self._notify()
        return web.Response(text=f"OK - {len(data)}")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload")
        self.responses.append(ResponsePost(request.match_info["response_id"], body))
        await self._notify()
        return web.Response(text="ok")

    def _next_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        if failure.times is not None:
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
        return failure

    # ------------------------------------------------------------------ Web API methods

    def _identity(self, token: str | None) -> _Identity:
        default = _Identity(
            self.team_id, self.team_name, self.team_domain, self.bot_user_id, self.bot_id
        )
        return self._identities.get(token or "", default)

    def _next_ts(self) -> str:
        micros = 1_700_000_000_000_000 + 100 * next(self._ts)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):010d}"

    def _auth_test(self, call: Call) -> JsonDict:
        who = self._identity(call.token)
        return {
            "url": f"https://{who.team_domain}.slack.com/",
            "team": who.team_name,
            "user": who.user_name,
            "team_id": who.team_id,
            "user_id": who.user_id,
            "bot_id": who.bot_id,
            "is_enterprise_install": False,
        }

    def _auth_revoke(self, call: Call) -> JsonDict:
        if call.token:
            self.revoked_tokens.add(call.token)
        return {"revoked": True}

    def _oauth_v2_access(self, call: Call) -> JsonDict:
        if not call.args.get("client_id") or not call.args.get("code", call.args.get("grant_type")):
            raise SlackApiFailure("invalid_arguments")
        return dict(self.oauth_result)

    def _team_info(self, call: Call) -> JsonDict:
        who = self._identity(call.token)
        return {
            "team": {
                "id": call.args.get("team", who.team_id),
                "name": who.team_name,
                "domain": who.team_domain,
                "email_domain": "example.com",
                "icon": {"image_default": True},
            }
        }

    def _users_info(self, call: Call) -> JsonDict:
        user = self.users.get(str(call.args.get("user", "")))
        if user is None:
            raise SlackApiFailure("user_not_found")
        return {"user": user}

    def _conversations_open(self, call: Call) -> JsonDict:
        users = [u for u in str(call.args.get("users", "")).split(",") if u]
        if len(users) != 1:
            raise SlackApiFailure("users_list_not_supplied" if not users else "not_supported")
        return {"no_op": True, "already_open": True, "channel": {"id": f"D{users[0]}"}}

    def _conversations_info(self, call: Call) -> JsonDict:
        channel_id = str(call.args.get("channel", ""))
        if channel_id in self.channels:
            channel = {k: v for k, v in self.channels[channel_id].items() if k != "members"}
            return {"channel": channel}
        if channel_id.startswith("D"):
            return {"channel": {"id": channel_id, "is_im": True, "user": channel_id[1:]}}
        raise SlackApiFailure("channel_not_found")

    def _conversations_members(self, call: Call) -> JsonDict:
        channel = self.channels.get(str(call.args.get("channel", "")))
        if channel is None:
            raise SlackApiFailure("channel_not_found")
        return {"members": list(channel["members"]), "response_metadata": {"next_cursor": ""}}

    def _message(self, call: Call, ts: str) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": call.args.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in call.args:
                message[key] = call.args[key]
        return message

    def _channel_for(self, call: Call) -> str:
        channel = str(call.args.get("channel", ""))
        if not channel:
            raise SlackApiFailure("channel_not_found")
        # Posting to a user ID lands in the app's DM with that user.
        return f"D{channel}" if channel.startswith(("U", "W")) else channel

    def _chat_post_message(self, call: Call) -> JsonDict:
        channel = self._channel_for(call)
        if not any(call.args.get(key) for key in ("text", "blocks", "attachments")):
            raise SlackApiFailure("no_text")
        ts = self._next_ts()
        return {"channel": channel, "ts": ts, "message": self._message(call, ts)}

    def _chat_post_ephemeral(self, call: Call) -> JsonDict:
        self._channel_for(call)
        if not call.args.get("user"):
            raise SlackApiFailure("user_not_in_channel")
        return {"message_ts": self._next_ts()}

    def _chat_update(self, call: Call) -> JsonDict:
        channel = self._channel_for(call)
        ts = str(call.args.get("ts", ""))
        if not ts:
            raise SlackApiFailure("message_not_found")
        return {
            "channel": channel,
            "ts": ts,
            "text": call.args.get("text", ""),
            "message": self._message(call, ts),
        }

    def _chat_delete(self, call: Call) -> JsonDict:
        channel = self._channel_for(call)
        if not call.args.get("ts"):
            raise SlackApiFailure("message_not_found")
        return {"channel": channel, "ts": call.args["ts"]}

    def _view(self, call: Call, view_id: str | None = None) -> JsonDict:
        submitted = call.args.get("view")
        if not isinstance(submitted, dict):
            raise SlackApiFailure("invalid_arguments")
        view_id = view_id or self._next_id("V")
        view: JsonDict = {
            "id": view_id,
            "team_id": self.team_id,
            "type": submitted.get("type", "modal"),
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{view_id}",
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
            **submitted,
        }
        view["id"] = view_id
        self.views[view_id] = view
        return {"view": view}

    def _views_open(self, call: Call) -> JsonDict:
        if not call.args.get("trigger_id"):
            raise SlackApiFailure("invalid_arguments")
        return self._view(call)

    def _views_update(self, call: Call) -> JsonDict:
        view_id = call.args.get("view_id")
        if view_id is None:
            external_id = call.args.get("external_id")
            matches = [v["id"] for v in self.views.values() if v.get("external_id") == external_id]
            if not external_id or not matches:
                raise SlackApiFailure("not_found")
            view_id = matches[0]
        return self._view(call, str(view_id))

    def _views_publish(self, call: Call) -> JsonDict:
        if not call.args.get("user_id"):
            raise SlackApiFailure("invalid_arguments")
        return self._view(call)

    def _files_get_upload_url(self, call: Call) -> JsonDict:
        filename = str(call.args.get("filename", ""))
        if not filename or not str(call.args.get("length", "")).isdigit():
            raise SlackApiFailure("invalid_arguments")
        file_id = self._next_id("F")
        self._files[file_id] = {"name": filename, "length": int(call.args["length"])}
        return {"upload_url": f"{self._root}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, call: Call) -> JsonDict:
        files = call.args.get("files")
        if not isinstance(files, list) or not files:
            raise SlackApiFailure("invalid_arguments")
        result = []
        for item in files:
            file_id = item.get("id", "")
            if file_id not in self.uploads:
                raise SlackApiFailure("file_not_found")
            name = self._files[file_id]["name"]
            mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            result.append(
                {
                    "id": file_id,
                    "created": int(time.time()),
                    "name": name,
                    "title": item.get("title") or name,
                    "mimetype": mimetype,
                    "filetype": name.rsplit(".", 1)[-1] if "." in name else "binary",
                    "user": self.bot_user_id,
                    "size": len(self.uploads[file_id]),
                    "url_private": f"https://files.slack.com/files-pri/{self.team_id}-{file_id}/{name}",
                    "permalink": f"https://{self.team_domain}.slack.com/files/"
                    f"{self.bot_user_id}/{file_id}/{name}",
                }
            )
        return {"files": result}


# ---------------------------------------------------------------------- request parsing


async def _read_args(request: web.Request) -> JsonDict:
    args: JsonDict = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                args[key] = value.file.read() if isinstance(value, web.FileField) else value
    for key in JSON_STRING_FIELDS & args.keys():
        if isinstance(args[key], str):
            with contextlib.suppress(json.JSONDecodeError):  # else leave it as sent
                args[key] = json.loads(args[key])
    return args


def _take_token(request: web.Request, args: JsonDict) -> str | None:
    token = args.pop("token", None)
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        token = credentials
    elif scheme.lower() == "basic" and credentials:
        client_id, _, client_secret = base64.b64decode(credentials).decode().partition(":")
        args.setdefault("client_id", client_id)
        args.setdefault("client_secret", client_secret)
    return token if isinstance(token, str) else None


def _failure_response(failure: _Failure) -> web.Response:
    if failure.status == 429:
        error = failure.error or "ratelimited"
    elif failure.status >= 500:
        error = failure.error or "fatal_error"
    else:
        error = failure.error or "unknown_error"
    headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
    return web.json_response({"ok": False, "error": error}, status=failure.status, headers=headers)
