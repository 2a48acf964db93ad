"""Money amounts: parsing user text into Decimal and formatting it (the currencies' facts and
rounding are `storage.currency`'s)."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

from babel.numbers import get_currency_name, get_currency_symbol

from storage.currency import currency_exponent, is_currency_code, quantize

__all__ = [
    "LOWER_CASE_CODES",
    "MAX_AMOUNT",
    "AmountError",
    "amount_length",
    "currency_exponent",
    "format_money",
    "is_code_word",
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
# Digits grouped by spaces ("2 500", "1 234 567"): thousands to some, a number and a note to others.
_SPACED_RE = re.compile(r"(?<![0-9.,])[0-9]{1,3}(?:\s+[0-9]{3})+(?![0-9])")
_SMALL_NUMBER_RE = re.compile(r"[^0-9]*[0-9]{1,3}")  # the number before a space-separated group
_DIGIT_GROUP_RE = re.compile(r"[0-9]{3}(?:[.,][0-9]+)?")
_NUMBER_CHAR_RE = re.compile(r"[0-9+\-.,]")  # a word's unit (`US$`, `usd`) is what comes before

# Codes read as such in lower or mixed case too (`usd 500`, `500 eur`): the common ones, none of
# them an English word (unlike ALL, TOP, TRY, MAD, CUP or BOB, which are codes only in capitals).
LOWER_CASE_CODES = frozenset(
    ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "NZD", "CHF", "INR", "CNY", "SEK", "NOK", "DKK",
     "PLN", "ZAR", "BRL", "MXN", "SGD", "HKD", "AED", "CZK", "ILS", "KRW", "THB", "SAR")
)  # fmt: skip


class AmountError(ValueError):
    """A user-facing reason the amount was refused (str(e) is a short friendly sentence)."""


def is_code_word(word: str, currency: str | None = None) -> bool:
    """True when `word` names a currency by its ISO 4217 code: any code Babel knows written in
    capitals (`EUR`, `ALL`); in lower or mixed case (`usd`, `Eur`) only LOWER_CASE_CODES and
    the group's own `currency`, so that `all`, `top` or `try` stay words."""
    if len(word) != 3 or not word.isascii() or not word.isalpha():
        return False
    code = word.upper()
    if word.isupper():
        return is_currency_code(code)
    return code in LOWER_CASE_CODES or code == currency


def _is_symbol(text: str) -> bool:
    return bool(text) and all(unicodedata.category(ch) == "Sc" for ch in text)


def _is_unit(text: str, currency: str | None) -> bool:
    """A currency written on its own: a code (`EUR`, `eur`), a symbol (`€`, `$`), or a symbol
    after up to three letters (`US$`, `CA$`, `R$`)."""
    letters = len(text) - len(text.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    return is_code_word(text, currency) or (letters <= 3 and _is_symbol(text[letters:]))


def _starts_number(word: str) -> bool:
    """A digit first, or a sign or a point before one (`500`, `-5`, `.5`), or a symbol (`$5`)."""
    if not word:
        return False
    if word[0] in "+-." and len(word) > 1:
        word = word[1:]
    return unicodedata.category(word[0]) in ("Nd", "Sc")


def _opening(words: list[str], currency: str | None) -> int:
    """How many words the amount's unit and number take at the start of `words` (0: none)."""
    first, following = words[0], (words[1] if len(words) > 1 else "")
    if first[0] in "+-" or unicodedata.category(first[0]) in ("Nd", "Sc"):
        alone = all(ch in "+-" or unicodedata.category(ch) == "Sc" for ch in first)
        return 2 if alone and _starts_number(following) else 1  # `$ 500`, `- 5`
    if first[0] == "." and len(first) > 1 and first[1].isdigit():
        return 1  # `.5`: refused with the right form rather than taken as a note
    unit = _NUMBER_CHAR_RE.split(first, maxsplit=1)[0]
    if not _is_unit(unit, currency):
        return 0
    if unit != first:  # glued: `USD500`, `usd500`, `US$500`
        return 1 if _starts_number(first[len(unit) :]) else 0
    return 2 if _starts_number(following) else 0  # `USD 800`, `US$ 800`


def amount_length(words: list[str], currency: str | None = None) -> int:
    """How many of `words` (a command's words after the member, or after `won`) are an amount.

    0 when they do not start like one: the first word starts with a digit, a sign, a point
    before a digit or a currency symbol (`2500`, `-5`, `.5`, `$2,500`, `€20`), or it is a
    currency code or letters-and-symbol (`is_code_word`, `US$`) followed by a number, glued
    or not (`USD 800`, `usd800`, `US$500`). Then come groups of three digits after a space
    (`2 500`, so that `parse_amount` refuses them as ambiguous) and a currency written after
    the number (`500 EUR`, `500 eur`, `20 €`).
    """
    if not words or not words[0]:
        return 0
    taken = _opening(words, currency)
    if taken and _SMALL_NUMBER_RE.fullmatch(words[taken - 1]):
        while taken < len(words) and (group := _DIGIT_GROUP_RE.match(words[taken])):
            rest = words[taken][group.end() :]
            if rest and not _is_unit(rest, currency):
                break
            taken += 1
    if taken and taken < len(words) and _is_unit(words[taken], currency):
        taken += 1
    return taken


def looks_like_amount(text: str, currency: str | None = None) -> bool:
    """True when `text` starts with an amount (see `amount_length`), e.g. `2500 kitchen job`,
    `$abc`, `USD 800 headshots`; False for `great intro` or `all 3 intros`."""
    return amount_length(text.split(), currency) > 0


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


def _shown(text: str) -> str:
    """User text quoted in an answer: at most 20 characters."""
    return text if len(text) <= 20 else text[:19] + "…"


def _unreadable(text: str, currency: str, hint: str | None = None) -> AmountError:
    right = hint or f"it like {_example(currency)}"
    return AmountError(f"'{_shown(text)}' is not an amount I can read: write {right}.")


def _hint(num: str, currency: str) -> str | None:
    """The number as it should be written, for a point at either end: `.5` -> 0.50."""
    whole, point, fraction = num.partition(".")
    if point and whole.isdigit() and not fraction:
        return whole
    if point and not whole and fraction.isdigit():
        return f"0.{fraction.ljust(currency_exponent(currency), '0')}"
    return None


def _check_unit(unit: str, text: str, currency: str) -> None:
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
    raise _unreadable(text, currency)


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
    spaced = _SPACED_RE.search(cleaned)
    if spaced:
        written = spaced.group()
        raise AmountError(
            f"'{_shown(' '.join(written.split()))}' is ambiguous: write "
            f"{','.join(written.split())} if you mean thousands."
        )
    m = _AMOUNT_RE.fullmatch(cleaned)
    if m is None or (m["s1"] and m["s2"]):
        raise _unreadable(cleaned, currency)
    # A symbol and a code may both be given ("$2500 USD") as long as both mean the group's
    # currency; "$2500 EUR" is refused by the code check.
    for unit in (m["pre"], m["post"]):
        if unit:
            _check_unit(unit, cleaned, currency)
    num: str = m["num"]
    if "," in num and not _GROUPED_RE.fullmatch(num):
        raise AmountError(
            "Please use commas only between groups of 3 digits and a point for decimals, "
            f"e.g. {_example(currency, big=True)}."
        )
    if not _PLAIN_RE.fullmatch(num.replace(",", "")):
        raise _unreadable(cleaned, currency, _hint(num, currency))
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
