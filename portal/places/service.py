"""Places: the read queries of the public pages (the roster import lives in ``roster_service``)."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.errors import NotFound
from portal.extensions import db
from portal.places.models import Building, Community, Compound, Street


def list_streets() -> list[Street]:
    return list(
        db.session.scalars(
            select(Street).options(selectinload(Street.communities)).order_by(Street.name)
        )
    )


def get_street(code: str) -> Street:
    street = db.session.scalar(
        select(Street)
        .where(Street.code == code)
        .options(selectinload(Street.communities).selectinload(Community.compounds))
    )
    if street is None:
        raise NotFound()
    return street


def get_community(code: str) -> Community:
    community = db.session.scalar(
        select(Community)
        .where(Community.code == code)
        .options(joinedload(Community.street), selectinload(Community.compounds))
    )
    if community is None:
        raise NotFound()
    return community


def get_compound(code: str) -> Compound:
    compound = db.session.scalar(
        select(Compound)
        .where(Compound.code == code)
        .options(joinedload(Compound.community).joinedload(Community.street))
    )
    if compound is None:
        raise NotFound()
    return compound


def get_compound_by_id(compound_id: int) -> Compound:
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        raise NotFound()
    return compound


def search_compounds(query: str, page: int, per_page: int) -> Pagination:
    stmt = (
        select(Compound)
        .options(joinedload(Compound.community).joinedload(Community.street))
        .order_by(Compound.name, Compound.id)
    )
    q = (query or "").strip()
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            Compound.name.ilike(like, escape="\\")
            | Compound.address.ilike(like, escape="\\")
            | Compound.code.ilike(like, escape="\\")
        )
    return db.paginate(stmt, page=page, per_page=per_page, max_per_page=100, error_out=False)


def verified_household_count(compound: Compound) -> int:
    from portal.accounts.models import Membership
    from portal.places.models import Unit

    return db.session.scalar(
        select(func.count(func.distinct(Membership.unit_id)))
        .join(Unit, Unit.id == Membership.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == compound.id, Membership.status == "verified")
    )


def buildings_of(compound: Compound) -> list[Building]:
    return list(
        db.session.scalars(
            select(Building).where(Building.compound_id == compound.id).order_by(Building.sort_key)
        )
    )
