"""Browser journeys of the proposal board, in Chinese: submit → accept → support → feedback
(with htmx, then without JavaScript in large-text mode), and report → hide."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.places.models import Company
from portal.proposals.labels import STATE_LABELS
from portal.proposals.models import Comment, Proposal, Report
from portal.voting.models import Contract
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

TITLE = "3号楼楼道灯坏了一周"
BODY = "晚上**看不清台阶**，老人上下楼很危险。"


class People:
    author = supporter = reporter = secretary = staff = None


@pytest.fixture
def people(place, make_user, make_grant, make_claim) -> People:
    p = People()
    units = [u for b in place.compound.buildings for u in b.units]
    p.author = make_user(phone="13900000001", name="张三丰")
    make_claim(p.author, units[0], status="verified")
    p.supporter = make_user(phone="13900000002", name="李秀英")
    make_claim(p.supporter, units[1], status="verified")
    p.reporter = make_user(phone="13900000003", name="王建国")
    make_claim(p.reporter, units[2], status="verified")
    p.secretary = make_user(phone="13600000001", name="王书记")
    make_grant(p.secretary, "secretary", place.community)
    company = Company(name="红星物业")
    db.session.add(company)
    db.session.flush()
    db.session.add(
        Contract(
            compound_id=place.compound.id,
            company_id=company.id,
            starts_on=date(2020, 1, 1),
            ends_on=date(2099, 12, 31),
            fee_per_m2=Decimal("1.50"),
            service_level="二级",
        )
    )
    db.session.commit()
    p.staff = make_user(phone="13600000002", name="周物业")
    make_grant(p.staff, "company", company)
    return p


def log_in(page, live_server, phone: str):
    page.goto(live_server("/login"))
    page.locator("#phone").fill(phone)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".site-nav form[action='/logout']")).to_be_visible()


def submit(page, live_server, compound):
    page.goto(live_server(f"/compounds/{compound.code}/proposals"))
    with page.expect_navigation():
        page.locator(f"a[href='/compounds/{compound.code}/proposals/new']").click()
    page.locator("#title").fill(TITLE)
    page.locator("#category").select_option("facilities")
    page.locator("#body").fill(BODY)
    with page.expect_navigation():
        page.locator("form[action$='/proposals/new'] button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(TITLE)


def _proposal(fresh) -> Proposal:
    fresh()
    return db.session.scalar(select(Proposal).where(Proposal.title == TITLE))


def test_submit_accept_support_feedback_with_htmx(
    live_server, new_page, place, people, console, shot, tr, fresh
):
    author = new_page()
    log_in(author, live_server, people.author.phone)
    submit(author, live_server, place.compound)
    expect(author.locator(".pstate")).to_have_text(tr(STATE_LABELS["collect"]))
    expect(author.locator(".proposal-body strong")).to_have_text("看不清台阶")
    shot(author, "submitted")
    p = _proposal(fresh)

    secretary = new_page()
    log_in(secretary, live_server, people.secretary.phone)
    secretary.goto(live_server(f"/proposals/{p.id}"))
    secretary.locator("input[name=complexity][value=general]").check()
    secretary.locator("input[name=responsible][value=company]").check()
    shot(secretary, "accept-form")
    with secretary.expect_navigation():
        secretary.locator(f"form[action='/proposals/{p.id}/accept'] button[type=submit]").click()
    expect(secretary.locator(".flash-success")).to_be_visible()
    expect(secretary.locator(".pstate")).to_have_text(tr(STATE_LABELS["accepted"]))
    clock = secretary.locator(f"#clock-{p.id}")
    expect(clock).to_have_class("clock clock-running")
    expect(clock).to_have_attribute("hx-trigger", "every 30s")

    supporter = new_page()
    log_in(supporter, live_server, people.supporter.phone)
    supporter.goto(live_server(f"/compounds/{place.compound.code}/proposals"))
    supporter.evaluate("window.__no_reload = true")
    box = supporter.locator(f"#support-{p.id}")
    expect(box.locator(".support-count")).to_contain_text("1")
    with supporter.expect_response(lambda r: r.url.endswith(f"/proposals/{p.id}/support")) as r:
        box.locator("button[type=submit]").click()
    assert r.value.status == 200
    assert r.value.request.headers.get("hx-request") == "true", "support did not use htmx"
    box = supporter.locator(f"#support-{p.id}")
    expect(box.locator(".support-count")).to_contain_text("2")
    expect(box.locator(".supported")).to_be_visible()
    assert supporter.evaluate("window.__no_reload === true"), "supporting reloaded the page"
    shot(supporter, "supported-inline")

    staff = new_page()
    log_in(staff, live_server, people.staff.phone)
    staff.goto(live_server("/staff/proposals"))
    with staff.expect_navigation():
        staff.locator(f"a[href='/proposals/{p.id}']").first.click()
    staff.locator("textarea[name=feedback]").fill("已更换两盏楼道灯。")
    with staff.expect_navigation():
        staff.locator(f"form[action='/proposals/{p.id}/feedback'] button[type=submit]").click()
    expect(staff.locator(".pstate")).to_have_text(tr(STATE_LABELS["feedback"]))
    expect(staff.locator(".feedback-box")).to_contain_text("已更换两盏楼道灯。")
    shot(staff, "feedback")

    author.reload()
    author.locator("input[name=verdict][value=satisfied]").check()
    with author.expect_navigation():
        author.locator(f"form[action='/proposals/{p.id}/verdict'] button[type=submit]").click()
    expect(author.locator(".pstate")).to_have_text(tr(STATE_LABELS["closed"]))
    timeline = author.locator(".ptimeline")
    expect(timeline.locator("li")).to_have_count(
        5
    )  # submitted, accepted, feedback, satisfied, closed
    shot(author, "closed")

    assert _proposal(fresh).state == "closed"
    console.assert_no_csp_violations()


def test_core_forms_without_javascript_in_large_text(
    live_server, new_page, place, people, shot, tr, fresh
):
    # large text is the residents' saved preference (the cookie is for visitors)
    people.author.large_text = people.supporter.large_text = True
    db.session.commit()
    author = new_page(js=False, width=390, height=844)
    log_in(author, live_server, people.author.phone)
    expect(author.locator("body")).to_have_class("large-text")
    # an empty form comes back with its errors
    author.goto(live_server(f"/compounds/{place.compound.code}/proposals/new"))
    with author.expect_navigation():
        author.locator("form[action$='/proposals/new'] button[type=submit]").click()
    expect(author.locator(".error-summary")).to_be_visible()
    expect(author.locator("#title")).to_have_attribute("aria-invalid", "true")
    shot(author, "errors")
    submit(author, live_server, place.compound)
    p = _proposal(fresh)

    supporter = new_page(js=False, width=390, height=844)
    log_in(supporter, live_server, people.supporter.phone)
    supporter.goto(live_server(f"/proposals/{p.id}"))
    with supporter.expect_navigation():
        supporter.locator(f"#support-{p.id} button[type=submit]").click()
    expect(supporter).to_have_url(live_server(f"/proposals/{p.id}"))
    expect(supporter.locator(f"#support-{p.id} .supported")).to_be_visible()
    expect(supporter.locator(f"#support-{p.id} .support-count")).to_contain_text("2")

    # the filters work as a plain GET form with a real URL
    supporter.goto(live_server(f"/compounds/{place.compound.code}/proposals"))
    supporter.locator("#pcat").select_option("parking")
    with supporter.expect_navigation():
        supporter.locator("form.board-filters button[type=submit]").click()
    assert "category=parking" in supporter.url
    expect(supporter.locator(f"#proposal-{p.id}")).to_have_count(0)
    shot(supporter, "filtered")
    width = supporter.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the board is {width}px wide on a 390px phone"
    fresh()
    assert db.session.get(Proposal, p.id).support_count == 2


def test_report_then_hide(live_server, new_page, place, people, console, shot, tr, fresh):
    from portal.models_base import utcnow
    from portal.proposals import service

    p = service.submit(people.author, place.compound, TITLE, BODY, "facilities", [], utcnow())
    c = service.comment(people.supporter, p.id, "物业都是骗子！", utcnow())
    db.session.commit()

    reporter = new_page()
    log_in(reporter, live_server, people.reporter.phone)
    reporter.goto(live_server(f"/proposals/{p.id}"))
    comment = reporter.locator(f"#comment-{c.id}")
    comment.locator("summary").click()
    comment.locator("textarea[name=reason]").fill("辱骂他人")
    with reporter.expect_response(lambda r: r.url.endswith(f"/proposals/{p.id}/report")) as r:
        comment.locator("button[type=submit]").click()
    assert r.value.request.headers.get("hx-request") == "true"
    expect(comment.locator(".ok")).to_be_visible()
    shot(reporter, "reported")
    fresh()
    report = db.session.scalar(select(Report))
    assert report.comment_id == c.id

    secretary = new_page()
    log_in(secretary, live_server, people.secretary.phone)
    secretary.goto(live_server("/staff/proposals/reports"))
    row = secretary.locator(f"#report-{report.id}")
    expect(row).to_contain_text("辱骂他人")
    expect(row).to_contain_text("物业都是骗子！")
    secretary.evaluate("window.__no_reload = true")
    row.locator("summary").click()
    row.locator("textarea[name=reason]").fill("含有侮辱性语言")
    shot(secretary, "hide-form")
    with secretary.expect_response(lambda r: r.url.endswith(f"/reports/{report.id}/hide")) as r:
        row.locator("form[action$='/hide'] button[type=submit]").click()
    assert r.value.status == 200
    row = secretary.locator(f"#report-{report.id}")
    expect(row).to_have_class("report report-hidden")
    assert secretary.evaluate("window.__no_reload === true")
    shot(secretary, "hidden-inline")

    public = new_page()
    public.goto(live_server(f"/proposals/{p.id}"))
    comment = public.locator(f"#comment-{c.id}")
    expect(comment.locator(".hidden-note")).to_contain_text("含有侮辱性语言")
    expect(comment).not_to_contain_text("物业都是骗子")
    shot(public, "public-sees-reason")

    author = new_page()
    log_in(author, live_server, people.supporter.phone)  # the comment's author
    author.goto(live_server(f"/proposals/{p.id}"))
    expect(author.locator(f"#comment-{c.id}")).to_contain_text("物业都是骗子！")
    expect(author.locator(f"#comment-{c.id} .hidden-note")).to_contain_text("含有侮辱性语言")

    fresh()
    assert db.session.get(Comment, c.id).hidden_at is not None
    console.assert_no_csp_violations()
