"""Security headers, request ids, and role/scope checks."""

from __future__ import annotations

import re
import uuid

from flask import Flask, current_app, g, request, session
from sqlalchemy import select

from portal.extensions import db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def init_security(app: Flask) -> None:
    @app.before_request
    def _request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _headers(resp):
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if current_app.config["PORTAL_ENV"] == "production":
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "request_id" in g:
            h["X-Request-ID"] = g.request_id
        if request.endpoint != "static" and resp.mimetype == "text/html":
            h.setdefault("Cache-Control", "no-store" if _logged_in() else "no-cache")
        return resp


def _logged_in() -> bool:
    """Whether the response goes to a signed-in user, without reloading an expired user row
    (after a commit, ``is_authenticated`` would read ``active`` from the database again)."""
    user = g.get("_login_user")
    if user is None:
        return "_user_id" in session
    return not user.is_anonymous


# ---- roles and scopes -------------------------------------------------------------------


def _grants(user):
    """Active grants of a user, cached on the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cache = g.setdefault("_grants_cache", {})
    if user.id not in cache:
        from portal.accounts.models import RoleGrant

        cache[user.id] = list(
            db.session.scalars(
                select(RoleGrant).where(
                    RoleGrant.user_id == user.id, RoleGrant.revoked_at.is_(None)
                )
            )
        )
    return cache[user.id]


def forget_grants(user) -> None:
    g.setdefault("_grants_cache", {}).pop(getattr(user, "id", None), None)


def has_grants(user) -> bool:
    """Whether ``user`` holds any active role grant (staff of some kind)."""
    return bool(_grants(user))


def is_admin(user) -> bool:
    return any(gr.role == "admin" for gr in _grants(user))


def role_ids(user, role: str) -> set[int]:
    """The scope ids over which ``user`` holds ``role``."""
    return {gr.scope_id for gr in _grants(user) if gr.role == role and gr.scope_id is not None}


def has_any_role(user, *roles: str) -> bool:
    return any(gr.role in roles for gr in _grants(user))


def is_secretary_of(user, community) -> bool:
    return community is not None and community.id in role_ids(user, "secretary")


def is_street_officer_of(user, street) -> bool:
    return street is not None and street.id in role_ids(user, "street")


def secretary_community_ids(user) -> set[int]:
    return role_ids(user, "secretary")


def oversees_community(user, community) -> bool:
    """Secretary of the community, street officer of its street, or site admin."""
    return (
        is_admin(user)
        or is_secretary_of(user, community)
        or community.street_id in role_ids(user, "street")
    )
