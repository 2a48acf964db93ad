"""Tests for bot.money: parsing, formatting and currency facts."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.money import (
    MAX_AMOUNT,
    AmountError,
    amount_length,
    currency_exponent,
    format_money,
    is_code_word,
    is_currency_code,
    looks_like_amount,
    parse_amount,
    quantize,
)

D = Decimal


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("2500", "USD", D("2500.00")),
        ("2,500", "USD", D("2500.00")),
        ("$2,500.50", "USD", D("2500.50")),
        ("$ 2,500.50", "USD", D("2500.50")),
        ("2500 EUR", "EUR", D("2500.00")),
        ("EUR 2500", "EUR", D("2500.00")),
        ("2500EUR", "EUR", D("2500.00")),
        ("2500 eur", "EUR", D("2500.00")),
        ("+2500", "USD", D("2500.00")),
        ("+$2500", "USD", D("2500.00")),
        ("€20", "EUR", D("20.00")),
        ("20€", "EUR", D("20.00")),
        ("1,234,567.89", "USD", D("1234567.89")),
        ("0.50", "USD", D("0.50")),
        ("0.5", "USD", D("0.50")),
        ("  42  ", "USD", D("42.00")),
        ("\t$7\n", "USD", D("7.00")),
        ("$2500 USD", "USD", D("2500.00")),
        ("US$5", "USD", D("5.00")),
        ("USD5", "USD", D("5.00")),
        ("$5", "CAD", D("5.00")),
        ("CA$5", "CAD", D("5.00")),
        ("$5", "AUD", D("5.00")),
        ("$5", "NZD", D("5.00")),
        ("£5", "GBP", D("5.00")),
        ("¥2500", "JPY", D("2500")),
        ("¥2,500", "JPY", D("2500")),
        ("2500", "JPY", D("2500")),
        ("¥25", "CNY", D("25.00")),
        ("₹1,000", "INR", D("1000.00")),
        ("CHF 12", "CHF", D("12.00")),
        ("1.234", "BHD", D("1.234")),
        ("1000000000", "USD", D("1000000000.00")),
        ("1,000,000,000.00", "USD", D("1000000000.00")),
        ("0.01", "USD", D("0.01")),
        ("\u200e$5", "USD", D("5.00")),
    ],
)
def test_parse_amount_accepts(text: str, currency: str, expected: Decimal) -> None:
    result = parse_amount(text, currency)
    assert result == expected
    assert result.as_tuple().exponent == expected.as_tuple().exponent


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        # negative / zero
        ("-5", "USD"),
        ("$-5", "USD"),
        ("-$5", "USD"),
        ("- 5", "USD"),
        ("0", "USD"),
        ("0.00", "USD"),
        ("$0", "USD"),
        ("-0", "JPY"),
        # not a number
        ("$abc", "USD"),
        ("abc", "USD"),
        ("1e12", "USD"),
        ("1E5", "USD"),
        ("0x10", "USD"),
        ("NaN", "USD"),
        ("Infinity", "USD"),
        ("inf", "USD"),
        ("", "USD"),
        ("   ", "USD"),
        ("$", "USD"),
        ("12..5", "USD"),
        ("1.2.3", "USD"),
        ("2500.", "USD"),
        (".5", "USD"),
        ("½", "USD"),
        ("٣", "USD"),
        ("３", "USD"),
        ("1٣", "USD"),
        ("1_000", "USD"),
        ("10%", "USD"),
        ("5k", "USD"),
        ("5 k", "USD"),
        ("--5", "USD"),
        ("+-5", "USD"),
        ("5-", "USD"),
        ("2500 EUR extra", "EUR"),
        # absurdly large
        ("1000000000.01", "USD"),
        ("1,000,000,001", "USD"),
        ("1000000001", "JPY"),
        ("9" * 60, "USD"),
        # other currency
        ("2500 EUR", "USD"),
        ("EUR 2500", "USD"),
        ("£5", "USD"),
        ("€20", "USD"),
        ("2500 XYZ", "USD"),
        ("$5", "EUR"),
        ("$5", "GBP"),
        ("CA$5", "USD"),
        ("US$5", "CAD"),
        ("$2500 EUR", "USD"),
        ("$2500 CAD", "USD"),
        # too many decimals
        ("12.345", "USD"),
        ("12.5", "JPY"),
        ("12.0", "JPY"),
        ("2.500", "EUR"),
        ("1.2345", "BHD"),
        # misplaced thousands separators
        ("1,00", "USD"),
        ("12,34,567", "USD"),
        ("1,2345", "USD"),
        (",100", "USD"),
        ("100,", "USD"),
        ("2.500,50", "EUR"),
        ("1,000.5,0", "USD"),
        ("0,500", "USD"),
        ("1,,000", "USD"),
    ],
)
def test_parse_amount_refuses(text: str, currency: str) -> None:
    with pytest.raises(AmountError) as excinfo:
        parse_amount(text, currency)
    message = str(excinfo.value)
    assert message
    assert len(message) < 120


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("-5", "USD", "The amount must be more than zero."),
        ("0", "USD", "The amount must be more than zero."),
        ("2500 EUR", "USD", "This group counts in USD, not EUR."),
        ("2500 eur", "USD", "This group counts in USD, not EUR."),
        (
            "12.345",
            "USD",
            "12.345 is ambiguous: write 12,345 if you mean thousands. "
            "USD amounts have at most 2 decimals, e.g. $2,500.50.",
        ),
        (
            "2.500",
            "EUR",
            "2.500 is ambiguous: write 2,500 if you mean thousands. "
            "EUR amounts have at most 2 decimals, e.g. €2,500.50.",
        ),
        ("2.5001", "USD", "USD amounts have at most 2 decimals, e.g. $2,500.50."),
        ("12.5", "JPY", "JPY amounts are whole numbers, e.g. ¥2,500."),
        ("1000000001", "USD", "That amount is too large; the most I accept is $1,000,000,000.00."),
        ("$abc", "USD", "'$abc' is not an amount I can read: write it like $2,500.50."),
        (".5", "USD", "'.5' is not an amount I can read: write 0.50."),
        (".5", "BHD", "'.5' is not an amount I can read: write 0.500."),
        ("2500.", "EUR", "'2500.' is not an amount I can read: write 2500."),
        ("2 500", "USD", "'2 500' is ambiguous: write 2,500 if you mean thousands."),
        (
            "USD 1 234 567.50",
            "USD",
            "'1 234 567' is ambiguous: write 1,234,567 if you mean thousands.",
        ),
        (
            "5 " + "x" * 50,
            "USD",
            "'5 xxxxxxxxxxxxxxxxx…' is not an amount I can read: write it like $2,500.50.",
        ),
    ],
)
def test_parse_amount_messages(text: str, currency: str, message: str) -> None:
    with pytest.raises(AmountError) as excinfo:
        parse_amount(text, currency)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("text", "currency", "fragment"),
    [
        ("£5", "USD", "USD"),
        ("2500 XYZ", "USD", "XYZ"),
        ("abc", "EUR", "€2,500.50"),
        ("1,00", "USD", "$1,234,567.89"),
        ("٣", "USD", "0-9"),
    ],
)
def test_parse_amount_message_mentions(text: str, currency: str, fragment: str) -> None:
    with pytest.raises(AmountError) as excinfo:
        parse_amount(text, currency)
    assert fragment in str(excinfo.value)


def test_amount_error_is_value_error() -> None:
    assert issubclass(AmountError, ValueError)


def test_bad_group_currency_is_programming_error() -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_amount("5", "XYZ")
    assert not isinstance(excinfo.value, AmountError)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (D("2500.5"), "USD", "$2,500.50"),
        (D("2500"), "USD", "$2,500.00"),
        (D("20"), "EUR", "€20.00"),
        (D("2500"), "JPY", "¥2,500"),
        (D("12"), "CHF", "CHF12.00"),
        (D("5"), "CAD", "CA$5.00"),
        (D("1.5"), "BHD", "BHD1.500"),
        (D("-5"), "USD", "-$5.00"),
        (D("0.125"), "USD", "$0.13"),
        (D("1000000000"), "USD", "$1,000,000,000.00"),
    ],
)
def test_format_money(amount: Decimal, currency: str, expected: str) -> None:
    assert format_money(amount, currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (D("2500"), "USD", D("2500.00")),
        (D("0.125"), "USD", D("0.13")),
        (D("0.135"), "USD", D("0.14")),
        (D("2.5"), "JPY", D("3")),
        (D("1.5"), "BHD", D("1.500")),
        (D("-1.005"), "USD", D("-1.01")),
    ],
)
def test_quantize(amount: Decimal, currency: str, expected: Decimal) -> None:
    result = quantize(amount, currency)
    assert result == expected
    assert result.as_tuple().exponent == expected.as_tuple().exponent


@pytest.mark.parametrize(("currency", "exponent"), [("USD", 2), ("JPY", 0), ("BHD", 3)])
def test_currency_exponent(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("code", "expected"),
    [("EUR", True), ("USD", True), ("JPY", True), ("XYZ", False), ("eur", False), ("", False)],
)
def test_is_currency_code(code: str, expected: bool) -> None:
    assert is_currency_code(code) is expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("2500", True),
        ("+5", True),
        ("-5", True),
        ("$5", True),
        ("€20", True),
        ("£", True),
        ("¥", True),
        ("₹", True),
        ("₽", True),
        ("₩", True),
        ("₺", True),
        ("₪", True),
        ("₫", True),
        ("₱", True),
        ("₦", True),
        ("฿", True),
        ("٣", True),
        ("abc", False),
        ("EUR", False),
        ("@alice", False),
        ("", False),
        (".5", True),
        ("USD 800 headshots", True),
        ("usd 500 test", True),
        ("US$500 test", True),
        ("EUR300", True),
        ("great intro", False),
        ("all 3 intros", False),
        ("EUR rates", False),
        (". 5", False),
    ],
)
def test_looks_like_amount(word: str, expected: bool) -> None:
    assert looks_like_amount(word) is expected


@pytest.mark.parametrize(
    ("word", "currency", "expected"),
    [
        ("EUR", None, True),
        ("ALL", None, True),  # any code Babel knows, in capitals
        ("eur", None, True),
        ("Usd", None, True),  # the common ones in any case
        ("all", None, False),
        ("top", None, False),
        ("try", None, False),  # English words stay words in lower case
        ("try", "TRY", True),  # unless they are the group's own currency
        ("XYZ", None, False),
        ("EURO", None, False),
        ("€", None, False),
        ("ÉUR", None, False),
    ],
)
def test_is_code_word(word: str, currency: str | None, expected: bool) -> None:
    assert is_code_word(word, currency) is expected


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("2500 kitchen job", 1),
        ("2500 EUR kitchen job", 2),
        ("2500 eur kitchen job", 2),
        ("2500 all good", 1),
        ("2500 € dinner", 2),
        ("$ 2500 dinner", 2),
        ("- 5 dinner", 2),
        ("USD 800 headshots", 2),
        ("usd 800 USD headshots", 3),
        ("US$ 800 headshots", 2),
        ("US$800 headshots", 1),
        ("usd800 headshots", 1),
        ("2 500 test", 2),
        ("$2 500 000 test", 3),
        ("USD 2 500 EUR test", 4),
        ("2 500€ test", 2),
        ("20 100% happy", 1),
        ("2500 500 flyers", 1),  # 2500 cannot be followed by a group of thousands
        ("2,500 500 flyers", 1),
        ("great intro", 0),
        ("all 3 intros", 0),
        ("USD rates", 0),
        ("USD", 0),
        ("Ke$ha tickets", 0),
        ("", 0),
    ],
)
def test_amount_length(text: str, taken: int) -> None:
    assert amount_length(text.split(), "USD") == taken


cents = st.integers(min_value=1, max_value=10**11).map(lambda n: Decimal(n).scaleb(-2))
yen = st.integers(min_value=1, max_value=10**9).map(Decimal)


@given(cents)
def test_round_trip_usd(d: Decimal) -> None:
    assert parse_amount(format_money(d, "USD"), "USD") == d
    assert parse_amount(f"{d:,}", "USD") == d
    assert parse_amount(str(d), "USD") == d


@given(yen)
def test_round_trip_jpy(d: Decimal) -> None:
    assert parse_amount(format_money(d, "JPY"), "JPY") == d
    assert parse_amount(f"{d:,}", "JPY") == d
    assert parse_amount(str(d), "JPY") == d


currencies = st.sampled_from(["USD", "EUR", "JPY", "GBP", "CAD", "BHD"])
amountish = st.text(alphabet="0123456789.,+- $€£¥EURSDJPYxe_%")


@given(st.one_of(st.text(), amountish), currencies)
def test_parse_amount_only_raises_amount_error(text: str, currency: str) -> None:
    try:
        result = parse_amount(text, currency)
    except AmountError as exc:
        assert str(exc)
        return
    assert Decimal(0) < result <= MAX_AMOUNT
    assert result.as_tuple().exponent == -currency_exponent(currency)


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=3, allow_nan=False),
    st.sampled_from(["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "BHD", "INR", "SEK", "KWD"]),
)
def test_format_money_reads_exactly_as_babel_writes_it(amount: Decimal, currency: str) -> None:
    expected = format_currency(quantize(amount, currency), currency, locale="en_US")
    if quantize(amount, currency).is_zero():
        expected = expected.removeprefix("-")  # babel writes -$0.00 for a tiny negative
    assert format_money(amount, currency) == expected
