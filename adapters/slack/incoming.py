"""Slack payloads as the core's `Incoming`: who, which chat, what text, which delivery."""

from __future__ import annotations

import re

from bot.messages import ChatRef, Platform

# Slack keeps `/status` and `/join` for its own built-in commands and refuses a manifest
# that registers them: in Slack those two are these slash commands (a mention takes the
# interface's words: `@referral-bot status 12 won`).
SLACK_NAMES = {"/refstatus": "/status", "/joingroup": "/join"}
SLACK_NAMES_NOTE = (
    "In Slack, /status is /refstatus and /join is /joingroup (Slack keeps those two names "
    "for itself); a mention of the bot takes every command by its own name, e.g. "
    "@referral-bot status 12 won 4000."
)
MENTION = re.compile(r"<@([UW][A-Z0-9]{1,30})(?:\|([^>]{0,200}))?>")


def chat_ref(team_id: str, channel_id: str, title: str | None = None) -> ChatRef:
    """A Slack channel as the core's chat; a DM (`D...`) is a private chat with the bot."""
    private = channel_id.startswith("D")
    return ChatRef(Platform.SLACK, channel_id, team_id, is_private=private, title=title)


def mentions(text: str) -> dict[str, str]:
    """The users mentioned in `text`: id -> the label Slack wrote (`<@U1|bob>`), or ''."""
    found: dict[str, str] = {}
    for match in MENTION.finditer(text):
        found.setdefault(match.group(1), match.group(2) or "")
    return found


def mention_command(text: str, bot_user_id: str | None) -> str:
    """`<@BOT> refer <@U2> ...` as `/refer <@U2> ...`: the bot's mention and a slash dropped."""
    text = text.strip()
    match = MENTION.match(text)
    if match and (bot_user_id is None or match.group(1) == bot_user_id):
        text = text[match.end() :].strip()
    line = text if text.startswith("/") else f"/{text}"
    word, _, rest = line.partition(" ")
    return command_text(word.lower() if word.lower() in SLACK_NAMES else word, rest)


def command_text(command: str, text: str) -> str:
    """A slash command's name and text as one command line, in the interface's words."""
    return f"{SLACK_NAMES.get(command, command)} {text.strip()}".strip()
