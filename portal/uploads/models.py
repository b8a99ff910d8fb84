"""Attachments: one row per file attached to a record (a notice, a minutes revision …).

The bytes live outside ``static/`` under a random name (``key``); the row keeps what the portal
needs to serve and check them: sha256, size, the type found by content, the name the uploader
gave, and the record that owns the file. Who may download it is decided by that record
(``portal.uploads.service.owner_visibility``), never by the file itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow

MIMETYPES = ("application/pdf", "image/jpeg", "image/png")


class Attachment(db.Model):
    __tablename__ = "attachment"
    __table_args__ = (
        CheckConstraint(
            "mimetype IN ('application/pdf', 'image/jpeg', 'image/png')", name="mimetype_known"
        ),
        CheckConstraint("size > 0", name="size_positive"),
        Index("ix_attachment_owner", "owner_type", "owner_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # The record the file belongs to: ("notice", notice.id), ("minutes_revision", revision.id) …
    owner_type: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    mimetype: Mapped[str] = mapped_column(String(32))
    original_name: Mapped[str] = mapped_column(String(200))
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    uploaded_by = relationship("User")

    @property
    def is_image(self) -> bool:
        return self.mimetype.startswith("image/")

    @property
    def is_pdf(self) -> bool:
        return self.mimetype == "application/pdf"
