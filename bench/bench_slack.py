"""Signed `/refer` slash commands over HTTP: the full Slack adapter next to a bare bolt app.

    python -m bench.bench_slack [--requests 2000] [--rounds 5] [--warmup 300]
                                [--concurrency 1 50] [--json PATH]

Each app runs in its own process on uvicorn (127.0.0.1, port 0), behind the
same Starlette route, with `process_before_response=True`, started the way
`referral-bot` starts (`app.serve.freeze_startup_objects` before serving):

- `bare`: an `AsyncApp` whose command handler only acks (bolt at its fastest);
- `referral-bot`: the real adapter and core on a fresh SQLite file: users.info
  (cached), the referral, its outbox rows and the delivery id committed before
  the ack (the outbox loop does not run: it sends at Slack's pace, not this one).

The Web API is FakeSlack in this process. Every request is signed and
distinct (its own trigger id). On a machine with two CPUs or more, the
servers run on one CPU and this load generator on another, so that the two
do not take turns on one. The rounds alternate between the apps (bare,
referral-bot, bare, ...), so that a change in the machine's pace hits both.
It measures, it never asserts: per app and concurrency, the median round's
requests per second, and the ack latency over all rounds (p50, p99, max, how
many took over 3 s), with the server's CPU time per request, as a table and
as JSON in bench/results/slack.json.
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
APPS = ("bare", "referral-bot")
SERVER_CPU, CLIENT_CPU = 1, 0


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {cpu})


def _server(kind: str, api_url: str, database_url: str, ports: Any) -> None:
    """The server process: build the app and run uvicorn on port 0, reporting the port."""
    _pin(SERVER_CPU)
    asyncio.run(_serve(kind, api_url, database_url, ports))


async def _serve(kind: str, api_url: str, database_url: str, ports: Any) -> None:
    import logging

    import uvicorn

    from adapters.http import create_http_app
    from adapters.slack.platform import slack_routes
    from app.serve import freeze_startup_objects

    logging.basicConfig(level=logging.WARNING)
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
        from app.wiring import build
        from bot.settings import Settings

        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=database_url, slack_bot_token="xoxb-bench",
            slack_signing_secret=SIGNING_SECRET, slack_api_url=api_url,
        )  # fmt: skip
        runtime = await build(settings)
        db = runtime.db
        slack_app = create_app(settings, db, runtime.core)
    config = uvicorn.Config(
        create_http_app(db, slack_routes(slack_app)), host="127.0.0.1", port=0, lifespan="off",
        log_level="warning", access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    freeze_startup_objects()
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


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux), else 0."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(
    port: int, requests: list[SlackRequest], concurrency: int
) -> tuple[list[float], int, float]:
    """Send every request, `concurrency` at a time: (latencies, errors, seconds)."""
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
        return latencies, errors, time.perf_counter() - began


def _summary(rounds: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    latencies = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": sum(r["errors"] for r in rounds),
        "rps": round(statistics.median(r["rps"] for r in rounds), 1),
        "rps_rounds": [r["rps"] for r in rounds],
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "over_3s": sum(1 for t in latencies if t > 3.0),
        "server_cpu_ms_per_request": round(
            statistics.median(r["cpu_ms_per_request"] for r in rounds), 3
        ),
    }


async def _start(kind: str, slack: FakeSlack, folder: Path) -> tuple[Any, int]:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    database_url = f"sqlite:///{folder / f'{kind}.db'}"
    process = context.Process(target=_server, args=(kind, slack.base_url, database_url, ports))
    process.start()
    port = await asyncio.get_running_loop().run_in_executor(None, ports.get, True, 60)
    return process, port


async def measure(args: argparse.Namespace) -> dict[str, dict[int, dict[str, Any]]]:
    """Both apps, every concurrency, the rounds alternating between the apps."""
    results: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in APPS}
    async with FakeSlack() as slack:
        for n in range(1, USERS + 1):
            slack.add_user(f"U{n}", name=f"user{n}", real_name=f"User {n}")
        with tempfile.TemporaryDirectory() as folder:
            servers = {kind: await _start(kind, slack, Path(folder)) for kind in APPS}
            try:
                offset = 0
                for concurrency in args.concurrency:
                    rounds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in APPS}
                    latencies: dict[str, list[float]] = {kind: [] for kind in APPS}
                    for _, port in servers.values():  # warm-up: caches, the pool
                        await _load(port, _requests(args.warmup, offset), concurrency)
                        offset += args.warmup
                    for _ in range(args.rounds):
                        for kind, (process, port) in servers.items():
                            batch = _requests(args.requests, offset)  # signed just now
                            offset += args.requests
                            cpu = _cpu_seconds(process.pid)
                            times, errors, seconds = await _load(port, batch, concurrency)
                            used = _cpu_seconds(process.pid) - cpu
                            rounds[kind].append({
                                "rps": round(len(times) / seconds, 1), "errors": errors,
                                "cpu_ms_per_request": used / len(times) * 1000,
                            })  # fmt: skip
                            latencies[kind].extend(times)
                    for kind in APPS:
                        results[kind][concurrency] = _summary(rounds[kind], latencies[kind])
            finally:
                for process, _ in servers.values():
                    process.terminate()
                    process.join(10)
    return results


def _table(results: dict[str, dict[int, dict[str, Any]]]) -> str:
    head = f"{'app':<14}{'conc':>5}{'reqs':>7}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
    head += f"{'max ms':>9}{'>3s':>5}{'err':>5}{'cpu ms':>8}"
    lines = [head, "-" * len(head)]
    for kind, by_concurrency in results.items():
        for concurrency, r in by_concurrency.items():
            lines.append(
                f"{kind:<14}{concurrency:>5}{r['requests']:>7}{r['rps']:>9.1f}{r['p50_ms']:>9.2f}"
                f"{r['p99_ms']:>9.2f}{r['max_ms']:>9.2f}{r['over_3s']:>5}{r['errors']:>5}"
                f"{r['server_cpu_ms_per_request']:>8.3f}"
            )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    _pin(CLIENT_CPU)
    results = await measure(args)
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
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "pinned": {"servers_cpu": SERVER_CPU, "load_cpu": CLIENT_CPU}
        if (os.cpu_count() or 1) >= 2
        else None,
        "python": sys.version.split()[0],
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "results": {k: {str(c): r for c, r in v.items()} for k, v in results.items()},
        "ratios": {str(c): r for c, r in ratios.items()},
    }
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    return document


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--json", type=Path, default=RESULTS)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        os.environ.pop(name, None)
    asyncio.run(main(parser.parse_args()))
