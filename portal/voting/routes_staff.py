"""Staff pages of elections: the election desk, the draft and control room, paper and proxy
ballots, the printable ballot, closing, certifying, the contract, and the street dashboard.

Every rule is the service's: these views check the form, call the service, commit, and
redirect (or return the fragment htmx asked for). Only those who run an election
(service.may_run) see its staff pages; others get 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import security
from portal.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from portal.extensions import db
from portal.htmx import is_htmx, render_page_or_fragment
from portal.i18n import current_lang
from portal.models_base import utcnow
from portal.pagecache import shared_view
from portal.uploads import service as uploads
from portal.voting import bp, dashboard, ledger, service, tally, workflow
from portal.voting.forms_staff import (
    RULE_EXPLANATIONS,
    CandidateForm,
    ConfirmForm,
    ContractForm,
    DiscardForm,
    DraftForm,
    NewElectionForm,
    PaperForm,
    ResolveForm,
)
from portal.voting.labels import (
    CHANNEL_LABELS,
    MATTER_LABELS,
    OUTCOME_LABELS,
    PHASE_LABELS,
    RULE_LABELS,
    SERVICE_LEVELS,
    YES_NO_LABELS,
    option_label,
)

UNITS_PER_PAGE = 50


# ---- template helpers ---------------------------------------------------------------------


@bp.app_template_filter("staff_span")
def staff_span(delta: timedelta) -> str:
    """A duration in words, to the hour (to the minute under a day): "3 days 4 hours"."""
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(num)d day", "%(num)d days", days))
        if hours:
            parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
    elif hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
        if minutes:
            parts.append(ngettext("%(num)d minute", "%(num)d minutes", minutes))
    elif minutes:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", minutes))
    else:
        return _("less than a minute")
    return ("" if current_lang().startswith("zh") else " ").join(parts)


@bp.app_template_filter("staff_date")
def staff_date(value) -> str:
    """A calendar date (contracts): 2026-03-31 in Chinese, 31 Mar 2026 in English."""
    if value is None:
        return ""
    return format_date(value, "yyyy-MM-dd" if current_lang().startswith("zh") else "d MMM yyyy")


@bp.app_template_filter("staff_percent")
def staff_percent(value) -> str:
    return tally.format_percent(value)


def _labels() -> dict:
    return {
        "phases": PHASE_LABELS,
        "matters": MATTER_LABELS,
        "rules": RULE_LABELS,
        "rule_help": RULE_EXPLANATIONS,
        "channels": CHANNEL_LABELS,
        "outcomes": OUTCOME_LABELS,
        "levels": SERVICE_LEVELS,
        "option_label": option_label,
        "format_receipt": ledger.format_receipt,
    }


# ---- helpers ------------------------------------------------------------------------------


def _actor():
    return current_user._get_current_object()


def _runner_election(election_id: int):
    """The election, for those who run it; 404 when unknown, 403 for anyone else."""
    election = service.get_election(election_id)
    if not service.may_run(_actor(), election.compound):
        abort(403)
    return election


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int))


def _upload(file_storage, folder: str) -> str | None:
    """Store an uploaded document (checked by content); None when no file was chosen."""
    if file_storage is None or not getattr(file_storage, "filename", ""):
        return None
    return uploads.store(file_storage.read(), folder)


def _forget_upload(key: str | None) -> None:
    if not key:
        return
    try:
        path, _mime = uploads.open_path(key)
    except NotFound:
        return
    path.unlink(missing_ok=True)


def _send_document(key: str | None, name: str):
    if not key:
        abort(404)
    path, mimetype = uploads.open_path(key)
    return send_file(
        path,
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"{name}{path.suffix}",
        max_age=0,
    )


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str


def _draft_checks(election, now, cal) -> list[Check]:
    """What announcing needs, as the service will check it, in plain words."""
    checks = []
    if election.matter == "hire":
        n = len(election.options)
        checks.append(
            Check(
                n > 0,
                ngettext("%(num)d candidate company.", "%(num)d candidate companies.", n)
                if n
                else _("Add at least one candidate company before announcing."),
            )
        )
    units = election.compound.unit_count
    checks.append(
        Check(
            units > 0,
            ngettext(
                "The roster has %(num)d unit; the roll will be frozen from it.",
                "The roster has %(num)d units; the roll will be frozen from it.",
                units,
            )
            if units
            else _("The compound has no units on its roster yet. Import the roster first."),
        )
    )
    if election.opens_at is None or election.closes_at is None:
        checks.append(Check(False, _("Set when voting opens and closes before announcing.")))
    else:
        try:
            workflow.check_schedule(now, election.opens_at, election.closes_at, cal)
        except workflow.ScheduleError as e:
            checks.append(Check(False, service.schedule_message(e)))
        else:
            checks.append(
                Check(
                    True,
                    _("Announced now, the notice period and the voting window are lawful."),
                )
            )
    return checks


def _election_page(
    election,
    *,
    status: int = 200,
    draft_form=None,
    candidate_form=None,
    resolve_forms=None,
):
    actor = _actor()
    now = utcnow()
    cal = service.calendar()
    phase = service.phase_of(election, now)
    ctx = {
        "election": election,
        "phase": phase,
        "now": now,
        "cal": cal,
        "deadline": dashboard.deadline(election, now, cal),
        "can_sign": dashboard.may_sign(actor, election),
        "confirm": ConfirmForm(),
        **_labels(),
    }
    if phase == "draft":
        if draft_form is None:
            draft_form = DraftForm(obj=election)
            draft_form.fill_schedule(election)
        if candidate_form is None:
            candidate_form = CandidateForm(formdata=None)
        companies = dashboard.companies()
        candidate_form.company.choices = [(0, _("Not in the list"))] + [
            (c.id, c.name) for c in companies
        ]
        ctx.update(
            draft_form=draft_form,
            candidate_form=candidate_form,
            checks=_draft_checks(election, now, cal),
            earliest=now + timedelta(days=cal.notice_days),
        )
    else:
        objections = dashboard.objections(election)
        forms = resolve_forms or {}
        ctx.update(
            turnout=service.turnout(election),
            versions=service.roll_versions(election),
            objections=objections,
            resolve_forms={o.id: forms.get(o.id) or ResolveForm(formdata=None) for o in objections},
            result=dashboard.result_view(election),
            contract=dashboard.contract_of(election) if election.status == "signed" else None,
            # A hint for the page only (the service decides): a company was elected or renewed.
            signable=bool(
                (election.result or {}).get("outcome") == "decided"
                and election.matter != "dismiss"
                and (election.matter != "renew" or election.result.get("winner") == "yes")
            ),
            due=workflow.result_due(election.closes_at, cal) if election.closes_at else None,
            late=bool(
                election.closes_at
                and phase in ("ended", "closed", "certified", "signed")
                and workflow.result_late(election.closes_at, election.certified_at, now, cal)
            ),
            challenge_until=(
                workflow.challenge_until(election.certified_at, cal)
                if election.certified_at
                else None
            ),
        )
    return render_template("voting/staff_election.html", **ctx), status


# ---- the election desk --------------------------------------------------------------------


def _desk(form, status: int = 200):
    actor = _actor()
    now = utcnow()
    cal = service.calendar()
    pagination = dashboard.desk_elections(actor, _page(), current_app.config["PAGE_SIZE"])
    return render_page_or_fragment(
        "voting/staff_list.html",
        "voting/_staff_elections.html" if request.method == "GET" else "voting/staff_list.html",
        status,
        form=form,
        pagination=pagination,
        election_phases={e.id: service.phase_of(e, now) for e in pagination.items},
        deadlines={e.id: dashboard.deadline(e, now, cal) for e in pagination.items},
        renewals=dashboard.renewal_reminders(actor, now),
        now=now,
        cal=cal,
        earliest=now + timedelta(days=cal.notice_days),
        **_labels(),
    )


@bp.route("/staff/elections", methods=["GET", "POST"])
@login_required
def staff_list():
    actor = _actor()
    compounds = dashboard.runnable_compounds(actor)
    if not compounds:
        abort(403)
    form = NewElectionForm()
    form.compound.choices = [(0, _("Choose a compound"))] + [
        (c.id, f"{c.community.name} · {c.name}") for c in compounds
    ]
    if request.method == "GET":
        wanted = request.args.get("compound", type=int)
        if len(compounds) == 1:
            form.compound.data = compounds[0].id
        elif any(c.id == wanted for c in compounds):
            form.compound.data = wanted
        if request.args.get("matter") in MATTER_LABELS:
            form.matter.data = request.args["matter"]
    if form.is_submitted():
        valid = form.validate()
        valid = form.validate_schedule(utcnow()) and valid
        compound = next((c for c in compounds if c.id == form.compound.data), None)
        if compound is None:
            form.compound.errors.append(_("Choose the compound where the owners vote."))
            valid = False
        if valid:
            opens_at, closes_at = form.schedule()
            election = service.create_election(
                actor,
                compound,
                title=form.title.data,
                matter=form.matter.data,
                rule=form.rule.data,
                description=form.description.data or "",
                opens_at=opens_at,
                closes_at=closes_at,
            )
            db.session.commit()
            flash(_("The draft has been saved. Add the candidates, then announce it."), "success")
            return redirect(url_for("voting.staff_election", election_id=election.id))
        return _desk(form, 422)
    return _desk(form)


# ---- the draft and the control room ---------------------------------------------------------


@bp.get("/staff/elections/<int:election_id>")
@login_required
def staff_election(election_id: int):
    return _election_page(_runner_election(election_id))


@bp.post("/staff/elections/<int:election_id>/edit")
@login_required
def staff_edit(election_id: int):
    election = _runner_election(election_id)
    form = DraftForm()
    valid = form.validate()
    valid = form.validate_schedule(utcnow()) and valid
    if not valid:
        return _election_page(election, status=422, draft_form=form)
    opens_at, closes_at = form.schedule()
    service.update_draft(
        _actor(),
        election,
        utcnow(),
        title=form.title.data,
        description=form.description.data or "",
        rule=form.rule.data,
        opens_at=opens_at,
        closes_at=closes_at,
    )
    db.session.commit()
    flash(_("The draft has been saved."), "success")
    return redirect(url_for("voting.staff_election", election_id=election.id))


@bp.post("/staff/elections/<int:election_id>/candidates")
@login_required
def staff_add_candidate(election_id: int):
    election = _runner_election(election_id)
    form = CandidateForm()
    companies = {c.id: c for c in dashboard.companies()}
    valid = form.validate()
    company = companies.get(form.company.data or 0)
    if form.company.data and company is None:
        form.company.errors.append(_("Choose a company from the list."))
        valid = False
    label = form.label.data or (company.name if company else "")
    if not label:
        form.label.errors.append(_("Give the name that owners will read on the ballot."))
        valid = False
    if not valid:
        return _election_page(election, status=422, candidate_form=form)
    try:
        document = _upload(form.document.data, "bids")
    except ValidationFailed as e:
        form.document.errors.append(e.message)
        return _election_page(election, status=422, candidate_form=form)
    option = service.add_candidate(
        _actor(),
        election,
        utcnow(),
        label=label,
        company=company,
        fee_per_m2=form.fee_per_m2.data,
        service_level=form.service_level.data or None,
        commitments=form.commitments.data or "",
        document=document,
    )
    db.session.commit()
    flash(_("Candidate %(key)s added: %(label)s.", key=option.key, label=option.label), "success")
    return redirect(url_for("voting.staff_election", election_id=election.id) + "#candidates")


@bp.post("/staff/elections/<int:election_id>/candidates/<int:option_id>/remove")
@login_required
def staff_remove_candidate(election_id: int, option_id: int):
    election = _runner_election(election_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.remove_candidate(_actor(), election, utcnow(), option_id)
    db.session.commit()
    flash(_("The candidate has been removed."), "info")
    return redirect(url_for("voting.staff_election", election_id=election.id) + "#candidates")


@bp.route("/staff/elections/<int:election_id>/announce", methods=["GET", "POST"])
@login_required
def staff_announce(election_id: int):
    election = _runner_election(election_id)
    now = utcnow()
    cal = service.calendar()
    form = ConfirmForm()
    error = None
    if service.phase_of(election, now) != "draft":
        return redirect(url_for("voting.staff_election", election_id=election.id))
    if form.validate_on_submit():
        try:
            version = service.announce(_actor(), election, now)
        except ValidationFailed as e:
            db.session.rollback()
            error = e.message
        else:
            db.session.commit()
            flash(
                _(
                    "The election is announced. The roll is frozen: %(owners)d owners, "
                    "fingerprint %(fingerprint)s.",
                    owners=version.owners,
                    fingerprint=version.fingerprint,
                ),
                "success",
            )
            return redirect(url_for("voting.staff_election", election_id=election.id))
    elif request.method == "POST":
        abort(400)
    return render_template(
        "voting/staff_announce.html",
        election=election,
        form=form,
        error=error,
        checks=_draft_checks(election, now, cal),
        cal=cal,
        **_labels(),
    ), (422 if error else 200)


@bp.get("/staff/elections/<int:election_id>/turnout")
@login_required
def staff_turnout(election_id: int):
    election = _runner_election(election_id)
    if not is_htmx():
        return redirect(url_for("voting.staff_election", election_id=election.id) + "#turnout")
    resp = make_response(
        render_template(
            "voting/_staff_turnout.html",
            election=election,
            phase=service.phase_of(election, utcnow()),
            turnout=service.turnout(election),
        )
    )
    resp.vary.add("HX-Request")
    return resp


@bp.post("/staff/elections/<int:election_id>/objections/<int:objection_id>/resolve")
@login_required
def staff_resolve_objection(election_id: int, objection_id: int):
    election = _runner_election(election_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        return _election_page(election, status=422, resolve_forms={objection_id: form})
    upheld = form.decision.data == "uphold"
    try:
        version = service.resolve_objection(
            _actor(),
            election,
            objection_id,
            utcnow(),
            upheld=upheld,
            resolution=form.resolution.data,
            exclude_unit=upheld and form.exclude_unit.data,
        )
    except ValidationFailed as e:
        db.session.rollback()
        form.resolution.errors.append(e.message)
        return _election_page(election, status=422, resolve_forms={objection_id: form})
    db.session.commit()
    if version is not None:
        flash(
            _(
                "Objection upheld. The roll is frozen again (version %(version)d), "
                "new fingerprint %(fingerprint)s.",
                version=version.version,
                fingerprint=version.fingerprint,
            ),
            "success",
        )
    else:
        flash(_("Objection dismissed. The resident will see your reason."), "info")
    return redirect(url_for("voting.staff_election", election_id=election.id) + "#objections")


# ---- paper and proxy ballots --------------------------------------------------------------


def _paper_form(election, formdata=True) -> PaperForm:
    form = PaperForm() if formdata else PaperForm(formdata=None)
    form.choice.choices = [(o.key, option_label(o)) for o in election.options] + [
        (tally.ABSTAIN, _("Abstain"))
    ]
    return form


def _entry_context(election, form=None) -> dict:
    """The building chooser, the entry form and the building's units (one fragment)."""
    buildings = dashboard.roll_buildings(election)
    building = request.values.get("building", "")
    if building not in buildings:
        building = ""
    if form is None:
        form = _paper_form(election, formdata=False)
    form.building.data = building
    units = (
        dashboard.building_units(
            election, building, max(1, request.args.get("upage", 1, type=int)), UNITS_PER_PAGE
        )
        if building
        else None
    )
    form.unit.choices = [(0, _("Choose the unit"))] + (
        [(entry.unit_id, entry.unit_label) for entry, state in units.items if state is None]
        if units is not None
        else []
    )
    return {
        "election": election,
        "phase": service.phase_of(election, utcnow()),
        "form": form,
        "buildings": buildings,
        "building": building,
        "units": units,
        **_labels(),
    }


