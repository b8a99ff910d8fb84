"""Election pages for residents and the public: the election page with its live turnout and
result, voting (choose → confirm → receipt), the owner's receipts, roll objections, the receipt
lookup and the two recount files. Every rule is the service's; these views only ask it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from portal.errors import DomainError, InvalidTransition, NotFound, PermissionDenied
from portal.extensions import db
from portal.htmx import is_htmx, render_page_or_fragment
from portal.models_base import utcnow
from portal.places import tabs
from portal.voting import bp, ledger, service, tally, verdict, workflow
from portal.voting.forms_public import (
    ConfirmVoteForm,
    ObjectionForm,
    ReceiptLookupForm,
    VoteForm,
)
from portal.voting.labels import (
    CHANNEL_LABELS,
    MATTER_LABELS,
    OUTCOME_LABELS,
    PHASE_LABELS,
    RULE_LABELS,
    SERVICE_LEVELS,
    option_label,
)
from portal.voting.models import Ballot, Election, LedgerEntry, Objection, RollEntry

# The turnout polls itself while ballots can still come in (online, or paper confirmed late).
LIVE_PHASES = ("open", "ended")
RESULT_PHASES = ("closed", "certified", "signed")
POLL_SECONDS = 10

QUESTIONS = {
    "hire": _l("Which property company do you choose?"),
    "renew": _l("Do you approve renewing the contract of the current property company?"),
    "dismiss": _l("Do you approve dismissing the current property company?"),
}
OBJECTION_STATES = {
    "open": _l("Waiting for an answer"),
    "upheld": _l("Upheld"),
    "dismissed": _l("Dismissed"),
}
LABELS = {
    "matters": MATTER_LABELS,
    "rules": RULE_LABELS,
    "phases": PHASE_LABELS,
    "channels": CHANNEL_LABELS,
    "outcomes": OUTCOME_LABELS,
    "levels": SERVICE_LEVELS,
    "questions": QUESTIONS,
    "objection_states": OBJECTION_STATES,
}


def _area_pct(part: Decimal, whole: Decimal) -> str:
    """An area share for display (one decimal); exact hundredths of a m² underneath."""
    return tally.format_percent(tally.ratio(int(part.scaleb(2)), int(whole.scaleb(2))))


# Helpers every election template may use.
HELPERS = {
    "labels": LABELS,
    "fmt_pct": tally.format_percent,
    "ratio": tally.ratio,
    "area_pct": _area_pct,
    "format_receipt": ledger.format_receipt,
}


def _actor():
    """The signed-in user, or None (the service treats both alike)."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def _load(election_id: int, actor) -> Election:
    """The election, or 404: drafts exist only for those who run them."""
    election = service.get_election(election_id)
    if not service.visible_to(actor, election):
        raise NotFound()
    return election


def _options(election: Election) -> list:
    """The options in the order voters read them: A, B, C … or Yes before No."""
    return sorted(election.options, key=lambda o: (o.key != "yes", o.key))


def _names(election: Election) -> dict[str, str]:
    names = {o.key: option_label(o) for o in election.options}
    names[tally.ABSTAIN] = _("Abstain")
    return names


# ---- read-only queries the service does not offer (yet) ------------------------------------


def _ledger_position(ballot: Ballot) -> int | None:
    return db.session.scalar(select(LedgerEntry.seq).where(LedgerEntry.ballot_id == ballot.id))


def _objections_by(user, election: Election) -> list[Objection]:
    if user is None:
        return []
    return list(
        db.session.scalars(
            select(Objection)
            .where(Objection.election_id == election.id, Objection.user_id == user.id)
            .options(joinedload(Objection.unit))
            .order_by(Objection.created_at)
        )
    )


def _objection_counts(election: Election) -> dict[str, int]:
    rows = db.session.execute(
        select(Objection.status, func.count(Objection.id))
        .where(Objection.election_id == election.id)
        .group_by(Objection.status)
    ).all()
    counts = {"open": 0, "upheld": 0, "dismissed": 0}
    counts.update({status: n for status, n in rows})
    return counts


