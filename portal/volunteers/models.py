"""Volunteer teams (志愿服务队), their activities (活动) and the residents' sign-ups (报名).

A team belongs to a community and, optionally, to one compound of it. Its coordinator is a
verified resident of the community appointed by the secretary (``coordinator_id``).

An activity keeps counters (``confirmed_count``, ``waitlist_count``) and the last waiting-list
number handed out (``last_seq``); they change only while the activity row is locked
(see ``service._lock``), so lists need no aggregate queries and capacity is never exceeded.

A sign-up is unique per (activity, person): the database constraint is the source of truth
for "one sign-up per person per activity". A cancelled sign-up is reused when the person signs
up again (it goes to the back of the line with a new ``seq``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow

SIGNUP_STATES = ("confirmed", "waitlisted", "cancelled")
ATTENDANCE = ("attended", "no_show")


class Team(db.Model):
    __tablename__ = "volunteer_team"
    __table_args__ = (UniqueConstraint("community_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(
        ForeignKey("compound.id"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    coordinator_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True, index=True
    )
    coordinator_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    community = relationship("Community")
    compound = relationship("Compound")
    coordinator = relationship("User", foreign_keys=[coordinator_id])


class Activity(db.Model):
    __tablename__ = "volunteer_activity"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("confirmed_count <= capacity", name="within_capacity"),
        CheckConstraint("hours >= 0", name="hours_not_negative"),
        CheckConstraint("points_per_hour >= 0", name="points_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_team.id"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column(Integer)
    signup_open: Mapped[bool] = mapped_column(Boolean, default=True)
    # Hours credited to each person who attended (default: end - start) and points per hour.
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    points_per_hour: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("1"))
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0)
    waitlist_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on every edit: the SEQUENCE of the .ics event, so phones update their copy.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    team: Mapped[Team] = relationship()

    @property
    def points(self) -> Decimal:
        """Points credited to each person who attends."""
        from portal.volunteers.rules import points_for

        return points_for(self.hours, self.points_per_hour)


class Signup(db.Model):
    __tablename__ = "volunteer_signup"
    __table_args__ = (
        UniqueConstraint("activity_id", "user_id"),
        CheckConstraint("status IN ('confirmed', 'waitlisted', 'cancelled')", name="status_known"),
        CheckConstraint(
            "attendance IS NULL OR attendance IN ('attended', 'no_show')", name="attendance_known"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("volunteer_activity.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    # Place in line: handed out from the activity's ``last_seq`` under its lock.
    seq: Mapped[int] = mapped_column(Integer)
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when the person moved up from the waiting list (shown on their page).
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attendance: Mapped[str | None] = mapped_column(String(16), nullable=True)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    points: Mapped[Decimal | None] = mapped_column(Numeric(8, 2), nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    checked_in_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True
    )

    activity: Mapped[Activity] = relationship()
    user = relationship("User", foreign_keys=[user_id])
