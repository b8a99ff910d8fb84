"""A resident claims a unit; the community secretary verifies or rejects it; scope checks."""

from sqlalchemy import select

from portal.accounts.models import Membership
from portal.audit import AuditEvent
from portal.extensions import db
from tests.conftest import text_of
from tests.factories import first_unit


def _claim(client, compound, building_id, room="101", relation="owner", name="业主1101"):
    return client.post_form(
        f"/compounds/{compound.code}/claim",
        {"building": building_id, "room": room, "relation": relation, "claimed_name": name},
    )


def test_claim_requires_login(client, make_compound):
    compound = make_compound(buildings=1, units_per_building=4)
    resp = client.get(f"/compounds/{compound.code}/claim")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_resident_claims_a_unit_and_sees_it_waiting(client, login_as, make_compound):
    compound = make_compound(name="和平花园", buildings=2, units_per_building=4)
    login_as()
    unit = first_unit(compound)
    resp = _claim(client, compound, unit.building_id, unit.room)
    assert resp.status_code == 302
    m = db.session.scalar(select(Membership))
    assert (m.unit_id, m.status, m.relation) == (unit.id, "pending", "owner")
    text = text_of(client.get("/account/units?lang=en"))
    assert "和平花园" in text and "Waiting for the community" in text


def test_claim_of_unknown_room_explains_and_saves_nothing(client, login_as, make_compound):
    compound = make_compound(buildings=1, units_per_building=4)
    login_as()
    client.set_cookie("lang", "en")
    unit = first_unit(compound)
    resp = _claim(client, compound, unit.building_id, "999")
    assert resp.status_code == 422
    assert "There is no room 999" in text_of(resp)
    assert db.session.scalar(select(Membership)) is None


def test_claim_with_building_of_another_compound_is_refused(client, login_as, make_compound):
    a = make_compound(buildings=1, units_per_building=4)
    b = make_compound(buildings=1, units_per_building=4)
    login_as()
    unit_b = first_unit(b)
    resp = _claim(client, a, unit_b.building_id, unit_b.room)
    assert resp.status_code == 422
    assert db.session.scalar(select(Membership)) is None


def test_claiming_twice_is_refused(client, login_as, make_compound):
    compound = make_compound(buildings=1, units_per_building=4)
    login_as()
    client.set_cookie("lang", "en")
    unit = first_unit(compound)
    _claim(client, compound, unit.building_id, unit.room)
    resp = _claim(client, compound, unit.building_id, unit.room)
    assert resp.status_code == 422 and "already claimed" in text_of(resp)
    assert len(db.session.scalars(select(Membership)).all()) == 1


def test_claim_page_without_roster_says_so(client, login_as, make_compound):
    compound = make_compound()
    login_as()
    text = text_of(client.get(f"/compounds/{compound.code}/claim?lang=en"))
    assert "has not yet loaded this compound's unit roster" in text


def test_secretary_sees_queue_with_masked_roster_hint(
    client, login_as, make_compound, make_user, make_claim
):
    compound = make_compound(buildings=1, units_per_building=4)
    unit = first_unit(compound)
    resident = make_user(phone="13612345678", name="王五")
    make_claim(resident, unit, name="王五")
    login_as("secretary", compound.community)
    resp = client.get("/staff/claims?lang=en")
    assert resp.status_code == 200
    text = text_of(resp)
    assert "王五" in text and "13612345678" in text  # the secretary deciding sees the phone
    owner = unit.owner
    assert owner.name not in text  # the roster's name is masked...
    assert owner.name[0] + "*" * (len(owner.name) - 1) in text
    assert f"phone ending {owner.phone[-4:]}" in text
    assert owner.phone not in text  # ...and only the last four digits of its phone
    assert "Name differs from the roster" in text


def test_secretary_verifies_with_htmx_and_resident_sees_it(
    app, client, login_as, make_compound, make_user, make_claim
):
    compound = make_compound(buildings=1, units_per_building=4)
    resident = make_user()
    claim = make_claim(resident, first_unit(compound))
    secretary = login_as("secretary", compound.community)
    resp = client.post_form(f"/staff/claims/{claim.id}/verify", htmx=True)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<html" not in body and f'id="claim-{claim.id}"' in body
    db.session.refresh(claim)
    assert claim.status == "verified" and claim.decided_by_id == secretary.id
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "claim.verified"))
    assert ev.actor_id == secretary.id and ev.object_id == claim.id
    other = app.test_client()
    with other.session_transaction() as sess:
        sess["_user_id"] = resident.get_id()
    assert "Verified" in text_of(other.get("/account/units?lang=en"))


def test_secretary_verifies_without_js(client, login_as, make_compound, make_user, make_claim):
    compound = make_compound(buildings=1, units_per_building=4)
    claim = make_claim(make_user(), first_unit(compound))
    login_as("secretary", compound.community)
    resp = client.post_form(f"/staff/claims/{claim.id}/verify")
    assert resp.status_code == 302 and "/staff/claims" in resp.headers["Location"]
    db.session.refresh(claim)
    assert claim.status == "verified"


