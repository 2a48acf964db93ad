"""The console adapter: what a person at the terminal sees, from the core and the outbox."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import TextIO

from adapters.console import ConsoleChat, ConsoleTransport
from bot.delivery import Deliverer
from bot.service import Core
from tests.conftest import Clock


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
        "[group chapter] Alice gave their first referral. Welcome to the givers!\n"
    )


async def test_a_group_keeps_its_own_chat(core: Core) -> None:
    out = io.StringIO()
    await console(core, "North", out).send("Alice", "/join Plumber")
    await console(core, "South", out).send("Carol", "/join Plumber")
    assert "Welcome to South, Carol!" in out.getvalue()
    assert "[group south] Welcome Carol (Plumber)!" in out.getvalue()


async def test_a_chart_is_written_to_a_file_whose_path_is_printed(
    core: Core, clock: Clock, tmp_path: Path
) -> None:
    out = io.StringIO()
    chat = ConsoleChat(core, "Chapter", out, Deliverer(core.db, [ConsoleTransport(out, tmp_path)]))
    await chat.send("Alice", "/join Plumber")
    await chat.send("Bob", "/join Electrician")
    for _ in range(3):
        await chat.send("Alice", "/refer @bob Jane Roe, 555-0100, roof")
    out.seek(0), out.truncate()
    clock.advance(seconds=1)
    await chat.send("Alice", "/partners group")
    printed = out.getvalue()
    assert printed.startswith("Who referred whom in Chapter. The chart is on its way to you")
    assert "  Alice → Bob: 3\n" in printed
    line = next(x for x in printed.splitlines() if "chart written to" in x)
    path = Path(line.split("chart written to ", 1)[1].rstrip(")"))
    assert path.parent == tmp_path
    assert (await asyncio.to_thread(path.read_bytes)).startswith(b"\x89PNG\r\n\x1a\n")
    assert "[to alice privately] Who referred whom in Chapter, all time: givers by receivers." in (
        printed
    )
    assert "555-0100" not in printed
