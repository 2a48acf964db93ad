"""Socket Mode: `serve` with SLACK_APP_TOKEN connects out over a WebSocket and acks after commit.

The WebSocket end is a small local aiohttp server playing Slack's Socket Mode
protocol (hello, an envelope, the app's ack carrying the answer).
"""

# ruff: noqa: F811  (the fixture `slack` is imported from slack_harness)

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import WSMsgType, web

from app.serve import serve
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_harness import MARKS, slack, slack_settings  # noqa: F401
from tests.adapters.slack_requests import slash_command

pytestmark = MARKS


class SocketModeServer:
    """Sends one envelope to the first client that connects and records the acks."""

    def __init__(self, envelope: dict[str, Any]) -> None:
        self.envelope = envelope
        self.acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.url = ""

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        await ws.send_json(self.envelope)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await self.acks.put(json.loads(message.data))
        return ws


@pytest.fixture
async def socket_server() -> AsyncIterator[SocketModeServer]:
    body, _ = slash_command("/refer", "<@U2> Jane Roe, 555-0100, roof")
    payload = dict(parse_qsl(body.decode()))
    server = SocketModeServer({
        "envelope_id": "env-1", "type": "slash_commands", "payload": payload,
        "accepts_response_payload": True,
    })  # fmt: skip
    app = web.Application()
    app.router.add_get("/link", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"ws://127.0.0.1:{runner.addresses[0][1]}/link"
    yield server
    await runner.cleanup()


async def test_socket_mode_answers_a_command_after_commit(
    slack: FakeSlack, socket_server: SocketModeServer, tmp_path: Path
) -> None:
    slack._handlers["apps.connections.open"] = lambda call: {"url": socket_server.url}
    settings = slack_settings(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", port=0, slack_app_token="xapp-test"
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop=stop))

    ack = await asyncio.wait_for(socket_server.acks.get(), 10)
    await slack.wait_for("chat.postMessage", 2)  # the outbox was woken, DM and channel post
    stop.set()
    await asyncio.wait_for(task, 15)

    assert ack["envelope_id"] == "env-1"
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "Referral #1 to Bob Baker recorded" in ack["payload"]["text"]
    assert slack.calls_to("apps.connections.open")[0].token == "xapp-test"
