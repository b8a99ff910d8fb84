"""Fee statements: who may do what, the statement lifecycle, questions, and the read queries.

Lifecycle: the property company's staff draft a statement (form or file import) →
submit it → the community secretary publishes it or returns it with a reason (the company
corrects and submits again). A published statement never changes (see ``models``); a correction
is a new revision with a stated reason, going through the same review.

Who: *company staff* hold the ``company`` role over the company of the compound's current
contract; the *secretary* holds ``secretary`` over the compound's community; the site admin may
do both. Every function takes the acting user and ``now`` explicitly, checks the permission,
writes the audit event, and does not commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import ngettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload

from portal import audit, security
from portal.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.paging import paginate
from portal.places.models import Building, Community, Company, Compound, Unit
from portal.places.roster import RowError, building_sort_key
from portal.transparency import feecore, periods
from portal.transparency.feecore import Billing, Line
from portal.transparency.models import (
    FeeBuildingBilling,
    FeeLine,
    FeeQuestion,
    FeeStatement,
)
from portal.transparency.periods import Period
from portal.transparency.statement_import import ParsedStatement
from portal.voting.models import Contract

QUESTION_MIN = 5
QUESTION_MAX = 1000
ANSWER_MAX = 2000
TREND_PERIODS = 12


# ---- scope --------------------------------------------------------------------------------


def _current_contracts(today: date):
    """Subquery: each compound's current contract (the latest ending one that has started),
    as ``current_contract()`` of the voting service picks it, in one query for many."""
    rn = (
        func.row_number()
        .over(
            partition_by=Contract.compound_id,
            order_by=(Contract.ends_on.desc(), Contract.id.desc()),
        )
        .label("rn")
    )
    return (
        select(Contract.id, Contract.compound_id, Contract.company_id, rn)
        .where(Contract.starts_on <= today)
        .subquery()
    )


def _company_compound_ids(company_ids: set[int], today: date):
    cur = _current_contracts(today)
    return select(cur.c.compound_id).where(cur.c.rn == 1, cur.c.company_id.in_(company_ids))


def current_company_id(compound: Compound, today: date | None = None) -> int | None:
    from portal.voting.service import current_contract

    contract = current_contract(compound, today)
    return contract.company_id if contract else None


def is_company_staff_for(actor, compound: Compound) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if security.is_admin(actor):
        return True
    ids = security.role_ids(actor, "company")
    return bool(ids) and current_company_id(compound) in ids


def is_secretary_for(actor, compound: Compound) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return security.is_admin(actor) or compound.community_id in security.role_ids(
        actor, "secretary"
    )


def can_see_drafts(actor, compound: Compound) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return (
        is_company_staff_for(actor, compound)
        or is_secretary_for(actor, compound)
        or compound.community.street_id in security.role_ids(actor, "street")
    )


def has_fee_desk(actor) -> bool:
    """Whether the staff desk of fee statements has anything for this user."""
    return security.is_admin(actor) or bool(
        security.role_ids(actor, "company")
        or security.role_ids(actor, "secretary")
        or security.role_ids(actor, "street")
    )


def drafting_compounds(actor, today: date) -> list[Compound]:
    """The compounds whose statements ``actor`` may draft, with their community."""
    stmt = (
        select(Compound)
        .join(Community, Community.id == Compound.community_id)
        .options(joinedload(Compound.community))
        .order_by(Community.name, Compound.name, Compound.id)
    )
    if not security.is_admin(actor):
        ids = security.role_ids(actor, "company")
        if not ids:
            return []
        stmt = stmt.where(Compound.id.in_(_company_compound_ids(ids, today)))
    return list(db.session.scalars(stmt))


def _desk_scope(actor, today: date):
    if security.is_admin(actor):
        return True
    conds = []
    companies = security.role_ids(actor, "company")
    if companies:
        conds.append(FeeStatement.compound_id.in_(_company_compound_ids(companies, today)))
    communities = security.role_ids(actor, "secretary")
    if communities:
        conds.append(
            FeeStatement.compound_id.in_(
                select(Compound.id).where(Compound.community_id.in_(communities))
            )
        )
    streets = security.role_ids(actor, "street")
    if streets:
        conds.append(
            FeeStatement.compound_id.in_(
                select(Compound.id)
                .join(Community, Community.id == Compound.community_id)
                .where(Community.street_id.in_(streets))
            )
        )
    return or_(*conds) if conds else None


def desk_statements(actor, status: str, page: int, per_page: int, today: date) -> Pagination:
    """Statements in the actor's scope, newest period first; ``status`` filters."""
    scope = _desk_scope(actor, today)
    if scope is None:
        raise PermissionDenied(_("Only property-company staff and community staff see this."))
    stmt = select(FeeStatement).options(
        joinedload(FeeStatement.compound).joinedload(Compound.community)
    )
    if scope is not True:
        stmt = stmt.where(scope)
    if status in ("draft", "submitted", "returned", "published"):
        stmt = stmt.where(FeeStatement.status == status)
    elif status == "open":
        stmt = stmt.where(FeeStatement.status != "published")
    stmt = stmt.order_by(
        FeeStatement.period_start.desc(),
        FeeStatement.compound_id,
        FeeStatement.revision.desc(),
        FeeStatement.id.desc(),
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


# ---- input --------------------------------------------------------------------------------


@dataclass
class StatementInput:
    """What a form or a file gives for a statement."""

    period: Period
    lines: list[Line]
    billing: Billing
    buildings: list[Billing] = field(default_factory=list)
    opening_balance: Decimal = Decimal("0.00")
    note: str = ""
    revision_reason: str = ""
    # the file lines of the lines and buildings, when the input came from a file
    line_numbers: list[int] = field(default_factory=list)
    building_lines: dict[str, int] = field(default_factory=dict)


class StatementInvalid(ValidationFailed):
    """The statement breaks rules; ``errors`` lists each (file line numbers for imports)."""

    def __init__(self, errors: list[RowError]):
        super().__init__(
            ngettext(
                "The statement has %(num)d problem; nothing was saved.",
                "The statement has %(num)d problems; nothing was saved.",
                len(errors),
            )
        )
        self.errors = errors


def _building_names(compound: Compound) -> set[str]:
    return set(db.session.scalars(select(Building.name).where(Building.compound_id == compound.id)))


def check_input(compound: Compound, data: StatementInput) -> list[RowError]:
    """Every rule the input breaks, as RowErrors (line 0 when it came from a form)."""
    errors: list[RowError] = []
    for p in feecore.check_statement(data.lines, data.billing, data.buildings):
        line = 0
        if p.code == "building_duplicate":
            line = data.building_lines.get(p.params.get("building", ""), 0)
        errors.append(RowError(line, p.code, dict(p.params)))
    for i, line in enumerate(data.lines):
        for name in ("item", "note"):
            if feecore.contains_phone(getattr(line, name)):
                n = data.line_numbers[i] if i < len(data.line_numbers) else 0
                errors.append(RowError(n, "phone_in_text", {"field": name}))
    if feecore.contains_phone(data.note):
        errors.append(RowError(0, "phone_in_text", {"field": "note"}))
    if data.buildings:
        known = _building_names(compound)
        if known:
            for b in data.buildings:
                if b.building not in known:
                    errors.append(
                        RowError(
                            data.building_lines.get(b.building, 0),
                            "building_unknown",
                            {"building": b.building},
                        )
                    )
    return errors


def input_from_parsed(period: Period, parsed: ParsedStatement, reason: str = "") -> StatementInput:
    return StatementInput(
        period=period,
        lines=list(parsed.lines),
        billing=parsed.billing,
        buildings=list(parsed.buildings),
        opening_balance=parsed.opening_balance,
        revision_reason=reason,
        line_numbers=list(parsed.line_numbers),
        building_lines=dict(parsed.building_lines),
    )


def input_from_statement(s: FeeStatement) -> StatementInput:
    return StatementInput(
        period=periods.parse_key(s.period_key),
        lines=lines_of(s),
        billing=billing_of(s),
        buildings=buildings_of(s),
        opening_balance=s.opening_balance,
        note=s.note,
        revision_reason=s.revision_reason,
    )


def lines_of(s: FeeStatement) -> list[Line]:
    return [Line(x.direction, x.category, x.item, x.amount, x.note) for x in s.lines]


def billing_of(s: FeeStatement) -> Billing:
    return Billing(s.households_billed, s.households_paid, s.amount_billed, s.amount_collected)


def buildings_of(s: FeeStatement) -> list[Billing]:
    return [
        Billing(
            b.households_billed,
            b.households_paid,
            b.amount_billed,
            b.amount_collected,
            b.building_name,
        )
        for b in s.buildings
    ]


def _fill(statement: FeeStatement, data: StatementInput) -> None:
    t = feecore.totals(data.lines, data.opening_balance)
    statement.households_billed = data.billing.households_billed
    statement.households_paid = data.billing.households_paid
    statement.amount_billed = data.billing.amount_billed
    statement.amount_collected = data.billing.amount_collected
    statement.opening_balance = data.opening_balance
    statement.income_total = t.income
    statement.expense_total = t.expense
    statement.note = (data.note or "").strip()
    ordered = sorted(
        enumerate(data.lines),
        key=lambda il: (
            feecore.DIRECTIONS.index(il[1].direction),
            feecore.ALL_CATEGORIES.index(il[1].category),
            il[0],
        ),
    )
    statement.lines = [
        FeeLine(
            position=pos,
            direction=line.direction,
            category=line.category,
            item=line.item.strip(),
            amount=line.amount,
            note=(line.note or "").strip(),
        )
        for pos, (_i, line) in enumerate(ordered)
    ]
    statement.buildings = [
        FeeBuildingBilling(
            building_name=b.building,
            sort_key=building_sort_key(b.building),
            households_billed=b.households_billed,
            households_paid=b.households_paid,
            amount_billed=b.amount_billed,
            amount_collected=b.amount_collected,
        )
        for b in data.buildings
    ]


# ---- the lifecycle ----------------------------------------------------------------------


def _period_statements(compound_id: int, period_key: str) -> list[FeeStatement]:
    return list(
        db.session.scalars(
            select(FeeStatement)
            .where(FeeStatement.compound_id == compound_id, FeeStatement.period_key == period_key)
            .order_by(FeeStatement.revision)
        )
    )


def open_draft_for(compound: Compound, period: Period) -> FeeStatement | None:
    """The statement of this period that is being prepared (not yet published), if any."""
    for s in _period_statements(compound.id, period.key):
        if not s.published:
            return s
    return None


def _require_company(actor, compound: Compound) -> None:
    if not is_company_staff_for(actor, compound):
        raise PermissionDenied(
            _("Only the staff of the compound's property company draft its fee statements.")
        )


def _require_secretary(actor, compound: Compound) -> None:
    if not is_secretary_for(actor, compound):
        raise PermissionDenied(
            _("Only the community secretary reviews this compound's statements.")
        )


def create_draft(
    actor,
    compound: Compound,
    data: StatementInput,
    now: datetime,
    *,
    source: str = "form",
    filename: str | None = None,
    sha256: str | None = None,
) -> FeeStatement:
    """A new draft for the period: revision 1, or the next revision of a published statement
    (which needs ``data.revision_reason``). Raises ``Conflict`` when the period already has a
    statement being prepared, ``StatementInvalid`` when the data break a rule."""
    _require_company(actor, compound)
    existing = _period_statements(compound.id, data.period.key)
    if any(not s.published for s in existing):
        raise Conflict(
            _(
                "A statement for %(period)s is already being prepared. Continue that one.",
                period=data.period.key,
            )
        )
    reason = (data.revision_reason or "").strip()
    previous = existing[-1] if existing else None
    if previous is not None and not reason:
        raise ValidationFailed(
            _(
                "%(period)s has a published statement. A correction is a new revision: "
                "give the reason for it.",
                period=data.period.key,
            )
        )
    errors = check_input(compound, data)
    if errors:
        raise StatementInvalid(errors)
    statement = FeeStatement(
        compound_id=compound.id,
        company_id=current_company_id(compound),
        period_kind=data.period.kind,
        period_key=data.period.key,
        period_start=data.period.start,
        period_end=data.period.end,
        revision=(previous.revision + 1) if previous else 1,
        supersedes_id=previous.id if previous else None,
        revision_reason=reason if previous else "",
        status="draft",
        source=source,
        source_filename=(filename or None) and filename[-100:],
        source_sha256=sha256,
        created_at=now,
        updated_at=now,
        created_by_id=actor.id,
    )
    _fill(statement, data)
    db.session.add(statement)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(
            _("Someone else started a statement for this period at the same time. Reload.")
        ) from exc
    audit.record(
        "fee.drafted",
        actor,
        statement,
        compound=compound.id,
        period=statement.period_key,
        revision=statement.revision,
        lines=len(statement.lines),
        source=source,
        filename=statement.source_filename,
        sha256=sha256,
    )
    return statement


def update_draft(
    actor,
    statement: FeeStatement,
    data: StatementInput,
    now: datetime,
    *,
    source: str = "form",
    filename: str | None = None,
    sha256: str | None = None,
) -> FeeStatement:
    """Replace the content of a draft (or a returned statement); its period stays."""
    compound = statement.compound
    _require_company(actor, compound)
    if not statement.editable:
        raise InvalidTransition(_("Only a draft or a returned statement can be changed."))
    if statement.revision > 1 and not (data.revision_reason or "").strip():
        raise ValidationFailed(_("Give the reason for this revision."))
    errors = check_input(compound, data)
    if errors:
        raise StatementInvalid(errors)
    # The old lines go first: the new ones may carry the same (category, item) keys.
    db.session.execute(delete(FeeLine).where(FeeLine.statement_id == statement.id))
    db.session.execute(
        delete(FeeBuildingBilling).where(FeeBuildingBilling.statement_id == statement.id)
    )
    db.session.expire(statement, ["lines", "buildings"])
    _fill(statement, data)
    if statement.revision > 1:
        statement.revision_reason = data.revision_reason.strip()
    statement.updated_at = now
    statement.source = source
    if source == "import":
        statement.source_filename = (filename or None) and filename[-100:]
        statement.source_sha256 = sha256
    db.session.flush()
    audit.record(
        "fee.draft_updated",
        actor,
        statement,
        period=statement.period_key,
        revision=statement.revision,
        lines=len(statement.lines),
        source=source,
        sha256=sha256,
    )
    return statement


def discard_draft(actor, statement: FeeStatement) -> None:
    _require_company(actor, statement.compound)
    if not statement.editable:
        raise InvalidTransition(_("Only a draft or a returned statement can be discarded."))
    audit.record(
        "fee.draft_discarded",
        actor,
        statement,
        period=statement.period_key,
        revision=statement.revision,
    )
    db.session.delete(statement)
    db.session.flush()


def submit(actor, statement: FeeStatement, now: datetime) -> None:
    _require_company(actor, statement.compound)
    if not statement.editable:
        raise InvalidTransition(_("This statement has already been submitted."))
    if not statement.lines:
        raise ValidationFailed(_("A statement needs at least one income or expense line."))
    statement.status = "submitted"
    statement.submitted_at = now
    statement.submitted_by_id = actor.id
    statement.updated_at = now
    audit.record("fee.submitted", actor, statement, period=statement.period_key)


def publish(actor, statement: FeeStatement, now: datetime) -> None:
    _require_secretary(actor, statement.compound)
    if statement.status != "submitted":
        raise InvalidTransition(_("Only a statement awaiting review can be published."))
    statement.status = "published"
    statement.published_at = now
    statement.published_by_id = actor.id
    statement.updated_at = now
    audit.record(
        "fee.published",
        actor,
        statement,
        period=statement.period_key,
        revision=statement.revision,
        income=str(statement.income_total),
        expense=str(statement.expense_total),
    )


def return_for_correction(actor, statement: FeeStatement, reason: str, now: datetime) -> None:
    _require_secretary(actor, statement.compound)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Tell the company what to correct."))
    if statement.status != "submitted":
        raise InvalidTransition(_("Only a statement awaiting review can be returned."))
    statement.status = "returned"
    statement.return_reason = reason
    statement.returned_at = now
    statement.returned_by_id = actor.id
    statement.updated_at = now
    audit.record("fee.returned", actor, statement, period=statement.period_key, reason=reason)


def start_revision(actor, statement: FeeStatement, reason: str, now: datetime) -> FeeStatement:
    """A new draft revision of a published statement, starting from its figures."""
    if not statement.published:
        raise InvalidTransition(_("Only a published statement is corrected by a revision."))
    current = current_statement(statement.compound, statement.period_key)
    if current is None or current.id != statement.id:
        raise InvalidTransition(_("Only the current revision can be corrected."))
    data = input_from_statement(statement)
    data.revision_reason = reason
    return create_draft(actor, statement.compound, data, now)


# ---- reading ------------------------------------------------------------------------------


def get_statement(statement_id: int) -> FeeStatement:
    s = db.session.scalar(
        select(FeeStatement)
        .where(FeeStatement.id == statement_id)
        .options(
            joinedload(FeeStatement.compound).joinedload(Compound.community),
            selectinload(FeeStatement.lines),
            selectinload(FeeStatement.buildings),
        )
    )
    if s is None:
        raise NotFound()
    return s


def get_statement_for_staff(actor, statement_id: int) -> FeeStatement:
    s = get_statement(statement_id)
    if not can_see_drafts(actor, s.compound):
        raise PermissionDenied(_("This statement belongs to another compound."))
    return s


def latest_published():
    """Condition: a published statement that no published revision of its period follows."""
    later = aliased(FeeStatement)
    newer = (
        select(later.id)
        .where(
            later.compound_id == FeeStatement.compound_id,
            later.period_key == FeeStatement.period_key,
            later.status == "published",
            later.revision > FeeStatement.revision,
        )
        .exists()
    )
    return and_(FeeStatement.status == "published", ~newer)


def published_periods(compound: Compound) -> list[Period]:
    """Every period with a published statement, newest first."""
    keys = db.session.scalars(
        select(FeeStatement.period_key)
        .where(FeeStatement.compound_id == compound.id, FeeStatement.status == "published")
        .distinct()
    )
    return periods.ordered(
        [p for p in (periods.parse_key(k) for k in keys) if p], newest_first=True
    )


def current_statement(compound: Compound, period_key: str) -> FeeStatement | None:
    """The current (latest published) revision of a period, with its lines (joined: one query
    fewer on the busy fees tab) and buildings."""
    return (
        db.session.scalars(
            select(FeeStatement)
            .where(
                FeeStatement.compound_id == compound.id,
                FeeStatement.period_key == period_key,
                FeeStatement.status == "published",
            )
            .options(joinedload(FeeStatement.lines), selectinload(FeeStatement.buildings))
            .order_by(FeeStatement.revision.desc())
            .limit(1)
        )
        .unique()
        .first()
    )


def published_revisions(compound: Compound, period_key: str) -> list[FeeStatement]:
    """Every published revision of a period, oldest first, with their lines and buildings."""
    return list(
        db.session.scalars(
            select(FeeStatement)
            .where(
                FeeStatement.compound_id == compound.id,
                FeeStatement.period_key == period_key,
                FeeStatement.status == "published",
            )
            .options(selectinload(FeeStatement.lines), selectinload(FeeStatement.buildings))
            .order_by(FeeStatement.revision)
        )
    )


def previous_published(statement: FeeStatement) -> FeeStatement | None:
    """The published revision of the same period just before ``statement``."""
    return db.session.scalar(
        select(FeeStatement)
        .where(
            FeeStatement.compound_id == statement.compound_id,
            FeeStatement.period_key == statement.period_key,
            FeeStatement.status == "published",
            FeeStatement.revision < statement.revision,
        )
        .options(selectinload(FeeStatement.lines), selectinload(FeeStatement.buildings))
        .order_by(FeeStatement.revision.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class TrendPoint:
    period: Period
    income: Decimal | None
    expense: Decimal | None
    collection_rate: object  # Fraction | None
    revised: bool


def trend(compound: Compound, last: Period, count: int = TREND_PERIODS) -> list[TrendPoint]:
    """The current revisions of the ``count`` periods of ``last``'s kind up to ``last``;
    a period without a published statement has no figures."""
    wanted = periods.trailing(last, count)
    rows = db.session.execute(
        select(
            FeeStatement.period_key,
            FeeStatement.revision,
            FeeStatement.income_total,
            FeeStatement.expense_total,
            FeeStatement.amount_billed,
            FeeStatement.amount_collected,
        ).where(
            FeeStatement.compound_id == compound.id,
            FeeStatement.status == "published",
            FeeStatement.period_kind == last.kind,
            FeeStatement.period_start >= wanted[0].start,
            FeeStatement.period_start <= last.start,
        )
    ).all()
    best: dict[str, tuple] = {}
    for row in rows:
        if row.period_key not in best or row.revision > best[row.period_key].revision:
            best[row.period_key] = row
    out = []
    for p in wanted:
        row = best.get(p.key)
        if row is None:
            out.append(TrendPoint(p, None, None, None, False))
        else:
            out.append(
                TrendPoint(
                    p,
                    row.income_total,
                    row.expense_total,
                    feecore.rate(row.amount_collected, row.amount_billed),
                    row.revision > 1,
                )
            )
    return out


# ---- questions ------------------------------------------------------------------------------


def is_verified_resident(user, compound: Compound) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    from portal.accounts.models import Membership

    return (
        db.session.scalar(
            select(Membership.id)
            .join(Unit, Unit.id == Membership.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .where(
                Membership.user_id == user.id,
                Membership.status == "verified",
                Building.compound_id == compound.id,
            )
            .limit(1)
        )
        is not None
    )


def get_line(line_id: int) -> FeeLine:
    line = db.session.scalar(
        select(FeeLine)
        .where(FeeLine.id == line_id)
        .options(
            joinedload(FeeLine.statement)
            .joinedload(FeeStatement.compound)
            .joinedload(Compound.community)
        )
    )
    if line is None or not line.statement.published:
        raise NotFound()
    return line


def get_question(question_id: int) -> FeeQuestion:
    q = db.session.scalar(
        select(FeeQuestion)
        .where(FeeQuestion.id == question_id)
        .options(
            joinedload(FeeQuestion.user),
            joinedload(FeeQuestion.line)
            .joinedload(FeeLine.statement)
            .joinedload(FeeStatement.compound)
            .joinedload(Compound.community),
        )
    )
    if q is None:
        raise NotFound()
    return q


def _check_text(text: str, minimum: int, maximum: int) -> str:
    text = (text or "").strip()
    if len(text) < minimum:
        raise ValidationFailed(_("Write at least %(n)d characters.", n=minimum))
    if len(text) > maximum:
        raise ValidationFailed(_("Write at most %(n)d characters.", n=maximum))
    if feecore.contains_phone(text):
        raise ValidationFailed(
            _("This text is public: leave phone numbers out. The company answers here.")
        )
    return text


def ask(actor, line: FeeLine, body: str, now: datetime) -> FeeQuestion:
    statement = line.statement
    compound = statement.compound
    if not is_verified_resident(actor, compound):
        raise PermissionDenied(
            _("Only residents verified in this compound can ask about its fee accounts.")
        )
    current = current_statement(compound, statement.period_key)
    if current is None or current.id != statement.id:
        raise InvalidTransition(_("This statement has been revised; ask on the current revision."))
    text = _check_text(body, QUESTION_MIN, QUESTION_MAX)
    q = FeeQuestion(
        line_id=line.id,
        statement_id=statement.id,
        compound_id=compound.id,
        period_key=statement.period_key,
        user_id=actor.id,
        body=text,
        created_at=now,
    )
    db.session.add(q)
    db.session.flush()
    audit.record("fee.question_asked", actor, q, line=line.id, statement=statement.id)
    return q


def may_answer(actor, question: FeeQuestion) -> bool:
    return question.answered_at is None and is_company_staff_for(
        actor, question.line.statement.compound
    )


def answer(actor, question: FeeQuestion, text: str, now: datetime) -> None:
    compound = question.line.statement.compound
    if not is_company_staff_for(actor, compound):
        raise PermissionDenied(_("Only the staff of the compound's property company answer."))
    if question.answered_at is not None:
        raise Conflict(_("This question has already been answered."))
    question.answer = _check_text(text, 2, ANSWER_MAX)
    question.answered_at = now
    question.answered_by_id = actor.id
    audit.record("fee.question_answered", actor, question, line=question.line_id)


def _question_filter(stmt, status: str, now: datetime, days: int):
    if status == "open":
        return stmt.where(FeeQuestion.answered_at.is_(None))
    if status == "overdue":
        return stmt.where(
            FeeQuestion.answered_at.is_(None), FeeQuestion.created_at < now - timedelta(days=days)
        )
    if status == "answered":
        return stmt.where(FeeQuestion.answered_at.is_not(None))
    return stmt


def period_questions(
    compound: Compound,
    period_key: str,
    status: str,
    page: int,
    per_page: int,
    now: datetime,
    days: int,
) -> Pagination:
    """Questions on every revision of a period (a revision never hides a question)."""
    stmt = (
        select(FeeQuestion)
        .where(FeeQuestion.compound_id == compound.id, FeeQuestion.period_key == period_key)
        .options(joinedload(FeeQuestion.user), joinedload(FeeQuestion.line))
        .order_by(FeeQuestion.created_at.desc(), FeeQuestion.id.desc())
    )
    stmt = _question_filter(stmt, status, now, days)
    return paginate(stmt, page, per_page)


def line_questions(
    line: FeeLine, page: int, per_page: int, status: str, now: datetime, days: int
) -> Pagination:
    """Questions on this line and on the same line (category and item) of other revisions."""
    s = line.statement
    stmt = (
        select(FeeQuestion)
        .join(FeeLine, FeeLine.id == FeeQuestion.line_id)
        .where(
            FeeQuestion.compound_id == s.compound_id,
            FeeQuestion.period_key == s.period_key,
            FeeLine.direction == line.direction,
            FeeLine.category == line.category,
            FeeLine.item == line.item,
        )
        .options(joinedload(FeeQuestion.user), joinedload(FeeQuestion.line))
        .order_by(FeeQuestion.created_at.desc(), FeeQuestion.id.desc())
    )
    stmt = _question_filter(stmt, status, now, days)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class QuestionCount:
    total: int = 0
    open: int = 0
    overdue: int = 0


def question_counts(
    compound: Compound, period_key: str, now: datetime, days: int
) -> dict[tuple[str, str, str], QuestionCount]:
    """(direction, category, item) -> how many questions, unanswered, overdue: one query."""
    cutoff = now - timedelta(days=days)
    unanswered = FeeQuestion.answered_at.is_(None)
    rows = db.session.execute(
        select(
            FeeLine.direction,
            FeeLine.category,
            FeeLine.item,
            func.count(FeeQuestion.id),
            func.count(FeeQuestion.id).filter(unanswered),
            func.count(FeeQuestion.id).filter(unanswered, FeeQuestion.created_at < cutoff),
        )
        .join(FeeLine, FeeLine.id == FeeQuestion.line_id)
        .where(FeeQuestion.compound_id == compound.id, FeeQuestion.period_key == period_key)
        .group_by(FeeLine.direction, FeeLine.category, FeeLine.item)
    ).all()
    return {(r[0], r[1], r[2]): QuestionCount(r[3], r[4], r[5]) for r in rows}


def unanswered_for_company(actor, page: int, per_page: int, today: date) -> Pagination | None:
    """The questions waiting for the actor's company, oldest first (None: not company staff)."""
    if security.is_admin(actor):
        scope = True
    else:
        ids = security.role_ids(actor, "company")
        if not ids:
            return None
        scope = FeeQuestion.compound_id.in_(_company_compound_ids(ids, today))
    stmt = (
        select(FeeQuestion)
        .where(FeeQuestion.answered_at.is_(None))
        .options(
            joinedload(FeeQuestion.user),
            joinedload(FeeQuestion.line)
            .joinedload(FeeLine.statement)
            .joinedload(FeeStatement.compound),
        )
        .order_by(FeeQuestion.created_at, FeeQuestion.id)
    )
    if scope is not True:
        stmt = stmt.where(scope)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


# ---- what changed between revisions ---------------------------------------------------------


@dataclass
class RevisionDiff:
    older: FeeStatement
    newer: FeeStatement
    lines: list[feecore.LineChange]
    figures: list[feecore.FigureChange]
    income_delta: Decimal
    expense_delta: Decimal

    @property
    def empty(self) -> bool:
        return not self.lines and not self.figures


def revision_diff(older: FeeStatement, newer: FeeStatement) -> RevisionDiff:
    return RevisionDiff(
        older=older,
        newer=newer,
        lines=feecore.diff_lines(lines_of(older), lines_of(newer)),
        figures=feecore.diff_figures(
            billing_of(older),
            billing_of(newer),
            older.opening_balance,
            newer.opening_balance,
            buildings_of(older),
            buildings_of(newer),
        ),
        income_delta=newer.income_total - older.income_total,
        expense_delta=newer.expense_total - older.expense_total,
    )


def companies() -> list[Company]:
    return list(db.session.scalars(select(Company).order_by(Company.name)))


def compound_buildings(compound: Compound) -> list[str]:
    return list(
        db.session.scalars(
            select(Building.name)
            .where(Building.compound_id == compound.id)
            .order_by(Building.sort_key, Building.name)
        )
    )
