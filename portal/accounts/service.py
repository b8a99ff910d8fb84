"""Accounts: registration, login, profile, unit claims and their verification, role grants.

Every function takes the acting user explicitly and checks its right over the object.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit, security
from portal.accounts import passwords
from portal.accounts.models import RELATIONS, ROLE_SCOPES, Membership, RoleGrant, User
from portal.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.models_base import utcnow
from portal.places.models import Building, Community, Company, Compound, Street, Unit
from portal.privacy import mask_name, phone_last4


def password_problem(password: str, phone: str, display_name: str) -> str | None:
    key = passwords.weakness(password, [phone, display_name])
    return (
        {
            "too_short": _("Use at least %(n)d characters.", n=passwords.MIN_LENGTH),
            "too_long": _("Use at most %(n)d characters.", n=passwords.MAX_LENGTH),
            "common": _(
                "This password is too common or too easy to guess (for example a date, your phone "
                "number or 12345678). Use a longer phrase only you would think of."
            ),
        }.get(key)
        if key
        else None
    )


# ---- accounts ---------------------------------------------------------------------------


def register(phone: str, display_name: str, password: str, locale: str | None) -> User:
    problem = password_problem(password, phone, display_name)
    if problem:
        raise ValidationFailed(problem)
    if db.session.scalar(select(User.id).where(User.phone == phone)) is not None:
        raise Conflict(_("An account with this mobile number already exists. Log in instead."))
    user = User(
        phone=phone,
        display_name=display_name,
        password_hash=passwords.hash_password(password),
        locale=locale,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(
            _("An account with this mobile number already exists. Log in instead.")
        ) from exc
    audit.record("account.registered", user, user)
    return user


def authenticate(phone_raw: str, password: str) -> User | None:
    """The user for these credentials, or None; both outcomes are audited."""
    from portal.validators import normalise_mobile

    phone = normalise_mobile(phone_raw) or (phone_raw or "").strip()[:20]
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        passwords.verify_password(passwords.DUMMY_HASH, password)
        audit.record("login.failed", None, object_type="user_account", reason="unknown_account")
        return None
    if not user.active or not passwords.verify_password(user.password_hash, password):
        audit.record("login.failed", None, user, reason="bad_password")
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    audit.record("login.succeeded", user, user)
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session cookie issued to ``user`` so far (logout, password change)."""
    user.session_version = (user.session_version or 1) + 1
    audit.record("logout", user, user)


def update_profile(user: User, display_name: str, locale: str, large_text: bool) -> None:
    user.display_name = display_name
    user.locale = locale
    user.large_text = large_text


def change_password(user: User, current: str, new: str) -> None:
    if not passwords.verify_password(user.password_hash, current):
        raise ValidationFailed(_("The current password is not correct."))
    problem = password_problem(new, user.phone, user.display_name)
    if problem:
        raise ValidationFailed(problem)
    user.password_hash = passwords.hash_password(new)
    user.session_version = (user.session_version or 1) + 1
    audit.record("password.changed", user, user)


# ---- unit claims --------------------------------------------------------------------------


def claim_unit(
    user: User,
    compound: Compound,
    building_id: int,
    room: str,
    relation: str,
    claimed_name: str,
    note: str = "",
) -> Membership:
    if relation not in RELATIONS:
        raise ValidationFailed(_("Choose how you relate to the unit."))
    unit = db.session.scalar(
        select(Unit)
        .join(Building)
        .where(
            Building.id == building_id,
            Building.compound_id == compound.id,
            Unit.room == room.strip(),
        )
    )
    if unit is None:
        raise ValidationFailed(
            _(
                "There is no room %(room)s in this building on the roster. Check the number "
                "on your door or property certificate.",
                room=room,
            )
        )
    existing = db.session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.unit_id == unit.id)
    )
    if existing is not None and existing.status != "rejected":
        raise Conflict(_("You have already claimed this unit."))
    if existing is not None:  # a rejected claim may be made again, once corrected
        existing.relation = relation
        existing.claimed_name = claimed_name
        existing.note = note or ""
        existing.status = "pending"
        existing.reason = ""
        existing.decided_at = None
        existing.decided_by_id = None
        existing.created_at = utcnow()
        membership = existing
    else:
        membership = Membership(
            user_id=user.id,
            unit_id=unit.id,
            relation=relation,
            claimed_name=claimed_name,
            note=note or "",
        )
        db.session.add(membership)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(_("You have already claimed this unit.")) from exc
    audit.record("claim.submitted", user, membership, unit=unit.id, relation=relation)
    return membership


def my_claims(user: User) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.user_id == user.id)
            .options(
                joinedload(Membership.unit).joinedload(Unit.building).joinedload(Building.compound)
            )
            .order_by(Membership.created_at.desc())
        ).unique()
    )


