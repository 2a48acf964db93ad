"""Signed `/refer` slash commands over HTTP: the full Slack adapter next to a bare bolt app.

    python -m bench.bench_slack [--requests 2000] [--warmup 100] [--concurrency 1 50]

Each app runs in its own process on uvicorn (127.0.0.1, port 0), behind the
same Starlette route, with `process_before_response=True`:

- `bare`: an `AsyncApp` whose command handler only acks (bolt at its fastest);
- `referral-bot`: the real adapter and core on a fresh SQLite file: users.info
  (cached), the referral, its outbox rows and the delivery id committed before
  the ack.

The Web API is FakeSlack in this process. Every request is signed and
distinct (its own trigger id). It measures, it never asserts: requests per
second and ack latency (p50, p99, max, and how many took over 3 s) as a table
on stdout and as JSON in bench/results/slack.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_requests import SIGNING_SECRET, SlackRequest, slash_command

RESULTS = Path(__file__).with_name("results") / "slack.json"
CHANNELS = 5
USERS = 20


def _server(kind: str, api_url: str, database_url: str, ports: Any) -> None:
    """The server process: build the app and run uvicorn on port 0, reporting the port."""
    asyncio.run(_serve(kind, api_url, database_url, ports))


async def _serve(kind: str, api_url: str, database_url: str, ports: Any) -> None:
    import logging

    import uvicorn

    from adapters.http import create_http_app

    logging.basicConfig(level=logging.WARNING)
    runtime = None
    if kind == "bare":
        from slack_bolt.async_app import AsyncAck, AsyncApp
        from slack_sdk.web.async_client import AsyncWebClient

        from storage.database import Database

        db = Database(database_url)
        slack_app = AsyncApp(
            signing_secret=SIGNING_SECRET,
            client=AsyncWebClient(token="xoxb-bench", base_url=api_url),
            process_before_response=True,
        )

        @slack_app.command(re.compile(r"^/"))
        async def only_ack(ack: AsyncAck) -> None:
            await ack()

    else:
        from adapters.slack.app import create_app
        from bot.app import build
        from bot.settings import Settings

        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=database_url, slack_bot_token="xoxb-bench",
            slack_signing_secret=SIGNING_SECRET, slack_api_url=api_url,
        )  # fmt: skip
        runtime = await build(settings)
        db = runtime.db
        slack_app = create_app(settings, db, runtime.core)
    config = uvicorn.Config(
        create_http_app(db, slack_app), host="127.0.0.1", port=0, lifespan="off",
        log_level="warning", access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    ports.put(server.servers[0].sockets[0].getsockname()[1])
    await task


def _requests(count: int, offset: int) -> list[SlackRequest]:
    out = []
    for i in range(offset, offset + count):
        giver, receiver = i % USERS + 1, (i + 1 + i // USERS) % USERS + 1
        if receiver == giver:
            receiver = giver % USERS + 1
        channel = f"C{i % CHANNELS + 1}"
        text = f"<@U{receiver}> Prospect {i}, 555-{i:05d}, a new roof hot"
        out.append(slash_command(
            "/refer", text, user_id=f"U{giver}", user_name=f"user{giver}", channel_id=channel,
            channel_name=f"chapter-{channel.lower()}",
        ))  # fmt: skip
    return out


async def _load(port: int, requests: list[SlackRequest], concurrency: int) -> dict[str, Any]:
    queue = list(reversed(requests))
    latencies: list[float] = []
    errors = 0
    url = f"http://127.0.0.1:{port}/slack/events"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as http:

        async def worker() -> None:
            nonlocal errors
            while queue:
                request = queue.pop()
                started = time.perf_counter()
                try:
                    async with http.post(url, data=request.body, headers=request.headers) as r:
                        await r.read()
                        ok = r.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "over_3s": sum(1 for t in latencies if t > 3.0),
    }


async def _measure(
    kind: str, slack: FakeSlack, args: argparse.Namespace, folder: Path
) -> dict[int, dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    database_url = f"sqlite:///{folder / f'{kind}.db'}"
    process = context.Process(target=_server, args=(kind, slack.base_url, database_url, ports))
    process.start()
    try:
        port = await asyncio.get_running_loop().run_in_executor(None, ports.get, True, 60)
        results = {}
        offset = 0
        for concurrency in args.concurrency:
            await _load(port, _requests(args.warmup, offset), concurrency)
            offset += args.warmup
            batch = _requests(args.requests, offset)
            offset += args.requests
            results[concurrency] = await _load(port, batch, concurrency)
        return results
    finally:
        process.terminate()
        process.join(10)


def _table(results: dict[str, dict[int, dict[str, Any]]]) -> str:
    head = f"{'app':<14}{'conc':>5}{'reqs':>7}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
    head += f"{'max ms':>9}{'>3s':>5}{'err':>5}"
    lines = [head, "-" * len(head)]
    for kind, by_concurrency in results.items():
        for concurrency, r in by_concurrency.items():
            lines.append(
                f"{kind:<14}{concurrency:>5}{r['requests']:>7}{r['rps']:>9.1f}{r['p50_ms']:>9.2f}"
                f"{r['p99_ms']:>9.2f}{r['max_ms']:>9.2f}{r['over_3s']:>5}{r['errors']:>5}"
            )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, dict[int, dict[str, Any]]] = {}
    async with FakeSlack() as slack:
        for n in range(1, USERS + 1):
            slack.add_user(f"U{n}", name=f"user{n}", real_name=f"User {n}")
        with tempfile.TemporaryDirectory() as folder:
            for kind in ("bare", "referral-bot"):
                results[kind] = await _measure(kind, slack, args, Path(folder))
    print(_table(results))
    ratios = {}
    for concurrency in args.concurrency:
        bare, full = results["bare"][concurrency], results["referral-bot"][concurrency]
        ratios[concurrency] = {
            "rps_vs_bare": round(full["rps"] / bare["rps"], 3),
            "p99_vs_bare": round(full["p99_ms"] / bare["p99_ms"], 2),
        }
        rps, p99 = ratios[concurrency]["rps_vs_bare"], ratios[concurrency]["p99_vs_bare"]
        print(
            f"concurrency {concurrency}: referral-bot reaches {rps:.0%} of the bare app's req/s,"
            f" p99 {p99:.2f}x the bare app's"
        )
    document = {
        "benchmark": "slack /refer over HTTP (uvicorn, process_before_response=True)",
        "database": "sqlite (fresh file)",
        "requests_per_run": args.requests,
        "warmup": args.warmup,
        "python": sys.version.split()[0],
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "results": {k: {str(c): r for c, r in v.items()} for k, v in results.items()},
        "ratios": {str(c): r for c, r in ratios.items()},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    return document


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        os.environ.pop(name, None)
    asyncio.run(main(parser.parse_args()))
