"""Append-only audit events: who did what to which object, when, from where."""

from __future__ import annotations

from datetime import datetime

from flask import g, has_request_context, request
from sqlalchemy import JSON, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), nullable=True, index=True
    )
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    object_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User")


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise AppendOnlyError("audit events are append-only")


def record(
    action: str,
    actor=None,
    obj=None,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    **detail,
) -> AuditEvent:
    """Add an audit event to the session (the caller's transaction commits it)."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    ip = request_id = None
    if has_request_context():
        ip = request.remote_addr
        request_id = g.get("request_id")
    ev = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        object_type=object_type,
        object_id=object_id,
        ip=ip,
        request_id=request_id,
        detail={k: v for k, v in detail.items() if v is not None},
    )
    db.session.add(ev)
    return ev
