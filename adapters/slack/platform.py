"""Slack as the wiring sees it: the bolt app's routes (HTTP mode) or Socket Mode, and the
outbox transport, built from one `Settings`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.slack.app import create_app
from adapters.slack.transport import SlackTransport, create_transport
from bot.service import Core
from bot.settings import Settings
from storage.database import Database

log = logging.getLogger("referral_bot.serve")


def slack_routes(app: AsyncApp) -> list[BaseRoute]:
    """`POST /slack/events` (commands, interactivity, events), plus the OAuth install paths
    when the app has an install flow."""
    handler = AsyncSlackRequestHandler(app)

    async def endpoint(request: Request) -> Response:
        return await handler.handle(request)

    routes: list[BaseRoute] = [Route("/slack/events", endpoint, methods=["POST"])]
    if app.oauth_flow is not None:
        routes.append(Route("/slack/install", endpoint, methods=["GET"]))
        routes.append(Route("/slack/oauth_redirect", endpoint, methods=["GET"]))
    return routes


class SlackPlatform:
    """The bolt app in HTTP mode (its routes) or in Socket Mode (`start` connects)."""

    name = "slack"

    def __init__(
        self, settings: Settings, db: Database, core: Core, on_recorded: Callable[[], None]
    ) -> None:
        self.app = create_app(settings, db, core, on_recorded=on_recorded)
        self._transport = create_transport(settings, db)
        self._socket_mode = None
        self._connecting: asyncio.Task[None] | None = None
        if settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            token = settings.slack_app_token.get_secret_value()
            self._socket_mode = AsyncSocketModeHandler(self.app, token)

    @property
    def routes(self) -> Sequence[BaseRoute]:
        return () if self._socket_mode is not None else slack_routes(self.app)

    @property
    def transport(self) -> SlackTransport:
        return self._transport

    async def start(self) -> None:
        """Socket Mode connects in the background: bolt retries until Slack answers, and a
        SIGTERM meanwhile must still end the process."""
        if self._socket_mode is not None:
            self._connecting = asyncio.create_task(self._socket_mode.connect_async())
            self._connecting.add_done_callback(_log_connected)

    async def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        if self._socket_mode is not None:
            await self._socket_mode.close_async()


def _log_connected(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is None:
        log.info("slack socket mode connected")
