"""A resident registers and claims a unit; the community secretary verifies or rejects it.
Once with JavaScript (htmx swaps the row in place), once without (forms post and redirect)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.labels import STATUS_LABELS
from portal.accounts.models import Membership, User
from portal.extensions import db
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

RESIDENT_PHONE = "13912345678"
RESIDENT_NAME = "李秀英"


def register(page, live_server, phone=RESIDENT_PHONE, name=RESIDENT_NAME):
    page.goto(live_server("/register"))
    page.locator("#phone").fill(phone)
    page.locator("#display_name").fill(name)
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/register'] button[type=submit]").click()
    expect(page).to_have_url(live_server("/account/units"))
    # Logged in: the header shows the resident's name.
    expect(page.locator(".site-nav")).to_contain_text(name)


def claim(page, live_server, compound, building: str, room: str, relation="owner", name=None):
    page.goto(live_server(f"/compounds/{compound.code}"))
    with page.expect_navigation():
        page.locator(f"a[href='/compounds/{compound.code}/claim']").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(compound.name)
    page.locator("#building").select_option(label=building)
    page.locator("#room").fill(room)
    page.locator(f"input[name=relation][value={relation}]").check()
    if name is not None:
        page.locator("#claimed_name").fill(name)
    with page.expect_navigation():
        page.locator(f"form[action='/compounds/{compound.code}/claim'] button[type=submit]").click()
    expect(page).to_have_url(live_server("/account/units"))


def claim_item(page, compound, label: str):
    return page.locator("li.claim").filter(has_text=f"{compound.name} · {label}")


def log_in(page, live_server, phone: str):
    page.goto(live_server("/login"))
    page.locator("#phone").fill(phone)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".site-nav form[action='/logout']")).to_be_visible()


@pytest.fixture
def secretary(place, make_user, make_grant):
    user = make_user(phone="13600000001", name="王书记")
    make_grant(user, "secretary", place.community)
    return user


def _claim_of(phone: str, room_label: str) -> Membership:
    claims = db.session.scalars(
        select(Membership).join(User, User.id == Membership.user_id).where(User.phone == phone)
    ).all()
    matching = [c for c in claims if c.unit.label == room_label]
    assert len(matching) == 1, f"expected one claim on {room_label}, found {len(claims)} claims"
    return matching[0]


def test_resident_claims_a_unit_and_the_secretary_verifies_it_inline(
    live_server, new_page, place, secretary, console, shot, tr, fresh
):
    compound = place.compound
    resident = new_page()
    register(resident, live_server)
    shot(resident, "registered")
    claim(resident, live_server, compound, "1栋", "101", name="业主1101")
    item = claim_item(resident, compound, "1栋 101")
    expect(item).to_have_count(1)
    expect(item.locator(".status")).to_have_text(tr(STATUS_LABELS["pending"]))
    expect(item.locator(".status")).to_have_class("status status-pending")
    shot(resident, "claim-waiting")

    fresh()
    membership = _claim_of(RESIDENT_PHONE, "1栋 101")
    assert membership.status == "pending"

    staff = new_page()
    log_in(staff, live_server, secretary.phone)
    staff.goto(live_server("/staff/claims"))
    row = staff.locator(f"#claim-{membership.id}")
    expect(row).to_contain_text(RESIDENT_NAME)
    expect(row).to_contain_text("1栋 101")
    shot(staff, "queue")
    queue_url = staff.url
    staff.evaluate("window.__no_reload = true")

    with staff.expect_response(lambda r: r.url.endswith(f"/claims/{membership.id}/verify")) as r:
        row.locator("form[action$='/verify'] button[type=submit]").click()
    assert r.value.status == 200
    assert r.value.request.headers.get("hx-request") == "true", "the verify button did not use htmx"
    expect(row.locator(".status")).to_have_text(tr(STATUS_LABELS["verified"]))
    expect(row.locator("form[action$='/verify']")).to_have_count(0)
    assert staff.url == queue_url
    assert staff.evaluate("window.__no_reload === true"), "verifying reloaded the whole page"
    shot(staff, "verified-inline")

    fresh()
    assert _claim_of(RESIDENT_PHONE, "1栋 101").status == "verified"

    resident.reload()
    item = claim_item(resident, compound, "1栋 101")
    expect(item.locator(".status")).to_have_text(tr(STATUS_LABELS["verified"]))
    expect(item.locator(".status")).to_have_class("status status-verified")
    shot(resident, "claim-verified")

    console.assert_no_csp_violations()


def test_claim_verify_and_reject_without_javascript(
    live_server, new_page, place, secretary, shot, tr, fresh
):
    compound = place.compound
    resident = new_page(js=False)
    register(resident, live_server)
    claim(resident, live_server, compound, "1栋", "101", name="业主1101")
    claim(resident, live_server, compound, "2栋", "102", relation="tenant", name="张三")
    expect(resident.locator("li.claim .status-pending")).to_have_count(2)
    shot(resident, "two-claims-waiting")

    fresh()
    first = _claim_of(RESIDENT_PHONE, "1栋 101")
    second = _claim_of(RESIDENT_PHONE, "2栋 102")

    staff = new_page(js=False)
    log_in(staff, live_server, secretary.phone)
    staff.goto(live_server("/staff/claims"))
    expect(staff.locator("li.claim")).to_have_count(2)

    # Verify the first: a plain POST, then a redirect back to the queue.
    with staff.expect_navigation():
        staff.locator(f"#claim-{first.id} form[action$='/verify'] button[type=submit]").click()
    expect(staff).to_have_url(live_server("/staff/claims?status=pending"))
    expect(staff.locator(".flash-success")).to_contain_text(RESIDENT_NAME)
    expect(staff.locator(f"#claim-{first.id}")).to_have_count(0)  # left the pending list
    shot(staff, "after-verify")

    # Reject the second with a reason; <details> opens without JavaScript.
    row = staff.locator(f"#claim-{second.id}")
    row.locator("summary").click()
    # An empty reason is refused and the form comes back with the error.
    with staff.expect_navigation():
        row.locator("form[action$='/reject'] button[type=submit]").click()
    row = staff.locator(f"#claim-{second.id}")
    expect(row.locator("textarea[name=reason]")).to_have_attribute("aria-invalid", "true")
    expect(row.locator(".error")).to_be_visible()
    shot(staff, "reject-needs-reason")
    reason = "房产证上的业主姓名不是张三，请核对后重新提交。"
    row.locator("textarea[name=reason]").fill(reason)
    with staff.expect_navigation():
        row.locator("form[action$='/reject'] button[type=submit]").click()
    expect(staff).to_have_url(live_server("/staff/claims?status=pending"))
    expect(staff.locator("li.claim")).to_have_count(0)

    # The decided claims are listed under their status.
    staff.goto(live_server("/staff/claims?status=rejected"))
    expect(staff.locator(f"#claim-{second.id}")).to_contain_text(reason)
    shot(staff, "rejected-list")

    fresh()
    assert _claim_of(RESIDENT_PHONE, "1栋 101").status == "verified"
    rejected = _claim_of(RESIDENT_PHONE, "2栋 102")
    assert (rejected.status, rejected.reason) == ("rejected", reason)

    resident.reload()
    ok = claim_item(resident, compound, "1栋 101")
    expect(ok.locator(".status")).to_have_text(tr(STATUS_LABELS["verified"]))
    bad = claim_item(resident, compound, "2栋 102")
    expect(bad.locator(".status")).to_have_text(tr(STATUS_LABELS["rejected"]))
    expect(bad.locator(".reason")).to_contain_text(reason)
    shot(resident, "claims-decided")
