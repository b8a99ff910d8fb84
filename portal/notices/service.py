"""Notices: every change goes through here (the acting user is passed in, never read).

Who writes where:

* the site administrator: anywhere;
* a street officer: their street, its communities and compounds;
* a community secretary: their community and its compounds;
* an owners' committee member: their compound;
* property-company staff: the compounds whose current service contract is with their company;
  such a notice is marked as from the company.

A notice is public from its publish time (now, or a time chosen ahead) until it is withdrawn;
after its expiry it moves to the archive, still reachable by its link. Its content can be edited
only while it is scheduled (not yet public): what people may have read or printed stays as it
was, and its fingerprint with it.

``post_system_notice`` is the hook other features call (an election announced or certified, a
fee statement or a rating period published).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.orm import aliased, joinedload, selectinload

from portal import audit, security
from portal.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices import paging, rules
from portal.notices.models import Notice
from portal.notices.paging import Page
from portal.places.models import Community, Compound, Street
from portal.uploads import service as uploads

OWNER_TYPE = "notice"
STAFF = "staff"
COMPANY = "company"
TITLE_MAX = 150
BODY_MAX = 20_000
# A publish time chosen a little in the past (the minute being typed) counts as "now".
PAST_SLACK = timedelta(minutes=10)
PLACE_MODELS = {"street": Street, "community": Community, "compound": Compound}


class FieldProblem(ValidationFailed):
    """A refusal that belongs to one form field (``field`` is the field's name)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# ---- places ---------------------------------------------------------------------------------


def get_place(scope_type: str, code: str):
    """A street, community or compound by its code, with the places above it loaded."""
    model = PLACE_MODELS.get(scope_type)
    if model is None:
        raise NotFound()
    stmt = select(model).where(model.code == code)
    if model is Compound:
        stmt = stmt.options(joinedload(Compound.community).joinedload(Community.street))
    elif model is Community:
        stmt = stmt.options(joinedload(Community.street))
    place = db.session.scalar(stmt)
    if place is None:
        raise NotFound()
    return place


def _place_ids(scope_type: str, place) -> tuple[int, int | None, int | None]:
    """(street_id, community_id, compound_id) of a place, as stored on its notices."""
    if scope_type == "street":
        return place.id, None, None
    if scope_type == "community":
        return place.street_id, place.id, None
    return place.community.street_id, place.community_id, place.id


def _street_id(scope_type: str, place) -> int:
    return _place_ids(scope_type, place)[0]


# ---- permissions ------------------------------------------------------------------------------


def _authenticated(actor) -> bool:
    return actor is not None and bool(getattr(actor, "is_authenticated", False))


def _company_manages(actor, compound, today: date | None = None) -> bool:
    """The compound's current service contract is with one of the actor's companies."""
    companies = security.role_ids(actor, "company")
    if not companies:
        return False
    from portal.voting.service import current_contract

    today = today or utcnow().date()
    contract = current_contract(compound, today)
    return contract is not None and contract.ends_on >= today and contract.company_id in companies


def issuer_for(actor, scope_type: str, place, today: date | None = None) -> str | None:
    """In whose name the actor writes to this place, the closest body first: "committee",
    "community" (the residents' committee), "street", "company", "admin"; None: not allowed."""
    if not _authenticated(actor):
        return None
    street_id, community_id, compound_id = _place_ids(scope_type, place)
    if compound_id is not None and compound_id in security.role_ids(actor, "committee"):
        return "committee"
    if community_id is not None and community_id in security.role_ids(actor, "secretary"):
        return "community"
    if street_id in security.role_ids(actor, "street"):
        return "street"
    if compound_id is not None and _company_manages(actor, place, today):
        return "company"
    if security.is_admin(actor):
        return "admin"
    return None


def authority(actor, scope_type: str, place, today: date | None = None) -> str | None:
    """How the actor may write to this place: STAFF, COMPANY (marked as the company's), or None."""
    issuer = issuer_for(actor, scope_type, place, today)
    if issuer is None:
        return None
    return COMPANY if issuer == "company" else STAFF


def can_post(actor, scope_type: str, place) -> bool:
    return authority(actor, scope_type, place) is not None


def can_manage(actor, notice: Notice) -> bool:
    """Edit while scheduled, pin, archive, withdraw: staff over the notice's place; for a
    company's notice also that company's staff."""
    if not _authenticated(actor):
        return False
    if notice.from_company_id is not None and notice.from_company_id in security.role_ids(
        actor, "company"
    ):
        return True
    return authority(actor, notice.scope_type, notice.place) == STAFF


def _require_manager(actor, notice: Notice) -> None:
    if not can_manage(actor, notice):
        raise PermissionDenied(_("You cannot change notices of this place."))


# ---- checks -------------------------------------------------------------------------------------


def _clean_fields(category: str, title: str, body: str) -> tuple[str, str]:
    if category not in rules.CATEGORIES:
        raise FieldProblem("category", _("Choose a category."))
    title = " ".join((title or "").split())
    if not title:
        raise FieldProblem("title", _("Give the notice a title."))
    if len(title) > TITLE_MAX:
        raise FieldProblem("title", _("The title is too long."))
    body = rules.normalise_text(body)
    if len(body) > BODY_MAX:
        raise FieldProblem("body", _("The text is too long."))
    return title, body


def _times(
    publish_at: datetime | None, expires_at: datetime | None, now: datetime
) -> tuple[datetime, datetime | None]:
    if publish_at is None or publish_at <= now:
        if publish_at is not None and publish_at < now - PAST_SLACK:
            raise FieldProblem(
                "publish_at", _("The publish time has passed. Leave it empty to publish now.")
            )
        publish_at = now
    publish_at = rules.utc_seconds(publish_at)
    if expires_at is not None:
        expires_at = rules.utc_seconds(expires_at)
        if expires_at <= publish_at:
            raise FieldProblem("expires_at", _("The notice must expire after it is published."))
    return publish_at, expires_at


def _prepare(files) -> list:
    try:
        return uploads.prepare_all(files)
    except ValidationFailed as e:
        raise FieldProblem("attachments", e.message) from e


def _refresh_fingerprint(notice: Notice, hashes: list[str]) -> None:
    notice.fingerprint = rules.fingerprint(
        title=notice.title,
        body=notice.body,
        scope=notice.scope_key,
        publish_at=notice.publish_at,
        attachment_hashes=hashes,
    )


def _attachments(notice: Notice) -> list:
    return uploads.attachments_of(OWNER_TYPE, [notice.id])[notice.id]


# ---- changes ------------------------------------------------------------------------------------


def create_notice(
    actor,
    scope_type: str,
    place,
    *,
    category: str,
    title: str,
    body: str,
    pinned: bool = False,
    publish_at: datetime | None = None,
    expires_at: datetime | None = None,
    files: list[tuple[str | None, bytes]] = (),
    now: datetime,
) -> Notice:
    issuer = issuer_for(actor, scope_type, place, now.date())
    if issuer is None:
        raise PermissionDenied(_("You cannot post notices for this place."))
    title, body = _clean_fields(category, title, body)
    publish_at, expires_at = _times(publish_at, expires_at, now)
    prepared = _prepare(files)
    street_id, community_id, compound_id = _place_ids(scope_type, place)
    company_id = None
    if issuer == "company":
        from portal.voting.service import current_contract

        company_id = current_contract(place, now.date()).company_id
    notice = Notice(
        scope_type=scope_type,
        street_id=street_id,
        community_id=community_id,
        compound_id=compound_id,
        category=category,
        title=title,
        body=body,
        pinned=bool(pinned),
        publish_at=publish_at,
        expires_at=expires_at,
        from_company_id=company_id,
        issuer=issuer,
        author_id=actor.id,
        fingerprint="0" * rules.FINGERPRINT_LENGTH,
    )
    db.session.add(notice)
    db.session.flush()
    stored = uploads.attach_all(actor, prepared, OWNER_TYPE, notice.id)
    _refresh_fingerprint(notice, [a.sha256 for a in stored])
    audit.record(
        "notice.posted" if publish_at <= now else "notice.scheduled",
        actor,
        notice,
        scope=notice.scope_key,
        category=category,
        company=company_id,
        publish_at=publish_at.isoformat(),
        fingerprint=notice.fingerprint,
    )
    return notice


def update_notice(
    actor,
    notice: Notice,
    *,
    category: str,
    title: str,
    body: str,
    pinned: bool,
    publish_at: datetime | None,
    expires_at: datetime | None,
    files: list[tuple[str | None, bytes]] = (),
    now: datetime,
) -> Notice:
    """Change a scheduled notice (nobody has seen it yet)."""
    _require_manager(actor, notice)
    if notice.state(now) != "scheduled":
        raise InvalidTransition(
            _("A published notice cannot be changed. Withdraw it and post a corrected one.")
        )
    title, body = _clean_fields(category, title, body)
    publish_at, expires_at = _times(publish_at, expires_at, now)
    prepared = _prepare(files)
    existing = _attachments(notice)
    notice.category, notice.title, notice.body = category, title, body
    notice.pinned = bool(pinned)
    notice.publish_at, notice.expires_at = publish_at, expires_at
    start = max((a.position for a in existing), default=-1) + 1
    stored = uploads.attach_all(actor, prepared, OWNER_TYPE, notice.id, start=start)
    _refresh_fingerprint(notice, [a.sha256 for a in existing + stored])
    audit.record(
        "notice.updated",
        actor,
        notice,
        publish_at=publish_at.isoformat(),
        fingerprint=notice.fingerprint,
        added=len(stored) or None,
    )
    return notice


def remove_attachment(actor, notice: Notice, attachment_id: int, now: datetime) -> None:
    _require_manager(actor, notice)
    if notice.state(now) != "scheduled":
        raise InvalidTransition(_("Attachments of a published notice stay as they were."))
    existing = _attachments(notice)
    target = next((a for a in existing if a.id == attachment_id), None)
    if target is None:
        raise NotFound()
    uploads.remove(actor, target)
    _refresh_fingerprint(notice, [a.sha256 for a in existing if a.id != attachment_id])
    audit.record("notice.updated", actor, notice, removed=attachment_id)


def set_pinned(actor, notice: Notice, pinned: bool, now: datetime) -> None:
    _require_manager(actor, notice)
    if notice.withdrawn_at is not None:
        raise InvalidTransition(_("This notice has been withdrawn."))
    notice.pinned = bool(pinned)
    audit.record("notice.pinned" if pinned else "notice.unpinned", actor, notice)


def archive_now(actor, notice: Notice, now: datetime) -> None:
    """End a current notice early: it moves to the archive, still reachable by its link."""
    _require_manager(actor, notice)
    if notice.state(now) != "current":
        raise InvalidTransition(_("Only a current notice can be moved to the archive."))
    notice.expires_at = max(now, notice.publish_at + timedelta(microseconds=1))
    audit.record("notice.archived", actor, notice)


def withdraw(actor, notice: Notice, reason: str, now: datetime) -> None:
    """Hide a notice (posted in error, superseded …); its page then shows why."""
    _require_manager(actor, notice)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the notice is withdrawn; readers will see it."))
    if notice.withdrawn_at is not None:
        raise InvalidTransition(_("This notice has already been withdrawn."))
    notice.withdrawn_at = now
    notice.withdrawn_by_id = actor.id
    notice.withdraw_reason = reason[:500]
    notice.pinned = False
    audit.record("notice.withdrawn", actor, notice, reason=notice.withdraw_reason)


def post_system_notice(
    *,
    scope_type: str,
    scope_id: int,
    category: str,
    title: str,
    body: str,
    link_endpoint: str | None = None,
    link_args: dict | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> Notice:
    """Publish a notice on behalf of the portal itself (no author), e.g. from the elections::

        post_system_notice(scope_type="compound", scope_id=election.compound_id,
                           category="election", title=..., body=...,
                           link_endpoint="voting.election", link_args={"election_id": e.id},
                           source=f"election:{e.id}:announced")

    ``source`` names the event: posting the same source again returns the notice already
    posted instead of a second one. The link is built with ``url_for(link_endpoint,
    **link_args)`` when the notice is shown. The caller's transaction commits it.
    """
    if scope_type not in rules.SCOPES:
        raise ValueError(f"unknown scope type {scope_type!r}")
    if category not in rules.CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    if link_endpoint is not None and link_endpoint not in current_app.view_functions:
        raise ValueError(f"unknown endpoint {link_endpoint!r}")
    if source is not None:
        source = source[:64]
        existing = db.session.scalar(select(Notice).where(Notice.source == source))
        if existing is not None:
            return existing
    model = PLACE_MODELS[scope_type]
    place = db.session.get(model, scope_id)
    if place is None:
        raise NotFound()
    now = now or utcnow()
    title, body = _clean_fields(category, title, body)
    street_id, community_id, compound_id = _place_ids(scope_type, place)
    notice = Notice(
        scope_type=scope_type,
        street_id=street_id,
        community_id=community_id,
        compound_id=compound_id,
        category=category,
        title=title,
        body=body,
        pinned=False,
        publish_at=rules.utc_seconds(now),
        expires_at=None,
        issuer="system",
        author_id=None,
        source=source,
        link_endpoint=link_endpoint,
        link_args=dict(link_args or {}) or None,
        fingerprint="0" * rules.FINGERPRINT_LENGTH,
    )
    db.session.add(notice)
    db.session.flush()
    _refresh_fingerprint(notice, [])
    audit.record(
        "notice.posted",
        None,
        notice,
        system=True,
        source=source,
        scope=notice.scope_key,
        category=category,
        fingerprint=notice.fingerprint,
    )
    return notice


# ---- reading ---------------------------------------------------------------------------------


def _eager(stmt):
    return stmt.options(
        joinedload(Notice.street),
        joinedload(Notice.community),
        joinedload(Notice.compound),
        joinedload(Notice.company),
        selectinload(Notice.attachments),
    )


def get_notice(notice_id: int) -> Notice:
    notice = db.session.scalar(_eager(select(Notice).where(Notice.id == notice_id)))
    if notice is None:
        raise NotFound()
    return notice


def get_readable(viewer, notice_id: int, now: datetime) -> Notice:
    """A notice its viewer may open: public ones (a withdrawn one shows why), and, for those
    who manage it, a scheduled one. Others get 404: a scheduled notice does not exist yet."""
    notice = get_notice(notice_id)
    if notice.publish_at <= now or can_manage(viewer, notice):
        return notice
    raise NotFound()


def place_condition(scope_type: str, place):
    """Everything that concerns a place: addressed to it, to the places it lies in, and to the
    places within it."""
    street_id, community_id, compound_id = _place_ids(scope_type, place)
    if scope_type == "street":
        return Notice.street_id == street_id
    if scope_type == "community":
        return or_(
            Notice.community_id == community_id,
            and_(Notice.scope_type == "street", Notice.street_id == street_id),
        )
    return or_(
        Notice.compound_id == compound_id,
        and_(Notice.scope_type == "community", Notice.community_id == community_id),
        and_(Notice.scope_type == "street", Notice.street_id == street_id),
    )


def _public(now: datetime):
    return and_(Notice.withdrawn_at.is_(None), Notice.publish_at <= now)


def _current(now: datetime):
    return and_(_public(now), or_(Notice.expires_at.is_(None), Notice.expires_at > now))


def _archived(now: datetime):
    return and_(_public(now), Notice.expires_at.is_not(None), Notice.expires_at <= now)


@dataclass
class NoticePage(Page):
    """A page of the current list or of the archive, and how many the other list holds."""

    archive: bool = False
    other: int = 0


def public_list(
    scope_type: str,
    place,
    *,
    now: datetime,
    category: str | None = None,
    archive: bool = False,
    query: str = "",
    page: int = 1,
    per_page: int = 20,
) -> NoticePage:
    """The public list of a place: current notices (pinned first) or the archive; filtered by
    category and by words in the title or text (LIKE, so Chinese works on every database).
    One query counts both lists; a second loads the page's rows when there are any."""
    page, per_page = paging.clamp(page, per_page)
    conds = [place_condition(scope_type, place)]
    if category in rules.CATEGORIES:
        conds.append(Notice.category == category)
    q = (query or "").strip()
    if q:
        pattern = rules.like_pattern(q)
        conds.append(
            or_(
                Notice.title.ilike(pattern, escape="\\"),
                Notice.body.ilike(pattern, escape="\\"),
            )
        )

    def counted(state):
        return select(func.count(Notice.id)).where(*conds, state).scalar_subquery()

    current, archived = db.session.execute(
        select(counted(_current(now)), counted(_archived(now)))
    ).one()
    result = NoticePage(
        page=page,
        per_page=per_page,
        total=archived if archive else current,
        archive=archive,
        other=current if archive else archived,
    )
    if result.wanted:
        stmt = select(Notice).where(*conds, _archived(now) if archive else _current(now))
        if archive:
            stmt = stmt.order_by(Notice.expires_at.desc(), Notice.id.desc())
        else:
            stmt = stmt.order_by(Notice.pinned.desc(), Notice.publish_at.desc(), Notice.id.desc())
        stmt = stmt.limit(per_page).offset(result.offset)
        result.items = list(db.session.scalars(_eager(stmt)).unique())
    return result


def feed_entries(scope_type: str, place, now: datetime, limit: int = 30) -> list[Notice]:
    """The latest public notices of a place (current and archived), newest first."""
    stmt = (
        select(Notice)
        .where(place_condition(scope_type, place), _public(now))
        .order_by(Notice.publish_at.desc(), Notice.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(_eager(stmt)).unique())


def find_by_fingerprint(code: str, now: datetime) -> list[Notice]:
    """Public notices (withdrawn ones too: the paper must then be taken down) with this code."""
    stmt = (
        select(Notice)
        .where(Notice.fingerprint == code, Notice.publish_at <= now)
        .order_by(Notice.publish_at.desc())
        .limit(5)
    )
    return list(db.session.scalars(_eager(stmt)).unique())


def _managed_condition(actor):
    """SQL: the notices the actor manages (None: none)."""
    if security.is_admin(actor):
        return true()
    conds = []
    streets = security.role_ids(actor, "street")
    if streets:
        conds.append(Notice.street_id.in_(streets))
    communities = security.role_ids(actor, "secretary")
    if communities:
        conds.append(Notice.community_id.in_(communities))
    compounds = security.role_ids(actor, "committee")
    if compounds:
        conds.append(Notice.compound_id.in_(compounds))
    companies = security.role_ids(actor, "company")
    if companies:
        conds.append(Notice.from_company_id.in_(companies))
    return or_(*conds) if conds else None


def may_use_desk(actor) -> bool:
    return _authenticated(actor) and (
        _managed_condition(actor) is not None or bool(company_compounds(actor))
    )


def managed_list(actor, *, now: datetime, state: str = "", page: int = 1, per_page: int = 20):
    cond = _managed_condition(actor)
    stmt = select(Notice).where(cond if cond is not None else false())
    if state == "scheduled":
        stmt = stmt.where(Notice.withdrawn_at.is_(None), Notice.publish_at > now)
    elif state == "current":
        stmt = stmt.where(_current(now))
    elif state == "archived":
        stmt = stmt.where(_archived(now))
    elif state == "withdrawn":
        stmt = stmt.where(Notice.withdrawn_at.is_not(None))
    stmt = stmt.order_by(Notice.publish_at.desc(), Notice.id.desc())
    return db.paginate(
        _eager(stmt), page=page, per_page=per_page, max_per_page=100, error_out=False
    )


def company_compounds(actor, today: date | None = None) -> list[Compound]:
    """Compounds whose current contract (latest started, as ``voting.current_contract`` picks
    it) is with one of the actor's companies and has not ended; one query."""
    from portal.voting.models import Contract

    companies = security.role_ids(actor, "company") if _authenticated(actor) else set()
    if not companies:
        return []
    today = today or utcnow().date()
    newer = aliased(Contract)
    stmt = (
        select(Compound)
        .join(Contract, Contract.compound_id == Compound.id)
        .where(
            Contract.company_id.in_(companies),
            Contract.starts_on <= today,
            Contract.ends_on >= today,
            ~exists().where(
                newer.compound_id == Contract.compound_id,
                newer.starts_on <= today,
                or_(
                    newer.ends_on > Contract.ends_on,
                    and_(newer.ends_on == Contract.ends_on, newer.id > Contract.id),
                ),
            ),
        )
        .options(joinedload(Compound.community))
        .order_by(Compound.name)
    )
    return list(db.session.scalars(stmt).unique())


def postable_places(actor) -> list[tuple[str, object]]:
    """The places named in the actor's roles (and just below them), to post from the desk."""
    if not _authenticated(actor):
        return []
    places: list[tuple[str, object]] = []
    streets = security.role_ids(actor, "street")
    if streets:
        for street in db.session.scalars(
            select(Street)
            .where(Street.id.in_(streets))
            .options(selectinload(Street.communities))
            .order_by(Street.name)
        ):
            places.append(("street", street))
            places.extend(("community", c) for c in street.communities)
    communities = security.role_ids(actor, "secretary")
    if communities:
        for community in db.session.scalars(
            select(Community)
            .where(Community.id.in_(communities))
            .options(selectinload(Community.compounds))
            .order_by(Community.name)
        ):
            places.append(("community", community))
            places.extend(("compound", c) for c in community.compounds)
    compounds = security.role_ids(actor, "committee")
    if compounds:
        places.extend(
            ("compound", c)
            for c in db.session.scalars(
                select(Compound).where(Compound.id.in_(compounds)).order_by(Compound.name)
            )
        )
    places.extend(("compound", c) for c in company_compounds(actor))
    seen, unique = set(), []
    for scope_type, place in places:
        if (scope_type, place.id) not in seen:
            seen.add((scope_type, place.id))
            unique.append((scope_type, place))
    return unique


@uploads.owner_visibility(OWNER_TYPE)
def _attachment_visible(viewer, owner_id: int, now: datetime) -> bool:
    notice = db.session.get(Notice, owner_id)
    if notice is None:
        return False
    return notice.is_public(now) or can_manage(viewer, notice)
