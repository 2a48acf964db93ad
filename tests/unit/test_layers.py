"""The floors import only downwards: storage knows nothing of the core, the core nothing of
the adapters, and nothing but the entry point knows the composition root (`app`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A package, and the project's packages it must never import.
FORBIDDEN = {
    "storage": ("bot", "adapters", "app"),
    "bot": ("adapters", "app"),
    "adapters": ("app",),
}


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every import in a module (lazy imports inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_floor_never_imports_a_floor_above_it(package: str) -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for name in sorted(imported_packages(path) & set(FORBIDDEN[package]))
    ]
    assert offences == []


def test_only_the_entry_point_imports_the_composition_root() -> None:
    importers = [
        str(path.relative_to(ROOT))
        for folder in ("bot", "adapters", "storage")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "app" in imported_packages(path)
    ]
    assert importers == []


# What would let an action wait on something other than the database inside its unit of
# work: threads, sleeps and locks, HTTP clients, the platforms' libraries. Outside work
# goes through `bot.outside` (docs/adding-an-action.md).
WAITS = ("asyncio", "threading", "concurrent", "httpx", "aiohttp", "telegram", "slack_sdk",
         "slack_bolt", "matplotlib", "time")  # fmt: skip


def test_actions_import_nothing_that_waits_outside_the_database() -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "bot" / "actions").rglob("*.py"))
        for name in sorted(imported_packages(path) & set(WAITS))
    ]
    assert offences == []
