"""Notices: who posts where, scheduling and the archive, the public lists with filters and a
Chinese search, htmx fragments, the print view, the paper check, Atom feeds, the system hook,
audit events and constant query counts."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices import rules
from portal.notices import service as notices
from portal.notices.models import Notice
from portal.places.models import Company
from portal.voting.models import Contract
from tests.conftest import text_of

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def _post(client, scope_type, code, **fields):
    data = {"category": "announcement", "title": "停水通知", "body": "明天停水。"}
    data.update(fields)
    return client.post_form(f"/notices/new/{scope_type}/{code}", data)


def _notice(author, scope_type, place, now=None, **fields):
    data = {"category": "announcement", "title": "通知", "body": "内容"}
    data.update(fields)
    n = notices.create_notice(author, scope_type, place, now=now or utcnow(), **data)
    db.session.commit()
    return n


@pytest.fixture
def company_with_contract(make_compound):
    """A compound managed by 和平物业 under a current contract."""

    def _make(compound=None, starts=None, ends=None, name="和平物业服务有限公司"):
        compound = compound or make_compound()
        company = db.session.scalar(select(Company).where(Company.name == name))
        if company is None:
            company = Company(name=name)
            db.session.add(company)
            db.session.flush()
        today = utcnow().date()
        db.session.add(
            Contract(
                compound_id=compound.id,
                company_id=company.id,
                starts_on=starts or today - timedelta(days=30),
                ends_on=ends or today + timedelta(days=700),
                fee_per_m2=2,
                service_level="2",
            )
        )
        db.session.commit()
        return compound, company

    return _make


# ---- who posts where ----------------------------------------------------------------------------


def test_secretary_posts_a_notice_and_the_public_reads_it(client, login_as, make_compound):
    compound = make_compound(name="和平花园")
    secretary = login_as("secretary", compound.community)
    resp = _post(client, "compound", compound.code, body="明天上午九点至十二点停水。\n请提前储水。")
    assert resp.status_code == 302, text_of(resp)
    notice = db.session.scalar(select(Notice))
    assert resp.headers["Location"].endswith(f"/notices/{notice.id}")
    assert (notice.scope_type, notice.compound_id, notice.issuer) == (
        "compound",
        compound.id,
        "community",
    )
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notice.posted"))
    assert ev.actor_id == secretary.id and ev.object_id == notice.id
    client.post_form("/logout")
    assert "停水通知" in text_of(client.get(f"/compounds/{compound.code}"))
    detail = text_of(client.get(f"/notices/{notice.id}"))
    assert "请提前储水" in detail and notice.fingerprint_grouped in detail
    assert secretary.display_name not in detail and secretary.phone not in detail


def test_who_may_post_where(
    client, login_as, make_street, make_community, make_compound, make_user, make_grant
):
    street = make_street()
    community = make_community(street=street)
    compound = make_compound(community=community)
    other_community = make_community(street=street)
    other_compound = make_compound(community=other_community)
    foreign = make_compound()  # another street

    def allowed(user, scope_type, place):
        return notices.can_post(user, scope_type, place)

    secretary = make_user()
    make_grant(secretary, "secretary", community)
    assert allowed(secretary, "community", community) and allowed(secretary, "compound", compound)
    assert not allowed(secretary, "street", street)
    assert not allowed(secretary, "compound", other_compound)

    member = make_user()
    make_grant(member, "committee", compound)
    assert allowed(member, "compound", compound)
    assert not allowed(member, "community", community)
    assert not allowed(member, "compound", other_compound)

    officer = make_user()
    make_grant(officer, "street", street)
    for scope_type, place in (
        ("street", street),
        ("community", other_community),
        ("compound", other_compound),
    ):
        assert allowed(officer, scope_type, place)
    assert not allowed(officer, "compound", foreign)

    admin = make_user()
    make_grant(admin, "admin")
    assert allowed(admin, "compound", foreign)

    resident = make_user()
    assert not allowed(resident, "compound", compound) and not allowed(None, "street", street)

    login_as(user=member)
    assert _post(client, "community", community.code).status_code == 403
    assert _post(client, "compound", other_compound.code).status_code == 403
    assert client.get(f"/notices/new/compound/{other_compound.code}").status_code == 403
    assert _post(client, "compound", "NOPE").status_code == 404
    assert _post(client, "planet", "X").status_code == 404
    assert db.session.scalar(select(Notice)) is None
    assert _post(client, "compound", compound.code).status_code == 302


def test_anonymous_is_sent_to_log_in(client, make_compound):
    compound = make_compound()
    resp = client.get(f"/notices/new/compound/{compound.code}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_posting_needs_the_csrf_token(client, login_as, make_compound):
    compound = make_compound()
    login_as("secretary", compound.community)
    resp = client.post(
        f"/notices/new/compound/{compound.code}",
        data={"category": "other", "title": "x", "body": "y"},
    )
    assert resp.status_code == 400
    assert db.session.scalar(select(Notice)) is None


def test_company_staff_post_for_the_compounds_they_manage_marked_as_the_company(
    client, login_as, make_compound, company_with_contract
):
    compound, company = company_with_contract()
    unmanaged = make_compound(community=compound.community)
    staff = login_as("company", company)
    assert client.get(f"/notices/new/compound/{compound.code}?lang=en").status_code == 200
    assert "marked as from your company" in text_of(
        client.get(f"/notices/new/compound/{compound.code}?lang=en")
    )
    assert _post(client, "compound", compound.code, title="电梯检修").status_code == 302
    notice = db.session.scalar(select(Notice))
    assert notice.from_company_id == company.id and notice.issuer == "company"
    assert _post(client, "compound", unmanaged.code).status_code == 403
    assert _post(client, "community", compound.community.code).status_code == 403
    client.post_form("/logout")
    text = text_of(client.get(f"/notices/{notice.id}?lang=en"))
    assert f"From the property company: {company.name}" in text
    assert staff.display_name not in text


def test_company_staff_lose_the_right_when_the_contract_ends_or_another_company_takes_over(
    client, login_as, make_user, make_grant, company_with_contract
):
    today = utcnow().date()
    compound, old = company_with_contract(
        starts=today - timedelta(days=800), ends=today - timedelta(days=1)
    )
    staff = make_user()
    make_grant(staff, "company", old)
    assert not notices.can_post(staff, "compound", compound)  # ended yesterday

    compound2, old2 = company_with_contract(name="旧物业")
    company_with_contract(compound=compound2, name="新物业", starts=today - timedelta(days=1))
    staff2 = make_user()
    make_grant(staff2, "company", old2)
    assert not notices.can_post(staff2, "compound", compound2)
    assert notices.company_compounds(staff2) == []
    newcomer = make_user()
    make_grant(
        newcomer, "company", db.session.scalar(select(Company).where(Company.name == "新物业"))
    )
    assert notices.can_post(newcomer, "compound", compound2)
    assert [c.id for c in notices.company_compounds(newcomer)] == [compound2.id]


def test_issuer_is_the_closest_body(make_compound, make_user, make_grant):
    compound = make_compound()
    both = make_user()
    make_grant(both, "committee", compound)
    make_grant(both, "secretary", compound.community)
    assert notices.issuer_for(both, "compound", compound) == "committee"
    assert notices.issuer_for(both, "community", compound.community) == "community"
    officer = make_user()
    make_grant(officer, "street", compound.community.street)
    assert notices.issuer_for(officer, "compound", compound) == "street"


# ---- scheduling, expiry and archive -------------------------------------------------------------


def test_a_scheduled_notice_appears_at_its_time(client, login_as, make_compound):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    later = utcnow() + timedelta(days=1)
    local = (later + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")  # typed in China time
    resp = _post(client, "compound", compound.code, title="下周停电", publish_at=local)
    assert resp.status_code == 302
    notice = db.session.scalar(select(Notice))
    assert abs((notice.publish_at - later).total_seconds()) < 60
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notice.scheduled"))
    assert ev is not None
    assert client.get(f"/notices/{notice.id}").status_code == 200  # the author previews it
    client.post_form("/logout")
    assert "下周停电" not in text_of(client.get(f"/compounds/{compound.code}"))
    assert client.get(f"/notices/{notice.id}").status_code == 404
    assert client.get(f"/notices/{notice.id}/print").status_code == 404
    notice.publish_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "下周停电" in text_of(client.get(f"/compounds/{compound.code}"))
    assert secretary.id == notice.author_id


def test_times_are_checked(client, login_as, make_compound):
    compound = make_compound()
    login_as("secretary", compound.community)
    client.set_cookie("lang", "en")
    past = (utcnow() + timedelta(hours=8) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    resp = _post(client, "compound", compound.code, publish_at=past)
    assert resp.status_code == 422 and "The publish time has passed" in text_of(resp)
    soon = (utcnow() + timedelta(hours=8) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    sooner = (utcnow() + timedelta(hours=8) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    resp = _post(client, "compound", compound.code, publish_at=soon, expires_at=sooner)
    assert resp.status_code == 422 and "must expire after it is published" in text_of(resp)
    assert _post(client, "compound", compound.code, title="").status_code == 422
    assert _post(client, "compound", compound.code, category="gossip").status_code == 422
    assert db.session.scalar(select(Notice)) is None


def test_expired_notices_move_to_the_archive_and_stay_reachable(
    client, login_as, make_compound, make_user, make_grant
):
    compound = make_compound()
    secretary = make_user()
    make_grant(secretary, "secretary", compound.community)
    past = utcnow() - timedelta(days=10)
    old = _notice(
        secretary,
        "compound",
        compound,
        now=past,
        title="旧的停车通知",
        expires_at=past + timedelta(days=3),
    )
    _notice(secretary, "compound", compound, title="新的通知")
    current = text_of(client.get(f"/compounds/{compound.code}"))
    assert "新的通知" in current and "旧的停车通知" not in current
    archive = text_of(client.get(f"/compounds/{compound.code}/notices?archive=1&lang=en"))
    assert "旧的停车通知" in archive and "新的通知" not in archive
    page = client.get(f"/notices/{old.id}?lang=en")
    assert page.status_code == 200
    assert "expired" in text_of(page) and "kept in the archive" in text_of(page)
    assert client.get(f"/notices/{old.id}/print").status_code == 200


def test_archive_now_pin_and_withdraw(client, login_as, make_compound):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    a = _notice(secretary, "compound", compound, title="第一条")
    b = _notice(secretary, "compound", compound, title="第二条")
    client.post_form(f"/notices/{a.id}/pin", {"pinned": "1"})
    text = text_of(client.get(f"/compounds/{compound.code}"))
    assert text.index("第一条") < text.index("第二条")  # pinned first, though older

    client.post_form(f"/notices/{b.id}/archive")
    db.session.refresh(b)
    assert b.state(utcnow()) == "archived"
    assert "第二条" in text_of(client.get(f"/compounds/{compound.code}/notices?archive=1"))

    resp = client.post_form(f"/notices/{a.id}/withdraw", {"reason": ""})
    assert resp.status_code == 422
    client.post_form(f"/notices/{a.id}/withdraw", {"reason": "时间有误，另行通知"})
    db.session.refresh(a)
    assert a.withdrawn_at is not None and not a.pinned
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"notice.pinned", "notice.archived", "notice.withdrawn"} <= actions

    client.post_form("/logout")
    assert "第一条" not in text_of(client.get(f"/compounds/{compound.code}"))
    page = text_of(client.get(f"/notices/{a.id}?lang=en"))
    assert "withdrawn" in page and "时间有误，另行通知" in page
    assert "内容" not in page  # the text itself is hidden from the public
    print_view = client.get(f"/notices/{a.id}/print")
    assert print_view.status_code == 302


def test_only_scheduled_notices_are_edited(client, login_as, make_compound):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    published = _notice(secretary, "compound", compound, title="已发布")
    resp = client.get(f"/notices/{published.id}/edit")
    assert resp.status_code == 302
    with pytest.raises(Exception):  # noqa: B017 - InvalidTransition
        notices.update_notice(
            secretary,
            published,
            category="other",
            title="改了",
            body="",
            pinned=False,
            publish_at=None,
            expires_at=None,
            now=utcnow(),
        )
    db.session.rollback()

    later = utcnow() + timedelta(days=3)
    scheduled = _notice(secretary, "compound", compound, title="草稿", publish_at=later)
    before = scheduled.fingerprint
    local = (later + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    resp = client.post_form(
        f"/notices/{scheduled.id}/edit",
        {"category": "event", "title": "改过的标题", "body": "新内容", "publish_at": local},
    )
    assert resp.status_code == 302
    db.session.refresh(scheduled)
    assert scheduled.title == "改过的标题" and scheduled.fingerprint != before


def test_staff_of_another_place_cannot_manage(
    client, login_as, make_compound, make_user, make_grant
):
    compound = make_compound()
    secretary = make_user()
    make_grant(secretary, "secretary", compound.community)
    notice = _notice(secretary, "compound", compound)
    other = make_compound()
    login_as("committee", other)
    assert client.post_form(f"/notices/{notice.id}/archive").status_code == 403
    assert client.post_form(f"/notices/{notice.id}/withdraw", {"reason": "x"}).status_code == 403
    assert client.get(f"/notices/{notice.id}/edit").status_code == 403
    assert client.post_form("/notices/99999/archive").status_code == 404
    # the compound's own committee may (moderation within the compound)
    login_as("committee", compound)
    assert client.post_form(f"/notices/{notice.id}/archive").status_code == 302


# ---- lists, filters, search ---------------------------------------------------------------------


def test_a_compound_lists_its_own_its_communitys_and_its_streets_notices(
    client, make_compound, make_community, make_user, make_grant
):
    compound = make_compound()
    community = compound.community
    sibling = make_compound(community=community)
    other_community = make_community(street=community.street)
    officer = make_user()
    make_grant(officer, "street", community.street)
    _notice(officer, "compound", compound, title="本小区通知")
    _notice(officer, "compound", sibling, title="隔壁小区通知")
    _notice(officer, "community", community, title="本社区通知")
    _notice(officer, "community", other_community, title="别的社区通知")
    _notice(officer, "street", community.street, title="街道通知")

    hub = text_of(client.get(f"/compounds/{compound.code}"))
    assert {"本小区通知", "本社区通知", "街道通知"} <= set(re.findall(r"\S+通知", hub))
    assert "隔壁小区通知" not in hub and "别的社区通知" not in hub

    community_page = text_of(client.get(f"/communities/{community.code}/notices"))
    for title in ("本小区通知", "隔壁小区通知", "本社区通知", "街道通知"):
        assert title in community_page
    assert "别的社区通知" not in community_page
    street_page = text_of(client.get(f"/streets/{community.street.code}/notices"))
    assert all(t in street_page for t in ("本小区通知", "别的社区通知", "街道通知"))
    assert client.get("/communities/NOPE/notices").status_code == 404


def test_category_filter_and_pages(client, app, make_compound, make_user, make_grant):
    app.config["PAGE_SIZE"] = 3
    compound = make_compound()
    user = make_user()
    make_grant(user, "committee", compound)
    for i in range(4):
        _notice(user, "compound", compound, title=f"停水{i}号", category="outage")
    _notice(user, "compound", compound, title="重阳节活动", category="event")
    text = text_of(client.get(f"/compounds/{compound.code}/notices?category=event"))
    assert "重阳节活动" in text and not re.search(r"停水\d号", text)
    page1 = text_of(client.get(f"/compounds/{compound.code}/notices?category=outage&lang=en"))
    page2 = text_of(client.get(f"/compounds/{compound.code}/notices?category=outage&page=2"))
    assert "Page 1 of 2" in page1 and "4 current notices" in page1
    assert len(re.findall(r"停水\d号", page1)) == 3 and len(re.findall(r"停水\d号", page2)) == 1
    assert client.get(f"/compounds/{compound.code}/notices?category=nonsense").status_code == 200


def test_a_chinese_word_finds_the_notice(client, make_compound, make_user, make_grant):
    """Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
    compound = make_compound()
    user = make_user()
    make_grant(user, "committee", compound)
    _notice(user, "compound", compound, title="关于电梯维修的通知", body="二号楼电梯周三停运。")
    _notice(user, "compound", compound, title="垃圾分类宣传", body="请居民按时投放。")
    _notice(user, "compound", compound, title="Fee notice", body="物业费 100% 收缴率_表扬")
    by_title = text_of(client.get(f"/compounds/{compound.code}/notices?q=电梯"))
    assert "关于电梯维修的通知" in by_title and "垃圾分类宣传" not in by_title
    by_body = text_of(client.get(f"/compounds/{compound.code}/notices?q=投放"))
    assert "垃圾分类宣传" in by_body and "关于电梯维修的通知" not in by_body
    assert "Fee notice" in text_of(client.get(f"/compounds/{compound.code}/notices?q=FEE"))
    # % and _ are literal characters, not wildcards
    assert "Fee notice" in text_of(client.get(f"/compounds/{compound.code}/notices?q=100%25"))
    none = text_of(client.get(f"/compounds/{compound.code}/notices?q=%25_%25&lang=en"))
    assert "No notice matches this search" in none
    assert "垃圾分类宣传" not in text_of(client.get(f"/compounds/{compound.code}/notices?q=电_"))
    found = notices.public_list("compound", compound, now=utcnow(), query="电梯")
    assert [n.title for n in found.items] == ["关于电梯维修的通知"]


