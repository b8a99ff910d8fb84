"""The street officer's dashboard: every compound of their street with its company, contract
end, elections under way (live turnout), latest result and late flag; filters, pages, and a
constant number of SQL queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models_base import utcnow
from portal.places.models import Company
from portal.voting import service
from portal.voting.models import Contract, Election
from tests.conftest import text_of

D = timedelta(days=1)
H = timedelta(hours=1)


@pytest.fixture
def street_world(app, make_street, make_community, make_user, make_grant):
    street = make_street(name="和平街道", code="HP")
    other_street = make_street(name="解放街道", code="JF")
    east = make_community(street=street, name="东风社区", code="DF")
    west = make_community(street=street, name="西湖社区", code="XH")
    far = make_community(street=other_street, name="远方社区", code="YF")
    officer = make_user(name="街道干部")
    make_grant(officer, "street", street)
    secretary = make_user(name="书记")
    make_grant(secretary, "secretary", east)
    make_grant(secretary, "secretary", west)
    committee = make_user(name="委员")
    company = Company(name="红星物业")
    db.session.add(company)
    db.session.commit()
    return {
        "street": street,
        "other_street": other_street,
        "east": east,
        "west": west,
        "far": far,
        "officer": officer,
        "secretary": secretary,
        "committee": committee,
        "company": company,
    }


def _as(client, user):
    with client.c.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True


def _contract(w, compound, ends_in_days: int):
    today = utcnow().date()
    db.session.add(
        Contract(
            compound_id=compound.id,
            company_id=w["company"].id,
            starts_on=today - 1000 * D,
            ends_on=today + ends_in_days * D,
            fee_per_m2=Decimal("1.50"),
            service_level="二级",
        )
    )
    db.session.commit()


def _election(w, compound, *, state="open", voters=1):
    """An election of ``compound`` (2 units): open with ``voters`` paper ballots counted,
    or ended and late (closed 5 days ago and not certified), or certified."""
    now = utcnow()
    e = service.create_election(
        w["secretary"],
        compound,
        title=f"{compound.name}续聘",
        matter="renew",
        rule="civil-code-278",
        opens_at=now + 15 * D + H,
        closes_at=now + 22 * D,
    )
    service.announce(w["secretary"], e, now)
    e.opens_at, e.closes_at = now - H, now + 5 * D
    db.session.commit()
    units = [u for b in compound.buildings for u in b.units]
    for u in units[:voters]:
        b = service.enter_paper(w["secretary"], e.id, u.id, "yes", now)
        db.session.commit()
        service.confirm_paper(w["officer_confirm"], e.id, b.id, now)
        db.session.commit()
    if state in ("late", "certified"):
        e = db.session.get(Election, e.id)
        e.opens_at, e.closes_at = now - 12 * D, now - 5 * D
        db.session.commit()
    if state == "certified":
        service.close(w["secretary"], e.id, now)
        service.certify(w["secretary"], e.id, now)
        db.session.commit()
    return e


@pytest.fixture
def confirmer(street_world, make_user, make_grant):
    """A second staff member of both communities, who confirms the paper ballots."""
    user = make_user(name="第二人")
    make_grant(user, "secretary", street_world["east"])
    make_grant(user, "secretary", street_world["west"])
    street_world["officer_confirm"] = user
    return user


def test_officer_sees_only_their_street(client, street_world, make_compound):
    w = street_world
    make_compound(community=w["east"], name="东风小区", buildings=1, units_per_building=2)
    make_compound(community=w["far"], name="远方小区", buildings=1, units_per_building=2)
    _as(client, w["officer"])
    text = text_of(client.get("/staff/street?lang=en"))
    assert "东风小区" in text and "远方小区" not in text
    assert client.get("/staff/street?street=JF").status_code == 403
    _as(client, w["secretary"])
    assert client.get("/staff/street").status_code == 403


def test_admin_chooses_any_street(client, street_world, make_compound, login_as):
    w = street_world
    make_compound(community=w["far"], name="远方小区", buildings=1, units_per_building=2)
    login_as("admin")
    assert "远方小区" in text_of(client.get("/staff/street?street=JF&lang=en"))


def test_officer_finds_the_dashboard_on_the_staff_home(client, street_world):
    _as(client, street_world["officer"])
    assert 'href="/staff/street"' in client.get("/staff").get_data(as_text=True)


def test_rows_show_company_contract_turnout_and_late_flag(
    client, street_world, confirmer, make_compound
):
    w = street_world
    a = make_compound(community=w["east"], name="甲小区", buildings=1, units_per_building=2)
    b = make_compound(community=w["west"], name="乙小区", buildings=1, units_per_building=2)
    _contract(w, a, ends_in_days=90)
    _election(w, a, state="open", voters=1)
    _election(w, b, state="late", voters=2)
    _as(client, w["officer"])
    page = text_of(client.get("/staff/street?lang=en"))
    assert "红星物业" in page and "Contract ends within 6 months" in page
    assert "turnout 50.0% of owners, 50.0% of area" in page
    assert page.count("Result late") == 1


def test_filters(client, street_world, confirmer, make_compound):
    w = street_world
    a = make_compound(community=w["east"], name="甲小区", buildings=1, units_per_building=2)
    b = make_compound(community=w["west"], name="乙小区", buildings=1, units_per_building=2)
    c = make_compound(community=w["west"], name="丙小区", buildings=1, units_per_building=2)
    d = make_compound(community=w["west"], name="丁小区", buildings=1, units_per_building=2)
    _contract(w, a, ends_in_days=90)
    _contract(w, c, ends_in_days=900)
    _election(w, b, state="open")
    _election(w, d, state="certified")
    _as(client, w["officer"])

    def names(query):
        text = text_of(client.get("/staff/street?lang=en&" + query))
        return {n for n in ("甲小区", "乙小区", "丙小区", "丁小区") if n in text}

    assert names("") == {"甲小区", "乙小区", "丙小区", "丁小区"}
    assert names("community=DF") == {"甲小区"}
    assert names("under_way=1") == {"乙小区"}
    assert names("ending=1") == {"甲小区"}
    assert names("late=1") == {"丁小区"}  # certified 5 days after the close, due in 3
    assert names("community=XH&ending=1") == set()
    # htmx gets the panel alone, and the answer varies on HX-Request
    resp = client.hx_get("/staff/street?under_way=1")
    assert "<html" not in resp.get_data(as_text=True) and "乙小区" in text_of(resp)
    assert "HX-Request" in resp.headers.get("Vary", "")


def test_pagination(client, street_world, make_compound):
    w = street_world
    for i in range(25):
        make_compound(community=w["east"], name=f"小区{i:02d}")
    _as(client, w["officer"])
    first = text_of(client.get("/staff/street?lang=en"))
    second = text_of(client.get("/staff/street?lang=en&page=2"))
    assert "25 compounds" in first and "Page 1 of 2" in first
    assert "小区00" in first and "小区19" in first and "小区20" not in first
    assert "小区20" in second and "小区24" in second and "小区00" not in second


def _fill(w, make_compound, n, start):
    for i in range(start, start + n):
        community = w["east"] if i % 2 else w["west"]
        compound = make_compound(
            community=community, name=f"小区{i:02d}", buildings=1, units_per_building=2
        )
        _contract(w, compound, ends_in_days=30 * (i % 12) + 10)
        if i % 3 == 0:
            _election(w, compound, state="open", voters=1)
        elif i % 3 == 1:
            _election(w, compound, state="certified", voters=2)


@pytest.mark.parametrize("query", ["", "?late=1", "?under_way=1&ending=1"])
def test_constant_queries_for_5_and_40_compounds(
    client, street_world, confirmer, make_compound, count_queries, query
):
    w = street_world
    _fill(w, make_compound, 5, 0)
    _as(client, w["officer"])
    url = "/staff/street" + query
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    _fill(w, make_compound, 35, 5)
    with count_queries() as many:
        resp = client.get(url)
        assert resp.status_code == 200
    assert many.count == few.count, "\n\n".join(many.statements)
