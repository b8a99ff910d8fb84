"""A committee member drafts minutes, a second member confirms them, and the public sees them
in the compound's minutes tab, with the attendees' names masked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.minutes.labels import STATUS_LABELS
from portal.minutes.models import Minutes
from tests.browser.test_notices import OVERFLOW, PHONE_WIDTH, log_in

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.fixture
def members(place, make_user, make_grant):
    author = make_user(phone="13600000021", name="张建华")
    second = make_user(phone="13600000022", name="李秀梅")
    for user in (author, second):
        make_grant(user, "committee", place.compound)
    return author, second


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_committee_member_drafts_minutes_second_member_confirms_public_sees_them(
    live_server, new_page, place, members, console, shot, tr, fresh, js
):
    author, second = members
    code = place.compound.code

    page = new_page(js=js)
    log_in(page, live_server, author.phone)
    page.goto(live_server(f"/compounds/{code}/minutes"))
    with page.expect_navigation():
        page.get_by_role("link", name=tr("Record minutes")).first.click()
    expect(page).to_have_url(live_server(f"/compounds/{code}/minutes/new"))
    page.locator("input[name=kind][value=committee]").check()
    page.locator("#meeting_date").fill("2026-03-02")
    page.locator("#attendees_count").fill("5")
    page.locator("#place").fill("社区会议室")
    page.locator("#attendee_names").fill("张建华\n李秀梅\n王大力")
    page.locator("#agenda").fill("一、讨论2号楼电梯更换方案。")
    page.locator("#decisions-0-text").fill("同意更换2号楼电梯，费用从维修资金列支。")
    page.locator("#decisions-0-votes_for").fill("4")
    page.locator("#decisions-0-votes_against").fill("1")
    page.locator("#decisions-0-votes_abstain").fill("0")
    # one more decision box, without losing what was typed
    with page.expect_navigation():
        page.locator("button[name=add_decision]").click()
    expect(page.locator("#decisions-0-text")).to_have_value(
        "同意更换2号楼电梯，费用从维修资金列支。"
    )
    page.locator("#decisions-3-text").fill("停车收费标准维持不变。")
    page.locator("#decisions-3-votes_for").fill("5")
    shot(page, "form")
    page.locator("#attachments").set_input_files(
        files=[{"name": "签字版纪要.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    with page.expect_navigation():
        page.locator("button[name=then][value=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".state")).to_have_text(tr(STATUS_LABELS["submitted"]))
    # the author cannot confirm their own minutes: no button for them
    expect(page.get_by_role("button", name=tr("Confirm and publish"))).to_have_count(0)
    shot(page, "submitted")

    fresh()
    minutes = db.session.scalar(select(Minutes))
    assert [d.text for d in minutes.revisions[0].decisions] == [
        "同意更换2号楼电梯，费用从维修资金列支。",
        "停车收费标准维持不变。",
    ]

    # Not public yet.
    public = new_page(js=js, width=PHONE_WIDTH, height=844, is_mobile=True, has_touch=True)
    public.goto(live_server(f"/compounds/{code}/minutes"))
    expect(public.locator("#tab-panel")).not_to_contain_text("同意更换2号楼电梯")

    # The second member confirms from the desk.
    other = new_page(js=js)
    log_in(other, live_server, second.phone)
    other.goto(live_server("/minutes/desk"))
    with other.expect_navigation():
        other.locator("#minutes-desk a.list-title").first.click()
    with other.expect_navigation():
        other.get_by_role("button", name=tr("Confirm and publish")).click()
    expect(other.locator(".flash-success")).to_contain_text(
        tr("Confirmed: the minutes are published.")
    )
    shot(other, "confirmed")

    # The public sees them, names masked, searchable by a decision's words.
    public.goto(live_server(f"/compounds/{code}/minutes"))
    expect(public.locator(".minutes-list")).to_contain_text("同意更换2号楼电梯")
    public.locator("#minutes-q").fill("停车")
    if js:
        with public.expect_response(lambda r: "q=" in r.url):
            public.locator("form.notice-filter button[type=submit]").click()
    else:
        with public.expect_navigation():
            public.locator("form.notice-filter button[type=submit]").click()
    expect(public.locator(".minutes-list")).to_contain_text("停车收费标准维持不变")
    with public.expect_navigation():
        public.locator(".minutes-list a.list-title").first.click()
    body = public.locator("main")
    expect(body).to_contain_text("同意更换2号楼电梯")
    expect(body).to_contain_text("张**")
    expect(body).not_to_contain_text("张建华")
    expect(body).not_to_contain_text("李秀梅")
    expect(body).not_to_contain_text(author.phone)
    assert public.evaluate(OVERFLOW) <= PHONE_WIDTH
    shot(public, "public-phone")
    console.assert_no_csp_violations()
