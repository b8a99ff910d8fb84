"""Elections of the property company: options, the frozen roll, objections, ballots, ledger,
and the service contract signed with the winner."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
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


class Election(db.Model):
    __tablename__ = "election"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'announced', 'closed', 'certified', 'signed')",
            name="status_known",
        ),
        CheckConstraint("matter IN ('hire', 'renew', 'dismiss')", name="matter_known"),
        CheckConstraint(
            "rule IN ('civil-code-278', 'civil-code-278-special', 'simple-majority')",
            name="rule_known",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(Text, default="")
    matter: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(32), default="civil-code-278")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    certified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    certified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True
    )
    # Salt of the pseudonymous voter keys (never shown; fixed at creation).
    voter_salt: Mapped[str] = mapped_column(String(64))
    roll_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ledger_head: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ballot_count: Mapped[int] = mapped_column(Integer, default=0)
    # The tally as recorded at closing (TallyResult.to_json_dict()).
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    compound = relationship("Compound")
    options: Mapped[list[Option]] = relationship(
        back_populates="election", order_by="Option.key", cascade="all, delete-orphan"
    )


class Option(db.Model):
    """A candidate company (hire) or an answer (renew / dismiss: yes, no)."""

    __tablename__ = "election_option"
    __table_args__ = (UniqueConstraint("election_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)
    key: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(150))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), nullable=True)
    fee_per_m2: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    service_level: Mapped[str | None] = mapped_column(String(8), nullable=True)
    commitments: Mapped[str] = mapped_column(Text, default="")
    # The bid document (an uploads key: PDF, JPEG or PNG), public once the election is announced.
    document: Mapped[str | None] = mapped_column(String(200), nullable=True)

    election: Mapped[Election] = relationship(back_populates="options")
    company = relationship("Company")


class RollVersion(db.Model):
    """One freeze of the roll; a re-freeze after an objection adds a version with its reason."""

    __tablename__ = "roll_version"
    __table_args__ = (UniqueConstraint("election_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    csv: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    owners: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class RollEntry(db.Model):
    """A unit on the current roll, with the pseudonymous key of the owner it counts for."""

    __tablename__ = "roll_entry"
    __table_args__ = (UniqueConstraint("election_id", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    unit_label: Mapped[str] = mapped_column(String(100))
    building_name: Mapped[str] = mapped_column(String(50))
    voter_key: Mapped[str] = mapped_column(String(16), index=True)
    area_m2: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # Set by an objection's resolution: the unit is left off the roll.
    excluded: Mapped[bool] = mapped_column(default=False)

    unit = relationship("Unit")


class Objection(db.Model):
    __tablename__ = "roll_objection"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name="status_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolution: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    user = relationship("User", foreign_keys=[user_id])
    unit = relationship("Unit")


class Ballot(db.Model):
    """One owner's ballot. The unique (election, voter_key) is the source of truth for
    "one ballot per owner"; a paper ballot counts once a second staff member confirms it."""

    __tablename__ = "ballot"
    __table_args__ = (
        UniqueConstraint("election_id", "voter_key"),
        UniqueConstraint("receipt"),
        CheckConstraint("channel IN ('online', 'paper', 'proxy')", name="channel_known"),
        CheckConstraint("state IN ('pending', 'counted')", name="state_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)
    voter_key: Mapped[str] = mapped_column(String(16))
    choice: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    receipt: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(8), default="counted")
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    proxy_holder: Mapped[str | None] = mapped_column(String(50), nullable=True)
    proxy_document: Mapped[str | None] = mapped_column(String(200), nullable=True)


class LedgerEntry(db.Model):
    """The hash chain of counted ballots, in the order they were counted."""

    __tablename__ = "ledger_entry"
    __table_args__ = (UniqueConstraint("election_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), unique=True)
    record: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Contract(db.Model):
    """The service contract the residents' committee signs with the elected company."""

    __tablename__ = "service_contract"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    election_id: Mapped[int | None] = mapped_column(ForeignKey("election.id"), nullable=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    fee_per_m2: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    service_level: Mapped[str] = mapped_column(String(8))
    commitments: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    company = relationship("Company")
    compound = relationship("Compound")
