"""``flask demo``: seed a realistic demo street (idempotent).

和平街道 (street ``HP``, 示范区) with two communities and four compounds, about 1,000 units:

============  ==============  ====  =============  ====================================
community     compound        code  kind           buildings × floors × units per floor
============  ==============  ====  =============  ====================================
HP-01 和平里  颐景花园         HP-YJHY  commercial     9 × 11 × 4 = 396 (6 held by the developer)
HP-01 和平里  和平新村         HP-HPXC  old           10 × 6 × 4 = 240
HP-02 光明    光明佳园         HP-GMJY  resettlement   6 × 11 × 4 = 264
HP-02 光明    纺机厂宿舍       HP-FJSS  old            5 × 6 × 3 = 90
============  ==============  ====  =============  ====================================

The owners are generated with ``random.Random(seed)`` (the same every run): plausible Chinese
names, mobile numbers (13x/15x/18x, some missing), a few owners with two units. The rosters go
through the roster import service, so the compounds' counters are right, and a second run finds
nothing to change. One property company, 和平物业服务有限公司.

Demo accounts, all with the password ``hongwuye-demo-2026``:

===========  ========================  =================================================
13900000000  site administrator        everything
13900000001  street officer            street HP
13900000002  community secretary       community HP-01
13900000003  owners' committee member  compound HP-YJHY (颐景花园)
13900000004  property-company staff    和平物业服务有限公司
13900000005  inspector                 street HP
13900000006  resident, verified owner  颐景花园 3栋 502 (王建国, on the roster with this number)
13900000007  resident, claim waiting   颐景花园 5栋 801 (刘秀芳, on the roster with this number)
===========  ========================  =================================================
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import with_appcontext

DEMO_PASSWORD = "hongwuye-demo-2026"
SEED = 20260101

STREET = {"code": "HP", "name": "和平街道", "district": "示范区"}
COMMUNITIES = [
    {"code": "HP-01", "name": "和平里社区", "address": "示范区和平路 120 号"},
    {"code": "HP-02", "name": "光明社区", "address": "示范区光明路 8 号"},
]
COMPANY = "和平物业服务有限公司"


@dataclass(frozen=True)
class CompoundPlan:
    code: str
    name: str
    kind: str
    community: str
    address: str
    buildings: int
    floors: int
    per_floor: int
    building_suffix: str
    area_range: tuple[int, int]
    key_prefix: str


COMPOUNDS = [
    CompoundPlan(
        "HP-YJHY", "颐景花园", "commercial", "HP-01", "示范区和平路 188 号",
        9, 11, 4, "栋", (88, 145), "YJ",
    ),
    CompoundPlan(
        "HP-HPXC", "和平新村", "old", "HP-01", "示范区和平里三巷 6 号",
        10, 6, 4, "号楼", (45, 78), "XC",
    ),
    CompoundPlan(
        "HP-GMJY", "光明佳园", "resettlement", "HP-02", "示范区光明路 21 号",
        6, 11, 4, "栋", (60, 110), "GM",
    ),
    CompoundPlan(
        "HP-FJSS", "纺机厂宿舍", "old", "HP-02", "示范区纺机街 3 号",
        5, 6, 3, "号楼", (45, 70), "FJ",
    ),
]  # fmt: skip

# role, phone, display name, scope code (None: site-wide)
ACCOUNTS = [
    ("admin", "13900000000", "系统管理员", None),
    ("street", "13900000001", "周明", "HP"),
    ("secretary", "13900000002", "李红梅", "HP-01"),
    ("committee", "13900000003", "陈志强", "HP-YJHY"),
    ("company", "13900000004", "孙丽", COMPANY),
    ("inspector", "13900000005", "吴海燕", "HP"),
    (None, "13900000006", "王建国", None),
    (None, "13900000007", "刘秀芳", None),
]
ROLE_NAMES = {
    "admin": "site administrator",
    "street": "street officer",
    "secretary": "community secretary",
    "committee": "owners' committee member",
    "company": "property-company staff",
    "inspector": "inspector",
}
# Residents who appear on the first compound's roster: phone -> (building, room, name, claim)
RESIDENTS = {
    "13900000006": ("3栋", "502", "王建国", "verified"),
    "13900000007": ("5栋", "801", "刘秀芳", "pending"),
}
DEVELOPER = ("DEV-001", "颐景置业有限公司")
DEVELOPER_UNITS = {("9栋", "1101"), ("9栋", "1102"), ("9栋", "1103"), ("9栋", "1104")} | {
    ("8栋", "1103"),
    ("8栋", "1104"),
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
# The first surnames are the most common: weight them so.
SURNAME_WEIGHTS = [max(1, 30 - i // 2) for i in range(len(SURNAMES))]
GIVEN_NAMES = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 辉 鹏 华 红 玲 斌 宇 浩 凯 健 "
    "秀英 秀兰 桂英 建国 建华 建军 志强 志明 海燕 淑珍 玉兰 春梅 国强 国华 文华 晓东 晓燕 丽娟 "
    "秀珍 桂兰 金凤 德胜 永红 小红 立新 卫东 雪梅 婷婷 子涵 雨桐 浩然 思远 欣怡 俊杰 嘉怡 梓萱"
).split()


def _name(rng: random.Random) -> str:
    while True:
        name = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0] + rng.choice(GIVEN_NAMES)
        if name not in ("王建国", "刘秀芳"):  # the demo residents are the only ones so named
            return name


def _phone(rng: random.Random) -> str:
    while True:
        phone = f"1{rng.choice('358')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
        if not phone.startswith("1390000000"):  # the demo accounts' numbers
            return phone


def roster_rows(plan: CompoundPlan, seed: int = SEED) -> list[dict]:
    """The compound's roster, the same on every run."""
    rng = random.Random(f"{seed}-{plan.code}")
    first = plan is COMPOUNDS[0]
    residents = {(b, r): (phone, name) for phone, (b, r, name, _s) in RESIDENTS.items()}
    rows: list[dict] = []
    owners: list[tuple[str, str, str]] = []  # (key, name, phone) of people owning one unit
    low, high = plan.area_range
    for b in range(1, plan.buildings + 1):
        building = f"{b}{plan.building_suffix}"
        # One layout per position on the floor: the same area on every floor of a building.
        layouts = [
            f"{rng.randint(low, high - 1)}.{rng.randint(0, 99):02d}" for _ in range(plan.per_floor)
        ]
        for floor in range(1, plan.floors + 1):
            for pos in range(1, plan.per_floor + 1):
                room = f"{floor}{pos:02d}"
                row = {"building": building, "room": room, "area_m2": layouts[pos - 1]}
                if first and (building, room) in DEVELOPER_UNITS:
                    key, name, phone, dev = *DEVELOPER, "", "是"
                elif first and (building, room) in residents:  # owns this one unit only
                    phone, name = residents[(building, room)]
                    key, dev = f"{plan.key_prefix}-{len(rows) + 1:04d}", "否"
                elif owners and rng.random() < 0.015:  # a second unit of an earlier owner
                    key, name, phone = owners.pop(rng.randrange(len(owners)))
                    dev = "否"
                else:
                    key = f"{plan.key_prefix}-{len(rows) + 1:04d}"
                    name = _name(rng)
                    phone = _phone(rng) if rng.random() > 0.12 else ""
                    dev = "否"
                    owners.append((key, name, phone))
                row.update(owner_key=key, owner_name=name, phone=phone, developer_held=dev)
                rows.append(row)
    return rows


