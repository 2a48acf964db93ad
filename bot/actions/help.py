"""`/help`: written from the grammar's own specs, so it cannot drift from the parser."""

from __future__ import annotations

from bot import commands as c
from bot.context import Context
from bot.messages import Reply, Section, to_sender
from bot.specs import Spec


def command_help(spec: Spec) -> Section:
    """Everything about one command: its forms, what it does, examples. A command with
    sub-commands (`/settings`) is the title; each sub-command follows once, with its example."""
    if spec.forms:
        lines: tuple[str, ...] = (
            spec.summary,
            *(f"{form.usage}  e.g. {form.example}" for form in spec.forms),
            *(f"e.g. {e}" for e in spec.examples if e != spec.usage),
        )
    else:
        lines = (spec.usage, *spec.more, spec.summary, *(f"e.g. {e}" for e in spec.examples))
    if spec.aliases:
        lines = (*lines, "Also: " + ", ".join(f"/{a}" for a in spec.aliases))
    return Section(f"/{spec.name}", lines)


def overview() -> Section:
    from bot.grammar import SPECS  # here: the definitions, which the grammar reads, import this

    return Section("Commands", tuple(f"{s.usage}: {s.summary}" for s in SPECS))


async def show_help(ctx: Context | None, cmd: c.ShowHelp) -> list[Reply]:
    """The commands, with examples; `/help <command>` for one."""
    from bot.grammar import spec_named  # here: the definitions import this module

    if cmd.command:
        spec = spec_named(cmd.command)
        if spec is not None:
            return [to_sender(f"How to use /{spec.name}", command_help(spec))]
        return [to_sender(f"There is no command '{cmd.command[:30]}'.", overview())]
    return [to_sender("Referral bot: /help <command> tells more about one.", overview())]