def _claims_scope(actor: User):
    """SQL condition limiting claims to those ``actor`` may decide, or None for none."""
    if security.is_admin(actor):
        return True
    ids = security.secretary_community_ids(actor)
    if not ids:
        return None
    return Compound.community_id.in_(ids)


def can_review_claims(actor: User) -> bool:
    return _claims_scope(actor) is not None


def claims_queue(actor: User, status: str, page: int, per_page: int) -> Pagination:
    scope = _claims_scope(actor)
    if scope is None:
        raise PermissionDenied(_("Only community secretaries review unit claims."))
    stmt = (
        select(Membership)
        .join(Unit, Unit.id == Membership.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .options(
            joinedload(Membership.user),
            joinedload(Membership.unit).joinedload(Unit.owner),
            joinedload(Membership.unit).joinedload(Unit.building).joinedload(Building.compound),
        )
    )
    if scope is not True:
        stmt = stmt.where(scope)
    if status in ("pending", "verified", "rejected"):
        stmt = stmt.where(Membership.status == status)
    order = Membership.created_at.asc() if status == "pending" else Membership.decided_at.desc()
    stmt = stmt.order_by(order, Membership.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def get_claim_for_review(actor: User, claim_id: int) -> Membership:
    claim = db.session.scalar(
        select(Membership)
        .where(Membership.id == claim_id)
        .options(
            joinedload(Membership.user),
            joinedload(Membership.unit).joinedload(Unit.owner),
            joinedload(Membership.unit)
            .joinedload(Unit.building)
            .joinedload(Building.compound)
            .joinedload(Compound.community),
        )
    )
    if claim is None:
        raise NotFound()
    community = claim.unit.building.compound.community
    if not (security.is_admin(actor) or security.is_secretary_of(actor, community)):
        raise PermissionDenied(_("This claim belongs to another community."))
    return claim


@dataclass(frozen=True)
class RosterHint:
    """What the roster says about a claimed unit, as much as the secretary needs."""

    owner_name_masked: str
    phone_last4: str
    name_matches: bool
    phone_matches: bool
    developer_held: bool
    on_roster: bool


def roster_hint(claim: Membership) -> RosterHint:
    owner = claim.unit.owner
    if owner is None:
        return RosterHint("", "", False, False, claim.unit.developer_held, False)
    return RosterHint(
        owner_name_masked=mask_name(owner.name),
        phone_last4=phone_last4(owner.phone),
        name_matches=owner.name.strip() == (claim.claimed_name or "").strip(),
        phone_matches=bool(owner.phone) and owner.phone == claim.user.phone,
        developer_held=claim.unit.developer_held,
        on_roster=True,
    )


def verify_claim(actor: User, claim: Membership) -> None:
    _decide(actor, claim, "verified", "")


def reject_claim(actor: User, claim: Membership, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the resident a reason for the rejection."))
    _decide(actor, claim, "rejected", reason)


def _decide(actor: User, claim: Membership, status: str, reason: str) -> None:
    community = claim.unit.building.compound.community
    if not (security.is_admin(actor) or security.is_secretary_of(actor, community)):
        raise PermissionDenied(_("This claim belongs to another community."))
    if claim.status != "pending":
        raise Conflict(_("This claim has already been decided."))
    claim.status = status
    claim.reason = reason
    claim.decided_at = utcnow()
    claim.decided_by_id = actor.id
    audit.record(
        "claim." + status, actor, claim, unit=claim.unit_id, user=claim.user_id, reason=reason
    )


# ---- role grants --------------------------------------------------------------------------

SCOPE_MODELS = {"compound": Compound, "community": Community, "street": Street, "company": Company}


def _scope_street_id(scope_type: str | None, obj) -> int | None:
    if scope_type == "street":
        return obj.id
    if scope_type == "community":
        return obj.street_id
    if scope_type == "compound":
        return obj.community.street_id
    return None


def grantable_roles(actor: User) -> list[str]:
    if security.is_admin(actor):
        return list(ROLE_SCOPES)
    if security.role_ids(actor, "street"):
        return ["committee", "secretary", "inspector"]
    return []


def resolve_scope(role: str, code: str | None):
    """The scope object a role is granted over, found by its code (company: by id or name)."""
    scope_type = ROLE_SCOPES.get(role, "?")
    if scope_type == "?":
        raise ValidationFailed(_("Unknown role."))
    if scope_type is None:
        return None, None
    if not code:
        raise ValidationFailed(_("This role needs a scope code."))
    model = SCOPE_MODELS[scope_type]
    if scope_type == "company":
        cond = model.name == code
        if code.isdigit():
            cond = cond | (model.id == int(code))
        obj = db.session.scalar(select(model).where(cond))
    else:
        obj = db.session.scalar(select(model).where(model.code == code))
    if obj is None:
        from portal.accounts.labels import SCOPE_LABELS

        raise ValidationFailed(
            _("No %(kind)s has the code %(code)s.", kind=SCOPE_LABELS[scope_type], code=code)
        )
    return scope_type, obj


def can_grant(actor: User, role: str, scope_type: str | None, obj) -> bool:
    if security.is_admin(actor):
        return True
    if role not in ("committee", "secretary", "inspector"):
        return False
    street_id = _scope_street_id(scope_type, obj)
    return street_id is not None and street_id in security.role_ids(actor, "street")


def grant_role(actor: User, phone: str, role: str, scope_code: str | None) -> RoleGrant:
    scope_type, obj = resolve_scope(role, scope_code)
    if not can_grant(actor, role, scope_type, obj):
        raise PermissionDenied(_("You cannot grant this role over this scope."))
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        raise ValidationFailed(
            _("No account uses this mobile number. Ask the person to register first.")
        )
    scope_id = obj.id if obj is not None else None
    dup = db.session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == role,
            RoleGrant.scope_type.is_(None)
            if scope_type is None
            else RoleGrant.scope_type == scope_type,
            RoleGrant.scope_id.is_(None) if scope_id is None else RoleGrant.scope_id == scope_id,
            RoleGrant.revoked_at.is_(None),
        )
    )
    if dup is not None:
        raise Conflict(_("This person already holds this role over this scope."))
    grant = RoleGrant(
        user_id=user.id,
        role=role,
        scope_type=scope_type,
        scope_id=scope_id,
        granted_by_id=actor.id,
    )
    db.session.add(grant)
    db.session.flush()
    security.forget_grants(user)
    audit.record("role.granted", actor, grant, user=user.id, role=role, scope=scope_code)
    return grant


def revoke_grant(actor: User, grant_id: int) -> RoleGrant:
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.revoked_at is not None:
        raise NotFound()
    obj = None
    if grant.scope_type:
        obj = db.session.get(SCOPE_MODELS[grant.scope_type], grant.scope_id)
    if not can_grant(actor, grant.role, grant.scope_type, obj):
        raise PermissionDenied(_("You cannot revoke this grant."))
    if grant.user_id == actor.id and grant.role == "admin":
        raise Conflict(_("You cannot revoke your own administrator role."))
    grant.revoked_at = utcnow()
    grant.revoked_by_id = actor.id
    security.forget_grants(grant.user)
    audit.record("role.revoked", actor, grant, user=grant.user_id, role=grant.role)
    return grant


def create_admin(phone: str, password: str, display_name: str) -> User:
    """Create (or promote) a site administrator; used by the CLI."""
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = register(phone, display_name, password, None)
    has = db.session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.user_id == user.id, RoleGrant.role == "admin", RoleGrant.revoked_at.is_(None)
        )
    )
    if has is None:
        grant = RoleGrant(user_id=user.id, role="admin")
        db.session.add(grant)
        db.session.flush()
        audit.record("role.granted", None, grant, user=user.id, role="admin", via="cli")
    return user


