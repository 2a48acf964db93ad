"""What the HTTP benchmarks share: servers in their own processes, a bounded load from this
one, rounds alternating between the apps, and the table and JSON of the results.

A benchmark names its apps (the first is the baseline), a function that serves one app
(`serve(kind, api_url, database_url, ports)`, run in a spawned process that puts its port
on `ports`), and a function that makes `count` distinct requests (body and headers) from
a running number. With two CPUs or more the servers run on one CPU and the load on the
other. Per app and concurrency: the median round's requests per second, the latency over
all rounds (p50, p99, max, how many took over 3 s), and the server's CPU time per request.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

SERVER_CPU, CLIENT_CPU = 1, 0
Request = tuple[bytes, dict[str, str]]
Results = dict[str, dict[int, dict[str, Any]]]


@dataclass(frozen=True)
class Bench:
    """One HTTP benchmark: its apps (baseline first), how one is served, what is posted."""

    name: str
    path: str
    apps: tuple[str, ...]
    serve: Callable[[str, str, str, Any], None]
    requests: Callable[[int, int], list[Request]]


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {cpu})


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux), else 0."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(
    port: int, path: str, requests: list[Request], concurrency: int
) -> tuple[list[float], int, float]:
    """Send every request, `concurrency` at a time: (latencies, errors, seconds)."""
    queue = list(reversed(requests))
    latencies: list[float] = []
    errors = 0
    url = f"http://127.0.0.1:{port}{path}"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as http:

        async def worker() -> None:
            nonlocal errors
            while queue:
                body, headers = queue.pop()
                started = time.perf_counter()
                try:
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        ok = response.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, errors, time.perf_counter() - began


def summary(rounds: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
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


async def _start(bench: Bench, kind: str, api_url: str, folder: Path) -> tuple[Any, int]:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    database_url = f"sqlite:///{folder / f'{kind}.db'}"
    process = context.Process(target=bench.serve, args=(kind, api_url, database_url, ports))
    process.start()
    port = await asyncio.get_running_loop().run_in_executor(None, ports.get, True, 60)
    return process, port


async def measure(bench: Bench, api_url: str, args: Any) -> Results:
    """Every app at every concurrency, the rounds alternating between the apps."""
    results: Results = {kind: {} for kind in bench.apps}
    with tempfile.TemporaryDirectory() as folder:
        servers = {kind: await _start(bench, kind, api_url, Path(folder)) for kind in bench.apps}
        try:
            offset = 0
            for concurrency in args.concurrency:
                rounds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in bench.apps}
                latencies: dict[str, list[float]] = {kind: [] for kind in bench.apps}
                for _, port in servers.values():  # warm-up: caches, the pool
                    await load(port, bench.path, bench.requests(args.warmup, offset), concurrency)
                    offset += args.warmup
                for _ in range(args.rounds):
                    for kind, (process, port) in servers.items():
                        batch = bench.requests(args.requests, offset)
                        offset += args.requests
                        cpu = cpu_seconds(process.pid)
                        times, errors, seconds = await load(port, bench.path, batch, concurrency)
                        used = cpu_seconds(process.pid) - cpu
                        rounds[kind].append({
                            "rps": round(len(times) / seconds, 1), "errors": errors,
                            "cpu_ms_per_request": used / len(times) * 1000,
                        })  # fmt: skip
                        latencies[kind].extend(times)
                for kind in bench.apps:
                    results[kind][concurrency] = summary(rounds[kind], latencies[kind])
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.join(10)
    return results


def table(results: Results) -> str:
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


def report(bench: Bench, results: Results, args: Any, **about: Any) -> dict[str, Any]:
    """Print the table and each app's ratios to the baseline; write the JSON."""
    print(table(results))
    baseline, *others = bench.apps
    ratios: dict[str, dict[str, dict[str, float]]] = {}
    for kind in others:
        for concurrency in args.concurrency:
            base, full = results[baseline][concurrency], results[kind][concurrency]
            rps = round(full["rps"] / base["rps"], 3)
            p99 = round(full["p99_ms"] / base["p99_ms"], 2)
            ratios.setdefault(kind, {})[str(concurrency)] = {"rps_vs_bare": rps,
                                                             "p99_vs_bare": p99}  # fmt: skip
            print(f"concurrency {concurrency}: {kind} reaches {rps:.0%} of the {baseline} app's"
                  f" req/s, p99 {p99:.2f}x the {baseline} app's")  # fmt: skip
    document = {
        "benchmark": bench.name, **about,
        "requests_per_round": args.requests, "rounds": args.rounds, "warmup": args.warmup,
        "pinned": {"servers_cpu": SERVER_CPU, "load_cpu": CLIENT_CPU}
        if (os.cpu_count() or 1) >= 2 else None,
        "python": sys.version.split()[0],
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "results": {k: {str(c): r for c, r in v.items()} for k, v in results.items()},
        "ratios": ratios[others[0]] if len(others) == 1 else ratios,
    }  # fmt: skip
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    return document


def arguments(description: str, results: Path) -> Any:
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--requests", type=int, default=2000, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--json", type=Path, default=results)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        os.environ.pop(name, None)
    return parser.parse_args()
