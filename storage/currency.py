"""Currencies as the ledger keeps them: ISO 4217 codes and each one's decimals (via Babel),
and amounts rounded to them. The lower floor: the core's money and storage's export use it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies


@lru_cache(maxsize=1)
def _all_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def is_currency_code(code: str) -> bool:
    """True for a known ISO 4217 code written in upper case, e.g. "EUR"."""
    return len(code) == 3 and code.isascii() and code.isupper() and code in _all_codes()


def _require_currency(currency: str) -> None:
    if not is_currency_code(currency):
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")


@lru_cache(maxsize=64)
def currency_exponent(currency: str) -> int:
    """Number of decimals the currency uses: USD 2, JPY 0, BHD 3."""
    _require_currency(currency)
    return int(get_currency_precision(currency))


@lru_cache(maxsize=64)
def _step(currency: str) -> Decimal:
    """The currency's smallest unit: Decimal("0.01") for USD."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round (half up) to exactly the currency's number of decimals."""
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    exp = currency_exponent(currency)
    if amount.as_tuple().exponent == -exp:  # already to the unit (as stored): nothing to round
        return amount
    prec = max(28, amount.adjusted() + exp + 2)
    return amount.quantize(_step(currency), rounding=ROUND_HALF_UP, context=Context(prec))
