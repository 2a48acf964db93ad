"""Charts are drawn in worker processes, off the event loop and off its interpreter lock.

Drawing a chart with matplotlib is tens to hundreds of milliseconds of Python and C that
holds the GIL most of the time: in a thread it would still stall the event loop (every
command's answer, every outbox send) for as long as it draws, and the weekly posts draw
one chart per group at about the same time. So a chart is drawn by `drawn(function,
*args)` in a small pool of processes (one per CPU, at most `MOST_WORKERS`), started on
first use with the `spawn` method (a clean interpreter: nothing of the parent's event
loop, threads or database connections is copied into it), each with matplotlib loaded
once. `function` must be a module-level function and its arguments and result plain data
(they are pickled).

A worker that finds its parent gone (killed, even with -9) exits within a second; a worker
that dies breaks the pool, which is started afresh on the next call (the call that met it
fails, and its caller tries again later: a post on the next tick, a command's chart when
it is asked again).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger("referral_bot.drawing")
T = TypeVar("T")
MOST_WORKERS = 4

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def workers() -> int:
    """How many processes draw: one per CPU this process may use, 1 to `MOST_WORKERS`."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return max(1, min(MOST_WORKERS, usable))


def _watch_parent(parent: int) -> None:
    """In a worker: exit as soon as the process that started it is gone."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _start_worker(parent: int) -> None:
    """In a worker, once: load matplotlib's Agg backend, and watch the parent."""
    import matplotlib

    matplotlib.use("Agg")
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _the_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(
                workers(), mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
            )
        return _pool


def _forget(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


async def drawn(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` run in a drawing process; its result."""
    pool = _the_pool()
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
    except BrokenProcessPool:
        log.warning("a drawing process died; the pool starts afresh on the next chart")
        _forget(pool)
        raise
