"""Outside work: what an action needs done outside its unit of work before it can finish.

A unit of work only talks to the database (`storage.units`: one that awaits
anything else fails, on SQLite and PostgreSQL alike). An action that needs
something else (a chart drawn in a drawing process, a call to the platform) returns
`Needs` instead of its replies: what it read goes into the outside work. The
core rolls that first unit back (it recorded nothing), runs the work with no
transaction open, and runs the action once more in a fresh unit with the
work's result in `ctx.outside`, where it writes. Read, then the outside work,
then one short write: docs/adding-an-action.md.

An action whose answer is made only of what it read (a report with its chart) can
hand that answer to its second run in `keep` (`ctx.kept`) instead of reading and
computing it all again: the text and the chart then come from the same rows.
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
    # What the first run read or made, handed as is to the second run (`Context.kept`):
    # plain values only, never a row of the first unit (it is rolled back).
    keep: object | None = None

    async def run(self) -> T:
        """The outside work itself (the core runs it between the two units)."""
        return await self.work()


def in_thread(
    what: str, function: Callable[..., T], *args: Any, keep: object | None = None
) -> Needs[T]:
    """Outside work that computes in a worker thread (drawing a chart, say): the event loop
    and every unit of work go on meanwhile. `keep`: see `Needs.keep`."""
    return Needs(what, lambda: asyncio.to_thread(function, *args), keep)


class NeededTwice(RuntimeError):
    """An action asked for outside work again after it was given its result (a bug)."""
