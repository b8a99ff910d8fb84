"""Inspections, findings, surveys, settings, rating periods and published ratings.

Every change goes through here with the acting user passed in (never read from the request); each
checks the actor's right over the object, changes, flushes and writes an audit event. Reads used by
the public pages live here too, each a constant number of queries.

Who does what (see ``docs/ratings.md``):

=================  ======================================================================
community level    the community secretary of the compound's community (monthly)
street level       the street officer of the compound's street (quarterly)
district level     the site administrator, acting for the district (half-yearly)
third-party        an inspector (role ``inspector``) of the compound's street (unannounced)
re-inspection      whoever may enter the finding's level, or the street officer
report rectified   staff of the company serving the compound, or its owners' committee
surveys            the community secretary (open, close early)
settings, periods  the street officer of the street (weights, checklist, publish ratings)
=================  ======================================================================

The site administrator may do everything.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload

from portal import audit, security
from portal.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.locking import lock_row, with_retry  # noqa: F401  (with_retry: routes)
from portal.paging import paginate
from portal.places.models import Building, Community, Company, Compound, Street, Unit
from portal.ratings import scoring
from portal.ratings.labels import (
    DEFAULT_CHECKLIST,
    POINTS_PROBLEMS,
    RULES_PROBLEMS,
    SCORE_PROBLEMS,
    item_title,
)
from portal.ratings.models import (
    CATEGORIES,
    LEVELS,
    PERIOD_KINDS,
    RESPONSIBLE,
    Checklist,
    ChecklistItem,
    Finding,
    FindingPhoto,
    Inspection,
    InspectionScore,
    Rating,
    RatingPeriod,
    RatingSettings,
    Reinspection,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyResponse,
    VetoFlag,
)

TZ = ZoneInfo("Asia/Shanghai")
MAX_PHOTOS = 4
MAX_CHECKLIST_ITEMS = 40
SURVEY_AREAS = tuple(c for c in CATEGORIES if c != "other")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d){8}(?!\d)")


# ---- time ------------------------------------------------------------------------------------


def local_today(now: datetime) -> date:
    return now.astimezone(TZ).date()


def local_midnight(day: date) -> datetime:
    """00:00 Beijing time of ``day``, as an aware UTC datetime."""
    return datetime.combine(day, time(0), TZ).astimezone(UTC)


def local_to_utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, TZ).astimezone(UTC)


def redact_phones(text: str) -> str:
    """Mobile numbers in free text (finding descriptions) are masked on every public output."""
    return _PHONE.sub("***********", text or "")


# ---- roles -----------------------------------------------------------------------------------


def _street_id(compound: Compound) -> int:
    return compound.community.street_id


def may_inspect(actor, compound: Compound, level: str) -> bool:
    if level not in LEVELS or actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if security.is_admin(actor):
        return True
    if level == "community":
        return compound.community_id in security.role_ids(actor, "secretary")
    if level == "street":
        return _street_id(compound) in security.role_ids(actor, "street")
    if level == "third_party":
        return _street_id(compound) in security.role_ids(actor, "inspector")
    return False  # district: the site administrator only


def levels_for(actor, compound: Compound) -> list[str]:
    return [lv for lv in LEVELS if may_inspect(actor, compound, lv)]


def may_reinspect(actor, finding: Finding) -> bool:
    compound = finding.compound
    return may_inspect(actor, compound, finding.inspection.level) or (
        _street_id(compound) in security.role_ids(actor, "street")
    )


def may_manage_street(actor, street: Street) -> bool:
    return bool(actor and getattr(actor, "is_authenticated", False)) and (
        security.is_admin(actor) or security.is_street_officer_of(actor, street)
    )


def _require_street(actor, street: Street) -> None:
    if not may_manage_street(actor, street):
        raise PermissionDenied(_("Only the street officer of this street can do this."))


def may_run_surveys(actor, compound: Compound) -> bool:
    return bool(actor and getattr(actor, "is_authenticated", False)) and (
        security.is_admin(actor) or security.is_secretary_of(actor, compound.community)
    )


def current_company_id(compound: Compound, today: date | None = None) -> int | None:
    from portal.voting.service import current_contract

    contract = current_contract(compound, today)
    return contract.company_id if contract else None


def may_report(actor, finding: Finding, today: date) -> bool:
    """Staff of the company now serving the compound, or a member of its owners' committee."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if security.is_admin(actor):
        return True
    if finding.compound_id in security.role_ids(actor, "committee"):
        return True
    companies = security.role_ids(actor, "company")
    return bool(companies) and current_company_id(finding.compound, today) in companies


def is_ratings_staff(actor) -> bool:
    return security.has_any_role(
        actor, "admin", "street", "secretary", "inspector", "company", "committee"
    )


def _compounds_of_companies(company_ids, today: date):
    """SELECT of the compound ids whose current contract is with one of ``company_ids``."""
    from portal.voting.models import Contract

    newer = aliased(Contract)
    latest = (
        select(newer.id)
        .where(newer.compound_id == Contract.compound_id, newer.starts_on <= today)
        .order_by(newer.ends_on.desc(), newer.id.desc())
        .limit(1)
        .correlate(Contract)
        .scalar_subquery()
    )
    return select(Contract.compound_id).where(
        Contract.id == latest, Contract.company_id.in_(list(company_ids))
    )


def _findings_scope(actor, today: date):
    """SQL condition (on Finding joined to Compound and Community) of the findings ``actor``
    may follow on the staff pages; None when none."""
    if security.is_admin(actor):
        return literal(True)
    conditions = []
    streets = security.role_ids(actor, "street") | security.role_ids(actor, "inspector")
    if streets:
        conditions.append(Community.street_id.in_(streets))
    communities = security.role_ids(actor, "secretary")
    if communities:
        conditions.append(Compound.community_id.in_(communities))
    compounds = security.role_ids(actor, "committee")
    if compounds:
        conditions.append(Finding.compound_id.in_(compounds))
    companies = security.role_ids(actor, "company")
    if companies:
        conditions.append(Finding.compound_id.in_(_compounds_of_companies(companies, today)))
    if not conditions:
        return None
    return or_(*conditions)


def may_see_photos(actor, finding: Finding, today: date) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if (
        security.is_admin(actor)
        or may_reinspect(actor, finding)
        or may_report(actor, finding, today)
    ):
        return True
    c = finding.compound
    return c.community_id in security.role_ids(actor, "secretary") or _street_id(c) in (
        security.role_ids(actor, "street") | security.role_ids(actor, "inspector")
    )


# ---- settings --------------------------------------------------------------------------------


def rules_from_row(row: RatingSettings | None) -> scoring.Rules:
    if row is None:
        return scoring.DEFAULT_RULES
    return scoring.Rules(
        inspection_weight=row.inspection_weight,
        satisfaction_weight=row.satisfaction_weight,
        red_threshold=row.red_threshold,
        black_threshold=row.black_threshold,
        tiers=tuple(scoring.Tier(Decimal(m), Decimal(f)) for m, f in row.tiers),
        base_subsidy=row.base_subsidy,
    )


def rules_for(street_id: int) -> scoring.Rules:
    return rules_from_row(
        db.session.scalar(select(RatingSettings).where(RatingSettings.street_id == street_id))
    )