def roster_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf,
        fieldnames=["building", "room", "area_m2", "owner_key", "owner_name", "phone"]
        + ["developer_held"],
        lineterminator="\n",
    )
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _get_or_add(model, lookup: dict, values: dict, log: list[str], label: str):
    from sqlalchemy import select

    from portal.extensions import db

    obj = db.session.scalar(select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        db.session.flush()
        log.append(f"created {label}")
    return obj


def seed(log: list[str]) -> dict:
    """Create whatever of the demo street is missing; ``log`` gets one line per change."""
    from sqlalchemy import select

    from portal.accounts import service as accounts
    from portal.accounts.models import Membership, RoleGrant, User
    from portal.extensions import db
    from portal.places import roster_service
    from portal.places.models import Building, Community, Company, Compound, Street, Unit

    street = _get_or_add(
        Street,
        {"code": STREET["code"]},
        {"name": STREET["name"], "district": STREET["district"]},
        log,
        f"street {STREET['name']}",
    )
    communities = {
        c["code"]: _get_or_add(
            Community,
            {"code": c["code"]},
            {"street_id": street.id, "name": c["name"], "address": c["address"]},
            log,
            f"community {c['name']}",
        )
        for c in COMMUNITIES
    }
    compounds = {}
    for plan in COMPOUNDS:
        compounds[plan.code] = _get_or_add(
            Compound,
            {"code": plan.code},
            {
                "community_id": communities[plan.community].id,
                "name": plan.name,
                "kind": plan.kind,
                "address": plan.address,
            },
            log,
            f"compound {plan.name}",
        )
    _get_or_add(Company, {"name": COMPANY}, {}, log, f"company {COMPANY}")

    for plan in COMPOUNDS:
        compound = compounds[plan.code]
        data = roster_csv(roster_rows(plan))
        filename = f"demo-{plan.code}.csv"
        if roster_service.preview(None, compound, data, filename).changes == 0:
            continue
        result = roster_service.import_roster(None, compound, data, filename)
        log.append(
            f"roster of {plan.name}: {result.units_created} units created, "
            f"{result.units_updated} updated"
        )

    # accounts and their roles
    users = {}
    admin = None
    for role, phone, name, scope in ACCOUNTS:
        user = db.session.scalar(select(User).where(User.phone == phone))
        if role == "admin":
            if user is None or not any(g.role == "admin" for g in user.grants):
                user = accounts.create_admin(phone, DEMO_PASSWORD, name)
                log.append(f"administrator {phone}")
            admin = user
        elif user is None:
            user = accounts.register(phone, name, DEMO_PASSWORD, "zh_Hans_CN")
            log.append(f"account {phone}")
        users[phone] = user
        if role not in (None, "admin"):
            scope_type, obj = accounts.resolve_scope(role, scope)
            held = db.session.scalar(
                select(RoleGrant.id).where(
                    RoleGrant.user_id == user.id,
                    RoleGrant.role == role,
                    RoleGrant.scope_type == scope_type,
                    RoleGrant.scope_id == obj.id,
                    RoleGrant.revoked_at.is_(None),
                )
            )
            if held is None:
                accounts.grant_role(admin, phone, role, scope)
                log.append(f"role {role} for {phone}")

    # the residents' claims on the first compound
    first = compounds[COMPOUNDS[0].code]
    secretary = users["13900000002"]
    for phone, (building, room, name, status) in RESIDENTS.items():
        user = users[phone]
        unit = db.session.scalar(
            select(Unit)
            .join(Building)
            .where(Building.compound_id == first.id, Building.name == building, Unit.room == room)
        )
        claim = db.session.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.unit_id == unit.id)
        )
        if claim is None:
            claim = accounts.claim_unit(user, first, unit.building_id, room, "owner", name)
            log.append(f"claim of {phone} on {building} {room}")
            if status == "verified":
                accounts.verify_claim(secretary, claim)
                log.append(f"claim of {phone} verified")
    # a year of published fee statements, the contract and its commitments
    from portal.transparency import demo_seed as fee_demo
    from portal.voting.service import local_today

    rng = random.Random(f"{SEED}-fees")
    for plan in COMPOUNDS[:2]:
        added = fee_demo.seed_compound(
            compounds[plan.code],
            users["13900000004"],
            secretary,
            users["13900000006"],
            local_today(),
            rng,
        )
        if added:
            log.append(f"{added} fee statements for {plan.code}")
    return {"street": street, "compounds": compounds, "users": users}


