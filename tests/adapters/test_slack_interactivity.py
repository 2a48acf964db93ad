"""Modals and buttons: /refer and /thanks without text, status buttons, Won asks the amount."""

# ruff: noqa: F811  (the fixtures `slack` and `bot` are imported from slack_harness)

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from bot.buttons import decode
from storage.tables import Referral, Thanks
from tests.adapters.slack_harness import (  # noqa: F401
    MARKS,
    Harness,
    blocks_text,
    bot,
    slack,
    view_of,
)
from tests.adapters.slack_requests import block_action, view_submission

pytestmark = MARKS


async def _referral(bot: Harness, number: int = 1) -> Referral:
    async with bot.db.transaction() as session:
        found = (await session.exec(select(Referral).where(Referral.number == number))).one()
    return found


async def _thanks(bot: Harness) -> list[Thanks]:
    async with bot.db.transaction() as session:
        return list((await session.exec(select(Thanks))).all())


def _buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (block["block_id"], element)
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


async def test_refer_without_text_opens_the_modal_and_its_submission_records(
    bot: Harness,
) -> None:
    response = await bot.command("/refer", "")
    assert response.text == ""
    modal = view_of(bot.slack.calls_to("views.open")[0].args)
    assert modal["callback_id"] == "refer"
    assert {b["block_id"] for b in modal["blocks"]} >= {"member", "prospect", "temperature"}

    state = {
        "member": {"user": {"type": "users_select", "selected_user": "U2"}},
        "prospect": {"value": {"type": "plain_text_input", "value": "Jane Roe"}},
        "contact": {"value": {"type": "plain_text_input", "value": "555-0100"}},
        "need": {"value": {"type": "plain_text_input", "value": "a new roof"}},
        "temperature": {"value": {"type": "static_select", "selected_option": {"value": "hot"}}},
        "inside": {"value": {"type": "checkboxes", "selected_options": []}},
    }
    submitted = await bot.post(view_submission("refer", state, modal["private_metadata"]))

    body = submitted.json()
    assert body["response_action"] == "update"
    assert "Referral #1 to Bob Baker recorded (hot)" in blocks_text(body["view"]["blocks"])
    referral = await _referral(bot)
    assert (referral.prospect, referral.temperature, referral.inside) == (
        "Jane Roe, 555-0100, a new roof", "hot", False,
    )  # fmt: skip
    await bot.deliver()
    # the group notice (and the first referral's milestone) went to the channel it came from
    assert len(bot.posts("C1")) == 2


@pytest.mark.parametrize("command", ["/thanks", "/tyfcb"])
async def test_thanks_without_text_opens_a_modal_too(bot: Harness, command: str) -> None:
    await bot.command(command, "")
    modal = view_of(bot.slack.calls_to("views.open")[0].args)
    state = {
        "member": {"user": {"type": "users_select", "selected_user": "U3"}},
        "amount": {"value": {"type": "plain_text_input", "value": "1,200"}},
        "note": {"value": {"type": "plain_text_input", "value": "bakery fit-out"}},
    }

    response = await bot.post(view_submission("thanks", state, modal["private_metadata"]))

    assert "Thanks to Carol recorded" in blocks_text(response.json()["view"]["blocks"])
    (thanks,) = await _thanks(bot)
    assert (thanks.amount, thanks.note) == (Decimal("1200"), "bakery fit-out")


@pytest.mark.parametrize(
    ("amount", "note", "field"),
    [
        ("", "3 new clients thanks to you", "note"),  # would be read as an amount of 3
        ("", "$ well spent", "note"),
        ("lots", "bakery fit-out", "amount"),  # would be read as the note
    ],
)
async def test_thanks_modal_fields_that_would_be_misread_are_flagged(
    bot: Harness, amount: str, note: str, field: str
) -> None:
    await bot.command("/thanks", "")
    modal = view_of(bot.slack.calls_to("views.open")[0].args)
    state = {
        "member": {"user": {"type": "users_select", "selected_user": "U3"}},
        "amount": {"value": {"type": "plain_text_input", "value": amount or None}},
        "note": {"value": {"type": "plain_text_input", "value": note}},
    }

    response = await bot.post(view_submission("thanks", state, modal["private_metadata"]))

    body = response.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [field]
    assert await _thanks(bot) == []