def rules_to_json(rules: scoring.Rules) -> dict:
    return {
        "inspection_weight": str(rules.inspection_weight),
        "satisfaction_weight": str(rules.satisfaction_weight),
        "red_threshold": str(rules.red_threshold),
        "black_threshold": str(rules.black_threshold),
        "tiers": [[str(t.min_score), str(t.factor)] for t in rules.tiers],
        "base_subsidy": str(rules.base_subsidy),
    }


def rules_from_json(data: dict) -> scoring.Rules:
    return scoring.Rules(
        inspection_weight=Decimal(data["inspection_weight"]),
        satisfaction_weight=Decimal(data["satisfaction_weight"]),
        red_threshold=Decimal(data["red_threshold"]),
        black_threshold=Decimal(data["black_threshold"]),
        tiers=tuple(scoring.Tier(Decimal(m), Decimal(f)) for m, f in data["tiers"]),
        base_subsidy=Decimal(data["base_subsidy"]),
    )


def rules_messages(rules: scoring.Rules) -> list[str]:
    return [str(RULES_PROBLEMS[p]) for p in scoring.rules_problems(rules)]


def save_settings(actor, street: Street, rules: scoring.Rules, now: datetime) -> RatingSettings:
    _require_street(actor, street)
    problems = rules_messages(rules)
    if problems:
        raise ValidationFailed(" ".join(problems))
    row = db.session.scalar(select(RatingSettings).where(RatingSettings.street_id == street.id))
    before = rules_to_json(rules_from_row(row))
    tiers = sorted(rules.tiers, key=lambda t: t.min_score, reverse=True)
    values = rules_to_json(dataclasses.replace(rules, tiers=tuple(tiers)))
    if row is None:
        row = RatingSettings(street_id=street.id)
        db.session.add(row)
    row.inspection_weight = rules.inspection_weight
    row.satisfaction_weight = rules.satisfaction_weight
    row.red_threshold = rules.red_threshold
    row.black_threshold = rules.black_threshold
    row.tiers = values["tiers"]
    row.base_subsidy = rules.base_subsidy
    row.updated_at = now
    row.updated_by_id = actor.id
    db.session.flush()
    audit.record(
        "ratings.settings_saved", actor, row, street=street.id, before=before, after=values
    )
    return row


# ---- checklists ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemInput:
    category: str
    title: str
    points: Decimal
    builtin_key: str | None = None


def current_checklist(street_id: int) -> Checklist | None:
    return db.session.scalar(
        select(Checklist)
        .where(Checklist.street_id == street_id)
        .options(selectinload(Checklist.items))
        .order_by(Checklist.version.desc())
        .limit(1)
    )


def checklist_versions(street_id: int, limit: int = 20) -> list[Checklist]:
    return list(
        db.session.scalars(
            select(Checklist)
            .where(Checklist.street_id == street_id)
            .order_by(Checklist.version.desc())
            .limit(limit)
        )
    )


def default_items() -> list[ItemInput]:
    return [
        ItemInput(category, str(title), Decimal(points), key)
        for key, category, title, points in DEFAULT_CHECKLIST
    ]


