"""Proposal pages: the board (the compound hub's tab), submit, detail with its live clock,
support, comments, reports, the workflow's moves, the community's moderation queue, the staff
inbox, the street's overdue list and the statistics. Thin: forms in, service out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup

from portal import security
from portal.errors import DomainError
from portal.extensions import db
from portal.htmx import is_htmx, render_page_or_fragment
from portal.models_base import utcnow
from portal.places import service as places
from portal.places import tabs
from portal.proposals import bp, moderation, service, stats, text, workflow
from portal.proposals.forms import (
    AcceptForm,
    CommentForm,
    ConcludeForm,
    ConfirmForm,
    FeedbackForm,
    MergeForm,
    ProposalForm,
    ReasonForm,
    ReportForm,
    ScheduleForm,
    ThresholdForm,
    VerdictForm,
)
from portal.proposals.labels import (
    ACTOR_LABELS,
    CATEGORY_LABELS,
    COMPLEXITY_LABELS,
    COMPLEXITY_SHORT,
    EVENT_LABELS,
    OUTCOME_LABELS,
    REPORT_STATUS_LABELS,
    RESPONSIBLE_LABELS,
    SORT_LABELS,
    STATE_HINTS,
    STATE_LABELS,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

LABELS = {
    "categories": CATEGORY_LABELS,
    "states": STATE_LABELS,
    "state_hints": STATE_HINTS,
    "complexities": COMPLEXITY_LABELS,
    "complexity_short": COMPLEXITY_SHORT,
    "parties": RESPONSIBLE_LABELS,
    "actors": ACTOR_LABELS,
    "events": EVENT_LABELS,
    "outcomes": OUTCOME_LABELS,
    "sorts": SORT_LABELS,
    "report_states": REPORT_STATUS_LABELS,
}


def _today(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()


def _viewer():
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.app_template_filter("markdown")
def _markdown(source: str | None) -> Markup:
    return Markup(text.render(source))  # noqa: S704 - sanitised by nh3 in text.render


@bp.app_template_filter("excerpt")
def _excerpt(source: str | None, limit: int = 120) -> str:
    return text.plain(source, limit)


@bp.app_context_processor
def _proposal_labels():
    return {"pl": LABELS}


# ---- the board: the compound hub's "proposals" tab (/compounds/<code>/proposals) -----------------


@dataclass
class BoardView:
    compound: object
    query: service.BoardQuery
    pagination: Pagination
    now: datetime
    supported: set[int] = field(default_factory=set)
    can_support: bool = False
    threshold: int = 10
    clocks: dict = field(default_factory=dict)

    def url(self, **changes) -> str:
        args = self.query.args(**changes)
        return url_for("places.compound", code=self.compound.code, tab="proposals", **args)


@tabs.register("proposals")
def load(compound, viewer, args) -> dict:
    now = utcnow()
    query = service.parse_board(args)
    pagination = service.board(compound, query, now)
    ids = [p.id for p in pagination.items]
    viewer = viewer if getattr(viewer, "is_authenticated", False) else None
    view = BoardView(
        compound=compound,
        query=query,
        pagination=pagination,
        now=now,
        supported=service.supported_ids(viewer, ids),
        can_support=service.is_verified_resident(viewer, compound),
        threshold=service.threshold_for(compound),
        clocks={p.id: service.clock_of(p, now) for p in pagination.items},
    )
    return {"board": view}


# ---- submit -----------------------------------------------------------------------------------


@bp.route("/compounds/<code>/proposals/new", methods=["GET", "POST"])
@login_required
def submit(code: str):
    compound = places.get_compound(code)
    viewer = _viewer()
    allowed = service.is_verified_resident(viewer, compound)
    form = ProposalForm()
    if allowed and form.validate_on_submit():
        photos = [f.read() for f in (form.photos.data or []) if getattr(f, "filename", "")]
        try:
            p = service.submit(
                viewer,
                compound,
                form.title.data,
                form.body.data,
                form.category.data,
                photos,
                utcnow(),
            )
        except DomainError as e:
            if e.status == 403:
                raise
            form.photos.errors = [*form.photos.errors, e.message]
        else:
            db.session.commit()
            flash(_("Your proposal has been published. The community will look at it."), "success")
            return redirect(url_for("proposals.detail", proposal_id=p.id))
    status = 200 if request.method == "GET" else 422
    if not allowed:
        status = 403
    return render_template(
        "proposals/new.html", form=form, compound=compound, allowed=allowed
    ), status


# ---- detail -----------------------------------------------------------------------------------


def _detail_context(p, viewer, now, **forms) -> dict:
    roles = service.roles_for(viewer, p)
    actions = service.available_actions(p, roles)
    can_view_hidden = service.can_view_hidden(viewer, p)
    threshold = service.threshold_for(p.compound)
    ctx = {
        "p": p,
        "roles": roles,
        "actions": actions,
        "now": now,
        "today": _today(now),
        "clock": service.clock_of(p, now),
        "events": service.timeline(p),
        "comments": service.comments_of(p),
        "photos": service.photos_of(p),
        "merged_from": service.merged_from(p),
        "supported": service.has_supported(viewer, p),
        "threshold": threshold,
        "agenda_ready": workflow.agenda_ready(p.support_count, threshold),
        "can_view_hidden": can_view_hidden,
        "show_content": not p.hidden or can_view_hidden,
        "confirm": ConfirmForm(),
        "accept_form": forms.get("accept_form") or AcceptForm(),
        "reject_form": forms.get("reject_form") or ReasonForm(prefix="reject"),
        "merge_form": forms.get("merge_form"),
        "schedule_form": forms.get("schedule_form") or ScheduleForm(),
        "conclude_form": forms.get("conclude_form") or ConcludeForm(),
        "feedback_form": forms.get("feedback_form") or FeedbackForm(),
        "verdict_form": forms.get("verdict_form") or VerdictForm(),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "report_form": forms.get("report_form") or ReportForm(),
        "can_report": "resident" in roles,
        "can_comment": not p.hidden
        and "comment" in service.available_actions(p, service.widen_for_comment(roles)),
        "is_staff": bool(roles & {"secretary", "responsible"}),
    }
    if "merge" in actions:
        form = ctx["merge_form"] or MergeForm()
        form.target.choices = [(c.id, f"#{c.id} {c.title}") for c in service.merge_candidates(p)]
        ctx["merge_form"] = form
    return ctx


@bp.get("/proposals/<int:proposal_id>")
def detail(proposal_id: int):
    p = service.get_proposal(proposal_id)
    return render_template("proposals/detail.html", **_detail_context(p, _viewer(), utcnow()))


@bp.get("/proposals/<int:proposal_id>/clock")
def clock(proposal_id: int):
    """The live clock: a fragment polled by htmx every 30 s, or a small page without JS."""
    p = service.get_proposal(proposal_id)
    return render_page_or_fragment(
        "proposals/clock.html",
        "proposals/_clock.html",
        p=p,
        clock=service.clock_of(p, utcnow()),
    )


@bp.get("/proposals/<int:proposal_id>/photos/<int:photo_id>")
def photo(proposal_id: int, photo_id: int):
    from portal.proposals.models import Photo
    from portal.uploads.service import open_path

    p = service.get_proposal(proposal_id)
    ph = db.session.get(Photo, photo_id)
    if ph is None or ph.proposal_id != p.id:
        abort(404)
    if p.hidden and not service.can_view_hidden(_viewer(), p):
        abort(404)
    path, mimetype = open_path(ph.key)
    resp = send_file(path, mimetype=mimetype, max_age=3600)
    resp.headers["Content-Disposition"] = "inline"
    return resp


# ---- the moves --------------------------------------------------------------------------------


def _back(p, message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("proposals.detail", proposal_id=p.id))


def _invalid(p, **forms):
    """The detail page again with the form's errors (422)."""
    db.session.rollback()
    p = service.get_proposal(p.id)
    return render_template(
        "proposals/detail.html", **_detail_context(p, _viewer(), utcnow(), **forms)
    ), 422


