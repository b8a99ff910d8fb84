"""The map of places: street -> community -> compound -> building -> unit, and the roster."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow

COMPOUND_KINDS = ("commercial", "old", "resettlement")


class Street(db.Model):
    __tablename__ = "street"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100), default="")

    communities: Mapped[list[Community]] = relationship(
        back_populates="street", order_by="Community.name"
    )


class Community(db.Model):
    __tablename__ = "community"
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")

    street: Mapped[Street] = relationship(back_populates="communities")
    compounds: Mapped[list[Compound]] = relationship(
        back_populates="community", order_by="Compound.name"
    )


class Compound(db.Model):
    __tablename__ = "compound"
    __table_args__ = (
        CheckConstraint("kind IN ('commercial', 'old', 'resettlement')", name="kind_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(200), default="")
    # Counters kept by the roster import so that lists need no aggregate queries.
    unit_count: Mapped[int] = mapped_column(Integer, default=0)
    building_count: Mapped[int] = mapped_column(Integer, default=0)
    total_area_m2: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))

    community: Mapped[Community] = relationship(back_populates="compounds")
    buildings: Mapped[list[Building]] = relationship(
        back_populates="compound", order_by="Building.sort_key"
    )


class Building(db.Model):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("compound_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    sort_key: Mapped[str] = mapped_column(String(80), default="")

    compound: Mapped[Compound] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building", order_by="Unit.room")


class RosterOwner(db.Model):
    """An owner as the secretary's roster names them; ``owner_key`` spans several units."""

    __tablename__ = "roster_owner"
    __table_args__ = (UniqueConstraint("compound_id", "owner_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    owner_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)

    units: Mapped[list[Unit]] = relationship(back_populates="owner")


class Unit(db.Model):
    """An exclusive part (专有部分) with its registered exclusive area."""

    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("building_id", "room"),
        CheckConstraint("area_m2 > 0", name="area_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    room: Mapped[str] = mapped_column(String(30))
    area_m2: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("roster_owner.id"), nullable=True, index=True
    )
    developer_held: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    building: Mapped[Building] = relationship(back_populates="units")
    owner: Mapped[RosterOwner | None] = relationship(back_populates="units")

    @property
    def label(self) -> str:
        return f"{self.building.name} {self.room}"


class Company(db.Model):
    """A property-service company (物业服务企业)."""

    __tablename__ = "company"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True, nullable=True)
