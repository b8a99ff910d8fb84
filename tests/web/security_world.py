"""The world of the security audit: two streets, a compound A with objects of every kind, a
compound B in another community of another street, and one account per role.

Built through the services (as staff would), so that every object is in a state real pages show.
``build(text)`` puts ``text`` into every free-text field it fills (the XSS test passes payloads).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.accounts.models import Membership, RoleGrant, User
from portal.extensions import db
from portal.models_base import utcnow
from portal.places.models import Building, Company, Unit
from portal.voting.models import Contract

D = timedelta(days=1)
H = timedelta(hours=1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# The roles of the access table: who each test account is.
ROLES = (
    "visitor",  # not logged in
    "resident",  # verified owner in compound A
    "other_resident",  # verified owner in compound B (another community, another street)
    "committee",  # owners' committee of compound A
    "secretary",  # secretary of A's community
    "other_secretary",  # secretary of B's community
    "company",  # staff of the company under contract in compound A
    "street",  # street officer of A's street
    "admin",  # site administrator
)


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


class Rotating:
    """``"title" + Rotating([...])`` appends the next payload: each field gets one, in turn."""

    def __init__(self, payloads):
        self.payloads = list(payloads)
        self.i = 0

    def __radd__(self, other: str) -> str:
        value = self.payloads[self.i % len(self.payloads)]
        self.i += 1
        return other + value


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role -> User
    ids: dict = field(default_factory=dict)  # name -> id or code
    extra: dict = field(default_factory=dict)  # other users and objects


@pytest.fixture
def world(app, make_street, make_community, make_compound, make_user, make_claim, make_grant):
    """The plain world (no payloads): ``world = security_world.world`` in a test module."""
    return build(
        {
            "make_street": make_street,
            "make_community": make_community,
            "make_compound": make_compound,
            "make_user": make_user,
            "make_claim": make_claim,
            "make_grant": make_grant,
        }
    )


@pytest.fixture
def uploads_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def _units(compound) -> list[Unit]:
    return list(
        db.session.scalars(
            select(Unit).join(Building).where(Building.compound_id == compound.id).order_by(Unit.id)
        )
    )


def build(factories: dict, text="") -> World:
    """``factories``: make_street, make_community, make_compound, make_user, make_claim,
    make_grant (the conftest fixtures). ``text``: appended to every free-text field (a string,
    or a ``Rotating`` list of payloads)."""
    from portal.minutes import service as minutes_service
    from portal.minutes.rules import DecisionInput
    from portal.notices import service as notices
    from portal.proposals import moderation
    from portal.proposals import service as proposals
    from portal.ratings import service as ratings
    from portal.transparency import commitments as commitments_service
    from portal.transparency import service as fees
    from portal.volunteers import service as volunteers
    from portal.voting import service as voting
    from tests.web.test_fee_support import make_input
    from tests.web.test_rating_kit import past_window, previous_quarter, scores_for

    f = factories
    t = text
    w = World()
    now = utcnow()

    street = f["make_street"](name="和平街道" + t, code="SA")
    other_street = f["make_street"](name="光明街道", code="SB")
    community = f["make_community"](street=street, name="向阳社区" + t, code="CA")
    other_community = f["make_community"](street=other_street, name="东风社区", code="CB")
    compound = f["make_compound"](
        community=community,
        name="和平花园" + t,
        code="A",
        buildings=2,
        units_per_building=4,
        address="和平路1号" + t,
    )
    other = f["make_compound"](
        community=other_community, name="东风小区", code="B", buildings=1, units_per_building=4
    )
    units, other_units = _units(compound), _units(other)

    company = Company(name="红星物业" + t)
    other_company = Company(name="蓝天物业")
    db.session.add_all([company, other_company])
    db.session.flush()
    contract = Contract(
        compound_id=compound.id,
        company_id=company.id,
        starts_on=date(2020, 1, 1),
        ends_on=date(2035, 12, 31),
        fee_per_m2=Decimal("1.50"),
        service_level="二级",
        commitments="报修24小时到场" + t,
        signed_at=now - 400 * D,
    )
    db.session.add(contract)
    db.session.commit()

    mk, grant, claim = f["make_user"], f["make_grant"], f["make_claim"]
    u = w.users
    u["resident"] = mk(name="张三丰" + t, phone="13800000001")
    claim(u["resident"], units[0], status="verified")
    u["other_resident"] = mk(name="李四", phone="13800000002")
    claim(u["other_resident"], other_units[0], status="verified")
    u["committee"] = mk(name="钱委员" + t, phone="13800000003")
    grant(u["committee"], "committee", compound)
    u["secretary"] = mk(name="王书记" + t, phone="13800000004")
    grant(u["secretary"], "secretary", community)
    u["other_secretary"] = mk(name="赵书记", phone="13800000005")
    grant(u["other_secretary"], "secretary", other_community)
    u["company"] = mk(name="周物业" + t, phone="13800000006")
    grant(u["company"], "company", company)
    u["street"] = mk(name="孙街道" + t, phone="13800000007")
    grant(u["street"], "street", street)
    u["admin"] = mk(name="管理员", phone="13800000008")
    grant(u["admin"], "admin", None)
    committee2 = mk(name="李委员", phone="13800000009")
    grant(committee2, "committee", compound)
    inspector = mk(name="第三方", phone="13800000010")
    grant(inspector, "inspector", street)
    neighbours = []
    for i, unit in enumerate(units[1:5]):
        n = mk(name=f"邻居{i}", phone=f"1380000002{i}")
        claim(n, unit, status="verified")
        neighbours.append(n)
    other_voter = mk(name="东风业主", phone="13800000030")
    claim(other_voter, other_units[1], status="verified")
    pending = mk(name="待审" + t, phone="13800000031")
    pending_claim = claim(pending, units[6], status="pending", name="待审" + t)
    other_pending = mk(name="东风待审", phone="13800000032")
    other_pending_claim = claim(other_pending, other_units[2], status="pending")
    w.extra.update(
        committee2=committee2, inspector=inspector, neighbours=neighbours, pending=pending
    )
    ids = w.ids
    ids.update(
        street=street.code,
        other_street=other_street.code,
        community=community.code,
        other_community=other_community.code,
        compound=compound.code,
        other_compound=other.code,
        compound_id=compound.id,
        company=company.id,
        other_company=other_company.id,
        claim=pending_claim.id,
        other_claim=other_pending_claim.id,
        unit=units[0].id,
        grant=db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == committee2.id)),
    )

    # ---- elections: one open for voting (with a ballot and a pending paper ballot) ----------
    sec = u["secretary"]
    e = voting.create_election(
        sec,
        compound,
        title="2026年选聘物业" + t,
        matter="hire",
        rule="civil-code-278",
        description="说明" + t,
        opens_at=now + 15 * D + H,
        closes_at=now + 22 * D + H,
    )
    for c in (company, other_company):
        voting.add_candidate(
            sec,
            e,
            now,
            label=c.name + t,
            company=c,
            fee_per_m2=Decimal("1.85"),
            service_level="二级",
            commitments="报修24小时到场" + t,
        )
    db.session.commit()
    voting.announce(sec, e, now)
    db.session.commit()
    objection = voting.object_to_roll(neighbours[0], e, now, units[1].id, "面积不对" + t)
    db.session.commit()
    e.announced_at = now - 16 * D
    e.opens_at = now - H
    e.closes_at = now + 6 * D
    db.session.commit()
    ballot = voting.cast_online(u["resident"], e.id, "A", now)
    db.session.commit()
    paper = voting.enter_paper(sec, e.id, units[2].id, "B", now)
    db.session.commit()
    option_id = e.options[0].id
    # an election in compound B, open, with a ballot of B's resident
    eb = voting.create_election(
        u["other_secretary"],
        other,
        title="东风选聘",
        matter="hire",
        rule="civil-code-278",
        opens_at=now + 15 * D + H,
        closes_at=now + 22 * D + H,
    )
    voting.add_candidate(
        u["other_secretary"],
        eb,
        now,
        label="蓝天物业",
        company=other_company,
        fee_per_m2=Decimal("1.85"),
        service_level="二级",
        commitments="",
    )
    db.session.commit()
    voting.announce(u["other_secretary"], eb, now)
    eb.announced_at = now - 16 * D
    eb.opens_at = now - H
    eb.closes_at = now + 6 * D
    db.session.commit()
    voting.cast_online(u["other_resident"], eb.id, "A", now)
    db.session.commit()
    ids.update(
        election=e.id,
        option=option_id,
        ballot=paper.id,
        objection=objection.id,
        other_election=eb.id,
        online_ballot=ballot.id,
    )

    # ---- proposals -------------------------------------------------------------------------
    p = proposals.submit(
        u["resident"],
        compound,
        "楼道灯坏了" + t,
        "3号楼楼道灯坏了一周。" + t,
        "facilities",
        [png()],
        now,
    )
    db.session.commit()
    cmt = proposals.comment(neighbours[0], p.id, "同意" + t, now)
    db.session.commit()
    report = moderation.report(neighbours[1], p.id, cmt.id, "人身攻击" + t, now)
    db.session.commit()
    pb = proposals.submit(
        u["other_resident"], other, "东风的建议", "内容", "facilities", [png()], now
    )
    db.session.commit()
    p2 = proposals.submit(
        neighbours[2], compound, "电梯异响" + t, "2号楼电梯异响。" + t, "facilities", [], now
    )
    proposals.accept(sec, p2.id, "general", "company", now)
    db.session.commit()
    ids.update(
        accepted_proposal=p2.id,
        proposal=p.id,
        photo=p.photos[0].id if getattr(p, "photos", None) else proposals.photos_of(p)[0].id,
        report=report.id,
        other_proposal=pb.id,
    )

    # ---- notices ---------------------------------------------------------------------------
    n = notices.create_notice(
        u["committee"],
        "compound",
        compound,
        category="announcement",
        title="停水通知" + t,
        body="明天停水。" + t,
        files=[("停水" + t + ".pdf", PDF), ("照片" + t + ".png", png())],
        now=now - H,
    )
    db.session.commit()
    ids.update(notice=n.id, notice_attachment=_attachment_id("notice", n.id))
    from portal.uploads.models import Attachment

    ids["notice_image"] = db.session.scalar(
        select(Attachment.id).where(
            Attachment.owner_type == "notice",
            Attachment.owner_id == n.id,
            Attachment.thumb_key.is_not(None),
        )
    )

    # ---- minutes ---------------------------------------------------------------------------
    record = minutes_service.Record(
        kind="committee",
        meeting_date=date(2026, 3, 2),
        place="会议室" + t,
        attendees_count=5,
        attendee_names="张三丰\n李四" + t,
        agenda="讨论电梯维修。" + t,
        decisions=[DecisionInput("同意更换2号楼电梯" + t, 4, 1, 0)],
    )
    m = minutes_service.create(u["committee"], compound, record, files=[("纪要.pdf", PDF)], now=now)
    minutes_service.submit(u["committee"], m.revisions[0], now=now)
    minutes_service.confirm(committee2, m.revisions[0], now=now)
    db.session.commit()
    m2 = minutes_service.create(
        u["committee"], compound, record, files=[("草稿" + t + ".pdf", PDF)], now=now
    )
    minutes_service.submit(u["committee"], m2.revisions[0], now=now)
    db.session.commit()
    ids.update(
        draft_minutes=m2.id,
        draft_minutes_attachment=_attachment_id("minutes_revision", m2.revisions[0].id),
        minutes=m.id,
        minutes_attachment=_attachment_id("minutes_revision", m.revisions[0].id),
    )

    # ---- fees, questions, commitments -------------------------------------------------------
    key = "2026-01"
    s = fees.create_draft(u["company"], compound, make_input(key, note="说明" + t), now)
    fees.submit(u["company"], s, now)
    fees.publish(sec, s, now)
    db.session.commit()
    draft = fees.create_draft(u["company"], compound, make_input("2026-02"), now)
    db.session.commit()
    line = fees.lines_of(s)[0] if False else s.lines[0]
    q = fees.ask(u["resident"], line, "这笔钱花在哪里？" + t, now)
    db.session.commit()
    commitment = commitments_service.add_commitment(
        u["committee"] if commitments_service.may_manage(u["committee"], compound) else sec,
        compound,
        contract,
        commitments_service.CommitmentInput(
            category="cleaning",
            promise="每日清扫两次" + t,
            standard="无垃圾" + t,
            service_level="二级",
            fee_per_m2=Decimal("0.30"),
        ),
        now,
    )
    db.session.commit()
    ids.update(
        statement=s.id,
        draft_statement=draft.id,
        period_key=key,
        line=line.id,
        question=q.id,
        commitment=commitment.id,
    )

    # ---- inspections, findings, surveys, rating periods --------------------------------------
    checklist = ratings.ensure_checklist(street, u["street"])
    year, number, start, _end = previous_quarter()
    insp = ratings.create_inspection(
        u["street"],
        compound,
        "street",
        start + 10 * D,
        scores_for(checklist, "92"),
        "检查备注" + t,
        now,
    )
    db.session.commit()
    finding = ratings.add_finding(
        u["street"],
        insp,
        category=checklist.items[0].category,
        description="垃圾桶满溢" + t,
        responsible="company",
        deadline=ratings.local_today(now) + 7 * D,
        photos=[png()],
        now=now,
    )
    db.session.commit()
    win = past_window()
    survey = ratings.create_survey(
        sec,
        compound,
        title="满意度测评" + t,
        areas=["cleaning"],
        opens_at=now - D,
        closes_at=now + 6 * D,
        now=now - D,
    )
    db.session.commit()
    period = ratings.create_period(u["street"], street, "quarter", year, number)
    db.session.commit()
    del win
    ids.update(
        inspection=insp.id,
        finding=finding.id,
        finding_photo=finding.photos[0].id,
        survey=survey.id,
        period=period.id,
    )

    # ---- volunteers ------------------------------------------------------------------------
    team = volunteers.create_team(
        sec, community, "红色志愿服务队" + t, "队伍介绍" + t, compound.id, now=now
    )
    db.session.commit()
    starts = now + 10 * D
    act = volunteers.create_activity(
        sec,
        team,
        now,
        title="垃圾分类宣传" + t,
        description="活动说明" + t,
        place="小区广场" + t,
        starts_at=starts,
        ends_at=starts + 2 * H,
        capacity=5,
        signup_open=True,
    )
    db.session.commit()
    signup = volunteers.signup(u["resident"], act.id, now)
    db.session.commit()
    ids.update(team=team.id, activity=act.id, signup=signup.id)

    w.extra["membership"] = db.session.get(Membership, pending_claim.id)
    return w


def _attachment_id(owner_type: str, owner_id: int) -> int:
    from portal.uploads.models import Attachment

    return db.session.scalar(
        select(Attachment.id).where(
            Attachment.owner_type == owner_type, Attachment.owner_id == owner_id
        )
    )


def as_user(client, user: User | None) -> None:
    """Make the test client ``user`` (None: a visitor), as a fresh login would."""
    with client.session_transaction() as sess:
        token = sess.get("csrf_token")
        sess.clear()
        if token:
            sess["csrf_token"] = token
        if user is not None:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
