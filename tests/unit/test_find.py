"""/find: classification, business or profile matched without case or accents, by stem,
best first; then who is looking for it; never a member of another group."""

from __future__ import annotations

from bot import find
from tests.conftest import Chat


async def roster(chat: Chat) -> None:
    await chat.say("rita", "/join Roofer")
    await chat.say("rita", "/profile business Rita's Roofs & Gutters")
    await chat.say("eli", "/join Électricien")
    await chat.say("eli", "/profile business Sparks Électrique ask landlords with old roofs")
    await chat.say("pat", "/join Plumber")
    await chat.say("pat", "/profile business Leak Busters")
    await chat.say("gus", "/join Gardener")


async def test_a_stem_finds_the_roofer_best_first_then_who_is_looking(chat: Chat) -> None:
    await roster(chat)
    (reply,) = await chat.say("gus", "/find roofs leaking")
    assert reply.text == "Found in chapter for 'roofs leaking':"
    serving, looking = reply.sections
    assert serving.title == "Can serve it"
    assert list(serving.lines) == [
        "Rita: Roofer, Rita's Roofs & Gutters",  # classification and business
        "Pat: Plumber, Leak Busters",  # business only
    ]
    assert (looking.title, list(looking.lines)) == (
        "Looking for it",
        ["Eli, looking for: landlords with old roofs"],
    )


async def test_accents_and_case_do_not_matter(chat: Chat) -> None:
    await roster(chat)
    (reply,) = await chat.say("gus", "/find ELECTRICIAN")
    assert list(reply.sections[0].lines) == ["Eli: Électricien, Sparks Électrique"]


async def test_nothing_found_suggests_members_and_other_groups_stay_out(chat: Chat) -> None:
    await roster(chat)
    other = Chat(chat.core, chat_id="other-chapter")
    await other.say("zoe", "/join Baker")
    assert await chat.text("gus", "/find bakery") == (
        "Nobody in chapter matches 'bakery'. /members lists everyone with their business."
    )
    assert "Zoe" in await other.text("zoe", "/find bakery")


def test_stems_and_plain_words() -> None:
    assert find.plain("Électricien Ça") == "electricien ca"
    assert {find.stem(w) for w in ("roofer", "roofs", "roofing", "roof")} == {"roof"}
    assert find.stem("bakery") == find.stem("Baker".lower()) == "bak"
    assert find.stems("I need a roofer for my leak") == {"roof", "leak"}
    assert find.score("roof leak", "Roofer", None, "Rita") == 3
    assert find.score("bakery", "Roofer", "Rita's Roofs", "Rita") == 0
