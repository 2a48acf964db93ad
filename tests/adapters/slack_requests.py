"""Signed inbound Slack requests, shaped like the ones Slack sends to an app's request URL.

Every builder returns a :class:`SlackRequest` ``(body, headers)``; the headers carry the content
type and Slack's v0 request signature, so the bytes can be posted as-is::

    body, headers = slash_command(text="<@U2|bob> ACME", secret=SECRET)
    response = await http.post("/slack/events", content=body, headers=headers)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any, NamedTuple
from urllib.parse import urlencode

JsonDict = dict[str, Any]

SIGNING_SECRET = "test-signing-secret"
VERIFICATION_TOKEN = "xyzz0WbapA4vBCDEFasx0q6G"  # deprecated by Slack, but still sent
DEFAULT_RESPONSE_URL = "https://hooks.slack.com/commands/T0001/1234567890123/abcdefghijklmnop"

_trigger_ids = itertools.count(1)


class SlackRequest(NamedTuple):
    body: bytes
    headers: dict[str, str]


def sign(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 signature headers: ``v0=`` + hex HMAC-SHA256 of ``v0:{ts}:{body}``."""
    ts = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(ts).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def new_trigger_id() -> str:
    """A fresh trigger id in Slack's ``digits.digits.hex`` format."""
    n = next(_trigger_ids)
    return f"{1700000000 + n}.{123456789 + n}.{uuid.uuid4().hex[:32]}"


def _signed(
    body: bytes,
    content_type: str,
    *,
    secret: str,
    timestamp: int | None,
    bad_signature: bool,
    extra_headers: dict[str, str] | None = None,
) -> SlackRequest:
    headers = {"Content-Type": content_type}
    headers.update(sign(body, secret + "-wrong" if bad_signature else secret, timestamp))
    headers.update(extra_headers or {})
    return SlackRequest(body, headers)


def _form(
    fields: dict[str, str], *, secret: str, timestamp: int | None, bad_signature: bool
) -> SlackRequest:
    return _signed(
        urlencode(fields).encode(),
        "application/x-www-form-urlencoded",
        secret=secret,
        timestamp=timestamp,
        bad_signature=bad_signature,
    )


def _interactive(
    payload: JsonDict, *, secret: str, timestamp: int | None, bad_signature: bool
) -> SlackRequest:
    fields = {"payload": json.dumps(payload, separators=(",", ":"))}
    return _form(fields, secret=secret, timestamp=timestamp, bad_signature=bad_signature)


def _json(
    payload: JsonDict,
    *,
    secret: str,
    timestamp: int | None,
    bad_signature: bool,
    extra_headers: dict[str, str] | None = None,
) -> SlackRequest:
    return _signed(
        json.dumps(payload).encode(),
        "application/json",
        secret=secret,
        timestamp=timestamp,
        bad_signature=bad_signature,
        extra_headers=extra_headers,
    )


# ---------------------------------------------------------------------- slash commands


