"""The command grammar: one `Spec` per command, used both to parse and to write `/help`.

Each spec's usage line is what an error shows, and what `/help` lists, so the
help can never drift from what the parser accepts.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from bot import arguments as a
from bot import commands as c
from bot.arguments import Parser
from bot.parsing import Args, ParseError


@dataclass(frozen=True)
class Spec:
    """A command: its name, how it is written, what it does, and its parser."""

    name: str
    usage: str
    summary: str
    examples: tuple[str, ...]
    parse: Parser
    aliases: tuple[str, ...] = ()
    more: tuple[str, ...] = ()  # further forms, e.g. the leaders' ones


class Malformed(ValueError):
    """A command that could not be parsed, with the spec to show the right form."""

    def __init__(self, reason: str, spec: Spec | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.spec = spec


SPECS: tuple[Spec, ...] = (
    Spec(
        "refer",
        "/refer @member <prospect, contact, need> [hot|warm|cold] [inside]",
        "Give a referral. The details go to the receiver privately; the group sees only that"
        " a referral was passed.",
        ("/refer @bob Jane Roe, 555-0100, new roof hot",),
        a.parse_refer,
    ),
    Spec(
        "thanks",
        "/thanks @member [amount] [note]",
        "Thank a member for closed business (TYFCB); with an amount it is credited to them.",
        ("/thanks @alice 2,500 kitchen job", "/thanks @alice great intro"),
        a.parse_thanks,
        aliases=("tyfcb",),
    ),
    Spec(
        "balance",
        "/balance [@member] [week|month|quarter|year|all]",
        "Referrals given and received, closed business, one-to-ones and visitors.",
        ("/balance", "/balance @bob month"),
        a.parse_balance,
    ),
    Spec(
        "leaderboard",
        "/leaderboard [week|month|quarter|year|all]",
        "The group's ranking: referrals given, closed business credited, one-to-ones"
        " (default: this quarter).",
        ("/leaderboard", "/leaderboard week"),
        a.parse_leaderboard,
    ),
    Spec(
        "referrals",
        "/referrals",
        "Your open referrals, given and received, with their numbers.",
        ("/referrals",),
        a.no_arguments(c.ListReferrals()),
    ),
    Spec(
        "status",
        "/status <referral number> <contacted|won|lost> [amount]",
        "Move a referral you received; won with an amount thanks the giver.",
        ("/status 12 contacted", "/status 12 won 4,000"),
        a.parse_status,
    ),
    Spec(
        "onetoone",
        "/onetoone @member [note]",
        "Log a one-to-one meeting.",
        ("/onetoone @carol coffee at the bakery",),
        a.parse_one_to_one,
        aliases=("121",),
    ),
    Spec(
        "visitor",
        "/visitor <name>[, business]",
        "Log a visitor you brought to a meeting.",
        ("/visitor Jane Roe, Roe Catering",),
        a.parse_visitor,
    ),
    Spec(
        "join",
        "/join [classification]",
        "Join the group; the classification is your profession (one member each).",
        ("/join Plumber",),
        a.parse_join,
    ),
    Spec(
        "profile",
        "/profile [classification ...] [business ...] [ask ...]",
        "Show or set your profile; ask is the referral you are looking for.",
        ("/profile business Doe Plumbing ask landlords with old buildings", "/profile @bob"),
        a.parse_profile,
        more=("/profile @member  (their profile)",),
    ),
    Spec(
        "members",
        "/members",
        "The roster: names, businesses, classifications and what each member is looking for.",
        ("/members",),
        a.no_arguments(c.ListMembers()),
    ),
    Spec(
        "leave",
        "/leave",
        "Leave the group; your entries stay in every total, under your name.",
        ("/leave",),
        a.no_arguments(c.Leave()),
    ),
    Spec(
        "meeting",
        "/meeting",
        "The next meeting and who said they will come.",
        ("/meeting", "/meeting rsvp yes"),
        a.parse_meeting,
        more=(
            "/meeting rsvp <yes|no|substitute>",
            "/meeting set <weekday> <HH:MM> [timezone] [place]  (leaders)",
            "/meeting off  (leaders)",
            "/meeting attendance @member <present|absent|late|medical|substitute>  (leaders)",
        ),
    ),
    Spec(
        "settings",
        "/settings",
        "Show the group's settings; leaders change one per command.",
        ("/settings", "/settings reminders 24h 1h"),
        a.parse_settings,
        more=(
            "/settings timezone <IANA name>",
            "/settings currency <ISO 4217 code>",
            "/settings reminders <lead>... | off",
            "/settings leaderboard <weekday> <HH:MM> | off",
            "/settings recognition on|off",
            "/settings nudges on|off",
            "/settings milestones <amount>...",
            "/settings leader @member",
            "/settings member @member",
            "/settings remove @member",
        ),
    ),
    Spec(
        "undo",
        "/undo",
        "Withdraw your own last entry (within 24 hours).",
        ("/undo", "/undo referral 12 entered twice"),
        a.parse_undo,
        more=(
            "/undo <referral|thanks|onetoone|visitor> <number> [reason]"
            "  (yours within 24 hours; leaders: any, with a reason)",
        ),
    ),
    Spec("help", "/help [command]", "The commands, with examples.", ("/help refer",), a.parse_help),
)

_BY_NAME: dict[str, Spec] = {key: spec for spec in SPECS for key in (spec.name, *spec.aliases)}


def spec_named(word: str) -> Spec | None:
    """The spec for a command word (with or without the slash, any case)."""
    return _BY_NAME.get(word.lstrip("/").lower())


def split_command(text: str) -> tuple[str, str]:
    """The command word (without `/` or a Telegram `@BotName`) and the rest."""
    head, _, rest = text.strip().partition(" ")
    word = head.lstrip("/").split("@", 1)[0].lower()
    return word, rest


def parse(text: str, currency: str, names: Mapping[str, str] | None = None) -> c.Command:
    """Parse one command. Raises `Malformed` with the reason and the right form.

    `names` (user id -> display name) writes mentions inside free text as names."""
    word, rest = split_command(text)
    spec = _BY_NAME.get(word)
    if spec is None:
        close = difflib.get_close_matches(word, list(_BY_NAME), n=1)
        hint = f" Did you mean /{close[0]}?" if close else ""
        shown = word[:30] or text.strip()[:30]
        raise Malformed(f"I don't know the command '{shown}'.{hint} Try /help.", None)
    try:
        return spec.parse(Args(rest, names), currency)
    except ParseError as error:
        raise Malformed(str(error), spec) from error
