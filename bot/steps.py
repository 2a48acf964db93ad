"""Guided steps: `/refer` or `/thanks` with no text, built question by question in the
private chat, ending in exactly the command a member could have typed.

- refer: the member (a keyboard of the group's members), the prospect (a reply), the
  temperature (a keyboard, or none);
- thanks: the member, the amount (a reply, `-` for none), the note (a reply, `-` for none);
- amount: a Won button's amount (a reply, `-` for none), for a platform with no form.

The state is plain data (stored as JSON with the person's private chat, `storage.private`)
and expires 10 minutes after the last answer. What is asked next and the final command
line are decided here; adapters only show the keyboards and pass the replies on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import timedelta

from bot import buttons, lines
from bot.lines import TEMPERATURES
from bot.messages import Button, Reply, to_sender

EXPIRES = timedelta(minutes=10)
NONE_WORDS = ("-", "none", "no", "skip")
NO_TEMPERATURE = "none"
STAGES = {
    "refer": ("member", "prospect", "temperature"),
    "thanks": ("member", "amount", "note"),
    "amount": ("amount",),
}
EXPIRED = (
    "Those steps are over or expired (they last 10 minutes); nothing was recorded. "
    "Send /refer or /thanks again to start afresh."
)


class StepRefused(Exception):
    """An answer that does not fit the question; the question stands."""


@dataclass(frozen=True, slots=True)
class Choice:
    """A member one can pick: their id, platform user id, name and how one mentions them."""

    member_id: int
    user_id: str
    name: str
    username: str | None = None


@dataclass(frozen=True, slots=True)
class State:
    """Where the steps are: what they build, the stage reached, the answers so far."""

    kind: str
    stage: str
    values: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "stage": self.stage, "values": self.values})

    @classmethod
    def from_json(cls, text: str) -> State:
        data = json.loads(text)
        return cls(data["kind"], data["stage"], dict(data["values"]))

    @property
    def done(self) -> bool:
        return self.stage == ""


def start(kind: str, **values: str) -> State:
    """The first stage of `kind`'s steps."""
    return State(kind, STAGES[kind][0], dict(values))


def _next(state: State, **values: str) -> State:
    stages = STAGES[state.kind]
    at = stages.index(state.stage) + 1
    return replace(state, stage=stages[at] if at < len(stages) else "",
                   values={**state.values, **values})  # fmt: skip


def question(
    state: State, group_id: int, member_id: int, token: str, choices: list[Choice]
) -> Reply:
    """The next question, with its keyboard (each button names these steps' `token`)."""

    def pick(label: str, choice: str) -> Button:
        return Button(label, "", data=buttons.step(group_id, member_id, token, choice))

    if state.stage == "member":
        what = "the referral" if state.kind == "refer" else "your thanks"
        if not choices:
            return to_sender("There is nobody else in the group yet to pick.")
        keyboard = tuple(pick(c.name, buttons.encode_int(c.member_id)) for c in choices)
        return to_sender(f"Who gets {what}? Pick the member:", buttons=keyboard)
    if state.stage == "prospect":
        return to_sender(
            f"Referral to {state.values['name']}: reply with the prospect: who, how to reach "
            "them and what they need (e.g. Jane Roe, 555-0100, new roof)."
        )
    if state.stage == "temperature":
        keyboard = tuple(pick(t.capitalize(), t) for t in TEMPERATURES)
        return to_sender("How warm is it?", buttons=(*keyboard, pick("No temperature",
                                                                     NO_TEMPERATURE)))  # fmt: skip
    if state.stage == "amount" and state.kind == "amount":
        return to_sender(f"Referral #{state.values['number']} won: reply with the amount of "
                         "closed business (e.g. 2,500), or - for none.")  # fmt: skip
    if state.stage == "amount":
        return to_sender(f"Thanks to {state.values['name']}: reply with the amount of closed "
                         "business (e.g. 2,500), or - for recognition only.")  # fmt: skip
    return to_sender("Reply with a note for your thanks (e.g. the kitchen job), or - for none.")


def take(state: State, text: str, choice: str | None, choices: list[Choice]) -> State:
    """The state after an answer: `choice` from a button, else the `text` replied."""
    text = " ".join(text.split())
    if state.stage == "member":  # a button, or the member's name as written
        named = text.removeprefix("@").lower()
        picked = next((c for c in choices if (choice is not None
                       and buttons.encode_int(c.member_id) == choice) or (choice is None and named
                       and named in (c.name.lower(), (c.username or "").lower()))),
                      None)  # fmt: skip
        if picked is None:
            raise StepRefused("Pick the member with one of the buttons above (or send their name).")
        mention = picked.username or picked.name
        return _next(state, user_id=picked.user_id, name=picked.name, mention=mention)
    if state.stage == "temperature":  # a button, or the word
        word = choice if choice is not None else text.lower()
        word = NO_TEMPERATURE if word in NONE_WORDS else word
        if word not in (*TEMPERATURES, NO_TEMPERATURE):
            raise StepRefused("Pick the temperature with one of the buttons above (or send "
                              "hot, warm, cold or -).")  # fmt: skip
        return _next(state, temperature="" if word == NO_TEMPERATURE else word)
    if choice is not None or not text:
        raise StepRefused("Reply with text to the question above.")
    if text.startswith("/"):
        raise StepRefused("That is a command, not an answer: reply with text, or send the "
                          "command again once these steps are done.")  # fmt: skip
    value = "" if text.lower() in NONE_WORDS else text
    if state.stage == "prospect" and not value:
        raise StepRefused("A referral needs its prospect: who, how to reach them, the need.")
    return _next(state, **{state.stage: value})


def command_line(state: State) -> tuple[str, str, dict[str, str]]:
    """The finished command: as the core reads it (the member by id), as a member would
    type it (`@name`), and the mention's name by id."""
    v = state.values
    if state.kind == "amount":
        line = lines.status_line(v["number"], "won", v["amount"])
        return line, line, {}

    def written(member: str) -> str:
        if state.kind == "refer":
            return lines.refer_line(member, v["prospect"], v["temperature"])
        return lines.thanks_line(member, v["amount"], v["note"])

    return written(f"<@{v['user_id']}>"), written(f"@{v['mention']}"), {v["user_id"]: v["name"]}
