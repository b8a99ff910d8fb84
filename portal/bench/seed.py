"""The benchmark data set: a whole street or district, written with bulk inserts.

``seed(scale, seed=1, now=None, echo=print)`` fills an empty database with places, roster owners,
accounts (one argon2 hash shared by all), staff grants, contracts and commitments, 60 months of
published fee statements per compound, proposals with their timelines, elections (frozen rolls,
hash-chained ballots, recorded tallies), notices, volunteer teams and activities with sign-ups,
and minutes. It returns the manifest (a dict) that the benchmark scripts read.

Everything is drawn from ``random.Random(seed)``; dates are relative to ``now`` (rounded down to
the hour), so two runs in the same hour produce the same rows. Rows get explicit ids (counted on
from the tables' current maximum) so that children can name their parents without a round trip;
on PostgreSQL the id sequences are moved past them at the end.

The data keeps the domains' rules: compound counters match the roster, published statements
carry their totals, proposal counters match their supports, an activity never holds more
confirmed sign-ups than its capacity, and every election's roll fingerprint, ledger chain, head
and recorded tally are computed with the voting domain's own pure functions, so
``flask election verify`` passes on each of them.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import func, insert, select, text

from portal.extensions import db

BENCH_PASSWORD = "hongwuye-bench-2026"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Scale:
    """How much of everything one scale builds (exact counts unless noted)."""

    name: str
    streets: int
    communities_per_street: int
    compounds: int
    units: int
    accounts: int  # every user account: residents and staff
    companies: int
    fee_months: int
    proposals: int
    elections: int  # the vote election, a few open ones with ballots, the rest certified
    open_elections: int  # announced, voting now, with ballots (besides the vote election)
    ballots: int
    notices: int  # including the election announcements and results the portal posts
    activities: int
    minutes_per_compound: int
    vote_owners: int  # owners (each with a verified account) of the vote compound
    board_proposals: int  # proposals on the vote compound's board (the deep-page benchmark)
    election_compound_units: tuple[int, int]  # size range of the compounds that held elections


SCALES: dict[str, Scale] = {
    "street": Scale(
        name="street",
        streets=1,
        communities_per_street=6,
        compounds=12,
        units=7_000,
        accounts=3_000,
        companies=4,
        fee_months=60,
        proposals=1_000,
        elections=6,
        open_elections=1,
        ballots=3_000,
        notices=400,
        activities=100,
        minutes_per_compound=2,
        vote_owners=2_150,
        board_proposals=200,
        election_compound_units=(650, 750),
    ),
    "district": Scale(
        name="district",
        streets=10,
        communities_per_street=6,
        compounds=560,
        units=300_000,
        accounts=100_000,
        companies=40,
        fee_months=60,
        proposals=50_000,
        elections=200,
        open_elections=4,
        ballots=150_000,
        notices=20_000,
        activities=5_000,
        minutes_per_compound=2,
        vote_owners=2_200,
        board_proposals=10_020,  # 501 board pages of 20: page 500 exists
        election_compound_units=(820, 1_400),
    ),
}


class SeedRefused(RuntimeError):
    """The database is not empty (and no reset was asked for)."""


# ---- words ------------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
GIVEN = (
    "建国秀英桂兰志强丽娟海涛晓明红梅玉兰永刚淑珍文华德明春花"
    "俊杰静怡子涵浩然雨欣思远佳怡伟秀芳国平金凤立新宏"
)
STREET_NAMES = (
    "和平",
    "光明",
    "新华",
    "解放",
    "人民",
    "胜利",
    "幸福",
    "朝阳",
    "建设",
    "民主",
    "团结",
    "长安",
)
PLACE_WORDS = (
    "翠湖锦绣金桂银杏碧水春晖阳光紫荆华庭御景康乐兴隆富民安居融创绿洲丽都清华香山枫林梧桐海棠玉兰"
    "东方西城南苑北辰中和嘉禾瑞祥盛世怡景天成龙湾凤凰松竹梅园桃源杏林柳岸荷塘书香"
)
COMPOUND_SUFFIX = ("花园", "小区", "新村", "佳园", "家园", "公寓", "雅苑", "名都", "宿舍", "里")
COMPANY_SUFFIX = "物业服务有限公司"
PHONE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 "
    "177 180 181 182 183 185 186 187 188 189"
).split()

CONTRACT_TEXT = (
    "1. 报修30分钟内响应，24小时内到场\n"
    "2. 楼道每日清扫两次，垃圾日产日清\n"
    "3. 绿化每月修剪一次\n"
    "4. 门岗24小时值守，每日夜间巡逻两次\n"
    "5. 消防设施每月巡检并公示记录\n"
    "6. 电梯年检合格，困人30分钟内到场\n"
    "7. 客服前台工作日8:00-18:00接待"
)
PROPOSAL_TOPICS = (
    (
        "parking",
        "小区停车位紧张，建议规划夜间临时停车区",
        "晚上回来经常找不到车位，消防通道也被占用。",
    ),
    ("sanitation", "垃圾分类投放点太少，建议增设", "每栋楼只有一个投放点，早高峰排队，异味明显。"),
    ("safety", "东门门禁经常失灵，外来人员随意进出", "门禁坏了好几次，晚上不安全，请尽快维修。"),
    ("greening", "中心花园草坪裸露，建议补种", "去年冬天后草坪一直没补，下雨一地泥。"),
    ("facilities", "3栋电梯频繁故障，请彻底检修", "本月已经停了三次，老人上下楼很困难。"),
    ("pets", "文明养犬，建议设置宠物活动区", "有些狗不拴绳，孩子害怕，建议划定区域。"),
    ("neighbours", "楼上装修噪音扰民，请规定施工时间", "周末早上七点就开始装修，影响休息。"),
    ("other", "建议在活动室开设老年人智能手机课", "很多老人不会用手机缴费和预约，希望有人教。"),
    ("facilities", "楼道照明损坏，建议更换声控灯", "5单元楼道灯坏了一个多月，晚上很黑。"),
    ("parking", "电动车充电桩不够，飞线充电有隐患", "建议增加充电桩，杜绝楼道充电。"),
)
FEEDBACKS = (
    "已安排维修班组处理完毕，欢迎业主监督。",
    "已与相关单位协调，本月底前完成整改。",
    "经联席会议研究，已列入年度维修计划并公示。",
    "已增设设施并张贴告示，感谢业主建议。",
)
NOTICE_TOPICS = (
    (
        "maintenance",
        "二次供水水箱清洗通知",
        "本周六上午8:00至12:00清洗水箱，届时暂停供水，请提前储水。",
    ),
    ("outage", "计划停电通知", "因线路检修，周三9:00至15:00部分楼栋停电，请做好准备。"),
    ("event", "社区邻里节活动通知", "本周日在中心广场举办邻里节，欢迎居民参加。"),
    ("fees", "物业费收支情况公示提醒", "上月物业费收支明细已在平台公示，欢迎查阅与质询。"),
    ("announcement", "关于文明养犬的倡议", "请养犬居民出门牵绳、及时清理粪便，共建文明社区。"),
    ("announcement", "消防安全检查通知", "下周将开展消防安全检查，请清理楼道堆放物品。"),
    ("other", "快递柜搬迁通知", "因场地调整，快递柜将搬至东门岗亭旁。"),
    ("maintenance", "电梯年度检验通知", "电梯将于本月中旬进行年度检验，检验期间暂停使用。"),
)
ACTIVITY_TOPICS = (
    ("楼道清洁日", "清理楼道杂物，擦拭扶手", "各楼栋楼道"),
    ("垃圾分类宣传", "在投放点引导居民分类投放", "垃圾投放点"),
    ("关爱独居老人", "上门探访，帮忙打扫和购物", "社区服务站"),
    ("义务理发", "为老年居民义务理发", "社区活动室"),
    ("绿地认养", "补种花草，清理绿化带", "中心花园"),
    ("防诈骗讲座志愿者", "维持秩序，分发宣传资料", "社区会议室"),
    ("夜间巡逻", "协助物业夜间巡查", "小区主干道"),
)
MINUTES_AGENDA = (
    "1. 审议上季度物业服务情况\n2. 讨论公共收益使用方案\n3. 其他事项",
    "1. 通报维修资金使用情况\n2. 研究业主提出的金点子\n3. 确定下次会议时间",
    "1. 讨论停车管理办法\n2. 审议绿化改造方案",
)
MINUTES_DECISIONS = (
    "同意使用公共收益更换单元门禁",
    "通过停车管理办法（试行）",
    "同意开展楼道照明改造",
    "要求物业公司每月公示保洁记录",
)


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _area(rng: random.Random, low: int = 45, high: int = 140) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder: the parts add up)."""
    s = sum(weights) or 1.0
    raw = [total * w / s for w in weights]
    parts = [int(x) for x in raw]
    rest = total - sum(parts)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[:rest]:
        parts[i] += 1
    return parts


