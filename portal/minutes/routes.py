"""Minutes pages: the compound hub tab (search by decision), a meeting's record and its
revisions, and the committee's desk and forms (draft → submit → a second member confirms)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.errors import DomainError, InvalidTransition
from portal.extensions import db
from portal.htmx import render_page_or_fragment
from portal.minutes import bp, rules, service
from portal.minutes.forms import (
    BLANK_DECISION_ROWS,
    ConfirmForm,
    CorrectionForm,
    MinutesForm,
    ReturnForm,
)
from portal.minutes.labels import KIND_LABELS, STATUS_LABELS
from portal.models_base import utcnow
from portal.notices.paging import Page
from portal.notices.text import render_plain
from portal.places import service as places
from portal.places import tabs


def _actor():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _files(form_field) -> list[tuple[str, bytes]]:
    return [(f.filename, f.read()) for f in (form_field.data or []) if f and f.filename]


# ---- the hub tab ---------------------------------------------------------------------------


@dataclass
class MinutesListing:
    compound: object
    page: Page
    q: str
    can_record: bool

    def url(self, **changes) -> str:
        params = {"q": self.q, **changes}
        params = {k: v for k, v in params.items() if v}
        return url_for("places.compound", code=self.compound.code, tab="minutes", **params)


@tabs.register("minutes", audience=lambda compound, viewer: (service.can_record(viewer, compound),))
def compound_tab(compound, viewer, args) -> dict:
    q = args.get("q", "").strip()[:50]
    pagination = service.public_list(
        compound,
        query=q,
        page=args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return {
        "ml": MinutesListing(compound, pagination, q, service.can_record(viewer, compound)),
        "minutes_kinds": KIND_LABELS,
    }


# ---- reading ---------------------------------------------------------------------------------


def _record_page(minutes, revision, **extra):
    actor = _actor()
    staff = service.is_staff_of(actor, minutes, revision.kind)
    names = revision.names
    open_revision = minutes.open_revision if staff else None
    return render_template(
        "minutes/detail.html",
        minutes=minutes,
        revision=revision,
        compound=minutes.compound,
        staff=staff,
        names=names if staff else [],
        masked_names=names,
        agenda_html=render_plain(revision.agenda),
        minutes_kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
        published=[r for r in minutes.revisions if r.status == "published"],
        open_revision=open_revision,
        confirmable=open_revision is not None and service.can_confirm(actor, open_revision),
        render_text=render_plain,
        can_correct=service.can_correct(actor, minutes),
        is_author=actor is not None and revision.author_id == actor.id,
        confirm=ConfirmForm(),
        return_form=extra.pop("return_form", None) or ReturnForm(),
        **extra,
    )


@bp.get("/minutes/<int:minutes_id>")
def detail(minutes_id: int):
    minutes = service.get_minutes(minutes_id)
    revision = service.revision_for(_actor(), minutes)
    return _record_page(minutes, revision)


@bp.get("/minutes/<int:minutes_id>/revisions/<int:number>")
def revision(minutes_id: int, number: int):
    minutes = service.get_minutes(minutes_id)
    rev = service.revision_for(_actor(), minutes, number)
    return _record_page(minutes, rev)


# ---- recording -----------------------------------------------------------------------------


def _record_of(form: MinutesForm) -> service.Record:
    return service.Record(
        kind=form.kind.data or "",
        meeting_date=form.meeting_date.data,
        place=form.place.data or "",
        attendees_count=form.attendees_count.data or 0,
        attendee_names=form.attendee_names.data or "",
        agenda=form.agenda.data or "",
        decisions=[
            rules.DecisionInput(
                text=entry.form.text.data or "",
                votes_for=entry.form.votes_for.data or 0,
                votes_against=entry.form.votes_against.data or 0,
                votes_abstain=entry.form.votes_abstain.data or 0,
            )
            for entry in form.decisions
        ],
    )


def _apply_problems(form, e: DomainError) -> None:
    problems = getattr(e, "problems", None) or [("", None, e.message)]
    for name, index, message in problems:
        if name == "decision" and index is not None and index < len(form.decisions.entries):
            form.decisions.entries[index].form.text.errors.append(message)
            form.form_errors.append(_("Decision %(n)d: %(problem)s", n=index + 1, problem=message))
        elif name and name != "decisions" and hasattr(form, name):
            getattr(form, name).errors.append(message)
        else:
            form.form_errors.append(message)


def _form_page(form, compound, minutes=None, revision=None, status=200):
    actor = _actor()
    kinds = service.kinds_for(actor, compound)
    form.kind.choices = [(k, KIND_LABELS[k]) for k in kinds]
    return render_template(
        "minutes/form.html",
        form=form,
        compound=compound,
        minutes=minutes,
        revision=revision,
        confirm=ConfirmForm(),
        max_mb=service.uploads.MAX_BYTES // 2**20,
        max_files=service.uploads.MAX_FILES,
    ), status


def _limit_kinds(form, compound) -> None:
    kinds = service.kinds_for(_actor(), compound)
    form.kind.choices = [(k, KIND_LABELS[k]) for k in kinds]
    if request.method == "GET" and form.kind.data not in kinds and kinds:
        form.kind.data = kinds[0]


def _wants_row() -> bool:
    return request.method == "POST" and "add_decision" in request.form


@bp.route("/compounds/<code>/minutes/new", methods=["GET", "POST"])
@login_required
def new(code: str):
    compound = places.get_compound(code)
    actor = _actor()
    if not service.can_record(actor, compound):
        abort(403)
    form = MinutesForm()
    _limit_kinds(form, compound)
    if _wants_row():
        form.decisions.append_entry()
        return _form_page(form, compound)
    if form.validate_on_submit():
        try:
            minutes = service.create(
                actor, compound, _record_of(form), _files(form.attachments), now=utcnow()
            )
            if request.form.get("then") == "submit":
                service.submit(actor, minutes.revisions[0], now=utcnow())
        except DomainError as e:
            if e.status == 403:
                raise
            db.session.rollback()
            _apply_problems(form, e)
        else:
            db.session.commit()
            _flash_saved(request.form.get("then") == "submit")
            return redirect(url_for("minutes.detail", minutes_id=minutes.id))
    return _form_page(form, compound, status=422 if form.errors else 200)


def _flash_saved(submitted: bool) -> None:
    if submitted:
        flash(
            _("Submitted. Another committee member must now confirm the minutes to publish them."),
            "success",
        )
    else:
        flash(_("The draft is saved. Only the committee sees it."), "success")


def _open_revision_for_edit(minutes):
    revision = minutes.open_revision
    if revision is None or not service.can_edit(_actor(), revision):
        abort(403)
    return revision


@bp.route("/minutes/<int:minutes_id>/edit", methods=["GET", "POST"])
@login_required
def edit(minutes_id: int):
    minutes = service.get_minutes(minutes_id)
    revision = _open_revision_for_edit(minutes)
    actor = _actor()
    if request.method == "GET":
        form = MinutesForm(
            data={
                "kind": revision.kind,
                "meeting_date": revision.meeting_date,
                "place": revision.place,
                "attendees_count": revision.attendees_count,
                "attendee_names": revision.attendee_names,
                "agenda": revision.agenda,
                "decisions": [
                    {
                        "text": d.text,
                        "votes_for": d.votes_for,
                        "votes_against": d.votes_against,
                        "votes_abstain": d.votes_abstain,
                    }
                    for d in revision.decisions
                ]
                + [{} for _ in range(BLANK_DECISION_ROWS - 1)],
            }
        )
    else:
        form = MinutesForm()
    _limit_kinds(form, minutes.compound)
    if _wants_row():
        form.decisions.append_entry()
        return _form_page(form, minutes.compound, minutes, revision)
    if form.validate_on_submit():
        try:
            service.update_draft(
                actor, revision, _record_of(form), _files(form.attachments), now=utcnow()
            )
            if request.form.get("then") == "submit":
                service.submit(actor, revision, now=utcnow())
        except DomainError as e:
            if e.status in (403, 409):
                raise
            db.session.rollback()
            _apply_problems(form, e)
        else:
            db.session.commit()
            _flash_saved(request.form.get("then") == "submit")
            return redirect(url_for("minutes.detail", minutes_id=minutes.id))
    return _form_page(form, minutes.compound, minutes, revision, status=422 if form.errors else 200)


def _posted(minutes_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    minutes = service.get_minutes(minutes_id)
    if minutes.open_revision is None:
        raise InvalidTransition(_("This cannot be done at this stage of the minutes."))
    return minutes, minutes.open_revision


@bp.post("/minutes/<int:minutes_id>/attachments/<int:attachment_id>/remove")
@login_required
def remove_attachment(minutes_id: int, attachment_id: int):
    minutes, revision = _posted(minutes_id)
    service.remove_attachment(_actor(), revision, attachment_id)
    db.session.commit()
    flash(_("The attachment has been removed."), "info")
    return redirect(url_for("minutes.edit", minutes_id=minutes.id))


@bp.post("/minutes/<int:minutes_id>/submit")
@login_required
def submit(minutes_id: int):
    minutes, revision = _posted(minutes_id)
    service.submit(_actor(), revision, now=utcnow())
    db.session.commit()
    _flash_saved(True)
    return redirect(url_for("minutes.detail", minutes_id=minutes.id))


@bp.post("/minutes/<int:minutes_id>/confirm")
@login_required
def confirm(minutes_id: int):
    minutes, revision = _posted(minutes_id)
    service.confirm(_actor(), revision, now=utcnow())
    db.session.commit()
    flash(_("Confirmed: the minutes are published."), "success")
    return redirect(url_for("minutes.detail", minutes_id=minutes.id))


@bp.post("/minutes/<int:minutes_id>/return")
@login_required
def return_to_author(minutes_id: int):
    minutes = service.get_minutes(minutes_id)
    revision = minutes.open_revision
    if revision is None:
        raise InvalidTransition(_("This cannot be done at this stage of the minutes."))
    form = ReturnForm()
    actor = _actor()
    if not service.can_confirm(actor, revision):
        abort(403)
    if not form.validate_on_submit():
        return _record_page(minutes, revision, return_form=form), 422
    service.return_to_author(actor, revision, form.note.data, now=utcnow())
    db.session.commit()
    flash(_("Returned to the author with your note."), "info")
    return redirect(url_for("minutes.detail", minutes_id=minutes.id))


@bp.route("/minutes/<int:minutes_id>/correct", methods=["GET", "POST"])
@login_required
def correct(minutes_id: int):
    minutes = service.get_minutes(minutes_id)
    actor = _actor()
    if not service.can_correct(actor, minutes):
        abort(403)
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            service.start_correction(actor, minutes, form.reason.data, now=utcnow())
        except DomainError as e:
            if e.status in (403, 409):
                raise
            form.reason.errors.append(e.message)
        else:
            db.session.commit()
            flash(
                _("A corrected version is drafted. Change what is wrong, then submit it."), "info"
            )
            return redirect(url_for("minutes.edit", minutes_id=minutes.id))
    return render_template(
        "minutes/correct.html",
        form=form,
        minutes=minutes,
        revision=minutes.published,
        compound=minutes.compound,
        minutes_kinds=KIND_LABELS,
    ), (422 if form.errors else 200)


@bp.get("/minutes/desk")
@login_required
def desk():
    actor = _actor()
    if not service.may_use_desk(actor):
        abort(403)
    return render_page_or_fragment(
        "minutes/desk.html",
        "minutes/_desk.html",
        desk=service.desk(actor),
        minutes_kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
    )
