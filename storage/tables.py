"""The tables. Each row class is one concept of the ledger.

Times are stored as naive UTC datetimes (one convention on both backends);
`storage.clock.utc` turns them back into aware ones.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import JSON, Column, Index, Text, Time, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.money_type import Money

DEFAULT_REMINDER_LEADS: tuple[int, ...] = (1440, 60)  # minutes before each meeting
DEFAULT_MILESTONES: tuple[str, ...] = ("1000", "10000", "100000")


def key(row: SQLModel) -> int:
    """The primary key of a row that has been flushed."""
    value = getattr(row, "id", None)
    assert value is not None, "row has no id yet"
    return int(value)


class Group(SQLModel, table=True):
    """A referral group (a chapter), bound to one chat."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace_id: str = Field(default="", max_length=64)  # "" when the platform has none
    chat_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    timezone: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    created_at: datetime
    next_referral_number: int = 1
    meeting_weekday: int | None = None  # 0 = Monday
    meeting_time: time | None = Field(default=None, sa_type=Time)  # in the group's timezone
    meeting_place: str | None = Field(default=None, max_length=200)
    # minutes before each meeting, largest first ([] = off)
    reminder_leads: list[int] = Field(
        default_factory=lambda: list(DEFAULT_REMINDER_LEADS),
        sa_column=Column(JSON, nullable=False, default=lambda: list(DEFAULT_REMINDER_LEADS)),
    )
    # The weekly leaderboard: off, at a weekday and time of its own, or (both None) the day
    # after the meeting at 16:00 (`bot.schedule.leaderboard_slot`).
    leaderboard_on: bool = True
    leaderboard_weekday: int | None = None  # 0 = Monday
    leaderboard_time: time | None = Field(default=None, sa_type=Time)
    recognition: bool = True
    nudges: bool = True
    # closed-business thresholds, decimal strings (exact), ascending ([] = off)
    milestones: list[str] = Field(
        default_factory=lambda: list(DEFAULT_MILESTONES),
        sa_column=Column(JSON, nullable=False, default=lambda: list(DEFAULT_MILESTONES)),
    )

    # "kind:target:period,..." (`bot.goals`): one goal per kind, e.g. "referrals:40:month"
    goals: str = Field(default="", max_length=400)
    # When a post to the group's chat first failed because the bot is no longer there
    # (removed, channel gone); None: reachable. A week of it stops its scheduled posts
    # until the bot is used there again (`bot.reachability`).
    unreachable_since: datetime | None = None


class ScheduledPost(SQLModel, table=True):
    """When a group's next post of one kind is due (naive UTC): derived from the group's
    settings whenever they change and after each occurrence, so that one indexed query
    finds what is due. A row whose time has passed is a post still to make (or to skip,
    once no longer useful: `bot.occasions`)."""

    __tablename__ = "post_schedule"
    __table_args__ = (Index("ix_post_schedule_due", "due_at"),)

    group_id: int = Field(foreign_key="groups.id", primary_key=True)
    kind: str = Field(max_length=32, primary_key=True)
    due_at: datetime


class Member(SQLModel, table=True):
    """A person in a group, known by their platform user id."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("group_id", "platform_user_id"),
        UniqueConstraint("group_id", "classification_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    platform_user_id: str = Field(max_length=64)
    username: str | None = Field(default=None, max_length=64, index=True)
    name: str = Field(max_length=200)
    business: str | None = Field(default=None, max_length=200)
    classification: str | None = Field(default=None, max_length=100)
    classification_key: str | None = Field(default=None, max_length=100)
    ask: str | None = Field(default=None, max_length=500)
    role: str = Field(default="member", max_length=16)
    joined_at: datetime
    # When they left or were removed (None: an active member). Their entries keep counting;
    # the classification is freed (classification_key None), the text kept as history.
    left_at: datetime | None = None
    # When they muted their own private nudges (/mute nudges; None: they get them), and
    # when they were last nudged (at most one nudge a week: `bot.nudges`).
    nudges_muted_at: datetime | None = None
    nudged_at: datetime | None = None


class Referral(SQLModel, table=True):
    """A lead passed from a giver to a receiver."""

    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        Index("ix_referrals_group_time", "group_id", "voided", "created_at", "giver_id", "status"),
        # the other member last: /partners reads a member's referrals index-only (0012)
        Index("ix_referrals_giver", "giver_id", "voided", "created_at", "receiver_id"),
        Index("ix_referrals_receiver", "receiver_id", "voided", "created_at", "giver_id"),
        Index(
            "ix_referrals_group_pair", "group_id", "voided", "giver_id", "receiver_id", "created_at"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id")
    number: int
    giver_id: int = Field(foreign_key="members.id")
    receiver_id: int = Field(foreign_key="members.id")
    prospect: str = Field(sa_column=Column(Text, nullable=False))
    temperature: str | None = Field(default=None, max_length=8)
    inside: bool = False
    status: str = Field(default="open", max_length=16)
    created_at: datetime
    updated_at: datetime
    voided: bool = False


class Thanks(SQLModel, table=True):
    """Thanks for closed business (TYFCB); without an amount, recognition only."""

    __tablename__ = "thanks"
    __table_args__ = (
        Index("ix_thanks_group_time", "group_id", "voided", "created_at", "to_id"),
        Index("ix_thanks_to", "to_id", "voided", "created_at"),
        Index("ix_thanks_from", "from_id", "voided", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id")
    from_id: int = Field(foreign_key="members.id")
    to_id: int = Field(foreign_key="members.id")
    amount: Decimal | None = Field(default=None, sa_type=Money)
    currency: str = Field(max_length=3)
    note: str | None = Field(default=None, sa_column=Column(Text))
    referral_id: int | None = Field(default=None, foreign_key="referrals.id")
    created_at: datetime
    voided: bool = False


class OneToOne(SQLModel, table=True):
    """A logged meeting between two members."""

    __tablename__ = "one_to_ones"
    __table_args__ = (
        Index("ix_one_to_ones_group_time", "group_id", "voided", "created_at"),
        Index("ix_one_to_ones_a", "member_a_id", "voided", "created_at"),
        Index("ix_one_to_ones_b", "member_b_id", "voided", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id")
    member_a_id: int = Field(foreign_key="members.id")  # who logged it
    member_b_id: int = Field(foreign_key="members.id")
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    voided: bool = False


class Visitor(SQLModel, table=True):
    """A guest a member brought to a meeting."""

    __tablename__ = "visitors"
    __table_args__ = (
        Index("ix_visitors_group_time", "group_id", "voided", "created_at"),
        Index("ix_visitors_host", "host_id", "voided", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id")
    host_id: int = Field(foreign_key="members.id")
    name: str = Field(max_length=200)
    business: str | None = Field(default=None, max_length=200)
    created_at: datetime
    voided: bool = False


class Ceu(SQLModel, table=True):
    """A continuing-education unit: one piece of learning a member logged."""

    __tablename__ = "ceus"
    __table_args__ = (
        Index("ix_ceus_group_time", "group_id", "voided", "created_at", "member_id"),
        Index("ix_ceus_member", "member_id", "voided", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id")
    member_id: int = Field(foreign_key="members.id")
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    voided: bool = False


class Meeting(SQLModel, table=True):
    """One occurrence of a group's weekly meeting."""

    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("group_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id")
    starts_at: datetime
    place: str | None = Field(default=None, max_length=200)


