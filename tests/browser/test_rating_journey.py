"""The inspection-to-list journey: a third-party inspector scores a compound and records a
finding; the company sees it open and reports it rectified (htmx); the inspector's re-inspection
passes (without JavaScript); the street officer previews and publishes the quarter; the public
red/black list and the company's scorecard show it. And a household answers a survey."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models_base import utcnow
from portal.ratings import service
from portal.ratings.labels import FINDING_STATUS_LABELS, LEVEL_LABELS, LIST_LABELS
from portal.ratings.models import Finding, Inspection, Rating
from tests.factories import PASSWORD, first_unit
from tests.web.test_rating_kit import make_company, sign

pytestmark = pytest.mark.browser


def log_in(page, live_server, phone: str):
    page.goto(live_server("/login"))
    page.locator("#phone").fill(phone)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".site-nav form[action='/logout']")).to_be_visible()


@pytest.fixture
def people(place, make_user, make_grant):
    class P:
        pass

    p = P()
    p.company = make_company("和平物业服务有限公司")
    sign(place.compound, p.company)
    p.inspector = make_user(phone="13600000005", name="孙评估")
    make_grant(p.inspector, "inspector", place.street)
    p.staff = make_user(phone="13600000004", name="周物业")
    make_grant(p.staff, "company", p.company)
    p.officer = make_user(phone="13600000001", name="赵街道")
    make_grant(p.officer, "street", place.street)
    p.secretary = make_user(phone="13600000002", name="钱书记")
    make_grant(p.secretary, "secretary", place.community)
    return p


def test_inspection_finding_rectified_published_on_the_red_list(
    live_server, new_page, place, people, console, shot, tr, fresh
):
    compound = place.compound
    today = service.local_today(utcnow())

    # 1. the inspector enters a third-party inspection from the compound's ratings tab
    inspector = new_page()
    log_in(inspector, live_server, people.inspector.phone)
    inspector.goto(live_server(f"/compounds/{compound.code}/ratings"))
    with inspector.expect_navigation():
        inspector.get_by_role("link", name=tr("Enter an inspection")).click()
    expect(inspector.get_by_role("heading", level=1)).to_have_text(tr("Enter an inspection"))
    expect(inspector.locator("input[name=level][value=third_party]")).to_be_checked()
    inputs = inspector.locator(".score-sheet input.score-input")
    expect(inputs).to_have_count(16)
    for n in range(16):
        box = inputs.nth(n)
        top = box.get_attribute("placeholder").split("–")[1]
        box.fill(str(int(top) - 1) if n == 1 else top)  # one point lost on item 2
    shot(inspector, "scores")
    with inspector.expect_navigation():
        inspector.get_by_role("button", name=tr("Save the inspection")).click()
    expect(inspector.get_by_role("heading", level=1)).to_contain_text(
        tr(LEVEL_LABELS["third_party"])
    )
    expect(inspector.locator(".facts")).to_contain_text("99 / 100")

    # … and records a finding with a deadline
    inspector.locator("#category").select_option("cleaning")
    inspector.locator("#description").fill("3栋楼道堆放纸箱，影响通行")
    inspector.locator("#deadline").fill((today + timedelta(days=7)).isoformat())
    with inspector.expect_navigation():
        inspector.get_by_role("button", name=tr("Add finding")).click()
    finding_row = inspector.locator("li.finding")
    expect(finding_row).to_contain_text("3栋楼道堆放纸箱")
    expect(finding_row).to_contain_text(tr(FINDING_STATUS_LABELS["open"]))
    shot(inspector, "finding-added")
    fresh()
    finding = db.session.scalar(select(Finding))
    assert finding.company_id == people.company.id

    # 2. the company sees the open finding with its deadline and reports it done, inline
    company = new_page()
    log_in(company, live_server, people.staff.phone)
    company.goto(live_server("/ratings/findings"))
    row = company.locator(f"#finding-{finding.id}")
    expect(row).to_contain_text("3栋楼道堆放纸箱")
    expect(row.locator(".finding-due")).to_be_visible()
    url = company.url
    company.evaluate("window.__no_reload = true")
    row.locator("summary").filter(has_text=tr("Report rectified…")).click()
    row.locator("textarea[name=note]").fill("已清理完毕")
    with company.expect_response(lambda r: r.url.endswith(f"/findings/{finding.id}/report")) as r:
        row.get_by_role("button", name=tr("Report rectified")).click()
    assert r.value.status == 200 and r.value.request.headers.get("hx-request") == "true"
    expect(row).to_contain_text(tr(FINDING_STATUS_LABELS["reported"]))
    expect(row).to_contain_text("已清理完毕")
    assert company.url == url and company.evaluate("window.__no_reload === true")
    shot(company, "reported-inline")

    # 3. the re-inspection passes — recorded without JavaScript
    no_js = new_page(js=False)
    log_in(no_js, live_server, people.inspector.phone)
    no_js.goto(live_server("/ratings/findings"))
    row = no_js.locator(f"#finding-{finding.id}")
    row.locator("summary").filter(has_text=tr("Record re-inspection…")).click()
    row.locator("input[name=outcome][value=pass]").check()
    with no_js.expect_navigation():
        row.get_by_role("button", name=tr("Record")).click()
    expect(no_js.locator(".flash-success")).to_contain_text(tr("Re-inspection recorded: passed."))
    no_js.goto(live_server("/ratings/findings?status=closed"))
    expect(no_js.locator(f"#finding-{finding.id}")).to_contain_text("3栋楼道堆放纸箱")
    fresh()
    assert db.session.get(Finding, finding.id).status == "closed"

    # 4. the street officer opens the quarter, previews and publishes it
    officer = new_page()
    log_in(officer, live_server, people.officer.phone)
    officer.goto(live_server(f"/streets/{place.street.code}/rating-periods"))
    q = (today.month - 1) // 3 + 1
    officer.locator("#period").select_option(f"quarter:{today.year}:{q}")
    with officer.expect_navigation():
        officer.get_by_role("button", name=tr("Open the period")).click()
    preview = officer.locator("table.rating-table")
    expect(preview).to_contain_text("和平物业服务有限公司")
    expect(preview).to_contain_text("99.00")
    shot(officer, "preview")
    with officer.expect_navigation():
        officer.get_by_role("button", name=tr("Publish these ratings")).click()
    expect(officer.locator(".flash-success")).to_be_visible()
    fresh()
    rating = db.session.scalar(select(Rating))
    assert (rating.score, rating.list_status) == (99, "red")

    # 5. anyone sees the red list, on a phone, in large text, and the scorecard's chart
    public = new_page(width=390, height=844)
    public.context.add_cookies([{"name": "large_text", "value": "1", "url": live_server("/")}])
    public.goto(live_server(f"/streets/{place.street.code}/red-black-list"))
    red = public.locator(".list-box-red")
    expect(red).to_contain_text("和平物业服务有限公司")
    expect(red).to_contain_text("99.00")
    assert public.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), "the red/black list scrolls sideways on a phone"
    shot(public, "red-list-phone")
    with public.expect_navigation():
        red.get_by_role("link", name="和平物业服务有限公司").click()
    chart = public.locator("svg.trend[role=img]")
    expect(chart).to_be_visible()
    expect(chart.locator("desc")).to_contain_text("99.00")
    expect(public.locator(".scorecard-latest")).to_contain_text(tr(LIST_LABELS["red"]))
    shot(public, "scorecard-phone")
    console.assert_no_csp_violations()
    assert db.session.scalar(select(Inspection.total)) == 99


def test_a_household_answers_a_survey_and_a_second_member_is_told(
    live_server, new_page, place, people, make_user, make_claim, console, shot, tr, fresh
):
    compound = place.compound
    unit = first_unit(compound)
    first = make_user(phone="13700000011", name="李秀英")
    second = make_user(phone="13700000012", name="李小明")
    make_claim(first, unit, status="verified")
    make_claim(second, unit, relation="family", status="verified")

    secretary = new_page()
    log_in(secretary, live_server, people.secretary.phone)
    secretary.goto(live_server(f"/ratings/surveys/new?compound={compound.code}"))
    secretary.locator("#title").fill("2026年物业服务满意度测评")
    # The form's default is today at 08:00 (Beijing): before eight that only schedules the
    # survey. Midnight today has passed at any hour, so the survey opens on submit.
    secretary.locator("#opens_time").fill("00:00")
    with secretary.expect_navigation():
        secretary.get_by_role("button", name=tr("Open the survey")).click()
    expect(secretary.get_by_role("heading", level=1)).to_have_text("2026年物业服务满意度测评")
    survey_url = secretary.url

    resident = new_page(js=False, width=390, height=844)
    log_in(resident, live_server, first.phone)
    resident.goto(survey_url)
    for fieldset in resident.locator("fieldset.stars").all():
        fieldset.locator("input[value='4']").check()
    shot(resident, "survey-form-phone")
    with resident.expect_navigation():
        resident.get_by_role("button", name=tr("Send our answers")).click()
    expect(resident.locator(".flash-success")).to_be_visible()

    other = new_page()
    log_in(other, live_server, second.phone)
    other.goto(survey_url)
    expect(other.locator("main")).to_contain_text(
        tr("Your household has already answered this survey. Thank you.")
    )
    expect(other.locator("form[action$='/respond']")).to_have_count(0)
    console.assert_no_csp_violations()
