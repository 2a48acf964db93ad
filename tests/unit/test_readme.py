"""The README's and docs/'s console examples reach the bot as they are written: bash leaves
them alone (in double quotes it would read `$2500` as `$2` and `500`)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# `chat --as NAME <quoted message>` up to the end of the line or the closing backtick of inline code
_EXAMPLE = re.compile(r"\bchat --as \S+ (?P<message>['\"][^`\n]+)")


def _examples() -> list[tuple[str, str]]:
    found = []
    for path in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        for match in _EXAMPLE.finditer(path.read_text(encoding="utf-8")):
            found.append((path.name, match["message"].strip()))
    return found


def test_the_readme_has_console_examples_with_an_amount() -> None:
    assert any("$" in message for _, message in _examples())


@pytest.mark.parametrize(("where", "message"), _examples())
def test_a_console_example_is_read_by_bash_as_written(where: str, message: str) -> None:
    assert message.startswith("'") and message.endswith("'"), f"{where}: {message}"
    written = message[1:-1]
    said = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", f"printf %s {message}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert said == written
