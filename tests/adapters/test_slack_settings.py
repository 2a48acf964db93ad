"""Slack's settings come in whole modes; anything less is one line at start-up and exit 2.

HTTP for one workspace: SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET; Socket Mode:
SLACK_BOT_TOKEN + SLACK_APP_TOKEN; many workspaces: SLACK_CLIENT_ID +
SLACK_CLIENT_SECRET + SLACK_SIGNING_SECRET. Above all, HTTP mode never starts
without the signing secret (it would take unsigned requests).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from tests.adapters.bot_process import bot_env, free_port, listening, start_bot

PARTIAL = [  # (the environment, words the one line must hold)
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["needs SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"]),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": ""}, ["needs SLACK_SIGNING_SECRET"]),
    ({"SLACK_APP_TOKEN": "xapp-1"}, ["SLACK_APP_TOKEN (Socket Mode) needs SLACK_BOT_TOKEN"]),
    ({"SLACK_CLIENT_ID": "1.2"}, ["SLACK_CLIENT_ID is set without SLACK_CLIENT_SECRET"]),
    ({"SLACK_CLIENT_SECRET": "s"}, ["SLACK_CLIENT_SECRET is set without SLACK_CLIENT_ID"]),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "words"), PARTIAL)
async def test_a_partial_slack_configuration_refuses_to_start(
    tmp_path: Path, settings: dict[str, str], words: list[str]
) -> None:
    port = free_port()
    process = await start_bot(tmp_path, bot_env(tmp_path, port, **settings))
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        up_meanwhile = listening(port)
    finally:
        if process.returncode is None:  # it started: the bug this test is about
            process.kill()
            await process.wait()

    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("referral-bot: SLACK_")
    assert all(word in lines[0] for word in words), lines[0]
    assert "Value error" not in lines[0]
    assert not up_meanwhile


def _problem(**values: Any) -> str | None:
    try:
        Settings(_env_file=None, **values)  # type: ignore[call-arg]
    except ValidationError as error:
        (only,) = error.errors()
        return str(only["msg"])
    return None


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (dict(slack_signing_secret="s"), "SLACK_SIGNING_SECRET is set without a Slack app"),
        (dict(slack_client_id="1.2", slack_client_secret="s"), "need SLACK_SIGNING_SECRET"),
        (
            dict(slack_client_id="1.2", slack_client_secret="s", slack_signing_secret="x",
                 slack_bot_token="xoxb-1"),
            "SLACK_BOT_TOKEN is set with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET",
        ),
        (
            dict(slack_client_id="1.2", slack_client_secret="s", slack_signing_secret="x",
                 slack_app_token="xapp-1"),
            "runs in HTTP mode",
        ),
        (dict(slack_bot_token="xapp-1", slack_signing_secret="s"), "does not start with xoxb-"),
        (dict(slack_bot_token="xoxb-1", slack_app_token="xoxb-2"), "does not start with xapp-"),
        (dict(slack_bot_token="xoxb-1", slack_signing_secret="  "), "needs SLACK_SIGNING_SECRET"),
    ],
)  # fmt: skip
def test_what_else_is_refused(values: dict[str, str], words: str) -> None:
    problem = _problem(**values)

    assert problem is not None and words in problem
    assert "xoxb-1" not in problem and "xapp-1" not in problem  # never a token's value


@pytest.mark.parametrize(
    "values",
    [
        {},
        dict(slack_bot_token="xoxb-1", slack_signing_secret="s"),
        dict(slack_bot_token="xoxb-1", slack_app_token="xapp-1"),  # Socket Mode: no secret
        dict(slack_bot_token="xoxb-1", slack_app_token="xapp-1", slack_signing_secret="s"),
        dict(slack_client_id="1.2", slack_client_secret="s", slack_signing_secret="x"),
    ],
)
def test_whole_modes_are_accepted(values: dict[str, str]) -> None:
    assert _problem(**values) is None
