"""`bot.definitions`: every command type has exactly one handler, every spec's examples
parse to its own definition's command types, and mypy refuses an action written for
another command type than its handler's."""

from __future__ import annotations

import textwrap
import typing
from pathlib import Path

import pytest
from mypy import api as mypy_api

from bot import commands as c
from bot import grammar
from bot.actions import ledger
from bot.definitions import DEFINITIONS, HANDLERS, SPECS
from bot.handlers import Definition, Handler, define, index

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TYPES = typing.get_args(c.Command)


def _examples(definition: Definition) -> list[str]:
    spec = definition.spec
    assert spec is not None
    return [*spec.examples, *(form.example for form in spec.forms)]


def test_every_command_type_has_exactly_one_handler() -> None:
    handled = [h.command for d in DEFINITIONS for h in d.handlers]
    assert sorted(t.__name__ for t in handled) == sorted(t.__name__ for t in COMMAND_TYPES)
    assert set(HANDLERS) == set(COMMAND_TYPES)
    for command_type, handler in HANDLERS.items():
        assert handler.command is command_type
        assert callable(handler.action)
        assert all(isinstance(flag, bool) for flag in (handler.writes, handler.joins,
                   handler.brings_back, handler.needs_group))  # fmt: skip
        assert handler.writes or not handler.joins, "what only reads makes nobody a member"


def test_every_spec_is_complete_and_named_once() -> None:
    assert SPECS == grammar.SPECS
    names = [n for spec in SPECS for n in (spec.name, *spec.aliases)]
    assert len(names) == len(set(names))
    for spec in SPECS:
        assert spec.usage.startswith(f"/{spec.name}")
        assert spec.summary and spec.examples and callable(spec.parse)


@pytest.mark.parametrize(
    ("definition", "example"),
    [(d, e) for d in DEFINITIONS if d.spec is not None for e in _examples(d)],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_example_parses_to_its_own_definitions_command(
    definition: Definition, example: str
) -> None:
    command = grammar.parse(example, "USD")
    assert type(command) in {h.command for h in definition.handlers}


def test_a_command_type_defined_twice_or_not_at_all_is_refused() -> None:
    ceu, visitor = Handler(c.LogCeu, ledger.log_ceu), Handler(c.LogVisitor, ledger.log_visitor)
    with pytest.raises(ValueError, match="LogCeu is defined twice"):
        index((define(None, ceu), define(None, ceu)), (c.LogCeu,))
    with pytest.raises(ValueError, match="no handler for LogVisitor, ListReferrals"):
        index((define(None, ceu),), (c.LogCeu, c.LogVisitor, c.ListReferrals))
    assert index((define(None, ceu, visitor),), (c.LogCeu,)) == {
        c.LogCeu: ceu,
        c.LogVisitor: visitor,
    }


def test_mypy_refuses_an_action_for_another_command_type(tmp_path: Path) -> None:
    snippet = tmp_path / "wrong_action.py"
    snippet.write_text(
        textwrap.dedent("""
        from bot import commands as c
        from bot.actions import ledger
        from bot.handlers import Handler, reads

        right = Handler(c.ThankMember, ledger.thank)
        wrong = Handler(c.GiveReferral, ledger.thank)
        also_wrong = reads(c.ShowBalance, ledger.list_referrals)
    """)
    )
    out, _, status = mypy_api.run([str(snippet), "--config-file", str(ROOT / "pyproject.toml")])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1, out
    assert [line.split(":")[1] for line in errors] == ["7", "8"], out
    assert all('incompatible type "Callable[[Context, ' in line for line in errors), out
