"""`serve`: uvicorn on a real port, the outbox woken after each command, and SIGTERM or
SIGINT ending the process in every mode (also through dev.py), Slack reachable or not."""

# ruff: noqa: F811  (the fixture `slack` is imported from slack_harness)

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.serve import GRACEFUL_SECONDS, serve
from tests.adapters.bot_process import ROOT, bot_env, free_port, healthy, listening, start_bot
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_harness import MARKS, TOKEN, slack, slack_settings  # noqa: F401
from tests.adapters.slack_requests import SIGNING_SECRET, slash_command

pytestmark = MARKS


async def test_serve_answers_over_http_and_delivers(slack: FakeSlack, tmp_path: Path) -> None:
    settings = slack_settings(slack, f"sqlite:///{tmp_path / 'bot.db'}", port=0)
    stop = asyncio.Event()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, stop=stop, on_ready=port.set_result))
    base = f"http://127.0.0.1:{await asyncio.wait_for(port, 10)}"

    async with httpx.AsyncClient(base_url=base) as http:
        health = await http.get("/healthz")
        request = slash_command("/refer", "<@U2> Jane Roe, 555-0100, roof")
        answer = await http.post("/slack/events", content=request.body, headers=request.headers)
    await slack.wait_for("chat.postMessage", 2)  # woken by the command, not by polling
    stop.set()
    await asyncio.wait_for(task, 15)

    assert health.status_code == 200
    assert answer.status_code == 200
    assert "Referral #1" in answer.json()["text"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_sigterm_stops_cleanly_after_delivering(slack: FakeSlack, tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(
        tmp_path, port, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.base_url,
    )  # fmt: skip
    process = await start_bot(tmp_path, env)
    try:
        assert await healthy(port, process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            request = slash_command("/thanks", "<@U2> 100")
            answer = await http.post("/slack/events", content=request.body, headers=request.headers)
        await slack.wait_for("chat.postMessage", 1, timeout=10)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert answer.status_code == 200
    assert process.returncode == 0, stderr.decode()


@pytest.fixture(params=["refusing", "failing"])
async def unreachable_slack(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """SLACK_API_URL for a Slack that cannot be reached: a 127.0.0.1 port that refuses
    connections, or one whose every Web API call fails (503)."""
    if request.param == "refusing":
        yield f"http://127.0.0.1:{free_port()}/api/"
        return
    async with FakeSlack() as failing:
        for method in ("apps.connections.open", "auth.test", "chat.postMessage", "users.info"):
            failing.fail(method, status=503, times=None)
        yield failing.base_url


def _socket_mode_env(tmp_path: Path, port: int, api_url: str) -> dict[str, str]:
    return bot_env(
        tmp_path, port, SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN="xapp-test", SLACK_API_URL=api_url,
        LOG_LEVEL="ERROR",
    )  # fmt: skip


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_socket_mode_stops_on_sigterm_while_slack_is_unreachable(
    unreachable_slack: str, tmp_path: Path
) -> None:
    port = free_port()
    process = await start_bot(tmp_path, _socket_mode_env(tmp_path, port, unreachable_slack))
    try:
        assert await healthy(port, process)  # serving /healthz while Socket Mode keeps trying
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), GRACEFUL_SECONDS + 10)
    finally:
        if process.returncode is None:  # still trying to reach Slack: the bug
            process.kill()
            await process.wait()

    assert process.returncode == 0, stderr.decode()


def _set_up_by_dev_py() -> bool:
    """Whether dev.py would start the bot right away (its .venv is installed and current)."""
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return bool(dev.STAMP.exists() and dev.STAMP.read_text() == wanted)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.skipif(not _set_up_by_dev_py(), reason="dev.py would install .venv first")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_dev_py_passes_the_signal_on_and_waits_for_the_bot(
    tmp_path: Path, sig: signal.Signals
) -> None:
    unreachable_slack = f"http://127.0.0.1:{free_port()}/api/"  # refuses connections
    port = free_port()
    output = tmp_path / "output"  # a file: the bot, if left behind, would hold a pipe open
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "dev.py"), "start",
            env=_socket_mode_env(tmp_path, port, unreachable_slack), start_new_session=True,
            stdout=sink, stderr=sink,
        )  # fmt: skip
    try:
        assert await healthy(port, process)
        process.send_signal(sig)  # to dev.py alone, as a process manager sends it
        await asyncio.wait_for(process.wait(), GRACEFUL_SECONDS + 10)
        bot_left_running = listening(port)
    finally:
        with contextlib.suppress(ProcessLookupError):  # dev.py's group: dev.py and the bot
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()

    assert process.returncode == 0, output.read_text()
    assert not bot_left_running