def test_reject_needs_reason_and_resident_sees_it(
    app, client, login_as, make_compound, make_user, make_claim
):
    compound = make_compound(buildings=1, units_per_building=4)
    resident = make_user()
    claim = make_claim(resident, first_unit(compound))
    login_as("secretary", compound.community)
    client.set_cookie("lang", "en")
    empty = client.post_form(f"/staff/claims/{claim.id}/reject", {"reason": ""})
    assert empty.status_code == 422
    db.session.refresh(claim)
    assert claim.status == "pending"
    empty_hx = client.post_form(f"/staff/claims/{claim.id}/reject", {"reason": ""}, htmx=True)
    assert empty_hx.status_code == 200 and "<html" not in empty_hx.get_data(as_text=True)
    resp = client.post_form(f"/staff/claims/{claim.id}/reject", {"reason": "房号与产权证不符"})
    assert resp.status_code == 302
    db.session.refresh(claim)
    assert (claim.status, claim.reason) == ("rejected", "房号与产权证不符")
    other = app.test_client()
    with other.session_transaction() as sess:
        sess["_user_id"] = resident.get_id()
    text = text_of(other.get("/account/units?lang=en"))
    assert "Rejected" in text and "房号与产权证不符" in text


def test_rejected_claim_can_be_made_again(client, login_as, make_compound, make_claim):
    compound = make_compound(buildings=1, units_per_building=4)
    user = login_as()
    unit = first_unit(compound)
    claim = make_claim(user, unit, status="rejected")
    resp = _claim(client, compound, unit.building_id, unit.room)
    assert resp.status_code == 302
    db.session.refresh(claim)
    assert claim.status == "pending"


def test_deciding_twice_is_a_conflict(client, login_as, make_compound, make_user, make_claim):
    compound = make_compound(buildings=1, units_per_building=4)
    claim = make_claim(make_user(), first_unit(compound))
    login_as("secretary", compound.community)
    client.post_form(f"/staff/claims/{claim.id}/verify")
    assert client.post_form(f"/staff/claims/{claim.id}/reject", {"reason": "x"}).status_code == 409


def test_resident_gets_403_on_the_queue(client, login_as):
    login_as()
    assert client.get("/staff/claims").status_code == 403
    assert client.get("/staff").status_code == 403


def test_secretary_of_another_community_cannot_see_or_decide(
    client, login_as, make_compound, make_community, make_user, make_claim
):
    compound = make_compound(buildings=1, units_per_building=4)
    claim = make_claim(make_user(name="赵六"), first_unit(compound))
    login_as("secretary", make_community())
    assert "赵六" not in text_of(client.get("/staff/claims"))
    assert client.post_form(f"/staff/claims/{claim.id}/verify").status_code in (403, 404)
    assert client.post_form(f"/staff/claims/{claim.id}/reject", {"reason": "x"}).status_code in (
        403,
        404,
    )
    db.session.refresh(claim)
    assert claim.status == "pending"


def test_resident_cannot_decide_own_claim(client, login_as, make_compound, make_claim):
    compound = make_compound(buildings=1, units_per_building=4)
    user = login_as()
    claim = make_claim(user, first_unit(compound))
    assert client.post_form(f"/staff/claims/{claim.id}/verify").status_code == 403


def test_resident_sees_only_own_claims(client, login_as, make_compound, make_user, make_claim):
    compound = make_compound(name="和平花园", buildings=1, units_per_building=4)
    units = compound.buildings[0].units
    make_claim(make_user(), units[0], name="别人的名字")
    login_as()
    text = text_of(client.get("/account/units"))
    assert "别人的名字" not in text and "和平花园" not in text


def test_decided_claims_show_masked_phone(client, login_as, make_compound, make_user, make_claim):
    compound = make_compound(buildings=1, units_per_building=4)
    make_claim(make_user(phone="13612345678"), first_unit(compound), status="verified")
    login_as("secretary", compound.community)
    text = text_of(client.get("/staff/claims?status=verified"))
    assert "136****5678" in text and "13612345678" not in text


def test_verified_households_count_on_compound_page(client, make_compound, make_user, make_claim):
    compound = make_compound(buildings=1, units_per_building=4)
    units = compound.buildings[0].units
    make_claim(make_user(), units[0], status="verified")
    make_claim(make_user(), units[0], relation="family", status="verified")
    make_claim(make_user(), units[1], status="pending")
    resp = client.get(f"/compounds/{compound.code}?lang=en")
    assert "Verified households 1" in text_of(resp)


def test_claims_queue_query_count_constant(
    client, login_as, make_compound, make_user, make_claim, count_queries
):
    compound = make_compound(buildings=2, units_per_building=12)
    units = [u for b in compound.buildings for u in b.units]
    login_as("secretary", compound.community)
    make_claim(make_user(), units[0])
    with count_queries() as q:
        client.get("/staff/claims")
    few = q.count
    for u in units[1:20]:
        make_claim(make_user(), u)
    with count_queries() as q:
        client.get("/staff/claims")
    assert q.count == few


def test_matching_name_and_phone_are_flagged(
    client, login_as, make_compound, make_user, make_claim
):
    compound = make_compound(buildings=1, units_per_building=4)
    unit = first_unit(compound)
    resident = make_user(phone=unit.owner.phone)
    make_claim(resident, unit, name=unit.owner.name)
    login_as("secretary", compound.community)
    text = text_of(client.get("/staff/claims?lang=en"))
    assert "Name matches the roster" in text and "Phone matches the roster" in text
