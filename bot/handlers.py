"""What a command is to the core: each command type's action and what it may do.

A `Handler[C]` pairs a command type with its action, typed so that mypy rejects an
action written for another command type; its flags say what the core's unit of work
does around it. A `Definition` is one command as a member knows it: its spec (how it is
written, its help) and the handlers of the command types its parser makes. The
definitions themselves are in `bot.definitions`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot import commands as c
from bot.actions import goals, milestones
from bot.context import Context
from bot.messages import Reply
from bot.outside import Needs
from bot.specs import Spec

C = TypeVar("C")

# An action reads and writes in its unit of work; one that needs outside work first
# returns `Needs` and is run again with the result (`bot.outside`).
Action = Callable[[Context, Any], Awaitable[list[Reply] | Needs[Any]]]


@dataclass(frozen=True)
class Handler(Generic[C]):
    """One command type, its action, and what the core does around it:

    - `writes`: it records something; False: it only reads, so a redelivery simply
      reads again (no transaction that writes, no delivery id kept);
    - `joins`: it makes the sender a member (and sets a new group up); reading, or
      leaving, makes nobody a member;
    - `brings_back`: a member who left may still send it (/join);
    - `needs_group`: False for what needs no group nor member at all (/help)."""

    command: type[C]
    action: Callable[[Context, C], Awaitable[list[Reply] | Needs[Any]]]
    writes: bool = True
    joins: bool = True
    brings_back: bool = False
    needs_group: bool = True


def reads(
    command: type[C], action: Callable[[Context, C], Awaitable[list[Reply] | Needs[Any]]]
) -> Handler[C]:
    """A handler that only reads: it writes nothing and makes nobody a member."""
    return Handler(command, action, writes=False, joins=False)


@dataclass(frozen=True)
class Definition:
    """One command: its spec (None for what has no command word: a guided step's answer,
    a button) and a handler for each command type its parser makes."""

    spec: Spec | None
    handlers: tuple[Handler[Any], ...]


def define(spec: Spec | None, *handlers: Handler[Any]) -> Definition:
    return Definition(spec, handlers)


def index(definitions: tuple[Definition, ...], every: tuple[type, ...]) -> dict[type, Handler[Any]]:
    """Each command type's handler. A type with two, or one of `every` (the command types
    there are) with none, is a mistake, refused here rather than met as a `KeyError`."""
    found: dict[type, Handler[Any]] = {}
    for definition in definitions:
        for handler in definition.handlers:
            if handler.command in found:
                raise ValueError(f"{handler.command.__name__} is defined twice")
            found[handler.command] = handler
    if missing := [t.__name__ for t in every if t not in found]:
        raise ValueError(f"no handler for {', '.join(missing)}")
    return found


async def run(ctx: Context, command: c.Command, handler: Handler[Any]) -> list[Reply] | Needs[Any]:
    """Carry out one parsed command by its handler's action, and tell the group of a goal
    or a milestone it reached."""
    result = await handler.action(ctx, command)
    if isinstance(result, Needs) or ctx is None or type(command) not in goals.MOVES:
        return result
    told = await goals.recognise(ctx, command)
    return result + told + await milestones.recognise(ctx, command)
