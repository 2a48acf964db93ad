"""The outbox on Slack: posts and DMs, 429 and 5xx retried, gone channels failed, restarts."""

# ruff: noqa: F811  (the fixtures `slack` and `bot` are imported from slack_harness)

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlmodel import select

from adapters.http import create_http_app
from adapters.slack.app import create_app
from adapters.slack.platform import slack_routes
from adapters.slack.transport import SlackTransport, create_transport
from app.wiring import build
from bot.delivery import Deliverer
from storage.clock import utcnow
from storage.tables import OutboxMessage
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_harness import (  # noqa: F401
    MARKS,
    TOKEN,
    Harness,
    blocks_text,
    bot,
    slack,
    slack_settings,
)
from tests.adapters.slack_requests import slash_command

pytestmark = MARKS


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


async def _rows(bot: Harness) -> list[OutboxMessage]:
    async with bot.db.transaction() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def _deliverer(bot: Harness, clock: Clock) -> Deliverer:
    transport = SlackTransport(bot.slack.base_url, token=TOKEN, interval=0.0)
    return Deliverer(bot.db, [transport], clock=clock, base_backoff=1.0)


async def test_429_waits_for_retry_after_then_sends(bot: Harness) -> None:
    await bot.command("/thanks", "<@U2> 100")
    bot.slack.fail("chat.postMessage", status=429, retry_after=3)
    clock = Clock()
    deliverer = _deliverer(bot, clock)

    await deliverer.run_once()
    clock.now += timedelta(seconds=2)
    await deliverer.run_once()
    assert len(bot.slack.calls_to("chat.postMessage")) == 1  # the 429; not yet again
    clock.now += timedelta(seconds=1.5)
    await deliverer.run_once()

    assert len(bot.slack.calls_to("chat.postMessage")) == 2
    (row,) = await _rows(bot)
    assert row.status == "sent"


async def test_500_is_retried_with_backoff(bot: Harness) -> None:
    await bot.command("/thanks", "<@U2> 100")
    bot.slack.fail("chat.postMessage", status=500, times=2)
    clock = Clock()
    deliverer = _deliverer(bot, clock)

    for _ in range(3):
        await deliverer.run_once()
        clock.now += timedelta(seconds=10)

    assert len(bot.slack.calls_to("chat.postMessage")) == 3
    (row,) = await _rows(bot)
    assert (row.status, row.attempts) == ("sent", 3)


async def test_channel_not_found_fails_once_and_is_not_retried(bot: Harness) -> None:
    await bot.command("/thanks", "<@U2> 100")
    bot.slack.fail("chat.postMessage", error="channel_not_found", times=None)
    clock = Clock()
    deliverer = _deliverer(bot, clock)

    await deliverer.run_once()
    clock.now += timedelta(hours=1)
    await deliverer.run_once()

    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    (row,) = await _rows(bot)
    assert (row.status, row.last_error) == ("failed", "channel_not_found")


async def test_a_dm_to_someone_gone_is_unreachable(bot: Harness) -> None:
    await bot.command("/onetoone", "<@U2> coffee")
    bot.slack.fail("conversations.open", error="account_inactive")

    await bot.deliver()

    (row,) = await _rows(bot)
    assert (row.status, row.last_error) == ("failed", "account_inactive")
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_an_image_is_uploaded_to_the_channel(bot: Harness) -> None:
    from bot.delivery import Outgoing
    from bot.messages import to_group

    transport = SlackTransport(bot.slack.base_url, token=TOKEN)
    reply = to_group("Leaderboard <!channel>", image=b"\x89PNG...")
    sent = await transport.send(Outgoing(1, 1, "T0001", "C1", None, reply, b"\x89PNG...", "c.png"))

    assert sent.outcome.value == "ok"
    assert list(bot.slack.uploads.values()) == [b"\x89PNG..."]
    complete = bot.slack.calls_to("files.completeUploadExternal")[0]
    assert complete.args["channel_id"] == "C1"
    assert "&lt;!channel&gt;" in complete.args["initial_comment"]


async def test_restart_between_commit_and_delivery_loses_nothing_and_sends_once(
    slack: FakeSlack, tmp_path: Path
) -> None:
    settings = slack_settings(slack, f"sqlite:///{tmp_path / 'bot.db'}")
    runtime = await build(settings)
    app = create_app(settings, runtime.db, runtime.core)
    transport = httpx.ASGITransport(app=create_http_app(runtime.db, slack_routes(app)))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        request = slash_command("/refer", "<@U2> Jane Roe, 555-0100, roof")
        response = await http.post("/slack/events", content=request.body, headers=request.headers)
    assert response.status_code == 200
    await runtime.close()  # the process dies: nothing was delivered
    assert slack.calls_to("chat.postMessage") == []

    runtime = await build(settings)
    deliverer = Deliverer(runtime.db, [create_transport(settings, runtime.db, interval=0.0)])
    while await deliverer.run_once():
        pass
    again = Deliverer(runtime.db, [create_transport(settings, runtime.db, interval=0.0)])
    assert await again.run_once() == 0
    await runtime.close()

    posts = slack.calls_to("chat.postMessage")
    # the notice, the first referral's milestone, the DM
    assert sorted(call.args["channel"] for call in posts) == ["C1", "C1", "DU2"]
    private = next(call for call in posts if call.args["channel"] == "DU2")
    assert "Jane Roe, 555-0100, roof" in blocks_text(private.args["blocks"])


async def test_the_partners_chart_is_uploaded_into_the_leaders_dm(bot: Harness) -> None:
    await bot.command("/joingroup", "Plumber")  # Alice (U1) sets the group up: a leader
    for _ in range(3):
        await bot.command("/refer", "<@U2> Jane Roe, 555-0100, roof")
    answer = await bot.answer("/partners", "group")
    assert "The chart is on its way to you privately." in answer
    assert "Alice → Bob Baker: 3" in answer

    await bot.deliver()

    (png,) = [data for data in bot.slack.uploads.values() if data.startswith(b"\x89PNG")]
    assert len(png) > 5_000
    (complete,) = bot.slack.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "DU1"  # Alice's DM, never the channel
    assert "givers by receivers" in complete.args["initial_comment"]
    assert "555-0100" not in complete.args["initial_comment"]


async def test_the_partners_chart_is_drawn_on_delivery_and_uploaded_to_the_leaders_dm(
    bot: Harness,
) -> None:
    for _ in range(3):
        await bot.command("/refer", "<@U2|bob> Jane Roe, 555-0100, roof")
    await bot.deliver()
    answer = await bot.answer("/partners", "group")
    assert "The chart is on its way to you privately." in answer
    assert "Alice → Bob Baker: 3" in answer
    assert bot.slack.uploads == {}  # queued, not drawn yet
    await bot.deliver()

    (png,) = bot.slack.uploads.values()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    (complete,) = bot.slack.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"].startswith("D")  # Alice's DM, never the channel
    assert "givers by receivers" in complete.args["initial_comment"]
