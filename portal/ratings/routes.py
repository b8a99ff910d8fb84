"""Routes of the ratings domain: inspections and findings, satisfaction surveys, the street's
settings and rating periods, the public red/black list and company scorecards, the compound's
"ratings" tab and the open datasets (ratings, inspections, findings).

Thin: check the form, call the service, commit, flash, redirect; or return the fragment for htmx.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import force_locale, format_currency, format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import opendata, security
from portal.errors import DomainError, InvalidTransition, NotFound, PermissionDenied
from portal.extensions import db
from portal.htmx import is_htmx, render_page_or_fragment
from portal.i18n import fmt_datetime
from portal.models_base import utcnow
from portal.places import service as places
from portal.places import tabs
from portal.places.models import Compound, Street
from portal.ratings import bp, forms, service
from portal.ratings.labels import (
    BASIS_LABELS,
    CATEGORY_LABELS,
    DEFAULT_TITLES,
    FINDING_STATUS_LABELS,
    LEVEL_CADENCE,
    LEVEL_LABELS,
    LIST_LABELS,
    RESPONSIBLE_LABELS,
    item_title,
)
from portal.readonly import needs_transaction

TAB_PAGE_SIZE = 10

# ---- template helpers ---------------------------------------------------------------------


@bp.app_template_filter("rating_money")
def _money(value) -> str:
    return "" if value is None else format_currency(value, "CNY")


@bp.app_template_filter("rating_score")
def _score(value) -> str:
    return "" if value is None else format_decimal(value, format="#,##0.00")


@bp.app_template_filter("rating_points")
def _points(value) -> str:
    return "" if value is None else format_decimal(value, format="#,##0.#")


@bp.app_template_filter("groupby_category")
def _groupby_category(scores):
    """Consecutive scores grouped by their item's category (the checklist's order), each group
    as (category, scores, score subtotal, points subtotal)."""
    groups: list[list] = []
    for s in scores:
        if not groups or groups[-1][0] != s.item.category:
            groups.append([s.item.category, [], 0, 0])
        groups[-1][1].append(s)
        groups[-1][2] += s.score
        groups[-1][3] += s.item.points
    return [tuple(g) for g in groups]


@bp.app_template_global("checklist_item_title")
def _item_title(item) -> str:
    return item_title(item)


LABELS = {
    "categories": CATEGORY_LABELS,
    "levels": LEVEL_LABELS,
    "cadence": LEVEL_CADENCE,
    "responsible": RESPONSIBLE_LABELS,
    "finding_statuses": FINDING_STATUS_LABELS,
    "lists": LIST_LABELS,
    "bases": BASIS_LABELS,
}


def _render(template: str, status: int = 200, **context):
    return render_template(template, **LABELS, **context), status


def _page_or_fragment(page: str, fragment: str, **context):
    return render_page_or_fragment(page, fragment, **LABELS, **context)


def _actor():
    return current_user._get_current_object()


def _page(name: str = "page") -> int:
    return max(request.args.get(name, 1, type=int) or 1, 1)


def _per_page() -> int:
    return current_app.config["PAGE_SIZE"]


def _street(code: str) -> Street:
    street = db.session.scalar(select(Street).where(Street.code == code))
    if street is None:
        abort(404)
    return street


def _next(fallback: str) -> str:
    from portal.accounts.routes import safe_next

    return safe_next(request.form.get("next") or request.args.get("next"), fallback)


def _confirmed() -> None:
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)


# ---- the staff desk --------------------------------------------------------------------------


@bp.get("/ratings/")
@login_required
def desk():
    actor = _actor()
    if not service.is_ratings_staff(actor):
        abort(403)
    if security.is_admin(actor):
        streets = list(db.session.scalars(select(Street).order_by(Street.name).limit(200)))
    else:
        ids = security.role_ids(actor, "street")
        streets = (
            list(db.session.scalars(select(Street).where(Street.id.in_(ids)).order_by(Street.name)))
            if ids
            else []
        )
    companies = security.role_ids(actor, "company")
    return _render(
        "ratings/desk.html",
        streets=streets,
        can_inspect=service.may_list_inspections(actor),
        can_survey=bool(service.survey_compounds(actor))
        or bool(security.role_ids(actor, "street")),
        company_ids=sorted(companies),
    )


# ---- inspections -----------------------------------------------------------------------------


@bp.get("/ratings/inspections")
@login_required
def inspections():
    actor = _actor()
    level = request.args.get("level", "")
    pagination = service.inspections_in_scope(actor, level, _page(), _per_page())
    return _page_or_fragment(
        "ratings/inspections.html",
        "ratings/_inspections_table.html",
        pagination=pagination,
        level=level,
    )


def _compound_arg() -> Compound | None:
    code = request.values.get("compound", "").strip()[:32]
    return places.get_compound(code) if code else None


@bp.route("/ratings/inspections/new", methods=["GET", "POST"])
@login_required
def new_inspection():
    actor = _actor()
    compound = _compound_arg()
    if compound is None:
        compounds = service.inspectable_compounds(actor)
        if not compounds:
            abort(403)
        return _render("ratings/pick_compound.html", compounds=compounds, purpose="inspection")
    levels = service.levels_for(actor, compound)
    if not levels:
        abort(403)
    street = compound.community.street
    checklist = service.current_checklist(street.id)
    if checklist is None:
        checklist = _default_preview(street)
    form = forms.InspectionForm()
    form.level.choices = [(lv, LEVEL_LABELS[lv]) for lv in levels]
    if request.method == "GET":
        wanted = request.args.get("level")
        form.level.data = wanted if wanted in levels else levels[0]
        form.inspected_on.data = service.local_today(utcnow())
    submitted = request.method == "POST"
    scores = form.bind_checklist(checklist, request.form if submitted else None)
    if submitted and form.version_changed:
        form.level.errors = [
            *form.level.errors,
            _("The street changed the checklist while you were entering scores. Enter them again."),
        ]
    elif submitted and form.validate_on_submit() and not form.score_errors:
        try:
            inspection = service.create_inspection(
                actor,
                compound,
                form.level.data,
                form.inspected_on.data,
                scores,
                form.note.data or "",
                utcnow(),
            )
        except PermissionDenied:
            raise
        except DomainError as e:
            form.inspected_on.errors = [*form.inspected_on.errors, e.message]
        else:
            db.session.commit()
            flash(
                _(
                    "The inspection has been saved: %(total)s of %(max)s points. "
                    "Add any findings below.",
                    total=_points(inspection.total),
                    max=_points(inspection.max_total),
                ),
                "success",
            )
            return redirect(url_for("ratings.inspection", inspection_id=inspection.id))
    status = 422 if submitted else 200
    return _render(
        "ratings/inspection_new.html",
        status,
        form=form,
        compound=compound,
        checklist=checklist,
    )


class _PreviewChecklist:
    """The default checklist as it will be seeded on the first inspection (not saved by a GET)."""

    def __init__(self, items):
        self.items = items
        self.version = 1
        self.max_total = sum(i.points for i in items)


class _PreviewItem:
    def __init__(self, n, item):
        self.id = -n  # negative: never a database id
        self.position = n
        self.category = item.category
        self.title = item.title
        self.builtin_key = item.builtin_key
        self.points = item.points


def _default_preview(street):
    if request.method == "POST":  # seed now, so the posted scores refer to real items
        return service.ensure_checklist(street, _actor())
    return _PreviewChecklist(
        [_PreviewItem(n, i) for n, i in enumerate(service.default_items(), start=1)]
    )


@bp.get("/inspections/<int:inspection_id>")
def inspection(inspection_id: int):
    insp = service.get_inspection(inspection_id)
    return _inspection_page(insp)


def _inspection_page(insp, finding_form=None, status=200):
    viewer = current_user._get_current_object() if current_user.is_authenticated else None
    can_add = bool(viewer) and service.may_inspect(viewer, insp.compound, insp.level)
    now = utcnow()
    today = service.local_today(now)
    if can_add and finding_form is None:
        finding_form = forms.FindingForm()
        finding_form.deadline.data = today + timedelta(days=7)
    return _render(
        "ratings/inspection.html",
        status,
        insp=insp,
        compound=insp.compound,
        can_add=can_add,
        finding_form=finding_form,
        actions=service.finding_actions(viewer, insp.findings, today),
        today=today,
        normalised=service.scoring.round_half_up(
            service.scoring.normalised(insp.total, insp.max_total)
        ),
    )


@bp.post("/inspections/<int:inspection_id>/findings")
@login_required
def add_finding(inspection_id: int):
    actor = _actor()
    insp = service.get_inspection(inspection_id)
    if not service.may_inspect(actor, insp.compound, insp.level):
        abort(403)
    form = forms.FindingForm()
    if form.validate_on_submit():
        photos = [f.read() for f in (form.photos.data or []) if f and f.filename]
        try:
            service.add_finding(
                actor,
                insp,
                category=form.category.data,
                description=form.description.data,
                responsible=form.responsible.data,
                deadline=form.deadline.data,
                photos=photos,
                now=utcnow(),
            )
        except DomainError as e:
            db.session.rollback()
            form.description.errors = [*form.description.errors, e.message]
        else:
            db.session.commit()
            flash(_("The finding has been added."), "success")
            return redirect(
                url_for("ratings.inspection", inspection_id=insp.id, _anchor="findings")
            )
    insp = service.get_inspection(inspection_id)
    return _inspection_page(insp, form, 422)


def _finding_row(finding, form=None, form_kind=None, status=200):
    viewer = _actor()
    today = service.local_today(utcnow())
    return _render(
        "ratings/_finding.html",
        status,
        f=finding,
        actions=service.finding_actions(viewer, [finding], today),
        today=today,
        row_form=form,
        row_form_kind=form_kind,
        show_compound=request.form.get("show_compound") == "1",
        next_url=_next(url_for("ratings.findings")),
    )


def _finding_action_page(finding, form, kind):
    """Without JavaScript, an invalid inline form comes back on a page of its own (422)."""
    viewer = _actor()
    today = service.local_today(utcnow())
    return _render(
        "ratings/finding_action.html",
        422,
        f=finding,
        actions=service.finding_actions(viewer, [finding], today),
        today=today,
        row_form=form,
        row_form_kind=kind,
        show_compound=True,
        next_url=_next(url_for("ratings.inspection", inspection_id=finding.inspection_id)),
    )


@bp.post("/findings/<int:finding_id>/reinspect")
@login_required
def reinspect(finding_id: int):
    actor = _actor()
    finding = service.get_finding(finding_id)
    if not service.may_reinspect(actor, finding):
        abort(403)
    form = forms.ReinspectForm()
    if form.validate_on_submit():
        try:
            finding = service.reinspect(
                actor,
                finding_id,
                passed=form.outcome.data == "pass",
                checked_on=form.checked_on.data,
                note=form.note.data or "",
                new_deadline=form.new_deadline.data,
                now=utcnow(),
            )
        except (PermissionDenied, NotFound):
            raise
        except InvalidTransition:
            if not is_htmx():
                raise
            db.session.rollback()
            finding = service.get_finding(finding_id)
            return _finding_row(finding)
        except DomainError as e:
            db.session.rollback()
            form.checked_on.errors = [*form.checked_on.errors, e.message]
        else:
            db.session.commit()
            finding = service.get_finding(finding_id)
            if is_htmx():
                return _finding_row(finding)
            flash(
                _("Re-inspection recorded: passed.")
                if finding.status == "closed"
                else _(
                    "Re-inspection recorded: failed; new deadline %(date)s.",
                    date=finding.deadline.isoformat(),
                ),
                "success",
            )
            return redirect(
                _next(url_for("ratings.inspection", inspection_id=finding.inspection_id))
            )
    finding = service.get_finding(finding_id)
    if is_htmx():
        return _finding_row(finding, form, "reinspect")
    return _finding_action_page(finding, form, "reinspect")


@bp.post("/findings/<int:finding_id>/report")
@login_required
def report(finding_id: int):
    actor = _actor()
    finding = service.get_finding(finding_id)
    if not service.may_report(actor, finding, service.local_today(utcnow())):
        abort(403)
    form = forms.ReportForm()
    if form.validate_on_submit():
        try:
            finding = service.report_rectified(actor, finding_id, form.note.data, utcnow())
        except (PermissionDenied, NotFound):
            raise
        except InvalidTransition:
            if not is_htmx():
                raise
            db.session.rollback()
            finding = service.get_finding(finding_id)
            return _finding_row(finding)
        except DomainError as e:
            db.session.rollback()
            form.note.errors = [*form.note.errors, e.message]
        else:
            db.session.commit()
            finding = service.get_finding(finding_id)
            if is_htmx():
                return _finding_row(finding)
            flash(_("Reported as rectified; it awaits re-inspection."), "success")
            return redirect(_next(url_for("ratings.findings")))
    finding = service.get_finding(finding_id)
    if is_htmx():
        return _finding_row(finding, form, "report")
    return _finding_action_page(finding, form, "report")


@bp.get("/findings/<int:finding_id>/photos/<int:photo_id>")
@login_required
def finding_photo(finding_id: int, photo_id: int):
    path, mimetype = service.photo_of(_actor(), finding_id, photo_id, utcnow())
    resp = send_file(path, mimetype=mimetype, max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/ratings/findings")
@login_required
def findings():
    actor = _actor()
    status = request.args.get("status", "open")
    if status not in ("open", "overdue", "closed"):
        status = "open"
    now = utcnow()
    pagination = service.findings_in_scope(actor, status, _page(), _per_page(), now)
    today = service.local_today(now)
    return _page_or_fragment(
        "ratings/findings.html",
        "ratings/_findings_table.html",
        pagination=pagination,
        status=status,
        today=today,
        actions=service.finding_actions(actor, pagination.items, today),
    )


# ---- checklist and settings ------------------------------------------------------------------


@bp.route("/streets/<code>/checklist", methods=["GET", "POST"])
@login_required
def checklist(code: str):
    actor = _actor()
    street = _street(code)
    if not service.may_manage_street(actor, street):
        abort(403)
    current = service.current_checklist(street.id)
    form = forms.ConfirmForm()
    errors: list[str] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        rows, items = forms.parse_checklist(request.form, DEFAULT_TITLES)
        if any(r.errors for r in rows):
            errors.append(_("Some items need correcting; see below."))
        else:
            try:
                saved = service.save_checklist(actor, street, items)
            except PermissionDenied:
                raise
            except DomainError as e:
                errors.append(e.message)
            else:
                db.session.commit()
                flash(
                    _(
                        "Checklist version %(v)d saved: %(n)d items, %(total)s points.",
                        v=saved.version,
                        n=len(items),
                        total=_points(saved.max_total),
                    ),
                    "success",
                )
                return redirect(url_for("ratings.checklist", code=street.code))
        if request.form.get("add"):
            rows += forms.blank_rows(len(rows), 3)
    else:
        items = (
            current.items
            if current
            else [_PreviewItem(n, i) for n, i in enumerate(service.default_items(), start=1)]
        )
        rows = forms.checklist_rows_from(items)
    total = sum((forms.parse_decimal(r.points) or 0) for r in rows if not r.remove and r.points)
    versions = service.checklist_versions(street.id)
    return _render(
        "ratings/checklist.html",
        422 if errors else 200,
        street=street,
        current=current,
        rows=rows,
        errors=errors,
        total=total,
        versions=versions,
    )


@bp.route("/streets/<code>/rating-settings", methods=["GET", "POST"])
@login_required
def settings(code: str):
    actor = _actor()
    street = _street(code)
    if not service.may_manage_street(actor, street):
        abort(403)
    form = forms.SettingsForm()
    problems: list[str] = []
    if request.method == "GET":
        form.fill(service.rules_for(street.id))
    elif form.validate_on_submit():
        rules = form.to_rules(request.form)
        if rules is not None:
            problems = service.rules_messages(rules)
            if not problems:
                service.save_settings(actor, street, rules, utcnow())
                db.session.commit()
                flash(_("The rating settings have been saved."), "success")
                return redirect(url_for("ratings.settings", code=street.code))
    else:
        abort(400)
    failed = request.method == "POST"
    return _render(
        "ratings/settings.html",
        422 if failed else 200,
        street=street,
        form=form,
        problems=problems,
        defaults=service.scoring.DEFAULT_RULES,
    )


# ---- rating periods --------------------------------------------------------------------------


@bp.route("/streets/<code>/rating-periods", methods=["GET", "POST"])
@login_required
def periods(code: str):
    actor = _actor()
    street = _street(code)
    if not service.may_manage_street(actor, street):
        abort(403)
    today = service.local_today(utcnow())
    form = forms.PeriodForm()
    form.period.choices = forms.period_choices(today)
    if form.validate_on_submit():
        parsed = form.parsed()
        if parsed is None:
            form.period.errors = [*form.period.errors, _("There is no such period.")]
        else:
            period = service.create_period(actor, street, *parsed)
            db.session.commit()
            return redirect(url_for("ratings.period", period_id=period.id))
    pagination = service.periods_of(street, _page(), _per_page())
    return _render(
        "ratings/periods.html",
        422 if form.errors else 200,
        street=street,
        form=form,
        pagination=pagination,
        period_label=_period_label,
    )


def _period_label(period) -> str:
    return forms.period_label(period.kind, period.year, period.number)


@bp.get("/rating-periods/<int:period_id>")
@login_required
def period(period_id: int):
    actor = _actor()
    p = service.get_period(period_id)
    if not service.may_manage_street(actor, p.street):
        abort(403)
    return _period_page(p)


def _period_page(p, correction_form=None, status=200):
    now = utcnow()
    computed = service.compute_period(p, now)
    return _render(
        "ratings/period.html",
        status,
        period=p,
        street=p.street,
        label=_period_label(p),
        computed=computed,
        rules=service.rules_for(p.street_id),
        corrections=service.corrections_of(p) if p.published_at else [],
        correction_form=correction_form or forms.CorrectionForm(),
        confirm=forms.ConfirmForm(),
        started=service.local_midnight(p.starts_on) <= now,
        finished=service.local_today(now) > p.ends_on,
    )


@bp.post("/rating-periods/<int:period_id>/publish")
@login_required
def publish(period_id: int):
    _confirmed()
    rows = service.publish_period(_actor(), period_id, utcnow())
    db.session.commit()
    flash(
        ngettext(
            "Published: %(num)d company rated.", "Published: %(num)d companies rated.", len(rows)
        ),
        "success",
    )
    return redirect(url_for("ratings.period", period_id=period_id))


@bp.post("/rating-periods/<int:period_id>/correct")
@login_required
def correct(period_id: int):
    actor = _actor()
    p = service.get_period(period_id)
    if not service.may_manage_street(actor, p.street):
        abort(403)
    form = forms.CorrectionForm()
    if form.validate_on_submit():
        try:
            rows = service.correct_period(actor, period_id, form.reason.data, utcnow())
        except (PermissionDenied, NotFound):
            raise
        except DomainError as e:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, e.message]
        else:
            db.session.commit()
            flash(
                ngettext(
                    "Correction published: %(num)d rating has a new version.",
                    "Correction published: %(num)d ratings have a new version.",
                    len(rows),
                ),
                "success",
            )
            return redirect(url_for("ratings.period", period_id=period_id))
    return _period_page(service.get_period(period_id), form, 422)


# ---- public: the red/black list, the scorecard, the compound tab -----------------------------


@bp.get("/streets/<code>/red-black-list")
def red_black(code: str):
    street = _street(code)
    periods = service.published_periods(street)
    wanted = request.args.get("period", type=int)
    chosen = None
    if wanted is not None:
        chosen = next((p for p in periods if p.id == wanted), None)
        if chosen is None:
            abort(404)
    elif periods:
        chosen = periods[0]
    context = {
        "street": street,
        "periods": periods,
        "period": chosen,
        "period_label": _period_label,
    }
    if chosen is not None:
        context.update(
            red=service.listed(chosen, "red"),
            black=service.listed(chosen, "black"),
            pagination=service.ratings_page(chosen, _page(), 50),
            corrections=service.corrections_of(chosen),
            previous=service.previous_versions(chosen),
            rules=service.rules_from_json(_first_rules(chosen)),
        )
    return _page_or_fragment("ratings/red_black.html", "ratings/_red_black_body.html", **context)


def _first_rules(period) -> dict:
    from portal.ratings.models import Rating

    rules = db.session.scalar(
        select(Rating.rules)
        .where(Rating.period_id == period.id)
        .order_by(Rating.id.desc())
        .limit(1)
    )
    return rules or service.rules_to_json(service.rules_for(period.street_id))


@bp.get("/companies/<int:company_id>/scorecard")
def scorecard(company_id: int):
    company = service.get_company(company_id)
    now = utcnow()
    today = service.local_today(now)
    trend = service.rating_trend(company)
    latest = trend[-1] if trend else None
    rules = service.rules_from_json(latest.rules) if latest else service.scoring.DEFAULT_RULES
    chart = service.trend_chart(
        [
            (
                f"{r.period.street.name} {_period_label(r.period)}",
                service.period_code(r.period),
                r.score,
            )
            for r in trend
        ],
        rules.red_threshold,
        rules.black_threshold,
    )
    return _page_or_fragment(
        "ratings/scorecard.html",
        "ratings/_scorecard_findings.html",
        company=company,
        compounds=service.compounds_served(company, today),
        trend=trend,
        latest=latest,
        chart=chart,
        summary=service.finding_summary(service.company_condition(company), today),
        pagination=service.open_findings_of_company(company, _page(), _per_page()),
        today=today,
        period_label=_period_label,
        period_code=service.period_code,
    )


def _ratings_audience(compound, viewer) -> tuple:
    return (
        tuple(service.levels_for(viewer, compound)) if viewer.is_authenticated else (),
        service.may_run_surveys(viewer, compound),
    )


@tabs.register("ratings", audience=_ratings_audience)
def _ratings_tab(compound, viewer, args) -> dict:
    now = utcnow()
    today = service.local_today(now)
    company_id = service.current_company_id(compound, today)
    ipage = max(args.get("ipage", 1, type=int) or 1, 1)
    fpage = max(args.get("fpage", 1, type=int) or 1, 1)
    return {
        **LABELS,
        "r_company": service.get_company(company_id) if company_id else None,
        "r_rating": service.latest_rating_of(company_id, compound.community.street_id),
        "r_inspections": service.inspections_of_compound(compound, ipage, TAB_PAGE_SIZE),
        "r_findings": service.open_findings_of_compound(compound, fpage, TAB_PAGE_SIZE),
        "r_veto": service.veto_of(compound.id, today.year),
        "r_surveys": service.surveys_of_compound(compound, 1, 3),
        "r_now": now,
        "r_today": today,
        "r_period_label": _period_label,
        "r_levels_for": (
            service.levels_for(viewer, compound)
            if viewer is not None and viewer.is_authenticated
            else []
        ),
        "r_may_survey": service.may_run_surveys(viewer, compound),
        "r_state": service.survey_state,
    }


# ---- surveys ---------------------------------------------------------------------------------


@bp.get("/ratings/surveys")
@login_required
def surveys():
    pagination = service.surveys_in_scope(_actor(), _page(), _per_page())
    return _render(
        "ratings/surveys.html", pagination=pagination, now=utcnow(), state=service.survey_state
    )


@bp.route("/ratings/surveys/new", methods=["GET", "POST"])
@login_required
def new_survey():
    actor = _actor()
    compound = _compound_arg()
    if compound is None:
        compounds = service.survey_compounds(actor)
        if not compounds:
            abort(403)
        return _render("ratings/pick_compound.html", compounds=compounds, purpose="survey")
    if not service.may_run_surveys(actor, compound):
        abort(403)
    form = forms.SurveyForm()
    form.areas.choices = [(a, CATEGORY_LABELS[a]) for a in service.SURVEY_AREAS]
    now = utcnow()
    if request.method == "GET":
        today = service.local_today(now)
        form.title.data = _("Satisfaction survey %(date)s", date=today.strftime("%Y-%m"))
        form.areas.data = list(service.SURVEY_AREAS)
        form.opens_date.data = today
        form.closes_date.data = today + timedelta(days=14)
    elif form.validate_on_submit():
        opens = service.local_to_utc(form.opens_date.data, form.opens_time.data or _t(8))
        closes = service.local_to_utc(form.closes_date.data, form.closes_time.data or _t(20))
        try:
            survey = service.create_survey(
                actor,
                compound,
                title=form.title.data,
                areas=form.areas.data,
                opens_at=opens,
                closes_at=closes,
                now=now,
            )
        except PermissionDenied:
            raise
        except DomainError as e:
            form.closes_date.errors = [*form.closes_date.errors, e.message]
        else:
            db.session.commit()
            if survey.opens_at > now:
                flash(
                    _(
                        "The survey is scheduled: it opens %(date)s.",
                        date=fmt_datetime(survey.opens_at),
                    ),
                    "success",
                )
            else:
                flash(_("The survey has been opened."), "success")
            return redirect(url_for("ratings.survey", survey_id=survey.id))
    return _render(
        "ratings/survey_new.html",
        422 if request.method == "POST" else 200,
        form=form,
        compound=compound,
    )


def _t(hour: int):
    from datetime import time

    return time(hour, 0)


@bp.get("/surveys/<int:survey_id>")
def survey(survey_id: int):
    s = service.get_survey(survey_id)
    return _survey_page(s)


def _survey_page(s, form=None, status=200, conflict=None):
    now = utcnow()
    viewer = current_user._get_current_object() if current_user.is_authenticated else None
    state = service.survey_state(s, now)
    households = service.households_of(viewer, s) if state == "open" else []
    pending = [h for h in households if not h.answered]
    if state == "open" and pending and form is None:
        form = forms.response_form_class(s.areas)()
    if form is not None:
        form.unit.choices = [(h.unit.id, h.unit.label) for h in pending]
    comments = None
    if state == "closed" and viewer is not None and service.may_read_comments(viewer, s, now):
        comments = service.survey_comments(viewer, s, now, _page(), _per_page())
    return _render(
        "ratings/survey.html",
        status,
        survey=s,
        compound=s.compound,
        state=state,
        households=households,
        pending=pending,
        form=form if pending else None,
        results=service.survey_results(s) if state == "closed" else None,
        comments=comments,
        may_close=viewer is not None
        and service.may_run_surveys(viewer, s.compound)
        and state == "open",
        confirm=forms.ConfirmForm(),
        conflict=conflict,
    )


@bp.post("/surveys/<int:survey_id>/respond")
@login_required
def respond(survey_id: int):
    s = service.get_survey(survey_id)
    form = forms.response_form_class(s.areas)()
    form.unit.choices = []
    if form.validate_on_submit():
        answers = {a: getattr(form, f"area_{a}").data for a in s.areas}
        try:
            service.with_retry(
                service.respond,
                _actor(),
                s.id,
                form.unit.data,
                answers,
                form.comment.data or "",
                utcnow(),
            )
        except PermissionDenied:
            raise
        except DomainError as e:
            db.session.rollback()
            return _survey_page(service.get_survey(survey_id), None, e.status, conflict=e.message)
        flash(_("Thank you. Your household's answers have been recorded anonymously."), "success")
        return redirect(url_for("ratings.survey", survey_id=s.id))
    return _survey_page(s, form, 422)


@bp.post("/surveys/<int:survey_id>/close")
@login_required
def close_survey(survey_id: int):
    _confirmed()
    service.close_survey(_actor(), survey_id, utcnow())
    db.session.commit()
    flash(_("The survey has been closed; the results are public."), "info")
    return redirect(url_for("ratings.survey", survey_id=survey_id))


@bp.get("/compounds/<code>/surveys")
def compound_surveys(code: str):
    compound = places.get_compound(code)
    pagination = service.surveys_of_compound(compound, _page(), _per_page())
    return _render(
        "ratings/compound_surveys.html",
        compound=compound,
        pagination=pagination,
        now=utcnow(),
        state=service.survey_state,
    )


# ---- open data -------------------------------------------------------------------------------


def _filters() -> tuple[str | None, int | None]:
    street = (request.args.get("street") or "").strip()[:32] or None
    year = request.args.get("year", type=int)
    if year is not None and not 2000 <= year <= 2100:
        abort(404)
    return street, year


def _rows_in_own_context(rows_factory):
    """The rows, read while the response streams, in an app context of their own (its own
    database session) and the request's language: the request's context is gone by then."""
    app = current_app._get_current_object()
    locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])

    def rows():
        with app.app_context(), force_locale(locale):
            yield from rows_factory()

    return rows()


def _csv(rows_factory, fieldnames, filename):
    rows = _rows_in_own_context(rows_factory)

    def generate():
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fieldnames, extrasaction="ignore")
        buf.write("\ufeff")  # so that spreadsheet programs read UTF-8
        writer.writeheader()
        for n, row in enumerate(rows, start=1):
            writer.writerow({k: _cell(v) for k, v in row.items()})
            if n % 500 == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    resp = Response(generate(), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _cell(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else value


def _json(rows_factory, name, description):
    head = {
        "dataset": name,
        "description": str(description),
        "licence": "CC-BY-4.0",
        "generated": utcnow().isoformat(timespec="seconds"),
    }

    rows = _rows_in_own_context(rows_factory)

    def generate():
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": ['
        chunk = []
        for n, row in enumerate(rows):
            chunk.append(("," if n else "") + json.dumps(row, ensure_ascii=False))
            if len(chunk) == 500:
                yield "".join(chunk)
                chunk = []
        yield "".join(chunk) + "]}"

    resp = Response(generate(), mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


RATING_FIELDS = [
    "street_code",
    "street",
    "period",
    "period_start",
    "period_end",
    "company",
    "company_credit_code",
    "version",
    "current",
    "basis",
    "inspection_component",
    "satisfaction_component",
    "score",
    "veto",
    "list_status",
    "subsidy_factor",
    "subsidy_cny",
    "compounds",
    "inspections",
    "survey_responses",
    "inspection_weight",
    "satisfaction_weight",
    "red_threshold",
    "black_threshold",
    "base_subsidy_cny",
    "published_on",
    "correction_reason",
]
SCORE_FIELDS = [
    "inspection_id",
    "street_code",
    "compound_code",
    "compound",
    "company",
    "level",
    "inspected_on",
    "item",
    "category",
    "item_title",
    "points",
    "score",
    "inspection_total",
    "inspection_max",
]
FINDING_FIELDS = [
    "finding_id",
    "inspection_id",
    "street_code",
    "compound_code",
    "compound",
    "company",
    "level",
    "inspected_on",
    "category",
    "description",
    "responsible",
    "deadline",
    "status",
    "failed_reinspections",
    "rectified_on",
]

RATINGS_DATASET = opendata.register(
    opendata.Dataset(
        slug="ratings",
        title=_l("Property-company ratings, red/black list and subsidies"),
        description=_l(
            "Every published rating of a property company per street and period: inspection and "
            "satisfaction components, composite score, list status, subsidy factor and amount, "
            "and the rules applied; corrections are further versions with their reason. "
            "Filter with ?street=<code>&year=<year>."
        ),
        downloads={"CSV": "ratings.ratings_csv", "JSON": "ratings.ratings_json"},
    )
)
INSPECTIONS_DATASET = opendata.register(
    opendata.Dataset(
        slug="inspections",
        title=_l("Inspection scores per checklist item"),
        description=_l(
            "One row per inspection and checklist item: compound, serving company, level, date, "
            "item, points and score. No inspector names. Filter with ?street=<code>&year=<year>."
        ),
        downloads={"CSV": "ratings.inspections_csv", "JSON": "ratings.inspections_json"},
    )
)
FINDINGS_DATASET = opendata.register(
    opendata.Dataset(
        slug="inspection-findings",
        title=_l("Inspection findings and their rectification"),
        description=_l(
            "One row per finding: compound, category, description, responsible party, deadline, "
            "status and failed re-inspections. No people, no photos; phone numbers are masked. "
            "Filter with ?street=<code>&year=<year>."
        ),
        downloads={"CSV": "ratings.findings_csv", "JSON": "ratings.findings_json"},
    )
)


@bp.get("/open-data/ratings.csv")
@needs_transaction  # streams the rows (a server-side cursor)
def ratings_csv():
    street, year = _filters()
    return _csv(lambda: service.open_ratings(street, year), RATING_FIELDS, "ratings.csv")


@bp.get("/open-data/ratings.json")
@needs_transaction  # streams the rows (a server-side cursor)
def ratings_json():
    street, year = _filters()
    return _json(lambda: service.open_ratings(street, year), "ratings", RATINGS_DATASET.description)


@bp.get("/open-data/inspections.csv")
@needs_transaction  # streams the rows (a server-side cursor)
def inspections_csv():
    street, year = _filters()
    return _csv(
        lambda: service.open_inspection_scores(street, year), SCORE_FIELDS, "inspections.csv"
    )


@bp.get("/open-data/inspections.json")
@needs_transaction  # streams the rows (a server-side cursor)
def inspections_json():
    street, year = _filters()
    return _json(
        lambda: service.open_inspection_scores(street, year),
        "inspections",
        INSPECTIONS_DATASET.description,
    )


@bp.get("/open-data/inspection-findings.csv")
@needs_transaction  # streams the rows (a server-side cursor)
def findings_csv():
    street, year = _filters()
    return _csv(
        lambda: service.open_findings(street, year), FINDING_FIELDS, "inspection-findings.csv"
    )


@bp.get("/open-data/inspection-findings.json")
@needs_transaction  # streams the rows (a server-side cursor)
def findings_json():
    street, year = _filters()
    return _json(
        lambda: service.open_findings(street, year),
        "inspection-findings",
        FINDINGS_DATASET.description,
    )
