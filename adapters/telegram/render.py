"""Replies as Telegram messages: HTML parse mode, every user text escaped, limits kept.

Everything the bot sends goes through `escape`: `<`, `>` and `&` as entities (no markup
can be injected) and a word joiner after each `@` (no name or note a member typed can
mention anyone). A message longer than Telegram's 4,096 characters is split at line
boundaries; the buttons ride on the last part, cut with an "and N more" line where a
keyboard would pass Telegram's limits (100 buttons, 64 bytes of `callback_data`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import ASK
from bot.messages import Button, Reply

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_BUTTONS = 100
BUTTONS_PER_ROW = 3
WORD_JOINER = "\u2060"


@dataclass(frozen=True, slots=True)
class Part:
    """One Telegram message: HTML text and, on the last part, the keyboard."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None


def escape(text: str) -> str:
    """User text as inert HTML: no tag, entity or mention survives."""
    return html.escape(text, quote=False).replace("@", "@" + WORD_JOINER)


def lines_of(reply: Reply) -> list[str]:
    """A reply as HTML lines: its text, then each section's bold title and its lines."""
    lines = [escape(reply.text)]
    for section in reply.sections:
        lines.append(f"<b>{escape(section.title)}</b>")
        lines.extend(escape(line) for line in section.lines)
    return lines


def split(lines: Iterable[str], limit: int = MAX_TEXT) -> list[str]:
    """Lines joined into messages of at most `limit` characters, split between lines
    (a single longer line is cut, never inside an entity)."""
    parts: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            cut = limit
            amp = line.rfind("&", 0, cut)
            if amp != -1 and ";" not in line[amp:cut]:
                cut = amp
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:cut])
            line = line[cut:]
        joined = f"{current}\n{line}" if current else line
        if len(joined) > limit:
            parts.append(current)
            joined = line
        current = joined
    if current or not parts:
        parts.append(current or " ")
    return parts


def callback_data(button: Button) -> str | None:
    """What a button sends back, when it fits Telegram's 64 bytes: what it acts on
    (`bot.buttons`), `?` first for a button that asks for a value (the core asks it in the
    private chat); a button without it, its command."""
    if button.data is not None:
        data = f"{ASK}{button.data}" if button.prompt else button.data
    else:
        data = button.command
    return data if 1 <= len(data.encode()) <= MAX_CALLBACK_DATA else None


def keyboard(buttons: tuple[Button, ...]) -> tuple[InlineKeyboardMarkup | None, int]:
    """The inline keyboard for `buttons`, and how many did not fit."""
    fitting = [(b, data) for b in buttons if (data := callback_data(b)) is not None]
    shown = fitting[:MAX_BUTTONS]
    if not shown:
        return None, len(buttons)
    rows = [
        [InlineKeyboardButton(b.label[:64], callback_data=data) for b, data in shown[i : i + n]]
        for n in (BUTTONS_PER_ROW,)
        for i in range(0, len(shown), n)
    ]
    return InlineKeyboardMarkup(rows), len(buttons) - len(shown)


def parts(replies: Iterable[Reply]) -> list[Part]:
    """Replies as Telegram messages, in order, each within Telegram's limits."""
    out: list[Part] = []
    for reply in replies:
        markup, left_out = keyboard(reply.buttons)
        lines = lines_of(reply)
        if left_out:
            lines.append(escape(f"(and {left_out} more: send the command instead)"))
        texts = split(lines)
        out.extend(Part(text) for text in texts[:-1])
        out.append(Part(texts[-1], markup))
    return out


def caption(reply: Reply) -> tuple[str, list[str]]:
    """An image's caption (within 1,024 characters) and the text that follows it."""
    texts = split(lines_of(reply), MAX_CAPTION)
    rest = split(texts[1:]) if len(texts) > 1 else []
    return texts[0], rest