@bp.post("/proposals/<int:proposal_id>/accept")
@login_required
def accept(proposal_id: int):
    p = service.get_proposal(proposal_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        service.check_move(p, "accept", service.roles_for(_viewer(), p))  # 403/409 before 422
        return _invalid(p, accept_form=form)
    service.accept(_viewer(), p.id, form.complexity.data, form.responsible.data, utcnow())
    db.session.commit()
    return _back(p, _("Accepted. The clock to the first response has started."))


@bp.post("/proposals/<int:proposal_id>/reject")
@login_required
def reject(proposal_id: int):
    p = service.get_proposal(proposal_id)
    form = ReasonForm(prefix="reject")
    if not form.validate_on_submit():
        service.check_move(p, "reject", service.roles_for(_viewer(), p))
        return _invalid(p, reject_form=form)
    service.reject(_viewer(), p.id, form.reason.data, utcnow())
    db.session.commit()
    return _back(p, _("The proposal was not accepted; the reason is public."), "info")


@bp.post("/proposals/<int:proposal_id>/merge")
@login_required
def merge(proposal_id: int):
    p = service.get_proposal(proposal_id)
    service.check_move(p, "merge", service.roles_for(_viewer(), p))
    form = MergeForm()
    form.target.choices = [(c.id, c.title) for c in service.merge_candidates(p)]
    if not form.validate_on_submit():
        return _invalid(p, merge_form=form)
    service.merge(_viewer(), p.id, form.target.data, utcnow())
    db.session.commit()
    return _back(p, _("Merged. Its supporters now support the other proposal."), "info")


@bp.post("/proposals/<int:proposal_id>/schedule")
@login_required
def schedule(proposal_id: int):
    p = service.get_proposal(proposal_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        service.check_move(p, "schedule", service.roles_for(_viewer(), p))
        return _invalid(p, schedule_form=form)
    now = utcnow()
    service.schedule(_viewer(), p.id, form.meeting_on.data, _today(now), now)
    db.session.commit()
    return _back(p, _("It is on the joint meeting's agenda."))


@bp.post("/proposals/<int:proposal_id>/conclude")
@login_required
def conclude(proposal_id: int):
    p = service.get_proposal(proposal_id)
    form = ConcludeForm()
    if not form.validate_on_submit():
        service.check_move(p, "conclude", service.roles_for(_viewer(), p))
        return _invalid(p, conclude_form=form)
    service.conclude(_viewer(), p.id, form.conclusion.data, utcnow())
    db.session.commit()
    return _back(p, _("The meeting's conclusion is recorded."))


@bp.post("/proposals/<int:proposal_id>/feedback")
@login_required
def feedback(proposal_id: int):
    p = service.get_proposal(proposal_id)
    form = FeedbackForm()
    if not form.validate_on_submit():
        service.check_move(p, "respond", service.roles_for(_viewer(), p))
        return _invalid(p, feedback_form=form)
    service.respond(_viewer(), p.id, form.feedback.data, utcnow())
    db.session.commit()
    return _back(p, _("The feedback is published. The author is asked to judge it."))


@bp.post("/proposals/<int:proposal_id>/verdict")
@login_required
def verdict(proposal_id: int):
    p = service.get_proposal(proposal_id)
    form = VerdictForm()
    if not form.validate_on_submit():
        service.check_move(p, "satisfied", service.roles_for(_viewer(), p))
        return _invalid(p, verdict_form=form)
    p = service.verdict(_viewer(), p.id, form.verdict.data, form.note.data, utcnow())
    db.session.commit()
    if p.state == "reopened":
        return _back(p, _("Reopened: the responsible party must respond again."), "info")
    return _back(p, _("Thank you. The case is closed."))


# ---- support, comments, reports ---------------------------------------------------------------


@bp.post("/proposals/<int:proposal_id>/support")
@login_required
def support(proposal_id: int):
    compact = request.form.get("compact") == "1"
    if not ConfirmForm().validate_on_submit():
        abort(400)
    viewer = _viewer()
    message = None
    try:
        p = service.support(viewer, proposal_id, utcnow())
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        if not is_htmx():
            raise
        message = e.message
        p = service.get_proposal(proposal_id)
    if is_htmx():
        return render_template(
            "proposals/_support.html",
            p=p,
            supported=service.has_supported(viewer, p),
            can_support=service.is_verified_resident(viewer, p.compound),
            compact=compact,
            message=message,
            done=message is None,
            confirm=ConfirmForm(),
        )
    return _back(p, _("Thank you for your support."))


@bp.post("/proposals/<int:proposal_id>/comments")
@login_required
def add_comment(proposal_id: int):
    p = service.get_proposal(proposal_id)
    form = CommentForm()
    if not form.validate_on_submit():
        service.check_move(p, "comment", service.comment_roles(_viewer(), p))
        if is_htmx():
            return _comments_fragment(p, comment_form=form)
        return _invalid(p, comment_form=form)
    service.comment(_viewer(), p.id, form.body.data, utcnow())
    db.session.commit()
    if is_htmx():
        return _comments_fragment(service.get_proposal(p.id), notice=_("Your comment is posted."))
    return redirect(url_for("proposals.detail", proposal_id=p.id, _anchor="comments"))


def _comments_fragment(p, notice=None, **forms):
    ctx = _detail_context(p, _viewer(), utcnow(), **forms)
    return render_template("proposals/_comments.html", notice=notice, **ctx)


@bp.post("/proposals/<int:proposal_id>/report")
@login_required
def report(proposal_id: int):
    form = ReportForm()
    comment_id = request.form.get("comment_id", type=int)
    if not form.validate_on_submit():
        if is_htmx():
            return render_template(
                "proposals/_report_done.html",
                message=_("Say what is wrong."),
                ok=False,
            )
        p = service.get_proposal(proposal_id)
        return _invalid(p, report_form=form)
    try:
        moderation.report(_viewer(), proposal_id, comment_id, form.reason.data, utcnow())
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        if not is_htmx() or e.status == 404:
            raise
        return render_template("proposals/_report_done.html", message=e.message, ok=False)
    message = _("Thank you. The community will look at your report.")
    if is_htmx():
        return render_template("proposals/_report_done.html", message=message, ok=True)
    flash(message, "success")
    return redirect(url_for("proposals.detail", proposal_id=proposal_id))


# ---- settings ---------------------------------------------------------------------------------


@bp.route("/compounds/<code>/proposals/settings", methods=["GET", "POST"])
@login_required
def settings(code: str):
    compound = places.get_compound(code)
    viewer = _viewer()
    if not (
        security.is_admin(viewer) or compound.community_id in security.role_ids(viewer, "secretary")
    ):
        abort(403)
    form = ThresholdForm()
    if request.method == "GET":
        form.support_threshold.data = service.threshold_for(compound)
    if form.validate_on_submit():
        service.set_threshold(viewer, compound, form.support_threshold.data)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("proposals.settings", code=code))
    return render_template("proposals/settings.html", form=form, compound=compound), (
        422 if form.errors else 200
    )


# ---- staff: inbox, moderation queue, the street's overdue list ---------------------------------


@bp.get("/staff/proposals")
@login_required
def inbox():
    viewer = _viewer()
    state = request.args.get("state", "")
    if state not in workflow.STATES:
        state = ""
    now = utcnow()
    page = request.args.get("page", 1, type=int)
    pagination = service.inbox(viewer, state, _today(now), page)
    thresholds = service.thresholds_of({p.compound_id for p in pagination.items})
    return render_page_or_fragment(
        "proposals/inbox.html",
        "proposals/_inbox_list.html",
        pagination=pagination,
        state=state,
        now=now,
        thresholds=thresholds,
        clocks={p.id: service.clock_of(p, now) for p in pagination.items},
        can_moderate=moderation.can_moderate(viewer),
        is_street=bool(security.role_ids(viewer, "street")) or security.is_admin(viewer),
    )


def _reports_context(status: str) -> dict:
    page = request.args.get("page", 1, type=int)
    return {
        "pagination": moderation.queue(_viewer(), status, page),
        "status": status,
        "hide_forms": {},
        "confirm": ConfirmForm(),
    }


@bp.get("/staff/proposals/reports")
@login_required
def reports():
    status = request.args.get("status", "open")
    if status not in moderation.QUEUE_STATES:
        status = "open"
    return render_page_or_fragment(
        "proposals/reports.html", "proposals/_reports_list.html", **_reports_context(status)
    )


def _after_moderation(r, hide_form=None):
    if is_htmx():
        status = 200
        return render_template(
            "proposals/_report_row.html", r=r, hide_form=hide_form, confirm=ConfirmForm()
        ), status
    if hide_form is not None and hide_form.errors:
        ctx = _reports_context("open")
        ctx["hide_forms"] = {r.id: hide_form}
        return render_template("proposals/reports.html", **ctx), 422
    return redirect(url_for("proposals.reports"))


@bp.post("/staff/proposals/reports/<int:report_id>/hide")
@login_required
def hide(report_id: int):
    viewer = _viewer()
    r = moderation.get_report(viewer, report_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _after_moderation(r, form)
    moderation.hide(viewer, r, form.reason.data, utcnow())
    db.session.commit()
    if not is_htmx():
        flash(_("Hidden. The author sees why; the public sees the reason."), "success")
    return _after_moderation(moderation.get_report(viewer, report_id))


@bp.post("/staff/proposals/reports/<int:report_id>/dismiss")
@login_required
def dismiss(report_id: int):
    viewer = _viewer()
    r = moderation.get_report(viewer, report_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    moderation.dismiss(viewer, r, utcnow())
    db.session.commit()
    if not is_htmx():
        flash(_("The report was dismissed; nothing was hidden."), "info")
    return _after_moderation(moderation.get_report(viewer, report_id))


@bp.get("/staff/street/proposals")
@login_required
def street_overdue():
    show = "all" if request.args.get("show") == "all" else "open"
    page = request.args.get("page", 1, type=int)
    now = utcnow()
    pagination = service.street_overdue(_viewer(), show, page)
    return render_page_or_fragment(
        "proposals/street_overdue.html",
        "proposals/_street_overdue_list.html",
        pagination=pagination,
        show=show,
        now=now,
        clocks={e.id: service.clock_of(e.proposal, now) for e in pagination.items},
    )


# ---- statistics ---------------------------------------------------------------------------------


def _stats_page(scope_kind: str, scope, community_ids):
    now = utcnow()
    this_year = _today(now).year
    year = request.args.get("year", this_year, type=int)
    if not 2000 <= year <= this_year + 1:
        abort(404)
    months, total = stats.monthly(service.stats_rows(community_ids, year), year)
    return render_template(
        "proposals/stats.html",
        scope_kind=scope_kind,
        scope=scope,
        year=year,
        this_year=this_year,
        months=months,
        total=total,
        chart=stats.bar_chart(months),
        month_names=[format_date(date(year, m, 1), "LLLL") for m in range(1, 13)],
        fmt_hours=_fmt_hours,
        fmt_pct=_fmt_pct,
    )


def _fmt_hours(delta) -> str:
    h = stats.hours(delta)
    if h is None:
        return "–"
    return _("%(hours)s h", hours=format_decimal(h, format="#,##0.0"))


def _fmt_pct(fraction) -> str:
    return "–" if fraction is None else format_percent(float(fraction), format="#,##0%")


@bp.get("/communities/<code>/proposals/stats")
def community_stats(code: str):
    community = places.get_community(code)
    return _stats_page("community", community, [community.id])


@bp.get("/streets/<code>/proposals/stats")
def street_stats(code: str):
    from sqlalchemy import select

    from portal.places.models import Community

    street = places.get_street(code)
    ids = select(Community.id).where(Community.street_id == street.id)
    return _stats_page("street", street, ids)
