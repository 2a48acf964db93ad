"""Outside work: what an action needs done outside its unit of work before it can finish.

A unit of work only talks to the database (`storage.units`: one that awaits
anything else fails, on SQLite and PostgreSQL alike). An action that needs
something else (a chart drawn in a thread, a call to the platform) returns
`Needs` instead of its replies: what it read goes into the outside work. The
core rolls that first unit back (it recorded nothing), runs the work with no
transaction open, and runs the action once more in a fresh unit with the
work's result in `ctx.outside`, where it writes. Read, then the outside work,
then one short write: docs/adding-an-action.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Needs(Generic[T]):
    """An action's request: run `work` outside any unit, then run me again with its result
    (`Context.made`). `what` names it in logs and errors (never what a member typed)."""

    what: str
    work: Callable[[], Awaitable[T]]

    async def run(self) -> T:
        """The outside work itself (the core runs it between the two units)."""
        return await self.work()


def in_thread(what: str, function: Callable[..., T], *args: Any) -> Needs[T]:
    """Outside work that computes in a worker thread (drawing a chart, say): the event loop
    and every unit of work go on meanwhile."""
    return Needs(what, lambda: asyncio.to_thread(function, *args))


class NeededTwice(RuntimeError):
    """An action asked for outside work again after it was given its result (a bug)."""
