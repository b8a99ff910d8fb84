"""Proposals: submit, support, comment, the workflow's moves, the board, the clocks' sweep and
the statistics. Moderation (reports, hiding) lives in ``moderation``.

Every operation takes the acting user and ``now`` explicitly, checks the actor's right over the
proposal (``roles_for``), asks the pure ``workflow`` whether the move is allowed, changes the
rows, writes the public timeline event and the audit event, and raises domain errors
(``PermissionDenied`` 403, ``InvalidTransition``/``Conflict`` 409, ``ValidationFailed`` 422) that
routes turn into responses. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit, security
from portal.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices.paging import Page
from portal.places.models import Building, Community, Compound, Unit
from portal.proposals import sla, stats, workflow
from portal.proposals.labels import STATE_LABELS
from portal.proposals.models import (
    CATEGORIES,
    DEFAULT_THRESHOLD,
    RESPONSIBLE_PARTIES,
    Comment,
    Escalation,
    Event,
    Photo,
    Proposal,
    Settings,
    Support,
)

PER_PAGE = 20
# How long the author has to judge the feedback before the sweep closes the case.
VERDICT_DAYS = 7
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


class AlreadySupported(Conflict):
    pass


# ---- who is who -----------------------------------------------------------------------------


def is_verified_resident(user, compound: Compound) -> bool:
    """A verified membership on a unit of ``compound``."""
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


def is_secretary(user, proposal: Proposal) -> bool:
    """The community secretary of the proposal's community, or a site administrator."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return security.is_admin(user) or proposal.community_id in security.role_ids(user, "secretary")


def is_responsible(user, proposal: Proposal) -> bool:
    """Staff of the party the proposal is assigned to.

    company: staff of the company under the compound's current contract; community: its
    secretary; committee: the compound's owners' committee; street: officers of its street.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not proposal.responsible:
        return False
    party = proposal.responsible
    if party == "company":
        companies = security.role_ids(user, "company")
        if not companies:
            return False
        from portal.voting.service import current_contract

        contract = current_contract(proposal.compound)
        return contract is not None and contract.company_id in companies
    if party == "community":
        return proposal.community_id in security.role_ids(user, "secretary")
    if party == "committee":
        return proposal.compound_id in security.role_ids(user, "committee")
    if party == "street":
        return proposal.community.street_id in security.role_ids(user, "street")
    return False


def roles_for(user, proposal: Proposal) -> frozenset[str]:
    """The workflow roles ``user`` holds over ``proposal``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    roles = set()
    if user.id == proposal.author_id:
        roles.add("author")
    if is_secretary(user, proposal):
        roles.add("secretary")
    if is_responsible(user, proposal):
        roles.add("responsible")
    if is_verified_resident(user, proposal.compound):
        roles.add("resident")
    return frozenset(roles)


def _staff_label(user, proposal: Proposal) -> str:
    """The timeline's "who" for a secretary's move."""
    if proposal.community_id in security.role_ids(user, "secretary"):
        return "secretary"
    return "admin"


# ---- refusals in words ----------------------------------------------------------------------


