"""Demo data for the ratings domain, on top of ``flask demo``'s street HP (idempotent).

Call ``seed(log, now)`` after ``portal.demo.seed``: it records contracts where a compound has
none (和平物业 for 和平里社区's compounds, 光明物业 for 光明社区's), inspections of the last
two quarters at every level with findings (one rectified, one overdue, one failed once), a
closed satisfaction survey per compound with synthetic answers, and publishes both quarters.
Nothing happens when the street already has inspections.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

SECOND_COMPANY = "光明物业有限公司"
FINDINGS = (
    ("cleaning", "3栋楼道堆放纸箱杂物，影响通行。"),
    ("parking", "地下车库消防通道被电动车占用。"),
    ("greening", "东门绿化带有垃圾未清理，草坪多处裸露。"),
    ("fire_safety", "2栋灭火器压力不足，需更换。"),
)


def _quarters(today: date):
    from portal.ratings import scoring

    q = (today.month - 1) // 3 + 1
    out = []
    year, number = today.year, q
    for _ in range(2):
        number -= 1
        if number == 0:
            year, number = year - 1, 4
        out.append((year, number, *scoring.period_bounds("quarter", year, number)))
    return list(reversed(out))


def seed(log: list[str], now: datetime | None = None) -> None:
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.models_base import utcnow
    from portal.places.models import Building, Community, Company, Compound, Street, Unit
    from portal.ratings import service
    from portal.ratings.models import (
        Inspection,
        Survey,
        SurveyAnswer,
        SurveyParticipation,
        SurveyResponse,
    )
    from portal.voting.models import Contract

    now = now or utcnow()
    street = db.session.scalar(select(Street).where(Street.code == "HP"))
    if street is None:
        log.append("ratings: no demo street HP; run flask demo first")
        return
    if db.session.scalar(select(Inspection.id).where(Inspection.street_id == street.id)):
        return
    users = {u.phone: u for u in db.session.scalars(select(User))}
    admin, officer = users.get("13900000000"), users.get("13900000001")
    secretary, inspector = users.get("13900000002"), users.get("13900000005")
    if not all((admin, officer, secretary, inspector)):
        log.append("ratings: demo accounts missing; run flask demo first")
        return
    rng = random.Random(4)
    companies = {c.name: c for c in db.session.scalars(select(Company))}
    if SECOND_COMPANY not in companies:
        companies[SECOND_COMPANY] = Company(name=SECOND_COMPANY)
        db.session.add(companies[SECOND_COMPANY])
        db.session.flush()
        log.append(f"company {SECOND_COMPANY}")
    first_company = next(c for n, c in companies.items() if n != SECOND_COMPANY)
    compounds = list(
        db.session.scalars(
            select(Compound)
            .join(Community)
            .where(Community.street_id == street.id)
            .order_by(Compound.code)
        )
    )
    today = service.local_today(now)
    for compound in compounds:
        if service.current_company_id(compound, today) is None:
            company = (
                first_company if compound.community.code == "HP-01" else (companies[SECOND_COMPANY])
            )
            db.session.add(
                Contract(
                    compound_id=compound.id,
                    company_id=company.id,
                    starts_on=date(today.year - 2, 1, 1),
                    ends_on=date(today.year + 1, 12, 31),
                    fee_per_m2=Decimal("1.50"),
                    service_level="二级",
                    commitments="",
                    signed_at=datetime(today.year - 2, 1, 1, tzinfo=UTC),
                )
            )
            log.append(f"contract of {compound.name} with {company.name}")
    db.session.flush()
    checklist = service.ensure_checklist(street, officer)
    # how well each compound is kept (the demo's red and black list follow from it)
    levels = {"HP-YJHY": 96, "HP-HPXC": 89, "HP-GMJY": 66, "HP-FJSS": 58}
    quality = {c.id: Decimal(levels.get(c.code, 85)) for c in compounds}

    def scores(target: Decimal):
        short = checklist.max_total - max(Decimal("0"), min(target, checklist.max_total))
        out = {}
        for item in sorted(checklist.items, key=lambda i: rng.random()):
            take = min(short, item.points, Decimal(rng.randint(1, 4)))
            out[item.id] = item.points - take
            short -= take
        for item in checklist.items:  # whatever is left comes off the first items
            take = min(short, out[item.id])
            out[item.id] -= take
            short -= take
        return out

    quarters = _quarters(today)
    for year, number, start, _end in quarters:
        for compound in compounds:
            base = quality[compound.id]
            plan = [("street", officer, start + timedelta(days=40))]
            plan += [
                ("community", secretary, start + timedelta(days=10 + 30 * m))
                for m in range(3)
                if compound.community.code == "HP-01"
            ]
            plan += [("third_party", inspector, start + timedelta(days=55))]
            for level, actor, day in plan:
                target = base + Decimal(rng.randint(-4, 4))
                insp = service.create_inspection(
                    actor, compound, level, day, scores(target), "", now
                )
                if level == "third_party" and base < 90:
                    category, description = rng.choice(FINDINGS)
                    f = service.add_finding(
                        actor,
                        insp,
                        category=category,
                        description=description,
                        responsible="company",
                        deadline=day + timedelta(days=10),
                        photos=[],
                        now=now,
                    )
                    if (year, number) == quarters[0][:2]:
                        service.reinspect(
                            inspector,
                            f.id,
                            passed=True,
                            checked_on=day + timedelta(days=9),
                            note="已整改到位。",
                            new_deadline=None,
                            now=now,
                        )
                    elif base < 70:
                        service.reinspect(
                            inspector,
                            f.id,
                            passed=False,
                            checked_on=min(day + timedelta(days=11), today),
                            note="仍未整改。",
                            new_deadline=min(day + timedelta(days=25), today),
                            now=now,
                        )
        log.append(f"ratings: inspections of {year} Q{number}")

        # a closed survey per compound; synthetic answers stand for the households' paper forms
        opens = service.local_to_utc(start + timedelta(days=60), datetime.min.time())
        for compound in compounds:
            survey = Survey(
                compound_id=compound.id,
                street_id=street.id,
                company_id=service.current_company_id(compound, today),
                title=f"{year}年第{number}季度物业服务满意度测评",
                areas=["cleaning", "greening", "security", "repairs", "service_desk"],
                opens_at=opens,
                closes_at=opens + timedelta(days=14),
                created_at=opens,
                created_by_id=secretary.id,
            )
            db.session.add(survey)
            db.session.flush()
            units = list(
                db.session.scalars(
                    select(Unit.id)
                    .join(Building)
                    .where(Building.compound_id == compound.id)
                    .order_by(Unit.id)
                )
            )
            chosen = rng.sample(units, min(len(units), rng.randint(25, 60)))
            mean = 1.2 + float(quality[compound.id] - 50) / 13
            for unit_id in chosen:
                token = f"{rng.getrandbits(128):032x}"
                db.session.add(SurveyParticipation(survey_id=survey.id, unit_id=unit_id))
                db.session.add(SurveyResponse(id=token, survey_id=survey.id, comment=""))
                db.session.flush()
                for area in survey.areas:
                    score = max(1, min(5, round(rng.gauss(mean, 0.9))))
                    db.session.add(
                        SurveyAnswer(response_id=token, area=area, survey_id=survey.id, score=score)
                    )
            survey.response_count = len(chosen)
        db.session.flush()
        period = service.create_period(officer, street, "quarter", year, number)
        service.publish_period(officer, period.id, now)
        log.append(f"ratings: {year} Q{number} published")
    db.session.flush()
