"""Command lines built from fields: what Slack's modals and the guided steps (`bot.steps`)
submit, written in the order `bot.arguments` reads them, so that no adapter knows the
order of a command's words, its temperatures, or how an amount is told from a note.

`member` is the member as the line names them: `<@U123>` for the core, `@name` as a
member would type it.
"""

from __future__ import annotations

from bot.arguments import TEMPERATURES
from bot.money import looks_like_amount

__all__ = ["TEMPERATURES", "refer_line", "status_line", "thanks_line", "thanks_problems"]

AMOUNT_FORM = "Write the amount as a number, e.g. 2500 or $2,500.50."
NOTE_FIRST = (
    "Start the note with a word (a number first reads as the amount), "
    "or put the amount in its own field."
)


def _line(*words: str) -> str:
    return " ".join(w.strip() for w in words if w.strip())


def refer_line(member: str, prospect: str, temperature: str = "", inside: bool = False) -> str:
    """`/refer <member> <prospect> [hot|warm|cold] [inside]`: the flags last."""
    return _line("/refer", member, prospect, temperature, "inside" if inside else "")


def thanks_line(member: str, amount: str = "", note: str = "") -> str:
    """`/thanks <member> [amount] [note]`: an amount, when given, right after the member."""
    return _line("/thanks", member, amount, note)


def status_line(number: int | str, status: str, amount: str = "") -> str:
    """`/status <number> <status> [amount]`."""
    return _line("/status", str(number), status, amount)


def thanks_problems(amount: str, note: str) -> dict[str, str]:
    """What an amount field and a note field would say wrongly once joined into one
    `/thanks` line: an amount that is not one, or (with no amount) a note that starts like
    an amount, and so would be read as one. Keyed by the field (`amount`, `note`)."""
    if amount and not looks_like_amount(amount):
        return {"amount": AMOUNT_FORM}
    if not amount and looks_like_amount(note):
        return {"note": NOTE_FIRST}
    return {}