def _refusal(exc: workflow.TransitionRefused, proposal: Proposal):
    state = STATE_LABELS[exc.state]
    a = exc.action
    if exc.reason == "role":
        if a in ("accept", "reject", "merge", "schedule", "conclude"):
            return PermissionDenied(
                _(
                    "Only the community secretary of %(community)s can do this.",
                    community=proposal.community.name,
                )
            )
        if a == "respond":
            return PermissionDenied(
                _("Only the party responsible for this proposal can publish its feedback.")
            )
        if a in ("satisfied", "unsatisfied"):
            return PermissionDenied(_("Only the author can judge the outcome of a proposal."))
        if a == "support":
            return PermissionDenied(
                _(
                    "Only verified residents of %(compound)s can support its proposals. "
                    "Claim your unit first.",
                    compound=proposal.compound.name,
                )
            )
        if a == "comment":
            return PermissionDenied(
                _(
                    "Only verified residents of %(compound)s can comment. Claim your unit first.",
                    compound=proposal.compound.name,
                )
            )
        return PermissionDenied(_("You cannot do this."))
    if exc.reason == "not_concluded":
        return InvalidTransition(
            _("Record the joint meeting's conclusion before publishing the feedback.")
        )
    if exc.reason == "concluded":
        return InvalidTransition(_("The meeting's conclusion has already been recorded."))
    if exc.reason == "threshold":
        return InvalidTransition(
            _(
                "A proposal goes on the agenda with %(needed)s supports; this one has %(has)s.",
                needed=exc.params["threshold"],
                has=exc.params["supports"],
            )
        )
    messages = {
        "accept": _(
            "Only a proposal waiting for the community can be accepted; this one is: %(state)s."
        ),
        "reject": _(
            "Only a proposal waiting for the community can be rejected; this one is: %(state)s."
        ),
        "merge": _("Only a collecting or accepted proposal can be merged; this one is: %(state)s."),
        "schedule": _(
            "Only an accepted proposal can be put on the agenda; this one is: %(state)s."
        ),
        "conclude": _(
            "A conclusion can be recorded only for a proposal on the agenda; "
            "this one is: %(state)s."
        ),
        "respond": _(
            "Feedback can be published only after the community has accepted the proposal; "
            "this one is: %(state)s."
        ),
        "satisfied": _(
            "You can judge the outcome once the feedback is published; this one is: %(state)s."
        ),
        "unsatisfied": _(
            "You can judge the outcome once the feedback is published; this one is: %(state)s."
        ),
        "support": _("This proposal no longer takes supports; it is: %(state)s."),
        "comment": _("Comments on this proposal are closed; it is: %(state)s."),
    }
    template = messages.get(a, _("This cannot be done now; the proposal is: %(state)s."))
    return InvalidTransition(template.replace("%(state)s", str(state)))


def check_move(proposal: Proposal, action: str, roles) -> str:
    """The next state, or the domain error saying why not (state first, then the role)."""
    try:
        new = workflow.next_state(
            proposal.state,
            action,
            reopened=proposal.reopened,
            concluded=bool(proposal.conclusion),
        )
        if not workflow.may(action, roles):
            raise workflow.TransitionRefused(action, proposal.state, "role")
    except workflow.TransitionRefused as exc:
        raise _refusal(exc, proposal) from exc
    return new


def available_actions(proposal: Proposal, roles) -> list[str]:
    return workflow.available(
        proposal.state, roles, reopened=proposal.reopened, concluded=bool(proposal.conclusion)
    )


# ---- loading --------------------------------------------------------------------------------


def _options():
    return (
        joinedload(Proposal.compound).joinedload(Compound.community).joinedload(Community.street),
        joinedload(Proposal.author),
    )


def get_proposal(proposal_id: int) -> Proposal:
    p = db.session.scalar(select(Proposal).where(Proposal.id == proposal_id).options(*_options()))
    if p is None:
        raise NotFound()
    return p


def _lock(proposal_id: int) -> Proposal:
    """The proposal row, locked for the rest of the transaction (one move at a time).

    A no-op UPDATE takes the lock on every backend (row lock on PostgreSQL, the write lock on
    SQLite); then the row is read again, so a move decided by someone else meanwhile is seen.
    """
    db.session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id)
        .values(state=Proposal.state)
        .execution_options(synchronize_session=False)
    )
    p = db.session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(*_options())
        .execution_options(populate_existing=True)
    )
    if p is None:
        raise NotFound()
    return p


def timeline(proposal: Proposal) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.proposal_id == proposal.id)
            .options(joinedload(Event.actor))
            .order_by(Event.at, Event.id)
        )
    )


def comments_of(proposal: Proposal) -> list[Comment]:
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.proposal_id == proposal.id)
            .options(joinedload(Comment.author))
            .order_by(Comment.created_at, Comment.id)
        )
    )


