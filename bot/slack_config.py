"""Which Slack settings go together, and the one line that says what is missing.

Three whole modes: HTTP for one workspace (`SLACK_BOT_TOKEN`, `SLACK_SIGNING_SECRET`),
Socket Mode for one workspace (`SLACK_BOT_TOKEN`, `SLACK_APP_TOKEN`), and HTTP for
many workspaces through the OAuth install (`SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET`,
`SLACK_SIGNING_SECRET`). Anything else is refused at start-up, never run weaker.
"""

from __future__ import annotations

from collections.abc import Mapping

SLACK_FIELDS = (
    "slack_bot_token", "slack_signing_secret", "slack_app_token", "slack_client_id",
    "slack_client_secret",
)  # fmt: skip
BOT_TOKEN = "SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-..., under Install App)"
SIGNING = "SLACK_SIGNING_SECRET (Basic Information -> App Credentials -> Signing Secret)"
APP_TOKEN = "SLACK_APP_TOKEN (an app-level token, xapp-..., with the connections:write scope)"
CLIENT = "from Basic Information -> App Credentials"


def slack_problem(values: Mapping[str, str | None]) -> str | None:
    """What is wrong with the Slack settings (`SLACK_FIELDS` -> value or None), or None."""
    bot, signing, app = (values[k] for k in SLACK_FIELDS[:3])
    client_id, client_secret = values["slack_client_id"], values["slack_client_secret"]
    if bot is not None and not bot.startswith("xoxb-"):
        return (
            "SLACK_BOT_TOKEN does not start with xoxb-: it should be the app's Bot User OAuth "
            "Token, under Install App"
        )
    if app is not None and not app.startswith("xapp-"):
        return (
            "SLACK_APP_TOKEN does not start with xapp-: it should be an app-level token "
            "(Basic Information -> App-Level Tokens, with the connections:write scope)"
        )
    if (client_id is None) != (client_secret is None):
        given, missing = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")[:: 1 if client_id else -1]
        return (
            f"{given} is set without {missing}: many workspaces (the OAuth install) need "
            f"both, {CLIENT}, and SLACK_SIGNING_SECRET"
        )
    if client_id is not None:
        return _many_workspaces(bot, signing, app)
    if app is not None and bot is None:
        return f"SLACK_APP_TOKEN (Socket Mode) needs {BOT_TOKEN} too"
    if bot is not None and signing is None and app is None:
        return (
            f"SLACK_BOT_TOKEN needs {SIGNING} for HTTP mode, to verify Slack's requests, "
            f"or {APP_TOKEN} for Socket Mode"
        )
    if signing is not None and bot is None:
        return (
            "SLACK_SIGNING_SECRET is set without a Slack app: add SLACK_BOT_TOKEN (one "
            "workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (many), or leave it empty"
        )
    return None


def _many_workspaces(bot: str | None, signing: str | None, app: str | None) -> str | None:
    if bot is not None:
        return (
            "SLACK_BOT_TOKEN is set with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: one workspace "
            "takes the bot token, many take the client id and secret (each workspace's token "
            "comes from its install); leave the other empty"
        )
    if app is not None:
        return (
            "SLACK_APP_TOKEN (Socket Mode) is set with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: "
            "the install for many workspaces runs in HTTP mode; leave SLACK_APP_TOKEN empty, "
            "or run Socket Mode for one workspace with SLACK_BOT_TOKEN"
        )
    if signing is None:
        return (
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (many workspaces, HTTP mode) need "
            f"{SIGNING} too, to verify Slack's requests"
        )
    return None
