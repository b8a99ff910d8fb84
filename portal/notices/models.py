"""Notices (公告) addressed to a street, a community or a compound.

The place is stored three ways at once: ``scope_type`` names the level, and ``street_id``,
``community_id``, ``compound_id`` hold the place and the places above it (``community_id`` is
empty for a street notice, ``compound_id`` for a community one). Lists of "everything that
concerns this place" are then single indexed queries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow
from portal.notices import rules


class Notice(db.Model):
    __tablename__ = "notice"
    __table_args__ = (
        CheckConstraint(
            "category IN ('announcement', 'election', 'fees', 'maintenance', 'outage', "
            "'event', 'other')",
            name="category_known",
        ),
        CheckConstraint("scope_type IN ('street', 'community', 'compound')", name="scope_known"),
        CheckConstraint(
            "(scope_type = 'street' AND community_id IS NULL AND compound_id IS NULL) OR "
            "(scope_type = 'community' AND community_id IS NOT NULL AND compound_id IS NULL) OR "
            "(scope_type = 'compound' AND community_id IS NOT NULL AND compound_id IS NOT NULL)",
            name="scope_consistent",
        ),
        CheckConstraint("expires_at IS NULL OR expires_at > publish_at", name="expires_after"),
        CheckConstraint(
            "issuer IN ('street', 'community', 'committee', 'company', 'admin', 'system')",
            name="issuer_known",
        ),
        Index("ix_notice_street_publish", "street_id", "publish_at"),
        # the street-wide and community-wide notices shown beside a compound's own
        Index("ix_notice_scope_street", "scope_type", "street_id"),
        Index("ix_notice_scope_community", "scope_type", "community_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    scope_type: Mapped[str] = mapped_column(String(16))
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id"), nullable=True, index=True
    )
    compound_id: Mapped[int | None] = mapped_column(
        ForeignKey("compound.id"), nullable=True, index=True
    )
    category: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text, default="")
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when a property company's staff posted it: shown as "from the property company".
    from_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id"), nullable=True, index=True
    )
    # The body in whose name it is posted (the 落款): the street office, the residents'
    # committee, the owners' committee, the property company, the administrator, the portal.
    issuer: Mapped[str] = mapped_column(String(16), default="system")
    # None for notices the portal posts itself (an election announced, a result certified …).
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True, index=True
    )
    source: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    link_endpoint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    link_args: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # First 12 hex digits of the SHA-256 of rules.canonical_text(...), printed on paper.
    fingerprint: Mapped[str] = mapped_column(String(12), index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True
    )
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    street = relationship("Street")
    community = relationship("Community")
    compound = relationship("Compound")
    company = relationship("Company")
    author = relationship("User", foreign_keys=[author_id])
    attachments = relationship(
        "Attachment",
        primaryjoin="and_(Attachment.owner_type == 'notice', "
        "foreign(Attachment.owner_id) == Notice.id)",
        order_by="[Attachment.position, Attachment.id]",
        viewonly=True,
    )

    @property
    def scope_id(self) -> int:
        return {
            "street": self.street_id,
            "community": self.community_id,
            "compound": self.compound_id,
        }[self.scope_type]

    @property
    def scope_key(self) -> str:
        """``compound:12``: the place as the fingerprint names it."""
        return f"{self.scope_type}:{self.scope_id}"

    @property
    def place(self):
        return {"street": self.street, "community": self.community, "compound": self.compound}[
            self.scope_type
        ]

    def state(self, now: datetime) -> str:
        return rules.state(self.publish_at, self.expires_at, self.withdrawn_at, now)

    def is_public(self, now: datetime) -> bool:
        return rules.is_public(self.publish_at, self.withdrawn_at, now)

    @property
    def fingerprint_grouped(self) -> str:
        return rules.group(self.fingerprint)
