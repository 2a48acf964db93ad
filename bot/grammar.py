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
class Form:
    """One form of a command with sub-commands (`/settings timezone <IANA name>`), named by
    its second word, with an example of its own."""

    usage: str
    example: str

    @property
    def word(self) -> str:
        return self.usage.split()[1]


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
    forms: tuple[Form, ...] = ()  # sub-commands: an error in one shows that one

    def form_for(self, rest: str) -> Form | None:
        """The form whose word begins `rest` (the text after the command word), if any."""
        first = rest.split(None, 1)[0].lower() if rest.strip() else ""
        return next((form for form in self.forms if form.word == first), None)


class Malformed(ValueError):
    """A command that could not be parsed, with the spec (and the form of it that was
    meant, when known) to show the right form."""

    def __init__(self, reason: str, spec: Spec | None, form: Form | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.spec = spec
        self.form = form


SPECS: tuple[Spec, ...] = (
    Spec(
        "refer",
        "/refer @member <prospect, contact, need> [hot|warm|cold] [inside]",
        "Give a referral. The details go to the receiver privately; the group sees only that"
        " a referral was passed. /refer alone asks step by step in the private chat.",
        ("/refer @bob Jane Roe, 555-0100, new roof hot",),
        a.parse_refer,
    ),
    Spec(
        "thanks",
        "/thanks @member [amount] [note]",
        "Thank a member for closed business (TYFCB); with an amount it is credited to them."
        " /thanks alone asks step by step in the private chat.",
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
        "Move a referral you received; won with an amount thanks the giver (won again"
        " within 24 hours corrects the amount).",
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
        "ceu",
        "/ceu [what you learned]",
        "Log one CEU (continuing education: a training, a podcast, a book chapter).",
        ("/ceu podcast on asking for referrals",),
        a.parse_ceu,
    ),
    Spec(
        "scorecard",
        "/scorecard [@member]",
        "Your scorecard over the last 26 weeks: each component's points, the total, the"
        " colour and the step that would raise it most.",
        ("/scorecard", "/scorecard @bob"),
        a.parse_scorecard,
        more=(
            "/scorecard @member  (leaders: any member's)",
            "/scorecard group  (leaders: every member's colour and score, lowest first)",
        ),
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
            "/meeting attendance  (leaders: what was recorded)",
        ),
    ),
    Spec(
        "settings",
        "/settings",
        "Show the group's settings; leaders change one per command.",
        ("/settings",),
        a.parse_settings,
        forms=(
            Form("/settings timezone <IANA name>", "/settings timezone Europe/London"),
            Form("/settings currency <ISO 4217 code>", "/settings currency EUR"),
            Form("/settings reminders <lead>... | off", "/settings reminders 24h 1h"),
            Form(
                "/settings leaderboard <weekday> <HH:MM> | off",
                "/settings leaderboard friday 16:00",
            ),
            Form("/settings recognition on|off", "/settings recognition off"),
            Form("/settings nudges on|off", "/settings nudges off"),
            Form(
                "/settings milestones <amount>... | off", "/settings milestones 1000 10000 100000"
            ),
            Form("/settings leader @member", "/settings leader @bob"),
            Form("/settings member @member", "/settings member @bob"),
            Form("/settings remove @member", "/settings remove @bob"),
            Form(
                "/settings goal <referrals|business|visitors|onetoones|ceus>"
                " <number> <week|month|quarter|year> | <kind> off",
                "/settings goal referrals 40 month",
            ),
        ),
    ),
    Spec(
        "partners",
        "/partners [@member] [week|month|quarter|year|all]",
        "Reciprocity: for each member you exchanged referrals with, how many you gave and"
        " received, and the closed business each way (default: yours, all time).",
        ("/partners", "/partners @bob year"),
        a.parse_partners,
        more=("/partners group [week|month|quarter|year|all]  (leaders: who referred whom)",),
    ),
    Spec(
        "goals",
        "/goals",
        "The group's goals for this period: progress, the pace needed, on track or behind.",
        ("/goals",),
        a.no_arguments(c.ShowGoals()),
    ),
    Spec(
        "find",
        "/find <words>",
        "Who in the group can serve a need: matching classification, business or profile,"
        " best first; then who is looking for it.",
        ("/find roof leak",),
        a.parse_find,
    ),
    Spec(
        "mute",
        "/mute nudges",
        "Stop the private nudges to you (an open referral after 7 days, no referral in 4"
        " weeks; at most one a week) and the monthly scorecard.",
        ("/mute nudges",),
        a.parse_mute(True),
    ),
    Spec(
        "unmute",
        "/unmute nudges",
        "Restart the private nudges to you, and the monthly scorecard.",
        ("/unmute nudges",),
        a.parse_mute(False),
    ),
    Spec(
        "undo",
        "/undo",
        "Withdraw your own last entry (within 24 hours).",
        ("/undo", "/undo referral 12 entered twice"),
        a.parse_undo,
        more=(
            "/undo <referral|thanks|onetoone|visitor|ceu> <number> [reason]"
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
        raise Malformed(str(error), spec, spec.form_for(rest)) from error
