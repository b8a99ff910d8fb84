"""Shared fixtures of the proposal tests (imported by the test_proposal* modules).

``world``: a street with two communities; compound A (8 units, 6 verified residents) in the first;
its secretary, committee member, the street officer, staff of the company under contract and of
another company, a secretary of the second community, and a resident of compound B there.
``clock``: the time the proposal routes see (``clock.now = …``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portal.extensions import db
from portal.places.models import Company
from portal.proposals import service
from portal.voting.models import Contract

SH = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 10:00 Beijing time
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=SH).astimezone(UTC)
H = timedelta(hours=1)
S = timedelta(seconds=1)


@dataclass
class World:
    street: object = None
    community: object = None
    compound: object = None
    other_community: object = None
    other_compound: object = None
    secretary: object = None
    other_secretary: object = None
    committee: object = None
    officer: object = None
    company_staff: object = None
    other_company_staff: object = None
    residents: list = field(default_factory=list)
    outsider: object = None  # verified in the other compound
    stranger: object = None  # logged-in, no verified unit


@pytest.fixture
def world(app, make_street, make_community, make_compound, make_user, make_claim, make_grant):
    w = World()
    w.street = make_street(name="和平街道")
    w.community = make_community(street=w.street, name="向阳社区")
    w.compound = make_compound(
        community=w.community, name="和平花园", buildings=1, units_per_building=8
    )
    w.other_community = make_community(street=w.street, name="东风社区")
    w.other_compound = make_compound(
        community=w.other_community, name="东风小区", buildings=1, units_per_building=2
    )
    w.secretary = make_user(name="王书记")
    make_grant(w.secretary, "secretary", w.community)
    w.other_secretary = make_user(name="赵书记")
    make_grant(w.other_secretary, "secretary", w.other_community)
    w.committee = make_user(name="钱委员")
    make_grant(w.committee, "committee", w.compound)
    w.officer = make_user(name="孙街道")
    make_grant(w.officer, "street", w.street)
    company = Company(name="红星物业")
    other = Company(name="蓝天物业")
    db.session.add_all([company, other])
    db.session.flush()
    db.session.add(
        Contract(
            compound_id=w.compound.id,
            company_id=company.id,
            starts_on=date(2025, 1, 1),
            ends_on=date(2035, 12, 31),
            fee_per_m2=Decimal("1.50"),
            service_level="二级",
        )
    )
    db.session.commit()
    w.company_staff = make_user(name="周物业")
    make_grant(w.company_staff, "company", company)
    w.other_company_staff = make_user(name="吴物业")
    make_grant(w.other_company_staff, "company", other)
    names = ["张三丰", "李秀英", "王建国", "刘芳", "陈静", "杨洋"]
    for unit, name in zip(w.compound.buildings[0].units[:6], names, strict=True):
        user = make_user(name=name)
        make_claim(user, unit, status="verified")
        w.residents.append(user)
    w.outsider = make_user(name="外人")
    make_claim(w.outsider, w.other_compound.buildings[0].units[0], status="verified")
    w.stranger = make_user(name="路人甲")
    return w


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock(T0)
    monkeypatch.setattr("portal.proposals.routes.utcnow", c)
    return c


def make_proposal(
    w: World,
    author=None,
    title="楼道灯坏了",
    body="3号楼二单元楼道灯坏了一周。",
    category="facilities",
    now=T0,
    compound=None,
):
    p = service.submit(
        author or w.residents[0], compound or w.compound, title, body, category, [], now
    )
    db.session.commit()
    return p


def accepted(w: World, now=T0, complexity="general", responsible="company", **kw):
    p = make_proposal(w, now=now, **kw)
    service.accept(w.secretary, p.id, complexity, responsible, now)
    db.session.commit()
    return p


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert m
    return m.group(1)


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<[a-z][^>]*\s(on[a-z]+|style)=", re.I)


def assert_csp_clean(html: str) -> None:
    """No inline script, no on* handler, no style attribute."""
    m = INLINE.search(html)
    assert m is None, html[max(0, m.start() - 200) : m.end() + 200]
