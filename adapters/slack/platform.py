"""Slack as the wiring sees it: the bolt app's routes (HTTP mode) or Socket Mode, and the
outbox transport, built from one `Settings`."""

from __future__ import annotations

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
        if self._socket_mode is not None:
            await self._socket_mode.connect_async()

    async def stop(self) -> None:
        if self._socket_mode is not None:
            await self._socket_mode.close_async()
