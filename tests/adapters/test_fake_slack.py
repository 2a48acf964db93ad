"""The Slack fakes, exercised through the real slack_sdk and slack_bolt."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import httpx
import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_requests import (
    SIGNING_SECRET,
    SlackRequest,
    app_home_opened_event,
    app_mention_event,
    app_uninstalled_event,
    block_action,
    sign,
    slash_command,
    tokens_revoked_event,
    url_verification,
    view_submission,
)

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # slack_sdk routes every call through $HTTPS_PROXY, even to 127.0.0.1 (NO_PROXY is ignored).
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.base_url)


# ---------------------------------------------------------------------- Web API


async def test_auth_test(slack: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.auth_test()

    assert response["team_id"] == "T0001"
    assert response["user_id"] == "UBOT"
    assert response["bot_id"] == "BBOT"
    assert response["url"] == "https://acme.slack.com/"
    assert slack.calls_to("auth.test")[0].token == "xoxb-test"


async def test_missing_or_revoked_token(slack: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as no_token:
        await AsyncWebClient(base_url=slack.base_url).auth_test()
    await client.auth_revoke()
    with pytest.raises(SlackApiError) as revoked:
        await client.auth_test()

    assert no_token.value.response["error"] == "not_authed"
    assert revoked.value.response["error"] == "token_revoked"


async def test_users_info(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.add_user("U1", name="alice", real_name="Alice Archer", is_admin=True)

    user = (await client.users_info(user="U1"))["user"]
    with pytest.raises(SlackApiError) as unknown:
        await client.users_info(user="U404")

    assert user["id"] == "U1"
    assert user["team_id"] == "T0001"
    assert user["real_name"] == "Alice Archer"
    assert user["profile"]["display_name"] == "alice"
    assert user["is_admin"] is True
    assert user["is_bot"] is False
    assert user["tz"] == "Europe/Berlin"
    assert unknown.value.response["error"] == "user_not_found"


async def test_post_message_with_blocks(slack: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Thanks!*"}}]

    first = await client.chat_postMessage(channel="C1", text="Thanks!", blocks=blocks)
    second = await client.chat_postMessage(channel="U2", text="psst")

    assert first["channel"] == "C1"
    assert first["message"]["blocks"] == blocks
    assert first["ts"] < second["ts"]
    assert second["channel"] == "DU2"
    call = slack.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == blocks
    assert call.token == "xoxb-test"


async def test_form_encoded_json_fields_are_decoded(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "divider"}]

    await client.api_call(
        "chat.postMessage", data={"channel": "C1", "blocks": json.dumps(blocks), "token": "xoxb-2"}
    )

    call = slack.calls_to("chat.postMessage")[0]
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.args == {"channel": "C1", "blocks": blocks}
    assert call.token == "xoxb-test"  # the Authorization header wins over the form field


async def test_conversations_and_views(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.add_channel("C1", name="chapter", members=["U1", "U2"])
    home = {"type": "home", "blocks": [{"type": "divider"}]}

    dm = await client.conversations_open(users="U1")
    members = await client.conversations_members(channel="C1")
    published = await client.views_publish(user_id="U1", view=home)
    modal = await client.views_open(trigger_id="1.2.abc", view={"type": "modal", "blocks": []})
    updated = await client.views_update(view_id=modal["view"]["id"], view={"type": "modal"})

    assert dm["channel"]["id"] == "DU1"
    assert members["members"] == ["U1", "U2"]
    assert published["view"]["type"] == "home"
    assert published["view"]["blocks"] == home["blocks"]
    assert published["view"]["id"].startswith("V")
    assert updated["view"]["id"] == modal["view"]["id"]
    assert slack.calls_to("views.publish")[0].args["user_id"] == "U1"


async def test_files_upload_v2(slack: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.files_upload_v2(
        content=b"png...", filename="chart.png", channel="C1", title="Leaderboard"
    )

    file_id = response["file"]["id"]
    assert slack.uploads == {file_id: b"png..."}
    assert response["file"]["mimetype"] == "image/png"
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    complete = slack.calls_to("files.completeUploadExternal")[0]
    assert complete.args["channel_id"] == "C1"
    assert complete.args["files"] == [{"id": file_id, "title": "Leaderboard"}]


# slack_sdk sends client_id/secret with aiohttp.BasicAuth, deprecated since aiohttp 3.14.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_v2_access(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.set_oauth_result(access_token="xoxb-new", team_id="T0002", team_name="Beta")

    result = await client.oauth_v2_access(client_id="111.222", client_secret="s", code="c0de")
    identity = await client.auth_test(token="xoxb-new")

    assert result["access_token"] == "xoxb-new"
    assert result["team"] == {"id": "T0002", "name": "Beta"}
    assert result["enterprise"] is None
    assert result["is_enterprise_install"] is False
    assert slack.calls_to("oauth.v2.access")[0].args["client_id"] == "111.222"
    assert identity["team_id"] == "T0002"


async def test_unknown_method(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        await client.api_call("chat.doesNotExist")

    assert error.value.response["error"] == "unknown_method"


# ---------------------------------------------------------------------- failure injection


async def test_rate_limited(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=3, times=1)

    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel="C1", text="hi")
    retried = await client.chat_postMessage(channel="C1", text="hi")

    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "3"
    assert error.value.response["error"] == "ratelimited"
    assert retried["ok"] is True
    assert len(slack.calls_to("chat.postMessage")) == 2


async def test_server_error_then_api_error(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("chat.postMessage", status=500, times=2)
    slack.fail("chat.postMessage", error="channel_not_found")

    statuses = []
    for _ in range(3):
        with pytest.raises(SlackApiError) as error:
            await client.chat_postMessage(channel="C1", text="hi")
        statuses.append((error.value.response.status_code, error.value.response["error"]))

    assert statuses == [(500, "fatal_error"), (500, "fatal_error"), (200, "channel_not_found")]
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"] is True


async def test_permanent_failure_until_cleared(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("users.info", error="ratelimited", times=None)

    for _ in range(3):
        with pytest.raises(SlackApiError):
            await client.users_info(user="UBOT")
    slack.clear_failures()

    assert (await client.users_info(user="UBOT"))["user"]["is_bot"] is True


async def test_wait_for_times_out_with_a_useful_message(slack: FakeSlack) -> None:
    with pytest.raises(AssertionError, match=r"1 call\(s\) to chat.postMessage"):
        await slack.wait_for("chat.postMessage", timeout=0.05)


# ---------------------------------------------------------------------- response_url


async def test_response_url_posts_are_recorded(slack: FakeSlack) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(slack.response_url("abc"), json={"text": "Saved"}) as response,
    ):
        assert response.status == 200
        assert await response.text() == "ok"

    posts = await slack.wait_for_responses(1)
    assert posts[0].id == "abc"
    assert slack.responses_to("abc") == [{"text": "Saved"}]


# ---------------------------------------------------------------------- signed requests


def test_signature_matches_slack_sdk() -> None:
    body, headers = slash_command(secret="s3cret")

    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert verifier.is_valid_request(body, headers)
    assert headers == {
        "Content-Type": "application/x-www-form-urlencoded",
        **sign(body, "s3cret", int(headers["X-Slack-Request-Timestamp"])),
    }


@pytest.mark.parametrize(
    "request_",
    [
        slash_command(),
        app_mention_event(),
        app_home_opened_event(),
        tokens_revoked_event(),
        app_uninstalled_event(),
        url_verification(),
        block_action("thank", "1"),
        block_action("edit", "1", view={"id": "V1", "type": "home"}),
        view_submission("refer_modal", {}),
    ],
    ids=lambda r: r.headers["Content-Type"],
)
def test_every_builder_is_signed(request_: SlackRequest) -> None:
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(request_.body, request_.headers)


def test_bad_signature_and_stale_timestamp_are_rejected() -> None:
    verifier = SignatureVerifier(SIGNING_SECRET)

    assert not verifier.is_valid_request(*app_mention_event(bad_signature=True))
    assert not verifier.is_valid_request(*url_verification(timestamp=1_600_000_000))


def test_slash_command_fields() -> None:
    body, _ = slash_command(text="<@U2|bob> ACME, 555-1234, roof hot", response_url="http://r/1")

    fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert fields["command"] == "/refer"
    assert fields["text"] == "<@U2|bob> ACME, 555-1234, roof hot"
    assert fields["response_url"] == "http://r/1"
    assert fields["is_enterprise_install"] == "false"
    assert {"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id"} <= set(
        fields
    )
    assert {"user_name", "api_app_id", "trigger_id"} <= set(fields)


def test_event_retry_headers() -> None:
    body, headers = app_mention_event(retry_num=1, retry_reason="http_timeout")

    envelope = json.loads(body)
    assert headers["X-Slack-Retry-Num"] == "1"
    assert headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert envelope["type"] == "event_callback"
    assert envelope["event"]["type"] == "app_mention"
    assert envelope["authorizations"][0]["user_id"] == "UBOT"


# ---------------------------------------------------------------------- bolt end to end


@pytest.fixture
def app(slack: FakeSlack) -> AsyncApp:
    # Pass the client only: bolt takes the token from it (token= as well just logs a warning).
    return AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token="xoxb-test", base_url=slack.base_url),
        process_before_response=True,
    )


@pytest.fixture
async def http(app: AsyncApp) -> AsyncIterator[httpx.AsyncClient]:
    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    starlette_app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    transport = httpx.ASGITransport(app=starlette_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def _post(http: httpx.AsyncClient, request: SlackRequest) -> httpx.Response:
    return await http.post("/slack/events", content=request.body, headers=request.headers)


async def test_bolt_slash_command_round_trip(
    slack: FakeSlack, app: AsyncApp, http: httpx.AsyncClient
) -> None:
    @app.command("/refer")
    async def refer(ack: AsyncAck, respond: AsyncRespond, command: dict[str, str]) -> None:
        await ack(f"Referral from <@{command['user_id']}>: {command['text']}")
        await respond("Saved")

    first = await _post(http, slash_command(response_url=slack.response_url("cmd")))
    second = await _post(http, slash_command(text="again", response_url=slack.response_url("2")))

    assert first.status_code == 200
    assert first.text == "Referral from <@U1>: <@U2|bob> ACME, 555-1234, roof hot"
    assert second.text == "Referral from <@U1>: again"
    assert slack.responses_to("cmd")[0]["text"] == "Saved"
    # Single-workspace apps authorize requests with auth.test, once per app, on first use.
    assert len(slack.calls_to("auth.test")) == 1


async def test_bolt_rejects_bad_signature(
    slack: FakeSlack, app: AsyncApp, http: httpx.AsyncClient
) -> None:
    @app.command("/refer")
    async def refer(ack: AsyncAck) -> None:
        await ack("should not happen")

    response = await _post(http, slash_command(bad_signature=True))

    assert response.status_code == 401
    assert slack.calls == []


async def test_bolt_events_and_interactivity(
    slack: FakeSlack, app: AsyncApp, http: httpx.AsyncClient
) -> None:
    @app.event("app_mention")
    async def mention(event: dict[str, str], say: AsyncSay) -> None:
        await say(f"<@{event['user']}> your balance is 0")

    @app.action("thank")
    async def thank(ack: AsyncAck, action: dict[str, str], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postEphemeral(channel="C1", user="U1", text=action["value"])

    @app.view("refer_modal")
    async def submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        await ack(response_action="errors", errors={"who": values["who"]["pick"]["selected_user"]})

    challenge = await _post(http, url_verification("xyz"))
    mentioned = await _post(http, app_mention_event())
    clicked = await _post(http, block_action("thank", "ref-42"))
    submitted = await _post(
        http,
        view_submission(
            "refer_modal", {"who": {"pick": {"type": "users_select", "selected_user": "U2"}}}
        ),
    )

    assert challenge.json() == {"challenge": "xyz"}
    assert mentioned.status_code == clicked.status_code == 200
    assert slack.calls_to("chat.postMessage")[0].args["text"] == "<@U1> your balance is 0"
    assert slack.calls_to("chat.postEphemeral")[0].args["text"] == "ref-42"
    assert submitted.json() == {"response_action": "errors", "errors": {"who": "U2"}}


async def test_bolt_acks_first_without_process_before_response(slack: FakeSlack) -> None:
    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token="xoxb-test", base_url=slack.base_url),
    )

    @app.event("app_home_opened")
    async def home(event: dict[str, str], client: AsyncWebClient) -> None:
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    transport = httpx.ASGITransport(app=Starlette(routes=[Route("/e", events, methods=["POST"])]))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        request = app_home_opened_event("U7")
        response = await http.post("/e", content=request.body, headers=request.headers)

    assert response.status_code == 200
    published = await slack.wait_for("views.publish")
    assert published[0].args["user_id"] == "U7"