def _paper_page(election, form=None, *, status: int = 200, error=None, discard_forms=None):
    from portal.voting.models import Ballot

    entered = None
    entered_id = request.args.get("entered", type=int)
    if entered_id:
        ballot = db.session.get(Ballot, entered_id)
        if ballot is not None and ballot.election_id == election.id:
            entered = dashboard.pending_rows(election, [ballot])[0]
    return render_template(
        "voting/staff_paper.html",
        error=error,
        pending=dashboard.pending_page(election, _page(), current_app.config["PAGE_SIZE"]),
        entered=entered,
        discard_forms=discard_forms or {},
        confirm=ConfirmForm(),
        **_entry_context(election, form),
    ), status


@bp.route("/staff/elections/<int:election_id>/paper", methods=["GET", "POST"])
@login_required
def staff_paper(election_id: int):
    election = _runner_election(election_id)
    if election.status == "draft":
        return redirect(url_for("voting.staff_election", election_id=election.id))
    if request.method == "GET":
        return _paper_page(election)
    form = _paper_form(election)
    if not form.validate_on_submit():
        return _paper_page(election, form, status=422)
    building = form.building.data or ""
    entry = None
    if form.unit.data:
        entry = dashboard.roll_entry(election, form.unit.data)
    elif form.room.data and building:
        entry = dashboard.roll_entry_by_room(election, building, form.room.data)
    if entry is None:
        target = form.room if form.room.data else form.unit
        target.errors.append(
            _("No such unit on this election's roll. Choose the building, then the unit.")
        )
        return _paper_page(election, form, status=422)
    channel = form.channel.data
    key = None
    if channel == "proxy":
        if not form.proxy_holder.data:
            form.proxy_holder.errors.append(_("Give the name of the person holding the proxy."))
        try:
            key = _upload(form.proxy_document.data, "proxy")
        except ValidationFailed as e:
            form.proxy_document.errors.append(e.message)
        else:
            if key is None:
                form.proxy_document.errors.append(
                    _("Attach the signed authorisation (a scan or a photo).")
                )
        if form.errors:
            _forget_upload(key)
            return _paper_page(election, form, status=422)
    try:
        ballot = service.enter_paper(
            _actor(),
            election.id,
            entry.unit_id,
            form.choice.data,
            utcnow(),
            channel=channel,
            proxy_holder=form.proxy_holder.data if channel == "proxy" else None,
            proxy_document=key,
        )
        db.session.commit()
    except (service.AlreadyVoted, InvalidTransition, ValidationFailed) as e:
        db.session.rollback()
        _forget_upload(key)
        return _paper_page(election, form, status=e.status, error=e.message)
    return redirect(
        url_for("voting.staff_paper", election_id=election.id, building=building, entered=ballot.id)
        + "#entered"
    )


