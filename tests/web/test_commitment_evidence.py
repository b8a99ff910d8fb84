"""A commitment page shows the inspection findings in its category as evidence."""

from datetime import timedelta
from decimal import Decimal

from portal.extensions import db
from portal.models_base import utcnow
from portal.ratings import service as ratings
from portal.transparency import commitments
from tests.conftest import text_of
from tests.web.test_rating_kit import inspect, make_company, sign


def test_findings_in_the_category_are_the_evidence(client, make_compound, make_user, make_grant):
    compound = make_compound(buildings=1, units_per_building=2)
    secretary = make_user()
    make_grant(secretary, "secretary", compound.community)
    officer = make_user()
    make_grant(officer, "street", compound.community.street)
    contract = sign(compound, make_company())
    now = utcnow()
    cleaning = commitments.add_commitment(
        secretary,
        compound,
        contract,
        commitments.CommitmentInput(
            category="cleaning",
            promise="楼道每日清扫",
            standard="每天 9 点前完成",
            service_level="二级",
            fee_per_m2=Decimal("1.20"),
        ),
        now,
    )
    greening = commitments.add_commitment(
        secretary,
        compound,
        contract,
        commitments.CommitmentInput(
            category="greening",
            promise="草坪每月修剪",
            standard="",
            service_level="二级",
            fee_per_m2=Decimal("1.20"),
        ),
        now,
    )
    db.session.commit()
    insp = inspect(officer, compound, "92")
    ratings.add_finding(
        officer,
        insp,
        category="cleaning",
        description="三号楼楼道垃圾未清",
        responsible="company",
        deadline=insp.inspected_on + timedelta(days=7),
        photos=[],
        now=now,
    )
    db.session.commit()
    page = text_of(client.get(f"/compounds/{compound.code}/commitments/{cleaning.id}"))
    assert "三号楼楼道垃圾未清" in page
    other = text_of(client.get(f"/compounds/{compound.code}/commitments/{greening.id}"))
    assert "三号楼楼道垃圾未清" not in other
