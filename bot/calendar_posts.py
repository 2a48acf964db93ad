"""The scheduled posts that follow the calendar rather than the meeting week: membership
anniversaries (daily, 09:00), the nudges check (daily, 10:00) and the monthly scorecards
(the 1st, 09:00): for each kind (`bot.due`), the parts of its `bot.occasions.Post` (the
kind, gather, compose, and what is written with the claim)."""

from __future__ import annotations

from typing import Any

from bot import anniversaries, monthly, nudges
from bot.due import ANNIVERSARIES, NUDGES, SCORECARDS

PARTS: dict[str, tuple[Any, ...]] = {
    ANNIVERSARIES.name: (ANNIVERSARIES, anniversaries.gather, anniversaries.compose),
    NUDGES.name: (NUDGES, nudges.gather, nudges.compose, nudges.written),
    SCORECARDS.name: (SCORECARDS, monthly.gather, monthly.compose),
}