def _new_checklist(street_id: int, version: int, items: list[ItemInput], actor) -> Checklist:
    checklist = Checklist(
        street_id=street_id,
        version=version,
        max_total=scoring.checklist_total(i.points for i in items),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(checklist)
    db.session.flush()
    for position, item in enumerate(items, start=1):
        db.session.add(
            ChecklistItem(
                checklist_id=checklist.id,
                position=position,
                category=item.category,
                builtin_key=item.builtin_key,
                title=item.title,
                points=item.points,
            )
        )
    db.session.flush()
    return checklist


def ensure_checklist(street: Street, actor=None) -> Checklist:
    """The street's current checklist; the default 100-point one is seeded on first use."""
    checklist = current_checklist(street.id)
    if checklist is not None:
        return checklist
    try:
        with db.session.begin_nested():
            checklist = _new_checklist(street.id, 1, default_items(), actor)
    except IntegrityError:  # seeded by a concurrent request
        return current_checklist(street.id)
    audit.record("checklist.seeded", actor, checklist, street=street.id)
    db.session.expire(checklist, ["items"])
    return checklist


def checklist_problems(items: list[ItemInput]) -> list[str]:
    problems = []
    if not items:
        problems.append(_("A checklist needs at least one item."))
    if len(items) > MAX_CHECKLIST_ITEMS:
        problems.append(_("A checklist has at most %(n)d items.", n=MAX_CHECKLIST_ITEMS))
    for n, item in enumerate(items, start=1):
        if item.category not in CATEGORIES:
            problems.append(_("Item %(n)d: choose a category.", n=n))
        if not item.title.strip():
            problems.append(_("Item %(n)d: give a title.", n=n))
        p = scoring.item_points_problem(item.points)
        if p:
            problems.append(_("Item %(n)d: %(problem)s", n=n, problem=POINTS_PROBLEMS[p]))
    return problems


def save_checklist(actor, street: Street, items: list[ItemInput]) -> Checklist:
    """A new version of the street's checklist; inspections keep the version they used."""
    _require_street(actor, street)
    problems = checklist_problems(items)
    if problems:
        raise ValidationFailed(" ".join(problems))
    current = current_checklist(street.id)
    version = (current.version + 1) if current else 1
    try:
        with db.session.begin_nested():
            checklist = _new_checklist(street.id, version, items, actor)
    except IntegrityError as exc:
        raise Conflict(_("Someone else saved the checklist at the same time. Reload.")) from exc
    audit.record(
        "checklist.saved",
        actor,
        checklist,
        street=street.id,
        version=version,
        items=len(items),
        max_total=str(checklist.max_total),
    )
    return checklist


# ---- inspections -----------------------------------------------------------------------------


def create_inspection(
    actor,
    compound: Compound,
    level: str,
    inspected_on: date,
    scores: dict[int, Decimal | None],
    note: str,
    now: datetime,
) -> Inspection:
    if level not in LEVELS:
        raise ValidationFailed(_("Choose the level of the inspection."))
    if not may_inspect(actor, compound, level):
        raise PermissionDenied(_("Your role cannot enter this level of inspection here."))
    today = local_today(now)
    if inspected_on > today:
        raise ValidationFailed(_("The inspection date cannot be in the future."))
    if inspected_on < today - timedelta(days=366):
        raise ValidationFailed(_("The inspection date is more than a year ago."))
    checklist = ensure_checklist(compound.community.street, actor)
    problems = score_problems(checklist, scores)
    if problems:
        raise ValidationFailed(" ".join(problems.values()))
    total = sum((scores[item.id] for item in checklist.items), Decimal("0"))
    inspection = Inspection(
        compound_id=compound.id,
        street_id=compound.community.street_id,
        company_id=current_company_id(compound, inspected_on),
        level=level,
        checklist_id=checklist.id,
        inspected_on=inspected_on,
        total=total,
        max_total=checklist.max_total,
        note=(note or "").strip(),
        created_at=now,
        created_by_id=actor.id,
    )
    db.session.add(inspection)
    db.session.flush()
    for item in checklist.items:
        db.session.add(
            InspectionScore(
                inspection_id=inspection.id,
                item_id=item.id,
                position=item.position,
                score=scores[item.id],
            )
        )
    db.session.flush()
    audit.record(
        "inspection.created",
        actor,
        inspection,
        compound=compound.id,
        level=level,
        total=str(total),
        checklist=checklist.id,
    )
    return inspection


def score_problems(checklist: Checklist, scores: dict[int, Decimal | None]) -> dict[int, str]:
    """item id -> message, for every item whose score is missing or out of range."""
    out = {}
    for item in checklist.items:
        p = scoring.item_score_problem(scores.get(item.id), item.points)
        if p:
            out[item.id] = f"{item_title(item)}: {SCORE_PROBLEMS[p]}"
    return out


def get_inspection(inspection_id: int) -> Inspection:
    inspection = db.session.scalar(
        select(Inspection)
        .where(Inspection.id == inspection_id)
        .options(
            joinedload(Inspection.compound)
            .joinedload(Compound.community)
            .joinedload(Community.street),
            joinedload(Inspection.company),
            selectinload(Inspection.scores).joinedload(InspectionScore.item),
            selectinload(Inspection.findings).selectinload(Finding.photos),
            selectinload(Inspection.findings).selectinload(Finding.reinspections),
        )
    )
    if inspection is None:
        raise NotFound()
    return inspection


def inspections_of_compound(compound: Compound, page: int, per_page: int):
    stmt = (
        select(Inspection)
        .where(Inspection.compound_id == compound.id)
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
    )
    return paginate(stmt, page, per_page)


def _inspections_scope(actor):
    if security.is_admin(actor):
        return literal(True)
    conditions = []
    streets = security.role_ids(actor, "street") | security.role_ids(actor, "inspector")
    if streets:
        conditions.append(Inspection.street_id.in_(streets))
    communities = security.role_ids(actor, "secretary")
    if communities:
        conditions.append(Compound.community_id.in_(communities))
    return or_(*conditions) if conditions else None


def may_list_inspections(actor) -> bool:
    return _inspections_scope(actor) is not None


def inspections_in_scope(actor, level: str, page: int, per_page: int):
    scope = _inspections_scope(actor)
    if scope is None:
        raise PermissionDenied(_("Your role does not enter inspections."))
    stmt = (
        select(Inspection)
        .join(Compound, Compound.id == Inspection.compound_id)
        .where(scope)
        .options(joinedload(Inspection.compound), joinedload(Inspection.company))
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
    )
    if level in LEVELS:
        stmt = stmt.where(Inspection.level == level)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def inspectable_compounds(actor) -> list[Compound]:
    """The compounds where ``actor`` may enter some level of inspection (for the desk)."""
    stmt = (
        select(Compound)
        .join(Community, Community.id == Compound.community_id)
        .options(joinedload(Compound.community))
        .order_by(Compound.name, Compound.id)
    )
    if not security.is_admin(actor):
        streets = security.role_ids(actor, "street") | security.role_ids(actor, "inspector")
        communities = security.role_ids(actor, "secretary")
        if not streets and not communities:
            return []
        stmt = stmt.where(
            or_(Community.street_id.in_(streets), Compound.community_id.in_(communities))
        )
    return list(db.session.scalars(stmt.limit(500)))


# ---- findings --------------------------------------------------------------------------------


def add_finding(
    actor,
    inspection: Inspection,
    *,
    category: str,
    description: str,
    responsible: str,
    deadline: date,
    photos: list[bytes],
    now: datetime,
) -> Finding:
    compound = inspection.compound
    if not may_inspect(actor, compound, inspection.level):
        raise PermissionDenied(_("Only who may enter this inspection can add findings to it."))
    if category not in CATEGORIES:
        raise ValidationFailed(_("Choose a category."))
    if responsible not in RESPONSIBLE:
        raise ValidationFailed(_("Choose who must rectify it."))
    if not (description or "").strip():
        raise ValidationFailed(_("Describe the finding."))
    if deadline < inspection.inspected_on:
        raise ValidationFailed(_("The deadline cannot be before the inspection."))
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(_("Attach at most %(n)d photos.", n=MAX_PHOTOS))
    from portal.uploads import service as uploads

    keys = [uploads.store(data, "findings") for data in photos]
    finding = Finding(
        inspection_id=inspection.id,
        compound_id=compound.id,
        company_id=inspection.company_id,
        category=category,
        description=description.strip(),
        responsible=responsible,
        deadline=deadline,
        status="open",
        created_at=now,
    )
    db.session.add(finding)
    db.session.flush()
    for key in keys:
        db.session.add(FindingPhoto(finding_id=finding.id, key=key))
    db.session.flush()
    audit.record(
        "finding.created",
        actor,
        finding,
        inspection=inspection.id,
        category=category,
        deadline=deadline.isoformat(),
        photos=len(keys),
    )
    return finding


def get_finding(finding_id: int, lock: bool = False) -> Finding:
    if lock:  # serialises re-inspections of one finding (a write lock on SQLite too)
        db.session.execute(
            update(Finding)
            .where(Finding.id == finding_id)
            .values(failed_count=Finding.failed_count)
            .execution_options(synchronize_session=False)
        )
    stmt = (
        select(Finding)
        .where(Finding.id == finding_id)
        .options(
            joinedload(Finding.inspection),
            joinedload(Finding.compound).joinedload(Compound.community),
            joinedload(Finding.company),
            selectinload(Finding.photos),
            selectinload(Finding.reinspections),
        )
    )
    if lock:
        stmt = stmt.with_for_update(of=Finding).execution_options(populate_existing=True)
    finding = db.session.scalar(stmt)
    if finding is None:
        raise NotFound()
    return finding


def reinspect(
    actor,
    finding_id: int,
    *,
    passed: bool,
    checked_on: date,
    note: str,
    new_deadline: date | None,
    now: datetime,
) -> Finding:
    finding = get_finding(finding_id, lock=True)
    if not may_reinspect(actor, finding):
        raise PermissionDenied(_("Your role cannot re-inspect this finding."))
    if finding.status == "closed":
        raise InvalidTransition(_("This finding has already passed its re-inspection."))
    if checked_on > local_today(now):
        raise ValidationFailed(_("The re-inspection date cannot be in the future."))
    if checked_on < finding.inspection.inspected_on:
        raise ValidationFailed(_("The re-inspection cannot be before the inspection."))
    if not passed:
        if new_deadline is None:
            raise ValidationFailed(_("Give a new deadline for the rectification."))
        if new_deadline <= checked_on:
            raise ValidationFailed(_("The new deadline must be after the re-inspection."))
    record = Reinspection(
        finding_id=finding.id,
        checked_on=checked_on,
        passed=passed,
        note=(note or "").strip(),
        new_deadline=None if passed else new_deadline,
        created_at=now,
        created_by_id=actor.id,
    )
    db.session.add(record)
    if passed:
        finding.status = "closed"
        finding.closed_on = checked_on
    else:
        finding.status = "open"
        finding.failed_count += 1
        finding.deadline = new_deadline
    db.session.flush()
    audit.record(
        "finding.reinspected",
        actor,
        finding,
        passed=passed,
        failures=finding.failed_count,
        new_deadline=new_deadline.isoformat() if new_deadline and not passed else None,
    )
    if not passed and scoring.veto_triggered(finding.failed_count):
        _flag(actor, finding, checked_on.year, now)
    db.session.expire(finding, ["reinspections"])
    return finding


def _flag(actor, finding: Finding, year: int, now: datetime) -> None:
    exists = db.session.scalar(
        select(VetoFlag.id).where(
            VetoFlag.compound_id == finding.compound_id, VetoFlag.year == year
        )
    )
    if exists:
        return
    try:
        with db.session.begin_nested():
            flag = VetoFlag(
                compound_id=finding.compound_id,
                company_id=finding.company_id,
                year=year,
                finding_id=finding.id,
                created_at=now,
            )
            db.session.add(flag)
    except IntegrityError:
        return
    audit.record(
        "veto.flagged", actor, flag, compound=finding.compound_id, year=year, finding=finding.id
    )


def report_rectified(actor, finding_id: int, note: str, now: datetime) -> Finding:
    finding = get_finding(finding_id, lock=True)
    if not may_report(actor, finding, local_today(now)):
        raise PermissionDenied(
            _("Only the company serving this compound or its committee can report this.")
        )
    if finding.status != "open":
        raise InvalidTransition(_("Only an open finding can be reported as rectified."))
    if not (note or "").strip():
        raise ValidationFailed(_("Say what was done."))
    finding.status = "reported"
    finding.report_note = note.strip()
    finding.reported_at = now
    db.session.flush()
    audit.record("finding.reported", actor, finding)
    return finding


def photo_of(actor, finding_id: int, photo_id: int, now: datetime):
    finding = get_finding(finding_id)
    photo = next((p for p in finding.photos if p.id == photo_id), None)
    if photo is None:
        raise NotFound()
    if not may_see_photos(actor, finding, local_today(now)):
        raise PermissionDenied(_("Photos of findings are shown to the staff concerned only."))
    from portal.uploads import service as uploads

    return uploads.open_path(photo.key)


def findings_for_category(compound: Compound, category: str) -> list[Finding]:
    """Findings of ``compound`` in ``category``, newest first, with their outcome loaded.

    The outcome: ``status`` (open / reported / closed), ``deadline``, ``closed_on``,
    ``failed_count`` and ``reinspections`` (each with ``checked_on``, ``passed``, ``note``).
    Used as the evidence of a service commitment in that category."""
    if category not in CATEGORIES:
        return []
    return list(
        db.session.scalars(
            select(Finding)
            .where(Finding.compound_id == compound.id, Finding.category == category)
            .options(selectinload(Finding.reinspections), joinedload(Finding.inspection))
            .order_by(Finding.created_at.desc(), Finding.id.desc())
        )
    )


def _overdue_condition(today: date):
    return and_(Finding.status != "closed", Finding.deadline < today)


def findings_in_scope(actor, status: str, page: int, per_page: int, now: datetime):
    today = local_today(now)
    scope = _findings_scope(actor, today)
    if scope is None:
        raise PermissionDenied(_("Your role does not follow inspection findings."))
    stmt = (
        select(Finding)
        .join(Compound, Compound.id == Finding.compound_id)
        .join(Community, Community.id == Compound.community_id)
        .where(scope)
        .options(
            joinedload(Finding.compound).joinedload(Compound.community),
            joinedload(Finding.inspection),
            selectinload(Finding.photos),
            selectinload(Finding.reinspections),
        )
    )
    if status == "overdue":
        stmt = stmt.where(_overdue_condition(today)).order_by(Finding.deadline, Finding.id)
    elif status == "closed":
        stmt = stmt.where(Finding.status == "closed").order_by(
            Finding.closed_on.desc(), Finding.id.desc()
        )
    else:
        stmt = stmt.where(Finding.status != "closed").order_by(Finding.deadline, Finding.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def open_findings_of_compound(compound: Compound, page: int, per_page: int):
    stmt = (
        select(Finding)
        .where(Finding.compound_id == compound.id, Finding.status != "closed")
        .options(joinedload(Finding.inspection))
        .order_by(Finding.deadline, Finding.id)
    )
    return paginate(stmt, page, per_page)


def finding_actions(actor, findings, today: date) -> dict[int, dict[str, bool]]:
    """For each finding, what ``actor`` may do with it: ``reinspect``, ``report``, ``photos``.

    At most one query (the compounds served by the actor's companies), however many findings."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    if not authenticated:
        return {f.id: {"reinspect": False, "report": False, "photos": False} for f in findings}
    from portal.voting.models import Contract

    admin = security.is_admin(actor)
    committee = security.role_ids(actor, "committee")
    secretary = security.role_ids(actor, "secretary")
    streets = security.role_ids(actor, "street") | security.role_ids(actor, "inspector")
    companies = security.role_ids(actor, "company")
    served: set[int] = set()
    if companies and findings:
        served = set(
            db.session.scalars(
                _compounds_of_companies(companies, today).where(
                    Contract.compound_id.in_({f.compound_id for f in findings})
                )
            )
        )
    out = {}
    for f in findings:
        may_re = may_reinspect(actor, f)
        may_rep = admin or f.compound_id in committee or f.compound_id in served
        out[f.id] = {
            "reinspect": may_re and f.status != "closed",
            "report": may_rep and f.status == "open",
            "photos": admin
            or may_re
            or may_rep
            or f.compound.community_id in secretary
            or _street_id(f.compound) in streets,
        }
    return out


def company_condition(company: Company):
    return Finding.company_id == company.id


def veto_of(compound_id: int, year: int) -> VetoFlag | None:
    return db.session.scalar(
        select(VetoFlag).where(VetoFlag.compound_id == compound_id, VetoFlag.year == year)
    )


# ---- surveys ---------------------------------------------------------------------------------


def survey_state(survey: Survey, now: datetime) -> str:
    if now < survey.opens_at:
        return "scheduled"
    if now < survey.closes_at:
        return "open"
    return "closed"


def create_survey(
    actor,
    compound: Compound,
    *,
    title: str,
    areas: list[str],
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
) -> Survey:
    if not may_run_surveys(actor, compound):
        raise PermissionDenied(_("Only the community secretary opens surveys of this compound."))
    chosen = [a for a in SURVEY_AREAS if a in set(areas)]
    if len(chosen) < 1:
        raise ValidationFailed(_("Choose at least one service area."))
    if not (title or "").strip():
        raise ValidationFailed(_("Give the survey a title."))
    if opens_at < local_midnight(local_today(now)):
        raise ValidationFailed(_("The survey cannot open in the past."))
    opens_at = max(opens_at, now)  # "today at 08:00" after eight: it opens now
    if closes_at <= opens_at:
        raise ValidationFailed(_("The survey must close after it opens."))
    if closes_at - opens_at > timedelta(days=92):
        raise ValidationFailed(_("A survey stays open for at most three months."))
    survey = Survey(
        compound_id=compound.id,
        street_id=compound.community.street_id,
        company_id=current_company_id(compound, local_today(now)),
        title=title.strip(),
        areas=chosen,
        opens_at=max(opens_at, now),
        closes_at=closes_at,
        created_at=now,
        created_by_id=actor.id,
    )
    db.session.add(survey)
    db.session.flush()
    audit.record(
        "survey.created",
        actor,
        survey,
        compound=compound.id,
        areas=chosen,
        opens=opens_at.isoformat(),
        closes=closes_at.isoformat(),
    )
    return survey


def get_survey(survey_id: int) -> Survey:
    survey = db.session.scalar(
        select(Survey)
        .where(Survey.id == survey_id)
        .options(
            joinedload(Survey.compound).joinedload(Compound.community).joinedload(Community.street),
            joinedload(Survey.company),
        )
    )
    if survey is None:
        raise NotFound()
    return survey


def close_survey(actor, survey_id: int, now: datetime) -> Survey:
    survey = get_survey(survey_id)
    if not may_run_surveys(actor, survey.compound):
        raise PermissionDenied(_("Only the community secretary closes surveys of this compound."))
    if survey_state(survey, now) != "open":
        raise InvalidTransition(_("Only an open survey can be closed."))
    survey.closes_at = now
    survey.closed_early = True
    db.session.flush()
    audit.record("survey.closed_early", actor, survey)
    return survey


@dataclass
class Household:
    unit: Unit
    answered: bool


def households_of(user, survey: Survey) -> list[Household]:
    """The units in the survey's compound of which ``user`` is a verified member."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    from portal.accounts.models import Membership

    rows = db.session.execute(
        select(Unit, SurveyParticipation.unit_id)
        .join(Membership, Membership.unit_id == Unit.id)
        .join(Building, Building.id == Unit.building_id)
        .outerjoin(
            SurveyParticipation,
            and_(
                SurveyParticipation.unit_id == Unit.id,
                SurveyParticipation.survey_id == survey.id,
            ),
        )
        .where(
            Membership.user_id == user.id,
            Membership.status == "verified",
            Building.compound_id == survey.compound_id,
        )
        .options(joinedload(Unit.building))
        .order_by(Building.sort_key, Unit.room)
    ).all()
    seen, out = set(), []
    for unit, answered in rows:
        if unit.id not in seen:
            seen.add(unit.id)
            out.append(Household(unit, answered is not None))
    return out


def respond(
    user, survey_id: int, unit_id: int, answers: dict[str, int], comment: str, now: datetime
) -> None:
    """Record one household's answers; the unique (survey, unit) decides who was first."""
    survey = get_survey(survey_id)
    if survey_state(survey, now) != "open":
        raise InvalidTransition(_("This survey is not open for answers."))
    households = {h.unit.id: h for h in households_of(user, survey)}
    if not households:
        raise PermissionDenied(
            _("Only verified residents of this compound can answer, one answer per household.")
        )
    if unit_id not in households:
        raise ValidationFailed(_("Choose the household you answer for."))
    if households[unit_id].answered:
        raise Conflict(_("Your household has already answered this survey. Thank you."))
    for area in survey.areas:
        if answers.get(area) not in (1, 2, 3, 4, 5):
            raise ValidationFailed(_("Rate every service area from 1 to 5."))
    token = secrets.token_hex(16)
    try:
        with db.session.begin_nested():
            db.session.add(SurveyParticipation(survey_id=survey.id, unit_id=unit_id))
            db.session.flush()
            db.session.add(
                SurveyResponse(id=token, survey_id=survey.id, comment=(comment or "").strip())
            )
            db.session.flush()
            for area in survey.areas:
                db.session.add(
                    SurveyAnswer(
                        response_id=token, area=area, survey_id=survey.id, score=answers[area]
                    )
                )
            db.session.execute(
                update(Survey)
                .where(Survey.id == survey.id)
                .values(response_count=Survey.response_count + 1)
                .execution_options(synchronize_session=False)
            )
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_("Your household has already answered this survey. Thank you.")) from exc


@dataclass
class AreaResult:
    area: str
    counts: dict[int, int]
    count: int
    total: int

    @property
    def average(self) -> Decimal | None:
        if not self.count:
            return None
        return scoring.round_half_up(Fraction(self.total, self.count))

    def share(self, score: int) -> int:
        """Whole percent of answers with this score (for the bar widths)."""
        return round(100 * self.counts.get(score, 0) / self.count) if self.count else 0


@dataclass
class SurveyResults:
    responses: int
    areas: list[AreaResult]
    total: int = 0
    count: int = 0

    @property
    def average(self) -> Decimal | None:
        if not self.count:
            return None
        return scoring.round_half_up(Fraction(self.total, self.count))


def survey_results(survey: Survey) -> SurveyResults:
    rows = db.session.execute(
        select(SurveyAnswer.area, SurveyAnswer.score, func.count())
        .where(SurveyAnswer.survey_id == survey.id)
        .group_by(SurveyAnswer.area, SurveyAnswer.score)
    ).all()
    by_area = {a: AreaResult(a, {}, 0, 0) for a in survey.areas}
    for area, score, n in rows:
        r = by_area.setdefault(area, AreaResult(area, {}, 0, 0))
        r.counts[score] = n
        r.count += n
        r.total += score * n
    result = SurveyResults(survey.response_count, list(by_area.values()))
    result.total = sum(a.total for a in result.areas)
    result.count = sum(a.count for a in result.areas)
    return result


def may_read_comments(actor, survey: Survey, now: datetime) -> bool:
    if survey_state(survey, now) != "closed" or not actor or not actor.is_authenticated:
        return False
    compound = survey.compound
    return (
        security.is_admin(actor)
        or security.is_secretary_of(actor, compound.community)
        or compound.community.street_id in security.role_ids(actor, "street")
        or compound.id in security.role_ids(actor, "committee")
        or (
            survey.company_id is not None
            and survey.company_id in security.role_ids(actor, "company")
        )
    )


def survey_comments(actor, survey: Survey, now: datetime, page: int, per_page: int):
    if not may_read_comments(actor, survey, now):
        raise PermissionDenied(
            _("Comments are shown to the staff concerned after the survey closes.")
        )
    stmt = (
        select(SurveyResponse.comment)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.comment != "")
        .order_by(SurveyResponse.id)  # a random token: no order of arrival
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)


