"""Outbox delivery on Slack: channel posts, DMs and images, with Slack's errors classified.

Group notices go to the group's channel (`chat.postMessage`), private ones to
the member's DM (`conversations.open`, then `chat.postMessage`), images with
`files_upload_v2`. 429 -> rate limited (Retry-After), 5xx and network errors
-> retried, a channel or person that is gone -> unreachable.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.oauth import installation_store
from bot.delivery import ChatKey, Outgoing, Sent
from bot.settings import Settings
from storage.database import Database

TokenLookup = Callable[[str], Awaitable[str | None]]

UNREACHABLE = frozenset({
    "channel_not_found", "not_in_channel", "account_inactive", "is_archived", "user_not_found",
    "cannot_dm_bot", "user_disabled", "team_access_not_granted", "token_revoked",
    "invalid_auth", "not_authed", "restricted_action", "missing_scope", "messages_tab_disabled",
})  # fmt: skip
# the channel itself no longer takes the bot's posts (a group post marks its group)
CHAT_GONE = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
TRANSIENT = frozenset({
    "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
})  # fmt: skip


def classify(error: SlackApiError) -> Sent:
    """What a failed Web API call means for the outbox row."""
    response = error.response
    code = str(response.get("error") or "unknown_error")
    if response.status_code == 429 or code == "ratelimited":
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
        return Sent.rate_limited(float(retry_after or 1))
    if response.status_code >= 500 or code in TRANSIENT:
        return Sent.server_error(f"{response.status_code} {code}")
    # UNREACHABLE and any other refusal: Slack would refuse the same request again.
    return Sent.unreachable(code, chat_gone=code in CHAT_GONE)


class SlackTransport:
    """Sends outbox rows through the Slack Web API, one workspace token at a time."""

    platform = "slack"

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        find_token: TokenLookup | None = None,
        interval: float = 1.0,
        token_ttl: float = 300.0,
    ) -> None:
        if token is None and find_token is None:
            raise ValueError("a bot token or a way to find one per workspace")
        self.base_url, self.token, self.find_token = base_url, token, find_token
        self.interval, self.token_ttl = interval, token_ttl
        self._clients: dict[str, tuple[float, AsyncWebClient]] = {}

    def min_interval(self, chat: ChatKey) -> float:
        return self.interval

    async def client_for(self, workspace_id: str) -> AsyncWebClient | None:
        """The workspace's client (its installation's bot token when there are many)."""
        key = "" if self.find_token is None else workspace_id
        cached = self._clients.get(key)
        if cached and time.monotonic() - cached[0] < self.token_ttl:
            return cached[1]
        token = self.token if self.find_token is None else await self.find_token(workspace_id)
        if not token:
            return None
        client = AsyncWebClient(token=token, base_url=self.base_url)
        self._clients[key] = (time.monotonic(), client)
        return client

    async def send(self, message: Outgoing) -> Sent:
        client = await self.client_for(message.workspace_id)
        if client is None:
            return Sent.unreachable("no installation for the workspace")
        try:
            channel = message.chat_id
            if message.recipient_user_id is not None:
                opened = await client.conversations_open(users=message.recipient_user_id)
                channel = opened["channel"]["id"]
            if message.image is not None:
                await client.files_upload_v2(
                    channel=channel,
                    content=message.image,
                    filename=message.image_name or "image.png",
                    initial_comment="\n".join(
                        render.escape(line) for line in render.as_plain_lines(message.reply)
                    )[: render.MAX_SECTION],
                )
            else:
                body = render.message([message.reply], message.chat_id)
                await client.chat_postMessage(channel=channel, **body)
        except SlackApiError as error:
            if error.response.get("error") in ("token_revoked", "invalid_auth"):
                self._clients.pop(message.workspace_id, None)
            return classify(error)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            return Sent.server_error(type(error).__name__)
        return Sent.ok()


def create_transport(settings: Settings, db: Database, interval: float = 1.0) -> SlackTransport:
    """The transport for the configured mode: one bot token, or each installation's."""
    if settings.slack_client_id and settings.slack_client_secret:
        store = installation_store(settings, db)

        async def find_token(workspace_id: str) -> str | None:
            bot = await store.async_find_bot(enterprise_id=None, team_id=workspace_id)
            return bot.bot_token if bot is not None else None

        return SlackTransport(settings.slack_api_url, find_token=find_token, interval=interval)
    assert settings.slack_bot_token is not None
    token = settings.slack_bot_token.get_secret_value()
    return SlackTransport(settings.slack_api_url, token=token, interval=interval)