def _is_verified_resident(user, election: Election) -> bool:
    """Any verified membership (owner, tenant, family) in the election's compound."""
    if user is None:
        return False
    from portal.accounts.models import Membership
    from portal.places.models import Building, Unit

    return bool(
        db.session.scalar(
            select(Membership.id)
            .join(Unit, Unit.id == Membership.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .where(
                Membership.user_id == user.id,
                Membership.status == "verified",
                Building.compound_id == election.compound_id,
            )
            .limit(1)
        )
    )


def _ballots_of_user(user) -> list[tuple[Ballot, Election]]:
    """Every ballot the user cast online, or that counts for a unit they verifiably own."""
    from portal.accounts.models import Membership

    owned = select(Membership.unit_id).where(
        Membership.user_id == user.id,
        Membership.status == "verified",
        Membership.relation == "owner",
    )
    on_roll = exists().where(
        RollEntry.election_id == Ballot.election_id,
        RollEntry.voter_key == Ballot.voter_key,
        RollEntry.unit_id.in_(owned),
    )
    return [
        (b, e)
        for b, e in db.session.execute(
            select(Ballot, Election)
            .join(Election, Election.id == Ballot.election_id)
            .where(or_(Ballot.user_id == user.id, on_roll))
            .options(joinedload(Election.compound))
            .order_by(Ballot.cast_at.desc(), Ballot.id.desc())
        ).all()
    ]


def _natural(text: str):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text)]


