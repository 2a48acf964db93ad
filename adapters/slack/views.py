"""Modals and the App Home tab, and what their submissions mean as command lines."""

from __future__ import annotations

import json
from typing import Any

from adapters.slack import render
from adapters.slack.render import plain
from bot import lines
from bot.messages import Reply

JsonDict = dict[str, Any]
MAX_VIEW_BLOCKS = 100


def _text_input(block_id: str, label: str, *, optional: bool = False, limit: int = 200) -> JsonDict:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label, 2000),
        "element": {"type": "plain_text_input", "action_id": "value", "max_length": limit},
    }


def _user_input(label: str) -> JsonDict:
    return {
        "type": "input",
        "block_id": "member",
        "label": plain(label, 2000),
        "element": {"type": "users_select", "action_id": "user"},
    }


def _modal(
    callback_id: str, title: str, submit: str, meta: str, blocks: list[JsonDict]
) -> JsonDict:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": meta,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def meta(chat: str | None, title: str | None = None, command: str | None = None) -> str:
    """What a modal remembers: the chat it was opened from and, for a prompt, the command."""
    return json.dumps({"chat": chat, "title": title, "cmd": command})


def refer_modal(private_metadata: str) -> JsonDict:
    options = [{"text": plain(t), "value": t} for t in lines.TEMPERATURES]
    inside = {"text": plain("The prospect is me (an inside referral)"), "value": "inside"}
    return _modal("refer", "Give a referral", "Give", private_metadata, [
        _user_input("Who gets the referral"),
        _text_input("prospect", "Prospect: who"),
        _text_input("contact", "How to reach them"),
        _text_input("need", "What they need", limit=500),
        {"type": "input", "block_id": "temperature", "optional": True,
         "label": plain("Temperature"),
         "element": {"type": "static_select", "action_id": "value", "options": options}},
        {"type": "input", "block_id": "inside", "optional": True, "label": plain("Inside"),
         "element": {"type": "checkboxes", "action_id": "value", "options": [inside]}},
    ])  # fmt: skip


def thanks_modal(private_metadata: str) -> JsonDict:
    return _modal("thanks", "Thank a member", "Thank", private_metadata, [
        _user_input("Who you thank"),
        _text_input("amount", "Closed business (amount), if any", optional=True, limit=40),
        _text_input("note", "Note", optional=True, limit=500),
    ])  # fmt: skip


def amount_modal(private_metadata: str, label: str) -> JsonDict:
    return _modal("amount", "Closed business", "Record", private_metadata, [
        {"type": "section", "text": plain(label)},
        _text_input("amount", "Amount", limit=40),
    ])  # fmt: skip


def _value(values: JsonDict, block_id: str) -> str:
    state = values.get(block_id, {}).get("value", {})
    return " ".join(str(state.get("value") or "").split())


def member_of(values: JsonDict) -> str:
    return str(values.get("member", {}).get("user", {}).get("selected_user") or "")


def refer_command(values: JsonDict) -> str:
    """`/refer <@U..> prospect, contact, need [temperature] [inside]` from the modal's state."""
    details = ", ".join(
        v for v in (_value(values, k) for k in ("prospect", "contact", "need")) if v
    )
    selected = values.get("temperature", {}).get("value", {}).get("selected_option")
    ticked = values.get("inside", {}).get("value", {}).get("selected_options") or []
    inside = any(option.get("value") == "inside" for option in ticked)
    temperature = str(selected["value"]) if selected else ""
    return lines.refer_line(f"<@{member_of(values)}>", details, temperature, inside)


def thanks_field_errors(values: JsonDict) -> dict[str, str]:
    """What the /thanks modal's fields would say wrongly once joined into one command line:
    an amount field that is not an amount, or (with no amount) a note that would be read
    as one. Keyed by block id, as Slack shows them under the fields."""
    return lines.thanks_problems(_value(values, "amount"), _value(values, "note"))


def thanks_command(values: JsonDict) -> str:
    """`/thanks <@U..> [amount] [note]` from the modal's state."""
    member = f"<@{member_of(values)}>"
    return lines.thanks_line(member, _value(values, "amount"), _value(values, "note"))


def amount_command(command: str, values: JsonDict) -> str:
    """The prompting button's command with the amount typed."""
    return f"{command} {_value(values, 'amount')}".strip()


def result_modal(replies: list[Reply]) -> JsonDict:
    """The core's answer, shown in place of the submitted modal."""
    return {
        "type": "modal",
        "title": plain("Referral bot", 24),
        "close": plain("Close", 24),
        "blocks": render.message(replies)["blocks"],
    }


def home_view(parts: list[list[Reply]], notice: list[Reply] | None = None) -> JsonDict:
    """The App Home tab: an optional notice, then each answer (the same answer only once)."""
    blocks: list[JsonDict] = []
    seen: set[str] = set()
    for replies in [notice or [], *parts]:
        key = json.dumps([r.to_json() for r in replies])
        if not replies or key in seen:
            continue
        seen.add(key)
        if blocks:
            blocks.append({"type": "divider"})
        room = min(render.MAX_BLOCKS, MAX_VIEW_BLOCKS - len(blocks))
        blocks.extend(render.message(replies, max_blocks=room)["blocks"])
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}
