"""Moderation of the proposal board: residents report a proposal or a comment; the community
secretary hides it with a public reason (never deletes: the author still sees the content and
why it was hidden) or dismisses the report. Every decision is audited."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit, security
from portal.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.proposals.models import Comment, Proposal, Report
from portal.proposals.service import (
    PER_PAGE,
    _event,
    _staff_label,
    get_proposal,
    is_secretary,
    is_verified_resident,
)

QUEUE_STATES = ("open", "hidden", "dismissed")


def report(actor, proposal_id: int, comment_id: int | None, reason: str, now: datetime) -> Report:
    p = get_proposal(proposal_id)
    if not is_verified_resident(actor, p.compound):
        raise PermissionDenied(
            _("Only verified residents of %(compound)s can report.", compound=p.compound.name)
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say what is wrong."))
    comment = None
    if comment_id is not None:
        comment = db.session.get(Comment, comment_id)
        if comment is None or comment.proposal_id != p.id:
            raise NotFound()
    target_key = f"c:{comment.id}" if comment else f"p:{p.id}"
    exists = db.session.scalar(
        select(Report.id).where(Report.reporter_id == actor.id, Report.target_key == target_key)
    )
    if exists is not None:
        raise Conflict(_("You have already reported this; the community will look at it."))
    r = Report(
        community_id=p.community_id,
        proposal_id=p.id,
        comment_id=comment.id if comment else None,
        target_key=target_key,
        reporter_id=actor.id,
        reason=reason,
        created_at=now,
    )
    db.session.add(r)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(_("You have already reported this; the community will look at it.")) from exc
    audit.record("proposal.reported", actor, r, proposal=p.id, comment=r.comment_id)
    return r


def _scope(actor):
    if security.is_admin(actor):
        return True
    ids = security.role_ids(actor, "secretary")
    return Report.community_id.in_(ids) if ids else None


def can_moderate(actor) -> bool:
    return _scope(actor) is not None


def queue(actor, status: str, page: int, per_page: int = PER_PAGE) -> Pagination:
    scope = _scope(actor)
    if scope is None:
        raise PermissionDenied(_("Only community secretaries moderate the proposal board."))
    stmt = select(Report).options(
        joinedload(Report.reporter),
        joinedload(Report.proposal).joinedload(Proposal.author),
        joinedload(Report.proposal).joinedload(Proposal.compound),
        joinedload(Report.comment).joinedload(Comment.author),
    )
    if scope is not True:
        stmt = stmt.where(scope)
    stmt = stmt.where(Report.status == (status if status in QUEUE_STATES else "open"))
    if status == "open":
        stmt = stmt.order_by(Report.created_at.asc(), Report.id)
    else:
        stmt = stmt.order_by(Report.decided_at.desc(), Report.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def get_report(actor, report_id: int) -> Report:
    r = db.session.scalar(
        select(Report)
        .where(Report.id == report_id)
        .options(
            joinedload(Report.reporter),
            joinedload(Report.proposal).joinedload(Proposal.author),
            joinedload(Report.proposal).joinedload(Proposal.compound),
            joinedload(Report.proposal).joinedload(Proposal.community),
            joinedload(Report.comment).joinedload(Comment.author),
        )
    )
    if r is None:
        raise NotFound()
    if not is_secretary(actor, r.proposal):
        raise PermissionDenied(_("This report belongs to another community."))
    return r


def _close_reports(target_key: str, status: str, actor, now: datetime, note: str) -> None:
    db.session.execute(
        update(Report)
        .where(Report.target_key == target_key, Report.status == "open")
        .values(status=status, decided_at=now, decided_by_id=actor.id, decision_note=note)
        .execution_options(synchronize_session=False)
    )


def hide(actor, r: Report, reason: str, now: datetime) -> Report:
    """Hide what ``r`` reports (and close every open report on it)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason; residents will see it."))
    if r.status != "open":
        raise Conflict(_("This report has already been decided."))
    p = r.proposal
    if r.comment is not None:
        c = r.comment
        if c.hidden_at is None:
            c.hidden_at = now
            c.hidden_reason = reason
            c.hidden_by_id = actor.id
            db.session.execute(
                update(Proposal)
                .where(Proposal.id == p.id, Proposal.comment_count > 0)
                .values(comment_count=Proposal.comment_count - 1)
                .execution_options(synchronize_session=False)
            )
        audit.record("comment.hidden", actor, c, proposal=p.id, report=r.id, reason=reason)
    else:
        if p.hidden_at is None:
            p.hidden_at = now
            p.hidden_reason = reason
            p.hidden_by_id = actor.id
            _event(p, "hidden", _staff_label(actor, p), actor, now, note=reason)
        audit.record("proposal.hidden", actor, p, report=r.id, reason=reason)
    _close_reports(r.target_key, "hidden", actor, now, reason)
    db.session.flush()
    db.session.refresh(r)
    return r


def dismiss(actor, r: Report, now: datetime) -> Report:
    if r.status != "open":
        raise Conflict(_("This report has already been decided."))
    r.status = "dismissed"
    r.decided_at = now
    r.decided_by_id = actor.id
    audit.record("proposal.report_dismissed", actor, r, proposal=r.proposal_id)
    db.session.flush()
    return r