# ---- the bulk writer ----------------------------------------------------------------------------


class Writer:
    """Rows buffered per table and written in foreign-key order, a batch at a time."""

    def __init__(self, batch: int = 5000):
        self.batch = batch
        self.tables = {t.name: t for t in db.metadata.sorted_tables}
        self.order = [t.name for t in db.metadata.sorted_tables]
        self.buffers: dict[str, list[dict]] = defaultdict(list)
        self.pending = 0
        self.counts: dict[str, int] = defaultdict(int)
        self._next: dict[str, int] = {}

    def next_id(self, table: str) -> int:
        if table not in self._next:
            current = db.session.scalar(select(func.max(self.tables[table].c.id))) or 0
            self._next[table] = current + 1
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def add(self, table: str, row: dict) -> dict:
        self.buffers[table].append(row)
        self.pending += 1
        return row

    def tick(self) -> None:
        """Write the buffers once a batch is full; called between whole objects (a parent and
        all its children), so that no child is written before its parent."""
        if self.pending >= self.batch:
            self.flush()

    def flush(self) -> None:
        for name in self.order:
            rows = self.buffers.pop(name, None)
            if not rows:
                continue
            groups: dict[tuple, list[dict]] = defaultdict(list)
            for row in rows:
                groups[tuple(row)].append(row)
            for group in groups.values():
                db.session.execute(insert(self.tables[name]), group)
            self.counts[name] += len(rows)
        self.pending = 0


# ---- the seed ------------------------------------------------------------------------------


def places_exist() -> int:
    from portal.places.models import Street

    return db.session.scalar(select(func.count()).select_from(Street)) or 0


def reset_database() -> None:
    """Delete every row of every table (the whole database, not only seeded rows)."""
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for t in reversed(tables):
            db.session.execute(t.delete())
    db.session.commit()


def _fix_sequences() -> None:
    if db.engine.dialect.name != "postgresql":
        return
    for t in db.metadata.sorted_tables:
        pk = list(t.primary_key.columns)
        if len(pk) != 1 or pk[0].name != "id" or pk[0].type.python_type is not int:
            continue
        top = select(func.max(t.c.id)).scalar_subquery()
        sequence = func.pg_get_serial_sequence(f'"{t.name}"', "id")
        db.session.execute(select(func.setval(sequence, func.coalesce(top, 1), top.is_not(None))))