def _after_paper_action(election, ballot_id, *, done=None, message=None, category="info"):
    """htmx: the queue row alone (with the outcome or the refusal); without JS: back to the
    queue with the message flashed."""
    if is_htmx():
        row = None
        if done is None:
            from portal.voting.models import Ballot

            ballot = db.session.get(Ballot, ballot_id)
            if ballot is not None and ballot.election_id == election.id:
                row = dashboard.pending_rows(election, [ballot])[0]
        return render_template(
            "voting/_staff_paper_row.html",
            election=election,
            row=row,
            ballot_id=ballot_id,
            done=done,
            message=message,
            category=category,
            discard_form=None,
            confirm=ConfirmForm(),
            **_labels(),
        )
    if message:
        flash(message, category)
    return redirect(url_for("voting.staff_paper", election_id=election.id) + "#pending")


@bp.post("/staff/elections/<int:election_id>/paper/<int:ballot_id>/confirm")
@login_required
def staff_confirm_paper(election_id: int, ballot_id: int):
    election = _runner_election(election_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ballot = service.confirm_paper(_actor(), election.id, ballot_id, utcnow())
    except (PermissionDenied, Conflict, InvalidTransition) as e:
        db.session.rollback()
        return _after_paper_action(election, ballot_id, message=e.message, category="error")
    db.session.commit()
    return _after_paper_action(
        election,
        ballot_id,
        done="confirmed",
        message=_(
            "Confirmed: the ballot with receipt %(receipt)s now counts.",
            receipt=ledger.format_receipt(ballot.receipt),
        ),
        category="success",
    )


@bp.post("/staff/elections/<int:election_id>/paper/<int:ballot_id>/discard")
@login_required
def staff_discard_paper(election_id: int, ballot_id: int):
    election = _runner_election(election_id)
    form = DiscardForm()
    if not form.validate_on_submit():
        if is_htmx():
            from portal.voting.models import Ballot

            ballot = db.session.get(Ballot, ballot_id)
            if ballot is None or ballot.election_id != election.id:
                abort(404)
            return render_template(
                "voting/_staff_paper_row.html",
                election=election,
                row=dashboard.pending_rows(election, [ballot])[0],
                ballot_id=ballot_id,
                done=None,
                message=None,
                discard_form=form,
                confirm=ConfirmForm(),
                **_labels(),
            )
        return _paper_page(election, status=422, discard_forms={ballot_id: form})
    try:
        service.discard_paper(_actor(), election.id, ballot_id, form.reason.data)
    except (Conflict, ValidationFailed) as e:
        db.session.rollback()
        return _after_paper_action(election, ballot_id, message=e.message, category="error")
    db.session.commit()
    return _after_paper_action(
        election,
        ballot_id,
        done="discarded",
        message=_("The entry has been discarded. Enter the ballot again if it was wrong."),
    )


@bp.get("/staff/elections/<int:election_id>/paper/<int:ballot_id>/document")
@login_required
def staff_proxy_document(election_id: int, ballot_id: int):
    election = _runner_election(election_id)
    from portal.voting.models import Ballot

    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.election_id != election.id:
        abort(404)
    return _send_document(ballot.proxy_document, f"proxy-{election.id}-{ballot.id}")


@bp.get("/staff/elections/<int:election_id>/ballot/<int:unit_id>/print")
@login_required
def print_ballot(election_id: int, unit_id: int):
    election = _runner_election(election_id)
    if election.status == "draft":
        raise NotFound(_("The roll is frozen when the election is announced; print after that."))
    entry = dashboard.roll_entry(election, unit_id)
    if entry is None:
        abort(404)
    return render_template(
        "voting/print_ballot.html",
        election=election,
        entry=entry,
        abstain=tally.ABSTAIN,
        yes_no=YES_NO_LABELS,
        **_labels(),
    )


# ---- closing, certifying, the contract ----------------------------------------------------


@bp.route("/staff/elections/<int:election_id>/close", methods=["GET", "POST"])
@login_required
def staff_close(election_id: int):
    election = _runner_election(election_id)
    form = ConfirmForm()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            result = service.close(_actor(), election.id, utcnow())
        except InvalidTransition as e:
            db.session.rollback()
            error = e.message
        else:
            db.session.commit()
            flash(
                _(
                    "The count is recorded: %(outcome)s. Check it, then certify the result.",
                    outcome=OUTCOME_LABELS[result.outcome],
                ),
                "success",
            )
            return redirect(url_for("voting.staff_certify", election_id=election.id))
    now = utcnow()
    return render_template(
        "voting/staff_close.html",
        election=election,
        phase=service.phase_of(election, now),
        turnout=service.turnout(election),
        form=form,
        error=error,
        now=now,
        **_labels(),
    ), (409 if error else 200)


@bp.route("/staff/elections/<int:election_id>/certify", methods=["GET", "POST"])
@login_required
def staff_certify(election_id: int):
    election = _runner_election(election_id)
    form = ConfirmForm()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            service.certify(_actor(), election.id, utcnow())
        except InvalidTransition as e:
            db.session.rollback()
            error = e.message
        else:
            db.session.commit()
            flash(_("The result is certified and published."), "success")
            return redirect(url_for("voting.staff_election", election_id=election.id))
    now = utcnow()
    cal = service.calendar()
    return render_template(
        "voting/staff_certify.html",
        election=election,
        phase=service.phase_of(election, now),
        result=dashboard.result_view(election),
        form=form,
        error=error,
        due=workflow.result_due(election.closes_at, cal) if election.closes_at else None,
        late=bool(
            election.closes_at
            and workflow.result_late(election.closes_at, election.certified_at, now, cal)
        ),
        now=now,
        **_labels(),
    ), (409 if error else 200)


def _contract_form(election) -> ContractForm:
    form = ContractForm()
    if request.method == "GET":
        winner = (election.result or {}).get("winner")
        option = next((o for o in election.options if o.key == winner), None)
        if option is not None and election.matter == "hire":
            form.fee_per_m2.data = option.fee_per_m2
            form.service_level.data = option.service_level
            form.commitments.data = option.commitments
    return form


@bp.route("/staff/elections/<int:election_id>/contract", methods=["GET", "POST"])
@login_required
def staff_contract(election_id: int):
    election = _runner_election(election_id)
    actor = _actor()
    if not dashboard.may_sign(actor, election):
        raise PermissionDenied(_("The residents' committee (the community secretary) signs."))
    if election.status == "signed":
        return redirect(url_for("voting.staff_election", election_id=election.id) + "#contract")
    if election.status != "certified":
        flash(_("The contract can be recorded once the result is certified."), "info")
        return redirect(url_for("voting.staff_election", election_id=election.id))
    form = _contract_form(election)
    error = None
    status = 200
    if form.validate_on_submit():
        key = None
        try:
            key = _upload(form.document.data, "contract")
        except ValidationFailed as e:
            form.document.errors.append(e.message)
            status = 422
        else:
            try:
                service.sign_contract(
                    actor,
                    election.id,
                    utcnow(),
                    starts_on=form.starts_on.data,
                    ends_on=form.ends_on.data,
                    fee_per_m2=form.fee_per_m2.data,
                    service_level=form.service_level.data,
                    commitments=form.commitments.data or "",
                    document=key,
                )
                db.session.commit()
            except (ValidationFailed, InvalidTransition) as e:
                db.session.rollback()
                _forget_upload(key)
                error, status = e.message, e.status
            else:
                flash(
                    _("The contract is recorded and published on the compound's page."),
                    "success",
                )
                return redirect(
                    url_for("voting.staff_election", election_id=election.id) + "#contract"
                )
    elif form.errors:
        status = 422
    return render_template(
        "voting/staff_contract.html",
        election=election,
        form=form,
        error=error,
        result=dashboard.result_view(election),
        **_labels(),
    ), status


@bp.get("/staff/elections/<int:election_id>/contract/document")
@login_required
def staff_contract_document(election_id: int):
    election = _runner_election(election_id)
    contract = dashboard.contract_of(election)
    if contract is None:
        abort(404)
    return _send_document(contract.document, f"contract-{election.id}")


# ---- the street dashboard ------------------------------------------------------------------


def _street_audience() -> tuple | None:
    """Officers who oversee the same streets see the same dashboard."""
    actor = _actor()
    if security.is_admin(actor):
        return ("admin",)  # every street
    streets = tuple(sorted(security.role_ids(actor, "street")))
    return (streets,) if streets else None


@bp.get("/staff/street")
@login_required
@shared_view(_street_audience)
def street_dashboard():
    actor = _actor()
    streets = dashboard.officer_streets(actor)
    if not streets:
        abort(403)
    code = request.args.get("street", "")
    street = next((s for s in streets if s.code == code), None)
    if street is None:
        if code:
            abort(403)  # not a street this officer oversees
        street = streets[0]
    filters = dashboard.StreetFilters(
        community=request.args.get("community", "")[:32],
        under_way=request.args.get("under_way") == "1",
        ending=request.args.get("ending") == "1",
        late=request.args.get("late") == "1",
    )
    now = utcnow()
    cal = service.calendar()
    pagination = dashboard.street_page(
        street, filters, _page(), current_app.config["PAGE_SIZE"], now, cal
    )
    return render_page_or_fragment(
        "voting/street_dashboard.html",
        "voting/_street_results.html",
        street=street,
        streets=streets,
        communities=dashboard.street_communities(street),
        filters=filters,
        pagination=pagination,
        now=now,
        cal=cal,
        show_street_choice=security.is_admin(actor) or len(streets) > 1,
        phase_of=lambda e: service.phase_of(e, now),
        **_labels(),
    )
