"""The demo seed of the fee accounts: a year of statements, a revision, questions, itemised
commitments; idempotent; its Fiscal Data Package validates."""

from __future__ import annotations

import random
from datetime import date

from frictionless import validate
from sqlalchemy import func, select

from portal.extensions import db
from portal.transparency import service
from portal.transparency.demo_seed import seed_compound
from portal.transparency.models import Commitment, FeeQuestion, FeeStatement
from tests.web.test_fee_support import *  # noqa: F403


def test_demo_seed(client, fee_place, staff, secretary, resident, tmp_path):
    today = date(2026, 11, 22)
    added = seed_compound(fee_place.compound, staff, secretary, resident, today, random.Random(1))
    db.session.commit()
    assert added == 12
    keys = [p.key for p in service.published_periods(fee_place.compound)]
    assert keys[0] == "2026-10" and keys[-1] == "2025-11" and len(keys) == 12
    assert service.current_statement(fee_place.compound, "2026-09").revision == 2
    assert db.session.scalar(select(func.count(FeeQuestion.id))) == 2
    assert db.session.scalar(select(func.count(Commitment.id))) == 3  # the fixture's contract
    again = seed_compound(fee_place.compound, staff, secretary, resident, today, random.Random(1))
    db.session.commit()
    assert again == 0
    assert db.session.scalar(select(func.count(FeeStatement.id))) == 13
    for name in ("datapackage.json", "fees.csv"):
        body = client.get(f"/open-data/fees/{fee_place.compound.code}/{name}").get_data()
        (tmp_path / name).write_bytes(body)
    assert validate(str(tmp_path / "datapackage.json")).valid
    assert client.get(f"/compounds/{fee_place.compound.code}/fees").status_code == 200
