"""How /find matches words to members: without case or accents, a word's stem is enough.

"roofs" finds "Roofer": both come down to the stem "roof". A member's classification
counts most, then their business, then their name; the words of their `ask` are matched
the same way, apart (they are looking for that kind of client).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Endings taken off a word to reach its stem, longest first ("roofers" -> "roof").
SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ists", "ians", "ers", "ing", "ist",
            "ian", "ies", "es", "er", "ed", "ic", "s", "y")  # fmt: skip
SHORTEST_STEM = 3
STOP_WORDS = frozenset({"a", "an", "and", "any", "for", "i", "in", "is", "it", "me", "my",
                        "need", "of", "on", "or", "our", "someone", "somebody", "the", "to",
                        "who", "with", "looking", "find"})  # fmt: skip
WEIGHTS = {"classification": 3, "business": 2, "name": 1}


def plain(text: str) -> str:
    """Lower case without accents: "Électricien" -> "electricien"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _strip(word: str) -> str:
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= SHORTEST_STEM:
            return word[: -len(suffix)]
    return word


def stem(word: str) -> str:
    """A word without its endings (two at most): "roofer", "roofs", "roofing" -> "roof";
    "bakery" and "baker" -> "bak"; "electrician" -> "electr"."""
    return _strip(_strip(word))


def stems(text: str | None) -> set[str]:
    """The stems of a text's words, stop words left out."""
    words = re.findall(r"\w+", plain(text or ""))
    return {stem(w) for w in words if w not in STOP_WORDS}


def _hits(wanted: Iterable[str], found: set[str]) -> int:
    """How many of the wanted stems a field has (a stem that starts another counts:
    "electric" finds "electrician")."""
    return sum(1 for w in wanted if any(f == w or f.startswith(w) for f in found))


def score(words: str, classification: str | None, business: str | None, name: str) -> int:
    """How well a member matches the words (0: not at all)."""
    wanted = stems(words)
    fields = {"classification": classification, "business": business, "name": name}
    return sum(WEIGHTS[k] * _hits(wanted, stems(v)) for k, v in fields.items())


def asks_for(words: str, ask: str | None) -> int:
    """How many of the words a member's ask has."""
    return _hits(stems(words), stems(ask))
