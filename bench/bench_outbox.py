"""How long a quiet chat's message waits while another chat has a backlog in the outbox.

    python -m bench.bench_outbox [--sqlite PATH] [--postgres URL] [--busy 30]
                                 [--interval 1.0] [--timeout 120]

On a fresh database (PostgreSQL: its public schema is dropped and recreated, so never
a database that tests or a bot use): `--busy` members of one group thank each other
in its chat, which queues that many group notices there, and the real `Deliverer`
starts sending them through a transport paced at `--interval` seconds a chat (Slack
is about 1). Once the first notice is out, a member of another group gives a
referral there; the bench reports how long after the core's answer the receiver got
the prospect's details privately (and the other group its notice), and how many of
the busy chat's notices were still waiting then. It measures, it never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from bot.delivery import ChatKey, Deliverer, Outgoing, Sent
from bot.messages import ChatRef, Incoming, Platform, Sender
from bot.service import Core, GroupDefaults
from storage import outbox
from storage.database import Database
from storage.migrate import upgrade


class Recorder:
    """The console platform's transport, paced like Slack, noting when each message left."""

    platform = "console"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.sent: list[tuple[float, Outgoing]] = []
        self.first = asyncio.Event()
        self.arrived = asyncio.Event()

    def min_interval(self, chat: ChatKey) -> float:
        return self.interval

    async def send(self, message: Outgoing) -> Sent:
        self.sent.append((time.perf_counter(), message))
        self.first.set()
        if message.recipient_user_id == "bob":
            self.arrived.set()
        return Sent.ok()


def incoming(chat: str, who: str, words: str) -> Incoming:
    sender = Sender(who, who.capitalize(), username=who)
    return Incoming(ChatRef(Platform.CONSOLE, chat, title=chat), sender, words, uuid.uuid4().hex)


async def fresh(url: str) -> Database:
    db = Database(url)
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(db)
    return db


async def measure(url: str, busy: int, interval: float, limit: float) -> dict[str, float]:
    db = await fresh(url)
    try:
        core = Core(db, GroupDefaults())
        for who in ("alice", "bob"):
            await core.handle(incoming("quiet", who, "/join"))
        for i in range(busy + 1):
            await core.handle(incoming("busy", f"m{i}", "/join"))
        for i in range(busy):  # each thanks queues a notice in the busy chat
            await core.handle(incoming("busy", f"m{i}", f"/thanks @m{i + 1} for the intro"))
        transport = Recorder(interval)
        deliverer = Deliverer(db, [transport])
        stop = asyncio.Event()
        running = asyncio.create_task(deliverer.run(stop))
        try:
            await asyncio.wait_for(transport.first.wait(), limit)
            await core.handle(incoming("quiet", "alice", "/refer @bob Jane Roe, 555-0100, roof"))
            answered = time.perf_counter()
            deliverer.wake()  # as the Slack adapter does once a command is recorded
            await asyncio.wait_for(transport.arrived.wait(), limit)
            async with db.transaction() as session:
                waiting = await outbox.pending_count(session)
        finally:
            stop.set()
            await running
        details = next(t for t, m in transport.sent if m.recipient_user_id == "bob")
        notice = next(t for t, m in transport.sent
                      if m.chat_id == "quiet" and m.recipient_user_id is None)  # fmt: skip
        return {
            "details_after_s": details - answered,
            "quiet_notice_after_s": notice - answered,
            "busy_notices_waiting": float(waiting),
        }
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sqlite", type=Path, help="a scratch SQLite file (default: a temp one)")
    parser.add_argument("--postgres", help="a scratch PostgreSQL database's URL")
    parser.add_argument("--busy", type=int, default=30, help="notices queued in the busy chat")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between posts")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        urls = [("sqlite", f"sqlite:///{args.sqlite or Path(tmp) / 'outbox.db'}")]
        if args.postgres:
            urls.append(("postgresql", args.postgres))
        for name, url in urls:
            result = await measure(url, args.busy, args.interval, args.timeout)
            print(f"{name}: {args.busy} notices in the busy chat, {args.interval:g} s apart: "
                  + ", ".join(f"{k} {v:.2f}" for k, v in result.items()))  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
