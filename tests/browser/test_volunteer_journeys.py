"""Volunteer journeys: three residents on three phones — sign up, the waiting list, and the
automatic promotion when someone cancels (htmx swaps the sign-up box in place); a sign-up with
JavaScript off; the month view on a 390px phone in large-text mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.volunteers import rules
from portal.volunteers.labels import SIGNUP_STATUS_LABELS
from portal.volunteers.models import Activity, Signup, Team
from tests.factories import PASSWORD, first_unit

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def scene(place, make_user, make_claim):
    """红管家 of 和平花园 with its coordinator, one activity for one person, three residents."""
    unit = first_unit(place.compound)
    coordinator = make_user(phone="13600000002", name="李协调")
    make_claim(coordinator, unit, status="verified")
    team = Team(
        community_id=place.community.id,
        compound_id=place.compound.id,
        name="红管家",
        coordinator_id=coordinator.id,
    )
    db.session.add(team)
    db.session.commit()
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
    activity = Activity(
        team_id=team.id,
        title="周末楼道清理",
        place="3栋门口",
        description="工具由物业提供。",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=1,
        signup_open=True,
        hours=Decimal("2"),
        points_per_hour=Decimal("1"),
        confirmed_count=0,
        waitlist_count=0,
        last_seq=0,
        revision=0,
        created_at=start - timedelta(days=3),
        updated_at=start - timedelta(days=3),
    )
    db.session.add(activity)
    db.session.commit()
    residents = []
    for phone, name in (
        ("13900000001", "张秀英"),
        ("13900000002", "刘建国"),
        ("13900000003", "陈桂兰"),
    ):
        user = make_user(phone=phone, name=name)
        make_claim(user, unit, status="verified")
        residents.append(user)

    class Scene:
        pass

    s = Scene()
    s.place, s.team, s.activity, s.residents, s.coordinator = (
        place,
        team,
        activity,
        residents,
        coordinator,
    )
    return s


def log_in(page, live_server, phone: str):
    page.goto(live_server("/login"))
    page.locator("#phone").fill(phone)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".site-nav form[action='/logout']")).to_be_visible()


def _statuses(fresh, activity_id: int) -> dict[int, str]:
    fresh()
    return {
        s.user_id: s.status
        for s in db.session.scalars(select(Signup).where(Signup.activity_id == activity_id))
    }


def _htmx_click(page, button, path_end: str):
    """Click a button that htmx posts; return the response, checking it did not reload."""
    page.evaluate("window.__no_reload = true")
    with page.expect_response(lambda r: r.url.split("?")[0].endswith(path_end)) as r:
        button.click()
    assert r.value.status == 200
    assert r.value.request.headers.get("hx-request") == "true", "the button did not use htmx"
    assert page.evaluate("window.__no_reload === true"), "the page reloaded"
    return r.value


def test_sign_up_waiting_list_and_promotion_after_a_cancel(
    live_server, new_page, scene, console, shot, tr, fresh
):
    a = scene.activity
    first, second, third = scene.residents
    url = live_server(f"/volunteers/activities/{a.id}")
    box = "#signup-box"

    # The first resident finds the activity on the compound's Volunteers tab and signs up.
    p1 = new_page()
    log_in(p1, live_server, first.phone)
    p1.goto(live_server(f"/compounds/{scene.place.compound.code}/volunteers"))
    with p1.expect_navigation():
        p1.get_by_role("link", name="周末楼道清理").click()
    expect(p1).to_have_url(url)
    shot(p1, "activity")
    _htmx_click(p1, p1.locator(f"{box} form[action$='/signup'] button"), "/signup")
    expect(p1.locator(box)).to_contain_text(tr("Your place is confirmed."))
    expect(p1.locator(f"{box} form[action$='/cancel'] button")).to_be_visible()
    shot(p1, "confirmed")

    # The second and the third find it full and join the waiting list, in order.
    p2 = new_page()
    log_in(p2, live_server, second.phone)
    p2.goto(url)
    expect(p2.locator(box)).to_contain_text(tr("Full: waiting list open"))
    _htmx_click(p2, p2.locator(f"{box} form[action$='/signup'] button"), "/signup")
    expect(p2.locator(box)).to_contain_text(
        tr("You are number %(n)s on the waiting list.") % {"n": 1}
    )
    shot(p2, "waitlisted-first")

    p3 = new_page(width=PHONE_WIDTH, height=844, is_mobile=True, has_touch=True)
    log_in(p3, live_server, third.phone)
    p3.goto(url)
    _htmx_click(p3, p3.locator(f"{box} form[action$='/signup'] button"), "/signup")
    expect(p3.locator(box)).to_contain_text(
        tr("You are number %(n)s on the waiting list.") % {"n": 2}
    )
    shot(p3, "waitlisted-second")
    assert _statuses(fresh, a.id) == {
        first.id: "confirmed",
        second.id: "waitlisted",
        third.id: "waitlisted",
    }

    # The first cancels; the second moves up at once.
    _htmx_click(p1, p1.locator(f"{box} form[action$='/cancel'] button"), "/cancel")
    expect(p1.locator(box)).to_contain_text(tr("Your sign-up has been cancelled."))
    shot(p1, "cancelled")
    assert _statuses(fresh, a.id) == {
        first.id: "cancelled",
        second.id: "confirmed",
        third.id: "waitlisted",
    }

    # The second sees it on "My volunteering" …
    p2.goto(live_server("/account/volunteering"))
    item = p2.locator("li.vol-signup-item").filter(has_text="周末楼道清理")
    expect(item.locator(".vol-badge")).to_have_text(tr(SIGNUP_STATUS_LABELS["confirmed"]))
    expect(item.locator(".vol-promoted")).to_be_visible()
    shot(p2, "promoted")
    # … and the third is now first in line.
    p3.reload()
    expect(p3.locator(box)).to_contain_text(
        tr("You are number %(n)s on the waiting list.") % {"n": 1}
    )
    console.assert_no_csp_violations()


def test_sign_up_and_month_navigation_without_javascript(
    live_server, new_page, scene, shot, tr, fresh
):
    a = scene.activity
    resident = scene.residents[0]
    page = new_page(js=False)
    log_in(page, live_server, resident.phone)

    # The month view: a real table; "next month" is a real link.
    code = scene.place.compound.code
    page.goto(live_server(f"/compounds/{code}/volunteers/calendar"))
    expect(page.locator("table.vol-cal thead th")).to_have_count(7)
    day = rules.local_date(a.starts_at, SHANGHAI).isoformat()
    if rules.local_month(a.starts_at, SHANGHAI) != rules.local_month(datetime.now(UTC), SHANGHAI):
        with page.expect_navigation():
            page.locator("a[rel=next]").click()
    link = page.locator(f"#day-{day} + ul a")
    expect(link.first).to_have_text("周末楼道清理")
    here = page.url
    with page.expect_navigation():
        page.locator("a[rel=next]").click()
    assert "month=" in page.url and page.url != here
    with page.expect_navigation():
        page.locator("a[rel=prev]").click()
    expect(link.first).to_have_text("周末楼道清理")

    # Sign up: a plain POST, then back to the activity page with the outcome.
    with page.expect_navigation():
        link.first.click()
    with page.expect_navigation():
        page.locator("#signup-box form[action$='/signup'] button").click()
    expect(page).to_have_url(live_server(f"/volunteers/activities/{a.id}"))
    expect(page.locator(".flash-success")).to_contain_text(
        tr("You are signed up. Your place is confirmed.")
    )
    expect(page.locator("#signup-box")).to_contain_text(tr("Your place is confirmed."))
    shot(page, "signed-up-no-js")
    assert _statuses(fresh, a.id) == {resident.id: "confirmed"}


OVERFLOW = """() => document.documentElement.scrollWidth"""


def test_volunteer_pages_fit_a_390px_phone_in_large_text(
    live_server, new_page, scene, console, shot, fresh
):
    a = scene.activity
    page = new_page(width=PHONE_WIDTH, height=844, is_mobile=True, has_touch=True)
    page.context.add_cookies([{"name": "large_text", "value": "1", "url": live_server()}])
    code, community = scene.place.compound.code, scene.place.community.code
    paths = [
        f"/compounds/{code}/volunteers",
        f"/compounds/{code}/volunteers/calendar",
        f"/communities/{community}/volunteers",
        f"/communities/{community}/volunteers/summary",
        f"/volunteers/teams/{scene.team.id}",
        f"/volunteers/activities/{a.id}",
    ]
    for path in paths:
        page.goto(live_server(path))
        expect(page.locator("body")).to_have_class("large-text")
        width = page.evaluate(OVERFLOW)
        assert width <= PHONE_WIDTH, f"{path} is {width}px wide on a {PHONE_WIDTH}px phone"
    # htmx month navigation pushes a real URL; Back returns to the month before
    page.goto(live_server(f"/compounds/{code}/volunteers/calendar"))
    title = page.locator(".vol-month-title").inner_text()
    page.evaluate("window.__no_reload = true")
    page.locator("a[rel=next]").click()
    page.wait_for_url("**month=*")
    expect(page.locator(".vol-month-title")).not_to_have_text(title)
    assert page.evaluate("window.__no_reload === true"), "month navigation reloaded the page"
    assert page.evaluate(OVERFLOW) <= PHONE_WIDTH
    shot(page, "calendar-next-month")
    page.go_back()
    expect(page.locator(".vol-month-title")).to_have_text(title)
    console.assert_no_csp_violations()
