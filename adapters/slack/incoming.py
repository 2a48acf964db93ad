"""Slack payloads as the core's `Incoming`: who, which chat, what text, which delivery."""

from __future__ import annotations

import re

from bot import grammar
from bot.messages import ChatRef, Platform

# Slack keeps `/status`, `/join`, `/leave` and `/mute` for its own built-in commands and
# refuses a manifest that registers them: in Slack those are these slash commands (a mention
# takes the interface's words: `@referral-bot status 12 won`).
SLACK_NAMES = {"/refstatus": "/status", "/joingroup": "/join", "/leavegroup": "/leave",
               "/refmute": "/mute"}  # fmt: skip
SLACK_NAMES_NOTE = (  # without a slash before the names: render.escape rewrites those
    "Slack keeps the names status, join, leave and mute for its own commands, so here they "
    "are /refstatus, /joingroup, /leavegroup and /refmute; a mention of the bot takes every "
    "command by its own name, e.g. @referral-bot status 12 won 4000. In a direct message "
    "with the bot a command works without the slash too, e.g. balance."
)
MENTION = re.compile(r"<@([UW][A-Z0-9]{1,30})(?:\|([^>]{0,200}))?>")


def chat_ref(team_id: str, channel_id: str, title: str | None = None) -> ChatRef:
    """A Slack channel as the core's chat; a DM (`D...`) is a private chat with the bot."""
    private = channel_id.startswith("D")
    return ChatRef(Platform.SLACK, channel_id, team_id, is_private=private, title=title)


# Slack's markup in what users type (events always, slash commands with `should_escape`):
# `<@U1|bob>` user mentions (kept: the core reads them), `<#C1|general>` channels,
# `<!here>` and other specials, `<!subteam^S1|@team>` groups, `<https://x|x>` and
# `<mailto:a@b|a@b>` links; a literal `&`, `<` or `>` comes as an entity.
_MARKUP = re.compile(r"<([^<>]*)>")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
_ENTITY = re.compile(r"&(?:lt|gt|amp);")


def _as_typed(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith(("@U", "@W")):
        return match.group(0)  # a user mention: the core's own syntax
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
        special = target[1:].split("^", 1)[0]
        return label or f"@{special}"
    return label or target  # a link: what the user wrote


def plain_text(text: str) -> str:
    """Slack's formatted text as the user typed it, user mentions kept as `<@U..>`.

    What comes out is stored and later written back escaped (`render.escape`), so a
    `<!here>` typed in a note is kept as the words "@here" and never pings.
    """
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], _MARKUP.sub(_as_typed, text))


def mentions(text: str) -> dict[str, str]:
    """The users mentioned in `text`: id -> the label Slack wrote (`<@U1|bob>`), or ''."""
    found: dict[str, str] = {}
    for match in MENTION.finditer(text):
        found.setdefault(match.group(1), match.group(2) or "")
    return found


def mention_command(text: str, bot_user_id: str | None) -> str:
    """`<@BOT> refer <@U2> ...` as `/refer <@U2> ...`: the bot's mention and a slash dropped,
    Slack's markup decoded."""
    text = plain_text(text).strip()
    match = MENTION.match(text)
    if match and (bot_user_id is None or match.group(1) == bot_user_id):
        text = text[match.end() :].strip()
    line = text if text.startswith("/") else f"/{text}"
    word, space, rest = line.partition(" ")
    return f"{SLACK_NAMES.get(word.lower(), word)}{space}{rest}"


def direct_message_line(text: str, bot_user_id: str | None) -> str:
    """A message in the bot's DM: a command, the slash left out or not (`balance`); text
    that starts with no command's name stays as written, an answer to guided steps."""
    line = mention_command(text, bot_user_id)
    typed = plain_text(text).strip()
    if typed.startswith(("/", "<@")) or grammar.spec_named(grammar.split_command(line)[0]):
        return line
    return typed


def command_text(command: str, text: str) -> str:
    """A slash command's name and text as one command line, in the interface's words,
    Slack's markup decoded."""
    return f"{SLACK_NAMES.get(command, command)} {plain_text(text).strip()}".strip()
