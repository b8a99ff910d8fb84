"""Public pages of the transparency domain: a compound's fee statements (current revision,
earlier revisions and what changed), the questions on their lines, and the service
commitments. The compound hub's "fees" and "commitments" tabs are loaded here too."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.errors import DomainError
from portal.extensions import db, limiter
from portal.htmx import is_htmx, render_page_or_fragment
from portal.models_base import utcnow
from portal.places import service as places
from portal.places import tabs
from portal.places.labels import HUB_TABS
from portal.transparency import bp, commitments, feecore, formatting, periods, service, views
from portal.transparency.forms import AnswerForm, QuestionForm
from portal.transparency.labels import (
    CATEGORY_LABELS,
    DIRECTION_LABELS,
    FIGURE_LABELS,
    QUESTION_FILTERS,
    SERVICE_CATEGORY_LABELS,
    SERVICE_LEVEL_LABELS,
)


@bp.app_template_filter("money")
def _money_filter(value):
    return formatting.money(value)


@bp.app_template_filter("pct")
def _pct_filter(value):
    return formatting.pct(value)


@bp.app_template_filter("period")
def _period_filter(value):
    return formatting.period_label(value)


@bp.app_template_filter("share")
def _share_filter(value, total):
    return formatting.pct(feecore.rate(value, total))


@bp.app_template_filter("question_overdue")
def _overdue_filter(question, now, days):
    return feecore.is_overdue(question.created_at, question.answered_at, now, days)


def overdue_days() -> int:
    return int(current_app.config.get("FEE_QUESTION_OVERDUE_DAYS", 7))


def _labels() -> dict:
    return {
        "categories": CATEGORY_LABELS,
        "directions": DIRECTION_LABELS,
        "figure_labels": FIGURE_LABELS,
        "question_filters": QUESTION_FILTERS,
        "service_categories": SERVICE_CATEGORY_LABELS,
        "service_levels": SERVICE_LEVEL_LABELS,
    }


def _viewer():
    return current_user._get_current_object() if current_user.is_authenticated else None


def statement_context(compound, statement, viewer, revisions=None) -> dict:
    """Everything a published statement's page shows (constant number of queries).
    ``revisions``: the period's published revisions when the caller has them already."""
    now = utcnow()
    days = overdue_days()
    period = periods.parse_key(statement.period_key)
    if revisions is None:
        revisions = service.published_revisions(compound, statement.period_key)
    index = next(i for i, r in enumerate(revisions) if r.id == statement.id)
    diff = service.revision_diff(revisions[index - 1], statement) if index > 0 else None
    latest = revisions[-1]
    return {
        "compound": compound,
        "statement": statement,
        "view": views.statement_view(statement),
        "period": period,
        "revisions": revisions,
        "latest": latest,
        "is_current": statement.id == latest.id,
        "diff": diff,
        "trend": views.trend_view(service.trend(compound, period)),
        "counts": service.question_counts(compound, statement.period_key, now, days),
        "recent_questions": service.period_questions(
            compound, statement.period_key, "all", 1, 5, now, days
        ),
        "now": now,
        "overdue_days": days,
        "viewer": viewer,
        "may_ask": service.is_verified_resident(viewer, compound),
        **_labels(),
    }


# ---- the compound hub's tabs -------------------------------------------------------------


@tabs.register("fees", audience=lambda compound, viewer: ())
def _fees_tab(compound, viewer, args) -> dict:
    available = service.published_periods(compound)
    wanted = periods.parse_key(args.get("period"))
    if wanted is not None and wanted not in available:
        wanted = None
    period = wanted or (available[0] if available else None)
    ctx = {"fee_periods": available, "fee_period": period, **_labels()}
    if period is None:
        return ctx
    statement = service.current_statement(compound, period.key)
    now = utcnow()
    days = overdue_days()
    ctx.update(
        statement=statement,
        view=views.statement_view(statement),
        trend=views.trend_view(service.trend(compound, period)),
        counts=service.question_counts(compound, period.key, now, days),
        now=now,
    )
    return ctx


@tabs.register(
    "commitments",
    audience=lambda compound, viewer: (
        commitments.may_manage(viewer if viewer.is_authenticated else None, compound),
    ),
)
def _commitments_tab(compound, viewer, args) -> dict:
    contract = commitments.current_contract(compound)
    viewer = viewer if getattr(viewer, "is_authenticated", False) else None
    return {
        "contract": contract,
        "commitment_items": commitments.commitments_of(contract) if contract else [],
        "may_manage": commitments.may_manage(viewer, compound),
        **_labels(),
    }


# ---- statements ----------------------------------------------------------------------------


@bp.get("/compounds/<code>/fees/<period_key>")
def statement(code: str, period_key: str):
    compound = places.get_compound(code)
    if periods.parse_key(period_key) is None:
        abort(404)
    revisions = service.published_revisions(compound, period_key)
    if not revisions:
        abort(404)
    ctx = statement_context(compound, revisions[-1], _viewer(), revisions)
    return render_page_or_fragment(
        "transparency/statement.html", "transparency/_statement_body.html", **ctx
    )


