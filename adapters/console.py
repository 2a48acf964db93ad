"""The console adapter: a group chat in a terminal, one person at a time.

`referral-bot chat --as alice '/balance'` runs one command and prints the
answer and what the bot sends to others; without a message it is an
interactive session (with history on a terminal). `:as NAME` switches who is
typing; `:quit` (or Ctrl-D) leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.delivery import ChatKey, Deliverer, Outgoing, Sent
from bot.messages import ChatRef, Incoming, Platform, Reply, Sender
from bot.service import Core

PROMPT_HISTORY = Path.home() / ".referral-bot-history"


def render(reply: Reply) -> str:
    """A reply as plain terminal text."""
    lines = [reply.text]
    for section in reply.sections:
        lines.append(f"  {section.title}")
        lines.extend(f"    {line}" for line in section.lines)
    if reply.buttons:
        shown = (f"[{b.label}: {b.command}]" if b.command else f"[{b.label}]"
                 for b in reply.buttons)  # fmt: skip
        lines.append("  " + "  ".join(shown))
    if reply.image is not None:
        lines.append(f"  (image: {reply.image_name or 'chart.png'}, {len(reply.image):,} bytes)")
    return "\n".join(lines)


def charts_folder() -> Path:
    """Where the console writes the images it is sent (a chart): the system's temp folder."""
    return Path(tempfile.gettempdir()) / "referral-bot"


class ConsoleTransport:
    """Delivers the outbox by printing: `[group CHAT] ...` or `[to USER privately] ...`; an
    image (a chart) is written to a file in `folder`, and its path printed."""

    platform = "console"

    def __init__(self, stream: TextIO, folder: Path | None = None) -> None:
        self.stream = stream
        self.folder = folder or charts_folder()

    def min_interval(self, chat: ChatKey) -> float:
        return 0.0

    async def send(self, message: Outgoing) -> Sent:
        if message.recipient_user_id is None:
            head = f"[group {message.chat_id}]"
        else:
            head = f"[to {message.recipient_user_id} privately]"
        text = render(replace(message.reply, image=None))
        if message.image is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{message.id}-{message.image_name or 'chart.png'}"
            path.write_bytes(message.image)
            text += f"\n  (chart written to {path})"
        print(f"{head} {text}", file=self.stream, flush=True)
        return Sent.ok()


def person(name: str) -> Sender:
    """A console user: their id is their name in lower case; the first spelling they were
    typed with stays their name (`--as alice` later is still Alice)."""
    typed = name.strip()
    return Sender(user_id=typed.lower(), name=typed, username=typed.lower(), name_is_current=False)


class ConsoleChat:
    """One group chat in the terminal; what the bot sends to others is printed too."""

    def __init__(self, core: Core, group: str, out: TextIO, deliverer: Deliverer) -> None:
        self.core, self.out, self.deliverer = core, out, deliverer
        self.chat = ChatRef(Platform.CONSOLE, group.strip().lower(), title=group.strip())

    async def send(self, name: str, text: str) -> list[Reply]:
        """Run one command as `name`, print the answer, then deliver the outbox by printing."""
        incoming = Incoming(self.chat, person(name), text, delivery_id=uuid.uuid4().hex)
        replies = await self.core.handle(incoming)
        for reply in replies:
            print(render(reply), file=self.out, flush=True)
        await self.deliver()
        return replies

    async def deliver(self) -> None:
        """Print what the outbox holds (after a command, or a scheduled post)."""
        for _ in range(100):  # bounded: each round settles a message for each chat
            if not await self.deliverer.run_once():
                break


async def _lines(prompt: Callable[[], str]) -> AsyncIterator[str]:
    """Input lines: prompt_toolkit (with history) on a terminal, plain stdin otherwise."""
    if sys.stdin.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        session: PromptSession[str] = PromptSession(history=FileHistory(str(PROMPT_HISTORY)))
        while True:
            try:
                yield await session.prompt_async(prompt())
            except (EOFError, KeyboardInterrupt):
                return
    else:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            yield line


async def interactive(chat: ConsoleChat, name: str, stop: asyncio.Event) -> None:
    """Read commands until EOF, `:quit` or SIGTERM; each is finished before the next."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    print(f"referral-bot console, group '{chat.chat.title}'. You are {name}. "
          "Type /help; ':as NAME' to switch person, ':quit' to leave.", file=chat.out)  # fmt: skip
    current = [name]
    lines = _lines(lambda: f"{current[0]}> ")
    reader = asyncio.ensure_future(anext(lines, None))
    while not stop.is_set():
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if stop.is_set() or reader.result() is None:
            break
        line = str(reader.result()).strip()
        if line in (":quit", ":q", "exit", "quit"):
            break
        if line.startswith(":as "):
            current[0] = line[4:].strip() or current[0]
            print(f"You are now {current[0]}.", file=chat.out)
        elif line:
            await chat.send(current[0], line)
        reader = asyncio.ensure_future(anext(lines, None))
    reader.cancel()
