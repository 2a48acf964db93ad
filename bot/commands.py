"""What a member asked for, parsed: one dataclass per command, named in the imperative."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from bot.periods import Period


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A member as written in a command: a platform user id (a mention) or a name."""

    user_id: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        return f"@{self.name}" if self.name else f"<@{self.user_id}>"


@dataclass(frozen=True, slots=True)
class GiveReferral:
    receiver: MemberRef
    prospect: str
    temperature: str | None = None
    inside: bool = False


@dataclass(frozen=True, slots=True)
class ThankMember:
    member: MemberRef
    amount: Decimal | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ShowBalance:
    member: MemberRef | None = None
    period: Period | None = None


@dataclass(frozen=True, slots=True)
class ShowLeaderboard:
    period: Period = Period.QUARTER


@dataclass(frozen=True, slots=True)
class ListReferrals:
    pass


@dataclass(frozen=True, slots=True)
class MoveReferral:
    number: int
    status: str
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LogOneToOne:
    member: MemberRef
    note: str | None = None


@dataclass(frozen=True, slots=True)
class LogVisitor:
    name: str
    business: str | None = None


@dataclass(frozen=True, slots=True)
class LogCeu:
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ShowScorecard:
    member: MemberRef | None = None  # None: the sender's own
    group: bool = False  # leaders: every member's colour and score


@dataclass(frozen=True, slots=True)
class Join:
    classification: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateProfile:
    classification: str | None = None
    business: str | None = None
    ask: str | None = None


@dataclass(frozen=True, slots=True)
class ShowProfile:
    member: MemberRef | None = None  # None: the sender's own


@dataclass(frozen=True, slots=True)
class ListMembers:
    pass


@dataclass(frozen=True, slots=True)
class Leave:
    pass


@dataclass(frozen=True, slots=True)
class ShowMeeting:
    pass


@dataclass(frozen=True, slots=True)
class ScheduleMeeting:
    weekday: int
    at: time
    timezone: str | None = None
    place: str | None = None


@dataclass(frozen=True, slots=True)
class CancelMeetings:
    pass


@dataclass(frozen=True, slots=True)
class RecordAttendance:
    member: MemberRef
    status: str


@dataclass(frozen=True, slots=True)
class ShowAttendance:
    pass


@dataclass(frozen=True, slots=True)
class AnswerMeeting:
    response: str  # yes | no | substitute
    on: date | None = None  # a button's occurrence (the group's local date); None: the next


@dataclass(frozen=True, slots=True)
class ShowSettings:
    pass


@dataclass(frozen=True, slots=True)
class ChangeSetting:
    """One setting; `value` is already validated and in the form it is stored."""

    name: str
    value: object


@dataclass(frozen=True, slots=True)
class SetRole:
    member: MemberRef
    role: str


@dataclass(frozen=True, slots=True)
class RemoveMember:
    member: MemberRef


@dataclass(frozen=True, slots=True)
class ShowPartners:
    member: MemberRef | None = None  # None: the sender's own
    period: Period = Period.ALL


@dataclass(frozen=True, slots=True)
class ShowGroupPartners:
    period: Period = Period.ALL


@dataclass(frozen=True, slots=True)
class SetGoal:
    kind: str
    target: Decimal | None = None  # None: remove the goal
    period: Period | None = None


@dataclass(frozen=True, slots=True)
class ShowGoals:
    pass


@dataclass(frozen=True, slots=True)
class FindMembers:
    words: str


@dataclass(frozen=True, slots=True)
class MuteNudges:
    """`/mute nudges`: stop the sender's own private nudges."""


@dataclass(frozen=True, slots=True)
class UnmuteNudges:
    """`/unmute nudges`: restart the sender's own private nudges."""


@dataclass(frozen=True, slots=True)
class Undo:
    kind: str | None = None
    entry_id: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ShowHelp:
    command: str | None = None


@dataclass(frozen=True, slots=True)
class StartSteps:
    """`/refer` or `/thanks` with no text: guided steps build the command (`bot.steps`); an
    `amount` step asks a Won button's amount (`number`: the referral)."""

    kind: str  # refer | thanks | amount
    number: int | None = None


@dataclass(frozen=True, slots=True)
class AnswerStep:
    """A text sent in the private chat, or a steps button (`token`, `choice`)."""

    text: str = ""
    token: str | None = None
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class PickGroup:
    """A member of several groups picks the one their private chat's commands go to."""

    group_id: int


Command = (
    GiveReferral
    | ThankMember
    | ShowBalance
    | ShowLeaderboard
    | ListReferrals
    | MoveReferral
    | LogOneToOne
    | LogVisitor
    | LogCeu
    | ShowScorecard
    | Join
    | UpdateProfile
    | ShowProfile
    | ListMembers
    | Leave
    | ShowMeeting
    | ScheduleMeeting
    | CancelMeetings
    | RecordAttendance
    | ShowAttendance
    | AnswerMeeting
    | ShowSettings
    | ChangeSetting
    | SetRole
    | RemoveMember
    | Undo
    | ShowHelp
    | StartSteps
    | AnswerStep
    | PickGroup
    | ShowPartners
    | ShowGroupPartners
    | SetGoal
    | ShowGoals
    | FindMembers
    | MuteNudges
    | UnmuteNudges
)
