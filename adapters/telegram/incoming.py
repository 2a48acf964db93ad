"""Telegram messages as the core's `Incoming`: who, which chat, what command, which delivery.

A command is the message's leading `bot_command` entity (`/refer` or `/refer@OurBot`; one
addressed to another bot is not ours). Mentions are read from the entities, whose offsets
count UTF-16 code units: a `text_mention` (a user with no username) becomes the core's
`<@USER_ID>` with the user's name; an `@username` stays as typed and the core resolves it
among the members it has seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Chat, Message, MessageEntity, User

from bot.messages import ChatRef, Incoming, Platform, Sender


@dataclass(frozen=True, slots=True)
class CommandLine:
    """A command as the core reads it, and the users it mentions by id (id -> name)."""

    text: str
    mentioned: dict[str, str]


def chat_ref(
    chat: Chat, *, private_in_place: bool = True, message: Message | None = None
) -> ChatRef:
    """A Telegram chat as the core's chat; a private chat is one with the bot.
    `private_in_place` False: what is answered there is seen by the whole chat. With the
    `message`, its forum topic (`thread_id`) when it was sent in one."""
    private = chat.type == Chat.PRIVATE
    return ChatRef(Platform.TELEGRAM, str(chat.id), None, is_private=private,
                   title=None if private else chat.title,
                   private_in_place=private_in_place,
                   thread_id=topic_of(message) if message is not None else None)  # fmt: skip


def topic_of(message: Message) -> str | None:
    """The forum topic a message was sent in (None: the chat's General, or no forum)."""
    if message.is_topic_message and message.message_thread_id is not None:
        return str(message.message_thread_id)
    return None


def sender(user: User, *, is_admin: bool = False) -> Sender:
    """A Telegram user as the core's sender: known by id, named as Telegram shows them."""
    return Sender(str(user.id), user.full_name[:200] or str(user.id), username=user.username,
                  is_admin=is_admin)  # fmt: skip


def delivery_id(bot_id: int, update_id: int) -> str:
    """Telegram numbers updates per bot: with the bot's id, one delivery's own key."""
    return f"{bot_id}:{update_id}"


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def command_line(message: Message, bot_username: str) -> CommandLine | None:
    """The command in `message` with text mentions as `<@id>`, or None when the message
    is no command of ours (no leading command, or one addressed to another bot)."""
    text = message.text or ""
    entities = sorted(message.entities or (), key=lambda entity: entity.offset)
    if not entities or entities[0].type != MessageEntity.BOT_COMMAND or entities[0].offset:
        return None
    word = message.parse_entity(entities[0])
    name, _, addressee = word.partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None
    raw, pieces, mentioned, at = _utf16(text), [name.lower()], {}, entities[0].length * 2
    for entity in entities[1:]:
        if entity.type != MessageEntity.TEXT_MENTION or entity.user is None:
            continue
        start, end = entity.offset * 2, (entity.offset + entity.length) * 2
        pieces.append(raw[at:start].decode("utf-16-le"))
        user = entity.user
        if user.is_bot:  # bots are never members: written as a name, which resolves to none
            pieces.append("@" + message.parse_entity(entity))
        else:
            pieces.append(f"<@{user.id}>")
            mentioned[str(user.id)] = user.full_name[:200]
        at = end
    pieces.append(raw[at:].decode("utf-16-le"))
    return CommandLine("".join(pieces).strip(), mentioned)


def incoming(
    message: Message, line: CommandLine, bot_id: int, update_id: int, *, is_admin: bool
) -> Incoming:
    """The core's `Incoming` for a command message (its sender must be a person). A group
    has no answer only the sender sees: the core sends its answers to their private chat."""
    assert message.from_user is not None
    chat = chat_ref(message.chat, private_in_place=message.chat.type == Chat.PRIVATE,
                    message=message)  # fmt: skip
    return Incoming(
        chat, sender(message.from_user, is_admin=is_admin), line.text,
        delivery_id(bot_id, update_id), line.mentioned,
    )  # fmt: skip


def speaker_unknown(message: Message) -> bool:
    """True when Telegram does not say which person sent it: an anonymous group admin
    (the message's `sender_chat` is the group) or a post on behalf of a channel."""
    return message.sender_chat is not None or message.from_user is None
