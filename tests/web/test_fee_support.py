"""Shared fixtures and helpers of the fee and commitment tests (no tests here).

Import what a test module needs: ``from tests.web.test_fee_support import *``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models_base import utcnow
from portal.places.models import Company
from portal.transparency import periods, service
from portal.transparency.feecore import Billing, Line
from portal.voting.models import Contract
from tests.factories import first_unit

D = Decimal

__all__ = [
    "D",
    "FeePlace",
    "fee_place",
    "staff",
    "secretary",
    "resident",
    "make_input",
    "draft",
    "publish",
    "Line",
    "Billing",
]


@dataclass
class FeePlace:
    street: object
    community: object
    compound: object
    company: object
    contract: object


@pytest.fixture
def fee_place(make_street, make_community, make_compound) -> FeePlace:
    street = make_street(name="和平街道")
    community = make_community(street=street, name="向阳社区")
    compound = make_compound(
        community=community, name="和平花园", code="HPHY", buildings=2, units_per_building=4
    )
    company = Company(name="和平物业服务有限公司")
    db.session.add(company)
    db.session.flush()
    today = date.today()
    contract = Contract(
        compound_id=compound.id,
        company_id=company.id,
        election_id=None,
        starts_on=today - timedelta(days=400),
        ends_on=today + timedelta(days=700),
        fee_per_m2=D("1.80"),
        service_level="二级",
        commitments="1. 报修30分钟内响应，24小时内到场\n2. 每日清扫楼道两次\n3. 门岗24小时值守",
        signed_at=utcnow(),
    )
    db.session.add(contract)
    db.session.commit()
    return FeePlace(street, community, compound, company, contract)


@pytest.fixture
def staff(fee_place, make_user, make_grant):
    user = make_user(phone="13600000004", name="孙丽")
    make_grant(user, "company", fee_place.company)
    return user


@pytest.fixture
def secretary(fee_place, make_user, make_grant):
    user = make_user(phone="13600000002", name="王书记")
    make_grant(user, "secretary", fee_place.community)
    return user


@pytest.fixture
def resident(fee_place, make_user, make_claim):
    user = make_user(phone="13912345678", name="李秀英")
    make_claim(user, first_unit(fee_place.compound), status="verified")
    return user


def make_input(
    key: str = "2026-01",
    *,
    reason: str = "",
    lines=None,
    billing=None,
    buildings=None,
    opening="1000.00",
    note="",
) -> service.StatementInput:
    lines = (
        lines
        if lines is not None
        else [
            Line("income", "property_fees", "物业服务费", D("8650.00")),
            Line("income", "parking", "", D("1200.00")),
            Line("expense", "wages", "", D("5200.00")),
            Line("expense", "cleaning", "保洁外包", D("1500.00"), "每周三次"),
            Line("expense", "repairs", "", D("650.50")),
        ]
    )
    buildings = (
        buildings
        if buildings is not None
        else [
            Billing(4, 3, D("4800.00"), D("3600.00"), "1栋"),
            Billing(4, 4, D("4800.00"), D("4800.00"), "2栋"),
        ]
    )
    billing = billing or Billing(8, 7, D("9600.00"), D("8400.00"))
    return service.StatementInput(
        period=periods.parse_key(key),
        lines=lines,
        billing=billing,
        buildings=buildings,
        opening_balance=D(opening),
        note=note,
        revision_reason=reason,
    )


def draft(fee_place, staff, key="2026-01", **kw):
    s = service.create_draft(staff, fee_place.compound, make_input(key, **kw), utcnow())
    db.session.commit()
    return s


def publish(fee_place, staff, secretary, key="2026-01", **kw):
    s = draft(fee_place, staff, key, **kw)
    service.submit(staff, s, utcnow())
    service.publish(secretary, s, utcnow())
    db.session.commit()
    return s
