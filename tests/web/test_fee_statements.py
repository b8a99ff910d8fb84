"""Fee statements: drafting by form, review and publication, immutability and revisions,
permissions, the public pages, money formatting and constant query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.errors import Conflict, InvalidTransition, PermissionDenied
from portal.extensions import db
from portal.models_base import utcnow
from portal.transparency import service
from portal.transparency.models import (
    FeeLine,
    FeeStatement,
    PublishedStatementImmutable,
)
from tests.conftest import text_of
from tests.web.test_fee_support import *  # noqa: F403
from tests.web.test_fee_support import D, Line, draft, make_input, publish


def form_data(**overrides) -> dict:
    data = {
        "compound": "",
        "period_kind": "month",
        "year": "2026",
        "month": "3",
        "quarter": "1",
        "opening_balance": "1000.00",
        "households_billed": "8",
        "households_paid": "7",
        "amount_billed": "9600.00",
        "amount_collected": "8400.00",
        "note": "",
        "lines-0-kind": "income:property_fees",
        "lines-0-item": "物业服务费",
        "lines-0-amount": "8,400.00",
        "lines-0-note": "",
        "lines-1-kind": "expense:cleaning",
        "lines-1-item": "保洁外包",
        "lines-1-amount": "1500.5",
        "lines-1-note": "每周三次",
        "lines-2-kind": "",
        "lines-2-item": "",
        "lines-2-amount": "",
        "lines-2-note": "",
        "buildings-0-name": "1栋",
        "buildings-0-households_billed": "4",
        "buildings-0-households_paid": "3",
        "buildings-0-amount_billed": "4800",
        "buildings-0-amount_collected": "3600",
        "buildings-1-name": "2栋",
        "buildings-1-households_billed": "4",
        "buildings-1-households_paid": "4",
        "buildings-1-amount_billed": "4800",
        "buildings-1-amount_collected": "4800",
        "action": "save",
    }
    data.update(overrides)
    return data


def events(prefix: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)
        )
    )


def statement_of(key: str, revision: int = 1) -> FeeStatement:
    db.session.expire_all()
    return db.session.scalar(
        select(FeeStatement).where(
            FeeStatement.period_key == key, FeeStatement.revision == revision
        )
    )


def statement_part(html: str) -> str:
    return html[html.index('<div id="statement">') : html.index("</main>")]


# ---- the lifecycle ------------------------------------------------------------------------


def test_staff_draft_by_form_then_secretary_publishes_and_residents_see_it(
    client, fee_place, staff, secretary, login_as
):
    code = fee_place.compound.code
    login_as(user=staff)
    page = client.get("/staff/fees/new")
    assert page.status_code == 200
    assert "1栋" in page.get_data(as_text=True)  # one row per building of the compound
    resp = client.post_form("/staff/fees/new", form_data(compound=str(fee_place.compound.id)))
    assert resp.status_code == 302, text_of(resp)[:2000]
    s = statement_of("2026-03")
    assert s.status == "draft" and s.revision == 1
    assert s.income_total == D("8400.00") and s.expense_total == D("1500.50")
    assert [(x.category, x.amount) for x in s.lines] == [
        ("property_fees", D("8400.00")),
        ("cleaning", D("1500.50")),
    ]
    assert [b.building_name for b in s.buildings] == ["1栋", "2栋"]
    # not public while a draft
    assert client.get(f"/compounds/{code}/fees/2026-03").status_code == 404

    assert client.post_form(f"/staff/fees/{s.id}/submit").status_code == 302
    # the company cannot publish its own statement
    assert client.post_form(f"/staff/fees/{s.id}/publish").status_code == 403
    login_as(user=secretary)
    assert client.post_form(f"/staff/fees/{s.id}/publish").status_code == 302
    assert statement_of("2026-03").status == "published"

    client.post_form("/logout")
    tab = text_of(client.get(f"/compounds/{code}/fees?lang=en"))
    assert "¥8,400.00" in tab and "¥1,500.50" in tab
    assert "87.5%" in tab  # 8400 / 9600 collected
    assert "75.0%" in tab  # building 1: 3600 / 4800
    actions = [e.action for e in events("fee.")]
    assert actions == ["fee.drafted", "fee.submitted", "fee.published"]
    assert all(e.actor_id for e in events("fee."))


def test_the_form_reports_broken_rules_and_saves_nothing(client, fee_place, staff, login_as):
    login_as(user=staff)
    resp = client.post_form(
        "/staff/fees/new?lang=en",
        form_data(
            compound=str(fee_place.compound.id),
            **{
                "lines-2-kind": "income:property_fees",
                "lines-2-item": "物业服务费",
                "lines-2-amount": "1",
                "buildings-1-amount_collected": "4000",
                "lines-1-note": "联系 13812345678",
            },
        ),
    )
    assert resp.status_code == 422
    text = text_of(resp)
    assert "leave phone numbers and names out" in text
    assert db.session.scalar(select(FeeStatement.id)) is None
    resp = client.post_form(
        "/staff/fees/new?lang=en",
        form_data(
            compound=str(fee_place.compound.id),
            **{
                "lines-2-kind": "income:property_fees",
                "lines-2-item": "物业服务费",
                "lines-2-amount": "1",
                "buildings-1-amount_collected": "4000",
            },
        ),
    )
    assert resp.status_code == 422
    text = text_of(resp)
    assert "same category and item" in text
    assert "do not add up" in text
    assert db.session.scalar(select(FeeStatement.id)) is None


def test_a_second_draft_of_the_same_period_is_refused(client, fee_place, staff, login_as):
    draft(fee_place, staff, "2026-03")
    login_as(user=staff)
    resp = client.post_form(
        "/staff/fees/new?lang=en", form_data(compound=str(fee_place.compound.id))
    )
    assert resp.status_code == 422
    assert "already being prepared" in text_of(resp)


def test_secretary_returns_with_a_reason_and_the_company_corrects(
    client, fee_place, staff, secretary, login_as
):
    s = draft(fee_place, staff)
    service.submit(staff, s, utcnow())
    db.session.commit()
    login_as(user=secretary)
    assert client.post_form(f"/staff/fees/{s.id}/return", {"reason": ""}).status_code == 422
    assert (
        client.post_form(f"/staff/fees/{s.id}/return", {"reason": "保洁费与合同不符"}).status_code
        == 302
    )
    login_as(user=staff)
    page = text_of(client.get(f"/staff/fees/{s.id}"))
    assert "保洁费与合同不符" in page
    edit = client.get(f"/staff/fees/{s.id}/edit")
    assert edit.status_code == 200
    assert client.post_form(f"/staff/fees/{s.id}/submit").status_code == 302
    assert statement_of("2026-01").status == "submitted"
    assert [e.action for e in events("fee.")][-2:] == ["fee.returned", "fee.submitted"]


# ---- immutability and revisions ---------------------------------------------------------


def test_a_published_statement_cannot_be_edited(client, fee_place, staff, secretary, login_as):
    s = publish(fee_place, staff, secretary)
    login_as(user=staff)
    # the edit form refuses and sends back to the statement
    assert client.get(f"/staff/fees/{s.id}/edit").status_code == 302
    before = client.get(f"/compounds/{fee_place.compound.code}/fees/2026-01").get_data(as_text=True)
    resp = client.post_form(f"/staff/fees/{s.id}/edit", form_data())
    assert resp.status_code == 302
    assert client.post_form(f"/staff/fees/{s.id}/discard").status_code == 302
    after = client.get(f"/compounds/{fee_place.compound.code}/fees/2026-01").get_data(as_text=True)
    assert statement_part(before) == statement_part(after)
    # the service refuses …
    with pytest.raises(InvalidTransition):
        service.update_draft(staff, statement_of("2026-01"), make_input(), utcnow())
    # … and so does the database layer, whatever the code path
    s = statement_of("2026-01")
    s.amount_collected = D("1.00")
    with pytest.raises(PublishedStatementImmutable):
        db.session.flush()
    db.session.rollback()
    line = db.session.scalar(select(FeeLine).where(FeeLine.statement_id == s.id))
    line.amount = D("999.00")
    with pytest.raises(PublishedStatementImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.add(
        FeeLine(statement_id=s.id, direction="income", category="subsidy", item="x", amount=D("1"))
    )
    with pytest.raises(PublishedStatementImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(FeeStatement, s.id))
    with pytest.raises(PublishedStatementImmutable):
        db.session.flush()
    db.session.rollback()
    assert statement_of("2026-01").amount_collected == D("8400.00")


def test_a_revision_keeps_both_and_shows_the_difference(
    client, fee_place, staff, secretary, login_as
):
    code = fee_place.compound.code
    first = publish(fee_place, staff, secretary)
    login_as(user=staff)
    assert client.post_form(f"/staff/fees/{first.id}/revise", {"reason": ""}).status_code == 422
    resp = client.post_form(
        f"/staff/fees/{first.id}/revise", {"reason": "维修费发票录入有误，更正"}
    )
    assert resp.status_code == 302
    rev = statement_of("2026-01", 2)
    assert rev.status == "draft" and rev.supersedes_id == first.id
    assert rev.revision_reason == "维修费发票录入有误，更正"
    # correct it: repairs 650.50 -> 560.00, parking removed, subsidy added
    data = form_data(
        revision_reason="维修费发票录入有误，更正",
        **{
            "lines-0-kind": "income:property_fees",
            "lines-0-item": "物业服务费",
            "lines-0-amount": "8650.00",
            "lines-1-kind": "expense:wages",
            "lines-1-item": "",
            "lines-1-amount": "5200.00",
            "lines-1-note": "",
            "lines-2-kind": "expense:cleaning",
            "lines-2-item": "保洁外包",
            "lines-2-amount": "1500.00",
            "lines-2-note": "每周三次",
            "lines-3-kind": "expense:repairs",
            "lines-3-item": "",
            "lines-3-amount": "560.00",
            "lines-3-note": "",
            "lines-4-kind": "income:subsidy",
            "lines-4-item": "街道补贴",
            "lines-4-amount": "300.00",
            "lines-4-note": "",
        },
    )
    assert client.post_form(f"/staff/fees/{rev.id}/edit", data).status_code == 302
    assert client.post_form(f"/staff/fees/{rev.id}/submit").status_code == 302
    login_as(user=secretary)
    assert client.post_form(f"/staff/fees/{rev.id}/publish").status_code == 302

    client.post_form("/logout")
    page = text_of(client.get(f"/compounds/{code}/fees/2026-01?lang=en"))
    assert "Revised" in page
    assert "维修费发票录入有误，更正" in page
    assert "Revision 1" in page and "Revision 2" in page
    assert "What changed against revision 1" in page
    assert "¥650.50 ¥560.00 -¥90.50" in page  # repairs: old -> new, difference
    assert "removed Income · Parking" in page
    assert "added Income · Government subsidy · 街道补贴" in page
    # the first revision stays visible as it was
    old = text_of(client.get(f"/compounds/{code}/fees/2026-01/revisions/1?lang=en"))
    assert "Superseded" in old and "¥650.50" in old and "¥1,200.00" in old
    # the tab shows the current revision with its mark
    tab = text_of(client.get(f"/compounds/{code}/fees?lang=en"))
    assert "Revised" in tab and "¥560.00" in tab  # repairs, in the breakdown by category
    assert "¥8,950.00" in tab  # income of revision 2: 8650 + 300
    assert client.get(f"/compounds/{code}/fees/2026-01/revisions/3").status_code == 404


def test_only_the_current_revision_is_corrected(fee_place, staff, secretary):
    first = publish(fee_place, staff, secretary)
    second = service.start_revision(staff, first, "更正", utcnow())
    db.session.commit()
    with pytest.raises(Conflict):
        service.start_revision(staff, first, "again", utcnow())
    db.session.rollback()
    service.submit(staff, second, utcnow())
    service.publish(secretary, second, utcnow())
    db.session.commit()
    with pytest.raises(InvalidTransition):
        service.start_revision(staff, statement_of("2026-01", 1), "old one", utcnow())


# ---- permissions ----------------------------------------------------------------------------


def test_roles_and_scopes(
    client, fee_place, staff, secretary, login_as, make_user, make_grant, make_community
):
    from portal.places.models import Company

    s = draft(fee_place, staff)
    other_company = Company(name="别家物业")
    db.session.add(other_company)
    db.session.commit()
    outsider = make_user()
    make_grant(outsider, "company", other_company)
    login_as(user=outsider)
    assert client.get("/staff/fees/new").status_code == 403
    assert client.get(f"/staff/fees/{s.id}").status_code == 403
    assert client.post_form(f"/staff/fees/{s.id}/submit").status_code == 403
    with pytest.raises(PermissionDenied):
        service.create_draft(outsider, fee_place.compound, make_input("2026-02"), utcnow())

    other_secretary = make_user()
    make_grant(other_secretary, "secretary", make_community())
    service.submit(staff, statement_of("2026-01"), utcnow())
    db.session.commit()
    login_as(user=other_secretary)
    assert client.post_form(f"/staff/fees/{s.id}/publish").status_code == 403
    assert client.post_form(f"/staff/fees/{s.id}/return", {"reason": "x"}).status_code == 403

    resident = make_user()
    login_as(user=resident)
    assert client.get("/staff/fees").status_code == 403
    assert client.get("/staff/fees/import").status_code == 403

    client.post_form("/logout")
    assert client.get("/staff/fees").status_code == 302  # to the login page
    assert client.get(f"/staff/fees/{s.id}").status_code == 302


def test_unknown_things_are_404(client, fee_place, staff, secretary, login_as):
    publish(fee_place, staff, secretary)
    code = fee_place.compound.code
    assert client.get(f"/compounds/{code}/fees/2026-13").status_code == 404
    assert client.get(f"/compounds/{code}/fees/2025-01").status_code == 404
    assert client.get("/compounds/NOPE/fees/2026-01").status_code == 404
    assert client.get("/fees/lines/99999").status_code == 404
    login_as(user=staff)
    assert client.get("/staff/fees/99999").status_code == 404


def test_posts_need_the_csrf_token(client, fee_place, staff, login_as):
    s = draft(fee_place, staff)
    login_as(user=staff)
    assert client.post(f"/staff/fees/{s.id}/submit").status_code == 400
    assert statement_of("2026-01").status == "draft"


# ---- the public pages ----------------------------------------------------------------------


def test_money_is_formatted_for_both_languages(client, fee_place, staff, secretary):
    publish(fee_place, staff, secretary, lines=[Line("income", "property_fees", "", D("1234.50"))])
    code = fee_place.compound.code
    zh = text_of(client.get(f"/compounds/{code}/fees/2026-01"))
    en = text_of(client.get(f"/compounds/{code}/fees/2026-01?lang=en"))
    assert "¥1,234.50" in zh and "¥1,234.50" in en
    assert "2026年1月" in zh and "January 2026" in en


def test_the_tab_switches_periods_with_real_urls(client, fee_place, staff, secretary):
    publish(fee_place, staff, secretary, "2026-01")
    publish(
        fee_place, staff, secretary, "2026-02", lines=[Line("income", "parking", "", D("77.00"))]
    )
    code = fee_place.compound.code
    latest = text_of(client.get(f"/compounds/{code}/fees?lang=en"))
    assert "February 2026" in latest and "¥77.00" in latest
    resp = client.hx_get(f"/compounds/{code}/fees?period=2026-01&lang=en")
    assert resp.status_code == 200 and "HX-Request" in resp.headers["Vary"]
    html = resp.get_data(as_text=True)
    assert "<html" not in html and "¥9,850.00" in text_of(resp)  # income of January
    assert 'hx-push-url="true"' in html
    # an unknown period falls back to the latest
    assert "¥77.00" in text_of(client.get(f"/compounds/{code}/fees?period=1999-01&lang=en"))
    # the statement page's fragment for the trend links
    frag = client.hx_get(f"/compounds/{code}/fees/2026-02")
    assert "<html" not in frag.get_data(as_text=True) and 'id="chart-trend"' in frag.get_data(
        as_text=True
    )


def test_charts_are_accessible_svg_without_inline_styles_or_scripts(
    client, fee_place, staff, secretary
):
    publish(fee_place, staff, secretary)
    code = fee_place.compound.code
    for path in (f"/compounds/{code}/fees", f"/compounds/{code}/fees/2026-01"):
        html = client.get(path).get_data(as_text=True)
        svgs = re.findall(r"<svg[^>]*>.*?</svg>", html, flags=re.S)
        charts = [s for s in svgs if 'role="img"' in s]
        assert len(charts) >= 3  # income, expenses, trend
        for svg in charts:
            assert "<title" in svg and "<desc" in svg and "aria-labelledby" in svg
        assert " style=" not in html
        assert "<script>" not in html and not re.search(r"<script(?![^>]*src=)", html)
        assert not re.search(r"\son[a-z]+=", html)


def test_no_phone_or_full_name_on_public_pages(client, fee_place, staff, secretary, resident):
    s = publish(fee_place, staff, secretary)
    q = service.ask(resident, s.lines[0], "物业费为什么比上月少？", utcnow())
    service.answer(staff, q, "本月有三户预缴。", utcnow())
    db.session.commit()
    code = fee_place.compound.code
    paths = [
        f"/compounds/{code}/fees",
        f"/compounds/{code}/fees/2026-01",
        f"/compounds/{code}/fees/2026-01/questions",
        f"/fees/lines/{s.lines[0].id}",
        "/open-data/fees.csv",
        "/open-data/fees.json",
        "/open-data/fee-collection.csv",
        "/open-data/fee-collection.json",
        "/open-data/fees/fees.csv",
        "/open-data/fees/datapackage.json",
    ]
    from tests.factories import first_unit

    owner = first_unit(fee_place.compound).owner
    for path in paths:
        body = client.get(path).get_data(as_text=True)
        for secret in (
            resident.phone,
            staff.phone,
            secretary.phone,
            owner.phone,
            "李秀英",
            "孙丽",
            "王书记",
            owner.name,
        ):
            assert secret not in body, (path, secret)
    assert "李**" in text_of(client.get(f"/fees/lines/{s.lines[0].id}"))


def test_query_counts_stay_constant(client, fee_place, staff, secretary, resident, count_queries):
    code = fee_place.compound.code
    s = publish(fee_place, staff, secretary, "2026-01")
    paths = [
        f"/compounds/{code}/fees",
        f"/compounds/{code}/fees/2026-01",
        f"/compounds/{code}/fees/2026-01/questions",
        f"/fees/lines/{s.lines[0].id}",
    ]
    small = {}
    for p in paths:
        with count_queries() as q:
            assert client.get(p).status_code == 200
        small[p] = q.count
    # more periods, revisions, lines, buildings and questions
    for m in range(2, 10):
        publish(fee_place, staff, secretary, f"2026-{m:02d}")
    many = [Line("expense", "other_expense", f"项目{i}", D(i)) for i in range(1, 40)]
    rev = service.start_revision(staff, s, "补充明细", utcnow())
    data = make_input(reason="补充明细", lines=make_input().lines + many)
    service.update_draft(staff, rev, data, utcnow())
    service.submit(staff, rev, utcnow())
    service.publish(secretary, rev, utcnow())
    db.session.commit()
    for i in range(12):
        q = service.ask(resident, rev.lines[i % 5], f"请说明第{i}项的明细", utcnow())
        if i % 2:
            service.answer(staff, q, "已说明", utcnow())
    db.session.commit()
    for p in paths:
        with count_queries() as q:
            assert client.get(p).status_code == 200
        assert q.count == small[p], (p, q.statements)


def test_staff_desk_lists_by_status_with_constant_queries(
    client, fee_place, staff, secretary, login_as, count_queries
):
    draft(fee_place, staff, "2026-01")
    login_as(user=secretary)
    with count_queries() as q:
        first = client.get("/staff/fees?status=all&lang=en")
    assert first.status_code == 200 and "January 2026" in text_of(first)
    for m in range(2, 12):
        publish(fee_place, staff, secretary, f"2026-{m:02d}")
    with count_queries() as q2:
        again = client.get("/staff/fees?status=all&lang=en")
    assert again.status_code == 200 and q2.count == q.count
    frag = client.hx_get("/staff/fees?status=published&lang=en")
    assert "<html" not in frag.get_data(as_text=True)
    assert "January 2026" not in text_of(frag) and "February 2026" in text_of(frag)


def test_overdue_rule_uses_the_setting(app, fee_place, staff, secretary, resident):
    s = publish(fee_place, staff, secretary)
    q = service.ask(resident, s.lines[0], "请公开明细", utcnow() - timedelta(days=8))
    db.session.commit()
    counts = service.question_counts(fee_place.compound, "2026-01", utcnow(), 7)
    assert counts[("income", "property_fees", "物业服务费")].overdue == 1
    counts = service.question_counts(fee_place.compound, "2026-01", utcnow(), 10)
    assert counts[("income", "property_fees", "物业服务费")].overdue == 0
    assert q.id
