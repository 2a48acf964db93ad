"""What a button acts on, in the core's model, and its one encoding for every platform.

A button names its group (the core's group id), the member it belongs to (None: anyone
in the group may press it, each for themself), what it acts on (a referral's number, a
meeting's occurrence date) and the choice it makes. A press is resolved against the group
the button names, never the chat it was pressed in, so a message forwarded, shown in a
private chat or pressed late still acts on what it showed.

The encoding is short enough for Telegram's 64 bytes of `callback_data` with the longest
ids (numbers in base 36): ``~s:1a:2b:c:won`` is "referral #12 of group 46, member 83's,
won". Slack carries the same string as the button's `value`. Anything that does not
decode is no button of ours (an old button's command line is run as typed).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date

MARK = "~"
MAX_BYTES = 64  # Telegram's callback_data limit; Slack's value allows 2,000
# A press sent with this text asks for the button's value first (a platform with no form
# for it: Telegram, whose callback_data then starts with it; one byte is kept for it).
ASK = "?"
_DIGITS = string.digits + string.ascii_lowercase

STATUS = "s"  # a received referral's status: target = its number, choice = the status
RSVP = "r"  # a meeting occurrence's answer: target = its local date, choice = yes|no|substitute
PICK_GROUP = "g"  # the private chat's group: target and choice empty
STEP = "p"  # a choice in guided steps: target = the step's token, choice = the value
KINDS = (STATUS, RSVP, PICK_GROUP, STEP)
STATUSES = ("contacted", "won", "lost")
RSVPS = ("yes", "no", "substitute")


@dataclass(frozen=True, slots=True)
class Press:
    """One button's meaning: which group, whose, what it acts on, which choice."""

    kind: str
    group_id: int
    member_id: int | None = None
    target: str = ""
    choice: str = ""

    @property
    def number(self) -> int:
        """The referral's number (a STATUS button)."""
        return _int(self.target)

    @property
    def occurrence(self) -> date:
        """The meeting occurrence's local date (an RSVP button)."""
        return date(int(self.target[:4]), int(self.target[4:6]), int(self.target[6:]))


def encode_int(number: int) -> str:
    """A non-negative id in base 36 (short, for button data)."""
    if number < 0:
        raise ValueError("ids are not negative")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS[rest] + digits
        if not number:
            return digits


def _int(text: str) -> int:
    return int(text, 36)


def encode(press: Press) -> str:
    """The button's data: at most 63 bytes, room for `ASK` (raises ValueError for what
    would not fit)."""
    member = "" if press.member_id is None else encode_int(press.member_id)
    data = ":".join((MARK + press.kind, encode_int(press.group_id), member, press.target,
                     press.choice))  # fmt: skip
    if len(data.encode()) > MAX_BYTES - len(ASK):
        raise ValueError(f"button data over {MAX_BYTES} bytes")
    return data


def is_ours(data: str) -> bool:
    """True for a button of this encoding (else an older button's command line)."""
    return data.startswith(MARK)


def decode(data: str) -> Press | None:
    """The press a button's data stands for; None when it is no button of ours."""
    if not is_ours(data) or len(data.encode()) > MAX_BYTES:
        return None
    fields = data[1:].split(":")
    if len(fields) != 5 or fields[0] not in KINDS:
        return None
    kind, group, member, target, choice = fields
    try:
        press = Press(kind, _int(group), _int(member) if member else None, target, choice)
        if kind == STATUS:
            press.number  # noqa: B018 (checks the field)
        elif kind == RSVP:
            press.occurrence  # noqa: B018
    except ValueError:
        return None
    if (kind == STATUS and choice not in STATUSES) or (kind == RSVP and choice not in RSVPS):
        return None
    return press


def status(group_id: int, member_id: int, number: int, choice: str) -> str:
    """A receiver's button that moves referral `number` to `choice`."""
    return encode(Press(STATUS, group_id, member_id, encode_int(number), choice))


def rsvp(group_id: int, occurrence: date, choice: str) -> str:
    """Anyone's answer for the meeting on `occurrence` (the group's local date)."""
    return encode(Press(RSVP, group_id, None, f"{occurrence:%Y%m%d}", choice))


def pick_group(group_id: int, member_id: int) -> str:
    """A member's choice of group for their private chat with the bot."""
    return encode(Press(PICK_GROUP, group_id, member_id))


def step(group_id: int, member_id: int, token: str, choice: str) -> str:
    """A choice in a member's guided steps (`token` names the steps it belongs to)."""
    return encode(Press(STEP, group_id, member_id, token, choice))