def surveys_of_compound(compound: Compound, page: int, per_page: int):
    stmt = (
        select(Survey)
        .where(Survey.compound_id == compound.id)
        .order_by(Survey.closes_at.desc(), Survey.id.desc())
    )
    return paginate(stmt, page, per_page)


def surveys_in_scope(actor, page: int, per_page: int):
    stmt = (
        select(Survey)
        .join(Compound, Compound.id == Survey.compound_id)
        .options(joinedload(Survey.compound))
        .order_by(Survey.closes_at.desc(), Survey.id.desc())
    )
    if not security.is_admin(actor):
        communities = security.role_ids(actor, "secretary")
        streets = security.role_ids(actor, "street")
        if not communities and not streets:
            raise PermissionDenied(_("Only community secretaries run surveys."))
        stmt = stmt.where(
            or_(Compound.community_id.in_(communities), Survey.street_id.in_(streets))
        )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def survey_compounds(actor) -> list[Compound]:
    stmt = select(Compound).order_by(Compound.name, Compound.id)
    if not security.is_admin(actor):
        communities = security.role_ids(actor, "secretary")
        if not communities:
            return []
        stmt = stmt.where(Compound.community_id.in_(communities))
    return list(db.session.scalars(stmt.limit(500)))


# ---- rating periods --------------------------------------------------------------------------


