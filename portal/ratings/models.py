"""Inspections (checklists, scores, findings, re-inspections, veto flags), satisfaction surveys,
per-street rating settings, rating periods and the published ratings.

Records that must not change once written refuse updates and deletes at the ORM level (as the
audit log does): checklist items (a checklist is versioned, an inspection keeps its version),
inspection scores, re-inspections and published ratings (a correction is a new version).

Survey answers are anonymous by construction: a participation row (survey, unit) enforces "one
response per household" and holds no answer; a response row holds the answers and no unit, no
user and no time. Neither has a sequential id that could pair them (participations are keyed by
(survey, unit), responses by a random token, answers by (response, area)).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow

CATEGORIES = (
    "cleaning",
    "greening",
    "security",
    "facilities",
    "parking",
    "fire_safety",
    "service_desk",
    "repairs",
    "other",
)
LEVELS = ("community", "street", "district", "third_party")
RESPONSIBLE = ("company", "committee", "community", "other")
FINDING_STATES = ("open", "reported", "closed")
PERIOD_KINDS = ("quarter", "half", "year")
LIST_STATUSES = ("red", "black", "none")


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class ImmutableRecordError(RuntimeError):
    pass


def _immutable(*models):
    for model in models:

        @event.listens_for(model, "before_update")
        @event.listens_for(model, "before_delete")
        def _refuse(mapper, connection, target, _name=model.__name__):
            raise ImmutableRecordError(f"{_name} records cannot be changed once written")


# ---- settings and checklists ----------------------------------------------------------------


class RatingSettings(db.Model):
    """A street's weights, list thresholds, subsidy tiers and base amount (defaults until saved)."""

    __tablename__ = "rating_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), unique=True)
    inspection_weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    satisfaction_weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    red_threshold: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    black_threshold: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    # [["90", "1.2"], ["80", "1.0"], …]: minimum score and factor, highest first, as strings
    tiers: Mapped[list] = mapped_column(JSON)
    base_subsidy: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class Checklist(db.Model):
    """One version of a street's inspection checklist; editing makes a new version."""

    __tablename__ = "inspection_checklist"
    __table_args__ = (UniqueConstraint("street_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    max_total: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="checklist", order_by="ChecklistItem.position"
    )


class ChecklistItem(db.Model):
    __tablename__ = "inspection_checklist_item"
    __table_args__ = (
        UniqueConstraint("checklist_id", "position"),
        CheckConstraint(_in("category", CATEGORIES), name="category_known"),
        CheckConstraint("points > 0", name="points_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("inspection_checklist.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))
    # Items of the default checklist keep their key and are shown translated; an edited title
    # drops the key and is shown as typed.
    builtin_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    points: Mapped[Decimal] = mapped_column(Numeric(5, 1))

    checklist: Mapped[Checklist] = relationship(back_populates="items")


# ---- inspections and findings ----------------------------------------------------------------


class Inspection(db.Model):
    __tablename__ = "inspection"
    __table_args__ = (
        CheckConstraint(_in("level", LEVELS), name="level_known"),
        CheckConstraint("total >= 0 AND total <= max_total", name="total_in_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    # The company serving the compound on the day of the inspection (None: no contract known).
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id"), nullable=True, index=True
    )
    level: Mapped[str] = mapped_column(String(16))
    checklist_id: Mapped[int] = mapped_column(ForeignKey("inspection_checklist.id"))
    inspected_on: Mapped[date] = mapped_column(Date, index=True)
    total: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    max_total: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    compound = relationship("Compound")
    company = relationship("Company")
    checklist: Mapped[Checklist] = relationship()
    scores: Mapped[list[InspectionScore]] = relationship(
        back_populates="inspection", order_by="InspectionScore.position"
    )
    findings: Mapped[list[Finding]] = relationship(
        back_populates="inspection", order_by="Finding.id"
    )


class InspectionScore(db.Model):
    __tablename__ = "inspection_score"
    __table_args__ = (
        UniqueConstraint("inspection_id", "item_id"),
        CheckConstraint("score >= 0", name="score_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inspection_checklist_item.id"))
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[Decimal] = mapped_column(Numeric(5, 1))

    inspection: Mapped[Inspection] = relationship(back_populates="scores")
    item: Mapped[ChecklistItem] = relationship()


class Finding(db.Model):
    """A problem found at an inspection, to be rectified by a deadline (整改)."""

    __tablename__ = "inspection_finding"
    __table_args__ = (
        CheckConstraint(_in("category", CATEGORIES), name="category_known"),
        CheckConstraint(_in("responsible", RESPONSIBLE), name="responsible_known"),
        CheckConstraint(_in("status", FINDING_STATES), name="status_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id"), nullable=True, index=True
    )
    category: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text)
    responsible: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[date] = mapped_column(Date)
    # open -> (reported: the responsible party says it is fixed) -> closed (re-inspection passed)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    report_note: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    inspection: Mapped[Inspection] = relationship(back_populates="findings")
    compound = relationship("Compound")
    company = relationship("Company")
    photos: Mapped[list[FindingPhoto]] = relationship(order_by="FindingPhoto.id")
    reinspections: Mapped[list[Reinspection]] = relationship(order_by="Reinspection.id")


class FindingPhoto(db.Model):
    __tablename__ = "inspection_finding_photo"
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("inspection_finding.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))


class Reinspection(db.Model):
    """A re-inspection (复查) of a finding: passed or failed, with a new deadline on failure."""

    __tablename__ = "inspection_reinspection"
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("inspection_finding.id"), index=True)
    checked_on: Mapped[date] = mapped_column(Date)
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    new_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class VetoFlag(db.Model):
    """一票否决: the compound (and the company serving it) cannot be rated good this year."""

    __tablename__ = "rating_veto_flag"
    __table_args__ = (UniqueConstraint("compound_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id"), nullable=True, index=True
    )
    year: Mapped[int] = mapped_column(Integer, index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("inspection_finding.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    compound = relationship("Compound")
    finding: Mapped[Finding] = relationship()


# ---- satisfaction surveys --------------------------------------------------------------------


class Survey(db.Model):
    __tablename__ = "satisfaction_survey"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(150))
    areas: Mapped[list] = mapped_column(JSON)  # category keys, in the order asked
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    closed_early: Mapped[bool] = mapped_column(Boolean, default=False)
    response_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    compound = relationship("Compound")
    company = relationship("Company")


class SurveyParticipation(db.Model):
    """This household (unit) has answered this survey; nothing about what it answered."""

    __tablename__ = "satisfaction_participation"
    survey_id: Mapped[int] = mapped_column(ForeignKey("satisfaction_survey.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)


class SurveyResponse(db.Model):
    """One household's answers, with no link to the household, the person or the time."""

    __tablename__ = "satisfaction_response"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # a random token
    survey_id: Mapped[int] = mapped_column(ForeignKey("satisfaction_survey.id"), index=True)
    comment: Mapped[str] = mapped_column(Text, default="")


class SurveyAnswer(db.Model):
    __tablename__ = "satisfaction_answer"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_1_to_5"),)
    response_id: Mapped[str] = mapped_column(
        ForeignKey("satisfaction_response.id"), primary_key=True
    )
    area: Mapped[str] = mapped_column(String(16), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("satisfaction_survey.id"), index=True)
    score: Mapped[int] = mapped_column(SmallInteger)


# ---- rating periods and published ratings ----------------------------------------------------


class RatingPeriod(db.Model):
    __tablename__ = "rating_period"
    __table_args__ = (
        UniqueConstraint("street_id", "kind", "year", "number"),
        CheckConstraint(_in("kind", PERIOD_KINDS), name="kind_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    street = relationship("Street")


class Rating(db.Model):
    """A published rating of a company for a period; never changed, corrected by a new version."""

    __tablename__ = "company_rating"
    __table_args__ = (
        UniqueConstraint("period_id", "company_id", "version"),
        CheckConstraint(_in("list_status", LIST_STATUSES), name="list_status_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("rating_period.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(20))
    inspection_component: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    satisfaction_component: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    veto: Mapped[bool] = mapped_column(Boolean, default=False)
    list_status: Mapped[str] = mapped_column(String(8))
    factor: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    subsidy: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    compound_count: Mapped[int] = mapped_column(Integer, default=0)
    inspection_count: Mapped[int] = mapped_column(Integer, default=0)
    response_count: Mapped[int] = mapped_column(Integer, default=0)
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    rules: Mapped[dict] = mapped_column(JSON)  # the street's settings at publication
    reason: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True
    )

    period: Mapped[RatingPeriod] = relationship()
    company = relationship("Company")


_immutable(ChecklistItem, InspectionScore, Reinspection, Rating)
