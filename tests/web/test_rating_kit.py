"""Helpers shared by the inspection, survey and rating tests (and a check that they work).

The dates: everything happens in the quarter before today's (Beijing time), so that inspections
are in the past, surveys have closed and the period can be published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from portal.extensions import db
from portal.models_base import utcnow
from portal.places.models import Company
from portal.ratings import scoring, service
from portal.voting.models import Contract


def previous_quarter(today: date | None = None) -> tuple[int, int, date, date]:
    today = today or service.local_today(utcnow())
    q = (today.month - 1) // 3 + 1
    year, number = (today.year, q - 1) if q > 1 else (today.year - 1, 4)
    start, end = scoring.period_bounds("quarter", year, number)
    return year, number, start, end


def make_company(name: str = "和平物业服务有限公司") -> Company:
    company = Company(name=name)
    db.session.add(company)
    db.session.commit()
    return company


def sign(compound, company, starts: date = date(2020, 1, 1), ends: date = date(2035, 12, 31)):
    contract = Contract(
        compound_id=compound.id,
        company_id=company.id,
        starts_on=starts,
        ends_on=ends,
        fee_per_m2=Decimal("1.20"),
        service_level="二级",
        signed_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    db.session.add(contract)
    db.session.commit()
    return contract


def scores_for(checklist, total: Decimal | str) -> dict[int, Decimal]:
    """Full marks, minus the shortfall taken from the first items, to reach ``total``."""
    short = checklist.max_total - Decimal(total)
    assert short >= 0
    scores = {}
    for item in checklist.items:
        take = min(short, item.points)
        scores[item.id] = item.points - take
        short -= take
    return scores


def inspect(actor, compound, total, level="street", on: date | None = None, company_now=None):
    """An inspection scoring ``total`` of 100 on the street's checklist, through the service."""
    street = compound.community.street
    checklist = service.ensure_checklist(street, actor)
    on = on or previous_quarter()[2] + timedelta(days=10)
    insp = service.create_inspection(
        actor, compound, level, on, scores_for(checklist, total), "", company_now or utcnow()
    )
    db.session.commit()
    return insp


@dataclass
class Window:
    opens: datetime
    closes: datetime
    during: datetime


def past_window() -> Window:
    """A survey window inside the previous quarter: 9:00 on its 5th day, for a week."""
    start = previous_quarter()[2]
    opens = service.local_to_utc(start + timedelta(days=4), datetime.min.time().replace(hour=9))
    return Window(opens, opens + timedelta(days=7), opens + timedelta(days=1))


def survey_with_answers(secretary, compound, households, scores, make_claim, make_user):
    """A closed survey of one area (cleaning) in the previous quarter, answered ``scores``
    (one per household, by a verified member of each of ``households``)."""
    w = past_window()
    survey = service.create_survey(
        secretary,
        compound,
        title="满意度测评",
        areas=["cleaning"],
        opens_at=w.opens,
        closes_at=w.closes,
        now=w.opens,
    )
    db.session.commit()
    for unit, score in zip(households, scores, strict=True):
        user = make_user()
        make_claim(user, unit, status="verified")
        service.respond(user, survey.id, unit.id, {"cleaning": score}, "", w.during)
        db.session.commit()
    return survey


def units_of(compound):
    return [u for b in compound.buildings for u in b.units]


def test_scores_for_reaches_the_total(app, make_compound, make_user):
    compound = make_compound()
    checklist = service.ensure_checklist(compound.community.street)
    db.session.commit()
    for total in ("100", "92", "86", "0", "57.5"):
        scores = scores_for(checklist, total)
        assert sum(scores.values()) == Decimal(total)
        assert all(
            0 <= s <= i.points for i, s in zip(checklist.items, scores.values(), strict=True)
        )


def test_previous_quarter_is_over():
    year, number, start, end = previous_quarter()
    assert end < service.local_today(utcnow())
    assert (end - start).days in range(88, 92)
    assert 1 <= number <= 4 and year >= 2024
