"""An exact money column: NUMERIC on PostgreSQL, scaled integers on SQLite.

SQLite has no exact decimal type (it would store a float), so there the
amount is kept as an integer count of 1/10,000 units. SUM() over integers
is exact, and the type converts back to `Decimal` on the way out, also for
aggregates typed with this column's type.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = 4
_FACTOR = Decimal(10) ** SCALE


class Money(TypeDecorator[Decimal]):
    """A `Decimal` amount with four decimal places, exact on every backend."""

    impl = Numeric(18, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return int((Decimal(value) * _FACTOR).to_integral_exact())
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_stored(value, dialect.name)


def from_stored(value: Any, dialect_name: str) -> Decimal:
    """An amount (or a SUM of amounts) as the database returned it, as a `Decimal`."""
    if dialect_name == "sqlite":
        return Decimal(int(value)) / _FACTOR
    return Decimal(value)
