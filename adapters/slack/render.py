"""Replies as Slack messages: Block Kit with `plain_text`, everything escaped, limits kept.

Every text the bot posts goes through `escape`, so nothing a user typed can
ping (`<!channel>`, `<!here>`, `<@U..>`, `<!subteam^..>`) or inject markup.
Block Kit's limits (50 blocks a message, 3,000 characters a section, 150 a
header, 75 a button) are kept by cutting long lists with an "and N more" line.
"""

from __future__ import annotations

import re
from typing import Any

from bot.messages import Button, Reply

JsonDict = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON = 75
MAX_FALLBACK = 3000
BUTTONS_PER_BLOCK = 25
_MORE_ROOM = 40  # room kept in a section for the "and N more" line


# The commands Slack keeps for itself, written with the names they have in Slack, so that
# a hint ("send /join ...") or a usage line ("/status <referral number> ...") can be typed.
_SLACK_WORDS = re.compile(r"(?<![\w/@])/(status|join|leave|mute)\b")
_IN_SLACK = {"status": "/refstatus", "join": "/joingroup", "leave": "/leavegroup",
             "mute": "/refmute"}  # fmt: skip


def escape(text: str) -> str:
    """Slack's three control characters as entities: no mention, link or ping survives.
    The interface's `/status`, `/join`, `/leave` and `/mute` come out as Slack's
    `/refstatus`, `/joingroup`, `/leavegroup` and `/refmute`."""
    text = _SLACK_WORDS.sub(lambda m: _IN_SLACK[m.group(1)], text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """`text` escaped, cut (never inside an entity) to at most `limit` characters."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    keep = limit - 1
    while keep > 0 and len(escape(text[:keep])) > limit - 1:
        keep -= max(1, len(escape(text[:keep])) - (limit - 1))
    return escape(text[: max(keep, 0)]) + "…"


def plain(text: str, limit: int = MAX_SECTION) -> JsonDict:
    """A `plain_text` object: Slack shows it as typed, with no mrkdwn and no mentions."""
    return {"type": "plain_text", "text": fit(text, limit) or " ", "emoji": True}


def _section(text: str) -> JsonDict:
    return {"type": "section", "text": {"type": "plain_text", "text": text or " ", "emoji": True}}


def pack_lines(lines: tuple[str, ...] | list[str], max_blocks: int) -> list[str]:
    """Escaped lines joined into at most `max_blocks` texts of at most 3,000 characters."""
    if max_blocks <= 0 or not lines:
        return []
    room = MAX_SECTION - _MORE_ROOM
    chunks: list[str] = []
    current = ""
    for index, line in enumerate(lines):
        piece = fit(line, room)
        candidate = f"{current}\n{piece}" if current else piece
        if len(candidate) <= room:
            current = candidate
            continue
        if len(chunks) + 1 >= max_blocks:
            chunks.append(f"{current}\n… and {len(lines) - index} more")
            return chunks
        chunks.append(current)
        current = piece
    chunks.append(current)
    return chunks


def button(item: Button, index: int) -> JsonDict:
    """A Block Kit button whose value is what it acts on (`bot.buttons`; else its command);
    a prompting one asks for a value first."""
    element: JsonDict = {
        "type": "button",
        "text": plain(item.label, MAX_BUTTON),
        "value": item.data or item.command,
        "action_id": f"{'ask' if item.prompt else 'cmd'}-{index}",
    }
    if item.style in ("primary", "danger"):
        element["style"] = item.style
    return element


def button_blocks(buttons: tuple[Button, ...], group_chat: str | None) -> list[JsonDict]:
    """Actions blocks of at most 25 buttons; the block id names the group's channel."""
    blocks = []
    for start in range(0, len(buttons), BUTTONS_PER_BLOCK):
        elements = [
            button(b, start + i) for i, b in enumerate(buttons[start : start + BUTTONS_PER_BLOCK])
        ]
        block_id = f"{group_chat or 'x'}.{start // BUTTONS_PER_BLOCK}"
        blocks.append({"type": "actions", "block_id": block_id, "elements": elements})
    return blocks


def blocks(
    reply: Reply, group_chat: str | None = None, max_blocks: int = MAX_BLOCKS
) -> list[JsonDict]:
    """One reply as Block Kit: its text, each section (header and lines), its buttons."""
    actions = button_blocks(reply.buttons, group_chat)[: max(max_blocks - 1, 0)]
    out = [_section(fit(reply.text, MAX_SECTION))]
    budget = max_blocks - 1 - len(actions)
    for number, section in enumerate(reply.sections):
        if budget < 2:
            note = f"… and {len(reply.sections) - number} more sections"
            if budget == 1:
                out.append(_section(note))
            else:
                last = next(b for b in reversed(out) if b["type"] == "section")
                text = last["text"]["text"][: MAX_SECTION - len(note) - 1]
                last["text"]["text"] = f"{text}\n{note}"
            break
        out.append({"type": "header", "text": plain(section.title, MAX_HEADER)})
        texts = pack_lines(section.lines, budget - 1)
        out.extend(_section(t) for t in texts)
        budget -= 1 + len(texts)
    return out + actions


def fallback_text(reply: Reply) -> str:
    """The notification text of a message: the reply's text, escaped."""
    return fit(reply.text, MAX_FALLBACK)


def message(
    replies: list[Reply], group_chat: str | None = None, max_blocks: int = MAX_BLOCKS
) -> JsonDict:
    """Several replies as one message's `text` and `blocks` (within 50 blocks)."""
    out: list[JsonDict] = []
    for reply in replies:
        if len(out) >= max_blocks:
            break
        out.extend(blocks(reply, group_chat, max_blocks - len(out)))
    text = "\n".join(fallback_text(r) for r in replies)[:MAX_FALLBACK]
    return {"text": text or " ", "blocks": out[:max_blocks]}


def as_plain_lines(reply: Reply) -> list[str]:
    """A reply's text and section lines (raw), e.g. for a modal's result."""
    lines = [reply.text]
    for section in reply.sections:
        lines.append(section.title)
        lines.extend(section.lines)
    return lines
