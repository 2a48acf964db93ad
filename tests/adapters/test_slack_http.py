"""The ASGI app: health, and Slack's request signature (401, nothing recorded)."""

# ruff: noqa: F811  (the fixtures `slack` and `bot` are imported from slack_harness)

from __future__ import annotations

import time

import httpx
from sqlalchemy import func, select

from adapters.http import create_http_app
from storage.database import Database
from storage.tables import Delivery
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_harness import MARKS, Harness, bot, open_harness, slack  # noqa: F401
from tests.adapters.slack_requests import (
    SlackRequest,
    app_mention_event,
    slash_command,
    url_verification,
)

pytestmark = MARKS


async def _deliveries(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(Delivery))).one()[0])


async def test_healthz_is_200_while_the_database_answers(bot: Harness) -> None:
    response = await bot.http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_healthz_is_503_when_the_database_does_not_answer() -> None:
    db = Database("postgresql://postgres@127.0.0.1:1/x")
    transport = httpx.ASGITransport(app=create_http_app(db))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.get("/healthz")
    finally:
        await db.dispose()

    assert response.status_code == 503


async def test_bad_signature_is_refused_and_records_nothing(bot: Harness) -> None:
    command = await bot.post(slash_command("/refer", "<@U2> A, 1, b", bad_signature=True))
    mention = await bot.post(app_mention_event("<@UBOT> thanks <@U2> 5", bad_signature=True))

    assert command.status_code == mention.status_code == 401
    assert await _deliveries(bot.db) == 0
    assert bot.slack.calls == []


def _unsigned(request: SlackRequest) -> SlackRequest:
    headers = {k: v for k, v in request.headers.items() if not k.startswith("X-Slack-")}
    return SlackRequest(request.body, headers)


async def _forged(bot: Harness) -> list[int]:
    """What a forger gets: unsigned, signed with an empty secret, and badly signed."""
    requests = [
        _unsigned(slash_command("/joingroup", "Forger", user_id="U1")),
        _unsigned(url_verification("chal")),
        _unsigned(app_mention_event("<@UBOT> thanks <@U2> 5")),
        slash_command("/joingroup", "Forger", secret=""),
        url_verification("chal", secret=""),
        slash_command("/joingroup", "Forger", bad_signature=True),
    ]
    return [(await bot.post(request)).status_code for request in requests]


async def test_unsigned_requests_are_refused_and_record_nothing(bot: Harness) -> None:
    assert await _forged(bot) == [401] * 6
    assert await _deliveries(bot.db) == 0
    assert bot.slack.calls == []


async def test_socket_mode_without_a_signing_secret_still_refuses_http(
    slack: FakeSlack, db: Database
) -> None:
    # Socket Mode needs no signing secret and serves no /slack/events; were the app ever
    # put behind HTTP all the same, nothing unsigned would get in.
    overrides = dict(slack_signing_secret=None, slack_app_token="xapp-test")
    async for socket_bot in open_harness(slack, db, **overrides):
        assert await _forged(socket_bot) == [401] * 6
        assert await _deliveries(socket_bot.db) == 0


async def test_stale_timestamp_is_refused_and_records_nothing(bot: Harness) -> None:
    stale = int(time.time()) - 6 * 60
    response = await bot.post(slash_command("/refer", "<@U2> A, 1, b", timestamp=stale))

    assert response.status_code == 401
    assert await _deliveries(bot.db) == 0


async def test_url_verification_handshake(bot: Harness) -> None:
    response = await bot.post(url_verification("chal"))

    assert response.json() == {"challenge": "chal"}
