"""Every command, in one place: how it is written and its help (`Spec`), and the action and
flags of each command type its parser makes (`Handler`).

To add a command: its type in `bot.commands`, its parser in `bot.arguments`, its action in
`bot.actions`, and one `define(...)` here. `reads(...)` is a handler that only reads;
`Handler(...)` one that records something. The core (`bot.service`), the grammar
(`bot.grammar`), `/help` and Telegram's command list all read `DEFINITIONS`; a test holds
that every command type has exactly one handler.
"""

from __future__ import annotations

from typing import Any, get_args

from bot import arguments as a
from bot import commands as c
from bot.actions import (
    find,
    goals,
    help,
    ledger,
    meetings,
    nudges,
    partners,
    reports,
    roster,
    scorecard,
    settings,
    steps,
    undo,
)
from bot.handlers import Definition, Handler, define, index, reads
from bot.specs import Form, Spec

DEFINITIONS: tuple[Definition, ...] = (
    define(
        Spec(
            "refer",
            "/refer @member <prospect, contact, need> [hot|warm|cold] [inside]",
            "Give a referral. The details go to the receiver privately; the group sees only that"
            " a referral was passed. /refer alone asks step by step in the private chat.",
            ("/refer @bob Jane Roe, 555-0100, new roof hot",),
            a.parse_refer,
        ),
        Handler(c.GiveReferral, ledger.give_referral),
    ),
    define(
        Spec(
            "thanks",
            "/thanks @member [amount] [note]",
            "Thank a member for closed business (TYFCB); with an amount it is credited to them."
            " /thanks alone asks step by step in the private chat.",
            ("/thanks @alice 2,500 kitchen job", "/thanks @alice great intro"),
            a.parse_thanks,
            aliases=("tyfcb",),
        ),
        Handler(c.ThankMember, ledger.thank),
    ),
    define(
        Spec(
            "balance",
            "/balance [@member] [week|month|quarter|year|all]",
            "Referrals given and received, closed business, one-to-ones and visitors.",
            ("/balance", "/balance @bob month"),
            a.parse_balance,
        ),
        reads(c.ShowBalance, reports.show_balance),
    ),
    define(
        Spec(
            "leaderboard",
            "/leaderboard [week|month|quarter|year|all]",
            "The group's ranking: referrals given, closed business credited, one-to-ones"
            " (default: this quarter).",
            ("/leaderboard", "/leaderboard week"),
            a.parse_leaderboard,
        ),
        reads(c.ShowLeaderboard, reports.show_leaderboard),
    ),
    define(
        Spec(
            "referrals",
            "/referrals",
            "Your open referrals, given and received, with their numbers.",
            ("/referrals",),
            a.no_arguments(c.ListReferrals()),
        ),
        reads(c.ListReferrals, ledger.list_referrals),
    ),
    define(
        Spec(
            "status",
            "/status <referral number> <contacted|won|lost> [amount]",
            "Move a referral you received; won with an amount thanks the giver (won again"
            " within 24 hours corrects the amount).",
            ("/status 12 contacted", "/status 12 won 4,000"),
            a.parse_status,
        ),
        Handler(c.MoveReferral, ledger.move_referral),
    ),
    define(
        Spec(
            "onetoone",
            "/onetoone @member [note]",
            "Log a one-to-one meeting.",
            ("/onetoone @carol coffee at the bakery",),
            a.parse_one_to_one,
            aliases=("121",),
        ),
        Handler(c.LogOneToOne, ledger.log_one_to_one),
    ),
    define(
        Spec(
            "visitor",
            "/visitor <name>[, business]",
            "Log a visitor you brought to a meeting.",
            ("/visitor Jane Roe, Roe Catering",),
            a.parse_visitor,
        ),
        Handler(c.LogVisitor, ledger.log_visitor),
    ),
    define(
        Spec(
            "ceu",
            "/ceu [what you learned]",
            "Log one CEU (continuing education: a training, a podcast, a book chapter).",
            ("/ceu podcast on asking for referrals",),
            a.parse_ceu,
        ),
        Handler(c.LogCeu, ledger.log_ceu),
    ),
    define(
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
        reads(c.ShowScorecard, scorecard.show_scorecard),
    ),
    define(
        Spec(
            "join",
            "/join [classification]",
            "Join the group; the classification is your profession (one member each).",
            ("/join Plumber",),
            a.parse_join,
        ),
        Handler(c.Join, roster.join, brings_back=True),
    ),
    define(
        Spec(
            "profile",
            "/profile [classification ...] [business ...] [ask ...]",
            "Show or set your profile; ask is the referral you are looking for.",
            ("/profile business Doe Plumbing ask landlords with old buildings", "/profile @bob"),
            a.parse_profile,
            more=("/profile @member  (their profile)",),
        ),
        Handler(c.UpdateProfile, roster.update_profile),
        reads(c.ShowProfile, roster.show_profile),
    ),
    define(
        Spec(
            "members",
            "/members",
            "The roster: names, businesses, classifications and what each member is looking for.",
            ("/members",),
            a.no_arguments(c.ListMembers()),
        ),
        reads(c.ListMembers, roster.list_members),
    ),
    define(
        Spec(
            "leave",
            "/leave",
            "Leave the group; your entries stay in every total, under your name.",
            ("/leave",),
            a.no_arguments(c.Leave()),
        ),
        Handler(c.Leave, roster.leave, joins=False),
    ),
    define(
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
        reads(c.ShowMeeting, meetings.show_meeting),
        Handler(c.AnswerMeeting, meetings.answer_meeting),
        Handler(c.ScheduleMeeting, meetings.schedule_meeting),
        Handler(c.CancelMeetings, meetings.cancel_meetings),
        Handler(c.RecordAttendance, meetings.record_attendance),
        reads(c.ShowAttendance, meetings.show_attendance),
    ),
    define(
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
                    "/settings milestones <amount>... | off",
                    "/settings milestones 1000 10000 100000",
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
        reads(c.ShowSettings, settings.show_settings),
        Handler(c.ChangeSetting, settings.change_setting),
        Handler(c.SetRole, settings.set_role),
        Handler(c.RemoveMember, roster.remove_member),
        Handler(c.SetGoal, goals.set_goal),
    ),
    define(
        Spec(
            "partners",
            "/partners [@member] [week|month|quarter|year|all]",
            "Reciprocity: for each member you exchanged referrals with, how many you gave and"
            " received, and the closed business each way (default: yours, all time).",
            ("/partners", "/partners @bob year"),
            a.parse_partners,
            more=("/partners group [week|month|quarter|year|all]  (leaders: who referred whom)",),
        ),
        reads(c.ShowPartners, partners.show_partners),
        # writes: its chart goes to the outbox (to the leader, privately) with the answer
        Handler(c.ShowGroupPartners, partners.show_group_partners, joins=False),
    ),
    define(
        Spec(
            "goals",
            "/goals",
            "The group's goals for this period: progress, the pace needed, on track or behind.",
            ("/goals",),
            a.no_arguments(c.ShowGoals()),
        ),
        reads(c.ShowGoals, goals.show_goals),
    ),
    define(
        Spec(
            "find",
            "/find <words>",
            "Who in the group can serve a need: matching classification, business or profile,"
            " best first; then who is looking for it.",
            ("/find roof leak",),
            a.parse_find,
        ),
        reads(c.FindMembers, find.find_members),
    ),
    define(
        Spec(
            "mute",
            "/mute nudges",
            "Stop the private nudges to you (an open referral after 7 days, no referral in 4"
            " weeks; at most one a week) and the monthly scorecard.",
            ("/mute nudges",),
            a.parse_mute(True),
        ),
        Handler(c.MuteNudges, nudges.mute_nudges),
    ),
    define(
        Spec(
            "unmute",
            "/unmute nudges",
            "Restart the private nudges to you, and the monthly scorecard.",
            ("/unmute nudges",),
            a.parse_mute(False),
        ),
        Handler(c.UnmuteNudges, nudges.unmute_nudges),
    ),
    define(
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
        Handler(c.Undo, undo.undo),
    ),
    define(
        Spec(
            "help",
            "/help [command]",
            "The commands, with examples.",
            ("/help refer",),
            a.parse_help,
        ),
        Handler(c.ShowHelp, help.show_help, needs_group=False),
    ),
    # No command word: guided steps start from a bare /refer or /thanks (or a Won button),
    # are answered by text in the private chat or by their buttons; a group button picks
    # where the private chat's commands go.
    define(
        None,
        Handler(c.StartSteps, steps.start_steps),
        Handler(c.AnswerStep, steps.answer_step),
        Handler(c.PickGroup, steps.pick_group),
    ),
)

SPECS: tuple[Spec, ...] = tuple(d.spec for d in DEFINITIONS if d.spec is not None)
HANDLERS: dict[type, Handler[Any]] = index(DEFINITIONS, get_args(c.Command))
