"""The command grammar: one `Spec` per command, used both to parse and to write `/help`.

Each spec's usage line is what an error shows, and what `/help` lists, so the
help can never drift from what the parser accepts.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from bot import commands as c
from bot import parsing as p
from bot.money import AmountError, is_currency_code, looks_like_amount, parse_amount
from bot.parsing import Args, ParseError

TEMPERATURES = ("hot", "warm", "cold")
STATUSES = ("contacted", "won", "lost")
ATTENDANCE = ("present", "absent", "late", "medical", "substitute")
RSVP = ("yes", "no", "substitute")
UNDO_KINDS = {
    "referral": "referral",
    "thanks": "thanks",
    "onetoone": "one_to_one",
    "121": "one_to_one",
    "visitor": "visitor",
}

Parser = Callable[[Args, str], c.Command]
# Currency codes read as such in lower case too after an amount (`500 eur`): the common ones,
# none of them an English word (unlike ALL, TOP, TRY, MAD, CUP or BOB, which stay note words).
WRITTEN_LOWER = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "NZD", "CHF", "INR", "CNY", "SEK",
                 "NOK", "DKK", "PLN", "ZAR", "BRL", "MXN", "SGD", "HKD", "AED")  # fmt: skip


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


def _amount(words: str, currency: str) -> c.Decimal:
    try:
        return parse_amount(words, currency)
    except AmountError as error:
        raise ParseError(str(error)) from error


def _take_amount(args: Args, currency: str) -> c.Decimal | None:
    """An amount if the next word starts like one, with a following ISO code if written."""
    first = args.peek()
    if first is None or not looks_like_amount(first):
        return None
    words = [args.word() or ""]
    following = args.peek() or ""
    if is_currency_code(following) or following.upper() in (currency, *WRITTEN_LOWER):
        words.append(args.word() or "")
    return _amount(" ".join(words), currency)


def parse_refer(args: Args, currency: str) -> c.Command:
    receiver = args.member("the member who gets the referral")
    words = args.text.split()
    temperature, inside = None, False
    while words and words[-1].lower() in (*TEMPERATURES, "inside", "outside"):
        flag = words.pop().lower()
        if flag in ("inside", "outside"):
            inside = flag == "inside"
        elif temperature is None:
            temperature = flag
        else:
            raise ParseError("Give one temperature: hot, warm or cold.")
    prospect = p.clean_text(" ".join(words), "prospect")
    if not prospect:
        raise ParseError("Say who the prospect is, how to reach them and what they need.")
    return c.GiveReferral(receiver, prospect, temperature, inside)


def parse_thanks(args: Args, currency: str) -> c.Command:
    member = args.member("the member you thank")
    amount = _take_amount(args, currency)
    return c.ThankMember(member, amount, args.rest("note"))


def parse_balance(args: Args, currency: str) -> c.Command:
    member = args.member() if args.next_is_member() else None
    if member is not None and args.next_is_member():
        raise ParseError("Name one member at a time.")
    period = None
    if not args.empty():
        word = args.word() or ""
        period = p.period(word)
        if period is None:
            raise ParseError(
                f"'{word[:20]}' is not a period: use week, month, quarter, year or all."
            )
    if member is None and args.next_is_member():
        member = args.member()
    if not args.empty():
        raise ParseError("Give at most one member and one period.")
    return c.ShowBalance(member, period)


def parse_leaderboard(args: Args, currency: str) -> c.Command:
    word = args.word()
    if word is None:
        return c.ShowLeaderboard()
    period = p.period(word)
    if period is None:
        raise ParseError(f"'{word[:20]}' is not a period: use week, month, quarter, year or all.")
    if not args.empty():
        raise ParseError("Give one period: week, month, quarter, year or all.")
    return c.ShowLeaderboard(period)


def _no_arguments(command: c.Command) -> Parser:
    def parse(args: Args, currency: str) -> c.Command:
        if not args.empty():
            raise ParseError("This command takes no arguments.")
        return command

    return parse


def parse_status(args: Args, currency: str) -> c.Command:
    number_word = (args.word() or "").lstrip("#")
    if not number_word.isascii() or not number_word.isdigit() or len(number_word) > 9:
        raise ParseError("Start with the referral's number (see /referrals).")
    status = (args.word() or "").lower()
    if status not in STATUSES:
        raise ParseError("The new status is contacted, won or lost.")
    amount = _take_amount(args, currency) if status == "won" else None
    if not args.empty():
        raise ParseError("Only `won` takes an amount; nothing else may follow.")
    return c.MoveReferral(int(number_word), status, amount)


def parse_one_to_one(args: Args, currency: str) -> c.Command:
    member = args.member("the member you met")
    return c.LogOneToOne(member, args.rest("note"))


def parse_visitor(args: Args, currency: str) -> c.Command:
    text = p.clean_text(args.text, "visitor", limit=400)
    name, _, business = text.partition(",")
    if not name.strip():
        raise ParseError("Give the visitor's name, then a comma and their business.")
    if len(name.strip()) > 200 or len(business.strip()) > 200:
        raise ParseError("The name and the business take at most 200 characters each.")
    return c.LogVisitor(name.strip(), business.strip() or None)


def parse_join(args: Args, currency: str) -> c.Command:
    return c.Join(args.rest("classification", limit=100))


def parse_profile(args: Args, currency: str) -> c.Command:
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for word in args.text.split():
        key = word.lower()
        if key in ("classification", "business", "ask") and key not in fields:
            current = fields[key] = []
        elif current is None:
            raise ParseError("Name the field first: classification, business or ask.")
        else:
            current.append(word)
    limits = {"classification": 100, "business": 200, "ask": 500}
    values = {k: p.clean_text(" ".join(v), k, limit=limits[k]) for k, v in fields.items()}
    if any(not v for v in values.values()):
        raise ParseError("Each field needs a value, e.g. business Doe Plumbing Ltd.")
    return c.UpdateProfile(values.get("classification"), values.get("business"), values.get("ask"))


def parse_meeting(args: Args, currency: str) -> c.Command:
    sub = (args.word() or "").lower()
    if not sub:
        return c.ShowMeeting()
    if sub == "off" and args.empty():
        return c.CancelMeetings()
    if sub == "set":
        day = p.weekday(args.word() or "(nothing)")
        at = p.clock_time(args.word() or "(nothing)")
        zone = p.timezone_name(args.peek() or "")
        if zone:
            args.word()
        return c.ScheduleMeeting(day, at, zone, args.rest("place", limit=200))
    if sub == "attendance":
        member = args.member()
        status = (args.word() or "").lower()
        if status not in ATTENDANCE or not args.empty():
            raise ParseError(f"Attendance is one of: {', '.join(ATTENDANCE)}.")
        return c.RecordAttendance(member, status)
    if sub == "rsvp":
        answer = (args.word() or "").lower()
        if answer not in RSVP or not args.empty():
            raise ParseError("Answer yes, no or substitute.")
        return c.AnswerMeeting(answer)
    raise ParseError("Use /meeting, /meeting set, /meeting off, /meeting attendance or rsvp.")


def parse_settings(args: Args, currency: str) -> c.Command:
    name = (args.word() or "").lower()
    if not name:
        return c.ShowSettings()
    words = args.text.split()
    args.text = ""
    if name in ("leader", "member"):
        member_args = Args(" ".join(words))
        ref = member_args.member()
        if not member_args.empty():
            raise ParseError("Name one member.")
        return c.SetRole(ref, name)
    if name == "timezone":
        zone = p.timezone_name(words[0]) if len(words) == 1 else None
        if zone is None:
            raise ParseError("Give one IANA timezone name, e.g. Europe/London.")
        return c.ChangeSetting("timezone", zone)
    if name == "currency":
        code = words[0].upper() if len(words) == 1 else ""
        if not is_currency_code(code):
            raise ParseError("Give one ISO 4217 currency code, e.g. EUR.")
        return c.ChangeSetting("currency", code)
    if name == "reminders":
        if [w.lower() for w in words] == ["off"]:
            return c.ChangeSetting("reminders", ())
        if not words or len(words) > 5:
            raise ParseError("Give one to five lead times, e.g. 24h 1h, or off.")
        leads = sorted({p.lead_minutes(w) for w in words}, reverse=True)
        return c.ChangeSetting("reminders", tuple(leads))
    if name == "leaderboard":
        if len(words) == 1 and words[0].lower() in ("off", "auto"):
            return c.ChangeSetting("leaderboard", words[0].lower())
        if len(words) != 2:
            raise ParseError("Give a weekday and a time, e.g. friday 16:00, or off.")
        day, at = p.weekday(words[0]), p.clock_time(words[1])
        return c.ChangeSetting("leaderboard", f"{day} {at:%H:%M}")
    if name in ("recognition", "nudges"):
        if len(words) != 1:
            raise ParseError("Say on or off.")
        return c.ChangeSetting(name, p.switch(words[0]))
    if name == "milestones":
        if [w.lower() for w in words] == ["off"]:
            return c.ChangeSetting("milestones", ())
        if not words or len(words) > 10:
            raise ParseError("Give one to ten amounts, e.g. 1000 5000 10000, or off.")
        return c.ChangeSetting("milestones", tuple(sorted({_amount(w, currency) for w in words})))
    raise ParseError(f"There is no setting '{name[:30]}'.")


def parse_undo(args: Args, currency: str) -> c.Command:
    if args.empty():
        return c.Undo()
    kind = UNDO_KINDS.get((args.word() or "").lower())
    number = (args.word() or "").lstrip("#")
    if kind is None or not number.isascii() or not number.isdigit() or len(number) > 9:
        raise ParseError("Name the entry: referral, thanks, onetoone or visitor, and its number.")
    return c.Undo(kind, int(number), args.rest("reason", limit=500))


def parse_help(args: Args, currency: str) -> c.Command:
    word = (args.word() or "").lstrip("/").lower()
    return c.ShowHelp(word or None)


SPECS: tuple[Spec, ...] = (
    Spec(
        "refer",
        "/refer @member <prospect, contact, need> [hot|warm|cold] [inside]",
        "Give a referral. The details go to the receiver privately; the group sees only that"
        " a referral was passed.",
        ("/refer @bob Jane Roe, 555-0100, new roof hot",),
        parse_refer,
    ),
    Spec(
        "thanks",
        "/thanks @member [amount] [note]",
        "Thank a member for closed business (TYFCB); with an amount it is credited to them.",
        ("/thanks @alice 2,500 kitchen job", "/thanks @alice great intro"),
        parse_thanks,
        aliases=("tyfcb",),
    ),
    Spec(
        "balance",
        "/balance [@member] [week|month|quarter|year|all]",
        "Referrals given and received, closed business, one-to-ones and visitors.",
        ("/balance", "/balance @bob month"),
        parse_balance,
    ),
    Spec(
        "leaderboard",
        "/leaderboard [week|month|quarter|year|all]",
        "The group's ranking: referrals given, closed business credited, one-to-ones"
        " (default: this quarter).",
        ("/leaderboard", "/leaderboard week"),
        parse_leaderboard,
    ),
    Spec(
        "referrals",
        "/referrals",
        "Your open referrals, given and received, with their numbers.",
        ("/referrals",),
        _no_arguments(c.ListReferrals()),
    ),
    Spec(
        "status",
        "/status <referral number> <contacted|won|lost> [amount]",
        "Move a referral you received; won with an amount thanks the giver.",
        ("/status 12 contacted", "/status 12 won 4,000"),
        parse_status,
    ),
    Spec(
        "onetoone",
        "/onetoone @member [note]",
        "Log a one-to-one meeting.",
        ("/onetoone @carol coffee at the bakery",),
        parse_one_to_one,
        aliases=("121",),
    ),
    Spec(
        "visitor",
        "/visitor <name>[, business]",
        "Log a visitor you brought to a meeting.",
        ("/visitor Jane Roe, Roe Catering",),
        parse_visitor,
    ),
    Spec(
        "join",
        "/join [classification]",
        "Join the group; the classification is your profession (one member each).",
        ("/join Plumber",),
        parse_join,
    ),
    Spec(
        "profile",
        "/profile [classification ...] [business ...] [ask ...]",
        "Show or set your profile; ask is the referral you are looking for.",
        ("/profile business Doe Plumbing ask landlords with old buildings",),
        parse_profile,
    ),
    Spec(
        "members",
        "/members",
        "The roster: names, businesses, classifications.",
        ("/members",),
        _no_arguments(c.ListMembers()),
    ),
    Spec(
        "meeting",
        "/meeting",
        "The next meeting and who said they will come.",
        ("/meeting", "/meeting rsvp yes"),
        parse_meeting,
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
        parse_settings,
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
        ),
    ),
    Spec(
        "undo",
        "/undo",
        "Withdraw your own last entry (within 24 hours).",
        ("/undo", "/undo referral 12 entered twice"),
        parse_undo,
        more=(
            "/undo <referral|thanks|onetoone|visitor> <number> [reason]"
            "  (yours within 24 hours; leaders: any, with a reason)",
        ),
    ),
    Spec("help", "/help [command]", "The commands, with examples.", ("/help refer",), parse_help),
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


def parse(text: str, currency: str) -> c.Command:
    """Parse one command. Raises `Malformed` with the reason and the right form."""
    word, rest = split_command(text)
    spec = _BY_NAME.get(word)
    if spec is None:
        close = difflib.get_close_matches(word, list(_BY_NAME), n=1)
        hint = f" Did you mean /{close[0]}?" if close else ""
        shown = word[:30] or text.strip()[:30]
        raise Malformed(f"I don't know the command '{shown}'.{hint} Try /help.", None)
    try:
        return spec.parse(Args(rest), currency)
    except ParseError as error:
        raise Malformed(str(error), spec) from error
