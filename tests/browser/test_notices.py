"""A secretary posts a notice with a PDF; a resident finds it on the compound page, opens the PDF
and prints the notice with its QR code. Filters with and without JavaScript; phones and large
text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models_base import utcnow
from portal.notices import service as notices
from portal.notices.models import Notice
from tests.factories import PASSWORD
from tests.web.test_notices_qr import decode_svg

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PHONE_WIDTH = 390
OVERFLOW = "() => document.documentElement.scrollWidth"


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.fixture
def secretary(place, make_user, make_grant):
    user = make_user(phone="13600000001", name="王书记")
    make_grant(user, "secretary", place.community)
    return user


def log_in(page, live_server, phone: str):
    page.goto(live_server("/login"))
    page.locator("#phone").fill(phone)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".site-nav form[action='/logout']")).to_be_visible()


def test_secretary_posts_a_notice_with_a_pdf_and_a_resident_prints_it_with_the_qr_code(
    live_server, new_page, place, secretary, console, shot, tr, fresh
):
    code = place.compound.code
    staff = new_page()
    log_in(staff, live_server, secretary.phone)
    staff.goto(live_server(f"/compounds/{code}"))
    with staff.expect_navigation():
        staff.get_by_role("link", name=tr("Post a notice")).click()
    expect(staff).to_have_url(live_server(f"/notices/new/compound/{code}"))
    staff.locator("#category").select_option("outage")
    staff.locator("#title").fill("3月5日全小区停水通知")
    staff.locator("#body").fill("因市政管网维修，3月5日8:00至18:00停水。\n请居民提前储水。")
    staff.locator("#attachments").set_input_files(
        files=[{"name": "停水公告.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    shot(staff, "form")
    with staff.expect_navigation():
        staff.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    expect(staff.locator(".flash-success")).to_contain_text(tr("The notice is published."))
    expect(staff.get_by_role("heading", level=1)).to_have_text("3月5日全小区停水通知")
    shot(staff, "published")

    fresh()
    notice = db.session.scalar(select(Notice))
    assert notice.attachments[0].original_name == "停水公告.pdf"

    # A resident, not logged in, on a phone.
    resident = new_page(width=PHONE_WIDTH, height=844, is_mobile=True, has_touch=True)
    resident.goto(live_server(f"/compounds/{code}"))
    item = resident.locator(".notice-item").filter(has_text="3月5日全小区停水通知")
    expect(item).to_contain_text(tr("Water or power cut"))
    with resident.expect_navigation():
        item.locator("a.list-title").click()
    expect(resident.locator(".notice-body")).to_contain_text("请居民提前储水。")
    expect(resident.locator(".fingerprint-code")).to_have_text(notice.fingerprint_grouped)
    assert resident.evaluate(OVERFLOW) <= PHONE_WIDTH
    head_feeds = resident.locator("head link[type='application/atom+xml']")
    expect(head_feeds).to_have_count(2)
    shot(resident, "notice-on-phone")

    # The PDF downloads (it is never shown inline).
    with resident.expect_download() as download:
        resident.locator("a.attachment-name").click()
    assert download.value.suggested_filename == "停水公告.pdf"

    # Print view: A4, the QR code leads to this very notice.
    with resident.expect_navigation():
        resident.get_by_role("link", name=tr("Print (A4, with QR code)")).click()
    expect(resident).to_have_url(live_server(f"/notices/{notice.id}/print"))
    svg = resident.locator("svg.qr")
    expect(svg).to_be_visible()
    assert decode_svg(svg.evaluate("el => el.outerHTML")) == live_server(f"/notices/{notice.id}")
    expect(resident.locator(".print-code")).to_have_text(notice.fingerprint_grouped)
    assert resident.evaluate(OVERFLOW) <= PHONE_WIDTH
    shot(resident, "print-view-phone")

    printer = new_page(width=794, height=1123)
    printer.goto(live_server(f"/notices/{notice.id}/print"))
    printer.emulate_media(media="print")
    expect(printer.locator(".print-toolbar")).to_be_hidden()
    box = printer.locator("svg.qr").bounding_box()
    assert box and 120 <= box["width"] <= 160, box  # about 38 mm at 96 dpi
    shot(printer, "print-media")
    pdf = printer.pdf(format="A4", prefer_css_page_size=True)
    pages = re.findall(rb"/Type\s*/Page(?!s)", pdf)
    assert pdf.startswith(b"%PDF") and len(pages) == 1, "a short notice fits one A4 sheet"
    console.assert_no_csp_violations()


def test_filters_use_htmx_and_real_urls_and_work_without_javascript(
    live_server, new_page, place, secretary, console, shot, tr
):
    now = utcnow()
    for title, category in (("电梯年度检修", "maintenance"), ("重阳节敬老活动", "event")):
        notices.create_notice(
            secretary, "compound", place.compound, category=category, title=title, body="", now=now
        )
    db.session.commit()
    code = place.compound.code

    page = new_page()
    page.goto(live_server(f"/compounds/{code}"))
    page.evaluate("window.__no_reload = true")
    page.locator("#notice-q").fill("电梯")
    with page.expect_response(re.compile(r"/notices\?")) as resp:
        page.locator("form.notice-filter button[type=submit]").click()
    assert resp.value.request.headers.get("hx-request") == "true"
    expect(page.locator(".notice-list")).to_contain_text("电梯年度检修")
    expect(page.locator(".notice-list")).not_to_contain_text("重阳节敬老活动")
    assert "q=%E7%94%B5%E6%A2%AF" in page.url
    assert page.evaluate("window.__no_reload === true")
    with page.expect_response(re.compile(r"archive=1")):
        page.get_by_role("link", name=re.compile(tr("Archive"))).click()
    expect(page.locator("#tab-panel .empty")).to_be_visible()
    page.go_back()
    expect(page.locator(".notice-list")).to_contain_text("电梯年度检修")
    shot(page, "filtered")

    nojs = new_page(js=False)
    nojs.goto(live_server(f"/compounds/{code}"))
    nojs.locator("#notice-category").select_option("event")
    with nojs.expect_navigation():
        nojs.locator("form.notice-filter button[type=submit]").click()
    assert "category=event" in nojs.url
    expect(nojs.locator(".notice-list")).to_contain_text("重阳节敬老活动")
    expect(nojs.locator(".notice-list")).not_to_contain_text("电梯年度检修")
    console.assert_no_csp_violations()


@pytest.mark.parametrize("large_text", [False, True], ids=["normal", "large-text"])
def test_notice_pages_fit_a_390px_phone(live_server, new_page, place, secretary, shot, large_text):
    notice = notices.create_notice(
        secretary,
        "compound",
        place.compound,
        category="fees",
        title="2025年度物业服务费收支情况公示（第一季度至第四季度汇总）",
        body="详见 https://example.org/a/very/long/address/that/should/wrap/on/a/phone/screen"
        "/without/pushing/the/page/sideways?and=a&query=string",
        files=[("很长很长的文件名很长很长的文件名很长很长的文件名.pdf", PDF)],
        now=utcnow(),
    )
    db.session.commit()
    page = new_page(width=PHONE_WIDTH, height=844, is_mobile=True, has_touch=True)
    if large_text:
        page.context.add_cookies([{"name": "large_text", "value": "1", "url": live_server()}])
    code = place.compound.code
    for path in (
        f"/compounds/{code}",
        f"/compounds/{code}/notices?archive=1",
        f"/communities/{place.community.code}/notices",
        f"/notices/{notice.id}",
        f"/notices/{notice.id}/print",
        "/notices/check?code=0000",
    ):
        page.goto(live_server(path))
        width = page.evaluate(OVERFLOW)
        assert width <= PHONE_WIDTH, f"{path}: {width}px wide on a {PHONE_WIDTH}px phone"
    page.goto(live_server(f"/notices/{notice.id}"))
    shot(page, "notice")
