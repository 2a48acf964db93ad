"""The Slack adapter under test: FakeSlack as the Web API, the real bolt app behind the
project's ASGI app, a real database; requests go in over HTTP (httpx's ASGI transport)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from slack_bolt.async_app import AsyncApp

from adapters.http import create_http_app
from adapters.slack.app import create_app
from adapters.slack.platform import slack_routes
from adapters.slack.transport import SlackTransport
from bot.delivery import Deliverer
from bot.service import Core, GroupDefaults
from bot.settings import Settings
from storage.database import Database
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_requests import SIGNING_SECRET, SlackRequest, slash_command

TOKEN = "xoxb-test"
# sqlmodel nags about session.execute() on INSERT ... ON CONFLICT (storage.directory).
MARKS = [pytest.mark.filterwarnings(r"ignore:(?s).*session\.exec\(\):DeprecationWarning")]


def slack_settings(slack: FakeSlack, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        database_url=database_url,
        slack_bot_token=TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.base_url,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def add_people(slack: FakeSlack) -> None:
    slack.add_user("U1", name="alice", real_name="Alice Archer", display_name="Alice")
    slack.add_user("U2", name="bob", real_name="Bob Baker", display_name="")
    slack.add_user("U3", name="carol", real_name="Carol Cole", display_name="Carol")
    slack.add_user("U4", name="dave", real_name="Dave Admin", is_admin=True)
    slack.add_channel("C1", name="chapter", members=["U1", "U2", "U3", "U4"])


@dataclass
class Harness:
    slack: FakeSlack
    db: Database
    core: Core
    app: AsyncApp
    http: httpx.AsyncClient
    settings: Settings

    async def post(self, request: SlackRequest) -> httpx.Response:
        return await self.http.post("/slack/events", content=request.body, headers=request.headers)

    async def command(self, command: str, text: str = "", **kwargs: Any) -> httpx.Response:
        """A signed slash command; its answer (the ack body) is the response."""
        response = await self.post(slash_command(command, text, **kwargs))
        assert response.status_code == 200, response.text
        return response

    async def answer(self, command: str, text: str = "", **kwargs: Any) -> str:
        """The slash command's ephemeral answer, as the plain text of its blocks."""
        response = await self.command(command, text, **kwargs)
        return blocks_text(response.json()["blocks"])

    async def deliver(self) -> int:
        """Run the outbox until nothing is due; how many rows were settled."""
        transport = SlackTransport(self.slack.base_url, token=TOKEN, interval=0.0)
        deliverer = Deliverer(self.db, [transport])
        total = 0
        while settled := await deliverer.run_once():
            total += settled
        return total

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [
            call.args
            for call in self.slack.calls_to("chat.postMessage")
            if channel is None or call.args.get("channel") == channel
        ]


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Every text in a list of blocks, one per line (button values included)."""
    lines: list[str] = []
    for block in blocks:
        if "text" in block:
            lines.append(block["text"]["text"])
        for element in block.get("elements", []):
            if "text" in element and isinstance(element["text"], dict):
                lines.append(f"[{element['text']['text']}: {element.get('value', '')}]")
    return "\n".join(lines)


async def open_harness(slack: FakeSlack, db: Database, **overrides: Any) -> AsyncIterator[Harness]:
    settings = slack_settings(slack, "sqlite://", **overrides)
    core = Core(db, GroupDefaults("UTC", "USD"))
    app = create_app(settings, db, core)
    transport = httpx.ASGITransport(app=create_http_app(db, slack_routes(app)))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Harness(slack, db, core, app, http, settings)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        add_people(fake)
        yield fake


@pytest.fixture
async def bot(slack: FakeSlack, db: Database) -> AsyncIterator[Harness]:
    async for harness in open_harness(slack, db):
        yield harness


def view_of(call_args: dict[str, Any]) -> dict[str, Any]:
    view = call_args["view"]
    return json.loads(view) if isinstance(view, str) else view
