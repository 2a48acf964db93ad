"""`referral-bot` with a platform configured: the HTTP server, the platforms, the outbox.

One asyncio loop runs uvicorn (the ASGI app: `/healthz` and each platform's routes, e.g.
`/slack/events`, `/telegram/webhook`), what each platform runs besides (Slack Socket
Mode, Telegram's long polling) and the `Deliverer`. On SIGTERM or SIGINT the server
stops taking requests and finishes those in flight, each platform stops (Socket Mode
disconnects or stops trying to connect, polling confirms what it processed), and the
outbox finishes the sends under way; whatever still runs after `GRACEFUL_SECONDS` is cut
off (an outbox row whose send was cut is sent again after its lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import uvicorn

from adapters.http import create_http_app
from adapters.platform import PlatformAdapter
from app.wiring import Runtime, add_platforms, add_scheduler, build
from bot.settings import Settings

log = logging.getLogger("referral_bot.serve")
GRACEFUL_SECONDS = 10  # from SIGTERM to the end of the process, in every mode
REQUESTS_SECONDS = 8  # of which requests in flight may take this much (Slack waits 3 s)
HOUSEKEEPING_SECONDS = 6 * 3600
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def freeze_startup_objects() -> None:
    """The objects made at start-up (modules, the ORM's metadata, the apps) live as long as
    the process: moved out of the garbage collector's way, its full collections scan only
    what requests allocate (at 50 concurrent Slack commands: p99 ~150 ms -> ~50 ms)."""
    gc.collect()
    gc.freeze()


class _Server(uvicorn.Server):
    """uvicorn without signal handlers of its own: `serve` owns SIGTERM and SIGINT, so a
    second SIGINT (a terminal's Ctrl-C that dev.py passes on too) never cuts requests short."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.contextmanager
def _on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`); `on_ready` gets the port once it listens."""
    stop = stop or asyncio.Event()
    with _on_signals(stop):
        runtime = await build(settings)
        try:
            await _run(runtime, stop, on_ready)
        finally:
            await runtime.close()


async def _run(
    runtime: Runtime, stop: asyncio.Event, on_ready: Callable[[int], None] | None
) -> None:
    settings = runtime.settings
    add_platforms(runtime)
    assert runtime.deliverer is not None
    scheduler = add_scheduler(runtime, runtime.deliverer.wake)
    routes = [route for platform in runtime.platforms for route in platform.routes]
    config = uvicorn.Config(
        create_http_app(runtime.db, routes), host=settings.host, port=settings.port,
        lifespan="off", log_config=None, access_log=False,
        timeout_graceful_shutdown=REQUESTS_SECONDS,
    )  # fmt: skip
    server = _Server(config)
    freeze_startup_objects()
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    starting = asyncio.create_task(_start(runtime.platforms))
    delivering = housekeeping = None
    try:
        await asyncio.wait({starting, stopping, serving}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()  # a platform that cannot start ends the process, saying why
        if not stop.is_set() and not serving.done():
            delivering = asyncio.create_task(runtime.deliverer.run(stop))
            await scheduler.start()
            housekeeping = asyncio.create_task(_forget_old_deliveries(runtime, stop))
            while not server.started and not serving.done() and not stop.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.01)  # (uvicorn has no hook for "listening")
            if on_ready is not None and server.started:
                on_ready(server.servers[0].sockets[0].getsockname()[1])
            await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        log.info("stopping: finishing requests in flight and the outbox sends under way")
        stopping.cancel()
        starting.cancel()
        deadline = asyncio.get_running_loop().time() + GRACEFUL_SECONDS
        server.should_exit = True
        await _by(deadline, serving)
        await _by(deadline, scheduler.stop())
        for platform in reversed(runtime.platforms):
            await _by(deadline, platform.stop())
        stop.set()
        await _by(deadline, asyncio.gather(*(t for t in (delivering, housekeeping) if t)))


async def _start(platforms: Sequence[PlatformAdapter]) -> None:
    """Start each platform; each returns once it runs (Slack's Socket Mode goes on
    connecting in the background: bolt retries until Slack answers)."""
    for platform in platforms:
        await platform.start()
        log.info("%s started", platform.name)


async def _by(deadline: float, work: Awaitable[Any]) -> None:
    """Await `work` until the loop's clock reaches `deadline`, then cancel it; its errors
    are logged (shutting down goes on)."""
    try:
        async with asyncio.timeout_at(deadline):
            await work
    except TimeoutError:
        log.warning("stopping: cut off after %d seconds", GRACEFUL_SECONDS)
    except Exception as error:
        log.warning("stopping: %s", type(error).__name__)


async def _forget_old_deliveries(runtime: Runtime, stop: asyncio.Event) -> None:
    """Every few hours, drop delivery ids older than any platform redelivers."""
    while not stop.is_set():
        try:
            forgotten = await runtime.core.forget_deliveries()
            log.info("forgot %d old delivery ids", forgotten)
        except Exception as error:  # the database is away: try again next round
            log.warning("could not forget old delivery ids: %s", type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HOUSEKEEPING_SECONDS)
