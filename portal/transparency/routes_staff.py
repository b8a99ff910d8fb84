"""Staff pages of fee statements: the desk, the statement form, review actions and the file
import (upload → preview with every bad line → confirm, as the roster import)."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.errors import DomainError, ValidationFailed
from portal.extensions import db
from portal.htmx import render_page_or_fragment
from portal.models_base import utcnow
from portal.places import roster_service
from portal.places import service as places
from portal.places.roster import RowError
from portal.transparency import bp, feecore, periods, service, views
from portal.transparency.forms import (
    BLANK_LINE_ROWS,
    ConfirmForm,
    ImportConfirmForm,
    ImportForm,
    ReturnForm,
    RevisionForm,
    StatementForm,
)
from portal.transparency.labels import STATUS_LABELS, form_message, message, messages
from portal.transparency.routes import _labels, overdue_days
from portal.transparency.statement_import import (
    BILLING_COLUMNS,
    CATEGORY_WORDS,
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    SECTION_NAMES,
    parse_statement,
    to_csv_rows,
)

SESSION_KEY = "fee_import"
DESK_FILTERS = ("open", "submitted", "returned", "draft", "published", "all")


def _actor():
    return current_user._get_current_object()


def _require_desk():
    if not service.has_fee_desk(_actor()):
        abort(403)


# ---- the desk --------------------------------------------------------------------------------


@bp.get("/staff/fees")
@login_required
def desk():
    _require_desk()
    actor = _actor()
    status = request.args.get("status", "open")
    if status not in DESK_FILTERS:
        status = "open"
    today = utcnow().date()
    pagination = service.desk_statements(
        actor,
        status,
        request.args.get("page", 1, type=int),
        current_app.config["PAGE_SIZE"],
        today,
    )
    return render_page_or_fragment(
        "transparency/desk.html",
        "transparency/_desk_list.html",
        pagination=pagination,
        status=status,
        filters=DESK_FILTERS,
        statuses=STATUS_LABELS,
        can_draft=bool(service.drafting_compounds(actor, today)),
        **_labels(),
    )


@bp.get("/staff/fees/questions")
@login_required
def questions_desk():
    actor = _actor()
    pagination = service.unanswered_for_company(
        actor,
        request.args.get("page", 1, type=int),
        current_app.config["PAGE_SIZE"],
        utcnow().date(),
    )
    if pagination is None:
        abort(403)
    return render_template(
        "transparency/questions_desk.html",
        pagination=pagination,
        now=utcnow(),
        overdue_days=overdue_days(),
        may_answer=True,
        **_labels(),
    )


# ---- the statement form ----------------------------------------------------------------------


def _compound_choices(compounds) -> list[tuple[int, str]]:
    return [(0, _("Choose a compound"))] + [
        (c.id, f"{c.community.name} · {c.name}") for c in compounds
    ]


def _pad_lines(form: StatementForm, blank: int = BLANK_LINE_ROWS) -> None:
    for _i in range(blank):
        form.lines.append_entry()


def _building_rows(form: StatementForm, names: list[str], existing: dict) -> None:
    """One row per building of the compound (the figures on record, if any)."""
    for name in names:
        b = existing.get(name)
        form.buildings.append_entry(
            {
                "name": name,
                "households_billed": b.households_billed if b else None,
                "households_paid": b.households_paid if b else None,
                "amount_billed": str(b.amount_billed) if b else "",
                "amount_collected": str(b.amount_collected) if b else "",
            }
        )


def _input_from_form(form: StatementForm, period: periods.Period) -> service.StatementInput:
    lines = []
    for entry in form.lines:
        sub = entry.form
        if sub.is_blank():
            continue
        direction, _sep, category = sub.kind.data.partition(":")
        lines.append(
            feecore.Line(
                direction,
                category,
                sub.item.data or "",
                feecore.parse_amount(sub.amount.data),
                sub.note.data or "",
            )
        )
    buildings = []
    for entry in form.buildings:
        sub = entry.form
        if sub.is_blank():
            continue
        buildings.append(
            feecore.Billing(
                sub.households_billed.data,
                sub.households_paid.data,
                feecore.parse_amount(sub.amount_billed.data),
                feecore.parse_amount(sub.amount_collected.data),
                sub.name.data,
            )
        )
    billing = feecore.Billing(
        form.households_billed.data or 0,
        form.households_paid.data or 0,
        feecore.parse_amount(form.amount_billed.data) or feecore.parse_amount("0"),
        feecore.parse_amount(form.amount_collected.data) or feecore.parse_amount("0"),
    )
    return service.StatementInput(
        period=period,
        lines=lines,
        billing=billing,
        buildings=buildings,
        opening_balance=feecore.parse_amount(form.opening_balance.data or "0", allow_negative=True),
        note=form.note.data or "",
        revision_reason=form.revision_reason.data or "",
    )


def _problem_messages(errors: list[RowError]) -> list[str]:
    return [form_message(e) if e.line == 0 else message(e) for e in errors]


def _form_page(form, statement=None, compounds=None, problems=(), status_code=200):
    return render_template(
        "transparency/statement_form.html",
        form=form,
        statement=statement,
        compounds=compounds,
        problems=list(problems),
        **_labels(),
    ), status_code


@bp.route("/staff/fees/new", methods=["GET", "POST"])
@login_required
def new_statement():
    actor = _actor()
    compounds = service.drafting_compounds(actor, utcnow().date())
    if not compounds:
        abort(403)
    form = StatementForm()
    form.compound.choices = _compound_choices(compounds)
    if request.method == "GET":
        wanted = request.args.get("compound", type=int)
        if wanted in {c.id for c in compounds}:
            form.compound.data = wanted
        elif len(compounds) == 1:
            form.compound.data = compounds[0].id
        if form.compound.data:
            compound = next(c for c in compounds if c.id == form.compound.data)
            _building_rows(form, service.compound_buildings(compound), {})
        _pad_lines(form, 8)
        return _form_page(form, compounds=compounds)

    if request.form.get("action") == "more":
        _pad_lines(form)
        return _form_page(form, compounds=compounds)
    if request.form.get("action") == "buildings" and form.compound.data:
        compound = places.get_compound_by_id(form.compound.data)
        if not [e for e in form.buildings if e.form.name.data]:
            _building_rows(form, service.compound_buildings(compound), {})
        return _form_page(form, compounds=compounds)
    if not form.validate_on_submit():
        return _form_page(form, compounds=compounds, status_code=422)
    compound = places.get_compound_by_id(form.compound.data)
    period = periods.make(form.period_kind.data, form.year.data, form.period_number())
    if period is None:
        form.year.errors.append(_("Choose the period."))
        return _form_page(form, compounds=compounds, status_code=422)
    data = _input_from_form(form, period)
    try:
        statement = service.create_draft(actor, compound, data, utcnow())
    except service.StatementInvalid as e:
        db.session.rollback()
        return _form_page(
            form, compounds=compounds, problems=_problem_messages(e.errors), status_code=422
        )
    except DomainError as e:
        if e.status == 403:
            raise
        db.session.rollback()
        return _form_page(form, compounds=compounds, problems=[e.message], status_code=422)
    db.session.commit()
    flash(_("The draft is saved. Check it, then submit it for review."), "success")
    return redirect(url_for("transparency.staff_statement", statement_id=statement.id))


def _without_period(form: StatementForm) -> StatementForm:
    """An existing statement keeps its compound and period: the form does not offer them."""
    for name in ("compound", "period_kind", "year", "month", "quarter"):
        delattr(form, name)
    return form


@bp.route("/staff/fees/<int:statement_id>/edit", methods=["GET", "POST"])
@login_required
def edit_statement(statement_id: int):
    actor = _actor()
    statement = service.get_statement_for_staff(actor, statement_id)
    if not service.is_company_staff_for(actor, statement.compound):
        abort(403)
    if not statement.editable:
        flash(_("Only a draft or a returned statement can be changed."), "error")
        return redirect(url_for("transparency.staff_statement", statement_id=statement.id))
    if request.method == "GET":
        form = StatementForm(
            formdata=None,
            obj=None,
            data={
                "opening_balance": str(statement.opening_balance),
                "households_billed": statement.households_billed,
                "households_paid": statement.households_paid,
                "amount_billed": str(statement.amount_billed),
                "amount_collected": str(statement.amount_collected),
                "note": statement.note,
                "revision_reason": statement.revision_reason,
            },
        )
        _without_period(form)
        for line in statement.lines:
            form.lines.append_entry(
                {
                    "kind": f"{line.direction}:{line.category}",
                    "item": line.item,
                    "amount": str(line.amount),
                    "note": line.note,
                }
            )
        _pad_lines(form)
        existing = {b.building_name: b for b in statement.buildings}
        names = service.compound_buildings(statement.compound)
        names += [n for n in existing if n not in names]
        _building_rows(form, names, existing)
        return _form_page(form, statement=statement)

    form = _without_period(StatementForm())
    if request.form.get("action") == "more":
        _pad_lines(form)
        return _form_page(form, statement=statement)
    if not form.validate_on_submit():
        return _form_page(form, statement=statement, status_code=422)
    data = _input_from_form(form, periods.parse_key(statement.period_key))
    try:
        service.update_draft(actor, statement, data, utcnow())
    except service.StatementInvalid as e:
        db.session.rollback()
        return _form_page(
            form, statement=statement, problems=_problem_messages(e.errors), status_code=422
        )
    except DomainError as e:
        if e.status == 403:
            raise
        db.session.rollback()
        return _form_page(form, statement=statement, problems=[e.message], status_code=422)
    db.session.commit()
    flash(_("The draft is saved."), "success")
    return redirect(url_for("transparency.staff_statement", statement_id=statement.id))


# ---- a statement on the staff side ----------------------------------------------------------


@bp.get("/staff/fees/<int:statement_id>")
@login_required
def staff_statement(statement_id: int):
    actor = _actor()
    statement = service.get_statement_for_staff(actor, statement_id)
    return _staff_page(statement)


def _staff_page(statement, return_form=None, revision_form=None, status_code=200):
    actor = _actor()
    compound = statement.compound
    previous = statement.supersedes if statement.revision > 1 else None
    if previous is not None and not previous.published:
        previous = None
    diff = service.revision_diff(previous, statement) if previous is not None else None
    current = service.current_statement(compound, statement.period_key)
    return render_template(
        "transparency/staff_statement.html",
        compound=compound,
        statement=statement,
        view=views.statement_view(statement),
        diff=diff,
        current=current,
        statuses=STATUS_LABELS,
        is_company=service.is_company_staff_for(actor, compound),
        is_secretary=service.is_secretary_for(actor, compound),
        confirm=ConfirmForm(),
        return_form=return_form or ReturnForm(),
        revision_form=revision_form or RevisionForm(),
        **_labels(),
    ), status_code


def _act(statement_id: int, fn, success: str):
    actor = _actor()
    statement = service.get_statement_for_staff(actor, statement_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        fn(actor, statement)
    except DomainError as e:
        if e.status == 403:
            raise
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("transparency.staff_statement", statement_id=statement_id))
    db.session.commit()
    flash(success, "success")
    return statement


@bp.post("/staff/fees/<int:statement_id>/submit")
@login_required
def submit_statement(statement_id: int):
    result = _act(
        statement_id,
        lambda a, s: service.submit(a, s, utcnow()),
        _("Submitted. The community secretary will review and publish it."),
    )
    if not hasattr(result, "id"):
        return result
    return redirect(url_for("transparency.staff_statement", statement_id=statement_id))


@bp.post("/staff/fees/<int:statement_id>/publish")
@login_required
def publish_statement(statement_id: int):
    result = _act(
        statement_id,
        lambda a, s: service.publish(a, s, utcnow()),
        _("Published. Residents now see it on the compound's page."),
    )
    if not hasattr(result, "id"):
        return result
    return redirect(url_for("transparency.staff_statement", statement_id=statement_id))


@bp.post("/staff/fees/<int:statement_id>/discard")
@login_required
def discard_statement(statement_id: int):
    result = _act(
        statement_id,
        lambda a, s: service.discard_draft(a, s),
        _("The draft has been discarded."),
    )
    if not hasattr(result, "id"):
        return result
    return redirect(url_for("transparency.desk"))


@bp.post("/staff/fees/<int:statement_id>/return")
@login_required
def return_statement(statement_id: int):
    actor = _actor()
    statement = service.get_statement_for_staff(actor, statement_id)
    if not service.is_secretary_for(actor, statement.compound):
        abort(403)
    form = ReturnForm()
    if not form.validate_on_submit():
        return _staff_page(statement, return_form=form, status_code=422)
    try:
        service.return_for_correction(actor, statement, form.reason.data, utcnow())
    except DomainError as e:
        if e.status == 403:
            raise
        db.session.rollback()
        form.reason.errors.append(e.message)
        return _staff_page(statement, return_form=form, status_code=422)
    db.session.commit()
    flash(_("Returned to the company with your reason."), "success")
    return redirect(url_for("transparency.staff_statement", statement_id=statement_id))


@bp.post("/staff/fees/<int:statement_id>/revise")
@login_required
def revise_statement(statement_id: int):
    actor = _actor()
    statement = service.get_statement_for_staff(actor, statement_id)
    if not service.is_company_staff_for(actor, statement.compound):
        abort(403)
    form = RevisionForm()
    if not form.validate_on_submit():
        return _staff_page(statement, revision_form=form, status_code=422)
    try:
        draft = service.start_revision(actor, statement, form.reason.data, utcnow())
    except DomainError as e:
        if e.status == 403:
            raise
        db.session.rollback()
        form.reason.errors.append(e.message)
        return _staff_page(statement, revision_form=form, status_code=422)
    db.session.commit()
    flash(
        _("A new revision is started from the published figures. Correct it, then submit it."),
        "success",
    )
    return redirect(url_for("transparency.edit_statement", statement_id=draft.id))


@bp.get("/staff/fees/<int:statement_id>/export.csv")
@login_required
def export_statement(statement_id: int):
    statement = service.get_statement_for_staff(_actor(), statement_id)
    rows = to_csv_rows(
        service.lines_of(statement),
        service.billing_of(statement),
        service.buildings_of(statement),
        statement.opening_balance,
        "zh" if request.args.get("lang", "zh").startswith("zh") else "en",
    )
    name = f"{statement.compound.code}-{statement.period_key}-r{statement.revision}.csv"
    return _csv_download(rows, name)


def _csv_download(rows, filename: str) -> Response:
    buf = io.StringIO()
    buf.write("\ufeff")  # so that Excel reads the Chinese as UTF-8
    csv.writer(buf, lineterminator="\n").writerows(rows)
    resp = Response(buf.getvalue(), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


# ---- the file import -------------------------------------------------------------------------


def _folder() -> Path:
    folder = current_app.config.get("FEE_UPLOAD_FOLDER") or current_app.config.get(
        "ROSTER_UPLOAD_FOLDER"
    )
    return Path(folder) if folder else Path(current_app.instance_path) / "uploads"


def _forget_pending() -> None:
    pending = session.pop(SESSION_KEY, None)
    if pending:
        roster_service.discard_stash(_folder(), pending.get("token", ""))


def _upload_page(form, compounds, status_code=200):
    return render_template(
        "transparency/import_upload.html",
        form=form,
        compounds=compounds,
        columns=COLUMNS,
        required=REQUIRED_COLUMNS,
        billing_columns=BILLING_COLUMNS,
        section_names=SECTION_NAMES,
        category_table=[
            (d, code, [w for w, c in CATEGORY_WORDS[d].items() if c == code and w != "other"])
            for d in feecore.DIRECTIONS
            for code in feecore.CATEGORIES[d]
        ],
        max_rows=MAX_ROWS,
        max_mb=MAX_BYTES // 2**20,
        **_labels(),
    ), status_code


def _preview_page(
    compound, period, parsed, filename, target, errors=(), confirm=None, status_code=200
):
    view = None
    if not errors:
        from types import SimpleNamespace

        fake = SimpleNamespace(
            lines=[SimpleNamespace(**vars_of(line)) for line in parsed.lines],
            buildings=[
                SimpleNamespace(
                    building_name=b.building,
                    households_billed=b.households_billed,
                    households_paid=b.households_paid,
                    amount_billed=b.amount_billed,
                    amount_collected=b.amount_collected,
                )
                for b in parsed.buildings
            ],
            opening_balance=parsed.opening_balance,
            households_billed=parsed.billing.households_billed,
            households_paid=parsed.billing.households_paid,
            amount_billed=parsed.billing.amount_billed,
            amount_collected=parsed.billing.amount_collected,
        )
        view = views.statement_view(fake)
    return render_template(
        "transparency/import_preview.html",
        compound=compound,
        period=period,
        parsed=parsed,
        view=view,
        filename=filename,
        target=target,
        error_messages=messages(list(errors)),
        confirm=confirm,
        **_labels(),
    ), status_code


def vars_of(line) -> dict:
    return {
        "direction": line.direction,
        "category": line.category,
        "item": line.item,
        "amount": line.amount,
        "note": line.note,
    }


def _import_target(compound, period, reason: str):
    """What the import will do: ("update", draft), ("revise", current) or ("new", None)."""
    draft = service.open_draft_for(compound, period)
    if draft is not None:
        if not draft.editable:
            raise ValidationFailed(
                _("The statement of this period is awaiting review; it cannot be replaced now.")
            )
        return "update", draft
    current = service.current_statement(compound, period.key)
    if current is not None:
        if not reason.strip():
            raise ValidationFailed(
                _(
                    "This period is already published. Give the reason for the revision that "
                    "the file will start."
                )
            )
        return "revise", current
    return "new", None


@bp.route("/staff/fees/import", methods=["GET", "POST"])
@login_required
def import_statement():
    actor = _actor()
    compounds = service.drafting_compounds(actor, utcnow().date())
    if not compounds:
        abort(403)
    form = ImportForm()
    form.compound.choices = _compound_choices(compounds)
    if len(compounds) == 1 and not form.is_submitted():
        form.compound.data = compounds[0].id
    if not form.validate_on_submit():
        return _upload_page(form, compounds, 422 if form.errors else 200)
    compound = places.get_compound_by_id(form.compound.data)
    if not service.is_company_staff_for(actor, compound):
        abort(403)
    period = periods.make(form.period_kind.data, form.year.data, form.period_number())
    if period is None:
        form.year.errors.append(_("Choose the period."))
        return _upload_page(form, compounds, 422)
    reason = form.revision_reason.data or ""
    try:
        target = _import_target(compound, period, reason)
    except ValidationFailed as e:
        form.revision_reason.errors.append(e.message)
        return _upload_page(form, compounds, 422)
    upload = form.file.data
    filename = (upload.filename or "")[-100:]
    data = upload.read()
    parsed = parse_statement(data, filename)
    errors = list(parsed.errors)
    if not errors:
        errors = service.check_input(compound, service.input_from_parsed(period, parsed, reason))
    if errors:
        return _preview_page(compound, period, parsed, filename, target, errors, status_code=422)
    _forget_pending()
    token, sha256 = roster_service.stash_upload(_folder(), data)
    session[SESSION_KEY] = {
        "token": token,
        "compound_id": compound.id,
        "period": period.key,
        "reason": reason,
        "sha256": sha256,
        "filename": filename,
    }
    return _preview_page(
        compound, period, parsed, filename, target, confirm=ImportConfirmForm(token=token)
    )


@bp.post("/staff/fees/import/confirm")
@login_required
def import_confirm():
    actor = _actor()
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    pending = session.get(SESSION_KEY) or {}
    data = None
    if pending.get("token") == form.token.data:
        data = roster_service.load_stash(_folder(), pending["token"], pending.get("sha256", ""))
    if data is None:
        flash(
            _(
                "This upload is no longer waiting: it was imported or has expired. Upload the "
                "file again."
            ),
            "error",
        )
        return redirect(url_for("transparency.import_statement"))
    compound = places.get_compound_by_id(pending["compound_id"])
    period = periods.parse_key(pending["period"])
    reason = pending.get("reason", "")
    filename = pending.get("filename", "")
    sha256 = hashlib.sha256(data).hexdigest()
    parsed = parse_statement(data, filename)
    try:
        if not parsed.ok:
            raise service.StatementInvalid(parsed.errors)
        kind, target = _import_target(compound, period, reason)
        statement_input = service.input_from_parsed(period, parsed, reason)
        now = utcnow()
        if kind == "update":
            if target.revision > 1 and not reason:
                statement_input.revision_reason = target.revision_reason
            statement = service.update_draft(
                actor,
                target,
                statement_input,
                now,
                source="import",
                filename=filename,
                sha256=sha256,
            )
        else:
            statement = service.create_draft(
                actor,
                compound,
                statement_input,
                now,
                source="import",
                filename=filename,
                sha256=sha256,
            )
    except service.StatementInvalid as e:
        db.session.rollback()
        _forget_pending()
        return _preview_page(compound, period, parsed, filename, None, e.errors, status_code=422)
    except DomainError as e:
        if e.status == 403:
            raise
        db.session.rollback()
        _forget_pending()
        flash(e.message, "error")
        return redirect(url_for("transparency.import_statement"))
    db.session.commit()
    _forget_pending()
    flash(
        _(
            "The file is imported as a draft of %(period)s. Check it, then submit it for review.",
            period=period.label(str(_current_locale())),
        ),
        "success",
    )
    return redirect(url_for("transparency.staff_statement", statement_id=statement.id))


def _current_locale():
    from portal.i18n import current_lang

    return current_lang()


@bp.get("/staff/fees/import/sample.csv")
@login_required
def import_sample():
    _require_desk()
    lang = "en" if request.args.get("lang") == "en" else "zh"
    parsed = parse_statement(_SAMPLE.encode("utf-8"))
    rows = to_csv_rows(parsed.lines, parsed.billing, parsed.buildings, parsed.opening_balance, lang)
    return _csv_download(rows, f"fee-statement-sample-{lang}.csv")


_SAMPLE = """部分,类别,项目,金额,说明,楼栋,应缴户数,已缴户数,应收金额,实收金额
收入,物业费,物业服务费,86500.00,当期实收,,,,,
收入,停车费,地面停车,12000.00,,,,,,
收入,公共收益,电梯广告,3000.00,,,,,,
收入,政府补贴,老旧小区物业补贴,5000.00,街道拨付,,,,,
支出,人员工资,,52000.00,,,,,,
支出,保洁,保洁外包,15000.00,,,,,,
支出,绿化,,4200.50,,,,,,
支出,秩序维护,门岗,18000.00,,,,,,
支出,维修养护,电梯维保,6500.00,,,,,,
支出,公共能耗,公共照明水电,7300.00,,,,,,
支出,管理费用,,3100.00,,,,,,
收费,,,,,1栋,120,100,49000.00,42500.00
收费,,,,,2栋,120,105,49000.00,44000.00
结余,,,20000.00,,,,,,
"""
