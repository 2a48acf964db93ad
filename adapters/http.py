"""The project's one HTTP server (ASGI): health, Slack, and room for the Telegram webhook."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage.database import Database


def create_http_app(db: Database, slack: object | None = None) -> Starlette:
    """`GET /healthz`, and `POST /slack/events` (plus the OAuth paths) when `slack` is given.

    `slack` is a bolt `AsyncApp`; imported lazily so that a Telegram-only
    deployment does not load bolt.
    """

    async def healthz(request: Request) -> Response:
        if await db.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    routes = [Route("/healthz", healthz, methods=["GET"])]
    if slack is not None:
        from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
        from slack_bolt.async_app import AsyncApp

        assert isinstance(slack, AsyncApp)
        handler = AsyncSlackRequestHandler(slack)

        async def slack_endpoint(request: Request) -> Response:
            return await handler.handle(request)

        routes.append(Route("/slack/events", slack_endpoint, methods=["POST"]))
        if slack.oauth_flow is not None:
            routes.append(Route("/slack/install", slack_endpoint, methods=["GET"]))
            routes.append(Route("/slack/oauth_redirect", slack_endpoint, methods=["GET"]))
    return Starlette(routes=routes)
