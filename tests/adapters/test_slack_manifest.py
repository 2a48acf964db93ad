"""The app manifest offers every command, the scopes the adapter asks for, and its events."""

from __future__ import annotations

import re
from pathlib import Path

import adapters.slack
from adapters.slack.oauth import BOT_SCOPES
from bot.grammar import SPECS

MANIFEST = (Path(adapters.slack.__file__).parent / "manifest.yml").read_text()


def test_every_command_is_a_slash_command() -> None:
    offered = set(re.findall(r'- command: "/([\w]+)"', MANIFEST))
    wanted = {spec.name for spec in SPECS} | {"121"}

    assert wanted <= offered


def test_scopes_match_what_the_install_flow_asks_for() -> None:
    bot_scopes = MANIFEST.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    scopes = re.findall(r"^      - ([a-z_:.]+)$", bot_scopes, flags=re.MULTILINE)

    assert sorted(scopes) == sorted(BOT_SCOPES)


def test_events_and_interactivity_point_at_the_one_endpoint() -> None:
    for event in ("app_mention", "app_home_opened", "app_uninstalled", "tokens_revoked"):
        assert f"      - {event}\n" in MANIFEST
    assert "home_tab_enabled: true" in MANIFEST
    urls = set(re.findall(r"(?:url|request_url): (\S+)", MANIFEST))
    assert urls == {"https://bot.example.com/slack/events"}
