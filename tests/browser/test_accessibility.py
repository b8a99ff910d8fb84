"""Large-text mode, narrow phones and the keyboard: what elderly residents and keyboard users
notice first."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.places.labels import HUB_TABS

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390

BODY_METRICS = """() => {
  const s = getComputedStyle(document.body);
  return {fontSize: parseFloat(s.fontSize), lineHeight: parseFloat(s.lineHeight)};
}"""

# Every link and button a user can hit in the header, with its label and height.
HEADER_TARGETS = """() => Array.from(
  document.querySelectorAll('header.site-header a, header.site-header button')
).filter(el => el.offsetParent !== null).map(el => {
  const r = el.getBoundingClientRect();
  return {text: el.textContent.trim().replace(/\\s+/g, ' '), height: r.height, width: r.width};
})"""

OVERFLOW = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  culprits: Array.from(document.querySelectorAll('body *'))
    .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .filter(el => !el.closest('.tabs, .table-wrap'))
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')),
})"""


def _large_text_button(page):
    return page.locator("form[action='/prefs/large-text'] button[type=submit]")


def _assert_no_horizontal_scroll(page, what: str):
    m = page.evaluate(OVERFLOW)
    assert m["scrollWidth"] <= PHONE_WIDTH, (
        f"{what}: the page is {m['scrollWidth']}px wide on a {PHONE_WIDTH}px phone; "
        f"sticking out: {m['culprits']}"
    )


def test_large_text_mode_is_large_has_big_targets_and_is_remembered(
    live_server, new_page, place, console, shot
):
    page = new_page()
    url = live_server(f"/compounds/{place.compound.code}")
    page.goto(url)
    expect(page.locator("body")).not_to_have_class("large-text")
    normal = page.evaluate(BODY_METRICS)
    toggle = _large_text_button(page)
    expect(toggle).to_have_attribute("aria-pressed", "false")

    with page.expect_navigation():
        toggle.click()
    expect(page).to_have_url(url)
    expect(page.locator("body")).to_have_class("large-text")
    expect(_large_text_button(page)).to_have_attribute("aria-pressed", "true")

    big = page.evaluate(BODY_METRICS)
    assert big["fontSize"] >= 18, big
    assert big["fontSize"] > normal["fontSize"], (normal, big)
    assert big["lineHeight"] >= 1.5 * big["fontSize"], big
    small_targets = [t for t in page.evaluate(HEADER_TARGETS) if t["height"] < 44]
    assert not small_targets, f"header targets under 44px high in large-text mode: {small_targets}"
    shot(page, "large-text")

    page.reload()
    expect(page.locator("body")).to_have_class("large-text")
    page.goto(live_server("/"))
    expect(page.locator("body")).to_have_class("large-text")

    # And it switches off again.
    with page.expect_navigation():
        _large_text_button(page).click()
    expect(page.locator("body")).not_to_have_class("large-text")
    console.assert_no_csp_violations()


@pytest.mark.parametrize("large_text", [False, True], ids=["normal", "large-text"])
def test_compound_page_fits_a_390px_phone(live_server, new_page, place, shot, large_text):
    page = new_page(width=PHONE_WIDTH, height=844, is_mobile=True, has_touch=True)
    if large_text:
        page.context.add_cookies([{"name": "large_text", "value": "1", "url": live_server()}])
    code = place.compound.code
    for path in (f"/compounds/{code}", f"/compounds/{code}/fees", f"/compounds/{code}/claim"):
        page.goto(live_server(path))
        if path.endswith("/claim"):  # logged out: the login page, reached from the hub
            expect(page.locator("#phone")).to_be_visible()
        if large_text:
            expect(page.locator("body")).to_have_class("large-text")
        else:
            expect(page.locator("body")).not_to_have_class("large-text")
        _assert_no_horizontal_scroll(page, f"{path} ({'large text' if large_text else 'normal'})")
    page.goto(live_server(f"/compounds/{code}"))
    shot(page, "phone-390")


def test_keyboard_reaches_skip_link_then_main_then_tabs_with_visible_focus(
    live_server, new_page, place, tr
):
    page = new_page()
    page.goto(live_server(f"/compounds/{place.compound.code}"))

    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => ({cls: document.activeElement.className,
                   href: document.activeElement.getAttribute('href')})"""
    )
    assert focused == {"cls": "skip-link", "href": "#main"}, focused
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text(tr("Skip to content"))
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, f"the focused skip link is off screen: {box}"

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    # From main, Tab walks through the page; it must reach the hub's tab links.
    fees_label = tr(HUB_TABS["fees"][0])
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => {
              const el = document.activeElement;
              const s = getComputedStyle(el);
              return {text: el.textContent.trim(), inTabs: !!el.closest('nav.tabs'),
                      outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth)};
            }"""
        )
        seen.append(info["text"])
        if info["inTabs"]:
            assert info["outlineStyle"] != "none" and info["outlineWidth"] > 0, info
            break
    else:
        pytest.fail(f"Tab never reached the compound tabs; focus went through {seen}")

    # Keep tabbing to the fee tab and open it with Enter.
    for _ in range(len(HUB_TABS)):
        if page.evaluate("() => document.activeElement.textContent.trim()") == fees_label:
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server(f"/compounds/{place.compound.code}/fees"))
    expect(page.locator("#tab-heading")).to_have_text(fees_label)
