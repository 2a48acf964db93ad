"""The words commands are made of: members, periods, weekdays, times, switches, leads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time

from bot.commands import MemberRef
from bot.periods import Period

MAX_TEXT = 1000
_MENTION = re.compile(r"<@([A-Za-z0-9][A-Za-z0-9_.\-]{0,63})(?:\|[^>]{0,200})?>")
# Unicode's control characters (Cc) but the newline, and the line and paragraph separators
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_AT_NAME = re.compile(r"@([^\s@<>,;:!?()\[\]{}\"']{1,64})")
# What may stand between a mention and what follows it: `@bob, Jane`, `@bob: great intro`
_AFTER_MENTION = re.compile(r"[\s,;:\u2013\u2014]*")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_LEAD = re.compile(r"(\d{1,4})(m|min|h|d)", re.IGNORECASE)


class ParseError(ValueError):
    """A command the grammar refused: `str(self)` says what was wrong."""


class Args:
    """The text after the command word, consumed from the left."""

    def __init__(self, text: str, names: Mapping[str, str] | None = None) -> None:
        self.text = text.strip()
        self.names = names or {}  # user id -> display name, for mentions inside free text

    def empty(self) -> bool:
        return not self.text

    def peek(self) -> str | None:
        """The next word, without consuming it."""
        return self.text.split(None, 1)[0] if self.text else None

    def word(self) -> str | None:
        """Consume and return the next word."""
        if not self.text:
            return None
        head, *tail = self.text.split(None, 1)  # any whitespace: `500\nkitchen job`
        self.text = tail[0].strip() if tail else ""
        return head

    def member(self, role: str = "the member") -> MemberRef:
        """Consume a mention (`<@U123>`, `<@U123|name>`) or `@name`, and the punctuation after
        it (`@bob, Jane Roe`)."""
        match = _MENTION.match(self.text)
        if match:
            self.text = _AFTER_MENTION.sub("", self.text[match.end() :], count=1).strip()
            return MemberRef(user_id=match.group(1))
        match = _AT_NAME.match(self.text)
        if match:
            self.text = _AFTER_MENTION.sub("", self.text[match.end() :], count=1).strip()
            return MemberRef(name=match.group(1))
        raise ParseError(f"Start with {role}, written as a mention (@name).")

    def next_is_member(self) -> bool:
        return bool(_MENTION.match(self.text) or _AT_NAME.match(self.text))

    def rest(self, what: str = "text", *, limit: int = MAX_TEXT) -> str | None:
        """Consume the remaining free text (None when there is none)."""
        value = self.free(self.text, what, limit=limit)
        self.text = ""
        return value or None

    def free(self, text: str, what: str, *, limit: int = MAX_TEXT) -> str:
        """`text` as free text: cleaned, and a mention in it written as the person's name
        (`@Carol`), not as a platform id."""
        return clean_text(readable_mentions(text, self.names), what, limit=limit)


def readable_mentions(text: str, names: Mapping[str, str]) -> str:
    """`<@U3|carol>` and `<@U3>` in free text as `@carol` / `@<name the adapter gave>`."""

    def name(match: re.Match[str]) -> str:
        label = match.group(0)[2:-1].partition("|")[2]
        return "@" + (names.get(match.group(1)) or label or match.group(1))

    return _MENTION.sub(name, text)


def clean_text(text: str, what: str, *, limit: int = MAX_TEXT) -> str:
    """Free text without control characters, refused when longer than `limit`."""
    text = _CONTROL.sub(" ", text).strip()
    if len(text) > limit:
        raise ParseError(f"The {what} is too long ({len(text):,} characters; at most {limit:,}).")
    return text


def period(word: str) -> Period | None:
    """`week`, `month`, `quarter`, `year`, `all` (any case), else None."""
    try:
        return Period(word.lower())
    except ValueError:
        return None


def weekday(word: str) -> int:
    """A weekday's number (Monday 0) from its English name or three-letter form."""
    lowered = word.lower()
    for number, name in enumerate(_WEEKDAYS):
        if lowered in (name, name[:3]):
            return number
    raise ParseError(f"'{word[:20]}' is not a weekday: use monday..sunday or mon..sun.")


def weekday_name(number: int) -> str:
    return _WEEKDAYS[number].capitalize()


def clock_time(word: str) -> time:
    """A 24-hour `HH:MM`."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", word)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ParseError(f"'{word[:20]}' is not a time: use 24-hour HH:MM, e.g. 07:30.")
    return time(int(match.group(1)), int(match.group(2)))


def switch(word: str | None) -> bool:
    """`on` or `off`."""
    if word is not None and word.lower() in ("on", "off"):
        return word.lower() == "on"
    raise ParseError("Say on or off.")


def lead_minutes(word: str) -> int:
    """A reminder lead time (`24h`, `90m`, `2d`) in minutes, up to 14 days."""
    match = _LEAD.fullmatch(word)
    if not match:
        raise ParseError(f"'{word[:20]}' is not a lead time: use e.g. 24h, 90m or 2d.")
    unit = match.group(2).lower()
    minutes = int(match.group(1)) * {"m": 1, "min": 1, "h": 60, "d": 1440}[unit]
    if not 0 < minutes <= 14 * 1440:
        raise ParseError("A reminder lead time must be between 1 minute and 14 days.")
    return minutes


def format_lead(minutes: int) -> str:
    if minutes % 1440 == 0 and minutes >= 2880:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def _zones() -> dict[str, str]:
    import zoneinfo

    return {name.lower(): name for name in zoneinfo.available_timezones()}


_ZONES: dict[str, str] = {}


def timezone_name(word: str) -> str | None:
    """The canonical IANA name for `word` (any case), or None when there is no such zone."""
    if not _ZONES:
        _ZONES.update(_zones())
    return _ZONES.get(word.lower())
