"""The platform-neutral conversation model: what comes in and what goes out.

Adapters build an `Incoming` from a platform request and render `Reply`
objects back into the platform's own format. Nothing here knows Slack or
Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Platform(StrEnum):
    """The chat platforms a group can live on."""

    SLACK = "slack"
    TELEGRAM = "telegram"
    CONSOLE = "console"


class Audience(StrEnum):
    """Who sees a reply."""

    SENDER = "sender"  # only the person who sent the command (ephemeral / private)
    GROUP = "group"  # everyone in the group's chat
    MEMBER = "member"  # one member, privately (a DM)


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a message came from: one chat on one platform."""

    platform: Platform
    chat_id: str
    workspace_id: str | None = None
    is_private: bool = False
    title: str | None = None
    # False where the platform cannot show the sender an answer only they see (a Telegram
    # group): the core then sends its direct answers to their private chat, by the outbox.
    private_in_place: bool = True
    # The topic of a forum chat the message came from (Telegram's message_thread_id): the
    # group's notices of that command go to the same topic. None: the chat itself.
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """The person who sent a message, as the platform reports them."""

    user_id: str
    name: str
    username: str | None = None
    is_admin: bool = False
    timezone: str | None = None  # the person's own IANA zone when the platform says (Slack)
    # The platform's current display name (the member's name follows it); False where the
    # name is only how the person was typed in (the console: `--as alice` is Alice).
    name_is_current: bool = True


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message or button press, already translated by an adapter.

    `text` is the command as typed (``/refer <@U2> ...``); a button press
    carries the command its button stands for. Mentions of other users are
    written ``<@USER_ID>`` in the text; `mentioned` gives their display names
    when the adapter knows them. `delivery_id` is the platform's own id for
    this delivery, so that a redelivery is recognised.
    """

    chat: ChatRef
    sender: Sender
    text: str
    delivery_id: str
    mentioned: dict[str, str] = field(default_factory=dict)
    # A pressed button's data (`bot.buttons`); `text` is then what the presser typed with
    # it (an amount asked for), or "".
    button: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """A button that stands for a command; `prompt` asks the user for a value first.

    `data` is what it acts on in the core's model (`bot.buttons`): adapters send that
    back when it is pressed; a button without it sends its command as typed."""

    label: str
    command: str
    prompt: str | None = None
    style: str | None = None  # "primary" | "danger" | None
    data: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A titled block of lines; rendered as a Block Kit section or a paragraph."""

    title: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart to draw when the message is delivered (`bot.charts`): its kind and what it
    shows, as plain JSON data. Kept in the outbox with the message instead of a picture, so
    that the answer that queues it does not wait for the drawing."""

    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """One message for one audience. All text is plain; adapters escape it."""

    audience: Audience
    text: str
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    member_id: int | None = None  # the recipient when audience is MEMBER
    recipient_user_id: str | None = None  # their platform user id
    image: bytes | None = None
    image_name: str | None = None
    chart: Chart | None = None  # drawn into `image` on delivery

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form, for the outbox and stored answers (images are not stored; a
        chart to draw is, under `chart`, when there is one)."""
        found: dict[str, Any] = {
            "audience": self.audience.value,
            "text": self.text,
            "sections": [{"title": s.title, "lines": list(s.lines)} for s in self.sections],
            "buttons": [
                {
                    "label": b.label,
                    "command": b.command,
                    "prompt": b.prompt,
                    "style": b.style,
                    "data": b.data,
                }
                for b in self.buttons
            ],
            "member_id": self.member_id,
            "recipient_user_id": self.recipient_user_id,
        }
        if self.chart is not None:
            found["chart"] = {"kind": self.chart.kind, "data": self.chart.data}
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        """The inverse of `to_json`."""
        return cls(
            audience=Audience(data["audience"]),
            text=data["text"],
            sections=tuple(Section(s["title"], tuple(s["lines"])) for s in data["sections"]),
            buttons=tuple(Button(**b) for b in data["buttons"]),
            member_id=data.get("member_id"),
            recipient_user_id=data.get("recipient_user_id"),
            chart=Chart(chart["kind"], chart["data"]) if (chart := data.get("chart")) else None,
        )


def to_sender(text: str, *sections: Section, buttons: tuple[Button, ...] = ()) -> Reply:
    """A private answer to whoever sent the command."""
    return Reply(Audience.SENDER, text, tuple(sections), buttons)


def to_group(text: str, *sections: Section, image: bytes | None = None) -> Reply:
    """A notice in the group's chat."""
    return Reply(Audience.GROUP, text, tuple(sections), image=image)


class Recipient(Protocol):
    """A member as far as a private message needs them."""

    @property
    def id(self) -> int | None: ...

    @property
    def platform_user_id(self) -> str: ...


def to_member(
    member: Recipient,
    text: str,
    *sections: Section,
    buttons: tuple[Button, ...] = (),
    image: bytes | None = None,
    chart: Chart | None = None,
) -> Reply:
    """A private message to one member (with a PNG when `image`, or one drawn on delivery
    from `chart`)."""
    return Reply(
        Audience.MEMBER, text, tuple(sections), buttons, member_id=member.id,
        recipient_user_id=member.platform_user_id, image=image, chart=chart,
    )  # fmt: skip
