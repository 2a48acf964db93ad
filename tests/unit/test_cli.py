"""The command line as an operator uses it: a real process, a real SQLite file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))}
    environment.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    environment.pop("LOG_LEVEL", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=tmp_path, env=environment, input=stdin,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_one_command_prints_the_answer_and_what_others_receive(tmp_path: Path) -> None:
    assert run(tmp_path, "chat", "--as", "Alice", "/join Plumber").returncode == 0
    assert run(tmp_path, "chat", "--as", "Bob", "/join Electrician").returncode == 0
    result = run(tmp_path, "chat", "--as", "Alice", "/refer @bob Jane Roe, 555-0100, roof hot")
    assert result.returncode == 0, result.stderr
    assert "Referral #1 to Bob recorded" in result.stdout
    assert "[group chapter] Alice passed a referral to Bob (hot)." in result.stdout
    assert "[to bob privately]" in result.stdout and "555-0100" in result.stdout
    balance = run(tmp_path, "chat", "--as", "Alice", "/balance")
    assert "1 given / 0 received (net +1)" in balance.stdout


def test_bad_command_answers_and_exits_zero(tmp_path: Path) -> None:
    result = run(tmp_path, "chat", "--as", "Alice", "/thanks @bob $abc")
    assert result.returncode == 0
    assert "/thanks @member [amount] [note]" in result.stdout


def test_groups_are_separate(tmp_path: Path) -> None:
    run(tmp_path, "chat", "--as", "Alice", "--group", "North", "/join Plumber")
    result = run(tmp_path, "chat", "--as", "Carol", "--group", "South", "/join Plumber")
    assert "Welcome to South, Carol!" in result.stdout


def test_db_upgrade(tmp_path: Path) -> None:
    result = run(tmp_path, "db", "upgrade")
    assert result.returncode == 0
    assert "upgraded from empty to revision" in result.stderr
    assert (tmp_path / "cli.db").exists()
    again = run(tmp_path, "db", "upgrade")
    assert again.returncode == 0 and "up to date (revision" in again.stderr


def test_export_names_its_group_by_id_chat_or_name(tmp_path: Path) -> None:
    run(tmp_path, "chat", "--as", "Alice", "--group", "North", "/join Plumber")
    run(tmp_path, "chat", "--as", "Carol", "--group", "South", "/join Plumber")
    by_name = run(tmp_path, "export", "--group", "south", "--format", "csv")
    assert by_name.returncode == 0, by_name.stderr
    by_id = run(tmp_path, "export", "--group", "2", "--format", "csv")
    assert by_id.stdout == by_name.stdout
    missing = run(tmp_path, "export", "--group", "west")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.strip() == (
        "referral-bot: there is no group 'west' (give its id, chat id or name)"
    )


def test_a_database_error_is_one_line(tmp_path: Path) -> None:
    result = run(tmp_path, "export", env={"DATABASE_URL": "sqlite:////nonexistent/dir/x.db"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "referral-bot: database error: unable to open database file"
    ]


def test_bad_configuration_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = run(tmp_path, "chat", "--as", "a", "/help", env={"DEFAULT_TIMEZONE": "Mars/Base"})
    assert result.returncode != 0
    assert "DEFAULT_TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/nothing"
    result = run(tmp_path, "db", "upgrade", env={"DATABASE_URL": url})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_interactive_session_reads_commands_and_switches_person(tmp_path: Path) -> None:
    script = "/join Plumber\n:as Bob\n/join Electrician\n/members\n:quit\n"
    result = run(tmp_path, "chat", "--as", "Alice", stdin=script)
    assert result.returncode == 0, result.stderr
    assert "You are now Bob." in result.stdout
    assert "Alice (Plumber) · leader" in result.stdout
    assert "Bob (Electrician)" in result.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_the_console_cleanly(tmp_path: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT),
                   "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "chat", "--as", "Alice"], cwd=tmp_path, env=environment,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("/join Plumber\n")
    process.stdin.flush()
    deadline = time.monotonic() + 60
    seen = ""
    while "Welcome" not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    process.send_signal(signal.SIGTERM)
    try:
        _, errors = process.communicate(timeout=30)
    finally:
        process.kill()
    assert "Welcome to chapter, Alice!" in seen
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
