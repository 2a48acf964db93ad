"""The hot statements: written with SQLAlchemy Core, compiled once per dialect, run on the
driver's own connection (`storage.units.Unit`).

SQLAlchemy's execution of a statement (its execution context, result objects and, on
the async engine, a greenlet hop) costs about 40 µs, against 5 µs for `sqlite3` to run
an indexed statement and one round trip for asyncpg. The few statements that every
command runs come through here. SQLAlchemy still writes everything: the SQL text for the
dialect, the order of the parameters, the literal values, and each column type's own
conversions of parameters and results (UTC times, exact money, booleans on SQLite).
Every other statement runs through SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import DateTime, TypeDecorator, bindparam, insert
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any] | None
_NOT_GIVEN = object()


class Compiled:
    """One statement as one dialect runs it."""

    def __init__(
        self,
        sql: str,
        names: Sequence[str],
        literals: Sequence[Any],
        binds: Sequence[Processor],
        results: Sequence[Processor] | None,
    ) -> None:
        self.sql = sql
        # The driver's positional arguments: the statement's own values, and the
        # parameters (name, conversion) to put in at their positions.
        self._template = [None if v is _NOT_GIVEN else v for v in literals]
        self._params = [
            (i, name, bind)
            for i, (name, literal, bind) in enumerate(zip(names, literals, binds, strict=True))
            if literal is _NOT_GIVEN
        ]
        self.results = results

    @property
    def results(self) -> tuple[Processor, ...] | None:
        """The result columns' conversions; None until known (see `Prepared.learn`)."""
        return self._results

    @results.setter
    def results(self, value: Sequence[Processor] | None) -> None:
        self._results = None if value is None else tuple(value)
        self._convert = [(i, p) for i, p in enumerate(self._results or ()) if p is not None]

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        """The driver's positional arguments for `params` (converted as the types say)."""
        out = self._template.copy()
        for i, name, process in self._params:
            value = params[name]
            out[i] = value if process is None or value is None else process(value)
        return out

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        """A result row with each column converted as its type says."""
        if not self._convert:
            return tuple(raw)
        out = list(raw)
        for i, process in self._convert:
            if out[i] is not None:
                out[i] = process(out[i])
        return tuple(out)


class Prepared:
    """A Core statement, compiled once for each dialect it runs on.

    `statement` is the statement, or a function of the dialect's name that builds it
    (for the dialects' own forms, such as ``INSERT ... ON CONFLICT DO NOTHING``).
    """

    def __init__(self, statement: Any) -> None:
        self._build: Callable[[str], Any] = (
            (lambda _name: statement) if hasattr(statement, "compile") else statement
        )
        self._compiled: dict[str, Compiled] = {}
        self._columns: dict[str, list[Any]] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        """The statement for `dialect`."""
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def learn(self, dialect: Dialect, codes: Sequence[Any]) -> Compiled:
        """Set the result conversions from the driver's type codes of the result columns
        (PostgreSQL's numeric conversion asks which type the server sent)."""
        compiled = self.compiled(dialect)
        compiled.results = self._results(dialect, codes)
        return compiled

    def _results(self, dialect: Dialect, codes: Sequence[Any]) -> tuple[Processor, ...]:
        return tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, code)
            for column, code in zip(self._columns[dialect.name], codes, strict=True)
        )

    def _compile(self, dialect: Dialect) -> Compiled:
        statement = self._build(dialect.name)
        columns = self._columns[dialect.name] = list(getattr(statement, "exported_columns", ()))
        compiled = statement.compile(dialect=dialect)
        assert compiled.positional, "the drivers we run take positional parameters"
        names = tuple(compiled.positiontup or ())
        literals, binds = [], []
        for name in names:
            bind = compiled.binds[name]
            assert not bind.expanding, "IN (...) lists are compiled per call: not prepared"
            process = _bind_processor(bind.type, dialect)
            if bind.required:
                literals.append(_NOT_GIVEN)
                binds.append(process)
            else:  # a value written into the statement: converted once, here
                value = bind.effective_value
                literals.append(value if process is None or value is None else process(value))
                binds.append(None)
        results: tuple[Processor, ...] | None = None
        if not columns:
            results = ()
        elif dialect.name != "postgresql":  # SQLite's conversions need no type codes
            results = self._results(dialect, [None] * len(columns))
        return Compiled(str(compiled), names, tuple(literals), tuple(binds), results)


class _LastTime:
    """A time's conversion for the driver that remembers the last one: a unit of work
    writes its one `now` into several columns and statements, converted once."""

    def __init__(self, process: Callable[[Any], Any]) -> None:
        self.process = process
        self.last: tuple[Any, Any] = (None, None)

    def __call__(self, value: Any) -> Any:
        if value is not self.last[0]:  # a datetime is immutable: the same object, the same text
            self.last = (value, self.process(value))
        return self.last[1]


_TIME_PROCESSORS: dict[tuple[str, str], _LastTime] = {}


def _bind_processor(type_: Any, dialect: Dialect) -> Processor:
    process: Processor = type_.dialect_impl(dialect).bind_processor(dialect)
    base = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    if process is None or not isinstance(base, DateTime):
        return process
    key = (dialect.name, repr(type_))
    if key not in _TIME_PROCESSORS:
        _TIME_PROCESSORS[key] = _LastTime(process)
    return _TIME_PROCESSORS[key]


def insert_values(table: Any, columns: Sequence[str], *, returning: Any = None) -> Any:
    """``INSERT INTO table (columns) VALUES (:column, ...)``, optionally ``RETURNING``."""
    values = {name: bindparam(name, type_=table.c[name].type) for name in columns}
    statement = insert(table).values(values)
    return statement if returning is None else statement.returning(returning)
