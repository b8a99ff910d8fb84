"""A visitor browses home › street › community › compound, in Chinese, then in English;
the compound hub's tabs are real URLs with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.places.labels import HUB_TABS

pytestmark = pytest.mark.browser


def test_visitor_browses_to_a_compound_in_chinese_then_switches_to_english(
    live_server, new_page, place, console, shot, tr
):
    page = new_page()
    page.goto(live_server("/"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    shot(page, "home-zh")

    page.get_by_role("link", name="和平街道", exact=True).click()
    expect(page).to_have_url(live_server(f"/streets/{place.street.code}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("和平街道")

    page.get_by_role("link", name="向阳社区", exact=True).click()
    expect(page).to_have_url(live_server(f"/communities/{place.community.code}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("向阳社区")

    page.get_by_role("link", name="和平花园", exact=True).click()
    expect(page).to_have_url(live_server(f"/compounds/{place.compound.code}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("和平花园")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    tabs = page.get_by_role("navigation", name=tr("Compound sections"))
    expect(tabs.get_by_role("link", name=tr(HUB_TABS["fees"][0]), exact=True)).to_be_visible()
    shot(page, "compound-zh")

    # The header's language button is labelled in the language it switches to.
    english = page.locator('button[lang="en"]')
    expect(english).to_have_text("English")
    english.click()
    expect(page).to_have_url(live_server(f"/compounds/{place.compound.code}"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Fee accounts", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("和平花园")  # data stays as is
    expect(page.locator('button[lang="zh-Hans"]')).to_have_text("中文")
    shot(page, "compound-en")

    # The choice is remembered (cookie) on the next page.
    page.get_by_role("navigation", name="You are here").get_by_role("link", name="向阳社区").click()
    expect(page).to_have_url(live_server(f"/communities/{place.community.code}"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Compounds")).to_be_visible()
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("lang") == "en"

    # … and switching back works the same way.
    page.locator('button[lang="zh-Hans"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page).to_have_url(live_server(f"/communities/{place.community.code}"))

    console.assert_no_csp_violations()


def _tab_link(page, tr, slug: str):
    nav = page.get_by_role("navigation", name=tr("Compound sections"))
    return nav.get_by_role("link", name=tr(HUB_TABS[slug][0]), exact=True)


def _expect_tab(page, tr, slug: str):
    label, empty = HUB_TABS[slug]
    expect(page.locator("#tab-heading")).to_have_text(tr(label))
    expect(page.locator("#tab-panel")).to_contain_text(tr(empty))
    expect(_tab_link(page, tr, slug)).to_have_attribute("aria-current", "page")


def test_hub_tabs_with_javascript_push_real_urls_and_back_works(
    live_server, new_page, place, console, shot, tr
):
    code = place.compound.code
    page = new_page()
    page.goto(live_server(f"/compounds/{code}"))
    _expect_tab(page, tr, "notices")
    # A marker on window survives htmx swaps and dies with a full page load.
    page.evaluate("window.__no_reload = true")

    for slug in ("fees", "ratings", "minutes"):
        with page.expect_response(re.compile(rf"/compounds/{code}/{slug}$")) as resp:
            _tab_link(page, tr, slug).click()
        assert resp.value.request.headers.get("hx-request") == "true", "htmx did not fetch the tab"
        expect(page).to_have_url(live_server(f"/compounds/{code}/{slug}"))
        _expect_tab(page, tr, slug)
        # The fragment replaced the hub only: the compound header is still there, once.
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        expect(page.locator("nav.tabs")).to_have_count(1)
    assert page.evaluate("window.__no_reload === true"), "a tab click reloaded the whole page"
    shot(page, "tab-minutes")

    page.go_back()
    expect(page).to_have_url(live_server(f"/compounds/{code}/ratings"))
    _expect_tab(page, tr, "ratings")
    page.go_back()
    expect(page).to_have_url(live_server(f"/compounds/{code}/fees"))
    _expect_tab(page, tr, "fees")
    page.go_forward()
    expect(page).to_have_url(live_server(f"/compounds/{code}/ratings"))
    _expect_tab(page, tr, "ratings")
    shot(page, "tab-after-back")

    # A shared tab link opens that tab as a full page.
    page.goto(live_server(f"/compounds/{code}/volunteers"))
    _expect_tab(page, tr, "volunteers")
    expect(page.get_by_role("heading", level=1)).to_contain_text("和平花园")

    console.assert_no_csp_violations()


def test_hub_tabs_without_javascript_are_real_pages(live_server, new_page, place, shot, tr):
    code = place.compound.code
    page = new_page(js=False)
    page.goto(live_server(f"/compounds/{code}"))
    _expect_tab(page, tr, "notices")
    for slug in HUB_TABS:
        if slug == "notices":
            continue
        with page.expect_navigation():
            _tab_link(page, tr, slug).click()
        expect(page).to_have_url(live_server(f"/compounds/{code}/{slug}"))
        _expect_tab(page, tr, slug)
        expect(page.get_by_role("heading", level=1)).to_contain_text("和平花园")
    shot(page, "nojs-last-tab")
    page.go_back()
    expect(page).to_have_url(live_server(f"/compounds/{code}/volunteers"))
    _expect_tab(page, tr, "volunteers")
