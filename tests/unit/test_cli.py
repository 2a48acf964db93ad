"""The command line as an operator uses it: a real process, a real SQLite file."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def environment(tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))}
    values.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    values.pop("LOG_LEVEL", None)
    values.update(env or {})
    return values


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=tmp_path, env=environment(tmp_path, env),
        input=stdin, capture_output=True, text=True, timeout=120,
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


def test_export_never_creates_a_database(tmp_path: Path) -> None:
    """Run outside the project's folder (DATABASE_URL unset: the default file here), or with
    a DATABASE_URL that names no file: an error naming the path, and nothing created."""
    default = run(tmp_path, "export", env={"DATABASE_URL": ""})  # empty: as if unset
    assert default.returncode == 2 and default.stdout == ""
    assert default.stderr.splitlines() == [
        f"referral-bot: DATABASE_URL: there is no database at {tmp_path / 'referral-bot.db'} "
        "(DATABASE_URL is not set: the default is referral-bot.db in the working directory); "
        "point DATABASE_URL at the bot's database, e.g. sqlite:////srv/referral-bot/referral-bot.db"
    ]
    missing = tmp_path / "elsewhere" / "bot.db"
    named = run(tmp_path, "export", "--format", "csv",
                env={"DATABASE_URL": f"sqlite:///{missing}"})  # fmt: skip
    assert named.returncode == 2 and named.stdout == ""
    (line,) = named.stderr.splitlines()
    assert line.startswith(f"referral-bot: DATABASE_URL: there is no database at {missing} ")
    assert list(tmp_path.iterdir()) == []


def test_export_of_a_database_that_is_not_set_up_says_to_upgrade(tmp_path: Path) -> None:
    (tmp_path / "cli.db").touch()  # a file, but no tables: export migrates nothing
    empty = run(tmp_path, "export")
    assert empty.returncode == 2 and empty.stdout == ""
    assert empty.stderr.splitlines() == [
        f"referral-bot: the database at {tmp_path / 'cli.db'} has no tables yet: run "
        "'referral-bot db upgrade' to set it up, or point DATABASE_URL at the bot's database"
    ]
    with contextlib.closing(sqlite3.connect(tmp_path / "cli.db")) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)

    assert run(tmp_path, "db", "upgrade").returncode == 0
    with contextlib.closing(sqlite3.connect(tmp_path / "cli.db")) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    behind = run(tmp_path, "export")
    assert behind.returncode == 2 and behind.stdout == ""
    assert behind.stderr.startswith(
        f"referral-bot: the database at {tmp_path / 'cli.db'} is at revision 0001, older than "
        "this version's "
    )
    assert behind.stderr.strip().endswith("run 'referral-bot db upgrade' first")


def test_export_writes_utf8_csv_with_a_bom_whatever_the_locale(tmp_path: Path) -> None:
    assert run(tmp_path, "chat", "--as", "Bob", "/join Plumber").returncode == 0
    gave = run(tmp_path, "chat", "--as", "Zoë 🏠", "/refer @bob Ana Lima, needs a roof inside")
    assert "Referral #1 to Bob recorded" in gave.stdout, gave.stderr
    not_utf8 = environment(tmp_path, {"PYTHONIOENCODING": "latin-1"})  # a terminal's locale
    command = [sys.executable, "-m", "app", "export", "--format", "csv"]
    result = subprocess.run(command, cwd=tmp_path, env=not_utf8, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"\xef\xbb\xbfkind,id,group,")
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8-sig"), newline="")))
    assert [(r["kind"], r["from"], r["to"], r["number"], r["inside"]) for r in rows] == [
        ("referral", "Zoë 🏠", "Bob", "1", "true")
    ]


def test_the_console_reads_log_level_from_the_env_file(tmp_path: Path) -> None:
    quiet = run(tmp_path, "chat", "--as", "Alice", "/help")
    assert quiet.returncode == 0 and quiet.stderr == ""  # the console logs warnings only
    (tmp_path / ".env").write_text("LOG_LEVEL=info\n", encoding="utf-8")
    result = run(tmp_path, "chat", "--as", "Alice", "/help")
    assert result.returncode == 0, result.stderr
    assert " INFO referral_bot.core group=console:chapter command=help outcome=ok" in result.stderr


def test_nothing_reads_the_environment_but_the_settings_object() -> None:
    readers = [
        str(path.relative_to(ROOT))
        for folder in ("bot", "adapters", "storage")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if re.search(r"os\.environ|getenv\(", path.read_text(encoding="utf-8"))
    ]
    assert readers == []


NOT_SET_UP = "use sqlite:///path.db or postgresql://user:pass@host:port/db"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DATABASE_URL": "nonsense"},
         f'DATABASE_URL: "nonsense" is not a database URL; {NOT_SET_UP}'),
        ({"DATABASE_URL": "mysql://bob:hunter2@db.example/chapter"},
         'DATABASE_URL: "mysql://bob:***@db.example/chapter" uses the unsupported scheme '
         f'"mysql"; {NOT_SET_UP}'),
        ({"DATABASE_URL": "sqlite:////nonexistent/dir/x.db"},
         "DATABASE_URL: cannot create the SQLite file /nonexistent/dir/x.db: /nonexistent/dir "
         "does not exist; create that folder, or give a path in an existing one "
         "(sqlite:///path.db)"),
        ({"DEFAULT_TIMEZONE": "Mars/Base"},
         'DEFAULT_TIMEZONE: "Mars/Base" is not an IANA timezone; use a name such as '
         "Europe/London, America/New_York or UTC"),
        ({"DEFAULT_CURRENCY": "dollars"},
         'DEFAULT_CURRENCY: "dollars" is not an ISO 4217 currency code; use three letters such '
         "as USD, EUR or GBP"),
        ({"LOG_LEVEL": "loud"},
         'LOG_LEVEL: "loud" is not a log level; use DEBUG, INFO, WARNING or ERROR'),
        ({"PORT": "http"},
         'PORT: "http" is not a port number; use a whole number from 1 to 65535, e.g. 3000 '
         "(0: any free port)"),
        ({"PORT": "70000"},
         'PORT: "70000" is not a port number; use a whole number from 1 to 65535, e.g. 3000 '
         "(0: any free port)"),
    ],
    ids=["url", "scheme", "folder", "timezone", "currency", "log-level", "port", "port-range"],
)  # fmt: skip
def test_a_bad_setting_is_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = run(tmp_path, "chat", "--as", "a", "/help", env=env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"referral-bot: {expected}"]
    assert "hunter2" not in result.stderr


def test_each_bad_setting_gets_its_own_line(tmp_path: Path) -> None:
    result = run(tmp_path, "db", "upgrade", env={"PORT": "-1", "DEFAULT_CURRENCY": "€"})
    assert result.returncode == 2
    assert [line.split(":")[1].strip() for line in result.stderr.splitlines()] == [
        "PORT", "DEFAULT_CURRENCY"]  # fmt: skip


def test_a_database_file_that_cannot_be_made_names_its_path(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a folder", encoding="utf-8")
    inside_a_file = tmp_path / "notes.txt" / "bot.db"
    result = run(tmp_path, "db", "upgrade", env={"DATABASE_URL": f"sqlite:///{inside_a_file}"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"referral-bot: DATABASE_URL: cannot create the SQLite file {inside_a_file}: "
        f"{tmp_path / 'notes.txt'} is not a folder; create that folder, or give a path in an "
        "existing one (sqlite:///path.db)"
    ]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_unwritable_folder_names_the_path(tmp_path: Path) -> None:
    """/proc takes no new file, even from root (for whom every folder looks writable)."""
    result = run(tmp_path, "chat", "--as", "a", "/help",
                 env={"DATABASE_URL": "sqlite:////proc/referral-bot.db"})  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("referral-bot: DATABASE_URL: cannot ")
    assert "/proc/referral-bot.db" in line and "Traceback" not in line


def test_an_unreachable_database_names_the_setting_not_the_password(tmp_path: Path) -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:1/nothing"
    result = run(tmp_path, "export", env={"DATABASE_URL": url})
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    shown = "postgresql://postgres:***@127.0.0.1:1/nothing"
    assert line.startswith(f"referral-bot: DATABASE_URL: cannot connect to {shown} (")
    assert "hunter2" not in result.stderr


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
