"""``flask demo``: a realistic street, one account per role, idempotent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Membership, RoleGrant, User
from portal.audit import AuditEvent
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.places.models import (
    Building,
    Community,
    Company,
    Compound,
    RosterOwner,
    Street,
    Unit,
)
from tests.conftest import text_of


def run_demo(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result


def counts() -> dict[str, int]:
    models = (Street, Community, Compound, Building, Unit, RosterOwner, Company)
    models += (User, RoleGrant, Membership, AuditEvent)
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in models}


@pytest.fixture
def demo(app):
    return run_demo(app)


def test_demo_seeds_a_street_of_four_compounds_and_about_1000_units(demo):
    street = db.session.scalar(select(Street).where(Street.code == "HP"))
    assert (street.name, street.district) == ("和平街道", "示范区")
    assert {c.code: c.name for c in street.communities} == {
        "HP-01": "和平里社区",
        "HP-02": "光明社区",
    }
    compounds = list(db.session.scalars(select(Compound)))
    assert len(compounds) == 4
    assert {c.kind for c in compounds} == {"commercial", "old", "resettlement"}

    units = db.session.scalar(select(func.count()).select_from(Unit))
    assert 900 <= units <= 1100
    # the counters the public pages read were kept by the roster import
    assert sum(c.unit_count for c in compounds) == units
    area = db.session.scalar(select(func.sum(Unit.area_m2)))
    assert sum((c.total_area_m2 for c in compounds), Decimal("0")) == area
    assert sum(c.building_count for c in compounds) == db.session.scalar(
        select(func.count()).select_from(Building)
    )
    low, high = db.session.execute(select(func.min(Unit.area_m2), func.max(Unit.area_m2))).one()
    assert Decimal("45") <= low and high <= Decimal("150")

    assert "和平物业服务有限公司" in db.session.scalars(select(Company.name)).all()
    assert "13900000006" in demo.output and DEMO_PASSWORD in demo.output


def test_demo_roster_has_shared_owners_developer_units_and_missing_phones(demo):
    shared = db.session.scalar(
        select(func.count()).select_from(
            select(Unit.owner_id).group_by(Unit.owner_id).having(func.count() > 1).subquery()
        )
    )
    assert shared >= 3
    developer = list(db.session.scalars(select(Unit).where(Unit.developer_held.is_(True))))
    assert developer
    assert {u.building.compound.kind for u in developer} == {"commercial"}
    assert {u.owner.owner_key for u in developer} == {"DEV-001"}
    no_phone = db.session.scalar(
        select(func.count()).select_from(RosterOwner).where(RosterOwner.phone.is_(None))
    )
    assert no_phone > 0
    phones = db.session.scalars(select(RosterOwner.phone).where(RosterOwner.phone.is_not(None)))
    assert all(p[:2] in ("13", "15", "18") and len(p) == 11 for p in phones)


@pytest.mark.parametrize(
    "phone, role, scope_type, scope_code",
    [
        ("13900000000", "admin", None, None),
        ("13900000001", "street", "street", "HP"),
        ("13900000002", "secretary", "community", "HP-01"),
        ("13900000003", "committee", "compound", None),
        ("13900000004", "company", "company", None),
        ("13900000005", "inspector", "street", "HP"),
    ],
)
def test_each_role_has_its_account_and_grant(demo, phone, role, scope_type, scope_code):
    user = db.session.scalar(select(User).where(User.phone == phone))
    assert user is not None
    grants = [(g.role, g.scope_type) for g in user.grants]
    assert grants == [(role, scope_type)]
    grant = user.grants[0]
    if scope_type == "street":
        assert db.session.get(Street, grant.scope_id).code == scope_code
    elif scope_type == "community":
        assert db.session.get(Community, grant.scope_id).code == scope_code
    elif scope_type == "compound":
        assert db.session.get(Compound, grant.scope_id).community.code == "HP-01"
    elif scope_type == "company":
        assert db.session.get(Company, grant.scope_id).name == "和平物业服务有限公司"


def test_verified_resident_matches_the_roster(demo):
    user = db.session.scalar(select(User).where(User.phone == "13900000006"))
    (claim,) = user.memberships
    assert claim.status == "verified" and claim.relation == "owner"
    assert claim.claimed_name == claim.unit.owner.name == user.display_name
    assert claim.unit.owner.phone == user.phone
    assert not user.grants
    first = db.session.scalar(select(Compound).where(Compound.code == "HP-YJHY"))
    assert claim.unit.building.compound_id == first.id


def test_second_resident_has_a_pending_claim(demo):
    user = db.session.scalar(select(User).where(User.phone == "13900000007"))
    (claim,) = user.memberships
    assert claim.status == "pending"
    assert not user.grants


def test_running_twice_changes_nothing(app, demo):
    before = counts()
    units = {u.id: (u.area_m2, u.owner_id, u.updated_at) for u in db.session.scalars(select(Unit))}
    again = run_demo(app)
    assert "up to date" in again.output
    assert counts() == before
    after = {u.id: (u.area_m2, u.owner_id, u.updated_at) for u in db.session.scalars(select(Unit))}
    assert after == units


def test_demo_resident_logs_in_through_the_form(client, demo):
    resp = client.post_form(
        "/login", {"phone": "13900000006", "password": DEMO_PASSWORD, "next": ""}
    )
    assert resp.status_code == 302, text_of(resp)
    page = client.get("/account/units")
    assert page.status_code == 200
    assert "颐景花园" in text_of(page)


def test_demo_secretary_sees_the_pending_claim(client, demo):
    resp = client.post_form("/login", {"phone": "13900000002", "password": DEMO_PASSWORD})
    assert resp.status_code == 302
    assert "刘秀芳" in text_of(client.get("/staff/claims"))
