#!/usr/bin/env python3
"""The project's two commands, on any machine with Python 3.11+:

    python3 dev.py start [referral-bot arguments...]   # the bot (no tokens: the console chat)
    python3 dev.py test [pytest arguments...]          # lint, types and the whole test suite

Each first creates `.venv` and installs the project into it (again only when
pyproject.toml changed). CI also runs `python3 dev.py newest [pytest arguments...]`:
the suite against the newest releases of the packages the hot path pins (in
`.venv-newest`); it reports in one line and exits 0 either way.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tomllib
import venv
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".install-stamp"
NEWEST = ROOT / ".venv-newest"
NEWEST_BIN = NEWEST / ("Scripts" if os.name == "nt" else "bin")
HOT_PATH = ("sqlalchemy", "sqlmodel", "aiosqlite", "asyncpg")  # capped in pyproject.toml


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
    """Ruff (lint + format check), mypy on bot/, storage/ and adapters/, then pytest."""
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


def requirements() -> tuple[list[str], list[str]]:
    """pyproject.toml's requirements (with the dev tools): the hot path's, the others."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    hot, rest = [], []
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        (hot if _name(requirement) in HOT_PATH else rest).append(requirement)
    return hot, rest


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0].lower()


def uncapped(requirement: str) -> str:
    """The requirement without its upper bound: `x[y]>=1.2,<1.3` -> `x[y]>=1.2`."""
    head = re.split(r"(?=[<>=!~])", requirement, maxsplit=1)
    specifiers = head[1].split(",") if len(head) > 1 else []
    kept = [s.strip().replace("~=", ">=") for s in specifiers if s.strip()[0] in ">!~"]
    return head[0].strip() + ",".join(kept)


def newest_releases(pip: list[str], wanted: list[str]) -> dict[str, str]:
    """What pip would install for each requirement on its own: {name: version}."""
    found = subprocess.run(
        [*pip, "install", "--dry-run", "--ignore-installed", "--no-deps", "--quiet",
         "--report", "-", *wanted], capture_output=True, text=True, check=True,
    )  # fmt: skip
    report = json.loads(found.stdout)
    return {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in report["install"]}


def installed(python: Path) -> dict[str, str]:
    """The hot path's packages in the environment of `python`: {name: version}."""
    script = "import json, sys; from importlib.metadata import version as v; " \
             "print(json.dumps({n: v(n) for n in sys.argv[1:]}))"  # fmt: skip
    out = subprocess.run([str(python), "-c", script, *HOT_PATH], capture_output=True, text=True,
                         check=True)  # fmt: skip
    versions: dict[str, str] = json.loads(out.stdout)
    return versions


def _versions(versions: dict[str, str], capped: dict[str, str]) -> str:
    """`sqlalchemy 2.2.0 [above the cap <2.2], sqlmodel 0.0.50, ...` (`capped`: the newest
    releases the caps allow)."""
    caps = {_name(r): ",".join(re.findall(r"<=?[^,;\s]+", r)) for r in requirements()[0]}
    above = {n: f" [above the cap {caps[n]}]" for n in versions if versions[n] != capped[n]}
    return ", ".join(f"{n} {versions[n]}{above.get(n, '')}" for n in HOT_PATH if n in versions)


def _install(log: Path, lifted: list[str], rest: list[str]) -> int:
    """The project with the hot path uncapped (everything else as pyproject.toml says) into
    `.venv-newest`, created on first use, then upgraded to the newest releases on each run."""
    if not (NEWEST_BIN / "python").exists():
        print("Creating .venv-newest ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(NEWEST)
    pip = [str(NEWEST_BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    with log.open("w") as out:
        for step in (
            [*pip, "--upgrade", "pip"],
            [*pip, "--no-deps", "--editable", str(ROOT)],  # its own caps would hold them back
            [*pip, "--upgrade", *lifted, *rest],
        ):
            if code := subprocess.run(step, stdout=out, stderr=subprocess.STDOUT).returncode:
                return code
    return 0


def newest(args: list[str]) -> int:
    """The suite (or `args` for pytest) against the newest releases of the packages the
    hot path caps, in `.venv-newest`. Prints one line, `newest releases: OK (...)` or
    `newest releases BREAK the hot path: ...`, and exits 0 either way: CI reports it,
    and raising a cap is a change of its own."""
    hot, rest = requirements()
    lifted = [uncapped(r) for r in hot]
    pip = [str(BIN / "python"), "-m", "pip"]
    try:
        latest = newest_releases(pip, lifted)
        capped = newest_releases(pip, hot)
    except subprocess.CalledProcessError as error:
        said = (error.stderr or "").strip().splitlines() or [f"pip exit {error.returncode}"]
        print(f"newest releases: could not ask the package index ({said[-1]})")
        return 0
    if latest == capped:
        print(f"newest releases: nothing newer than the caps ({_versions(latest, capped)})")
        return 0
    NEWEST.mkdir(exist_ok=True)
    log = NEWEST / "newest.log"
    shown_log = f"log: {log.relative_to(ROOT)}"
    if code := _install(log, lifted, rest):
        print(f"newest releases: could not install {_versions(latest, capped)}"
              f" (pip exit {code}; {shown_log})")  # fmt: skip
        return 0
    versions = installed(NEWEST_BIN / "python")
    if versions == capped:
        print(f"newest releases: {_versions(latest, capped)} are out, but pip installs nothing"
              f" above the caps with the other requirements ({shown_log})")  # fmt: skip
        return 0
    junit = NEWEST / "junit.xml"
    junit.unlink(missing_ok=True)
    command = [str(NEWEST_BIN / "python"), "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
               f"--junitxml={junit}", *args]  # fmt: skip
    with log.open("a") as out:
        code = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
    with_versions = _versions(versions, capped)
    if code not in (0, 1) or not junit.exists():
        print(f"newest releases: the suite did not run with {with_versions}"
              f" (pytest exit {code}; {shown_log})")  # fmt: skip
        return 0
    ran = sum(1 for _ in ET.parse(junit).getroot().iter("testcase"))
    broken = [line.split(" - ")[0].split(" ", 1)[1] for line in log.read_text().splitlines()
              if line.startswith(("FAILED ", "ERROR "))]  # fmt: skip
    if code == 0:
        print(f"newest releases: OK ({with_versions}): all {ran} tests pass; the caps in"
              f" pyproject.toml can be raised")  # fmt: skip
    else:
        shown = ", ".join(broken[:5]) + (", ..." if len(broken) > 5 else "")
        print(f"newest releases BREAK the hot path ({with_versions}): {len(broken)} of {ran}"
              f" tests fail: {shown} ({shown_log})")  # fmt: skip
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("start", "test", "newest"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_environment()
    if sys.argv[1] == "test":
        return test(sys.argv[2:])
    if sys.argv[1] == "newest":
        return newest(sys.argv[2:])
    return run(str(BIN / "referral-bot"), *sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
