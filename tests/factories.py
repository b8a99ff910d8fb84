"""Factories as callable fixtures: make_street(), make_compound(), make_user() …"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from portal.accounts.models import Membership, RoleGrant, User
from portal.accounts.passwords import hash_password
from portal.extensions import db
from portal.places.models import Building, Community, Company, Compound, RosterOwner, Street, Unit

PASSWORD = "correct horse battery staple"
_HASH = hash_password(PASSWORD)
_seq = itertools.count(1)


@pytest.fixture
def make_street(app):
    def _make(name: str | None = None, code: str | None = None) -> Street:
        n = next(_seq)
        street = Street(code=code or f"ST{n}", name=name or f"测试街道{n}", district="测试区")
        db.session.add(street)
        db.session.commit()
        return street

    return _make


@pytest.fixture
def make_community(app, make_street):
    def _make(street: Street | None = None, name: str | None = None, code: str | None = None):
        street = street or make_street()
        n = next(_seq)
        community = Community(
            street_id=street.id, code=code or f"CM{n}", name=name or f"测试社区{n}"
        )
        db.session.add(community)
        db.session.commit()
        return community

    return _make


@pytest.fixture
def make_compound(app, make_community):
    def _make(
        community: Community | None = None,
        name: str | None = None,
        code: str | None = None,
        kind: str = "old",
        buildings: int = 0,
        units_per_building: int = 0,
        address: str = "",
    ) -> Compound:
        community = community or make_community()
        n = next(_seq)
        compound = Compound(
            community_id=community.id,
            code=code or f"CP{n}",
            name=name or f"测试小区{n}",
            kind=kind,
            address=address,
        )
        db.session.add(compound)
        db.session.flush()
        total = Decimal("0")
        for b in range(1, buildings + 1):
            building = Building(compound_id=compound.id, name=f"{b}栋", sort_key=f"{b:04d}")
            db.session.add(building)
            db.session.flush()
            for u in range(1, units_per_building + 1):
                room = f"{(u - 1) // 4 + 1}{(u - 1) % 4 + 1:02d}"
                owner = RosterOwner(
                    compound_id=compound.id,
                    owner_key=f"K-{b}-{room}",
                    name=f"业主{b}{room}",
                    phone=f"139{b:04d}{int(room):04d}",
                )
                db.session.add(owner)
                db.session.flush()
                area = Decimal("88.50")
                db.session.add(
                    Unit(building_id=building.id, room=room, area_m2=area, owner_id=owner.id)
                )
                total += area
        compound.building_count = buildings
        compound.unit_count = buildings * units_per_building
        compound.total_area_m2 = total
        db.session.commit()
        return compound

    return _make


@pytest.fixture
def make_user(app):
    def _make(phone: str | None = None, name: str | None = None, **kw) -> User:
        n = next(_seq)
        user = User(
            phone=phone or f"137{n:08d}",
            display_name=name or f"居民{n}",
            password_hash=_HASH,
            **kw,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return _make


@pytest.fixture
def make_grant(app):
    def _make(user: User, role: str, scope=None) -> RoleGrant:
        scope_type = None
        if scope is not None:
            scope_type = {
                Street: "street",
                Community: "community",
                Compound: "compound",
                Company: "company",
            }[type(scope)]
        grant = RoleGrant(
            user_id=user.id,
            role=role,
            scope_type=scope_type,
            scope_id=scope.id if scope is not None else None,
        )
        db.session.add(grant)
        db.session.commit()
        return grant

    return _make


@pytest.fixture
def make_claim(app):
    def _make(user: User, unit: Unit, relation: str = "owner", status: str = "pending", name=None):
        m = Membership(
            user_id=user.id,
            unit_id=unit.id,
            relation=relation,
            claimed_name=name or (unit.owner.name if unit.owner else user.display_name),
            status=status,
        )
        db.session.add(m)
        db.session.commit()
        return m

    return _make


def first_unit(compound: Compound) -> Unit:
    from sqlalchemy import select

    return db.session.scalar(
        select(Unit).join(Building).where(Building.compound_id == compound.id).order_by(Unit.id)
    )