def test_filters_answer_htmx_with_the_fragment_and_have_real_urls(
    client, make_compound, make_user, make_grant
):
    compound = make_compound()
    user = make_user()
    make_grant(user, "committee", compound)
    _notice(user, "compound", compound, title="电梯检修")
    resp = client.hx_get(f"/communities/{compound.community.code}/notices?q=电梯")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and "电梯检修" in body
    assert "HX-Request" in resp.headers["Vary"]
    assert 'hx-push-url="true"' in body and 'hx-target="#notices"' in body
    full = client.get(f"/communities/{compound.community.code}/notices?q=电梯")
    assert "<html" in full.get_data(as_text=True)
    hub = client.hx_get(f"/compounds/{compound.code}/notices?q=电梯").get_data(as_text=True)
    assert "<html" not in hub and 'hx-target="#hub"' in hub and "电梯检修" in hub


# ---- the notice page ----------------------------------------------------------------------------


def test_markup_in_a_notice_is_shown_as_text(client, make_compound, make_user, make_grant):
    compound = make_compound()
    user = make_user()
    make_grant(user, "committee", compound)
    notice = _notice(
        user,
        "compound",
        compound,
        title='<img src=x onerror="alert(1)">',
        body='<script>alert(1)</script>\n<a href="javascript:alert(2)">点</a>\n'
        '<div hx-post="/logout" hx-trigger="load">x</div>\nhttps://example.org/ok',
    )
    html = client.get(f"/notices/{notice.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and 'hx-post="/logout"' not in html
    assert "<img src=x" not in html
    assert '<a href="https://example.org/ok" rel="nofollow noopener noreferrer">' in html


def test_the_notice_page_and_the_print_view_show_the_same_fingerprint(
    client, login_as, make_compound
):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    resp = client.post_form(
        f"/notices/new/compound/{compound.code}",
        {
            "category": "fees",
            "title": "2025年度物业费收支公示",
            "body": "详见附件。",
            "attachments": [(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "收支表.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    notice = db.session.scalar(select(Notice))
    expected = rules.fingerprint(
        title="2025年度物业费收支公示",
        body="详见附件。",
        scope=f"compound:{compound.id}",
        publish_at=notice.publish_at,
        attachment_hashes=[a.sha256 for a in notice.attachments],
    )
    assert notice.fingerprint == expected
    client.post_form("/logout")
    detail = text_of(client.get(f"/notices/{notice.id}"))
    printed = client.get(f"/notices/{notice.id}/print?lang=en")
    text = text_of(printed)
    assert rules.group(expected) in detail and rules.group(expected) in text
    assert "Check it on the portal" in text and "收支表.pdf" in text
    assert f"http://localhost/notices/{notice.id}" in text
    html = printed.get_data(as_text=True)
    assert "<script" not in html and " style=" not in html and 'class="print-sheet"' in html
    assert secretary.display_name not in text


def test_check_a_paper_notice_by_its_code(client, make_compound, make_user, make_grant):
    compound = make_compound()
    user = make_user()
    make_grant(user, "committee", compound)
    notice = _notice(user, "compound", compound, title="公示")
    typed = rules.group(notice.fingerprint).upper().replace(" ", "-")
    resp = client.get(f"/notices/check?code={typed}&lang=en")
    assert resp.status_code == 200 and "The code matches this notice" in text_of(resp)
    assert f"/notices/{notice.id}" in resp.get_data(as_text=True)
    wrong = client.get("/notices/check?code=000000000000&lang=en")
    assert wrong.status_code == 404 and "No published notice has this check code" in text_of(wrong)
    bad = client.get("/notices/check?code=hello&lang=en")
    assert bad.status_code == 422 and "A check code has 12 characters" in text_of(bad)
    notices.withdraw(user, notice, "作废", utcnow())
    db.session.commit()
    assert "was withdrawn" in text_of(client.get(f"/notices/check?code={typed}&lang=en"))
    assert client.get("/notices/check").status_code == 200


# ---- feeds --------------------------------------------------------------------------------------


def test_atom_feeds_per_compound_and_community_are_valid(
    client, make_compound, make_user, make_grant
):
    compound = make_compound(name="和平花园")
    user = make_user()
    make_grant(user, "secretary", compound.community)
    a = _notice(
        user, "compound", compound, title="停水 <通知> & 安排", body="明天停水。", category="outage"
    )
    _notice(user, "community", compound.community, title="社区活动")
    _notice(user, "compound", compound, title="未来", publish_at=utcnow() + timedelta(days=1))

    resp = client.get(f"/feeds/compounds/{compound.code}.atom")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(resp.data)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None, name
    self_link = root.find(f"{ATOM}link[@rel='self']")
    assert self_link.get("href") == f"http://localhost/feeds/compounds/{compound.code}.atom"
    assert root.find(f"{ATOM}id").text.startswith("http://localhost/")
    entries = root.findall(f"{ATOM}entry")
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert titles == ["社区活动", "停水 <通知> & 安排"]  # newest first
    assert "未来" not in titles  # scheduled notices are not in the feed yet
    entry = next(e for e in entries if e.find(f"{ATOM}title").text.startswith("停水"))
    for name in ("id", "title", "updated", "published", "summary", "content", "author"):
        assert entry.find(f"{ATOM}{name}") is not None, name
    assert entry.find(f"{ATOM}id").text == f"http://localhost/notices/{a.id}"
    assert entry.find(f"{ATOM}link").get("href") == f"http://localhost/notices/{a.id}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.find(f"{ATOM}updated").text)
    assert entry.find(f"{ATOM}category").get("term") == "outage"

    community = ET.fromstring(client.get(f"/feeds/communities/{compound.community.code}.atom").data)
    assert len(community.findall(f"{ATOM}entry")) == 2
    empty = ET.fromstring(client.get(f"/feeds/streets/{compound.community.street.code}.atom").data)
    assert empty.find(f"{ATOM}updated") is not None
    assert client.get(f"/feeds/planets/{compound.code}.atom").status_code == 404
    assert client.get("/feeds/compounds/NOPE.atom").status_code == 404


def test_pages_link_their_feeds_in_the_head(client, make_compound, make_user, make_grant):
    compound = make_compound()
    user = make_user()
    make_grant(user, "committee", compound)
    notice = _notice(user, "compound", compound)
    for path, feed in (
        (
            f"/communities/{compound.community.code}/notices",
            f"/feeds/communities/{compound.community.code}.atom",
        ),
        (f"/notices/{notice.id}", f"/feeds/compounds/{compound.code}.atom"),
    ):
        html = client.get(path).get_data(as_text=True)
        head = html.split("</head>")[0]
        assert re.search(
            r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" '
            rf'href="{re.escape(feed)}">',
            head,
        ), path


# ---- the system hook ----------------------------------------------------------------------------


def test_post_system_notice_publishes_audits_and_is_idempotent(app, client, make_compound):
    compound = make_compound()
    with app.test_request_context():
        notice = notices.post_system_notice(
            scope_type="compound",
            scope_id=compound.id,
            category="election",
            title="选聘物业表决公告",
            body="表决于4月1日开始。",
            link_endpoint="places.compound",
            link_args={"code": compound.code, "tab": "elections"},
            source="election:1:announced",
        )
        db.session.commit()
        again = notices.post_system_notice(
            scope_type="compound",
            scope_id=compound.id,
            category="election",
            title="重复",
            body="",
            source="election:1:announced",
        )
    assert again.id == notice.id
    assert len(db.session.scalars(select(Notice)).all()) == 1
    assert notice.author_id is None and notice.issuer == "system"
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notice.posted"))
    assert ev.actor_id is None and ev.detail["system"] is True
    assert ev.detail["source"] == "election:1:announced"
    page = client.get(f"/notices/{notice.id}?lang=en")
    html = page.get_data(as_text=True)
    assert f'href="/compounds/{compound.code}/elections"' in html
    assert "Posted automatically by the portal" in text_of(page)
    assert "选聘物业表决公告" in text_of(client.get(f"/compounds/{compound.code}"))


def test_post_system_notice_refuses_nonsense(app, make_compound):
    compound = make_compound()
    with pytest.raises(ValueError):
        notices.post_system_notice(
            scope_type="planet", scope_id=1, category="election", title="x", body=""
        )
    with pytest.raises(ValueError):
        notices.post_system_notice(
            scope_type="compound", scope_id=compound.id, category="gossip", title="x", body=""
        )
    with pytest.raises(ValueError):
        notices.post_system_notice(
            scope_type="compound",
            scope_id=compound.id,
            category="other",
            title="x",
            body="",
            link_endpoint="voting.nope",
        )
    from portal.errors import NotFound

    with pytest.raises(NotFound):
        notices.post_system_notice(
            scope_type="compound", scope_id=999999, category="other", title="x", body=""
        )


# ---- the desk -----------------------------------------------------------------------------------


def test_the_desk_lists_where_to_post_and_what_one_manages(
    client, login_as, make_compound, company_with_contract
):
    compound = make_compound(name="和平花园")
    member = login_as("committee", compound)
    _notice(member, "compound", compound, title="已发布的")
    _notice(member, "compound", compound, title="定时的", publish_at=utcnow() + timedelta(days=1))
    text = text_of(client.get("/notices/desk?lang=en"))
    assert "和平花园" in text and "已发布的" in text and "定时的" in text
    scheduled = client.hx_get("/notices/desk?state=scheduled").get_data(as_text=True)
    assert "定时的" in scheduled and "已发布的" not in scheduled and "<html" not in scheduled

    managed, company = company_with_contract(make_compound(name="物业小区"))
    login_as("company", company)
    assert "物业小区" in text_of(client.get("/notices/desk"))
    login_as()  # a resident
    assert client.get("/notices/desk").status_code == 403


# ---- query counts -------------------------------------------------------------------------------


def _seed(user, compound, n, with_files=False):
    for i in range(n):
        files = [("a.pdf", b"%PDF-1.4\n%%EOF\n")] if with_files else []
        notices.create_notice(
            user,
            "compound" if i % 3 else "community",
            compound if i % 3 else compound.community,
            category="other",
            title=f"通知{i}",
            body="正文",
            files=files,
            now=utcnow(),
        )
    db.session.commit()


@pytest.mark.parametrize(
    "path",
    [
        "/compounds/{c}",
        "/compounds/{c}/notices?archive=1",
        "/compounds/{c}/notices?q=通知",
        "/communities/{m}/notices",
        "/feeds/compounds/{c}.atom",
        "/feeds/communities/{m}.atom",
        "/notices/desk",
    ],
)
def test_query_counts_do_not_grow_with_the_notices(
    client, login_as, make_compound, count_queries, path
):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    url = path.format(c=compound.code, m=compound.community.code)
    _seed(secretary, compound, 2, with_files=True)
    client.get(url)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _seed(secretary, compound, 15, with_files=True)
    with count_queries() as big:
        assert client.get(url).status_code == 200
    assert big.count == small.count, (small.statements, big.statements)


def test_the_notice_page_query_count_does_not_grow_with_attachments(
    client, login_as, make_compound, count_queries
):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    few = notices.create_notice(
        secretary,
        "compound",
        compound,
        category="other",
        title="一",
        body="",
        files=[("a.pdf", b"%PDF-1.4\n%%EOF\n")],
        now=utcnow(),
    )
    many = notices.create_notice(
        secretary,
        "compound",
        compound,
        category="other",
        title="二",
        body="",
        files=[(f"{i}.pdf", b"%PDF-1.4\n%%EOF\n" + bytes([i])) for i in range(8)],
        now=utcnow(),
    )
    db.session.commit()
    counts = []
    for n in (few, many):
        client.get(f"/notices/{n.id}")
        with count_queries() as q:
            assert client.get(f"/notices/{n.id}").status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1]


def test_dates_on_the_pages_use_the_portals_format(client, make_compound, make_user, make_grant):
    compound = make_compound()
    user = make_user()
    make_grant(user, "committee", compound)
    notice = _notice(user, "compound", compound)
    local = notice.publish_at + timedelta(hours=8)
    assert local.strftime("%Y-%m-%d %H:%M") in text_of(client.get(f"/notices/{notice.id}"))
