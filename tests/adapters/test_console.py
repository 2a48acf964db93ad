"""The console adapter: what a person at the terminal sees, from the core and the outbox."""

from __future__ import annotations

import io
from typing import TextIO

from adapters.console import ConsoleChat, ConsoleTransport
from bot.delivery import Deliverer
from bot.service import Core


def console(core: Core, group: str, out: TextIO) -> ConsoleChat:
    """The console chat as the wiring builds it: its outbox printed to the same stream."""
    return ConsoleChat(core, group, out, Deliverer(core.db, [ConsoleTransport(out)]))


async def test_the_answer_then_what_others_receive(core: Core) -> None:
    out = io.StringIO()
    chat = console(core, "Chapter", out)
    await chat.send("Alice", "/join Plumber")
    await chat.send("Bob", "/join Electrician")
    out.seek(0), out.truncate()
    await chat.send("Alice", "/refer @bob Jane Roe, 555-0100, roof hot")
    assert out.getvalue() == (
        "Referral #1 to Bob recorded (hot). I sent them the details privately.\n"
        "[group chapter] Alice passed a referral to Bob (hot).\n"
        "[to bob privately] Alice gave you referral #1 (hot).\n"
        "  Prospect\n"
        "    Jane Roe, 555-0100, roof\n"
        "  [Contacted #1: /status 1 contacted]  [Won #1: /status 1 won]"
        "  [Lost #1: /status 1 lost]\n"
    )


async def test_a_group_keeps_its_own_chat(core: Core) -> None:
    out = io.StringIO()
    await console(core, "North", out).send("Alice", "/join Plumber")
    await console(core, "South", out).send("Carol", "/join Plumber")
    assert "Welcome to South, Carol!" in out.getvalue()
    assert "[group south] Welcome Carol (Plumber)!" in out.getvalue()
