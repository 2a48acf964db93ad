"""The actions, one per command type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot import commands as c
from bot.actions import (
    find,
    goals,
    help,
    ledger,
    meetings,
    milestones,
    nudges,
    partners,
    reports,
    roster,
    scorecard,
    settings,
    steps,
    undo,
)
from bot.context import Context
from bot.messages import Reply
from bot.outside import Needs

# An action reads and writes in its unit of work; one that needs outside work first
# returns `Needs` and is run again with the result (`bot.outside`).
Action = Callable[[Context, Any], Awaitable[list[Reply] | Needs[Any]]]

ACTIONS: dict[type, Action] = {
    c.GiveReferral: ledger.give_referral,
    c.ThankMember: ledger.thank,
    c.MoveReferral: ledger.move_referral,
    c.ListReferrals: ledger.list_referrals,
    c.LogOneToOne: ledger.log_one_to_one,
    c.LogVisitor: ledger.log_visitor,
    c.LogCeu: ledger.log_ceu,
    c.ShowScorecard: scorecard.show_scorecard,
    c.ShowBalance: reports.show_balance,
    c.ShowLeaderboard: reports.show_leaderboard,
    c.Join: roster.join,
    c.UpdateProfile: roster.update_profile,
    c.ShowProfile: roster.show_profile,
    c.ListMembers: roster.list_members,
    c.Leave: roster.leave,
    c.ShowMeeting: meetings.show_meeting,
    c.AnswerMeeting: meetings.answer_meeting,
    c.ScheduleMeeting: meetings.schedule_meeting,
    c.CancelMeetings: meetings.cancel_meetings,
    c.RecordAttendance: meetings.record_attendance,
    c.ShowAttendance: meetings.show_attendance,
    c.ShowSettings: settings.show_settings,
    c.ChangeSetting: settings.change_setting,
    c.SetRole: settings.set_role,
    c.RemoveMember: roster.remove_member,
    c.Undo: undo.undo,
    c.ShowHelp: help.show_help,
    c.StartSteps: steps.start_steps,
    c.AnswerStep: steps.answer_step,
    c.PickGroup: steps.pick_group,
    c.ShowPartners: partners.show_partners,
    c.ShowGroupPartners: partners.show_group_partners,
    c.SetGoal: goals.set_goal,
    c.ShowGoals: goals.show_goals,
    c.FindMembers: find.find_members,
    c.MuteNudges: nudges.mute_nudges,
}

# Needs no group at all.
RECORDS_NOTHING = (c.ShowHelp,)
# Only reads the ledger: a redelivery simply reads it again, so no delivery id is kept.
READ_ONLY = (
    c.ShowBalance, c.ShowLeaderboard, c.ListReferrals, c.ListMembers, c.ShowMeeting,
    c.ShowSettings, c.ShowAttendance, c.ShowProfile, c.ShowScorecard, c.ShowPartners,
    c.ShowGroupPartners, c.ShowGoals, c.FindMembers,
)  # fmt: skip
# Make nobody a member (nor set a group up): reading, and leaving.
JOINS_NOBODY = (*READ_ONLY, c.Leave)
# What a member who left may still send besides reading: /join brings them back.
BRINGS_BACK = (c.Join,)


async def run(
    ctx: Context, command: c.Command, table: dict[type, Action] | None = None
) -> list[Reply] | Needs[Any]:
    """Carry out one parsed command (by `table`'s action for it: `ACTIONS` unless given),
    and tell the group of a goal or a milestone it reached."""
    result = await (table or ACTIONS)[type(command)](ctx, command)
    if isinstance(result, Needs) or ctx is None or type(command) not in goals.MOVES:
        return result
    told = await goals.recognise(ctx, command)
    return result + told + await milestones.recognise(ctx, command)
