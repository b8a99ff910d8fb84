"""Demo data for the fee accounts and commitments, for ``flask demo`` to call (idempotent).

``seed_compound(compound, staff, secretary, resident, today, rng)`` gives the compound:

* a current contract with the staff's company, recorded directly, when it has none;
* its commitments itemised from the contract's text;
* twelve published monthly statements ending with the month before ``today`` (income and
  expense lines, the compound's billing and per building, balances carried over), the
  last-but-one corrected by a second revision with its reason;
* two residents' questions on the latest month: one answered, one unanswered for ten days
  (so it shows as overdue).

Everything goes through the services (permissions, audit events). Periods that already have a
statement are left alone, so a second run changes nothing.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal import security
from portal.extensions import db
from portal.places.models import Building, Compound, Unit
from portal.transparency import commitments, periods, service
from portal.transparency.feecore import Billing, Line
from portal.transparency.models import FeeQuestion, FeeStatement

CONTRACT_TEXT = (
    "1. 报修30分钟内响应，24小时内到场\n"
    "2. 楼道每日清扫两次，垃圾日产日清\n"
    "3. 绿化每月修剪一次\n"
    "4. 门岗24小时值守，每日夜间巡逻两次\n"
    "5. 消防设施每月巡检并公示记录\n"
    "6. 电梯年检合格，困人30分钟内到场\n"
    "7. 客服前台工作日8:00-18:00接待"
)
CENT = Decimal("0.01")


def _at(day: date, hour: int = 10) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(hour), tzinfo=ZoneInfo("Asia/Shanghai"))


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return (Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(CENT)


def ensure_contract(compound: Compound, staff, secretary, today: date):
    contract = commitments.current_contract(compound, today)
    if contract is not None:
        return contract
    company_ids = security.role_ids(staff, "company")
    data = commitments.ContractInput(
        company_id=min(company_ids) if company_ids else None,
        new_company="" if company_ids else "示范物业服务有限公司",
        starts_on=date(today.year - 1, 1, 1),
        ends_on=date(today.year + 2, 12, 31),
        fee_per_m2=Decimal("1.80"),
        service_level="二级",
        commitments=CONTRACT_TEXT,
    )
    return commitments.record_contract(secretary, compound, data, _at(date(today.year - 1, 1, 1)))


def _statement_input(key: str, compound: Compound, rng: random.Random, opening: Decimal):
    buildings = list(
        db.session.execute(
            select(Building.name, Unit.id)
            .join(Unit, Unit.building_id == Building.id)
            .where(Building.compound_id == compound.id)
            .order_by(Building.sort_key)
        )
    )
    per_building: dict[str, int] = {}
    for name, _uid in buildings:
        per_building[name] = per_building.get(name, 0) + 1
    fee = Decimal("1.80") * Decimal("95")  # a household's monthly fee, about 171 yuan
    rows = []
    for name, households in per_building.items():
        paid = max(0, households - rng.randint(0, max(1, households // 5)))
        billed_amount = (fee * households).quantize(CENT)
        collected = (fee * paid).quantize(CENT)
        rows.append(Billing(households, paid, billed_amount, collected, name))
    if not rows:
        rows = [Billing(100, 85, Decimal("17100.00"), Decimal("14535.00"), "")]
    total = Billing(
        sum(r.households_billed for r in rows),
        sum(r.households_paid for r in rows),
        sum((r.amount_billed for r in rows), Decimal("0.00")),
        sum((r.amount_collected for r in rows), Decimal("0.00")),
    )
    scale = max(Decimal("0.2"), total.amount_billed / Decimal("68000"))
    lines = [
        Line("income", "property_fees", "物业服务费", total.amount_collected),
        Line("income", "parking", "地面停车", (_money(rng, 9000, 13000) * scale).quantize(CENT)),
        Line("income", "common_area", "电梯广告", (Decimal("3000.00") * scale).quantize(CENT)),
        Line("expense", "wages", "", (_money(rng, 30000, 34000) * scale).quantize(CENT)),
        Line("expense", "cleaning", "保洁外包", (Decimal("9000.00") * scale).quantize(CENT)),
        Line("expense", "greening", "", (_money(rng, 1500, 4000) * scale).quantize(CENT)),
        Line("expense", "security", "门岗", (Decimal("12000.00") * scale).quantize(CENT)),
        Line("expense", "repairs", "电梯维保", (_money(rng, 2000, 8000) * scale).quantize(CENT)),
        Line(
            "expense", "utilities", "公共照明水电", (_money(rng, 4000, 6000) * scale).quantize(CENT)
        ),
        Line("expense", "management", "", (Decimal("2500.00") * scale).quantize(CENT)),
    ]
    return service.StatementInput(
        period=periods.parse_key(key),
        lines=lines,
        billing=total,
        buildings=[r for r in rows if r.building] if len(rows) > 1 or rows[0].building else [],
        opening_balance=opening,
    )


def seed_compound(compound, staff, secretary, resident, today: date, rng: random.Random) -> int:
    """Seed the compound; returns how many statements were added."""
    contract = ensure_contract(compound, staff, secretary, today)
    if not commitments.commitments_of(contract) and contract.commitments:
        commitments.itemise(secretary, compound, contract, _at(contract.starts_on))
    last = periods.period_of_date("month", today).previous()
    months = periods.trailing(last, 12)
    existing = set(
        db.session.scalars(
            select(FeeStatement.period_key).where(FeeStatement.compound_id == compound.id)
        )
    )
    added = 0
    opening = Decimal("20000.00")
    for p in months:
        data = _statement_input(p.key, compound, rng, opening)
        if p.key not in existing:
            when = _at(p.end + timedelta(days=5))
            s = service.create_draft(staff, compound, data, when)
            service.submit(staff, s, when + timedelta(hours=2))
            service.publish(secretary, s, when + timedelta(days=1))
            added += 1
            if p == months[-2]:
                rev = service.start_revision(
                    staff, s, "电梯维保费按发票金额更正", when + timedelta(days=3)
                )
                fixed = service.input_from_statement(rev)
                fixed.lines = [
                    Line(x.direction, x.category, x.item, (x.amount - Decimal("500.00")))
                    if x.category == "repairs" and x.amount > Decimal("500.00")
                    else x
                    for x in fixed.lines
                ]
                service.update_draft(staff, rev, fixed, when + timedelta(days=3))
                service.submit(staff, rev, when + timedelta(days=3, hours=1))
                service.publish(secretary, rev, when + timedelta(days=4))
        # the next month starts from this month's balance
        income = sum((x.amount for x in data.lines if x.direction == "income"), Decimal("0.00"))
        expense = sum((x.amount for x in data.lines if x.direction == "expense"), Decimal("0.00"))
        opening = opening + income - expense
    db.session.flush()
    if resident is not None and added:
        current = service.current_statement(compound, months[-1].key)
        asked = db.session.scalar(
            select(FeeQuestion.id).where(FeeQuestion.statement_id == current.id).limit(1)
        )
        if asked is None and service.is_verified_resident(resident, compound):
            by_cat = {x.category: x for x in current.lines}
            now = _at(today)
            service.ask(
                resident,
                by_cat["cleaning"],
                "保洁外包费用不低，楼道却不是每天都扫，请公开保洁记录。",
                now - timedelta(days=10),
            )
            q2 = service.ask(
                resident, by_cat["wages"], "人员工资包括哪些岗位、多少人？", now - timedelta(days=3)
            )
            service.answer(
                staff,
                q2,
                "共12人：保洁4人、秩序维护5人、维修2人、客服1人。",
                now - timedelta(days=2),
            )
    return added
