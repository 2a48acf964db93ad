"""`referral-bot` with a platform configured: the HTTP server, Slack, and the outbox loop.

One asyncio loop runs uvicorn (the ASGI app: `/healthz`, `/slack/events`),
Slack Socket Mode when `SLACK_APP_TOKEN` is set, and the `Deliverer`. On
SIGTERM or SIGINT the server stops taking requests and finishes those in
flight, Socket Mode disconnects (or stops trying to connect), and the outbox
finishes the sends under way; whatever still runs after `GRACEFUL_SECONDS` is
cut off (an outbox row whose send was cut is sent again after its lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn

from adapters.http import create_http_app
from bot.app import Runtime, build
from bot.delivery import Deliverer, Transport
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
    if settings.telegram_configured:
        log.warning("TELEGRAM_BOT_TOKEN is set, but this version has no Telegram adapter yet")
    transports: list[Transport] = []
    slack_app: Any = None
    socket_mode: Any = None
    if settings.slack_configured:
        from adapters.slack.transport import create_transport

        transports.append(create_transport(settings, runtime.db))
    deliverer = Deliverer(runtime.db, transports)
    if settings.slack_configured:
        from adapters.slack.app import create_app

        slack_app = create_app(settings, runtime.db, runtime.core, on_recorded=deliverer.wake)
        if settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            socket_mode = AsyncSocketModeHandler(
                slack_app, settings.slack_app_token.get_secret_value()
            )
    http_app = create_http_app(runtime.db, None if socket_mode else slack_app)
    config = uvicorn.Config(
        http_app, host=settings.host, port=settings.port, lifespan="off", log_config=None,
        access_log=False, timeout_graceful_shutdown=REQUESTS_SECONDS,
    )  # fmt: skip
    server = _Server(config)
    freeze_startup_objects()
    delivering = asyncio.create_task(deliverer.run(stop))
    housekeeping = asyncio.create_task(_forget_old_deliveries(runtime, stop))
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    connecting = None
    if socket_mode is not None:  # bolt retries until Slack answers: never awaited alone
        connecting = asyncio.create_task(socket_mode.connect_async())
        connecting.add_done_callback(_log_connected)
    try:
        while not server.started and not serving.done() and not stop.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # (uvicorn has no hook for "listening")
        if on_ready is not None and server.started:
            on_ready(server.servers[0].sockets[0].getsockname()[1])
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        log.info("stopping: finishing requests in flight and the outbox batch under way")
        stopping.cancel()
        deadline = asyncio.get_running_loop().time() + GRACEFUL_SECONDS
        server.should_exit = True
        if connecting is not None:
            connecting.cancel()
        if socket_mode is not None:
            await _by(deadline, socket_mode.close_async())
        await _by(deadline, serving)
        stop.set()
        await _by(deadline, asyncio.gather(delivering, housekeeping))


def _log_connected(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is None:
        log.info("slack socket mode connected")


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
