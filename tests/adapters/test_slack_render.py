"""Replies as Block Kit: escaping of everything typed, and Block Kit's limits."""

# ruff: noqa: F811  (the fixtures `slack` and `bot` are imported from slack_harness)

from __future__ import annotations

import pytest

from adapters.slack import render
from bot.messages import Button, Section, to_sender
from tests.adapters.slack_harness import MARKS, Harness, blocks_text, bot, slack  # noqa: F401

pytestmark = MARKS

RAW = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^S123>", "<@U3>")


async def test_typed_pings_and_markup_are_escaped_in_the_channel_post(bot: Harness) -> None:
    # What Slack sends for "@Bob 5 @channel @Carol *bold* & <b> @here @sales" typed.
    typed = "<@U2> 5 <!channel> <@U3|carol> *bold* &amp; &lt;b&gt; <!here> <!subteam^S1|@sales>"
    await bot.command("/thanks", typed)
    await bot.deliver()

    (post,) = bot.posts("C1")
    posted = f"{post['text']}\n{blocks_text(post['blocks'])}"
    assert "@channel" in posted and "@here" in posted and "@sales" in posted  # words only
    assert "@Carol" in posted  # a mention inside the note: the name, never a ping
    assert "&amp; &lt;b&gt;" in posted
    for raw in (*RAW, "<!subteam^S1", "<@U3", "U3|carol", "<b>", " & "):
        assert raw not in posted
    assert all(block["text"]["type"] == "plain_text" for block in post["blocks"] if "text" in block)


def test_escape_neutralises_every_control_character() -> None:
    assert render.escape("a & <!channel> > b") == "a &amp; &lt;!channel&gt; &gt; b"


def test_fit_never_cuts_an_entity() -> None:
    text = render.fit("&" * 100, 50)

    assert len(text) <= 50
    assert text.endswith("…")
    assert text[:-1].replace("&amp;", "") == ""


def test_long_lists_are_cut_with_a_more_line() -> None:
    lines = tuple(f"member {i:04d}: {'x' * 80}" for i in range(2000))
    buttons = tuple(Button(f"B{i}", f"/status {i} won") for i in range(30))
    reply = to_sender("Roster", Section("Members", lines), Section("More", ("y",)), buttons=buttons)

    blocks = render.blocks(reply)

    assert len(blocks) <= render.MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if "text" in b)
    text = blocks_text(blocks)
    assert "… and" in text
    assert sum(len(b["elements"]) for b in blocks if b["type"] == "actions") == 30


def test_many_replies_share_fifty_blocks() -> None:
    reply = to_sender("x", *(Section(f"S{i}", ("a",)) for i in range(40)))

    message = render.message([reply, reply])

    assert len(message["blocks"]) <= 50
    assert "more sections" in blocks_text(message["blocks"])


@pytest.mark.parametrize("style", ["primary", "danger", None])
def test_a_button_carries_its_command(style: str | None) -> None:
    element = render.button(Button("Won #3", "/status 3 won", prompt="amount", style=style), 4)

    assert element["value"] == "/status 3 won"
    assert element["action_id"] == "ask-4"
    assert element.get("style") == style