async def test_thanks_modal_note_alone_is_recognition(bot: Harness) -> None:
    await bot.command("/thanks", "")
    modal = view_of(bot.slack.calls_to("views.open")[0].args)
    state = {
        "member": {"user": {"type": "users_select", "selected_user": "U3"}},
        "amount": {"value": {"type": "plain_text_input", "value": None}},
        "note": {"value": {"type": "plain_text_input", "value": "great intro, 3 leads"}},
    }

    await bot.post(view_submission("thanks", state, modal["private_metadata"]))

    (thanks,) = await _thanks(bot)
    assert (thanks.amount, thanks.note) == (None, "great intro, 3 leads")


async def test_referrals_buttons_move_the_status(bot: Harness) -> None:
    await bot.command("/refer", "<@U2> Acme, 555-1, roof")
    listed = (await bot.command("/referrals", user_id="U2", user_name="bob")).json()
    buttons = {e["text"]["text"]: (block_id, e) for block_id, e in _buttons(listed["blocks"])}
    _, contacted = buttons["Contacted #1"]
    assert contacted["action_id"].startswith("cmd-")
    press = decode(contacted["value"])  # the button names its group, referral and receiver
    assert press is not None and (press.number, press.choice) == (1, "contacted")
    referral = await _referral(bot)
    assert (press.group_id, press.member_id) == (referral.group_id, referral.receiver_id)

    # pressed in a DM, from a block that names no channel of the group: the value still does
    click = block_action(
        contacted["action_id"], contacted["value"], block_id="actions", user_id="U2",
        user_name="bob", channel_id="DU2", channel_name="directmessage",
        response_url=bot.slack.response_url("click"),
    )  # fmt: skip
    response = await bot.post(click)

    assert response.status_code == 200
    assert (await _referral(bot)).status == "contacted"
    (answer,) = bot.slack.responses_to("click")
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert "Referral #1 is now contacted" in blocks_text(answer["blocks"])


async def test_won_asks_the_amount_and_records_the_thanks(bot: Harness) -> None:
    await bot.command("/refer", "<@U2> Acme, 555-1, roof")
    await bot.deliver()
    (dm,) = bot.posts("DU2")  # the receiver's DM carries the status buttons
    block_id, won = next((b, e) for b, e in _buttons(dm["blocks"]) if "won" in e["value"])
    assert won["action_id"].startswith("ask-")

    click = block_action(
        won["action_id"], won["value"], block_id=block_id, user_id="U2", user_name="bob",
        channel_id="DU2", channel_name="directmessage",
    )  # fmt: skip
    assert (await bot.post(click)).status_code == 200
    modal = view_of(bot.slack.calls_to("views.open")[0].args)
    assert modal["callback_id"] == "amount"
    assert await _thanks(bot) == []

    amount = {"amount": {"value": {"type": "plain_text_input", "value": "4,000"}}}
    response = await bot.post(
        view_submission("amount", amount, modal["private_metadata"], user_id="U2")
    )

    assert "Referral #1 is now won" in blocks_text(response.json()["view"]["blocks"])
    assert (await _referral(bot)).status == "won"
    (thanks,) = await _thanks(bot)
    assert thanks.amount == Decimal("4000")


async def test_a_button_clicked_twice_records_once(bot: Harness) -> None:
    await bot.command("/refer", "<@U2> Acme, 555-1, roof")
    click = block_action(
        "cmd-0", "/status 1 lost", block_id="C1.0", user_id="U2", trigger_id="1.2.same",
        response_url=bot.slack.response_url("c"),
    )  # fmt: skip

    await bot.post(click)
    await bot.post(click)

    assert (await _referral(bot)).status == "lost"
    answers = bot.slack.responses_to("c")
    assert len(answers) == 2
    assert blocks_text(answers[0]["blocks"]) == blocks_text(answers[1]["blocks"])


async def test_a_click_in_app_home_refreshes_it(bot: Harness) -> None:
    await bot.command("/refer", "<@U2> Acme, 555-1, roof")
    home = {"id": "VHOME", "type": "home"}

    click = block_action("cmd-0", "/status 1 contacted", block_id="x.0", user_id="U2", view=home)
    await bot.post(click)

    assert (await _referral(bot)).status == "contacted"
    view = view_of(bot.slack.calls_to("views.publish")[0].args)
    assert "Referral #1 is now contacted" in blocks_text(view["blocks"])
