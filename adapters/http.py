"""The project's one HTTP server (ASGI): `/healthz`, and each platform adapter's routes."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from storage.database import Database


def create_http_app(db: Database, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """`GET /healthz` (200 while the database answers, else 503), then the given routes."""

    async def healthz(request: Request) -> Response:
        if await db.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    return Starlette(routes=[Route("/healthz", healthz, methods=["GET"]), *routes])