def slash_command(
    command: str = "/refer",
    text: str = "<@U2|bob> ACME, 555-1234, roof hot",
    *,
    user_id: str = "U1",
    user_name: str = "alice",
    team_id: str = "T0001",
    team_domain: str = "acme",
    channel_id: str = "C1",
    channel_name: str = "chapter",
    response_url: str = DEFAULT_RESPONSE_URL,
    trigger_id: str | None = None,
    api_app_id: str = "A1",
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> SlackRequest:
    """A slash command, url-encoded with every field Slack sends."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
    }
    if enterprise_id is not None:
        fields["enterprise_id"] = enterprise_id
        fields["enterprise_name"] = enterprise_name or "Acme Org"
    fields |= {
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }
    return _form(fields, secret=secret, timestamp=timestamp, bad_signature=bad_signature)


# ---------------------------------------------------------------------- Events API


def event_callback(
    event: JsonDict,
    *,
    team_id: str = "T0001",
    api_app_id: str = "A1",
    event_id: str = "Ev1",
    event_time: int | None = None,
    bot_user_id: str | None = "UBOT",
    enterprise_id: str | None = None,
    channel: str | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> SlackRequest:
    """Wrap ``event`` in the ``event_callback`` envelope (``bot_user_id=None``: no authorizations).

    ``retry_num`` adds the ``X-Slack-Retry-Num``/``X-Slack-Retry-Reason`` headers Slack sends when
    it redelivers an event the app did not acknowledge in time.
    """
    now = int(time.time()) if event_time is None else event_time
    context = {"et": event["type"], "tid": team_id, "aid": api_app_id}
    if channel is not None:
        context["cid"] = channel
    event_context = "4-" + base64.urlsafe_b64encode(json.dumps(context).encode()).decode()
    payload: JsonDict = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": enterprise_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now,
    }
    if enterprise_id is not None:
        payload["enterprise_id"] = enterprise_id
    if bot_user_id is not None:
        payload["authorizations"] = [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ]
    payload["is_ext_shared_channel"] = False
    payload["event_context"] = event_context
    headers = {}
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    return _json(
        payload,
        secret=secret,
        timestamp=timestamp,
        bad_signature=bad_signature,
        extra_headers=headers,
    )


def _event_ts() -> str:
    return f"{time.time():.6f}"


def app_mention_event(
    text: str = "<@UBOT> balance",
    *,
    user: str = "U1",
    channel: str = "C1",
    team_id: str = "T0001",
    event_id: str = "Ev1",
    event_ts: str | None = None,
    thread_ts: str | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    bot_user_id: str = "UBOT",
    api_app_id: str = "A1",
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> SlackRequest:
    """An ``app_mention`` event as delivered by the Events API."""
    ts = event_ts or _event_ts()
    event: JsonDict = {
        "client_msg_id": str(uuid.uuid4()),
        "type": "app_mention",
        "text": text,
        "user": user,
        "ts": ts,
        "team": team_id,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event_callback(
        event,
        team_id=team_id,
        api_app_id=api_app_id,
        event_id=event_id,
        event_time=int(float(ts)),
        bot_user_id=bot_user_id,
        channel=channel,
        retry_num=retry_num,
        retry_reason=retry_reason,
        secret=secret,
        timestamp=timestamp,
        bad_signature=bad_signature,
    )


def message_event(
    text: str = "balance",
    *,
    user: str = "U1",
    channel: str | None = None,
    channel_type: str = "im",
    team_id: str = "T0001",
    event_id: str = "Ev5",
    subtype: str | None = None,
    bot_id: str | None = None,
    thread_ts: str | None = None,
    retry_num: int | None = None,
    bot_user_id: str = "UBOT",
    api_app_id: str = "A1",
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> SlackRequest:
    """A ``message`` event (``message.im``: a message in the app's DM, ``channel`` ``D...``)."""
    ts = _event_ts()
    event: JsonDict = {
        "client_msg_id": str(uuid.uuid4()),
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": team_id,
        "channel": channel or f"D{user}",
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if subtype is not None:
        event["subtype"] = subtype
    if bot_id is not None:
        event["bot_id"] = bot_id
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event_callback(
        event,
        team_id=team_id,
        api_app_id=api_app_id,
        event_id=event_id,
        event_time=int(float(ts)),
        bot_user_id=bot_user_id,
        channel=event["channel"],
        retry_num=retry_num,
        secret=secret,
        timestamp=timestamp,
        bad_signature=bad_signature,
    )


def app_home_opened_event(
    user: str = "U1",
    *,
    team_id: str = "T0001",
    event_id: str = "Ev2",
    tab: str = "home",
    view: JsonDict | None = None,
    bot_user_id: str = "UBOT",
    api_app_id: str = "A1",
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> SlackRequest:
    """``app_home_opened``; ``view`` is only present once a home view was published."""
    event: JsonDict = {
        "type": "app_home_opened",
        "user": user,
        "channel": f"D{user}",
        "tab": tab,
        "event_ts": _event_ts(),
    }
    if view is not None:
        event["view"] = view
    return event_callback(
        event,
        team_id=team_id,
        api_app_id=api_app_id,
        event_id=event_id,
        bot_user_id=bot_user_id,
        secret=secret,
        timestamp=timestamp,
        bad_signature=bad_signature,
    )


def tokens_revoked_event(
    *,
    oauth: list[str] | None = None,
    bot: list[str] | None = None,
    team_id: str = "T0001",
    event_id: str = "Ev3",
    api_app_id: str = "A1",
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> SlackRequest:
    """``tokens_revoked``: user ids whose user (``oauth``) or ``bot`` tokens were revoked."""
    event = {"type": "tokens_revoked", "tokens": {"oauth": oauth or [], "bot": bot or ["UBOT"]}}
    return event_callback(
        event,
        team_id=team_id,
        api_app_id=api_app_id,
        event_id=event_id,
        bot_user_id=None,
        secret=secret,
        timestamp=timestamp,
        bad_signature=bad_signature,
    )


def app_uninstalled_event(
    *,
    team_id: str = "T0001",
    event_id: str = "Ev4",
    api_app_id: str = "A1",
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> SlackRequest:
    """``app_uninstalled``: the app was removed from ``team_id``."""
    return event_callback(
        {"type": "app_uninstalled"},
        team_id=team_id,
        api_app_id=api_app_id,
        event_id=event_id,
        bot_user_id=None,
        secret=secret,
        timestamp=timestamp,
        bad_signature=bad_signature,
    )


def url_verification(
    challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> SlackRequest:
    """The handshake Slack sends when the Events request URL is saved."""
    payload = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    return _json(payload, secret=secret, timestamp=timestamp, bad_signature=bad_signature)


# ---------------------------------------------------------------------- interactivity


def _user(user_id: str, user_name: str, team_id: str) -> JsonDict:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _team(team_id: str, team_domain: str, enterprise_id: str | None) -> JsonDict:
    team: JsonDict = {"id": team_id, "domain": team_domain}
    if enterprise_id is not None:
        team |= {"enterprise_id": enterprise_id, "enterprise_name": "Acme Org"}
    return team


def block_action(
    action_id: str,
    value: str = "",
    *,
    block_id: str = "actions",
    button_text: str = "Button",
    user_id: str = "U1",
    user_name: str = "alice",
    team_id: str = "T0001",
    team_domain: str = "acme",
    channel_id: str = "C1",
    channel_name: str = "chapter",
    trigger_id: str | None = None,
    response_url: str = "https://hooks.slack.com/actions/T0001/1234567890123/abcdefghijklmnop",
    message_ts: str = "1700000000.000100",
    message: JsonDict | None = None,
    container: JsonDict | None = None,
    view: JsonDict | None = None,
    api_app_id: str = "A1",
    enterprise_id: str | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> SlackRequest:
    """A button click (``block_actions``).

    By default the button sits in a bot message in ``channel_id``. Pass ``view`` (e.g. a home tab
    or modal with an ``id``) for a click inside a view: then the payload has a ``view`` container
    and, like Slack's, no ``channel``, ``message`` or ``response_url``.
    """
    now = f"{time.time():.6f}"
    if container is None:
        container = (
            {"type": "view", "view_id": view["id"]}
            if view is not None
            else {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
        )
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(team_id, team_domain, enterprise_id),
        "enterprise": None if enterprise_id is None else {"id": enterprise_id, "name": "Acme Org"},
        "is_enterprise_install": False,
    }
    if container["type"] == "message":
        payload["channel"] = {"id": channel_id, "name": channel_name}
        payload["message"] = message or {
            "type": "message",
            "user": "UBOT",
            "bot_id": "BBOT",
            "app_id": api_app_id,
            "team": team_id,
            "text": "",
            "ts": message_ts,
            "blocks": [],
        }
        payload["response_url"] = response_url
    if view is not None:
        payload["view"] = view
    payload["state"] = {"values": {}}
    payload["actions"] = [
        {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": button_text, "emoji": True},
            "value": value,
            "action_ts": now,
        }
    ]
    return _interactive(payload, secret=secret, timestamp=timestamp, bad_signature=bad_signature)


def view_submission(
    callback_id: str,
    state_values: JsonDict,
    private_metadata: str = "",
    *,
    user_id: str = "U1",
    user_name: str = "alice",
    team_id: str = "T0001",
    team_domain: str = "acme",
    view_id: str = "V0000000001",
    title: str = "Referral",
    blocks: list[JsonDict] | None = None,
    trigger_id: str | None = None,
    api_app_id: str = "A1",
    enterprise_id: str | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> SlackRequest:
    """A modal submission; ``state_values`` is ``{block_id: {action_id: {"type", "value"...}}}``."""
    payload: JsonDict = {
        "type": "view_submission",
        "team": _team(team_id, team_domain, enterprise_id),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": state_values},
            "hash": f"{int(time.time())}.{view_id}",
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": api_app_id,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": "BBOT",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None if enterprise_id is None else {"id": enterprise_id, "name": "Acme Org"},
    }
    return _interactive(payload, secret=secret, timestamp=timestamp, bad_signature=bad_signature)