def visible_grants(actor: User, page: int, per_page: int) -> Pagination:
    """Active grants the actor may manage: all for the admin, their street's for an officer."""
    stmt = (
        select(RoleGrant)
        .where(RoleGrant.revoked_at.is_(None))
        .options(joinedload(RoleGrant.user), joinedload(RoleGrant.granted_by))
        .order_by(RoleGrant.created_at.desc(), RoleGrant.id.desc())
    )
    if not security.is_admin(actor):
        streets = security.role_ids(actor, "street")
        community_ids = select(Community.id).where(Community.street_id.in_(streets))
        compound_ids = select(Compound.id).where(Compound.community_id.in_(community_ids))
        stmt = stmt.where(
            ((RoleGrant.scope_type == "community") & RoleGrant.scope_id.in_(community_ids))
            | ((RoleGrant.scope_type == "compound") & RoleGrant.scope_id.in_(compound_ids))
            | (
                (RoleGrant.scope_type == "street")
                & (RoleGrant.role == "inspector")
                & RoleGrant.scope_id.in_(streets)
            )
        )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def scope_names(grants: list[RoleGrant]) -> dict[tuple[str, int], str]:
    """Display names of the scopes of ``grants``, one query per kind of scope."""
    wanted: dict[str, set[int]] = {}
    for gr in grants:
        if gr.scope_type:
            wanted.setdefault(gr.scope_type, set()).add(gr.scope_id)
    names = {}
    for kind, ids in wanted.items():
        model = SCOPE_MODELS[kind]
        for obj in db.session.scalars(select(model).where(model.id.in_(ids))):
            names[(kind, obj.id)] = obj.name
    return names


def audit_events(action_prefix: str, page: int, per_page: int) -> Pagination:
    from portal.audit import AuditEvent

    stmt = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    if action_prefix:
        stmt = stmt.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)
