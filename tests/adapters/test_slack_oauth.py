"""Many workspaces: the OAuth install flow, per-workspace tokens, isolation, uninstall."""

# ruff: noqa: F811  (the fixtures `slack` is imported from slack_harness)

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from adapters.slack.transport import create_transport
from bot.delivery import Deliverer
from storage.database import Database
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_harness import MARKS, Harness, blocks_text, open_harness, slack  # noqa: F401
from tests.adapters.slack_requests import app_uninstalled_event, slash_command, tokens_revoked_event

pytestmark = MARKS


@pytest.fixture
async def multi(slack: FakeSlack, db: Database) -> AsyncIterator[Harness]:
    async for harness in open_harness(
        slack, db, slack_bot_token=None, slack_client_id="111.222", slack_client_secret="s3cret"
    ):
        yield harness


async def _install(bot: Harness, token: str, team_id: str, team_name: str) -> None:
    bot.slack.set_oauth_result(access_token=token, team_id=team_id, team_name=team_name)
    page = await bot.http.get("/slack/install")
    assert page.status_code == 200
    state = re.search(r"state=([\w-]+)", page.text)
    assert state is not None
    cookie = page.headers["set-cookie"].split(";", 1)[0]  # Secure: httpx keeps it off http://
    done = await bot.http.get(
        "/slack/oauth_redirect",
        params={"code": f"code-{team_id}", "state": state.group(1)},
        headers={"Cookie": cookie},
    )
    assert done.status_code == 200, done.text


async def _count(db: Database, table: str, where: str = "1=1") -> int:
    async with db.engine.connect() as conn:
        return int(
            (await conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"))).scalar_one()
        )


async def test_two_workspaces_install_and_never_see_each_other(multi: Harness) -> None:
    await _install(multi, "xoxb-one", "T0001", "Acme Chapter")
    await _install(multi, "xoxb-two", "T0002", "Beta Chapter")
    assert await _count(multi.db, "slack_bots") == 2
    assert await _count(multi.db, "slack_installations") == 2
    assert len(multi.slack.calls_to("oauth.v2.access")) == 2

    await multi.command("/refer", "<@U2> Jane Roe, 555-0100, roof", team_id="T0001")
    theirs = await multi.answer("/referrals", user_id="U2", team_id="T0002")
    ours = await multi.answer("/referrals", user_id="U2", team_id="T0001")

    assert "no group in this chat yet" in theirs and "Jane Roe" not in theirs
    assert "#1" in ours and "Jane Roe" in ours
    transport = create_transport(multi.settings, multi.db, interval=0.0)
    deliverer = Deliverer(multi.db, [transport])
    while await deliverer.run_once():
        pass
    posts = multi.slack.calls_to("chat.postMessage")
    assert len(posts) == 3  # the DM, the notice, the first referral's milestone
    assert {call.token for call in posts} == {"xoxb-one"}  # the workspace's own bot token
    assert "Jane Roe" not in blocks_text(
        next(c for c in posts if c.args["channel"] == "C1").args["blocks"]
    )


async def test_a_bad_state_is_refused(multi: Harness) -> None:
    response = await multi.http.get(
        "/slack/oauth_redirect", params={"code": "c", "state": "forged"}
    )

    assert response.status_code >= 400
    assert multi.slack.calls_to("oauth.v2.access") == []


async def test_uninstall_and_revocation_delete_the_installation(multi: Harness) -> None:
    await _install(multi, "xoxb-one", "T0001", "Acme Chapter")
    await _install(multi, "xoxb-two", "T0002", "Beta Chapter")

    assert (await multi.post(app_uninstalled_event(team_id="T0002"))).status_code == 200
    assert (
        await multi.post(tokens_revoked_event(team_id="T0001", bot=["UBOT"]))
    ).status_code == 200

    assert await _count(multi.db, "slack_installations", "team_id = 'T0002'") == 0
    assert await _count(multi.db, "slack_bots") == 0
    gone = multi.slack.response_url("gone")
    refused = await multi.post(slash_command("/join", "", team_id="T0002", response_url=gone))
    assert refused.status_code == 200
    (told,) = multi.slack.responses_to("gone")  # bolt's "not installed" answer
    assert "install" in told["text"].lower()
    assert await _count(multi.db, "deliveries") == 0
