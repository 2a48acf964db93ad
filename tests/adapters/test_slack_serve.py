"""`serve`: uvicorn on a real port, the outbox woken after each command, a clean SIGTERM."""

# ruff: noqa: F811  (the fixture `slack` is imported from slack_harness)

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from app.serve import serve
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_harness import MARKS, TOKEN, slack, slack_settings  # noqa: F401
from tests.adapters.slack_requests import SIGNING_SECRET, slash_command

pytestmark = MARKS
ROOT = Path(__file__).resolve().parents[2]


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_sigterm_stops_cleanly_after_delivering(slack: FakeSlack, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))
    } | {
        "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url, "HOST": "127.0.0.1", "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(200):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
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