class MeetingResponse(SQLModel, table=True):
    """A member's answer to a meeting (RSVP) and their recorded attendance."""

    __tablename__ = "meeting_responses"
    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id"),
        # the scorecard's attendance of a meeting, read from the index alone
        Index("ix_meeting_responses_attendance", "meeting_id", "attendance", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id")
    member_id: int = Field(foreign_key="members.id")
    rsvp: str | None = Field(default=None, max_length=16)  # yes | no | substitute
    attendance: str | None = Field(default=None, max_length=16)
    updated_at: datetime


class AuditEntry(SQLModel, table=True):
    """Who changed or voided what, when and why."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="members.id")
    # voided | status | role | setting | attendance | left | removed | rejoined
    action: str = Field(max_length=32)
    entity_kind: str = Field(max_length=32)
    entity_id: int | None = None
    reason: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime


class Delivery(SQLModel, table=True):
    """A platform delivery already handled, with the answer it got."""

    __tablename__ = "deliveries"

    key: str = Field(primary_key=True, max_length=200)
    created_at: datetime = Field(index=True)
    answer: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of replies


class OutboxMessage(SQLModel, table=True):
    """A message to send later: a DM, a group notice or a scheduled post."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id")
    platform: str = Field(max_length=16)
    workspace_id: str = Field(default="", max_length=64)
    chat_id: str = Field(max_length=64)  # the group's chat; DMs use recipient_user_id
    # the topic in a forum chat a group post goes to (the command's own); None: the chat
    thread_id: str | None = Field(default=None, max_length=32)
    recipient_user_id: str | None = Field(default=None, max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON reply
    image: bytes | None = None
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed | held
    # a held private message's one-time code, in the link that lets its recipient open the
    # private chat and get it (`bot.delivery`); cleared when it is released
    hold_code: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    next_attempt_at: datetime
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime
    sent_at: datetime | None = None


class PostClaim(SQLModel, table=True):
    """A scheduled post claimed by whoever inserted this row first."""

    __tablename__ = "post_claims"
    __table_args__ = (UniqueConstraint("group_id", "kind", "occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id")
    kind: str = Field(max_length=32)
    occurrence: str = Field(max_length=64)
    created_at: datetime


class PrivateChat(SQLModel, table=True):
    """A person's private chat with the bot and the group its commands go to: a member of
    several groups picks one there, and it is remembered."""

    __tablename__ = "private_chats"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace_id: str = Field(default="", max_length=64)
    user_id: str = Field(max_length=64)  # the person (one private chat with the bot each)
    group_id: int = Field(foreign_key="groups.id")
    chosen_at: datetime


class GuidedSteps(SQLModel, table=True):
    """Where a person is in guided steps (a /refer or /thanks built question by question,
    or an amount a button asked for) in their private chat; gone once done or expired."""

    __tablename__ = "guided_steps"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace_id: str = Field(default="", max_length=64)
    user_id: str = Field(max_length=64)
    group_id: int = Field(foreign_key="groups.id")
    token: str = Field(max_length=16)  # names these steps in their buttons
    state: str = Field(sa_column=Column(Text, nullable=False))  # JSON (`bot.steps`)
    expires_at: datetime
