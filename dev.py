#!/usr/bin/env python3
"""The project's two commands, on any machine with Python 3.11+:

    python3 dev.py start [referral-bot arguments...]   # the bot (no tokens: the console chat)
    python3 dev.py test [pytest arguments...]          # lint, types and the whole test suite

Each first creates `.venv` and installs the project into it (again only when
pyproject.toml changed).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".install-stamp"


def ensure_environment() -> None:
    """Create the virtualenv and install the project with its dev tools, when needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py runs before the project is installed)
        sys.exit(f"referral-bot needs Python 3.11 or newer (this is {sys.version.split()[0]}).")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("Creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing referral-bot and its tools into .venv (first run only) ...", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "--editable", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def run(*command: str) -> int:
    """Run `command` in the project's folder and wait for it. SIGTERM and SIGINT sent to
    dev.py are passed on to it and dev.py waits for it to stop (`dev.py start` under a
    process manager stops the bot as `referral-bot` alone would, never leaving it behind)."""
    child = subprocess.Popen(command, cwd=ROOT)

    def pass_on(signum: int, frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, pass_on) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code  # killed by a signal: as a shell reports it


def test(args: list[str]) -> int:
    """Ruff (lint + format check), mypy on bot/ and storage/, then pytest."""
    steps = [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy")],
    ]
    for step in steps:
        print("$", " ".join(Path(step[0]).name if i == 0 else p for i, p in enumerate(step)),
              flush=True)  # fmt: skip
        if code := run(*step):
            return code
    return run(str(BIN / "python"), "-m", "pytest", *args)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("start", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_environment()
    if sys.argv[1] == "test":
        return test(sys.argv[2:])
    return run(str(BIN / "referral-bot"), *sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
