"""The app manifest offers every command, the scopes the adapter asks for, and its events."""

from __future__ import annotations

import re
from pathlib import Path

import adapters.slack
from adapters.slack.incoming import command_text
from adapters.slack.oauth import BOT_SCOPES
from bot.grammar import SPECS

MANIFEST = (Path(adapters.slack.__file__).parent / "manifest.yml").read_text()


# Slack's built-in commands: a manifest that registers one of them is refused whole.
# https://slack.com/help/articles/201259356-Use-built-in-slash-commands
SLACK_BUILT_IN = {"me", "status", "away", "dnd", "shrug", "remind", "msg", "feed", "who",
                  "collapse", "expand", "leave", "join", "open", "search", "topic", "mute",
                  "pro", "shortcuts", "invite", "apps", "archive", "call", "dm", "feedback",
                  "kick", "remove", "rename", "active", "prefs", "star"}  # fmt: skip


def test_every_command_is_a_slash_command_slack_accepts() -> None:
    offered = set(re.findall(r'- command: "/([\w-]+)"', MANIFEST))
    as_the_core_reads_them = {command_text(f"/{name}", "")[1:] for name in offered}
    wanted = {name for spec in SPECS for name in (spec.name, *spec.aliases)}  # /tyfcb, /121

    assert wanted <= as_the_core_reads_them
    assert not offered & SLACK_BUILT_IN
    assert {"refstatus", "joingroup"} <= offered


def test_every_command_gets_mentions_as_user_ids() -> None:
    # Without should_escape Slack sends "@Bob Baker" as typed, not <@U2|bob>.
    escapes = re.findall(r"should_escape: (\w+)", MANIFEST)
    assert escapes and set(escapes) == {"true"}
    assert len(escapes) == MANIFEST.count("- command:")


def test_scopes_match_what_the_install_flow_asks_for() -> None:
    bot_scopes = MANIFEST.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    scopes = re.findall(r"^      - ([a-z_:.]+)$", bot_scopes, flags=re.MULTILINE)

    assert sorted(scopes) == sorted(BOT_SCOPES)


def test_events_and_interactivity_point_at_the_one_endpoint() -> None:
    events = ("app_mention", "app_home_opened", "app_uninstalled", "message.im", "tokens_revoked")
    for event in events:
        assert f"      - {event}\n" in MANIFEST
    assert "home_tab_enabled: true" in MANIFEST
    assert "messages_tab_enabled: true" in MANIFEST  # where the bot's DMs are read
    assert "messages_tab_read_only_enabled: false" in MANIFEST  # and commands typed
    assert "      - im:history\n" in MANIFEST  # message.im needs it
    urls = set(re.findall(r"(?:url|request_url): (\S+)", MANIFEST))
    assert urls == {"https://bot.example.com/slack/events"}