def photos_of(proposal: Proposal) -> list[Photo]:
    return list(
        db.session.scalars(select(Photo).where(Photo.proposal_id == proposal.id).order_by(Photo.id))
    )


def merged_from(proposal: Proposal) -> list[Proposal]:
    return list(
        db.session.scalars(
            select(Proposal).where(Proposal.merged_into_id == proposal.id).order_by(Proposal.id)
        )
    )


def has_supported(user, proposal: Proposal) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            select(Support.id).where(Support.proposal_id == proposal.id, Support.user_id == user.id)
        )
        is not None
    )


def supported_ids(user, proposal_ids: list[int]) -> set[int]:
    """Which of ``proposal_ids`` ``user`` supports: one query for a whole page."""
    if not proposal_ids or user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(
        db.session.scalars(
            select(Support.proposal_id).where(
                Support.user_id == user.id, Support.proposal_id.in_(proposal_ids)
            )
        )
    )


def can_view_hidden(user, proposal: Proposal) -> bool:
    """The author and the community's staff still see hidden content (and why it is hidden)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.id == proposal.author_id or is_secretary(user, proposal)


def clock_of(proposal: Proposal, now: datetime) -> sla.Clock | None:
    if proposal.deadline_at is None:
        return None
    responded = proposal.responded_at
    if responded is None and proposal.state not in workflow.CLOCK_RUNNING:
        # merged while the clock ran: the clock stopped without a response
        return None
    return sla.clock(proposal.deadline_at, responded, now)


def threshold_for(compound: Compound) -> int:
    value = db.session.scalar(
        select(Settings.support_threshold).where(Settings.compound_id == compound.id)
    )
    return value or DEFAULT_THRESHOLD


def set_threshold(actor, compound: Compound, threshold: int) -> Settings:
    if not (
        security.is_admin(actor) or compound.community_id in security.role_ids(actor, "secretary")
    ):
        raise PermissionDenied(
            _(
                "Only the community secretary of %(community)s can change this.",
                community=compound.community.name,
            )
        )
    if threshold < 1:
        raise ValidationFailed(_("The threshold must be at least 1."))
    row = db.session.get(Settings, compound.id)
    old = row.support_threshold if row else DEFAULT_THRESHOLD
    if row is None:
        row = Settings(compound_id=compound.id)
        db.session.add(row)
    row.support_threshold = threshold
    row.updated_by_id = actor.id
    row.updated_at = utcnow()
    audit.record(
        "proposal.threshold_set",
        actor,
        object_type="compound",
        object_id=compound.id,
        old=old,
        new=threshold,
    )
    return row


# ---- events ---------------------------------------------------------------------------------


def _event(p: Proposal, action: str, role: str, actor, now: datetime, note: str = "", **detail):
    ev = Event(
        proposal_id=p.id,
        at=now,
        action=action,
        actor_role=role,
        actor_id=getattr(actor, "id", None),
        note=note or "",
        detail={k: v for k, v in detail.items() if v is not None},
    )
    db.session.add(ev)
    return ev


def _stop_clock(p: Proposal, now: datetime) -> None:
    """The first substantive response (or the clock's end by a merge)."""
    if p.state not in workflow.CLOCK_RUNNING or p.deadline_at is None:
        return
    p.responded_at = now
    if p.first_response_at is None:
        p.first_response_at = now
    if sla.is_overdue(p.deadline_at, now, now):
        p.ever_overdue = True
    db.session.execute(
        update(Escalation)
        .where(Escalation.proposal_id == p.id, Escalation.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )


def _start_clock(p: Proposal, now: datetime) -> None:
    p.clock_started_at = now
    p.deadline_at = sla.deadline(now, p.complexity)
    p.responded_at = None
    p.overdue_at = None


# ---- submit ---------------------------------------------------------------------------------


def _is_image(data: bytes) -> bool:
    return any(data.startswith(m) for m in IMAGE_MAGIC)


def submit(
    actor,
    compound: Compound,
    title: str,
    body: str,
    category: str,
    photos: list[bytes],
    now: datetime,
) -> Proposal:
    if not is_verified_resident(actor, compound):
        raise PermissionDenied(
            _(
                "Only verified residents of %(compound)s can submit proposals. "
                "Claim your unit first; the community verifies it.",
                compound=compound.name,
            )
        )
    title = (title or "").strip()
    body = (body or "").strip()
    if category not in CATEGORIES:
        raise ValidationFailed(_("Choose a category."))
    if not title or not body:
        raise ValidationFailed(_("Give the proposal a title and a description."))
    if any(not _is_image(d) for d in photos):
        raise ValidationFailed(_("Photos must be JPEG or PNG images."))
    p = Proposal(
        compound_id=compound.id,
        community_id=compound.community_id,
        author_id=actor.id,
        title=title,
        body=body,
        category=category,
        state="collect",
        created_at=now,
        support_count=1,  # the author supports their own proposal
        comment_count=0,
    )
    db.session.add(p)
    db.session.flush()
    db.session.add(Support(proposal_id=p.id, user_id=actor.id, created_at=now))
    from portal.uploads.service import store

    for data in photos:
        db.session.add(Photo(proposal_id=p.id, key=store(data, "proposals"), created_at=now))
    _event(p, "submitted", "author", actor, now)
    audit.record("proposal.submitted", actor, p, compound=compound.id, category=category)
    return p


# ---- the community's moves -------------------------------------------------------------------


def accept(actor, proposal_id: int, complexity: str, responsible: str, now: datetime) -> Proposal:
    p = _lock(proposal_id)
    check_move(p, "accept", roles_for(actor, p))
    if complexity not in sla.COMPLEXITIES:
        raise ValidationFailed(_("Choose the complexity."))
    if responsible not in RESPONSIBLE_PARTIES:
        raise ValidationFailed(_("Choose the responsible party."))
    p.state = "accepted"
    p.complexity = complexity
    p.responsible = responsible
    p.accepted_at = now
    _start_clock(p, now)
    _event(
        p,
        "accepted",
        _staff_label(actor, p),
        actor,
        now,
        complexity=complexity,
        responsible=responsible,
    )
    audit.record("proposal.accepted", actor, p, complexity=complexity, responsible=responsible)
    return p


def reject(actor, proposal_id: int, reason: str, now: datetime) -> Proposal:
    p = _lock(proposal_id)
    check_move(p, "reject", roles_for(actor, p))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the residents a reason."))
    p.state = "rejected"
    p.reject_reason = reason
    p.resolved_at = None
    _event(p, "rejected", _staff_label(actor, p), actor, now, note=reason)
    audit.record("proposal.rejected", actor, p, reason=reason)
    return p


def merge_candidates(proposal: Proposal, limit: int = 50) -> list[Proposal]:
    """Other open proposals of the same community, newest first."""
    return list(
        db.session.scalars(
            select(Proposal)
            .where(
                Proposal.community_id == proposal.community_id,
                Proposal.id != proposal.id,
                Proposal.state.in_(("collect", "accepted", "reopened", "deliberating")),
                Proposal.hidden_at.is_(None),
            )
            .options(joinedload(Proposal.compound))
            .order_by(Proposal.created_at.desc(), Proposal.id.desc())
            .limit(limit)
        )
    )


def merge(actor, proposal_id: int, target_id: int, now: datetime) -> Proposal:
    p = _lock(proposal_id)
    check_move(p, "merge", roles_for(actor, p))
    if target_id == p.id:
        raise ValidationFailed(_("A proposal cannot be merged into itself."))
    target = db.session.get(Proposal, target_id)
    if target is None or target.community_id != p.community_id:
        raise ValidationFailed(_("Choose a proposal of the same community to merge this one into."))
    if target.state in workflow.TERMINAL or target.hidden:
        raise InvalidTransition(_("The chosen proposal is finished or hidden; choose another."))
    _stop_clock(p, now)
    p.state = "merged"
    p.merged_into_id = target.id
    # Whoever supported the duplicate now supports the proposal it was merged into.
    src = Support.__table__.alias("src")
    mine = select(Support.user_id).where(Support.proposal_id == target.id)
    db.session.execute(
        insert(Support).from_select(
            ["proposal_id", "user_id", "created_at"],
            select(
                literal(target.id), src.c.user_id, literal(now, type_=Support.created_at.type)
            ).where(src.c.proposal_id == p.id, src.c.user_id.not_in(mine)),
        )
    )
    count = db.session.scalar(
        select(func.count(Support.id)).where(Support.proposal_id == target.id)
    )
    target.support_count = count
    role = _staff_label(actor, p)
    _event(p, "merged", role, actor, now, into=target.id)
    _event(target, "merged_in", role, actor, now, source=p.id)
    audit.record("proposal.merged", actor, p, into=target.id)
    return p


def schedule(actor, proposal_id: int, meeting_on: date, today: date, now: datetime) -> Proposal:
    p = _lock(proposal_id)
    check_move(p, "schedule", roles_for(actor, p))
    threshold = threshold_for(p.compound)
    if not workflow.agenda_ready(p.support_count, threshold):
        raise _refusal(
            workflow.TransitionRefused(
                "schedule", p.state, "threshold", threshold=threshold, supports=p.support_count
            ),
            p,
        )
    if meeting_on < today:
        raise ValidationFailed(_("The meeting date cannot be in the past."))
    _stop_clock(p, now)
    p.state = "deliberating"
    p.meeting_on = meeting_on
    p.conclusion = ""
    _event(p, "scheduled", _staff_label(actor, p), actor, now, meeting_on=meeting_on.isoformat())
    audit.record("proposal.scheduled", actor, p, meeting_on=meeting_on.isoformat())
    return p


def conclude(actor, proposal_id: int, conclusion: str, now: datetime) -> Proposal:
    p = _lock(proposal_id)
    check_move(p, "conclude", roles_for(actor, p))
    conclusion = (conclusion or "").strip()
    if not conclusion:
        raise ValidationFailed(_("Write down the meeting's conclusion."))
    p.conclusion = conclusion
    _event(p, "concluded", _staff_label(actor, p), actor, now, note=conclusion)
    audit.record("proposal.concluded", actor, p)
    return p


# ---- the responsible party -------------------------------------------------------------------


def respond(actor, proposal_id: int, text: str, now: datetime) -> Proposal:
    p = _lock(proposal_id)
    check_move(p, "respond", roles_for(actor, p))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("Say what was done."))
    _stop_clock(p, now)
    p.state = "feedback"
    p.feedback = text
    p.feedback_at = now
    _event(p, "feedback", p.responsible, actor, now, note=text)
    audit.record("proposal.feedback", actor, p, party=p.responsible)
    return p


# ---- the author -----------------------------------------------------------------------------


def verdict(actor, proposal_id: int, verdict: str, note: str, now: datetime) -> Proposal:
    if verdict not in ("satisfied", "unsatisfied"):
        raise ValidationFailed(_("Say whether you are satisfied."))
    p = _lock(proposal_id)
    new = check_move(p, verdict, roles_for(actor, p))
    outcome = workflow.outcome_of(verdict, p.reopened)
    _event(p, verdict, "author", actor, now, note=(note or "").strip())
    if new == "reopened":
        p.reopened = True
        _start_clock(p, now)
        _event(p, "reopened", "system", None, now)
    else:
        p.outcome = outcome
        p.resolved_at = now
        _event(p, "closed", "system", None, now, outcome=outcome)
    p.state = new
    audit.record("proposal." + verdict, actor, p, state=new)
    return p


# ---- residents: support and comment --------------------------------------------------------------


def _refuse_hidden(p: Proposal) -> None:
    if p.hidden:
        raise InvalidTransition(_("This proposal has been hidden by the community."))


def support(actor, proposal_id: int, now: datetime) -> Proposal:
    """One support per person: checked first, and the unique constraint has the last word."""
    p = get_proposal(proposal_id)
    check_move(p, "support", roles_for(actor, p))
    _refuse_hidden(p)
    if has_supported(actor, p):
        raise AlreadySupported(_("You already support this proposal; each person counts once."))
    db.session.add(Support(proposal_id=p.id, user_id=actor.id, created_at=now))
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise AlreadySupported(
            _("You already support this proposal; each person counts once.")
        ) from exc
    # The counter moves in SQL, so that simultaneous supports never lose one.
    db.session.execute(
        update(Proposal)
        .where(Proposal.id == p.id)
        .values(support_count=Proposal.support_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(p, ["support_count"])
    return p


def widen_for_comment(roles: frozenset[str]) -> frozenset[str]:
    """Residents comment; so may the author and the staff on the case, to answer."""
    if roles & {"author", "secretary", "responsible"}:
        return roles | {"resident"}
    return roles


def comment_roles(user, proposal: Proposal) -> frozenset[str]:
    return widen_for_comment(roles_for(user, proposal))


def comment(actor, proposal_id: int, body: str, now: datetime) -> Comment:
    p = get_proposal(proposal_id)
    check_move(p, "comment", comment_roles(actor, p))
    _refuse_hidden(p)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(_("Write a comment first."))
    c = Comment(proposal_id=p.id, author_id=actor.id, body=body, created_at=now)
    db.session.add(c)
    db.session.execute(
        update(Proposal)
        .where(Proposal.id == p.id)
        .values(comment_count=Proposal.comment_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return c


# ---- the board --------------------------------------------------------------------------------

STATE_FILTERS = ("open",) + workflow.STATES
SORTS = ("newest", "supported", "deadline")


@dataclass(frozen=True)
class BoardQuery:
    state: str = ""
    category: str = ""
    overdue: bool = False
    sort: str = "newest"
    q: str = ""
    page: int = 1

    def args(self, **changes) -> dict:
        """The query string of this view (defaults left out), with ``changes`` applied."""
        values = {
            "state": self.state,
            "category": self.category,
            "overdue": "1" if self.overdue else "",
            "sort": self.sort if self.sort != "newest" else "",
            "q": self.q,
            "page": self.page if self.page != 1 else "",
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None) and (k, v) != ("page", 1)}

    @property
    def filtered(self) -> bool:
        return bool(self.state or self.category or self.overdue or self.q)


def parse_board(args) -> BoardQuery:
    state = args.get("state", "")
    category = args.get("category", "")
    sort = args.get("sort", "newest")
    try:
        page = max(1, int(args.get("page", 1)))
    except (TypeError, ValueError):
        page = 1
    return BoardQuery(
        state=state if state in STATE_FILTERS else "",
        category=category if category in CATEGORIES else "",
        overdue=args.get("overdue") in ("1", "on", "true"),
        sort=sort if sort in SORTS else "newest",
        q=(args.get("q") or "").strip()[:50],
        page=page,
    )


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def overdue_condition(now: datetime):
    """Running clock past its deadline (overdue from the deadline itself)."""
    return Proposal.state.in_(tuple(workflow.CLOCK_RUNNING)) & (Proposal.deadline_at <= now)


def board(compound: Compound, query: BoardQuery, now: datetime, per_page: int = PER_PAGE):
    """One page of the compound's proposals: a count and a page query, nothing per row."""
    stmt = select(Proposal).where(Proposal.compound_id == compound.id)
    if query.state == "open":
        stmt = stmt.where(Proposal.state.not_in(tuple(workflow.TERMINAL)))
    elif query.state:
        stmt = stmt.where(Proposal.state == query.state)
    if query.category:
        stmt = stmt.where(Proposal.category == query.category)
    if query.overdue:
        stmt = stmt.where(overdue_condition(now))
    if query.q:
        like = _like(query.q)
        stmt = stmt.where(
            Proposal.hidden_at.is_(None),
            Proposal.title.ilike(like, escape="\\") | Proposal.body.ilike(like, escape="\\"),
        )
    if query.sort == "supported":
        order = (Proposal.support_count.desc(), Proposal.created_at.desc(), Proposal.id.desc())
    elif query.sort == "deadline":
        running = Proposal.state.in_(tuple(workflow.CLOCK_RUNNING))
        order = (
            case((running, 0), else_=1),
            Proposal.deadline_at.asc(),
            Proposal.created_at.desc(),
            Proposal.id.desc(),
        )
    else:
        order = (Proposal.created_at.desc(), Proposal.id.desc())
    # A deferred join: the page's ids first (from the index alone with the default order: page
    # 500 of a 10,000-proposal board skips 9,980 index entries, not 9,980 rows with their
    # authors), then those rows. Three statements whatever the page.
    page = query.page if query.page and query.page > 0 else 1
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ids = list(
        db.session.scalars(
            stmt.with_only_columns(Proposal.id)
            .order_by(*order)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    rows = (
        {
            p.id: p
            for p in db.session.scalars(
                select(Proposal).where(Proposal.id.in_(ids)).options(joinedload(Proposal.author))
            )
        }
        if ids
        else {}
    )
    return Page(page=page, per_page=per_page, total=total or 0, items=[rows[i] for i in ids])


# ---- staff lists ---------------------------------------------------------------------------


def _today_contract_compounds(company_ids: set[int], today: date):
    from portal.voting.models import Contract

    return select(Contract.compound_id).where(
        Contract.company_id.in_(company_ids),
        Contract.starts_on <= today,
        Contract.ends_on >= today,
    )


def inbox_condition(actor, today: date):
    """What ``actor`` has to handle: the secretary's community proposals that are not finished,
    and the proposals assigned to a party the actor works for. None: nothing at all."""
    if security.is_admin(actor):
        return Proposal.state.not_in(tuple(workflow.TERMINAL) + ("feedback",))
    conds = []
    active = ("accepted", "reopened", "deliberating")
    sec = security.role_ids(actor, "secretary")
    if sec:
        conds.append(Proposal.community_id.in_(sec) & Proposal.state.in_(("collect",) + active))
    companies = security.role_ids(actor, "company")
    if companies:
        conds.append(
            (Proposal.responsible == "company")
            & Proposal.state.in_(active)
            & Proposal.compound_id.in_(_today_contract_compounds(companies, today))
        )
    committees = security.role_ids(actor, "committee")
    if committees:
        conds.append(
            (Proposal.responsible == "committee")
            & Proposal.state.in_(active)
            & Proposal.compound_id.in_(committees)
        )
    streets = security.role_ids(actor, "street")
    if streets:
        conds.append(
            (Proposal.responsible == "street")
            & Proposal.state.in_(active)
            & Proposal.community_id.in_(
                select(Community.id).where(Community.street_id.in_(streets))
            )
        )
    if not conds:
        return None
    cond = conds[0]
    for c in conds[1:]:
        cond = cond | c
    return cond


def inbox(actor, state: str, today: date, page: int, per_page: int = PER_PAGE) -> Pagination:
    cond = inbox_condition(actor, today)
    if cond is None:
        raise PermissionDenied(
            _("Only community secretaries and the responsible parties handle proposals.")
        )
    stmt = select(Proposal).where(cond)
    if state in workflow.STATES:
        stmt = stmt.where(Proposal.state == state)
    order = case(
        (Proposal.state == "collect", 0),
        (Proposal.state.in_(tuple(workflow.CLOCK_RUNNING)), 1),
        else_=2,
    )
    stmt = stmt.options(joinedload(Proposal.compound), joinedload(Proposal.author)).order_by(
        order, Proposal.deadline_at.asc(), Proposal.created_at.asc(), Proposal.id
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def thresholds_of(compound_ids: set[int]) -> dict[int, int]:
    """Each compound's agenda threshold (one query for a page)."""
    if not compound_ids:
        return {}
    rows = db.session.execute(
        select(Settings.compound_id, Settings.support_threshold).where(
            Settings.compound_id.in_(compound_ids)
        )
    )
    found = dict(rows.all())
    return {cid: found.get(cid, DEFAULT_THRESHOLD) for cid in compound_ids}


def street_overdue(actor, show: str, page: int, per_page: int = PER_PAGE) -> Pagination:
    """Escalations of the officer's streets: open ones (default) or all."""
    streets = security.role_ids(actor, "street")
    admin = security.is_admin(actor)
    if not streets and not admin:
        raise PermissionDenied(_("Only street officers see the overdue proposals of a street."))
    stmt = select(Escalation).options(
        joinedload(Escalation.proposal)
        .joinedload(Proposal.compound)
        .joinedload(Compound.community),
    )
    if not admin:
        stmt = stmt.where(Escalation.street_id.in_(streets))
    if show != "all":
        stmt = stmt.where(Escalation.resolved_at.is_(None))
    stmt = stmt.order_by(Escalation.deadline_at.asc(), Escalation.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


# ---- the sweep -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    overdue: int
    escalated: int
    expired: int


def sweep(now: datetime) -> SweepResult:
    """Mark the clocks that ran out, escalate them to the street, close feedback that the author
    never judged. Idempotent: a second run at the same ``now`` changes nothing."""
    due = list(
        db.session.scalars(
            select(Proposal)
            .where(overdue_condition(now), Proposal.overdue_at.is_(None))
            .options(joinedload(Proposal.community))
            .order_by(Proposal.id)
            .with_for_update(of=Proposal, skip_locked=True)
        )
    )
    escalated = 0
    for p in due:
        p.overdue_at = now
        p.ever_overdue = True
        already = db.session.scalar(
            select(
                exists().where(
                    Escalation.proposal_id == p.id, Escalation.deadline_at == p.deadline_at
                )
            )
        )
        if not already:
            db.session.add(
                Escalation(
                    proposal_id=p.id,
                    street_id=p.community.street_id,
                    deadline_at=p.deadline_at,
                    created_at=now,
                )
            )
            escalated += 1
            _event(p, "overdue", "system", None, now, deadline=p.deadline_at.isoformat())
            audit.record("proposal.escalated", None, p, street=p.community.street_id)
    cutoff = now - timedelta(days=VERDICT_DAYS)
    stale = list(
        db.session.scalars(
            select(Proposal)
            .where(Proposal.state == "feedback", Proposal.feedback_at <= cutoff)
            .order_by(Proposal.id)
            .with_for_update(of=Proposal, skip_locked=True)
        )
    )
    for p in stale:
        p.state = workflow.next_state(p.state, "expire")
        p.outcome = workflow.outcome_of("expire", p.reopened)
        p.resolved_at = now
        _event(p, "expired", "system", None, now)
        audit.record("proposal.expired", None, p)
    db.session.flush()
    return SweepResult(overdue=len(due), escalated=escalated, expired=len(stale))


# ---- statistics ---------------------------------------------------------------------------------


def stats_rows(community_ids, year: int) -> list[stats.Row]:
    """The proposals received in ``year`` (Asia/Shanghai) in the communities: one query."""
    start, end = stats.year_bounds(year)
    rows = db.session.execute(
        select(
            Proposal.created_at,
            Proposal.state,
            Proposal.accepted_at,
            Proposal.first_response_at,
            Proposal.resolved_at,
            Proposal.outcome,
            Proposal.ever_overdue,
        ).where(
            Proposal.community_id.in_(community_ids),
            Proposal.created_at >= start,
            Proposal.created_at < end,
        )
    )
    return [stats.Row(*r) for r in rows]
