"""The command grammar: a text to its command, by the specs in `bot.definitions`.

Each spec's usage line is what an error shows, and what `/help` lists, so the
help can never drift from what the parser accepts.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from bot import commands as c
from bot import definitions
from bot.parsing import Args, ParseError
from bot.specs import Form, Malformed, Spec

__all__ = ["SPECS", "Form", "Malformed", "Spec", "parse", "spec_named", "split_command"]

SPECS: tuple[Spec, ...] = definitions.SPECS
_BY_NAME: dict[str, Spec] = {key: spec for spec in SPECS for key in (spec.name, *spec.aliases)}


def spec_named(word: str) -> Spec | None:
    """The spec for a command word (with or without the slash, any case)."""
    return _BY_NAME.get(word.lstrip("/").lower())


def split_command(text: str) -> tuple[str, str]:
    """The command word (without `/` or a Telegram `@BotName`) and the rest."""
    head, _, rest = text.strip().partition(" ")
    word = head.lstrip("/").split("@", 1)[0].lower()
    return word, rest


def parse(text: str, currency: str, names: Mapping[str, str] | None = None) -> c.Command:
    """Parse one command. Raises `Malformed` with the reason and the right form.

    `names` (user id -> display name) writes mentions inside free text as names."""
    word, rest = split_command(text)
    spec = _BY_NAME.get(word)
    if spec is None:
        close = difflib.get_close_matches(word, list(_BY_NAME), n=1)
        hint = f" Did you mean /{close[0]}?" if close else ""
        shown = word[:30] or text.strip()[:30]
        raise Malformed(f"I don't know the command '{shown}'.{hint} Try /help.", None)
    try:
        return spec.parse(Args(rest, names), currency)
    except ParseError as error:
        raise Malformed(str(error), spec, spec.form_for(rest)) from error