@bp.get("/compounds/<code>/fees/<period_key>/revisions/<int:revision>")
def statement_revision(code: str, period_key: str, revision: int):
    compound = places.get_compound(code)
    revisions = service.published_revisions(compound, period_key)
    s = next((r for r in revisions if r.revision == revision), None)
    if s is None:
        abort(404)
    ctx = statement_context(compound, s, _viewer(), revisions)
    return render_page_or_fragment(
        "transparency/statement.html", "transparency/_statement_body.html", **ctx
    )


@bp.get("/compounds/<code>/fees/<period_key>/questions")
def period_questions(code: str, period_key: str):
    compound = places.get_compound(code)
    s = service.current_statement(compound, period_key)
    if s is None:
        abort(404)
    status = request.args.get("status", "all")
    if status not in QUESTION_FILTERS:
        status = "all"
    now = utcnow()
    pagination = service.period_questions(
        compound,
        period_key,
        status,
        request.args.get("page", 1, type=int),
        current_app.config["PAGE_SIZE"],
        now,
        overdue_days(),
    )
    viewer = _viewer()
    return render_page_or_fragment(
        "transparency/questions.html",
        "transparency/_questions_list.html",
        compound=compound,
        statement=s,
        status=status,
        pagination=pagination,
        now=now,
        overdue_days=overdue_days(),
        may_answer=service.is_company_staff_for(viewer, compound),
        **_labels(),
    )


# ---- a line and its questions --------------------------------------------------------------


def _line_page(line, form: QuestionForm | None = None, status_code: int = 200):
    compound = line.statement.compound
    viewer = _viewer()
    now = utcnow()
    current = service.current_statement(compound, line.statement.period_key)
    pagination = service.line_questions(
        line,
        request.args.get("page", 1, type=int),
        current_app.config["PAGE_SIZE"],
        "all",
        now,
        overdue_days(),
    )
    return render_template(
        "transparency/line.html",
        compound=compound,
        line=line,
        statement=line.statement,
        is_current=current is not None and current.id == line.statement_id,
        pagination=pagination,
        form=form or QuestionForm(),
        may_ask=service.is_verified_resident(viewer, compound),
        may_answer=service.is_company_staff_for(viewer, compound),
        viewer=viewer,
        now=now,
        overdue_days=overdue_days(),
        **_labels(),
    ), status_code


@bp.get("/fees/lines/<int:line_id>")
def line(line_id: int):
    return _line_page(service.get_line(line_id))


@bp.post("/fees/lines/<int:line_id>/questions")
@login_required
@limiter.limit("20 per hour", methods=["POST"])
def ask(line_id: int):
    line = service.get_line(line_id)
    form = QuestionForm()
    if not form.validate_on_submit():
        return _line_page(line, form, 422)
    try:
        service.ask(current_user._get_current_object(), line, form.body.data, utcnow())
    except DomainError as e:
        if e.status == 403:
            raise
        db.session.rollback()
        form.body.errors.append(e.message)
        return _line_page(line, form, 422)
    db.session.commit()
    flash(_("Your question is published. The company will answer it here."), "success")
    return redirect(url_for("transparency.line", line_id=line.id) + "#questions")


@bp.post("/fees/questions/<int:question_id>/answer")
@login_required
def answer(question_id: int):
    actor = current_user._get_current_object()
    question = service.get_question(question_id)
    compound = question.line.statement.compound
    if not service.is_company_staff_for(actor, compound):
        abort(403)
    form = AnswerForm()
    error = None
    if form.validate_on_submit():
        try:
            service.answer(actor, question, form.answer.data, utcnow())
        except DomainError as e:
            db.session.rollback()
            error = e.message
        else:
            db.session.commit()
            if not is_htmx():
                flash(_("Your answer is published."), "success")
                from portal.accounts.routes import safe_next

                return redirect(
                    safe_next(
                        request.form.get("next"),
                        url_for("transparency.line", line_id=question.line_id),
                    )
                )
            return render_template(
                "transparency/_question.html",
                q=question,
                now=utcnow(),
                overdue_days=overdue_days(),
                may_answer=False,
                **_labels(),
            )
    if error is None:
        error = "; ".join(str(e) for errs in form.errors.values() for e in errs)
    if is_htmx():
        return render_template(
            "transparency/_question.html",
            q=question,
            now=utcnow(),
            overdue_days=overdue_days(),
            may_answer=True,
            answer_error=error,
            answer_text=form.answer.data,
            **_labels(),
        )
    flash(error, "error")
    return redirect(url_for("transparency.line", line_id=question.line_id)), 303


# ---- commitments ------------------------------------------------------------------------------


@bp.get("/compounds/<code>/commitments/<int:commitment_id>")
def commitment(code: str, commitment_id: int):
    compound = places.get_compound(code)
    item = commitments.get_commitment(compound, commitment_id)
    current = commitments.current_contract(compound)
    return render_template(
        "transparency/commitment.html",
        compound=compound,
        item=item,
        contract=item.contract,
        is_current=current is not None and current.id == item.contract_id,
        evidence=commitments.evidence_for(item),
        may_manage=commitments.may_manage(_viewer(), compound),
        tabs=HUB_TABS,
        **_labels(),
    )


from portal.transparency import routes_commitments, routes_opendata, routes_staff  # noqa: E402,F401