class Seeder:
    def __init__(self, scale: Scale, seed: int, now: datetime, echo: Callable[[str], None]):
        self.s = scale
        self.rng = random.Random(seed)
        self.now = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        self.start = self.now - timedelta(days=5 * 365)
        self.echo = echo
        self.w = Writer()
        self.t0 = time.monotonic()
        self.phase_t = self.t0
        self.phones: set[str] = set()
        self.receipts: set[str] = set()
        # filled as we go
        self.streets: list[dict] = []
        self.communities: list[dict] = []
        self.compounds: list[dict] = []
        self.companies: list[dict] = []
        self.staff: dict = {}
        self.manifest: dict = {}

    # ---- helpers ----

    def phase(self, label: str, **counts) -> None:
        """One progress line; a count given as a table name is read after the flush."""
        self.w.flush()
        now = time.monotonic()
        done = ", ".join(
            f"{k} {self.w.counts[v] if isinstance(v, str) else v:,}" for k, v in counts.items()
        )
        self.echo(f"{label}: {done} ({now - self.phase_t:.1f}s, total {now - self.t0:.1f}s)")
        self.phase_t = now

    def when(self, low: datetime, high: datetime) -> datetime:
        span = max(int((high - low).total_seconds()), 1)
        return (low + timedelta(seconds=self.rng.randrange(span))).replace(microsecond=0)

    def phone(self, index: int) -> str:
        """A unique mobile number for roster owner ``index`` (prefix varies, digits unique)."""
        p = PHONE_PREFIXES[index % len(PHONE_PREFIXES)] + f"{index:08d}"
        self.phones.add(p)
        return p

    # ---- places ----

    def build_places(self) -> None:
        s, rng, w = self.s, self.rng, self.w
        n_comm = s.streets * s.communities_per_street
        per_comm = _split(s.compounds, [1.0] * n_comm)
        used_names: set[str] = set()
        for si in range(s.streets):
            sid = w.next_id("street")
            street = {
                "id": sid,
                "code": f"B{si + 1:02d}",
                "name": STREET_NAMES[si % len(STREET_NAMES)] + "街道",
                "district": "基准区",
            }
            w.add("street", street)
            self.streets.append(street)
            for ci in range(s.communities_per_street):
                cid = w.next_id("community")
                name = rng.choice(PLACE_WORDS) + rng.choice(PLACE_WORDS) + "社区"
                comm = {
                    "id": cid,
                    "street_id": sid,
                    "code": f"{street['code']}-{ci + 1:02d}",
                    "name": name,
                    "address": f"基准区{street['name'][:2]}路 {rng.randint(1, 300)} 号",
                }
                w.add("community", comm)
                comm["street"] = street
                comm["compounds"] = []
                self.communities.append(comm)
        # compound sizes: the vote compound, the compounds that held elections, the rest
        n_elect = s.elections - 1
        lo, hi = s.election_compound_units
        # the first (the typical compound's) is the largest: the manifest's big election
        elect_sizes = [hi] + [rng.randint(lo, hi) for _ in range(n_elect - 1)]
        rest_units = s.units - s.vote_owners - sum(elect_sizes)
        n_rest = s.compounds - 1 - n_elect
        if rest_units < n_rest * 40:
            raise ValueError("scale table: too few units for the remaining compounds")
        rest_sizes = _split(rest_units, [rng.uniform(0.4, 1.6) for _ in range(n_rest)])
        # order: the first compound of the first community holds an election (the typical one);
        # the vote compound is the first compound of the second community
        kinds: list[tuple[str, int]] = [("vote", s.vote_owners)]
        kinds += [("election", n) for n in elect_sizes] + [("plain", n) for n in rest_sizes]
        first_election = kinds.pop(1)
        vote = kinds.pop(0)
        rng.shuffle(kinds)
        slots: list[tuple[str, int]] = [first_election]
        second_comm_start = per_comm[0]
        kinds.insert(second_comm_start - 1, vote)
        slots += kinds
        idx = 0
        owner_index = 0
        for comm, count in zip(self.communities, per_comm, strict=True):
            for k in range(count):
                role, n_units = slots[idx]
                idx += 1
                owner_index = self._compound(comm, k, role, n_units, used_names, owner_index)
        self.phase(
            "places",
            streets=len(self.streets),
            communities=len(self.communities),
            compounds=len(self.compounds),
            buildings="building",
            units="unit",
            owners="roster_owner",
        )

    def _compound(self, comm, k, role, n_units, used_names, owner_index) -> int:
        rng, w = self.rng, self.w
        kind = (
            "commercial"
            if role in ("vote", "election")
            else rng.choice(("commercial", "commercial", "old", "resettlement"))
        )
        while True:
            name = rng.choice(PLACE_WORDS) + rng.choice(PLACE_WORDS) + rng.choice(COMPOUND_SUFFIX)
            if name not in used_names:
                used_names.add(name)
                break
        per_floor = 4 if kind == "commercial" else rng.choice((2, 3, 4))
        floors = rng.choice((11, 18, 26)) if kind == "commercial" else 6
        per_building = per_floor * floors
        cid = w.next_id("compound")
        compound = {
            "id": cid,
            "code": f"{comm['code']}-{k + 1:02d}",
            "name": name,
            "kind": kind,
            "role": role,
            "community": comm,
            "street": comm["street"],
            "units": [],  # (unit_id, building_name, room, area, owner_pos or None)
            "owners": [],  # dicts: id, key, name, phone, units
            "buildings": [],  # (building_name, unit_count)
        }
        developer_share = (
            0.01 if role == "election" or (kind == "commercial" and role == "plain") else 0
        )
        double_share = 0.02 if role != "vote" else 0
        buildings = []
        units = []
        b = 0
        made = 0
        while made < n_units:
            b += 1
            bname = f"{b}栋"
            in_b = min(per_building, n_units - made)
            buildings.append((w.next_id("building"), bname, in_b))
            for j in range(in_b):
                floor, pos = divmod(j, per_floor)
                units.append(
                    [w.next_id("unit"), buildings[-1][0], bname, f"{floor + 1}{pos + 1:02d}"]
                )
            made += in_b
        total_area = Decimal("0")
        owners = compound["owners"]
        pending_double = None
        for u in units:
            area = _area(rng)
            total_area += area
            if rng.random() < developer_share:
                u += [area, None, True]
                continue
            if pending_double is not None:
                owner = pending_double
                pending_double = None
            else:
                owner_index += 1
                has_phone = role == "vote" or rng.random() < 0.95
                owner = {
                    "id": w.next_id("roster_owner"),
                    "key": f"O{len(owners) + 1:05d}",
                    "name": _name(rng),
                    "phone": self.phone(owner_index) if has_phone else None,
                    "units": [],
                    "user_id": None,
                }
                owners.append(owner)
                if rng.random() < double_share:
                    pending_double = owner
            owner["units"].append(u[0])
            u += [area, owner, False]
        w.add(
            "compound",
            {
                "id": cid,
                "community_id": comm["id"],
                "code": compound["code"],
                "name": name,
                "kind": kind,
                "address": f"{comm['address'][:-2]}{k + 1}弄",
                "unit_count": len(units),
                "building_count": len(buildings),
                "total_area_m2": total_area,
            },
        )
        from portal.places.roster import building_sort_key

        for bid, bname, _n in buildings:
            w.add(
                "building",
                {
                    "id": bid,
                    "compound_id": cid,
                    "name": bname,
                    "sort_key": building_sort_key(bname),
                },
            )
        for o in owners:
            w.add(
                "roster_owner",
                {
                    "id": o["id"],
                    "compound_id": cid,
                    "owner_key": o["key"],
                    "name": o["name"],
                    "phone": o["phone"],
                },
            )
        for uid, bid, _bname, room, area, owner, dev in units:
            w.add(
                "unit",
                {
                    "id": uid,
                    "building_id": bid,
                    "room": room,
                    "area_m2": area,
                    "owner_id": owner["id"] if owner else None,
                    "developer_held": dev,
                    "updated_at": self.start,
                },
            )
        compound["units"] = [(u[0], u[2], u[3], u[4], u[5], u[6]) for u in units]
        compound["buildings"] = [(bname, n) for _bid, bname, n in buildings]
        compound["total_area"] = total_area
        comm["compounds"].append(compound)
        self.compounds.append(compound)
        w.tick()
        return owner_index

    # ---- accounts ----

    def _user(self, phone: str, name: str, created: datetime) -> int:
        uid = self.w.next_id("user_account")
        self.w.add(
            "user_account",
            {
                "id": uid,
                "phone": phone,
                "password_hash": self.password_hash,
                "display_name": name[:50],
                "locale": None,
                "large_text": self.rng.random() < 0.05,
                "session_version": 1,
                "active": True,
                "created_at": created,
                "last_login_at": None,
            },
        )
        return uid

    def _grant(self, user_id: int, role: str, scope_type: str | None, scope_id: int | None):
        self.w.add(
            "role_grant",
            {
                "id": self.w.next_id("role_grant"),
                "user_id": user_id,
                "role": role,
                "scope_type": scope_type,
                "scope_id": scope_id,
                "granted_by_id": self.staff.get("admin"),
                "created_at": self.start,
                "revoked_at": None,
                "revoked_by_id": None,
            },
        )

    def build_accounts(self) -> None:
        from portal.accounts.passwords import hash_password

        s, rng, w = self.s, self.rng, self.w
        self.password_hash = hash_password(BENCH_PASSWORD)  # once, for every account
        staff_no = 0

        def staff_phone() -> str:
            nonlocal staff_no
            staff_no += 1
            p = f"199{staff_no:08d}"
            self.phones.add(p)
            return p

        admin = self._user(staff_phone(), "区管理员", self.start)
        self.staff["admin"] = admin
        self.staff["admin_phone"] = f"199{1:08d}"
        self._grant(admin, "admin", None, None)
        for street in self.streets:
            officer_phone = staff_phone()
            street["officer"] = self._user(officer_phone, _name(rng), self.start)
            street["officer_phone"] = officer_phone
            self._grant(street["officer"], "street", "street", street["id"])
            street["inspector_phone"] = staff_phone()
            street["inspector"] = self._user(street["inspector_phone"], _name(rng), self.start)
            self._grant(street["inspector"], "inspector", "street", street["id"])
        for comm in self.communities:
            comm["secretary_phone"] = staff_phone()
            comm["secretary"] = self._user(comm["secretary_phone"], _name(rng), self.start)
            self._grant(comm["secretary"], "secretary", "community", comm["id"])
        used = set()
        for i in range(s.companies):
            while True:
                name = rng.choice(PLACE_WORDS) + rng.choice(PLACE_WORDS) + COMPANY_SUFFIX
                if name not in used:
                    used.add(name)
                    break
            co = {"id": w.next_id("company"), "name": name}
            w.add("company", {**co, "credit_code": f"91{i + 1:016d}"})
            co["staff_phone"] = staff_phone()
            co["staff"] = self._user(co["staff_phone"], _name(rng), self.start)
            self._grant(co["staff"], "company", "company", co["id"])
            self.companies.append(co)
        staff_accounts = 1 + 2 * len(self.streets) + len(self.communities) + s.companies
        # residents: every owner of the vote compound, the rest shared by owners with a phone
        others = [c for c in self.compounds if c["role"] != "vote"]
        vote = next(c for c in self.compounds if c["role"] == "vote")
        remaining = s.accounts - staff_accounts - len(vote["owners"])
        with_phone = {c["id"]: [o for o in c["owners"] if o["phone"]] for c in others}
        minimum = 3
        quotas = _split(
            remaining - minimum * len(others),
            [max(len(with_phone[c["id"]]) - minimum, 0) for c in others],
        )
        for c, q in zip(others, quotas, strict=True):
            pool = with_phone[c["id"]]
            c["account_owners"] = rng.sample(pool, min(len(pool), q + minimum))
        vote["account_owners"] = list(vote["owners"])
        residents = 0
        for c in self.compounds:
            comm = c["community"]
            c["residents"] = []  # verified resident user ids
            for pos, o in enumerate(c["account_owners"]):
                created = self.when(self.start, self.now - timedelta(days=30))
                uid = self._user(o["phone"], o["name"], created)
                o["user_id"] = uid
                residents += 1
                pending = c["role"] != "vote" and pos >= minimum and rng.random() < 0.02
                w.add(
                    "membership",
                    {
                        "id": w.next_id("membership"),
                        "user_id": uid,
                        "unit_id": o["units"][0],
                        "relation": "owner",
                        "claimed_name": o["name"],
                        "note": "",
                        "status": "pending" if pending else "verified",
                        "reason": "",
                        "created_at": created,
                        "decided_at": None if pending else created + timedelta(days=1),
                        "decided_by_id": None if pending else comm["secretary"],
                    },
                )
                if not pending:
                    c["residents"].append(uid)
                w.tick()
            # two owners' committee members (verified owners of the compound)
            c["committee"] = c["residents"][:2]
            for uid in c["committee"]:
                self._grant(uid, "committee", "compound", c["id"])
            comm.setdefault("residents", []).extend(c["residents"])
        self.phase(
            "accounts",
            accounts="user_account",
            residents=residents,
            claims="membership",
            grants="role_grant",
            companies=len(self.companies),
        )

    # ---- contracts and commitments ----

    def build_contracts(self) -> None:
        from portal.transparency import feecore

        rng, w = self.rng, self.w
        texts = feecore.split_commitments(CONTRACT_TEXT)
        for i, c in enumerate(self.compounds):
            co = self.companies[i % len(self.companies)]
            c["company"] = co
            level = rng.choice(("一级", "二级", "二级", "三级"))
            fee = rng.choice((Decimal("1.20"), Decimal("1.50"), Decimal("1.80"), Decimal("2.30")))
            c["fee_per_m2"] = fee
            starts = date(self.now.year - 1, 1, 1)
            contract_id = w.next_id("service_contract")
            c["contract_id"] = contract_id
            w.add(
                "service_contract",
                {
                    "id": contract_id,
                    "compound_id": c["id"],
                    "company_id": co["id"],
                    "election_id": None,
                    "starts_on": starts,
                    "ends_on": date(self.now.year + 2, 12, 31),
                    "fee_per_m2": fee,
                    "service_level": level,
                    "commitments": CONTRACT_TEXT,
                    "document": None,
                    "signed_at": datetime(starts.year, 1, 1, 2, tzinfo=UTC),
                    "signed_by_id": c["community"]["secretary"],
                },
            )
            at = datetime(starts.year, 1, 2, 2, tzinfo=UTC)
            for pos, t in enumerate(texts, start=1):
                w.add(
                    "service_commitment",
                    {
                        "id": w.next_id("service_commitment"),
                        "contract_id": contract_id,
                        "compound_id": c["id"],
                        "position": pos,
                        "category": feecore.guess_category(t),
                        "promise": t[:300],
                        "standard": "",
                        "service_level": level,
                        "fee_per_m2": fee,
                        "created_at": at,
                        "created_by_id": c["community"]["secretary"],
                        "updated_at": at,
                    },
                )
        self.phase(
            "contracts",
            contracts="service_contract",
            commitments="service_commitment",
        )

    # ---- fee statements ----

    def build_fees(self) -> None:
        from portal.places.roster import building_sort_key
        from portal.transparency import feecore, periods

        rng, w = self.rng, self.w
        last = periods.period_of_date("month", self.now.date()).previous()
        months = periods.trailing(last, self.s.fee_months)
        order = {c: i for i, c in enumerate(feecore.ALL_CATEGORIES)}
        typical = self.compounds[0]
        for c in self.compounds:
            staff = c["company"]["staff"]
            secretary = c["community"]["secretary"]
            household_fee = (c["fee_per_m2"] * Decimal("95")).quantize(CENT)
            opening = Decimal("20000.00")
            corrected = months[-3].key
            for p in months:
                rows = []
                for bname, households in c["buildings"]:
                    paid = max(0, households - rng.randint(0, max(1, households // 5)))
                    rows.append(
                        (bname, households, paid, household_fee * households, household_fee * paid)
                    )
                billed = sum(r[1] for r in rows)
                paid = sum(r[2] for r in rows)
                amount_billed = sum((r[3] for r in rows), Decimal("0.00"))
                collected = sum((r[4] for r in rows), Decimal("0.00"))
                scale = max(Decimal("0.2"), amount_billed / Decimal("68000"))
                lines = [
                    ("income", "property_fees", "物业服务费", collected),
                    ("income", "parking", "地面停车", _money(rng, 9000, 13000) * scale),
                    ("income", "common_area", "电梯广告", Decimal("3000.00") * scale),
                    ("expense", "wages", "", _money(rng, 30000, 34000) * scale),
                    ("expense", "cleaning", "保洁外包", Decimal("9000.00") * scale),
                    ("expense", "greening", "", _money(rng, 1500, 4000) * scale),
                    ("expense", "security", "门岗", Decimal("12000.00") * scale),
                    ("expense", "repairs", "电梯维保", _money(rng, 2000, 8000) * scale),
                    ("expense", "utilities", "公共照明水电", _money(rng, 4000, 6000) * scale),
                    ("expense", "management", "", Decimal("2500.00") * scale),
                ]
                lines = [(d, cat, item, a.quantize(CENT)) for d, cat, item, a in lines]
                lines.sort(key=lambda x: (feecore.DIRECTIONS.index(x[0]), order[x[1]]))
                income = sum((x[3] for x in lines if x[0] == "income"), Decimal("0.00"))
                expense = sum((x[3] for x in lines if x[0] == "expense"), Decimal("0.00"))
                created = datetime.combine(p.end, datetime.min.time(), UTC) + timedelta(days=3)
                published = min(created + timedelta(days=3), self.now - timedelta(hours=2))
                created = min(created, published - timedelta(hours=6))
                revisions = [(1, lines, "")]
                if p.key == corrected:
                    fixed = [
                        (
                            d,
                            cat,
                            item,
                            (a * Decimal("0.9")).quantize(CENT) if cat == "repairs" else a,
                        )
                        for d, cat, item, a in lines
                    ]
                    revisions.append((2, fixed, "电梯维保费按发票金额更正"))
                prev_id = None
                for number, rev_lines, reason in revisions:
                    sid = w.next_id("fee_statement")
                    rev_income = sum((x[3] for x in rev_lines if x[0] == "income"), Decimal("0"))
                    rev_expense = sum((x[3] for x in rev_lines if x[0] == "expense"), Decimal("0"))
                    pub = published + timedelta(days=2 * (number - 1))
                    pub = min(pub, self.now - timedelta(hours=1))
                    w.add(
                        "fee_statement",
                        {
                            "id": sid,
                            "compound_id": c["id"],
                            "company_id": c["company"]["id"],
                            "period_kind": "month",
                            "period_key": p.key,
                            "period_start": p.start,
                            "period_end": p.end,
                            "revision": number,
                            "supersedes_id": prev_id,
                            "revision_reason": reason,
                            "status": "published",
                            "households_billed": billed,
                            "households_paid": paid,
                            "amount_billed": amount_billed,
                            "amount_collected": collected,
                            "opening_balance": opening,
                            "income_total": rev_income,
                            "expense_total": rev_expense,
                            "note": "",
                            "source": "form",
                            "created_at": created,
                            "created_by_id": staff,
                            "updated_at": pub,
                            "submitted_at": pub - timedelta(hours=3),
                            "submitted_by_id": staff,
                            "published_at": pub,
                            "published_by_id": secretary,
                        },
                    )
                    line_ids = {}
                    for pos, (d, cat, item, amount) in enumerate(rev_lines):
                        lid = w.next_id("fee_line")
                        line_ids[cat] = lid
                        w.add(
                            "fee_line",
                            {
                                "id": lid,
                                "statement_id": sid,
                                "position": pos,
                                "direction": d,
                                "category": cat,
                                "item": item,
                                "amount": amount,
                                "note": "",
                            },
                        )
                    for bname, households, bpaid, bbilled, bcollected in rows:
                        w.add(
                            "fee_building_billing",
                            {
                                "id": w.next_id("fee_building_billing"),
                                "statement_id": sid,
                                "building_name": bname,
                                "sort_key": building_sort_key(bname),
                                "households_billed": households,
                                "households_paid": bpaid,
                                "amount_billed": bbilled,
                                "amount_collected": bcollected,
                            },
                        )
                    prev_id = sid
                    w.tick()
                c["last_statement"] = (p.key, prev_id, line_ids)
                opening = opening + income - expense
        # residents' questions on the typical compound's latest statement
        key, sid, line_ids = typical["last_statement"]
        asker = typical["residents"][-1]
        for cat, body, answer in (
            ("cleaning", "保洁外包费用不低，楼道却不是每天都扫，请公开保洁记录。", None),
            (
                "wages",
                "人员工资包括哪些岗位、多少人？",
                "共12人：保洁4人、秩序维护5人、维修2人、客服1人。",
            ),
        ):
            asked = self.now - timedelta(days=3)
            w.add(
                "fee_question",
                {
                    "id": w.next_id("fee_question"),
                    "line_id": line_ids[cat],
                    "statement_id": sid,
                    "compound_id": typical["id"],
                    "period_key": key,
                    "user_id": asker,
                    "body": body,
                    "created_at": asked,
                    "answer": answer,
                    "answered_at": asked + timedelta(days=1) if answer else None,
                    "answered_by_id": typical["company"]["staff"] if answer else None,
                },
            )
        self.manifest["fee_statement"] = {
            "compound_code": typical["code"],
            "period_key": key,
            "id": sid,
            "url": f"/compounds/{typical['code']}/fees/{key}",
        }
        self.phase(
            "fee statements",
            statements="fee_statement",
            lines="fee_line",
            building_rows="fee_building_billing",
        )

    # ---- elections ----

    def build_elections(self) -> None:
        from portal.voting import ledger, rollfile, tally
        from portal.voting.service import _voter_key

        s = self.s
        held = [c for c in self.compounds if c["role"] == "election"]
        vote = next(c for c in self.compounds if c["role"] == "vote")
        n_open = s.open_elections
        # the typical compound (held[0]) turns out 80%; the rest share the other ballots
        first = int(len(held[0]["owners"]) * 0.8)
        quotas = [first] + _split(s.ballots - first, [len(c["owners"]) for c in held[1:]])
        total_ballots = 0
        best = None
        for i, (c, quota) in enumerate(zip(held, quotas, strict=True)):
            is_open = i >= len(held) - n_open
            n, eid = self._election(
                c, quota, "open" if is_open else "certified", ledger, rollfile, tally, _voter_key
            )
            total_ballots += n
            if i == 0:  # the typical compound's certified election
                best = (eid, n, c)
            if c is self.compounds[0]:
                self.manifest["typical_election_id"] = eid
        _n, vote_eid = self._election(vote, 0, "vote", ledger, rollfile, tally, _voter_key)
        self.manifest["vote_compound"] = vote["code"]
        self.manifest["vote_election_id"] = vote_eid
        self.manifest["vote_voters"] = [[o["user_id"], o["phone"]] for o in vote["owners"]]
        self.manifest["election_id"] = best[0]
        self.manifest["election_ballots"] = best[1]
        self.manifest["election_compound"] = best[2]["code"]
        self.phase(
            "elections",
            elections="election",
            roll_entries="roll_entry",
            ballots=total_ballots,
        )

    def _election(self, c, quota, kind, ledger, rollfile, tally, voter_key_of):
        rng, w = self.rng, self.w
        comm = c["community"]
        secretary = comm["secretary"]
        eid = w.next_id("election")
        salt = f"{rng.getrandbits(128):032x}"
        key_of = SimpleNamespace(voter_salt=salt)
        if kind == "certified":
            announced = self.when(self.start, self.now - timedelta(days=60))
            opens = announced + timedelta(days=15)
            closes = opens + timedelta(days=rng.choice((7, 10, 14)))
        elif kind == "open":
            announced = self.now - timedelta(days=20)
            opens = self.now - timedelta(days=4)
            closes = self.now + timedelta(days=6)
        else:  # the vote election: open now, closes in ten days, no ballots
            announced = self.now - timedelta(days=17)
            opens = self.now - timedelta(days=1)
            closes = self.now + timedelta(days=10)
        matter = "hire" if kind == "vote" or rng.random() < 0.5 else "renew"
        rule = "civil-code-278"
        options = []
        if matter == "hire":
            picks = rng.sample(self.companies, min(len(self.companies), rng.choice((2, 3))))
            for key, co in zip("ABC", picks, strict=False):
                options.append((key, co["name"], co["id"]))
        else:
            options = [("no", "no", None), ("yes", "yes", None)]
        title = (
            "选聘物业服务企业" if matter == "hire" else "续聘物业服务企业"
        ) + f"（{announced.year}）"
        # the roll: one entry per unit, owners by roster key, developer units under one key
        entries = []
        for unit_id, bname, room, area, owner, dev in c["units"]:
            basis = "developer" if dev else f"owner:{owner['key']}"
            entries.append((unit_id, f"{bname} {room}", bname, voter_key_of(key_of, basis), area))
        records = [
            tally.RollEntry(voter_key=k, unit=label, area_m2=a) for _u, label, _b, k, a in entries
        ]
        fingerprint = rollfile.roll_fingerprint(records)
        electorate = tally.electorate_of(records)
        # the ballots
        voters = {}
        for o in c["owners"]:
            voters[voter_key_of(key_of, f"owner:{o['key']}")] = o
        chosen = rng.sample(sorted(voters), min(quota, len(voters)))
        keys = [k for k, _l, _c in options]
        weights = [0.6, 0.3, 0.1][: len(keys)] if matter == "hire" else [0.25, 0.75]
        vote_end = min(closes, self.now - timedelta(minutes=5))
        times = sorted(self.when(opens, vote_end) for _ in chosen) if chosen else []
        ballots = []
        for vk, cast_at in zip(chosen, times, strict=True):
            o = voters[vk]
            choice = "abstain" if rng.random() < 0.04 else rng.choices(keys, weights)[0]
            online = o["user_id"] is not None
            while True:
                receipt = ledger.new_receipt(rng)
                if receipt not in self.receipts:
                    self.receipts.add(receipt)
                    break
            ballots.append((vk, choice, "online" if online else "paper", receipt, cast_at, o))
        result = None
        if kind == "certified":
            counted = [
                tally.BallotRecord(
                    line=None, voter_key=b[0], choice=b[1], channel=b[2], receipt=b[3]
                )
                for b in ballots
            ]
            result = tally.tally(records, counted, rule, sorted(keys)).to_json_dict()
        hashes = ledger.build_chain(
            ledger.canonical_ballot_record(b[0], b[1], b[2], b[3], b[4]) for b in ballots
        )
        closed = closes + timedelta(days=1) if kind == "certified" else None
        certified = closes + timedelta(days=2) if kind == "certified" else None
        w.add(
            "election",
            {
                "id": eid,
                "compound_id": c["id"],
                "title": title,
                "description": "根据《民法典》第二百七十八条，由业主共同决定选聘物业服务企业。",
                "matter": matter,
                "rule": rule,
                "status": "certified" if kind == "certified" else "announced",
                "opens_at": opens,
                "closes_at": closes,
                "announced_at": announced,
                "closed_at": closed,
                "certified_at": certified,
                "created_at": announced - timedelta(days=3),
                "created_by_id": secretary,
                "certified_by_id": secretary if certified else None,
                "voter_salt": salt,
                "roll_fingerprint": fingerprint,
                "ledger_head": ledger.head_hash(hashes),
                "ballot_count": len(ballots),
                "result": result,
            },
        )
        for key, label, company_id in options:
            w.add(
                "election_option",
                {
                    "id": w.next_id("election_option"),
                    "election_id": eid,
                    "key": key,
                    "label": label,
                    "company_id": company_id,
                    "fee_per_m2": Decimal("1.80") if company_id else None,
                    "service_level": "二级" if company_id else None,
                    "commitments": CONTRACT_TEXT if company_id else "",
                    "document": None,
                },
            )
        w.add(
            "roll_version",
            {
                "id": w.next_id("roll_version"),
                "election_id": eid,
                "version": 1,
                "fingerprint": fingerprint,
                "csv": rollfile.canonical_roll_csv(records).decode(),
                "reason": "",
                "owners": electorate.owners,
                "area_m2": electorate.area_m2,
                "created_at": announced,
                "created_by_id": secretary,
            },
        )
        for unit_id, label, bname, vk, area in entries:
            w.add(
                "roll_entry",
                {
                    "id": w.next_id("roll_entry"),
                    "election_id": eid,
                    "unit_id": unit_id,
                    "unit_label": label,
                    "building_name": bname,
                    "voter_key": vk,
                    "area_m2": area,
                    "excluded": False,
                },
            )
        committee = c["committee"][0] if c["committee"] else secretary
        for seq, ((vk, choice, channel, receipt, cast_at, o), h) in enumerate(
            zip(ballots, hashes, strict=True), start=1
        ):
            bid = w.next_id("ballot")
            paper = channel == "paper"
            w.add(
                "ballot",
                {
                    "id": bid,
                    "election_id": eid,
                    "voter_key": vk,
                    "choice": choice,
                    "channel": channel,
                    "receipt": receipt,
                    "state": "counted",
                    "cast_at": cast_at,
                    "user_id": o["user_id"],
                    "entered_by_id": secretary if paper else None,
                    "confirmed_by_id": committee if paper else None,
                    "confirmed_at": cast_at if paper else None,
                    "proxy_holder": None,
                    "proxy_document": None,
                },
            )
            w.add(
                "ledger_entry",
                {
                    "id": w.next_id("ledger_entry"),
                    "election_id": eid,
                    "seq": seq,
                    "ballot_id": bid,
                    "record": ledger.canonical_ballot_record(vk, choice, channel, receipt, cast_at),
                    "hash": h,
                    "created_at": cast_at,
                },
            )
        # the notices the portal posts: the announcement, and the certified result
        self._system_notice(
            c,
            eid,
            "announced",
            f"表决公告：{title}",
            f"{c['name']}全体业主将就{title}进行表决。投票时间：{opens:%Y-%m-%d}至{closes:%Y-%m-%d}。"
            f"业主名册及其指纹 {fingerprint[:16]} 已在表决页面公示。",
            announced,
        )
        if certified:
            outcome = {
                "decided": "已决定",
                "no_quorum": "未达到参与人数",
                "no_majority": "未过半数",
            }
            self._system_notice(
                c,
                eid,
                "certified",
                f"表决结果公告：{title}",
                f"{c['name']}{title}的表决结果已确认（{outcome.get(result['outcome'], '')}）。"
                "完整结果、选票文件和回执查询见表决页面。",
                certified,
            )
        w.tick()
        return len(ballots), eid

    # ---- notices ----

    def _notice(self, scope_type, c_or_place, category, title, body, publish_at, **extra) -> int:
        from portal.notices import rules

        if scope_type == "street":
            street_id, community_id, compound_id, scope_id = (
                c_or_place["id"],
                None,
                None,
                c_or_place["id"],
            )
        elif scope_type == "community":
            street_id = c_or_place["street"]["id"]
            community_id, compound_id, scope_id = c_or_place["id"], None, c_or_place["id"]
        else:
            street_id = c_or_place["street"]["id"]
            community_id = c_or_place["community"]["id"]
            compound_id = scope_id = c_or_place["id"]
        nid = self.w.next_id("notice")
        row = {
            "id": nid,
            "scope_type": scope_type,
            "street_id": street_id,
            "community_id": community_id,
            "compound_id": compound_id,
            "category": category,
            "title": title[:150],
            "body": body,
            "pinned": False,
            "publish_at": publish_at,
            "expires_at": None,
            "from_company_id": None,
            "issuer": "system",
            "author_id": None,
            "source": None,
            "link_endpoint": None,
            "link_args": None,
            "fingerprint": rules.fingerprint(
                title=title[:150],
                body=body,
                scope=f"{scope_type}:{scope_id}",
                publish_at=publish_at,
                attachment_hashes=[],
            ),
            "withdrawn_at": None,
            "withdrawn_by_id": None,
            "withdraw_reason": "",
            "created_at": publish_at,
            "updated_at": publish_at,
        }
        row.update(extra)
        self.w.add("notice", row)
        self.w.tick()
        return nid

    def _system_notice(self, c, eid, event, title, body, at) -> None:
        self._notice(
            "compound",
            c,
            "election",
            title,
            body,
            at,
            source=f"election:{eid}:{event}",
            link_endpoint="voting.election",
            link_args={"election_id": eid},
        )

    def build_notices(self) -> None:
        rng, w = self.rng, self.w
        have = w.counts["notice"] + len(w.buffers.get("notice", []))
        todo = self.s.notices - have - 1  # the pinned notice of the manifest comes last
        typical = self.compounds[0]
        first = None
        for i in range(todo):
            category, title, body = NOTICE_TOPICS[i % len(NOTICE_TOPICS)]
            r = rng.random()
            # the typical compound gets a steady share, so its hub tab has plenty to page through
            if i % 50 == 0:
                scope, place = "compound", typical
            elif r < 0.1:
                scope, place = "street", rng.choice(self.streets)
            elif r < 0.4:
                scope, place = "community", rng.choice(self.communities)
            else:
                scope, place = "compound", rng.choice(self.compounds)
            publish = self.when(self.start, self.now - timedelta(hours=1))
            expires = None
            if rng.random() < 0.5:
                expires = publish + timedelta(days=rng.choice((3, 7, 14, 30)))
            extra = {"pinned": rng.random() < 0.05, "expires_at": expires}
            if scope == "street":
                extra.update(issuer="street", author_id=place["officer"])
            elif scope == "community":
                extra.update(issuer="community", author_id=place["secretary"])
            elif rng.random() < 0.4:
                extra.update(
                    issuer="company",
                    author_id=place["company"]["staff"],
                    from_company_id=place["company"]["id"],
                )
            else:
                extra.update(
                    issuer="committee",
                    author_id=place["committee"][0] if place["committee"] else None,
                )
                if extra["author_id"] is None:
                    extra["issuer"] = "community"
                    extra["author_id"] = place["community"]["secretary"]
            nid = self._notice(scope, place, category, title, body, publish, **extra)
            if first is None and scope == "compound" and place is typical:
                first = nid
        # one pinned current notice on the typical compound: the manifest's notice
        nid = self._notice(
            "compound",
            typical,
            "announcement",
            "关于开展楼道堆物清理的通知",
            "为消除消防隐患，本月将集中清理楼道堆放物品，请业主自行清理。",
            self.now - timedelta(days=2),
            pinned=True,
            issuer="committee",
            author_id=typical["committee"][0],
        )
        self.manifest["notice_id"] = nid
        self.phase("notices", notices="notice")

    # ---- proposals ----

    def build_proposals(self) -> None:
        from portal.proposals import sla

        rng, w = self.rng, self.w
        # the vote compound's board holds ``board_proposals`` (a long board to page deep into);
        # the rest are shared in proportion to the residents
        board = next(i for i, c in enumerate(self.compounds) if c["role"] == "vote")
        weights = [len(c["residents"]) for c in self.compounds]
        weights[board] = 0
        quotas = _split(self.s.proposals - self.s.board_proposals, weights)
        quotas[board] = self.s.board_proposals
        self.manifest["board_compound"] = self.compounds[board]["code"]
        self.manifest["board_pages"] = -(-self.s.board_proposals // 20)
        typical = self.compounds[0]
        manifest_pid = None
        for c, quota in zip(self.compounds, quotas, strict=True):
            residents = c["residents"]
            if not residents:
                continue
            secretary = c["community"]["secretary"]
            for _ in range(quota):
                pid = w.next_id("proposal")
                author = rng.choice(residents)
                category, title, body = rng.choice(PROPOSAL_TOPICS)
                recent = rng.random() < 0.12
                waiting = not recent and rng.random() < 0.08  # feedback given, no verdict yet
                if recent:
                    created = self.when(self.now - timedelta(days=3), self.now - timedelta(hours=2))
                elif waiting:
                    created = self.when(self.now - timedelta(days=9), self.now - timedelta(days=5))
                else:
                    created = self.when(self.start, self.now - timedelta(days=20))
                events = [(created, "submitted", "author", author, "", {})]
                p = {
                    "id": pid,
                    "compound_id": c["id"],
                    "community_id": c["community"]["id"],
                    "author_id": author,
                    "title": title,
                    "body": body,
                    "category": category,
                    "state": "collect",
                    "created_at": created,
                    "complexity": None,
                    "responsible": None,
                    "accepted_at": None,
                    "clock_started_at": None,
                    "deadline_at": None,
                    "responded_at": None,
                    "overdue_at": None,
                    "ever_overdue": False,
                    "first_response_at": None,
                    "reject_reason": "",
                    "merged_into_id": None,
                    "meeting_on": None,
                    "conclusion": "",
                    "feedback": "",
                    "feedback_at": None,
                    "reopened": False,
                    "outcome": None,
                    "resolved_at": None,
                    "support_count": 0,
                    "comment_count": 0,
                    "hidden_at": None,
                    "hidden_reason": "",
                    "hidden_by_id": None,
                }
                r = rng.random()
                if recent:
                    target = "collect" if r < 0.6 else "accepted"
                elif waiting:
                    target = "feedback"
                elif r < 0.12:
                    target = "rejected"
                else:
                    target = "closed"
                if target == "rejected":
                    at = created + timedelta(hours=rng.randint(2, 40))
                    p.update(
                        state="rejected",
                        reject_reason="该事项不属于本小区公共事务，已转交相关部门。",
                    )
                    events.append((at, "rejected", "secretary", secretary, p["reject_reason"], {}))
                elif target != "collect":
                    accepted = created + timedelta(hours=rng.randint(1, 30))
                    if recent:
                        accepted = min(accepted, self.now - timedelta(hours=1))
                    complexity = rng.choice(sla.COMPLEXITIES)
                    responsible = rng.choice(("company", "company", "committee", "community"))
                    deadline = sla.deadline(accepted, complexity)
                    p.update(
                        state="accepted",
                        complexity=complexity,
                        responsible=responsible,
                        accepted_at=accepted,
                        clock_started_at=accepted,
                        deadline_at=deadline,
                    )
                    events.append(
                        (
                            accepted,
                            "accepted",
                            "secretary",
                            secretary,
                            "",
                            {"complexity": complexity, "responsible": responsible},
                        )
                    )
                    if target == "accepted" and deadline <= self.now:
                        # keep the running clocks honest: recent ones are not yet due
                        p.update(
                            complexity="complex", deadline_at=sla.deadline(accepted, "complex")
                        )
                        events[-1][5]["complexity"] = "complex"
                    if target != "accepted":
                        hours = sla.HOURS[complexity]
                        late = rng.random() < 0.1
                        answered = accepted + timedelta(
                            hours=rng.uniform(hours + 1, hours + 30)
                            if late
                            else rng.uniform(1, hours - 1)
                        )
                        answered = answered.replace(microsecond=0)
                        responder = (
                            c["company"]["staff"]
                            if responsible == "company"
                            else c["committee"][0]
                            if responsible == "committee" and c["committee"]
                            else secretary
                        )
                        text = rng.choice(FEEDBACKS)
                        p.update(
                            state="feedback",
                            responded_at=answered,
                            first_response_at=answered,
                            ever_overdue=late,
                            feedback=text,
                            feedback_at=answered,
                        )
                        events.append((answered, "feedback", responsible, responder, text, {}))
                        if target == "closed":
                            verdict_at = answered + timedelta(hours=rng.randint(2, 72))
                            satisfied = rng.random() < 0.85
                            verdict = "satisfied" if satisfied else "unsatisfied"
                            outcome = "satisfied" if satisfied else "unsatisfied"
                            if not satisfied:
                                # an unsatisfied author reopens it once; the second answer closes it
                                p["reopened"] = True
                                events.append(
                                    (verdict_at, verdict, "author", author, "问题没有解决。", {})
                                )
                                events.append((verdict_at, "reopened", "system", None, "", {}))
                                again = verdict_at + timedelta(hours=rng.randint(2, 20))
                                events.append((again, "feedback", responsible, responder, text, {}))
                                p.update(
                                    feedback_at=again,
                                    clock_started_at=verdict_at,
                                    deadline_at=sla.deadline(verdict_at, complexity),
                                    responded_at=again,
                                )
                                verdict_at = again + timedelta(hours=rng.randint(2, 48))
                                verdict = "satisfied" if rng.random() < 0.7 else "unsatisfied"
                                outcome = verdict
                            events.append((verdict_at, verdict, "author", author, "", {}))
                            events.append(
                                (verdict_at, "closed", "system", None, "", {"outcome": outcome})
                            )
                            p.update(state="closed", outcome=outcome, resolved_at=verdict_at)
                            if verdict_at > self.now:
                                raise AssertionError("proposal timeline in the future")
                # supports: the author, and other residents of the compound
                n_support = 1 + min(len(residents) - 1, int(rng.expovariate(1 / 6)))
                supporters = {author}
                if n_support > 1:
                    supporters.update(rng.sample(residents, n_support - 1))
                last_at = events[-1][0]
                for uid in supporters:
                    w.add(
                        "proposal_support",
                        {
                            "id": w.next_id("proposal_support"),
                            "proposal_id": pid,
                            "user_id": uid,
                            "created_at": created
                            if uid == author
                            else self.when(created, last_at + timedelta(minutes=1)),
                        },
                    )
                p["support_count"] = len(supporters)
                n_comments = rng.choice((0, 0, 0, 1, 2))
                for _k in range(n_comments):
                    w.add(
                        "proposal_comment",
                        {
                            "id": w.next_id("proposal_comment"),
                            "proposal_id": pid,
                            "author_id": rng.choice(residents),
                            "body": rng.choice(
                                ("同意，这个问题很久了。", "支持！", "希望尽快解决。")
                            ),
                            "created_at": self.when(created, last_at + timedelta(minutes=1)),
                            "hidden_at": None,
                            "hidden_reason": "",
                            "hidden_by_id": None,
                        },
                    )
                p["comment_count"] = n_comments
                w.add("proposal", p)
                for at, action, role, actor, note, detail in events:
                    w.add(
                        "proposal_event",
                        {
                            "id": w.next_id("proposal_event"),
                            "proposal_id": pid,
                            "at": at,
                            "action": action,
                            "actor_role": role,
                            "actor_id": actor,
                            "note": note,
                            "detail": detail,
                        },
                    )
                w.tick()
                if c is typical and p["state"] == "closed" and manifest_pid is None:
                    manifest_pid = pid
        self.manifest["proposal_id"] = manifest_pid
        self.phase(
            "proposals",
            proposals="proposal",
            events="proposal_event",
            supports="proposal_support",
            comments="proposal_comment",
        )

    # ---- volunteers ----

    def build_volunteers(self) -> None:
        from portal.volunteers.rules import default_hours, points_for

        rng, w = self.rng, self.w
        typical = self.compounds[0]
        teams = []
        for comm in self.communities:
            residents = comm.get("residents", [])
            places = [None] + [c for c in comm["compounds"] if c is typical or rng.random() < 0.3]
            for c in places:
                tid = w.next_id("volunteer_team")
                pool = c["residents"] if c is not None else residents
                coordinator = pool[-1] if pool else None
                name = (c["name"] if c else comm["name"]) + "志愿服务队"
                w.add(
                    "volunteer_team",
                    {
                        "id": tid,
                        "community_id": comm["id"],
                        "compound_id": c["id"] if c else None,
                        "name": name,
                        "description": "热心居民自愿组成，服务邻里。",
                        "coordinator_id": coordinator,
                        "coordinator_since": self.start if coordinator else None,
                        "created_at": self.start,
                        "created_by_id": comm["secretary"],
                    },
                )
                teams.append(
                    {
                        "id": tid,
                        "pool": pool,
                        "coordinator": coordinator,
                        "comm": comm,
                        "compound": c,
                    }
                )
        weights = [3.0 if t["compound"] is typical else 1.0 for t in teams]
        quotas = _split(self.s.activities, weights)
        manifest_aid = None
        for t, quota in zip(teams, quotas, strict=True):
            for _ in range(quota):
                aid = w.next_id("volunteer_activity")
                future = rng.random() < 0.1
                if future:
                    day = self.when(self.now + timedelta(days=1), self.now + timedelta(days=60))
                else:
                    day = self.when(self.start, self.now - timedelta(days=1))
                starts = day.replace(hour=rng.choice((1, 2, 6, 7)), minute=0, second=0)
                ends = starts + timedelta(hours=rng.choice((2, 3)))
                hours = default_hours(starts, ends)
                title, desc, place = rng.choice(ACTIVITY_TOPICS)
                capacity = rng.choice((10, 15, 20, 30))
                pool = t["pool"]
                wanted = min(len(pool), int(capacity * rng.uniform(0.3, 1.3)))
                people = rng.sample(pool, wanted) if wanted else []
                confirmed = waitlisted = 0
                for seq, uid in enumerate(people, start=1):
                    signed = self.when(starts - timedelta(days=10), starts - timedelta(hours=1))
                    signed = min(signed, self.now - timedelta(minutes=seq))
                    status = "confirmed" if confirmed < capacity else "waitlisted"
                    row = {
                        "id": w.next_id("volunteer_signup"),
                        "activity_id": aid,
                        "user_id": uid,
                        "status": status,
                        "seq": seq,
                        "signed_up_at": signed,
                        "cancelled_at": None,
                        "promoted_at": None,
                        "attendance": None,
                        "hours": None,
                        "points": None,
                        "checked_in_at": None,
                        "checked_in_by_id": None,
                    }
                    if status == "confirmed":
                        confirmed += 1
                        if not future:
                            attended = rng.random() < 0.85
                            row.update(
                                attendance="attended" if attended else "no_show",
                                hours=hours if attended else Decimal("0.00"),
                                points=points_for(hours, Decimal("1"))
                                if attended
                                else Decimal("0.00"),
                                checked_in_at=ends,
                                checked_in_by_id=t["coordinator"],
                            )
                    else:
                        waitlisted += 1
                    w.add("volunteer_signup", row)
                created = starts - timedelta(days=14)
                w.add(
                    "volunteer_activity",
                    {
                        "id": aid,
                        "team_id": t["id"],
                        "title": title,
                        "description": desc,
                        "place": place,
                        "starts_at": starts,
                        "ends_at": ends,
                        "capacity": capacity,
                        "signup_open": future,
                        "hours": hours,
                        "points_per_hour": Decimal("1"),
                        "confirmed_count": confirmed,
                        "waitlist_count": waitlisted,
                        "last_seq": len(people),
                        "revision": 0,
                        "created_at": created,
                        "updated_at": created,
                        "created_by_id": t["comm"]["secretary"],
                    },
                )
                w.tick()
                if t["compound"] is typical and future and manifest_aid is None:
                    manifest_aid = aid
        if manifest_aid is None:  # fall back to any activity of the typical compound's team
            manifest_aid = w.next_id("volunteer_activity") - 1
        self.manifest["activity_id"] = manifest_aid
        self.phase(
            "volunteers",
            teams=len(teams),
            activities="volunteer_activity",
            signups="volunteer_signup",
        )

    # ---- minutes ----

    def build_minutes(self) -> None:
        rng, w = self.rng, self.w
        for c in self.compounds:
            if len(c["committee"]) < 2:
                continue
            author, confirmer = c["committee"][:2]
            for k in range(self.s.minutes_per_compound):
                mid = w.next_id("minutes")
                day = self.when(self.start, self.now - timedelta(days=7)).date()
                at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=10)
                w.add(
                    "minutes",
                    {
                        "id": mid,
                        "compound_id": c["id"],
                        "published_number": 1,
                        "created_by_id": author,
                        "created_at": at,
                    },
                )
                rid = w.next_id("minutes_revision")
                names = "\n".join(_name(rng) for _ in range(5))
                w.add(
                    "minutes_revision",
                    {
                        "id": rid,
                        "minutes_id": mid,
                        "number": 1,
                        "status": "published",
                        "kind": ("committee", "assembly", "joint")[k % 3],
                        "meeting_date": day,
                        "place": "小区议事厅",
                        "attendees_count": 5,
                        "attendee_names": names,
                        "agenda": MINUTES_AGENDA[k % len(MINUTES_AGENDA)],
                        "reason": "",
                        "author_id": author,
                        "created_at": at,
                        "updated_at": at + timedelta(days=1),
                        "submitted_at": at + timedelta(hours=4),
                        "return_note": "",
                        "confirmed_by_id": confirmer,
                        "confirmed_at": at + timedelta(days=1),
                    },
                )
                for pos in range(rng.randint(1, 3)):
                    w.add(
                        "minutes_decision",
                        {
                            "id": w.next_id("minutes_decision"),
                            "revision_id": rid,
                            "position": pos,
                            "text": MINUTES_DECISIONS[(k + pos) % len(MINUTES_DECISIONS)],
                            "votes_for": 4,
                            "votes_against": 0,
                            "votes_abstain": 1,
                        },
                    )
                w.tick()
        self.phase(
            "minutes",
            minutes="minutes",
            decisions="minutes_decision",
        )

    # ---- the whole run ----

    def run(self) -> dict:
        self.build_places()
        self.build_accounts()
        self.build_contracts()
        self.build_fees()
        self.build_elections()
        self.build_notices()
        self.build_proposals()
        self.build_volunteers()
        self.build_minutes()
        self.w.flush()
        _fix_sequences()
        db.session.commit()
        # Fresh planner statistics: after millions of bulk rows the estimates are those of
        # empty tables, and PostgreSQL picks nested loops that take seconds (autovacuum would
        # catch up only later).
        # VACUUM on PostgreSQL also marks the pages all-visible, so that index-only scans (deep
        # board pages) need no heap fetch.
        t = time.monotonic()
        sql = "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(sql)
        self.echo(f"statistics: {sql} ({time.monotonic() - t:.1f}s)")
        typical = self.compounds[0]
        street = typical["street"]
        comm = typical["community"]
        m = self.manifest
        m.update(
            scale=self.s.name,
            password=BENCH_PASSWORD,
            generated_at=self.now.isoformat(),
            street_code=street["code"],
            community_code=comm["code"],
            compound_code=typical["code"],
            street_officer_phone=street["officer_phone"],
            inspector_phone=street["inspector_phone"],
            secretary_phone=comm["secretary_phone"],
            admin_phone=self.staff["admin_phone"],
            company_phone=typical["company"]["staff_phone"],
            committee_phone=next(
                o["phone"] for o in typical["owners"] if o["user_id"] == typical["committee"][0]
            ),
            resident_phone=next(
                o["phone"] for o in typical["owners"] if o["user_id"] == typical["residents"][-1]
            ),
            counts=dict(sorted(self.w.counts.items())),
        )
        m["urls"] = {
            "street": f"/streets/{m['street_code']}",
            "community": f"/communities/{m['community_code']}",
            "compound": f"/compounds/{m['compound_code']}",
            "proposal": f"/proposals/{m['proposal_id']}",
            "notice": f"/notices/{m['notice_id']}",
            "fee_statement": m["fee_statement"]["url"],
            "activity": f"/volunteers/activities/{m['activity_id']}",
            "election": f"/elections/{m['election_id']}",
            "vote_election": f"/elections/{m['vote_election_id']}",
            "vote": f"/elections/{m['vote_election_id']}/vote",
        }
        total = time.monotonic() - self.t0
        m["seconds"] = round(total, 1)
        rows = sum(self.w.counts.values())
        self.echo(f"done: {rows:,} rows in {total:.1f}s")
        return m


def seed(
    scale: Scale,
    seed: int = 1,
    now: datetime | None = None,
    echo: Callable[[str], None] = print,
    reset: bool = False,
) -> dict:
    """Build ``scale`` into the (empty) database and return the manifest."""
    existing = places_exist()
    if existing and not reset:
        raise SeedRefused(
            f"The database already has places ({existing} street(s)). Seed an empty database "
            "(e.g. a new one after `flask db upgrade`), or pass --reset to delete ALL data in "
            "this database first."
        )
    if reset:
        reset_database()
        echo("reset: every table emptied")
    from portal.models_base import utcnow

    return Seeder(scale, seed, now or utcnow(), echo).run()
