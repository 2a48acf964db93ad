"""Real Telegram `Update` JSON, exactly as the Bot API sends it, for tests.

Entities are found in the text as Telegram finds them (`/command`, `/command@Bot`,
`@username`) with offsets and lengths in UTF-16 code units, so an emoji before a
mention shifts them as it does in Telegram; `text_mention` entities (users with no
username) are given explicitly.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]
_update_ids = itertools.count(10_000)
_message_ids = itertools.count(1)
GROUP_ID = -1001234567890  # a supergroup
_ENTITY = re.compile(r"(?<![\w/@])(/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?|@[A-Za-z0-9_]{5,32})")


@dataclass(frozen=True)
class Person:
    """A Telegram user."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    is_bot: bool = False
    language_code: str | None = "en"

    def json(self) -> JsonDict:
        user: JsonDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


ALICE = Person(111, "Alice", "alice_a", "Archer")
BOB = Person(222, "Bob", "bobby_b")
CAROL = Person(333, "Carol")  # no username: mentioned with a text_mention entity
DAVE = Person(444, "Dave", "dave_admin")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_of(text: str, text_mentions: dict[str, Person] | None = None) -> list[JsonDict]:
    """The entities Telegram attaches to `text`, offsets in UTF-16 code units."""
    found: list[JsonDict] = []
    for match in _ENTITY.finditer(text):
        word = match.group(0)
        kind = "bot_command" if word.startswith("/") else "mention"
        if kind == "bot_command" and match.start() != 0:
            continue  # only a leading /command is a command
        found.append({"offset": utf16_len(text[: match.start()]), "length": utf16_len(word),
                      "type": kind})  # fmt: skip
    for shown, person in (text_mentions or {}).items():
        start = text.index(shown)
        found.append({"offset": utf16_len(text[:start]), "length": utf16_len(shown),
                      "type": "text_mention", "user": person.json()})  # fmt: skip
    return sorted(found, key=lambda entity: entity["offset"])


def chat_json(chat_id: int, title: str = "Chapter", *, forum: bool = False) -> JsonDict:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Someone"}
    kind = "supergroup" if chat_id < -(10**12) else "group"
    chat: JsonDict = {"id": chat_id, "type": kind, "title": title}
    if forum:
        chat["is_forum"] = True
    return chat


def message_json(
    sender: Person | None, text: str, *, chat_id: int = GROUP_ID, title: str = "Chapter",
    text_mentions: dict[str, Person] | None = None, thread_id: int | None = None,
    sender_chat: JsonDict | None = None, message_id: int | None = None,
) -> JsonDict:  # fmt: skip
    """A text message; in a private chat pass the sender's id as `chat_id`."""
    message: JsonDict = {
        "message_id": message_id or next(_message_ids),
        "date": int(time.time()),
        "chat": chat_json(chat_id, title, forum=thread_id is not None),
        "text": text,
    }
    if sender is not None:
        message["from"] = sender.json()
    if sender_chat is not None:
        message["sender_chat"] = sender_chat
    entities = entities_of(text, text_mentions)
    if entities:
        message["entities"] = entities
    if thread_id is not None:
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True
    return message


def update(**content: Any) -> JsonDict:
    """An Update with a fresh `update_id` and one content field (`message=...`, ...)."""
    return {"update_id": next(_update_ids), **content}


def command(sender: Person, text: str, **kwargs: Any) -> JsonDict:
    """An Update holding a message with a command, as sent in a group (or privately)."""
    return update(message=message_json(sender, text, **kwargs))


def private_command(sender: Person, text: str) -> JsonDict:
    return update(message=message_json(sender, text, chat_id=sender.id))


def edited(original: JsonDict, new_text: str) -> JsonDict:
    """The `edited_message` update for a message sent earlier."""
    message = dict(original["message"], text=new_text, edit_date=int(time.time()))
    message["entities"] = entities_of(new_text)
    return update(edited_message=message)


def anonymous_admin(text: str, chat_id: int = GROUP_ID) -> JsonDict:
    """A command sent by an anonymous group admin: `from` is GroupAnonymousBot and
    `sender_chat` is the group itself."""
    anonymous = Person(1087968824, "Group", "GroupAnonymousBot", is_bot=True)
    return update(message=message_json(anonymous, text, chat_id=chat_id,
                                       sender_chat=chat_json(chat_id)))  # fmt: skip


def callback(sender: Person, data: str, message: JsonDict, query_id: str | None = None
             ) -> JsonDict:  # fmt: skip
    """A button press on `message` (a Message JSON as the bot sent it)."""
    return update(callback_query={
        "id": query_id or f"cq{next(_update_ids)}", "from": sender.json(),
        "chat_instance": "42", "data": data, "message": message,
    })  # fmt: skip


def migrated(old_chat_id: int, new_chat_id: int) -> JsonDict:
    """The service message in the old group when it became a supergroup."""
    return update(message={
        "message_id": next(_message_ids), "date": int(time.time()),
        "chat": chat_json(old_chat_id), "from": ALICE.json(),
        "migrate_to_chat_id": new_chat_id,
    })  # fmt: skip


def my_chat_member(bot: JsonDict, chat_id: int, old: str, new: str, by: Person = ALICE
                   ) -> JsonDict:  # fmt: skip
    """The bot's own membership changed (added: member; removed: left or kicked)."""

    def member(status: str) -> JsonDict:
        entry: JsonDict = {"status": status, "user": bot}
        if status == "kicked":
            entry["until_date"] = 0
        return entry

    return update(my_chat_member={
        "chat": chat_json(chat_id), "from": by.json(), "date": int(time.time()),
        "old_chat_member": member(old), "new_chat_member": member(new),
    })  # fmt: skip
