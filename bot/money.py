"""Money amounts: parsing user text into Decimal, formatting, currency facts (via babel)."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

from babel.numbers import (
    get_currency_name,
    get_currency_precision,
    get_currency_symbol,
    list_currencies,
)

__all__ = [
    "MAX_AMOUNT",
    "AmountError",
    "currency_exponent",
    "format_money",
    "is_currency_code",
    "looks_like_amount",
    "parse_amount",
    "quantize",
]

MAX_AMOUNT: Decimal = Decimal("1000000000")

# Locales whose spelling of a currency symbol we accept ("US$", "CA$", "€", "£", "¥", ...).
_SYMBOL_LOCALES = (
    "en_US", "en_GB", "en_CA", "en_AU", "en_IN", "de_DE", "fr_FR", "ja_JP",
    "es_MX", "pt_BR", "zh_CN", "ko_KR", "ru_RU", "tr_TR", "he_IL", "th_TH", "en",
)  # fmt: skip

# sign? unit? sign? number unit?  -- a unit is a symbol ("$", "CA$") or an ISO code ("EUR").
_AMOUNT_RE = re.compile(
    r"(?P<s1>[+-])?\s*(?P<pre>[^\s0-9.,+-]+)?\s*(?P<s2>[+-])?\s*"
    r"(?P<num>[0-9.,]+)\s*(?P<post>[^\s0-9.,+-]+)?"
)
_PLAIN_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_GROUPED_RE = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?")


class AmountError(ValueError):
    """A user-facing reason the amount was refused (str(e) is a short friendly sentence)."""


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


def looks_like_amount(word: str) -> bool:
    """True when word starts with a digit, a sign (+/-) or a currency symbol (category Sc)."""
    if not word:
        return False
    first = word[0]
    return first in "+-" or unicodedata.category(first) in ("Nd", "Sc")


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round (half up) to exactly the currency's number of decimals."""
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    exp = currency_exponent(currency)
    prec = max(28, amount.adjusted() + exp + 2)
    return amount.quantize(_step(currency), rounding=ROUND_HALF_UP, context=Context(prec))


def format_money(amount: Decimal, currency: str) -> str:
    """Format for display in en_US style, e.g. "$2,500.50", "€20.00", "¥2,500", "CHF12.00".

    The same text as babel's `format_currency(..., locale="en_US")` (whose pattern is
    `¤#,##0.00`: the symbol first, no space), without building the pattern each time.
    """
    value = quantize(amount, currency)
    sign = "-" if value < 0 else ""
    return f"{sign}{_en_us_symbol(currency)}{abs(value):,.{currency_exponent(currency)}f}"


@lru_cache(maxsize=64)
def _en_us_symbol(currency: str) -> str:
    return str(get_currency_symbol(currency, locale="en_US"))


@lru_cache(maxsize=64)
def _symbols(currency: str) -> frozenset[str]:
    """Symbols accepted for this currency; "$" is accepted for every dollar currency."""
    found = {_strip_format_chars(get_currency_symbol(currency, loc)) for loc in _SYMBOL_LOCALES}
    if "dollar" in str(get_currency_name(currency, locale="en")).lower():
        found.add("$")
    found.add(currency)
    return frozenset(s for s in found if s)


def _strip_format_chars(text: str) -> str:
    """Drop invisible format characters (LRM, zero-width space, BOM, ...)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _example(currency: str, big: bool = False) -> str:
    exp = currency_exponent(currency)
    base = Decimal("1234567.89") if big else Decimal("2500.50")
    return format_money(base if exp else base.to_integral_value(rounding=ROUND_DOWN), currency)


def _unreadable(currency: str) -> AmountError:
    return AmountError(
        f"I couldn't read that as an amount. Please write it like {_example(currency)}."
    )


def _check_unit(unit: str, currency: str) -> None:
    """Refuse a symbol or ISO code that is not the group's currency."""
    if unit in _symbols(currency) or unit.upper() == currency:
        return
    if len(unit) == 3 and unit.isascii() and unit.isalpha():
        code = unit.upper()
        if is_currency_code(code):
            raise AmountError(f"This group counts in {currency}, not {code}.")
        raise AmountError(
            f"I don't know the currency {code}. This group counts in {currency}, "
            f"e.g. {_example(currency)}."
        )
    if any(unicodedata.category(ch) == "Sc" for ch in unit):
        raise AmountError(
            f"This group counts in {currency}, so please write amounts like {_example(currency)}."
        )
    raise _unreadable(currency)


def parse_amount(text: str, currency: str) -> Decimal:
    """Parse user text such as "$2,500.50" or "2500 EUR" into a positive Decimal.

    The result has exactly the currency's number of decimals. Raises AmountError with a
    friendly sentence when refused; raises plain ValueError if `currency` is not a valid code.
    """
    exp = currency_exponent(currency)
    cleaned = _strip_format_chars(text).strip()
    if not cleaned:
        raise AmountError(f"Please give an amount, e.g. {_example(currency)}.")
    if any(not ch.isascii() and unicodedata.category(ch) == "Nd" for ch in cleaned):
        raise AmountError(
            f"Please write the amount with the digits 0-9, e.g. {_example(currency)}."
        )
    m = _AMOUNT_RE.fullmatch(cleaned)
    if m is None or (m["s1"] and m["s2"]):
        raise _unreadable(currency)
    # A symbol and a code may both be given ("$2500 USD") as long as both mean the group's
    # currency; "$2500 EUR" is refused by the code check.
    for unit in (m["pre"], m["post"]):
        if unit:
            _check_unit(unit, currency)
    num: str = m["num"]
    if "," in num and not _GROUPED_RE.fullmatch(num):
        raise AmountError(
            "Please use commas only between groups of 3 digits and a point for decimals, "
            f"e.g. {_example(currency, big=True)}."
        )
    if not _PLAIN_RE.fullmatch(num.replace(",", "")):
        raise _unreadable(currency)
    value = Decimal(num.replace(",", ""))
    if (m["s1"] or m["s2"]) == "-" or value == 0:
        raise AmountError("The amount must be more than zero.")
    decimals = len(num.partition(".")[2])
    if decimals > exp:
        if exp == 0:
            raise AmountError(f"{currency} amounts are whole numbers, e.g. {_example(currency)}.")
        unit_word = "decimal" if exp == 1 else "decimals"
        rule = f"{currency} amounts have at most {exp} {unit_word}, e.g. {_example(currency)}."
        whole, _, fraction = num.partition(".")
        if len(fraction) == 3 and "," not in num and len(whole) <= 3:  # 2.500: 2,500 or 2.50?
            raise AmountError(f"{num} is ambiguous: write {whole},{fraction} if you mean "
                              f"thousands. {rule}")  # fmt: skip
        raise AmountError(rule)
    if value > MAX_AMOUNT:
        raise AmountError(
            f"That amount is too large; the most I accept is {format_money(MAX_AMOUNT, currency)}."
        )
    return quantize(value, currency)
