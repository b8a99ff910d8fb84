"""Proposals (金点子): the proposal, its supports, comments, photos, public timeline, reports,
escalations to the street, and each compound's agenda threshold."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow

CATEGORIES = (
    "parking",
    "sanitation",
    "safety",
    "greening",
    "facilities",
    "pets",
    "neighbours",
    "other",
)
RESPONSIBLE_PARTIES = ("company", "community", "committee", "street")
DEFAULT_THRESHOLD = 10


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Proposal(db.Model):
    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint(
            _in(
                "state",
                (
                    "collect",
                    "accepted",
                    "rejected",
                    "merged",
                    "deliberating",
                    "feedback",
                    "reopened",
                    "closed",
                ),
            ),
            name="state_known",
        ),
        CheckConstraint(_in("category", CATEGORIES), name="category_known"),
        CheckConstraint(
            "complexity IS NULL OR complexity IN ('general', 'hard', 'complex')",
            name="complexity_known",
        ),
        CheckConstraint(
            "responsible IS NULL OR " + _in("responsible", RESPONSIBLE_PARTIES),
            name="responsible_known",
        ),
        CheckConstraint("support_count >= 0 AND comment_count >= 0", name="counters_positive"),
        # with the id: a deep board page finds its ids in the index alone (index-only scan)
        Index("ix_proposal_compound_created", "compound_id", "created_at", "id"),
        Index("ix_proposal_community_state", "community_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    # The compound's community, kept here so that community queues and statistics need no join.
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")  # the Markdown source
    category: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="collect")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # accept
    complexity: Mapped[str | None] = mapped_column(String(8), nullable=True)
    responsible: Mapped[str | None] = mapped_column(String(16), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # the running clock (restarted on reopening)
    clock_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # set by the sweep when the running clock ran out; cleared when a new clock starts
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ever_overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # reject / merge
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), nullable=True)
    # deliberate
    meeting_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    conclusion: Mapped[str] = mapped_column(Text, default="")
    # feedback and the author's verdict
    feedback: Mapped[str] = mapped_column(Text, default="")
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # counters kept with every support and comment, so that lists need no aggregates
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    # moderation: hidden, never deleted
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    compound = relationship("Compound")
    community = relationship("Community")
    author = relationship("User", foreign_keys=[author_id])
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id])
    photos: Mapped[list[Photo]] = relationship(
        back_populates="proposal", order_by="Photo.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="proposal", order_by="(Event.at, Event.id)", cascade="all, delete-orphan"
    )

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


class Photo(db.Model):
    __tablename__ = "proposal_photo"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))  # uploads.service key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="photos")


class Support(db.Model):
    """One support per person per proposal: the unique constraint is the source of truth."""

    __tablename__ = "proposal_support"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Comment(db.Model):
    __tablename__ = "proposal_comment"
    __table_args__ = (Index("ix_proposal_comment_proposal_created", "proposal_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    proposal: Mapped[Proposal] = relationship()
    author = relationship("User", foreign_keys=[author_id])

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


class Event(db.Model):
    """A step on the public timeline: who (a role, or the author), when, what."""

    __tablename__ = "proposal_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(24))
    # author | secretary | company | community | committee | street | admin | system
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")  # public text (reason, conclusion …)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    proposal: Mapped[Proposal] = relationship(back_populates="events")
    actor = relationship("User")


class Report(db.Model):
    """A resident's report of a proposal or a comment, for the community's moderation queue."""

    __tablename__ = "proposal_report"
    __table_args__ = (
        UniqueConstraint("reporter_id", "target_key"),
        CheckConstraint("status IN ('open', 'hidden', 'dismissed')", name="status_known"),
        Index("ix_proposal_report_community_status", "community_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposal_comment.id"), nullable=True, index=True
    )
    target_key: Mapped[str] = mapped_column(String(24))  # "p:<id>" or "c:<id>"
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    proposal: Mapped[Proposal] = relationship()
    comment: Mapped[Comment | None] = relationship()
    reporter = relationship("User", foreign_keys=[reporter_id])


class Escalation(db.Model):
    """An overdue proposal sent up to the street office; one per clock (proposal, deadline)."""

    __tablename__ = "proposal_escalation"
    __table_args__ = (UniqueConstraint("proposal_id", "deadline_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    proposal: Mapped[Proposal] = relationship()


class Settings(db.Model):
    """Per-compound settings of the board, set by the community secretary."""

    __tablename__ = "proposal_settings"
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), primary_key=True)
    support_threshold: Mapped[int] = mapped_column(Integer, default=DEFAULT_THRESHOLD)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
