"""Fee statements (with their lines, per-building billing and residents' questions) and the
itemised service commitments of a contract.

A published statement never changes: the listeners below refuse, at flush time, any update or
delete of a published statement and any insert, update or delete of the lines or building
figures of one. A correction is a new statement for the same compound and period with the next
``revision`` number and a ``revision_reason``; the current revision of a period is its published
statement with the highest revision.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow

STATEMENT_STATES = ("draft", "submitted", "returned", "published")
EDITABLE_STATES = ("draft", "returned")
ZERO = Decimal("0.00")


class FeeStatement(db.Model):
    """One revision of a compound's fee account for one period (物业费收支公示)."""

    __tablename__ = "fee_statement"
    __table_args__ = (
        UniqueConstraint("compound_id", "period_key", "revision"),
        CheckConstraint(
            "status IN ('draft', 'submitted', 'returned', 'published')", name="status_known"
        ),
        CheckConstraint("period_kind IN ('month', 'quarter', 'year')", name="period_kind_known"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint("households_paid <= households_billed", name="paid_within_billed"),
        CheckConstraint("amount_collected <= amount_billed", name="collected_within_billed"),
        CheckConstraint("households_paid >= 0 AND amount_collected >= 0", name="not_negative"),
        Index("ix_fee_statement_public", "status", "compound_id", "period_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), nullable=True)
    period_kind: Mapped[str] = mapped_column(String(8))
    period_key: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("fee_statement.id"), nullable=True)
    revision_reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)

    households_billed: Mapped[int] = mapped_column(Integer, default=0)
    households_paid: Mapped[int] = mapped_column(Integer, default=0)
    amount_billed: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    amount_collected: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    opening_balance: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    # Kept with the lines so that lists, trends and datasets need no aggregate queries.
    income_total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    expense_total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    note: Mapped[str] = mapped_column(Text, default="")

    source: Mapped[str] = mapped_column(String(8), default="form")  # form | import
    source_filename: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True
    )
    return_reason: Mapped[str] = mapped_column(Text, default="")
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True
    )

    compound = relationship("Compound")
    company = relationship("Company")
    supersedes: Mapped[FeeStatement | None] = relationship(remote_side=[id])
    lines: Mapped[list[FeeLine]] = relationship(
        back_populates="statement",
        order_by="FeeLine.position",
        cascade="all, delete-orphan",
    )
    buildings: Mapped[list[FeeBuildingBilling]] = relationship(
        back_populates="statement",
        order_by="FeeBuildingBilling.sort_key",
        cascade="all, delete-orphan",
    )

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_STATES

    @property
    def published(self) -> bool:
        return self.status == "published"


class FeeLine(db.Model):
    """An income or expense line of a statement; unique by (direction, category, item)."""

    __tablename__ = "fee_line"
    __table_args__ = (
        UniqueConstraint("statement_id", "direction", "category", "item"),
        CheckConstraint("direction IN ('income', 'expense')", name="direction_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("fee_statement.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    direction: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(20))
    item: Mapped[str] = mapped_column(String(100), default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    note: Mapped[str] = mapped_column(String(300), default="")

    statement: Mapped[FeeStatement] = relationship(back_populates="lines")


class FeeBuildingBilling(db.Model):
    """The billing of one building (aggregated: never per household)."""

    __tablename__ = "fee_building_billing"
    __table_args__ = (
        UniqueConstraint("statement_id", "building_name"),
        CheckConstraint("households_paid <= households_billed", name="paid_within_billed"),
        CheckConstraint("amount_collected <= amount_billed", name="collected_within_billed"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("fee_statement.id"), index=True)
    building_name: Mapped[str] = mapped_column(String(50))
    sort_key: Mapped[str] = mapped_column(String(80), default="")
    households_billed: Mapped[int] = mapped_column(Integer)
    households_paid: Mapped[int] = mapped_column(Integer)
    amount_billed: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    amount_collected: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    statement: Mapped[FeeStatement] = relationship(back_populates="buildings")


class FeeQuestion(db.Model):
    """A resident's public question (质询) on a line, and the company's public answer."""

    __tablename__ = "fee_question"
    __table_args__ = (Index("ix_fee_question_period", "compound_id", "period_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("fee_line.id"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("fee_statement.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    period_key: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    line: Mapped[FeeLine] = relationship()
    statement: Mapped[FeeStatement] = relationship()
    user = relationship("User", foreign_keys=[user_id])


class Commitment(db.Model):
    """One itemised service commitment of a contract (服务承诺)."""

    __tablename__ = "service_commitment"
    __table_args__ = (
        CheckConstraint(
            "category IN ('cleaning', 'greening', 'security', 'facilities', 'parking', "
            "'fire_safety', 'service_desk', 'repairs', 'other')",
            name="category_known",
        ),
        CheckConstraint("service_level IN ('一级', '二级', '三级')", name="level_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("service_contract.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str] = mapped_column(String(16))
    promise: Mapped[str] = mapped_column(String(300))
    standard: Mapped[str] = mapped_column(String(300), default="")
    service_level: Mapped[str] = mapped_column(String(8))
    fee_per_m2: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contract = relationship("Contract")
    compound = relationship("Compound")


# ---- published statements are immutable -------------------------------------------------


class PublishedStatementImmutable(RuntimeError):
    pass


def _was_published(target: FeeStatement) -> bool:
    hist = inspect(target).attrs.status.history
    before = hist.deleted or hist.unchanged
    return bool(before) and before[0] == "published"


def _columns_changed(mapper, target) -> bool:
    state = inspect(target)
    return any(state.attrs[c.key].history.has_changes() for c in mapper.column_attrs)


@event.listens_for(FeeStatement, "before_update")
def _refuse_published_update(mapper, connection, target):
    if _was_published(target) and _columns_changed(mapper, target):
        raise PublishedStatementImmutable(
            f"fee statement {target.id} is published; correct it with a new revision"
        )


@event.listens_for(FeeStatement, "before_delete")
def _refuse_published_delete(mapper, connection, target):
    if _was_published(target):
        raise PublishedStatementImmutable(
            f"fee statement {target.id} is published; correct it with a new revision"
        )


@event.listens_for(FeeLine, "before_insert")
@event.listens_for(FeeLine, "before_update")
@event.listens_for(FeeLine, "before_delete")
@event.listens_for(FeeBuildingBilling, "before_insert")
@event.listens_for(FeeBuildingBilling, "before_update")
@event.listens_for(FeeBuildingBilling, "before_delete")
def _refuse_change_of_published_parts(mapper, connection, target):
    statement_id = target.statement_id
    if statement_id is None and target.statement is not None:
        statement_id = target.statement.id
    if statement_id is None:
        return
    status = connection.scalar(
        select(FeeStatement.__table__.c.status).where(FeeStatement.__table__.c.id == statement_id)
    )
    if status == "published":
        raise PublishedStatementImmutable(
            f"fee statement {statement_id} is published; its lines cannot change"
        )
