"""Notice pages: public lists (the compound hub tab, community and street pages), a notice,
its A4 print view with QR code, Atom feeds, the paper check, and the staff desk and forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from portal.errors import DomainError
from portal.extensions import db
from portal.htmx import render_page_or_fragment
from portal.i18n import current_lang
from portal.models_base import utcnow
from portal.notices import atom, bp, rules, service
from portal.notices.forms import ConfirmForm, NoticeForm, WithdrawForm
from portal.notices.labels import CATEGORY_LABELS, SCOPE_LABELS, STATE_LABELS
from portal.notices.qr import qr_svg
from portal.notices.text import render_plain
from portal.places import tabs

FEED_KINDS = {"compounds": "compound", "communities": "community", "streets": "street"}
FEED_PATHS = {v: k for k, v in FEED_KINDS.items()}
PLACE_ENDPOINTS = {
    "compound": "places.compound",
    "community": "places.community",
    "street": "places.street",
}


def _actor():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _to_utc(local: datetime | None) -> datetime | None:
    """A time typed in a form (Shanghai time, naive) as UTC."""
    return local.replace(tzinfo=_tz()).astimezone(UTC) if local else None


def _to_local(value: datetime | None) -> datetime | None:
    return value.astimezone(_tz()).replace(tzinfo=None) if value else None


def _files(form_field) -> list[tuple[str, bytes]]:
    return [(f.filename, f.read()) for f in (form_field.data or []) if f and f.filename]


def feed_url(scope_type: str, place, external: bool = False) -> str:
    return url_for("notices.feed", kind=FEED_PATHS[scope_type], code=place.code, _external=external)


def place_url(scope_type: str, place, external: bool = False) -> str:
    if scope_type == "compound":
        return url_for("places.compound", code=place.code, tab="notices", _external=external)
    return url_for(f"notices.{scope_type}_list", code=place.code, _external=external)


def link_of(notice) -> str | None:
    """The page a system notice points to (an election …), if it can be built."""
    if not notice.link_endpoint:
        return None
    try:
        return url_for(notice.link_endpoint, **(notice.link_args or {}))
    except (BuildError, TypeError, ValueError):
        return None


def author_label(notice) -> str:
    """The body in whose name the notice speaks (never a person's name)."""
    issuer = notice.issuer
    if issuer == "company" and notice.company is not None:
        return _("From the property company: %(name)s", name=notice.company.name)
    if issuer == "committee" and notice.compound is not None:
        return _("%(place)s owners' committee", place=notice.compound.name)
    if issuer == "community" and notice.community is not None:
        return _("%(place)s residents' committee", place=notice.community.name)
    if issuer == "street":
        return _("%(place)s office", place=notice.street.name)
    if issuer == "admin":
        return _("The portal's administrator")
    return _("Posted automatically by the portal")


def _feeds_for(scope_type: str, place) -> list[tuple[str, str]]:
    """(title, url) of the feeds a page about this place offers in its head."""
    feeds = []
    if scope_type == "compound":
        feeds.append((place.name, feed_url("compound", place)))
        place, scope_type = place.community, "community"
    if scope_type == "community":
        feeds.append((place.name, feed_url("community", place)))
    if scope_type == "street":
        feeds.append((place.name, feed_url("street", place)))
    return feeds


# ---- public lists ---------------------------------------------------------------------


@dataclass
class Listing:
    """A place's notice list with its filters, and where its links and htmx swaps go."""

    scope_type: str
    place: object
    page: service.NoticePage
    category: str
    archive: bool
    q: str
    endpoint: str
    endpoint_args: dict
    target: str
    can_post: bool
    now: datetime
    feeds: list = field(default_factory=list)

    def url(self, **changes) -> str:
        params = {"category": self.category, "archive": "1" if self.archive else "", "q": self.q}
        params.update(changes)
        params = {k: v for k, v in params.items() if v not in ("", None, False)}
        return url_for(self.endpoint, **self.endpoint_args, **params)

    @property
    def filtered(self) -> bool:
        return bool(self.category or self.q)


def listing(scope_type, place, args, viewer, *, endpoint, endpoint_args, target) -> Listing:
    category = args.get("category", "")
    category = category if category in rules.CATEGORIES else ""
    archive = args.get("archive") == "1"
    q = args.get("q", "").strip()[:50]
    page = args.get("page", 1, type=int)
    now = utcnow()
    pagination = service.public_list(
        scope_type,
        place,
        now=now,
        category=category,
        archive=archive,
        query=q,
        page=page,
        per_page=current_app.config["PAGE_SIZE"],
    )
    return Listing(
        scope_type=scope_type,
        place=place,
        page=pagination,
        category=category,
        archive=archive,
        q=q,
        endpoint=endpoint,
        endpoint_args=endpoint_args,
        target=target,
        can_post=service.can_post(viewer, scope_type, place),
        now=now,
        feeds=_feeds_for(scope_type, place),
    )


def _list_context(nl: Listing) -> dict:
    return {
        "nl": nl,
        "feeds": nl.feeds,
        "categories": CATEGORY_LABELS,
        "scope_labels": SCOPE_LABELS,
        "author_label": author_label,
        "excerpt": rules.excerpt,
    }


@tabs.register(
    "notices", audience=lambda compound, viewer: (service.can_post(viewer, "compound", compound),)
)
def compound_tab(compound, viewer, args) -> dict:
    nl = listing(
        "compound",
        compound,
        args,
        viewer,
        endpoint="places.compound",
        endpoint_args={"code": compound.code, "tab": "notices"},
        target="#hub",
    )
    return _list_context(nl)


def _place_list(scope_type: str, code: str):
    place = service.get_place(scope_type, code)
    nl = listing(
        scope_type,
        place,
        request.args,
        _actor(),
        endpoint=f"notices.{scope_type}_list",
        endpoint_args={"code": code},
        target="#notices",
    )
    return render_page_or_fragment(
        "notices/place.html", "notices/_notices.html", place=place, **_list_context(nl)
    )


@bp.get("/communities/<code>/notices")
def community_list(code: str):
    return _place_list("community", code)


@bp.get("/streets/<code>/notices")
def street_list(code: str):
    return _place_list("street", code)


# ---- one notice ------------------------------------------------------------------------


def _notice_context(notice, now: datetime) -> dict:
    actor = _actor()
    return {
        "notice": notice,
        "state": notice.state(now),
        "states": STATE_LABELS,
        "categories": CATEGORY_LABELS,
        "scope_labels": SCOPE_LABELS,
        "body_html": render_plain(notice.body),
        "link_url": link_of(notice),
        "author": author_label(notice),
        "can_manage": service.can_manage(actor, notice),
        "feeds": _feeds_for(notice.scope_type, notice.place),
        "place_url": place_url(notice.scope_type, notice.place),
    }


@bp.get("/notices/<int:notice_id>")
def detail(notice_id: int):
    now = utcnow()
    notice = service.get_readable(_actor(), notice_id, now)
    ctx = _notice_context(notice, now)
    return render_template(
        "notices/detail.html",
        withdraw_form=WithdrawForm(),
        confirm=ConfirmForm(),
        **ctx,
    )


@bp.get("/notices/<int:notice_id>/print")
def print_view(notice_id: int):
    now = utcnow()
    notice = service.get_readable(_actor(), notice_id, now)
    if notice.withdrawn_at is not None:
        flash(_("This notice has been withdrawn; it is not to be printed."), "info")
        return redirect(url_for("notices.detail", notice_id=notice.id))
    online_url = url_for("notices.detail", notice_id=notice.id, _external=True)
    ctx = _notice_context(notice, now)
    return render_template(
        "notices/print.html",
        online_url=online_url,
        qr=qr_svg(online_url, _("QR code: the online notice")),
        check_url=url_for("notices.check", _external=True),
        printed_at=now,
        **{**ctx, "body_html": render_plain(notice.body, lines_as_paragraphs=True)},
    )


@bp.get("/notices/check")
def check():
    """A paper notice's check code → the online notice (or: no such notice)."""
    raw = request.args.get("code", "").strip()[:40]
    code = rules.normalise_code(raw)
    found = service.find_by_fingerprint(code, utcnow()) if code else []
    status = 200 if (not raw or found) else (404 if code else 422)
    return render_template(
        "notices/check.html",
        raw=raw,
        code=code,
        found=found,
        categories=CATEGORY_LABELS,
        scope_labels=SCOPE_LABELS,
        author_label=author_label,
    ), status


@bp.get("/feeds/<kind>/<code>.atom")
def feed(kind: str, code: str):
    scope_type = FEED_KINDS.get(kind)
    if scope_type is None:
        abort(404)
    place = service.get_place(scope_type, code)
    now = utcnow()
    notices = service.feed_entries(scope_type, place, now)
    entries = [
        atom.Entry(
            id=url_for("notices.detail", notice_id=n.id, _external=True),
            title=n.title,
            link=url_for("notices.detail", notice_id=n.id, _external=True),
            published=n.publish_at,
            updated=n.publish_at,
            summary=rules.excerpt(n.body, 200) or n.title,
            content=n.body or n.title,
            category=n.category,
            category_label=str(CATEGORY_LABELS[n.category]),
            author=author_label(n),
        )
        for n in notices
    ]
    body = atom.render(
        atom.Feed(
            id=place_url(scope_type, place, external=True),
            title=_("%(place)s · Notices", place=place.name),
            subtitle=_("Notices for %(place)s on the red property portal.", place=place.name),
            self_link=feed_url(scope_type, place, external=True),
            html_link=place_url(scope_type, place, external=True),
            author=place.name,
            lang="zh-Hans" if current_lang().startswith("zh") else "en",
            updated=max((n.publish_at for n in notices), default=datetime(2026, 1, 1, tzinfo=UTC)),
            entries=entries,
        )
    )
    resp = make_response(body)
    resp.mimetype = atom.MIMETYPE
    resp.headers["Content-Type"] = f"{atom.MIMETYPE}; charset=utf-8"
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


# ---- staff -------------------------------------------------------------------------------


@bp.get("/notices/desk")
@login_required
def desk():
    actor = _actor()
    if not service.may_use_desk(actor):
        abort(403)
    state = request.args.get("state", "")
    state = state if state in rules.STATES else ""
    now = utcnow()
    pagination = service.managed_list(
        actor,
        now=now,
        state=state,
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_page_or_fragment(
        "notices/desk.html",
        "notices/_desk_list.html",
        pagination=pagination,
        state=state,
        states=STATE_LABELS,
        categories=CATEGORY_LABELS,
        scope_labels=SCOPE_LABELS,
        places=service.postable_places(actor),
        is_admin=service.security.is_admin(actor),
        now=now,
    )


def _form_page(form, scope_type, place, notice=None, status=200):
    return render_template(
        "notices/form.html",
        form=form,
        scope_type=scope_type,
        place=place,
        notice=notice,
        scope_labels=SCOPE_LABELS,
        confirm=ConfirmForm(),
        max_mb=service.uploads.MAX_BYTES // 2**20,
        max_files=service.uploads.MAX_FILES,
        company_authority=(
            notice is None and service.authority(_actor(), scope_type, place) == service.COMPANY
        ),
    ), status


def _apply_problem(form, e: DomainError) -> None:
    target = getattr(form, getattr(e, "field", ""), None)
    if target is not None:
        target.errors.append(e.message)
    else:
        form.form_errors.append(e.message)


@bp.route("/notices/new/<scope_type>/<code>", methods=["GET", "POST"])
@login_required
def new(scope_type: str, code: str):
    place = service.get_place(scope_type, code)
    actor = _actor()
    if not service.can_post(actor, scope_type, place):
        abort(403)
    form = NoticeForm()
    if form.validate_on_submit():
        try:
            notice = service.create_notice(
                actor,
                scope_type,
                place,
                category=form.category.data,
                title=form.title.data,
                body=form.body.data or "",
                pinned=form.pinned.data,
                publish_at=_to_utc(form.publish_at.data),
                expires_at=_to_utc(form.expires_at.data),
                files=_files(form.attachments),
                now=utcnow(),
            )
        except DomainError as e:
            if e.status == 403:
                raise
            _apply_problem(form, e)
        else:
            db.session.commit()
            if notice.publish_at > utcnow():
                flash(_("The notice is scheduled; it appears at its publish time."), "success")
            else:
                flash(_("The notice is published."), "success")
            return redirect(url_for("notices.detail", notice_id=notice.id))
    return _form_page(form, scope_type, place, status=422 if form.errors else 200)


@bp.route("/notices/<int:notice_id>/edit", methods=["GET", "POST"])
@login_required
def edit(notice_id: int):
    actor = _actor()
    notice = service.get_notice(notice_id)
    if not service.can_manage(actor, notice):
        abort(403)
    now = utcnow()
    if notice.state(now) != "scheduled":
        flash(_("A published notice cannot be changed. Withdraw it and post a corrected one."))
        return redirect(url_for("notices.detail", notice_id=notice.id))
    form = NoticeForm(obj=notice if request.method == "GET" else None)
    if request.method == "GET":
        form.publish_at.data = _to_local(notice.publish_at)
        form.expires_at.data = _to_local(notice.expires_at)
    if form.validate_on_submit():
        try:
            service.update_notice(
                actor,
                notice,
                category=form.category.data,
                title=form.title.data,
                body=form.body.data or "",
                pinned=form.pinned.data,
                publish_at=_to_utc(form.publish_at.data),
                expires_at=_to_utc(form.expires_at.data),
                files=_files(form.attachments),
                now=now,
            )
        except DomainError as e:
            if e.status in (403, 409):
                raise
            _apply_problem(form, e)
        else:
            db.session.commit()
            flash(_("The notice has been saved."), "success")
            return redirect(url_for("notices.detail", notice_id=notice.id))
    return _form_page(form, notice.scope_type, notice.place, notice, 422 if form.errors else 200)


def _posted_notice(notice_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return service.get_notice(notice_id)


@bp.post("/notices/<int:notice_id>/attachments/<int:attachment_id>/remove")
@login_required
def remove_attachment(notice_id: int, attachment_id: int):
    notice = _posted_notice(notice_id)
    service.remove_attachment(_actor(), notice, attachment_id, utcnow())
    db.session.commit()
    flash(_("The attachment has been removed."), "info")
    return redirect(url_for("notices.edit", notice_id=notice.id))


@bp.post("/notices/<int:notice_id>/pin")
@login_required
def pin(notice_id: int):
    notice = _posted_notice(notice_id)
    pinned = request.form.get("pinned") == "1"
    service.set_pinned(_actor(), notice, pinned, utcnow())
    db.session.commit()
    flash(_("Pinned to the top.") if pinned else _("No longer pinned."), "success")
    return redirect(url_for("notices.detail", notice_id=notice.id))


@bp.post("/notices/<int:notice_id>/archive")
@login_required
def archive(notice_id: int):
    notice = _posted_notice(notice_id)
    service.archive_now(_actor(), notice, utcnow())
    db.session.commit()
    flash(_("The notice has moved to the archive."), "success")
    return redirect(url_for("notices.detail", notice_id=notice.id))


@bp.post("/notices/<int:notice_id>/withdraw")
@login_required
def withdraw(notice_id: int):
    notice = service.get_notice(notice_id)
    actor = _actor()
    if not service.can_manage(actor, notice):
        abort(403)
    form = WithdrawForm()
    if not form.validate_on_submit():
        now = utcnow()
        return render_template(
            "notices/detail.html",
            withdraw_form=form,
            confirm=ConfirmForm(),
            **_notice_context(notice, now),
        ), 422
    service.withdraw(actor, notice, form.reason.data, utcnow())
    db.session.commit()
    flash(_("The notice has been withdrawn."), "info")
    return redirect(url_for("notices.detail", notice_id=notice.id))
