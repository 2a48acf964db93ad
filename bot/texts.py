"""Small formatting helpers shared by the actions."""

from __future__ import annotations

import re
from decimal import Decimal

from bot.money import format_money


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 visitor`, `2 visitors`, `1,204 one-to-ones`; `many` for an irregular plural."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def amounts(by_currency: dict[str, Decimal], currency: str) -> str:
    """Totals by currency, the group's own first: "$2,500.00" or "$10.00 + €5.00"."""
    if not by_currency:
        return format_money(Decimal(0), currency)
    order = sorted(by_currency, key=lambda code: (code != currency, code))
    return " + ".join(format_money(by_currency[code], code) for code in order)


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ..."""
    tens = number % 100
    suffix = "th" if 11 <= tens <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def signed(number: int) -> str:
    return f"+{number}" if number > 0 else str(number)


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


ENTRY_WORDS = {"referral": "referral", "thanks": "thanks", "one_to_one": "one-to-one",
               "visitor": "visitor", "ceu": "CEU"}  # fmt: skip


def entry_name(kind: str, number: int) -> str:
    """How every answer names an entry: "referral #1", "thanks #3", "one-to-one #2"."""
    return f"{ENTRY_WORDS[kind]} #{number}"


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """A name's sort key in natural order, without case: "m2" before "m10"."""
    parts = re.split(r"([0-9]+)", name.casefold())
    return tuple((1, int(part)) if part[0] in "0123456789" else (0, part) for part in parts if part)


# A private message its recipient cannot get yet (they never opened the private chat with
# the bot, or blocked it): the group is told who, never what (`bot.delivery`).
HELD_NOTICE = "{name}, I have a private message for you: open {link} and press Start."
HELD_NOTICE_UNNAMED = (
    "I have a private message for someone here who has not started a chat with me: "
    "open {link} and press Start (it opens only for them)."
)
HELD_ONE = "Here it is:"
HELD_SOME = "Here they are ({count} private messages I kept for you):"
HELD_AFTER_HELP = "I also kept {count} for you; here they come."
HELD_EXPIRED = (
    "That link has expired: I keep private messages for {days} days, and what was waiting "
    "for you under it is older. Ask in your group for anything you missed; send /help to "
    "see what I can do."
)
HELD_SOME_EXPIRED = "{count} I kept for you had expired (I keep them {days} days)."
HELD_NONE = (
    "That link is for someone else, or it was used already: nothing is waiting for you "
    "under it. Send /help to see what I can do."
)


def held_notice(name: str | None, link: str) -> str:
    """The group's notice that `name` has a private message waiting behind `link`."""
    if not name:
        return HELD_NOTICE_UNNAMED.format(link=link)
    return HELD_NOTICE.format(name=name, link=link)


def held_released(count: int, code: bool, expired: int = 0, days: int = 30) -> str | None:
    """The answer to opening the private chat: with a link's code, or the bare Start (after
    /help; None when nothing was kept); `expired`: how many were kept too long (`days`)."""
    gone = plural(expired, "private message")
    gone = HELD_SOME_EXPIRED.format(count=gone, days=days) if expired else ""
    if code and count:
        said = HELD_ONE if count == 1 else HELD_SOME.format(count=count)
    elif code:
        return HELD_EXPIRED.format(days=days) if expired else HELD_NONE
    elif count:
        said = HELD_AFTER_HELP.format(count=plural(count, "private message"))
    else:
        return gone or None
    return f"{gone} {said}" if gone else said
