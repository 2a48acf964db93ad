"""Replies as Telegram HTML: escaped, within 4,096 characters, buttons within 64 bytes."""

from __future__ import annotations

from adapters.telegram.render import MAX_TEXT, callback_data, escape, keyboard, parts, split
from bot import buttons
from bot.messages import Audience, Button, Reply, Section
from tests.adapters.fake_telegram import html_error, visible_text


def test_user_text_cannot_inject_markup_or_mention() -> None:
    typed = '<b>bold</b> & <a href="x">link</a> @channel @bobby_b'
    shown = escape(typed)
    assert html_error(shown) is None
    assert "<b>" not in shown and "<a" not in shown
    assert "@channel" not in shown and "@bobby_b" not in shown
    assert visible_text(shown).replace("\u2060", "") == typed


def test_sections_are_bold_titles_over_their_lines() -> None:
    reply = Reply(Audience.SENDER, "Balance of Alice & Co",
                  (Section("All time", ("given 3", "received <2>")),))  # fmt: skip
    (part,) = parts([reply])
    assert part.html == "Balance of Alice &amp; Co\n<b>All time</b>\ngiven 3\nreceived &lt;2&gt;"
    assert html_error(part.html) is None


def test_long_answers_split_at_line_boundaries() -> None:
    lines = tuple(f"{i:04d} Member & business" for i in range(400))
    reply = Reply(Audience.SENDER, "Roster", (Section("Members", lines),),
                  (Button("More", "/members"),))  # fmt: skip
    out = parts([reply])
    assert len(out) > 1
    assert all(len(p.html) <= MAX_TEXT and html_error(p.html) is None for p in out)
    assert [p.keyboard is not None for p in out] == [False] * (len(out) - 1) + [True]
    shown = "\n".join(p.html for p in out).split("\n")
    assert shown[2:] == [line.replace("&", "&amp;") for line in lines]


def test_a_line_longer_than_a_message_is_cut_outside_entities() -> None:
    texts = split([escape("&" * 5000)])
    assert all(len(t) <= MAX_TEXT and html_error(t) is None for t in texts)
    assert "".join(texts) == "&amp;" * 5000


def test_buttons_within_telegrams_limits() -> None:
    fits = Button("Won", "/status 12 won")
    too_long = Button("Odd", "/status 12 won " + "9" * 60)
    markup, left_out = keyboard((fits, too_long))
    assert markup is not None and left_out == 1
    assert [b.callback_data for row in markup.inline_keyboard for b in row] == ["/status 12 won"]
    many = tuple(Button(f"#{i}", f"/status {i} won") for i in range(150))
    markup, left_out = keyboard(many)
    assert markup is not None and left_out == 50
    assert sum(len(row) for row in markup.inline_keyboard) == 100
    (part,) = parts([Reply(Audience.SENDER, "Referrals", buttons=many)])
    assert "and 50 more" in part.html


def test_a_button_sends_what_it_acts_on_and_a_prompting_one_asks_first() -> None:
    biggest = 2**63 - 1
    data = buttons.status(biggest, biggest, biggest, "contacted")
    won = buttons.status(biggest, biggest, biggest, "won")
    assert callback_data(Button("Contacted", "/status 1 contacted", data=data)) == data
    asked = callback_data(Button("Won", "/status 1 won", prompt="amount", data=won))
    assert asked is not None and asked == buttons.ASK + won
    assert len(asked.encode()) <= 64
