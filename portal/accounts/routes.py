"""Account pages: register, log in/out, profile, preferences, unit claims, staff queues."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal import security
from portal.accounts import bp, service
from portal.accounts.desks import desks_for
from portal.accounts.forms import (
    ClaimForm,
    ConfirmForm,
    GrantForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
    RejectForm,
)
from portal.accounts.labels import (
    QUEUE_LABELS,
    RELATION_LABELS,
    ROLE_LABELS,
    SCOPE_LABELS,
    STATUS_LABELS,
)
from portal.errors import DomainError, ValidationFailed
from portal.extensions import csrf, db, limiter
from portal.htmx import is_htmx, render_page_or_fragment
from portal.i18n import LANG_COOKIE, normalise_lang
from portal.places import service as places
from portal.validators import normalise_mobile

YEAR = 365 * 24 * 3600


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths; drops a ``lang=`` override so a chosen language sticks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "lang"])
    return urlunsplit(("", "", parts.path, query, "")) or fallback


def _login_account_key() -> str:
    raw = request.form.get("phone", "")
    return "login-account:" + (normalise_mobile(raw) or raw.strip()[:20])


def _failed(response) -> bool:
    return response.status_code != 302


# ---- register / login / logout ---------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTRATIONS_PER_IP"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.my_units"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = service.register(
                form.phone.data,
                form.display_name.data,
                form.password.data,
                request.cookies.get(LANG_COOKIE) and normalise_lang(request.cookies[LANG_COOKIE]),
            )
        except ValidationFailed as e:
            form.password.errors.append(e.message)
        except DomainError as e:
            form.phone.errors.append(e.message)
        else:
            user.large_text = bool(g.get("large_text"))
            db.session.commit()
            _start_session(user)
            flash(_("Welcome! Your account is ready. Now claim the unit you live in."), "success")
            return redirect(url_for("accounts.my_units"))
    status = 422 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_IP"], methods=["POST"], deduct_when=_failed
)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = service.authenticate(form.phone.data, form.password.data)
        if user is not None:
            db.session.commit()
            _start_session(user)
            flash(_("You are logged in."), "success")
            return redirect(safe_next(form.next.data, url_for("accounts.my_units")))
        db.session.commit()  # keep the audit event of the failure
        form.password.errors.append(_("The mobile number or the password is not correct."))
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


def _start_session(user) -> None:
    lang = request.cookies.get(LANG_COOKIE)
    session.clear()  # a new session on every login
    session.permanent = True
    login_user(user)
    if lang and not user.locale:
        user.locale = normalise_lang(lang)
        db.session.commit()


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        service.end_sessions(current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("places.home"))


# ---- profile and preferences -----------------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if request.method == "GET":
        form.locale.data = current_user.locale or "zh_Hans_CN"
    if form.validate_on_submit():
        service.update_profile(
            current_user, form.display_name.data, form.locale.data, form.large_text.data
        )
        db.session.commit()
        flash(_("Your profile has been saved."), "success")
        resp = redirect(url_for("accounts.profile"))
        resp.set_cookie(LANG_COOKIE, form.locale.data, max_age=YEAR, samesite="Lax")
        return resp
    status = 422 if form.errors else 200
    return render_template(
        "accounts/profile.html", form=form, pw_form=PasswordChangeForm(), roles=ROLE_LABELS
    ), status


@bp.post("/account/password")
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current.data, form.password.data)
        except ValidationFailed as e:
            form.password.errors.append(e.message)
        else:
            db.session.commit()
            _start_session(current_user._get_current_object())
            flash(
                _("Your password has been changed. Other devices have been logged out."), "success"
            )
            return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/profile.html",
        form=ProfileForm(obj=current_user),
        pw_form=form,
        roles=ROLE_LABELS,
    ), 422


# The two display preferences are CSRF-exempt for visitors who are not logged in: for them they
# only set the visitor's own cookie, and public pages then carry no per-visitor token, so they can
# be served from the page cache (portal/pagecache.py). A logged-in user's preference is stored on
# the account, so the token is checked as for every other form.


@bp.post("/prefs/language")
@csrf.exempt
def set_language():
    lang = normalise_lang(request.form.get("lang")) or "zh_Hans_CN"
    if current_user.is_authenticated:
        csrf.protect()
        current_user.locale = lang
        db.session.commit()
    resp = redirect(safe_next(request.form.get("next"), url_for("places.home")))
    resp.set_cookie(LANG_COOKIE, lang, max_age=YEAR, samesite="Lax")
    return resp


@bp.post("/prefs/large-text")
@csrf.exempt
def set_large_text():
    on = request.form.get("large_text") == "1"
    if current_user.is_authenticated:
        csrf.protect()
        current_user.large_text = on
        db.session.commit()
    resp = redirect(safe_next(request.form.get("next"), url_for("places.home")))
    resp.set_cookie("large_text", "1" if on else "0", max_age=YEAR, samesite="Lax")
    return resp


# ---- unit claims (resident side) ---------------------------------------------------------


@bp.route("/compounds/<code>/claim", methods=["GET", "POST"])
@login_required
def claim(code: str):
    compound = places.get_compound(code)
    buildings = places.buildings_of(compound)
    form = ClaimForm()
    form.building.choices = [(0, _("Choose a building"))] + [(b.id, b.name) for b in buildings]
    if request.method == "GET" and not form.claimed_name.data:
        form.claimed_name.data = current_user.display_name
    if form.validate_on_submit():
        try:
            service.claim_unit(
                current_user,
                compound,
                form.building.data,
                form.room.data,
                form.relation.data,
                form.claimed_name.data,
                form.note.data or "",
            )
        except DomainError as e:
            form.room.errors.append(e.message)
        else:
            db.session.commit()
            flash(
                _(
                    "Your claim has been sent to the community. "
                    "You will see the outcome on this page."
                ),
                "success",
            )
            return redirect(url_for("accounts.my_units"))
    status = 422 if form.errors else 200
    return render_template(
        "accounts/claim.html", form=form, compound=compound, buildings=buildings
    ), status


@bp.get("/account/units")
@login_required
def my_units():
    claims = service.my_claims(current_user)
    return render_template(
        "accounts/my_units.html", claims=claims, relations=RELATION_LABELS, statuses=STATUS_LABELS
    )


# ---- staff: claims queue ----------------------------------------------------------------


@bp.get("/staff")
@login_required
def staff_home():
    user = current_user._get_current_object()
    if not security.has_any_role(
        user, "secretary", "committee", "street", "admin", "company", "inspector"
    ):
        abort(403)
    from portal.models_base import utcnow
    from portal.voting import dashboard as voting_dashboard

    return render_template(
        "accounts/staff_home.html",
        can_run_elections=security.has_any_role(user, "secretary", "committee", "admin"),
        can_see_street=security.has_any_role(user, "street", "admin"),
        renewals=voting_dashboard.renewal_reminders(user, utcnow()),
        can_review=service.can_review_claims(user),
        can_grant=bool(service.grantable_roles(user)),
        is_admin=security.is_admin(user),
        roles=ROLE_LABELS,
        desks=desks_for({gr.role for gr in user.grants}),
    )


def _queue_context(status: str):
    page = request.args.get("page", 1, type=int)
    pagination = service.claims_queue(
        current_user._get_current_object(), status, page, current_app.config["PAGE_SIZE"]
    )
    return {
        "pagination": pagination,
        "status": status,
        "hints": {c.id: service.roster_hint(c) for c in pagination.items},
        "relations": RELATION_LABELS,
        "statuses": STATUS_LABELS,
        "queue_labels": QUEUE_LABELS,
        "reject_forms": {},
        "confirm": ConfirmForm(),
    }


@bp.get("/staff/claims")
@login_required
def claims_queue():
    status = request.args.get("status", "pending")
    if status not in ("pending", "verified", "rejected"):
        status = "pending"
    return render_page_or_fragment(
        "accounts/claims.html", "accounts/_claims_table.html", **_queue_context(status)
    )


def _after_decision(claim, reject_form=None, status=200):
    """htmx: the row alone; without JS: back to the queue (or the queue with errors, 422)."""
    if is_htmx():
        return render_template(
            "accounts/_claim_row.html",
            c=claim,
            hint=service.roster_hint(claim),
            relations=RELATION_LABELS,
            statuses=STATUS_LABELS,
            reject_form=reject_form,
            confirm=ConfirmForm(),
        ), status
    if reject_form is not None and reject_form.errors:
        ctx = _queue_context("pending")
        ctx["reject_forms"] = {claim.id: reject_form}
        return render_template("accounts/claims.html", **ctx), 422
    return redirect(url_for("accounts.claims_queue", status="pending"))


@bp.post("/staff/claims/<int:claim_id>/verify")
@login_required
def verify_claim(claim_id: int):
    actor = current_user._get_current_object()
    claim = service.get_claim_for_review(actor, claim_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.verify_claim(actor, claim)
    db.session.commit()
    if not is_htmx():
        flash(
            _("Verified: %(name)s, %(unit)s.", name=claim.user.display_name, unit=claim.unit.label),
            "success",
        )
    return _after_decision(claim)


@bp.post("/staff/claims/<int:claim_id>/reject")
@login_required
def reject_claim(claim_id: int):
    actor = current_user._get_current_object()
    claim = service.get_claim_for_review(actor, claim_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _after_decision(claim, form, 200 if is_htmx() else 422)
    service.reject_claim(actor, claim, form.reason.data)
    db.session.commit()
    if not is_htmx():
        flash(
            _("Rejected: %(name)s, %(unit)s.", name=claim.user.display_name, unit=claim.unit.label),
            "info",
        )
    return _after_decision(claim)


# ---- staff: role grants and the audit log --------------------------------------------------


@bp.route("/staff/grants", methods=["GET", "POST"])
@login_required
def grants():
    actor = current_user._get_current_object()
    roles = service.grantable_roles(actor)
    if not roles:
        abort(403)
    form = GrantForm()
    form.role.choices = [(r, ROLE_LABELS[r]) for r in roles]
    if form.validate_on_submit():
        try:
            service.grant_role(actor, form.phone.data, form.role.data, form.scope_code.data)
        except DomainError as e:
            form.scope_code.errors.append(e.message)
        else:
            db.session.commit()
            flash(_("The role has been granted."), "success")
            return redirect(url_for("accounts.grants"))
    page = request.args.get("page", 1, type=int)
    pagination = service.visible_grants(actor, page, 50)
    return render_template(
        "accounts/grants.html",
        form=form,
        pagination=pagination,
        scopes=service.scope_names(pagination.items),
        roles=ROLE_LABELS,
        scope_labels=SCOPE_LABELS,
        confirm=ConfirmForm(),
    ), (422 if form.errors else 200)


@bp.post("/staff/grants/<int:grant_id>/revoke")
@login_required
def revoke_grant(grant_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.revoke_grant(current_user._get_current_object(), grant_id)
    db.session.commit()
    flash(_("The role has been revoked."), "info")
    return redirect(url_for("accounts.grants"))


@bp.get("/staff/audit")
@login_required
def audit_log():
    actor = current_user._get_current_object()
    if not security.is_admin(actor):
        abort(403)
    action = request.args.get("action", "").strip()[:64]
    page = request.args.get("page", 1, type=int)
    pagination = service.audit_events(action, page, 50)
    return render_template("accounts/audit.html", pagination=pagination, action=action)
