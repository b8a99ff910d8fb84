"""The fee accounts journey: the company imports a statement and submits it, the secretary
publishes it, a resident reads it in the compound's fees tab and asks about a line, and the
company answers inline. In Chinese, with JavaScript (htmx) and, for the question, without."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models_base import utcnow
from portal.places.models import Company
from portal.transparency.models import FeeQuestion, FeeStatement
from portal.voting.models import Contract
from tests.factories import PASSWORD, first_unit

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "fees" / "statement-sample.csv"


@pytest.fixture
def people(place, make_user, make_grant, make_claim, tmp_path, app):
    app.config["FEE_UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    company = Company(name="和平物业服务有限公司")
    db.session.add(company)
    db.session.flush()
    db.session.add(
        Contract(
            compound_id=place.compound.id,
            company_id=company.id,
            starts_on=date.today() - timedelta(days=100),
            ends_on=date.today() + timedelta(days=700),
            fee_per_m2=Decimal("1.80"),
            service_level="二级",
            commitments="报修24小时内到场",
            signed_at=utcnow(),
        )
    )
    db.session.commit()
    staff = make_user(phone="13600000004", name="孙丽")
    make_grant(staff, "company", company)
    secretary = make_user(phone="13600000002", name="王书记")
    make_grant(secretary, "secretary", place.community)
    resident = make_user(phone="13912345678", name="李秀英")
    make_claim(resident, first_unit(place.compound), status="verified")
    return staff, secretary, resident


def log_in(page, live_server, phone: str):
    page.goto(live_server("/login"))
    page.locator("#phone").fill(phone)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".site-nav form[action='/logout']")).to_be_visible()


def test_import_publish_read_ask_answer(
    live_server, new_page, place, people, console, shot, tr, fresh
):
    staff, secretary, resident = people
    resident.large_text = True
    db.session.commit()
    code = place.compound.code

    # The company imports January's statement from the spreadsheet …
    company = new_page()
    log_in(company, live_server, staff.phone)
    company.goto(live_server("/staff/fees/import"))
    company.locator("#period_kind").select_option("month")
    company.locator("#year").fill("2026")
    company.locator("#month").select_option("1")
    company.locator("#file").set_input_files(str(SAMPLE))
    with company.expect_navigation():
        company.locator("form[action='/staff/fees/import'] button[type=submit]").click()
    expect(company.locator("h1")).to_contain_text("2026年1月")
    expect(company.locator("main")).to_contain_text("¥106,500.00")
    shot(company, "import-preview")
    with company.expect_navigation():
        company.locator("form[action='/staff/fees/import/confirm'] button[type=submit]").click()
    # … checks the draft and submits it.
    expect(company.locator(".status")).to_contain_text(tr("Draft"))
    with company.expect_navigation():
        company.locator("form[action$='/submit'] button").click()
    expect(company.locator(".status")).to_contain_text(tr("Awaiting review"))

    # The secretary publishes it.
    sec = new_page()
    log_in(sec, live_server, secretary.phone)
    sec.goto(live_server("/staff/fees"))
    with sec.expect_navigation():
        sec.locator("ul.fee-statements a.list-title").first.click()
    with sec.expect_navigation():
        sec.locator("form[action$='/publish'] button").click()
    expect(sec.locator(".status")).to_contain_text(tr("Published"))
    fresh()
    assert db.session.scalar(select(FeeStatement.status)) == "published"

    # A resident reads it in the compound's fees tab (large text, a phone's width) …
    reader = new_page(width=390, height=800)
    log_in(reader, live_server, resident.phone)
    reader.goto(live_server(f"/compounds/{code}"))
    reader.locator(f"nav.tabs a[href='/compounds/{code}/fees']").click()
    expect(reader).to_have_url(live_server(f"/compounds/{code}/fees"))  # htmx pushed the URL
    expect(reader.locator("body.large-text")).to_have_count(1)
    expect(reader.locator("#tab-panel")).to_contain_text("¥106,500.00")
    expect(reader.locator("#chart-income title")).to_have_count(1)
    expect(reader.locator("table.fee-buildings")).to_contain_text("1栋")
    shot(reader, "fees-tab")
    with reader.expect_navigation():
        reader.locator(f"a[href='/compounds/{code}/fees/2026-01']").first.click()
    # … and asks about the cleaning line.
    with reader.expect_navigation():
        reader.locator("tr", has_text="保洁外包").locator("a").click()
    reader.locator("#body").fill("保洁外包每月一万五，楼道却一周才扫一次，请公开保洁记录。")
    with reader.expect_navigation():
        reader.locator("form[action$='/questions'] button[type=submit]").click()
    expect(reader.locator(".fee-questions")).to_contain_text("楼道却一周才扫一次")
    expect(reader.locator(".fee-questions")).to_contain_text("李**")
    expect(reader.locator("main")).not_to_contain_text("李秀英")

    # The company answers in place (htmx swaps the question).
    company.goto(live_server("/staff/fees/questions"))
    company.locator("details summary", has_text=tr("Answer…")).click()
    company.locator("textarea[name=answer]").fill("已安排每日清扫两次，保洁记录贴在各楼大厅。")
    company.locator("form[action$='/answer'] button[type=submit]").click()
    expect(company.locator(".fee-answer")).to_contain_text("保洁记录贴在各楼大厅")
    assert company.url == live_server("/staff/fees/questions")  # no page change
    fresh()
    assert db.session.scalar(select(FeeQuestion.answered_by_id)) == staff.id

    reader.reload()
    expect(reader.locator(".fee-answer")).to_contain_text("保洁记录贴在各楼大厅")
    shot(reader, "answered")
    console.assert_no_csp_violations()


def test_asking_works_without_javascript(live_server, new_page, place, people, fresh):
    from portal.transparency import service
    from tests.web.test_fee_support import make_input

    staff, secretary, resident = people
    s = service.create_draft(staff, place.compound, make_input("2026-02"), utcnow())
    service.submit(staff, s, utcnow())
    service.publish(secretary, s, utcnow())
    db.session.commit()
    line_id = s.lines[0].id
    page = new_page(js=False)
    log_in(page, live_server, resident.phone)
    page.goto(live_server(f"/compounds/{place.compound.code}/fees?period=2026-02"))
    expect(page.locator("#tab-panel")).to_contain_text("2026年2月")
    page.goto(live_server(f"/fees/lines/{line_id}"))
    page.locator("#body").fill("没有脚本也能提问吗？")
    with page.expect_navigation():
        page.locator("form[action$='/questions'] button[type=submit]").click()
    expect(page.locator(".fee-questions")).to_contain_text("没有脚本也能提问吗？")
    fresh()
    assert db.session.scalar(select(FeeQuestion.body)) == "没有脚本也能提问吗？"