def _unit_choices(election: Election) -> list[SelectChoice]:
    """The units on the roll, grouped by building, for the objection form."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for e in service.roll_entries(election):
        if not e.excluded:
            groups.setdefault(e.building_name, []).append((e.unit_id, e.unit_label))
    choices = [SelectChoice(0, _("The roll in general (no particular unit)"))]
    for building in sorted(groups, key=_natural):
        choices += [
            SelectChoice(unit_id, label, optgroup=building)
            for unit_id, label in sorted(groups[building], key=lambda c: _natural(c[1]))
        ]
    return choices


# ---- hub tab ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubRow:
    election: Election
    phase: str


@tabs.register("elections", audience=lambda compound, viewer: (service.may_run(viewer, compound),))
def hub_context(compound, viewer, args=None, now: datetime | None = None) -> dict:
    """The compound hub's elections tab (templates/places/_tab_elections.html): the elections
    the viewer may see (drafts only for those who run them), newest first."""
    now = now or utcnow()
    rows = [
        HubRow(e, service.phase_of(e, now))
        for e in service.elections_of(compound)
        if service.visible_to(viewer, e)
    ]
    return {"elections": rows, "election_labels": LABELS, "option_name": option_label}


# ---- the election page ------------------------------------------------------------------------


@dataclass
class Lookup:
    asked: str
    valid: bool
    ballot: Ballot | None = None
    position: int | None = None


def _lookup(election: Election, text: str | None) -> tuple[ReceiptLookupForm, Lookup | None]:
    form = ReceiptLookupForm(request.args, meta={"csrf": False})
    if text is None:
        return form, None
    text = text.strip()[:40]
    if not form.validate():
        return form, None
    ballot = service.lookup_receipt(election, text)
    answer = Lookup(asked=text, valid=ledger.normalise_receipt(text) is not None, ballot=ballot)
    if ballot is not None:
        answer.position = _ledger_position(ballot)
    return form, answer


def _turnout_context(election: Election, now: datetime) -> dict:
    phase = service.phase_of(election, now)
    turnout = service.turnout(election)
    line = tally.quorum_shortfall(election.rule, turnout.electorate, tally.Totals(0, Decimal("0")))
    return {
        "election": election,
        "phase": phase,
        "live": phase in LIVE_PHASES,
        "turnout": turnout,
        "quorum_line": line,
        "poll_seconds": POLL_SECONDS,
        **HELPERS,
    }


def _result_context(election: Election, now: datetime) -> dict:
    cal = service.calendar()
    recorded = election.result
    result = (
        verdict.result_from_json(recorded) if recorded is not None else service.result_of(election)
    )
    names = _names(election)
    check = service.verify_cached(election)
    return {
        "result": result,
        "verdict": verdict.verdict(result, election.matter, names),
        "check": check,
        "late": workflow.result_late(election.closes_at, election.certified_at, now, cal),
        "names": names,
    }


def _page_context(election: Election, actor, now: datetime, objection_form=None) -> dict:
    cal = service.calendar()
    phase = service.phase_of(election, now)
    ctx: dict = {
        "election": election,
        "compound": election.compound,
        "phase": phase,
        "names": _names(election),
        "options": _options(election),
        "calendar": cal,
        "result_due": (
            workflow.result_due(election.closes_at, cal) if election.closes_at else None
        ),
        "challenge_until": (
            workflow.challenge_until(election.certified_at, cal) if election.certified_at else None
        ),
        "live": phase in LIVE_PHASES,
        "has_result": phase in RESULT_PHASES,
        "versions": [],
        "entry": None,
        "ballot": None,
        "my_objections": [],
        "objection_counts": {},
        **HELPERS,
    }
    if election.status == "draft":
        return ctx
    ctx["versions"] = service.roll_versions(election)
    ctx.update(_turnout_context(election, now))
    if actor is not None:
        entry = service.voter_entry_for(actor, election)
        ctx["entry"] = entry
        if entry is not None:
            ctx["ballot"] = service.ballot_of(election, entry.voter_key)
    ctx["my_objections"] = _objections_by(actor, election)
    ctx["objection_counts"] = _objection_counts(election)
    ctx["may_object"] = phase == "announced" and _is_verified_resident(actor, election)
    if ctx["may_object"]:
        form = objection_form or ObjectionForm(formdata=None)
        form.unit_id.choices = _unit_choices(election)
        ctx["objection_form"] = form
    if ctx["has_result"]:
        ctx.update(_result_context(election, now))
        form, answer = _lookup(election, request.args.get("receipt"))
        ctx["lookup_form"] = form
        ctx["lookup"] = answer
    return ctx


@bp.get("/elections/<int:election_id>")
def election(election_id: int):
    actor = _actor()
    e = _load(election_id, actor)
    return render_template("voting/election.html", **_page_context(e, actor, utcnow()))


@bp.get("/elections/<int:election_id>/turnout")
def turnout(election_id: int):
    """The live turnout: the fragment for htmx polling, the whole page otherwise."""
    actor = _actor()
    e = _load(election_id, actor)
    if e.status == "draft":
        raise NotFound()
    now = utcnow()
    if is_htmx():
        ctx = _turnout_context(e, now)
    else:
        ctx = _page_context(e, actor, now)
    return render_page_or_fragment("voting/election.html", "voting/_turnout.html", **ctx)


@bp.get("/elections/<int:election_id>/lookup")
def receipt_lookup(election_id: int):
    """Receipt lookup after the close: the answer fragment for htmx, the result page otherwise."""
    actor = _actor()
    e = _load(election_id, actor)
    if service.phase_of(e, utcnow()) not in RESULT_PHASES:
        raise NotFound(_("Receipts can be looked up once the votes are counted."))
    if not is_htmx():
        return redirect(
            url_for(
                "voting.election",
                election_id=e.id,
                receipt=request.args.get("receipt", ""),
                _anchor="lookup",
            )
        )
    form, answer = _lookup(e, request.args.get("receipt"))
    return render_page_or_fragment(
        "voting/election.html",
        "voting/_receipt_lookup.html",
        election=e,
        lookup_form=form,
        lookup=answer,
        names=_names(e),
        **HELPERS,
    )


@bp.post("/elections/<int:election_id>/objections")
@login_required
def object_to_roll(election_id: int):
    actor = _actor()
    e = _load(election_id, actor)
    now = utcnow()
    form = ObjectionForm()
    form.unit_id.choices = _unit_choices(e) if e.status != "draft" else []
    if form.validate_on_submit():
        try:
            service.object_to_roll(actor, e, now, form.unit_id.data or None, form.text.data)
        except DomainError as err:
            db.session.rollback()
            if isinstance(err, InvalidTransition):
                flash(_("Objections can be made only during the notice period."), "error")
                return redirect(url_for("voting.election", election_id=e.id))
            if isinstance(err, PermissionDenied):
                raise
            form.text.errors.append(err.message)
        else:
            db.session.commit()
            flash(
                _(
                    "Your objection has been sent. The community secretary will answer it "
                    "here before voting opens."
                ),
                "success",
            )
            return redirect(url_for("voting.election", election_id=e.id, _anchor="objections"))
    ctx = _page_context(e, actor, now, objection_form=form)
    if not ctx.get("may_object"):
        flash(_("Objections can be made only during the notice period."), "error")
        return redirect(url_for("voting.election", election_id=e.id))
    ctx["objection_form"] = form
    return render_template("voting/election.html", **ctx), 422


# ---- voting --------------------------------------------------------------------------------------


def _refused(election: Election, kind: str, status: int, phase: str = "", **extra):
    """Why the ballot is not shown: ``already`` voted, ``not_owner``, or ``not_open``."""
    if kind == "already":
        title = _("You have already voted")
    elif kind == "not_owner":
        title = _("Only verified owners on the roll can vote")
    elif phase in ("draft", "announced"):
        title = _("Voting has not opened yet")
    else:
        title = _("Voting has closed")
    return (
        render_template(
            "voting/vote_refused.html",
            election=election,
            kind=kind,
            phase=phase,
            title=title,
            **HELPERS,
            **extra,
        ),
        status,
    )


def _refusal(election: Election, actor, now: datetime):
    """Why this user cannot vote now (a response), or None when the ballot can be shown."""
    phase = service.phase_of(election, now)
    if phase != "open":
        return _refused(election, "not_open", 409, phase=phase)
    entry, ballot = service.voter_entry_and_ballot(actor, election)
    if entry is None:
        return _refused(election, "not_owner", 403)
    if ballot is not None:
        return _refused(election, "already", 409, receipt=ledger.format_receipt(ballot.receipt))
    return None


def _vote_choices(election: Election) -> list[tuple[str, str]]:
    return [(o.key, option_label(o)) for o in _options(election)] + [(tally.ABSTAIN, _("Abstain"))]


def _ballot_page(election: Election, form: VoteForm, status: int = 200):
    return render_template(
        "voting/vote.html",
        election=election,
        form=form,
        names=_names(election),
        options=_options(election),
        **HELPERS,
    ), status


@bp.route("/elections/<int:election_id>/vote", methods=["GET", "POST"])
@login_required
def vote(election_id: int):
    """Step 1: the ballot. Its POST shows the confirm step (nothing is stored yet)."""
    actor = _actor()
    e = _load(election_id, actor)
    refusal = _refusal(e, actor, utcnow())
    if refusal is not None:
        return refusal
    form = VoteForm()
    form.choice.choices = _vote_choices(e)
    if request.method == "GET":
        return _ballot_page(e, form)
    if not form.validate_on_submit():
        return _ballot_page(e, form, 422)
    if request.form.get("back"):  # "Go back" from the confirm step: the ballot, choice kept
        return _ballot_page(e, form)
    return render_template(
        "voting/vote_confirm.html",
        election=e,
        form=ConfirmVoteForm(formdata=None, choice=form.choice.data),
        choice=form.choice.data,
        names=_names(e),
        **HELPERS,
    )


@bp.post("/elections/<int:election_id>/vote/confirm")
@login_required
def vote_confirm(election_id: int):
    """Step 2: cast the ballot (final), then show the receipt."""
    actor = _actor()
    e = _load(election_id, actor)
    form = ConfirmVoteForm()
    if not form.validate_on_submit():
        abort(400)
    # Translated before the cast: afterwards the commit has expired the user, and choosing the
    # language would load the user row again.
    counted = _("Your vote has been counted. Keep your receipt code.")
    # A second press of the button, or a ballot cast meanwhile on another device: refused at
    # once, without locking the election (the service checks again under the lock).
    _entry, existing = service.voter_entry_and_ballot(actor, e)
    if existing is not None:
        return _refused(e, "already", 409, receipt=ledger.format_receipt(existing.receipt))
    try:
        service.with_retry(service.cast_online, actor, e.id, form.choice.data, utcnow())
    except service.AlreadyVoted as err:
        db.session.rollback()
        return _refused(e, "already", 409, receipt=err.receipt)
    except PermissionDenied:
        db.session.rollback()
        return _refused(e, "not_owner", 403)
    except InvalidTransition:
        db.session.rollback()
        return _refused(e, "not_open", 409, phase=service.phase_of(e, utcnow()))
    except DomainError as err:  # an unknown choice: back to the ballot
        db.session.rollback()
        ballot_form = VoteForm(formdata=None)
        ballot_form.choice.choices = _vote_choices(e)
        ballot_form.choice.errors = [err.message]
        return _ballot_page(e, ballot_form, 422)
    flash(counted, "success")
    # election_id, not e.id: the commit expired ``e``, and reading it would load it again
    return redirect(url_for("voting.receipt", election_id=election_id))


@bp.get("/elections/<int:election_id>/receipt")
@login_required
def receipt(election_id: int):
    actor = _actor()
    e = _load(election_id, actor)
    entry = service.voter_entry_for(actor, e)
    ballot = service.ballot_of(e, entry.voter_key) if entry is not None else None
    if ballot is None:
        flash(_("There is no ballot of yours in this election."), "info")
        return redirect(url_for("voting.election", election_id=e.id))
    return render_template(
        "voting/receipt.html",
        election=e,
        ballot=ballot,
        code=ledger.format_receipt(ballot.receipt),
        cast_by_other=ballot.user_id is not None and ballot.user_id != actor.id,
        phase=service.phase_of(e, utcnow()),
        **HELPERS,
    )


@bp.get("/account/ballots")
@login_required
def my_ballots():
    now = utcnow()
    rows = [
        {
            "ballot": b,
            "election": e,
            "code": ledger.format_receipt(b.receipt),
            "phase": service.phase_of(e, now),
        }
        for b, e in _ballots_of_user(_actor())
    ]
    return render_template("voting/my_ballots.html", rows=rows, **HELPERS)


# ---- the recount files ---------------------------------------------------------------------------


def _csv(data: bytes, filename: str):
    resp = make_response(data)
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f"attachment; filename={filename}"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/elections/<int:election_id>/roll.csv")
def roll_csv(election_id: int):
    e = _load(election_id, _actor())
    if e.status == "draft":
        raise NotFound(_("The roll is published when the election is announced."))
    return _csv(service.roll_csv(e), f"election-{e.id}-roll.csv")


@bp.get("/elections/<int:election_id>/ballots.csv")
def ballots_csv(election_id: int):
    e = _load(election_id, _actor())
    if e.status not in RESULT_PHASES:
        raise NotFound(
            _(
                "The ballots are published after voting has closed and the count is recorded; "
                "until then nobody sees the choices."
            )
        )
    return _csv(service.ballots_csv(e), f"election-{e.id}-ballots.csv")


@bp.get("/elections/<int:election_id>/bids/<int:option_id>")
def bid_document(election_id: int, option_id: int):
    """A candidate's bid document: public once announced; drafts only to those who run them."""
    from flask import send_file

    from portal.uploads import service as uploads

    election = service.get_election(election_id)
    if not service.visible_to(current_user, election):
        abort(404)
    option = next((o for o in election.options if o.id == option_id), None)
    if option is None or not option.document:
        abort(404)
    path, mimetype = uploads.open_path(option.document)
    return send_file(
        path,
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"bid-{election.id}-{option.key}{path.suffix}",
        max_age=0,
    )
