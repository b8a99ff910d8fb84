"""Service commitments: the contract on record (or recorded directly), itemising its text,
editing items, the commitment page with its evidence section, roles and audit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.places.models import Company
from portal.transparency.models import Commitment
from portal.voting.models import Contract
from tests.conftest import text_of
from tests.web.test_fee_support import *  # noqa: F403
from tests.web.test_fee_support import D


def items() -> list[Commitment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Commitment).order_by(Commitment.position)))


def test_a_compound_without_a_contract_says_so_and_the_secretary_records_one(
    client, make_compound, make_community, make_user, make_grant, login_as
):
    community = make_community()
    compound = make_compound(community=community, name="无合同小区")
    tab = text_of(client.get(f"/compounds/{compound.code}/commitments?lang=en"))
    assert "No current service contract is on record" in tab
    assert "Record the current contract" not in tab

    sec = make_user()
    make_grant(sec, "secretary", community)
    login_as(user=sec)
    assert "Record the current contract" in text_of(
        client.get(f"/compounds/{compound.code}/commitments?lang=en")
    )
    bad = client.post_form(
        f"/staff/compounds/{compound.code}/contract?lang=en",
        {
            "company": "0",
            "new_company": "",
            "starts_on": "2026-01-01",
            "ends_on": "2025-01-01",
            "fee_per_m2": "1.50",
            "service_level": "二级",
            "commitments": "",
        },
    )
    assert bad.status_code == 422
    resp = client.post_form(
        f"/staff/compounds/{compound.code}/contract",
        {
            "company": "0",
            "new_company": "新兴物业有限公司",
            "starts_on": "2026-01-01",
            "ends_on": "2028-12-31",
            "fee_per_m2": "1.50",
            "service_level": "二级",
            "commitments": "1. 报修24小时内到场\n2. 每日清扫两次",
        },
    )
    assert resp.status_code == 302
    contract = db.session.scalar(select(Contract).where(Contract.compound_id == compound.id))
    assert contract.election_id is None and contract.signed_by_id == sec.id
    assert db.session.get(Company, contract.company_id).name == "新兴物业有限公司"
    assert contract.starts_on == date(2026, 1, 1)
    actions = {e.action for e in db.session.scalars(select(AuditEvent))}
    assert {"contract.recorded", "company.created"} <= actions
    tab = text_of(client.get(f"/compounds/{compound.code}/commitments?lang=en"))
    assert "新兴物业有限公司" in tab and "¥1.50 per m² per month" in tab


def test_itemise_edit_and_delete(client, fee_place, secretary, login_as):
    code = fee_place.compound.code
    login_as(user=secretary)
    manage = text_of(client.get(f"/staff/compounds/{code}/commitments?lang=en"))
    assert "not itemised yet" in manage
    assert client.post_form(f"/staff/compounds/{code}/commitments/itemise").status_code == 302
    got = items()
    assert [(c.category, c.promise) for c in got] == [
        ("repairs", "报修30分钟内响应，24小时内到场"),
        ("cleaning", "每日清扫楼道两次"),
        ("security", "门岗24小时值守"),
    ]
    assert all(c.service_level == "二级" and c.fee_per_m2 == D("1.80") for c in got)
    # itemising twice is refused
    client.post_form(f"/staff/compounds/{code}/commitments/itemise")
    assert len(items()) == 3
    resp = client.post_form(
        f"/staff/commitments/{got[0].id}/edit",
        {
            "category": "repairs",
            "promise": "报修24小时内到场",
            "standard": "95%的报修24小时内到场",
            "service_level": "一级",
            "fee_per_m2": "1.80",
        },
    )
    assert resp.status_code == 302
    assert items()[0].standard == "95%的报修24小时内到场"
    resp = client.post_form(
        f"/staff/compounds/{code}/commitments",
        {
            "category": "fire_safety",
            "promise": "消防设施每月巡检",
            "standard": "每月一次巡检记录",
            "service_level": "二级",
            "fee_per_m2": "1.80",
        },
    )
    assert resp.status_code == 302 and items()[-1].category == "fire_safety"
    assert client.post_form(f"/staff/commitments/{got[1].id}/delete").status_code == 302
    assert [c.category for c in items()] == ["repairs", "security", "fire_safety"]
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == [
        "commitment.itemised",
        "commitment.updated",
        "commitment.added",
        "commitment.deleted",
    ]
    client.post_form("/logout")
    tab = text_of(client.get(f"/compounds/{code}/commitments?lang=en"))
    assert "报修24小时内到场" in tab and "95%的报修24小时内到场" in tab
    assert "Level 1 (highest)" in tab


def test_the_commitment_page_shows_its_evidence_section(client, fee_place, secretary):
    from portal.models_base import utcnow
    from portal.transparency import commitments

    [c, *_] = commitments.itemise(secretary, fee_place.compound, fee_place.contract, utcnow())
    db.session.commit()
    page = text_of(client.get(f"/compounds/{fee_place.compound.code}/commitments/{c.id}?lang=en"))
    assert "Evidence: inspection findings on Repairs" in page
    assert "No inspection findings yet" in page
    assert "和平物业服务有限公司" in page
    assert client.get(f"/compounds/{fee_place.compound.code}/commitments/9999").status_code == 404


def test_only_the_secretary_manages(client, fee_place, staff, resident, login_as, make_compound):
    code = fee_place.compound.code
    for user in (staff, resident):
        login_as(user=user)
        assert client.get(f"/staff/compounds/{code}/commitments").status_code == 403
        assert client.post_form(f"/staff/compounds/{code}/commitments/itemise").status_code == 403
        assert client.get(f"/staff/compounds/{code}/contract").status_code == 403
    other = make_compound()
    from portal.models_base import utcnow
    from portal.transparency import commitments

    c = commitments.add_commitment(
        _admin(),
        fee_place.compound,
        fee_place.contract,
        commitments.CommitmentInput("other", "其他承诺", "", "二级", D("1")),
        utcnow(),
    )
    db.session.commit()
    # a commitment is found only under its own compound
    assert client.get(f"/compounds/{other.code}/commitments/{c.id}").status_code == 404


def _admin():
    from portal.accounts.models import RoleGrant, User
    from tests.factories import _HASH

    u = User(phone="13700009999", display_name="管理员", password_hash=_HASH)
    db.session.add(u)
    db.session.flush()
    db.session.add(RoleGrant(user_id=u.id, role="admin"))
    db.session.flush()
    return u