def summary(objects: dict) -> list[str]:
    compounds = objects["compounds"].values()
    units = sum(c.unit_count for c in compounds)
    lines = [
        f"Demo street {STREET['name']} ({STREET['code']}): {len(COMMUNITIES)} communities, "
        f"{len(compounds)} compounds, {units} units.",
    ]
    for c in compounds:
        lines.append(
            f"  {c.code:8s} {c.name}  {c.kind}, {c.building_count} buildings, "
            f"{c.unit_count} units, {c.total_area_m2} m²"
        )
    lines.append(f"Accounts (password {DEMO_PASSWORD}):")
    for role, phone, name, scope in ACCOUNTS:
        if role is None:
            building, room, _n, status = RESIDENTS[phone]
            what = f"resident, claim {status}: {COMPOUNDS[0].name} {building} {room}"
        else:
            what = ROLE_NAMES[role] + (f" of {scope}" if scope else "")
        lines.append(f"  {phone}  {name}  {what}")
    return lines


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Seed the demo street and one account per role (idempotent: a second run changes nothing)."""
    from flask_babel import force_locale

    from portal.errors import DomainError
    from portal.extensions import db

    log: list[str] = []
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            objects = seed(log)
            from portal.ratings import demo as ratings_demo

            ratings_demo.seed(log)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        if log:
            db.session.commit()
            click.echo(f"Demo data loaded ({len(log)} changes).")
        else:
            db.session.rollback()
            click.echo("Demo data is up to date: nothing to change.")
        for line in summary(objects):
            click.echo(line)
