"""`referral-bot` as an operator starts it: a real process, its environment, its port."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(tmp_path: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment without any platform setting of the caller's, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))}
    env |= {
        "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    return env | settings


async def start_bot(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    """`python -m app` (the `referral-bot` command) in `tmp_path`, its output captured."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def healthy(port: int, process: asyncio.subprocess.Process, seconds: float = 30) -> bool:
    """True once `GET /healthz` on the port answers 200; False once the process has ended,
    or after `seconds`."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(int(seconds / 0.05)):
            if process.returncode is not None:
                return False
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    return False


def listening(port: int) -> bool:
    """Whether anything accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
