"""The arguments of each command: one parser per command, from words to a command object.

`bot.grammar` pairs each parser with its usage line; a parser raises `ParseError`
saying what was wrong, and the grammar adds the right form.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from bot import commands as c
from bot import parsing as p
from bot.goals import KINDS as GOAL_KINDS
from bot.goals import PERIODS as GOAL_PERIODS
from bot.money import AmountError, amount_length, is_currency_code, parse_amount
from bot.parsing import Args, ParseError
from bot.periods import Period

TEMPERATURES = ("hot", "warm", "cold")
STATUSES = ("contacted", "won", "lost")
ATTENDANCE = ("present", "absent", "late", "medical", "substitute")
RSVP = ("yes", "no", "substitute")
UNDO_KINDS = {
    "referral": "referral",
    "thanks": "thanks",
    "onetoone": "one_to_one",
    "one-to-one": "one_to_one",
    "121": "one_to_one",
    "visitor": "visitor",
    "ceu": "ceu",
}
CEU_NOTE_LIMIT = 500

Parser = Callable[[Args, str], c.Command]


def _amount(words: str, currency: str) -> Decimal:
    try:
        return parse_amount(words, currency)
    except AmountError as error:
        raise ParseError(str(error)) from error


def _take_amount(args: Args, currency: str) -> Decimal | None:
    """The amount the next words make (`bot.money.amount_length`), or None when they do not
    start like one."""
    taken = amount_length(args.text.split(), currency)
    if not taken:
        return None
    return _amount(" ".join(args.word() or "" for _ in range(taken)), currency)


def parse_refer(args: Args, currency: str) -> c.Command:
    if args.empty():  # guided steps in the private chat
        return c.StartSteps("refer")
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
    prospect = args.free(" ".join(words), "prospect")
    if not prospect:
        raise ParseError("Say who the prospect is, how to reach them and what they need.")
    return c.GiveReferral(receiver, prospect, temperature, inside)


def parse_thanks(args: Args, currency: str) -> c.Command:
    if args.empty():  # guided steps in the private chat
        return c.StartSteps("thanks")
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


def no_arguments(command: c.Command) -> Parser:
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
    amount = None
    if status == "won" and not args.empty():
        amount = _take_amount(args, currency)
        if amount is None:  # all that follows `won` is its amount: say what is wrong with it
            amount, args.text = _amount(args.text, currency), ""
    if not args.empty():
        raise ParseError("Only `won` takes an amount; nothing else may follow.")
    return c.MoveReferral(int(number_word), status, amount)


def parse_one_to_one(args: Args, currency: str) -> c.Command:
    member = args.member("the member you met")
    return c.LogOneToOne(member, args.rest("note"))


def parse_visitor(args: Args, currency: str) -> c.Command:
    text = args.free(args.text, "visitor", limit=400)
    name, _, business = text.partition(",")
    if not name.strip():
        raise ParseError("Give the visitor's name, then optionally a comma and their business.")
    if len(name.strip()) > 200 or len(business.strip()) > 200:
        raise ParseError("The name and the business take at most 200 characters each.")
    return c.LogVisitor(name.strip(), business.strip() or None)


def parse_ceu(args: Args, currency: str) -> c.Command:
    return c.LogCeu(args.rest("note", limit=CEU_NOTE_LIMIT))


def parse_scorecard(args: Args, currency: str) -> c.Command:
    if args.empty():
        return c.ShowScorecard()
    if (args.peek() or "").lower() == "group":
        args.word()
        if not args.empty():
            raise ParseError("/scorecard group takes nothing more.")
        return c.ShowScorecard(group=True)
    if not args.next_is_member():
        raise ParseError("Name a member (@name), or say group (leaders).")
    member = args.member()
    if not args.empty():
        raise ParseError("Name one member at a time.")
    return c.ShowScorecard(member)


def parse_join(args: Args, currency: str) -> c.Command:
    return c.Join(args.rest("classification", limit=100))


def parse_profile(args: Args, currency: str) -> c.Command:
    if args.empty():
        return c.ShowProfile()
    if args.next_is_member():
        member = args.member()
        if not args.empty():
            raise ParseError("Name one member to see their profile; you set only your own.")
        return c.ShowProfile(member)
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for word in args.text.split():
        key = word.lower()
        if key in ("classification", "business", "ask") and key not in fields:
            current = fields[key] = []
        elif current is None:
            raise ParseError(
                "Name the field first: classification, business or ask"
                " (or a member, to see their profile: /profile @bob)."
            )
        else:
            current.append(word)
    limits = {"classification": 100, "business": 200, "ask": 500}
    values = {k: args.free(" ".join(v), k, limit=limits[k]) for k, v in fields.items()}
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
        if args.empty():
            return c.ShowAttendance()
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
    if name in ("leader", "member", "remove"):
        member_args = Args(" ".join(words))
        ref = member_args.member()
        if not member_args.empty():
            raise ParseError("Name one member.")
        return c.RemoveMember(ref) if name == "remove" else c.SetRole(ref, name)
    if name == "timezone":
        if len(words) != 1:
            raise ParseError("Give one IANA timezone name.")
        zone = p.timezone_name(words[0])
        if zone is None:
            raise ParseError(f"'{words[0][:40]}' is not an IANA timezone name.")
        return c.ChangeSetting("timezone", zone)
    if name == "currency":
        if len(words) != 1:
            raise ParseError("Give one ISO 4217 currency code.")
        code = words[0].upper()
        if not is_currency_code(code):
            raise ParseError(f"'{words[0][:20]}' is not an ISO 4217 currency code.")
        return c.ChangeSetting("currency", code)
    if name == "reminders":
        if [w.lower() for w in words] == ["off"]:
            return c.ChangeSetting("reminders", ())
        if not words or len(words) > 5:
            raise ParseError("Give one to five lead times, or off.")
        leads = sorted({p.lead_minutes(w) for w in words}, reverse=True)
        return c.ChangeSetting("reminders", tuple(leads))
    if name == "leaderboard":
        if len(words) == 1 and words[0].lower() in ("off", "auto"):
            return c.ChangeSetting("leaderboard", words[0].lower())
        if len(words) != 2:
            raise ParseError("Give a weekday and a time, or off.")
        day, at = p.weekday(words[0]), p.clock_time(words[1])
        return c.ChangeSetting("leaderboard", (day, at))
    if name in ("recognition", "nudges"):
        if len(words) != 1:
            raise ParseError("Say on or off.")
        return c.ChangeSetting(name, p.switch(words[0]))
    if name == "goal":
        return _goal(words, currency)
    if name == "milestones":
        if [w.lower() for w in words] == ["off"]:
            return c.ChangeSetting("milestones", ())
        if not words or len(words) > 10:
            raise ParseError("Give one to ten amounts, or off.")
        return c.ChangeSetting("milestones", tuple(sorted({_amount(w, currency) for w in words})))
    raise ParseError(f"There is no setting '{name[:30]}'.")


def _goal(words: list[str], currency: str) -> c.Command:
    """`goal <kind> <number> <period>` or `goal <kind> off`."""
    kind = words[0].lower() if words else ""
    if kind not in GOAL_KINDS:
        shown = f"'{words[0][:20]}' is not a kind of goal" if words else "Name the kind of goal"
        raise ParseError(f"{shown}: use {', '.join(GOAL_KINDS)}.")
    rest = words[1:]
    if [w.lower() for w in rest] == ["off"]:
        return c.SetGoal(kind)
    if len(rest) < 2:
        raise ParseError("Give the goal's number and its period (week, month, quarter or year).")
    period = p.period(rest[-1])
    if period not in GOAL_PERIODS:
        raise ParseError(f"'{rest[-1][:20]}' is not a goal's period: use week, month, quarter or"
                         " year.")  # fmt: skip
    number = " ".join(rest[:-1])
    if kind == "business":
        target = _amount(number, currency)
    else:
        digits = number.replace(",", "")
        if not (digits.isascii() and digits.isdigit()) or int(digits) == 0 or len(digits) > 9:
            raise ParseError(f"'{number[:20]}' is not a number of {kind}: give a whole number"
                             " above 0, e.g. 40.")  # fmt: skip
        target = Decimal(int(digits))
    return c.SetGoal(kind, target, period)


def parse_partners(args: Args, currency: str) -> c.Command:
    if (args.peek() or "").lower() == "group":
        args.word()
        return c.ShowGroupPartners(_period_only(args))
    member = args.member() if args.next_is_member() else None
    return c.ShowPartners(member, _period_only(args))


def _period_only(args: Args) -> Period:
    word = args.word()
    if word is None:
        return Period.ALL
    period = p.period(word)
    if period is None:
        raise ParseError(f"'{word[:20]}' is not a period: use week, month, quarter, year or all.")
    if not args.empty():
        raise ParseError("Give at most one member and one period.")
    return period


def parse_find(args: Args, currency: str) -> c.Command:
    words = args.rest("words", limit=200)
    if not words:
        raise ParseError("Say what you are looking for, e.g. /find roof leak.")
    return c.FindMembers(words)


def parse_undo(args: Args, currency: str) -> c.Command:
    if args.empty():
        return c.Undo()
    kind = UNDO_KINDS.get((args.word() or "").lower())
    number = (args.word() or "").lstrip("#")
    if kind is None or not number.isascii() or not number.isdigit() or len(number) > 9:
        raise ParseError(
            "Name the entry: referral, thanks, onetoone, visitor or ceu, and its number."
        )
    return c.Undo(kind, int(number), args.rest("reason", limit=500))


def parse_mute(mute: bool) -> Parser:
    """`/mute nudges` or `/unmute nudges`: nudges are the one thing a member mutes."""

    def parse(args: Args, currency: str) -> c.Command:
        word = (args.word() or "").lower()
        if word != "nudges" or not args.empty():
            raise ParseError("Say what to " + ("mute" if mute else "unmute") + ": nudges.")
        return c.MuteNudges() if mute else c.UnmuteNudges()

    return parse


def parse_help(args: Args, currency: str) -> c.Command:
    word = (args.word() or "").lstrip("/").lower()
    return c.ShowHelp(word or None)
