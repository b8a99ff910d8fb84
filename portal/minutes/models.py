"""Minutes (会议纪要) of a compound's owners' committee meetings, owners' assemblies and joint
meetings with the residents' committee.

A ``Minutes`` is the meeting; what was recorded about it are its ``MinutesRevision`` rows,
numbered 1, 2 …: a revision is drafted, submitted, and published when a second committee member
confirms it. A published revision is never changed (a guard below refuses it): a correction is
a new revision with its reason, and the earlier ones stay readable.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow

KINDS = ("committee", "assembly", "joint")
STATUSES = ("draft", "submitted", "published")


class Minutes(db.Model):
    __tablename__ = "minutes"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    # The revision the public reads (None until the first is confirmed).
    published_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    compound = relationship("Compound")
    revisions: Mapped[list[MinutesRevision]] = relationship(
        back_populates="minutes", order_by="MinutesRevision.number"
    )

    @property
    def published(self) -> MinutesRevision | None:
        return next((r for r in self.revisions if r.number == self.published_number), None)

    @property
    def open_revision(self) -> MinutesRevision | None:
        """The draft or submitted revision, if one is under way (at most one)."""
        return next((r for r in self.revisions if r.status != "published"), None)


class MinutesRevision(db.Model):
    __tablename__ = "minutes_revision"
    __table_args__ = (
        UniqueConstraint("minutes_id", "number"),
        CheckConstraint("kind IN ('committee', 'assembly', 'joint')", name="kind_known"),
        CheckConstraint("status IN ('draft', 'submitted', 'published')", name="status_known"),
        CheckConstraint("attendees_count >= 0", name="attendees_not_negative"),
        CheckConstraint(
            "status != 'published' OR confirmed_by_id IS NOT NULL", name="published_confirmed"
        ),
        CheckConstraint(
            "confirmed_by_id IS NULL OR confirmed_by_id != author_id", name="confirmer_differs"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    kind: Mapped[str] = mapped_column(String(16))
    meeting_date: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    attendees_count: Mapped[int] = mapped_column(Integer, default=0)
    # One name per line, as recorded; public pages show them masked (张*).
    attendee_names: Mapped[str] = mapped_column(Text, default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    # Why this revision corrects the one before it (empty for the first).
    reason: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    return_note: Mapped[str] = mapped_column(Text, default="")
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    minutes: Mapped[Minutes] = relationship(back_populates="revisions")
    author = relationship("User", foreign_keys=[author_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="revision", order_by="Decision.position", cascade="all, delete-orphan"
    )
    attachments = relationship(
        "Attachment",
        primaryjoin="and_(Attachment.owner_type == 'minutes_revision', "
        "foreign(Attachment.owner_id) == MinutesRevision.id)",
        order_by="[Attachment.position, Attachment.id]",
        viewonly=True,
    )

    @property
    def names(self) -> list[str]:
        return [n for n in (line.strip() for line in self.attendee_names.splitlines()) if n]


class Decision(db.Model):
    """One decision of a meeting, with its vote."""

    __tablename__ = "minutes_decision"
    __table_args__ = (
        CheckConstraint(
            "votes_for >= 0 AND votes_against >= 0 AND votes_abstain >= 0",
            name="votes_not_negative",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("minutes_revision.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    votes_for: Mapped[int] = mapped_column(Integer, default=0)
    votes_against: Mapped[int] = mapped_column(Integer, default=0)
    votes_abstain: Mapped[int] = mapped_column(Integer, default=0)

    revision: Mapped[MinutesRevision] = relationship(back_populates="decisions")


class PublishedRecordError(RuntimeError):
    """A published revision (or one of its decisions) was about to be changed."""


@event.listens_for(MinutesRevision, "before_update")
def _published_revisions_are_final(mapper, connection, target):
    history = inspect(target).attrs.status.history
    was = history.deleted[0] if history.deleted else target.status
    if was == "published":
        raise PublishedRecordError("published minutes are not edited; add a revision")


@event.listens_for(MinutesRevision, "before_delete")
def _published_revisions_stay(mapper, connection, target):
    history = inspect(target).attrs.status.history
    was = history.deleted[0] if history.deleted else target.status
    if was == "published":
        raise PublishedRecordError("published minutes are not deleted")


@event.listens_for(Decision, "before_update")
@event.listens_for(Decision, "before_delete")
def _published_decisions_are_final(mapper, connection, target):
    status = connection.scalar(
        MinutesRevision.__table__.select()
        .with_only_columns(MinutesRevision.__table__.c.status)
        .where(MinutesRevision.__table__.c.id == target.revision_id)
    )
    if status == "published":
        raise PublishedRecordError("decisions of published minutes are not changed")