def create_period(actor, street: Street, kind: str, year: int, number: int) -> RatingPeriod:
    _require_street(actor, street)
    if kind not in PERIOD_KINDS:
        raise ValidationFailed(_("Choose a quarter, a half-year or a year."))
    try:
        starts_on, ends_on = scoring.period_bounds(kind, year, number)
    except ValueError as exc:
        raise ValidationFailed(_("There is no such period.")) from exc
    existing = db.session.scalar(
        select(RatingPeriod).where(
            RatingPeriod.street_id == street.id,
            RatingPeriod.kind == kind,
            RatingPeriod.year == year,
            RatingPeriod.number == number,
        )
    )
    if existing is not None:
        return existing
    period = RatingPeriod(
        street_id=street.id,
        kind=kind,
        year=year,
        number=number,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(period)
    except IntegrityError as exc:
        raise Conflict(_("This period was just added by someone else.")) from exc
    audit.record("rating_period.created", actor, period, street=street.id, kind=kind, year=year)
    return period


def get_period(period_id: int) -> RatingPeriod:
    period = db.session.scalar(
        select(RatingPeriod)
        .where(RatingPeriod.id == period_id)
        .options(joinedload(RatingPeriod.street))
    )
    if period is None:
        raise NotFound()
    return period


def periods_of(street: Street, page: int, per_page: int, published_only: bool = False):
    stmt = select(RatingPeriod).where(RatingPeriod.street_id == street.id)
    if published_only:
        stmt = stmt.where(RatingPeriod.published_at.is_not(None))
    stmt = stmt.order_by(RatingPeriod.ends_on.desc(), RatingPeriod.starts_on.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def published_periods(street: Street, limit: int = 40) -> list[RatingPeriod]:
    return list(
        db.session.scalars(
            select(RatingPeriod)
            .where(RatingPeriod.street_id == street.id, RatingPeriod.published_at.is_not(None))
            .order_by(RatingPeriod.ends_on.desc(), RatingPeriod.starts_on.desc())
            .limit(limit)
        )
    )


@dataclass
class Computed:
    """A company's figures for a period, as computed now (a preview, or what gets published)."""

    company: Company
    rating: scoring.Rating
    compound_count: int = 0
    inspection_count: int = 0
    response_count: int = 0
    answer_count: int = 0
    current: Rating | None = None  # the published version, if any

    @property
    def changed(self) -> bool:
        c = self.current
        if c is None:
            return True
        r = self.rating
        return (
            c.score != r.score
            or c.list_status != r.list_status
            or c.subsidy != r.subsidy
            or c.basis != r.basis
            or c.veto != r.veto
            or c.inspection_component != r.inspection_component
            or c.satisfaction_component != r.satisfaction_component
        )


def compute_period(period: RatingPeriod, now: datetime) -> list[Computed]:
    """Every company with a contract, an inspection or a closed survey in the street during the
    period, rated under the street's current rules. Six queries, whatever the numbers."""
    from portal.voting.models import Contract

    rules = rules_for(period.street_id)
    start, end = period.starts_on, period.ends_on
    lo, hi = local_midnight(start), local_midnight(end + timedelta(days=1))
    inspections = db.session.execute(
        select(
            Inspection.company_id, Inspection.compound_id, Inspection.total, Inspection.max_total
        ).where(
            Inspection.street_id == period.street_id,
            Inspection.company_id.is_not(None),
            Inspection.inspected_on >= start,
            Inspection.inspected_on <= end,
        )
    ).all()
    survey_window = and_(
        Survey.street_id == period.street_id,
        Survey.company_id.is_not(None),
        Survey.closes_at >= lo,
        Survey.closes_at < hi,
        Survey.closes_at <= now,
    )
    answers = db.session.execute(
        select(Survey.company_id, func.sum(SurveyAnswer.score), func.count(SurveyAnswer.score))
        .join(SurveyAnswer, SurveyAnswer.survey_id == Survey.id)
        .where(survey_window)
        .group_by(Survey.company_id)
    ).all()
    responses = db.session.execute(
        select(Survey.company_id, func.sum(Survey.response_count), func.count(Survey.id))
        .where(survey_window)
        .group_by(Survey.company_id)
    ).all()
    vetoed = set(
        db.session.scalars(
            select(VetoFlag.company_id)
            .join(Compound, Compound.id == VetoFlag.compound_id)
            .join(Community, Community.id == Compound.community_id)
            .where(
                Community.street_id == period.street_id,
                VetoFlag.year == period.year,
                VetoFlag.company_id.is_not(None),
            )
        )
    )
    contracts = db.session.execute(
        select(Contract.company_id, Contract.compound_id)
        .join(Compound, Compound.id == Contract.compound_id)
        .join(Community, Community.id == Compound.community_id)
        .where(
            Community.street_id == period.street_id,
            Contract.starts_on <= end,
            Contract.ends_on >= start,
        )
    ).all()
    per_company: dict[int, list[scoring.InspectionTotal]] = defaultdict(list)
    compounds: dict[int, set[int]] = defaultdict(set)
    for company_id, compound_id, total, max_total in inspections:
        per_company[company_id].append(scoring.InspectionTotal(compound_id, total, max_total))
        compounds[company_id].add(compound_id)
    for company_id, compound_id in contracts:
        compounds[company_id].add(compound_id)
    tallies = {cid: scoring.SurveyTally(int(s or 0), int(n or 0)) for cid, s, n in answers}
    resp = {cid: int(n or 0) for cid, n, _surveys in responses}
    ids = set(compounds) | set(tallies) | vetoed
    current = {r.company_id: r for r in current_ratings(period)} if period.published_at else {}
    ids |= set(current)
    companies = (
        {c.id: c for c in db.session.scalars(select(Company).where(Company.id.in_(ids)))}
        if ids
        else {}
    )
    out = []
    for cid in ids:
        if cid not in companies:
            continue
        tally = tallies.get(cid, scoring.SurveyTally(0, 0))
        out.append(
            Computed(
                company=companies[cid],
                rating=scoring.rate(per_company.get(cid, []), tally, cid in vetoed, rules),
                compound_count=len(compounds.get(cid, ())),
                inspection_count=len(per_company.get(cid, ())),
                response_count=resp.get(cid, 0),
                answer_count=tally.count,
                current=current.get(cid),
            )
        )
    out.sort(key=_rank_key)
    return out


def _rank_key(c: Computed):
    r = c.rating
    return (r.score is None, -(r.score_exact or 0), c.company.name)


def _rating_row(
    period: RatingPeriod, c: Computed, version: int, rules, actor, now, reason: str
) -> Rating:
    r = c.rating
    return Rating(
        period_id=period.id,
        company_id=c.company.id,
        version=version,
        basis=r.basis,
        inspection_component=r.inspection_component,
        satisfaction_component=r.satisfaction_component,
        score=r.score,
        veto=r.veto,
        list_status=r.list_status,
        factor=r.factor,
        subsidy=r.subsidy,
        compound_count=c.compound_count,
        inspection_count=c.inspection_count,
        response_count=c.response_count,
        answer_count=c.answer_count,
        rules=rules_to_json(rules),
        reason=reason,
        published_at=now,
        published_by_id=actor.id,
    )


def _lock_period(period_id: int) -> RatingPeriod:
    return lock_row(RatingPeriod, period_id, RatingPeriod.year, (joinedload(RatingPeriod.street),))


def publish_period(actor, period_id: int, now: datetime) -> list[Rating]:
    period = _lock_period(period_id)
    _require_street(actor, period.street)
    if period.published_at is not None:
        raise InvalidTransition(
            _("This period is already published. Publish a correction with a reason instead.")
        )
    if local_midnight(period.starts_on) > now:
        raise InvalidTransition(_("A period cannot be published before it starts."))
    computed = compute_period(period, now)
    rules = rules_for(period.street_id)
    rows = [_rating_row(period, c, 1, rules, actor, now, "") for c in computed]
    db.session.add_all(rows)
    period.published_at = now
    db.session.flush()
    audit.record(
        "rating_period.published",
        actor,
        period,
        street=period.street_id,
        companies=len(rows),
        red=sum(1 for r in rows if r.list_status == "red"),
        black=sum(1 for r in rows if r.list_status == "black"),
    )
    return rows


def correct_period(actor, period_id: int, reason: str, now: datetime) -> list[Rating]:
    """Recompute; every company whose figures changed gets a new version carrying ``reason``."""
    period = _lock_period(period_id)
    _require_street(actor, period.street)
    if period.published_at is None:
        raise InvalidTransition(_("Publish the period first; corrections come after."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason for the correction; it is published."))
    computed = compute_period(period, now)
    rules = rules_for(period.street_id)
    rows = [
        _rating_row(
            period, c, (c.current.version + 1) if c.current else 1, rules, actor, now, reason
        )
        for c in computed
        if c.changed
    ]
    if not rows:
        raise ValidationFailed(_("Nothing has changed since the last publication."))
    try:
        with db.session.begin_nested():
            db.session.add_all(rows)
    except IntegrityError as exc:
        raise Conflict(_("A correction was just published by someone else. Reload.")) from exc
    audit.record(
        "rating_period.corrected",
        actor,
        period,
        companies=[r.company_id for r in rows],
        reason=reason,
    )
    return rows


def _current_ids():
    """SELECT of the ids of the current (latest) version of every published rating."""
    later = aliased(Rating)
    return (
        select(Rating.id)
        .outerjoin(
            later,
            and_(
                later.period_id == Rating.period_id,
                later.company_id == Rating.company_id,
                later.version > Rating.version,
            ),
        )
        .where(later.id.is_(None))
    )


def _status_order():
    return case((Rating.list_status == "red", 0), (Rating.list_status == "none", 1), else_=2)


def current_ratings(period: RatingPeriod) -> list[Rating]:
    return list(
        db.session.scalars(
            select(Rating)
            .where(Rating.period_id == period.id, Rating.id.in_(_current_ids()))
            .options(joinedload(Rating.company))
            .order_by(Rating.score.is_(None), Rating.score.desc(), Rating.company_id)
        )
    )


def ratings_page(period: RatingPeriod, page: int, per_page: int):
    stmt = (
        select(Rating)
        .where(Rating.period_id == period.id, Rating.id.in_(_current_ids()))
        .options(joinedload(Rating.company))
        .order_by(_status_order(), Rating.score.is_(None), Rating.score.desc(), Rating.company_id)
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def listed(period: RatingPeriod, status: str) -> list[Rating]:
    order = (
        (Rating.score.is_(None), Rating.score.desc())
        if status == "red"
        else (Rating.veto.desc(), Rating.score.is_(None), Rating.score.asc())
    )
    return list(
        db.session.scalars(
            select(Rating)
            .where(
                Rating.period_id == period.id,
                Rating.id.in_(_current_ids()),
                Rating.list_status == status,
            )
            .options(joinedload(Rating.company))
            .order_by(*order, Rating.company_id)
            .limit(200)
        )
    )


def corrections_of(period: RatingPeriod) -> list[Rating]:
    """Every version after the first, newest first, with the version it replaced loaded."""
    return list(
        db.session.scalars(
            select(Rating)
            .where(Rating.period_id == period.id, Rating.version > 1)
            .options(joinedload(Rating.company))
            .order_by(Rating.published_at.desc(), Rating.id.desc())
            .limit(200)
        )
    )


def previous_versions(period: RatingPeriod) -> dict[tuple[int, int], Rating]:
    """(company id, version) -> rating, for showing what a correction replaced."""
    rows = db.session.scalars(
        select(Rating).where(Rating.period_id == period.id, Rating.id.not_in(_current_ids()))
    )
    return {(r.company_id, r.version): r for r in rows}


# ---- the company scorecard -------------------------------------------------------------------


def get_company(company_id: int) -> Company:
    company = db.session.get(Company, company_id)
    if company is None:
        raise NotFound()
    return company


def compounds_served(company: Company, today: date) -> list[Compound]:
    return list(
        db.session.scalars(
            select(Compound)
            .where(Compound.id.in_(_compounds_of_companies([company.id], today)))
            .options(joinedload(Compound.community).joinedload(Community.street))
            .order_by(Compound.name, Compound.id)
            .limit(200)
        )
    )


def rating_trend(company: Company, limit: int = 12) -> list[Rating]:
    """The current version of the company's published ratings, the latest ``limit`` periods,
    oldest first."""
    rows = list(
        db.session.scalars(
            select(Rating)
            .join(RatingPeriod, RatingPeriod.id == Rating.period_id)
            .where(Rating.company_id == company.id, Rating.id.in_(_current_ids()))
            .options(joinedload(Rating.period).joinedload(RatingPeriod.street))
            .order_by(RatingPeriod.ends_on.desc(), Rating.id.desc())
            .limit(limit)
        )
    )
    rows.reverse()
    return rows


@dataclass
class FindingSummary:
    by_category: dict[str, dict[str, int]] = field(default_factory=dict)
    open: int = 0
    overdue: int = 0
    closed: int = 0


def finding_summary(condition, today: date) -> FindingSummary:
    rows = db.session.execute(
        select(
            Finding.category,
            func.sum(case((Finding.status != "closed", 1), else_=0)),
            func.sum(case((_overdue_condition(today), 1), else_=0)),
            func.sum(case((Finding.status == "closed", 1), else_=0)),
        )
        .where(condition)
        .group_by(Finding.category)
    ).all()
    summary = FindingSummary()
    for category, n_open, n_overdue, n_closed in rows:
        summary.by_category[category] = {
            "open": int(n_open or 0),
            "overdue": int(n_overdue or 0),
            "closed": int(n_closed or 0),
        }
        summary.open += int(n_open or 0)
        summary.overdue += int(n_overdue or 0)
        summary.closed += int(n_closed or 0)
    return summary


def open_findings_of_company(company: Company, page: int, per_page: int):
    stmt = (
        select(Finding)
        .where(Finding.company_id == company.id, Finding.status != "closed")
        .options(
            joinedload(Finding.compound),
            joinedload(Finding.inspection),
            selectinload(Finding.photos),
            selectinload(Finding.reinspections),
        )
        .order_by(Finding.deadline, Finding.id)
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def latest_rating_of(company_id: int | None, street_id: int) -> Rating | None:
    if company_id is None:
        return None
    return db.session.scalar(
        select(Rating)
        .join(RatingPeriod, RatingPeriod.id == Rating.period_id)
        .where(
            Rating.company_id == company_id,
            RatingPeriod.street_id == street_id,
            Rating.id.in_(_current_ids()),
        )
        .options(joinedload(Rating.period), joinedload(Rating.company))
        .order_by(RatingPeriod.ends_on.desc(), Rating.id.desc())
        .limit(1)
    )


# ---- the trend chart (an accessible SVG drawn on the server) ---------------------------------


@dataclass
class ChartPoint:
    x: float
    y: float
    label: str  # for the description
    short: str  # under the axis
    value: Decimal | None
    labelled: bool = True  # with many periods only every few carry their labels
    label_y: float = 0  # the value's label: above the point, or below it near the top


@dataclass
class Chart:
    width: int
    height: int
    points: list[ChartPoint]
    polyline: str
    gridlines: list[tuple[float, int]]
    red_y: float
    black_y: float
    x0: int = 40
    x1: int = 440


def trend_chart(labels_values, red: Decimal, black: Decimal, width=360, height=230) -> Chart:
    """Coordinates for a 0–100 line chart; unrated periods are gaps (no point)."""
    left, right, top, bottom = 34, 60, 26, 34
    n = len(labels_values)
    plot_w, plot_h = width - left - right, height - top - bottom

    def y_of(v) -> float:
        return round(top + plot_h * (1 - float(v) / 100), 1)

    points = []
    step = max(1, -(-n // 4))
    for i, (label, short, value) in enumerate(labels_values):
        x = left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))
        y = y_of(value) if value is not None else 0
        labelled = i % step == 0 or i == n - 1
        label_y = y + 20 if value is not None and value > 85 else y - 10
        points.append(ChartPoint(round(x, 1), y, label, short, value, labelled, label_y))
    line = " ".join(f"{p.x},{p.y}" for p in points if p.value is not None)
    grid = [(y_of(v), v) for v in (0, 20, 40, 60, 80, 100)]
    return Chart(width, height, points, line, grid, y_of(red), y_of(black), left, width - right)


# ---- open data -------------------------------------------------------------------------------


def _period_code(period: RatingPeriod) -> str:
    if period.kind == "quarter":
        return f"{period.year}-Q{period.number}"
    if period.kind == "half":
        return f"{period.year}-H{period.number}"
    return str(period.year)


period_code = _period_code


def open_ratings(street_code: str | None, year: int | None, batch: int = 500):
    """Every published rating version (the current one marked), as plain rows."""
    stmt = (
        select(Rating, RatingPeriod, Street, Company)
        .join(RatingPeriod, RatingPeriod.id == Rating.period_id)
        .join(Street, Street.id == RatingPeriod.street_id)
        .join(Company, Company.id == Rating.company_id)
        .order_by(Street.code, RatingPeriod.ends_on, Company.name, Rating.version)
    )
    cur_stmt = select(Rating.id).where(Rating.id.in_(_current_ids()))
    if street_code:
        stmt = stmt.where(Street.code == street_code)
    if year:
        stmt = stmt.where(RatingPeriod.year == year)
    current = set(db.session.scalars(cur_stmt))
    for rating, period, street, company in db.session.execute(
        stmt.execution_options(yield_per=batch)
    ):
        yield {
            "street_code": street.code,
            "street": street.name,
            "period": _period_code(period),
            "period_start": period.starts_on.isoformat(),
            "period_end": period.ends_on.isoformat(),
            "company": company.name,
            "company_credit_code": company.credit_code or "",
            "version": rating.version,
            "current": rating.id in current,
            "basis": rating.basis,
            "inspection_component": _s(rating.inspection_component),
            "satisfaction_component": _s(rating.satisfaction_component),
            "score": _s(rating.score),
            "veto": rating.veto,
            "list_status": rating.list_status,
            "subsidy_factor": _s(rating.factor),
            "subsidy_cny": _s(rating.subsidy),
            "compounds": rating.compound_count,
            "inspections": rating.inspection_count,
            "survey_responses": rating.response_count,
            "inspection_weight": rating.rules.get("inspection_weight"),
            "satisfaction_weight": rating.rules.get("satisfaction_weight"),
            "red_threshold": rating.rules.get("red_threshold"),
            "black_threshold": rating.rules.get("black_threshold"),
            "base_subsidy_cny": rating.rules.get("base_subsidy"),
            "published_on": local_today(rating.published_at).isoformat(),
            "correction_reason": redact_phones(rating.reason),
        }


def _s(value) -> str | None:
    return None if value is None else str(value)


def _inspection_filter(stmt, street_code, year):
    if street_code:
        stmt = stmt.where(Street.code == street_code)
    if year:
        stmt = stmt.where(
            Inspection.inspected_on >= date(year, 1, 1),
            Inspection.inspected_on <= date(year, 12, 31),
        )
    return stmt


def open_inspection_scores(street_code: str | None, year: int | None, batch: int = 1000):
    """One row per inspection and checklist item (no inspector, no note)."""
    company = aliased(Company)
    stmt = (
        select(InspectionScore, ChecklistItem, Inspection, Compound, Street, company.name)
        .join(Inspection, Inspection.id == InspectionScore.inspection_id)
        .join(ChecklistItem, ChecklistItem.id == InspectionScore.item_id)
        .join(Compound, Compound.id == Inspection.compound_id)
        .join(Street, Street.id == Inspection.street_id)
        .outerjoin(company, company.id == Inspection.company_id)
        .order_by(Inspection.inspected_on, Inspection.id, InspectionScore.position)
    )
    stmt = _inspection_filter(stmt, street_code, year)
    for score, item, insp, compound, street, company_name in db.session.execute(
        stmt.execution_options(yield_per=batch)
    ):
        yield {
            "inspection_id": insp.id,
            "street_code": street.code,
            "compound_code": compound.code,
            "compound": compound.name,
            "company": company_name or "",
            "level": insp.level,
            "inspected_on": insp.inspected_on.isoformat(),
            "item": score.position,
            "category": item.category,
            "item_title": item_title(item),
            "points": str(item.points),
            "score": str(score.score),
            "inspection_total": str(insp.total),
            "inspection_max": str(insp.max_total),
        }


def open_findings(street_code: str | None, year: int | None, batch: int = 1000):
    """One row per finding: what, where, by when, the outcome; no people, no photos."""
    company = aliased(Company)
    stmt = (
        select(Finding, Inspection, Compound, Street, company.name)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .join(Compound, Compound.id == Finding.compound_id)
        .join(Street, Street.id == Inspection.street_id)
        .outerjoin(company, company.id == Finding.company_id)
        .order_by(Inspection.inspected_on, Finding.id)
    )
    stmt = _inspection_filter(stmt, street_code, year)
    for finding, insp, compound, street, company_name in db.session.execute(
        stmt.execution_options(yield_per=batch)
    ):
        yield {
            "finding_id": finding.id,
            "inspection_id": insp.id,
            "street_code": street.code,
            "compound_code": compound.code,
            "compound": compound.name,
            "company": company_name or "",
            "level": insp.level,
            "inspected_on": insp.inspected_on.isoformat(),
            "category": finding.category,
            "description": redact_phones(finding.description),
            "responsible": finding.responsible,
            "deadline": finding.deadline.isoformat(),
            "status": finding.status,
            "failed_reinspections": finding.failed_count,
            "rectified_on": finding.closed_on.isoformat() if finding.closed_on else None,
        }
