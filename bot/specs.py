"""A command as written: its name, usage line, summary, examples and parser (`Spec`), its
sub-commands (`Form`), and the error that shows the right form (`Malformed`).

The specs themselves are in `bot.definitions`, each beside its actions; `bot.grammar`
parses with them and `/help` is written from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.arguments import Parser


@dataclass(frozen=True)
class Form:
    """One form of a command with sub-commands (`/settings timezone <IANA name>`), named by
    its second word, with an example of its own."""

    usage: str
    example: str

    @property
    def word(self) -> str:
        return self.usage.split()[1]


@dataclass(frozen=True)
class Spec:
    """A command: its name, how it is written, what it does, and its parser."""

    name: str
    usage: str
    summary: str
    examples: tuple[str, ...]
    parse: Parser
    aliases: tuple[str, ...] = ()
    more: tuple[str, ...] = ()  # further forms, e.g. the leaders' ones
    forms: tuple[Form, ...] = ()  # sub-commands: an error in one shows that one

    def form_for(self, rest: str) -> Form | None:
        """The form whose word begins `rest` (the text after the command word), if any."""
        first = rest.split(None, 1)[0].lower() if rest.strip() else ""
        return next((form for form in self.forms if form.word == first), None)


class Malformed(ValueError):
    """A command that could not be parsed, with the spec (and the form of it that was
    meant, when known) to show the right form."""

    def __init__(self, reason: str, spec: Spec | None, form: Form | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.spec = spec
        self.form = form
