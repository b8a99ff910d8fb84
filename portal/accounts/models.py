"""Users, their claims on units (memberships) and their scoped role grants."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow
from portal.places.models import Unit

RELATIONS = ("owner", "tenant", "family")
CLAIM_STATES = ("pending", "verified", "rejected")
# role -> the kind of place (or organisation) it is scoped to; None = site-wide
ROLE_SCOPES = {
    "committee": "compound",
    "secretary": "community",
    "street": "street",
    "company": "company",
    "inspector": "street",
    "admin": None,
}


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(50))
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    large_text: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on logout and password change: every cookie issued before stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id"
    )
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user",
        foreign_keys="RoleGrant.user_id",
        primaryjoin="and_(RoleGrant.user_id == User.id, RoleGrant.revoked_at.is_(None))",
        viewonly=True,
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the session version travels in the cookie
        return f"{self.id}:{self.session_version}"


class Membership(db.Model):
    """A person's claim on a unit; only a verified one gives rights."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "unit_id"),
        CheckConstraint("relation IN ('owner', 'tenant', 'family')", name="relation_known"),
        CheckConstraint("status IN ('pending', 'verified', 'rejected')", name="status_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    claimed_name: Mapped[str] = mapped_column(String(50))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    unit: Mapped[Unit] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class RoleGrant(db.Model):
    """A role held over a scope (a compound, community, street or company)."""

    __tablename__ = "role_grant"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    scope_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    scope_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])
