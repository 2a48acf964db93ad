"""`bot.lines`: a line built from fields parses back to the command those fields mean."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot import commands as c
from bot import grammar, lines

BOB = c.MemberRef(user_id="U2")


@pytest.mark.parametrize("temperature", ["", *lines.TEMPERATURES])
@pytest.mark.parametrize("inside", [False, True])
def test_a_refer_line_reads_back_as_its_fields(temperature: str, inside: bool) -> None:
    line = lines.refer_line("<@U2>", "Jane Roe, 555-0100, new roof", temperature, inside)
    assert grammar.parse(line, "USD") == c.GiveReferral(
        BOB, "Jane Roe, 555-0100, new roof", temperature or None, inside
    )


@pytest.mark.parametrize(
    ("amount", "note", "expected"),
    [
        ("2,500", "kitchen job", c.ThankMember(BOB, Decimal("2500"), "kitchen job")),
        ("", "great intro", c.ThankMember(BOB, None, "great intro")),
        ("$40", "", c.ThankMember(BOB, Decimal("40"), None)),
        ("", "", c.ThankMember(BOB)),
    ],
)
def test_a_thanks_line_reads_back_as_its_fields(
    amount: str, note: str, expected: c.ThankMember
) -> None:
    assert lines.thanks_problems(amount, note) == {}
    assert grammar.parse(lines.thanks_line("<@U2>", amount, note), "USD") == expected


def test_a_note_that_starts_like_an_amount_is_flagged_not_joined() -> None:
    assert list(lines.thanks_problems("", "500 headshots")) == ["note"]
    assert "reads as the amount" in lines.thanks_problems("", "500 headshots")["note"]
    assert list(lines.thanks_problems("lots", "a note")) == ["amount"]


def test_a_status_line_reads_back_as_its_fields() -> None:
    assert grammar.parse(lines.status_line(12, "won", "4,000"), "USD") == c.MoveReferral(
        12, "won", Decimal("4000")
    )
    assert grammar.parse(lines.status_line(12, "contacted", " "), "USD") == c.MoveReferral(
        12, "contacted"
    )
